"""The count command: argv → collector + sinks → interval loop → summary.

Plain ``syscount ARGS`` (or ``syscount count ARGS``); the contract is in the README.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from functools import partial
from typing import TYPE_CHECKING, NamedTuple, TextIO, cast

from ..errors import OutputError
from ..filters import Filters, Selection
from ..names.syscalls import native_table
from ..programs.counts import CountsProgram
from ..programs.track import ProcessFilter
from ..sinks import FORMATS
from ..sinks.logfile import LogFile
from . import common
from .about import add_about_options
from .filter_args import add_filter_options, filter_texts, selection_from
from .targeting import exit_status, resolve_targets, select_targets
from .waiting import Waiter

if TYPE_CHECKING:
    from ..model import Snapshot
    from ..programs.latency import LatencyProgram
    from ..readings import Source
    from ..sinks import Sink

DOING = "counting"  # system calls, in the announcement and the privilege error

USAGE = """\
syscount [-i SECONDS] [-d SECONDS] [-T N] [-p PID[,PID...]] [-o FILE]
                [--format text|json|csv] [-L] [--histogram] [--summary]
                [-P | --by-thread | --by-cgroup | --by-comm] [--max-rows N]
                [--comm NAME] [-u UID] [--cgroup PATH]
                [-s LIST] [-x] [-e ERRNO] [--list] [--debug] [-- COMMAND [ARG...]]
                [--version] [--print-completion bash|zsh]"""

DESCRIPTION = """\
Count Linux system calls in the kernel with eBPF, at near-zero overhead.
Every interval, print the system calls made since the last one; on exit
(-d elapsed, Ctrl-C, SIGTERM, or the traced command ending) print the
partial last interval and a summary for the whole run.
"""

EXAMPLES = """\
examples:
  syscount                      count every process, print the top 10 each second
  syscount -i 5 -T 0            every 5 s, all syscalls with a non-zero count
  syscount -p 1234,5678         only these processes (all their threads)
  syscount -- make -j2          run a command, count it and all its descendants
                                (like strace -c -f), exit with its exit status
  syscount -d 60 -o calls.log   one minute, appending the seed's `name: count` log
  syscount --format json -d 10  JSON lines on stdout; the last has "final": true
  syscount -L -- tar cf /dev/null /usr/include
                                time in each syscall and errors by errno,
                                like strace -c -f but in the kernel
  syscount --summary -- ls      end with strace -c's columns: % time, seconds,
                                usecs/call, calls, errors, syscall
  syscount --histogram -d 5     latency histograms per syscall, system-wide
  syscount -P -T 5               per process: the top processes and their top syscalls
  syscount -s %file,!openat     only file syscalls, but not openat
  syscount -x -P                only failing calls, per process, with their errnos
  syscount -e ENOENT -- make    which calls of a build fail with ENOENT
  syscount --comm nginx -u www-data --cgroup system.slice/nginx.service
  syscount --list               the syscall table of this machine
  sudo syscount doctor          check that this machine has what syscount needs
  syscount --print-completion bash > ~/.local/share/bash-completion/completions/syscount

Names that processes choose (thread names, cgroup paths) are printed escaped
(\\033, \\n, \\xff). SIGHUP reopens -o FILE (for logrotate); a full disk or another
write error on FILE is a one-line warning, counting goes on.
Exit status: 0; the command's with -- COMMAND; 130 after Ctrl-C, 143 after SIGTERM;
74 if some intervals could not be written to -o FILE; 1 errors; 2 bad usage.

`syscount count ...` is the same as `syscount ...`. Other commands:
syscount trace (one line per call), syscount serve (Prometheus), syscount top (a
live view driven with keys), syscount doctor (checks this machine), syscount diff
(compare two --format json recordings; a CI gate), syscount report (a recording as an
HTML page of charts); each has --help.

Needs root (or CAP_BPF + CAP_PERFMON). Output formats: docs/output.md.
"""


class CountArgs(NamedTuple):
    interval: float
    interval_given: bool
    duration: float | None
    top: int
    pids: tuple[int, ...]
    output: str | None
    format: str
    list_syscalls: bool
    debug: bool
    command: tuple[str, ...]
    latency: bool = False
    histogram: bool = False
    summary: bool = False
    selection: Selection = Selection()
    breakdown: str | None = None  # "process", "thread", "cgroup" or "comm"
    max_rows: int = 16384
    argv: tuple[str, ...] = ()  # as given, for the recording's metadata
    filter_texts: tuple[tuple[str, str], ...] = ()  # the filters as the user wrote them


def build_parser() -> argparse.ArgumentParser:
    parser = common.command_parser("syscount", USAGE, DESCRIPTION, EXAMPLES)
    parser.add_argument(
        "-i",
        "--interval",
        type=common.positive_seconds,
        metavar="SECONDS",
        help="print every SECONDS (default 1; with -- COMMAND: only the summary unless -i is given)",
    )
    common.add_duration_option(parser)
    parser.add_argument(
        "-T",
        "--top",
        type=common.whole_number,
        default=10,
        metavar="N",
        help="rows in the table (default 10, 0 = all; JSON and CSV always carry all)",
    )
    common.add_pid_option(parser, "count only these processes, all their threads")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="append each interval to FILE (text: the `name: count` log); SIGHUP reopens it",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text (table, or `name: count` log with -o), json (lines) or csv",
    )
    parser.add_argument(
        "-L",
        "--latency",
        action="store_true",
        help="also time each call: total, average, min, max, log2 histogram, errors by errno",
    )
    parser.add_argument(
        "--histogram", action="store_true", help="with the table, print each syscall's latency histogram (implies -L)"
    )
    parser.add_argument(
        "--summary", action="store_true", help="end with a table in strace -c's columns, sorted by time (implies -L)"
    )
    breakdown = parser.add_argument_group("breakdowns").add_mutually_exclusive_group()
    breakdown.add_argument(
        "-P",
        "--by-process",
        dest="breakdown",
        action="store_const",
        const="process",
        help="rows per process (pid and command), each with its syscalls",
    )
    breakdown.add_argument(
        "--by-thread",
        dest="breakdown",
        action="store_const",
        const="thread",
        help="rows per thread (tid and thread name)",
    )
    breakdown.add_argument(
        "--by-cgroup",
        dest="breakdown",
        action="store_const",
        const="cgroup",
        help="rows per cgroup v2 (with the container id where the path shows one)",
    )
    breakdown.add_argument(
        "--by-comm",
        dest="breakdown",
        action="store_const",
        const="comm",
        help="rows per thread name (every process running the same program together)",
    )
    parser.add_argument(
        "--max-rows",
        type=common.whole_number,
        default=16384,
        metavar="N",
        help="keys the kernel keeps for a breakdown (default 16384); beyond, calls go to 'other'",
    )
    add_filter_options(parser)
    parser.add_argument("--list", action="store_true", help="print the syscall table (number name) and exit")
    common.add_debug_option(parser)
    add_about_options(parser)
    return parser


def parse(argv: Sequence[str]) -> CountArgs:
    ns, command = common.parse_options(build_parser(), argv, takes_command=True)
    pids = common.pids_from(ns, command)
    return CountArgs(
        interval=ns.interval if ns.interval is not None else 1.0,
        interval_given=ns.interval is not None,
        duration=ns.duration,
        top=ns.top,
        pids=pids,
        output=ns.output,
        format=ns.format,
        list_syscalls=ns.list,
        debug=ns.debug,
        command=command,
        latency=ns.latency or ns.histogram or ns.summary,
        histogram=ns.histogram,
        summary=ns.summary,
        selection=selection_from(ns),
        breakdown=ns.breakdown,
        max_rows=max(1, ns.max_rows),
        argv=tuple(argv),
        filter_texts=tuple(filter_texts(ns).items()),
    )


def list_syscalls(out: TextIO) -> int:
    from ..names.syscalls import native_table

    for number, name in native_table().items():
        out.write(f"{number} {name}\n")
    return common.ExitStatus.OK


UNWRITTEN = "unwritten_intervals"  # the note: intervals (and summary) -o could not take


class Outputs:
    """Where snapshots go: the report stream and, with -o, the log file (first)."""

    def __init__(self, sinks: list[Sink], *, report_intervals: bool, log: LogFile | None = None) -> None:
        self.sinks = sinks
        self.report_intervals = report_intervals
        self.log = log

    def emit(self, snapshot: Snapshot) -> None:
        for sink in self.sinks:
            sink.emit(self._noted(snapshot))

    def _noted(self, snapshot: Snapshot) -> Snapshot:
        """With the intervals the log could not take so far (after each sink: the log's own
        write may just have failed, and the terminal, next, then says so)."""
        if self.log is None or not self.log.unwritten:
            return snapshot
        from dataclasses import replace  # here: dataclasses costs start-up time

        return replace(snapshot, notes={**snapshot.notes, UNWRITTEN: self.log.unwritten})


def open_log(args: CountArgs, stack: ExitStack) -> LogFile | None:
    """Open the -o file before attaching, so a bad path fails before any BPF work."""
    if args.output is None:
        return None
    try:
        return stack.enter_context(LogFile(args.output, unit="interval"))
    except OSError as exc:
        raise OutputError(f"cannot write log file {args.output}: {exc.strerror}") from exc


def make_outputs(args: CountArgs, log: LogFile | None) -> Outputs:
    # Imported here, after attaching: keeps the time from start to attached short.
    from ..sinks import SinkOptions, open_sink
    from ..sinks.meta import run_meta

    # With a command, syscount's report goes to stderr (like strace -c), keeping the
    # command's stdout its own.
    report: TextIO = sys.stderr if args.command else sys.stdout
    meta = run_meta(args) if args.format == "json" else None
    options = SinkOptions(args.top, args.latency, args.histogram, args.summary, args.breakdown is not None, meta)
    if log is None:
        sinks = [open_sink(args.format, report, log=False, options=options)]
    else:
        sinks = [
            # LogFile has what the sinks use of a text stream (write, flush).
            open_sink(args.format, cast(TextIO, log), log=True, options=options),
            open_sink("text", report, log=False, options=options),
        ]
    return Outputs(sinks, report_intervals=args.interval_given or not args.command, log=log)


def run(args: CountArgs) -> int:
    if args.list_syscalls:
        return list_syscalls(sys.stdout)
    return record(args, lambda stack: partial(make_outputs, args, open_log(args, stack)))


# Given the run's ExitStack before any BPF work (to open files, so a bad path fails
# first); returns what makes the Outputs once attached.
OutputsFactory = Callable[[ExitStack], Callable[[], Outputs]]


def record(args: CountArgs, outputs: OutputsFactory) -> int:
    """Count what ``args`` select until a stop and hand the snapshots to the outputs.

    The count command's whole run, shared with ``syscount seccomp`` (which records
    exactly what ``syscount -- COMMAND`` counts). Returns the exit status.
    """
    # Everything the user can get wrong is checked before any BPF work.
    tgids, command = resolve_targets(args.pids, args.command)
    with ExitStack() as stack:
        make_outputs = outputs(stack)
        common.require_bpf(DOING)
        process_filter = stack.enter_context(ProcessFilter()) if tgids or command else None
        collector = _collector(args, Filters(args.selection, process_filter, native_table()))
        stack.enter_context(collector)
        sinks = make_outputs()  # once attached: the sinks' imports cost no start-up time
        log = sinks.log
        # SIGHUP reopens the log (logrotate); without one it stops syscount as before.
        waiter = stack.enter_context(Waiter(on_hangup=log.request_reopen if log else None))
        started = time.monotonic()  # counting runs from here
        if process_filter is not None:
            select_targets(process_filter, waiter, tgids, command)
        if command is None:
            common.announce(DOING, tgids, f" every {args.interval:g} s" if args.interval else "")
        _loop(args, _source(args, collector), sinks, waiter, started)
        status = exit_status(command, waiter)
        # Said in the warnings and the summary; the status must say it too.
        return common.ExitStatus.WRITE_FAILED if log is not None and log.unwritten else status


def _collector(args: CountArgs, filters: Filters) -> CountsProgram | LatencyProgram:
    if args.latency or filters.selection.needs_exit:
        from ..programs.latency import LatencyProgram

        return LatencyProgram(filters, args.breakdown, max_rows=args.max_rows)
    return CountsProgram(filters, args.breakdown, max_rows=args.max_rows)


def _source(args: CountArgs, program: CountsProgram | LatencyProgram) -> Source:
    from ..readings import Source, reader_for

    return Source(reader_for(program), show_latency=args.latency)


def _loop(args: CountArgs, source: Source, outputs: Outputs, waiter: Waiter, started: float) -> None:
    """Report every interval until a stop; then detach and flush from one last reading.

    A breakdown is read every interval even when only the summary is shown (-- COMMAND):
    each reading frees the kernel's rows of processes that ended, so churn never fills
    the map."""
    # Readings make no reference cycles, but thousands of short-lived rows a second
    # (process churn) would run the cycle collector over every kept row again and
    # again: start-up's objects are frozen out of it, and it runs less often.
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    deadline = started + args.duration if args.duration else float("inf")
    ticking = outputs.report_intervals or args.breakdown is not None
    last = started
    next_tick = started + args.interval
    while True:
        wake = min(deadline, next_tick) if ticking else deadline
        waiter.wait(min(wake - time.monotonic(), 3600.0))
        if outputs.log is not None:
            outputs.log.reopen_if_requested()
        now = time.monotonic()
        if waiter.signal is not None or waiter.all_exited() or now >= deadline:
            break
        if ticking and now >= next_tick:
            snapshot = source.interval(now - last)
            if outputs.report_intervals:
                outputs.emit(snapshot)
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
