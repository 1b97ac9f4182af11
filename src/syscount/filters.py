"""What to count, decided in the kernel before counting.

``Selection`` is what the user asked for (comm, uid, cgroup, syscalls, failures);
``Filters`` turns it, with the optional ``ProcessFilter``, into what each BPF program
needs: the ``struct sc_filter_config`` at the start of its const volatile config
(track.h), the shared ``tracked`` map, and the cgroup in its ``cgroup_filter`` map.
Every program calls ``sc_selected()`` (entry) and ``sc_result_selected()`` (exit).

The process filter itself (-p, -- COMMAND) is programs/track.py's ``ProcessFilter``.
"""

from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING, NamedTuple

from .errors import SyscountError
from .kernel.objects import BpfObject
from .kernel.structs import FILTER_CONFIG
from .names.cgroups import open_cgroup

if TYPE_CHECKING:
    from .names.syscalls import SyscallTable
    from .programs.track import ProcessFilter

TRACKED_MAP = "tracked"  # track.h: shared by every filtering program, owned by track.bpf.o


class Selection(NamedTuple):
    """The user's filters besides processes; None/empty means "don't filter on it"."""

    comm: str | None = None
    uid: int | None = None
    cgroup: str | None = None  # a cgroup v2 directory: that cgroup and everything below
    syscalls: frozenset[int] | None = None  # slots: ABI bank * 512 + number
    failed_only: bool = False
    errno: int = 0  # with failed_only: only this errno
    include_self: bool = False  # system-wide: count syscount's own calls too (--include-self)

    @property
    def needs_exit(self) -> bool:
        """Only a program that sees the syscall's return can apply it."""
        return self.failed_only


_CONFIG = FILTER_CONFIG.packer()  # struct sc_filter_config (track.h)


def filter_config(selection: Selection, *, by_pid: bool, execve_nr: int, execveat_nr: int, self_tgid: int = 0) -> bytes:
    """``struct sc_filter_config`` (track.h), the first member of each program's config.

    ``self_tgid`` (syscount's own process) is left out of what is counted; 0 counts it."""
    bitmap = bytearray(FILTER_CONFIG.fields["syscalls"].length)
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
        0,  # pad
        selection.uid or 0,
        selection.errno,
        execve_nr,
        execveat_nr,
        self_tgid,
        comm,
        bytes(bitmap),
    )


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
        by_pid = self.processes is not None
        return filter_config(
            self.selection, by_pid=by_pid, execve_nr=execve, execveat_nr=execveat, self_tgid=self.excluded_tgid()
        )

    def excluded_tgid(self) -> int:
        """syscount's own process when the view is system-wide, else 0 (nothing left out).

        Reading the kernel and writing output are syscount's own calls, an artefact of
        watching, not news about the machine (docs/output.md). With -p or a command
        syscount is not among the followed processes anyway: no check is spent."""
        if self.processes is not None or self.selection.include_self:
            return 0
        return os.getpid()

    def before_load(self, bpf: BpfObject) -> None:
        """Share the process filter's map, or keep the unused one minimal."""
        if self.processes is not None:
            self.processes.attach_to(bpf)
        else:
            bpf.shrink_map(TRACKED_MAP)

    def after_load(self, bpf: BpfObject) -> None:
        """Point ``cgroup_filter`` at the --cgroup directory."""
        if self.selection.cgroup is None:
            return
        directory = open_cgroup(self.selection.cgroup)
        try:
            bpf.map("cgroup_filter").update(struct.pack("I", 0), struct.pack("I", directory))
        except OSError as exc:
            raise SyscountError(f"--cgroup {self.selection.cgroup}: {exc.strerror}") from exc
        finally:
            os.close(directory)
