"""What every subcommand shares: exit statuses, the parser class and argument types,
the checks made after parsing, and the announcement line.

Every subcommand is a module ``cli/<name>.py`` with the same face: ``build_parser()``,
``parse(argv) -> <Name>Args`` (argparse, then the checks below) and ``run(args) -> int``;
``__main__`` runs ``run(parse(argv))`` for each. This module stays light (argparse and
the standard library only): the count command imports it before it starts counting.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from enum import IntEnum

from ..errors import PermissionDenied, UsageError


class ExitStatus(IntEnum):
    """syscount's own exit statuses; with ``-- COMMAND`` the command's status is passed on."""

    OK = 0
    ERROR = 1  # a SyscountError or OSError: one line on stderr
    USAGE = 2  # bad command-line input
    WRITE_FAILED = 74  # sysexits.h EX_IOERR: some records could not be written to -o FILE
    INTERRUPTED = 130  # 128 + SIGINT: stopped by Ctrl-C, as a shell reports it
    TERMINATED = 143  # 128 + SIGTERM

    @classmethod
    def stopped_by(cls, signum: int) -> ExitStatus:
        """The status after a stop signal (syscount stops only on SIGINT and SIGTERM)."""
        return cls(128 + signum)


class OneLineParser(argparse.ArgumentParser):
    """Bad input is one line (no usage dump); __main__ adds the "syscount: error:" prefix."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see {self.prog} --help)")


def command_parser(prog: str, usage: str, description: str, examples: str) -> OneLineParser:
    """A subcommand's parser: one-line errors; description and examples printed as written."""
    return OneLineParser(
        prog=prog,
        usage=usage,
        description=description,
        epilog=examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < math.inf:  # also rejects nan
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number of seconds")
    return value


def whole_number(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 0")
    return int(text)


def add_pid_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("-p", "--pid", metavar="PID[,PID...]", help=help_text)


def add_duration_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-d", "--duration", type=positive_seconds, metavar="SECONDS", help="stop after SECONDS")


def add_debug_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true", help="show tracebacks and libbpf's messages")


# The checks after argparse, in the order every command makes them.


def split_command(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Options before the first ``--``, the command after it."""
    argv = list(argv)
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1 :]
    return argv, []


def parse_options(
    parser: argparse.ArgumentParser, argv: Sequence[str], *, takes_command: bool
) -> tuple[argparse.Namespace, tuple[str, ...]]:
    """The options, and the command after ``--`` for a command that runs one.

    Anything argparse did not take is one line naming it; where a command can be run,
    the line says that it goes after ``--`` (its options would otherwise look like ours).
    """
    options, command = split_command(argv) if takes_command else (list(argv), [])
    ns, extra = parser.parse_known_args(options)
    if extra:
        what = "unknown option" if extra[0].startswith("-") else "unexpected argument"
        hint = "a command to run goes after --; " if takes_command else ""
        raise UsageError(f"{what} {extra[0]!r} ({hint}see {parser.prog} --help)")
    if takes_command and "--" in argv and not command:
        raise UsageError("no command given after --")
    return ns, tuple(command)


def pids_from(ns: argparse.Namespace, command: Sequence[str] = ()) -> tuple[int, ...]:
    """The -p processes, checked; -p and -- COMMAND pick the targets two ways: one only."""
    from ..targets import parse_pids

    pids = tuple(parse_pids(ns.pid)) if ns.pid is not None else ()
    if pids and command:
        raise UsageError("-p and -- COMMAND cannot be combined")
    return pids


def require_bpf(doing: str) -> None:
    """Fail before any BPF work, with the hint, when syscount may not load programs."""
    from ..kernel.objects import is_privileged

    if not is_privileged():
        raise PermissionDenied(f"{doing} system calls needs BPF")


def announce(doing: str, tgids: Sequence[int], detail: str = "", stop: str = "Ctrl-C") -> None:
    """The status line once the programs are attached: what is counted, how to stop."""
    who = "processes " + ",".join(map(str, tgids)) if tgids else "all processes"
    sys.stderr.write(f"syscount: {doing} system calls of {who}{detail}; {stop} to stop\n")
    sys.stderr.flush()
