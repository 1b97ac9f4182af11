"""Sources: turn a collector's kernel readings into interval and whole-run snapshots.

Every source has the same face for the run loop: ``interval(elapsed)`` reads the
kernel and returns what happened since the previous call (and remembers it for the
summary), ``summary(elapsed)`` the whole run, ``detach()`` stops the programs so
that the last interval can be read complete. Nothing is reset racily: count
counters only grow and are diffed here; latency statistics are handed over by the
kernel one interval at a time (see collectors/latency.py).
"""

from __future__ import annotations

from typing import Protocol

from .model import Breakdown, Snapshot, SyscallTime, sorted_counts, utc_now
from .names.errnos import errno_name
from .programs.breakdown import KeyedDeltas
from .programs.counts import CountsCollector, Reading
from .programs.latency import LatencyCollector, LatencyTake


class Source(Protocol):
    def interval(self, elapsed_s: float) -> Snapshot: ...

    def summary(self, elapsed_s: float) -> Snapshot: ...

    def detach(self) -> None: ...


def _notes(**values: int) -> dict[str, int]:
    return {key: value for key, value in values.items() if value}


def _overflow(breakdown: Breakdown | None) -> int:
    """Calls the full breakdown map could not give a row (they are in its "other" row)."""
    return sum(breakdown.other.values()) if breakdown else 0


def _keyed(collector: CountsCollector | LatencyCollector) -> KeyedDeltas | None:
    if collector.keyed is None:
        return None
    return KeyedDeltas(collector.keyed, collector.name, collector.keyed_other)


class CountDeltas:
    """Counts: cumulative per-CPU counters, diffed between reads."""

    def __init__(self, collector: CountsCollector) -> None:
        self._collector = collector
        self._first = Reading(slots=(0,) * collector.layout.row_slots, untracked_forks=0)
        self._last = self._first
        self._keyed = _keyed(collector)

    def detach(self) -> None:
        self._collector.detach()

    def interval(self, elapsed_s: float) -> Snapshot:
        reading = self._collector.read()
        breakdown = self._keyed.interval() if self._keyed else None
        snapshot = self._snapshot(self._last, reading, elapsed_s, final=False, breakdown=breakdown)
        self._last = reading
        return snapshot

    def summary(self, elapsed_s: float) -> Snapshot:
        breakdown = self._keyed.summary() if self._keyed else None
        return self._snapshot(self._first, self._last, elapsed_s, final=True, breakdown=breakdown)

    def _snapshot(
        self, before: Reading, after: Reading, elapsed_s: float, *, final: bool, breakdown: Breakdown | None
    ) -> Snapshot:
        counts: dict[str, int] = {}
        for slot, (old, new) in enumerate(zip(before.slots, after.slots, strict=True)):
            if new != old:
                name = self._collector.name(slot)
                counts[name] = counts.get(name, 0) + new - old
        return Snapshot(
            time=utc_now(),
            interval_s=elapsed_s,
            counts=sorted_counts(counts),
            final=final,
            notes=_notes(
                untracked_forks=after.untracked_forks - before.untracked_forks,
                breakdown_overflow=_overflow(breakdown),
            ),
            breakdown=breakdown,
        )


class LatencyDeltas:
    """-L: per-interval statistics from the kernel, summed here for the summary."""

    def __init__(self, collector: LatencyCollector, *, show_latency: bool = True) -> None:
        self._collector = collector
        self._show_latency = show_latency
        self._keyed = _keyed(collector)
        self._times: dict[str, SyscallTime] = {}
        self._errnos_last: dict[tuple[int, int], int] = {}
        self._last: LatencyTake | None = None

    def detach(self) -> None:
        self._collector.detach()

    def interval(self, elapsed_s: float) -> Snapshot:
        take = self._collector.take()
        times = self._by_name(take)
        for name, time in times.items():
            self._times[name] = self._times[name].merge(time) if name in self._times else time
        errors = self._errors(take.errnos, self._errnos_last)
        self._errnos_last = take.errnos
        self._last = take
        breakdown = self._keyed.interval() if self._keyed else None
        return self._snapshot(times, errors, take, elapsed_s, final=False, breakdown=breakdown)

    def summary(self, elapsed_s: float) -> Snapshot:
        take = self._last or self._collector.take()
        breakdown = self._keyed.summary() if self._keyed else None
        errors = self._errors(take.errnos, {})
        return self._snapshot(self._times, errors, take, elapsed_s, final=True, breakdown=breakdown)

    def _by_name(self, take: LatencyTake) -> dict[str, SyscallTime]:
        times: dict[str, SyscallTime] = {}
        for slot, time in take.stats.items():
            name = self._collector.name(slot)
            times[name] = times[name].merge(time) if name in times else time
        return times

    def _errors(self, now: dict[tuple[int, int], int], before: dict[tuple[int, int], int]) -> dict[str, dict[str, int]]:
        errors: dict[str, dict[str, int]] = {}
        for (slot, err), count in sorted(now.items()):
            delta = count - before.get((slot, err), 0)
            if delta:
                by_errno = errors.setdefault(self._collector.name(slot), {})
                by_errno[errno_name(err)] = by_errno.get(errno_name(err), 0) + delta
        return {name: dict(sorted(e.items(), key=lambda kv: (-kv[1], kv[0]))) for name, e in errors.items()}

    def _snapshot(
        self,
        times: dict[str, SyscallTime],
        errors: dict[str, dict[str, int]],
        take: LatencyTake,
        elapsed_s: float,
        *,
        final: bool,
        breakdown: Breakdown | None,
    ) -> Snapshot:
        counts = sorted_counts({name: time.calls for name, time in times.items()})
        return Snapshot(
            time=utc_now(),
            interval_s=elapsed_s,
            counts=counts,
            final=final,
            notes=_notes(
                errno_overflow=take.errno_overflow, untimed=take.untimed, breakdown_overflow=_overflow(breakdown)
            ),
            latency={name: times[name] for name in counts} if self._show_latency else None,
            errors=errors,
            errors_seen=True,
            in_flight=take.in_flight if self._show_latency else None,
            breakdown=breakdown,
        )
