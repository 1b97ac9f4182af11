"""Escape many byte strings at once with numpy: quoted, strace-style or JSON, row by row.

Why: a flood whose data differs on every call (a write of changing bytes, an openat of
new paths) cannot share one rendering per distinct event, and rendering each in
Python (``names.escape.c_bytes`` walks the bytes one by one) caps the decoder near
0.1 M events/s. Here each string is a row of a byte matrix; every byte becomes its
escape through a lookup table, and the escapes are laid out with a running sum.

The tables are not written out by hand: they are made by calling the per-event
functions themselves on every byte (``c_bytes``, ``c_string``, ``json.dumps``), so a
byte is escaped here exactly as there. That holds because those functions escape
byte by byte; the one exception, ``c_bytes``'s short octal (``\\0`` but ``\\0001``
before a digit), is a second table chosen by the next byte. Bytes whose escape
depends on more (UTF-8 sequences in a path or in JSON) are marked ``UNHANDLED``: the
caller renders those rows with the per-event functions.
"""

from __future__ import annotations

import functools
import json
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ..names.escape import c_bytes, c_string

Bytes = npt.NDArray[np.uint8]
UNHANDLED = 255  # a size no escape has: the row goes to the per-event functions


class EscapeTable(NamedTuple):
    """Per byte value (and, with ``lookahead``, + 256 when an octal digit follows): its escape;
    the last entry (``end``) is for the places past a row's end: nothing."""

    codes: Bytes  # (256 or 512, + 1; widest escape) bytes of each escape, NUL-padded
    sizes: npt.NDArray[np.uint8]  # bytes of each escape; UNHANDLED where the table does not apply
    lookahead: bool  # c_bytes: an octal escape before a digit is written with three digits
    end: int


def _table(escapes: list[bytes | None], lookahead: bool) -> EscapeTable:
    width = max(len(e) for e in escapes if e is not None)
    codes = np.zeros((len(escapes) + 1, width), np.uint8)
    sizes = np.full(len(escapes) + 1, UNHANDLED, np.uint8)
    sizes[-1] = 0
    for value, escape in enumerate(escapes):
        if escape is not None:
            codes[value, : len(escape)] = np.frombuffer(escape, np.uint8)
            sizes[value] = len(escape)
    return EscapeTable(codes, sizes, lookahead, len(escapes))


@functools.cache
def data_table() -> EscapeTable:
    """A buffer in text (``c_bytes``): every byte, octal shortened unless a digit follows."""
    short = [c_bytes(bytes([b])).encode("ascii")[1:-1] for b in range(256)]
    # Before "0", as before any octal digit (c_bytes looks at the next byte only).
    before_digit = [c_bytes(bytes([b, 0x30])).encode("ascii")[1:-2] for b in range(256)]
    return _table([*short, *before_digit], lookahead=True)


@functools.cache
def name_table() -> EscapeTable:
    """A path or string in text (``c_string``, the one rule for names): ASCII only."""
    return _table([c_string(bytes([b])).encode("ascii")[1:-1] if b < 0x80 else None for b in range(256)], False)


@functools.cache
def json_table() -> EscapeTable:
    """A JSON string (``json.dumps``, ASCII escapes): ASCII only (UTF-8 is a sequence's matter)."""
    return _table([json.dumps(chr(b)).encode("ascii")[1:-1] if b < 0x80 else None for b in range(256)], False)


def _octal_digit(data: Bytes) -> npt.NDArray[np.bool_]:
    digit: npt.NDArray[np.bool_] = (data - np.uint8(0x30)) < 8  # below "0" wraps to above 8
    return digit


def quoted(
    data: Bytes, lengths: npt.NDArray[Any], table: EscapeTable, suffix: bytes, suffixed: npt.NDArray[np.bool_]
) -> tuple[Bytes, npt.NDArray[np.bool_]]:
    """Row i's first ``lengths[i]`` bytes of ``data``, escaped by ``table`` between double
    quotes, then ``suffix`` where ``suffixed[i]``; and which rows the table does not handle
    (their output row is to be ignored).

    Each byte's escape gets a slot as wide as the widest escape in the matrix, NUL-padded,
    and the closing quote a column after them all: the NULs are dropped when the rows are
    joined (vector.py), so nothing is moved here, one lookup does it all."""
    rows, width = data.shape
    code = data.astype(np.intp)
    if table.lookahead and width > 1:  # ufuncs with where=: no temporaries
        before_digit = _octal_digit(data[:, 1:]) & (np.arange(1, width) < lengths[:, None])
        np.add(code[:, :-1], 256, out=code[:, :-1], where=before_digit)
    np.copyto(code, table.end, where=np.arange(width) >= lengths[:, None])
    sizes = table.sizes[code]
    top = int(sizes.max(initial=1))
    unhandled = (sizes == UNHANDLED).any(axis=1) if top == UNHANDLED else np.zeros(rows, bool)
    slot = int(sizes[~unhandled].max(initial=1)) if top == UNHANDLED else top
    out = np.empty((rows, width * slot + 2 + len(suffix)), np.uint8)
    out[:, 0] = 0x22
    # np.take on a contiguous table: ten times faster here than indexing codes[code, :slot].
    escapes = np.take(np.ascontiguousarray(table.codes[:, :slot]), code.reshape(-1), axis=0)
    out[:, 1 : 1 + width * slot] = escapes.reshape(rows, width * slot)
    out[:, 1 + width * slot :] = 0
    out[:, 1 + width * slot] = 0x22
    if suffix:
        out[np.ix_(suffixed, np.arange(2 + width * slot, out.shape[1]))] = np.frombuffer(suffix, np.uint8)
    return out, unhandled
