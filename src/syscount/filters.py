"""Which processes to count, decided in the kernel before counting.

``ProcessFilter`` loads track.bpf.o, which owns the ``tracked`` map (tgid → how) and
keeps it current as processes fork and exit. Every counting program shares that map
(``attach_to``) and checks it first thing on each syscall. Without -p or a command
no filter is loaded at all: system-wide counting never pays for it.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from . import _libbpf
from .errors import SyscountError
from .headers import header_constants
from .objects import BpfObject, ObjectOwner

MAP = "tracked"


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


def filter_config(enabled: bool, execve_nr: int, execveat_nr: int) -> bytes:
    """``struct sc_filter_config`` (track.h), the start of each filtering program's config."""
    return struct.pack("B3xIII", 1 if enabled else 0, execve_nr, execveat_nr, 0)


class ProcessFilter(ObjectOwner):
    """Context manager: the ``tracked`` map and the programs that follow forks and exits."""

    def __init__(self) -> None:
        super().__init__("track")
        self.constants = FilterConstants.from_header()

    def setup(self, bpf: BpfObject) -> None:
        bpf.load()
        self.map_fd = bpf.map_fd(MAP)
        self._stats = bpf.mmap(".bss")
        bpf.attach("follow_fork")
        bpf.attach("forget_exit")

    def attach_to(self, bpf: BpfObject) -> None:
        """Make ``bpf`` (opened, not loaded) use this filter's map."""
        bpf.share_map(MAP, self.map_fd)

    def add(self, tgid: int) -> None:
        """Count process ``tgid``: all its threads, not its children (-p)."""
        self._put(tgid, self.constants.only)

    def add_from_exec(self, tgid: int) -> None:
        """Count process ``tgid`` and all its descendants from its next execve on (-- COMMAND)."""
        self._put(tgid, self.constants.at_exec)

    def _put(self, tgid: int, how: int) -> None:
        try:
            _libbpf.map_update(self.map_fd, struct.pack("I", tgid), struct.pack("B", how))
        except OSError as exc:
            raise SyscountError(f"adding pid {tgid} to the filter: {exc.strerror}") from exc

    def untracked_forks(self) -> int:
        """Children of followed processes that a full map could not take (only grows)."""
        (value,) = struct.unpack_from("Q", self._stats, 0)
        return int(value)
