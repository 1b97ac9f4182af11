#!/usr/bin/env python3
"""syscount trace's BPF programs, one by one: kernel run time per run (bpf_stats).

    sudo .venv/bin/python bench/trace_progs.py [--rounds 5] [--calls 4000000] [SRC ...]

Turns on ``kernel.bpf_stats_enabled`` (and back off), traces a getppid flood on CPU 1
(``syscount trace -o /dev/null -- taskset -c 1 workload --getppid N``) from each SRC (a
checkout's ``src``, this one's by default; several are interleaved round by round) and
reads run_time_ns / run_cnt of the programs that syscount process holds (their ids from
its fdinfo, so other tracers on the machine are left out) over a window in the middle of
the loop. Prints the median per program and tree.

bpf_stats costs a ``sched_clock`` read per run (an empty program reads ~36 ns on this VM):
compare trees with each other, not with zero. Much steadier than wall time here.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKLOAD = ROOT / "tests" / "workloads" / "build" / "workload"
WINDOW_S = 0.8
STARTED = 300_000  # entry runs after which the loop is surely going


def program_ids(pid: int) -> set[int]:
    ids: set[int] = set()
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as info:
                ids.update(int(line.split()[1]) for line in info if line.startswith("prog_id:"))
        except OSError:
            continue  # closed meanwhile
    return ids


def run_stats(pid: int) -> dict[str, tuple[int, int]]:
    """name -> (run_cnt, run_time_ns) of the programs process `pid` holds."""
    ids = program_ids(pid)
    shown = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, text=True, check=True).stdout
    return {p["name"]: (p.get("run_cnt", 0), p.get("run_time_ns", 0)) for p in json.loads(shown) if p["id"] in ids}


def one_run(src: str, calls: int) -> dict[str, float]:
    argv = [sys.executable, "-m", "syscount", "trace", "-o", "/dev/null", "--"]
    argv += ["taskset", "-c", "1", str(WORKLOAD), "--getppid", str(calls)]
    env = dict(os.environ, PYTHONPATH=src)
    with subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as tracer:
        before: dict[str, tuple[int, int]] = {}
        while tracer.poll() is None and before.get("trace_enter", (0, 0))[0] < STARTED:
            time.sleep(0.05)
            before = run_stats(tracer.pid)
        time.sleep(WINDOW_S)
        after = run_stats(tracer.pid) if tracer.poll() is None else {}
        tracer.wait()
    per_run: dict[str, float] = {}
    for name, (count, ns) in after.items():
        runs = count - before.get(name, (0, 0))[0]
        if runs:
            per_run[name] = (ns - before.get(name, (0, 0))[1]) / runs
    return per_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=4_000_000, help="getppid calls per run (outlasting the window)")
    parser.add_argument("srcs", nargs="*", default=[str(ROOT / "src")], metavar="SRC")
    options = parser.parse_args()
    subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=1"], check=True)
    results: dict[str, dict[str, list[float]]] = {src: {} for src in options.srcs}
    try:
        for _ in range(options.rounds):
            for src in options.srcs:
                for name, ns in one_run(src, options.calls).items():
                    results[src].setdefault(name, []).append(ns)
    finally:
        subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=0"], check=True)
    names = ("trace_enter", "trace_exit", "trace_switch")
    print(f"{options.rounds} rounds, getppid flood on CPU 1; median ns per program run (bpf_stats)\n")
    print("| tree | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for src, per_name in results.items():
        cells = [f"{statistics.median(per_name[n]):.1f}" if per_name.get(n) else "—" for n in names]
        print(f"| {src} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
