"""CSV: one row per syscall per interval, a header once per file (schema in docs/output.md)."""

from __future__ import annotations

import csv
from typing import TextIO

from ..model import Breakdown, Snapshot, iso_utc
from ..names.escape import escape_text
from .logfile import LogFile

COLUMNS = ("time", "interval_s", "final", "syscall", "count")
# Appended with -L (the header says which columns a file has).
LATENCY_COLUMNS = ("errors", "total_ns", "min_ns", "max_ns")
# With a breakdown, one row per (process/thread/cgroup, syscall, errno) instead.
BREAKDOWN_COLUMNS = ("time", "interval_s", "final", "by", "id", "label", "container", "syscall", "errno", "count")


class CsvSink:
    def __init__(self, stream: TextIO, *, latency: bool = False, breakdown: bool = False) -> None:
        self._stream = stream
        self._writer = csv.writer(stream, lineterminator="\n")
        header = BREAKDOWN_COLUMNS if breakdown else COLUMNS + (LATENCY_COLUMNS if latency else ())
        if isinstance(stream, LogFile):
            # Into every new file: the first one, and each one after a rotation.
            stream.set_header(",".join(header) + "\n")
        elif not _has_content(stream):
            self._writer.writerow(header)

    def emit(self, snapshot: Snapshot) -> None:
        stamp = iso_utc(snapshot.time)
        final = "1" if snapshot.final else "0"
        interval = f"{snapshot.interval_s:.6f}"
        if snapshot.breakdown is not None:
            self._writer.writerows([stamp, interval, final, *row] for row in breakdown_rows(snapshot.breakdown))
            self._stream.flush()
            return
        for name, count in snapshot.counts.items():
            row: list[object] = [stamp, interval, final, name, count]
            if snapshot.latency is not None:
                time = snapshot.latency[name]
                row += [time.errors, time.total_ns, time.min_ns, time.max_ns]
            self._writer.writerow(row)
        self._stream.flush()


def breakdown_rows(breakdown: Breakdown) -> list[list[object]]:
    """by, id, label, container, syscall, errno, count: calls without an error have an empty
    errno; calls the kernel map had no room for are the row with id ``other``."""
    rows: list[list[object]] = []
    for row in breakdown.rows:
        container = row.container or ""
        # Escaped for the people who read the file; commas and quotes are left to the
        # csv module's quoting, which keeps them inside the cell.
        label = escape_text(row.label)
        for name, count in row.counts.items():
            failed = row.errors.get(name, {})
            for err, n in failed.items():
                rows.append([breakdown.by, row.id, label, container, name, err, n])
            if count > sum(failed.values()):
                rows.append([breakdown.by, row.id, label, container, name, "", count - sum(failed.values())])
    rows.extend([breakdown.by, "other", "", "", name, "", count] for name, count in breakdown.other.items())
    return rows


def _has_content(stream: TextIO) -> bool:
    """True when appending to a file that already has rows (and so its header)."""
    try:
        return stream.seekable() and stream.tell() > 0
    except OSError:
        return False
