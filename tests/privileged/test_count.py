"""The count command against workloads whose system calls are known exactly."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from .helpers import (
    NO_CAPABILITIES,
    SYSCOUNT,
    Running,
    final_counts,
    held_workload,
    json_lines,
    release,
    strace_counts,
    syscount,
    wait_until_unloaded,
    workload_args,
)

# Parent: 1000 getppid, 500 open+close; 2 threads x 200 getppid; 2 children, each
# with one grandchild (--depth 1), every one of those 4 processes 100 getppid.
PLAN = {
    "getppid": 1000,
    "openclose": 500,
    "threads": 2,
    "thread_getppid": 200,
    "children": 2,
    "child_getppid": 100,
    "depth": 1,
}
PARENT_AND_THREADS = 1000 + 2 * 200
WHOLE_TREE = PARENT_AND_THREADS + 2 * 2 * 100
# futex: whether pthread_join has to wait depends on timing, in any tracer.
NONDETERMINISTIC = {"futex"}
# strace -c counts a call when it returns; these never return, so strace omits them
# while syscount counts them at entry (documented in docs/output.md).
NEVER_RETURN = {"exit", "exit_group"}


def test_pid_mode_counts_the_process_and_its_threads_exactly() -> None:
    with held_workload(**PLAN) as target:
        running = Running(["-p", str(target.pid), "--format", "json", "-i", "30"])
        release(target)
        assert target.wait(timeout=30) == 0
        code, out, err = running.finish()
    assert code == 0, err
    counts = final_counts(out)
    assert counts["getppid"] == PARENT_AND_THREADS  # children are other processes: not counted
    assert counts["openat"] == 500
    assert counts["close"] == 500
    assert counts["clone"] == 2  # fork() of the two children
    assert counts["wait4"] == 2
    assert counts["exit_group"] == 1
    assert "read" not in counts  # the read that held it began before tracing
    assert "execve" not in counts


def test_pid_mode_accepts_several_pids() -> None:
    with held_workload(getppid=300) as first, held_workload(getppid=700) as second:
        running = Running(["-p", f"{first.pid},{second.pid}", "--format", "json", "-i", "30"])
        release(first)
        release(second)
        first.wait(timeout=30)
        second.wait(timeout=30)
        code, out, err = running.finish()
    assert code == 0, err
    assert final_counts(out)["getppid"] == 1000


def test_command_mode_counts_all_descendants_exactly_and_matches_strace() -> None:
    argv = workload_args(**PLAN, exit=7)
    result = syscount("--format", "json", "-o", "/dev/stdout", "--", *argv)
    assert result.returncode == 7, result.stderr  # the command's exit status
    counts = final_counts(result.stdout)
    assert counts["getppid"] == WHOLE_TREE
    assert counts["openat"] == 500
    assert counts["close"] == 500
    assert counts["execve"] == 1
    assert counts["clone"] == 4  # 2 children + 2 grandchildren
    assert counts["clone3"] == 2  # 2 threads
    assert counts["exit_group"] == 5  # parent, children, grandchildren
    assert counts["exit"] == 2  # threads
    oracle = strace_counts(argv)
    assert not NEVER_RETURN & oracle.keys()
    ours = {name: n for name, n in counts.items() if name not in NONDETERMINISTIC | NEVER_RETURN}
    assert ours == {name: n for name, n in oracle.items() if name not in NONDETERMINISTIC}


def test_command_mode_is_exact_under_contention_on_one_cpu() -> None:
    # 8 threads on one CPU preempt each other constantly: per-CPU slots must not lose updates.
    argv = ["taskset", "-c", "0", *workload_args(threads=8, thread_getppid=25000)]
    result = syscount("--format", "json", "-o", "/dev/stdout", "--", *argv)
    assert result.returncode == 0, result.stderr
    assert final_counts(result.stdout)["getppid"] == 200000


def test_system_wide_sees_at_least_the_workload() -> None:
    running = Running(["--format", "json", "-i", "0.2"])
    subprocess.run(workload_args(getppid=5000), check=True)
    time.sleep(0.3)
    running.process.send_signal(signal.SIGINT)
    code, out, err = running.finish()
    assert code == 130, err
    records = json_lines(out)
    assert records[-1]["final"] is True
    assert records[-1]["counts"]["getppid"] >= 5000
    assert sum(r["counts"].get("getppid", 0) for r in records[:-1]) >= 5000


def test_intervals_add_up_to_the_summary_exactly() -> None:
    # Counters are never reset: the deltas of consecutive reads must sum to the total.
    argv = workload_args(getppid=300000, openclose=20000)
    result = syscount("--format", "json", "-i", "0.05", "-o", "/dev/stdout", "--", *argv)
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)
    intervals, summary = records[:-1], records[-1]
    assert len(intervals) >= 2
    assert summary["counts"]["getppid"] == 300000
    added: dict[str, int] = {}
    for record in intervals:
        assert record["final"] is False
        for name, count in record["counts"].items():
            added[name] = added.get(name, 0) + count
    assert added == summary["counts"]
    assert sum(r["total"] for r in intervals) == summary["total"]


ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_json_lines_follow_the_contract() -> None:
    result = syscount("--format", "json", "-i", "0.1", "-o", "/dev/stdout", "--", *workload_args(getppid=100))
    records = json_lines(result.stdout)
    assert records[-1]["final"] is True
    for record in records:
        assert ISO_Z.match(record["time"]), record["time"]
        assert isinstance(record["interval_s"], float)
        assert record["total"] == sum(record["counts"].values())
        assert all(isinstance(v, int) and v > 0 for v in record["counts"].values())


def test_text_log_is_the_seed_format(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    log.write_text("")  # appended to, never truncated
    result = syscount("-o", str(log), "-i", "0.1", "--", *workload_args(getppid=1234))
    assert result.returncode == 0, result.stderr
    blocks = log.read_text().split("\n\n")
    assert blocks[-1] == ""  # every record ends with a blank line
    records = [block.splitlines() for block in blocks[:-1]]
    for lines in records:
        assert ISO_Z.match(lines[0].split(" ")[0]), lines[0]
        for line in lines[1:]:
            name, count = line.split(": ")
            assert re.fullmatch(r"[a-z0-9_]+", name) and int(count) > 0
    *intervals, summary = records
    assert " summary " in summary[0]
    assert "getppid: 1234" in summary
    assert sum(int(line.split(": ")[1]) for lines in intervals for line in lines[1:] if "getppid" in line) == 1234
    # the summary table goes to stderr in command mode, leaving stdout to the command
    assert "SUMMARY" in result.stderr and "getppid" in result.stderr


def test_csv_has_a_row_per_syscall() -> None:
    result = syscount("--format", "csv", "-o", "/dev/stdout", "--", *workload_args(getppid=42))
    rows = [line.split(",") for line in result.stdout.splitlines()]
    assert rows[0] == ["time", "interval_s", "final", "syscall", "count"]
    finals = {row[3]: int(row[4]) for row in rows[1:] if row[2] == "1"}
    assert finals["getppid"] == 42


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_signal_flushes_the_last_interval_and_the_summary(signum: int, status: int) -> None:
    running = Running(["--format", "json", "-i", "30"])
    time.sleep(0.3)
    running.process.send_signal(signum)
    code, out, err = running.finish()
    assert code == status, err
    records = json_lines(out)
    assert [r["final"] for r in records] == [False, True]  # the partial interval, then the summary
    assert records[0]["interval_s"] < 30
    assert records[0]["counts"] == records[1]["counts"]
    assert "Traceback" not in err


def test_duration_stops_the_run() -> None:
    started = time.monotonic()
    result = syscount("-d", "0.5", "-i", "0.2", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 10
    records = json_lines(result.stdout)
    assert records[-1]["final"] is True and len(records) >= 3


def test_table_shows_top_n() -> None:
    result = syscount("-T", "3", "--", *workload_args(getppid=500, openclose=200))
    table = result.stderr
    assert "SUMMARY" in table
    lines = table.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("SYSCALL")))
    assert lines[header + 1].split() == ["getppid", "500"]
    assert {lines[header + 2].split()[0], lines[header + 3].split()[0]} == {"openat", "close"}
    assert lines[header + 4].startswith("(+")


def test_no_program_remains_loaded_after_any_exit() -> None:
    syscount("-d", "0.2")
    syscount("--", "true")
    running = Running(["-i", "30"])
    running.process.send_signal(signal.SIGTERM)
    running.finish()
    assert wait_until_unloaded() == []


def test_bad_pid_and_missing_command_fail_in_one_line() -> None:
    for args in (["-p", "999999999"], ["--", "no-such-command-xyz"], ["-o", "/nonexistent/dir/log"]):
        result = syscount(*args)
        assert result.returncode == 1, args
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("syscount: error: "), result.stderr
    assert wait_until_unloaded() == []


def test_permission_error_says_how_to_fix() -> None:
    # root without capabilities is what a container or a sudo-less user gets
    result = subprocess.run(
        [*NO_CAPABILITIES, *SYSCOUNT, "-d", "1"], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 1
    assert "CAP_BPF" in result.stderr and "Traceback" not in result.stderr


def test_command_keeps_stdout_and_reports_signal_deaths() -> None:
    result = syscount("-T", "0", "--", "echo", "hello")
    assert result.returncode == 0 and result.stdout == "hello\n"  # the report went to stderr
    assert "SUMMARY" in result.stderr and "execve" in result.stderr
    killed = syscount("--", "sh", "-c", "kill -9 $$")
    assert killed.returncode == 128 + 9, killed.stderr


def test_untraced_calls_before_exec_are_not_counted() -> None:
    # The child runs syscount's own code between fork and execve (closing the pipe,
    # resetting signals, reading): none of it may show up.
    result = syscount("--format", "json", "-o", "/dev/stdout", "--", *workload_args(getppid=1))
    counts = final_counts(result.stdout)
    assert counts["execve"] == 1
    assert "read" not in counts and "rt_sigaction" not in counts
