"""Every output format rendered from a fixed snapshot, compared to the exact text."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

from syscount.sinks import open_sink
from syscount.sinks.table import render
from syscount.snapshot import Snapshot, iso_utc, sorted_counts

WHEN = datetime(2026, 11, 24, 22, 51, 36, 123456, tzinfo=UTC)
COUNTS = sorted_counts({"write": 7, "read": 42, "close": 7, "openat": 0})
SNAP = Snapshot(time=WHEN, interval_s=1.0, counts=COUNTS)
FINAL = Snapshot(time=WHEN, interval_s=12.5, counts=COUNTS, final=True)


def test_sorted_counts_drops_zeros_and_breaks_ties_by_name() -> None:
    assert list(COUNTS.items()) == [("read", 42), ("close", 7), ("write", 7)]


def test_iso_utc() -> None:
    assert iso_utc(WHEN) == "2026-11-24T22:51:36.123Z"


def test_text_log_is_the_seed_format() -> None:
    out = io.StringIO()
    sink = open_sink("text", out, log=True)
    sink.emit(SNAP)
    sink.emit(FINAL)
    assert out.getvalue() == (
        "2026-11-24T22:51:36.123Z\nread: 42\nclose: 7\nwrite: 7\n\n"
        "2026-11-24T22:51:36.123Z summary 12.500s\nread: 42\nclose: 7\nwrite: 7\n\n"
    )


def test_json_line() -> None:
    out = io.StringIO()
    open_sink("json", out, log=False).emit(SNAP)
    assert json.loads(out.getvalue()) == {
        "time": "2026-11-24T22:51:36.123Z",
        "interval_s": 1.0,
        "counts": {"read": 42, "close": 7, "write": 7},
        "total": 56,
        "final": False,
    }
    assert out.getvalue().count("\n") == 1


def test_json_notes_appear_only_when_non_zero() -> None:
    out = io.StringIO()
    open_sink("json", out, log=False).emit(Snapshot(WHEN, 1.0, {}, notes={"untracked_forks": 3}))
    assert json.loads(out.getvalue())["notes"] == {"untracked_forks": 3}


def test_csv_rows_and_single_header() -> None:
    out = io.StringIO()
    sink = open_sink("csv", out, log=False)
    sink.emit(SNAP)
    sink.emit(FINAL)
    lines = out.getvalue().splitlines()
    assert lines[0] == "time,interval_s,final,syscall,count"
    assert lines[1] == "2026-11-24T22:51:36.123Z,1.000000,0,read,42"
    assert lines[-1] == "2026-11-24T22:51:36.123Z,12.500000,1,write,7"
    assert len(lines) == 7
    again = open_sink("csv", out, log=False)  # appending to a non-empty file: no second header
    again.emit(SNAP)
    assert out.getvalue().count("time,interval_s") == 1


def test_table_top_n_and_the_rest() -> None:
    text = render(FINAL, top=2)
    assert text == (
        "SUMMARY  12.50 s  56 syscalls\n"
        "SYSCALL                      COUNT\n"
        "read                            42\n"
        "close                            7\n"
        "(+1 more syscalls with 7 calls; -T 0 shows all)\n\n"
    )


def test_table_all_rows_with_zero() -> None:
    text = render(SNAP, top=0)
    assert "write" in text and "more syscalls" not in text
    assert text.splitlines()[0].endswith("1.00 s  56 syscalls")


def test_empty_interval_has_just_a_header() -> None:
    assert render(Snapshot(WHEN, 1.0, {}, final=True), top=10) == "SUMMARY  1.00 s  0 syscalls\n\n"
