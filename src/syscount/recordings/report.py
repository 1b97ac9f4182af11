"""One recording → one self-contained HTML page of charts and tables.

Charts are drawn by plotly.js, inlined whole into the page (no network fetch, ever: the
page also forbids one with a Content-Security-Policy), so a CI artifact opens offline
years later. The figures are written as plain JSON for ``Plotly.newPlot``: building
them through plotly's Python figure classes validates every point and is many times
slower on a day-long recording. Everything a traced process or a recording file
controls goes through ``escape_text`` and HTML escaping before it reaches the page.
"""

from __future__ import annotations

import html
import json
import math
import shlex
from typing import Any, NamedTuple

from ..errors import NotSupported
from ..model import Snapshot
from ..names.escape import escape_text
from . import series
from .load import Point, Recording

# Nothing leaves the page: scripts and styles are inline, images (plotly's) are data: URLs.
CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; font-src data:"
HEATMAPS = 4  # latency heatmaps for the syscalls with the most time in them


class Chart(NamedTuple):
    id: str
    title: str
    data: list[dict[str, Any]]
    layout: dict[str, Any]


def plotly_js() -> str:
    """plotly.js from the installed plotly package (the optional ``report`` extra)."""
    try:
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise NotSupported(
            "syscount report", "the plotly package is missing (pip install 'syscount[report]')"
        ) from None
    js: str = get_plotlyjs()
    return js


def render(recording: Recording, title: str, js: str) -> str:
    """The page for a recording loaded with a timeline (``load(path, max_points=...)``)."""
    charts = _charts(recording, _points(recording))
    body = [
        f"<h1>{_html(title)}</h1>",
        _sampling_note(recording),
        *(_chart_div(chart) for chart in charts),
        "<h2>Whole run</h2>",
        _summary_table(recording.summary),
        "<h2>Recording</h2>",
        _meta_table(recording),
    ]
    return _page(title, "\n".join(body), js, charts)


def _points(recording: Recording) -> list[Point]:
    """The timeline, or the summary as one point when the run printed only its summary."""
    if recording.timeline:
        return recording.timeline
    summary = recording.summary
    return [Point(summary.time.isoformat(timespec="milliseconds").replace("+00:00", "Z"), 1, summary)]


def _sampling_note(recording: Recording) -> str:
    if recording.step == 1:
        return f'<p class="note">{recording.interval_count} intervals, each drawn as recorded.</p>'
    return (
        f'<p class="note" id="downsampled">Downsampled for display: {recording.interval_count} intervals shown as '
        f"{len(recording.timeline)} points, each the average of {recording.step} consecutive intervals "
        "(calls per second over the point's whole time; nothing is left out). The tables below are exact.</p>"
    )


def _charts(recording: Recording, points: list[Point]) -> list[Chart]:
    charts = [_stacked("calls", "System calls per second (top 10, the rest as other)", series.calls_per_second(points))]
    if recording.summary.errors_seen:
        errors = series.errors_per_second(points)
        if errors.values:
            charts.append(_stacked("errors", "Failed calls per second, by errno", errors))
    if recording.summary.latency is not None:
        heatmaps = series.latency_heatmaps(points, series.slowest(recording.summary, HEATMAPS))
        charts += [_heatmap(index, heatmap) for index, heatmap in enumerate(heatmaps)]
        if heatmaps:
            charts.append(_percentiles(heatmaps))
    if recording.summary.breakdown is not None:
        by = recording.summary.breakdown.by
        charts.append(_stacked("rows", f"Calls per second, top 10 by {by}", series.rows_per_second(points)))
    return charts


def _stacked(chart_id: str, title: str, lines: series.Lines) -> Chart:
    data = [
        {
            "type": "scatter",
            "mode": _mode(lines.times),
            "stackgroup": "one",
            "name": _text(name),
            "x": lines.times,
            "y": [_round(v) for v in values],
            "line": {"width": 0.5},
        }
        for name, values in lines.values.items()
    ]
    return Chart(chart_id, title, data, _layout(title, "calls/s"))


def _heatmap(index: int, heatmap: series.Heatmap) -> Chart:
    # Colour on a log scale: a bucket's rate spans many orders of magnitude over a run.
    z = [[math.log10(rate) if rate > 0 else None for rate in row] for row in heatmap.rates]
    seen = [v for row in z for v in row if v is not None] or [0.0]
    ticks = list(range(math.floor(min(seen)), math.ceil(max(seen)) + 1))
    data = [
        {
            "type": "heatmap",
            "x": heatmap.times,
            "y": [_duration(lower) for lower in heatmap.buckets],
            "z": [[None if v is None else round(v, 3) for v in row] for row in z],
            "colorscale": "Viridis",
            "colorbar": {"title": {"text": "calls/s"}, "tickvals": ticks, "ticktext": [f"{10.0**t:g}" for t in ticks]},
            "hovertemplate": "%{x}<br>%{y} and up: 10^%{z} calls/s<extra></extra>",
        }
    ]
    title = f"Latency of {_text(heatmap.syscall)}: calls per second per log2 bucket"
    layout = _layout(title, "duration (bucket's lower bound)")
    layout["yaxis"]["type"] = "category"
    return Chart(f"heatmap{index}", title, data, layout)


def _percentiles(heatmaps: list[series.Heatmap]) -> Chart:
    data = []
    for heatmap in heatmaps:
        for label, values, dash in (("P50", heatmap.p50_ns, "solid"), ("P99", heatmap.p99_ns, "dot")):
            data.append(
                {
                    "type": "scatter",
                    "mode": _mode(heatmap.times),
                    "name": f"{_text(heatmap.syscall)} {label}",
                    "x": heatmap.times,
                    "y": [None if v is None else v / 1000.0 for v in values],
                    "line": {"dash": dash},
                }
            )
    title = "P50 and P99 latency (upper bound of the log2 bucket holding it)"
    layout = _layout(title, "µs")
    layout["yaxis"]["type"] = "log"
    return Chart("percentiles", title, data, layout)


def _mode(times: list[str]) -> str:
    """Markers too when there are few points: a run of one or two intervals still shows."""
    return "lines" if len(times) > 60 else "lines+markers"


def _layout(title: str, y_title: str) -> dict[str, Any]:
    return {
        "title": {"text": title},
        "xaxis": {"type": "date"},
        "yaxis": {"title": {"text": y_title}},
        "height": 420,
        "margin": {"l": 90, "r": 20, "t": 50, "b": 40},
        "showlegend": True,  # also for one series: its name is the point
    }


def _round(value: float) -> float:
    """Four significant digits: the page stays small and a chart cannot show more."""
    return float(f"{value:.4g}")


def _duration(ns: int) -> str:
    if ns < 1000:
        return f"{ns} ns"
    if ns < 1_000_000:
        return f"{ns / 1000:.3g} µs"
    if ns < 1_000_000_000:
        return f"{ns / 1e6:.3g} ms"
    return f"{ns / 1e9:.3g} s"


def _text(name: str) -> str:
    """A name as chart text: plotly reads a few HTML tags in text, so it is entity-escaped."""
    return html.escape(escape_text(name), quote=False)


def _html(text: str) -> str:
    return html.escape(escape_text(text))


def _chart_div(chart: Chart) -> str:
    return f'<div class="chart" id="{chart.id}"></div>'


def _summary_table(summary: Snapshot) -> str:
    if summary.latency is not None:
        header = ["% time", "seconds", "usecs/call", "calls", "errors", "syscall"]
        rows = _strace_rows(summary)
    else:
        total = summary.total or 1
        header = ["calls", "% calls", *(["errors"] if summary.errors_seen else []), "syscall"]
        rows = [
            [
                str(calls),
                f"{100.0 * calls / total:.2f}",
                *([str(sum(summary.errors.get(name, {}).values()))] if summary.errors_seen else []),
                name,
            ]
            for name, calls in summary.counts.items()
        ]
    return _table("summary", header, rows)


def _strace_rows(summary: Snapshot) -> list[list[str]]:
    from ..sinks.strace_summary import strace_rows

    rows, total = strace_rows(summary)
    return [
        [
            f"{row.percent:.2f}",
            f"{row.total_ns / 1e9:.6f}",
            str(row.usecs_per_call),
            str(row.calls),
            str(row.errors) if row.errors else "",
            row.name,
        ]
        for row in [*rows, total]
    ]


def _table(table_id: str, header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_html(cell)}</th>" for cell in header)
    body = "\n".join("<tr>" + "".join(f"<td>{_html(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>'


def _meta_table(recording: Recording) -> str:
    rows = [[key, value] for key, value in meta_rows(recording)]
    return _table("meta", ["", ""], rows)


def meta_rows(recording: Recording) -> list[tuple[str, str]]:
    """What the recording says about itself, plus what reading it found (unescaped)."""
    meta = recording.meta
    rows = [("file", recording.path), ("schema version", str(recording.schema))]
    for key, label in (("host", "host"), ("kernel", "kernel"), ("machine", "machine"), ("syscount", "syscount")):
        if key in meta:
            rows.append((label, str(meta[key])))
    if "argv" in meta:
        rows.append(("command line", shlex.join(str(arg) for arg in meta["argv"])))
    if meta.get("command"):
        rows.append(("traced command", shlex.join(str(arg) for arg in meta["command"])))
    if meta.get("pids"):
        rows.append(("processes", ",".join(map(str, meta["pids"]))))
    if meta.get("filters"):
        rows.append(("filters", ", ".join(f"{key}={value}" for key, value in meta["filters"].items())))
    if "started" in meta:
        rows.append(("started", str(meta["started"])))
    if not meta:
        rows.append(("metadata", "none (recorded before schema 2)"))
    rows += [
        ("duration", f"{recording.duration_s:.3f} s"),
        ("intervals", f"{recording.interval_count} ({recording.step} per point on the charts)"),
        ("whole-run figures", recording.source),
        ("calls", str(recording.summary.total)),
    ]
    rows.append(("losses", _losses(recording.summary)))
    rows += [("note", note) for note in recording.notes]
    return rows


def _losses(summary: Snapshot) -> str:
    notes = summary.notes
    parts = [f"{key}={value}" for key, value in sorted(notes.items())]
    if summary.in_flight:
        parts.append(f"in_flight={summary.in_flight} (calls running at the end, not timed)")
    return ", ".join(parts) if parts else "none"


def _script_json(value: Any) -> str:
    """JSON that cannot close the <script> element it sits in."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.5em; }
.note { color: #555; }
.chart { width: 100%; min-height: 420px; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: right; }
td:last-child, th:last-child, #meta td { text-align: left; }
#meta td:first-child { font-weight: bold; }
"""


def _page(title: str, body: str, js: str, charts: list[Chart]) -> str:
    figures = _script_json([{"id": c.id, "data": c.data, "layout": c.layout} for c in charts])
    draw = (
        "const figures = " + figures + ";\n"
        "for (const f of figures) {\n"
        "  Plotly.newPlot(f.id, f.data, f.layout, {displaylogo: false, responsive: true});\n"
        "}\n"
        "document.body.dataset.charts = String(figures.length);\n"
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>\n"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        f"<title>{_html(title)}</title>\n<style>{STYLE}</style>\n"
        f"<script>{js}</script>\n</head><body>\n{body}\n<script>\n{draw}</script>\n</body></html>\n"
    )
