"""What -y costs in decoding: 200 000 `read` events (one descriptor argument each),
rendered as plain text (numpy batches, then per event) and with -y (event by event
through the descriptor table). In-process, no BPF: the decoder alone.

    .venv/bin/python bench/trace_fdpaths.py [--events N] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.unit.test_trace_fdpaths import SIGNATURES
from tests.unit.test_trace_format import NORETURN, OFFSET, TABLES, record

from syscount.names.syscalls import slot_name
from syscount.trace.fdpaths import FdPathLine, FdTable, fd_formatters
from syscount.trace.sink import EventSink, FdOutput
from syscount.trace.stream import decode
from syscount.trace.text import TextLine


def rate(sink: EventSink, span: bytes, events: int, vectorized: bool) -> float:
    lines: list[str] = []
    started = time.perf_counter()
    decode(span, sink.formatters, lines, sink.vector if vectorized else None)
    return events / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    pid = os.getpid()
    span = b"".join(record("read", (3, 0x7F00, 64), 64, pid=pid, tid=pid) for _ in range(args.events))
    names = partial(slot_name, TABLES)
    print("| round | text, numpy batches | text, per event | -y, per event | -y / per event |")
    print("|---|---|---|---|---|")
    for n in range(args.rounds):
        plain = EventSink(FdOutput(-1), TextLine(OFFSET), names, SIGNATURES, NORETURN)
        batched = rate(plain, span, args.events, True)
        single = rate(EventSink(FdOutput(-1), TextLine(OFFSET), names, SIGNATURES, NORETURN), span, args.events, False)
        with_y = EventSink(
            FdOutput(-1), FdPathLine(OFFSET), names, SIGNATURES, NORETURN, formatters=fd_formatters(FdTable())
        )
        y = rate(with_y, span, args.events, False)
        print(f"| {n + 1} | {batched / 1e6:.2f} M/s | {single / 1e6:.2f} M/s | {y / 1e6:.2f} M/s | {y / single:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
