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

from ..decode import values as v
from ..decode.compile import Call, Part, expr, lit
from ..decode.kinds import Kind
from ..decode.record import ARG0, COMM, DURATION, PID, RET, START, TID
from ..decode.strings import CString, StringArray, Value
from ..syscalls.errnos import errno_name
from .events import Loss, Totals
from .events_text import MEMOS, OK, integer_expr, open_flags_index


def quoted(text: str) -> str:
    return json.dumps(text)


def _string(value: CString) -> str:
    return json.dumps(value.data.decode("utf-8", "backslashreplace"))


def _iso_second(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def _quoting(decoder: Callable[[int], str]) -> Callable[[int], str]:
    return lambda value: quoted(decoder(value))


def pointer(value: int) -> str:
    return f'"{value:#x}"' if value else "null"


class JsonLine:
    """The JSON LineFormat (see the module docstring)."""

    def __init__(self, wall_offset_ns: int) -> None:
        self.wall_offset_ns = wall_offset_ns

    def namespace(self) -> dict[str, Any]:
        names: dict[str, Any] = {
            "OFF": self.wall_offset_ns,
            "CLOCK": v.Memo(_iso_second),
            "COMM": v.Memo(lambda raw: quoted(v.comm_text(raw))),
            "ERRNO": v.Memo(lambda ret: quoted(errno_name(-ret))),
            "PTR": pointer,
            "EMPTY": "",
            "NULL": "null",
            "OPTMODE": v.Memo(lambda value: ',"mode":' + quoted(v.file_mode(value))),
        }
        for name, decoder in MEMOS.values():
            names[name] = v.Memo(_quoting(decoder))
        return names

    def statements(self) -> list[str]:
        return [f"us = (t[{START}] + OFF) // 1000"]

    def parts(self, call: Call) -> list[Part]:
        parts = [
            lit('{"time":"'),
            expr("CLOCK[us // 1000000]"),
            lit("."),
            expr("us % 1000000:06d"),
            lit('Z","pid":'),
            expr(f"t[{PID}]"),
            lit(',"tid":'),
            expr(f"t[{TID}]"),
            lit(',"comm":'),
            expr(f"COMM[t[{COMM}]]"),
            lit(f',"syscall":{quoted(call.name)},"args":{{'),
            *self._args(call),
            lit("}"),
        ]
        if call.has_strings:
            parts.append(expr("(S[6] if S else EMPTY)"))  # the "truncated" list, when any
        if call.noreturn:
            return [*parts, lit(',"ret":null,"errno":null,"duration_ns":null}\n')]
        return [
            *parts,
            lit(',"ret":'),
            expr(f"(t[{RET}] if {OK} else -1)"),
            lit(',"errno":'),
            expr(f"(NULL if {OK} else ERRNO[t[{RET}]])"),
            lit(',"duration_ns":'),
            expr(f"t[{DURATION}]"),
            lit("}\n"),
        ]

    def _args(self, call: Call) -> list[Part]:
        parts: list[Part] = []
        flags = open_flags_index(call)
        for index, arg, kind in call.args:
            field = f"t[{ARG0 + index}]"
            if kind is Kind.OPEN_MODE and flags is not None:
                mask = v.OPEN_NEEDS_MODE
                parts.append(expr(f"(OPTMODE[{field}] if t[{ARG0 + flags}] & {mask} else EMPTY)"))
                continue
            separator = "," if parts else ""
            parts.append(lit(f'{separator}"{arg.name}":'))
            parts.append(expr(self._value(kind, index, field)))
        return parts

    @staticmethod
    def _value(kind: Kind, index: int, field: str) -> str:
        number = integer_expr(kind, field)
        if number is not None:
            return number
        if kind in (Kind.STRING, Kind.ARGV):
            return f"(S[{index}] if S else PTR({field}))"
        if kind is Kind.OPEN_MODE:
            return f"MODE[{field}]"
        if kind in MEMOS:
            return f"{MEMOS[kind][0]}[{field}]"
        return f"PTR({field})"

    def strings(self, call: Call, values: Mapping[int, Value], record: tuple[Any, ...]) -> list[str]:
        rendered = [""] * 7
        truncated = []
        for index, arg, kind in call.args:
            if kind not in (Kind.STRING, Kind.ARGV):
                continue
            value = values.get(index)
            if isinstance(value, CString):
                rendered[index] = _string(value)
                if value.truncated:
                    truncated.append(arg.name)
            elif isinstance(value, StringArray):
                rendered[index] = "[" + ",".join(_string(item) for item in value.items) + "]"
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
            "events": totals.events,
            "lost": totals.lost,
            "calls": totals.calls,
            "duration_s": round(totals.duration_s, 6),
            "lost_by_cpu": {str(cpu): n for cpu, n in totals.lost_by_cpu.items() if n},
            "no_storage": totals.no_storage,
        }
        if totals.untracked_forks:
            record["untracked_forks"] = totals.untracked_forks
        return json.dumps(record, separators=(",", ":")) + "\n"


def _now() -> str:
    now = time.time_ns() // 1000
    return f"{_iso_second(now // 1000000)}.{now % 1000000:06d}Z"
