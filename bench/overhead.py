#!/usr/bin/env python3
"""Added cost per system call: syscount side by side with no tracing, the floor and peers.

All configurations run in one process, interleaved round by round (so a noisy
neighbour hits them alike), and the report gives medians. The workload is the test
workload: a tight getppid loop pinned to one CPU that times itself (vDSO clock, so
the timing adds no system call), so ``ns/call`` is the cost of one traced syscall.

    sudo .venv/bin/python bench/overhead.py [--rounds 5] [--calls 2000000]

Needs root, the built BPF objects and workload (``make bpf workloads``); peers that
are not installed (bpftrace, strace, perf) are reported as such and skipped.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from syscount.objects import BpfObject  # noqa: E402

WORKLOAD = ROOT / "tests" / "workloads" / "build" / "workload"
SYSCOUNT = [sys.executable, "-m", "syscount"]
BPFTRACE_COUNT = "tracepoint:raw_syscalls:sys_enter { @[args->id] = count(); }"
WORKLOAD_CPU = "1"


@dataclass
class Config:
    """One way of running the workload: an optional tracer around it or in front of it."""

    name: str
    tracer: Callable[[list[str]], AbstractContextManager[list[str]]]
    calls_divisor: int = 1  # ptrace tracers are ~100x slower: fewer calls keep runs short
    samples: list[float] = field(default_factory=list)
    attach_s: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    error: str = ""


def workload_argv(calls: int) -> list[str]:
    return ["taskset", "-c", WORKLOAD_CPU, str(WORKLOAD), "--getppid", str(calls), "--loop-report"]


def ns_per_call(output: str) -> float:
    for line in output.splitlines():
        if line.startswith("NS_PER_CALL"):
            return float(line.split()[1])
    raise RuntimeError(f"workload printed no timing: {output!r}")


# -- tracers -----------------------------------------------------------------------


@contextmanager
def untraced(argv: list[str]) -> Iterator[list[str]]:
    yield argv


@contextmanager
def floor(argv: list[str]) -> Iterator[list[str]]:
    with BpfObject("floor") as bpf:
        bpf.set_autoload("floor_exit", False)
        bpf.load()
        bpf.attach("floor_enter")
        yield argv


@contextmanager
def background(argv_tracer: list[str], ready: str, config: Config, *, stream: str = "stderr") -> Iterator[None]:
    """Start a system-wide tracer, wait until it says it is attached, stop it with SIGINT."""
    started = time.monotonic()
    process = subprocess.Popen(argv_tracer, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pipe = process.stderr if stream == "stderr" else process.stdout
    assert pipe is not None
    line = pipe.readline()
    if ready not in line:
        process.kill()
        raise RuntimeError(f"{argv_tracer[0]} did not attach: {line.strip()} {process.communicate()[1].strip()}")
    config.attach_s.append(time.monotonic() - started)
    try:
        yield
    finally:
        config.rss_kb.append(peak_rss_kb(process.pid))
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)


def peak_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def syscount_tracer(config: Config, *extra: str) -> Callable[[list[str]], AbstractContextManager[list[str]]]:
    @contextmanager
    def run(argv: list[str]) -> Iterator[list[str]]:
        with background([*SYSCOUNT, "-i", "1", "--format", "json", *extra], "syscount: counting", config):
            yield argv

    return run


def bpftrace_tracer(config: Config) -> Callable[[list[str]], AbstractContextManager[list[str]]]:
    @contextmanager
    def run(argv: list[str]) -> Iterator[list[str]]:
        with background(["bpftrace", "-e", BPFTRACE_COUNT], "Attaching", config, stream="stdout"):
            yield argv

    return run


@contextmanager
def strace_c(argv: list[str]) -> Iterator[list[str]]:
    yield ["strace", "-c", "-f", "-o", "/dev/null", *argv]


@contextmanager
def perf_trace_s(argv: list[str]) -> Iterator[list[str]]:
    yield ["perf", "trace", "-s", "-o", "/dev/null", "--", *argv]


# -- the run -----------------------------------------------------------------------


def configs(wanted: set[str] | None) -> list[Config]:
    all_configs = [Config("no tracing", untraced), Config("floor: empty raw_tp sys_enter", floor)]
    syscount = Config("syscount (system-wide)", untraced)
    syscount.tracer = syscount_tracer(syscount)
    all_configs.append(syscount)
    if shutil.which("bpftrace"):
        bpftrace = Config("bpftrace count one-liner", untraced)
        bpftrace.tracer = bpftrace_tracer(bpftrace)
        all_configs.append(bpftrace)
    if shutil.which("strace"):
        all_configs.append(Config("strace -c -f", strace_c, calls_divisor=20))
    if shutil.which("perf"):
        all_configs.append(Config("perf trace -s", perf_trace_s, calls_divisor=20))
    return [c for c in all_configs if wanted is None or c.name.split()[0].rstrip(":") in wanted]


def measure(config: Config, calls: int) -> None:
    n = max(1000, calls // config.calls_divisor)
    try:
        with config.tracer(workload_argv(n)) as argv:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
        if result.returncode != 0:
            raise RuntimeError(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed")
        config.samples.append(ns_per_call(result.stdout))
    except (RuntimeError, OSError) as exc:
        config.error = str(exc)


def report(results: list[Config], rounds: int, calls: int) -> str:
    base = statistics.median(results[0].samples)
    floor_cfg = next((c for c in results if c.name.startswith("floor") and c.samples), None)
    floor_added = statistics.median(floor_cfg.samples) - base if floor_cfg else float("nan")
    lines = [
        f"{rounds} rounds, {calls} getppid per run (ptrace tracers: 1/20 of that), workload pinned to CPU"
        f" {WORKLOAD_CPU}; medians.",
        "",
        "| configuration | ns/call | added ns/call | added vs floor | slowdown | start→attached | peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for config in results:
        if not config.samples:
            lines.append(f"| {config.name} | — | — | — | — | — | not run: {config.error} |")
            continue
        median = statistics.median(config.samples)
        added = median - base
        versus = f"{added / floor_added:.2f}×" if floor_added > 0 and config is not results[0] else "—"
        attach = f"{statistics.median(config.attach_s) * 1000:.0f} ms" if config.attach_s else "—"
        rss = f"{max(config.rss_kb) / 1024:.1f} MB" if config.rss_kb else "—"
        lines.append(
            f"| {config.name} | {median:.1f} | {added:.1f} | {versus} | {median / base:.2f}× | {attach} | {rss} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=2_000_000)
    parser.add_argument("--only", help="comma-separated first words of configurations (e.g. no,floor,syscount)")
    options = parser.parse_args()
    if os.geteuid() != 0:
        print("bench: needs root", file=sys.stderr)
        return 1
    wanted = set(options.only.split(",")) if options.only else None
    results = configs(wanted)
    for round_number in range(options.rounds):
        # Rotate the order each round so no configuration always runs first or last.
        shift = round_number % len(results)
        for config in results[shift:] + results[:shift]:
            measure(config, options.calls)
        print(f"round {round_number + 1}/{options.rounds} done", file=sys.stderr)
    print(report(results, options.rounds, options.calls))
    return 0


if __name__ == "__main__":
    sys.exit(main())
