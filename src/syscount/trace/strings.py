"""The data after an event: what the kernel read from user memory for its arguments.

Each item is a ``struct sc_trace_str`` header (argument index, flags, length) and its
bytes (a string has no NUL), one after the other in argument order; array arguments
(execve's argv) are a run of elements, ended by a marker when the array was longer
than kept. Strings and argv become CString/StringArray here; buffers and structs
(captures.py) stay raw Items for captured.py.
"""

from __future__ import annotations

from typing import NamedTuple

from ..names.escape import c_string
from .record import STR_HEAD, TraceConstants

_C = TraceConstants.from_header()
TRUNCATED, FAULT, ELEMENT, MORE = _C.str_truncated, _C.str_fault, _C.str_element, _C.str_more
FILE = _C.str_file


class CString(NamedTuple):
    data: bytes
    truncated: bool


class StringArray(NamedTuple):
    items: tuple[CString, ...]
    more: bool  # the array had more elements than were kept


class Items(NamedTuple):
    """The raw items of a captured argument (captures.py): (SC_STR_* flags, bytes) each."""

    items: tuple[tuple[int, bytes], ...]


# An argument whose string could not be read (bad address, page not present): shown
# as its pointer value.
Value = CString | StringArray | Items | None


def parse_strings(
    data: bytes | memoryview, start: int, length: int, captured: frozenset[int] = frozenset()
) -> dict[int, Value]:
    """Argument index → its string, array, or None (unreadable), from ``length`` bytes at ``start``;
    the arguments in ``captured`` get their raw Items."""
    values: dict[int, Value] = {}
    raw: dict[int, list[tuple[int, bytes]]] = {}
    arrays: dict[int, list[CString]] = {}
    more: set[int] = set()
    pos, end = start, start + length
    head = STR_HEAD.size
    while pos + head <= end:
        arg, flags, size = STR_HEAD.unpack_from(data, pos)
        pos += head
        if arg in captured or flags & FILE:  # FILE: what a new descriptor is (the result's: arg 6)
            raw.setdefault(arg, []).append((flags, bytes(data[pos : pos + size])))
            pos += size
            continue
        text = CString(bytes(data[pos : pos + size]), bool(flags & TRUNCATED))
        pos += size
        if flags & ELEMENT:
            items = arrays.setdefault(arg, [])
            if flags & FAULT:
                values[arg] = None
            elif flags & MORE:
                more.add(arg)
            else:
                items.append(text)
        else:
            values[arg] = None if flags & FAULT else text
    for arg, items in arrays.items():
        if arg not in values:  # an unreadable array stays None
            values[arg] = StringArray(tuple(items), arg in more)
    for arg, found in raw.items():
        values[arg] = Items(tuple(found))
    return values


def text_value(value: CString) -> str:
    """A quoted string, escaped by the one rule (names/escape.py), followed by ``...`` when it
    was truncated (strace's convention)."""
    return c_string(value.data) + ("..." if value.truncated else "")


def text_array(value: StringArray) -> str:
    items = [text_value(item) for item in value.items]
    if value.more:
        items.append("...")
    return "[" + ", ".join(items) + "]"
