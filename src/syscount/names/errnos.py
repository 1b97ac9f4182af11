"""Errno numbers <-> names, as a syscall tracer should print them.

Standard errnos come from Python's :mod:`errno`, which is built from the
platform's libc headers and so tracks the kernel's ``include/uapi`` values on
Linux.  Where libc has several names for one number, the table below picks the
one strace prints.  Kernel-internal errnos (512 and up) are not in libc at all,
yet a syscall-exit trace can see them: a call interrupted by a signal exits with
-ERESTARTSYS before the kernel rewrites it to EINTR or restarts it, so they are
added from the kernel's ``include/linux/errno.h``.

Unknown numbers print as ``ERRNO_<n>``; ``unknown(<n>)`` is the spelling for
unknown *syscall* numbers, and the two must not be confused in one report.
"""

from __future__ import annotations

import errno
import os
from types import MappingProxyType

# One number, several libc names: strace (and most documentation) uses the first.
_PREFERRED: dict[int, str] = {
    errno.EAGAIN: "EAGAIN",  # not EWOULDBLOCK
    errno.EDEADLK: "EDEADLK",  # not EDEADLOCK
    errno.EOPNOTSUPP: "EOPNOTSUPP",  # not ENOTSUP
}

# include/linux/errno.h (numbers checked against Linux 6.12.117), with its own
# comments where it has them.  520 is unassigned.  "Should never be seen by user programs",
# but tracing at syscall exit happens before the kernel translates them.
_KERNEL_INTERNAL: dict[int, tuple[str, str]] = {
    512: ("ERESTARTSYS", "Restart the system call after the signal handler (kernel-internal)"),
    513: ("ERESTARTNOINTR", "Restart the system call, even after a signal handler (kernel-internal)"),
    514: ("ERESTARTNOHAND", "Restart if no signal handler ran (kernel-internal)"),
    515: ("ENOIOCTLCMD", "No ioctl command (kernel-internal)"),
    516: ("ERESTART_RESTARTBLOCK", "Restart by calling restart_syscall (kernel-internal)"),
    517: ("EPROBE_DEFER", "Driver requests probe retry (kernel-internal)"),
    518: ("EOPENSTALE", "Open found a stale dentry (kernel-internal)"),
    519: ("ENOPARAM", "Parameter not supported (kernel-internal)"),
    521: ("EBADHANDLE", "Illegal NFS file handle (kernel-internal)"),
    522: ("ENOTSYNC", "Update synchronization mismatch (kernel-internal)"),
    523: ("EBADCOOKIE", "Cookie is stale (kernel-internal)"),
    524: ("ENOTSUPP", "Operation is not supported (kernel-internal)"),
    525: ("ETOOSMALL", "Buffer or request is too small (kernel-internal)"),
    526: ("ESERVERFAULT", "An untranslatable error occurred (kernel-internal)"),
    527: ("EBADTYPE", "Type not supported by server (kernel-internal)"),
    528: ("EJUKEBOX", "Request initiated, but will not complete before timeout (kernel-internal)"),
    529: ("EIOCBQUEUED", "iocb queued, will get completion event (kernel-internal)"),
    530: ("ERECALLCONFLICT", "Conflict with recalled state (kernel-internal)"),
    531: ("ENOGRACE", "NFS file lock reclaim refused (kernel-internal)"),
}


def _build_names() -> dict[int, str]:
    names = dict(errno.errorcode)
    names.update(_PREFERRED)
    for number, (name, _) in _KERNEL_INTERNAL.items():
        # libc never defines these; if one ever does, keep libc's name for that number.
        names.setdefault(number, name)
    return dict(sorted(names.items()))


def _build_numbers() -> dict[str, int]:
    # Every alias resolves, so `errno_number("EWOULDBLOCK")` works although it never prints.
    numbers = {name: value for name, value in vars(errno).items() if name.startswith("E") and isinstance(value, int)}
    for number, (name, _) in _KERNEL_INTERNAL.items():
        numbers.setdefault(name, number)
    return numbers


NAMES: MappingProxyType[int, str] = MappingProxyType(_build_names())
NUMBERS: MappingProxyType[str, int] = MappingProxyType(_build_numbers())


def errno_name(n: int) -> str:
    """Return the symbolic name of errno ``n`` (positive, as in ``errno``), e.g. 2 -> "ENOENT".

    For a raw syscall return value, pass ``-ret``.  Unknown or non-positive numbers
    give ``"ERRNO_<n>"`` so they stay distinguishable from names.
    """
    return NAMES.get(n, f"ERRNO_{n}")


def errno_number(name: str) -> int | None:
    """Return the number for an errno name, ignoring case ("ENOENT" or "enoent"); None if unknown."""
    return NUMBERS.get(name.strip().upper())


def errno_description(n: int) -> str:
    """Return a one-line description of errno ``n``: libc's strerror, or the kernel's words for internal ones."""
    internal = _KERNEL_INTERNAL.get(n)
    if internal is not None and n not in errno.errorcode:
        return internal[1]
    return os.strerror(n)
