"""Running sums of a recording's interval lines, kept as numpy arrays (the loader's hot path).

A day of ``-L -P`` intervals is some 40 million numbers. Adding them one by one into
dicts costs more than parsing the JSON they come from, so a line's numbers are only
appended to flat lists here, next to the dense index of their key (``Keys``: one per run,
shared by all its spans); every few hundred lines the lists are folded into int64 arrays
with one ``np.add.at`` (or ``minimum.at``/``maximum.at``) per column. Only ``snapshot()``
turns the arrays back into the model's dicts and SyscallTimes, once per chart point.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from ..model import SINCE_START, Breakdown, BreakdownRow, Snapshot, SyscallTime, sorted_counts

HIST_BUCKETS = 32  # log2 buckets of the -L histogram (bpf/latency.h SC_HIST_BUCKETS)
# "hist_ns" keys (a bucket's lower bound in ns, as a string) → bucket index.
BUCKET_OF = {str(0 if k == 0 else 1 << k): k for k in range(HIST_BUCKETS)}
ID_FIELDS = {"process": "pid", "thread": "tid", "cgroup": "cgroup_id"}
LABEL_FIELDS = {"process": "comm", "thread": "comm", "cgroup": "cgroup", "comm": "comm"}
FOLD_LINES = 256  # lines whose numbers wait in lists before they are folded into arrays
_NO_MIN = np.iinfo(np.int64).max
_CALLS, _TOTAL, _ERRORS = itemgetter("calls"), itemgetter("total_ns"), itemgetter("errors")
_MIN, _MAX, _HIST = itemgetter("min_ns"), itemgetter("max_ns"), itemgetter("hist_ns")
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Needs:
    """What a command reads from the lines; what it skips stays empty (zeros) in the Snapshots."""

    hist: bool = True  # -L histograms (the report's heatmaps)
    extremes: bool = True  # -L min_ns and max_ns
    rows: bool = True  # breakdown rows (-P, --by-*)


class Keys(dict[Any, int]):
    """Key → dense index, in order of first appearance."""

    def __missing__(self, key: Any) -> int:
        index = self[key] = len(self)
        return index


class Buckets:
    """The histogram's keys: positions, name index * HIST_BUCKETS + bucket, for every syscall seen."""

    def __init__(self, names: Keys) -> None:
        self.names = names

    def __len__(self) -> int:
        return len(self.names) * HIST_BUCKETS

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self)))


class Shapes(dict[Any, int]):
    """The key tuples of a dict that comes back line after line (a histogram's buckets, a
    process's syscalls) → a shape id; each shape's dense indices are worked out once."""

    def __init__(self, indices: Callable[[Any], list[int]]) -> None:
        super().__init__()
        self.indices = indices
        self.table: list[list[int]] = []
        self._padded: Ints = np.zeros((0, 0), np.int64)

    def __missing__(self, shape: Any) -> int:
        indices = self.indices(shape)  # before the id is given: a bad shape raises and stays unknown
        self.table.append(indices)
        index = self[shape] = len(self.table) - 1
        return index

    def lengths(self, ids: Ints) -> Ints:
        return self._table()[1][ids]

    def expand(self, ids: Ints) -> Ints:
        """The dense indices of every value of ``ids``' dicts, in order."""
        padded, lengths = self._table()
        counts = lengths[ids]
        starts = np.cumsum(counts) - counts
        position = np.arange(int(counts.sum())) - np.repeat(starts, counts)
        return padded[np.repeat(ids, counts), position]

    def _table(self) -> tuple[Ints, Ints]:
        if len(self._padded) < len(self.table):
            width = max(map(len, self.table), default=0)
            self._padded = np.zeros((len(self.table), width), np.int64)
            for row, indices in enumerate(self.table):
                self._padded[row, : len(indices)] = indices
            self._lengths = np.fromiter(map(len, self.table), np.int64, len(self.table))
        return self._padded, self._lengths


class RunKeys:
    """The indices of one run: every span of it shares them, so spans add up as arrays."""

    def __init__(self) -> None:
        self.names = Keys()  # syscall names (counts and latency)
        self.errors = Keys()  # (syscall, errno)
        self.rows = Keys()  # breakdown rows: (id, label, container)
        self.row_counts = Keys()  # (row index, syscall)
        self.row_errors = Keys()  # (row index, syscall, errno)
        self.buckets = Buckets(self.names)
        self.hist_shapes = Shapes(lambda bounds: [BUCKET_OF[bound] for bound in bounds])  # KeyError: not a bucket
        self.row_shapes = Shapes(self._row_indices)
        self.row_of_shape: list[int] = []

    def _row_indices(self, shape: tuple[Any, Any, Any, tuple[str, ...]]) -> list[int]:
        row_id, label, container, names = shape
        row = self.rows[(int(row_id), str(label), container)]
        self.row_of_shape.append(row)
        return [self.row_counts[row, name] for name in names]


class Column:
    """Values added at dense indices: pending lists, folded into an int64 array."""

    def __init__(self, keys: Keys | Buckets, ufunc: np.ufunc = np.add, fill: int = 0) -> None:
        self.keys = keys
        self.ufunc = ufunc
        self.fill = fill
        self.index: list[int] = []
        self.values: list[Any] = []
        self.total: Ints = np.zeros(0, np.int64)
        self.seen = np.zeros(0, bool)

    def add(self, index: Iterable[int], values: Iterable[Any]) -> None:
        self.index.extend(index)
        self.values.extend(values)

    def fold(self, index: Ints | None = None) -> None:
        """Add the pending values; at ``index`` when given (worked out from shapes), else at ``self.index``."""
        if not self.values:
            return
        self._grow(len(self.keys))
        if index is None:
            index = np.fromiter(self.index, np.int64, len(self.index))
        values = whole_numbers(self.values)
        if self.fill:  # min_ns 0 means "nothing timed": it never lowers a minimum
            values[values == 0] = self.fill
        self.ufunc.at(self.total, index, values)
        self.seen[index] = True
        self.index.clear()
        self.values.clear()

    def merge(self, other: Column) -> None:
        self.fold()
        other.fold()
        self._grow(len(other.total))
        self.ufunc(self.total[: len(other.total)], other.total, out=self.total[: len(other.total)])
        self.seen[: len(other.seen)] |= other.seen

    def items(self) -> Iterable[tuple[Any, int]]:
        """(key, total) of every key a line named, in order of first appearance."""
        self.fold()
        keys = list(self.keys)
        for index in np.flatnonzero(self.seen).tolist():
            value = int(self.total[index])
            yield keys[index], 0 if value == self.fill and self.fill else value

    def _grow(self, size: int) -> None:
        if len(self.total) < size:
            more = size - len(self.total)
            self.total = np.concatenate([self.total, np.full(more, self.fill, np.int64)])
            self.seen = np.concatenate([self.seen, np.zeros(more, bool)])


def whole_numbers(values: list[Any]) -> Ints:
    """The values as int64, as ``int()`` reads them: anything it cannot read is a ValueError or TypeError."""
    return np.fromiter(values, np.int64, len(values))


class Totals:
    """Running sums of interval lines of one span, as a summary would add them."""

    def __init__(self, keys: RunKeys | None = None, needs: Needs | None = None) -> None:
        keys = keys or RunKeys()
        needs = needs or Needs()
        self.lines = 0
        self.seconds = 0.0
        self.last_time = ""
        self.counts = Column(keys.names)
        self.errors = Column(keys.errors)
        self.error_names: dict[str, None] = {}  # syscalls with an "errors" entry, even an empty one
        self.errors_seen = False
        self.timed = False
        self.calls, self.total_ns, self.failed = Column(keys.names), Column(keys.names), Column(keys.names)
        self.min_ns = Column(keys.names, np.minimum, _NO_MIN)
        self.max_ns = Column(keys.names, np.maximum)
        self.hist = Column(keys.buckets)  # index: name index * HIST_BUCKETS + bucket, once folded
        self.hist_owners: list[int] = []  # name index of each pending "hist_ns"
        self.hist_shapes: list[int] = []  # and its shape (which buckets it holds)
        self.row_shapes: list[int] = []  # the shape of each pending breakdown row (which row, which syscalls)
        self.needs = needs
        self._timed_fields = [(self.calls, _CALLS), (self.total_ns, _TOTAL), (self.failed, _ERRORS)]
        if needs.extremes:
            self._timed_fields += [(self.min_ns, _MIN), (self.max_ns, _MAX)]
        self.notes: dict[str, int] = {}
        self.in_flight: int | None = None
        self.by: str | None = None
        self.rows_seen: dict[int, None] = {}
        self.row_counts = Column(keys.row_counts)
        self.row_errors = Column(keys.row_errors)
        self.other: dict[str, int] = {}
        self.keys = keys

    def add(self, record: dict[str, Any]) -> None:
        self.lines += 1
        self.seconds += float(record["interval_s"])
        self.last_time = str(record["time"])
        counts = record["counts"]
        self.counts.add(map(self.keys.names.__getitem__, counts), counts.values())
        if "errors" in record:
            self.errors_seen = True
            self._add_errors(record["errors"])
        if "latency" in record:
            self.timed = True
            self._add_latency(record["latency"])
            self.in_flight = record.get("in_flight")
        for key, value in record.get("notes", {}).items():
            self._add_note(key, value)
        if "breakdown" in record and self.needs.rows:
            self._add_breakdown(record["breakdown"])
        if self.lines % FOLD_LINES == 0:
            self.fold()

    def _add_errors(self, errors: dict[str, dict[str, int]]) -> None:
        for name, errnos in errors.items():
            self.error_names[name] = None
            self.errors.add(map(self.keys.errors.__getitem__, zip(repeat(name), errnos)), errnos.values())

    def _add_latency(self, latency: dict[str, Any]) -> None:
        index = list(map(self.keys.names.__getitem__, latency))
        items = list(latency.values())
        for column, field in self._timed_fields:
            column.add(index, map(field, items))
        if not self.needs.hist:
            return
        hists = list(map(_HIST, items))
        self.hist_owners.extend(index)
        self.hist_shapes.extend(map(self.keys.hist_shapes.__getitem__, map(tuple, hists)))
        self.hist.values.extend(chain.from_iterable(map(dict.values, hists)))

    def _add_note(self, key: str, value: int) -> None:
        old = self.notes.get(key, 0)
        self.notes[key] = max(old, value) if key in SINCE_START else old + value

    def _add_breakdown(self, breakdown: dict[str, Any]) -> None:
        self.by = by = str(breakdown["by"])
        id_field, label_field = ID_FIELDS.get(by), LABEL_FIELDS[by]
        shapes, pending, values = self.keys.row_shapes, self.row_shapes, self.row_counts.values
        for row in breakdown["rows"]:
            counts = row["counts"]
            shape = shapes[row[id_field] if id_field else 0, row[label_field], row.get("container"), tuple(counts)]
            pending.append(shape)
            values.extend(counts.values())
            if row.get("errors"):
                index = self.keys.row_of_shape[shape]
                for name, errnos in row["errors"].items():
                    triples = zip(repeat(index), repeat(name), errnos)
                    self.row_errors.add(map(self.keys.row_errors.__getitem__, triples), errnos.values())
        for name, calls in breakdown.get("other", {}).items():
            self.other[name] = self.other.get(name, 0) + calls

    def _columns(self) -> tuple[Column, ...]:
        return (
            self.counts,
            self.errors,
            self.calls,
            self.total_ns,
            self.failed,
            self.min_ns,
            self.max_ns,
            self.hist,
            self.row_counts,
            self.row_errors,
        )

    def fold(self) -> None:
        if self.hist_owners:
            owners = np.fromiter(self.hist_owners, np.int64, len(self.hist_owners))
            shapes = np.fromiter(self.hist_shapes, np.int64, len(self.hist_shapes))
            lengths = self.keys.hist_shapes.lengths(shapes)
            self.hist.fold(np.repeat(owners, lengths) * HIST_BUCKETS + self.keys.hist_shapes.expand(shapes))
            self.hist_owners.clear()
            self.hist_shapes.clear()
        if self.row_shapes:
            shapes = np.fromiter(self.row_shapes, np.int64, len(self.row_shapes))
            self.row_counts.fold(self.keys.row_shapes.expand(shapes))
            rows = self.keys.row_of_shape
            self.rows_seen.update(dict.fromkeys(rows[shape] for shape in dict.fromkeys(self.row_shapes)))
            self.row_shapes.clear()
        for column in self._columns():
            column.fold()

    def merge(self, other: Totals) -> None:
        """Add another span's totals (of the same run), which come after this one's."""
        self.fold()
        other.fold()
        self.lines += other.lines
        self.seconds += other.seconds
        self.last_time = other.last_time or self.last_time
        for mine, theirs in zip(self._columns(), other._columns(), strict=True):
            mine.merge(theirs)
        self.error_names.update(other.error_names)
        self.errors_seen |= other.errors_seen
        self.timed |= other.timed
        for note, value in other.notes.items():
            self._add_note(note, value)
        self.in_flight = other.in_flight if other.timed else self.in_flight
        self.by = other.by or self.by
        self.rows_seen.update(other.rows_seen)
        for name, calls in other.other.items():
            self.other[name] = self.other.get(name, 0) + calls

    def snapshot(self, *, final: bool) -> Snapshot:
        self.fold()
        counts = sorted_counts(dict(self.counts.items()))
        latency = self._latency(counts) if self.timed else None
        return Snapshot(
            time=datetime.fromisoformat(self.last_time),
            interval_s=self.seconds,
            counts=counts,
            final=final,
            notes=self.notes,
            latency=latency,
            errors=self._errors(),
            errors_seen=self.errors_seen,
            in_flight=self.in_flight,
            breakdown=self._breakdown(),
        )

    def _errors(self) -> dict[str, dict[str, int]]:
        errors: dict[str, dict[str, int]] = {name: {} for name in self.error_names}
        for (name, errno), calls in self.errors.items():
            errors[name][errno] = calls
        return errors

    def _latency(self, counts: dict[str, int]) -> dict[str, SyscallTime]:
        calls, total_ns, min_ns, max_ns, failed = (
            dict(column.items()) for column in (self.calls, self.total_ns, self.min_ns, self.max_ns, self.failed)
        )
        hist = self.hist.total
        latency = {}
        for name in counts:
            if name not in calls:
                continue
            at = self.keys.names[name] * HIST_BUCKETS
            buckets = hist[at : at + HIST_BUCKETS].tolist() if len(hist) >= at + HIST_BUCKETS else [0] * HIST_BUCKETS
            latency[name] = SyscallTime(
                calls[name], total_ns[name], min_ns.get(name, 0), max_ns.get(name, 0), failed[name], tuple(buckets)
            )
        return latency

    def _breakdown(self) -> Breakdown | None:
        if self.by is None:
            return None
        counts: dict[int, dict[str, int]] = {index: {} for index in self.rows_seen}
        errors: dict[int, dict[str, dict[str, int]]] = {index: {} for index in self.rows_seen}
        for (index, name), calls in self.row_counts.items():
            counts[index][name] = calls
        for (index, name, errno), calls in self.row_errors.items():
            errors[index].setdefault(name, {})[errno] = calls
        keys: list[tuple[int, str, str | None]] = list(self.keys.rows)
        rows = []
        for index in self.rows_seen:
            row_id, label, container = keys[index]
            rows.append(BreakdownRow(row_id, label, container, sorted_counts(counts[index]), errors[index]))
        rows.sort(key=lambda row: (-row.total, row.label, row.id))
        return Breakdown(self.by, rows, sorted_counts(self.other))
