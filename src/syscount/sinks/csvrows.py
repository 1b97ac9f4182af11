"""CSV: one row per syscall per interval, a header once per file (schema in docs/output.md)."""

from __future__ import annotations

import csv
from typing import TextIO

from ..snapshot import Snapshot, iso_utc

COLUMNS = ("time", "interval_s", "final", "syscall", "count")
# Appended with -L (the header says which columns a file has).
LATENCY_COLUMNS = ("errors", "total_ns", "min_ns", "max_ns")


class CsvSink:
    def __init__(self, stream: TextIO, *, latency: bool = False) -> None:
        self._stream = stream
        self._writer = csv.writer(stream, lineterminator="\n")
        if not _has_content(stream):
            self._writer.writerow(COLUMNS + (LATENCY_COLUMNS if latency else ()))

    def emit(self, snapshot: Snapshot) -> None:
        stamp = iso_utc(snapshot.time)
        final = "1" if snapshot.final else "0"
        interval = f"{snapshot.interval_s:.6f}"
        for name, count in snapshot.counts.items():
            row: list[object] = [stamp, interval, final, name, count]
            if snapshot.latency is not None:
                time = snapshot.latency[name]
                row += [time.errors, time.total_ns, time.min_ns, time.max_ns]
            self._writer.writerow(row)
        self._stream.flush()


def _has_content(stream: TextIO) -> bool:
    """True when appending to a file that already has rows (and so its header)."""
    try:
        return stream.seekable() and stream.tell() > 0
    except OSError:
        return False
