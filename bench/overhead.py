#!/usr/bin/env python3
"""Added cost per system call: syscount side by side with no tracing, the floor and peers.

All configurations run in one process, interleaved round by round (so a noisy
neighbour hits them alike), and the report gives medians. The workload is the test
workload: a tight getppid loop pinned to one CPU that times itself (vDSO clock, so
the timing adds no system call), so ``ns/call`` is the cost of one traced syscall.

    sudo .venv/bin/python bench/overhead.py [--rounds 5] [--calls 2000000] [--before DIR]

``--before DIR`` adds rows (system-wide, -p, -- COMMAND, -P, -L) run from another
checkout's ``src`` (built), so a change is measured against the code before it in one run.

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

from procstat import status_kb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


WORKLOAD = ROOT / "tests" / "workloads" / "build" / "workload"
SYSCOUNT = [sys.executable, "-m", "syscount"]
BPFTRACE_COUNT = "tracepoint:raw_syscalls:sys_enter { @[args->id] = count(); }"
BPFTRACE_LATENCY = (
    "tracepoint:raw_syscalls:sys_enter { @s[tid] = nsecs; } "
    "tracepoint:raw_syscalls:sys_exit /@s[tid]/ { @[args->id] = hist(nsecs - @s[tid]); delete(@s[tid]); }"
)
REAL_PROGRAM = ["tar", "cf", "/dev/null", "/usr/include"]
WORKLOAD_CPU = "1"
SETTLE_S = float(os.environ.get("BENCH_SETTLE_S", "0.3"))


Wrap = Callable[[list[str]], list[str]]
Attach = Callable[["Config", int], AbstractContextManager[None]]


@dataclass
class Config:
    """One way of running the workload: wrapped by a tracer (ptrace) or watched by one (BPF)."""

    key: str  # for --only
    name: str
    floor: str = "floor"  # the floor this configuration is compared with
    wrap: Wrap | None = None
    attach: Attach | None = None
    calls_divisor: int = 1  # ptrace tracers are ~100x slower: fewer calls keep runs short
    samples: list[float] = field(default_factory=list)
    baselines: list[float] = field(default_factory=list)  # an untraced run right before each sample
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


FLOOR_SCRIPT = """
import signal, sys
from syscount.kernel.objects import BpfObject
programs = sys.argv[1:]
with BpfObject("floor") as bpf:
    for program in {"floor_enter", "floor_exit"} - set(programs):
        bpf.set_autoload(program, False)
    bpf.load()
    for program in programs:
        bpf.attach(program)
    sys.stderr.write("floor: attached\\n")
    sys.stderr.flush()
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
"""


def floor(*programs: str) -> Attach:
    """The floor runs in a process of its own, like every tracer it is compared with."""

    def attach(config: Config, pid: int) -> AbstractContextManager[None]:
        return background([sys.executable, "-c", FLOOR_SCRIPT, *programs], "floor: attached", config)

    return attach


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
        config.rss_kb.append(status_kb(process.pid, "VmHWM"))
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # seen once with bpftrace printing a large map
            process.kill()
            process.communicate()


def syscount(*extra: str, per_pid: bool = False, src: str | None = None) -> Attach:
    def attach(config: Config, pid: int) -> AbstractContextManager[None]:
        target = ["-p", str(pid)] if per_pid else []
        argv = [*SYSCOUNT, "-i", "1", "--format", "json", *target, *extra]
        return background(_from(src, argv), "syscount: counting", config)

    return attach


def syscount_command(src: str | None = None) -> Wrap:
    """`syscount -- COMMAND`: syscount starts the workload (taskset, then its exec of the
    workload: an exec chain it follows); the workload times its own loop, so syscount's
    start-up does not count."""

    def wrap(argv: list[str]) -> list[str]:
        return _from(src, [*SYSCOUNT, "-o", "/dev/null", "--", *argv])

    return wrap


def _from(src: str | None, argv: list[str]) -> list[str]:
    """Run syscount from another checkout's src (``--before``)."""
    return argv if src is None else ["env", f"PYTHONPATH={src}", *argv]


def bpftrace(program: str) -> Attach:
    def attach(config: Config, pid: int) -> AbstractContextManager[None]:
        return background(["bpftrace", "-e", program], "Attaching", config, stream="stdout")

    return attach


def strace_c(argv: list[str]) -> list[str]:
    return ["strace", "-c", "-f", "-o", "/dev/null", *argv]


def syscount_trace(*extra: str, src: str | None = None) -> Wrap:
    """``syscount trace -- COMMAND``: every call decoded, to /dev/null; the workload times itself."""

    def wrap(argv: list[str]) -> list[str]:
        return _from(src, [*SYSCOUNT, "trace", "-o", "/dev/null", *extra, "--", *argv])

    return wrap


def perf_trace_s(argv: list[str]) -> list[str]:
    return ["perf", "trace", "-s", "-o", "/dev/null", "--", *argv]


# -- the run -----------------------------------------------------------------------


def configs(wanted: set[str] | None, before: str | None = None) -> list[Config]:
    all_configs = [
        Config("none", "no tracing"),
        Config("floor", "floor: empty raw_tp on sys_enter", attach=floor("floor_enter")),
        Config("syscount", "syscount (system-wide)", attach=syscount()),
        Config("syscount-self", "syscount --include-self (system-wide)", attach=syscount("--include-self")),
        Config("syscount-p", "syscount -p PID", attach=syscount(per_pid=True)),
        Config("syscount-cmd", "syscount -- COMMAND", wrap=syscount_command()),
        Config("syscount-P", "syscount -P (per process, system-wide)", "syscount", attach=syscount("-P")),
        Config(
            "syscount-comm",
            "syscount --comm workload -s getppid (filtered)",
            "syscount",
            attach=syscount("--comm", "workload", "-s", "getppid"),
        ),
        Config("floor2", "floor: empty raw_tp on sys_enter + sys_exit", attach=floor("floor_enter", "floor_exit")),
        Config("syscount-L", "syscount -L (system-wide)", "floor2", attach=syscount("-L")),
        Config("trace", "syscount trace -- COMMAND", "floor2", wrap=syscount_trace()),
        Config(
            "trace-json", "syscount trace --format json -- COMMAND", "floor2", wrap=syscount_trace("--format", "json")
        ),
    ]
    if before is not None:
        all_configs += [
            Config("before", "before: syscount (system-wide)", attach=syscount(src=before)),
            Config("before-p", "before: syscount -p PID", attach=syscount(per_pid=True, src=before)),
            Config("before-cmd", "before: syscount -- COMMAND", wrap=syscount_command(before)),
            Config("before-P", "before: syscount -P", "syscount", attach=syscount("-P", src=before)),
            Config("before-L", "before: syscount -L", "floor2", attach=syscount("-L", src=before)),
            Config("before-trace", "before: syscount trace -- COMMAND", "floor2", wrap=syscount_trace(src=before)),
        ]
    if shutil.which("bpftrace"):
        all_configs.append(Config("bpftrace", "bpftrace count one-liner", attach=bpftrace(BPFTRACE_COUNT)))
        all_configs.append(
            Config("bpftrace-L", "bpftrace latency one-liner", "floor2", attach=bpftrace(BPFTRACE_LATENCY))
        )
    if shutil.which("strace"):
        all_configs.append(Config("strace", "strace -c -f", wrap=strace_c, calls_divisor=20))
    if shutil.which("perf"):
        all_configs.append(Config("perf", "perf trace -s", wrap=perf_trace_s, calls_divisor=20))
    return [c for c in all_configs if wanted is None or c.key in wanted or c.key == "none"]


def untraced(calls: int) -> float:
    argv = workload_argv(calls)
    result = subprocess.run(argv, input=b"g", capture_output=True, timeout=600, check=True)
    return ns_per_call(result.stdout.decode())


def measure(config: Config, calls: int) -> None:
    n = max(1000, calls // config.calls_divisor)
    # Each traced run is paired with an untraced one just before it: the machine's
    # speed drifts over seconds here, and the pair's difference cancels the drift.
    baseline = untraced(n)
    argv = workload_argv(n)
    if config.wrap is not None:
        argv = config.wrap(argv)
    workload = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        with config.attach(config, workload.pid) if config.attach else nullcontext():
            out, err = workload.communicate(b"g", timeout=600)
        if workload.returncode != 0:
            raise RuntimeError(err.decode().strip().splitlines()[-1] if err.strip() else "failed")
        config.samples.append(ns_per_call(out.decode()))
        config.baselines.append(baseline)
    except (RuntimeError, OSError) as exc:
        config.error = str(exc)
    finally:
        if workload.poll() is None:
            workload.kill()
            workload.wait()


def paired_added(config: Config) -> float:
    """Median over rounds of (traced - the untraced run just before it), in ns per call."""
    return statistics.median(s - b for s, b in zip(config.samples, config.baselines, strict=True))


def iqr(samples: list[float]) -> str:
    """The middle half of the samples: how noisy this configuration's runs were."""
    if len(samples) < 4:
        return "—"
    low, _, high = statistics.quantiles(samples, n=4)
    return f"{low:.0f}–{high:.0f}"


def report(results: list[Config], rounds: int, calls: int) -> str:
    added_by_key = {c.key: paired_added(c) for c in results if c.samples}
    lines = [
        f"{rounds} rounds, {calls} getppid per run (ptrace tracers: 1/20 of that), workload pinned to CPU"
        f" {WORKLOAD_CPU}; medians.",
        "",
        "| configuration | ns/call | IQR | added ns/call (paired) | added vs its reference | slowdown | start→attached"
        " | peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for config in results:
        if not config.samples:
            lines.append(f"| {config.name} | — | — | — | — | — | — | not run: {config.error} |")
            continue
        median = statistics.median(config.samples)
        added = added_by_key[config.key]
        floor_added = added_by_key.get(config.floor, float("nan"))
        versus = "—"
        if floor_added > 0 and config.key not in ("none", config.floor):
            versus = f"{added / floor_added:.2f}× {config.floor}"
        attach = f"{statistics.median(config.attach_s) * 1000:.0f} ms" if config.attach_s else "—"
        rss = f"{max(config.rss_kb) / 1024:.1f} MB" if config.rss_kb else "—"
        lines.append(
            f"| {config.name} | {median:.1f} | {iqr(config.samples)} | {added:.1f} | {versus}"
            f" | {median / statistics.median(config.baselines):.2f}×"
            f" | {attach} | {rss} |"
        )
    return "\n".join(lines)


def _time_run(argv: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.monotonic() - started


def real_program(rounds: int) -> str:
    """Wall time of a real program (tar of /usr/include): alone, with syscount -L attached
    (system-wide, already running: the cost to the program), as `syscount -L -- tar`
    (what a user types: includes syscount's start-up), and under strace -c -f."""
    times: dict[str, list[float]] = {}
    watcher = Config("watch", "syscount -L attached")
    for _ in range(rounds):
        times.setdefault("alone", []).append(_time_run(REAL_PROGRAM))
        with syscount("-L")(watcher, 0):
            times.setdefault("with syscount -L attached (system-wide)", []).append(_time_run(REAL_PROGRAM))
        command = [*SYSCOUNT, "-L", "-o", "/dev/null", "--", *REAL_PROGRAM]
        times.setdefault("`syscount -L -- tar` (incl. ~0.1 s start-up)", []).append(_time_run(command))
        strace = ["strace", "-c", "-f", "-o", "/dev/null", *REAL_PROGRAM]
        times.setdefault("`strace -c -f tar`", []).append(_time_run(strace))
    alone = statistics.median(times["alone"])
    lines = [
        "",
        f"Real program: `{' '.join(REAL_PROGRAM)}`, wall time, median of {rounds}.",
        "",
        "| run | seconds | slowdown |",
        "|---|---:|---:|",
    ]
    for name, samples in times.items():
        median = statistics.median(samples)
        lines.append(f"| {name} | {median:.3f} | {median / alone:.2f}× |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--calls", type=int, default=500_000)
    parser.add_argument(
        "--only",
        help="comma-separated keys: none,floor,syscount,syscount-self,syscount-p,syscount-cmd,syscount-P,"
        "syscount-comm,floor2,syscount-L,trace,trace-json,bpftrace,bpftrace-L,strace,perf,before,before-p,before-cmd,"
        "before-P,before-L,before-trace",
    )
    parser.add_argument("--before", metavar="DIR", help="also run the before-* rows from DIR (another checkout's src)")
    parser.add_argument("--real-rounds", type=int, default=5, help="rounds of the real-program comparison (0: skip)")
    options = parser.parse_args()
    if os.geteuid() != 0:
        print("bench: needs root", file=sys.stderr)
        return 1
    wanted = set(options.only.split(",")) if options.only else None
    results = configs(wanted, options.before)
    for round_number in range(options.rounds):
        # Rotate the order each round so no configuration always runs first or last.
        shift = round_number % len(results)
        for config in results[shift:] + results[:shift]:
            measure(config, options.calls)
        print(f"round {round_number + 1}/{options.rounds} done", file=sys.stderr)
    print(report(results, options.rounds, options.calls))
    if options.real_rounds and shutil.which("strace"):
        print(real_program(options.real_rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
