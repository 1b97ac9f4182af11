"""Differ: cumulative counter readings in, interval and whole-run snapshots out.

The kernel only ever adds; remembering the previous reading and subtracting means no
count is lost between two reads and nothing is ever reset.
"""

from __future__ import annotations

from ..snapshot import Snapshot, sorted_counts, utc_now
from .counts import CountsCollector, Reading


class Differ:
    """Turns cumulative readings into interval and whole-run snapshots."""

    def __init__(self, collector: CountsCollector, start: Reading | None = None) -> None:
        self._collector = collector
        zero = Reading(slots=(0,) * collector.layout.row_slots, untracked_forks=0)
        self._first = start or zero
        self._last = self._first

    def interval(self, elapsed_s: float, reading: Reading) -> Snapshot:
        snapshot = self._snapshot(self._last, reading, elapsed_s, final=False)
        self._last = reading
        return snapshot

    def summary(self, elapsed_s: float, reading: Reading) -> Snapshot:
        return self._snapshot(self._first, reading, elapsed_s, final=True)

    def _snapshot(self, before: Reading, after: Reading, elapsed_s: float, *, final: bool) -> Snapshot:
        counts: dict[str, int] = {}
        for slot, (old, new) in enumerate(zip(before.slots, after.slots, strict=True)):
            if new != old:
                name = self._collector.name(slot)
                counts[name] = counts.get(name, 0) + new - old
        notes = {"untracked_forks": after.untracked_forks - before.untracked_forks}
        return Snapshot(
            time=utc_now(),
            interval_s=elapsed_s,
            counts=sorted_counts(counts),
            final=final,
            notes={k: v for k, v in notes.items() if v},
        )
