"""syscount top's view model, cells, keys and frames, from fixed snapshots (no kernel, no terminal)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syscount.model import Breakdown, BreakdownRow, Snapshot, SyscallTime
from syscount.sinks.top.cells import human_count, human_ns, human_rate, sparkline
from syscount.sinks.top.controls import Screen, press, scrolled
from syscount.sinks.top.frame import Status, batch_frame
from syscount.sinks.top.keys import decode
from syscount.sinks.top.model import Row, Scope, Tallies, ViewState, finish_rows, percentile, table
from syscount.sinks.top.screen import render

NOW = datetime(2026, 11, 26, 1, 2, 3, tzinfo=UTC)
BUCKETS = 8


def hist(**buckets: int) -> tuple[int, ...]:
    """``hist(b3=2)``: 2 calls in bucket 3 (8..15 ns)."""
    values = [0] * BUCKETS
    for name, count in buckets.items():
        values[int(name[1:])] = count
    return tuple(values)


def row(
    ident: int, label: str, counts: dict[str, int], errors: dict[str, dict[str, int]] | None = None
) -> BreakdownRow:
    return BreakdownRow(ident, label, None, counts, errors or {})


def snapshot(
    counts: dict[str, int],
    rows: list[BreakdownRow],
    *,
    seconds: float = 1.0,
    errors: dict[str, dict[str, int]] | None = None,
    latency: dict[str, SyscallTime] | None = None,
    by: str = "process",
    notes: dict[str, int] | None = None,
) -> Snapshot:
    return Snapshot(
        time=NOW,
        interval_s=seconds,
        counts=counts,
        notes=notes or {},
        latency=latency,
        errors=errors or {},
        errors_seen=errors is not None,
        breakdown=Breakdown(by, rows, {}),
    )


def two_intervals() -> Tallies:
    """getppid: 1000 then 200 calls (pids 10 and 11); close 30 then 10 (pid 10 only)."""
    tallies = Tallies()
    tallies.feed(
        snapshot(
            {"getppid": 1000, "close": 30},
            [row(10, "work", {"getppid": 600, "close": 30}), row(11, "helper", {"getppid": 400})],
        )
    )
    tallies.feed(
        snapshot(
            {"getppid": 200, "close": 10},
            [row(10, "work", {"getppid": 200, "close": 10})],
            seconds=2.0,
        )
    )
    return tallies


def names(tab_rows: list[Row]) -> list[str]:
    return [r.name for r in tab_rows]


def test_syscall_rows_have_rates_of_the_last_interval_and_totals_since_the_start() -> None:
    tab = table(two_intervals(), ViewState())
    assert [(r.name, r.rate, r.total) for r in tab.rows] == [("getppid", 100.0, 1200), ("close", 5.0, 40)]
    assert tab.columns == ("SYSCALL", "RATE", "TOTAL", "ERR/s", "ERR%", "ERRNO", "TREND")
    assert finish_rows(two_intervals(), Scope(), tab.rows)[0].trend == (1000.0, 100.0)
    assert tab.rows[0].err_rate is None  # no exit side: errors unknown, not zero


def test_sorting_by_total_then_reversed_ties_by_name_a_to_z() -> None:
    tallies = Tallies()
    tallies.feed(snapshot({"b": 5, "a": 5, "c": 9}, []))
    assert names(table(tallies, ViewState(sort="TOTAL")).rows) == ["c", "a", "b"]
    assert names(table(tallies, ViewState(sort="TOTAL", reverse=True)).rows) == ["a", "b", "c"]


def test_process_view_rows_and_drill_downs() -> None:
    tallies = two_intervals()
    processes = table(tallies, ViewState(view="process"))
    assert processes.columns[:2] == ("PID", "COMMAND")
    shown = finish_rows(tallies, Scope(), processes.rows)
    assert [(r.ident, r.name, r.total, r.rate, r.top_syscall) for r in shown] == [
        (10, "work", 840, 105.0, "getppid"),
        (11, "helper", 400, 0.0, "getppid"),
    ]
    # A syscall's processes: only its own calls.
    makers = table(tallies, ViewState().drill(Scope(syscall="close")))
    assert [(r.ident, r.total) for r in makers.rows] == [(10, 40)]
    assert makers.title == "close ▸ processes"
    # A process's syscalls.
    calls = table(tallies, ViewState(view="process").drill(Scope(entity=11)))
    assert [(r.name, r.total) for r in calls.rows] == [("getppid", 400)]


def test_enter_backspace_and_view_keys_through_the_controls() -> None:
    tallies = two_intervals()
    screen = Screen()
    tab = table(tallies, screen.view)
    screen = press(screen, "enter", tab.rows, tab.columns, 10)  # on getppid
    assert screen.view.scope == Scope(syscall="getppid")
    tab = table(tallies, screen.view)
    assert [r.ident for r in tab.rows] == [10, 11]
    screen = press(screen, "down", tab.rows, tab.columns, 10)
    screen = press(screen, "enter", tab.rows, tab.columns, 10)  # on pid 11: its getppid errnos
    assert screen.view.scope == Scope("getppid", 11, errnos=True)
    screen = press(screen, "backspace", [], (), 10)
    screen = press(screen, "backspace", [], (), 10)
    assert screen.view.scope == Scope()
    screen = press(screen, "t", [], (), 10)
    assert screen.wants() == ("thread", False)
    screen = press(screen, "L", [], (), 10)
    assert screen.wants() == ("thread", True)
    assert press(screen, "q", [], (), 10).quit


def test_sort_keys_filter_pause_and_interval() -> None:
    tallies = two_intervals()
    screen = Screen()
    tab = table(tallies, screen.view)
    screen = press(screen, ">", tab.rows, tab.columns, 10)
    assert screen.view.sort == "TOTAL"
    screen = press(screen, "<", tab.rows, tab.columns, 10)
    assert screen.view.sort == "RATE"
    for key in ("/", "c", "l", "enter"):
        screen = press(screen, key, tab.rows, tab.columns, 10)
    assert names(table(tallies, screen.view).rows) == ["close"]
    assert press(screen, " ", [], (), 10).paused
    assert press(screen, "+", [], (), 10).interval_s == 2.0
    assert press(screen, "-", [], (), 10).interval_s == 0.5


def test_selection_stays_in_the_rows_and_the_window_follows_it() -> None:
    screen = scrolled(Screen(selected=25), count=30, page=10)
    assert (screen.selected, screen.top) == (25, 16)
    screen = scrolled(Screen(selected=40, top=16), count=3, page=10)
    assert (screen.selected, screen.top) == (2, 2)


def test_errors_and_errno_view() -> None:
    tallies = Tallies()
    tallies.feed(
        snapshot(
            {"openat": 10, "close": 4},
            [row(7, "w", {"openat": 10, "close": 4}, {"openat": {"ENOENT": 3, "EACCES": 1}})],
            seconds=2.0,
            errors={"openat": {"ENOENT": 3, "EACCES": 1}},
        )
    )
    tab = table(tallies, ViewState())
    openat = tab.rows[0]
    assert (openat.name, openat.err_rate, openat.err_pct, openat.errno) == ("openat", 2.0, 40.0, "ENOENT")
    assert (tab.rows[1].err_rate, tab.rows[1].err_pct) == (0.0, 0.0)
    errnos = table(tallies, ViewState().drill(Scope(syscall="openat", errnos=True)))
    assert [(r.name, r.total, r.rate) for r in errnos.rows] == [("ENOENT", 3, 1.5), ("EACCES", 1, 0.5)]
    per_process = table(tallies, ViewState().drill(Scope(entity=7, errnos=True)))
    assert [(r.name, r.total) for r in per_process.rows] == [("ENOENT", 3), ("EACCES", 1)]


def test_errors_count_only_calls_made_while_the_exit_side_was_attached() -> None:
    tallies = Tallies()
    tallies.feed(snapshot({"openat": 90}, []))  # entry side only
    tallies.feed(snapshot({"openat": 10}, [], errors={"openat": {"ENOENT": 5}}))
    assert table(tallies, ViewState()).rows[0].err_pct == 50.0


def test_latency_columns_and_percentiles_from_log2_buckets() -> None:
    time = SyscallTime(calls=100, total_ns=5000, min_ns=3, max_ns=120, errors=0, hist=hist(b2=50, b3=49, b6=1))
    assert percentile(time, 0.50) == 8  # bucket 2 holds 4..7 ns: its upper edge
    assert percentile(time, 0.99) == 16
    assert percentile(time, 1.0) == 120  # bucket 6's edge (128) capped at the max seen
    tallies = Tallies()
    tallies.feed(snapshot({"read": 100}, [], errors={}, latency={"read": time}))
    tab = table(tallies, ViewState(latency=True))
    assert "P99" in tab.columns
    read = tab.rows[0]
    assert (read.time_ns, read.avg_ns, read.p50_ns, read.p99_ns, read.max_ns, read.pct_time) == (
        5000,
        50.0,
        8,
        16,
        120,
        100.0,
    )
    assert "P99" not in table(tallies, ViewState(latency=False)).columns


def test_switching_breakdown_restarts_the_rows_but_not_the_syscall_totals() -> None:
    tallies = two_intervals()
    tallies.feed(snapshot({"getppid": 5}, [row(77, "t1", {"getppid": 5})], by="thread"))
    assert tallies.entities_by == "thread"
    assert [r.ident for r in table(tallies, ViewState(view="thread")).rows] == [77]
    assert table(tallies, ViewState()).rows[0].total == 1205


def test_hostile_names_are_escaped_in_rows() -> None:
    tallies = Tallies()
    tallies.feed(snapshot({"read": 1}, [row(5, "\x1b[31mevil\n", {"read": 1})]))
    assert table(tallies, ViewState(view="process")).rows[0].name == "\\033[31mevil\\n"


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (99_999, "99999"), (100_000, "100.0k"), (123_456, "123.5k"), (999_960, "1.0M"), (5_600_000, "5.6M")],
)
def test_humanised_counts(value: int, text: str) -> None:
    assert human_count(value) == text


def test_humanised_rates_durations_and_sparklines() -> None:
    assert [human_rate(r) for r in (0.0, 2.5, 7.0, 150.4, 123_456.0)] == ["0", "2.5", "7", "150", "123.5k"]
    assert [human_ns(v) for v in (850, 12_345, 4_500_000, 1_230_000_000)] == ["850ns", "12.3µs", "4.5ms", "1.23s"]
    assert sparkline((0.0, 5.0, 10.0)) == " ▄█"
    assert sparkline((0.0, 0.0)) == ""


def test_keys_decode_escape_sequences_and_lone_escape() -> None:
    assert decode("q") == ["q"]
    assert decode("\x1b[A\x1b[B\r\x7f") == ["up", "down", "enter", "backspace"]
    assert decode("\x1b") == ["escape"]
    assert decode("\x1b[17~<\x1b[5~\x1b[99~x") == ["f6", "<", "pgup", "x"]
    assert decode("\x03") == ["ctrl-c"]


def status() -> Status:
    return Status(now=NOW, uptime_s=75.0, interval_s=1.0, filters="--comm w", cpu_pct=0.5)


def test_batch_frame_is_plain_text_with_exact_numbers() -> None:
    tallies = Tallies()
    tallies.feed(snapshot({"getppid": 1_234_567, "close": 3}, [], notes={"untracked_forks": 2}))
    state = ViewState()
    text = batch_frame(tallies, state, status(), table(tallies, state), 4)
    assert text == (
        "frame 4\n"
        "syscount top  01:02:03  up 0:01:15  every 1 s  syscount CPU 0.5%\n"
        "calls/s 1234570.0  errors/s - (press L)  total 1234570  latency off\n"
        "lost: untracked forks 2  filters: --comm w\n"
        "view: syscalls  sort: RATE desc\n"
        "SYSCALL      RATE   TOTAL ERR/s ERR% ERRNO\n"
        "getppid 1234567.0 1234567     -    - -\n"
        "close         3.0       3     -    - -\n"
        "\n"
    )
    assert "\x1b" not in text


def test_screen_marks_the_sort_column_humanises_and_refuses_a_tiny_terminal() -> None:
    tallies = Tallies()
    tallies.feed(snapshot({"getppid": 1_234_567, "close": 3}, []))
    screen = Screen()
    frame = render(tallies, screen, status(), table(tallies, screen.view), (100, 20)).plain
    lines = frame.splitlines()
    assert lines[4].split() == ["SYSCALL", "RATE▼", "TOTAL", "ERR/s", "ERR%", "ERRNO", "TREND"]
    assert lines[5].split()[:3] == ["getppid", "1.2M", "1.2M"]
    small = render(tallies, screen, status(), table(tallies, screen.view), (40, 8)).plain
    assert small.startswith("terminal too small (40x8)")
