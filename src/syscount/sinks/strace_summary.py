"""The summary in strace -c's columns, sorted by time, so the two can be read side by side."""

from __future__ import annotations

from typing import NamedTuple

from ..model import Snapshot

RULE = "------ ----------- ----------- --------- --------- ----------------"
HEADER = "% time     seconds  usecs/call     calls    errors syscall"


class StraceRow(NamedTuple):
    """One line of strace -c's table (also the HTML report's summary)."""

    percent: float
    total_ns: int
    calls: int
    errors: int
    name: str

    @property
    def usecs_per_call(self) -> int:
        return self.total_ns // 1000 // self.calls if self.calls else 0


def strace_rows(snapshot: Snapshot) -> tuple[list[StraceRow], StraceRow]:
    """The rows of a -L snapshot in time order (then calls), and the total row."""
    latency = snapshot.latency or {}
    grand_ns = sum(time.total_ns for time in latency.values())
    order = sorted(latency.items(), key=lambda kv: (-kv[1].total_ns, -kv[1].calls, kv[0]))
    rows = [
        StraceRow(100.0 * time.total_ns / grand_ns if grand_ns else 0.0, time.total_ns, time.calls, time.errors, name)
        for name, time in order
    ]
    calls = sum(time.calls for time in latency.values())
    errors = sum(time.errors for time in latency.values())
    return rows, StraceRow(100.0 if grand_ns else 0.0, grand_ns, calls, errors, "total")


def _line(row: StraceRow) -> str:
    errors_cell = str(row.errors) if row.errors else ""
    return (
        f"{row.percent:6.2f} {row.total_ns / 1e9:11.6f} {row.usecs_per_call:11d} {row.calls:9d}"
        f" {errors_cell:>9} {row.name}"
    )


def render_strace_summary(snapshot: Snapshot) -> str:
    """Pure function: a -L summary snapshot to strace -c's table (time order, then calls)."""
    rows, total = strace_rows(snapshot)
    lines = [HEADER, RULE, *(_line(row) for row in rows), RULE, _line(total)]
    return "\n".join(lines) + "\n\n"
