"""Counts collector: loads counts.bpf.o and reads its per-CPU counters from the mmapped ``.bss``.

The kernel only ever adds; this module remembers the previous reading and hands out
differences, so no count is lost between two reads and nothing is ever reset.
"""

from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass
from types import TracebackType

from .. import _libbpf
from ..errors import LoadError, SyscountError
from ..objects import BpfObject
from ..snapshot import Snapshot, sorted_counts, utc_now
from ..syscalls import SyscallTable, native_table
from .layout import header_constants

STEM = "counts"
OUT_OF_RANGE = "unknown(out-of-range)"


@dataclass(frozen=True)
class CountsLayout:
    """Where things are in ``struct sc_counters`` (mirrors bpf/counts.h)."""

    max_cpus: int
    nr_slots: int
    abis: int
    max_tracked: int
    track_only: int
    track_follow: int
    track_at_exec: int

    @classmethod
    def from_header(cls) -> CountsLayout:
        c = header_constants("counts.h")
        return cls(
            max_cpus=c["SC_MAX_CPUS"],
            nr_slots=c["SC_NR_SLOTS"],
            abis=c["SC_ABIS"],
            max_tracked=c["SC_MAX_TRACKED"],
            track_only=c["SC_TRACK_ONLY"],
            track_follow=c["SC_TRACK_FOLLOW"],
            track_at_exec=c["SC_TRACK_AT_EXEC"],
        )

    @property
    def row_slots(self) -> int:
        return self.abis * self.nr_slots

    @property
    def row_bytes(self) -> int:
        return self.row_slots * 8

    # track_failed + pad[7], then the shared row, then one row per CPU.
    HEADER_BYTES = 64

    @property
    def shared_offset(self) -> int:
        return self.HEADER_BYTES

    def cpu_offset(self, cpu: int) -> int:
        return self.HEADER_BYTES + self.row_bytes * (1 + cpu)

    @property
    def size(self) -> int:
        return self.cpu_offset(self.max_cpus)


@dataclass(frozen=True)
class Reading:
    """Cumulative totals since load: one value per (ABI bank, syscall slot)."""

    slots: tuple[int, ...]
    track_failed: int


class CountsCollector:
    """Context manager: attach on enter, detach on exit; ``read()`` gives cumulative totals."""

    def __init__(self, *, filter_processes: bool, table: SyscallTable | None = None) -> None:
        self.layout = CountsLayout.from_header()
        self.filter_processes = filter_processes
        self.table = table or native_table()
        self._object = BpfObject(STEM)
        self._cpus = 0

    def __enter__(self) -> CountsCollector:
        bpf = self._object.__enter__()
        try:
            bpf.configure(self._config())
            # The fork/exit programs only matter for the pid filter; unloaded, they cost nothing.
            bpf.set_autoload("follow_fork", self.filter_processes)
            bpf.set_autoload("forget_exit", self.filter_processes)
            bpf.load()
            self._check_layout()
            self._counters = bpf.mmap(".bss")
            self._cpus = _libbpf.num_possible_cpus()
            if self.filter_processes:
                self._tracked_fd = bpf.map_fd("tracked")
                bpf.attach("follow_fork")
                bpf.attach("forget_exit")
            bpf.attach("count_enter")
        except BaseException:
            bpf.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._object.close()

    def _config(self) -> bytes:
        """``struct sc_config`` (counts.h)."""
        execve = self.table.number("execve")
        execveat = self.table.number("execveat")
        if execve is None or execveat is None:
            raise LoadError(f"the {self.table.arch} syscall table has no execve/execveat")
        return struct.pack("B3xIII", 1 if self.filter_processes else 0, execve, execveat, 0)

    def _check_layout(self) -> None:
        actual = self._object.map_value_size(".bss")
        if actual != self.layout.size:
            raise LoadError(f"{self._object.name}: .bss is {actual} bytes, counts.h says {self.layout.size}")

    def track(self, tgid: int) -> None:
        """Count process ``tgid``: all its threads, not its children."""
        self._track(tgid, self.layout.track_only)

    def track_from_exec(self, tgid: int) -> None:
        """Count process ``tgid`` and its descendants, from its next execve on."""
        self._track(tgid, self.layout.track_at_exec)

    def _track(self, tgid: int, value: int) -> None:
        try:
            _libbpf.map_update(self._tracked_fd, struct.pack("I", tgid), struct.pack("B", value))
        except OSError as exc:
            raise SyscountError(f"adding pid {tgid} to the filter: {exc.strerror}") from exc

    def detach(self) -> None:
        """Stop counting; the counters stay readable for the final read."""
        self._object.detach_all()

    def read(self) -> Reading:
        layout = self.layout
        view = self._counters
        rows = [_row(view, layout.cpu_offset(cpu), layout.row_bytes) for cpu in range(min(self._cpus, layout.max_cpus))]
        if self._cpus > layout.max_cpus:
            rows.append(_row(view, layout.shared_offset, layout.row_bytes))
        slots = tuple(map(sum, zip(*rows, strict=True)))
        (track_failed,) = struct.unpack_from("Q", view, 0)
        return Reading(slots=slots, track_failed=track_failed)

    def name(self, slot: int) -> str:
        """Syscall name for a flat slot index (bank * nr_slots + nr)."""
        bank, nr = divmod(slot, self.layout.nr_slots)
        if nr == self.layout.nr_slots - 1:
            return OUT_OF_RANGE
        # Bank 0 is the native ABI; other banks are reserved for compat ABIs.
        return self.table.name(nr) if bank == 0 else f"abi{bank}:{self.table.name(nr)}"


def _row(view: object, offset: int, size: int) -> array[int]:
    row = array("Q")
    row.frombytes(view[offset : offset + size])  # type: ignore[index]
    return row


class Differ:
    """Turns cumulative readings into interval and whole-run snapshots."""

    def __init__(self, collector: CountsCollector, start: Reading | None = None) -> None:
        self._collector = collector
        zero = Reading(slots=(0,) * collector.layout.row_slots, track_failed=0)
        self._first = start or zero
        self._last = self._first

    def interval(self, elapsed_s: float, reading: Reading) -> Snapshot:
        snapshot = self._snapshot(self._last, reading, elapsed_s, final=False)
        self._last = reading
        return snapshot

    def summary(self, elapsed_s: float, reading: Reading) -> Snapshot:
        return self._snapshot(self._first, reading, elapsed_s, final=True)

    def _snapshot(self, before: Reading, after: Reading, elapsed_s: float, *, final: bool) -> Snapshot:
        counts: dict[str, int] = {}
        for slot, (old, new) in enumerate(zip(before.slots, after.slots, strict=True)):
            if new != old:
                name = self._collector.name(slot)
                counts[name] = counts.get(name, 0) + new - old
        notes = {"untracked_forks": after.track_failed - before.track_failed}
        return Snapshot(
            time=utc_now(),
            interval_s=elapsed_s,
            counts=sorted_counts(counts),
            final=final,
            notes={k: v for k, v in notes.items() if v},
        )
