#!/usr/bin/env python3
"""The Python work of a per-process breakdown, per row and interval, without a kernel.

    .venv/bin/python bench/rows.py [--rows 6000] [--intervals 20] [--src DIR]

The kernel map is a stand-in holding what `-P` reads under the two loads of
docs/benchmarks.md: **churn** (every interval ``--rows`` new processes make
set_robust_list and exit_group once and end; their parent's row grows) and
**sleepers** (``--rows`` processes that each make 10 more calls every interval).
Timed with ``time.process_time()``, as `syscount -P -i 1 --format json` does it each
interval: the reading (deltas, names, rows, keeping or folding the ended), the interval
(``difference``) and the JSON line (written to memory). The kernel's own part (batch reads, freeing rows)
is not in it: bench/churn.py measures the whole. No root needed; the garbage
collector is tuned as the count command tunes it.

``--src DIR`` runs another checkout's ``src`` instead (the figures before a change).
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
PARENT, SET_ROBUST_LIST, EXIT_GROUP, CLONE, WAIT4, NANOSLEEP = 1, 273, 231, 56, 61, 230


class StandIn:
    """The kernel map as ``KeyedMap`` shows it: cumulative (id, slot, errno) -> calls."""

    by = "process"

    def __init__(self) -> None:
        self.values: dict[tuple[int, int, int], int] = {}
        self.named: dict[int, str] = {}
        self.ended: set[int] = set()

    def read(self) -> dict[tuple[int, int, int], int]:
        return dict(self.values)

    def exited(self) -> set[int]:
        ended, self.ended = self.ended, set()
        return ended

    def finals(self) -> list[Any]:  # no rows handed over by a kernel here
        return []

    def names(self) -> dict[int, str]:
        return dict(self.named)

    def forget(self, ids: set[int]) -> None:
        for ident in ids:
            self.values.pop((ident, SET_ROBUST_LIST, 0), None)
            self.values.pop((ident, EXIT_GROUP, 0), None)
            self.named.pop(ident, None)


def measure(load: str, rows: int, intervals: int) -> float:
    """µs of Python per row and interval."""
    from syscount.programs.breakdown import KeyedTotals
    from syscount.programs.keyed import KeyedMap
    from syscount.readings import EMPTY, Reading, difference
    from syscount.sinks.jsonl import JsonLinesSink

    kernel = StandIn()
    totals = KeyedTotals(cast(KeyedMap, kernel), lambda slot: f"syscall{slot}", lambda: (0,) * 1024)
    kernel.named[PARENT] = "churnbench"
    if load == "sleepers":
        kernel.named.update(dict.fromkeys(range(2, rows + 2), "workload"))
    last: Any = EMPTY
    sink = JsonLinesSink(io.StringIO())
    pid, spent = 100_000, 0.0
    for _ in range(intervals):
        new = range(pid, pid + rows)
        if load == "churn":
            for ident in new:
                kernel.values[(ident, SET_ROBUST_LIST, 0)] = 1
                kernel.values[(ident, EXIT_GROUP, 0)] = 1
                kernel.named[ident] = "churnbench"
            for slot in (CLONE, WAIT4):
                kernel.values[(PARENT, slot, 0)] = kernel.values.get((PARENT, slot, 0), 0) + rows
            pid += rows
        else:
            for ident in range(2, rows + 2):
                kernel.values[(ident, NANOSLEEP, 0)] = kernel.values.get((ident, NANOSLEEP, 0), 0) + 10
        start = time.process_time()
        reading = Reading(calls={}, breakdown=totals.read())
        sink.emit(difference(last, reading, 1.0))
        spent += time.process_time() - start
        last = reading
        if load == "churn":
            kernel.ended = set(new)
    return 1e6 * spent / (intervals * rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=6000, help="processes per interval (default 6000)")
    parser.add_argument("--intervals", type=int, default=20)
    parser.add_argument("--src", metavar="DIR", help="run DIR's syscount (another checkout's src)")
    parser.add_argument("--load", choices=("churn", "sleepers"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load is None:  # each load in a fresh interpreter, with the chosen tree first on the path
        env = dict(os.environ, PYTHONPATH=args.src or str(ROOT / "src"))
        for load in ("churn", "sleepers"):
            rows = args.rows if load == "churn" else 1000
            command = [sys.executable, __file__, "--load", load, "--rows", str(rows)]
            subprocess.run([*command, "--intervals", str(args.intervals)], env=env, check=True)
        return 0
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)  # as the count command's loop (cli/count.py)
    per_row = measure(args.load, args.rows, args.intervals)
    print(f"{args.load}: {args.rows} rows an interval, {per_row:.2f} µs of Python per row and interval")
    return 0


if __name__ == "__main__":
    sys.exit(main())
