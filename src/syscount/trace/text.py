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

from . import values as v
from .captured import captured_text
from .compile import Call
from .describe import NUMBERS, TEXT_NAMED, argument_segments
from .kinds import Kind
from .layout import Clock, Comm, IfOk, Lit, Micros, Named, Number, Pointer, Seconds, Segment, Text
from .record import ARG0, DURATION, PID, RET, START, TID
from .sink import Loss, Totals
from .strings import CString, StringArray, Value, text_array, text_value


def _local_second(second: int) -> str:
    return time.strftime("%H:%M:%S", time.localtime(second))


class TextLine:
    """The text LineFormat (see the module docstring)."""

    def __init__(self, wall_offset_ns: int) -> None:
        self.wall_offset_ns = wall_offset_ns

    def segments(self, call: Call) -> list[Segment]:
        head: list[Segment] = [
            Clock(_local_second),
            Lit("."),
            Micros(START),
            Lit(" "),
            Number(PID, Kind.ULONG),
            Lit("/"),
            Number(TID, Kind.ULONG),
            Lit(" "),
            Comm(v.comm_text),
            Lit(f" {call.name}("),
            *argument_segments(call, self._label, self._value, strace_like=True),
        ]
        if call.noreturn:
            return [*head, Lit(") = ?\n")]
        result: Segment = Pointer(RET, "NULL") if call.pointer_return else Number(RET, Kind.ULONG)
        return [
            *head,
            Lit(") = "),
            IfOk(result, Named(RET, "ERR", v.error_text)),
            Lit(" <"),
            Seconds(DURATION),
            Lit("."),
            Micros(DURATION),
            Lit(">\n"),
        ]

    @staticmethod
    def _label(name: str, first: bool) -> str:
        return f"{name}=" if first else f", {name}="

    @staticmethod
    def _value(kind: Kind, index: int) -> Segment:
        field = ARG0 + index
        if kind in NUMBERS:
            return Number(field, kind)
        if kind in TEXT_NAMED:
            name, decoder = TEXT_NAMED[kind]
            return Named(field, name, decoder)
        pointer = Pointer(field, "NULL")
        return Text(index, pointer) if kind in (Kind.STRING, Kind.ARGV, Kind.CAPTURED) else pointer

    def strings(self, call: Call, values: Mapping[int, Value], record: tuple[Any, ...]) -> list[str]:
        rendered = [""] * 7
        for index, arg, kind in call.args:
            if kind is Kind.CAPTURED:
                shown = captured_text(call.name, arg.name, values.get(index), record)
                rendered[index] = shown if shown is not None else v.pointer(record[ARG0 + index])
                continue
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
        if totals.unwritten:
            line += f", {totals.unwritten} not written"
        return line + "\n"
