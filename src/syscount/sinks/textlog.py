"""The seed's log format: a timestamp line, ``name: count`` lines, a blank line.

The whole-run summary uses the same shape with ``summary <seconds>s`` after the time.
"""

from __future__ import annotations

from typing import TextIO

from ..snapshot import Snapshot, iso_utc


def render(snapshot: Snapshot) -> str:
    header = iso_utc(snapshot.time)
    if snapshot.final:
        header += f" summary {snapshot.interval_s:.3f}s"
    lines = [header, *(f"{name}: {count}" for name, count in snapshot.counts.items())]
    lines.extend(f"# {note}: {value}" for note, value in snapshot.notes.items())
    return "\n".join(lines) + "\n\n"


class TextLogSink:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def emit(self, snapshot: Snapshot) -> None:
        self._stream.write(render(snapshot))
        self._stream.flush()
