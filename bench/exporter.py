#!/usr/bin/env python3
"""What `syscount serve` costs: scrape latency and exporter CPU, at 1 and at 1000 processes.

    sudo .venv/bin/python bench/exporter.py [--scrapes 40] [--rounds 9]

For each load and mode, a fresh exporter is started system-wide on loopback, left idle
for a moment (its CPU then shows the cost between scrapes: none is expected), then
scraped back to back; reported are the scrape wall time (median, 90th percentile), the
exporter's CPU per scrape (from /proc/PID/stat, threads included) and the response size.

Loads: "1 process" is one workload calling getppid as fast as it can (the highest
syscall rate one CPU makes); "1000 processes" are 1000 workloads, each with its own
name (comm), each making 10 nanosleep calls a second.

Modes: counts (the default), -L, and --labels comm with the default cap (50 names)
and with a cap above the 1000 names (every name its own series).

One more figure, ``--bpf-stats``: the added cost per system call of the kernel's BPF
statistics, from the pinned getppid loop with the exporter attached, with and without.

Needs root, the built BPF objects and workload (``make bpf workloads``). Keep runs
short: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from procstat import cpu_seconds, sleepers

ROOT = Path(__file__).resolve().parents[1]
WORKLOAD = ROOT / "tests" / "workloads" / "build" / "workload"
SYSCOUNT = [sys.executable, "-m", "syscount"]
URL = re.compile(r"metrics at (http://\S+/metrics);")
IDLE_S = 2.0
MODES = {
    "counts": [],
    "-L": ["-L"],
    "--labels comm": ["--labels", "comm"],
    "--labels comm --max-series 2000": ["--labels", "comm", "--max-series", "2000"],
}


# -- loads -------------------------------------------------------------------------


@contextmanager
def busy_process() -> Iterator[None]:
    """One process making getppid calls as fast as it can, pinned to CPU 1."""
    process = subprocess.Popen(["taskset", "-c", "1", str(WORKLOAD), "--getppid", str(10**12)])
    try:
        yield
    finally:
        process.kill()
        process.wait()


@contextmanager
def named_sleepers(count: int) -> Iterator[None]:
    """``count`` processes, each its own comm (a link named w0000...), 10 nanosleeps a second."""
    with tempfile.TemporaryDirectory() as directory:
        links = [Path(directory) / f"w{i:04d}" for i in range(count)]
        for link in links:
            link.symlink_to(WORKLOAD)
        with sleepers(links):
            yield


# -- the exporter --------------------------------------------------------------------


@contextmanager
def exporter(*args: str) -> Iterator[tuple[int, str]]:
    process = subprocess.Popen(
        [*SYSCOUNT, "serve", "--listen", "127.0.0.1:0", *args], stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    line = process.stderr.readline()
    found = URL.search(line)
    try:
        if found is None:
            raise RuntimeError(f"syscount serve did not start: {line}")
        yield process.pid, found.group(1)
    finally:
        process.terminate()
        process.communicate(timeout=60)


def scrape(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:
        size = len(response.read())
    return time.perf_counter() - started, size


def measure(mode: list[str], scrapes: int) -> dict[str, float]:
    with exporter(*mode) as (pid, url):
        scrape(url)  # the first scrape imports and warms up
        idle_start = cpu_seconds(pid)
        time.sleep(IDLE_S)
        idle = (cpu_seconds(pid) - idle_start) / IDLE_S
        cpu_start = cpu_seconds(pid)
        timings = [scrape(url) for _ in range(scrapes)]
        cpu = (cpu_seconds(pid) - cpu_start) / scrapes
    walls = sorted(wall for wall, _ in timings)
    return {
        "p50_ms": statistics.median(walls) * 1000,
        "p90_ms": walls[int(0.9 * (len(walls) - 1))] * 1000,
        "cpu_ms": cpu * 1000,
        "idle_pct": idle * 100,
        "kb": timings[-1][1] / 1024,
    }


def load_table(scrapes: int) -> str:
    lines = [
        "| load | mode | scrape p50 | scrape p90 | exporter CPU per scrape | CPU between scrapes | response |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    loads = (
        ("1 process (getppid flat out)", busy_process),
        ("1000 processes (own comm each)", lambda: named_sleepers(1000)),
    )
    for load_name, load in loads:
        with load():
            for mode_name, mode in MODES.items():
                m = measure(mode, scrapes)
                lines.append(
                    f"| {load_name} | {mode_name} | {m['p50_ms']:.1f} ms | {m['p90_ms']:.1f} ms | {m['cpu_ms']:.1f} ms"
                    f" | {m['idle_pct']:.2f} % | {m['kb']:.0f} KB |"
                )
                print(f"{load_name} {mode_name} done", file=sys.stderr)
    return "\n".join(lines)


# -- the price of --bpf-stats ---------------------------------------------------------


def loop_ns(calls: int) -> float:
    argv = ["taskset", "-c", "1", str(WORKLOAD), "--getppid", str(calls), "--loop-report"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return float(out.split()[1])


def bpf_stats_cost(rounds: int, calls: int) -> str:
    """The pinned getppid loop: untraced, with the exporter attached, and with --bpf-stats,
    interleaved round by round so a noisy neighbour hits all three alike."""
    configs: dict[str, list[str] | None] = {"no tracing": None, "exporter": [], "exporter --bpf-stats": ["--bpf-stats"]}
    samples: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(rounds):
        for name, args in configs.items():
            if args is None:
                samples[name].append(loop_ns(calls))
                continue
            with exporter(*args):
                samples[name].append(loop_ns(calls))
    base = statistics.median(samples["no tracing"])
    lines = [
        f"getppid loop pinned to CPU 1, exporter attached system-wide, {rounds} rounds x {calls} calls, medians:",
        "",
        "| configuration | ns/call | IQR | added ns/call |",
        "|---|---:|---:|---:|",
    ]
    for name, values in samples.items():
        low, _, high = statistics.quantiles(values, n=4)
        median = statistics.median(values)
        lines.append(f"| {name} | {median:.1f} | {low:.0f}–{high:.0f} | {median - base:.1f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scrapes", type=int, default=40, help="scrapes per load and mode")
    parser.add_argument("--rounds", type=int, default=9, help="rounds of the --bpf-stats comparison")
    parser.add_argument("--calls", type=int, default=300_000, help="getppid calls per --bpf-stats round")
    options = parser.parse_args()
    if os.geteuid() != 0:
        print("bench: needs root", file=sys.stderr)
        return 1
    print(load_table(options.scrapes))
    print()
    print(bpf_stats_cost(options.rounds, options.calls))
    return 0


if __name__ == "__main__":
    sys.exit(main())
