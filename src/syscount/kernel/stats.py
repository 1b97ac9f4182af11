"""The kernel's run-time statistics of BPF programs, and the libbpf in use.

The kernel counts each program's run time and runs only while statistics are on:
through the ``kernel.bpf_stats_enabled`` sysctl, or while some process holds a
``bpf_enable_stats`` fd (``enable_run_time_stats``). Programs are found among this
process's open fds (``anon_inode:bpf-prog``): every program syscount loaded.
"""

from __future__ import annotations

import os

from . import libbpf as _libbpf
from .libbpf import ProgramInfo

FD_DIR = "/proc/self/fd"
PROGRAM_LINK = "anon_inode:bpf-prog"

__all__ = ["ProgramInfo", "enable_run_time_stats", "libbpf_version", "own_programs", "program_fds", "read_one_program"]


def enable_run_time_stats() -> int:
    """An fd that keeps run-time statistics on until closed (OSError if refused)."""
    return _libbpf.enable_stats()


def program_fds() -> list[int]:
    """This process's file descriptors that hold a BPF program."""
    fds = []
    for entry in os.scandir(FD_DIR):
        try:
            if os.readlink(entry.path) == PROGRAM_LINK:
                fds.append(int(entry.name))
        except OSError:
            continue  # closed meanwhile
    return fds


def own_programs() -> list[ProgramInfo]:
    """The BPF programs this process holds, each once, by id."""
    programs: dict[int, ProgramInfo] = {}
    for fd in program_fds():
        try:
            info = _libbpf.program_info(fd)
        except OSError:
            continue  # closed meanwhile (or the number reused by another kind of fd)
        programs[info.id] = info
    return sorted(programs.values())


def read_one_program() -> None:
    """One read-only bpf() call on a program this process holds; raises if it fails.

    The probe for dropping capabilities (privileges.py): kernels before 6.5 with
    kernel.unprivileged_bpf_disabled set refuse every bpf() command, map reads
    included, without CAP_BPF; later ones check only when maps and programs are
    created. Unlike a scrape it changes no state (-L readings hand intervals over)."""
    fds = program_fds()
    if not fds:
        raise OSError("no BPF program held")
    _libbpf.program_info(fds[0])


def libbpf_version() -> str:
    return _libbpf.version()
