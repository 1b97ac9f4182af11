"""``syscount trace`` text: one line per call, the way strace users read it.

    12:00:00.123456 1234/1234 ls openat(dfd=AT_FDCWD, filename="/etc/ld.so.cache",
        flags=O_RDONLY|O_CLOEXEC) = 3 <0.000012>          (one line)

Entry time (local), process/thread, thread name, the call with named, decoded
arguments, the result (``-1 ENOENT (No such file or directory)`` for errors, ``?``
for calls that never return) and the time spent in the call, in seconds.
Lines starting with ``#`` are syscount's own: losses and the final line.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ..decode import values as v
from ..decode.compile import Call, Part, expr, lit
from ..decode.kinds import Kind
from ..decode.record import ARG0, COMM, DURATION, PID, RET, START, TID
from ..decode.strings import CString, StringArray, Value, text_array, text_value
from .events import Loss, Totals

# Memos (argument value → text) the compiled formatters index by kind.
MEMOS: dict[Kind, tuple[str, Any]] = {
    Kind.DIRFD: ("DIRFD", v.dirfd),
    Kind.OPEN_FLAGS: ("OFLAGS", v.open_flags),
    Kind.MODE: ("MODE", v.file_mode),
    Kind.ACCESS: ("ACCESS", v.access_mode),
    Kind.PROT: ("PROT", v.mmap_prot),
    Kind.MAP_FLAGS: ("MAPFLAGS", v.mmap_flags),
    Kind.AT_FLAGS: ("ATFLAGS", v.at_flags),
    Kind.AT_FLAGS_UNLINK: ("ATUNLINK", lambda value: v.at_flags(value, v.AT_FLAGS_UNLINK)),
    Kind.AT_FLAGS_ACCESS: ("ATACCESS", lambda value: v.at_flags(value, v.AT_FLAGS_ACCESS)),
    Kind.SIGNAL: ("SIGNAL", v.signal_name),
    Kind.WHENCE: ("WHENCE", v.whence),
}


def integer_expr(kind: Kind, field: str) -> str | None:
    """The expression for an integer kind shown as a number (shared with JSON)."""
    if kind is Kind.INT:
        return f"(({field} & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000"
    if kind is Kind.UINT:
        return f"{field} & 0xFFFFFFFF"
    if kind is Kind.LONG:
        return f"({field} ^ 0x8000000000000000) - 0x8000000000000000"
    if kind is Kind.ULONG:
        return field
    return None


def open_flags_index(call: Call) -> int | None:
    for index, _, kind in call.args:
        if kind is Kind.OPEN_FLAGS:
            return index
    return None


# A failed call returns -1..-4095; anything else is a result.
OK = "t[4] >= 0 or t[4] < -4095"


class TextLine:
    """The text LineFormat (see the module docstring)."""

    def __init__(self, wall_offset_ns: int) -> None:
        self.wall_offset_ns = wall_offset_ns

    def namespace(self) -> dict[str, Any]:
        names: dict[str, Any] = {
            "OFF": self.wall_offset_ns,
            "CLOCK": v.Memo(lambda second: time.strftime("%H:%M:%S", time.localtime(second))),
            "COMM": v.Memo(v.comm_text),
            "ERR": v.Memo(v.error_text),
            "PTR": v.pointer,
            "EMPTY": "",
            "OPTMODE": v.Memo(lambda value: ", mode=" + v.file_mode(value)),
        }
        for name, decoder in MEMOS.values():
            names[name] = v.Memo(decoder)
        return names

    def statements(self) -> list[str]:
        return [f"us = (t[{START}] + OFF) // 1000"]

    def parts(self, call: Call) -> list[Part]:
        parts = [
            expr("CLOCK[us // 1000000]"),
            lit("."),
            expr("us % 1000000:06d"),
            lit(" "),
            expr(f"t[{PID}]"),
            lit("/"),
            expr(f"t[{TID}]"),
            lit(" "),
            expr(f"COMM[t[{COMM}]]"),
            lit(f" {call.name}("),
        ]
        parts += self._args(call)
        if call.noreturn:
            return [*parts, lit(") = ?\n")]
        result = f"PTR(t[{RET}])" if call.pointer_return else f"t[{RET}]"
        return [
            *parts,
            lit(") = "),
            expr(f"({result} if {OK} else ERR[t[{RET}]])"),
            lit(" <"),
            expr(f"t[{DURATION}] // 1000000000"),
            lit("."),
            expr(f"t[{DURATION}] // 1000 % 1000000:06d"),
            lit(">\n"),
        ]

    def _args(self, call: Call) -> list[Part]:
        parts: list[Part] = []
        flags = open_flags_index(call)
        for index, arg, kind in call.args:
            field = f"t[{ARG0 + index}]"
            separator = ", " if parts else ""
            if kind is Kind.OPEN_MODE and flags is not None:
                # strace shows open's mode only when the flags use it.
                mask = v.OPEN_NEEDS_MODE
                parts.append(expr(f"(OPTMODE[{field}] if t[{ARG0 + flags}] & {mask} else EMPTY)"))
                continue
            parts.append(lit(f"{separator}{arg.name}="))
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
        for index, _, kind in call.args:
            if kind not in (Kind.STRING, Kind.ARGV):
                continue
            value = values.get(index)
            if isinstance(value, CString):
                rendered[index] = text_value(value)
            elif isinstance(value, StringArray):
                rendered[index] = text_array(value)
            else:
                rendered[index] = v.pointer(record[ARG0 + index])
        return rendered

    def loss_line(self, loss: Loss) -> str:
        return f"# lost {loss.lost} events ({loss.total} so far): the ring buffer was full\n"

    def final_line(self, totals: Totals) -> str:
        line = (
            f"# final: {totals.events} events, {totals.lost} lost, {totals.calls} calls traced"
            f" in {totals.duration_s:.3f} s"
        )
        if totals.untracked_forks:
            line += f", {totals.untracked_forks} untracked forks"
        return line + "\n"
