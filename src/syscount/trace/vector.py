"""Render a run of same-size events all at once with numpy (when it is installed).

Why: per-event Python tops out near 0.9 M events/s here (~0.1 M with captured data),
below a flood's rate. A run of records of one size (without strings, or a flood of one
call with its data) is one numpy array; each syscall's segments (layout.py) become
byte matrices, one column block per segment, computed for all of that syscall's
events together: digits by repeated division, named values by decoding each distinct
value once, an event's strings by rendering each distinct content once (per event,
in Python). A column alike on every row (one pid, one second, one buffer) is rendered
once and copied with a template row. The rows, in the original order, are NUL-padded;
dropping the NULs (which text never contains) joins them, as UTF-8 bytes. The output
is byte for byte the per-event formatters' (unit tests check).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..kernel.ringbuf import BUSY_BIT, DISCARD_BIT, HEADER_SIZE, record_size
from .compile import Formatters
from .kinds import Kind
from .layout import Clock, Comm, IfBits, IfIn, IfOk, Lit, Micros, Named, Number, Pointer, Seconds, Segment, Text
from .record import (
    ARG0,
    COMM,
    DURATION,
    EVENT_SIZE,
    PID,
    RECORD,
    RECORD_SIZE,
    RET,
    SLOT,
    START,
    STR_BYTES,
    STRINGS_KEY_BACK,
    TID,
)
from .vector_data import DataColumns, applies
from .vector_limits import EVENTS_PER_SYSCALL, EVENTS_PER_TEXT, MIN_RUN

# A run's text at most, about: its line matrix and the copies of it (template, join,
# NULs out) then stay within the CPU's caches. Rows per run follow from the bytes per
# row of the run before (JSON's lines are twice text's). Measured on a 3 MiB span of
# 64-byte writes from a real run (ns/event, medians): JSON 438 in runs of 6898 rows
# (1.7 MB of text), 509 of 13 797 (3.4 MB), 515 of 20 825; text 197, 173 and 173.
RUN_TEXT = 2 << 20
RUN_MAX = 16384  # rows, and the first run's
# Bytes of records with data per numpy run at most, beyond MIN_RUN records: big buffers
# (-s 4096) make wide rows, their escapes wider still.
RUN_BYTES = 2 << 20

Bytes = npt.NDArray[np.uint8]
Column = npt.NDArray[Any]
Piece = bytes | Bytes  # columns alike on every row, or one row each

RECORD_DTYPE = np.dtype(
    [
        ("len", "=u4"),
        ("pgoff", "=u4"),
        ("start", "=u8"),
        ("duration", "=u8"),
        ("ret", "=i8"),
        ("args", "=u8", (6,)),
        ("pid", "=u4"),
        ("tid", "=u4"),
        ("slot", "=u4"),
        ("flags", "=u2"),
        ("str_bytes", "=u2"),
        ("comm", "S16"),
    ]
)
assert RECORD_DTYPE.itemsize == RECORD_SIZE
_FIELDS = {START: "start", DURATION: "duration", RET: "ret", PID: "pid", TID: "tid", SLOT: "slot"}
_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)


def fixed_run(span: bytes, pos: int, most: int = RUN_MAX) -> tuple[int, npt.NDArray[Any] | None]:
    """How many records from ``pos`` on carry no strings (``most`` at most); with them, when
    that is a run worth vectorizing (at least MIN_RUN)."""
    count = min((len(span) - pos) // RECORD_SIZE, most)
    # Look at the first records before scanning them all: strings soon after are common.
    head = np.frombuffer(span, RECORD_DTYPE, count=min(count, MIN_RUN), offset=pos)
    bad = np.flatnonzero(head["len"] != EVENT_SIZE)  # strings, BUSY or DISCARD
    if bad.size or count < MIN_RUN:
        return (int(bad[0]) if bad.size else count), None
    records = np.frombuffer(span, RECORD_DTYPE, count=count, offset=pos)
    bad = np.flatnonzero(records["len"] != EVENT_SIZE)
    run = int(bad[0]) if bad.size else count
    return run, records[:run]


@functools.cache
def _strided(size: int) -> np.dtype[Any]:
    """The record's fields in records of ``size`` bytes (the data after them left out)."""
    fields = RECORD_DTYPE.fields
    assert fields is not None
    names = list(RECORD_DTYPE.names or ())
    return np.dtype(
        {
            "names": names,
            "formats": [fields[name][0] for name in names],
            "offsets": [fields[name][1] for name in names],
            "itemsize": size,
        }
    )


class Vectorized:
    """Renders runs of events for one line format; remembers decoded values across batches."""

    def __init__(self, formatters: Formatters) -> None:
        self.formatters = formatters
        self.offset = formatters.line.wall_offset_ns
        self._segments: dict[int, list[Segment]] = {}
        self._decoded: dict[Any, dict[Any, bytes]] = {}
        self._constants: dict[tuple[Segment, Any], bytes] = {}
        self._rows = RUN_MAX  # records per run at most (render() adjusts it)
        # While a run of records with data renders: each distinct event's strings (S), and
        # whether rows name theirs by index in "pgoff" (the ring header's, unused once read).
        self._texts: list[list[str]] = []
        self._indexed = False
        # While a run of records with varied data renders: each string's column, a row per record.
        self._columns: dict[int, Bytes] | None = None
        self._data = DataColumns(formatters) if applies(formatters) else None

    def data_run(self, span: bytes, pos: int, length: int) -> tuple[int, bytes | None]:
        """Records of ``length`` data bytes from ``pos`` on (strings and all): how many, and
        their text when numpy renders them (few syscalls).

        Events whose strings depend on the same bytes (result, arguments, ids, data) share
        one rendering (``Formatters.strings``), made once from the first of them; when they
        seldom repeat, the strings are escaped for all rows at once (vector_data.py)."""
        size = record_size(length)
        count = min((len(span) - pos) // size, self._rows, max(MIN_RUN, RUN_BYTES // size))
        records = np.frombuffer(span, _strided(size), count=count, offset=pos)
        bad = np.flatnonzero(records["len"] != length)
        run = int(bad[0]) if bad.size else count
        if run < MIN_RUN:
            return run, None
        raw = np.frombuffer(span, np.uint8, count=run * size, offset=pos).reshape(run, size)
        keys = raw[:, RECORD_SIZE - STRINGS_KEY_BACK : HEADER_SIZE + length]
        if _alike(span, pos, run, size, HEADER_SIZE + length):
            firsts, index = [0], None
        else:
            first, inverse = _distinct(keys[:MIN_RUN])  # most alike, or most not: a look first
            if len(first) * EVENTS_PER_TEXT <= MIN_RUN:
                first, inverse = _distinct(keys)
            if len(first) * EVENTS_PER_TEXT > len(inverse):
                offsets = pos + size * np.arange(run, dtype=np.intp)
                return run, self.varied(span, offsets, records[:run])
            firsts, index = first.tolist(), inverse
        self._texts = [self._strings(span, pos + row * size, size) for row in firsts]
        if index is not None:
            records = records[:run].copy()
            records["pgoff"] = index
        self._indexed = index is not None
        try:
            return run, self.render(records[:run])
        finally:
            self._texts, self._indexed = [], False

    def walk(self, span: bytes, pos: int) -> tuple[list[int], int]:
        """The offsets of the records with data from ``pos`` on, of any size, up to the first
        that is not one (no data, discarded, being written, cut by the span's end); and
        where that one starts."""
        view = memoryview(span)
        end, order = len(span), sys.byteorder
        offsets: list[int] = []
        append = offsets.append
        budget = pos + RUN_BYTES
        most = self._rows
        while pos + HEADER_SIZE <= end and len(offsets) < most and (pos < budget or len(offsets) < MIN_RUN):
            length = int.from_bytes(view[pos : pos + 4], order)
            if length == EVENT_SIZE or length & (BUSY_BIT | DISCARD_BIT):
                break
            size = record_size(length)
            if pos + size > end:
                break
            append(pos)
            pos += size
        return offsets, pos

    @staticmethod
    def positions(offsets: list[int]) -> npt.NDArray[np.intp]:
        return np.array(offsets, np.intp)

    def varied(
        self, span: bytes, offsets: npt.NDArray[np.intp], records: npt.NDArray[Any] | None = None
    ) -> bytes | None:
        """The records at ``offsets`` (each with data), their strings escaped a column at a
        time (vector_data.py); None when numpy does not render them (a mix of many syscalls,
        or a line format with strings of its own)."""
        if self._data is None:
            return None
        if records is None:
            raw = np.frombuffer(span, np.uint8)
            records = raw[offsets[:, None] + np.arange(RECORD_SIZE)].view(RECORD_DTYPE).reshape(len(offsets))
        else:
            records = records.copy()
        numbers = np.unique(records["slot"])
        if len(numbers) * EVENTS_PER_SYSCALL > len(records):
            return None
        records["pgoff"] = np.arange(len(records))  # a row's strings, by its row number
        self._columns = self._data.columns(span, offsets, records)
        try:
            return self.render(records)
        finally:
            self._columns = None

    def _strings(self, span: bytes, pos: int, size: int) -> list[str]:
        t = RECORD.unpack_from(span, pos)
        return self.formatters.strings(t, span, pos + RECORD_SIZE, min(t[STR_BYTES], size - RECORD_SIZE))

    def fixed_run(self, span: bytes, pos: int) -> tuple[int, npt.NDArray[Any] | None]:
        return fixed_run(span, pos, self._rows)

    def render(self, records: npt.NDArray[Any]) -> bytes | None:
        """All events of ``records`` as UTF-8 text, or None when the mix of syscalls is too varied."""
        text = self._render(records)
        if text:  # the next runs' rows: about RUN_TEXT bytes of text at this run's bytes per row
            self._rows = min(RUN_MAX, max(MIN_RUN, RUN_TEXT * len(records) // len(text)))
        return text

    def _render(self, records: npt.NDArray[Any]) -> bytes | None:
        numbers, groups = np.unique(records["slot"], return_inverse=True)
        if len(numbers) * EVENTS_PER_SYSCALL > len(records):
            return None
        if len(numbers) == 1:  # a flood of one call: no interleaving needed
            # Varied strings leave NULs in every row (escapes' slots, padding): a mask is faster.
            return _joined(self._block(self._line(int(numbers[0])), records), padded=self._columns is not None)
        blocks = []
        for group, nr in enumerate(numbers.tolist()):
            rows = np.flatnonzero(groups == group)
            blocks.append((rows, self._block(self._line(nr), records[rows])))
        width = max(block.shape[1] for _, block in blocks)
        out = np.zeros((len(records), width), np.uint8)
        for rows, block in blocks:
            out[rows, : block.shape[1]] = block
        return _joined(out, padded=True)

    def _line(self, nr: int) -> list[Segment]:
        segments = self._segments.get(nr)
        if segments is None:
            line = self.formatters.line
            segments = self._segments[nr] = line.segments(self.formatters.call(nr))
        return segments

    def _block(self, segments: Sequence[Segment], records: npt.NDArray[Any]) -> Bytes:
        return self._many(segments, records)

    def _pieces(self, s: Segment, r: npt.NDArray[Any]) -> list[Piece]:
        """The segment's columns: bytes where every row reads the same, else a matrix."""
        if isinstance(s, Lit):
            return [s.text.encode()]
        if isinstance(s, (IfOk, IfIn, IfBits)):
            which = self._which(s, r)
            if which.all():  # the common case (no errors, no O_CREAT): no rows to split
                return self._flat(_then(s), r)
            if not which.any():
                return self._flat(_otherwise(s), r)
            return [self._segment(s, r)]
        if isinstance(s, Text) and not self._texts and self._columns is None:
            return self._pieces(s.fallback, r)
        key = self._key(s, r)
        if key is not None and len(r) > 1 and (key == key[0]).all():  # one pid, one second...
            if isinstance(s, Text):  # a row of this run's strings: not the same in the next run
                return [_nul_free(self._segment(s, r[:1]))]
            return [self._constant(s, key[0].item(), r)]
        return [self._segment(s, r)]

    def _constant(self, s: Segment, value: Any, r: npt.NDArray[Any]) -> bytes:
        """A segment's text for a value alike on every row, remembered: each run of a steady
        flood has the same pid, fd, count, result... and pays for numpy's calls only once."""
        text = self._constants.get((s, value))
        if text is None:
            if len(self._constants) > 65536:
                self._constants.clear()
            text = self._constants[(s, value)] = _nul_free(self._segment(s, r[:1]))
        return text

    def _flat(self, segments: Sequence[Segment], r: npt.NDArray[Any]) -> list[Piece]:
        return [piece for segment in segments for piece in self._pieces(segment, r)]

    def _key(self, s: Segment, r: npt.NDArray[Any]) -> Column | None:
        """The column a segment's rendering depends on alone (None: more than one)."""
        if isinstance(s, (Number, Pointer, Named)):
            return _column(r, s.field)
        if isinstance(s, Comm):
            return r["comm"]
        if isinstance(s, Clock):
            return (r["start"] + np.uint64(self.offset)) // np.uint64(1_000_000_000)
        if isinstance(s, Seconds):
            return r["duration"] // np.uint64(1_000_000_000)
        if isinstance(s, Text):
            return r["pgoff"] if self._indexed or self._columns is not None else np.zeros(len(r), np.uint32)
        return None

    def _which(self, s: IfOk | IfIn | IfBits, r: npt.NDArray[Any]) -> Column:
        if isinstance(s, IfOk):
            ret = r["ret"]
            return (ret >= 0) | (ret < -4095)
        if isinstance(s, IfIn):
            return np.isin(_column(r, s.field) & np.uint64(s.mask), np.array(sorted(s.values), np.uint64))
        bits: Column = (_column(r, s.field) & np.uint64(s.mask)) != 0
        return bits

    def _segment(self, s: Segment, r: npt.NDArray[Any]) -> Bytes:
        m = len(r)
        if m == 0:
            return np.zeros((0, 0), np.uint8)
        if isinstance(s, Lit):
            return _literal(s.text.encode(), m)
        if isinstance(s, Number):
            return _decimal(_as_kind(_column(r, s.field), s.kind))
        if isinstance(s, Pointer):
            return _pointer(_column(r, s.field), s.null.encode(), s.quote.encode())
        if isinstance(s, Named):
            return self._named(s.decoder, _column(r, s.field))
        if isinstance(s, Comm):
            return self._named(s.decoder, r["comm"])
        if isinstance(s, Clock):
            return self._named(s.decoder, (r["start"] + np.uint64(self.offset)) // np.uint64(1_000_000_000))
        if isinstance(s, Micros):
            micros = self._wall_us(r) if s.field == START else r["duration"] // np.uint64(1000)
            return _fixed_digits(micros % np.uint64(1_000_000), 6)
        if isinstance(s, Seconds):
            return _decimal(r["duration"] // np.uint64(1_000_000_000))
        if isinstance(s, (IfOk, IfIn, IfBits)):
            return self._choose_many(self._which(s, r), _then(s), _otherwise(s), r)
        assert isinstance(s, Text)
        if self._columns is not None:
            column = self._columns.get(s.arg)
            return column[r["pgoff"]] if column is not None else np.zeros((m, 0), np.uint8)
        if not self._texts:
            return self._segment(s.fallback, r)  # a record without string data
        texts = [strings[s.arg].encode("utf-8", "backslashreplace") for strings in self._texts]
        rows: Bytes = _table(texts)[r["pgoff"] if self._indexed else np.zeros(len(r), np.intp)]
        return rows

    def _decode(self, decoder: Callable[[Any], str], value: Any) -> bytes:
        known = self._decoded.setdefault(decoder, {})
        text = known.get(value)
        if text is None:
            if len(known) > 65536:
                known.clear()
            text = known[value] = decoder(value).encode("utf-8", "backslashreplace")
        return text

    def _wall_us(self, r: npt.NDArray[Any]) -> Column:
        return (r["start"] + np.uint64(self.offset)) // np.uint64(1000)

    def _many(self, segments: Sequence[Segment], r: npt.NDArray[Any]) -> Bytes:
        """The segments side by side: the constant columns written once per row, adjacent ones merged."""
        return _assembled(self._flat(segments, r), len(r))

    def _choose_many(
        self, which: Column, then: Sequence[Segment], otherwise: Sequence[Segment], r: npt.NDArray[Any]
    ) -> Bytes:
        if which.all():  # the common case (no errors, no O_CREAT): no rows to split
            return self._many(then, r)
        if not which.any():
            return self._many(otherwise, r)
        yes, no = self._many(then, r[which]), self._many(otherwise, r[~which])
        out = np.zeros((len(r), max(yes.shape[1], no.shape[1])), np.uint8)
        out[which, : yes.shape[1]] = yes
        out[~which, : no.shape[1]] = no
        return out

    def _named(self, decoder: Callable[[Any], str], values: Column) -> Bytes:
        """Each distinct value decoded once (and remembered), then looked up for every row."""
        if (values == values[0]).all():  # one thread name, one second, one result: no sort
            return _literal(self._decode(decoder, values[0].item()), len(values))
        distinct, index = np.unique(values, return_inverse=True)
        return _table([self._decode(decoder, value) for value in distinct.tolist()])[index.reshape(-1)]


_KEY_START = RECORD_SIZE - STRINGS_KEY_BACK
assert _KEY_START % 8 == 0


def _alike(span: bytes, pos: int, run: int, size: int, end: int) -> bool:
    """Whether the ``run`` records of ``size`` bytes from ``pos`` on hold the same bytes from
    the result to ``end`` (what their strings depend on): compared 8 bytes at a time."""
    words = end // 8
    if pos % 8 == 0 and size % 8 == 0:  # ring records are 8-byte aligned (a copy may not be)
        rows = np.frombuffer(span, np.uint64, count=run * size // 8, offset=pos).reshape(run, size // 8)
        if not (rows[:, _KEY_START // 8 : words] == rows[0, _KEY_START // 8 : words]).all():
            return False
        start = words * 8
    else:
        start = _KEY_START
    if start >= end:
        return True
    tail = np.frombuffer(span, np.uint8, count=run * size, offset=pos).reshape(run, size)[:, start:end]
    return bool((tail == tail[0]).all())


def _distinct(keys: Bytes) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """The first row of each distinct row of ``keys``, and each row's distinct one's index."""
    flat = np.ascontiguousarray(keys).view(np.dtype((np.void, keys.shape[1]))).ravel()
    _, first, inverse = np.unique(flat, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def _table(texts: Sequence[bytes]) -> Bytes:
    """One row per text, NUL-padded to the longest."""
    width = max([1, *map(len, texts)])
    table = np.zeros((len(texts), width), np.uint8)
    for row, text in enumerate(texts):
        table[row, : len(text)] = np.frombuffer(text, np.uint8)
    return table


def _joined(rows: Bytes, *, padded: bool = False) -> bytes:
    """The rows' text (UTF-8), in order, without the NULs: a few (leading zeros), or rows
    ``padded`` to the widest. ``bytes.replace`` pays per NUL (~60 ns a 250-byte row with one,
    2.2 µs with 160); ``bytes.translate`` deleting them pays per byte (~0.7 ns), a boolean
    mask ~2.8 ns."""
    data = rows.tobytes()
    return data.translate(None, b"\0") if padded else data.replace(b"\0", b"")


def _nul_free(rows: Bytes) -> bytes:
    return rows.tobytes().replace(b"\0", b"")


def _then(s: IfOk | IfIn | IfBits) -> Sequence[Segment]:
    return (s.then,) if isinstance(s, (IfOk, IfBits)) else s.then


def _otherwise(s: IfOk | IfIn | IfBits) -> Sequence[Segment]:
    if isinstance(s, IfBits):
        return ()
    return (s.otherwise,) if isinstance(s, IfOk) else s.otherwise


def _assembled(pieces: Sequence[Piece], rows: int) -> Bytes:
    """One matrix of the pieces side by side (a bytes piece repeated on every row)."""
    merged: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += piece
        elif not isinstance(piece, bytes) or piece:
            merged.append(piece)
    widths = [len(piece) if isinstance(piece, bytes) else piece.shape[1] for piece in merged]
    # The constant pieces as one row copied whole to every row (contiguous, fast), then the
    # varying columns over it.
    template = np.zeros(sum(widths), np.uint8)
    column = 0
    for piece, width in zip(merged, widths, strict=True):
        if isinstance(piece, bytes):
            template[column : column + width] = np.frombuffer(piece, np.uint8)
        column += width
    out = np.empty((rows, len(template)), np.uint8)
    out[:] = template
    column = 0
    for piece, width in zip(merged, widths, strict=True):
        if not isinstance(piece, bytes):
            out[:, column : column + width] = piece
        column += width
    return out


def _column(r: npt.NDArray[Any], field: int) -> Column:
    if field in _FIELDS:
        return r[_FIELDS[field]]
    if ARG0 <= field < ARG0 + 6:
        return r["args"][:, field - ARG0]
    if field == COMM:
        return r["comm"]
    raise ValueError(f"no column for field {field}")


def _as_kind(values: Column, kind: Kind) -> Column:
    if kind in (Kind.INT, Kind.FD):
        return (values & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.int32).astype(np.int64)
    if kind is Kind.UINT:
        return values & np.uint64(0xFFFFFFFF)
    if kind is Kind.LONG:
        return values.view(np.int64) if values.dtype == np.uint64 else values
    return values  # ULONG: as unpacked (ret is signed, the arguments unsigned)


def _literal(data: bytes, rows: int) -> Bytes:
    if not data:
        return np.zeros((rows, 0), np.uint8)
    return np.broadcast_to(np.frombuffer(data, np.uint8), (rows, len(data)))


def _fixed_digits(values: Column, width: int) -> Bytes:
    """``width`` digits of each value (all below 10**width), leading zeros included."""
    out = np.empty((len(values), width), np.uint8)
    small = width <= 9  # below 2**32: 32-bit division is about twice as fast
    x = values.astype(np.uint32 if small else np.uint64)
    ten = np.uint32(10) if small else np.uint64(10)
    for column in range(width - 1, 0, -1):
        x, out[:, column] = np.divmod(x, ten)
    out[:, 0] = x
    out += 48
    return out


def _decimal(values: Column) -> Bytes:
    """Decimal digits without leading zeros; a '-' column first for signed values."""
    if values.dtype.kind == "i":
        negative = values < 0
        magnitude = values.view(np.uint64).copy()
        magnitude[negative] = ~magnitude[negative] + np.uint64(1)
        sign = np.where(negative, np.uint8(45), np.uint8(0)).astype(np.uint8)
        return np.hstack([sign[:, None], _decimal(magnitude)])
    values = values.astype(np.uint64)
    top = int(values.max()) if len(values) else 0
    width = len(str(top))
    out = _fixed_digits(values, width)
    if width > 1:
        limits = np.uint64(10) ** np.arange(width - 1, 0, -1, dtype=np.uint64)
        out[:, : width - 1][values[:, None] < limits[None, :]] = 0
    return out


def _pointer(values: Column, null: bytes, quote: bytes) -> Bytes:
    values = values.astype(np.uint64)
    top = int(values.max()) if len(values) else 0
    width = max(1, (top.bit_length() + 3) // 4)
    digits = np.empty((len(values), width), np.uint8)
    x = values.copy()
    for column in range(width - 1, -1, -1):
        digits[:, column] = _HEX[(x & np.uint64(15)).astype(np.intp)]
        x = x >> np.uint64(4)
    if width > 1:
        limits = np.uint64(16) ** np.arange(width - 1, 0, -1, dtype=np.uint64)
        digits[:, : width - 1][values[:, None] < limits[None, :]] = 0
    rows = len(values)
    body = np.hstack([_literal(quote + b"0x", rows), digits, _literal(quote, rows)])
    out = np.zeros((rows, max(body.shape[1], len(null))), np.uint8)
    present = values != 0
    out[present, : body.shape[1]] = body[present]
    if null:
        out[~present, : len(null)] = np.frombuffer(null, np.uint8)
    return out
