"""The summary in strace -c's columns, sorted by time, so the two can be read side by side."""

from __future__ import annotations

from ..model import Snapshot

RULE = "------ ----------- ----------- --------- --------- ----------------"
HEADER = "% time     seconds  usecs/call     calls    errors syscall"


def _row(percent: float, total_ns: int, calls: int, errors: int, name: str) -> str:
    usecs = total_ns // 1000 // calls if calls else 0
    errors_cell = str(errors) if errors else ""
    return f"{percent:6.2f} {total_ns / 1e9:11.6f} {usecs:11d} {calls:9d} {errors_cell:>9} {name}"


def render_strace_summary(snapshot: Snapshot) -> str:
    """Pure function: a -L summary snapshot to strace -c's table (time order, then calls)."""
    latency = snapshot.latency or {}
    grand_ns = sum(time.total_ns for time in latency.values())
    order = sorted(latency.items(), key=lambda kv: (-kv[1].total_ns, -kv[1].calls, kv[0]))
    lines = [HEADER, RULE]
    for name, time in order:
        percent = 100.0 * time.total_ns / grand_ns if grand_ns else 0.0
        lines.append(_row(percent, time.total_ns, time.calls, time.errors, name))
    lines.append(RULE)
    calls = sum(time.calls for time in latency.values())
    errors = sum(time.errors for time in latency.values())
    lines.append(_row(100.0 if grand_ns else 0.0, grand_ns, calls, errors, "total"))
    return "\n".join(lines) + "\n\n"
