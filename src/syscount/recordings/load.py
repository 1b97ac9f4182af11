"""Reading a JSON-lines recording (docs/output.md) back into the model's Snapshots.

A recording is what ``syscount --format json`` writes: one line per interval, then one
summary line (``"final": true``). A run that was killed has no summary: its intervals are
summed instead, and the recording says so. ``-o`` appends, so a file can hold several
runs; the last one is read, and the recording says that too.

The file is read as a stream: a day at 1 s is 86 400 lines (hundreds of MB with -L), so
no line is kept. Each interval line is added once, straight from its JSON, into the
running totals (``Totals``, numpy arrays: sums.py) of its point: ``step`` consecutive
intervals when a timeline is asked for, else the whole run. A point becomes a Snapshot
when it is full and is added into the run's sum; a run without a summary line is that
sum. A large file with a timeline is read in two halves by two processes (halves.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..errors import UsageError
from ..model import Snapshot
from ..sinks.jsonl import SCHEMA
from .sums import HIST_BUCKETS, Needs, RunKeys, Totals

__all__ = ["HIST_BUCKETS", "Needs", "Point", "Recording", "RecordingError", "load", "snapshot_from_record"]

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


def load(path: str, *, max_points: int | None = None, needs: Needs | None = None) -> Recording:
    """Read the last run in ``path``; any problem is one RecordingError line.

    With ``max_points``, also its timeline: at most that many points, each the sum of
    ``step`` consecutive intervals (``step`` chosen from the file's line count). ``needs``
    names what the command reads from the interval lines (default: everything)."""
    notes: list[str] = []
    try:
        step = 0
        if max_points:
            newlines = newlines_per_chunk(path)
            step = max(1, math.ceil(sum(newlines) / max_points))  # intervals per point, rounded up

            from .halves import load_halves  # a large recording: two processes

            if (recording := load_halves(path, step, needs or Needs(), newlines)) is not None:
                return recording
        with open(path, "rb", buffering=CHUNK) as stream:
            return _read(path, _records(path, stream, notes), notes, step, needs or Needs())
    except OSError as exc:
        raise RecordingError(f"cannot read recording {path}: {exc.strerror or exc}") from exc


CHUNK = 1 << 20  # bytes read at a time


def newlines_per_chunk(path: str) -> list[int]:
    """The file's newlines, counted per CHUNK bytes: its lines, and where to cut it."""
    counts = []
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            counts.append(chunk.count(b"\n"))
    return counts


def _fast_parser() -> Callable[[bytes], Any]:
    """orjson when it is installed (the ``report`` extra): a day of -L lines parses ~2.5x faster."""
    try:
        from orjson import loads
    except ImportError:
        return json.loads
    return loads


def _records(
    path: str, stream: Iterator[bytes], notes: list[str], first: int = 1
) -> Iterator[tuple[int, dict[str, Any]]]:
    parse = _fast_parser()
    for number, line in enumerate(stream, first):
        try:
            record = parse(line)
        except ValueError:
            # Blank, not UTF-8, or not JSON: the standard parser decides, as it always has.
            record = _parse_slowly(path, number, line.decode("utf-8", errors="replace"), notes)
            if record is None:
                continue
        yield number, _checked(path, number, record)


def _parse_slowly(path: str, number: int, text: str, notes: list[str]) -> Any:
    """The standard parser's verdict on a line; None for a line to skip."""
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        if number == 1 and not text.lstrip().startswith("{"):
            raise RecordingError(
                f"{path}: not a syscount recording (expected JSON lines from syscount --format json)"
            ) from None
        if text.endswith("\n"):
            raise RecordingError(f"{path}: line {number} is not JSON: {exc}") from None
        # Only the last line can lack its newline: a run killed while writing it.
        notes.append(f"line {number} was cut off (the run was killed while writing) and is ignored")
        return None


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


def _read(
    path: str, records: Iterator[tuple[int, dict[str, Any]]], notes: list[str], step: int, needs: Needs
) -> Recording:
    """Runs end at a summary line, or where the next run's metadata begins; the last one counts."""
    current, finished, runs = _Run(path, step, needs), None, 0
    for number, record in records:
        if "meta" in record and current.lines:
            current, runs = _Run(path, step, needs), runs + 1
        current.add(number, record)
        if record["final"] is True:
            finished, current, runs = current, _Run(path, step, needs), runs + 1
    last = current if current.lines else finished
    runs += 1 if current.lines else 0
    if last is None:
        raise RecordingError(f"{path}: empty recording (no JSON lines; record with syscount --format json)")
    if runs > 1:
        notes.append(f"the file holds {runs} runs (appended with -o); the last one is read")
    return last.recording(notes)


class _Run:
    """One run being read: its totals, its timeline, its summary line when it comes."""

    def __init__(self, path: str, step: int, needs: Needs) -> None:
        self.path = path
        self.needs = needs
        self.step = step
        self.lines = 0
        self.schema = 1
        self.meta: dict[str, Any] = {}
        self.keys = RunKeys()
        self.point = Totals(self.keys, self.needs)
        self.whole = Totals(self.keys, self.needs)  # the points already full, added up
        self.timeline: list[Point] = []  # and drawn: a point's arrays are dropped once it is full
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
                self._close_point()
        except _BAD_VALUES as exc:
            raise RecordingError(f"{self.path}: line {number} is not a valid syscount record ({exc!r})") from None

    def _close_point(self) -> None:
        point = self.point
        self.timeline.append(Point(point.last_time, point.lines, point.snapshot(final=False)))
        self.whole.merge(point)
        self.point = Totals(self.keys, self.needs)

    def recording(self, notes: list[str]) -> Recording:
        try:
            return self._recording(notes)
        except _BAD_VALUES as exc:  # a value that is not a number shows when the sums are folded
            raise RecordingError(f"{self.path}: not a valid syscount recording ({exc})") from None

    def close(self) -> Totals:
        """The intervals added up, the last point drawn."""
        if self.step and self.point.lines:
            self._close_point()
        return self.whole if self.step else self.point

    def _recording(self, notes: list[str]) -> Recording:
        whole = self.close()
        summary = self.summary
        if summary is None:
            summary = whole.snapshot(final=True) if whole.lines else None
        if summary is None:
            raise RecordingError(f"{self.path}: the run holds no interval or summary line")
        summed = self.summary is None
        timeline, step = self.timeline, self.step or 1
        return Recording(self.path, self.schema, summary, summed, whole.lines, self.meta, notes, timeline, step)


def snapshot_from_record(record: dict[str, Any]) -> Snapshot:
    """One line as a Snapshot: the inverse of sinks/jsonl.py's ``record``."""
    totals = Totals()
    totals.add(record)
    return totals.snapshot(final=record["final"] is True)
