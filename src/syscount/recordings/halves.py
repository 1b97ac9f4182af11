"""Reading one large recording in two halves, one per core (``syscount report``).

Parsing a day of -L lines takes seconds in one Python thread. The file is cut at a line
that starts a chart point (a multiple of ``step`` from the top), so neither half has to
know about the other's points: a forked child reads the second half, this process the
first, and the child sends back its points, its intervals added up (as one JSON-line
record, which the first half's totals add like any interval) and its summary line.

Only a plain file is read this way: one run, no blank or cut lines before the cut, and
a summary only as its last line. Anything else (runs appended with -o, say) returns
None and the caller reads the file in one go, as before. An error in either half is
raised as reading it in one go would raise it: the first half's first.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import islice
from typing import Any, NamedTuple

from ..model import Snapshot
from ..sinks.jsonl import record
from .forked import ChildFailed, Forked, can_fork
from .load import CHUNK, Needs, Point, Recording, _records, _Run
from .sums import Totals

SPLIT_ABOVE = 64 << 20  # bytes; below that a fork costs more than it saves


class Half(NamedTuple):
    intervals: int
    schema: int
    meta: dict[str, Any]
    timeline: list[Point]
    whole: dict[str, Any] | None  # its intervals added up, as a JSON line would hold them
    summary: Snapshot | None
    notes: list[str]


class NotPlain(Exception):
    """The file is not one plain run: read it in one go."""


def load_halves(path: str, step: int, needs: Needs, newlines: list[int]) -> Recording | None:
    """The recording (as ``load`` reads it) from two processes; None when not worth it or not plain."""
    if not can_fork() or os.path.getsize(path) < SPLIT_ABOVE:
        return None
    cut = _cut(path, step, newlines)
    if cut is None:
        return None
    lines, offset = cut
    child = Forked(lambda: _half(path, offset, first=lines + 1, step=step, needs=needs, lines=None))
    try:
        first = _half(path, 0, first=1, step=step, needs=needs, lines=lines)
    except BaseException:
        child.cancel()
        raise
    if first is None or first.summary is not None:  # a summary line in the first half: more runs follow
        child.cancel()
        return None
    try:
        second = child.result()
    except ChildFailed:
        return None  # read in one go, which meets the trouble itself
    if second is None or not first.intervals + second.intervals:
        return None
    return _joined(path, first, second, step)


def _cut(path: str, step: int, newlines: list[int]) -> tuple[int, int] | None:
    """(lines before the cut, its byte offset): the first point boundary past the middle of the file.

    ``newlines``: per CHUNK bytes of the file, as ``newlines_per_chunk`` counts them."""
    total = sum(newlines)
    lines = -(-(total // 2) // step) * step
    if not 0 < lines < total:
        return None
    seen = 0
    for number, count in enumerate(newlines):
        if seen + count >= lines:
            with open(path, "rb") as stream:
                stream.seek(number * CHUNK)
                chunk = stream.read(CHUNK)
            at = -1
            for _ in range(lines - seen):
                at = chunk.index(b"\n", at + 1)
            return lines, number * CHUNK + at + 1
        seen += count
    return None


def _half(path: str, offset: int, *, first: int, step: int, needs: Needs, lines: int | None) -> Half | None:
    """The lines from ``offset`` (``lines`` of them, or to the end); None if they are not plain."""
    notes: list[str] = []
    run = _Run(path, step, needs)
    with open(path, "rb", buffering=CHUNK) as stream:
        stream.seek(offset)
        source = islice(stream, lines) if lines is not None else stream
        try:
            summary = _add_all(run, _records(path, source, notes, first))
        except NotPlain:
            return None
    if lines is not None and (run.lines != lines or notes):
        return None  # blank or cut lines: the points would not line up with the second half
    whole = run.close()
    added = record(whole.snapshot(final=False)) if whole.lines else None
    return Half(whole.lines, run.schema, run.meta, run.timeline, added, summary, notes)


def _add_all(run: _Run, records: Iterator[tuple[int, dict[str, Any]]]) -> Snapshot | None:
    for number, line in records:
        if run.summary is not None or ("meta" in line and number != 1):  # a second run
            raise NotPlain
        run.add(number, line)
    return run.summary


def _joined(path: str, first: Half, second: Half, step: int) -> Recording:
    whole = Totals()
    for half in (first, second):
        if half.whole is not None:
            whole.add(half.whole)
    intervals = first.intervals + second.intervals
    summary = second.summary or whole.snapshot(final=True)
    schema = max(first.schema, second.schema)
    timeline = first.timeline + second.timeline
    return Recording(path, schema, summary, second.summary is None, intervals, first.meta, second.notes, timeline, step)
