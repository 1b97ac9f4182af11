"""Runs of events that carry data (buffers, structs, paths): numpy renders them exactly as
the per-event path does, and the per-event path renders repeated data once."""

from __future__ import annotations

import struct
from functools import partial

import pytest

from syscount.kernel.ringbuf import DISCARD_BIT, record_size
from syscount.names.syscalls import slot_name, table_for
from syscount.trace import stream as stream_module
from syscount.trace.captured import TRUNCATED
from syscount.trace.compile import Formatters
from syscount.trace.jsonl import JsonLine
from syscount.trace.record import EVENT_SIZE, RECORD
from syscount.trace.signatures import from_prototypes
from syscount.trace.sink import EventSink, FdOutput, StreamFormat
from syscount.trace.stream import decode
from syscount.trace.text import TextLine
from syscount.trace.vector_limits import MIN_RUN

TABLE = table_for("x86_64")
PROTOTYPES = {
    "write": [("unsigned int", "fd"), ("const char *", "buf"), ("size_t", "count")],
    "read": [("unsigned int", "fd"), ("char *", "buf"), ("size_t", "count")],
    "getppid": [],
    "openat": [("int", "dfd"), ("const char *", "filename"), ("int", "flags"), ("umode_t", "mode")],
}
SIGNATURES = from_prototypes(TABLE, PROTOTYPES)
OFFSET = 1795560696123456789 - 1_000_000_000_000
AT_FDCWD = (1 << 64) - 100


def event(
    name: str, args: tuple[int, ...], ret: int, data: bytes = b"", *, i: int = 0, flags: int = 0, arg: int = 1
) -> bytes:
    """One ring record; ``data``, when given, is argument ``arg``'s string or captured buffer."""
    strings = struct.pack("=BBH", arg, flags, len(data)) + data if data else b""
    number = TABLE.number(name)
    assert number is not None
    length = EVENT_SIZE + len(strings)
    body = RECORD.pack(
        length, 8 * i, 1_000_000_000_000 + 997 * i, 500 + i % 1000, ret, *(args + (0,) * 6)[:6],
        1234, 1234 + i % 2, number, 0, len(strings), b"flood".ljust(16, b"\0"),
    )  # fmt: skip
    whole = body + strings
    return whole + bytes(record_size(length) - len(whole))


def stream(count: int) -> bytes:
    """Floods of writes and reads with data: the same buffer, a few buffers, a truncated one,
    errors, then one odd record out, a discarded record, and plain events between runs."""
    parts = []
    for i in range(count):
        if i % 3000 == 2999:
            parts.append(event("getppid", (), 7, i=i))
        elif i % 2000 == 1250:
            parts.append(event("write", (1, 0x1000, 3), 3, b"odd", i=i))  # breaks a run
        elif i % 2100 == 300:
            discarded = bytearray(event("write", (1, 0x1000, 64), 64, b"x" * 32, i=i))
            discarded[0:4] = (struct.unpack_from("=I", discarded)[0] | DISCARD_BIT).to_bytes(4, "little")
            parts.append(bytes(discarded))
        elif i < count // 3:
            parts.append(event("write", (1, 0x1000, 64), 64, b"x" * 32, i=i, flags=TRUNCATED))
        elif i < 2 * count // 3:
            data = b"line %d\n\x1b" % (i % 5)
            parts.append(event("write", (1, 0x2000 + 64 * (i % 5), 9), 9 if i % 9 else -32, data, i=i))
        else:
            data = bytes([i % 3]) * 16
            call, fd = ("read", 0) if i % 2 else ("write", 2)
            parts.append(event(call, (fd, 0x3000, 16), 16, data, i=i))
    return b"".join(parts)


def sink(line: StreamFormat, *, vectorize: bool) -> EventSink:
    return EventSink(FdOutput(-1), line, partial(slot_name, [TABLE]), SIGNATURES, frozenset(), vectorize=vectorize)


@pytest.mark.parametrize("line_format", [TextLine, JsonLine])
def test_runs_with_data_render_exactly_the_per_event_text(line_format: type[TextLine] | type[JsonLine]) -> None:
    pytest.importorskip("numpy")
    span = stream(6000)
    discarded = sum(1 for i in range(6000) if i % 2100 == 300 and i % 3000 != 2999 and i % 2000 != 1250)
    per_event: list[str] = []
    plain = sink(line_format(OFFSET), vectorize=False)
    assert decode(span, plain.formatters, per_event) == (len(span), 6000 - discarded)
    batched: list[str] = []
    fast = sink(line_format(OFFSET), vectorize=True)
    assert decode(span, fast.formatters, batched, fast.vector) == (len(span), 6000 - discarded)
    assert stream_module.joined(batched) == stream_module.joined(per_event)
    assert len(batched) < len(per_event) // 10  # most events came in numpy-rendered pieces
    shown = 'buf="' + "x" * 32 + '"...' if line_format is TextLine else '"buf":"' + "x" * 32 + '"'
    assert shown in stream_module.joined(batched[:1]).decode()


def test_a_short_span_ending_inside_a_run_leaves_the_rest() -> None:
    pytest.importorskip("numpy")
    one = event("write", (1, 0x1000, 64), 64, b"y" * 32)
    span = one * (MIN_RUN + 10) + one[:40]
    fast = sink(TextLine(OFFSET), vectorize=True)
    lines: list[str] = []
    assert decode(span, fast.formatters, lines, fast.vector) == (len(one) * (MIN_RUN + 10), MIN_RUN + 10)
    assert (
        stream_module.joined(lines).decode().count('write(fd=1, buf="' + "y" * 32 + '", count=64) = 64') == MIN_RUN + 10
    )


def test_repeated_data_is_rendered_once_and_still_per_event() -> None:
    formatters: Formatters = sink(TextLine(OFFSET), vectorize=False).formatters
    span = b"".join(event("write", (1, 0x1000, 5), 5, b"same\n", i=i) for i in range(10))
    lines: list[str] = []
    assert decode(span, formatters, lines) == (len(span), 10)
    assert len(formatters._rendered) == 2  # once per thread (the ids are part of what is compared)
    assert all('write(fd=1, buf="same\\n", count=5) = 5' in line for line in lines)
    assert len({line[:15] for line in lines}) == 10  # the times differ, each its own
