"""The process filter (-p, -- COMMAND) follows exactly what strace -f follows, and
breakdowns stay exact under process churn (docs/benchmarks.md, Churn).

Every count is of a workload whose calls are known (tests/workloads/workload.c),
cross-checked with strace -f -c where natural; never a timing."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

from .helpers import (
    WORKLOAD,
    Running,
    final_counts,
    held_workload,
    json_lines,
    release,
    strace_counts,
    syscount,
    workload_args,
)

# futex: whether pthread_join waits depends on timing; exit/exit_group never return,
# so strace (which counts at return) omits them.
UNCOMPARABLE = {"futex", "exit", "exit_group"}


def command_counts(*plan_args: str, syscount_args: tuple[str, ...] = ()) -> dict[str, Any]:
    result = syscount(*syscount_args, "--format", "json", "-o", "/dev/stdout", "--", *plan_args)
    assert result.returncode == 0, result.stderr
    return json_lines(result.stdout)[-1]


def comparable(counts: dict[str, int]) -> dict[str, int]:
    return {name: n for name, n in counts.items() if name not in UNCOMPARABLE}


def test_exec_chains_threads_and_grandchildren_are_followed_like_strace() -> None:
    # 3 re-executions, then 2 threads, 2 children each with 2 levels of descendants.
    argv = workload_args(
        exec_chain=3, getppid=500, threads=2, thread_getppid=100, children=2, child_getppid=10, depth=2
    )
    counts = command_counts(*argv)["counts"]
    assert counts["execve"] == 4  # syscount's start of the command, then the chain
    assert counts["getppid"] == 500 + 2 * 100 + 2 * 3 * 10
    assert counts["clone"] == 2 * 3 and counts["clone3"] == 2
    assert counts["exit_group"] == 1 + 2 * 3 and counts["exit"] == 2
    assert comparable(counts) == comparable(strace_counts(argv))


def test_a_grandchild_that_outlives_its_parent_is_still_followed() -> None:
    argv = workload_args(orphan_getppid=77)
    counts = command_counts(*argv)["counts"]
    # Only the orphaned grandchild calls getppid, after its parent has exited.
    assert counts["getppid"] == 77
    assert counts["pipe2"] == 2 and counts["read"] == 2 and counts["wait4"] == 1
    assert counts["exit_group"] == 3  # parent, child, grandchild
    assert comparable(counts) == comparable(strace_counts(argv))


def test_pid_mode_counts_threads_but_not_children() -> None:
    with held_workload(getppid=300, threads=3, thread_getppid=40, children=2, child_getppid=1000) as process:
        running = Running(["-p", str(process.pid), "--format", "json", "-i", "30"])
        release(process)
        process.wait(timeout=30)
        code, out, err = running.finish()
    assert code == 0, err
    counts = final_counts(out)
    assert counts["getppid"] == 300 + 3 * 40  # the children's 2000 are not this process's
    assert counts["clone"] == 2 and counts["wait4"] == 2


# -- churn ---------------------------------------------------------------------------

CHURN = 3000


def rows_and_other_add_up(record: dict[str, Any]) -> None:
    breakdown = record["breakdown"]
    per_syscall: dict[str, int] = dict(breakdown["other"])
    for row in breakdown["rows"]:
        for name, count in row["counts"].items():
            per_syscall[name] = per_syscall.get(name, 0) + count
    assert per_syscall == record["counts"]


def churn_next_to_known(
    log: Path, by: str, churn_argv: list[str], getppid: int, openclose: int
) -> tuple[list[dict[str, Any]], subprocess.Popen[bytes], subprocess.Popen[bytes]]:
    """syscount ``by`` system-wide (JSON lines every 0.2 s) while ``churn_argv`` runs next
    to a known workload: the lines, the known workload and the churn."""
    with held_workload(getppid=getppid, openclose=openclose) as known:
        running = Running([by, "--format", "json", "-i", "0.2", "-o", str(log)])
        churn = subprocess.Popen(churn_argv)
        release(known)
        known.wait(timeout=60)
        churn.wait(timeout=60)
        running.process.send_signal(signal.SIGINT)
        code, _, err = running.finish()
    assert code == 130, err
    return json_lines(log.read_text()), known, churn


def test_churn_under_a_command_keeps_every_row_exact() -> None:
    """3000 processes come and go under -P -- COMMAND: the summary keeps the largest
    rows, folds the rest into other, and rows + other == total, syscall by syscall."""
    argv = workload_args(getppid=1000, churn=CHURN)
    record = command_counts(*argv, syscount_args=("-P", "-i", "0.02"))
    counts = record["counts"]
    assert counts["clone"] == CHURN and counts["wait4"] == CHURN
    assert counts["exit_group"] == CHURN + 1
    rows_and_other_add_up(record)
    parent = max(record["breakdown"]["rows"], key=lambda row: row["total"])
    assert parent["counts"]["getppid"] == 1000 and parent["counts"]["clone"] == CHURN
    # Bounded: beyond the 1024 largest, rows of ended processes are folded into other;
    # every process is either a row or folded.
    folded = record["notes"]["rows_folded"]
    assert folded > 0 and len(record["breakdown"]["rows"]) + folded == CHURN + 1


def test_churn_next_to_a_known_workload_system_wide(tmp_path: Path) -> None:
    """-P and --by-thread system-wide while 3000 processes churn: the known workload's row
    is exact, and the summary adds up (interval lines may move a call being counted while
    syscount reads to the next line: docs/output.md)."""
    for by in ("-P", "--by-thread"):
        lines, known, churn = churn_next_to_known(tmp_path / f"{by}.json", by, workload_args(churn=CHURN), 5000, 200)
        summary = lines[-1]
        rows_and_other_add_up(summary)
        rows = {row.get("pid", row.get("tid")): row for row in summary["breakdown"]["rows"]}
        assert rows[known.pid]["counts"]["getppid"] == 5000
        assert rows[known.pid]["counts"]["openat"] == 200
        assert rows[churn.pid]["counts"]["clone"] == CHURN and rows[churn.pid]["counts"]["wait4"] == CHURN


def test_every_ended_process_is_its_own_row_in_its_interval(tmp_path: Path) -> None:
    """-P and --by-thread system-wide while 4000 processes churn under a name of their
    own, next to a known workload: each child (set_robust_list, exit_group: strace
    shows no other call) is a row of its own in the interval lines, with exactly its two
    calls over them; the known workload's row and the churn's parent row are exact, and
    the summary's rows + other == total. Most children end with only a direct row, which
    the kernel hands over in one record as they end (keyed.h, sc_hand_over)."""
    churn_name = f"chrn{os.getpid()}"[:15]
    binary = tmp_path / churn_name
    shutil.copy(WORKLOAD, binary)
    churn_count = 4000
    for by in ("-P", "--by-thread"):
        churn_argv = [str(binary), "--churn", str(churn_count)]
        lines, known, churn = churn_next_to_known(tmp_path / f"{by}.json", by, churn_argv, 3000, 100)
        summary, intervals = lines[-1], lines[:-1]
        rows_and_other_add_up(summary)
        rows = {row.get("pid", row.get("tid")): row for row in summary["breakdown"]["rows"]}
        assert rows[known.pid]["counts"]["getppid"] == 3000 and rows[known.pid]["counts"]["openat"] == 100
        children: dict[int, dict[str, int]] = {}
        parent: dict[str, int] = {}
        for line in intervals:
            for row in line["breakdown"]["rows"]:
                ident = row.get("pid", row.get("tid"))
                if row["comm"] != churn_name:
                    continue
                counts = parent if ident == churn.pid else children.setdefault(ident, {})
                for name, count in row["counts"].items():
                    counts[name] = counts.get(name, 0) + count
        assert parent["clone"] == churn_count and parent["wait4"] == churn_count
        assert len(children) == churn_count
        assert all(counts == {"set_robust_list": 1, "exit_group": 1} for counts in children.values())


def test_syscount_leaves_itself_out_system_wide_unless_asked(tmp_path: Path) -> None:
    log = tmp_path / "records.json"
    for extra, expected in (((), False), (("--include-self",), True)):
        log.unlink(missing_ok=True)
        running = Running(["-P", "--format", "json", "-i", "0.1", "-o", str(log), *extra])
        with held_workload(getppid=10) as known:
            release(known)
            known.wait(timeout=30)
        running.process.send_signal(signal.SIGINT)
        code, _, err = running.finish()
        assert code == 130, err
        pids = {row["pid"] for row in json_lines(log.read_text())[-1]["breakdown"]["rows"]}
        assert known.pid in pids
        # syscount reads the kernel and writes a line every 0.1 s: calls of its own.
        assert (running.process.pid in pids) is expected, extra
