"""The trace decoder alone, in-process (no BPF): events/s for a getppid flood, a flood of
the same 64-byte write (its buffer captured), of 64-byte writes whose buffers all differ
(control, high, quote and backslash bytes among them), and of openat calls of different
paths (of varying length), as text and JSON, in 4 MiB batches as the ring buffer hands
them over, written out as bytes.

    .venv/bin/python bench/trace_decode.py [--events N] [--rounds R] [--only NAME,...] [--span FILE]

``--span FILE``: decode ring records saved from a real run instead (write, read, openat
and getppid events, x86-64), in the same batches.

To measure another tree's decoder with the same records: ``PYTHONPATH=OTHER/src``.
"""

from __future__ import annotations

import argparse
import statistics
import struct
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.unit.test_trace_runs import AT_FDCWD, event, sink

from syscount.trace import stream
from syscount.trace.captured import TRUNCATED
from syscount.trace.jsonl import JsonLine
from syscount.trace.stream import decode
from syscount.trace.text import TextLine

BATCH = 4 << 20
OFFSET = 1795560696123456789 - 1_000_000_000_000


def joined(lines: list[Any]) -> bytes:
    """The bytes to write (a tree from before numpy's pieces were bytes has no ``joined``)."""
    if hasattr(stream, "joined"):
        data: bytes = stream.joined(lines)
        return data
    return "".join(lines).encode("utf-8", "backslashreplace")


def timed(one: bytes, events: int) -> bytes:
    """``events`` copies of the record ``one``, with entry times and durations as a real
    flood's: all different (alike, they would be rendered once per run)."""
    span = bytearray(one * events)
    for i in range(events):
        struct.pack_into("=QQ", span, i * len(one) + 8, 1_000_000_000_000 + 700 * i, 500 + i % 3000)
    return bytes(span)


def getppid_flood(events: int) -> bytes:
    return timed(event("getppid", (), 4242), events)


def write_flood(events: int) -> bytes:
    return timed(event("write", (1, 0x1000, 64), 64, b"x" * 32), events)


ODD = b'\n\033\xe9"\\\t\0\x7f'  # as tests/workloads/flood.c --vary writes them


def varied_write_flood(events: int) -> bytes:
    """64-byte writes, -s 32: every buffer different (flood.c --write 64 --vary)."""
    parts = []
    for i in range(events):
        data = b"%010d" % i + ODD[i % 8 : i % 8 + 1] + bytes([97 + i % 26]) + b"x" * 20
        parts.append(event("write", (1, 0x1000, 64), 64, data, i=i, flags=TRUNCATED))
    return b"".join(parts)


def varied_open_flood(events: int) -> bytes:
    """openat of a different missing path each (flood.c --open): records of varying size."""
    parts = []
    for i in range(events):
        path = b"/nonexistent/flood/0/%d" % i
        parts.append(event("openat", (AT_FDCWD, 0x2000, 0, 0), -2, path, i=i, arg=1))
    return b"".join(parts)


def count(span: bytes) -> int:
    """The events in a file of ring records (decoded once, per event)."""
    lines: list[Any] = []
    return decode(span, sink(TextLine(OFFSET), vectorize=False).formatters, lines)[1]


def rate(line: type[TextLine] | type[JsonLine], span: bytes, events: int, batch: int = BATCH) -> float:
    decoder = sink(line(OFFSET), vectorize=True)
    lines: list[Any] = []
    decode(span[: 1 << 16], decoder.formatters, lines, decoder.vector)  # compiled, first seen: not timed
    lines.clear()
    started = time.perf_counter()
    pos = 0
    while pos < len(span):
        consumed, _ = decode(span[pos : pos + batch], decoder.formatters, lines, decoder.vector)
        joined(lines)
        lines.clear()
        pos += consumed
        if not consumed:  # a record cut at the file's end
            break
    return events / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=BATCH, help="bytes per batch (default 4 MiB)")
    parser.add_argument("--span", type=Path, help="a file of ring records to decode instead of the floods")
    parser.add_argument("--only", help="floods to run, by the start of their names (getppid,write,varied,openat)")
    args = parser.parse_args()
    makers = {
        "getppid": getppid_flood,
        "write 64 B, -s 32": write_flood,
        "varied write 64 B, -s 32": varied_write_flood,
        "openat, varied paths": varied_open_flood,
    }
    wanted = args.only.split(",") if args.only else None
    floods = {
        name: make(args.events)
        for name, make in makers.items()
        if wanted is None or any(name.startswith(w) for w in wanted)
    }
    if args.span:
        span = args.span.read_bytes()
        floods = {args.span.name: span}
        args.events = count(span)
    print("| flood | format | median events/s | best |")
    print("|---|---|---:|---:|")
    for name, span in floods.items():
        for line in (TextLine, JsonLine):
            rates = [rate(line, span, args.events, args.batch) for _ in range(args.rounds)]
            label = "text" if line is TextLine else "json"
            print(f"| {name} | {label} | {statistics.median(rates) / 1e6:.2f} M | {max(rates) / 1e6:.2f} M |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
