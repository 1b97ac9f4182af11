"""The trace decoder alone, in-process (no BPF): events/s for a getppid flood and a flood
of the same 64-byte write (its buffer captured), as text and JSON, in 4 MiB batches as the
ring buffer hands them over, written out as bytes.

    .venv/bin/python bench/trace_decode.py [--events N] [--rounds R]

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

from tests.unit.test_trace_runs import event, sink

from syscount.trace import stream
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


def getppid_flood(events: int) -> bytes:
    one = event("getppid", (), 4242)
    span = bytearray(one * events)
    for i in range(events):  # entry times and durations as a real flood's: all different
        struct.pack_into("=QQ", span, i * len(one) + 8, 1_000_000_000_000 + 700 * i, 500 + i % 3000)
    return bytes(span)


def write_flood(events: int) -> bytes:
    return event("write", (1, 0x1000, 64), 64, b"x" * 32) * events


def rate(line: type[TextLine] | type[JsonLine], span: bytes, events: int) -> float:
    decoder = sink(line(OFFSET), vectorize=True)
    lines: list[Any] = []
    decode(span[: 1 << 16], decoder.formatters, lines, decoder.vector)  # compiled, first seen: not timed
    lines.clear()
    started = time.perf_counter()
    pos = 0
    while pos < len(span):
        consumed, _ = decode(span[pos : pos + BATCH], decoder.formatters, lines, decoder.vector)
        joined(lines)
        lines.clear()
        pos += consumed
    return events / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    floods = {"getppid": getppid_flood(args.events), "write 64 B, -s 32": write_flood(args.events)}
    print("| flood | format | median events/s | best |")
    print("|---|---|---:|---:|")
    for name, span in floods.items():
        for line in (TextLine, JsonLine):
            rates = [rate(line, span, args.events) for _ in range(args.rounds)]
            label = "text" if line is TextLine else "json"
            print(f"| {name} | {label} | {statistics.median(rates) / 1e6:.2f} M | {max(rates) / 1e6:.2f} M |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
