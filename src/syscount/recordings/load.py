"""Reading a JSON-lines recording (docs/output.md) back into the model's Snapshots.

A recording is what ``syscount --format json`` writes: one line per interval, then one
summary line (``"final": true``). A run that was killed has no summary: its intervals are
summed instead, and the recording says so. ``-o`` appends, so a file can hold several
runs; the last one is read, and the recording says that too.

The file is read as a stream: a day at 1 s is 86 400 lines (hundreds of MB with -L), so
no line is kept. Each interval line is added once, straight from its JSON, into the
running totals (``Totals``) of its point: ``step`` consecutive intervals when a timeline
is asked for, else the whole run. Only the summary line and those totals become
Snapshots; a run without a summary line is the sum of its points.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from ..errors import UsageError
from ..model import SINCE_START, Breakdown, BreakdownRow, Snapshot, SyscallTime, sorted_counts
from ..sinks.jsonl import SCHEMA

HIST_BUCKETS = 32  # log2 buckets of the -L histogram (bpf/latency.h SC_HIST_BUCKETS)
# "hist_ns" keys (a bucket's lower bound in ns, as a string) → bucket index.
BUCKET_OF = {str(0 if k == 0 else 1 << k): k for k in range(HIST_BUCKETS)}
ID_FIELDS = {"process": "pid", "thread": "tid", "cgroup": "cgroup_id"}
LABEL_FIELDS = {"process": "comm", "thread": "comm", "cgroup": "cgroup", "comm": "comm"}
_BAD_VALUES = (KeyError, TypeError, ValueError, AttributeError, IndexError)


class RecordingError(UsageError):
    """A file that cannot be read as a syscount recording (bad input: exit status 2)."""


class Point(NamedTuple):
    """Consecutive intervals added up, for a chart."""

    time: str  # end of its last interval, as recorded (ISO-8601 UTC)
    intervals: int
    snapshot: Snapshot  # their sum; ``interval_s`` is the point's length


@dataclass(frozen=True)
class Recording:
    """One run read from a file: its whole-run figures and what it says about itself."""

    path: str
    schema: int
    summary: Snapshot
    summed: bool  # no summary line (a killed run): ``summary`` is the sum of the intervals
    interval_count: int
    meta: dict[str, Any] = field(default_factory=dict)  # empty for schema 1 recordings
    notes: list[str] = field(default_factory=list)  # what reading it had to decide
    timeline: list[Point] = field(default_factory=list)  # with load(max_points=...) only
    step: int = 1  # intervals per point of the timeline

    @property
    def duration_s(self) -> float:
        return self.summary.interval_s

    @property
    def source(self) -> str:
        """Where the whole-run figures come from, in words."""
        if self.summed:
            return f"sum of {self.interval_count} intervals (no summary line: the run was cut short)"
        return "summary line"


def load(path: str, *, max_points: int | None = None) -> Recording:
    """Read the last run in ``path``; any problem is one RecordingError line.

    With ``max_points``, also its timeline: at most that many points, each the sum of
    ``step`` consecutive intervals (``step`` chosen from the file's line count)."""
    notes: list[str] = []
    try:
        step = _step(path, max_points) if max_points else 0
        with open(path, encoding="utf-8", errors="replace") as stream:
            return _read(path, _records(path, stream, notes), notes, step)
    except OSError as exc:
        raise RecordingError(f"cannot read recording {path}: {exc.strerror or exc}") from exc


def _step(path: str, max_points: int) -> int:
    """Intervals per point: the file's lines over ``max_points``, rounded up."""
    lines = 0
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            lines += chunk.count(b"\n")
    return max(1, math.ceil(lines / max_points))


def _records(path: str, stream: Iterator[str], notes: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, text in enumerate(stream, 1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError as exc:
            if number == 1 and not text.lstrip().startswith("{"):
                raise RecordingError(
                    f"{path}: not a syscount recording (expected JSON lines from syscount --format json)"
                ) from None
            if text.endswith("\n"):
                raise RecordingError(f"{path}: line {number} is not JSON: {exc}") from None
            # Only the last line can lack its newline: a run killed while writing it.
            notes.append(f"line {number} was cut off (the run was killed while writing) and is ignored")
            continue
        yield number, _checked(path, number, record)


def _checked(path: str, number: int, record: Any) -> dict[str, Any]:
    if not isinstance(record, dict) or not isinstance(record.get("counts"), dict) or "final" not in record:
        raise RecordingError(f"{path}: line {number} is not a syscount record (no counts/final fields)")
    schema = record.get("schema", 1)
    if not isinstance(schema, int) or schema < 1:
        raise RecordingError(f"{path}: line {number} has an invalid schema version {schema!r}")
    if schema > SCHEMA:
        raise RecordingError(
            f"{path}: recording schema version {schema} is newer than this syscount reads ({SCHEMA}); upgrade syscount"
        )
    return record


def _read(path: str, records: Iterator[tuple[int, dict[str, Any]]], notes: list[str], step: int) -> Recording:
    """Runs end at a summary line, or where the next run's metadata begins; the last one counts."""
    current, finished, runs = _Run(path, step), None, 0
    for number, record in records:
        if "meta" in record and current.lines:
            current, runs = _Run(path, step), runs + 1
        current.add(number, record)
        if record["final"] is True:
            finished, current, runs = current, _Run(path, step), runs + 1
    last = current if current.lines else finished
    runs += 1 if current.lines else 0
    if last is None:
        raise RecordingError(f"{path}: empty recording (no JSON lines; record with syscount --format json)")
    if runs > 1:
        notes.append(f"the file holds {runs} runs (appended with -o); the last one is read")
    return last.recording(notes)


class _Run:
    """One run being read: its totals, its timeline, its summary line when it comes."""

    def __init__(self, path: str, step: int) -> None:
        self.path = path
        self.step = step
        self.lines = 0
        self.schema = 1
        self.meta: dict[str, Any] = {}
        self.point = Totals()
        self.closed: list[Totals] = []  # points already full
        self.summary: Snapshot | None = None

    def add(self, number: int, record: dict[str, Any]) -> None:
        if not self.lines and isinstance(record.get("meta"), dict):
            self.meta = record["meta"]
        self.lines += 1
        self.schema = max(self.schema, record.get("schema", 1))
        try:
            if record["final"] is True:
                self.summary = snapshot_from_record(record)
                return
            self.point.add(record)
            if self.point.lines == self.step:  # never with step 0: one point for the whole run
                self.closed.append(self.point)
                self.point = Totals()
        except _BAD_VALUES as exc:
            raise RecordingError(f"{self.path}: line {number} is not a valid syscount record ({exc!r})") from None

    def recording(self, notes: list[str]) -> Recording:
        points = [*self.closed, self.point] if self.point.lines else self.closed
        timeline = [Point(p.last_time, p.lines, p.snapshot(final=False)) for p in points] if self.step else []
        intervals = sum(p.lines for p in points)
        summary = self.summary
        if summary is None:
            whole = Totals()
            for point in points:
                whole.merge(point)
            summary = whole.snapshot(final=True) if whole.lines else None
        if summary is None:
            raise RecordingError(f"{self.path}: the run holds no interval or summary line")
        summed = self.summary is None
        return Recording(self.path, self.schema, summary, summed, intervals, self.meta, notes, timeline, self.step or 1)


class Totals:
    """Running sums of interval lines, straight from their JSON, as a summary would add them."""

    def __init__(self) -> None:
        self.lines = 0
        self.seconds = 0.0
        self.last_time = ""
        self.counts: dict[str, int] = {}
        self.errors: dict[str, dict[str, int]] = {}
        self.errors_seen = False
        self.timed = False
        self.latency: dict[str, list[Any]] = {}  # name → [calls, total, min, max, errors, {bucket: calls}]
        self.notes: dict[str, int] = {}
        self.in_flight: int | None = None
        self.by: str | None = None
        self.rows: dict[tuple[int, str, str | None], tuple[dict[str, int], dict[str, dict[str, int]]]] = {}
        self.other: dict[str, int] = {}

    def add(self, record: dict[str, Any]) -> None:
        self.lines += 1
        self.seconds += float(record["interval_s"])
        self.last_time = str(record["time"])
        _add(self.counts, record["counts"])
        if "errors" in record:
            self.errors_seen = True
            _add_nested(self.errors, record["errors"])
        if "latency" in record:
            self.timed = True
            self._add_latency(record["latency"])
            self.in_flight = record.get("in_flight")
        for key, value in record.get("notes", {}).items():
            self._add_note(key, value)
        if "breakdown" in record:
            self._add_breakdown(record["breakdown"])

    def merge(self, other: Totals) -> None:
        """Add another span's totals, which come after this one's."""
        self.lines += other.lines
        self.seconds += other.seconds
        self.last_time = other.last_time or self.last_time
        _add(self.counts, other.counts)
        _add_nested(self.errors, other.errors)
        self.errors_seen |= other.errors_seen
        self.timed |= other.timed
        for name, total in other.latency.items():
            self._add_time(name, total)
        for note, value in other.notes.items():
            self._add_note(note, value)
        self.in_flight = other.in_flight if other.timed else self.in_flight
        self.by = other.by or self.by
        for row, (counts, errors) in other.rows.items():
            into_counts, into_errors = self.rows.setdefault(row, ({}, {}))
            _add(into_counts, counts)
            _add_nested(into_errors, errors)
        _add(self.other, other.other)

    def _add_note(self, key: str, value: int) -> None:
        old = self.notes.get(key, 0)
        self.notes[key] = max(old, value) if key in SINCE_START else old + value

    def _add_time(self, name: str, figures: Sequence[Any]) -> None:
        """``figures``: calls, total_ns, min_ns, max_ns, errors, {bucket: calls}."""
        calls, total_ns, min_ns, max_ns, errors, hist = figures
        total = self.latency.get(name)
        if total is None:
            total = self.latency[name] = [0, 0, 0, 0, 0, {}]
        total[0] += calls
        total[1] += total_ns
        if min_ns and (not total[2] or min_ns < total[2]):
            total[2] = min_ns
        total[3] = max(total[3], max_ns)
        total[4] += errors
        _add(total[5], hist)

    def _add_latency(self, latency: dict[str, Any]) -> None:
        for name, item in latency.items():
            figures = (item["calls"], item["total_ns"], item["min_ns"], item["max_ns"], item["errors"], item["hist_ns"])
            self._add_time(name, figures)

    def _add_breakdown(self, breakdown: dict[str, Any]) -> None:
        self.by = by = str(breakdown["by"])
        id_field, label_field = ID_FIELDS.get(by), LABEL_FIELDS[by]
        for row in breakdown["rows"]:
            key = (int(row[id_field]) if id_field else 0, str(row[label_field]), row.get("container"))
            counts, errors = self.rows.setdefault(key, ({}, {}))
            _add(counts, row["counts"])
            _add_nested(errors, row.get("errors", {}))
        _add(self.other, breakdown.get("other", {}))

    def snapshot(self, *, final: bool) -> Snapshot:
        counts = sorted_counts(self.counts)
        latency = {name: _time(self.latency[name]) for name in counts if name in self.latency}
        return Snapshot(
            time=datetime.fromisoformat(self.last_time),
            interval_s=self.seconds,
            counts=counts,
            final=final,
            notes=self.notes,
            latency=latency if self.timed else None,
            errors=self.errors,
            errors_seen=self.errors_seen,
            in_flight=self.in_flight,
            breakdown=self._breakdown(),
        )

    def _breakdown(self) -> Breakdown | None:
        if self.by is None:
            return None
        rows = [
            BreakdownRow(row_id, label, container, sorted_counts(counts), errors)
            for (row_id, label, container), (counts, errors) in self.rows.items()
        ]
        rows.sort(key=lambda row: (-row.total, row.label, row.id))
        return Breakdown(self.by, rows, sorted_counts(self.other))


def _time(total: list[Any]) -> SyscallTime:
    hist = [0] * HIST_BUCKETS
    for lower, calls in total[5].items():
        hist[BUCKET_OF[lower]] += calls  # KeyError: not a bucket syscount writes
    return SyscallTime(total[0], total[1], total[2], total[3], total[4], tuple(hist))


def _add(into: dict[str, int], values: dict[str, int]) -> None:
    # No int(): a value that is not a number fails the addition (TypeError, reported
    # with its line), and this loop runs a few hundred times per -L line.
    for key, value in values.items():
        into[key] = into.get(key, 0) + value


def _add_nested(into: dict[str, dict[str, int]], values: dict[str, dict[str, int]]) -> None:
    for key, inner in values.items():
        _add(into.setdefault(key, {}), inner)


def snapshot_from_record(record: dict[str, Any]) -> Snapshot:
    """One line as a Snapshot: the inverse of sinks/jsonl.py's ``record``."""
    totals = Totals()
    totals.add(record)
    return totals.snapshot(final=record["final"] is True)
