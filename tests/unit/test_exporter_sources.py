"""Sources turn collector readings into cumulative totals; labels go through the cap."""

from __future__ import annotations

from typing import cast

from syscount.model import SyscallTime
from syscount.programs.counts import CountsProgram, CountsReading
from syscount.programs.keyed import KeyedMap
from syscount.programs.latency import LatencyProgram, LatencyTake
from syscount.readings import CountsReader, LatencyReader, named
from syscount.sinks.prometheus.folding import OTHER, SeriesCap
from syscount.sinks.prometheus.labels import KeyedLabels, LabelledReading, LabelsSource
from syscount.sinks.prometheus.sources import Combined, Durations, ReadingSource

NAMES = {0: "read", 1: "write", 60: "exit", 511: "unknown(out-of-range)", 1023: "unknown(out-of-range)"}


def name(slot: int) -> str:
    return NAMES.get(slot, f"nr{slot}")


def hist(**buckets: int) -> tuple[int, ...]:
    return tuple(buckets.get(f"b{k}", 0) for k in range(32))


def test_slots_sharing_a_name_are_summed() -> None:
    slots = [0] * 1024
    slots[0], slots[511], slots[1023] = 5, 2, 3
    assert named(dict(enumerate(slots)), name) == {"read": 5, "unknown(out-of-range)": 5}


class FakeCounts:
    keyed = None

    def __init__(self, by_pid: bool) -> None:
        self.by_pid = by_pid
        self.slots = [0] * 1024

    def read(self) -> CountsReading:
        return CountsReading(slots=tuple(self.slots), untracked_forks=4 if self.by_pid else None)

    def name(self, slot: int) -> str:
        return name(slot)


def test_counts_are_read_as_they_are() -> None:
    fake = FakeCounts(by_pid=True)
    source = ReadingSource(CountsReader(cast(CountsProgram, fake)), durations=False)
    fake.slots[1] = 9
    assert source.totals().counts == {"write": 9}
    fake.slots[1] = 12
    totals = source.totals()
    assert totals.counts == {"write": 12}
    assert totals.untracked_forks == 4 and totals.errors is None and totals.durations is None
    unfiltered = ReadingSource(CountsReader(cast(CountsProgram, FakeCounts(by_pid=False))), durations=False)
    assert unfiltered.totals().untracked_forks is None


class FakeLatency:
    keyed = None

    def __init__(self, takes: list[LatencyTake]) -> None:
        self._takes = takes

    def untracked_forks(self) -> int | None:
        return None

    def take(self) -> LatencyTake:
        return self._takes.pop(0)

    def name(self, slot: int) -> str:
        return name(slot)


def take(stats: dict[int, SyscallTime], errnos: dict[tuple[int, int], int]) -> LatencyTake:
    return LatencyTake(stats=stats, errnos=errnos, in_flight=1, errno_overflow=0, untimed=2)


def test_latency_takes_add_up_and_errnos_stay_cumulative() -> None:
    first = take(
        {0: SyscallTime(3, 300, 90, 110, 1, hist(b6=3)), 60: SyscallTime(1, 0, 0, 0, 0, hist())},
        {(0, 9): 1},
    )
    second = take({0: SyscallTime(2, 5000, 1000, 4000, 2, hist(b9=1, b11=1))}, {(0, 9): 3})
    source = ReadingSource(LatencyReader(cast(LatencyProgram, FakeLatency([first, second]))), durations=True)
    assert source.totals().counts == {"read": 3, "exit": 1}
    totals = source.totals()
    assert totals.counts == {"read": 5, "exit": 1}
    assert totals.errors == {("read", "EBADF"): 3}
    assert totals.durations == {"read": Durations(hist(b6=3, b9=1, b11=1), 5300)}  # exit: never timed
    assert (totals.in_flight, totals.untimed, totals.errno_overflow) == (1, 2, 0)


def test_failures_without_latency_leave_the_histogram_out() -> None:
    fake = FakeLatency([take({0: SyscallTime(1, 10, 10, 10, 1, hist(b3=1))}, {(0, 2): 1})])
    totals = ReadingSource(LatencyReader(cast(LatencyProgram, fake)), durations=False).totals()
    assert totals.durations is None and totals.errors == {("read", "ENOENT"): 1}


class FakeBreakdown:
    """A LabelledCounts with rows set by the test."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], int] = {}
        self.unattributed: dict[int, int] = {}

    def read_labelled(self) -> LabelledReading:
        return LabelledReading(dict(self.rows), dict(self.unattributed))

    def name(self, slot: int) -> str:
        return name(slot)


def test_labels_are_named_folded_and_summed() -> None:
    breakdown = FakeBreakdown()
    source = LabelsSource("comm", breakdown, SeriesCap(1))
    breakdown.rows = {("nginx", 0): 10, ("nginx", 511): 1, ("nginx", 1023): 1, ("bash", 0): 2}
    totals = source.totals()
    assert totals.labelled is not None and totals.labelled.label == "comm"
    assert totals.labelled.folded.counts == {
        ("nginx", "read"): 10,
        ("nginx", "unknown(out-of-range)"): 2,
        (OTHER, "read"): 2,
    }
    assert totals.counts == {"read": 12, "unknown(out-of-range)": 2}
    assert totals.unattributed == 0


def test_calls_the_kernel_could_not_attribute_go_to_other_and_are_counted() -> None:
    breakdown = FakeBreakdown()
    breakdown.rows = {("nginx", 0): 10}
    breakdown.unattributed = {0: 3, 1: 4}
    totals = LabelsSource("comm", breakdown, SeriesCap(5)).totals()
    assert totals.labelled is not None
    assert totals.labelled.folded.counts == {("nginx", "read"): 10, (OTHER, "read"): 3, (OTHER, "write"): 4}
    assert totals.counts == {"read": 13, "write": 4}
    assert totals.unattributed == 7


def test_labels_with_latency_take_calls_from_labels_and_the_rest_from_latency() -> None:
    breakdown = FakeBreakdown()
    breakdown.rows = {("nginx", 0): 4}
    breakdown.unattributed = {0: 1}
    latency = FakeLatency([take({0: SyscallTime(3, 30, 10, 10, 0, hist(b3=3))}, {})])
    combined = Combined(
        LabelsSource("comm", breakdown, SeriesCap(5)),
        ReadingSource(LatencyReader(cast(LatencyProgram, latency)), durations=True),
    ).totals()
    assert combined.counts == {"read": 5}
    assert combined.labelled is not None
    assert combined.labelled.folded.counts == {("nginx", "read"): 4, (OTHER, "read"): 1}
    assert combined.durations == {"read": Durations(hist(b3=3), 30)}
    assert combined.unattributed == 1


class FakeKeyedMap:
    """The kernel's keyed map as KeyedMap shows it: (id, slot, errno) -> calls, and names."""

    def __init__(self) -> None:
        self.rows: dict[tuple[int, int, int], int] = {}
        self.named: dict[int, str] = {}

    def read(self) -> dict[tuple[int, int, int], int]:
        return dict(self.rows)

    def names(self) -> dict[int, str]:
        return dict(self.named)


class FakeKeyedCollector:
    def __init__(self) -> None:
        self.map = FakeKeyedMap()
        self.keyed: KeyedMap | None = cast(KeyedMap, self.map)
        self.other = [0] * 1024

    def keyed_other(self) -> tuple[int, ...]:
        return tuple(self.other)

    def name(self, slot: int) -> str:
        return name(slot)


def test_keyed_rows_by_comm_sum_errnos_and_wait_one_scrape_for_a_name() -> None:
    collector = FakeKeyedCollector()
    labels = KeyedLabels(collector, "comm")
    collector.map.rows = {(0xA, 0, 0): 5, (0xA, 0, 9): 2, (0xB, 1, 0): 7, (0xC, 1, 0): 1}
    collector.map.named = {0xA: "nginx", 0xB: "bash"}  # 0xC's name is not written yet
    collector.other[1] = 4
    first = labels.read_labelled()
    assert first.counts == {("nginx", 0): 7, ("bash", 1): 7}
    assert first.unattributed == {1: 4}
    collector.map.named[0xC] = "cron"
    assert labels.read_labelled().counts == {("nginx", 0): 7, ("bash", 1): 7, ("cron", 1): 1}


def test_a_comm_never_named_keeps_its_hash_and_names_never_change() -> None:
    collector = FakeKeyedCollector()
    labels = KeyedLabels(collector, "comm")
    collector.map.rows = {(0xC, 1, 0): 1}
    assert labels.read_labelled().counts == {}
    assert labels.read_labelled().counts == {("comm#000000000000000c", 1): 1}
    collector.map.named = {0xC: "late"}  # too late: the series already has its label
    assert labels.read_labelled().counts == {("comm#000000000000000c", 1): 1}


def test_keyed_rows_by_cgroup_are_named_by_path() -> None:
    collector = FakeKeyedCollector()
    labels = KeyedLabels(collector, "cgroup")
    gone = 1 << 62  # no cgroup directory has this inode: shown by id
    collector.map.rows = {(gone, 0, 0): 3}
    assert labels.read_labelled().counts == {(f"cgroup:{gone}", 0): 3}
