#!/usr/bin/env python3
"""What process churn costs syscount: N short-lived processes next to a known workload.

For each mode, one syscount runs while `churnbench --churn N` (the test workload under
its own name: fork + exit, one after another, ~6 000 a second here) and a known
getppid loop run. Reported, from the start of the churn to its end:

- syscount's own CPU (utime + stime from /proc/PID/stat), as % of one core;
- syscount's own system calls, counted exactly by a second syscount watching it
  (`syscount -p PID`), against the churn's (4 per process: clone and wait4 in the
  parent, set_robust_list and exit_group in the child);
- syscount's RSS sampled every 0.25 s: a quarter and half way through the churn, and at
  its end (flat from the half on = bounded);
- exactness: the churn's calls as syscount reports them (clone == N, exit_group ==
  N + 1), and breakdown rows + other == total syscall by syscall.

    sudo .venv/bin/python bench/churn.py [--processes 60000] [--rate 6000] [--only -P,--by-thread] [--src DIR]

``--src DIR`` runs another checkout's syscount (its ``src``, built) instead: the figures
before a change. Needs root and the built objects and workload (``make bpf workloads``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from procstat import cpu_seconds, status_kb

ROOT = Path(__file__).resolve().parents[1]
WORKLOAD = ROOT / "tests" / "workloads" / "build" / "workload"
SYSCOUNT = [sys.executable, "-m", "syscount"]
NAME = "churnbench"  # a thread name of its own: --by-comm and --labels comm find it
PER_PROCESS = 4  # clone + wait4 (parent), set_robust_list + exit_group (child)
KNOWN_CALLS = 200_000  # the known workload's getppid
SAMPLE_S = 0.25


@dataclass
class Result:
    mode: str
    seconds: float = 0.0
    cpu_s: float = 0.0
    own_calls: int = 0
    rss_kb: list[int] = field(default_factory=list)
    exact: str = ""


def wait_for_line(process: subprocess.Popen[str], marker: str) -> None:
    assert process.stderr is not None
    line = process.stderr.readline()
    if marker not in line:
        process.kill()
        raise RuntimeError(f"did not start: {line.strip()} {process.communicate()[1].strip()}")


class Monitor:
    """A second syscount counting the first's calls exactly (-p)."""

    def __init__(self, pid: int) -> None:
        argv = [*SYSCOUNT, "-p", str(pid), "-i", "3600", "--format", "json"]
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_line(self.process, "syscount: counting")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        out, _ = self.process.communicate(timeout=30)
        return int(json.loads(out.splitlines()[-1])["total"])


CHURN_RATE = 0  # processes a second; 0: as fast as the machine forks (--rate)


def churn_argv(binary: Path, processes: int, *, held: bool = False) -> list[str]:
    rate = ["--churn-rate", str(CHURN_RATE)] if CHURN_RATE else []
    return [str(binary), *rate, "--churn", str(processes), *(["--wait-stdin"] if held else [])]


@dataclass
class Launch:
    """How one mode is started: syscount's argv, and the churn if it must exist first."""

    argv: list[str]
    churn: subprocess.Popen[bytes] | None = None
    port: int = 0


def launch(mode: str, binary: Path, processes: int, log: Path) -> Launch:
    if mode == "-- COMMAND":  # the report goes to stderr (the command's stdout stays its own): -o
        return Launch([*SYSCOUNT, "--format", "json", "-o", str(log), "--", *churn_argv(binary, processes, held=True)])
    if mode == "-p":
        churn = subprocess.Popen(churn_argv(binary, processes, held=True), stdin=subprocess.PIPE)
        return Launch([*SYSCOUNT, "-p", str(churn.pid), "-i", "1", "--format", "json"], churn)
    if mode == "serve --labels comm":
        port = free_port()
        return Launch([*SYSCOUNT, "serve", "--labels", "comm", "--listen", f"127.0.0.1:{port}"], port=port)
    return Launch([*SYSCOUNT, *mode.split(), "-i", "1", "--format", "json"])


def start_churn(
    how: Launch, tool: subprocess.Popen[str], churn_args: list[str], command: int | None
) -> Callable[[], bool]:
    """Let the churn go; returns "has it ended?"."""
    if command is not None:
        assert tool.stdin is not None
        tool.stdin.write("g")  # the command waits for a byte on stdin (inherited)
        tool.stdin.flush()
        return lambda: has_ended(command)
    churn = how.churn
    if churn is None:
        churn = how.churn = subprocess.Popen(churn_args, stdin=subprocess.DEVNULL)
    else:
        assert churn.stdin is not None
        churn.stdin.write(b"g")
        churn.stdin.close()
    return lambda: churn.poll() is not None


def run_mode(mode: str, binary: Path, processes: int, src: str | None, out_dir: Path) -> Result:
    env = dict(os.environ, **({"PYTHONPATH": src} if src is not None else {}))
    result = Result(mode)
    log = out_dir / "records.json"
    how = launch(mode, binary, processes, log)
    command_mode = mode == "-- COMMAND"
    # One output: JSON lines every second, to a file (the summary is checked after).
    with log.open("w") as stdout:
        tool = subprocess.Popen(
            how.argv,
            stdin=subprocess.PIPE if command_mode else subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
    try:
        command = held_command(tool.pid) if command_mode else None  # attached: held in the filter
        if command is None:
            wait_for_line(tool, "syscount: counting")
        monitor = Monitor(tool.pid)
        known = subprocess.Popen([str(WORKLOAD), "--getppid", str(KNOWN_CALLS)])
        start_cpu, started = cpu_seconds(tool.pid), time.monotonic()
        ended = start_churn(how, tool, churn_argv(binary, processes), command)
        while not ended():
            result.rss_kb.append(status_kb(tool.pid, "VmRSS"))
            time.sleep(SAMPLE_S)
        result.seconds = time.monotonic() - started
        result.cpu_s = cpu_seconds(tool.pid) - start_cpu
        known.wait()
        if how.port:
            result.exact = check_labels(how.port, processes)
        if not command_mode:
            tool.send_signal(signal.SIGINT)
        result.own_calls = monitor.stop()
        tool.communicate(timeout=60)
        if not how.port:
            result.exact = check_record(mode, json.loads(log.read_text().splitlines()[-1]), processes)
    finally:
        for process in (tool, how.churn):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    return result


def held_command(pid: int) -> int:
    """The command `syscount --` started, once it waits (in the filter) for its byte."""
    for _ in range(200):
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as children:
            found = children.read().split()
        if found:
            time.sleep(0.5)  # syscount releases it to exec, then it blocks reading stdin
            return int(found[0])
        time.sleep(0.05)
    raise RuntimeError("syscount started no command")


def has_ended(pid: int) -> bool:
    """Gone, or a zombie its parent (syscount) has not reaped yet."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_record(mode: str, record: dict[str, Any], processes: int) -> str:
    """The churn's calls as syscount reports them, and rows + other == total."""
    problems = []
    breakdown = record.get("breakdown")
    if breakdown is not None:
        summed: dict[str, int] = dict(breakdown["other"])
        for row in breakdown["rows"]:
            for name, count in row["counts"].items():
                summed[name] = summed.get(name, 0) + count
        if summed != record["counts"]:
            problems.append("rows + other != total")
        if mode == "--by-comm":
            row = next(r for r in breakdown["rows"] if r["comm"] == NAME)
            counts = row["counts"]
        else:
            counts = max(breakdown["rows"], key=lambda r: r["counts"].get("clone", 0))["counts"]
            if counts.get("clone") != processes:
                problems.append(f"churn row clone={counts.get('clone')}")
    if mode in ("-- COMMAND", "-p", "--by-comm"):
        counts = record["counts"] if breakdown is None else counts
        if counts.get("clone") != processes or counts.get("wait4") != processes:
            problems.append(f"clone={counts.get('clone')} wait4={counts.get('wait4')}")
        if mode != "-p" and counts.get("exit_group") != processes + 1:
            problems.append(f"exit_group={counts.get('exit_group')}")
    folded = record.get("notes", {}).get("rows_folded", 0)
    return "; ".join(problems) or f"exact (rows folded: {folded})"


def check_labels(port: int, processes: int) -> str:
    """serve --labels comm: the churn's name has exactly N clones and N + 1 exit_groups."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    counts: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("syscount_syscalls_total{") and f'comm="{NAME}"' in line:
            syscall = line.split('syscall="', 1)[1].split('"', 1)[0]
            counts[syscall] = float(line.rsplit(" ", 1)[1])
    ok = counts.get("clone") == processes and counts.get("exit_group") == processes + 1
    return "exact" if ok else f"clone={counts.get('clone')} exit_group={counts.get('exit_group')}"


def report(results: list[Result], processes: int) -> str:
    workload_calls = processes * PER_PROCESS
    lines = [
        f"{processes} processes, one after another, next to a {KNOWN_CALLS}-getppid loop; workload calls"
        f" {workload_calls} ({PER_PROCESS} per process).",
        "",
        "| mode | churn s | exits/s | syscount CPU (% of a core) | syscount's own calls | vs workload's"
        " | RSS at ¼ → ½ → end | exactness |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        cpu = f"{100 * r.cpu_s / r.seconds:.1f} %"
        marks = [r.rss_kb[len(r.rss_kb) * k // 4] for k in (1, 2)] + r.rss_kb[-1:] if r.rss_kb else []
        rss = " → ".join(f"{kb / 1024:.1f}" for kb in marks) + " MB"
        lines.append(
            f"| `{r.mode}` | {r.seconds:.1f} | {processes / r.seconds:,.0f} | {cpu} | {r.own_calls:,}"
            f" | {100 * r.own_calls / workload_calls:.1f} % | {rss} | {r.exact} |"
        )
    return "\n".join(lines)


MODES = ["-P", "--by-thread", "--by-comm", "-p", "-- COMMAND", "serve --labels comm"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=60_000)
    parser.add_argument("--rate", type=int, default=0, help="hold the churn at this many processes a second")
    parser.add_argument("--only", help=f"comma-separated modes: {','.join(MODES)}")
    parser.add_argument("--src", metavar="DIR", help="run syscount from DIR (another checkout's src)")
    options = parser.parse_args()
    global CHURN_RATE
    CHURN_RATE = options.rate
    if os.geteuid() != 0:
        print("bench: needs root", file=sys.stderr)
        return 1
    modes = options.only.split(",") if options.only else MODES
    with tempfile.TemporaryDirectory(prefix="syscount-churn-") as directory:
        binary = Path(directory) / NAME
        shutil.copy(WORKLOAD, binary)
        results = []
        for mode in modes:
            results.append(run_mode(mode, binary, options.processes, options.src, Path(directory)))
            print(f"{mode}: done", file=sys.stderr)
    print(report(results, options.processes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
