"""JSON lines with a per-process breakdown written as text: the same bytes as json.dumps."""

from __future__ import annotations

import io
import json
from typing import Any

from syscount.model import Breakdown, BreakdownRow, Snapshot
from syscount.sinks.jsonl import JsonLinesSink, record
from tests.unit.test_sinks import WHEN

SHARED = {"exit_group": 1, "set_robust_list": 1}  # the reader shares alike rows' counts
LABELS = ["churn", "tab\there", "\x1b[31mred", "caf\u00e9", "bad\udcff", 'quo"te\\', "\u2028"]


def churn(by: str = "process", *, notes: dict[str, int] | None = None) -> Snapshot:
    rows = [BreakdownRow(100 + n, LABELS[n % len(LABELS)], None, SHARED, {}) for n in range(40)]
    rows.insert(0, BreakdownRow(1, "parent", None, {"clone": 40, "wait4": 40}, {"wait4": {"ECHILD": 2}}))
    breakdown = Breakdown(by, rows, {"read": 3})
    counts = {"clone": 40, "wait4": 40, "exit_group": 40, "set_robust_list": 40, "read": 3}
    return Snapshot(time=WHEN, interval_s=1.0, counts=counts, notes=notes or {}, breakdown=breakdown)


def plain(snapshot: Snapshot, meta: dict[str, Any] | None = None) -> str:
    data = record(snapshot)
    if meta is not None:
        data["meta"] = meta
    return json.dumps(data, separators=(",", ":"))


def test_rows_as_text_are_the_bytes_json_writes() -> None:
    """Escapes (control characters, non-ASCII, undecodable bytes, quotes), errnos, the
    order of the keys (breakdown before notes, meta last) and the ids' field names."""
    meta: dict[str, Any] = {"argv": ["syscount", "-P", "\0rows\0"]}  # the placeholder's text in free text stays
    for by in ("process", "thread"):
        stream = io.StringIO()
        sink = JsonLinesSink(stream, meta=meta)
        first, second = churn(by, notes={"rows_folded": 7}), churn(by)
        sink.emit(first)
        sink.emit(second)
        assert stream.getvalue().splitlines() == [plain(first, meta), plain(second)]
        assert json.loads(stream.getvalue().splitlines()[0])["breakdown"]["rows"][3]["comm"] == "\x1b[31mred"


def test_rows_unlike_each_other_and_other_breakdowns_take_the_plain_path() -> None:
    unlike = churn()
    assert unlike.breakdown is not None
    rows = [row._replace(counts=dict(row.counts)) for row in unlike.breakdown.rows]
    for snapshot in (
        Snapshot(WHEN, 1.0, unlike.counts, breakdown=unlike.breakdown._replace(rows=rows)),
        Snapshot(WHEN, 1.0, unlike.counts, breakdown=Breakdown("comm", rows, {})),
        Snapshot(WHEN, 1.0, unlike.counts, breakdown=Breakdown("process", [], {})),
    ):
        stream = io.StringIO()
        JsonLinesSink(stream).emit(snapshot)
        assert stream.getvalue() == plain(snapshot) + "\n"
