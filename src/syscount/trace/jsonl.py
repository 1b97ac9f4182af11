"""``syscount trace --format json``: one JSON object per line (schema in docs/trace.md).

    {"time":"2026-11-24T22:51:37.123456Z","pid":1234,"tid":1234,"comm":"ls","syscall":"openat",
     "args":{"dfd":"AT_FDCWD","filename":"/etc/ld.so.cache","flags":"O_RDONLY|O_CLOEXEC"},
     "ret":3,"errno":null,"duration_ns":12000}

Numbers stay numbers; named values (flags, AT_FDCWD, signals) are strings; pointers
are hex strings (null for NULL); strings read from user memory are JSON strings
(non-UTF-8 bytes as ``\\xNN`` escapes), arrays are lists. A loss report is an object
with ``lost`` and no ``syscall``; the last line has ``"final": true``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..names.errnos import errno_name
from ..names.escape import decode_name, unicode_safe
from . import values as v
from .captured import captured_json, was_truncated
from .compile import Call
from .describe import DISPLAY, MEMOS, NUMBERS, SYMBOLIC, argument_segments
from .kinds import Kind
from .layout import Clock, Comm, IfOk, Lit, Micros, Named, Number, Pointer, Segment, Text
from .record import ARG0, DURATION, PID, RET, START, TID
from .sink import Loss, Totals
from .strings import CString, StringArray, Value


def quoted(text: str) -> str:
    return json.dumps(text)


# json.dumps(value, separators=(",", ":")), without building an encoder per call (~3 µs).
compact: Callable[[Any], str] = json.JSONEncoder(separators=(",", ":")).encode


def string_json(value: CString) -> str:
    return json.dumps(unicode_safe(decode_name(value.data)))


def _iso_second(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def _quoting(decoder: Callable[[int], str]) -> Callable[[int], str]:
    return lambda value: quoted(decoder(value))


def pointer(value: int) -> str:
    return f'"{value:#x}"' if value else "null"


def _comm(raw: bytes) -> str:
    return quoted(unicode_safe(v.comm_name(raw)))


def _errno(ret: int) -> str:
    return quoted(errno_name(-ret))


# The text sink's decoders, their results as JSON strings (made once: memos are shared by identity).
QUOTED = {kind: (f"J{name}", _quoting(decoder)) for kind, (name, decoder) in MEMOS.items()}
_MINUS_ONE = "-1"
# The event schema's version (docs/trace.md, "Versions"), in the final line (as count's "schema").
SCHEMA = 3


def _names(call: Call) -> list[Segment]:
    """``,"names":{"op":"FUTEX_WAKE_PRIVATE"}``: the symbolic constants' names, when the call has any."""
    named = [(index, arg.name, kind) for index, arg, kind in call.args if kind in SYMBOLIC]
    segments: list[Segment] = []
    for n, (index, name, kind) in enumerate(named):
        memo, decoder, _ = SYMBOLIC[kind]
        segments += [
            Lit((',"names":{' if n == 0 else ",") + f'"{name}":'),
            Named(ARG0 + index, f"J{memo}", _quoting(decoder)),
        ]
    return [*segments, Lit("}")] if segments else []


class JsonLine:
    """The JSON LineFormat (see the module docstring)."""

    def __init__(self, wall_offset_ns: int) -> None:
        self.wall_offset_ns = wall_offset_ns

    def segments(self, call: Call) -> list[Segment]:
        segments: list[Segment] = [
            Lit('{"time":"'),
            Clock(_iso_second),
            Lit("."),
            Micros(START),
            Lit('Z","pid":'),
            Number(PID, Kind.ULONG),
            Lit(',"tid":'),
            Number(TID, Kind.ULONG),
            Lit(',"comm":'),
            Comm(_comm),
            Lit(f',"syscall":{quoted(call.name)},"args":{{'),
            *argument_segments(call, self._label, self._value),
            Lit("}"),
            *_names(call),
        ]
        if call.has_strings:
            segments.append(Text(6, Lit("")))  # the "truncated" list, when any
        if call.noreturn:
            return [*segments, Lit(',"ret":null,"errno":null,"duration_ns":null}\n')]
        return [
            *segments,
            Lit(',"ret":'),
            IfOk(Number(RET, Kind.ULONG), Lit(_MINUS_ONE)),
            Lit(',"errno":'),
            IfOk(Lit("null"), Named(RET, "ERRNO", _errno)),
            Lit(',"duration_ns":'),
            Number(DURATION, Kind.ULONG),
            Lit("}\n"),
        ]

    @staticmethod
    def _label(name: str, first: bool) -> str:
        return f'"{name}":' if first else f',"{name}":'

    @staticmethod
    def _value(kind: Kind, index: int) -> Segment:
        field = ARG0 + index
        if kind in NUMBERS:
            return Number(field, kind)
        if kind in SYMBOLIC or kind in DISPLAY:  # the number; its name goes to "names"
            return Number(field, (SYMBOLIC | DISPLAY)[kind][2])
        if kind in QUOTED:
            name, decoder = QUOTED[kind]
            return Named(field, name, decoder)
        null = Pointer(field, "null", '"')
        return Text(index, null) if kind in (Kind.STRING, Kind.ARGV, Kind.CAPTURED) else null

    def strings(self, call: Call, values: Mapping[int, Value], record: tuple[Any, ...]) -> list[str]:
        rendered = [""] * 7
        truncated = []
        for index, arg, kind in call.args:
            if kind is Kind.CAPTURED:
                shown = captured_json(call.name, arg.name, values.get(index), record)
                rendered[index] = compact(shown) if shown is not None else pointer(record[ARG0 + index])
                if shown is not None and was_truncated(values.get(index)):
                    truncated.append(arg.name)
                continue
            if kind not in (Kind.STRING, Kind.ARGV):
                continue
            value = values.get(index)
            if isinstance(value, CString):
                rendered[index] = string_json(value)
                if value.truncated:
                    truncated.append(arg.name)
            elif isinstance(value, StringArray):
                rendered[index] = "[" + ",".join(string_json(item) for item in value.items) + "]"
                if value.more or any(item.truncated for item in value.items):
                    truncated.append(arg.name)
            else:
                rendered[index] = pointer(record[ARG0 + index])
        if truncated:
            rendered[6] = ',"truncated":' + json.dumps(truncated, separators=(",", ":"))
        return rendered

    def loss_line(self, loss: Loss) -> str:
        record = {"time": _now(), "lost": loss.lost, "lost_total": loss.total}
        return json.dumps(record, separators=(",", ":")) + "\n"

    def final_line(self, totals: Totals) -> str:
        record: dict[str, Any] = {
            "time": _now(),
            "final": True,
            "schema": SCHEMA,
            "events": totals.events,
            "lost": totals.lost,
            "calls": totals.calls,
            "duration_s": round(totals.duration_s, 6),
            "lost_by_cpu": {str(cpu): n for cpu, n in totals.lost_by_cpu.items() if n},
            "no_storage": totals.no_storage,
        }
        if totals.untracked_forks:
            record["untracked_forks"] = totals.untracked_forks
        if totals.unwritten:
            record["unwritten"] = totals.unwritten
        return json.dumps(record, separators=(",", ":")) + "\n"


def _now() -> str:
    now = time.time_ns() // 1000
    return f"{_iso_second(now // 1000000)}.{now % 1000000:06d}Z"
