"""A captured argument's items (strings.Items) → its text or JSON, by the shape captures.py gives it.

``None`` means "show the pointer": nothing was captured (a failed call's output, a
compat-ABI call, no room left in the event), the read faulted, or the bytes cannot
be what the argument should hold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import structs
from .captures import capture_of
from .record import ARG0, RET, TraceConstants
from .strings import Items

_C = TraceConstants.from_header()
TRUNCATED, FAULT, ELEMENT, MORE = _C.str_truncated, _C.str_fault, _C.str_element, _C.str_more
FILE = _C.str_file
HEAD, NAME = 16, 32  # SC_STR_HEAD, SC_STR_NAME (trace.h)
FUTEX_TIMEOUT_OPS = frozenset({0, 6, 9, 11, 13})  # WAIT, LOCK_PI, WAIT_BITSET, WAIT_REQUEUE_PI, LOCK_PI2
FUTEX_CMD_MASK = 0x7F  # without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME


def _one(items: Items) -> tuple[int, bytes] | None:
    """The argument's one item (what descriptors it holds are, for -y, aside)."""
    found = [item for item in items.items if not item[0] & FILE]
    if len(found) != 1 or found[0][0] & FAULT:
        return None
    return found[0]


def buffer(items: Items) -> structs.Buffer | None:
    found = _one(items)
    return None if found is None else structs.Buffer(found[1], bool(found[0] & TRUNCATED))


def iovec(items: list[tuple[int, bytes]]) -> structs.Iovec | None:
    elements = []
    more = False
    for flags, data in items:
        if flags & MORE:
            more = True
        elif flags & FAULT or len(data) < 8:
            return None
        else:
            length = int.from_bytes(data[:8], "little")
            elements.append(structs.IovElement(length, structs.Buffer(data[8:], bool(flags & TRUNCATED))))
    return structs.Iovec(tuple(elements), more)


def msghdr(items: Items) -> structs.Msghdr | None:
    head = [data for flags, data in items.items if flags & HEAD and not flags & FAULT]
    if len(head) != 1 or len(head[0]) < structs.MSGHDR.size:
        return None
    _, namelen, _, iovlen, _, controllen, flags = structs.MSGHDR.unpack_from(head[0])
    names = [data for f, data in items.items if f & NAME and not f & FAULT]
    iov = iovec([(f, data) for f, data in items.items if not f & (HEAD | NAME)])
    if iov is None:
        return None
    return structs.Msghdr(namelen, names[0] if names else None, iovlen, iov, controllen, flags)


def _struct_bytes(shape: str, items: Items, record: tuple[Any, ...], call: str) -> bytes | None:
    found = _one(items)
    if found is None:
        return None
    if call == "futex" and int(record[ARG0 + 1]) & FUTEX_CMD_MASK not in FUTEX_TIMEOUT_OPS:
        return None  # utime is val2 (a number), not a timeout
    if call == "wait4" and record[RET] == 0:
        return None  # WNOHANG and no child changed: the status was not written
    return found[1]


def _parsed(call: str, arg: str, items: Any, record: tuple[Any, ...]) -> tuple[str, Any] | None:
    """(shape, value): a Buffer, Iovec or Msghdr, or the bytes of a struct or pollfd array."""
    capture = capture_of(call, arg)
    if capture is None or not isinstance(items, Items):
        return None
    shape = capture.shape
    if shape in ("buffer", "string"):
        value: Any = buffer(items)
    elif shape == "iovec":
        value = iovec(list(items.items))
    elif shape == "msghdr":
        value = msghdr(items)
    else:
        value = _struct_bytes(shape, items, record, call)
    return None if value is None else (shape, value)


def _pollfds_json(data: bytes) -> list[dict[str, int]]:
    fds = structs.pollfds(data, len(data) // 8) or []
    return [{"fd": fd, "events": events, "revents": revents} for fd, events, revents in fds]


# Shapes that are not a fixed struct of structs.STRUCTS: (text, JSON) of the parsed value.
SHAPES: dict[str, tuple[Callable[[Any], str | None], Callable[[Any], Any]]] = {
    "buffer": (structs.buffer_text, structs.buffer_json),
    "string": (structs.string_text, structs.string_json),
    "iovec": (structs.iovec_text, structs.iovec_json),
    "msghdr": (structs.msghdr_text, structs.msghdr_json),
    "pollfds": (lambda data: structs.pollfds_text(data, len(data) // 8), _pollfds_json),
}


def captured_text(call: str, arg: str, items: Any, record: tuple[Any, ...]) -> str | None:
    found = _parsed(call, arg, items, record)
    if found is None:
        return None
    shape, value = found
    return (SHAPES.get(shape) or structs.STRUCTS[shape])[0](value)


def captured_json(call: str, arg: str, items: Any, record: tuple[Any, ...]) -> Any:
    found = _parsed(call, arg, items, record)
    if found is None:
        return None
    shape, value = found
    return (SHAPES.get(shape) or structs.STRUCTS[shape])[1](value)


def was_truncated(items: Any) -> bool:
    """Some of the argument's data was cut (at -s, or an iovec with more elements than kept)."""
    return isinstance(items, Items) and any(flags & (TRUNCATED | MORE) for flags, _ in items.items)
