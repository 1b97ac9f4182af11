"""The strings of a run of events whose data differs from event to event, as byte columns.

For vector.py: a run of records with data (writes of changing buffers, openat of new
paths) where the same rendering seldom repeats. The common shape, one item (the
call's one path or captured buffer, whole or cut at -s) per event, is escaped for all
rows at once (vector_escape.py). Rows of another shape (several strings, argv, a
struct, a fault, a file name) get their strings from the per-event code
(``Formatters.strings``); rows with bytes the tables leave to Python (UTF-8 in a path
or in JSON) from the per-event functions of that one item. Either way each row reads
as the per-event renderer writes it (unit tests compare them byte for byte).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ..kernel.ringbuf import record_size
from . import structs
from .captured import TRUNCATED
from .captures import capture_of
from .compile import Formatters
from .jsonl import JsonLine, compact, string_json
from .kinds import Kind
from .record import EVENT_SIZE, LEN, RECORD, RECORD_SIZE, SLOT, STR_BYTES, STR_HEAD
from .strings import CString, text_value
from .text import TextLine
from .vector_escape import EscapeTable, data_table, json_table, name_table, quoted

Bytes = npt.NDArray[np.uint8]
HEAD_DTYPE = np.dtype([("arg", "u1"), ("flags", "u1"), ("len", "=u2")])
assert HEAD_DTYPE.itemsize == STR_HEAD.size
TRUNCATED_COLUMN = 6  # JSON's ``,"truncated":[...]`` (jsonl.JsonLine.strings)


class Items(NamedTuple):
    """A run's records' items: the ring's bytes, each record's offset, its item's length and flags."""

    span: bytes
    raw: Bytes  # the span's bytes as numpy sees them
    offsets: npt.NDArray[np.intp]
    lengths: npt.NDArray[np.int64]
    flags: npt.NDArray[np.uint8]


class Item(NamedTuple):
    """How the one item of a call's events is shown: the argument, its name and its escaping."""

    arg: int
    name: str
    table: EscapeTable
    one: Callable[[bytes, bool], str]  # the per-event rendering of one item (data, truncated)


def _text_data(data: bytes, truncated: bool) -> str:
    return structs.buffer_text(structs.Buffer(data, truncated))


def _json_data(data: bytes, truncated: bool) -> str:
    """``compact(structs.buffer_json(Buffer(data, truncated)))``, a third of its cost (~1 µs):
    base64 needs no JSON escape, so its object is spelled here rather than encoded as a dict
    (unit tests hold the two to the same bytes on buffers that are not UTF-8)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return '{"base64":"' + base64.b64encode(data).decode("ascii") + '"}'
    return compact(text)


def _text_name(data: bytes, truncated: bool) -> str:
    return text_value(CString(data, truncated))


def _json_name(data: bytes, truncated: bool) -> str:
    return string_json(CString(data, truncated))


def applies(formatters: Formatters) -> bool:
    """The plain text and JSON lines only: a subclass may render its strings otherwise (-y)."""
    return type(formatters) is Formatters and type(formatters.line) in (TextLine, JsonLine)


class DataColumns:
    """Per line format: which calls' items are escaped in numpy, and the columns of a run."""

    def __init__(self, formatters: Formatters) -> None:
        self.formatters = formatters
        self.json = type(formatters.line) is JsonLine
        self._items: dict[int, Item | None] = {}
        self._text_args: dict[int, tuple[int, ...]] = {}

    def item(self, slot: int) -> Item | None:
        """The call's item when it has exactly one string argument, a path or a buffer."""
        if slot not in self._items:
            self._items[slot] = self._item_of(slot)
        return self._items[slot]

    def _item_of(self, slot: int) -> Item | None:
        call = self.formatters.call(slot)
        strings = [(i, arg, kind) for i, arg, kind in call.args if kind in (Kind.STRING, Kind.ARGV, Kind.CAPTURED)]
        if len(strings) != 1:
            return None
        index, arg, kind = strings[0]
        if kind is Kind.STRING:
            return Item(index, arg.name, *((json_table(), _json_name) if self.json else (name_table(), _text_name)))
        capture = capture_of(call.name, arg.name)
        if kind is Kind.CAPTURED and capture is not None and capture.shape == "buffer":
            return Item(index, arg.name, *((json_table(), _json_data) if self.json else (data_table(), _text_data)))
        return None

    def text_args(self, slot: int) -> tuple[int, ...]:
        """The indexes of the call's strings (``S``) its line shows."""
        found = self._text_args.get(slot)
        if found is None:
            call = self.formatters.call(slot)
            found = tuple(i for i, _, k in call.args if k in (Kind.STRING, Kind.ARGV, Kind.CAPTURED))
            if self.json:
                found += (TRUNCATED_COLUMN,)
            self._text_args[slot] = found
        return found

    def columns(self, span: bytes, offsets: npt.NDArray[np.intp], records: npt.NDArray[Any]) -> dict[int, Bytes]:
        """String index → one row of rendered bytes per record (NUL-padded), for every string
        any of the records' lines shows."""
        rows = len(offsets)
        raw = np.frombuffer(span, np.uint8)
        last = len(raw) - 1
        heads = raw[np.minimum(offsets[:, None] + (RECORD_SIZE + np.arange(STR_HEAD.size)), last)]
        head = heads.view(HEAD_DTYPE).reshape(rows)
        room = records["len"].astype(np.int64) - EVENT_SIZE
        sizes = records["str_bytes"].astype(np.int64)
        lengths = head["len"].astype(np.int64)
        # One whole item and nothing else, read whole (no fault, file or array element).
        simple = (room >= STR_HEAD.size) & (sizes == STR_HEAD.size + lengths) & (sizes <= room)
        simple &= (head["flags"] & ~np.uint8(TRUNCATED)) == 0
        slots = records["slot"]
        found: dict[int, list[tuple[int, bytes]]] = {}  # string index → (row, rendering) from Python
        texts: dict[int, tuple[npt.NDArray[np.intp], Bytes]] = {}  # string index → (rows, numpy's rendering)
        python = ~simple
        for slot in np.unique(slots).tolist():
            of_slot = slots == slot
            item = self.item(slot)
            if item is None:
                python |= of_slot
                continue
            mine = of_slot & simple & (head["arg"] == item.arg)
            python |= of_slot & ~mine
            self._escape(Items(span, raw, offsets, lengths, head["flags"]), np.flatnonzero(mine), item, texts, found)
        for row in np.flatnonzero(python).tolist():
            self._per_event(span, int(offsets[row]), row, found)
        return {arg: _column(rows, texts.get(arg), found.get(arg, [])) for arg in texts.keys() | found.keys()}

    def _escape(
        self,
        run: Items,
        rows: npt.NDArray[np.intp],
        item: Item,
        texts: dict[int, tuple[npt.NDArray[np.intp], Bytes]],
        found: dict[int, list[tuple[int, bytes]]],
    ) -> None:
        """The item of ``rows`` escaped in numpy; rows it cannot take rendered one by one."""
        if not len(rows):
            return
        raw = run.raw
        starts = run.offsets[rows] + RECORD_SIZE + STR_HEAD.size
        sizes = run.lengths[rows]
        truncated = (run.flags[rows] & TRUNCATED) != 0
        width = int(sizes.max(initial=0))
        places = starts[:, None] + np.arange(width)
        if len(raw) < int(starts.max()) + width:  # the last item ends at the span's end
            np.minimum(places, len(raw) - 1, out=places)
        data = np.take(raw, places)
        suffix = b"" if self.json else b"..."
        matrix, left = quoted(data, sizes, item.table, suffix, truncated)
        if left.any():
            done = ~left
            texts[item.arg] = _merge(texts.get(item.arg), rows[done], matrix[done])
        else:
            texts[item.arg] = _merge(texts.get(item.arg), rows, matrix)
        for row, start, size, cut in zip(
            rows[left].tolist(), starts[left].tolist(), sizes[left].tolist(), truncated[left].tolist(), strict=True
        ):
            text = item.one(run.span[start : start + size], cut)
            found.setdefault(item.arg, []).append((row, text.encode("utf-8", "backslashreplace")))
        if self.json:
            note = (',"truncated":' + json.dumps([item.name], separators=(",", ":"))).encode()
            cut_rows = rows[truncated]
            if len(cut_rows):
                block = np.broadcast_to(np.frombuffer(note, np.uint8), (len(cut_rows), len(note)))
                texts[TRUNCATED_COLUMN] = _merge(texts.get(TRUNCATED_COLUMN), cut_rows, block)

    def _per_event(self, span: bytes, pos: int, row: int, found: dict[int, list[tuple[int, bytes]]]) -> None:
        t = RECORD.unpack_from(span, pos)
        room = record_size(t[LEN]) - RECORD_SIZE
        strings = self.formatters.strings(t, span, pos + RECORD_SIZE, min(t[STR_BYTES], room))
        for arg in self.text_args(t[SLOT]):
            found.setdefault(arg, []).append((row, strings[arg].encode("utf-8", "backslashreplace")))


def _merge(
    known: tuple[npt.NDArray[np.intp], Bytes] | None, rows: npt.NDArray[np.intp], block: Bytes
) -> tuple[npt.NDArray[np.intp], Bytes]:
    if known is None:
        return rows, block
    width = max(known[1].shape[1], block.shape[1])
    both = np.zeros((len(known[0]) + len(rows), width), np.uint8)
    both[: len(known[0]), : known[1].shape[1]] = known[1]
    both[len(known[0]) :, : block.shape[1]] = block
    return np.concatenate([known[0], rows]), both


def _column(rows: int, escaped: tuple[npt.NDArray[np.intp], Bytes] | None, texts: Sequence[tuple[int, bytes]]) -> Bytes:
    width = max([1, escaped[1].shape[1] if escaped is not None else 0, *(len(text) for _, text in texts)])
    out = np.zeros((rows, width), np.uint8)
    if escaped is not None:
        out[escaped[0], : escaped[1].shape[1]] = escaped[1]
    for row, text in texts:
        out[row, : len(text)] = np.frombuffer(text, np.uint8)
    return out
