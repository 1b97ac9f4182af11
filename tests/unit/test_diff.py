"""The diff arithmetic, its gate, and the command's exit statuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syscount.__main__ import main
from syscount.errors import UsageError
from syscount.model import Breakdown, BreakdownRow, Snapshot, SyscallTime
from syscount.recordings.diff import Options, compare
from syscount.sinks.jsonl import SCHEMA, record

WHEN = datetime(2026, 11, 24, 22, 51, 36, tzinfo=UTC)


def summary(counts: dict[str, int], seconds: float = 1.0, **extra: object) -> Snapshot:
    return Snapshot(WHEN, seconds, counts, final=True, **extra)  # type: ignore[arg-type]


BASE = summary({"openat": 100, "read": 50, "close": 10, "gone": 3})
NEW = summary({"openat": 1000, "read": 45, "close": 10, "mkdir": 2})


def test_rows_carry_both_sides_the_change_and_are_sorted_by_its_size() -> None:
    comparison = compare(BASE, NEW, Options())
    got = [(r.syscall, r.base.calls, r.new.calls, r.change, r.change_pct, r.status) for r in comparison.rows]
    assert got == [
        ("openat", 100, 1000, 900, 900.0, "changed"),
        ("read", 50, 45, -5, -10.0, "changed"),
        ("gone", 3, 0, -3, -100.0, "gone"),
        ("mkdir", 0, 2, 2, None, "new"),
        ("close", 10, 10, 0, 0.0, "same"),
    ]
    assert comparison.offenders == [] and not comparison.failed


def test_fail_above_names_only_the_syscalls_grown_beyond_the_limit() -> None:
    comparison = compare(BASE, NEW, Options(fail_above=899.0))
    assert [(o.row.syscall, o.reason) for o in comparison.offenders] == [("openat", "above")]
    assert compare(BASE, NEW, Options(fail_above=900.0)).offenders == []  # "more than" PCT


def test_fail_on_new_catches_a_syscall_base_lacks() -> None:
    comparison = compare(BASE, NEW, Options(fail_on_new=True))
    assert [(o.row.syscall, o.reason) for o in comparison.offenders] == [("mkdir", "new")]


def test_min_calls_hides_noise_and_does_not_gate_it() -> None:
    comparison = compare(BASE, NEW, Options(min_calls=5, fail_on_new=True))
    assert [r.syscall for r in comparison.rows] == ["openat", "read", "close"]
    assert comparison.hidden == 2 and comparison.offenders == []


def test_per_second_compares_rates_of_runs_of_different_lengths() -> None:
    base = summary({"futex": 1000}, seconds=10.0)
    new = summary({"futex": 3000}, seconds=20.0)
    (row,) = compare(base, new, Options(per_second=True, fail_above=49.0)).rows
    assert (row.base_value, row.new_value, row.change, row.change_pct) == (100.0, 150.0, 50.0, 50.0)
    assert compare(base, new, Options(per_second=True, fail_above=50.0)).offenders == []
    assert compare(base, new, Options(fail_above=199.0)).offenders  # in calls it tripled


def test_errors_and_time_come_from_the_latency_figures() -> None:
    timed = summary(
        {"openat": 5},
        latency={"openat": SyscallTime(5, 7000, 1000, 2000, 3, (0,) * 32)},
        errors={"openat": {"ENOENT": 3}},
        errors_seen=True,
    )
    (row,) = compare(BASE, timed, Options(min_calls=4)).rows[:1]
    assert row.syscall == "openat"
    assert (row.base.errors, row.base.time_ns) == (None, None)  # plain counting sees neither
    assert (row.new.errors, row.new.time_ns) == (3, 7000)


def breakdown_summary(rows: list[tuple[int, str, dict[str, int]]], by: str = "process") -> Snapshot:
    made = [BreakdownRow(pid, comm, None, counts, {}) for pid, comm, counts in rows]
    totals: dict[str, int] = {}
    for _, _, counts in rows:
        for name, calls in counts.items():
            totals[name] = totals.get(name, 0) + calls
    return summary(totals, breakdown=Breakdown(by, made, {}))


def test_by_process_matches_rows_by_program_name_never_by_pid() -> None:
    base = breakdown_summary([(100, "make", {"openat": 10}), (101, "cc", {"openat": 20}), (102, "cc", {"read": 1})])
    new = breakdown_summary([(200, "make", {"openat": 10}), (205, "cc", {"openat": 50})])
    rows = {(r.group, r.syscall): (r.base.calls, r.new.calls) for r in compare(base, new, Options(by="process")).rows}
    assert rows == {("cc", "openat"): (20, 50), ("cc", "read"): (1, 0), ("make", "openat"): (10, 10)}


def test_by_needs_a_matching_breakdown() -> None:
    with pytest.raises(UsageError, match="--by cgroup needs recordings made with --by-cgroup; the BASE recording"):
        compare(BASE, NEW, Options(by="cgroup"))
    threads = breakdown_summary([(1, "x", {"read": 1})], by="thread")
    assert compare(threads, threads, Options(by="comm")).rows[0].group == "x"
    with pytest.raises(UsageError, match="--by process needs recordings made with -P"):
        compare(threads, threads, Options(by="process"))


# The command: files in, text or JSON out, exit statuses 0 / 1 / 2.


def write(path: Path, snapshot: Snapshot) -> str:
    path.write_text(json.dumps(record(snapshot)) + "\n")
    return str(path)


def test_the_command_exits_0_1_and_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, new = write(tmp_path / "base.jsonl", BASE), write(tmp_path / "new.jsonl", NEW)
    assert main(["diff", base, base, "--fail-above", "0", "--fail-on-new"]) == 0
    assert main(["diff", base, new]) == 0
    capsys.readouterr()
    assert main(["diff", base, new, "--fail-above", "10", "--fail-on-new"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "syscount diff: openat grew +900.0%: 100 -> 1000 calls (above --fail-above 10)",
        "syscount diff: new syscall mkdir: 2 calls (--fail-on-new)",
    ]
    assert main(["diff", base, str(tmp_path / "missing.jsonl")]) == 2
    assert main(["diff", base]) == 2
    assert main(["diff", base, new, "--fail-above", "ten"]) == 2
    assert capsys.readouterr().err.startswith("syscount: error: cannot read recording")


def test_the_text_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, new = write(tmp_path / "base.jsonl", BASE), write(tmp_path / "new.jsonl", NEW)
    main(["diff", base, new])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"BASE: {base}  1.000 s, summary line"
    assert lines[2].split() == ["SYSCALL", "BASE", "NEW", "CHANGE", "CHANGE%"]
    assert [line.split() for line in lines[3:]] == [
        ["openat", "100", "1000", "+900", "+900.0%"],
        ["read", "50", "45", "-5", "-10.0%"],
        ["gone", "3", "0", "-3", "gone"],
        ["mkdir", "0", "2", "+2", "new"],
        ["close", "10", "10", "0", "+0.0%"],
    ]


def test_the_json_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, new = write(tmp_path / "base.jsonl", BASE), write(tmp_path / "new.jsonl", NEW)
    assert main(["diff", base, new, "--format", "json", "--fail-on-new"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == 1 and doc["per_second"] is False and doc["by"] is None
    assert doc["base"] == {
        "path": base,
        "schema": SCHEMA,
        "duration_s": 1.0,
        "source": "summary",
        "intervals": 0,
        "notes": [],
    }
    assert doc["rows"][0] == {
        "syscall": "openat",
        "status": "changed",
        "base": {"calls": 100, "errors": None, "time_ns": None},
        "new": {"calls": 1000, "errors": None, "time_ns": None},
        "change": 900,
        "change_pct": 900.0,
    }
    assert doc["rows"][3]["status"] == "new" and doc["rows"][3]["change_pct"] is None
    assert doc["gate"] == {
        "fail_above_pct": None,
        "fail_on_new": True,
        "failed": True,
        "offenders": [{"syscall": "mkdir", "group": None, "reason": "new"}],
    }


def test_names_from_a_file_are_escaped_in_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    odd = summary({"x\x1b[31m": 1})
    path = write(tmp_path / "odd.jsonl", odd)
    main(["diff", path, path])
    assert "x\\033[31m" in capsys.readouterr().out
