"""Sources: what the exporter reads from the collectors at each scrape, as plain ``Totals``.

Everything here is cumulative since the exporter attached, which is what Prometheus
counters are. The counts collector's counters only grow, so a scrape just reads them.
The latency collector hands over each span of calls once (``take()`` resets the
kernel's arrays), so ``LatencySource`` adds every take into running totals; the lock
makes concurrent scrapes take one after the other, so no span is lost or counted twice.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from ...model import SyscallTime
from ...names.errnos import errno_name
from ...programs.counts import CountsCollector
from ...programs.latency import LatencyCollector
from .folding import Folded


class Durations(NamedTuple):
    """One syscall's timed calls since start: log2 buckets of ns and their total time."""

    buckets: tuple[int, ...]  # bucket k: 2^k <= d < 2^(k+1) ns; the last one also holds longer calls
    sum_ns: int

    @property
    def timed(self) -> int:
        return sum(self.buckets)


class Labelled(NamedTuple):
    """Calls per (label value, syscall) after the cardinality cap."""

    label: str  # the label's name: comm or cgroup
    folded: Folded


@dataclass(frozen=True)
class Totals:
    """One scrape's reading: everything counted since the exporter attached.

    ``None`` means "not collected in this mode" (the metric is left out), which is
    different from zero."""

    counts: dict[str, int]  # syscall -> calls
    labelled: Labelled | None = None  # with --labels: replaces ``counts`` in the output
    errors: dict[tuple[str, str], int] | None = None  # (syscall, errno name) -> failed calls
    durations: dict[str, Durations] | None = None
    in_flight: int | None = None  # timed calls running right now
    untracked_forks: int | None = None  # -p: children the full process map could not hold
    errno_overflow: int | None = None  # failures missing from the errno breakdown (map full)
    untimed: int | None = None  # calls that could not be timed (no per-thread storage)
    unattributed: int | None = None  # --labels: calls the kernel's breakdown map had no room for


class Source(Protocol):
    def totals(self) -> Totals: ...


def by_name(slots: Sequence[int], name: Callable[[int], str]) -> dict[str, int]:
    """Non-zero slot counters summed per syscall name (several slots can share a name)."""
    counts: dict[str, int] = {}
    for slot, count in enumerate(slots):
        if count:
            key = name(slot)
            counts[key] = counts.get(key, 0) + count
    return counts


class CountsSource:
    """The counts collector: cumulative counters, read as they are.

    No lock: a read only copies the mmapped counters and changes no state, so
    concurrent scrapes cannot disturb each other."""

    def __init__(self, collector: CountsCollector) -> None:
        self._collector = collector

    def totals(self) -> Totals:
        reading = self._collector.read()
        by_pid = self._collector.filters.processes is not None
        return Totals(
            counts=by_name(reading.slots, self._collector.name),
            untracked_forks=reading.untracked_forks if by_pid else None,
        )


class LatencySource:
    """The latency collector (``-L``, ``--errors``, ``-x``, ``-e``): takes added up into totals."""

    def __init__(self, collector: LatencyCollector, *, durations: bool) -> None:
        self._collector = collector
        self._durations = durations
        self._lock = threading.Lock()
        self._times: dict[int, SyscallTime] = {}  # slot -> everything taken so far

    def totals(self) -> Totals:
        with self._lock:
            take = self._collector.take()
            for slot, time in take.stats.items():
                before = self._times.get(slot)
                self._times[slot] = time if before is None else before.merge(time)
            times = dict(self._times)
        name = self._collector.name
        processes = self._collector.filters.processes
        return Totals(
            counts=_calls(times, name),
            errors=_errors(take.errnos, name),
            durations=_durations(times, name) if self._durations else None,
            in_flight=take.in_flight,
            untracked_forks=processes.untracked_forks() if processes is not None else None,
            errno_overflow=take.errno_overflow,
            untimed=take.untimed,
        )


def _calls(times: dict[int, SyscallTime], name: Callable[[int], str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for slot, time in times.items():
        if time.calls:
            key = name(slot)
            counts[key] = counts.get(key, 0) + time.calls
    return counts


def _errors(errnos: dict[tuple[int, int], int], name: Callable[[int], str]) -> dict[tuple[str, str], int]:
    errors: dict[tuple[str, str], int] = {}
    for (slot, err), count in errnos.items():
        key = (name(slot), errno_name(err))
        errors[key] = errors.get(key, 0) + count
    return errors


def _durations(times: dict[int, SyscallTime], name: Callable[[int], str]) -> dict[str, Durations]:
    durations: dict[str, Durations] = {}
    for slot, time in times.items():
        if not time.timed:
            continue  # exit, exit_group: counted, never timed
        key = name(slot)
        before = durations.get(key)
        if before is None:
            durations[key] = Durations(time.hist, time.total_ns)
        else:
            merged = tuple(a + b for a, b in zip(before.buckets, time.hist, strict=True))
            durations[key] = Durations(merged, before.sum_ns + time.total_ns)
    return durations


class Combined:
    """``--labels`` with the exit-side collector (``-L``, ``--errors``, ``-x``, ``-e``):
    labelled calls from one source, errors and durations from the other."""

    def __init__(self, labels: Source, latency: Source) -> None:
        self._labels = labels
        self._latency = latency

    def totals(self) -> Totals:
        labelled = self._labels.totals()
        return dataclasses.replace(
            self._latency.totals(),
            counts=labelled.counts,
            labelled=labelled.labelled,
            unattributed=labelled.unattributed,
        )
