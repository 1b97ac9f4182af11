"""The process filter (-p, -- COMMAND): track.bpf.o and its ``tracked`` map.

track.bpf.o owns the ``tracked`` map (tgid → how) and keeps it current as processes
fork and exit; every filtering program shares that map (``attach_to``) before it
loads. Without -p or a command it is not loaded at all: system-wide counting never
pays for it (following forks needs kernel BTF, ~15 ms to load).
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from ..errors import SyscountError
from ..filters import TRACKED_MAP
from ..kernel.layout import header_constants
from ..kernel.objects import BpfObject, ObjectOwner
from ..kernel.structs import TRACK_STATS


class FilterConstants(NamedTuple):
    """The SC_TRACK_* values of bpf/track.h."""

    max_tracked: int
    only: int
    follow: int
    at_exec: int

    @classmethod
    def from_header(cls) -> FilterConstants:
        c = header_constants("track.h")
        return cls(c["SC_MAX_TRACKED"], c["SC_TRACK_ONLY"], c["SC_TRACK_FOLLOW"], c["SC_TRACK_AT_EXEC"])


class ProcessFilter(ObjectOwner):
    """Context manager: the ``tracked`` map and the programs that follow forks and exits."""

    def __init__(self) -> None:
        super().__init__("track")
        self.constants = FilterConstants.from_header()

    def setup(self, bpf: BpfObject) -> None:
        bpf.load()
        self._tracked = bpf.map(TRACKED_MAP)
        self._stats = bpf.mmap(".bss")
        bpf.attach("follow_fork")
        bpf.attach("forget_exit")

    def attach_to(self, bpf: BpfObject) -> None:
        """Make ``bpf`` (opened, not loaded) use this filter's map."""
        bpf.share_map(TRACKED_MAP, self._tracked.fd)

    def add(self, tgid: int) -> None:
        """Count process ``tgid``: all its threads, not its children (-p)."""
        self._put(tgid, self.constants.only)

    def add_from_exec(self, tgid: int) -> None:
        """Count process ``tgid`` and all its descendants from its next execve on (-- COMMAND)."""
        self._put(tgid, self.constants.at_exec)

    def _put(self, tgid: int, how: int) -> None:
        try:
            self._tracked.update(struct.pack("I", tgid), struct.pack("B", how))
        except OSError as exc:
            raise SyscountError(f"adding pid {tgid} to the filter: {exc.strerror}") from exc

    def untracked_forks(self) -> int:
        """Children of followed processes that a full map could not take (only grows)."""
        (value,) = struct.unpack_from("Q", self._stats, TRACK_STATS.offset("untracked_forks"))
        return int(value)
