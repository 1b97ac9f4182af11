"""The count command: argv → collector + sinks → interval loop → summary."""

from __future__ import annotations

import signal
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TextIO

from ..collectors.counts import CountsCollector, Differ
from ..errors import PermissionDenied, TargetError
from ..objects import is_privileged
from ..sinks import Sink, open_sink
from ..snapshot import Snapshot
from ..targets import HeldCommand, process_tgid
from .args import CountArgs
from .waiting import Waiter

EXIT_OK = 0


def list_syscalls(out: TextIO) -> int:
    from ..syscalls import native_table

    for number, name in native_table().items():
        out.write(f"{number} {name}\n")
    return EXIT_OK


@dataclass
class Outputs:
    """Where snapshots go: the report stream and, with -o, the log file."""

    sinks: list[Sink]
    report_intervals: bool

    def emit(self, snapshot: Snapshot) -> None:
        for sink in self.sinks:
            sink.emit(snapshot)


def open_outputs(args: CountArgs, stack: ExitStack) -> Outputs:
    """Open every output before attaching, so a bad path fails before any BPF work."""
    # With a command, syscount's report goes to stderr (like strace -c), keeping the
    # command's stdout its own.
    report: TextIO = sys.stderr if args.command else sys.stdout
    sinks: list[Sink] = []
    if args.output is not None:
        try:
            log = stack.enter_context(open(args.output, "a", encoding="utf-8"))  # noqa: SIM115
        except OSError as exc:
            raise TargetError(f"cannot write log file {args.output}: {exc.strerror}") from exc
        sinks.append(open_sink(args.format, log, log=True))
        sinks.append(open_sink("text", report, log=False, top=args.top))
    else:
        sinks.append(open_sink(args.format, report, log=False, top=args.top))
    return Outputs(sinks=sinks, report_intervals=args.interval_given or not args.command)


def run(args: CountArgs) -> int:
    if args.list_syscalls:
        return list_syscalls(sys.stdout)
    # Everything the user can get wrong is checked before any BPF work.
    tgids = [process_tgid(pid) for pid in args.pids]
    command = HeldCommand(args.command) if args.command else None
    with ExitStack() as stack:
        outputs = open_outputs(args, stack)
        if not is_privileged():
            raise PermissionDenied("counting system calls needs BPF")
        collector = stack.enter_context(CountsCollector(filter_processes=bool(tgids or command)))
        waiter = stack.enter_context(Waiter())
        for tgid in tgids:
            collector.track(tgid)
            waiter.watch(tgid)
        if command is not None:
            _start(command, collector, waiter)
        else:
            _announce(args, tgids)
        _loop(args, collector, outputs, waiter, time.monotonic())
        return _exit_status(command, waiter)


def _start(command: HeldCommand, collector: CountsCollector, waiter: Waiter) -> None:
    """Fork the command held before exec, add it to the filter, then let it run."""
    command.spawn()
    try:
        collector.track_from_exec(command.pid)
        waiter.watch(command.pid)
    except BaseException:
        command.abandon()
        raise
    command.release()


def _announce(args: CountArgs, tgids: list[int]) -> None:
    who = "processes " + ",".join(map(str, tgids)) if tgids else "all processes"
    every = f"every {args.interval:g} s" if args.interval else ""
    sys.stderr.write(f"syscount: counting system calls of {who} {every}; Ctrl-C to stop\n")
    sys.stderr.flush()


def _loop(args: CountArgs, collector: CountsCollector, outputs: Outputs, waiter: Waiter, started: float) -> None:
    """Report every interval until a stop; then detach and flush from one last reading."""
    differ = Differ(collector)
    deadline = started + args.duration if args.duration else float("inf")
    last = started
    next_tick = started + args.interval
    while True:
        wake = min(deadline, next_tick) if outputs.report_intervals else deadline
        waiter.wait(min(wake - time.monotonic(), 3600.0))
        now = time.monotonic()
        if waiter.signal is not None or waiter.all_exited() or now >= deadline:
            break
        if outputs.report_intervals and now >= next_tick:
            outputs.emit(differ.interval(now - last, collector.read()))
            last = now
            while next_tick <= now:
                next_tick += args.interval
    # Detach first: the last reading is then complete, and the partial interval and
    # the summary come from the same reading, so the intervals add up to the summary.
    collector.detach()
    final = collector.read()
    now = time.monotonic()
    if outputs.report_intervals and now > last:
        outputs.emit(differ.interval(now - last, final))
    outputs.emit(differ.summary(now - started, final))


def _exit_status(command: HeldCommand | None, waiter: Waiter) -> int:
    if command is not None:
        if waiter.signal == signal.SIGTERM:
            command.terminate()  # the terminal delivers SIGINT to it already; SIGTERM is ours alone
        status = command.poll()
        if status is not None:
            return status
    if waiter.signal is not None:
        return 128 + waiter.signal
    return EXIT_OK
