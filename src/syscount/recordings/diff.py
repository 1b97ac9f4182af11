"""Comparing two runs: per syscall (or per group and syscall), BASE against NEW, and the gate.

Pure arithmetic on two whole-run Snapshots; rendering is in diff_output.py.
"""

from __future__ import annotations

from typing import NamedTuple

from ..errors import UsageError
from ..model import Snapshot

# --by GROUP: which breakdowns can be matched that way, and by what (never by the PID or
# cgroup id, which differ between runs).
BY_CHOICES = ("process", "comm", "cgroup")
ACCEPTED_BREAKDOWNS = {"process": ("process",), "comm": ("process", "thread", "comm"), "cgroup": ("cgroup",)}
OTHER_GROUP = "(other)"  # calls the breakdown map had no row for


class Side(NamedTuple):
    """One recording's figures for a row."""

    calls: int
    errors: int | None  # None: the recording did not see results (no -L, -x, -e)
    time_ns: int | None  # None: not timed (no -L)


class Row(NamedTuple):
    syscall: str
    group: str | None  # with --by: the command name or cgroup path
    base: Side
    new: Side
    base_value: float  # what is compared: calls, or calls per second with --per-second
    new_value: float

    @property
    def change(self) -> float:
        return self.new_value - self.base_value

    @property
    def change_pct(self) -> float | None:
        """None when BASE had no calls (a new syscall)."""
        return self.change / self.base_value * 100.0 if self.base_value else None

    @property
    def status(self) -> str:
        if not self.base.calls:
            return "new"
        if not self.new.calls:
            return "gone"
        return "same" if self.base.calls == self.new.calls else "changed"


class Options(NamedTuple):
    per_second: bool = False
    min_calls: int = 0
    by: str | None = None
    fail_above: float | None = None  # percent
    fail_on_new: bool = False


class Offender(NamedTuple):
    row: Row
    reason: str  # "above" (grew more than --fail-above) or "new" (with --fail-on-new)


class Comparison(NamedTuple):
    rows: list[Row]  # shown, largest change first
    hidden: int  # rows under --min-calls on both sides (neither shown nor gated)
    offenders: list[Offender]

    @property
    def failed(self) -> bool:
        return bool(self.offenders)


def compare(base: Snapshot, new: Snapshot, options: Options) -> Comparison:
    base_sides, new_sides = _sides(base, options.by, "BASE"), _sides(new, options.by, "NEW")
    base_scale = 1.0 / base.interval_s if options.per_second and base.interval_s > 0 else 1.0
    new_scale = 1.0 / new.interval_s if options.per_second and new.interval_s > 0 else 1.0
    empty_base, empty_new = _empty_side(base), _empty_side(new)
    rows: list[Row] = []
    hidden = 0
    for key in base_sides.keys() | new_sides.keys():
        b, n = base_sides.get(key, empty_base), new_sides.get(key, empty_new)
        if max(b.calls, n.calls) < options.min_calls:
            hidden += 1
            continue
        rows.append(Row(key[1], key[0], b, n, b.calls * base_scale, n.calls * new_scale))
    rows.sort(key=lambda row: (-abs(row.change), row.group or "", row.syscall))
    return Comparison(rows, hidden, _offenders(rows, options))


def _offenders(rows: list[Row], options: Options) -> list[Offender]:
    offenders = []
    for row in rows:
        pct = row.change_pct
        if options.fail_above is not None and pct is not None and pct > options.fail_above:
            offenders.append(Offender(row, "above"))
        elif options.fail_on_new and row.status == "new":
            offenders.append(Offender(row, "new"))
    return offenders


def _empty_side(snapshot: Snapshot) -> Side:
    return Side(0, 0 if snapshot.errors_seen else None, 0 if snapshot.latency is not None else None)


def _sides(snapshot: Snapshot, by: str | None, which: str) -> dict[tuple[str | None, str], Side]:
    """(group, syscall) → figures; the group is None without --by."""
    if by is None:
        return {(None, name): _side(snapshot, name, calls) for name, calls in snapshot.counts.items()}
    breakdown = snapshot.breakdown
    if breakdown is None or breakdown.by not in ACCEPTED_BREAKDOWNS[by]:
        made = " or ".join(_BREAKDOWN_OPTIONS[b] for b in ACCEPTED_BREAKDOWNS[by])
        raise UsageError(f"--by {by} needs recordings made with {made}; the {which} recording has no such rows")
    sides: dict[tuple[str | None, str], Side] = {}
    errors_known = snapshot.errors_seen
    for row in breakdown.rows:
        for name, calls in row.counts.items():
            errors = sum(row.errors.get(name, {}).values()) if errors_known else None
            _accumulate(sides, (row.label, name), Side(calls, errors, None))
    for name, calls in breakdown.other.items():
        _accumulate(sides, (OTHER_GROUP, name), Side(calls, None, None))
    return sides


_BREAKDOWN_OPTIONS = {"process": "-P", "thread": "--by-thread", "comm": "--by-comm", "cgroup": "--by-cgroup"}


def _accumulate(sides: dict[tuple[str | None, str], Side], key: tuple[str | None, str], side: Side) -> None:
    """Rows with the same name (processes running one program) add up."""
    old = sides.get(key)
    if old is None:
        sides[key] = side
        return
    errors = None if old.errors is None or side.errors is None else old.errors + side.errors
    sides[key] = Side(old.calls + side.calls, errors, None)


def _side(snapshot: Snapshot, name: str, calls: int) -> Side:
    timed = snapshot.latency.get(name) if snapshot.latency is not None else None
    if timed is not None:
        return Side(calls, timed.errors, timed.total_ns)
    errors = sum(snapshot.errors.get(name, {}).values()) if snapshot.errors_seen else None
    return Side(calls, errors, None if snapshot.latency is None else 0)
