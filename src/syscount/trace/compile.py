"""One compiled formatting function per syscall, built on first sight.

Why generate code: at a million events per second every dispatch counts. A sink
describes a line as literal text and Python expressions over the unpacked record
``t`` (and ``S``, the event's rendered strings); this module turns that into
``def f(t, S): return 'lit' f'{expr}' ...`` once per syscall, so formatting an event
is one call with the argument decoders inlined, no loop over arguments and no
per-kind branching. Expressions are built only from the kernel's argument names
(checked to be identifiers) and fixed code in the sinks, never from traced data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from .kinds import POINTER_RETURNS, Kind, kinds
from .layout import STATEMENTS, Part, PythonCode, Segment
from .record import SLOT, STRINGS_KEY_BACK
from .signatures import Arg, Signature
from .strings import Value, parse_strings

RENDERED_KEPT = 4096  # distinct events' strings remembered (then forgotten all at once)

# A formatter takes the unpacked record and the event's rendered strings (or None).
Formatter = Callable[[tuple[Any, ...], Sequence[str] | None], str]


class Call(NamedTuple):
    """What a sink needs to lay out one syscall's line."""

    name: str
    args: tuple[tuple[int, Arg, Kind], ...]  # (index, argument, kind)
    pointer_return: bool
    noreturn: bool
    has_strings: bool


class LineFormat(Protocol):
    """A sink's description of an event line (text, JSON, ...), as segments (decode/layout.py)."""

    wall_offset_ns: int  # added to an entry time (CLOCK_MONOTONIC) gives the wall clock

    def segments(self, call: Call) -> list[Segment]: ...

    def strings(self, call: Call, values: Mapping[int, Value], record: tuple[Any, ...]) -> list[str]:
        """``S`` for an event with string data: index i holds argument i's rendering."""
        ...


RAW_ARGS = tuple(Arg(f"arg{i}", "unsigned long *") for i in range(6))


def describe(nr: int, name: str, signature: Signature | None, noreturn: frozenset[int]) -> Call:
    """The call's layout: its arguments and their kinds, or six raw ones when unknown."""
    signature = signature or Signature(name, RAW_ARGS)
    arg_kinds = kinds(signature)
    args = tuple((i, arg, kind) for i, (arg, kind) in enumerate(zip(signature.args, arg_kinds, strict=True)))
    for _, arg, _ in args:
        if not arg.name.isidentifier():
            raise ValueError(f"{name}: argument name {arg.name!r} is not an identifier")
    return Call(
        name=name,
        args=args,
        pointer_return=signature.name.rpartition(":")[2] in POINTER_RETURNS,
        noreturn=nr in noreturn,
        has_strings=any(kind in (Kind.STRING, Kind.ARGV, Kind.CAPTURED) for kind in arg_kinds),
    )


def source(function: str, statements: Sequence[str], parts: Sequence[Part]) -> str:
    """Python source of ``def function(t, S)`` returning the parts joined."""
    pieces = [f"f'{{{part.text}}}'" if part.is_expr else repr(part.text) for part in parts if part.text]
    body = "".join(f"    {statement}\n" for statement in statements)
    return f"def {function}(t, S):\n{body}    return {' '.join(pieces) or repr('')}\n"


def build(function: str, statements: Sequence[str], parts: Sequence[Part], namespace: Mapping[str, Any]) -> Formatter:
    scope = dict(namespace)
    exec(compile(source(function, statements, parts), f"<syscount:{function}>", "exec"), scope)
    built: Formatter = scope[function]
    return built


class Formatters(dict[int, Formatter]):
    """Syscall number → its formatter for one line format, compiled on first use."""

    def __init__(
        self,
        line: LineFormat,
        names: Callable[[int], str],
        signatures: Mapping[int, Signature],
        noreturn: frozenset[int],
    ) -> None:
        super().__init__()
        self.line = line
        self.names = names
        self.signatures = signatures
        self.noreturn = noreturn
        self._calls: dict[int, Call] = {}
        self._captured: dict[int, frozenset[int]] = {}  # per slot: its arguments kept as raw Items
        self._code = PythonCode({"OFF": line.wall_offset_ns})
        self._rendered: dict[bytes, list[str]] = {}  # an event's strings by what they depend on

    def call(self, nr: int) -> Call:
        call = self._calls.get(nr)
        if call is None:
            call = self._calls[nr] = describe(nr, self.names(nr), self.signatures.get(nr), self.noreturn)
        return call

    def parsed(self, record: tuple[Any, ...], data: bytes | memoryview, start: int, length: int) -> dict[int, Value]:
        """The string data of one event (``length`` bytes at ``start`` of ``data``), parsed:
        strings and argv decoded, captured arguments kept as raw Items."""
        captured = self._captured.get(record[SLOT])
        if captured is None:
            call = self.call(record[SLOT])
            captured = self._captured[record[SLOT]] = frozenset(i for i, _, k in call.args if k is Kind.CAPTURED)
        return parse_strings(data, start, length, captured)

    def strings(self, record: tuple[Any, ...], data: bytes | memoryview, start: int, length: int) -> list[str]:
        """Render the string data of one event (``length`` bytes at ``start`` of ``data``).

        Remembered by the bytes they depend on (the result, arguments, ids and the data):
        a flood of the same write or read is rendered once, not ~10 µs per event."""
        key = bytes(data[start - STRINGS_KEY_BACK : start + length])
        rendered = self._rendered.get(key)
        if rendered is None:
            if len(self._rendered) >= RENDERED_KEPT:
                self._rendered.clear()
            rendered = self._rendered[key] = self._strings(record, data, start, length)
        return rendered

    def _strings(self, record: tuple[Any, ...], data: bytes | memoryview, start: int, length: int) -> list[str]:
        return self.line.strings(self.call(record[SLOT]), self.parsed(record, data, start, length), record)

    def __missing__(self, nr: int) -> Formatter:
        call = self.call(nr)
        parts = self._code.parts(self.line.segments(call))
        formatter = self[nr] = build(f"format_{nr}", STATEMENTS, parts, self._code.namespace)
        return formatter
