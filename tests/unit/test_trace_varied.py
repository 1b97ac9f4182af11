"""Runs of events whose data differs from event to event (vector_data.py, vector_escape.py):
rendered in numpy batches, byte for byte as the per-event renderer writes them, on
hostile data (control and high bytes, quotes, backslashes, octal digits after an escape,
UTF-8 and invalid UTF-8, cuts at -s, faults, records of other shapes among them)."""

from __future__ import annotations

import json
import random
import struct

import numpy as np
import pytest

from syscount.kernel.ringbuf import DISCARD_BIT
from syscount.names.escape import c_bytes, c_string
from syscount.trace import stream as stream_module
from syscount.trace.captured import FAULT, FILE, TRUNCATED
from syscount.trace.jsonl import JsonLine
from syscount.trace.record import EVENT_SIZE, LEN, RECORD, STR_BYTES
from syscount.trace.stream import decode
from syscount.trace.text import TextLine
from syscount.trace.vector_escape import data_table, json_table, name_table, quoted
from syscount.trace.vector_limits import MIN_RUN

from .test_trace_runs import AT_FDCWD, OFFSET, event, sink

Line = type[TextLine] | type[JsonLine]
FORMATS = [TextLine, JsonLine]
# Bytes that escape differently: controls with short escapes and without, octal digits
# (after an octal escape they force three digits), quote, backslash, DEL, high bytes.
NASTY = b'\0\1\7\t\n\v\f\r\033"\\\x7f\x80\x9b\xc3\xa9\xe2\x80\xae\xff01789 aZ~'
UTF8 = ["日本", "café", "\u202e", "\u200b"]


def hostile(rng: random.Random, size: int) -> bytes:
    """Bytes drawn from NASTY, with now and then a UTF-8 sequence or a run of plain text."""
    out = bytearray()
    while len(out) < size:
        pick = rng.random()
        if pick < 0.1:
            out += rng.choice(UTF8).encode()
        elif pick < 0.3:
            out += b"plain text"
        else:
            out.append(rng.choice(NASTY))
    return bytes(out[:size])


def both(span: bytes, line: Line) -> tuple[bytes, bytes, int]:
    """The per-event and the batch renderings of ``span``, and how many pieces the batch had."""
    per_event: list[str] = []
    plain = sink(line(OFFSET), vectorize=False)
    consumed, events = decode(span, plain.formatters, per_event)
    batched: list[str | bytes] = []
    fast = sink(line(OFFSET), vectorize=True)
    assert decode(span, fast.formatters, batched, fast.vector) == (consumed, events) == (len(span), events)
    return stream_module.joined(per_event), stream_module.joined(batched), len(batched)


def writes(count: int, *, size: int | None, seed: int) -> bytes:
    """Writes of hostile buffers: all of one size (``size``) or of sizes 1-40, some cut."""
    rng = random.Random(seed)
    parts = []
    for i in range(count):
        data = hostile(rng, size if size is not None else rng.randrange(1, 41))
        flags = TRUNCATED if rng.random() < 0.3 else 0
        parts.append(event("write", (1, 0x1000, 64), 64 if i % 7 else -9, data, i=i, flags=flags))
    return b"".join(parts)


def opens(count: int, seed: int) -> bytes:
    """openat of hostile paths of varying length, some cut, some not found."""
    rng = random.Random(seed)
    parts = []
    for i in range(count):
        path = b"/tmp/" + hostile(rng, rng.randrange(30))
        flags = TRUNCATED if rng.random() < 0.2 else 0
        parts.append(event("openat", (AT_FDCWD, 0x2000, 0, 0), 3 if i % 3 else -2, path, i=i, flags=flags, arg=1))
    return b"".join(parts)


@pytest.mark.parametrize("line", FORMATS)
@pytest.mark.parametrize("size", [32, None])
def test_hostile_buffers_render_in_batches_exactly_as_per_event(line: Line, size: int | None) -> None:
    expected, got, pieces = both(writes(3000, size=size, seed=size or 7), line)
    assert got == expected
    assert pieces < 30  # numpy's batches, not 3000 lines one by one
    assert expected.count(b"\n") == 3000


@pytest.mark.parametrize("line", FORMATS)
def test_hostile_paths_render_in_batches_exactly_as_per_event(line: Line) -> None:
    expected, got, pieces = both(opens(3000, seed=3), line)
    assert got == expected
    assert pieces < 30
    if line is TextLine:  # what the escaping must show, spelled out
        assert b'"\\033' in got or b"\\033" in got
        assert "日本".encode() in got  # printable non-ASCII kept in text paths


def odd_records(i: int) -> bytes:
    """Records with data of other shapes: a fault, a file item, two items, an empty buffer."""
    item = struct.Struct("=BBH")
    shapes = [
        item.pack(1, FAULT, 0),  # the buffer could not be read: the pointer is shown
        item.pack(1, 0, 3) + b"abc" + item.pack(6, FILE, 4) + b"pipe",  # and a file item
        item.pack(1, 0, 2) + b"hi" + item.pack(1, 0, 2) + b"yo",  # the argument twice
        item.pack(1, 0, 0),  # an empty buffer
    ]
    data = shapes[i % len(shapes)]
    fields = list(RECORD.unpack_from(event("write", (1, 0x1000, 5), 5, b"x", i=i)))
    fields[LEN], fields[STR_BYTES] = EVENT_SIZE + len(data), len(data)
    record = RECORD.pack(*fields) + data
    return record + bytes((-len(record)) % 8)


@pytest.mark.parametrize("line", FORMATS)
def test_odd_records_among_varied_ones_go_event_by_event_in_place(line: Line) -> None:
    rng = random.Random(11)
    parts = []
    for i in range(4000):
        if i % 97 == 5:
            parts.append(odd_records(i))
        elif i % 501 == 7:
            discarded = bytearray(event("write", (1, 0x1000, 9), 9, b"discarded", i=i))
            discarded[0:4] = (struct.unpack_from("=I", discarded)[0] | DISCARD_BIT).to_bytes(4, "little")
            parts.append(bytes(discarded))
        elif i % 777 == 3:
            parts.append(event("getppid", (), 7, i=i))
        elif i % 2:
            parts.append(event("read", (0, 0x3000, 64), 12, hostile(rng, 12), i=i))
        else:
            parts.append(writes(1, size=None, seed=i))
    expected, got, pieces = both(b"".join(parts), line)
    assert got == expected
    assert pieces < 1000  # most of the 4000 in numpy batches (runs shorter than MIN_RUN: one by one)


@pytest.mark.parametrize("line", FORMATS)
def test_a_span_cut_inside_a_varied_run_leaves_the_rest(line: Line) -> None:
    span = opens(MIN_RUN * 3, seed=5)
    cut = span[: len(span) - 50]  # the last record is only partly there
    fast = sink(line(OFFSET), vectorize=True)
    lines: list[str | bytes] = []
    consumed, events = decode(cut, fast.formatters, lines, fast.vector)
    assert events == MIN_RUN * 3 - 1 and consumed < len(cut)
    plain = sink(line(OFFSET), vectorize=False)
    per_event: list[str] = []
    assert decode(cut, plain.formatters, per_event) == (consumed, events)
    assert stream_module.joined(lines) == stream_module.joined(per_event)


def every_pair() -> list[bytes]:
    return [bytes([a, b]) for a in range(256) for b in range(256)]


def _rows(strings: list[bytes]) -> tuple[np.typing.NDArray[np.uint8], np.typing.NDArray[np.int64]]:
    width = max(map(len, strings))
    data = np.zeros((len(strings), width), np.uint8)
    for row, text in enumerate(strings):
        data[row, : len(text)] = np.frombuffer(text, np.uint8)
    return data, np.array([len(s) for s in strings])


def _texts(matrix: np.typing.NDArray[np.uint8]) -> list[bytes]:
    return [row.tobytes().replace(b"\0", b"") for row in matrix]


def test_the_buffer_table_is_c_bytes_on_every_pair_of_bytes() -> None:
    pairs = [*every_pair(), b"", b"\x00", b"\x00" + b"7", b"\x01" * 5 + b"0"]
    data, lengths = _rows(pairs)
    cut = np.arange(len(pairs)) % 3 == 0
    out, unhandled = quoted(data, lengths, data_table(), b"...", cut)
    assert not unhandled.any()
    assert _texts(out) == [(c_bytes(p) + ("..." if c else "")).encode() for p, c in zip(pairs, cut, strict=True)]


def test_the_path_and_json_tables_on_every_pair_of_ascii_bytes_and_leave_the_rest() -> None:
    pairs = every_pair()
    data, lengths = _rows(pairs)
    none = np.zeros(len(pairs), bool)
    ascii_only = np.array([max(p) < 0x80 for p in pairs])
    for table, render in (
        (name_table(), c_string),
        (json_table(), lambda p: json.dumps(p.decode("ascii"))),
    ):
        out, unhandled = quoted(data, lengths, table, b"", none)
        assert (unhandled == ~ascii_only).all()  # UTF-8 and high bytes: left to Python
        texts = _texts(out)
        assert [texts[i] for i in np.flatnonzero(ascii_only)] == [
            render(pairs[i]).encode() for i in np.flatnonzero(ascii_only)
        ]


def test_escapes_stop_at_each_row_end_whatever_lies_past_it() -> None:
    """Past a row's length the matrix holds other bytes (the next record's): octal digits
    there must not lengthen the row's last escape, nor show."""
    strings = [bytes([i % 256, 0x30 + i % 10]) * (i % 5) + bytes([i % 32]) for i in range(400)]
    data, lengths = _rows(strings)
    data[np.arange(data.shape[1])[None, :] >= lengths[:, None]] = ord("7")
    out, unhandled = quoted(data, lengths, data_table(), b"...", np.arange(400) % 2 == 0)
    assert not unhandled.any()
    assert _texts(out) == [(c_bytes(s) + ("..." if i % 2 == 0 else "")).encode() for i, s in enumerate(strings)]


def test_json_buffers_that_are_not_utf8_as_the_per_event_code_writes_them() -> None:
    from syscount.trace import structs
    from syscount.trace.jsonl import compact
    from syscount.trace.vector_data import _json_data

    rng = random.Random(2)
    for data in [b"", b"\xff", "café".encode(), b"\xc3", b"a\x00\x80b", *(hostile(rng, n) for n in range(40))]:
        for cut in (False, True):
            assert _json_data(data, cut) == compact(structs.buffer_json(structs.Buffer(data, cut)))
