"""The report's data: downsampling, rates, percentiles, and what reaches the page (escaped)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from syscount.model import Breakdown, BreakdownRow, Snapshot, SyscallTime
from syscount.recordings import series
from syscount.recordings.load import Recording, load
from syscount.recordings.report import render
from syscount.sinks.jsonl import record

START = datetime(2026, 11, 24, 0, 0, 0, tzinfo=UTC)
HOSTILE = "</script><img src=x onerror=alert(1)>\x1b"


def interval(i: int, counts: dict[str, int], seconds: float = 1.0, **extra: object) -> Snapshot:
    return Snapshot(START + timedelta(seconds=i), seconds, counts, **extra)  # type: ignore[arg-type]


def recording(
    tmp_path: Path, intervals: list[Snapshot], meta: dict[str, object] | None = None, max_points: int = 1500
) -> Recording:
    """Written as syscount writes it (a run cut short: no summary line), then read back."""
    records = [record(snap) for snap in intervals]
    if meta:
        records[0]["meta"] = meta
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return load(str(path), max_points=max_points)


def test_downsampling_merges_consecutive_intervals_into_rates(tmp_path: Path) -> None:
    intervals = [interval(i, {"read": i + 1, "write": 1}, seconds=0.5 if i == 9 else 1.0) for i in range(10)]
    loaded = recording(tmp_path, intervals, max_points=3)
    assert loaded.step == 4 and [p.intervals for p in loaded.timeline] == [4, 4, 2]
    assert [p.snapshot.interval_s for p in loaded.timeline] == [4.0, 4.0, 1.5]
    lines = series.calls_per_second(loaded.timeline)
    assert lines.values == {"read": [2.5, 6.5, 19 / 1.5], "write": [1.0, 1.0, 2 / 1.5]}
    assert lines.times[0] == "2026-11-24T00:00:03.000Z"


def test_the_top_series_are_drawn_and_the_rest_add_up_in_other(tmp_path: Path) -> None:
    counts = {f"s{n:02d}": 100 - n for n in range(15)}
    lines = series.calls_per_second(recording(tmp_path, [interval(0, counts)]).timeline, top=3)
    assert list(lines.values) == ["s00", "s01", "s02", "other"]
    assert lines.values["other"] == [sum(100 - n for n in range(3, 15))]


def test_percentiles_are_the_upper_bound_of_the_bucket_holding_them() -> None:
    hist = [0] * 32
    hist[7], hist[10] = 98, 2  # 98 calls in 128..255 ns, 2 in 1024..2047 ns
    assert series.percentile_ns(tuple(hist), 0.50) == 256.0
    assert series.percentile_ns(tuple(hist), 0.99) == 2048.0
    assert series.percentile_ns((0,) * 32, 0.5) is None


def timed(calls: int, bucket: int) -> SyscallTime:
    hist = [0] * 32
    hist[bucket] = calls
    return SyscallTime(calls, calls * (1 << bucket), 1 << bucket, 1 << bucket, 0, tuple(hist))


def test_a_heatmap_keeps_the_non_empty_buckets(tmp_path: Path) -> None:
    intervals = [
        interval(0, {"read": 4}, latency={"read": timed(4, 8)}),
        interval(1, {"read": 2}, seconds=2.0, latency={"read": timed(2, 10)}),
    ]
    (heatmap,) = series.latency_heatmaps(recording(tmp_path, intervals).timeline, ["read"])
    assert heatmap.buckets == [256, 512, 1024]
    assert heatmap.rates == [[4.0, 0.0], [0.0, 0.0], [0.0, 1.0]]
    assert heatmap.p50_ns == [512.0, 2048.0]


def figures(page: str) -> list[dict[str, Any]]:
    match = re.search(r"const figures = (.*);\n", page)
    assert match
    parsed: list[dict[str, Any]] = json.loads(match.group(1))
    return parsed


def test_names_reach_the_page_escaped(tmp_path: Path) -> None:
    rows = [BreakdownRow(7, HOSTILE, None, {"read": 3}, {})]
    intervals = [interval(0, {"read": 3}, breakdown=Breakdown("process", rows, {}))]
    page = render(recording(tmp_path, intervals, {"argv": ["syscount", "--comm", HOSTILE]}), HOSTILE, "/* plotly */")
    assert "<img" not in page and page.count("</script>") == 2  # plotly's and the drawing script's
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;\\033" in page  # the title and the tables
    rows_chart = next(f for f in figures(page) if f["id"] == "rows")
    names = [trace["name"] for trace in rows_chart["data"]]
    assert names == ["&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;\\033 (7)"]


def test_a_long_recording_is_downsampled_and_the_page_says_so(tmp_path: Path) -> None:
    intervals = [interval(i, {"read": 1 + i % 7}) for i in range(4000)]
    page = render(recording(tmp_path, intervals, max_points=1000), "t", "")
    assert "4000 intervals shown as 1000 points, each the average of 4 consecutive intervals" in page
    (calls,) = figures(page)
    assert len(calls["data"][0]["x"]) == 1000


def test_a_timed_recording_has_the_strace_columns_and_latency_charts(tmp_path: Path) -> None:
    intervals = [
        interval(i, {"read": 4}, latency={"read": timed(4, 8)}, errors={"read": {"EAGAIN": 1}}, errors_seen=True)
        for i in range(3)
    ]
    page = render(recording(tmp_path, intervals, {"host": "web-1", "kernel": "6.18"}), "t", "")
    assert [f["id"] for f in figures(page)] == ["calls", "errors", "heatmap0", "percentiles"]
    assert "<th>% time</th><th>seconds</th><th>usecs/call</th><th>calls</th><th>errors</th><th>syscall</th>" in page
    assert "<td>host</td><td>web-1</td>" in page and "<td>kernel</td><td>6.18</td>" in page
