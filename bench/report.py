#!/usr/bin/env python3
"""What `syscount report` and `syscount diff` cost on a day-long recording.

    .venv/bin/python bench/report.py [--intervals 86400] [--baseline SRC] [--without-orjson]

A day at 1 s intervals is 86 400 lines. Two such recordings are written with the JSON
sink itself (so the lines are exactly what `syscount --format json` writes), from
made-up but steady-looking figures:

- counts: 60 syscalls per interval (a busy machine's plain `syscount --format json`);
- -L -P: 30 timed syscalls (histograms over 6 buckets, errors on 5 of them), and a
  process breakdown of 10 processes with 5 syscalls each.

Then `syscount report` and `syscount diff` (the recording against itself) run on each
as separate processes; reported are the wall time, the CPU time (user + system, of the
command and its children: what it costs whatever the neighbours do), the peak RSS and
the page's size. With ``--baseline SRC`` (another tree's ``src`` directory, e.g. main's)
each command also runs from that tree, on the same files, right before this tree's run:
a side-by-side ratio that holds on a busy machine. ``--without-orjson`` adds a run of
this tree with orjson hidden (Python's json parses). No root needed; nothing is traced.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from syscount.model import Breakdown, BreakdownRow, Snapshot, SyscallTime, sorted_counts
from syscount.sinks.jsonl import JsonLinesSink

SYSCOUNT = [sys.executable, "-m", "syscount"]
# syscount as if orjson were not installed: its import fails, the loader falls back to json.
WITHOUT_ORJSON = [
    sys.executable,
    "-c",
    "import sys; sys.modules['orjson'] = None; from syscount.__main__ import main; sys.exit(main())",
]
START = datetime(2026, 11, 24, tzinfo=UTC)


def names(count: int) -> list[str]:
    from syscount.names.syscalls import native_table

    return list(native_table().names.values())[:count]


def counts_snapshot(i: int, syscalls: list[str], rng: random.Random) -> Snapshot:
    counts = {name: max(1, int(rank_rate(rank) * (1 + 0.3 * rng.random()))) for rank, name in enumerate(syscalls)}
    return Snapshot(START + timedelta(seconds=i), 1.0, sorted_counts(counts))


def rank_rate(rank: int) -> float:
    return 20000.0 / math.pow(1 + rank, 1.5)


def timed_snapshot(i: int, syscalls: list[str], rng: random.Random) -> Snapshot:
    plain = counts_snapshot(i, syscalls, rng)
    latency = {}
    errors = {}
    for rank, (name, calls) in enumerate(plain.counts.items()):
        hist = [0] * 32
        for k in range(6):  # a spread over six log2 buckets from 256 ns up
            hist[8 + k + rank % 4] = calls >> (k + 1)
        hist[8 + rank % 4] += calls - sum(hist)
        failed = calls // 10 if rank % 6 == 0 else 0
        latency[name] = SyscallTime(calls, calls * 900, 256, 65536, failed, tuple(hist))
        if failed:
            errors[name] = {"ENOENT": failed}
    rows = [
        BreakdownRow(
            1000 + p,
            f"proc{p}",
            None,
            sorted_counts({n: 1 + c // (p + 2) for n, c in list(plain.counts.items())[:5]}),
            {},
        )
        for p in range(10)
    ]
    return Snapshot(
        plain.time,
        1.0,
        plain.counts,
        latency=latency,
        errors=errors,
        errors_seen=True,
        in_flight=3,
        breakdown=Breakdown("process", rows, {}),
    )


def write_recording(path: Path, intervals: int, timed: bool) -> None:
    rng = random.Random(42)
    syscalls = names(30 if timed else 60)
    make = timed_snapshot if timed else counts_snapshot
    with path.open("w") as out:
        sink = JsonLinesSink(out, meta={"host": "bench", "argv": ["syscount", "--format", "json"]})
        total: dict[str, int] = {}
        for i in range(intervals):
            snap = make(i, syscalls, rng)
            for name, calls in snap.counts.items():
                total[name] = total.get(name, 0) + calls
            sink.emit(snap)
        # The summary of a timed run is not needed for the figures: a killed run is summed.
        if not timed:
            sink.emit(
                Snapshot(START + timedelta(seconds=intervals), float(intervals), sorted_counts(total), final=True)
            )


class Cost(NamedTuple):
    wall_s: float
    cpu_s: float  # user + system: what the command itself used, whatever the neighbours do
    peak_rss_mb: float


def measure(argv: list[str], src: str | None = None) -> Cost:
    """One run of ``argv`` (from the tree ``src`` when given), its resource usage from wait4."""
    env = dict(os.environ, PYTHONPATH=src, PYTHONDONTWRITEBYTECODE="1") if src else None
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=errors, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode not in (0, 1):  # diff exits 1 when its gate trips; none is set here
            errors.seek(0)
            raise SystemExit(f"{' '.join(argv)} failed: {errors.read().decode()}")
    return Cost(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--intervals", type=int, default=86400)
    parser.add_argument("--baseline", metavar="SRC", help="also run each command from this src directory, first")
    parser.add_argument("--without-orjson", action="store_true", help="also run this tree with orjson hidden")
    args = parser.parse_args()
    trees = [("baseline", SYSCOUNT, os.path.abspath(args.baseline))] if args.baseline else []
    trees += [("this tree, json", WITHOUT_ORJSON, None)] if args.without_orjson else []
    trees += [("this tree", SYSCOUNT, None)]
    labelled = len(trees) > 1
    columns = [
        "recording",
        *(["tree"] if labelled else []),
        "lines",
        "file MB",
        "report wall s",
        "report CPU s",
        "report peak RSS MB",
        "page MB",
    ]
    columns += ["diff wall s", "diff CPU s"]
    print("| " + " | ".join(columns) + " |")
    print("|---" * len(columns) + "|")
    with tempfile.TemporaryDirectory() as directory:
        for label, timed in (("counts, 60 syscalls", False), ("-L -P, 30 syscalls, 10 processes", True)):
            recording = Path(directory) / "day.jsonl"
            write_recording(recording, args.intervals, timed)
            page = Path(directory) / "day.html"
            for tree, syscount, src in trees:
                report = measure([*syscount, "report", str(recording), "-o", str(page)], src)
                diff = measure([*syscount, "diff", str(recording), str(recording)], src)
                print(
                    f"| {label} | {tree + ' | ' if labelled else ''}{args.intervals}"
                    f" | {recording.stat().st_size / 1e6:.0f} | {report.wall_s:.1f}"
                    f" | {report.cpu_s:.1f} | {report.peak_rss_mb:.0f} | {page.stat().st_size / 1e6:.1f}"
                    f" | {diff.wall_s:.1f} | {diff.cpu_s:.1f} |",
                    flush=True,
                )
            os.unlink(recording)


if __name__ == "__main__":
    main()
