"""The BPF programs' own cost: the kernel's run-time statistics for syscount's programs.

The kernel counts run time and runs per program only while statistics are on,
system-wide, either through the ``kernel.bpf_stats_enabled`` sysctl or while some
process holds a ``bpf_enable_stats`` fd. It costs two clock reads per program run,
for every BPF program on the machine, so ``syscount serve`` turns it on only with
``--bpf-stats`` (holding the fd, so it turns itself off when syscount exits).

The programs are found among this process's open fds (``anon_inode:bpf-prog``):
every program syscount loaded, whichever collector or filter owns it, with no
reaching into their objects.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from ...closing import Closing
from ...errors import NotSupported, PermissionDenied
from ...kernel.stats import ProgramInfo, enable_run_time_stats, own_programs

SYSCTL = Path("/proc/sys/kernel/bpf_stats_enabled")


class BpfStats(Closing):
    """Context manager: with ``enable``, keeps the kernel's BPF statistics on while open."""

    def __init__(self, *, enable: bool) -> None:
        self._enable = enable
        self._fd: int | None = None

    def __enter__(self) -> BpfStats:
        if self._enable:
            self._fd = _enable()
        return self

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def enabled(self) -> bool:
        """Are run time and runs being counted now (by our fd or by the sysctl)?

        Reading the sysctl shows only its own setting, not fds like ours."""
        return self._fd is not None or _sysctl_on()

    def programs(self) -> list[ProgramInfo]:
        return own_programs()


def _enable() -> int:
    try:
        return enable_run_time_stats()
    except OSError as exc:
        if exc.errno in (errno.EPERM, errno.EACCES):
            raise PermissionDenied("--bpf-stats: turning on BPF statistics") from exc
        raise NotSupported(
            "--bpf-stats", f"the kernel refused BPF statistics: {exc.strerror} (needs Linux 5.8)"
        ) from exc


def _sysctl_on() -> bool:
    try:
        return SYSCTL.read_text().strip() not in ("", "0")
    except OSError:
        return False
