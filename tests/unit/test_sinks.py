"""Every output format rendered from a fixed snapshot, compared to the exact text."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

from syscount.model import Snapshot, SyscallTime, iso_utc, sorted_counts
from syscount.sinks import SinkOptions, open_sink
from syscount.sinks.histogram import render_histogram
from syscount.sinks.jsonl import SCHEMA
from syscount.sinks.strace_summary import render_strace_summary
from syscount.sinks.table import render

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
        "schema": SCHEMA,
        "time": "2026-11-24T22:51:36.123Z",
        "interval_s": 1.0,
        "counts": {"read": 42, "close": 7, "write": 7},
        "total": 56,
        "final": False,
    }
    assert out.getvalue().count("\n") == 1


def test_json_meta_is_on_the_first_line_only() -> None:
    out = io.StringIO()
    sink = open_sink("json", out, log=False, options=SinkOptions(meta={"host": "h"}))
    sink.emit(SNAP)
    sink.emit(SNAP)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["meta"] == {"host": "h"} and first["schema"] == second["schema"] == SCHEMA
    assert "meta" not in second


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


# -- -L figures ------------------------------------------------------------------------


def _hist(**buckets: int) -> tuple[int, ...]:
    hist = [0] * 32
    for bucket, count in buckets.items():
        hist[int(bucket[1:])] = count
    return tuple(hist)


READ = SyscallTime(calls=4, total_ns=4000, min_ns=500, max_ns=2000, errors=1, hist=_hist(b8=2, b10=2))
EXIT = SyscallTime(calls=1, total_ns=0, min_ns=0, max_ns=0, errors=0, hist=_hist())
TIMED = Snapshot(
    time=WHEN,
    interval_s=2.0,
    counts={"read": 4, "exit_group": 1},
    final=True,
    latency={"read": READ, "exit_group": EXIT},
    errors={"read": {"EAGAIN": 1}},
    errors_seen=True,
    in_flight=0,
)


def test_syscall_time_merge_keeps_the_smallest_non_zero_min() -> None:
    merged = READ.merge(EXIT)
    assert (merged.calls, merged.min_ns, merged.max_ns, merged.timed) == (5, 500, 2000, 4)
    assert READ.avg_ns == 1000.0 and EXIT.avg_ns == 0.0


def test_strace_summary_columns() -> None:
    assert render_strace_summary(TIMED) == (
        "% time     seconds  usecs/call     calls    errors syscall\n"
        "------ ----------- ----------- --------- --------- ----------------\n"
        "100.00    0.000004           1         4         1 read\n"
        "  0.00    0.000000           0         1           exit_group\n"
        "------ ----------- ----------- --------- --------- ----------------\n"
        "100.00    0.000004           0         5         1 total\n\n"
    )


def test_histogram_bars() -> None:
    assert render_histogram("read", READ) == (
        "read: 4 timed calls, avg 1.0 us\n"
        "                       ns : count    distribution\n"
        "         256 -> 511        : 2        |****************************************|\n"
        "         512 -> 1023       : 0        |                                        |\n"
        "        1024 -> 2047       : 2        |****************************************|\n\n"
    )
    assert render_histogram("exit_group", EXIT) == ""


def test_json_latency_fields() -> None:
    out = io.StringIO()
    open_sink("json", out, log=False).emit(TIMED)
    record = json.loads(out.getvalue())
    assert record["latency"]["read"] == {
        "calls": 4,
        "errors": 1,
        "total_ns": 4000,
        "avg_ns": 1000.0,
        "min_ns": 500,
        "max_ns": 2000,
        "hist_ns": {"256": 2, "1024": 2},
    }
    assert record["errors"] == {"read": {"EAGAIN": 1}} and record["in_flight"] == 0


def test_csv_latency_columns() -> None:
    out = io.StringIO()
    open_sink("csv", out, log=False, options=SinkOptions(latency=True)).emit(TIMED)
    lines = out.getvalue().splitlines()
    assert lines[0] == "time,interval_s,final,syscall,count,errors,total_ns,min_ns,max_ns"
    assert lines[1] == "2026-11-24T22:51:36.123Z,2.000000,1,read,4,1,4000,500,2000"


def test_text_log_latency_fields() -> None:
    out = io.StringIO()
    open_sink("text", out, log=True).emit(TIMED)
    assert out.getvalue().splitlines()[1] == "read: 4 errors=1 total_ns=4000 min_ns=500 max_ns=2000 errnos=EAGAIN:1"


def test_table_with_latency_columns() -> None:
    text = render(TIMED, top=0)
    assert text.splitlines()[1].split() == [
        "SYSCALL",
        "COUNT",
        "ERRORS",
        "TOTAL",
        "ms",
        "AVG",
        "us",
        "MIN",
        "us",
        "MAX",
        "us",
    ]
    assert text.splitlines()[2].split() == ["read", "4", "1", "0.004", "1.0", "0.5", "2.0"]
    assert text.splitlines()[3].split() == ["exit_group", "1", "0.000", "-", "-", "-"]
    assert "errors: read: EAGAIN 1" in text
