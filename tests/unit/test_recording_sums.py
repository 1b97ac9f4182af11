"""The loader's array sums against plain Python sums of the same intervals; its parsers; diff's two readers."""

from __future__ import annotations

import dataclasses
import json
import pickle
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syscount.model import Breakdown, BreakdownRow, Snapshot, SyscallTime, merge_all, sorted_counts
from syscount.recordings import load as load_module
from syscount.recordings import pair
from syscount.recordings.load import Needs, Recording, RecordingError, load
from syscount.recordings.sums import FOLD_LINES
from syscount.sinks.jsonl import JsonLinesSink

START = datetime(2026, 11, 24, tzinfo=UTC)
NAMES = ["read", "write", "openat", "close", "futex", "getppid", "mmap"]
ERRNOS = ["ENOENT", "EAGAIN", "EINTR"]
INTERVALS = 2 * FOLD_LINES + 37  # folds mid-run, and a rest


def interval(second: int, rng: random.Random) -> Snapshot:
    """Shapes change from line to line: which syscalls, which buckets, which rows, which errnos."""
    names = rng.sample(NAMES, rng.randint(1, len(NAMES)))
    counts = {name: rng.randint(1, 500) for name in names}
    latency, errors = {}, {}
    for name, calls in counts.items():
        hist = [0] * 32
        for _ in range(rng.randint(1, 4)):
            hist[rng.randrange(32)] += 1
        hist[rng.randrange(32)] += calls - sum(hist) if calls > sum(hist) else 0
        failed = rng.choice([0, 0, calls // 3])
        least = rng.choice([0, rng.randint(1, 99)])  # 0: nothing timed, never a minimum
        latency[name] = SyscallTime(
            calls, calls * rng.randint(100, 900), least, rng.randint(100, 10**6), failed, tuple(hist)
        )
        if failed:
            errors[name] = dict(zip(rng.sample(ERRNOS, 2), (failed - 1, 1), strict=True))
    rows = []
    for pid in rng.sample(range(100, 110), rng.randint(0, 4)):
        row_counts = {name: rng.randint(1, calls) for name, calls in list(counts.items())[: rng.randint(0, 3)]}
        row_errors = {name: {"EAGAIN": 1} for name in row_counts if rng.random() < 0.2}
        rows.append(BreakdownRow(pid, f"p\n{pid % 3}", None, sorted_counts(row_counts), row_errors))
    other = {"read": 2} if rng.random() < 0.1 else {}
    return Snapshot(
        START + timedelta(seconds=second),
        1.0,
        sorted_counts(counts),
        latency=latency,
        errors=errors,
        errors_seen=True,
        in_flight=second % 5,
        notes={"untimed": second % 7},
        breakdown=Breakdown("process", rows, other),
    )


@pytest.fixture(scope="module")
def intervals() -> list[Snapshot]:
    rng = random.Random(13)
    return [interval(second, rng) for second in range(1, INTERVALS + 1)]


@pytest.fixture(scope="module")
def killed_run(intervals: list[Snapshot], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sums") / "killed.jsonl"
    with path.open("w") as out:
        sink = JsonLinesSink(out, meta={"host": "test"})
        for snapshot in intervals:
            sink.emit(snapshot)
    return path


def plain_sum(intervals: list[Snapshot]) -> Snapshot:
    """The whole run added up the obvious way, one dict entry at a time."""
    counts: Counter[str] = Counter()
    errors: dict[str, Counter[str]] = {}
    rows: dict[tuple[int, str], tuple[Counter[str], dict[str, Counter[str]]]] = {}
    other: Counter[str] = Counter()
    for snapshot in intervals:
        counts.update(snapshot.counts)
        for name, errnos in snapshot.errors.items():
            errors.setdefault(name, Counter()).update(errnos)
        assert snapshot.breakdown is not None
        for row in snapshot.breakdown.rows:
            row_counts, row_errors = rows.setdefault((row.id, row.label), (Counter(), {}))
            row_counts.update(row.counts)
            for name, errnos in row.errors.items():
                row_errors.setdefault(name, Counter()).update(errnos)
        other.update(snapshot.breakdown.other)
    latency = {}
    for name in sorted_counts(dict(counts)):
        times = merge_all(s.latency[name] for s in intervals if s.latency and name in s.latency)
        assert times is not None
        latency[name] = times
    breakdown_rows = [
        BreakdownRow(row_id, label, None, sorted_counts(dict(c)), {n: dict(e) for n, e in errs.items()})
        for (row_id, label), (c, errs) in rows.items()
    ]
    breakdown_rows.sort(key=lambda row: (-row.total, row.label, row.id))
    return Snapshot(
        intervals[-1].time,
        float(len(intervals)),
        sorted_counts(dict(counts)),
        final=True,
        notes={"untimed": max(s.notes["untimed"] for s in intervals)},
        latency=latency,
        errors={name: dict(errnos) for name, errnos in errors.items()},
        errors_seen=True,
        in_flight=intervals[-1].in_flight,
        breakdown=Breakdown("process", breakdown_rows, sorted_counts(dict(other))),
    )


def test_the_sum_of_a_killed_run_is_the_plain_sum_of_its_intervals(killed_run: Path, intervals: list[Snapshot]) -> None:
    recording = load(str(killed_run))
    assert recording.summed and recording.interval_count == INTERVALS
    assert recording.summary == plain_sum(intervals)


def test_each_point_of_the_timeline_is_the_plain_sum_of_its_intervals(
    killed_run: Path, intervals: list[Snapshot]
) -> None:
    recording = load(str(killed_run), max_points=10)
    step = recording.step
    assert step == -(-INTERVALS // 10)
    assert [point.intervals for point in recording.timeline] == [
        min(step, INTERVALS - start) for start in range(0, INTERVALS, step)
    ]
    for number, point in enumerate(recording.timeline):
        expected = plain_sum(intervals[number * step : (number + 1) * step])
        assert point.snapshot == dataclasses.replace(expected, final=False)


def test_the_standard_json_parser_reads_the_same_recording(killed_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = load(str(killed_run), max_points=7)
    monkeypatch.setattr(load_module, "_fast_parser", lambda: json.loads)
    assert load(str(killed_run), max_points=7) == fast


def test_what_a_command_does_not_need_stays_empty(killed_run: Path, intervals: list[Snapshot]) -> None:
    whole = plain_sum(intervals)
    diff_needs = load(str(killed_run), needs=Needs(hist=False, extremes=False, rows=False)).summary
    assert diff_needs.counts == whole.counts and diff_needs.errors == whole.errors
    assert diff_needs.breakdown is None
    assert diff_needs.latency is not None and whole.latency is not None
    for name, time in diff_needs.latency.items():
        full = whole.latency[name]
        assert (time.calls, time.total_ns, time.errors) == (full.calls, full.total_ns, full.errors)
        assert (time.min_ns, time.max_ns, sum(time.hist)) == (0, 0, 0)


def test_a_count_that_is_not_a_number_is_one_error_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    line = {"schema": 2, "time": "2026-11-24T00:00:01Z", "interval_s": 1.0, "counts": {"read": "many"}, "final": False}
    path.write_text(json.dumps(line) + "\n")
    with pytest.raises(RecordingError, match="not a valid syscount recording"):
        load(str(path))


def test_diff_reads_both_recordings_in_two_processes_with_the_same_result(
    killed_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    needs = Needs(hist=False, extremes=False, rows=False)
    single = load(str(killed_run), needs=needs)
    monkeypatch.setattr(pair, "FORK_ABOVE", 0)
    both = pair.load_both(str(killed_run), str(killed_run), needs)
    assert both == (single, single)
    broken = tmp_path / "broken.jsonl"
    broken.write_text("not json\n")
    with pytest.raises(RecordingError, match=f"{broken}: not a syscount recording"):
        pair.load_both(str(killed_run), str(broken), needs)
    with pytest.raises(RecordingError, match=f"{broken}: not a syscount recording"):
        pair.load_both(str(broken), str(killed_run), needs)


def test_a_recording_survives_the_trip_between_processes(killed_run: Path) -> None:
    recording = load(str(killed_run), max_points=5)
    assert isinstance(recording, Recording)
    assert pickle.loads(pickle.dumps(recording)) == recording


def read_in_halves(path: Path, max_points: int, monkeypatch: pytest.MonkeyPatch) -> tuple[Recording, Recording]:
    """(in one go, in two processes), of the same file."""
    from syscount.recordings import halves

    monkeypatch.setattr(halves, "SPLIT_ABOVE", 1 << 62)
    whole = load(str(path), max_points=max_points)
    monkeypatch.setattr(halves, "SPLIT_ABOVE", 0)
    return whole, load(str(path), max_points=max_points)


@pytest.mark.parametrize("max_points", [2, 7, 40, 10_000])
def test_a_recording_read_in_two_halves_is_the_same_recording(
    killed_run: Path, tmp_path: Path, intervals: list[Snapshot], max_points: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole, halves = read_in_halves(killed_run, max_points, monkeypatch)
    assert halves == whole and whole.summed
    finished = tmp_path / "finished.jsonl"
    with finished.open("w") as out:
        sink = JsonLinesSink(out, meta={"host": "test"})
        for snapshot in intervals:
            sink.emit(snapshot)
        sink.emit(dataclasses.replace(plain_sum(intervals), notes={"untimed": 99}))
    whole, halves = read_in_halves(finished, max_points, monkeypatch)
    assert halves == whole and not whole.summed and whole.summary.notes == {"untimed": 99}


def test_files_that_are_not_one_plain_run_are_read_in_one_go(
    killed_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = killed_run.read_text().splitlines(keepends=True)
    two_runs = tmp_path / "two.jsonl"
    two_runs.write_text("".join(lines[:50] + lines))  # a killed run, then another (its first line has meta)
    blank = tmp_path / "blank.jsonl"
    blank.write_text("".join([*lines[:10], "\n", *lines[10:]]))
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(lines) + lines[5][:40])
    for path in (two_runs, blank, cut):
        whole, halves = read_in_halves(path, 9, monkeypatch)
        assert halves == whole
    assert load(str(two_runs)).notes == ["the file holds 2 runs (appended with -o); the last one is read"]
    assert load(str(cut)).notes == [
        f"line {len(lines) + 1} was cut off (the run was killed while writing) and is ignored"
    ]


@pytest.mark.parametrize("where", [0.2, 0.8])
def test_a_bad_line_in_either_half_is_the_same_error(
    killed_run: Path, tmp_path: Path, where: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syscount.recordings import halves

    lines = killed_run.read_text().splitlines(keepends=True)
    at = int(len(lines) * where)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join([*lines[:at], '{"counts": \n', *lines[at:]]))
    monkeypatch.setattr(halves, "SPLIT_ABOVE", 0)
    with pytest.raises(RecordingError, match=f"line {at + 1} is not JSON"):
        load(str(bad), max_points=3)
