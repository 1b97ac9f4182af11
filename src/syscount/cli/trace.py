"""``syscount trace``: one event per system call, decoded, as text or JSON lines.

argv → filters + collector + sink → a loop that drains the ring buffer in batches,
reports losses as they happen, and on every stop (the command or processes ending,
-d, Ctrl-C, SIGTERM) detaches, drains what is left and writes the final line.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import OutputError, UsageError
from ..filters import Selection
from ..sinks.logfile import LogFile
from . import common

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..filters import Selection
    from ..names.syscalls import SyscallTable
    from ..programs.trace import TraceProgram
    from ..programs.track import ProcessFilter
    from ..targets import HeldCommand
    from ..trace.signatures import Signature
    from ..trace.sink import EventSink, FdOutput, Output
    from .waiting import Waiter

USAGE = """\
syscount trace [-p PID[,PID...]] [--comm NAME] [-u UID] [--cgroup PATH]
                      [-s LIST|N] [-x] [-e ERRNO] [-o FILE] [--format text|json]
                      [--buffer-size SIZE] [--strings N] [--argv N] [-d SECONDS]
                      [-y | -yy] [--output-separately] [--debug] [-- COMMAND [ARG...]]"""

DESCRIPTION = """\
Trace system calls with eBPF: one line per completed call, with its arguments
decoded by name (from the running kernel's own syscall signatures), its result
and its duration, like strace -f -T but without stopping the traced programs.
Every filter is applied in the kernel. Events the kernel could not queue are
counted and reported; the last line gives events, lost and calls traced.
"""

EXAMPLES = """\
examples:
  syscount trace -- ls /tmp            trace a command and its descendants
  syscount trace -p 1234 -s %file      file calls of process 1234 (all threads)
  syscount trace -x --comm nginx       failed calls of threads named nginx
  syscount trace -s 256 -- curl URL    show up to 256 bytes of each buffer read or written
  syscount trace --format json -o t.jsonl -- make
                                       JSON lines to a file (schema: docs/trace.md)
  syscount trace -yy -- curl -s URL    descriptors with their paths, sockets with addresses
  syscount trace -o out --output-separately -- make
                                       one file per process: out.PID (like strace -ff -o)

Thread names, paths and argv are printed escaped (\\033, \\n, \\xff). SIGHUP reopens
-o FILE (for logrotate); a write error on it is a one-line warning, tracing goes on.
Exit status: as syscount's; 74 if some events could not be written to -o FILE.

Needs root (or CAP_BPF + CAP_PERFMON).
"""

# Drain cadence: when a round found little, sleep this long before the next one (or
# until the kernel wakes us: it does so only when the ring is an eighth full).
# Not waking on every event keeps the traced programs' cost down (BPF_RB_NO_WAKEUP)
# and lets batches grow; a full batch is followed at once.
POLL_S = 0.01
MIN_BATCH = 64 << 10  # bytes: below this, a round counts as "little"
SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
DOING = "tracing"  # system calls, in the announcement and the privilege error
DATA_MAX = 32  # bytes of a buffer shown, as strace's default -s


class TraceArgs(NamedTuple):
    pids: tuple[int, ...]
    selection: Selection
    output: str | None
    format: str
    buffer_size: int
    str_max: int
    argv_max: int
    data_max: int
    duration: float | None
    debug: bool
    command: tuple[str, ...]
    fd_paths: int = 0  # -y: 1, -yy: 2
    separately: bool = False


def parse_size(text: str) -> int:
    """``16M``, ``256K``, ``4096`` → bytes."""
    number, unit = text.strip().upper().rstrip("IB"), ""
    if number and number[-1] in SIZE_UNITS:
        number, unit = number[:-1], number[-1]
    if not number.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 16M, 256K, 65536)")
    return int(number) * SIZE_UNITS[unit]


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number > 0")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    from ..trace.sink import EVENT_FORMATS
    from .filter_args import add_filter_options

    parser = common.command_parser("syscount trace", USAGE, DESCRIPTION, EXAMPLES)
    add = parser.add_argument
    common.add_pid_option(parser, "only these processes, all their threads")
    add_filter_options(parser, data_size=True)
    add("-o", "--output", metavar="FILE", help="append the events to FILE; SIGHUP reopens it")
    add("--format", choices=EVENT_FORMATS, default="text", help="text (strace-like lines) or json (lines)")
    add("--buffer-size", type=parse_size, default=16 << 20, metavar="SIZE", help="ring buffer (default 16M)")
    add("--strings", type=_positive_int, default=256, metavar="N", help="bytes kept per string (default 256)")
    add("--argv", type=common.whole_number, default=32, metavar="N", help="argv elements kept (default 32)")
    common.add_duration_option(parser)
    add("-y", dest="fd_paths", action="count", default=0, help="descriptors with their paths; -yy: sockets' addresses")
    add("--output-separately", action="store_true", help="with -o FILE: one file per process, FILE.PID")
    common.add_debug_option(parser)
    return parser


def parse(argv: Sequence[str]) -> TraceArgs:
    from .filter_args import selection_from

    ns, command = common.parse_options(build_parser(), argv, takes_command=True)
    if ns.output_separately and ns.output is None:
        raise UsageError("--output-separately needs -o FILE (the files are FILE.PID)")
    if ns.fd_paths and ns.format != "text":
        raise UsageError("-y names descriptors in text output; JSON keeps them as numbers")
    # -s N (a number) is strace's -s: bytes of data shown; -s LIST selects syscalls.
    data_max = DATA_MAX
    if ns.syscall is not None and ns.syscall.isdigit():
        data_max, ns.syscall = int(ns.syscall), None
    return TraceArgs(
        pids=common.pids_from(ns, command),
        selection=selection_from(ns),
        output=ns.output,
        format=ns.format,
        buffer_size=ns.buffer_size,
        str_max=ns.strings,
        argv_max=ns.argv,
        data_max=data_max,
        duration=ns.duration,
        debug=ns.debug,
        command=command,
        fd_paths=min(ns.fd_paths, 2),
        separately=ns.output_separately,
    )


def run(args: TraceArgs) -> int:
    from ..filters import Filters
    from ..names.syscalls import abi_tables
    from ..programs.trace import TraceOptions, TraceProgram
    from ..programs.track import ProcessFilter
    from ..trace.signatures import abi_signatures
    from .targeting import exit_status, resolve_targets, select_targets
    from .waiting import Waiter

    tgids, command = resolve_targets(args.pids, args.command)
    options = TraceOptions(
        buffer_size=args.buffer_size, str_max=args.str_max, argv_max=args.argv_max, data_max=args.data_max
    )
    with ExitStack() as stack:
        output = _output(args, stack)
        common.require_bpf(DOING)
        tables = abi_tables()
        signatures = abi_signatures(tables)
        process_filter = stack.enter_context(ProcessFilter()) if tgids or command else None
        collector = TraceProgram(Filters(args.selection, process_filter, tables[0]), signatures, tables, options)
        stack.enter_context(collector)
        sink = _sink(args, output, tables, signatures)
        log = output if isinstance(output, LogFile) else None
        # SIGHUP reopens -o (logrotate); without -o it stops syscount as before.
        if args.separately:
            from ..trace.separate import SeparateSink

            assert isinstance(sink, SeparateSink)
            stack.callback(sink.close)
        waiter = stack.enter_context(Waiter(on_hangup=log.request_reopen if log else None))
        started = time.monotonic()
        if process_filter is not None:
            select_targets(process_filter, waiter, tgids, command)
        if args.fd_paths:
            _prime_fd_table(sink, tgids, command)
        if command is None:
            common.announce(DOING, tgids)
        # The events go to stderr only with a command and no -o (see _output).
        loss_to_stderr = log is not None or not args.command
        deadline = started + args.duration if args.duration else None
        reported = _loop(collector, sink, waiter, deadline, loss_to_stderr, log=log)
        _finish(
            collector,
            sink,
            process_filter,
            elapsed=time.monotonic() - started,
            reported=reported,
            loss_to_stderr=loss_to_stderr,
        )
        status = exit_status(command, waiter)
        # Said in a warning and the final line; the status must say it too.
        return common.ExitStatus.WRITE_FAILED if sink.unwritten else status


def _output(args: TraceArgs, stack: ExitStack) -> LogFile | FdOutput:
    """Where the events go; a bad -o path fails before any BPF work."""
    if args.output is not None:
        try:
            return stack.enter_context(LogFile(args.output, unit="event"))
        except OSError as exc:
            raise OutputError(f"cannot write {args.output}: {exc.strerror}") from exc
    from ..trace.sink import FdOutput

    # With a command, like strace, the trace goes to stderr: stdout stays the command's.
    stream = sys.stderr if args.command else sys.stdout
    stream.flush()
    return FdOutput(stream.fileno())


def _prime_fd_table(sink: EventSink, tgids: list[int], command: HeldCommand | None) -> None:
    """-y: what the targets have open before their first event (decoding starts after this)."""
    from ..trace.fdpaths import FdFormatters

    assert isinstance(sink.formatters, FdFormatters)
    table = sink.formatters.table
    for tgid in tgids:
        table.prime(tgid)
    if command is not None:
        table.inherit_from_self(command.pid)


def _sink(
    args: TraceArgs, output: Output, tables: list[SyscallTable], signatures: Mapping[int, Signature]
) -> EventSink:
    from ..names.syscalls import slot_name
    from ..programs.trace import noreturn_slots
    from ..trace.jsonl import JsonLine
    from ..trace.sink import EventSink, StreamFormat, wall_offset_ns
    from ..trace.text import TextLine

    line: StreamFormat = JsonLine(wall_offset_ns()) if args.format == "json" else TextLine(wall_offset_ns())
    # SYSCOUNT_PURE_PYTHON=1: per-event formatting only, even with numpy (to compare, or debug).
    vectorize = os.environ.get("SYSCOUNT_PURE_PYTHON") != "1"
    name = partial(slot_name, tables)
    extra: dict[str, Any] = {}
    if args.fd_paths and args.format == "text":
        from ..trace.fdpaths import FdPathLine, FdTable, fd_formatters, pure_vectorized

        # The table follows the stream event by event; only runs of calls that do not
        # touch descriptors are rendered in numpy batches.
        line = FdPathLine(wall_offset_ns())
        extra["formatters"] = fd_formatters(FdTable(sockets=args.fd_paths > 1))
        extra["vectorized"] = pure_vectorized
    if args.separately:
        from ..trace.separate import SeparateSink

        assert args.output is not None
        extra.pop("vectorized", None)  # one line per event, to route each
        return SeparateSink(output, args.output, line, name, signatures, noreturn_slots(tables), **extra)
    return EventSink(output, line, name, signatures, noreturn_slots(tables), vectorize=vectorize, **extra)


def _drain(collector: TraceProgram, sink: EventSink, limit: int, waiter: Waiter | None) -> int:
    """Decode batches until the ring is (nearly) empty; the bytes consumed."""
    total = 0
    while True:
        span = collector.peek(limit)
        if not span:
            return total
        consumed = sink.batch(span)
        collector.release(consumed)
        total += consumed
        # Caught up (short batch), or stopped at a record still being written.
        if len(span) < limit or consumed < len(span) or (waiter is not None and waiter.signal is not None):
            return total


def _loop(
    collector: TraceProgram,
    sink: EventSink,
    waiter: Waiter,
    deadline: float | None,
    loss_to_stderr: bool,
    *,
    log: LogFile | None,
) -> int:
    """Drain and report losses until a stop; the losses reported so far."""
    limit = collector.options.buffer_size // 4
    reported = 0
    # The loop allocates millions of short-lived tuples and strings and no cycles:
    # the cyclic collector would only rescan the heap, costing 10-60 % here.
    gc.freeze()
    gc.disable()
    try:
        while True:
            consumed = _drain(collector, sink, limit, waiter)
            reported = _report_loss(collector, sink, reported, loss_to_stderr)
            if waiter.signal is not None or waiter.all_exited():
                return reported
            if deadline is not None and time.monotonic() >= deadline:
                return reported
            if consumed >= MIN_BATCH:
                waiter.wait(1e-6)  # a flood: drain again at once (after a look at signals and exits)
            else:
                # Idle or slow: sleep until the timer, or until the producers say the ring is
                # filling (they wake it at an eighth full; its fd is readable while anything
                # is queued, so it is watched only when the ring is empty).
                waiter.wait(POLL_S, (collector.wakeup_fd(),) if collector.pending() == 0 else ())
            if log is not None:
                log.reopen_if_requested()  # between two batches: no event split
    finally:
        gc.enable()


def _report_loss(collector: TraceProgram, sink: EventSink, reported: int, to_stderr: bool) -> int:
    from ..trace.sink import Loss

    lost = collector.counters().lost
    if lost > reported:
        loss = Loss(lost - reported, lost)
        sink.loss(loss)
        if to_stderr:
            sys.stderr.write(
                f"syscount: lost {loss.lost} events ({loss.total} so far): the ring buffer was full"
                " (a larger --buffer-size or narrower filters help)\n"
            )
            sys.stderr.flush()
    return lost


def _finish(
    collector: TraceProgram,
    sink: EventSink,
    process_filter: ProcessFilter | None,
    *,
    elapsed: float,
    reported: int,
    loss_to_stderr: bool,
) -> None:
    """Detach, drain everything left, report the last losses and the final line."""
    from ..trace.sink import Totals

    collector.detach()
    limit = collector.options.buffer_size // 4
    while collector.pending() > 0:
        if not _drain(collector, sink, limit, None):
            break  # only a record still being written is left: cannot happen after detach
    _report_loss(collector, sink, reported, loss_to_stderr)
    counters = collector.counters()
    untracked = process_filter.untracked_forks() if process_filter is not None else 0
    totals = Totals(
        events=sink.events,
        lost=counters.lost,
        calls=counters.calls,
        duration_s=elapsed,
        lost_by_cpu=counters.lost_by_cpu,
        no_storage=counters.no_storage,
        untracked_forks=untracked,
        unwritten=sink.unwritten,
    )
    sink.final(totals)
    if loss_to_stderr:  # the events went elsewhere: say how it went where the user looks
        unwritten = f", {totals.unwritten} not written" if totals.unwritten else ""
        sys.stderr.write(
            f"syscount: {totals.events} events, {totals.lost} lost, {totals.calls} calls traced"
            f" in {totals.duration_s:.3f} s{unwritten}\n"
        )
    if totals.events + totals.lost != totals.calls:
        sys.stderr.write(
            f"syscount: warning: {totals.calls} calls traced but {totals.events} events and {totals.lost} lost\n"
        )
