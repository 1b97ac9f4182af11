#!/usr/bin/env python3
"""syscount trace: decoding throughput, loss at a steady rate, and slowdown against peers.

    sudo .venv/bin/python bench/trace.py [--seconds 3] [--rates 250000,500000,750000,1000000] [--write BYTES]

1. Steady rate: the getppid flood (tests/workloads/flood.c) paced at R calls/s on
   CPU 1 for a few seconds, traced with ``-s getppid`` and full decoding to /dev/null,
   syscount on CPU 0; per rate and format: events, lost, the consumer's CPU.
2. Flat out: the flood as fast as it goes, one thread on CPU 1: events decoded per
   second of the run, and how many were lost (the kernel counts them).
3. Slowdown: the W1 getppid loop (ns per call, timed by the workload itself) and a real
   program (``tar cf - /usr/include > /dev/zero``, timed by bash's ``time``, so tracer
   start-up is not counted) under syscount trace (every call decoded to /dev/null),
   ``strace -f`` and ``perf trace`` (both to /dev/null); tracers on CPU 0, the traced
   program on CPU 1.

4. Cost per call (``--only cost``): the flood flat out on one thread, untraced and traced
   (text, JSON), timed by the flood's own CPU time (start-up not counted): a getppid (no data)
   and a 64-byte write (its buffer captured, 32 bytes with the default -s).

With ``--write BYTES``, parts 1 and 2 flood writes of BYTES bytes to /dev/null instead of
getppid (``-s write``; every event carries the captured buffer); with ``--vary`` as well,
every buffer differs from the one before. With ``--open``, they flood openat calls of a
different missing path each (``-s openat``). ``--src DIR`` runs syscount from another
tree's ``src`` (a "before" copy), the workloads from this one.

Needs root, ``make bpf workloads``; peers that are missing are skipped. One run, ratios
within the run: this 2-core VM is shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "tests" / "workloads" / "build"
FLOOD = BUILD / "flood"
WORKLOAD = BUILD / "workload"
SYSCOUNT = [sys.executable, "-m", "syscount", "trace"]
TRACER_CPU, WORKLOAD_CPU = "0", "1"
REAL = ["tar", "cf", "-", "/usr/include"]  # to /dev/zero: GNU tar skips reading for /dev/null
CLK_TCK = os.sysconf("SC_CLK_TCK")


def pinned(cpu: str, argv: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *argv]


def traced(options: list[str], command: list[str]) -> list[str]:
    """syscount trace on the tracer CPU, the command on the workload CPU."""
    return pinned(TRACER_CPU, [*SYSCOUNT, "-o", "/dev/null", *options, "--", *pinned(WORKLOAD_CPU, command)])


def run_measured(argv: list[str]) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run to completion: (result, wall seconds, CPU seconds of the process and its children)."""
    before = os.times()
    started = time.monotonic()
    env = {**os.environ, "PYTHONPATH": SRC[0]}
    result = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    wall = time.monotonic() - started
    after = os.times()
    return result, wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


# The flooded call: getppid, or with --write BYTES a write of that many bytes (captured).
CALL: dict[str, Any] = {"flood": [], "filter": "getppid"}
SRC = ["src"]  # syscount's tree (PYTHONPATH), relative to this one's root or absolute


def set_write(size: int, vary: bool) -> None:
    CALL["flood"], CALL["filter"] = ["--write", str(size), *(["--vary"] if vary else [])], "write"


def set_open() -> None:
    CALL["flood"], CALL["filter"] = ["--open"], "openat"


class Hogs:
    """``count`` busy loops on the tracer's CPU while a steady run lasts: syscount then gets
    a share of its CPU (a half with one, a third with two), as on a busy machine."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Hogs:
        loop = [sys.executable, "-c", "while True: pass"]
        self.procs = [subprocess.Popen(pinned(TRACER_CPU, loop)) for _ in range(self.count)]
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()


def steady(rates: list[int], seconds: float, formats: list[str], hogs: int = 0) -> list[str]:
    rows = [
        "| format | rate (calls/s) | events | lost | lost % | syscount CPU (of one core) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for fmt in formats:
        for rate in rates:
            calls = int(rate * seconds)
            command = [str(FLOOD), *CALL["flood"], "--rate", str(rate), "--calls", str(calls)]
            argv = pinned(
                TRACER_CPU,
                [
                    *SYSCOUNT,
                    "-s",
                    str(CALL["filter"]),
                    "--format",
                    fmt,
                    "-o",
                    "/dev/null",
                    "--",
                    *pinned(WORKLOAD_CPU, command),
                ],
            )
            with Hogs(hogs):
                result, wall, cpu = run_measured(argv)
            cpu -= _flood(result.stdout)["CPU"]  # syscount's own CPU: the flood is its child
            final = _final_from_stderr(result.stderr)
            events, lost = final.get("events", 0), final.get("lost", 0)
            rows.append(
                f"| {fmt} | {rate:,} | {events:,} | {lost:,} | {100 * lost / max(1, events + lost):.2f} |"
                f" {100 * cpu / wall:.0f} % |"
            )
    return rows


def _final_from_stderr(stderr: str) -> dict[str, int]:
    """The text final line ('# final: N events, M lost, C calls ...') from a command-mode run."""
    for line in reversed(stderr.splitlines()):
        match = re.search(r"(\d+) events, (\d+) lost, (\d+) calls traced in ", line)
        if match:
            events, lost, calls = map(int, match.groups())
            return {"events": events, "lost": lost, "calls": calls}
    raise RuntimeError(f"no final line: {stderr[-500:]}")


def _flood(stdout: str) -> dict[str, float]:
    """The flood's report: CALLS, SECONDS (its run), CPU (its own CPU time)."""
    for line in stdout.splitlines():
        if line.startswith("CALLS "):
            fields = line.split()
            return {fields[i]: float(fields[i + 1]) for i in range(0, len(fields), 2)}
    raise RuntimeError(f"the flood printed no report: {stdout[-300:]!r}")


def startup_s() -> float:
    """How long syscount trace takes around a command that does nothing (start, load, drain, exit)."""
    times = [run_measured(traced([], ["true"]))[1] for _ in range(3)]
    return min(times)


def flat_out(calls: int, formats: list[str]) -> list[str]:
    fixed = startup_s()
    rows = [
        "| format | calls | flood rate (calls/s) | events decoded | lost | events + lost == calls | decoded events/s |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for fmt in formats:
        command = [str(FLOOD), *CALL["flood"], "--calls", str(calls)]
        argv = pinned(TRACER_CPU, [*SYSCOUNT, "-s", str(CALL["filter"]), "--format", fmt, "-o", "/dev/null"])
        argv += ["--buffer-size", "64M", "--", *pinned(WORKLOAD_CPU, command)]
        result, wall, _ = run_measured(argv)
        final = _final_from_stderr(result.stderr)
        flood = _flood(result.stdout)
        # calls: the flood's, plus with --write the write of its own report line
        exact = "yes" if final["events"] + final["lost"] == final["calls"] >= calls else "NO"
        rows.append(
            f"| {fmt} | {calls:,} | {calls / flood['SECONDS'] / 1e6:.2f} M | {final['events']:,} |"
            f" {final['lost']:,} | {exact} | {final['events'] / (wall - fixed) / 1e6:.2f} M |"
        )
    return rows


def cost(rounds: int, calls: int) -> list[str]:
    """ns per call of the flood flat out, untraced and traced: what tracing adds per call."""
    calls_of = {"getppid (nothing captured)": [], "write 64 bytes (buffer captured, -s 32)": ["--write", "64"]}
    setups = {"untraced": None, "trace (text)": "text", "trace --format json": "json"}
    ns: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for call, extra in calls_of.items():
            for setup, fmt in setups.items():
                command = pinned(WORKLOAD_CPU, [str(FLOOD), *extra, "--calls", str(calls)])
                if fmt is not None:
                    command = pinned(TRACER_CPU, [*SYSCOUNT, "--format", fmt, "-o", "/dev/null", "--", *command])
                result, _, _ = run_measured(command)
                flood = _flood(result.stdout)
                # its own CPU time (BPF programs run in its calls): what other load cannot inflate
                ns.setdefault((call, setup), []).append(flood["CPU"] * 1e9 / flood["CALLS"])
    rows = ["| call | configuration | ns/call | added ns/call |", "|---|---|---:|---:|"]
    for call in calls_of:
        base = statistics.median(ns[(call, "untraced")])
        for setup in setups:
            median = statistics.median(ns[(call, setup)])
            rows.append(f"| {call} | {setup} | {median:.0f} | {median - base:.0f} |")
    return rows


def ns_per_call(output: str) -> float:
    for line in output.splitlines():
        if line.startswith("NS_PER_CALL"):
            return float(line.split()[1])
    raise RuntimeError(f"no timing in {output[-300:]!r}")


def real_seconds(stderr: str) -> float:
    """bash's `time` (TIMEFORMAT=%R): the real program's own run, not the tracer's start-up."""
    for line in reversed(stderr.splitlines()):
        try:
            return float(line.strip())
        except ValueError:
            continue
    raise RuntimeError(f"no timing in {stderr[-300:]!r}")


def slowdown(rounds: int, calls: int) -> list[str]:
    """Every tracer on CPU 0, the traced program on CPU 1: the same placement for all."""
    loop = pinned(WORKLOAD_CPU, [str(WORKLOAD), "--getppid", str(calls), "--loop-report"])
    real = ["bash", "-c", f"TIMEFORMAT=%R; time taskset -c {WORKLOAD_CPU} {' '.join(REAL)} >/dev/zero"]
    tracers: dict[str, list[str]] = {
        "no tracing": [],
        "syscount trace (text)": [*SYSCOUNT, "-o", "/dev/null", "--"],
        "syscount trace --format json": [*SYSCOUNT, "--format", "json", "-o", "/dev/null", "--"],
    }
    if shutil.which("strace"):
        tracers["strace -f"] = ["strace", "-f", "-o", "/dev/null"]
    if shutil.which("perf"):
        tracers["perf trace"] = ["perf", "trace", "-o", "/dev/null", "--"]
    loop_ns: dict[str, list[float]] = {name: [] for name in tracers}
    real_s: dict[str, list[float]] = {name: [] for name in tracers}
    for _ in range(rounds):
        for name, tracer in tracers.items():
            result, _, _ = run_measured(pinned(TRACER_CPU, [*tracer, *loop]) if tracer else loop)
            loop_ns[name].append(ns_per_call(result.stdout))
            result, _, _ = run_measured(pinned(TRACER_CPU, [*tracer, *real]) if tracer else real)
            real_s[name].append(real_seconds(result.stderr))
    base_loop = statistics.median(loop_ns["no tracing"])
    base_real = statistics.median(real_s["no tracing"])
    rows = [
        "| configuration | getppid loop ns/call | added ns/call | slowdown | `tar cf - /usr/include` s | slowdown |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in tracers:
        ns = statistics.median(loop_ns[name])
        wall = statistics.median(real_s[name])
        loop_part = f"{ns:.0f} | {ns - base_loop:.0f} | {ns / base_loop:.2f}×"
        rows.append(f"| {name} | {loop_part} | {wall:.3f} | {wall / base_real:.2f}× |")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each steady-rate run")
    parser.add_argument("--rates", default="250000,500000,750000,1000000", help="steady rates to try")
    parser.add_argument("--flood", type=int, default=3_000_000, help="calls of the flat-out flood")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the slowdown comparison")
    parser.add_argument("--calls", type=int, default=200_000, help="getppid calls per slowdown run")
    parser.add_argument("--only", choices=("steady", "flood", "slowdown", "cost"), help="run one part")
    parser.add_argument("--write", type=int, metavar="BYTES", help="flood writes of BYTES bytes instead of getppid")
    parser.add_argument("--vary", action="store_true", help="with --write: every buffer different")
    parser.add_argument("--open", action="store_true", help="flood openat of different paths instead of getppid")
    parser.add_argument("--hogs", type=int, default=0, help="busy loops beside syscount in the steady runs")
    parser.add_argument("--src", help="run syscount from this tree's src directory (a 'before' copy)")
    args = parser.parse_args()
    if args.write:
        set_write(args.write, args.vary)
    if args.open:
        set_open()
    if args.src:
        SRC[0] = str(Path(args.src).resolve())
    if os.geteuid() != 0:
        print("bench/trace.py needs root", file=sys.stderr)
        return 1
    os.chdir(ROOT)
    formats = ["text", "json"]
    if args.only in (None, "steady"):
        rates = [int(r) for r in args.rates.split(",")]
        print(
            "\n".join(
                [
                    "### Steady rate, full decoding to /dev/null",
                    "",
                    *steady(rates, args.seconds, formats, args.hogs),
                    "",
                ]
            )
        )
    if args.only in (None, "flood"):
        print("\n".join(["### Flat-out getppid flood", "", *flat_out(args.flood, formats), ""]))
    if args.only in (None, "cost"):
        print("\n".join(["### Cost per call, flat out", "", *cost(args.rounds, 1_000_000), ""]))
    if args.only in (None, "slowdown"):
        print("\n".join(["### Slowdown of the traced program", "", *slowdown(args.rounds, args.calls), ""]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
