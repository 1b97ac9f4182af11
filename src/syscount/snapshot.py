"""Snapshot: what one interval (or the whole run) counted, as plain data for the sinks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class Snapshot:
    """Counts per syscall name for one interval; ``final`` marks the whole-run summary."""

    time: datetime  # when the interval ended, UTC
    interval_s: float
    counts: dict[str, int]  # name -> count, non-zero only, largest first
    final: bool = False
    notes: dict[str, int] = field(default_factory=dict)  # e.g. untracked forks; shown when non-zero

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
