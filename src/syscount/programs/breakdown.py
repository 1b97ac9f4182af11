"""Breakdowns (-P, --by-thread, --by-cgroup, --by-comm): rows of calls per process,
thread, cgroup or thread name.

``keyed.KeyedMap`` reads the kernel's maps (keyed.h): calls per (who, slot, errno)
since the key was made, which processes or threads have ended, and the final rows the
kernel handed over (and freed itself) as they ended. ``KeyedTotals``
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
import itertools
import operator
from collections import Counter, deque
from collections.abc import Callable, Mapping
from itertools import repeat

from ..model import Breakdown, BreakdownRow, sorted_counts
from ..names.cgroups import CgroupNames, container_id
from ..names.errnos import errno_name
from .keyed import PER_TASK, Final, Key, KeyedMap

# Ended processes (threads) whose rows the whole-run summary keeps: those with the
# most calls. ~1 KB each; the rest are summed into the summary's "other".
EXITED_KEPT = 1024

_SERIALS = itertools.count(1)  # of readings, unique across readers: see Breakdown.serial

# Distinct row contents whose named counts are remembered (forgotten all at once beyond).
PLAIN_KEPT = 4096

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
        self._unnamed: set[int] = set()  # ids whose name the kernel had not recorded yet
        self._with_errnos: set[int] = set()  # ids with calls that failed (rows built the slow way)
        self._plain: dict[tuple[tuple[tuple[int, int], int], ...], dict[str, int]] = {}  # see _plain_counts
        self._ended: set[int] = set()  # ended by the previous reading: rows final, not yet kept or folded
        self._exited: list[tuple[int, int]] = []  # heap of (total, id): the ended rows kept
        self._kept_ids: set[int] = set()
        self._folded: dict[str, int] = {}  # syscall -> calls of ended rows no longer kept
        self._folded_rows = 0
        self._cgroups = CgroupNames()
        self._slot_names: dict[int, str] = {}
        self._made: dict[int, BreakdownRow] = {}  # id -> its row as last built: rebuilt only on change
        self._serial = 0  # the previous reading's

    def read(self) -> Breakdown:
        # Who ended is learned before reading: their last values are then complete. The
        # rows handed over are taken first too: a row read after is then a live id's,
        # even one that reuses an ended id (its calls are new, not the ended one's).
        per_task = self._keyed.by in PER_TASK
        ended = self._keyed.exited() if per_task else set()
        finals = self._keyed.finals() if per_task else []
        self._keep_or_fold(self._ended)
        now = self._keyed.read()
        recorded = None
        if ended:
            # The names first (forgetting deletes the ended ids'), then at once: a new
            # process reusing an id would count in its keys meanwhile.
            recorded = self._keyed.names()
            self._keyed.forget(ended)
        handed = self._add_finals(finals)
        changed = self._add_deltas(now)
        changed |= self._learn_names(changed, recorded)
        changed |= handed
        # A key's last value is kept until the key is known to be gone (ended, or handed
        # over): a row left out of a reading (the kernel was freeing it) is still counted
        # from there when its final values come.
        self._last.update(now)
        if ended:
            last = self._last
            for key in [key for key in last if key[0] in ended]:
                del last[key]
        if finals:
            ended |= {final[0] for final in finals}
        self._ended = ended & self._rows.keys()
        # The kernel's "other" counters start at zero on load and only grow.
        return self._breakdown(self._other(), changed)

    def _add_finals(self, finals: list[Final]) -> set[int]:
        """Add the rest of each handed-over row (its final values less those last read)
        and take its name from it; its keys are forgotten (the kernel freed them). The
        ids whose rows changed."""
        last, rows, labels, unnamed = self._last, self._rows, self._labels, self._unnamed
        changed: set[int] = set()
        for ident, name, slots, calls in finals:
            for slot, value in zip(slots, calls, strict=True):
                delta = value - last.pop((ident, slot, 0), 0)
                if delta:
                    row = rows.get(ident)
                    if row is None:
                        row = rows[ident] = {}
                    row[slot, 0] = row.get((slot, 0), 0) + delta
                    changed.add(ident)
            if name is not None and ident in rows and labels.get(ident) != name:
                labels[ident] = name
                unnamed.discard(ident)
                changed.add(ident)
        return changed

    def _add_deltas(self, now: dict[Key, int]) -> set[int]:
        """Add what each key counted since the previous reading to its row; the ids
        whose rows changed (only those are named and rebuilt)."""
        last, rows, with_errnos = self._last, self._rows, self._with_errnos
        changed: set[int] = set()
        for key, value in now.items():
            delta = value - last.get(key, 0)
            if delta:
                ident, slot, err = key
                row = rows.get(ident)
                if row is None:
                    row = rows[ident] = {}
                sub = slot, err
                row[sub] = row.get(sub, 0) + delta
                changed.add(ident)
                if err:
                    with_errnos.add(ident)
        return changed

    def _keep_or_fold(self, ended: set[int]) -> None:
        """Rows that ended a reading ago (already shown in their last interval): keep the
        largest ``kept``, fold the rest, so memory does not grow with churn."""
        self._unnamed -= ended  # the kernel forgot their names with their keys
        kept, kept_ids, rows = self._exited, self._kept_ids, self._rows
        candidates = list(ended - kept_ids)  # a kept row whose id was reused stays kept
        # Thousands a reading under churn: totals summed in C, and a row no larger than
        # the smallest kept (most of them, once the heap is full) folds at once.
        totals = map(sum, map(dict.values, map(rows.__getitem__, candidates)))
        folding = []
        for ident, total in zip(candidates, totals, strict=True):
            if len(kept) < self._kept:
                heapq.heappush(kept, (total, ident))
                kept_ids.add(ident)
            elif kept and total > kept[0][0]:
                kept_ids.add(ident)
                _, dropped = heapq.heapreplace(kept, (total, ident))
                kept_ids.discard(dropped)
                folding.append(dropped)
            else:
                folding.append(ident)
        if folding:
            self._fold(folding)

    def _fold(self, idents: list[int]) -> None:
        """Sum the rows into ``folded`` and forget them (thousands a reading under churn,
        most alike). Summed from the rows as last built, which hold the same calls by
        name: alike rows share one counts dict, so each distinct dict is added once,
        times the rows sharing it, and the rest is done in C."""
        rows, labels, made = self._rows, self._labels, self._made
        deque(map(rows.pop, idents), maxlen=0)  # pops, without a Python loop
        deque(map(labels.pop, idents, repeat(None)), maxlen=0)
        # Every row was built when its calls last changed (_breakdown): ``made`` has it.
        shown = list(map(_COUNTS, map(made.pop, idents)))
        distinct = dict(zip(map(id, shown), shown, strict=True))
        folded = self._folded
        for key, times in Counter(map(id, shown)).items():
            for name, count in distinct[key].items():
                folded[name] = folded.get(name, 0) + count * times
        self._with_errnos.difference_update(idents)
        self._folded_rows += len(idents)

    def _learn_names(self, changed: set[int], recorded: Mapping[int, str] | None = None) -> set[int]:
        """Each changed id's name as the kernel last recorded it (a process that execs is
        named after the program it became, and made calls doing so), and the name of an
        id still unnamed: one batch read (``recorded``, if already made), no /proc access
        per id. The unchanged ids renamed (their rows are rebuilt too)."""
        asked = changed | self._unnamed if self._unnamed else changed
        if self._keyed.by == "cgroup" or not asked:
            return set()
        if recorded is None:
            recorded = self._keyed.names()
        labels, renamed = self._labels, set()
        for ident in asked:
            name = recorded.get(ident)
            if name is None:
                self._unnamed.add(ident)
            elif labels.get(ident) != name:
                labels[ident] = name
                self._unnamed.discard(ident)
                renamed.add(ident)
        return renamed - changed

    def _breakdown(self, other: tuple[int, ...], changed: set[int]) -> Breakdown:
        made, rows = self._made, self._rows
        since = self._serial
        self._serial = next(_SERIALS)
        plain, labels, slow = self._plain, self._labels, self._with_errnos
        if self._keyed.by == "cgroup":
            slow = changed
        pairs = []
        for ident in changed:
            # What ``made`` held is the previous reading's row (or None: new, or folded
            # at the start of this reading and its id reused since).
            then = made.get(ident)
            if ident in slow:
                now = self._row(ident, rows[ident])
            else:  # the common case, inline: no errnos, counts often as another row's
                content = tuple(rows[ident].items())
                counts = plain.get(content) or self._plain_counts(content)
                now = _new_row(BreakdownRow, (ident, labels.get(ident, "?"), None, counts, {}))
            made[ident] = now
            pairs.append((then, now))
        # Unsorted: the interval and summary arithmetic sorts what it shows (readings.py).
        return Breakdown(
            by=self._keyed.by,
            rows=[row for row in made.values() if row.counts],
            other=self._named(dict(enumerate(other))),
            folded=sorted_counts(self._folded),
            folded_rows=self._folded_rows,
            serial=self._serial,
            since=since,
            changed=tuple(pairs),
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
        """A row with errnos, or a cgroup's."""
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

    def _plain_counts(self, content: tuple[tuple[tuple[int, int], int], ...]) -> dict[str, int]:
        """A row without errnos by syscall name, largest first, remembered: rows alike
        share one dict (never mutated). Under churn most rows are the same few calls."""
        names = self._slot_names
        counts: dict[str, int] = {}
        for (slot, _), count in content:
            if count:
                name = names.get(slot) or self._slot_name(slot)
                counts[name] = counts.get(name, 0) + count
        if len(counts) > 1:
            counts = dict(sorted(counts.items(), key=_largest_first))
        if len(self._plain) >= PLAIN_KEPT:
            self._plain.clear()
        self._plain[content] = counts
        return counts


_COUNTS = operator.attrgetter("counts")
# A row built without the named tuple's Python-level __new__ (thousands a reading).
_new_row = tuple.__new__


def _largest_first(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]
