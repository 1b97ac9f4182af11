"""The process filter (-p, -- COMMAND): track.bpf.o and its ``tracked`` map.

track.bpf.o owns the ``tracked`` map (one byte per process id: how it is counted) and
keeps it current as processes fork and exit; every filtering program shares that map
(``attach_to``) before it loads. Without -p or a command it is not loaded at all:
system-wide counting never pays for it (following forks needs kernel BTF, ~15 ms to
load).

The array covers every id up to pid_max as it is at load (32 KB for the default
32 768, 4 MB for 4 194 304); user space writes a target's byte through a mapping,
before the target can run or while it cannot change it (track.h says why no atomics).
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from ..errors import SyscountError
from ..filters import TRACKED_MAP
from ..kernel.layout import header_constants
from ..kernel.objects import BpfObject, ObjectOwner
from ..kernel.structs import TRACK_ROW, TRACK_STATS
from ..names.procfs import has_exited


class FilterConstants(NamedTuple):
    """The SC_TRACK_* values of bpf/track.h."""

    only: int
    follow: int
    at_exec: int

    @classmethod
    def from_header(cls) -> FilterConstants:
        c = header_constants("track.h")
        return cls(c["SC_TRACK_ONLY"], c["SC_TRACK_FOLLOW"], c["SC_TRACK_AT_EXEC"])


class ProcessFilter(ObjectOwner):
    """Context manager: the ``tracked`` map and the programs that follow forks and exits."""

    def __init__(self) -> None:
        super().__init__("track")
        self.constants = FilterConstants.from_header()

    def setup(self, bpf: BpfObject) -> None:
        bpf.resize_map(TRACKED_MAP, -(-pid_max() // TRACK_ROW.size))
        bpf.load()
        self._tracked = bpf.map(TRACKED_MAP)
        self._bytes = bpf.mmap(TRACKED_MAP, writable=True)
        self._stats = bpf.mmap(".bss")
        bpf.attach("follow_fork")
        bpf.attach("forget_exit")

    def attach_to(self, bpf: BpfObject) -> None:
        """Make ``bpf`` (opened, not loaded) use this filter's map."""
        bpf.share_map(TRACKED_MAP, self._tracked.fd)

    def add(self, tgid: int) -> None:
        """Count process ``tgid``: all its threads, not its children (-p)."""
        self._put(tgid, self.constants.only)
        if has_exited(tgid):
            # It ended before its byte was set, so the kernel will never clear it: a
            # process that later gets this id must not be counted.
            self._bytes[tgid] = 0

    def add_from_exec(self, tgid: int) -> None:
        """Count process ``tgid`` and all its descendants from its next execve on (-- COMMAND)."""
        self._put(tgid, self.constants.at_exec)

    def _put(self, tgid: int, how: int) -> None:
        if tgid >= len(self._bytes):
            raise SyscountError(f"adding pid {tgid} to the filter: past pid_max when syscount started")
        self._bytes[tgid] = how  # one byte store: the kernel's writes to other ids are untouched

    def untracked_forks(self) -> int:
        """Children of followed processes that a full map could not take (only grows)."""
        (value,) = struct.unpack_from("Q", self._stats, TRACK_STATS.offset("untracked_forks"))
        return int(value)


def pid_max() -> int:
    """The largest process id the kernel hands out, plus one."""
    try:
        with open("/proc/sys/kernel/pid_max", encoding="ascii") as limit:
            return int(limit.read())
    except (OSError, ValueError):
        return 1 << 22  # PID_MAX_LIMIT on 64-bit kernels
