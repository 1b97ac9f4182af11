"""What to count, decided in the kernel before counting.

``Selection`` is what the user asked for (comm, uid, cgroup, syscalls, failures);
``Filters`` turns it, with the optional ``ProcessFilter``, into what each BPF program
needs: the ``struct sc_filter_config`` at the start of its const volatile config
(track.h), the shared ``tracked`` map, and the cgroup in its ``cgroup_filter`` map.
Every program calls ``sc_selected()`` (entry) and ``sc_result_selected()`` (exit).

``ProcessFilter`` loads track.bpf.o, which owns the ``tracked`` map (tgid → how) and
keeps it current as processes fork and exit. Without -p or a command it is not loaded
at all: system-wide counting never pays for it.
"""

from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING, NamedTuple

from .errors import SyscountError, TargetError
from .kernel import libbpf as _libbpf
from .kernel.layout import header_constants
from .kernel.objects import BpfObject, ObjectOwner

if TYPE_CHECKING:
    from .names.syscalls import SyscallTable

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


class Selection(NamedTuple):
    """The user's filters besides processes; None/empty means "don't filter on it"."""

    comm: str | None = None
    uid: int | None = None
    cgroup: str | None = None  # a cgroup v2 directory: that cgroup and everything below
    syscalls: frozenset[int] | None = None  # slots: ABI bank * 512 + number
    failed_only: bool = False
    errno: int = 0  # with failed_only: only this errno

    @property
    def needs_exit(self) -> bool:
        """Only a program that sees the syscall's return can apply it."""
        return self.failed_only


_CONFIG = struct.Struct("6B2xIIII16s128s")  # struct sc_filter_config (track.h); a unit test checks the size


def filter_config(selection: Selection, *, by_pid: bool, execve_nr: int, execveat_nr: int) -> bytes:
    """``struct sc_filter_config`` (track.h), the first member of each program's config."""
    bitmap = bytearray(header_constants("track.h")["SC_FILTER_SLOTS"] // 8)
    for slot in selection.syscalls or ():
        bitmap[slot // 8] |= 1 << (slot % 8)
    comm = (selection.comm or "").encode()[:15]
    return _CONFIG.pack(
        by_pid,
        selection.comm is not None,
        selection.uid is not None,
        selection.cgroup is not None,
        selection.syscalls is not None,
        selection.failed_only,
        selection.uid or 0,
        selection.errno,
        execve_nr,
        execveat_nr,
        comm,
        bytes(bitmap),
    )


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


class Filters:
    """Everything a BPF program needs to filter the way the user asked."""

    def __init__(self, selection: Selection, processes: ProcessFilter | None, table: SyscallTable) -> None:
        self.selection = selection
        self.processes = processes
        numbers = table.number("execve"), table.number("execveat")
        if numbers[0] is None or numbers[1] is None:
            raise SyscountError(f"the {table.arch} syscall table has no execve/execveat")
        self._exec_numbers = numbers[0], numbers[1]

    def config(self) -> bytes:
        execve, execveat = self._exec_numbers
        return filter_config(self.selection, by_pid=self.processes is not None, execve_nr=execve, execveat_nr=execveat)

    def before_load(self, bpf: BpfObject) -> None:
        """Share the process filter's map, or keep the unused one minimal."""
        if self.processes is not None:
            self.processes.attach_to(bpf)
        else:
            bpf.shrink_map(MAP)

    def after_load(self, bpf: BpfObject) -> None:
        """Point ``cgroup_filter`` at the --cgroup directory."""
        if self.selection.cgroup is None:
            return
        directory = open_cgroup(self.selection.cgroup)
        try:
            _libbpf.map_update(bpf.map_fd("cgroup_filter"), struct.pack("I", 0), struct.pack("I", directory))
        except OSError as exc:
            raise SyscountError(f"--cgroup {self.selection.cgroup}: {exc.strerror}") from exc
        finally:
            os.close(directory)


def cgroup2_root() -> str | None:
    """Where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup, or e.g. /sys/fs/cgroup/unified
    on hybrid systems; None when it is not mounted."""
    try:
        with open("/proc/self/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                fields = line.split()
                if len(fields) > 2 and fields[2] == "cgroup2":
                    return fields[1]
    except OSError:
        pass
    return None


def cgroup_directory(path: str) -> str:
    """A cgroup v2 path as given (absolute, or relative to the cgroup2 mount) → its directory."""
    root = cgroup2_root()
    if root is None:
        raise TargetError("--cgroup: cgroup v2 is not mounted (mount -t cgroup2 none /sys/fs/cgroup)")
    directory = path if path.startswith(root + "/") or path == root else os.path.join(root, path.lstrip("/"))
    if not os.path.isdir(directory) or not os.path.exists(os.path.join(directory, "cgroup.procs")):
        raise TargetError(f"--cgroup {path}: no such cgroup (looked for {directory}/cgroup.procs)")
    return directory


def open_cgroup(path: str) -> int:
    try:
        return os.open(cgroup_directory(path), os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise TargetError(f"--cgroup {path}: {exc.strerror}") from exc
