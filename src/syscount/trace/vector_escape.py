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
# Bytes of a matrix escaped at once at most (bounds the temporary index arrays).
CHUNK_BYTES = 1 << 21


class EscapeTable(NamedTuple):
    """Per byte value (and, with ``lookahead``, + 256 when an octal digit follows): its escape."""

    codes: Bytes  # (256 or 512, widest escape) bytes of each escape, NUL-padded
    sizes: npt.NDArray[np.uint8]  # bytes of each escape; UNHANDLED where the table does not apply
    lookahead: bool  # c_bytes: an octal escape before a digit is written with three digits


def _table(escapes: list[bytes | None], lookahead: bool) -> EscapeTable:
    width = max(len(e) for e in escapes if e is not None)
    codes = np.zeros((len(escapes), width), np.uint8)
    sizes = np.full(len(escapes), UNHANDLED, np.uint8)
    for value, escape in enumerate(escapes):
        if escape is not None:
            codes[value, : len(escape)] = np.frombuffer(escape, np.uint8)
            sizes[value] = len(escape)
    return EscapeTable(codes, sizes, lookahead)


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
    digit: npt.NDArray[np.bool_] = (data >= 0x30) & (data <= 0x37)
    return digit


def quoted(
    data: Bytes, lengths: npt.NDArray[Any], table: EscapeTable, suffix: bytes, suffixed: npt.NDArray[np.bool_]
) -> tuple[Bytes, npt.NDArray[np.bool_]]:
    """Row i's first ``lengths[i]`` bytes of ``data``, escaped by ``table`` between double
    quotes, then ``suffix`` where ``suffixed[i]``: NUL-padded rows; and which rows the table
    does not handle (their output row is left empty)."""
    rows = len(data)
    step = max(1, CHUNK_BYTES // max(1, data.shape[1]))
    if rows <= step:
        return _quoted(data, lengths, table, suffix, suffixed)
    parts = [
        _quoted(data[i : i + step], lengths[i : i + step], table, suffix, suffixed[i : i + step])
        for i in range(0, rows, step)
    ]
    width = max(part.shape[1] for part, _ in parts)
    out = np.zeros((rows, width), np.uint8)
    for i, (part, _) in zip(range(0, rows, step), parts, strict=True):
        out[i : i + len(part), : part.shape[1]] = part
    return out, np.concatenate([bad for _, bad in parts])


def _quoted(
    data: Bytes, lengths: npt.NDArray[Any], table: EscapeTable, suffix: bytes, suffixed: npt.NDArray[np.bool_]
) -> tuple[Bytes, npt.NDArray[np.bool_]]:
    rows, width = data.shape
    valid = np.arange(width, dtype=np.int32)[None, :] < lengths[:, None]
    code = data.astype(np.intp)
    if table.lookahead and width > 1:
        after = np.zeros_like(valid)
        after[:, :-1] = valid[:, 1:] & _octal_digit(data[:, 1:])
        code[after] += 256
    sizes = table.sizes[code]
    sizes *= valid
    unhandled = (sizes == UNHANDLED).any(axis=1)
    sizes[unhandled] = 0
    ends = np.cumsum(sizes, axis=1, dtype=np.int32)
    totals = ends[:, -1] if width else np.zeros(rows, np.int32)
    out_width = int(totals.max(initial=0)) + 2 + len(suffix)
    out = np.zeros((rows, out_width), np.uint8)
    base = np.arange(1, rows * out_width + 1, out_width, dtype=np.intp)  # after each opening quote
    starts = (ends - sizes) + base[:, None]
    flat = out.reshape(-1)
    # Every byte's first escape byte, the bytes past a row's end included: those land on its
    # closing quote's place, written after them.
    flat[starts] = table.codes[code, 0]
    longer = np.nonzero(sizes > 1)
    if len(longer[0]):
        code, starts, sizes = code[longer], starts[longer], sizes[longer]
        for k in range(1, table.codes.shape[1]):
            where = sizes > k
            if not where.any():
                break
            flat[starts[where] + k] = table.codes[code[where], k]
    ok = ~unhandled
    out[ok, 0] = 0x22
    closing = base + totals
    flat[closing[ok]] = 0x22
    if suffix:
        cut = ok & suffixed
        for k, byte in enumerate(suffix):
            flat[closing[cut] + 1 + k] = byte
    return out, unhandled
