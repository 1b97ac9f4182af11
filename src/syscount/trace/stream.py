"""Decode a span of ring buffer records into lines, as fast as pure Python allows.

Most events carry no strings and are all the same size, so a run of them is
unpacked by one ``struct.iter_unpack`` (in C) and each tuple goes straight to its
syscall's compiled formatter (or, with numpy, the run is rendered at once). Records
with data of one size in a row (a flood of the same call) are a run for numpy too. A
record that breaks a run (other strings, a discarded record, one still being written)
is handled on its own, then the fast walk resumes.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..kernel import ringbuf
from .compile import Formatters
from .vector_limits import MIN_RUN

if TYPE_CHECKING:
    from .vector import Vectorized

from .record import EVENT_SIZE, LEN, RECORD, RECORD_SIZE, SLOT, STR_BYTES

_HEADER = ringbuf.HEADER_SIZE


def decode(span: bytes, formatters: Formatters, out: list[Any], vector: Vectorized | None = None) -> tuple[int, int]:
    """Append the text of every whole, submitted event of ``span`` to ``out``.

    Returns (bytes consumed, events): whole records only, the rest is left in the ring
    for the next call. With ``vector``, long runs of fixed-size events are rendered by
    numpy in one piece: ``out`` gets a str per event, and UTF-8 bytes for many events
    (``joined`` makes the bytes to write of them)."""
    append = out.append
    unpack_from = RECORD.unpack_from
    from_bytes = int.from_bytes
    order = sys.byteorder
    view = memoryview(span)
    end = len(span)
    pos = events = 0
    while True:
        if pos + _HEADER > end:
            return pos, events
        length = from_bytes(view[pos : pos + 4], order)
        if length == EVENT_SIZE:  # a run of fixed-size events starts here
            done = _fixed_run(span, view, pos, formatters, out, vector=vector)
            if not done:
                return pos, events  # only part of the record is in the span
            events += done
            pos += done * RECORD_SIZE
            continue
        # A record with data (checked first: a flood of them must not pay for the run
        # machinery per event), or one still being written, or discarded.
        if length & ringbuf.BUSY_BIT:
            return pos, events
        size = ringbuf.record_size(length & ringbuf.LENGTH_MASK)
        if pos + size > end:
            return pos, events
        # A run of records alike in size (a flood of the same call with data): numpy's, when
        # the record MIN_RUN on looks the same (a cheap test before building arrays).
        last = pos + (MIN_RUN - 1) * size
        if vector is not None and not length & ringbuf.DISCARD_BIT and end - pos >= MIN_RUN * size:
            if last + size <= end and from_bytes(view[last : last + 4], order) == length:
                done = _data_run(span, pos, length, formatters, out, vector=vector)
                events += done
                pos += done * size
                continue
            # Records of varying sizes (paths of other lengths): numpy's when enough in a row.
            done, pos = _varied_run(span, pos, formatters, out, vector=vector)
            events += done
            continue
        if not length & ringbuf.DISCARD_BIT:
            t = unpack_from(view, pos)
            strings = formatters.strings(t, view, pos + RECORD_SIZE, min(t[STR_BYTES], size - RECORD_SIZE))
            append(formatters[t[13]](t, strings))
            events += 1
        pos += size


def joined(lines: Sequence[str | bytes]) -> bytes:
    """The lines ``decode`` appended, as the UTF-8 bytes to write (numpy's pieces already are)."""
    if all(isinstance(line, str) for line in lines):
        return "".join(lines).encode("utf-8", "backslashreplace")  # type: ignore[arg-type]
    parts: list[bytes] = []
    text: list[str] = []
    for line in lines:
        if isinstance(line, str):
            text.append(line)
            continue
        if text:
            parts.append("".join(text).encode("utf-8", "backslashreplace"))
            text.clear()
        parts.append(line)
    if text:
        parts.append("".join(text).encode("utf-8", "backslashreplace"))
    return b"".join(parts)


def _fixed_run(
    span: bytes,
    view: memoryview,
    pos: int,
    formatters: Formatters,
    out: list[Any],
    *,
    vector: Vectorized | None,
) -> int:
    """Render the fixed-size events from ``pos`` on (the first one is); how many."""
    end = len(span)
    limit = end
    if vector is not None and end - pos >= MIN_RUN * RECORD_SIZE:
        fixed, run = vector.fixed_run(span, pos)
        text = vector.render(run) if run is not None else None
        if run is not None and text is not None:
            out.append(text)
            return fixed
        limit = pos + fixed * RECORD_SIZE  # one by one up to the next record with data
    run_end = pos + (limit - pos) // RECORD_SIZE * RECORD_SIZE
    before = len(out)
    append = out.append
    for t in RECORD.iter_unpack(view[pos:run_end]):
        if t[0] != EVENT_SIZE:  # data follows, or BUSY/DISCARD is set
            break
        append(formatters[t[13]](t, None))
    return len(out) - before


def _varied_run(
    span: bytes, pos: int, formatters: Formatters, out: list[Any], *, vector: Vectorized
) -> tuple[int, int]:
    """Render the records with data from ``pos`` on, of any sizes (the first is one); how
    many, and where the next record starts."""
    offsets, after = vector.walk(span, pos)
    text = vector.varied(span, vector.positions(offsets)) if len(offsets) >= MIN_RUN else None
    if text is not None:
        out.append(text)
    else:
        _one_by_one(span, offsets, formatters, out)  # too few, or too many syscalls for numpy
    return len(offsets), after


def _data_run(span: bytes, pos: int, length: int, formatters: Formatters, out: list[Any], *, vector: Vectorized) -> int:
    """Render the records of ``length`` data bytes from ``pos`` on (the first one is); how many."""
    run, text = vector.data_run(span, pos, length)
    if text is not None:
        out.append(text)
    else:
        size = ringbuf.record_size(length)
        _one_by_one(span, range(pos, pos + run * size, size), formatters, out)
    return run


def _one_by_one(span: bytes, offsets: Iterable[int], formatters: Formatters, out: list[Any]) -> None:
    """The records with data at ``offsets``, each by its compiled formatter."""
    unpack_from = RECORD.unpack_from
    for row in offsets:
        t = unpack_from(span, row)
        room = ringbuf.record_size(t[LEN]) - RECORD_SIZE
        strings = formatters.strings(t, span, row + RECORD_SIZE, min(t[STR_BYTES], room))
        out.append(formatters[t[SLOT]](t, strings))
