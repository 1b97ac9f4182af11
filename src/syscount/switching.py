"""A source that can be re-attached: another breakdown, or the exit side on and off.

``syscount top`` lets a person switch from per-process to per-thread rows, or turn
latency on, while it runs. A program's breakdown and whether it sees returns are
fixed when it is loaded, so a switch loads the new collector, takes its baseline,
then detaches the old one and hands back the old one's last interval. Calls made in
the microseconds between the new baseline and the old detach are counted by both
(the reverse order would lose them instead); nothing else is lost or doubled.

Losses that snapshots carry whole, since the program's start (untimed calls, errno
overflow: model.SINCE_START), are turned into per-interval deltas here, so they
add up across re-attachments.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import replace
from typing import TYPE_CHECKING

from .closing import Closing
from .model import SINCE_START
from .programs.counts import CountsProgram
from .readings import Source, reader_for

if TYPE_CHECKING:
    from .filters import Filters
    from .model import Snapshot
    from .programs.latency import LatencyProgram


class SwitchingSource(Closing):
    """Context manager: one collector attached at a time; ``switch`` re-attaches."""

    def __init__(self, filters: Filters, breakdown: str, *, exits: bool, max_rows: int) -> None:
        self._filters = filters
        self._max_rows = max_rows
        self.breakdown = breakdown
        self.exits = exits  # the exit side is attached: errors (and latency) are seen
        self._stack = ExitStack()
        self._source: Source | None = None
        self._since_load: dict[str, int] = {}

    def __enter__(self) -> SwitchingSource:
        self._stack, self._source = self._open(self.breakdown, self.exits)
        return self

    def close(self) -> None:
        self._stack.close()

    def _open(self, breakdown: str, exits: bool) -> tuple[ExitStack, Source]:
        stack = ExitStack()
        try:
            program: CountsProgram | LatencyProgram
            if exits:
                from .programs.latency import LatencyProgram

                program = LatencyProgram(self._filters, breakdown, max_rows=self._max_rows)
            else:
                program = CountsProgram(self._filters, breakdown, max_rows=self._max_rows)
            stack.enter_context(program)
            return stack, Source(reader_for(program))
        except BaseException:
            stack.close()
            raise

    def interval(self, elapsed_s: float) -> Snapshot:
        assert self._source is not None
        return self._deltas(self._source.interval(elapsed_s))

    def detach(self) -> None:
        assert self._source is not None
        self._source.detach()

    def switch(self, breakdown: str, exits: bool, elapsed_s: float) -> Snapshot:
        """Attach the new collector, then detach the old one; its last interval is returned."""
        stack, source = self._open(breakdown, exits)
        try:
            baseline = source.interval(0.0)  # the new counters count from here on
            old_stack, old = self._stack, self._source
            assert old is not None
            old.detach()
            last = self._deltas(old.interval(elapsed_s))
        except BaseException:
            stack.close()
            raise
        old_stack.close()
        self._stack, self._source = stack, source
        self.breakdown, self.exits = breakdown, exits
        self._since_load = {key: baseline.notes.get(key, 0) for key in SINCE_START}
        return last

    def _deltas(self, snapshot: Snapshot) -> Snapshot:
        notes = dict(snapshot.notes)
        for key in SINCE_START:
            now = notes.get(key, self._since_load.get(key, 0))
            notes[key] = now - self._since_load.get(key, 0)
            self._since_load[key] = now
        return replace(snapshot, notes={k: v for k, v in notes.items() if v})
