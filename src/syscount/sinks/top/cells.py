"""Numbers as ``syscount top`` shows them: humanised on the screen, exact in batch mode."""

from __future__ import annotations

from .model import COLUMN_FIELDS, Row

EXACT_UP_TO = 99_999
_UNITS = ("k", "M", "G", "T", "P")
SPARKS = " ▁▂▃▄▅▆▇█"
RIGHT = frozenset(
    {"PID", "TID", "CGID", "RATE", "TOTAL", "ERR/s", "ERR%", *("TIME", "AVG", "P50", "P99", "MAX", "%TIME")}
)


def human_count(value: int) -> str:
    """Exact up to 99 999, then 123.4k, 5.6M, 7.8G (one decimal, never "1000.0k")."""
    if value <= EXACT_UP_TO:
        return str(value)
    scaled = float(value)
    for unit in _UNITS:
        scaled /= 1000
        if round(scaled, 1) < 1000 or unit == _UNITS[-1]:
            return f"{scaled:.1f}{unit}"
    raise AssertionError("unreachable")


def human_rate(rate: float) -> str:
    if rate >= EXACT_UP_TO + 0.5:
        return human_count(round(rate))
    if rate >= 100 or rate == int(rate):
        return str(round(rate))
    return f"{rate:.1f}"


def human_ns(ns: float) -> str:
    """850ns, 12.3µs, 4.5ms, 1.23s."""
    if ns < 1_000:
        return f"{ns:.0f}ns"
    if ns < 1_000_000:
        return f"{ns / 1e3:.1f}µs"
    if ns < 1_000_000_000:
        return f"{ns / 1e6:.1f}ms"
    return f"{ns / 1e9:.2f}s"


def sparkline(rates: tuple[float, ...]) -> str:
    """One character per interval, scaled to the row's own peak."""
    peak = max(rates, default=0.0)
    if peak <= 0:
        return ""
    top = len(SPARKS) - 1
    return "".join(SPARKS[0 if r <= 0 else max(1, round(top * r / peak))] for r in rates)


def cell(row: Row, column: str, *, exact: bool) -> str:
    """The text of one cell; "-" where the figure is not known (e.g. errors without exits)."""
    count = str if exact else human_count
    rate = (lambda r: f"{r:.1f}") if exact else human_rate
    ns = (lambda v: f"{round(v)}ns") if exact else human_ns
    value = _value(row, column)
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if column == "TOTAL":
        return count(int(value))
    if column in ("RATE", "ERR/s"):
        return rate(value)
    if column in ("ERR%", "%TIME"):
        return f"{value:.1f}"
    if column in ("TIME", "AVG", "P50", "P99", "MAX"):
        return ns(value)
    return str(value)


def _value(row: Row, column: str) -> str | int | float | None:
    if column in ("PID", "TID", "CGID"):
        return row.ident
    if column == "TREND":
        return sparkline(row.trend)
    if column == "CONTAINER":
        return row.container or ""
    if column == "ERRNO":
        return (row.errno or "-") if row.err_pct is not None else None
    if column == "TOP SYSCALL":
        return row.top_syscall
    attr = COLUMN_FIELDS.get(column)
    value: str | int | float | None = getattr(row, attr) if attr else row.name
    return value


def layout(columns: tuple[str, ...], texts: list[list[str]], width: int | None) -> list[int]:
    """Column widths: each as wide as its widest cell; the name column gives way when
    ``width`` is too narrow (names are cut, numbers never)."""
    widths = [max([len(c), *(len(t[i]) for t in texts)]) for i, c in enumerate(columns)]
    if width is not None:
        name = next((i for i, c in enumerate(columns) if c not in RIGHT and c != "TREND"), 0)
        spare = width - (sum(widths) + len(widths) - 1)
        if spare < 0:
            widths[name] = max(len(columns[name]), widths[name] + spare)
    return widths


def line(cells: list[str], columns: tuple[str, ...], widths: list[int]) -> str:
    parts = []
    for text, column, size in zip(cells, columns, widths, strict=True):
        shown = text if len(text) <= size else text[: max(size - 1, 0)] + "…"
        parts.append(shown.rjust(size) if column in RIGHT else shown.ljust(size))
    return " ".join(parts).rstrip()
