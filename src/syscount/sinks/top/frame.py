"""One frame of ``syscount top`` as lines of plain text: the header, then the table.

The screen styles these lines (sort mark, selection); batch mode prints them as they
are, with every row and exact numbers.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from .cells import cell, human_count, human_rate, layout, line
from .model import Table, Tallies, ViewState, finish_rows

# Notes the readings carry, as the header names them (all are "calls we could not place").
LOST = {
    "breakdown_overflow": "breakdown overflow",
    "untracked_forks": "untracked forks",
    "untimed": "untimed",
    "errno_overflow": "errno overflow",
}


class Status(NamedTuple):
    """What the header shows besides the tallies."""

    now: datetime
    uptime_s: float
    interval_s: float
    filters: str  # the user's filters, as given ("" for none)
    cpu_pct: float  # syscount's own CPU over the last interval, % of one core
    paused: bool = False
    latency: str = "off"  # "off", "on" or "on since 01:02:03"
    command: str = ""  # e.g. "command exited with status 0"


def header(tallies: Tallies, state: ViewState, status: Status, tab: Table, *, exact: bool) -> list[str]:
    last = tallies.last
    calls = sum(t.calls for t in last.syscalls.values())
    errors = sum(t.error_count for t in last.syscalls.values())
    rate = (lambda r: f"{r:.1f}") if exact else human_rate
    count = str if exact else human_count
    per_s = 1 / last.elapsed_s if last.elapsed_s > 0 else 0.0
    err_text = rate(errors * per_s) if tallies.errors_seen else "- (press L)"
    first = (
        f"syscount top  {status.now.strftime('%H:%M:%S')}  up {_duration(status.uptime_s)}"
        f"  every {status.interval_s:g} s  syscount CPU {status.cpu_pct:.1f}%" + ("  [PAUSED]" if status.paused else "")
    )
    total = sum(t.calls for t in tallies.syscalls.values())
    second = f"calls/s {rate(calls * per_s)}  errors/s {err_text}  total {count(total)}  latency {status.latency}"
    lost = ", ".join(f"{LOST.get(k, k)} {count(v)}" for k, v in sorted(tallies.notes.items()) if v) or "none"
    # The filters come last on their line: a long command line is what gets cut.
    third = (
        f"lost: {lost}" + (f"  {status.command}" if status.command else "") + f"  filters: {status.filters or 'none'}"
    )
    sort = f"{tab.sort} {'asc' if state.reverse else 'desc'}"
    fourth = f"view: {tab.title}  sort: {sort}" + (f"  filter: /{state.filter}" if state.filter else "")
    return [first, second, third, fourth]


def _duration(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def table_lines(tab: Table, *, exact: bool, width: int | None) -> list[str]:
    """The column header then one line per row."""
    texts = [[cell(row, column, exact=exact) for column in tab.columns] for row in tab.rows]
    widths = layout(tab.columns, texts, width)
    heads = [f"{c}{'▼' if c == tab.sort else ''}" for c in tab.columns] if not exact else list(tab.columns)
    widths = [max(w, len(h)) for w, h in zip(widths, heads, strict=True)]
    return [line(heads, tab.columns, widths)] + [line(t, tab.columns, widths) for t in texts]


def batch_frame(tallies: Tallies, state: ViewState, status: Status, tab: Table, number: int) -> str:
    """A frame of batch mode: plain text, every row, exact numbers."""
    lines = [f"frame {number}", *header(tallies, state, status, tab, exact=True)]
    # The trend is a picture, not a number: batch mode leaves it out.
    rows = finish_rows(tallies, state.scope, tab.rows)
    plain = tab._replace(columns=tuple(c for c in tab.columns if c != "TREND"), rows=rows)
    lines += table_lines(plain, exact=True, width=None)
    return "\n".join(lines) + "\n\n"
