"""Breakdowns (-P, --by-thread, --by-cgroup, --by-comm): rows of calls per process,
thread, cgroup or thread name.

``keyed.KeyedMap`` reads the kernel's ``keyed`` map (keyed.h): calls per (who, slot,
errno) since the key was made. ``KeyedTotals`` turns that into totals since attach,
names the rows, and deletes the keys of processes and threads that have exited, after
reading their last values, so the bounded map never fills with the dead. Calls the
full map could not take are the "other" row: rows + other = total, always.
"""

from __future__ import annotations

from collections.abc import Callable

from ..model import Breakdown, BreakdownRow, sorted_counts
from ..names.cgroups import CgroupNames, container_id
from ..names.errnos import errno_name
from ..names.procfs import alive, proc_comm
from .keyed import Key, KeyedMap

# Breakdowns whose ids are processes or threads: they die, and their keys are then removed.
PER_TASK = ("process", "thread")
RELABEL_EVERY = 8


class KeyedTotals:
    """A breakdown read as totals since attach: rows named, the dead forgotten in the kernel.

    Keys of processes and threads that have exited are deleted from the kernel after
    their last values are read; their totals stay here, so a reading never goes down."""

    def __init__(
        self,
        keyed: KeyedMap,
        name: Callable[[int], str],
        other: Callable[[], tuple[int, ...]],
        *,
        is_alive: Callable[[int], bool] = alive,
    ) -> None:
        self._keyed = keyed
        self._name = name
        self._other = other
        self._alive = is_alive
        self._last: dict[Key, int] = {}
        self._totals: dict[Key, int] = {}
        self._labels: dict[int, str] = {}
        self._turn = 0
        self._slot_names: dict[int, str] = {}
        self._cgroups = CgroupNames()

    def read(self) -> Breakdown:
        # Who is dead is decided before reading: their last values are then complete.
        # One check per id, not per key: an id has a key for every syscall it makes.
        known = {ident for ident, _, _ in self._last} if self._keyed.by in PER_TASK else set()
        dead = {ident for ident in known if not self._alive(ident)}
        now = self._keyed.read()
        self._learn_names(now)
        for key, value in now.items():
            delta = value - self._last.get(key, 0)
            if delta:
                self._totals[key] = self._totals.get(key, 0) + delta
        gone = [key for key in now if key[0] in dead]
        self._keyed.forget(gone, dead)
        self._last = {key: value for key, value in now.items() if key[0] not in dead}
        # The kernel's "other" counters start at zero on load and only grow.
        return self._breakdown(self._totals, self._other())

    def _learn_names(self, now: dict[Key, int]) -> None:
        if self._keyed.by == "cgroup":
            return
        if self._keyed.by == "comm":  # the name is the key
            self._labels.update(self._keyed.names())
            return
        # A new id is named at once; a known live one is re-read (exec and prctl rename)
        # every RELABEL_EVERY reads, by turns: /proc reads are most of the cost of a read
        # at 1000 processes. The kernel's names (a map walked key by key) are fetched
        # only when a new id has no /proc entry any more.
        self._turn = (self._turn + 1) % RELABEL_EVERY
        recorded: dict[int, str] | None = None
        for ident in {ident for ident, _, _ in now}:  # once per id, not per key
            if ident not in self._labels:
                name = proc_comm(ident)
                if name is None:
                    recorded = self._keyed.names() if recorded is None else recorded
                    name = recorded.get(ident, "?")
                self._labels[ident] = name
            elif ident % RELABEL_EVERY == self._turn and self._alive(ident):
                self._labels[ident] = proc_comm(ident) or self._labels[ident]

    def _breakdown(self, counts: dict[Key, int], other: tuple[int, ...]) -> Breakdown:
        per_id: dict[int, dict[str, int]] = {}
        errors: dict[int, dict[str, dict[str, int]]] = {}
        for (ident, slot, err), count in counts.items():
            if not count:
                continue
            name = self._slot_names.get(slot)
            if name is None:  # a few dozen slots for thousands of keys: name each once
                name = self._slot_names[slot] = self._name(slot)
            row = per_id.setdefault(ident, {})
            row[name] = row.get(name, 0) + count
            if err:
                by_errno = errors.setdefault(ident, {}).setdefault(name, {})
                by_errno[errno_name(err)] = by_errno.get(errno_name(err), 0) + count
        rows = [self._row(ident, row, errors.get(ident, {})) for ident, row in per_id.items()]
        rows.sort(key=lambda r: (-r.total, r.id))
        other_counts: dict[str, int] = {}
        for slot, count in enumerate(other):
            if count:
                name = self._name(slot)
                other_counts[name] = other_counts.get(name, 0) + count
        return Breakdown(by=self._keyed.by, rows=rows, other=sorted_counts(other_counts))

    def _row(self, ident: int, counts: dict[str, int], errors: dict[str, dict[str, int]]) -> BreakdownRow:
        if self._keyed.by == "cgroup":
            path = self._cgroups.path(ident)
            return BreakdownRow(ident, path, container_id(path), sorted_counts(counts), errors)
        return BreakdownRow(ident, self._labels.get(ident, "?"), None, sorted_counts(counts), errors)
