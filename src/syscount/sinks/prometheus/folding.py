"""A cardinality cap for labelled series (``--labels comm|cgroup --max-series N``).

Input: cumulative counts per (label value, syscall), e.g. ``("nginx", "read") -> 120``.
Output: at most N label values keep series of their own; every other value's counts
are added into the value ``other``, per syscall, so every sum stays exact.

Stability is what keeps Prometheus counters monotonic: a label value that once got
series keeps them for the life of the exporter, and one that was folded stays folded
(values are only admitted while there is room, and the kept set never shrinks). So
``other`` only ever grows as long as the input does. When more new values arrive than
there is room for, the largest (by total calls) are admitted first, ties by name, so
the choice does not depend on dict order.

A real label value spelled ``other`` (a process named "other") is always folded: it
cannot get a series of its own without colliding with the fold series.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

OTHER = "other"


class Folded(NamedTuple):
    """One reading after the cap."""

    counts: dict[tuple[str, str], int]  # (label value or OTHER, syscall) -> calls, sorted
    kept_values: int  # label values with series of their own
    folded_values: int  # distinct label values in this reading that were added into OTHER
    folded_series: int  # (label value, syscall) series that were added into OTHER


class SeriesCap:
    """Remembers which label values have series; folds the rest into ``other``."""

    def __init__(self, max_values: int) -> None:
        if max_values < 0:
            raise ValueError("max_values must be >= 0")
        self.max_values = max_values
        self._kept: set[str] = set()

    @property
    def kept(self) -> frozenset[str]:
        return frozenset(self._kept)

    def fold(self, counts: Mapping[tuple[str, str], int]) -> Folded:
        """Apply the cap to one cumulative reading (call it with every reading, in order)."""
        self._admit(_totals_by_value(counts))
        folded: dict[tuple[str, str], int] = {}
        folded_values: set[str] = set()
        folded_series = 0
        for (value, syscall), count in counts.items():
            if value in self._kept:
                key = (value, syscall)
            else:
                key = (OTHER, syscall)
                folded_values.add(value)
                folded_series += 1
            folded[key] = folded.get(key, 0) + count
        return Folded(
            counts=dict(sorted(folded.items())),
            kept_values=len(self._kept),
            folded_values=len(folded_values),
            folded_series=folded_series,
        )

    def _admit(self, totals: Mapping[str, int]) -> None:
        room = self.max_values - len(self._kept)
        if room <= 0:
            return
        new = [value for value in totals if value not in self._kept and value != OTHER]
        new.sort(key=lambda value: (-totals[value], value))
        self._kept.update(new[:room])


def _totals_by_value(counts: Mapping[tuple[str, str], int]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for (value, _), count in counts.items():
        totals[value] = totals.get(value, 0) + count
    return totals
