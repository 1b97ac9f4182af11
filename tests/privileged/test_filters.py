"""Breakdowns, in-kernel filters and ABI naming, against workloads with known calls."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syscount.names.cgroups import cgroup2_root

from .helpers import WORKLOAD, Running, final_counts, held_workload, json_lines, release, syscount, workload_args

WORKLOAD32 = WORKLOAD.with_name("workload32")
# What the static workload's own start-up adds (glibc): present, not counted exactly here.
STARTUP = {"execve", "brk", "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64",
           "readlink", "getrandom", "mprotect", "exit_group"}  # fmt: skip


def final_record(text: str) -> dict[str, Any]:
    records = json_lines(text)
    assert records and records[-1]["final"] is True, text
    return records[-1]


def run_records(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "records.json"
    result = syscount("--format", "json", "-o", str(out), *args)
    assert result.returncode == 0, result.stderr
    return final_record(out.read_text())


@pytest.fixture
def public_dir() -> Iterator[Path]:
    """A directory other users can enter: pytest's tmp_path is root-only."""
    directory = Path(tempfile.mkdtemp(prefix="syscount-test-", dir="/tmp"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def copy_workload(directory: Path, name: str) -> Path:
    """The workload under another name: its threads' comm is that name."""
    target = directory / name
    shutil.copy(WORKLOAD, target)
    target.chmod(0o755)
    return target


# -- breakdowns ------------------------------------------------------------------------


def test_two_concurrent_workloads_get_exact_rows_per_process() -> None:
    with held_workload(getppid=1000, openclose=100) as big, held_workload(getppid=300, fail_open=50) as small:
        running = Running(["-P", "-p", f"{big.pid},{small.pid}", "--format", "json", "-i", "30"])
        release(big)
        release(small)  # both run at once
        big.wait(timeout=30)
        small.wait(timeout=30)
        code, out, err = running.finish()
    assert code == 0, err
    record = final_record(out)
    rows = {row["pid"]: row for row in record["breakdown"]["rows"]}
    assert set(rows) == {big.pid, small.pid}
    assert rows[big.pid]["counts"] == {"getppid": 1000, "openat": 100, "close": 100, "exit_group": 1}
    assert rows[small.pid]["counts"] == {"getppid": 300, "openat": 50, "exit_group": 1}
    assert rows[small.pid]["errors"] == {}  # count mode sees entries only: -x/-L add errnos
    assert all(row["comm"] == "workload" for row in rows.values())
    assert record["breakdown"]["other"] == {}
    assert record["total"] == 1000 + 100 + 100 + 1 + 300 + 50 + 1


def test_by_thread_rows_are_exact(tmp_path: Path) -> None:
    record = run_records(tmp_path, "--by-thread", "--", *workload_args(threads=3, thread_getppid=250, getppid=10))
    rows = record["breakdown"]["rows"]
    threads = [row for row in rows if row["counts"].get("getppid") == 250]
    assert len(threads) == 3 and len({row["tid"] for row in threads}) == 3
    main = [row for row in rows if row["counts"].get("getppid") == 10]
    assert len(main) == 1


def test_failures_by_process_carry_errnos(tmp_path: Path) -> None:
    record = run_records(tmp_path, "-x", "-P", "--", *workload_args(fail_close=77, fail_open=55, openclose=9))
    assert record["counts"] == {"close": 77, "openat": 55}
    (row,) = record["breakdown"]["rows"]
    assert row["errors"] == {"close": {"EBADF": 77}, "openat": {"ENOENT": 55}}


def test_a_full_map_still_counts_everything_in_other(tmp_path: Path) -> None:
    # 300 processes with 2+ keys each against a map of 100 keys: most calls find no room.
    args = ("-P", "--max-rows", "100", "--", *workload_args(children=300, child_getppid=1))
    record = run_records(tmp_path, *args)
    breakdown = record["breakdown"]
    rows_total = sum(row["total"] for row in breakdown["rows"])
    other_total = sum(breakdown["other"].values())
    assert other_total > 0
    assert rows_total + other_total == record["total"]
    assert record["notes"]["breakdown_overflow"] == other_total
    assert record["counts"]["getppid"] == 300
    per_syscall: dict[str, int] = dict(breakdown["other"])
    for row in breakdown["rows"]:
        for name, count in row["counts"].items():
            per_syscall[name] = per_syscall.get(name, 0) + count
    assert per_syscall == record["counts"]


def test_dead_processes_leave_the_map_between_intervals(tmp_path: Path) -> None:
    # 30 runs of 5 short-lived children, each run pausing 30 ms: with 20 ms intervals the
    # exited children are forgotten, so later ones find room in a 120-key map again (the
    # shell holds ~20 keys, each run ~30).
    plan = " ".join(workload_args(children=5, child_getppid=1, sleeps=1, sleep_ms=30))
    script = f"for i in $(seq 30); do {plan}; done"
    out = tmp_path / "records.json"
    args = ["-P", "-i", "0.02", "--max-rows", "120", "--format", "json", "-o", str(out)]
    result = syscount(*args, "--", "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    summary = json_lines(out.read_text())[-1]
    rows_getppid = sum(row["counts"].get("getppid", 0) for row in summary["breakdown"]["rows"])
    assert rows_getppid + summary["breakdown"]["other"].get("getppid", 0) == summary["counts"]["getppid"]
    assert summary["counts"]["getppid"] >= 150  # the children's, and the shell's own
    rows_total = sum(row["total"] for row in summary["breakdown"]["rows"])
    assert rows_total + sum(summary["breakdown"]["other"].values()) == summary["total"]
    # Without clean-up, 120 keys would hold the children of the first three or four runs only.
    children = [row for row in summary["breakdown"]["rows"] if row["counts"].get("getppid") == 1]
    assert len(children) > 100


# -- filters -----------------------------------------------------------------------------


def run_system_wide(args: list[str], *workloads: list[str]) -> dict[str, Any]:
    """Run syscount system-wide with filters while the given workloads run, then stop it."""
    running = Running(["--format", "json", "-i", "30", *args])
    for argv in workloads:
        subprocess.run(argv, check=True, timeout=60)
    running.process.send_signal(signal.SIGINT)
    code, out, err = running.finish()
    assert code == 130, err
    return final_record(out)


def test_comm_isolates_its_target(public_dir: Path) -> None:
    target = copy_workload(public_dir, "sc-comm-target")
    record = run_system_wide(
        ["--comm", "sc-comm-target"],
        [str(target), "--getppid", "777", "--openclose", "11"],
        workload_args(getppid=555),
    )
    counts = record["counts"]
    assert counts["getppid"] == 777 and counts["openat"] == 11 and counts["close"] == 11
    assert "execve" not in counts  # made while the thread was still called python


def test_uid_isolates_another_user(public_dir: Path) -> None:
    target = copy_workload(public_dir, "workload")
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(target)]
    record = run_system_wide(
        ["-u", "65534"],
        [*as_nobody, "--getppid", "444", "--openclose", "5"],
        workload_args(getppid=333),
    )
    assert record["counts"]["getppid"] == 444
    assert record["counts"]["openat"] == 5


@pytest.fixture
def cgroup() -> Iterator[Path]:
    """A fresh cgroup v2 directory, removed afterwards."""
    mounted = cgroup2_root()
    if mounted is None:
        pytest.fail("cgroup v2 is not mounted")
    path = Path(mounted) / f"syscount-test-{os.getpid()}"
    path.mkdir()
    yield path
    for _ in range(50):
        try:
            path.rmdir()
            return
        except OSError:
            subprocess.run(["sleep", "0.1"], check=False)


def test_cgroup_isolates_its_members_and_names_them(cgroup: Path) -> None:
    with held_workload(getppid=612, openclose=3) as inside, held_workload(getppid=388) as outside:
        (cgroup / "cgroup.procs").write_text(str(inside.pid))
        running = Running(["--format", "json", "-i", "30", "--cgroup", str(cgroup), "--by-cgroup"])
        release(inside)
        release(outside)
        inside.wait(timeout=30)
        outside.wait(timeout=30)
        running.process.send_signal(signal.SIGINT)
        code, out, err = running.finish()
    assert code == 130, err
    record = final_record(out)
    assert record["counts"]["getppid"] == 612 and record["counts"]["openat"] == 3
    (row,) = record["breakdown"]["rows"]
    assert row["cgroup"] == "/" + cgroup.name and row["container"] is None
    assert row["counts"]["getppid"] == 612


def test_syscall_class_and_exclusion(tmp_path: Path) -> None:
    plan = workload_args(openclose=100, getppid=50, fail_open=7)
    files = run_records(tmp_path, "-s", "%file", "--", *plan)["counts"]
    assert files["openat"] == 107
    assert "getppid" not in files and "close" not in files  # close takes an fd, not a path
    assert set(files) <= {"openat", "execve", "readlink"}
    rest = run_records(tmp_path, "-s", "!getppid,!close", "--", *plan)["counts"]
    assert rest["openat"] == 107 and "getppid" not in rest and "close" not in rest
    assert rest["brk"] >= 1
    both = run_records(tmp_path, "-s", "%file,!openat", "--", *plan)["counts"]
    assert "openat" not in both and both["execve"] == 1


def test_failures_and_one_errno(tmp_path: Path) -> None:
    plan = workload_args(fail_close=77, fail_open=55, openclose=20, getppid=10)
    assert run_records(tmp_path, "-x", "--", *plan)["counts"] == {"close": 77, "openat": 55}
    assert run_records(tmp_path, "-e", "ENOENT", "--", *plan)["counts"] == {"openat": 55}
    assert run_records(tmp_path, "-e", "EBADF", "-s", "close", "--", *plan)["counts"] == {"close": 77}


# -- ABIs ------------------------------------------------------------------------------------


def test_a_32bit_program_is_named_from_the_i386_table(tmp_path: Path) -> None:
    if not WORKLOAD32.exists():
        pytest.fail(f"{WORKLOAD32} is missing: install gcc-multilib and run `make workloads`")
    held = [str(WORKLOAD32), "--getppid", "300", "--openclose", "20", "--fail-close", "5", "--wait-stdin"]
    with subprocess.Popen(held, stdin=subprocess.PIPE) as ia32, held_workload(getppid=700, openclose=10) as native:
        running = Running(["-P", "-p", f"{ia32.pid},{native.pid}", "--format", "json", "-i", "30"])
        release(ia32)
        release(native)
        ia32.wait(timeout=30)
        native.wait(timeout=30)
        code, out, err = running.finish()
    assert code == 0, err
    record = final_record(out)
    rows = {row["pid"]: row["counts"] for row in record["breakdown"]["rows"]}
    assert rows[ia32.pid] == {"i386:getppid": 300, "i386:openat": 20, "i386:close": 25, "i386:exit_group": 1}
    assert rows[native.pid] == {"getppid": 700, "openat": 10, "close": 10, "exit_group": 1}
    # The classic mistake names i386 getppid (64) after x86_64's 64, semop.
    assert "semop" not in record["counts"]
    failed = run_records(tmp_path, "-x", "--", str(WORKLOAD32), "--fail-close", "6")
    assert failed["counts"] == {"i386:close": 6}
    assert failed["errors"] == {"i386:close": {"EBADF": 6}}
    # -s names a syscall in every ABI's table.
    assert run_records(tmp_path, "-s", "getppid", "--", str(WORKLOAD32), "--getppid", "30")["counts"] == {
        "i386:getppid": 30
    }
    assert run_records(tmp_path, "-s", "getppid", "--", str(WORKLOAD), "--getppid", "70")["counts"] == {"getppid": 70}


def test_filters_combine_with_pid_mode() -> None:
    with held_workload(getppid=120, openclose=30, fail_open=4) as target:
        running = Running(["-p", str(target.pid), "-s", "%file", "-x", "--format", "json", "-i", "30"])
        release(target)
        target.wait(timeout=30)
        code, out, err = running.finish()
    assert code == 0, err
    assert final_counts(out) == {"openat": 4}


def test_by_comm_adds_up_processes_running_the_same_program(public_dir: Path) -> None:
    alpha = copy_workload(public_dir, "sc-alpha")
    beta = copy_workload(public_dir, "sc-beta")
    script = f"{alpha} --getppid 100 & {alpha} --getppid 150 & {beta} --getppid 70 & wait"
    out = public_dir / "records.json"
    result = syscount("--by-comm", "--format", "json", "-o", str(out), "--", "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    rows = {row["comm"]: row["counts"] for row in final_record(out.read_text())["breakdown"]["rows"]}
    assert rows["sc-alpha"]["getppid"] == 250 and rows["sc-alpha"]["exit_group"] == 2
    assert rows["sc-beta"]["getppid"] == 70 and rows["sc-beta"]["exit_group"] == 1
