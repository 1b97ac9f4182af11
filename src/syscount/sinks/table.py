"""The terminal table: a time header, then syscalls by count, the top N of them."""

from __future__ import annotations

from typing import TextIO

from ..snapshot import Snapshot

NAME_WIDTH = 24


def render(snapshot: Snapshot, top: int) -> str:
    """Pure function from a snapshot to the text printed for it."""
    when = snapshot.time.astimezone().strftime("%H:%M:%S")
    title = "SUMMARY" if snapshot.final else when
    lines = [f"{title}  {snapshot.interval_s:.2f} s  {snapshot.total} syscalls"]
    rows = snapshot.top(top)
    if rows:
        width = max(NAME_WIDTH, *(len(name) + 2 for name, _ in rows))
        count_width = max(10, len(str(rows[0][1])))
        lines.append(f"{'SYSCALL':<{width}}{'COUNT':>{count_width}}")
        lines.extend(f"{name:<{width}}{count:>{count_width}}" for name, count in rows)
        hidden = len(snapshot.counts) - len(rows)
        if hidden:
            lines.append(
                f"(+{hidden} more syscalls with {snapshot.total - sum(c for _, c in rows)} calls; -T 0 shows all)"
            )
    for note, value in snapshot.notes.items():
        lines.append(f"warning: {note.replace('_', ' ')}: {value}")
    return "\n".join(lines) + "\n\n"


class TableSink:
    def __init__(self, stream: TextIO, *, top: int) -> None:
        self._stream = stream
        self._top = top

    def emit(self, snapshot: Snapshot) -> None:
        self._stream.write(render(snapshot, self._top))
        self._stream.flush()
