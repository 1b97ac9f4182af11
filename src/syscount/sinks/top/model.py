"""The view model of ``syscount top``: pure data in, rows out; no terminal, no kernel.

``Tallies`` accumulates interval snapshots: cumulative calls, errors and times since
the view started, and the last interval's figures for rates. ``ViewState`` is what
the person chose with keys (view, drill-down, sort, filter). ``table()`` turns both
into the rows of one screen. The interactive screen and the batch renderer both draw
from ``table()``, so they cannot disagree.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from ...model import BreakdownRow, Snapshot, SyscallTime
from ...names.escape import escape_text

VIEWS = ("syscall", "process", "thread", "comm", "cgroup")
SPARK_INTERVALS = 12  # the trend column shows the last this many intervals


@dataclass
class Tally:
    """Calls of one syscall (or of one syscall in one process) over some span."""

    calls: int = 0
    exit_calls: int = 0  # calls counted while the exit side was attached (errors seen)
    errors: dict[str, int] = field(default_factory=dict)  # errno name -> calls
    time: SyscallTime | None = None

    def add(self, calls: int, errors: dict[str, int] | None, time: SyscallTime | None) -> None:
        self.calls += calls
        if errors is not None:
            self.exit_calls += calls
            for errno, count in errors.items():
                self.errors[errno] = self.errors.get(errno, 0) + count
        if time is not None:
            self.time = time if self.time is None else self.time.merge(time)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


@dataclass
class Entity:
    """One row of a breakdown (process, thread, comm or cgroup) and its calls per syscall."""

    ident: int
    label: str
    container: str | None
    syscalls: dict[str, Tally] = field(default_factory=dict)
    all: Tally = field(default_factory=Tally)  # every syscall together, kept as rows are added

    def add(self, row: BreakdownRow, errors_seen: bool) -> None:
        syscalls = self.syscalls
        for name, calls in row.counts.items():
            errors = row.errors.get(name, {}) if errors_seen else None
            tally = syscalls.get(name)
            if tally is None:
                tally = syscalls[name] = Tally()
            tally.add(calls, errors, None)
            self.all.add(calls, errors, None)


class Interval(NamedTuple):
    """The last interval: the figures rates are made of (breakdown rows as read)."""

    elapsed_s: float
    syscalls: dict[str, Tally]
    entities: dict[int, BreakdownRow]


class Tallies:
    """Everything counted since the view started, fed one interval snapshot at a time."""

    def __init__(self) -> None:
        self.syscalls: dict[str, Tally] = {}
        self.entities: dict[int, Entity] = {}
        self.entities_by: str | None = None  # the breakdown the entities are rows of
        self.notes: dict[str, int] = {}
        self.errors_seen = False  # the last interval saw returns (errors are known)
        self.latency_seen = False
        self.last = Interval(0.0, {}, {})
        self.history: deque[Interval] = deque(maxlen=SPARK_INTERVALS)
        self.elapsed_s = 0.0
        self.intervals = 0

    def feed(self, snapshot: Snapshot) -> None:
        errors = snapshot.errors if snapshot.errors_seen else None
        latency = snapshot.latency
        last_syscalls: dict[str, Tally] = {}
        for name, calls in snapshot.counts.items():
            by_errno = errors.get(name, {}) if errors is not None else None
            time = latency.get(name) if latency is not None else None
            self.syscalls.setdefault(name, Tally()).add(calls, by_errno, time)
            last_syscalls.setdefault(name, Tally()).add(calls, by_errno, time)
        last_entities = self._feed_breakdown(snapshot) if snapshot.breakdown is not None else {}
        for key, value in snapshot.notes.items():
            self.notes[key] = self.notes.get(key, 0) + value
        self.errors_seen = snapshot.errors_seen
        self.latency_seen = latency is not None
        self.last = Interval(snapshot.interval_s, last_syscalls, last_entities)
        self.history.append(self.last)
        self.elapsed_s += snapshot.interval_s
        self.intervals += 1

    def _feed_breakdown(self, snapshot: Snapshot) -> dict[int, BreakdownRow]:
        assert snapshot.breakdown is not None
        if snapshot.breakdown.by != self.entities_by:
            # Another breakdown was attached: its rows start from here.
            self.entities = {}
            self.entities_by = snapshot.breakdown.by
            self.history.clear()
        errors_seen = snapshot.errors_seen
        last: dict[int, BreakdownRow] = {}
        for row in snapshot.breakdown.rows:
            entity = self.entities.get(row.id)
            if entity is None:
                entity = self.entities[row.id] = Entity(row.id, row.label, row.container)
            entity.label = row.label  # a process may rename itself (exec, prctl)
            entity.add(row, errors_seen)
            last[row.id] = row
        return last


def _row_tally(row: BreakdownRow | None, syscall: str | None, errors_seen: bool) -> Tally | None:
    """A last-interval breakdown row (or one syscall of it) as a tally."""
    if row is None:
        return None
    tally = Tally()
    for name, calls in row.counts.items():
        if syscall is None or name == syscall:
            tally.add(calls, row.errors.get(name, {}) if errors_seen else None, None)
    return tally


# --- what the person chose -------------------------------------------------------------


class Scope(NamedTuple):
    """What a drill-down narrowed the rows to; both None: the whole view."""

    syscall: str | None = None
    entity: int | None = None
    errnos: bool = False  # rows per errno of this scope


@dataclass(frozen=True)
class ViewState:
    view: str = "syscall"
    scope: Scope = field(default_factory=Scope)
    back: tuple[Scope, ...] = ()  # the scopes Backspace returns to
    sort: str = "RATE"
    reverse: bool = False
    filter: str = ""
    latency: bool = False

    def switch(self, view: str) -> ViewState:
        return replace(self, view=view, scope=Scope(), back=())

    def drill(self, scope: Scope) -> ViewState:
        return replace(self, scope=scope, back=(*self.back, self.scope))

    def up(self) -> ViewState:
        if not self.back:
            return self
        return replace(self, scope=self.back[-1], back=self.back[:-1])


# --- rows -------------------------------------------------------------------------------


class Row(NamedTuple):
    key: str | int  # syscall name, entity id or errno name: what Enter drills into
    kind: str  # "syscall", "entity" or "errno"
    name: str  # shown (escaped when a process controls it)
    ident: int | None  # PID, TID or cgroup id
    container: str | None
    rate: float  # calls/s over the last interval
    total: int  # calls since the view started
    err_rate: float | None  # None: errors not seen (no exit program)
    err_pct: float | None
    errno: str  # the most frequent errno
    top_syscall: str  # entity rows: the syscall it makes most
    time_ns: int | None
    avg_ns: float | None
    p50_ns: int | None
    p99_ns: int | None
    max_ns: int | None
    pct_time: float | None
    trend: tuple[float, ...]  # rates of the last intervals, oldest first (see with_trends)


class Table(NamedTuple):
    title: str  # e.g. "syscall ▸ getppid ▸ processes"
    columns: tuple[str, ...]
    rows: list[Row]
    sort: str  # the column actually sorted by


ENTITY_ID = {"process": "PID", "thread": "TID", "comm": "", "cgroup": "CGID"}
ENTITY_NAME = {"process": "COMMAND", "thread": "THREAD", "comm": "COMM", "cgroup": "CGROUP"}
ERROR_COLUMNS = ("ERR/s", "ERR%", "ERRNO")
LATENCY_COLUMNS = ("TIME", "AVG", "P50", "P99", "MAX", "%TIME")
SORTABLE = ("RATE", "TOTAL", "ERR/s", "ERR%", "TIME", "AVG", "P50", "P99", "MAX", "%TIME", "PID", "TID", "CGID")


def table(tallies: Tallies, state: ViewState) -> Table:
    """The rows of one screen for what the person chose (not yet cut to the screen's height)."""
    scope = state.scope
    by = tallies.entities_by or "process"
    if scope.errnos:
        title, columns, rows = _errno_table(tallies, scope)
        title += "" if tallies.errors_seen else " (none seen: press L to attach the exit side)"
    elif scope.syscall is not None and scope.entity is None:
        title = f"{scope.syscall} ▸ {by}es" if by == "process" else f"{scope.syscall} ▸ {by}s"
        columns = tuple(c for c in _entity_columns(by) if c != "TOP SYSCALL")
        rows = _entity_rows(tallies, by, scope.syscall)
    elif scope.entity is not None:
        entity = tallies.entities.get(scope.entity)
        label = escape_text(entity.label) if entity else "?"
        title = f"{by} {scope.entity} {label} ▸ syscalls"
        columns = _syscall_columns(latency=False)
        rows = _entity_syscall_rows(tallies, scope.entity)
    elif state.view == "syscall":
        title, columns = "syscalls", _syscall_columns(latency=state.latency and tallies.latency_seen)
        rows = _syscall_rows(tallies)
    else:
        title, columns = (f"{by}es" if by == "process" else f"{by}s"), _entity_columns(by)
        rows = _entity_rows(tallies, by, None)
    if state.filter:
        needle = state.filter.lower()
        rows = [row for row in rows if needle in row.name.lower() or needle in str(row.ident or "")]
    sort = state.sort if state.sort in columns and state.sort in SORTABLE else "RATE"
    # Two stable sorts: names A→Z, then the column (ties: rate, then total).
    rows.sort(key=lambda row: row.name)
    rows.sort(key=_sort_key(sort), reverse=not state.reverse)
    return Table(title, columns, rows, sort)


def finish_rows(tallies: Tallies, scope: Scope, rows: list[Row]) -> list[Row]:
    """The rows with their trends and top syscalls: computed only for the rows shown
    (a screenful, not 1000 every frame)."""
    history = tallies.history
    done = []
    for shown in rows:
        row = shown
        if row.kind == "syscall" and scope.entity is None:
            name = str(row.key)
            trend = tuple(_rate(i.syscalls[name].calls if name in i.syscalls else 0, i.elapsed_s) for i in history)
        elif row.kind == "syscall":
            assert scope.entity is not None
            trend = tuple(_rate(_calls(i, scope.entity, str(row.key)), i.elapsed_s) for i in history)
        elif row.kind == "entity":
            assert isinstance(row.key, int)
            trend = tuple(_rate(_calls(i, row.key, scope.syscall), i.elapsed_s) for i in history)
            entity = tallies.entities.get(row.key)
            if scope.syscall is None and entity is not None and entity.syscalls:
                top = max(entity.syscalls.items(), key=lambda kv: (kv[1].calls, kv[0]))[0]
                row = row._replace(top_syscall=top)
        else:
            trend = ()
        done.append(row._replace(trend=trend))
    return done


def _syscall_columns(*, latency: bool) -> tuple[str, ...]:
    return ("SYSCALL", "RATE", "TOTAL", *ERROR_COLUMNS, *(LATENCY_COLUMNS if latency else ()), "TREND")


def _entity_columns(by: str) -> tuple[str, ...]:
    ident = (ENTITY_ID[by],) if ENTITY_ID[by] else ()
    container = ("CONTAINER",) if by == "cgroup" else ()
    return (*ident, ENTITY_NAME[by], *container, "RATE", "TOTAL", *ERROR_COLUMNS, "TOP SYSCALL", "TREND")


# The Row field behind each numeric column.
COLUMN_FIELDS = {
    "RATE": "rate",
    "TOTAL": "total",
    "ERR/s": "err_rate",
    "ERR%": "err_pct",
    "TIME": "time_ns",
    "AVG": "avg_ns",
    "P50": "p50_ns",
    "P99": "p99_ns",
    "MAX": "max_ns",
    "%TIME": "pct_time",
}


def _sort_key(column: str) -> Callable[[Row], tuple[float, float, float]]:
    attr = COLUMN_FIELDS.get(column, "ident")

    def key(row: Row) -> tuple[float, float, float]:
        value = getattr(row, attr)
        return (-1.0 if value is None else float(value), row.rate, row.total)

    return key


def _rate(calls: int, elapsed_s: float) -> float:
    return calls / elapsed_s if elapsed_s > 0 else 0.0


def _errors(total: Tally, last: Tally | None, elapsed_s: float, seen: bool) -> tuple[float | None, float | None, str]:
    if not total.exit_calls:  # counted only while the exit side was not attached
        return None, None, ""
    err_rate = _rate(last.error_count, elapsed_s) if last is not None else 0.0
    err_pct = 100.0 * total.error_count / total.exit_calls if total.exit_calls else 0.0
    errno = max(total.errors.items(), key=lambda kv: (kv[1], kv[0]))[0] if total.errors else ""
    return err_rate, err_pct, errno


def _syscall_rows(tallies: Tallies) -> list[Row]:
    last = tallies.last
    all_time = sum(t.time.total_ns for t in tallies.syscalls.values() if t.time is not None)
    rows = []
    for name, total in tallies.syscalls.items():
        err_rate, err_pct, errno = _errors(total, last.syscalls.get(name), last.elapsed_s, tallies.errors_seen)
        rows.append(
            Row(
                name,
                "syscall",
                name,
                None,
                None,
                _rate(last.syscalls[name].calls if name in last.syscalls else 0, last.elapsed_s),
                total.calls,
                err_rate,
                err_pct,
                errno,
                "",
                *_latency(total.time, all_time),
                (),
            )
        )
    return rows


def _latency(
    time: SyscallTime | None, all_ns: int
) -> tuple[int | None, float | None, int | None, int | None, int | None, float | None]:
    if time is None or not time.timed:  # e.g. exit_group: counted, never returns
        return None, None, None, None, None, None
    pct = 100.0 * time.total_ns / all_ns if all_ns else 0.0
    return time.total_ns, time.avg_ns, percentile(time, 0.50), percentile(time, 0.99), time.max_ns, pct


def percentile(time: SyscallTime, fraction: float) -> int:
    """The upper edge of the log2 bucket holding that fraction of the timed calls, capped at MAX.

    Bucket k holds 2^k <= d < 2^(k+1) ns (bucket 0: d < 2), so the true value is below
    the edge and at most twice below it."""
    timed = time.timed
    if not timed:
        return 0
    wanted = max(1, -(-int(fraction * timed * 1000) // 1000))  # ceil, without float surprises
    seen = 0
    for bucket, count in enumerate(time.hist):
        seen += count
        if seen >= wanted:
            edge = 2 << bucket
            return min(edge, time.max_ns) if time.max_ns else edge
    return time.max_ns


def _entity_rows(tallies: Tallies, by: str, syscall: str | None) -> list[Row]:
    last = tallies.last
    rows = []
    for ident, entity in tallies.entities.items():
        if syscall is None:
            total = entity.all
        elif syscall in entity.syscalls:
            total = entity.syscalls[syscall]
        else:
            continue
        now = _row_tally(last.entities.get(ident), syscall, tallies.errors_seen)
        err_rate, err_pct, errno = _errors(total, now, last.elapsed_s, tallies.errors_seen)
        rows.append(
            Row(
                ident,
                "entity",
                escape_text(entity.label),
                ident if by != "comm" else None,
                entity.container,
                _rate(now.calls if now else 0, last.elapsed_s),
                total.calls,
                err_rate,
                err_pct,
                errno,
                "",  # TOP SYSCALL: see finish_rows
                None,
                None,
                None,
                None,
                None,
                None,
                (),
            )
        )
    return rows


def _calls(interval: Interval, ident: int, syscall: str | None) -> int:
    row = interval.entities.get(ident)
    if row is None:
        return 0
    return row.total if syscall is None else row.counts.get(syscall, 0)


def _entity_syscall_rows(tallies: Tallies, ident: int) -> list[Row]:
    entity = tallies.entities.get(ident)
    if entity is None:
        return []
    last = tallies.last.entities.get(ident)
    elapsed = tallies.last.elapsed_s
    rows = []
    for name, total in entity.syscalls.items():
        now = _row_tally(last, name, tallies.errors_seen)
        err_rate, err_pct, errno = _errors(total, now, elapsed, tallies.errors_seen)
        rate = _rate(now.calls if now else 0, elapsed)
        rows.append(
            Row(name, "syscall", name, None, None, rate, total.calls, err_rate, err_pct, errno, "", *_NO_TIME, ())
        )
    return rows


_NO_TIME = (None, None, None, None, None, None)


def _errno_table(tallies: Tallies, scope: Scope) -> tuple[str, tuple[str, ...], list[Row]]:
    """Rows per errno of a syscall, an entity, or a syscall in an entity."""
    total, last, title = _scope_tallies(tallies, scope)
    elapsed = tallies.last.elapsed_s
    rows = []
    for errno, count in total.errors.items():
        rate = _rate(last.errors.get(errno, 0), elapsed)
        pct = 100.0 * count / total.exit_calls if total.exit_calls else 0.0
        rows.append(Row(errno, "errno", errno, None, None, rate, count, None, pct, errno, "", *_NO_TIME, ()))
    return f"{title} ▸ errnos", ("ERRNO", "RATE", "TOTAL", "ERR%"), rows


def _scope_tallies(tallies: Tallies, scope: Scope) -> tuple[Tally, Tally, str]:
    """The cumulative and last-interval tallies a scope covers, and its title."""
    if scope.entity is None:
        name = scope.syscall or ""
        return tallies.syscalls.get(name, Tally()), tallies.last.syscalls.get(name, Tally()), name
    entity = tallies.entities.get(scope.entity)
    last = tallies.last.entities.get(scope.entity)
    title = f"{tallies.entities_by} {scope.entity}"
    now = _row_tally(last, scope.syscall, tallies.errors_seen) or Tally()
    if entity is None:
        return Tally(), Tally(), title
    if scope.syscall is None:
        return entity.all, now, title
    title += f" ▸ {scope.syscall}"
    return entity.syscalls.get(scope.syscall, Tally()), now, title


def drill_into(state: ViewState, row: Row) -> ViewState:
    """Enter on a row: a syscall shows the processes making it, a process its syscalls,
    a syscall inside a process its errnos."""
    scope = state.scope
    if row.kind == "errno":
        return state
    if row.kind == "syscall":
        assert isinstance(row.key, str)
        if scope.entity is not None:
            return state.drill(Scope(row.key, scope.entity, errnos=True))
        return state.drill(Scope(syscall=row.key))
    assert isinstance(row.key, int)
    if scope.syscall is not None:
        return state.drill(Scope(scope.syscall, row.key, errnos=True))
    return state.drill(Scope(entity=row.key))


def errnos_of(state: ViewState, row: Row) -> ViewState:
    """``e`` on a row: its errno view."""
    scope = state.scope
    if row.kind == "errno":
        return state
    if row.kind == "syscall":
        assert isinstance(row.key, str)
        return state.drill(Scope(row.key, scope.entity, errnos=True))
    assert isinstance(row.key, int)
    return state.drill(Scope(scope.syscall, row.key, errnos=True))


def sort_step(state: ViewState, columns: tuple[str, ...], step: int) -> ViewState:
    """``<`` / ``>``: the previous or next sortable column of this table."""
    sortable = [c for c in columns if c in SORTABLE]
    current = sortable.index(state.sort) if state.sort in sortable else sortable.index("RATE")
    return replace(state, sort=sortable[(current + step) % len(sortable)])
