"""``syscount report RECORDING``: one recording → a self-contained HTML page of charts."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import NamedTuple

from ..errors import TargetError
from . import common

MAX_POINTS = 1500

USAGE = "syscount report RECORDING [-o FILE] [--title TEXT] [--max-points N]"

DESCRIPTION = """\
Turn a recording made with `syscount --format json` (stdout or -o) into one HTML
file that works offline: calls per second per syscall over time, failed calls by
errno, with -L latency heatmaps (log2 buckets over time) and P50/P99 lines, with a
breakdown (-P, --by-cgroup, ...) the busiest processes or cgroups over time; then the
whole-run summary (strace -c's columns when timed) and the recording's metadata.
Long recordings are averaged down to --max-points points per chart, and the page
says so.
"""

EPILOG = """\
examples:
  syscount -L -P --format json -d 3600 -o hour.jsonl    record an hour
  syscount report hour.jsonl                            writes hour.html
  syscount report hour.jsonl -o /tmp/r.html --title "web-1, Tuesday"

Needs the plotly package (pip install 'syscount[report]'); no root. docs/recordings.md.
"""


class ReportArgs(NamedTuple):
    recording: str
    output: str
    title: str
    max_points: int


def build_parser() -> argparse.ArgumentParser:
    parser = common.command_parser("syscount report", USAGE, DESCRIPTION, EPILOG)
    parser.add_argument("recording", metavar="RECORDING", help="a JSON-lines recording")
    parser.add_argument("-o", "--output", metavar="FILE", help="the HTML file (default: RECORDING's name with .html)")
    parser.add_argument("--title", metavar="TEXT", help="the page's title (default: the recording's file name)")
    parser.add_argument(
        "--max-points",
        type=common.whole_number,
        default=MAX_POINTS,
        metavar="N",
        help="points per chart at most; longer recordings are averaged down (default 1500)",
    )
    common.add_debug_option(parser)
    return parser


def parse(argv: Sequence[str]) -> ReportArgs:
    ns, _ = common.parse_options(build_parser(), argv, takes_command=False)
    stem = os.path.splitext(os.path.basename(ns.recording))[0] or "report"
    output = ns.output or f"{stem}.html"
    return ReportArgs(ns.recording, output, ns.title or os.path.basename(ns.recording), max(2, ns.max_points))


def run(args: ReportArgs) -> int:
    from ..recordings.load import Needs, load
    from ..recordings.report import plotly_js, render

    started = time.monotonic()
    js = plotly_js()  # fail on a missing plotly before reading a large file
    _say(f"reading {args.recording}")
    recording = load(args.recording, max_points=args.max_points, needs=Needs(extremes=False))  # shown nowhere
    page = render(recording, args.title, js)
    try:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(page)
    except OSError as exc:
        raise TargetError(f"cannot write report {args.output}: {exc.strerror or exc}") from exc
    size_mb = len(page.encode()) / 1e6
    _say(
        f"wrote {args.output}: {recording.interval_count} intervals, {size_mb:.1f} MB,"
        f" in {time.monotonic() - started:.1f} s"
    )
    return common.ExitStatus.OK


def _say(text: str) -> None:
    sys.stderr.write(f"syscount report: {text}\n")
    sys.stderr.flush()
