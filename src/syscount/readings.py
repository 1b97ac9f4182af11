"""The reading layer: every program read as one cumulative, named ``Reading``.

A reading holds everything counted since the programs attached, by syscall name (and
per breakdown row, errno and latency bucket). Every consumer works from readings:

- an interval is ``difference(previous, current)``;
- the whole-run summary is ``difference(EMPTY, last)``, so it equals the sum of the
  intervals exactly;
- the exporter renders the latest reading as it is (Prometheus counters are totals);
- the live view and recordings take the same snapshots.

Readers own the arithmetic that makes readings cumulative where the kernel does not
keep totals itself: latency statistics are handed over one span at a time (and
reset), and breakdown rows of exited processes are deleted from the kernel after
their last values are read. Nothing is ever reset under a writer, and a lock lets
concurrent consumers (scrapes) read one after the other without losing a span.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from .model import SINCE_START, Breakdown, BreakdownRow, Snapshot, SyscallTime, sorted_counts, utc_now
from .names.errnos import errno_name
from .programs.breakdown import KeyedTotals
from .programs.counts import CountsProgram
from .programs.latency import LatencyProgram


@dataclass(frozen=True)
class Reading:
    """Totals since attach, named. ``None`` means "not collected in this mode"."""

    calls: Mapping[str, int]  # syscall -> calls
    errors: Mapping[str, Mapping[str, int]] | None = None  # syscall -> errno name -> calls
    # -L: per syscall, every timed call so far (min/max over the whole run) ...
    times: Mapping[str, SyscallTime] | None = None
    # ... and those that finished since the reader's previous reading (per-interval min/max).
    recent: Mapping[str, SyscallTime] | None = None
    in_flight: int | None = None  # timed calls running now
    losses: Mapping[str, int] = field(default_factory=dict)  # note name -> count since attach
    breakdown: Breakdown | None = None  # rows since attach (including processes gone)


EMPTY = Reading(calls={})


class Reader(Protocol):
    def read(self) -> Reading: ...

    def detach(self) -> None: ...


def named(counts: Mapping[int, int], name: Callable[[int], str]) -> dict[str, int]:
    """Counts per slot summed per syscall name (several slots can share one)."""
    totals: dict[str, int] = {}
    for slot, count in counts.items():
        if count:
            key = name(slot)
            totals[key] = totals.get(key, 0) + count
    return totals


def named_errors(errnos: Mapping[tuple[int, int], int], name: Callable[[int], str]) -> dict[str, dict[str, int]]:
    """(slot, errno) counts as syscall name -> errno name -> calls."""
    errors: dict[str, dict[str, int]] = {}
    for (slot, err), count in errnos.items():
        if count:
            by_errno = errors.setdefault(name(slot), {})
            by_errno[errno_name(err)] = by_errno.get(errno_name(err), 0) + count
    return errors


class CountsReader:
    """counts.bpf.o: its counters only grow, so a reading is what they hold."""

    def __init__(self, program: CountsProgram, *, breakdown: bool = True) -> None:
        self._program = program
        self._keyed = _keyed_totals(program) if breakdown else None
        self._lock = threading.Lock()

    def detach(self) -> None:
        self._program.detach()

    def read(self) -> Reading:
        with self._lock:
            counts = self._program.read()
            breakdown = self._keyed.read() if self._keyed else None
        losses = _losses(untracked_forks=counts.untracked_forks, breakdown=breakdown)
        calls = named(dict(enumerate(counts.slots)), self._program.name)
        return Reading(calls=calls, losses=losses, breakdown=breakdown)


class LatencyReader:
    """latency.bpf.o: adds each span the kernel hands over into running totals."""

    def __init__(self, program: LatencyProgram, *, breakdown: bool = True) -> None:
        self._program = program
        self._keyed = _keyed_totals(program) if breakdown else None
        self._lock = threading.Lock()
        self._times: dict[str, SyscallTime] = {}

    def detach(self) -> None:
        self._program.detach()

    def read(self) -> Reading:
        with self._lock:
            take = self._program.take()
            recent = _times_by_name(take.stats, self._program.name)
            for name, time in recent.items():
                self._times[name] = self._times[name].merge(time) if name in self._times else time
            times = dict(self._times)
            breakdown = self._keyed.read() if self._keyed else None
        losses = _losses(
            untracked_forks=self._program.untracked_forks(),
            breakdown=breakdown,
            errno_overflow=take.errno_overflow,
            untimed=take.untimed,
        )
        return Reading(
            calls={name: time.calls for name, time in times.items() if time.calls},
            errors=named_errors(take.errnos, self._program.name),
            times=times,
            recent=recent,
            in_flight=take.in_flight,
            losses=losses,
            breakdown=breakdown,
        )


def _keyed_totals(program: CountsProgram | LatencyProgram) -> KeyedTotals | None:
    if program.keyed is None:
        return None
    return KeyedTotals(program.keyed, program.name, program.keyed_other)


def _times_by_name(stats: Mapping[int, SyscallTime], name: Callable[[int], str]) -> dict[str, SyscallTime]:
    times: dict[str, SyscallTime] = {}
    for slot, time in stats.items():
        key = name(slot)
        times[key] = times[key].merge(time) if key in times else time
    return times


def _losses(*, untracked_forks: int | None, breakdown: Breakdown | None, **since_start: int) -> dict[str, int]:
    losses = dict(since_start)
    if untracked_forks is not None:
        losses["untracked_forks"] = untracked_forks
    if breakdown is not None:
        losses["breakdown_overflow"] = sum(breakdown.other.values())
    return losses


# -- readings -> snapshots ----------------------------------------------------------


def difference(before: Reading, after: Reading, elapsed_s: float, *, final: bool = False) -> Snapshot:
    """What happened between two readings of one reader, as the sinks' Snapshot.

    With ``final`` (the whole run: ``before`` is EMPTY) min/max are the run's; otherwise
    they are those of the calls that finished since ``before``."""
    counts = sorted_counts(_minus(after.calls, before.calls))
    latency = None
    if after.times is not None:
        extremes = after.times if final else (after.recent or {})
        latency = {name: _time_between(before.times, after.times, extremes, name) for name in counts}
    errors = None if after.errors is None else _errors_between(before.errors or {}, after.errors)
    notes = _notes_between(before.losses, after.losses)
    if final and after.breakdown is not None:
        notes["rows_folded"] = after.breakdown.folded_rows
    return Snapshot(
        time=utc_now(),
        interval_s=elapsed_s,
        counts=counts,
        final=final,
        notes={k: v for k, v in notes.items() if v},
        latency=latency,
        errors=errors or {},
        errors_seen=errors is not None,
        in_flight=after.in_flight,
        breakdown=_breakdown_between(before.breakdown, after.breakdown, final=final),
    )


def _minus(after: Mapping[str, int], before: Mapping[str, int]) -> dict[str, int]:
    return {key: value - before.get(key, 0) for key, value in after.items() if value != before.get(key, 0)}


def _time_between(
    before: Mapping[str, SyscallTime] | None,
    after: Mapping[str, SyscallTime],
    extremes: Mapping[str, SyscallTime],
    name: str,
) -> SyscallTime:
    now = after[name]
    old = (before or {}).get(name)
    span = extremes.get(name)
    low, high = (span.min_ns, span.max_ns) if span is not None else (0, 0)
    if old is None:
        return now._replace(min_ns=low, max_ns=high)
    return SyscallTime(
        calls=now.calls - old.calls,
        total_ns=now.total_ns - old.total_ns,
        min_ns=low,
        max_ns=high,
        errors=now.errors - old.errors,
        hist=tuple(a - b for a, b in zip(now.hist, old.hist, strict=True)),
    )


def _errors_between(
    before: Mapping[str, Mapping[str, int]], after: Mapping[str, Mapping[str, int]]
) -> dict[str, dict[str, int]]:
    errors: dict[str, dict[str, int]] = {}
    for name, by_errno in sorted(after.items()):
        delta = {err: n for err, n in _minus(by_errno, before.get(name, {})).items() if n}
        if delta:
            errors[name] = dict(sorted(delta.items(), key=lambda kv: (-kv[1], kv[0])))
    return errors


def _notes_between(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    return {key: value if key in SINCE_START else value - before.get(key, 0) for key, value in after.items()}


def _breakdown_between(before: Breakdown | None, after: Breakdown | None, *, final: bool) -> Breakdown | None:
    """Rows with calls between two readings. Folded rows had none (a row is folded a
    reading after its process ended), so only the whole run shows them, in ``other``."""
    if after is None:
        return None
    if final:
        other = dict(after.other)
        for name, count in after.folded.items():
            other[name] = other.get(name, 0) + count
        rows = sorted((row for row in after.rows if row.counts), key=_largest_row_first)
        # folded and folded_rows ride along: the sinks tell ended rows from map overflow.
        return Breakdown(
            by=after.by, rows=rows, other=sorted_counts(other), folded=after.folded, folded_rows=after.folded_rows
        )
    if before is not None and before.serial and after.since == before.serial:
        # The reader's next reading: only the rows it says changed need a look.
        pairs: Iterable[tuple[BreakdownRow | None, BreakdownRow]] = after.changed
    else:
        old = {row.id: row for row in before.rows} if before is not None else {}
        pairs = ((old.get(row.id), row) for row in after.rows)
    rows = []
    for previous, row in pairs:
        if previous is row:  # unchanged since the last reading (the reader keeps the object)
            continue
        if previous is None:  # new since: all of it is the interval's (rows are never mutated)
            if row.counts:
                rows.append(row)
            continue
        counts = sorted_counts(_minus(row.counts, previous.counts))
        if counts:
            errors = _errors_between(previous.errors, row.errors)
            rows.append(BreakdownRow(row.id, row.label, row.container, counts, errors))
    rows.sort(key=_largest_row_first)
    other = sorted_counts(_minus(after.other, before.other)) if before is not None else after.other
    return Breakdown(by=after.by, rows=rows, other=other)


def _largest_row_first(row: BreakdownRow) -> tuple[int, int]:
    return -sum(row.counts.values()), row.id


class Source:
    """The run loop's face of a reader: interval snapshots, the summary, detach."""

    def __init__(self, reader: Reader, *, show_latency: bool = True) -> None:
        self._reader = reader
        self._show_latency = show_latency
        self._last = EMPTY

    def detach(self) -> None:
        self._reader.detach()

    def interval(self, elapsed_s: float) -> Snapshot:
        reading = self._reader.read()
        snapshot = self._shown(difference(self._last, reading, elapsed_s))
        self._last = reading
        return snapshot

    def summary(self, elapsed_s: float) -> Snapshot:
        return self._shown(difference(EMPTY, self._last, elapsed_s, final=True))

    def _shown(self, snapshot: Snapshot) -> Snapshot:
        """Without -L, a program that times calls (-x, -e) shows no latency columns."""
        return snapshot if self._show_latency else dataclasses.replace(snapshot, latency=None, in_flight=None)


def reader_for(program: CountsProgram | LatencyProgram) -> Reader:
    if isinstance(program, CountsProgram):
        return CountsReader(program)
    return LatencyReader(program)
