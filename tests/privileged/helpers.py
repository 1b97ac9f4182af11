"""Run syscount and the known-syscall workload the way a user would: as processes."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WORKLOAD = ROOT / "tests" / "workloads" / "build" / "workload"
SYSCOUNT = [sys.executable, "-m", "syscount"]
ANNOUNCE = "syscount: counting system calls"
TIMEOUT = 60.0
# How the privilege tests start syscount, with setpriv: root with no capability left
# (what a container or a sudo-less user gets), and nobody given CAP_BPF + CAP_PERFMON
# as ambient capabilities (a dedicated service user).
NO_CAPABILITIES = ["setpriv", "--bounding-set=-all", "--inh-caps=-all"]
BPF_USER = [
    "setpriv",
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
    "--inh-caps=+bpf,+perfmon",
    "--ambient-caps=+bpf,+perfmon",
]


def syscount(*args: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run syscount to completion, capturing both streams."""
    return subprocess.run([*SYSCOUNT, *args], capture_output=True, text=True, timeout=timeout, check=False)


def workload_args(**plan: int) -> list[str]:
    """``workload_args(getppid=1000, thread_getppid=5)`` → the workload's argv."""
    argv = [str(WORKLOAD)]
    for key, value in plan.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    return argv


class Running:
    """A syscount process started in the background and ready (attached)."""

    def __init__(self, args: Sequence[str]) -> None:
        self.process = subprocess.Popen([*SYSCOUNT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.process.stderr is not None
        line = self.process.stderr.readline()
        if ANNOUNCE not in line:
            self.process.kill()
            err = self.process.communicate()[1]
            raise AssertionError(f"syscount did not attach: {line}{err}")

    def finish(self, timeout: float = TIMEOUT) -> tuple[int, str, str]:
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, out, err


@contextmanager
def held_workload(**plan: int) -> Iterator[subprocess.Popen[bytes]]:
    """A workload that waits for one byte on stdin before making its calls."""
    process = subprocess.Popen([*workload_args(**plan), "--wait-stdin"], stdin=subprocess.PIPE)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def release(process: subprocess.Popen[bytes]) -> None:
    assert process.stdin is not None
    process.stdin.write(b"g")
    process.stdin.close()


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def final_counts(text: str) -> dict[str, int]:
    records = json_lines(text)
    assert records and records[-1]["final"] is True, text
    counts: dict[str, int] = records[-1]["counts"]
    return counts


def strace_counts(argv: Sequence[str], *, with_errors: bool = False) -> dict[str, Any]:
    """What ``strace -f -c`` counts for a command: the oracle for exact counts.

    ``{name: calls}``, or ``{name: (calls, errors)}`` with ``with_errors``."""
    result = subprocess.run(
        ["strace", "-f", "-c", "-U", "calls,errors,name", *argv],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    counts: dict[str, Any] = {}
    for line in result.stderr.splitlines():
        fields = line.split()
        if len(fields) in (2, 3) and fields[0].isdigit() and fields[-1] != "total":
            errors = int(fields[1]) if len(fields) == 3 else 0
            counts[fields[-1]] = (int(fields[0]), errors) if with_errors else int(fields[0])
    assert counts, result.stderr
    return counts


def loaded_syscount_programs() -> list[str]:
    """Names of loaded BPF programs that are syscount's (from bpftool)."""
    ours = {"count_enter", "follow_fork", "forget_exit", "keyed_exit", "floor_enter", "floor_exit"}
    result = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True, check=True)
    return [p.get("name", "") for p in json.loads(result.stdout or "[]") if p.get("name") in ours]


def wait_until_unloaded(deadline_s: float = 5.0) -> list[str]:
    """Programs are freed asynchronously after their last fd closes: allow a moment."""
    end = time.monotonic() + deadline_s
    while True:
        left = loaded_syscount_programs()
        if not left or time.monotonic() > end:
            return left
        time.sleep(0.05)


@contextmanager
def new_cgroup(name: bytes) -> Iterator[Path]:
    """A new cgroup v2 directory under the cgroup2 mount (any bytes but '/' and a newline),
    removed afterwards if it is still there (waiting while exited members linger)."""
    from syscount.names.cgroups import cgroup2_root

    mounted = cgroup2_root()
    if mounted is None:
        raise AssertionError("cgroup v2 is not mounted")
    path = Path(os.fsdecode(os.fsencode(mounted) + b"/" + name))
    path.mkdir()
    try:
        yield path
    finally:
        if path.exists():
            remove_cgroup(path)


def remove_cgroup(path: Path) -> None:
    """rmdir once the last process has left (a process that exited may linger a moment)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            path.rmdir()
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
