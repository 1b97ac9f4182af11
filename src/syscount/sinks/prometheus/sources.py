"""What the exporter reads at each scrape: the reading layer's latest ``Reading`` as ``Totals``.

Everything is cumulative since the exporter attached, which is what Prometheus
counters are: a scrape takes one reading (readings.py makes latency totals cumulative
and serialises concurrent scrapes) and renders it as it is.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from ...readings import Reader, Reading
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
    untracked_forks: int | None = None  # -p: children whose id is past the process filter
    errno_overflow: int | None = None  # failures missing from the errno breakdown (map full)
    untimed: int | None = None  # calls that could not be timed (no per-thread storage)
    unattributed: int | None = None  # --labels: calls the kernel's breakdown map had no room for


class Source(Protocol):
    def totals(self) -> Totals: ...


class ReadingSource:
    """Any reader (counts, or latency with -L/--errors/-x/-e): one reading per scrape."""

    def __init__(self, reader: Reader, *, durations: bool) -> None:
        self._reader = reader
        self._durations = durations

    def totals(self) -> Totals:
        return totals_of(self._reader.read(), durations=self._durations)


def totals_of(reading: Reading, *, durations: bool) -> Totals:
    """A reading in the exporter's terms (errors keyed by (syscall, errno), histograms)."""
    errors = None
    if reading.errors is not None:
        errors = {(name, err): n for name, by_errno in reading.errors.items() for err, n in by_errno.items()}
    times = None
    if durations and reading.times is not None:
        times = {name: Durations(t.hist, t.total_ns) for name, t in reading.times.items() if t.timed}
    losses = reading.losses
    return Totals(
        counts=dict(reading.calls),
        errors=errors,
        durations=times,
        in_flight=reading.in_flight,
        untracked_forks=losses.get("untracked_forks"),
        errno_overflow=losses.get("errno_overflow"),
        untimed=losses.get("untimed"),
    )


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
