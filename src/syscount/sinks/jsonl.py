"""JSON lines: one object per interval, the last one the summary (schema in docs/output.md)."""

from __future__ import annotations

import json
from typing import Any, TextIO

from ..model import Breakdown, Snapshot, SyscallTime, iso_utc
from ..names.escape import unicode_safe

# The recording's schema version, on every line (docs/output.md). Lines without it were
# written before versioning: version 1. Version 2 added "schema" and "meta". Version 3:
# syscount's own process left out system-wide, ended rows folded into the summary's other.
SCHEMA = 3


def record(snapshot: Snapshot) -> dict[str, Any]:
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "time": iso_utc(snapshot.time),
        "interval_s": round(snapshot.interval_s, 6),
        "counts": snapshot.counts,
        "total": snapshot.total,
        "final": snapshot.final,
    }
    if snapshot.latency is not None:
        data["latency"] = {name: latency_record(time) for name, time in snapshot.latency.items()}
        data["in_flight"] = snapshot.in_flight
    if snapshot.errors_seen:
        data["errors"] = snapshot.errors
    if snapshot.breakdown is not None:
        data["breakdown"] = breakdown_record(snapshot.breakdown)
    if snapshot.notes:
        data["notes"] = snapshot.notes
    return data


ID_FIELDS = {
    "process": ("pid", "comm"),
    "thread": ("tid", "comm"),
    "cgroup": ("cgroup_id", "cgroup"),
    "comm": ("", "comm"),  # the kernel's key is a hash of the name: only the name is shown
}


def breakdown_record(breakdown: Breakdown) -> dict[str, Any]:
    """``{"by": ..., "rows": [{"pid": .., "comm": .., "counts": .., "total": .., "errors": ..}], "other": ..}``."""
    id_field, label_field = ID_FIELDS[breakdown.by]
    if breakdown.by in ("process", "thread"):  # thousands of rows an interval under churn: one dict each
        rows = [
            {
                id_field: row.id,
                label_field: unicode_safe(row.label),
                "counts": row.counts,
                "total": sum(row.counts.values()),
                "errors": row.errors,
            }
            for row in breakdown.rows
        ]
        return {"by": breakdown.by, "rows": rows, "other": breakdown.other}
    rows = []
    for row in breakdown.rows:
        # JSON escapes control characters itself; it only needs valid UTF-8.
        label = unicode_safe(row.label)
        item: dict[str, Any] = {id_field: row.id, label_field: label} if id_field else {label_field: label}
        if breakdown.by == "cgroup":
            item["container"] = row.container
        item.update(counts=row.counts, total=row.total, errors=row.errors)
        rows.append(item)
    return {"by": breakdown.by, "rows": rows, "other": breakdown.other}


def latency_record(time: SyscallTime) -> dict[str, Any]:
    """-L figures of one syscall; ``hist_ns`` maps a bucket's lower bound (ns) to its count."""
    return {
        "calls": time.calls,
        "errors": time.errors,
        "total_ns": time.total_ns,
        "avg_ns": round(time.avg_ns, 1),
        "min_ns": time.min_ns,
        "max_ns": time.max_ns,
        "hist_ns": {str(0 if k == 0 else 1 << k): n for k, n in enumerate(time.hist) if n},
    }


class JsonLinesSink:
    """Writes one line per snapshot; the run's first line also carries ``meta``."""

    def __init__(self, stream: TextIO, meta: dict[str, Any] | None = None) -> None:
        self._stream = stream
        self._meta = meta

    def emit(self, snapshot: Snapshot) -> None:
        data = record(snapshot)
        if self._meta is not None:
            data["meta"] = self._meta
            self._meta = None
        self._stream.write(json.dumps(data, separators=(",", ":")) + "\n")
        self._stream.flush()
