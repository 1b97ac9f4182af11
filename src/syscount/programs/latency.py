"""latency.bpf.o (-L, -x, -e): per-syscall calls, time, min/max, log2 histogram, errors by errno.

The kernel writes one of two per-CPU statistics arrays, chosen by ``epoch``.
``take()`` flips the epoch, waits for programs still writing the old array to finish
(they run with preemption disabled, for microseconds; 2 ms is a wide margin), reads
that array in one system call and zeroes it in another. Each take therefore covers
exactly the calls that finished since the previous one; readings.py adds takes up
into cumulative totals. Errno counts only grow in the kernel.
"""

from __future__ import annotations

import struct
import time
from typing import NamedTuple

from ..filters import Filters
from ..kernel.maps import possible_cpus
from ..kernel.objects import BpfObject
from ..kernel.structs import CPU_ROWS, ERRNO_KEY, LAT_CONFIG, LAT_GLOBALS, LAT_STATS, SLOTS
from ..model import SyscallTime, merge_all
from ..names.syscalls import NO_RETURN, slots_named
from .base import SyscallProgram

STEM = "latency"
EPOCH_SETTLE_S = 0.002
NORETURN_SLOTS = LAT_CONFIG.fields["noreturn_slots"].length
_STATS = LAT_STATS.packer()
_ERRNO_KEY = ERRNO_KEY.packer()


class LatencyTake(NamedTuple):
    """What finished since the previous take, by slot; the other figures are since load."""

    stats: dict[int, SyscallTime]
    errnos: dict[tuple[int, int], int]  # (slot, errno) -> calls since load
    in_flight: int
    errno_overflow: int  # since load
    untimed: int  # since load


class LatencyProgram(SyscallProgram):
    def __init__(self, filters: Filters, breakdown: str | None = None, *, max_rows: int = 0) -> None:
        super().__init__(STEM, filters, breakdown, max_rows)
        self._epoch = 0

    def setup(self, bpf: BpfObject) -> None:
        self.load_with(bpf, self._config())
        self._cpus = possible_cpus()
        self._globals = bpf.mmap(".bss", writable=True)
        self._stats = (bpf.map("stats0"), bpf.map("stats1"))
        self._errnos = bpf.map("errnos")
        # Exit and switch first: no start is recorded before its exit and spill are watched.
        bpf.attach("latency_exit")
        bpf.attach("latency_switch")
        bpf.attach("latency_enter")

    def _config(self) -> bytes:
        """``struct sc_lat_config`` (latency.h): unused no-return entries repeat used ones."""
        slots = slots_named(self.tables, NO_RETURN)
        noreturn = (slots * NORETURN_SLOTS)[:NORETURN_SLOTS]
        rest = struct.pack(f"={NORETURN_SLOTS}III", *noreturn, self.breakdown_code, 0)
        return LAT_CONFIG.join(self.filters.config(), rest)

    def take(self) -> LatencyTake:
        old = self._epoch
        self._epoch ^= 1
        struct.pack_into("=I", self._globals, LAT_GLOBALS.offset("epoch"), self._epoch)
        time.sleep(EPOCH_SETTLE_S)
        stats = self._drain(old)
        (errno_overflow,) = struct.unpack_from("=Q", self._globals, LAT_GLOBALS.offset("errno_overflow"))
        (untimed,) = struct.unpack_from("=Q", self._globals, LAT_GLOBALS.offset("untimed"))
        return LatencyTake(stats, self._errno_counts(), self._in_flight(), errno_overflow, untimed)

    def _drain(self, epoch: int) -> dict[int, SyscallTime]:
        stats_map = self._stats[epoch]
        raw = stats_map.read_array(SLOTS, LAT_STATS.size * self._cpus)
        stats_map.write_array(SLOTS, bytes(len(raw)))
        stats: dict[int, SyscallTime] = {}
        values = _STATS.iter_unpack(raw)
        for slot in range(SLOTS):
            rows = [next(values) for _ in range(self._cpus)]
            merged = merge_all(_as_time(row) for row in rows if row[0])  # row[0]: calls
            if merged is not None:
                stats[slot] = merged
        return stats

    def _errno_counts(self) -> dict[tuple[int, int], int]:
        counts: dict[tuple[int, int], int] = {}
        for key, value in self._errnos.items(ERRNO_KEY.size, 8):
            slot, err = _ERRNO_KEY.unpack(key)
            (counts[(slot, err)],) = struct.unpack("=Q", value)
        return counts

    def keyed_other(self) -> tuple[int, ...]:
        """Per slot: breakdown calls that found the keyed map full (only grows)."""
        return struct.unpack_from(f"={SLOTS}Q", self._globals, LAT_GLOBALS.offset("keyed_other"))

    def _in_flight(self) -> int:
        entered = struct.unpack_from(f"={CPU_ROWS}Q", self._globals, LAT_GLOBALS.offset("entered"))
        completed = struct.unpack_from(f"={CPU_ROWS}Q", self._globals, LAT_GLOBALS.offset("completed"))
        return int(sum(entered) - sum(completed))


def _as_time(values: tuple[int, ...]) -> SyscallTime:
    calls, total, low, high, errors, *hist = values
    return SyscallTime(calls, total, low, high, errors, tuple(hist))
