"""Breakdown bookkeeping without a kernel: deltas, totals, the dead, names, containers."""

from __future__ import annotations

import io
import json
from array import array
from typing import cast

import pytest

from syscount.cli.count import parse
from syscount.errors import UsageError
from syscount.kernel.structs import DIRECT_ROW, SLOTS
from syscount.model import Breakdown, BreakdownRow, Snapshot
from syscount.names.cgroups import container_id
from syscount.programs.breakdown import KeyedTotals
from syscount.programs.keyed import DIR_USED, Final, KeyedMap
from syscount.readings import EMPTY, Reading, difference
from syscount.sinks import SinkOptions, open_sink
from syscount.sinks.table import render_breakdown
from tests.unit.test_sinks import WHEN

NAMES = {0: "read", 1: "write", 3: "close"}


class FakeKeyed:
    """Stands in for the kernel map: cumulative values the test sets, deletions recorded."""

    by = "process"

    def __init__(self) -> None:
        self.values: dict[tuple[int, int, int], int] = {}
        self.forgotten: set[int] = set()
        self.ended: set[int] = set()  # what the kernel's `exited` map holds
        self.handed: list[Final] = []  # what the kernel's `ended_rows` ring holds

    def read(self) -> dict[tuple[int, int, int], int]:
        return dict(self.values)

    def exited(self) -> set[int]:
        ended, self.ended = self.ended, set()
        return ended

    def finals(self) -> list[Final]:
        handed, self.handed = self.handed, []
        return handed

    def names(self) -> dict[int, str]:
        return {10: "alpha", 20: "beta"}

    def forget(self, ids: set[int]) -> None:
        for key in [key for key in self.values if key[0] in ids]:
            del self.values[key]
        self.forgotten |= ids


class Intervals:
    """A breakdown's readings turned into intervals and a summary, as the run loop does."""

    def __init__(self, totals: KeyedTotals) -> None:
        self.totals = totals
        self.last = EMPTY

    def interval(self) -> Breakdown:
        now = Reading(calls={}, breakdown=self.totals.read())
        breakdown = difference(self.last, now, 1.0).breakdown
        self.last = now
        assert breakdown is not None
        return breakdown

    def summary(self) -> Breakdown:
        breakdown = difference(EMPTY, self.last, 1.0, final=True).breakdown
        assert breakdown is not None
        return breakdown


def make(keyed: FakeKeyed, other: list[int], *, kept: int = 1024) -> Intervals:
    totals = KeyedTotals(cast(KeyedMap, keyed), lambda slot: NAMES[slot], lambda: tuple(other), kept=kept)
    return Intervals(totals)


def test_intervals_totals_and_forgetting_the_dead() -> None:
    keyed, other = FakeKeyed(), [0, 0, 0, 0]
    deltas = make(keyed, other)
    keyed.values = {(10, 0, 0): 5, (20, 1, 0): 2}
    first = deltas.interval()
    assert [(r.id, r.label, r.counts) for r in first.rows] == [(10, "alpha", {"read": 5}), (20, "beta", {"write": 2})]
    # 20 makes 3 more calls, one failing with EBADF, then exits (the kernel says so); 10 goes on.
    keyed.values.update({(20, 1, 0): 4, (20, 3, 9): 1, (10, 0, 0): 6})
    keyed.ended = {20}
    second = deltas.interval()  # 20's last values are read, then its keys go
    assert {r.id: r.counts for r in second.rows} == {10: {"read": 1}, 20: {"write": 2, "close": 1}}
    assert next(r for r in second.rows if r.id == 20).errors == {"close": {"EBADF": 1}}
    assert keyed.forgotten == {20} and (20, 1, 0) not in keyed.values
    third = deltas.interval()
    assert third.rows == []
    other[3] = 7  # the map was full for 7 closes
    assert deltas.interval().other == {"close": 7}  # the last interval reads the overflow row
    summary = deltas.summary()
    assert {r.id: r.total for r in summary.rows} == {10: 6, 20: 5}
    assert summary.other == {"close": 7}


def test_ended_rows_beyond_the_cap_fold_into_the_summarys_other() -> None:
    """Churn: 200 processes come and go; the summary keeps the 3 largest ended rows and
    sums the rest into `other`; every interval still shows each process's own row, and
    rows + other == total in every interval and in the summary."""
    keyed, other = FakeKeyed(), [0, 0, 0, 0]
    deltas = make(keyed, other, kept=3)
    total = 0
    for pid in range(1000, 1200):
        calls = 1 + pid % 7
        keyed.values[(pid, 0, 0)] = calls  # the process reads `calls` times, then ends
        keyed.values[(10, 1, 0)] = keyed.values.get((10, 1, 0), 0) + 1  # a long-lived writer
        keyed.ended = {pid}
        interval = deltas.interval()
        assert {r.id: r.total for r in interval.rows} == {pid: calls, 10: 1}
        assert interval.other == {}
        total += calls + 1
    deltas.interval()  # the last ended row is kept or folded too
    summary = deltas.summary()
    kept = [r for r in summary.rows if r.id != 10]
    assert len(kept) == 3 and all(r.total == 7 for r in kept)
    assert sum(r.total for r in summary.rows) + sum(summary.other.values()) == total
    assert summary.other == {"read": total - 200 - 21}
    assert len(deltas.totals._rows) == 4  # memory: the live row and the 3 kept


def test_a_row_handed_over_at_its_end_adds_its_rest_and_names_it() -> None:
    """The kernel hands over 30's final row as it ends (and frees it): the interval
    shows what 30 did since the last reading, named from the record; the summary 30's
    whole row. An id reused by a new process in the same reading (its row read after
    the record) adds its own calls, from zero, without the ended one's."""
    keyed, other = FakeKeyed(), [0, 0, 0, 0]
    deltas = make(keyed, other)
    keyed.values = {(30, 0, 0): 4}
    assert {r.id: r.counts for r in deltas.interval().rows} == {30: {"read": 4}}
    # 30 reads twice more, writes once and ends: its row leaves the map for the ring.
    del keyed.values[(30, 0, 0)]
    keyed.handed = [(30, "gamma", (0, 1), (6, 1))]
    second = deltas.interval()
    assert [(r.id, r.label, r.counts) for r in second.rows] == [(30, "gamma", {"read": 2, "write": 1})]
    assert keyed.forgotten == set()  # the kernel freed it itself
    # A new process 40 ends (its whole life within one reading) while 30's id is
    # reused by a new process that has read 3 times so far.
    keyed.handed = [(40, None, (3,), (5,))]
    keyed.values = {(30, 0, 0): 3}
    third = deltas.interval()
    assert {r.id: r.counts for r in third.rows} == {30: {"read": 3}, 40: {"close": 5}}
    keyed.values = {(30, 0, 0): 10}
    assert {r.id: r.counts for r in deltas.interval().rows} == {30: {"read": 7}}
    # The whole run: 30's id holds both processes' calls (as when a reused id's calls
    # reach the kernel before the ended one's row is read), 40 has no name.
    summary = deltas.summary()
    assert [(r.id, r.label, r.counts) for r in summary.rows] == [
        (30, "gamma", {"read": 6 + 10, "write": 1}),
        (40, "?", {"close": 5}),
    ]
    assert summary.other == {}


class ChangingDir:
    """key_dir as user space maps it, its owners changing between two reads."""

    def __init__(self, *owners: list[int]) -> None:
        self.reads = [array("Q", row).tobytes() for row in owners]

    def __getitem__(self, _: slice) -> bytes:
        return self.reads.pop(0) if len(self.reads) > 1 else self.reads[0]


def direct_rows(rows: dict[int, dict[int, int]]) -> bytearray:
    """key_rows holding ``index -> {slot: calls}``."""
    packer = DIRECT_ROW.packer()
    data = bytearray(packer.size * 4)
    for index, calls in rows.items():
        used = [0] * (SLOTS // 64)
        counters = [0] * SLOTS
        for slot, count in calls.items():
            used[slot // 64] |= 1 << slot % 64
            counters[slot] = count
        packer.pack_into(data, index * packer.size, *used, b"row", *counters)
    return data


def test_a_direct_row_freed_while_it_is_read_is_left_out() -> None:
    """The kernel frees row 1 (id 7 ended) and id 9 claims it while user space reads
    the rows: neither is trusted this time (7's final values come in the ring), 9 is
    read from the next reading on."""
    keyed = object.__new__(KeyedMap)
    keyed._rows = direct_rows({1: {0: 5}, 2: {1: 3}})  # type: ignore[assignment]
    keyed._dir = ChangingDir([0, 7 | DIR_USED, 8 | DIR_USED, 0])  # type: ignore[assignment]
    assert keyed._read_direct() == {(7, 0, 0): 5, (8, 1, 0): 3}
    keyed._rows = direct_rows({1: {0: 1}, 2: {1: 4}})  # type: ignore[assignment]
    keyed._dir = ChangingDir([0, 7 | DIR_USED, 8 | DIR_USED, 0], [0, 9 | DIR_USED, 8 | DIR_USED, 0])  # type: ignore[assignment]
    assert keyed._read_direct() == {(8, 1, 0): 4}
    keyed._dir = ChangingDir([0, 9 | DIR_USED, 8 | DIR_USED, 0])  # type: ignore[assignment]
    assert keyed._read_direct() == {(9, 0, 0): 1, (8, 1, 0): 4}


def test_a_row_left_out_of_a_reading_is_counted_from_its_last_values() -> None:
    """30's row is left out of the second reading (the kernel was freeing it as it
    ended); its final values, handed over in the third, add only what is new."""
    keyed, other = FakeKeyed(), [0, 0, 0, 0]
    deltas = make(keyed, other)
    keyed.values = {(30, 0, 0): 4, (10, 1, 0): 1}
    assert {r.id: r.total for r in deltas.interval().rows} == {30: 4, 10: 1}
    keyed.values = {(10, 1, 0): 2}
    assert {r.id: r.total for r in deltas.interval().rows} == {10: 1}
    keyed.handed = [(30, "gamma", (0,), (6,))]
    assert {r.id: r.counts for r in deltas.interval().rows} == {30: {"read": 2}}
    assert {r.id: r.total for r in deltas.summary().rows} == {30: 6, 10: 2}


def test_container_ids_from_cgroup_paths() -> None:
    docker = "a" * 64
    assert container_id(f"/system.slice/docker-{docker}.scope") == "a" * 12
    assert container_id(f"/docker/{docker}") == "a" * 12
    assert container_id(f"/kubepods/burstable/pod1234/{'b' * 64}") == "b" * 12
    assert container_id(f"/system.slice/cri-containerd-{'c' * 64}.scope") == "c" * 12
    assert container_id("/user.slice/user-0.slice/session-1.scope") is None
    assert container_id(f"/my-app/{docker}") is None  # no runtime in the path


ROWS = Breakdown(
    by="process",
    rows=[
        BreakdownRow(10, "nginx", None, {"read": 50, "write": 20, "close": 3}, {"close": {"EBADF": 3}}),
        BreakdownRow(20, "sh", None, {"wait4": 2}, {}),
    ],
    other={"read": 4},
)
SNAP = Snapshot(time=WHEN, interval_s=1.0, counts={"read": 54, "write": 20, "close": 3, "wait4": 2}, breakdown=ROWS)


def test_breakdown_table() -> None:
    assert render_breakdown(ROWS, top=1) == [
        "",
        "PID       COMM                   TOTAL  TOP SYSCALLS",
        "10        nginx                     73  read 50, write 20, close 3 (EBADF 3)",
        "(+1 more processes with 2 calls)",
        "other     (map full)                 4  read 4",
    ]


def test_summary_other_row_says_what_it_holds() -> None:
    # The summary adds the ended rows no longer kept to other: they are not map overflow.
    folded = ROWS._replace(other={"exit_group": 7, "read": 4}, folded={"exit_group": 7}, folded_rows=7)
    assert render_breakdown(folded, top=0)[-1].split() == [
        "other",
        "(7",
        "ended",
        "processes,",
        "map",
        "full)",
        "11",
        "exit_group",
        "7,",
        "read",
        "4",
    ]
    only_folded = folded._replace(other={"exit_group": 7})
    assert render_breakdown(only_folded, top=0)[-1].split()[:4] == ["other", "(7", "ended", "processes)"]
    by_comm = only_folded._replace(by="comm", folded_rows=0, folded={})
    assert render_breakdown(by_comm, top=0)[-1].split()[:3] == ["other", "(map", "full)"]


THREE_ROWS = [
    BreakdownRow(10, "nginx", None, {"read": 5}, {}),
    BreakdownRow(11, "sh", None, {"wait4": 2}, {}),
    BreakdownRow(12, "cat", None, {"read": 1}, {}),
]


@pytest.mark.parametrize(
    ("by", "head", "more"),
    [
        ("process", "PID       COMM                   TOTAL  TOP SYSCALLS", "(+2 more processes with 3 calls)"),
        ("thread", "TID       COMM                   TOTAL  TOP SYSCALLS", "(+2 more threads with 3 calls)"),
        ("comm", "COMM                   TOTAL  TOP SYSCALLS", "(+2 more commands with 3 calls)"),
        ("cgroup", "CGROUP ID CGROUP                 TOTAL  TOP SYSCALLS", "(+2 more cgroups with 3 calls)"),
    ],
)
def test_breakdown_rows_are_named_right_in_every_breakdown(by: str, head: str, more: str) -> None:
    lines = render_breakdown(Breakdown(by=by, rows=THREE_ROWS, other={}), top=1)
    assert lines[1] == head and lines[3] == more and len(lines) == 4


def test_breakdown_json() -> None:
    out = io.StringIO()
    open_sink("json", out, log=False).emit(SNAP)
    record = json.loads(out.getvalue())["breakdown"]
    assert record["by"] == "process" and record["other"] == {"read": 4}
    assert record["rows"][0] == {
        "pid": 10,
        "comm": "nginx",
        "counts": {"read": 50, "write": 20, "close": 3},
        "total": 73,
        "errors": {"close": {"EBADF": 3}},
    }


def test_breakdown_csv_and_log() -> None:
    out = io.StringIO()
    open_sink("csv", out, log=False, options=SinkOptions(breakdown=True)).emit(SNAP)
    lines = out.getvalue().splitlines()
    assert lines[0] == "time,interval_s,final,by,id,label,container,syscall,errno,count"
    assert "2026-11-24T22:51:36.123Z,1.000000,0,process,10,nginx,,close,EBADF,3" in lines
    assert lines[-1] == "2026-11-24T22:51:36.123Z,1.000000,0,process,other,,,read,,4"
    log = io.StringIO()
    open_sink("text", log, log=True).emit(SNAP)
    assert "[10 nginx] close: 3 errnos=EBADF:3" in log.getvalue().splitlines()
    assert "[other] read: 4" in log.getvalue().splitlines()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--comm", "x" * 16], "1 to 15 characters"),
        (["-u", "no-such-user-xyz"], "no user"),
        (["-e", "ENOPE"], "unknown errno"),
        (["-s", "opn"], "did you mean"),
        (["-s", "%fil"], "unknown class"),
        (["-P", "--by-thread"], "not allowed with"),
        (["--max-rows", "x"], "whole number"),
    ],
)
def test_bad_filter_input(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse(argv)


def test_filters_parse() -> None:
    args = parse(["-P", "--comm", "nginx", "-u", "0", "-s", "read,close", "-e", "EBADF"])
    assert args.breakdown == "process"
    selection = args.selection
    assert (selection.comm, selection.uid, selection.failed_only, selection.errno) == ("nginx", 0, True, 9)
    assert selection.syscalls is not None and {0, 3} <= selection.syscalls
