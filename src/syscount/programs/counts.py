"""Counts collector: loads counts.bpf.o and reads its per-CPU counters from the mmapped ``.bss``.

``read()`` returns cumulative totals since load; ``deltas.Differ`` turns them into
snapshots. This module is imported before attaching, so it keeps its imports light.
"""

from __future__ import annotations

import struct
from array import array
from typing import NamedTuple

from ..errors import LoadError
from ..filters import Filters
from ..kernel import libbpf as _libbpf
from ..kernel.layout import header_constants
from ..kernel.objects import BpfObject
from .base import SyscallCollector

STEM = "counts"


class CountsLayout(NamedTuple):
    """Where things are in ``struct sc_counters`` (mirrors bpf/counts.h)."""

    max_cpus: int
    nr_slots: int
    abis: int

    @classmethod
    def from_header(cls) -> CountsLayout:
        c = header_constants("counts.h")
        return cls(max_cpus=c["SC_MAX_CPUS"], nr_slots=c["SC_NR_SLOTS"], abis=c["SC_ABIS"])

    @property
    def row_slots(self) -> int:
        return self.abis * self.nr_slots

    @property
    def row_bytes(self) -> int:
        return self.row_slots * 8

    # struct sc_counters: the breakdown's overflow row, the shared (atomic) row, then one row per CPU.
    @property
    def keyed_other_offset(self) -> int:
        return 0

    @property
    def shared_offset(self) -> int:
        return self.row_bytes

    def cpu_offset(self, cpu: int) -> int:
        return self.row_bytes * (2 + cpu)

    @property
    def size(self) -> int:
        return self.cpu_offset(self.max_cpus)


class Reading(NamedTuple):
    """Cumulative totals since load: one value per (ABI bank, syscall slot)."""

    slots: tuple[int, ...]
    untracked_forks: int


class CountsCollector(SyscallCollector):
    """Context manager: attach on enter, detach on exit; ``read()`` gives cumulative totals."""

    def __init__(self, filters: Filters, breakdown: str | None = None, *, max_rows: int = 0) -> None:
        self.layout = CountsLayout.from_header()
        super().__init__(STEM, filters, breakdown, max_rows, self.layout.nr_slots)
        self._cpus = 0

    def setup(self, bpf: BpfObject) -> None:
        config = self.filters.config() + struct.pack("II", self.breakdown_code, 0)  # struct sc_config
        self.load_with(bpf, config)
        self._check_layout()
        self._counters = bpf.mmap(".bss")
        self._cpus = _libbpf.num_possible_cpus()
        bpf.attach("count_enter")

    def _check_layout(self) -> None:
        actual = self._object.map_value_size(".bss")
        if actual != self.layout.size:
            raise LoadError(f"{self._object.name}: .bss is {actual} bytes, counts.h says {self.layout.size}")

    def read(self) -> Reading:
        layout = self.layout
        view = self._counters
        rows = [_row(view, layout.cpu_offset(cpu), layout.row_bytes) for cpu in range(min(self._cpus, layout.max_cpus))]
        if self._cpus > layout.max_cpus:
            rows.append(_row(view, layout.shared_offset, layout.row_bytes))
        slots = tuple(map(sum, zip(*rows, strict=True)))
        processes = self.filters.processes
        untracked = processes.untracked_forks() if processes else 0
        return Reading(slots=slots, untracked_forks=untracked)

    def keyed_other(self) -> tuple[int, ...]:
        """Per slot: breakdown calls that found the keyed map full (only grows)."""
        layout = self.layout
        return tuple(_row(self._counters, layout.keyed_other_offset, layout.row_bytes))


def _row(view: object, offset: int, size: int) -> array[int]:
    row = array("Q")
    row.frombytes(view[offset : offset + size])  # type: ignore[index]
    return row
