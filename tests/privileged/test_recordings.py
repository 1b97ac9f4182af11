"""syscount diff on real recordings of workloads whose system calls are known exactly."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from syscount.sinks.jsonl import SCHEMA

from .helpers import syscount, workload_args

# The base run: 1000 getppid, 100 open+close. GROWN doubles getppid (+100 %) and adds
# 5 failing opens (openat +5 %, errors 0 → 5). EQUAL is the base again. NEW_CALL adds
# one nanosleep, a syscall the base never makes.
BASE = {"getppid": 1000, "openclose": 100}
GROWN = {"getppid": 2000, "openclose": 100, "fail_open": 5}
NEW_CALL = {**BASE, "sleeps": 1, "sleep_ms": 1}


def record(path: Path, plan: dict[str, int], *options: str) -> str:
    result = syscount("-L", "--format", "json", "-o", str(path), *options, "--", *workload_args(**plan))
    assert result.returncode == 0, result.stderr
    return str(path)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    where = tmp_path_factory.mktemp("recordings")
    return {
        "base": record(where / "base.jsonl", BASE),
        "grown": record(where / "grown.jsonl", GROWN),
        "equal": record(where / "equal.jsonl", BASE),
        "new_call": record(where / "new_call.jsonl", NEW_CALL),
    }


def table(stdout: str) -> dict[str, list[str]]:
    """The diff table's rows by syscall, split into cells."""
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("SYSCALL"))
    return {line.split()[0]: line.split()[1:] for line in lines[header + 1 :] if line and not line.startswith("(")}


def test_a_recording_carries_its_schema_and_metadata(runs: dict[str, str]) -> None:
    lines = [json.loads(line) for line in Path(runs["base"]).read_text().splitlines()]
    assert [line["schema"] for line in lines] == [SCHEMA] * len(lines)
    meta = lines[0]["meta"]
    assert meta["argv"][:4] == ["syscount", "-L", "--format", "json"]
    assert meta["command"] == workload_args(**BASE) and meta["latency"] is True
    assert meta["kernel"] == os.uname().release


def test_diff_shows_the_exact_numbers(runs: dict[str, str]) -> None:
    result = syscount("diff", runs["base"], runs["grown"])
    assert result.returncode == 0, result.stderr
    rows = table(result.stdout)
    # SYSCALL BASE NEW CHANGE CHANGE% ERR-BASE ERR-NEW TIME-BASE TIME-NEW
    assert rows["getppid"][:6] == ["1000", "2000", "+1000", "+100.0%", "0", "0"]
    assert rows["openat"][:6] == ["100", "105", "+5", "+5.0%", "0", "5"]
    assert rows["close"][:6] == ["100", "100", "0", "+0.0%", "0", "0"]
    assert list(rows)[:2] == ["getppid", "openat"]  # largest change first
    assert result.stdout.splitlines()[0].endswith("s, summary line")


def test_the_gate_trips_on_the_grown_run_and_not_on_the_equal_one(runs: dict[str, str]) -> None:
    grown = syscount("diff", runs["base"], runs["grown"], "--fail-above", "10")
    assert grown.returncode == 1
    assert grown.stderr == "syscount diff: getppid grew +100.0%: 1000 -> 2000 calls (above --fail-above 10)\n"
    assert syscount("diff", runs["base"], runs["grown"], "--fail-above", "100").returncode == 0  # +100 % is not more
    equal = syscount("diff", runs["base"], runs["equal"], "--fail-above", "0", "--fail-on-new")
    assert equal.returncode == 0, equal.stderr
    assert all(cells[2] == "0" for cells in table(equal.stdout).values())


def test_fail_on_new_catches_a_syscall_the_base_lacks(runs: dict[str, str]) -> None:
    result = syscount("diff", runs["base"], runs["new_call"], "--fail-on-new")
    assert result.returncode == 1
    assert result.stderr == "syscount diff: new syscall nanosleep: 1 calls (--fail-on-new)\n"
    assert table(result.stdout)["nanosleep"][:4] == ["0", "1", "+1", "new"]
    assert syscount("diff", runs["base"], runs["new_call"]).returncode == 0


def test_the_json_form_carries_the_same_numbers(runs: dict[str, str]) -> None:
    result = syscount("diff", runs["base"], runs["grown"], "--format", "json", "--fail-above", "10")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    rows = {row["syscall"]: row for row in doc["rows"]}
    assert rows["getppid"]["base"]["calls"] == 1000 and rows["getppid"]["new"]["calls"] == 2000
    assert (rows["getppid"]["change"], rows["getppid"]["change_pct"]) == (1000, 100.0)
    assert (rows["openat"]["base"]["errors"], rows["openat"]["new"]["errors"]) == (0, 5)
    assert (rows["openat"]["change"], rows["openat"]["change_pct"]) == (5, 5.0)
    assert rows["openat"]["new"]["time_ns"] > 0
    assert doc["gate"]["offenders"] == [{"syscall": "getppid", "group": None, "reason": "above"}]
    assert doc["base"]["source"] == "summary" and doc["base"]["schema"] == SCHEMA


def test_by_process_matches_the_program_across_runs(tmp_path: Path) -> None:
    base = record(tmp_path / "base.jsonl", BASE, "-P")
    grown = record(tmp_path / "grown.jsonl", GROWN, "-P")
    result = syscount("diff", base, grown, "--by", "process", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = {(row["group"], row["syscall"]): row for row in json.loads(result.stdout)["rows"]}
    assert (rows["workload", "getppid"]["base"]["calls"], rows["workload", "getppid"]["new"]["calls"]) == (1000, 2000)
    assert rows["workload", "openat"]["new"]["errors"] == 5


def test_unreadable_input_exits_2_in_one_line(runs: dict[str, str], tmp_path: Path) -> None:
    text_log = tmp_path / "calls.log"
    assert syscount("-o", str(text_log), "--", *workload_args(getppid=1)).returncode == 0
    for args in ([runs["base"], str(text_log)], [runs["base"], str(tmp_path / "none.jsonl")], [runs["base"]]):
        result = syscount("diff", *args)
        assert result.returncode == 2, args
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("syscount: error: "), result.stderr
