"""Snapshot: what one interval (or the whole run) counted, as plain data for the sinks."""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple


class SyscallTime(NamedTuple):
    """One syscall's figures over some span (-L), merged across CPUs and intervals."""

    calls: int  # completed calls plus calls that never return (exit, exit_group)
    total_ns: int
    min_ns: int  # 0 when no call was timed
    max_ns: int
    errors: int
    hist: tuple[int, ...]  # log2 buckets of ns: bucket k holds 2^k <= d < 2^(k+1); bucket 0 d < 2

    @property
    def timed(self) -> int:
        return sum(self.hist)

    @property
    def avg_ns(self) -> float:
        return self.total_ns / self.timed if self.timed else 0.0

    def merge(self, other: SyscallTime) -> SyscallTime:
        mins = [m for m in (self.min_ns, other.min_ns) if m]
        return SyscallTime(
            calls=self.calls + other.calls,
            total_ns=self.total_ns + other.total_ns,
            min_ns=min(mins) if mins else 0,
            max_ns=max(self.max_ns, other.max_ns),
            errors=self.errors + other.errors,
            hist=tuple(a + b for a, b in zip(self.hist, other.hist, strict=True)),
        )


# Loss counters documented as "since start" (docs/output.md): intervals show them whole,
# so a sum over intervals takes the last, not the total.
SINCE_START = ("errno_overflow", "untimed")


def merge_all(items: Iterable[SyscallTime]) -> SyscallTime | None:
    """What ``merge`` gives pairwise, in one pass: a day of intervals is 86 400 items."""
    first: SyscallTime | None = None
    calls = total_ns = max_ns = errors = min_ns = 0
    hist: list[int] = []
    for item in items:
        if first is None:
            first, hist = item, list(item.hist)
        elif len(item.hist) != len(hist):
            raise ValueError("histograms of different lengths")
        else:
            hist = list(map(operator.add, hist, item.hist))
        calls += item.calls
        total_ns += item.total_ns
        errors += item.errors
        max_ns = max(max_ns, item.max_ns)
        if item.min_ns and (not min_ns or item.min_ns < min_ns):
            min_ns = item.min_ns
    if first is None:
        return None
    return SyscallTime(calls, total_ns, min_ns, max_ns, errors, tuple(hist))


class BreakdownRow(NamedTuple):
    """One process, thread, cgroup or thread name (--by-comm) in a breakdown."""

    id: int  # pid, tid, cgroup id, or (--by-comm) the kernel's 32-bit hash of the name
    label: str  # command / thread name, or the cgroup path
    container: str | None  # short container id, when the cgroup path shows one
    counts: dict[str, int]  # syscall -> calls, largest first
    errors: dict[str, dict[str, int]]  # syscall -> errno -> calls (programs that see exits)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class Breakdown(NamedTuple):
    """Rows per process/thread/cgroup/comm; ``other`` holds calls the kernel map had no room for."""

    by: str  # "process", "thread", "cgroup" or "comm"
    rows: list[BreakdownRow]
    other: dict[str, int]
    # Calls of ended processes (threads) whose rows are no longer kept, and how many
    # rows that was (programs/breakdown.py). A reading keeps them apart from other; the
    # summary adds them to other and keeps them here too, so sinks can tell them apart
    # from calls the map had no room for. Intervals have none.
    folded: dict[str, int] = {}  # noqa: RUF012 - never mutated
    folded_rows: int = 0
    # Readings only: what changed since the reader's previous reading (``since``, a
    # ``serial``), as (row then or None, row now): an interval from that reading to this
    # one looks at these rows only (readings.py). Serials are unique across readers.
    serial: int = 0
    since: int = 0
    changed: tuple[tuple[BreakdownRow | None, BreakdownRow], ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """Counts per syscall name for one interval; ``final`` marks the whole-run summary."""

    time: datetime  # when the interval ended, UTC
    interval_s: float
    counts: dict[str, int]  # name -> count, non-zero only, largest first
    final: bool = False
    notes: dict[str, int] = field(default_factory=dict)  # e.g. untracked forks; shown when non-zero
    # -L only: time per syscall, errors by syscall then errno name, calls still running.
    latency: dict[str, SyscallTime] | None = None
    errors: dict[str, dict[str, int]] = field(default_factory=dict)
    errors_seen: bool = False  # True when the program saw returns (-L, -x, -e): errors is meaningful
    in_flight: int | None = None
    breakdown: Breakdown | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def top(self, limit: int) -> list[tuple[str, int]]:
        """The ``limit`` largest rows (all when limit is 0)."""
        rows = list(self.counts.items())
        return rows if limit == 0 else rows[:limit]


def sorted_counts(counts: dict[str, int]) -> dict[str, int]:
    """Non-zero counts, largest first, ties by name so output is stable."""
    return dict(sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: (-kv[1], kv[0])))


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with a Z and milliseconds: 2026-11-24T22:51:36.123Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
