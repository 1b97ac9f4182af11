"""Faults a long run must survive, with exact counts throughout.

- The -o disk fills up (a real tmpfs of 64 KiB, filled): counting goes on, the terminal
  gets every interval and an exact summary, the warning is one line, recovery one more,
  the intervals left out are counted (summary, JSON), the exit status is 74.
- Rotation, logrotate's way (mv, then SIGHUP): the calls in the two files add up to the
  summary exactly, no record split; the same for trace events.
- The -o directory vanishes mid-run; a cgroup is removed mid-run; a pid is reused
  within an interval (it adds up with the old process, as docs/output.md says).
"""

from __future__ import annotations

import csv
import errno
import io
import os
import re
import selectors
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import SYSCOUNT, TIMEOUT, WORKLOAD, held_workload, json_lines, new_cgroup, release, remove_cgroup

# The held workload's calls once released (the read that held it began before attaching).
PLAN = {"getppid": 1000, "openclose": 10, "fail_close": 77, "fail_open": 55, "sleeps": 20, "sleep_ms": 10}
EXPECTED = {"getppid": 1000, "openat": 65, "close": 87, "nanosleep": 20, "exit_group": 1}
EX_IOERR = 74
_STARTED: list[subprocess.Popen[bytes]] = []


@pytest.fixture(autouse=True)
def _none_left_running() -> Iterator[None]:
    """A test that fails half-way must not leave its syscount attached."""
    yield
    while _STARTED:
        process = _STARTED.pop()
        if process.poll() is None:
            process.kill()
        process.communicate()


class Syscount:
    """syscount in the background; stderr read line by line, with a deadline."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen([*SYSCOUNT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _STARTED.append(self.process)
        assert self.process.stderr is not None
        os.set_blocking(self.process.stderr.fileno(), False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.process.stderr, selectors.EVENT_READ)
        self._pending = b""
        self.stderr: list[str] = []
        announce = self.line()
        assert announce.startswith("syscount: counting") or announce.startswith("syscount: tracing"), announce

    def line(self, timeout: float = TIMEOUT) -> str:
        """The next line on stderr (a test failure if none comes in time)."""
        assert self.process.stderr is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self._pending:
            left = deadline - time.monotonic()
            assert left > 0, f"no line on stderr; so far {self.stderr}"
            if self._selector.select(left):
                chunk = self.process.stderr.read()
                assert chunk, f"stderr closed; so far {self.stderr} {self._pending!r}"
                self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        self.stderr.append(line.decode())
        return self.stderr[-1]

    def finish(self, stop: signal.Signals | None = None) -> tuple[int, str, list[str]]:
        """Exit status, stdout, and the stderr lines after the ones already read."""
        if stop is not None:
            self.process.send_signal(stop)
        assert self.process.stdout is not None and self.process.stderr is not None
        os.set_blocking(self.process.stderr.fileno(), True)
        out, err = self.process.communicate(timeout=TIMEOUT)
        rest = (self._pending + err).decode().splitlines()
        return self.process.returncode, out.decode(), rest


def summary_table(out: str) -> dict[str, int]:
    """The terminal's SUMMARY table (run with -T 0: every syscall)."""
    section = out[out.rindex("SUMMARY") :].split("\n\n", maxsplit=1)[0].splitlines()[2:]
    return {name: int(count) for name, count in (line.split()[:2] for line in section if not line.startswith("warn"))}


def unwritten_note(out: str) -> int:
    notes = re.findall(r"warning: unwritten intervals: (\d+)", out[out.rindex("SUMMARY") :])
    return int(notes[0]) if notes else 0


def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not callable(condition) or not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.fixture
def full_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs holding an empty ``log`` and a ``filler`` that takes every byte left."""
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    try:
        (mount / "log").touch()
        with open(mount / "filler", "wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_warns_once_counts_on_and_says_what_it_could_not_write(full_tmpfs: Path) -> None:
    log = full_tmpfs / "log"
    with held_workload(**PLAN) as target:
        syscount = Syscount("-p", str(target.pid), "-i", "0.05", "-T", "0", "-o", str(log), "--format", "json")
        warning = syscount.line()
        assert warning == f"syscount: warning: writing {log}: No space left on device; counting goes on"
        (full_tmpfs / "filler").unlink()  # space again: the next interval is written
        recovered = syscount.line()
        found = re.fullmatch(
            rf"syscount: warning: writing {log} works again; (\d+) intervals? could not be written", recovered
        )
        assert found is not None, recovered
        missed = int(found.group(1))
        release(target)
        assert target.wait(timeout=TIMEOUT) == 0
        status, out, rest = syscount.finish()
    assert status == EX_IOERR
    assert rest == []  # one line for the failure, one for the recovery, nothing else
    assert summary_table(out) == EXPECTED  # the terminal has it all
    assert unwritten_note(out) == missed
    records = json_lines(log.read_text())  # every line whole JSON
    *intervals, final = records
    assert final["final"] and final["counts"] == EXPECTED
    assert final["notes"]["unwritten_intervals"] == missed
    summed: dict[str, int] = {}
    for record in intervals:
        for name, count in record["counts"].items():
            summed[name] = summed.get(name, 0) + count
    assert summed == EXPECTED  # what was left out was before the workload ran


def test_a_disk_that_stays_full_still_gives_an_exact_terminal_summary(full_tmpfs: Path) -> None:
    log = full_tmpfs / "log"
    with held_workload(**PLAN) as target:
        syscount = Syscount("-p", str(target.pid), "-i", "0.05", "-T", "0", "-o", str(log))
        release(target)
        assert target.wait(timeout=TIMEOUT) == 0
        status, out, rest = syscount.finish()
    assert status == EX_IOERR
    assert syscount.stderr[1:] + rest == [
        f"syscount: warning: writing {log}: No space left on device; counting goes on"
    ]
    assert summary_table(out) == EXPECTED
    intervals = re.findall(r"^\d\d:\d\d:\d\d  [\d.]+ s  \d+ syscalls", out, re.MULTILINE)
    assert unwritten_note(out) == len(intervals) + 1  # every interval, and the summary itself
    assert log.read_bytes() == b""


def test_trace_on_a_full_disk_counts_the_events_it_could_not_write(full_tmpfs: Path) -> None:
    log = full_tmpfs / "log"
    with held_workload(**PLAN) as target:
        syscount = Syscount("trace", "-p", str(target.pid), "-o", str(log))
        release(target)
        assert target.wait(timeout=TIMEOUT) == 0
        status, _, rest = syscount.finish()
    assert status == EX_IOERR
    lines = syscount.stderr[1:] + rest
    assert lines[0] == f"syscount: warning: writing {log}: No space left on device; counting goes on"
    found = re.fullmatch(r"syscount: (\d+) events, 0 lost, (\d+) calls traced in [\d.]+ s, (\d+) not written", lines[1])
    assert found is not None and len(lines) == 2, lines
    assert int(found.group(1)) == int(found.group(2)) == int(found.group(3)) == sum(EXPECTED.values())


def csv_counts(text: str, *, final: bool) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in csv.DictReader(io.StringIO(text)):
        if (row["final"] == "1") == final:
            counts[row["syscall"]] = counts.get(row["syscall"], 0) + int(row["count"])
    return counts


def json_counts(text: str, *, final: bool) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in json_lines(text):
        if record["final"] == final:
            for name, count in record["counts"].items():
                counts[name] = counts.get(name, 0) + count
    return counts


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_rotation_moves_then_hup_splits_nothing_and_loses_nothing(tmp_path: Path, fmt: str) -> None:
    name = f"rot{os.getpid() % 100000}{fmt}"
    exe = tmp_path / name
    shutil.copy(WORKLOAD, exe)
    log, moved = tmp_path / "log", tmp_path / "log.1"
    counts = json_counts if fmt == "json" else csv_counts
    syscount = Syscount("--comm", name, "-i", "0.05", "-o", str(log), "--format", fmt)
    subprocess.run([str(exe), "--getppid", "300"], check=True)
    wait_for(lambda: counts(log.read_text(), final=False).get("getppid") == 300, "the first workload in the log")
    log.rename(moved)
    syscount.process.send_signal(signal.SIGHUP)
    wait_for(log.exists, "the new log")  # reopened at once, not at the next record
    subprocess.run([str(exe), "--getppid", "500"], check=True)
    wait_for(lambda: counts(log.read_text(), final=False).get("getppid") == 500, "the second workload in the new log")
    status, _, rest = syscount.finish(signal.SIGINT)
    assert status == 130 and rest == [], rest
    before, after = moved.read_text(), log.read_text()
    if fmt == "csv":
        assert before.startswith("time,interval_s,final,") and after.startswith("time,interval_s,final,")
    summary = counts(after, final=True)
    both = counts(before, final=False)
    for name_, count in counts(after, final=False).items():
        both[name_] = both.get(name_, 0) + count
    assert both == summary and summary["getppid"] == 800
    assert counts(before, final=False)["getppid"] == 300 and counts(before, final=True) == {}


def test_trace_rotation_keeps_every_event_whole(tmp_path: Path) -> None:
    name = f"trot{os.getpid() % 100000}"
    exe = tmp_path / name
    shutil.copy(WORKLOAD, exe)
    log, moved = tmp_path / "trace", tmp_path / "trace.1"

    def getppids(path: Path) -> int:
        return path.read_text().count(" getppid() = ")

    syscount = Syscount("trace", "--comm", name, "-o", str(log))
    subprocess.run([str(exe), "--getppid", "300"], check=True)
    wait_for(lambda: getppids(log) == 300, "the first workload's events")
    log.rename(moved)
    syscount.process.send_signal(signal.SIGHUP)
    wait_for(log.exists, "the new trace file")
    subprocess.run([str(exe), "--getppid", "500"], check=True)
    wait_for(lambda: getppids(log) == 500, "the second workload's events")
    status, _, rest = syscount.finish(signal.SIGINT)
    assert status == 130
    before, after = moved.read_text(), log.read_text()
    assert before.endswith("\n") and getppids(moved) == 300
    events = [line for text in (before, after) for line in text.splitlines() if not line.startswith("#")]
    assert all(re.match(rf"^\d\d:\d\d:\d\d\.\d{{6}} \d+/\d+ {name} \w+\(", line) for line in events)
    final = re.search(r"^# final: (\d+) events, 0 lost, (\d+) calls", after, re.MULTILINE)
    assert final is not None and int(final.group(1)) == int(final.group(2)) == len(events)
    assert rest[-1].startswith(f"syscount: {len(events)} events, 0 lost")


def test_the_log_directory_vanishing_is_a_warning_not_an_end(tmp_path: Path) -> None:
    directory = tmp_path / "logs"
    directory.mkdir()
    log = directory / "log"
    with held_workload(**PLAN) as target:
        syscount = Syscount("-p", str(target.pid), "-i", "0.05", "-T", "0", "-o", str(log))
        wait_for(lambda: log.stat().st_size > 0, "a first interval in the log")
        shutil.rmtree(directory)
        assert syscount.line() == f"syscount: warning: writing {log}: No such file or directory; counting goes on"
        release(target)
        assert target.wait(timeout=TIMEOUT) == 0
        status, out, rest = syscount.finish()
    assert status == EX_IOERR and rest == []
    assert summary_table(out) == EXPECTED
    assert unwritten_note(out) > 0
    assert not directory.exists()  # nothing re-created it


@pytest.fixture
def cgroup() -> Iterator[Path]:
    with new_cgroup(f"syscount-faults-{os.getpid()}".encode()) as path:
        yield path


def test_a_cgroup_removed_before_it_was_named_keeps_its_calls_under_its_id(cgroup: Path) -> None:
    cgroup_id = cgroup.stat().st_ino
    with held_workload(**PLAN) as inside:
        (cgroup / "cgroup.procs").write_text(str(inside.pid))
        # One long interval: the first reading comes after the cgroup is gone.
        syscount = Syscount("--by-cgroup", "--cgroup", str(cgroup), "-i", "60", "--format", "json")
        release(inside)
        assert inside.wait(timeout=TIMEOUT) == 0
    remove_cgroup(cgroup)
    status, out, rest = syscount.finish(signal.SIGINT)
    assert status == 130 and rest == []
    final = json_lines(out)[-1]
    assert final["counts"] == EXPECTED
    (row,) = final["breakdown"]["rows"]
    assert row["cgroup"] == f"cgroup:{cgroup_id}" and row["counts"] == EXPECTED


def run_as_pid(argv: list[str], pid: int, attempts: int = 50) -> int:
    """Run argv as process ``pid`` (through ns_last_pid) to its end; its exit status.

    Another process may take the pid first on a busy machine: the child is forked and
    held before exec, so a child with the wrong pid is killed having run nothing of
    argv (nothing the filter counts), and it is tried again."""
    for _ in range(attempts):
        Path("/proc/sys/kernel/ns_last_pid").write_text(str(pid - 1))
        go, hold = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - leaves by exec or _exit
            try:
                os.close(hold)
                if os.read(go, 1) == b"g":
                    os.execv(argv[0], argv)
            finally:
                os._exit(127)
        os.close(go)
        if child == pid:
            os.write(hold, b"g")
        os.close(hold)
        status = os.waitpid(child, 0)[1]
        if child == pid:
            return os.waitstatus_to_exitcode(status)
    pytest.fail(f"could not get pid {pid} back in {attempts} attempts")


def test_a_pid_reused_within_an_interval_adds_up_with_the_old_process(tmp_path: Path) -> None:
    name = f"reuse{os.getpid() % 100000}"
    exe = tmp_path / name
    shutil.copy(WORKLOAD, exe)
    syscount = Syscount("-P", "--comm", name, "-i", "60", "--format", "json")
    first = subprocess.Popen([str(exe), "--getppid", "300", "--wait-stdin"], stdin=subprocess.PIPE)
    release(first)
    assert first.wait(timeout=TIMEOUT) == 0
    assert run_as_pid([str(exe), "--getppid", "700"], first.pid) == 0
    status, out, rest = syscount.finish(signal.SIGINT)
    assert status == 130 and rest == []
    final = json_lines(out)[-1]
    (row,) = final["breakdown"]["rows"]  # one pid, one row: both processes in it
    assert row["pid"] == first.pid and row["comm"] == name
    assert row["counts"]["getppid"] == 1000 == final["counts"]["getppid"]
    assert row["total"] == final["total"]
