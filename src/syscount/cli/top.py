"""``syscount top``: a live, full-screen view of system calls, driven with keys.

argv → one re-attachable program (switching.py) → interval snapshots →
the view model (sinks/top/model.py) → the terminal (sinks/top/screen.py) or, with -b
or when stdout is not a terminal, plain-text frames (sinks/top/frame.py).
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from typing import TYPE_CHECKING, NamedTuple, TextIO

from ..errors import UsageError
from ..filters import Filters, Selection
from ..model import utc_now
from ..names.escape import escape_text
from ..names.syscalls import native_table
from ..programs.track import ProcessFilter
from ..targets import HeldCommand
from . import common
from .common import positive_seconds, whole_number
from .filter_args import add_filter_options, selection_from
from .targeting import exit_status, resolve_targets, select_targets
from .waiting import STOP_SIGNALS, Waiter

if TYPE_CHECKING:
    from ..sinks.top.controls import Screen
    from ..sinks.top.frame import Status
    from ..sinks.top.model import Tallies
    from ..sinks.top.screen import Terminal
    from ..switching import SwitchingSource

DOING = "counting"  # system calls, in the privilege error (the count command's wording)
BYS = ("syscall", "process", "thread", "comm", "cgroup")

USAGE = """\
syscount top [-i SECONDS] [-L] [--by syscall|process|thread|comm|cgroup] [-b [-n N]]
                    [-p PID[,PID...]] [--max-rows N] [--comm NAME] [-u UID] [--cgroup PATH]
                    [-s LIST] [-x] [-e ERRNO] [--debug] [-- COMMAND [ARG...]]"""

DESCRIPTION = """\
A live, full-screen view of system calls: rates over the last interval, totals
since the view started, errors by errno and, with -L, time per call. Drill from a
syscall to the processes making it and back with the keys (? shows them). With -b,
or when stdout is not a terminal, plain-text frames with exact numbers instead.
"""

EPILOG = """\
examples:
  syscount top                        every process, per syscall, every second
  syscount top --by process           rows per process (p, t, c, g switch views live)
  syscount top -L                     with latency and errors (attaches the exit side)
  syscount top -- make -j2            a command and its children (its output is hidden)
  syscount top --comm nginx -s %network
  syscount top -b -n 3 -i 2           three plain-text frames, two seconds apart
  syscount top -b -- ./build.sh > frames.txt
                                      frames until the command ends, the last complete

Keys: s p t c g views, Enter drill down, Backspace back, e errnos, < > sort, r reverse,
/ filter, space pause, + - interval, L latency, q quit. Columns: README.md.
Needs root (or CAP_BPF + CAP_PERFMON).
"""


class TopArgs(NamedTuple):
    interval: float
    latency: bool
    by: str
    batch: bool
    frames: int  # 0: until stopped
    pids: tuple[int, ...]
    command: tuple[str, ...]
    max_rows: int
    selection: Selection
    filters_text: str  # the user's filters as they would type them, for the header


def build_parser() -> argparse.ArgumentParser:
    parser = common.command_parser("syscount top", USAGE, DESCRIPTION, EPILOG)
    parser.add_argument(
        "-i",
        "--interval",
        type=positive_seconds,
        default=1.0,
        metavar="SECONDS",
        help="refresh every SECONDS (default 1)",
    )
    parser.add_argument(
        "-L", "--latency", action="store_true", help="time calls and see errors from the start (the L key toggles it)"
    )
    parser.add_argument("--by", choices=BYS, default="syscall", help="the first view (default syscall)")
    parser.add_argument("-b", "--batch", action="store_true", help="plain-text frames on stdout, exact numbers")
    parser.add_argument(
        "-n", "--frames", type=whole_number, default=0, metavar="N", help="with -b: stop after N frames"
    )
    common.add_pid_option(parser, "only these processes, all their threads")
    parser.add_argument(
        "--max-rows",
        type=whole_number,
        default=16384,
        metavar="N",
        help="rows the kernel keeps for the breakdown (default 16384)",
    )
    add_filter_options(parser)
    common.add_debug_option(parser)
    return parser


def parse(argv: Sequence[str]) -> TopArgs:
    ns, command = common.parse_options(build_parser(), argv, takes_command=True)
    pids = common.pids_from(ns, command)
    if ns.frames and not ns.batch:
        raise UsageError("-n only applies with -b (batch mode)")
    return TopArgs(
        interval=ns.interval,
        latency=ns.latency or bool(ns.failures or ns.errno),
        by=ns.by,
        batch=ns.batch or not (sys.stdout.isatty() and sys.stdin.isatty()),
        frames=ns.frames,
        pids=pids,
        command=command,
        max_rows=max(1, ns.max_rows),
        selection=selection_from(ns),
        filters_text=_filters_text(ns, command),
    )


def _filters_text(ns: argparse.Namespace, command: Sequence[str]) -> str:
    given = [
        (flag, value)
        for flag, value in (
            ("-p", ns.pid),
            ("--comm", ns.comm),
            ("-u", ns.uid),
            ("--cgroup", ns.cgroup),
            ("-s", ns.syscall),
            ("-e", ns.errno),
        )
        if value is not None
    ]
    words = [f"{flag} {shlex.quote(str(value))}" for flag, value in given]
    words += ["-x"] if ns.failures else []
    words += ["-- " + shlex.join(command)] if command else []
    return escape_text(" ".join(words))


def run(args: TopArgs) -> int:
    # Everything the user can get wrong is checked before any BPF work.
    tgids, command = resolve_targets(args.pids, args.command)
    if command is not None:
        command.quiet = not args.batch  # the full screen is the view's: the command's output is not shown
    common.require_bpf(DOING)
    from ..sinks.top.controls import Screen
    from ..sinks.top.model import Tallies, ViewState
    from ..switching import SwitchingSource

    terminal = None if args.batch else _terminal()  # rich is imported before attaching
    breakdown = args.by if args.by != "syscall" else "process"
    screen = Screen(ViewState(view=args.by, latency=args.latency), interval_s=args.interval, breakdown=breakdown)
    with ExitStack() as stack:
        process_filter = stack.enter_context(ProcessFilter()) if tgids or command else None
        filters = Filters(args.selection, process_filter, native_table())
        source = stack.enter_context(SwitchingSource(filters, breakdown, exits=args.latency, max_rows=args.max_rows))
        waiter = stack.enter_context(Waiter(stop_signals=(*STOP_SIGNALS, signal.SIGHUP)))
        if process_filter is not None:
            select_targets(process_filter, waiter, tgids, command)
        live = Live(args, source, waiter, Tallies(), command)
        if terminal is None:
            live.batch(screen, sys.stdout)
            return live.exit_status(batch=True)
        with terminal:
            live.interactive(screen, terminal)
        return live.exit_status(batch=False)


def _terminal() -> Terminal:
    from ..sinks.top.screen import Terminal

    return Terminal()


class CpuMeter:
    """syscount's own CPU time over wall time since the previous call, in % of one core."""

    def __init__(self) -> None:
        self._cpu, self._wall = self._now()

    @staticmethod
    def _now() -> tuple[float, float]:
        times = os.times()
        return times.user + times.system, time.monotonic()

    def percent(self) -> float:
        cpu, wall = self._now()
        pct = 100.0 * (cpu - self._cpu) / (wall - self._wall) if wall > self._wall else 0.0
        self._cpu, self._wall = cpu, wall
        return pct


class Live:
    """The run loop both modes share: read every interval, re-attach when the view needs it."""

    def __init__(
        self, args: TopArgs, source: SwitchingSource, waiter: Waiter, tallies: Tallies, command: HeldCommand | None
    ) -> None:
        self.args = args
        self.source = source
        self.waiter = waiter
        self.tallies = tallies
        self.command = command
        self.started = time.monotonic()
        self.last = self.started
        self.cpu = CpuMeter()
        self.cpu_pct = 0.0
        self.command_status: int | None = None
        self.latency_since = "on" if args.latency else "off"

    def read(self) -> None:
        now = time.monotonic()
        self.tallies.feed(self.source.interval(now - self.last))
        self.last = now
        self.cpu_pct = self.cpu.percent()

    def finish(self) -> None:
        """Detach first, then read: the last interval is then complete."""
        self.source.detach()
        self.read()

    def reattach(self, screen: Screen) -> None:
        by, exits = screen.wants()
        if (by, exits) == (self.source.breakdown, self.source.exits):
            return
        now = time.monotonic()
        self.tallies.feed(self.source.switch(by, exits, now - self.last))
        self.last = now
        if exits != (self.latency_since != "off"):
            self.latency_since = f"on since {utc_now().astimezone().strftime('%H:%M:%S')}" if exits else "off"

    def poll_command(self) -> int | None:
        """The command's exit status once it has ended (it is reaped once)."""
        if self.command is not None and self.command_status is None and self.waiter.all_exited():
            self.command_status = self.command.poll()
        return self.command_status

    def exit_status(self, *, batch: bool) -> int:
        """Batch: like count (the command's status, or 128 + the signal that stopped it).
        The screen: q and Ctrl-C are how a person ends it, a success; 128 + a signal."""
        if self.command is not None and self.poll_command() is None:
            if batch and self.waiter.signal is None:
                return exit_status(self.command, self.waiter)
            self.command.terminate()  # the view is gone: nobody watches the command any more
            self.command_status = self.command.wait()
        if self.waiter.signal is not None:
            return 128 + self.waiter.signal
        if batch and self.command_status is not None:
            return self.command_status
        return common.ExitStatus.OK

    def status(self, screen: Screen) -> Status:
        from ..sinks.top.frame import Status

        code = self.poll_command()
        return Status(
            now=utc_now().astimezone(),
            uptime_s=time.monotonic() - self.started,
            interval_s=screen.interval_s,
            filters=self.args.filters_text,
            cpu_pct=self.cpu_pct,
            paused=screen.paused,
            latency=self.latency_since,
            command=f"command exited with status {code}" if code is not None else "",
        )

    def batch(self, screen: Screen, out: TextIO) -> None:
        from ..sinks.top.frame import batch_frame
        from ..sinks.top.model import table

        frames = 0
        next_tick = self.started + self.args.interval
        while True:
            self.waiter.wait(next_tick - time.monotonic())
            stop = self.waiter.signal is not None or self.waiter.all_exited()
            if stop:
                self.finish()
            elif time.monotonic() < next_tick:
                continue
            else:
                self.read()
                while next_tick <= self.last:
                    next_tick += self.args.interval
            frames += 1
            out.write(
                batch_frame(self.tallies, screen.view, self.status(screen), table(self.tallies, screen.view), frames)
            )
            out.flush()
            if stop or frames == self.args.frames:
                if not stop:
                    self.source.detach()
                return

    def interactive(self, screen: Screen, terminal: Terminal) -> None:
        from ..sinks.top.controls import press, scrolled
        from ..sinks.top.keys import decode
        from ..sinks.top.model import table

        next_tick = self.started + screen.interval_s
        tab = table(self.tallies, screen.view)
        terminal.draw(self.tallies, screen, self.status(screen), tab)
        while not screen.quit:
            timeout = 3600.0 if screen.paused else next_tick - time.monotonic()
            ready = self.waiter.wait(timeout, also=(terminal.fd,))
            if self.waiter.signal is not None:
                break
            if ready:
                page = terminal.page()
                for key in decode(terminal.keys_text()):
                    screen = press(screen, key, tab.rows, tab.columns, page)
                    tab = table(self.tallies, screen.view)
                    screen = scrolled(screen, len(tab.rows), page)
                    if screen.quit:
                        break
                if screen.quit:
                    break
                self.reattach(screen)
                next_tick = min(next_tick, self.last + screen.interval_s)
            if not screen.paused and time.monotonic() >= next_tick:
                self.read()
                next_tick = self.last + screen.interval_s
            terminal.resized = False
            tab = table(self.tallies, screen.view)
            screen = scrolled(screen, len(tab.rows), terminal.page())
            terminal.draw(self.tallies, screen, self.status(screen), tab)
        self.source.detach()
