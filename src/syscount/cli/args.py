"""Command-line parsing for the count command (the contract documented in the README)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NamedTuple

from ..errors import UsageError
from ..filters import Selection
from ..sinks import FORMATS
from ..targets import parse_pids
from .filter_args import add_filter_options, selection_from
from .parsing import OneLineParser, positive_seconds, whole_number

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


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="syscount",
        usage="syscount [-i SECONDS] [-d SECONDS] [-T N] [-p PID[,PID...]] [-o FILE]\n"
        "                [--format text|json|csv] [-L] [--histogram] [--summary]\n"
        "                [-P | --by-thread | --by-cgroup | --by-comm] [--max-rows N]\n"
        "                [--comm NAME] [-u UID] [--cgroup PATH]\n"
        "                [-s LIST] [-x] [-e ERRNO] [--list] [--debug] [-- COMMAND [ARG...]]",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-i",
        "--interval",
        type=positive_seconds,
        metavar="SECONDS",
        help="print every SECONDS (default 1; with -- COMMAND: only the summary unless -i is given)",
    )
    parser.add_argument("-d", "--duration", type=positive_seconds, metavar="SECONDS", help="stop after SECONDS")
    parser.add_argument(
        "-T",
        "--top",
        type=whole_number,
        default=10,
        metavar="N",
        help="rows in the table (default 10, 0 = all; JSON and CSV always carry all)",
    )
    parser.add_argument("-p", "--pid", metavar="PID[,PID...]", help="count only these processes, all their threads")
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="append each interval to FILE (text: the `name: count` log)"
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
        type=whole_number,
        default=16384,
        metavar="N",
        help="keys the kernel keeps for a breakdown (default 16384); beyond, calls go to 'other'",
    )
    add_filter_options(parser)
    parser.add_argument("--list", action="store_true", help="print the syscall table (number name) and exit")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and libbpf's messages")
    parser.add_argument("--version", action="version", version=f"syscount {_version()}")
    return parser


def _version() -> str:
    from .. import __version__

    return __version__


def split_command(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Options before the first ``--``, the command after it."""
    argv = list(argv)
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1 :]
    return argv, []


def parse(argv: Sequence[str]) -> CountArgs:
    options, command = split_command(argv)
    parser = build_parser()
    ns, extra = parser.parse_known_args(options)
    if extra and extra[0].startswith("-"):
        raise UsageError(f"unknown option {extra[0]!r} (see syscount --help)")
    if extra:
        raise UsageError(f"unexpected argument {extra[0]!r} (a command to run goes after --; see syscount --help)")
    if "--" in argv and not command:
        raise UsageError("no command given after --")
    pids = tuple(parse_pids(ns.pid)) if ns.pid is not None else ()
    if pids and command:
        raise UsageError("-p and -- COMMAND cannot be combined")
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
        command=tuple(command),
        latency=ns.latency or ns.histogram or ns.summary,
        histogram=ns.histogram,
        summary=ns.summary,
        selection=selection_from(ns),
        breakdown=ns.breakdown,
        max_rows=max(1, ns.max_rows),
    )
