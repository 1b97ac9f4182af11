#!/usr/bin/env python3
"""What `syscount top` costs: time to the first frame, and CPU per refresh, at 1 and 1000 processes.

    sudo .venv/bin/python bench/top.py [--seconds 10] [--rounds 3] [--before DIR]

syscount top runs in a real terminal (a detached tmux session, 160x45) as a person
would start it. Two times to the first frame (tmux's screen showing the header): from
starting the process (Python and imports included), and from its first BPF program
being loaded (a ``prog_id`` among its descriptors' fdinfo; attaching follows it, so
this is an upper bound of attach → first frame). Polled every few ms. CPU is the
process's user + system time (from /proc/PID/stat) over ``--seconds`` at a 1 s
refresh, after 2 s of warm-up, in % of one core.

Loads: "1 process" is one workload making 10 nanosleep calls a second; "1000
processes" are 1000 such workloads (each a row of the process view and of its
breakdown). Views: per syscall (the default; the per-process breakdown is attached
for drill-down) and per process (1000 rows, sorted, the visible ones drawn).

Side by side, in the same rounds (this VM is shared: absolute CPU figures move with
the neighbours' load, ratios much less): the count command at 1 s (``syscount -T 10``,
no breakdown) and with the same per-process breakdown (``syscount -P -T 10``), printing
to /dev/null. The difference between top and ``count -P`` is what the view itself costs.

``--before DIR`` also runs another checkout's syscount (its ``src``, built) in every
round, next to this one: rows marked "(before)", the figures before a change.

Needs root, tmux, the built BPF objects and workload (``make bpf workloads``).
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from tempfile import TemporaryDirectory

from procstat import cpu_seconds, sleepers

ROOT = Path(__file__).resolve().parents[1]
WORKLOAD = ROOT / "tests" / "workloads" / "build" / "workload"
SYSCOUNT = [sys.executable, "-m", "syscount"]
WARM_UP_S = 2.0
VIEWS = {"per syscall": ["--by", "syscall"], "per process": ["--by", "process"]}
BASELINES = {"count (no breakdown)": [], "count -P": ["-P"]}


class Session:
    """syscount top in a detached tmux session on its own server."""

    def __init__(self, directory: str, args: list[str], src: str | None = None) -> None:
        self.socket = f"bench-top-{uuid.uuid4().hex[:8]}"
        self.pidfile = Path(directory) / "pid"
        top = shlex.join([*SYSCOUNT, "top", *args])
        if src is not None:
            top = f"env PYTHONPATH={shlex.quote(src)} {top}"  # env execs it: the pid stays
        inner = f"echo $$ > {self.pidfile}; exec {top}"
        command = f"cd {shlex.quote(str(ROOT))}; sh -c {shlex.quote(inner)}; sleep 60"
        self.started = time.monotonic()
        self._tmux("new-session", "-d", "-x", "160", "-y", "45", command)

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False).stdout

    def first_frame_s(self) -> tuple[float, float]:
        """(start → first frame, program loaded → first frame)."""
        deadline = self.started + 30
        loaded = None
        while True:
            now = time.monotonic()
            if now > deadline:
                raise RuntimeError("syscount top showed no frame within 30 s")
            if loaded is None and self.pidfile.exists() and self.pidfile.read_text().strip() and self._has_program():
                loaded = now
            if loaded is not None and "view:" in self._tmux("capture-pane", "-p", "-t", "0"):
                return now - self.started, now - loaded
            time.sleep(0.002)

    def _has_program(self) -> bool:
        for fdinfo in Path(f"/proc/{self.pid}/fdinfo").glob("*"):
            try:
                if "prog_id:" in fdinfo.read_text():
                    return True
            except OSError:
                continue
        return False

    @property
    def pid(self) -> int:
        return int(self.pidfile.read_text())

    def close(self) -> None:
        socket = self._tmux("display-message", "-p", "#{socket_path}").strip()
        self._tmux("send-keys", "-t", "0", "q")
        time.sleep(0.5)
        self._tmux("kill-server")
        if socket:
            Path(socket).unlink(missing_ok=True)  # the server may leave it behind


def count_cpu(args: list[str], seconds: float, src: str | None = None) -> float:
    """% of a core of the count command at 1 s, printing to /dev/null."""
    env = dict(os.environ, **({"PYTHONPATH": src} if src is not None else {}))
    process = subprocess.Popen(
        [*SYSCOUNT, "-i", "1", "-T", "10", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stderr is not None
        process.stderr.readline()  # attached
        time.sleep(WARM_UP_S)
        start = cpu_seconds(process.pid)
        time.sleep(seconds)
        return 100 * (cpu_seconds(process.pid) - start) / seconds
    finally:
        process.terminate()
        process.wait()


def measure(view: list[str], seconds: float, src: str | None = None) -> tuple[float, float, float]:
    """(start → first frame s, loaded → first frame s, % of a core while refreshing every second)."""
    with TemporaryDirectory() as directory:
        session = Session(directory, ["-i", "1", *view], src)
        try:
            first, attached = session.first_frame_s()
            time.sleep(WARM_UP_S)
            pid = session.pid
            start = cpu_seconds(pid)
            time.sleep(seconds)
            cpu = (cpu_seconds(pid) - start) / seconds
        finally:
            session.close()
    return first, attached, cpu * 100


def _median_max(values: list[float], unit: str) -> str:
    if unit == "-":
        return "-"
    if unit == "%":
        return f"{statistics.median(values):.1f} % (max {max(values):.1f})"
    return f"{statistics.median(values):.2f} s (max {max(values):.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="CPU is measured over this long (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per load and view; medians (default 3)")
    parser.add_argument("--before", metavar="DIR", help="also run DIR's syscount (another checkout's src) each round")
    args = parser.parse_args()
    trees = [("", None)] + ([(" (before)", args.before)] if args.before else [])
    print("| load | what | start → first frame | loaded → first frame | CPU at 1 s refresh |")
    print("|---|---|---:|---:|---:|")
    for load, count in (("1 process", 1), ("1000 processes", 1000)):
        with sleepers([WORKLOAD] * count):
            runs: dict[str, list[tuple[float, float, float]]] = {}
            for _ in range(args.rounds):  # every configuration once per round, each tree in turn
                for name, extra in BASELINES.items():
                    for mark, src in trees:
                        runs.setdefault(name + mark, []).append((0.0, 0.0, count_cpu(extra, args.seconds, src)))
                for name, view in VIEWS.items():
                    for mark, src in trees:
                        runs.setdefault(f"top {name}{mark}", []).append(measure(view, args.seconds, src))
            for name, results in runs.items():
                units = ("-", "-", "%") if name.startswith("count") else ("s", "s", "%")
                cells = [_median_max([run[i] for run in results], unit) for i, unit in enumerate(units)]
                print(f"| {load} | {name} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
