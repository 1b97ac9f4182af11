"""Latency collector (-L): per-syscall calls, time, min/max, log2 histogram, errors by errno.

The kernel writes one of two per-CPU statistics arrays, chosen by ``epoch``.
``take()`` flips the epoch, waits for programs still writing the old array to finish
(they run with preemption disabled, for microseconds; 2 ms is a wide margin), reads
that array in one system call and zeroes it in another. Each take therefore covers
exactly the calls that finished since the previous one. Errno counts only grow in
the kernel and are diffed here.
"""

from __future__ import annotations

import struct
import time
from typing import NamedTuple

from ..errors import LoadError
from ..filters import Filters
from ..kernel import libbpf as _libbpf
from ..kernel.layout import header_constants
from ..kernel.objects import BpfObject
from ..model import SyscallTime, merge_all
from .base import SyscallCollector

STEM = "latency"
EPOCH_SETTLE_S = 0.002


class LatencyLayout(NamedTuple):
    """Constants of bpf/latency.h."""

    slots: int
    nr_slots: int  # per ABI bank
    buckets: int
    max_cpus: int

    @classmethod
    def from_header(cls) -> LatencyLayout:
        c = header_constants("latency.h")
        return cls(
            slots=c["SC_LAT_SLOTS"],
            nr_slots=c["SC_LAT_NR_SLOTS"],
            buckets=c["SC_HIST_BUCKETS"],
            max_cpus=c["SC_LAT_MAX_CPUS"],
        )

    @property
    def stats_bytes(self) -> int:
        return 8 * (5 + self.buckets)  # struct sc_lat_stats


class LatencyTake(NamedTuple):
    """What finished since the previous take, by slot; errno counts are cumulative."""

    stats: dict[int, SyscallTime]
    errnos: dict[tuple[int, int], int]  # (slot, errno) -> calls since load
    in_flight: int
    errno_overflow: int  # since load
    untimed: int  # since load


class LatencyCollector(SyscallCollector):
    def __init__(self, filters: Filters, breakdown: str | None = None, *, max_rows: int = 0) -> None:
        self.layout = LatencyLayout.from_header()
        super().__init__(STEM, filters, breakdown, max_rows, self.layout.nr_slots)
        self._epoch = 0

    def setup(self, bpf: BpfObject) -> None:
        self.load_with(bpf, self._config())
        self._cpus = _libbpf.num_possible_cpus()
        self._globals = bpf.mmap(".bss", writable=True)
        self._stats_fds = (bpf.map_fd("stats0"), bpf.map_fd("stats1"))
        self._errnos_fd = bpf.map_fd("errnos")
        # Exit and switch first: no start is recorded before its exit and spill are watched.
        bpf.attach("latency_exit")
        bpf.attach("latency_switch")
        bpf.attach("latency_enter")

    def _config(self) -> bytes:
        """``struct sc_lat_config`` (latency.h)."""
        return self.filters.config() + struct.pack("4III", *self._noreturn_slots(), self.breakdown_code, 0)

    def _noreturn_slots(self) -> list[int]:
        """exit and exit_group of every ABI this machine has, as slots (bank * 512 + nr)."""
        slots = []
        for bank, table in enumerate(self.tables):
            for name in ("exit", "exit_group"):
                number = table.number(name)
                if number is None:
                    raise LoadError(f"the {table.arch} syscall table lacks {name}")
                slots.append(bank * self.layout.nr_slots + number)
        return (slots * 2)[:4]

    def take(self) -> LatencyTake:
        old = self._epoch
        self._epoch ^= 1
        struct.pack_into("I", self._globals, 0, self._epoch)
        time.sleep(EPOCH_SETTLE_S)
        stats = self._drain(self._stats_fds[old])
        errno_overflow, untimed = struct.unpack_from("QQ", self._globals, 8)
        return LatencyTake(
            stats=stats,
            errnos=self._errnos(),
            in_flight=self._in_flight(),
            errno_overflow=errno_overflow,
            untimed=untimed,
        )

    def _drain(self, fd: int) -> dict[int, SyscallTime]:
        layout = self.layout
        per_cpu = layout.stats_bytes
        raw = _libbpf.array_read_all(fd, layout.slots, per_cpu * self._cpus)
        _libbpf.array_write_all(fd, layout.slots, bytes(len(raw)))
        fields = 5 + layout.buckets
        stats: dict[int, SyscallTime] = {}
        values = struct.iter_unpack(f"{fields}Q", raw)
        for slot in range(layout.slots):
            rows = [next(values) for _ in range(self._cpus)]
            merged = merge_all(_as_time(row) for row in rows if row[0])  # row[0]: calls
            if merged is not None:
                stats[slot] = merged
        return stats

    def _errnos(self) -> dict[tuple[int, int], int]:
        counts: dict[tuple[int, int], int] = {}
        for key, value in _libbpf.map_items(self._errnos_fd, 8, 8):
            slot, err = struct.unpack("II", key)
            (counts[(slot, err)],) = struct.unpack("Q", value)
        return counts

    def keyed_other(self) -> tuple[int, ...]:
        """Per slot: breakdown calls that found the keyed map full (only grows)."""
        offset = 24 + 16 * self.layout.max_cpus  # after entered[] and completed[] (latency.h)
        return struct.unpack_from(f"{self.layout.slots}Q", self._globals, offset)

    def _in_flight(self) -> int:
        cpus = self.layout.max_cpus
        rows = struct.unpack_from(f"{2 * cpus}Q", self._globals, 24)
        return int(sum(rows[:cpus]) - sum(rows[cpus:]))


def _as_time(values: tuple[int, ...]) -> SyscallTime:
    calls, total, low, high, errors, *hist = values
    return SyscallTime(calls, total, low, high, errors, tuple(hist))
