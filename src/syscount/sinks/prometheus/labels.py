"""``--labels comm|cgroup``: calls per (thread name or cgroup, syscall), under a cardinality cap.

The exporter reads labelled counts through one small interface::

    class LabelledCounts(Protocol):
        def read_labelled(self) -> LabelledReading: ...
        def name(self, slot: int) -> str: ...

``read_labelled()`` returns cumulative calls since load per (label value, slot), the
label value ready to show, plus the calls per slot that the kernel could not attribute
(its map was full). Counts never decrease and rows never disappear while the collector
is open, which keeps every exported counter, ``other`` included, monotonic.

``KeyedLabels`` implements it over a collector opened with a breakdown (the kernel's
``keyed`` map, bpf/keyed.h): by comm the key is a hash of the thread name and
``key_names`` holds the name; by cgroup the key is the cgroup id, named by its path.
Those breakdowns never delete keys (only per-process and per-thread ones do), so the
map's counters are cumulative as the interface requires.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import NamedTuple, Protocol

from ...names.cgroups import CgroupNames
from ...names.escape import unicode_safe
from ...programs.keyed import KeyedMap
from .folding import OTHER, SeriesCap
from .sources import Labelled, Totals

LABELS = ("comm", "cgroup")


class LabelledReading(NamedTuple):
    counts: Mapping[tuple[str, int], int]  # (label value, slot) -> calls since load
    unattributed: Mapping[int, int]  # slot -> calls the kernel's map had no room for


class LabelledCounts(Protocol):
    def read_labelled(self) -> LabelledReading: ...

    def name(self, slot: int) -> str: ...


class KeyedCollector(Protocol):
    """What KeyedLabels needs of a counts or latency collector opened with a breakdown."""

    keyed: KeyedMap | None

    def keyed_other(self) -> tuple[int, ...]: ...

    def name(self, slot: int) -> str: ...


class KeyedLabels:
    """LabelledCounts over the kernel's ``keyed`` map, by comm or by cgroup."""

    def __init__(self, collector: KeyedCollector, label: str) -> None:
        if label not in LABELS:
            raise ValueError(label)
        self._collector = collector
        self._label = label
        self._cgroups = CgroupNames() if label == "cgroup" else None
        # id -> label value, fixed once known: a series' labels must never change.
        self._values: dict[int, str] = {}
        self._unnamed: set[int] = set()  # comm hashes seen once without a name yet

    def name(self, slot: int) -> str:
        return self._collector.name(slot)

    def read_labelled(self) -> LabelledReading:
        keyed = self._collector.keyed
        if keyed is None:
            raise RuntimeError("the collector was opened without a breakdown")
        rows = keyed.read()
        self._learn(keyed, {ident for ident, _, _ in rows})
        counts: dict[tuple[str, int], int] = {}
        for (ident, slot, _), count in rows.items():
            value = self._values.get(ident)
            if value is None:
                continue  # its name is not in key_names yet: counted from the next scrape on
            counts[(value, slot)] = counts.get((value, slot), 0) + count
        unattributed = {slot: count for slot, count in enumerate(self._collector.keyed_other()) if count}
        return LabelledReading(counts, unattributed)

    def _learn(self, keyed: KeyedMap, idents: set[int]) -> None:
        new = idents - self._values.keys()
        if not new:
            return
        if self._cgroups is not None:
            for ident in new:
                # "cgroup:<id>" if already gone. Label values must be valid UTF-8;
                # prometheus_client escapes the rest (quote, backslash, newline).
                self._values[ident] = unicode_safe(self._cgroups.path(ident))
            return
        # The kernel names a comm hash right after inserting its first key: a row read
        # in between waits one scrape; one still unnamed then (key_names full) keeps
        # its hash as its name.
        names = keyed.names()
        for ident in new:
            name = names.get(ident)
            if name is not None:
                self._values[ident] = unicode_safe(name)
            elif ident in self._unnamed:
                self._values[ident] = f"comm#{ident:016x}"
            else:
                self._unnamed.add(ident)


class LabelsSource:
    """Labelled calls folded under ``--max-series``; unattributed calls go to ``other`` too."""

    def __init__(self, label: str, collector: LabelledCounts, cap: SeriesCap) -> None:
        self._label = label
        self._collector = collector
        self._cap = cap
        self._lock = threading.Lock()  # the cap's kept set changes as it folds

    def totals(self) -> Totals:
        with self._lock:
            reading = self._collector.read_labelled()
            folded = self._cap.fold(self._named(reading.counts))
        counts = dict(folded.counts)
        for slot, count in reading.unattributed.items():
            key = (OTHER, self._collector.name(slot))
            counts[key] = counts.get(key, 0) + count
        folded = folded._replace(counts=dict(sorted(counts.items())))
        by_syscall: dict[str, int] = {}
        for (_, syscall), count in counts.items():
            by_syscall[syscall] = by_syscall.get(syscall, 0) + count
        return Totals(
            counts=by_syscall,
            labelled=Labelled(self._label, folded),
            unattributed=sum(reading.unattributed.values()),
        )

    def _named(self, rows: Mapping[tuple[str, int], int]) -> dict[tuple[str, str], int]:
        named: dict[tuple[str, str], int] = {}
        for (value, slot), count in rows.items():
            key = (value, self._collector.name(slot))
            named[key] = named.get(key, 0) + count
        return named
