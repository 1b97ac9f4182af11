"""How a comparison is shown: a table for people, JSON for tools (schema in docs/output.md)."""

from __future__ import annotations

from typing import Any

from ..names.escape import escape_text
from .diff import Comparison, Offender, Options, Row, Side
from .load import Recording

DIFF_SCHEMA = 1  # version of the JSON document below


def text(base: Recording, new: Recording, comparison: Comparison, options: Options) -> str:
    lines = [_describe("BASE", base), _describe("NEW", new)]
    lines += _notes("BASE", base) + _notes("NEW", new)
    table = _table(comparison.rows, options, timed=_timed(base, new), errors=_errors_known(base, new))
    lines += table if comparison.rows else ["(no system calls to compare)"]
    if comparison.hidden:
        lines.append(f"({comparison.hidden} rows with fewer than {options.min_calls} calls on both sides hidden)")
    return "\n".join(lines) + "\n"


def offender_lines(comparison: Comparison, options: Options) -> list[str]:
    """One line per syscall that trips the gate, for stderr."""
    return [_offender_line(offender, options) for offender in comparison.offenders]


def _offender_line(offender: Offender, options: Options) -> str:
    row = offender.row
    name = _name(row)
    unit = " calls/s" if options.per_second else " calls"
    if offender.reason == "new":
        return f"syscount diff: new syscall {name}: {_number(row.new_value, options)}{unit} (--fail-on-new)"
    return (
        f"syscount diff: {name} grew {_pct(row.change_pct)}: {_number(row.base_value, options)}"
        f" -> {_number(row.new_value, options)}{unit} (above --fail-above {options.fail_above:g})"
    )


def _describe(which: str, recording: Recording) -> str:
    return f"{which + ':':5} {escape_text(recording.path)}  {recording.duration_s:.3f} s, {recording.source}"


def _notes(which: str, recording: Recording) -> list[str]:
    return [f"{which + ':':5} note: {note}" for note in recording.notes]


def _timed(base: Recording, new: Recording) -> bool:
    return base.summary.latency is not None or new.summary.latency is not None


def _errors_known(base: Recording, new: Recording) -> bool:
    return base.summary.errors_seen or new.summary.errors_seen


def _table(rows: list[Row], options: Options, *, timed: bool, errors: bool) -> list[str]:
    unit = "/S" if options.per_second else ""
    header = ["SYSCALL", f"BASE{unit}", f"NEW{unit}", "CHANGE", "CHANGE%"]
    if options.by:
        header.insert(0, options.by.upper())
    if errors:
        header += ["ERR BASE", "ERR NEW"]
    if timed:
        header += ["TIME BASE ms", "TIME NEW ms"]
    cells = [header] + [_cells(row, options, timed=timed, errors=errors) for row in rows]
    widths = [max(len(cell[i]) for cell in cells) for i in range(len(header))]
    left = 2 if options.by else 1  # names are left-aligned, numbers right-aligned
    return [
        "  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cell, widths, strict=True)))
        for cell in cells
    ]


def _cells(row: Row, options: Options, *, timed: bool, errors: bool) -> list[str]:
    status = {"new": "new", "gone": "gone"}.get(row.status, _pct(row.change_pct))
    change = _number(row.change, options)
    cells = [
        escape_text(row.syscall),
        _number(row.base_value, options),
        _number(row.new_value, options),
        change if change.startswith("-") or row.change == 0 else "+" + change,
        status,
    ]
    if options.by:
        cells.insert(0, escape_text(row.group or ""))
    if errors:
        cells += [_optional(row.base.errors), _optional(row.new.errors)]
    if timed:
        cells += [_ms(row.base.time_ns), _ms(row.new.time_ns)]
    return cells


def _name(row: Row) -> str:
    name = escape_text(row.syscall)
    return f"{escape_text(row.group)}: {name}" if row.group is not None else name


def _number(value: float, options: Options) -> str:
    return f"{value:.2f}" if options.per_second else str(round(value))


def _pct(pct: float | None) -> str:
    return "-" if pct is None else f"{pct:+.1f}%"


def _optional(value: int | None) -> str:
    return "-" if value is None else str(value)


def _ms(time_ns: int | None) -> str:
    return "-" if time_ns is None else f"{time_ns / 1e6:.3f}"


def document(base: Recording, new: Recording, comparison: Comparison, options: Options) -> dict[str, Any]:
    """The JSON form: the same numbers, exact (calls are integers; rates only with --per-second)."""
    return {
        "schema": DIFF_SCHEMA,
        "base": _recording(base),
        "new": _recording(new),
        "per_second": options.per_second,
        "by": options.by,
        "min_calls": options.min_calls,
        "rows": [_row(row, options) for row in comparison.rows],
        "hidden": comparison.hidden,
        "gate": {
            "fail_above_pct": options.fail_above,
            "fail_on_new": options.fail_on_new,
            "failed": comparison.failed,
            "offenders": [
                {"syscall": o.row.syscall, "group": o.row.group, "reason": o.reason} for o in comparison.offenders
            ],
        },
    }


def _recording(recording: Recording) -> dict[str, Any]:
    return {
        "path": recording.path,
        "schema": recording.schema,
        "duration_s": round(recording.duration_s, 6),
        "source": "intervals" if recording.summed else "summary",
        "intervals": recording.interval_count,
        "notes": recording.notes,
    }


def _row(row: Row, options: Options) -> dict[str, Any]:
    item: dict[str, Any] = {"syscall": row.syscall}
    if options.by:
        item["group"] = row.group
    pct = row.change_pct
    item.update(
        status=row.status,
        base=_side(row.base, row.base_value, options),
        new=_side(row.new, row.new_value, options),
        change=round(row.change, 6) if options.per_second else round(row.change),
        change_pct=None if pct is None else round(pct, 3),
    )
    return item


def _side(side: Side, value: float, options: Options) -> dict[str, Any]:
    item: dict[str, Any] = {"calls": side.calls, "errors": side.errors, "time_ns": side.time_ns}
    if options.per_second:
        item["per_s"] = round(value, 6)
    return item
