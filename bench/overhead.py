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
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from syscount.objects import BpfObject  # noqa: E402

WORKLOAD = ROOT / "tests" / "workloads" / "build" / "workload"
SYSCOUNT = [sys.executable, "-m", "syscount"]
BPFTRACE_COUNT = "tracepoint:raw_syscalls:sys_enter { @[args->id] = count(); }"
WORKLOAD_CPU = "1"
SETTLE_S = float(os.environ.get("BENCH_SETTLE_S", "0.3"))


Wrap = Callable[[list[str]], list[str]]
Attach = Callable[["Config", int], AbstractContextManager[None]]


@dataclass
class Config:
    """One way of running the workload: wrapped by a tracer (ptrace) or watched by one (BPF)."""

    name: str
    wrap: Wrap | None = None
    attach: Attach | None = None
    calls_divisor: int = 1  # ptrace tracers are ~100x slower: fewer calls keep runs short
    samples: list[float] = field(default_factory=list)
    attach_s: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    error: str = ""


def workload_argv(calls: int) -> list[str]:
    """The getppid loop, pinned, held until released so BPF tracers can attach to its pid."""
    return ["taskset", "-c", WORKLOAD_CPU, str(WORKLOAD), "--getppid", str(calls), "--loop-report", "--wait-stdin"]


def ns_per_call(output: str) -> float:
    for line in output.splitlines():
        if line.startswith("NS_PER_CALL"):
            return float(line.split()[1])
    raise RuntimeError(f"workload printed no timing: {output!r}")


# -- tracers -----------------------------------------------------------------------


@contextmanager
def floor(config: Config, pid: int) -> Iterator[None]:
    with BpfObject("floor") as bpf:
        bpf.set_autoload("floor_exit", False)
        bpf.load()
        bpf.attach("floor_enter")
        yield


@contextmanager
def background(argv_tracer: list[str], ready: str, config: Config, *, stream: str = "stderr") -> Iterator[None]:
    """Start a tracer, wait until it says it is attached, stop it with SIGINT."""
    started = time.monotonic()
    process = subprocess.Popen(argv_tracer, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pipe = process.stderr if stream == "stderr" else process.stdout
    assert pipe is not None
    line = pipe.readline()
    if ready not in line:
        process.kill()
        raise RuntimeError(f"{argv_tracer[0]} did not attach: {line.strip()} {process.communicate()[1].strip()}")
    config.attach_s.append(time.monotonic() - started)
    time.sleep(SETTLE_S)  # let the tracer finish starting up before the workload runs
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


def syscount(*extra: str, per_pid: bool = False) -> Attach:
    def attach(config: Config, pid: int) -> AbstractContextManager[None]:
        target = ["-p", str(pid)] if per_pid else []
        argv = [*SYSCOUNT, "-i", "1", "--format", "json", *target, *extra]
        return background(argv, "syscount: counting", config)

    return attach


def bpftrace(config: Config, pid: int) -> AbstractContextManager[None]:
    return background(["bpftrace", "-e", BPFTRACE_COUNT], "Attaching", config, stream="stdout")


def strace_c(argv: list[str]) -> list[str]:
    return ["strace", "-c", "-f", "-o", "/dev/null", *argv]


def perf_trace_s(argv: list[str]) -> list[str]:
    return ["perf", "trace", "-s", "-o", "/dev/null", "--", *argv]


# -- the run -----------------------------------------------------------------------


def configs(wanted: set[str] | None) -> list[Config]:
    all_configs = [
        Config("no tracing"),
        Config("floor: empty raw_tp sys_enter", attach=floor),
        Config("syscount (system-wide)", attach=syscount()),
        Config("syscount -p PID", attach=syscount(per_pid=True)),
    ]
    if shutil.which("bpftrace"):
        all_configs.append(Config("bpftrace count one-liner", attach=bpftrace))
    if shutil.which("strace"):
        all_configs.append(Config("strace -c -f", wrap=strace_c, calls_divisor=20))
    if shutil.which("perf"):
        all_configs.append(Config("perf trace -s", wrap=perf_trace_s, calls_divisor=20))
    return [c for c in all_configs if wanted is None or c.name.split()[0].rstrip(":") in wanted]


def measure(config: Config, calls: int) -> None:
    argv = workload_argv(max(1000, calls // config.calls_divisor))
    if config.wrap is not None:
        argv = config.wrap(argv)
    workload = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        with config.attach(config, workload.pid) if config.attach else nullcontext():
            out, err = workload.communicate(b"g", timeout=600)
        if workload.returncode != 0:
            raise RuntimeError(err.decode().strip().splitlines()[-1] if err.strip() else "failed")
        config.samples.append(ns_per_call(out.decode()))
    except (RuntimeError, OSError) as exc:
        config.error = str(exc)
    finally:
        if workload.poll() is None:
            workload.kill()
            workload.wait()


def iqr(samples: list[float]) -> str:
    """The middle half of the samples: how noisy this configuration's runs were."""
    if len(samples) < 4:
        return "—"
    low, _, high = statistics.quantiles(samples, n=4)
    return f"{low:.0f}–{high:.0f}"


def report(results: list[Config], rounds: int, calls: int) -> str:
    base = statistics.median(results[0].samples)
    floor_cfg = next((c for c in results if c.name.startswith("floor") and c.samples), None)
    floor_added = statistics.median(floor_cfg.samples) - base if floor_cfg else float("nan")
    lines = [
        f"{rounds} rounds, {calls} getppid per run (ptrace tracers: 1/20 of that), workload pinned to CPU"
        f" {WORKLOAD_CPU}; medians.",
        "",
        "| configuration | ns/call | IQR | added ns/call | added vs floor | slowdown | start→attached | peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for config in results:
        if not config.samples:
            lines.append(f"| {config.name} | — | — | — | — | — | — | not run: {config.error} |")
            continue
        median = statistics.median(config.samples)
        added = median - base
        versus = f"{added / floor_added:.2f}×" if floor_added > 0 and config is not results[0] else "—"
        attach = f"{statistics.median(config.attach_s) * 1000:.0f} ms" if config.attach_s else "—"
        rss = f"{max(config.rss_kb) / 1024:.1f} MB" if config.rss_kb else "—"
        lines.append(
            f"| {config.name} | {median:.1f} | {iqr(config.samples)} | {added:.1f} | {versus} | {median / base:.2f}×"
            f" | {attach} | {rss} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--calls", type=int, default=500_000)
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
