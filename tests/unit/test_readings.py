"""The reading layer with fake programs: intervals, summary and exporter agree exactly."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import cast

from syscount.model import Snapshot, SyscallTime
from syscount.programs.counts import CountsProgram, CountsReading
from syscount.programs.keyed import KeyedMap
from syscount.programs.latency import LatencyProgram, LatencyTake
from syscount.readings import CountsReader, LatencyReader, Reading, Source, difference
from syscount.sinks.prometheus.sources import Durations, ReadingSource

NAMES = {0: "read", 1: "write", 3: "close", 60: "exit", 512 + 3: "i386:read"}


def name(slot: int) -> str:
    return NAMES[slot]


def hist(**buckets: int) -> tuple[int, ...]:
    return tuple(buckets.get(f"b{k}", 0) for k in range(32))


class FakeKeyed:
    """A per-comm breakdown (rows never deleted) whose kernel counters the test sets."""

    by = "comm"

    def __init__(self) -> None:
        self.values: dict[tuple[int, int, int], int] = {}

    def read(self) -> dict[tuple[int, int, int], int]:
        return dict(self.values)

    def names(self) -> dict[int, str]:
        return {7: "seven", 8: "eight"}

    def forget(self, keys: list[tuple[int, int, int]], ids: set[int]) -> None:
        assert not keys and not ids, "a comm's rows are never deleted"


class FakeCounts:
    """counts.bpf.o as its reader sees it: per-slot counters that only grow."""

    def __init__(self) -> None:
        self.slots = [0] * 1024
        self.forks = 0
        self.fake_keyed = FakeKeyed()
        self.keyed = cast(KeyedMap, self.fake_keyed)
        self.other = [0] * 1024

    def read(self) -> CountsReading:
        return CountsReading(tuple(self.slots), self.forks)

    def keyed_other(self) -> tuple[int, ...]:
        return tuple(self.other)

    def name(self, slot: int) -> str:
        return name(slot)

    def detach(self) -> None:
        pass


# Per step: (slot, calls added), untracked forks added, breakdown rows added, overflow added.
STEPS = [
    ({0: 5, 1: 2}, 0, {(7, 0, 0): 5}, {1: 2}),
    ({0: 1, 515: 4}, 1, {(7, 0, 0): 1, (8, 515, 0): 4}, {}),
    ({}, 0, {}, {}),
    ({3: 9, 1: 1}, 2, {(8, 3, 0): 9, (7, 1, 0): 1}, {}),
]


def advance(fake: FakeCounts, step: int) -> None:
    calls, forks, rows, other = STEPS[step]
    for slot, n in calls.items():
        fake.slots[slot] += n
    fake.forks += forks
    for key, n in rows.items():
        fake.fake_keyed.values[key] = fake.fake_keyed.values.get(key, 0) + n
    for slot, n in other.items():
        fake.other[slot] += n


def test_an_interval_is_one_reading_minus_the_previous() -> None:
    fake = FakeCounts()
    reader = CountsReader(cast(CountsProgram, fake))
    before = reader.read()
    advance(fake, 0)
    advance(fake, 1)
    after = reader.read()
    interval = difference(before, after, 2.0)
    assert interval.counts == {"read": 6, "i386:read": 4, "write": 2}
    assert interval.notes == {"untracked_forks": 1, "breakdown_overflow": 2}
    assert interval.breakdown is not None
    assert {row.id: row.counts for row in interval.breakdown.rows} == {7: {"read": 6}, 8: {"i386:read": 4}}
    assert interval.breakdown.other == {"write": 2}


def run_intervals(fake: FakeCounts) -> tuple[list[Snapshot], Snapshot]:
    source = Source(CountsReader(cast(CountsProgram, fake)))
    intervals = []
    for step in range(len(STEPS)):
        advance(fake, step)
        intervals.append(source.interval(1.0))
    source.detach()
    return intervals, source.summary(float(len(STEPS)))


def test_the_summary_is_the_sum_of_the_intervals() -> None:
    intervals, summary = run_intervals(FakeCounts())
    assert [snapshot.total for snapshot in intervals] == [7, 5, 0, 10]
    assert Counter(summary.counts) == sum((Counter(s.counts) for s in intervals), Counter())
    assert summary.counts == {"close": 9, "read": 6, "i386:read": 4, "write": 3}
    assert summary.notes == {"untracked_forks": 3, "breakdown_overflow": 2}
    per_row: Counter[tuple[int, str]] = Counter()
    for snapshot in intervals:
        assert snapshot.breakdown is not None
        for row in snapshot.breakdown.rows:
            per_row.update({(row.id, syscall): n for syscall, n in row.counts.items()})
    assert summary.breakdown is not None
    assert per_row == Counter({(r.id, s): n for r in summary.breakdown.rows for s, n in r.counts.items()})
    # rows + other == total, in every interval and in the summary
    for snapshot in [*intervals, summary]:
        assert snapshot.breakdown is not None
        rows = sum(row.total for row in snapshot.breakdown.rows) + sum(snapshot.breakdown.other.values())
        assert rows == snapshot.total


def test_exporter_totals_equal_the_summary() -> None:
    _, summary = run_intervals(FakeCounts())
    exported = FakeCounts()
    for step in range(len(STEPS)):
        advance(exported, step)
    totals = ReadingSource(CountsReader(cast(CountsProgram, exported)), durations=False).totals()
    assert totals.counts == summary.counts
    assert totals.untracked_forks == summary.notes["untracked_forks"]


class FakeLatency:
    """latency.bpf.o: each take hands over what finished since the previous one."""

    keyed = None

    def __init__(self, takes: list[LatencyTake]) -> None:
        self._takes = list(takes)

    def take(self) -> LatencyTake:
        return self._takes.pop(0)

    def name(self, slot: int) -> str:
        return name(slot)

    def untracked_forks(self) -> int | None:
        return None

    def detach(self) -> None:
        pass


TAKES = [
    LatencyTake({0: SyscallTime(3, 300, 90, 110, 1, hist(b6=3))}, {(0, 9): 1}, 2, 0, 0),
    LatencyTake(
        {0: SyscallTime(2, 5000, 1000, 4000, 0, hist(b9=1, b11=1)), 60: SyscallTime(1, 0, 0, 0, 0, hist())},
        {(0, 9): 1},
        0,
        0,
        1,
    ),
    LatencyTake({3: SyscallTime(4, 40, 5, 20, 4, hist(b2=2, b4=2))}, {(0, 9): 1, (3, 2): 4}, 1, 3, 1),
]


def test_latency_intervals_add_up_to_the_summary_and_to_the_exporter() -> None:
    source = Source(LatencyReader(cast(LatencyProgram, FakeLatency(TAKES))))
    intervals = [source.interval(1.0) for _ in TAKES]
    summary = source.summary(3.0)
    # Each interval shows exactly its take, with that take's min and max.
    assert intervals[1].latency is not None
    assert intervals[1].latency["read"] == SyscallTime(2, 5000, 1000, 4000, 0, hist(b9=1, b11=1))
    assert intervals[2].errors == {"close": {"ENOENT": 4}}
    assert summary.latency is not None
    assert summary.latency["read"] == SyscallTime(5, 5300, 90, 4000, 1, hist(b6=3, b9=1, b11=1))
    assert summary.errors == {"close": {"ENOENT": 4}, "read": {"EBADF": 1}}
    assert Counter(summary.counts) == sum((Counter(s.counts) for s in intervals), Counter())
    # errno_overflow and untimed are documented as counted since start
    assert intervals[2].notes == {"errno_overflow": 3, "untimed": 1} and intervals[2].in_flight == 1
    exporter = ReadingSource(LatencyReader(cast(LatencyProgram, FakeLatency(TAKES))), durations=True)
    for _ in TAKES[:-1]:
        exporter.totals()
    totals = exporter.totals()
    assert totals.counts == summary.counts
    assert totals.errors == {(s, e): n for s, errs in summary.errors.items() for e, n in errs.items()}
    assert totals.durations == {s: Durations(t.hist, t.total_ns) for s, t in summary.latency.items() if t.timed}


def test_a_reading_only_grows() -> None:
    fake = FakeCounts()
    reader = CountsReader(cast(CountsProgram, fake))
    seen: list[Reading] = []
    for step in range(len(STEPS)):
        advance(fake, step)
        seen.append(reader.read())
    for before, after in itertools.pairwise(seen):
        assert all(after.calls.get(k, 0) >= v for k, v in before.calls.items())
