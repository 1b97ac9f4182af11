"""Breakdowns (-P, --by-thread, --by-cgroup, --by-comm): rows of calls per process,
thread, cgroup or thread name.

``keyed.KeyedMap`` reads the kernel's maps (keyed.h): calls per (who, slot, errno)
since the key was made, and which processes or threads have ended. ``KeyedTotals``
turns that into totals since attach, names the rows, and deletes the keys of the
ended, after reading their last values, so the bounded map never fills with the dead.
Calls the full map could not take are the "other" row: rows + other = total, always.

Memory stays bounded however many processes come and go: the whole run keeps the
rows of at most ``EXITED_KEPT`` ended processes (threads), the ones with the most
calls; the calls of the others are folded into ``folded`` (per syscall), which the
summary adds to ``other``. A row is folded one reading after its process ended, so
every interval still shows each process's last calls in its own row.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from ..model import Breakdown, BreakdownRow, sorted_counts
from ..names.cgroups import CgroupNames, container_id
from ..names.errnos import errno_name
from .keyed import PER_TASK, Key, KeyedMap

# Ended processes (threads) whose rows the whole-run summary keeps: those with the
# most calls. ~1 KB each; the rest are summed into the summary's "other".
EXITED_KEPT = 1024

Row = dict[tuple[int, int], int]  # (slot, errno) -> calls since attach


class KeyedTotals:
    """A breakdown read as totals since attach: rows named, the ended forgotten in the kernel.

    Keys of processes and threads that have ended are deleted from the kernel after
    their last values are read; their totals stay here (up to ``kept`` of them, the
    largest), so a reading never goes down."""

    def __init__(
        self,
        keyed: KeyedMap,
        name: Callable[[int], str],
        other: Callable[[], tuple[int, ...]],
        *,
        kept: int = EXITED_KEPT,
    ) -> None:
        self._keyed = keyed
        self._name = name
        self._other = other
        self._kept = kept
        self._last: dict[Key, int] = {}  # the kernel's values at the previous reading
        self._rows: dict[int, Row] = {}  # id -> calls since attach
        self._labels: dict[int, str] = {}
        self._ended: set[int] = set()  # ended by the previous reading: rows final, not yet kept or folded
        self._exited: list[tuple[int, int]] = []  # heap of (total, id): the ended rows kept
        self._kept_ids: set[int] = set()
        self._folded: dict[int, int] = {}  # slot -> calls of ended rows no longer kept
        self._folded_rows = 0
        self._cgroups = CgroupNames()
        self._slot_names: dict[int, str] = {}
        self._made: dict[int, BreakdownRow] = {}  # id -> its row as last built: rebuilt only on change

    def read(self) -> Breakdown:
        # Who ended is learned before reading: their last values are then complete.
        ended = self._keyed.exited() if self._keyed.by in PER_TASK else set()
        self._keep_or_fold(self._ended)
        now = self._keyed.read()
        self._learn_names(now)
        for key, value in now.items():
            delta = value - self._last.get(key, 0)
            if delta:
                row = self._rows.setdefault(key[0], {})
                row[key[1:]] = row.get(key[1:], 0) + delta
                self._made.pop(key[0], None)
        if ended:
            self._keyed.forget(ended)
            self._last = {key: value for key, value in now.items() if key[0] not in ended}
        else:
            self._last = now
        self._ended = ended & self._rows.keys()
        # The kernel's "other" counters start at zero on load and only grow.
        return self._breakdown(self._other())

    def _keep_or_fold(self, ended: set[int]) -> None:
        """Rows that ended a reading ago (already shown in their last interval): keep the
        largest ``kept``, fold the rest, so memory does not grow with churn."""
        for ident in ended - self._kept_ids:  # a kept row whose id was reused stays kept
            total = sum(self._rows[ident].values())
            if len(self._exited) < self._kept:
                heapq.heappush(self._exited, (total, ident))
                self._kept_ids.add(ident)
                continue
            folded = ident
            if self._exited and total > self._exited[0][0]:
                self._kept_ids.add(ident)
                _, folded = heapq.heapreplace(self._exited, (total, ident))
                self._kept_ids.discard(folded)
            self._fold(folded)

    def _fold(self, ident: int) -> None:
        for (slot, _), count in self._rows.pop(ident, {}).items():
            self._folded[slot] = self._folded.get(slot, 0) + count
        self._labels.pop(ident, None)
        self._made.pop(ident, None)
        self._folded_rows += 1

    def _learn_names(self, now: dict[Key, int]) -> None:
        """Each id's name as the kernel last recorded it (a process that execs is named
        after the program it became): one batch read, no /proc access per id."""
        if self._keyed.by == "cgroup":
            return
        recorded = self._keyed.names()
        for ident in {key[0] for key in now}:
            name = recorded.get(ident)
            if name is not None and self._labels.get(ident) != name:
                self._labels[ident] = name
                self._made.pop(ident, None)

    def _breakdown(self, other: tuple[int, ...]) -> Breakdown:
        for ident in self._rows.keys() - self._made.keys():
            self._made[ident] = self._row(ident, self._rows[ident])
        # Unsorted: the interval and summary arithmetic sorts what it shows (readings.py).
        rows = [row for row in self._made.values() if row.counts]
        return Breakdown(
            by=self._keyed.by,
            rows=rows,
            other=self._named(dict(enumerate(other))),
            folded=self._named(self._folded),
            folded_rows=self._folded_rows,
        )

    def _slot_name(self, slot: int) -> str:
        name = self._slot_names.get(slot)
        if name is None:
            name = self._slot_names[slot] = self._name(slot)
        return name

    def _named(self, per_slot: dict[int, int]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for slot, count in per_slot.items():
            if count:
                name = self._slot_name(slot)
                counts[name] = counts.get(name, 0) + count
        return sorted_counts(counts)

    def _row(self, ident: int, row: Row) -> BreakdownRow:
        if self._keyed.by != "cgroup" and not any(err for _, err in row):  # the common case: no errnos
            named = self._named({slot: count for (slot, _), count in row.items()})
            return BreakdownRow(ident, self._labels.get(ident, "?"), None, named, {})
        counts: dict[str, int] = {}
        errors: dict[str, dict[str, int]] = {}
        for (slot, err), count in row.items():
            if not count:
                continue
            name = self._slot_name(slot)
            counts[name] = counts.get(name, 0) + count
            if err:
                by_errno = errors.setdefault(name, {})
                by_errno[errno_name(err)] = by_errno.get(errno_name(err), 0) + count
        if self._keyed.by == "cgroup":
            path = self._cgroups.path(ident)
            return BreakdownRow(ident, path, container_id(path), sorted_counts(counts), errors)
        return BreakdownRow(ident, self._labels.get(ident, "?"), None, sorted_counts(counts), errors)
