"""The terminal table: a time header, then syscalls by count, the top N of them.

With -L the rows gain errors and time columns, errors are broken down by errno under
the table, ``--histogram`` adds a log2 histogram per syscall and ``--summary`` ends
the run with strace -c's columns instead of the plain summary table.
"""

from __future__ import annotations

from typing import NamedTuple, TextIO

from ..model import Breakdown, Snapshot, SyscallTime
from ..names.escape import escape_text
from .histogram import render_histogram
from .strace_summary import render_strace_summary

NAME_WIDTH = 24


def _header(snapshot: Snapshot) -> str:
    when = snapshot.time.astimezone().strftime("%H:%M:%S")
    title = "SUMMARY" if snapshot.final else when
    line = f"{title}  {snapshot.interval_s:.2f} s  {snapshot.total} syscalls"
    if snapshot.in_flight and not snapshot.final:
        line += f"  {snapshot.in_flight} in flight"
    return line


def _us(ns: float) -> str:
    return f"{ns / 1000:.1f}"


def _latency_cells(time: SyscallTime | None) -> str:
    if time is None:
        return ""
    cells = [str(time.errors or ""), f"{time.total_ns / 1e6:.3f}"]
    cells += [_us(time.avg_ns), _us(time.min_ns), _us(time.max_ns)] if time.timed else ["-", "-", "-"]
    return "".join(f"{cell:>11}" for cell in cells)


LATENCY_HEADER = "".join(f"{title:>11}" for title in ("ERRORS", "TOTAL ms", "AVG us", "MIN us", "MAX us"))


def render(snapshot: Snapshot, top: int) -> str:
    """Pure function from a snapshot to the text printed for it."""
    lines = [_header(snapshot)]
    rows = snapshot.top(top)
    latency = snapshot.latency
    if rows:
        width = max(NAME_WIDTH, *(len(name) + 2 for name, _ in rows))
        count_width = max(10, len(str(rows[0][1])))
        extra = LATENCY_HEADER if latency is not None else ""
        lines.append(f"{'SYSCALL':<{width}}{'COUNT':>{count_width}}{extra}")
        for name, count in rows:
            cells = _latency_cells(latency.get(name)) if latency is not None else ""
            lines.append(f"{name:<{width}}{count:>{count_width}}{cells}")
        hidden = len(snapshot.counts) - len(rows)
        if hidden:
            rest = snapshot.total - sum(c for _, c in rows)
            lines.append(f"(+{hidden} more syscalls with {rest} calls; -T 0 shows all)")
    shown = {name for name, _ in rows}
    for name, by_errno in snapshot.errors.items():
        if name in shown:
            lines.append(f"errors: {name}: " + ", ".join(f"{err} {n}" for err, n in by_errno.items()))
    if snapshot.breakdown is not None:
        lines.extend(render_breakdown(snapshot.breakdown, top))
    for note, value in snapshot.notes.items():
        lines.append(f"warning: {note.replace('_', ' ')}: {value}")
    return "\n".join(lines) + "\n\n"


class Heads(NamedTuple):
    """A breakdown's column heads, and what its rows are called in the "(+N more …)" line."""

    id: str
    label: str
    rows: str


BREAKDOWN_HEADS = {
    "process": Heads("PID", "COMM", "processes"),
    "thread": Heads("TID", "COMM", "threads"),
    "cgroup": Heads("CGROUP ID", "CGROUP", "cgroups"),
    "comm": Heads("", "COMM", "commands"),  # the key is a hash of the name: not worth showing
}
TOP_SYSCALLS = 4


def _top_syscalls(counts: dict[str, int], errors: dict[str, dict[str, int]]) -> str:
    cells = []
    for name, count in list(counts.items())[:TOP_SYSCALLS]:
        failed = errors.get(name)
        detail = f" ({', '.join(f'{err} {n}' for err, n in failed.items())})" if failed else ""
        cells.append(f"{name} {count}{detail}")
    more = len(counts) - TOP_SYSCALLS
    return ", ".join(cells) + (f", +{more} more" if more > 0 else "")


def render_breakdown(breakdown: Breakdown, top: int) -> list[str]:
    """The top rows (processes, threads, commands or cgroups), each with its top syscalls."""
    id_head, label_head, row_names = BREAKDOWN_HEADS[breakdown.by]
    rows = breakdown.rows if top == 0 else breakdown.rows[:top]
    label_width = max([len(label_head), 16, *(len(_label(r.label, r.container)) for r in rows)]) + 2
    id_width = 10 if id_head else 0
    lines = ["", f"{id_head:<{id_width}}{label_head:<{label_width}}{'TOTAL':>10}  TOP SYSCALLS"]
    for row in rows:
        label = _label(row.label, row.container)
        shown_id = str(row.id) if id_head else ""
        top_calls = _top_syscalls(row.counts, row.errors)
        lines.append(f"{shown_id:<{id_width}}{label:<{label_width}}{row.total:>10}  {top_calls}")
    hidden = len(breakdown.rows) - len(rows)
    if hidden:
        lines.append(f"(+{hidden} more {row_names} with {sum(r.total for r in breakdown.rows[len(rows) :])} calls)")
    if breakdown.other:
        total = sum(breakdown.other.values())
        name = "other" if id_head else ""
        label = _other_label(breakdown, row_names)
        label = label if id_head else f"other {label}"
        lines.append(f"{name:<{id_width}}{label:<{label_width}}{total:>10}  {_top_syscalls(breakdown.other, {})}")
    return lines


def _other_label(breakdown: Breakdown, row_names: str) -> str:
    """What the other row holds: the summary's ended rows no longer kept (folded), and
    calls the kernel map had no room for; an interval's other is only the latter."""
    parts = []
    if breakdown.folded_rows:
        parts.append(f"{breakdown.folded_rows} ended {row_names}")
    if sum(breakdown.other.values()) > sum(breakdown.folded.values()) or not parts:
        parts.append("map full")
    return f"({', '.join(parts)})"


def _label(label: str, container: str | None) -> str:
    """A row's name, escaped: its process, thread or cgroup directory chose it."""
    shown = escape_text(label)
    return f"{shown} [{container}]" if container else shown


class TableSink:
    def __init__(self, stream: TextIO, *, top: int, histogram: bool = False, strace_summary: bool = False) -> None:
        self._stream = stream
        self._top = top
        self._histogram = histogram
        self._strace_summary = strace_summary

    def emit(self, snapshot: Snapshot) -> None:
        if snapshot.final and self._strace_summary and snapshot.latency is not None:
            text = render_strace_summary(snapshot)
        else:
            text = render(snapshot, self._top)
        if self._histogram and snapshot.latency is not None:
            text += "".join(render_histogram(name, snapshot.latency[name]) for name, _ in snapshot.top(self._top))
        self._stream.write(text)
        self._stream.flush()
