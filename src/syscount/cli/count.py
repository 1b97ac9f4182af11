"""The count command: argv → collector + sinks → interval loop → summary."""

from __future__ import annotations

import sys
import time
from contextlib import ExitStack
from typing import TYPE_CHECKING, TextIO

from ..errors import PermissionDenied, TargetError
from ..filters import Filters
from ..kernel.objects import is_privileged
from ..names.syscalls import native_table
from ..programs.counts import CountsProgram
from ..programs.track import ProcessFilter
from ..targets import HeldCommand, process_tgid
from .args import CountArgs
from .targeting import exit_status, select_targets
from .waiting import Waiter

if TYPE_CHECKING:
    from ..model import Snapshot
    from ..programs.latency import LatencyProgram
    from ..readings import Source
    from ..sinks import Sink

EXIT_OK = 0


def list_syscalls(out: TextIO) -> int:
    from ..names.syscalls import native_table

    for number, name in native_table().items():
        out.write(f"{number} {name}\n")
    return EXIT_OK


class Outputs:
    """Where snapshots go: the report stream and, with -o, the log file."""

    def __init__(self, sinks: list[Sink], *, report_intervals: bool) -> None:
        self.sinks = sinks
        self.report_intervals = report_intervals

    def emit(self, snapshot: Snapshot) -> None:
        for sink in self.sinks:
            sink.emit(snapshot)


def open_log(args: CountArgs, stack: ExitStack) -> TextIO | None:
    """Open the -o file before attaching, so a bad path fails before any BPF work."""
    if args.output is None:
        return None
    try:
        return stack.enter_context(open(args.output, "a", encoding="utf-8"))
    except OSError as exc:
        raise TargetError(f"cannot write log file {args.output}: {exc.strerror}") from exc


def make_outputs(args: CountArgs, log: TextIO | None) -> Outputs:
    # Imported here, after attaching: keeps the time from start to attached short.
    from ..sinks import SinkOptions, open_sink

    # With a command, syscount's report goes to stderr (like strace -c), keeping the
    # command's stdout its own.
    report: TextIO = sys.stderr if args.command else sys.stdout
    options = SinkOptions(args.top, args.latency, args.histogram, args.summary, args.breakdown is not None)
    if log is None:
        sinks = [open_sink(args.format, report, log=False, options=options)]
    else:
        sinks = [
            open_sink(args.format, log, log=True, options=options),
            open_sink("text", report, log=False, options=options),
        ]
    return Outputs(sinks, report_intervals=args.interval_given or not args.command)


def run(args: CountArgs) -> int:
    if args.list_syscalls:
        return list_syscalls(sys.stdout)
    # Everything the user can get wrong is checked before any BPF work.
    tgids = [process_tgid(pid) for pid in args.pids]
    command = HeldCommand(args.command) if args.command else None
    with ExitStack() as stack:
        log = open_log(args, stack)
        if not is_privileged():
            raise PermissionDenied("counting system calls needs BPF")
        process_filter = stack.enter_context(ProcessFilter()) if tgids or command else None
        collector = _collector(args, Filters(args.selection, process_filter, native_table()))
        stack.enter_context(collector)
        waiter = stack.enter_context(Waiter())
        started = time.monotonic()  # counting runs from here
        if process_filter is not None:
            select_targets(process_filter, waiter, tgids, command)
        if command is None:
            _announce(args, tgids)
        _loop(args, _source(args, collector), make_outputs(args, log), waiter, started)
        return exit_status(command, waiter)


def _collector(args: CountArgs, filters: Filters) -> CountsProgram | LatencyProgram:
    if args.latency or filters.selection.needs_exit:
        from ..programs.latency import LatencyProgram

        return LatencyProgram(filters, args.breakdown, max_rows=args.max_rows)
    return CountsProgram(filters, args.breakdown, max_rows=args.max_rows)


def _source(args: CountArgs, program: CountsProgram | LatencyProgram) -> Source:
    from ..readings import Source, reader_for

    return Source(reader_for(program), show_latency=args.latency)


def _announce(args: CountArgs, tgids: list[int]) -> None:
    who = "processes " + ",".join(map(str, tgids)) if tgids else "all processes"
    every = f"every {args.interval:g} s" if args.interval else ""
    sys.stderr.write(f"syscount: counting system calls of {who} {every}; Ctrl-C to stop\n")
    sys.stderr.flush()


def _loop(args: CountArgs, source: Source, outputs: Outputs, waiter: Waiter, started: float) -> None:
    """Report every interval until a stop; then detach and flush from one last reading."""
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
            outputs.emit(source.interval(now - last))
            last = now
            while next_tick <= now:
                next_tick += args.interval
    # Detach first: the last reading is then complete, and the partial interval and
    # the summary come from the same reading, so the intervals add up to the summary.
    source.detach()
    now = time.monotonic()
    partial = source.interval(now - last)
    if outputs.report_intervals and now > last:
        outputs.emit(partial)
    outputs.emit(source.summary(now - started))
