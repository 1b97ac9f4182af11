"""Time series for the report's charts, from a recording's timeline (pure data, no charting).

A day at 1 s intervals is 86 400 intervals: more than a chart can show or a browser draw
quickly. The loader adds consecutive intervals into at most ``--max-points`` points; a
point's rate is its calls over its seconds (the mean of its intervals, weighted by their
lengths), so nothing is dropped, only averaged.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

from ..model import Snapshot
from .load import HIST_BUCKETS, Point

TOP = 10  # series drawn one by one; the rest add up in "other"
OTHER = "other"


class Lines(NamedTuple):
    """Named rates over time: ``values[name][i]`` belongs to ``times[i]``."""

    times: list[str]
    values: dict[str, list[float]]  # largest total first, "other" last


def _rates(points: list[Point], totals: Callable[[Snapshot], dict[str, int]], top: int) -> Lines:
    """Per point, calls per second of the ``top`` largest keys overall; the rest as "other"."""
    sums = [totals(point.snapshot) for point in points]
    overall: dict[str, int] = {}
    for counts in sums:
        for key, value in counts.items():
            overall[key] = overall.get(key, 0) + value
    names = [name for name, _ in sorted(overall.items(), key=lambda kv: (-kv[1], kv[0]))]
    shown, rest = names[:top], set(names[top:])
    values: dict[str, list[float]] = {name: [] for name in shown}
    if rest:
        values[OTHER] = []
    for point, counts in zip(points, sums, strict=True):
        seconds = _seconds(point)
        for name in shown:
            values[name].append(counts.get(name, 0) / seconds)
        if rest:
            values[OTHER].append(sum(n for name, n in counts.items() if name in rest) / seconds)
    return Lines([point.time for point in points], values)


def _seconds(point: Point) -> float:
    """A point's length; a zero-length one shows 0 calls/s."""
    return point.snapshot.interval_s if point.snapshot.interval_s > 0 else math.inf


def calls_per_second(points: list[Point], top: int = TOP) -> Lines:
    return _rates(points, lambda snap: snap.counts, top)


def errors_per_second(points: list[Point], top: int = TOP) -> Lines:
    """Failed calls per second by errno, all syscalls together."""
    return _rates(points, _errors_by_errno, top)


def _errors_by_errno(snapshot: Snapshot) -> dict[str, int]:
    by_errno: dict[str, int] = {}
    for errnos in snapshot.errors.values():
        for errno, calls in errnos.items():
            by_errno[errno] = by_errno.get(errno, 0) + calls
    return by_errno


def rows_per_second(points: list[Point], top: int = TOP) -> Lines:
    """Calls per second of the busiest processes, threads or cgroups (breakdown recordings)."""
    return _rates(points, _breakdown_totals, top)


def _breakdown_totals(snapshot: Snapshot) -> dict[str, int]:
    if snapshot.breakdown is None:
        return {}
    totals = {row_label(snapshot.breakdown.by, row.id, row.label): row.total for row in snapshot.breakdown.rows}
    if snapshot.breakdown.other:
        totals["(no row: map full)"] = sum(snapshot.breakdown.other.values())
    return totals


def row_label(by: str, row_id: int, label: str) -> str:
    """How a breakdown row is named on a chart (unescaped: the page escapes it)."""
    if by in ("process", "thread"):
        return f"{label} ({row_id})"
    return label


class Heatmap(NamedTuple):
    """One syscall's latency: calls per second per log2 bucket (rows) per point (columns)."""

    syscall: str
    times: list[str]
    buckets: list[int]  # lower bounds in ns of the rows shown (the non-empty range)
    rates: list[list[float]]  # rates[row][column]
    p50_ns: list[float | None]  # per point: upper bound of the bucket holding the median
    p99_ns: list[float | None]


def latency_heatmaps(points: list[Point], names: list[str]) -> list[Heatmap]:
    return [_heatmap(points, name) for name in names]


def slowest(summary: Snapshot, count: int = 4) -> list[str]:
    """The syscalls with the most time in them: the ones worth a heatmap."""
    latency = summary.latency or {}
    timed = [(time.total_ns, name) for name, time in latency.items() if time.timed]
    return [name for _, name in sorted(timed, key=lambda item: (-item[0], item[1]))[:count]]


def _heatmap(points: list[Point], name: str) -> Heatmap:
    empty = (0,) * HIST_BUCKETS
    hists = [(point.snapshot.latency or {}).get(name) for point in points]
    columns = [time.hist if time is not None else empty for time in hists]
    used = [k for k in range(HIST_BUCKETS) if any(column[k] for column in columns)] or [0]
    low, high = used[0], used[-1]
    seconds = [_seconds(point) for point in points]
    return Heatmap(
        syscall=name,
        times=[point.time for point in points],
        buckets=[0 if k == 0 else 1 << k for k in range(low, high + 1)],
        rates=[[column[k] / s for column, s in zip(columns, seconds, strict=True)] for k in range(low, high + 1)],
        p50_ns=[percentile_ns(column, 0.50) for column in columns],
        p99_ns=[percentile_ns(column, 0.99) for column in columns],
    )


def percentile_ns(hist: tuple[int, ...], fraction: float) -> float | None:
    """Upper bound (ns) of the log2 bucket holding the ``fraction`` quantile; None if nothing was timed."""
    total = sum(hist)
    if not total:
        return None
    wanted = fraction * total
    seen = 0
    for k, calls in enumerate(hist):
        seen += calls
        if seen >= wanted:
            return float(2 << k)  # bucket k holds 2^k <= d < 2^(k+1); bucket 0 holds d < 2
    return float(2 << (len(hist) - 1))
