"""Reading recordings back: the summary, a cut-short run, old and newer schemas, bad files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syscount.model import Breakdown, BreakdownRow, Snapshot, SyscallTime, merge_all
from syscount.recordings.load import RecordingError, load
from syscount.sinks.jsonl import SCHEMA, record

START = datetime(2026, 11, 24, 22, 51, 36, 123000, tzinfo=UTC)


def hist(**buckets: int) -> tuple[int, ...]:
    """``hist(b8=3)``: 3 calls in bucket 8 (256..511 ns)."""
    values = [0] * 32
    for key, calls in buckets.items():
        values[int(key[1:])] = calls
    return tuple(values)


def timed_interval(second: int, getppid: int, openat: int, enoent: int, final: bool = False) -> Snapshot:
    latency = {
        "getppid": SyscallTime(getppid, 200 * getppid, 150, 900, 0, hist(b7=getppid)),
        "openat": SyscallTime(openat, 1500 * openat, 1000, 4000, enoent, hist(b10=openat)),
    }
    rows = [
        BreakdownRow(41, "worker", None, {"getppid": getppid - 1, "openat": openat}, {"openat": {"ENOENT": enoent}}),
        BreakdownRow(42, "helper", None, {"getppid": 1}, {}),
    ]
    return Snapshot(
        time=START + timedelta(seconds=second),
        interval_s=1.0,
        counts={"getppid": getppid, "openat": openat},
        final=final,
        latency=latency,
        errors={"openat": {"ENOENT": enoent}} if enoent else {},
        errors_seen=True,
        in_flight=second,
        notes={"untimed": second, "breakdown_overflow": 1},
        breakdown=Breakdown("process", rows, {}),
    )


INTERVALS = [timed_interval(1, 100, 10, 2), timed_interval(2, 300, 5, 1), timed_interval(3, 50, 1, 0)]
# What syscount's summary line says for those three intervals.
SUMMARY = Snapshot(
    time=START + timedelta(seconds=3),
    interval_s=3.0,
    counts={"getppid": 450, "openat": 16},
    final=True,
    latency={
        "getppid": SyscallTime(450, 90000, 150, 900, 0, hist(b7=450)),
        "openat": SyscallTime(16, 24000, 1000, 4000, 3, hist(b10=16)),
    },
    errors={"openat": {"ENOENT": 3}},
    errors_seen=True,
    in_flight=3,
    notes={"untimed": 3, "breakdown_overflow": 3},  # untimed counts since start: the last, not the sum
    breakdown=Breakdown(
        "process",
        [
            BreakdownRow(41, "worker", None, {"getppid": 447, "openat": 16}, {"openat": {"ENOENT": 3}}),
            BreakdownRow(42, "helper", None, {"getppid": 3}, {}),
        ],
        {},
    ),
)


def write(path: Path, records: list[dict[str, Any]], tail: str = "") -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail)
    return str(path)


def final(counts: dict[str, int]) -> Snapshot:
    """A plain summary line with these counts."""
    return Snapshot(START, 1.0, counts, final=True)


def lines_of(snapshots: list[Snapshot]) -> list[dict[str, Any]]:
    return [record(snap) for snap in snapshots]


def test_a_whole_recording_reads_back_as_written(tmp_path: Path) -> None:
    records = lines_of([*INTERVALS, SUMMARY])
    records[0]["meta"] = {"host": "h", "argv": ["syscount", "-L"]}
    recording = load(write(tmp_path / "r.jsonl", records), max_points=10)
    assert recording.schema == SCHEMA and not recording.summed and recording.notes == []
    assert recording.meta == {"host": "h", "argv": ["syscount", "-L"]}
    assert recording.step == 1 and recording.interval_count == 3
    assert [record(point.snapshot) for point in recording.timeline] == _no_meta(records[:3])
    assert record(recording.summary) == records[3]
    assert recording.summary == SUMMARY
    assert recording.source == "summary line"


def _no_meta(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "meta"} for r in records]


def test_a_run_without_its_summary_is_summed_to_what_the_summary_says(tmp_path: Path) -> None:
    recording = load(write(tmp_path / "killed.jsonl", lines_of(INTERVALS)))
    assert recording.summed and recording.interval_count == 3
    assert recording.summary == SUMMARY
    with_timeline = load(write(tmp_path / "killed.jsonl", lines_of(INTERVALS)), max_points=2)
    assert [point.intervals for point in with_timeline.timeline] == [2, 1]  # two points, added up again
    assert with_timeline.summary == SUMMARY
    assert recording.source == "sum of 3 intervals (no summary line: the run was cut short)"


def test_a_cut_off_last_line_is_ignored_and_noted(tmp_path: Path) -> None:
    whole = json.dumps(record(INTERVALS[2]))
    recording = load(write(tmp_path / "cut.jsonl", lines_of(INTERVALS[:2]), tail=whole[: len(whole) // 2]))
    assert recording.summed and recording.summary.counts == {"getppid": 400, "openat": 15}
    assert recording.notes == ["line 3 was cut off (the run was killed while writing) and is ignored"]


def test_a_recording_before_schema_versions_reads_as_version_1(tmp_path: Path) -> None:
    old = [{k: v for k, v in r.items() if k != "schema"} for r in lines_of([*INTERVALS, SUMMARY])]
    recording = load(write(tmp_path / "old.jsonl", old))
    assert recording.schema == 1 and recording.meta == {} and not recording.summed
    assert recording.summary.counts == {"getppid": 450, "openat": 16}


def test_a_newer_schema_is_a_one_line_error(tmp_path: Path) -> None:
    records = lines_of(INTERVALS)
    records[1]["schema"] = SCHEMA + 1
    path = write(tmp_path / "new.jsonl", records)
    with pytest.raises(RecordingError) as caught:
        load(path)
    message = str(caught.value)
    assert message == (
        f"{path}: recording schema version {SCHEMA + 1} is newer than this syscount reads ({SCHEMA}); upgrade syscount"
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "empty recording"),
        ("\n\n", "empty recording"),
        ("2026-11-24T22:51:37.001Z\nread: 42\n", "not a syscount recording"),
        ('{"time": "x"}\n', "line 1 is not a syscount record"),
        ('{"counts": {}, "final": true, "time": "2026-11-24T22:51:37Z", "interval_s": "x"}\n', "not a valid"),
        ("[1, 2]\n", "line 1 is not a syscount record"),
    ],
)
def test_files_that_are_not_recordings_fail_in_one_line(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(RecordingError, match=expected) as caught:
        load(str(path))
    assert "\n" not in str(caught.value)


def test_a_broken_line_in_the_middle_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps(record(INTERVALS[0])) + "\n{oops\n" + json.dumps(record(INTERVALS[1])) + "\n")
    with pytest.raises(RecordingError, match="line 2 is not JSON"):
        load(str(path))


def test_a_missing_file_is_an_error() -> None:
    with pytest.raises(RecordingError, match=r"cannot read recording /nonexistent/r\.jsonl: No such file"):
        load("/nonexistent/r.jsonl")


def test_appended_runs_read_the_last_one(tmp_path: Path) -> None:
    first = lines_of([INTERVALS[0], final({"getppid": 100, "openat": 10})])
    second = lines_of([INTERVALS[1], INTERVALS[2], final({"getppid": 350, "openat": 6})])
    recording = load(write(tmp_path / "two.jsonl", first + second))
    assert recording.summary.counts == {"getppid": 350, "openat": 6}
    assert recording.notes == ["the file holds 2 runs (appended with -o); the last one is read"]


def test_a_killed_run_followed_by_a_new_one_splits_at_the_metadata(tmp_path: Path) -> None:
    killed = lines_of(INTERVALS[:2])
    again = lines_of([INTERVALS[2], final({"getppid": 50, "openat": 1})])
    again[0]["meta"] = {"host": "h"}
    recording = load(write(tmp_path / "two.jsonl", killed + again))
    assert recording.summary.counts == {"getppid": 50, "openat": 1}
    assert recording.meta == {"host": "h"} and not recording.summed


def test_the_metadata_says_what_was_counted_and_how() -> None:
    from syscount.cli.count import parse
    from syscount.sinks.meta import run_meta

    argv = ["-L", "-P", "--comm", "make", "-s", "%file,!openat", "-x", "--format", "json", "--", "make", "-j2"]
    meta = run_meta(parse(argv))
    assert meta["argv"] == ["syscount", *argv] and meta["command"] == ["make", "-j2"]
    assert meta["filters"] == {"comm": "make", "syscall": "%file,!openat", "failures": "yes"}
    assert (meta["latency"], meta["breakdown"], meta["interval_s"], meta["pids"]) == (True, "process", None, [])
    assert set(meta) >= {"syscount", "host", "kernel", "machine", "started"}


def test_merge_all_is_pairwise_merge_in_one_pass() -> None:
    items = [
        SyscallTime(3, 900, 0, 500, 1, hist(b8=3)),
        SyscallTime(5, 700, 120, 200, 0, hist(b7=4, b0=1)),
        SyscallTime(2, 100, 40, 60, 2, hist(b5=2)),
    ]
    pairwise = items[0].merge(items[1]).merge(items[2])
    assert merge_all(items) == pairwise == SyscallTime(10, 1700, 40, 500, 3, hist(b8=3, b7=4, b0=1, b5=2))
    assert merge_all([]) is None
