"""Breakdowns (-P, --by-thread, --by-cgroup): rows of calls per process, thread or cgroup.

``keyed.KeyedMap`` reads the kernel's ``keyed`` map (keyed.h): cumulative calls per
(who, slot, errno). ``KeyedDeltas`` turns readings into per-interval rows, keeps
whole-run totals, names the rows, and deletes the keys of processes and threads that
have exited, after reading their last values, so the bounded map never fills with
the dead. Calls the full map could not take are the "other" row: rows + other =
total, always.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from ..filters import cgroup2_root
from ..model import Breakdown, BreakdownRow, sorted_counts
from ..names.errnos import errno_name
from .keyed import Key, KeyedMap

# A container runtime's cgroup names the container by a 64-hex id: docker-<id>.scope,
# /docker/<id>, cri-containerd-<id>.scope, crio-<id>.scope, libpod-<id>.scope,
# kubepods/.../<id>.
_CONTAINER_ID = re.compile(r"(?:^|[/-])([0-9a-f]{64})(?:\.scope)?(?:/|$)")
_RUNTIMES = ("docker", "containerd", "crio", "libpod", "podman", "kubepods")


def alive(ident: int) -> bool:
    """Does this process or thread still exist? (/proc/<tid> works for threads too.)"""
    return os.path.exists(f"/proc/{ident}")


class CgroupNames:
    """cgroup id (the directory's inode number) → path, found by walking cgroupfs."""

    def __init__(self, root: str | None = None) -> None:
        self._root = root or cgroup2_root() or "/sys/fs/cgroup"
        self._paths: dict[int, str] = {}

    def path(self, cgroup_id: int) -> str:
        if cgroup_id not in self._paths:
            self._rescan()
        return self._paths.get(cgroup_id, f"cgroup:{cgroup_id}")

    def _rescan(self) -> None:
        for directory, _, _ in os.walk(self._root):
            try:
                inode = os.stat(directory).st_ino
            except OSError:
                continue
            self._paths[inode] = "/" + os.path.relpath(directory, self._root).removeprefix(".")


def container_id(path: str) -> str | None:
    """The container a cgroup path shows, as its short (12-hex) id, if any."""
    if not any(runtime in path for runtime in _RUNTIMES):
        return None
    found = _CONTAINER_ID.search(path)
    return found.group(1)[:12] if found else None


# Breakdowns whose ids are processes or threads: they die, and their keys are then removed.
PER_TASK = ("process", "thread")


class KeyedDeltas:
    """User-space state of a breakdown: last readings, whole-run totals, names."""

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
        # The kernel's counters start at zero when loaded, which may be well before this.
        self._other_first = (0,) * len(other())
        self._other_last = self._other_first
        self._labels: dict[int, str] = {}
        self._cgroups = CgroupNames()

    def interval(self) -> Breakdown:
        # Who is dead is decided before reading: their last values are then complete.
        dead = {ident for ident, _, _ in self._last if self._keyed.by in PER_TASK and not self._alive(ident)}
        now = self._keyed.read()
        self._learn_names(now)
        deltas = {key: value - self._last.get(key, 0) for key, value in now.items()}
        for key, delta in deltas.items():
            if delta:
                self._totals[key] = self._totals.get(key, 0) + delta
        gone = [key for key in now if key[0] in dead]
        self._keyed.forget(gone, dead)
        self._last = {key: value for key, value in now.items() if key[0] not in dead}
        other = self._other()
        breakdown = self._breakdown(deltas, _minus(other, self._other_last))
        self._other_last = other
        return breakdown

    def summary(self) -> Breakdown:
        return self._breakdown(self._totals, _minus(self._other_last, self._other_first))

    def _learn_names(self, now: dict[Key, int]) -> None:
        if self._keyed.by == "cgroup":
            return
        recorded = self._keyed.names()
        if self._keyed.by == "comm":  # the name is the key
            self._labels.update(recorded)
            return
        for ident, _, _ in now:
            if ident not in self._labels or self._alive(ident):
                self._labels[ident] = _proc_comm(ident) or recorded.get(ident, "?")

    def _breakdown(self, counts: dict[Key, int], other: tuple[int, ...]) -> Breakdown:
        per_id: dict[int, dict[str, int]] = {}
        errors: dict[int, dict[str, dict[str, int]]] = {}
        for (ident, slot, err), count in counts.items():
            if not count:
                continue
            name = self._name(slot)
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


def _minus(after: tuple[int, ...], before: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(a - b for a, b in zip(after, before, strict=True))


def _proc_comm(ident: int) -> str | None:
    try:
        with open(f"/proc/{ident}/comm", encoding="utf-8", errors="replace") as comm:
            return comm.read().rstrip("\n")
    except OSError:
        return None
