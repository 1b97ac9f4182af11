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

__all__ = ["ProgramInfo", "enable_run_time_stats", "libbpf_version", "own_programs"]


def enable_run_time_stats() -> int:
    """An fd that keeps run-time statistics on until closed (OSError if refused)."""
    return _libbpf.enable_stats()


def own_programs() -> list[ProgramInfo]:
    """The BPF programs this process holds, each once, by id."""
    programs: dict[int, ProgramInfo] = {}
    for entry in os.scandir(FD_DIR):
        try:
            if os.readlink(entry.path) != PROGRAM_LINK:
                continue
            info = _libbpf.program_info(int(entry.name))
        except OSError:
            continue  # closed meanwhile (or the number reused by another kind of fd)
        programs[info.id] = info
    return sorted(programs.values())


def libbpf_version() -> str:
    return _libbpf.version()
