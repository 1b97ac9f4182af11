"""JSON lines: one object per interval, the last one the summary (schema in docs/output.md)."""

from __future__ import annotations

import dataclasses
import json
import operator
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
        self._rows = RowsText()

    def emit(self, snapshot: Snapshot) -> None:
        self._stream.write(self.line(snapshot) + "\n")
        self._stream.flush()

    def line(self, snapshot: Snapshot) -> str:
        """``json.dumps(record(snapshot))`` (and ``meta`` on the first), to the byte. A
        per-process (thread) breakdown whose rows are mostly alike (thousands an interval
        under churn) is written as text, each distinct part encoded once by ``json``."""
        breakdown = snapshot.breakdown
        fast = breakdown is not None and breakdown.by in ("process", "thread") and _mostly_alike(breakdown)
        data = record(dataclasses.replace(snapshot, breakdown=None) if fast else snapshot)
        if fast:
            assert breakdown is not None
            data = _with_breakdown(data, _ROWS_MARK)
        if self._meta is not None:
            data["meta"] = self._meta
            self._meta = None
        text = _dumps(data)
        if fast:
            assert breakdown is not None
            text = text.replace(_dumps(_ROWS_MARK), self._rows.breakdown(breakdown), 1)
        return text


# Where the breakdown goes in a line before it is written: JSON-encoded as
# "\u0000rows\u0000", which no syscall, note or errno name contains, and which comes
# before ``meta`` (the only free text) in the line.
_ROWS_MARK = "\0rows\0"


# One encoder for every part: json.dumps with options builds a new one per call.
_dumps = json.JSONEncoder(separators=(",", ":")).encode


def _mostly_alike(breakdown: Breakdown) -> bool:
    """Rows that share their counts with others (the reader shares alike rows' counts:
    under churn most rows are the same few calls), at least one in two."""
    rows = breakdown.rows
    return len(rows) >= 2 * len(set(map(id, map(_COUNTS, rows))))


_COUNTS = operator.attrgetter("counts")


def _with_breakdown(data: dict[str, Any], value: Any) -> dict[str, Any]:
    """``data`` with ``breakdown`` where ``record`` puts it: before ``notes``."""
    ordered = {key: item for key, item in data.items() if key != "notes"}
    ordered["breakdown"] = value
    if "notes" in data:
        ordered["notes"] = data["notes"]
    return ordered


class RowsText:
    """A per-process (thread) breakdown as JSON text: a row's counts, when another row
    shares the same dict (the reader shares alike rows' counts), and its label are
    encoded once."""

    KEPT = 8192  # encodings remembered; forgotten all at once beyond

    def __init__(self) -> None:
        # id(dict) -> (dict, its "counts" and "total" fields): the dict kept alive, so
        # its id is not reused while remembered.
        self._counts: dict[int, tuple[dict[str, int], str]] = {}
        self._labels: dict[str, str] = {}

    def breakdown(self, breakdown: Breakdown) -> str:
        if len(self._counts) > self.KEPT or len(self._labels) > self.KEPT:
            self._counts.clear()
            self._labels.clear()
        id_field, label_field = ID_FIELDS[breakdown.by]
        head = f'{{"{id_field}":'
        middle = f',"{label_field}":'
        # Looked up inline (a JSON text is never empty): thousands of rows an interval.
        labels, label, known, counts = self._labels, self._label, self._counts, self._counts_text
        rows = ",".join(
            f"{head}{row.id}{middle}{labels.get(row.label) or label(row.label)},"
            f"{(known.get(id(row.counts)) or counts(row.counts))[1]}"
            f'"errors":{_dumps(row.errors) if row.errors else "{}"}}}'
            for row in breakdown.rows
        )
        return f'{{"by":{_dumps(breakdown.by)},"rows":[{rows}],"other":{_dumps(breakdown.other)}}}'

    def _label(self, label: str) -> str:
        text = self._labels.get(label)
        if text is None:
            # JSON escapes control characters itself; it only needs valid UTF-8.
            text = self._labels[label] = _dumps(unicode_safe(label))
        return text

    def _counts_text(self, counts: dict[str, int]) -> tuple[dict[str, int], str]:
        known = self._counts[id(counts)] = (counts, f'"counts":{_dumps(counts)},"total":{sum(counts.values())},')
        return known
