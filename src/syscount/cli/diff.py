"""``syscount diff BASE NEW``: compare two recordings; a gate for CI.

Exit status: 0 within the limits, 1 when the gate trips (each offender on stderr),
2 for bad usage or a file that is not a readable recording.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from typing import NamedTuple

from . import common

EXIT_GATE = 1  # the gate tripped: not an error of syscount's, so not ExitStatus.ERROR's meaning

USAGE = """\
syscount diff BASE NEW [--format text|json] [--fail-above PCT] [--fail-on-new]
                     [--min-calls N] [--per-second] [--by process|comm|cgroup]"""

DESCRIPTION = """\
Compare two recordings made with `syscount --format json` (stdout or -o): per
syscall, the calls in BASE and NEW, the change (absolute and %), errors and time
(when recorded with -L) on both sides; new and vanished syscalls are marked.
Each recording's summary line is used; a run that was cut short (no summary) is
summed from its intervals, and the output says so. Largest change first.
"""

EPILOG = """\
examples:
  syscount diff base.jsonl new.jsonl                 the table
  syscount diff base.jsonl new.jsonl --fail-above 10 --fail-on-new
                                  exit 1 if a syscall grows by more than 10 %
                                  or one appears that BASE never made
  syscount diff a.jsonl b.jsonl --per-second         system-wide runs of different lengths
  syscount diff a.jsonl b.jsonl --by comm            rows per program (recorded with -P)
  syscount diff a.jsonl b.jsonl --format json        for tools and CI annotations

Exit status: 0 within limits, 1 when --fail-above/--fail-on-new trips, 2 for bad
usage or unreadable input. Formats: docs/recordings.md, docs/output.md.
"""


class DiffArgs(NamedTuple):
    base: str
    new: str
    format: str
    fail_above: float | None
    fail_on_new: bool
    min_calls: int
    per_second: bool
    by: str | None


def percent(text: str) -> float:
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage") from None
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r} must be a percentage >= 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    from ..recordings.diff import BY_CHOICES

    parser = common.command_parser("syscount diff", USAGE, DESCRIPTION, EPILOG)
    parser.add_argument("base", metavar="BASE", help="the recording to compare against (JSON lines)")
    parser.add_argument("new", metavar="NEW", help="the recording to compare (JSON lines)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="text (table) or json")
    parser.add_argument(
        "--fail-above",
        type=percent,
        metavar="PCT",
        help="exit 1 when a syscall's calls grow by more than PCT percent",
    )
    parser.add_argument("--fail-on-new", action="store_true", help="exit 1 when NEW makes a syscall BASE did not")
    parser.add_argument(
        "--min-calls",
        type=common.whole_number,
        default=0,
        metavar="N",
        help="hide (and do not gate) syscalls with fewer than N calls on both sides",
    )
    parser.add_argument(
        "--per-second", action="store_true", help="compare calls per second (runs of different lengths)"
    )
    parser.add_argument(
        "--by",
        choices=BY_CHOICES,
        help="rows per program (process, comm) or cgroup path, from breakdown recordings; never matched by PID",
    )
    common.add_debug_option(parser)
    return parser


def parse(argv: Sequence[str]) -> DiffArgs:
    ns, _ = common.parse_options(build_parser(), argv, takes_command=False)
    return DiffArgs(ns.base, ns.new, ns.format, ns.fail_above, ns.fail_on_new, ns.min_calls, ns.per_second, ns.by)


def run(args: DiffArgs) -> int:
    from ..recordings import diff_output
    from ..recordings.diff import Options, compare
    from ..recordings.load import Needs
    from ..recordings.pair import load_both

    # The gate compares calls, errors and time: histograms, extremes and (without --by) rows are skipped.
    needs = Needs(hist=False, extremes=False, rows=args.by is not None)
    base, new = load_both(args.base, args.new, needs)
    options = Options(args.per_second, args.min_calls, args.by, args.fail_above, args.fail_on_new)
    comparison = compare(base.summary, new.summary, options)
    if args.format == "json":
        sys.stdout.write(json.dumps(diff_output.document(base, new, comparison, options), indent=None) + "\n")
    else:
        sys.stdout.write(diff_output.text(base, new, comparison, options))
    sys.stdout.flush()
    for line in diff_output.offender_lines(comparison, options):
        sys.stderr.write(line + "\n")
    return EXIT_GATE if comparison.failed else common.ExitStatus.OK
