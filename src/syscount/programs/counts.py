"""counts.bpf.o: one increment per system call, in per-CPU rows of the mmapped ``.bss``.

``read()`` returns the counters since load, summed over CPUs; readings.py names them
and diffs readings. This module is imported before attaching, so it keeps its imports
light.
"""

from __future__ import annotations

import struct
from array import array
from typing import NamedTuple

from ..errors import LoadError
from ..filters import Filters
from ..kernel.maps import possible_cpus
from ..kernel.objects import BpfObject
from ..kernel.structs import COUNTERS, COUNTS_CONFIG, CPU_ROWS, SLOTS
from .base import SyscallProgram

STEM = "counts"
ROW_BYTES = 8 * SLOTS
SHARED_ROW = CPU_ROWS - 1  # common.h: the row CPUs beyond the others share


class CountsReading(NamedTuple):
    """Cumulative calls since load, per slot (bpf/common.h)."""

    slots: tuple[int, ...]
    untracked_forks: int | None


class CountsProgram(SyscallProgram):
    """Context manager: attach on enter, detach on exit; ``read()`` gives cumulative counts."""

    def __init__(self, filters: Filters, breakdown: str | None = None, *, max_rows: int = 0) -> None:
        super().__init__(STEM, filters, breakdown, max_rows)
        self._rows: list[int] = []

    def setup(self, bpf: BpfObject) -> None:
        config = COUNTS_CONFIG.join(self.filters.config(), struct.pack("=II", self.breakdown_code, 0))
        self.load_with(bpf, config)
        self._check_layout()
        self._counters = bpf.mmap(".bss")
        cpus = possible_cpus()
        self._rows = list(range(min(cpus, SHARED_ROW))) + ([SHARED_ROW] if cpus > SHARED_ROW else [])
        bpf.attach("count_enter")

    def _check_layout(self) -> None:
        actual = self._object.map_value_size(".bss")
        if actual != COUNTERS.size:
            raise LoadError(f"{self._object.name}: .bss is {actual} bytes, the mirror says {COUNTERS.size}")

    def read(self) -> CountsReading:
        base = COUNTERS.offset("cpu")
        rows = [_row(self._counters, base + row * ROW_BYTES) for row in self._rows]
        return CountsReading(tuple(map(sum, zip(*rows, strict=True))), self.untracked_forks())

    def keyed_other(self) -> tuple[int, ...]:
        """Per slot: breakdown calls that found the keyed map full (only grows)."""
        return tuple(_row(self._counters, COUNTERS.offset("keyed_other")))


def _row(view: object, offset: int) -> array[int]:
    row = array("Q")
    row.frombytes(view[offset : offset + ROW_BYTES])  # type: ignore[index]
    return row
