"""A line, described once as segments; compiled to a per-event function or rendered per batch.

A sink describes an event line as a list of segments (literal text, a number, a
pointer, a named value...). ``python_parts`` turns them into the parts of a
compiled per-event formatter (decode/compile.py); decode/vector.py renders the
same segments for a whole batch of events at once with numpy. One description, two
engines, and a unit test that holds them to the same output.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from .kinds import Kind
from .record import COMM, RET, START


class Part(NamedTuple):
    """A piece of a compiled formatter's return value: literal text or an f-string expression."""

    text: str
    is_expr: bool = False


def lit(text: str) -> Part:
    return Part(text)


def expr(code: str) -> Part:
    return Part(code, True)


class Lit(NamedTuple):
    text: str


class Number(NamedTuple):
    """A field as a decimal number, read as ``kind`` (INT, UINT, LONG); ULONG: as unpacked."""

    field: int
    kind: Kind


class Pointer(NamedTuple):
    """A field in hex (``0x7f...``), ``null`` when 0, in ``quote`` when not."""

    field: int
    null: str
    quote: str = ""


class Named(NamedTuple):
    """A field shown by ``decoder`` (flags, AT_FDCWD, errno...): remembered per value."""

    field: int
    name: str  # the memo's name in the compiled code
    decoder: Callable[[int], str]


class Comm(NamedTuple):
    """The thread name (16 raw bytes) shown by ``decoder``."""

    decoder: Callable[[bytes], str]


class Clock(NamedTuple):
    """The wall-clock second of the entry time, shown by ``decoder``."""

    decoder: Callable[[int], str]


class Micros(NamedTuple):
    """Six digits of microseconds: of the entry time (``field`` START) or of a duration."""

    field: int


class Seconds(NamedTuple):
    """Whole seconds of a duration field."""

    field: int


class IfOk(NamedTuple):
    """``then`` when the call succeeded (ret not in -4095..-1), else ``otherwise``."""

    then: Segment
    otherwise: Segment


class IfBits(NamedTuple):
    """``then`` when ``field & mask``, else nothing."""

    field: int
    mask: int
    then: Segment


class IfIn(NamedTuple):
    """``then`` when ``t[field] & mask`` is one of ``values``, else ``otherwise`` (both sequences).

    An argument strace shows only for some values of another (futex's timeout for the
    waiting operations), or decodes by another (fcntl's argument by its command)."""

    field: int
    mask: int
    values: frozenset[int]
    then: tuple[Segment, ...]
    otherwise: tuple[Segment, ...] = ()


class Text(NamedTuple):
    """The event's rendered string ``index`` when it has string data, else ``fallback``."""

    arg: int
    fallback: Segment


Segment = Lit | Number | Pointer | Named | Comm | Clock | Micros | Seconds | IfOk | IfBits | IfIn | Text

# A failed call returns -1..-4095; anything else is a result.
OK = f"t[{RET}] >= 0 or t[{RET}] < -4095"
_NUMBER = {
    Kind.INT: "((t[{f}] & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000",
    Kind.FD: "((t[{f}] & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000",
    Kind.UINT: "t[{f}] & 0xFFFFFFFF",
    Kind.LONG: "(t[{f}] ^ 0x8000000000000000) - 0x8000000000000000",
    Kind.ULONG: "t[{f}]",
}
SIX_DIGITS = "%06d".__mod__
STATEMENTS = [f"us = (t[{START}] + OFF) // 1000"]


class PythonCode:
    """Segments → compiled-formatter parts, collecting what the code refers to."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace

    def parts(self, segments: Sequence[Segment]) -> list[Part]:
        return [lit(s.text) if isinstance(s, Lit) else expr(self.expression(s)) for s in segments]

    def _name(self, prefix: str, value: Any) -> str:
        for key, known in self.namespace.items():
            if key.startswith(prefix) and known is value:
                return key
        key = f"{prefix}{len(self.namespace)}"
        self.namespace[key] = value
        return key

    def expression(self, s: Segment) -> str:
        if isinstance(s, Lit):
            return self._name("L", s.text)
        if isinstance(s, Number):
            return _NUMBER[s.kind].format(f=s.field)
        if isinstance(s, Pointer):
            return f"{self._name('P', _pointer(s.null, s.quote))}(t[{s.field}])"
        if isinstance(s, Named):
            return f"{self._memo(s.name, s.decoder)}[t[{s.field}]]"
        if isinstance(s, Comm):
            return f"{self._memo('COMM', s.decoder)}[t[{COMM}]]"
        if isinstance(s, Clock):
            return f"{self._memo('CLOCK', s.decoder)}[us // 1000000]"
        if isinstance(s, Micros):
            # "%06d" % n measured at half the cost of an f-string's :06d here.
            pad = self._name("Z", SIX_DIGITS)
            return f"{pad}(us % 1000000)" if s.field == START else f"{pad}(t[{s.field}] // 1000 % 1000000)"
        if isinstance(s, Seconds):
            return f"t[{s.field}] // 1000000000"
        if isinstance(s, IfOk):
            return f"({self.expression(s.then)} if {OK} else {self.expression(s.otherwise)})"
        if isinstance(s, IfBits):
            return f"({self.expression(s.then)} if t[{s.field}] & {s.mask} else {self._name('L', '')})"
        if isinstance(s, IfIn):
            values = self._name("V", s.values)
            then, otherwise = self._joined(s.then), self._joined(s.otherwise)
            return f"({then} if (t[{s.field}] & {s.mask}) in {values} else {otherwise})"
        return f"(S[{s.arg}] if S else {self.expression(s.fallback)})"

    def _joined(self, segments: Sequence[Segment]) -> str:
        """One string expression for a sequence of segments."""
        if not segments:
            return self._name("L", "")
        pattern = self._name("F", "%s" * len(segments))  # no quotes: this sits inside an f-string
        return f"({pattern} % ({''.join(self.expression(s) + ', ' for s in segments)}))"

    def _memo(self, name: str, decoder: Callable[[Any], str]) -> str:
        from .values import Memo

        existing = self.namespace.get(name)
        if isinstance(existing, Memo) and existing.decoder is decoder:
            return name
        key = name if existing is None else f"{name}{len(self.namespace)}"
        self.namespace[key] = Memo(decoder)
        return key


def _pointer(null: str, quote: str) -> Callable[[int], str]:
    return lambda value: f"{quote}{value:#x}{quote}" if value else null
