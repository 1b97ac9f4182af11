"""-L: time and errors per syscall, against workloads whose calls and durations are known."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from .helpers import json_lines, strace_counts, syscount, workload_args

MS = 1_000_000
# nanosleep of 10 ms lands in log2 bucket 23: 2^23 ns = 8.4 ms <= d < 16.8 ms.
SLEEP_BUCKET = str(1 << 23)


def run_json(*args: str, tmp_path: Path) -> list[dict[str, Any]]:
    """Run syscount -L with JSON records in a file (the command keeps its own stdout)."""
    out = tmp_path / "records.json"
    result = syscount("-L", "--format", "json", "-o", str(out), *args)
    assert result.returncode == 0, result.stderr
    return json_lines(out.read_text())


def test_known_durations_land_in_the_right_buckets(tmp_path: Path) -> None:
    records = run_json("--", *workload_args(sleeps=20, sleep_ms=10, getppid=1000), tmp_path=tmp_path)
    latency = records[-1]["latency"]
    sleep = latency["nanosleep"]
    assert sleep["calls"] == 20 and sleep["errors"] == 0
    assert sleep["hist_ns"] == {SLEEP_BUCKET: 20}
    # 20 x 10 ms asked; the kernel only ever sleeps longer, by timer slack and scheduling.
    assert 200 * MS <= sleep["total_ns"] <= 220 * MS, sleep
    assert 10 * MS <= sleep["min_ns"] <= sleep["max_ns"] < 20 * MS
    getppid = latency["getppid"]
    assert getppid["calls"] == 1000
    assert sum(getppid["hist_ns"].values()) == 1000
    assert max(int(bucket) for bucket in getppid["hist_ns"]) < 1 << 20  # all under ~1 ms
    assert getppid["min_ns"] > 0 and getppid["avg_ns"] < 1 * MS


def test_failures_are_counted_exactly_by_errno(tmp_path: Path) -> None:
    records = run_json("--", *workload_args(fail_close=77, fail_open=55, openclose=10), tmp_path=tmp_path)
    final = records[-1]
    assert final["errors"]["close"] == {"EBADF": 77}
    assert final["errors"]["openat"] == {"ENOENT": 55}
    assert final["latency"]["close"]["calls"] == 87 and final["latency"]["close"]["errors"] == 77
    assert final["latency"]["openat"]["calls"] == 65 and final["latency"]["openat"]["errors"] == 55


def test_calls_that_never_return_are_counted_untimed(tmp_path: Path) -> None:
    records = run_json("--", *workload_args(threads=3, thread_getppid=10, children=2), tmp_path=tmp_path)
    latency = records[-1]["latency"]
    assert latency["exit"]["calls"] == 3  # threads
    assert latency["exit_group"]["calls"] == 3  # the parent and two children
    assert latency["exit_group"]["hist_ns"] == {} and latency["exit_group"]["total_ns"] == 0
    assert latency["getppid"]["calls"] == 30
    assert records[-1]["in_flight"] == 0


def test_a_call_blocking_across_intervals_is_timed_where_it_finishes(tmp_path: Path) -> None:
    records = run_json("-i", "0.25", "--", *workload_args(sleeps=1, sleep_ms=1200), tmp_path=tmp_path)
    intervals, summary = records[:-1], records[-1]
    finished = [r for r in intervals if "nanosleep" in r["latency"]]
    assert len(finished) == 1, "timed once, in the interval it ended in"
    assert finished[0]["latency"]["nanosleep"]["total_ns"] >= 1200 * MS
    assert any(r["in_flight"] >= 1 for r in intervals[:-1]), "the sleep was in flight meanwhile"
    # Intervals add up to the summary, calls and errors alike.
    for name, figures in summary["latency"].items():
        assert sum(r["latency"].get(name, {}).get("calls", 0) for r in intervals) == figures["calls"], name
    assert summary["latency"]["nanosleep"]["max_ns"] >= 1200 * MS


REAL_PROGRAMS = [
    ["ls", "-la", "/usr/lib"],
    ["/usr/bin/python3", "-c", "import json"],
    ["tar", "cf", "/dev/null", "/usr/include"],
]


@pytest.mark.parametrize("argv", REAL_PROGRAMS, ids=lambda argv: Path(argv[0]).name)
def test_real_programs_match_strace_calls_and_errors(argv: list[str], tmp_path: Path) -> None:
    if not shutil.which(argv[0]):
        pytest.fail(f"{argv[0]} is not installed")
    records = run_json("--", *argv, tmp_path=tmp_path)
    ours = records[-1]["latency"]
    oracle = strace_counts(argv, with_errors=True)
    # Inherent difference: strace -c counts a call when it returns; exit_group never does.
    assert ours.pop("exit_group")["calls"] == 1
    assert {name: (f["calls"], f["errors"]) for name, f in ours.items()} == oracle


def test_summary_in_strace_columns(tmp_path: Path) -> None:
    result = syscount("--summary", "--", *workload_args(fail_close=7, sleeps=2, sleep_ms=5))
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line]
    assert lines[0] == "% time     seconds  usecs/call     calls    errors syscall"
    first = lines[2].split()
    assert first[-1] == "nanosleep" and first[3] == "2"  # most time first
    close = next(line.split() for line in lines if line.endswith(" close"))
    assert close[3:5] == ["7", "7"]
    assert lines[-1].split()[0] == "100.00" and lines[-1].endswith("total")


def test_threads_preempting_each_other_on_one_cpu_are_all_timed(tmp_path: Path) -> None:
    # 8 threads on one CPU are switched out mid-call all the time: the start of a call
    # moves from the per-CPU slot to task storage, and no call may be lost or mistimed.
    argv = ["taskset", "-c", "0", *workload_args(threads=8, thread_getppid=25000, sleeps=3, sleep_ms=1)]
    records = run_json("--", *argv, tmp_path=tmp_path)
    latency = records[-1]["latency"]
    assert latency["getppid"]["calls"] == 200000
    assert sum(latency["getppid"]["hist_ns"].values()) == 200000
    assert latency["nanosleep"]["calls"] == 3 and latency["nanosleep"]["min_ns"] >= 1 * MS
    assert records[-1]["in_flight"] == 0
    assert "notes" not in records[-1]
