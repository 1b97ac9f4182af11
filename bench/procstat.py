"""What the benchmarks read of a process and how they start background load: one place.

Imported by the bench scripts (run as ``python bench/NAME.py``, so this directory is on
the path): CPU time and memory from /proc, and N copies of the test workload making
10 nanosleep calls a second.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
WORKLOAD = Path(__file__).resolve().parents[1] / "tests" / "workloads" / "build" / "workload"
SLEEPER_ARGS = ["--sleeps", "100000", "--sleep-ms", "100"]  # 10 nanosleeps a second, for hours


def cpu_seconds(pid: int) -> float:
    """User + system time of the whole process (exited threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def status_kb(pid: int, field: str) -> int:
    """A kB field of /proc/PID/status (``VmRSS``, ``VmHWM``...); 0 when it has none."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


@contextmanager
def sleepers(programs: Iterable[Path | str]) -> Iterator[None]:
    """One workload process per program (the workload itself, or a link to it named as
    the process should be), each making 10 nanosleep calls a second; killed on exit."""
    processes = []
    try:
        for program in programs:
            processes.append(subprocess.Popen([str(program), *SLEEPER_ARGS], stdout=subprocess.DEVNULL))
        time.sleep(1.0)  # let them all start
        yield
    finally:
        for process in processes:
            process.kill()
        for process in processes:
            process.wait()
