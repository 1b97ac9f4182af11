"""The seed's log format: a timestamp line, ``name: count`` lines, a blank line.

The whole-run summary uses the same shape with ``summary <seconds>s`` after the time.
"""

from __future__ import annotations

from typing import TextIO

from ..model import Breakdown, Snapshot, iso_utc
from ..names.escape import escape_text


def render(snapshot: Snapshot) -> str:
    header = iso_utc(snapshot.time)
    if snapshot.final:
        header += f" summary {snapshot.interval_s:.3f}s"
    lines = [header, *(_line(snapshot, name, count) for name, count in snapshot.counts.items())]
    if snapshot.breakdown is not None:
        lines.extend(breakdown_lines(snapshot.breakdown))
    lines.extend(f"# {note}: {value}" for note, value in snapshot.notes.items())
    return "\n".join(lines) + "\n\n"


def _line(snapshot: Snapshot, name: str, count: int) -> str:
    """``name: count``; with -L, ``key=value`` fields follow (times in ns, errors by errno)."""
    if snapshot.latency is None:
        return f"{name}: {count}"
    time = snapshot.latency[name]
    fields = f" errors={time.errors} total_ns={time.total_ns} min_ns={time.min_ns} max_ns={time.max_ns}"
    errnos = ",".join(f"{err}:{n}" for err, n in snapshot.errors.get(name, {}).items())
    return f"{name}: {count}{fields}" + (f" errnos={errnos}" if errnos else "")


def breakdown_lines(breakdown: Breakdown) -> list[str]:
    """``[<id> <label>] name: count`` per row and syscall; ``[other]`` for calls without a row."""
    lines = []
    for row in breakdown.rows:
        for name, count in row.counts.items():
            errnos = ",".join(f"{err}:{n}" for err, n in row.errors.get(name, {}).items())
            label = escape_text(row.label)  # chosen by the process, thread or cgroup: one line, always
            lines.append(f"[{row.id} {label}] {name}: {count}" + (f" errnos={errnos}" if errnos else ""))
    lines.extend(f"[other] {name}: {count}" for name, count in breakdown.other.items())
    return lines


class TextLogSink:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def emit(self, snapshot: Snapshot) -> None:
        self._stream.write(render(snapshot))
        self._stream.flush()
