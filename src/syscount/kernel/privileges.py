"""Least privilege for the long-running exporter: drop capabilities once the programs are attached.

Loading and attaching BPF programs needs CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN);
reading what they count afterwards does not, on this kernel: the counters are read
through an mmap made before the drop, and map lookups, batch reads and deletes
through a map fd the process already holds are checked against the fd, not against
a capability (Linux ≥ 6.5 checks capabilities only when maps and programs are
created; measured on 6.18 with every capability dropped: counts, -L, --labels
comm|cgroup, -p and --bpf-stats all scrape exactly, see tests/privileged). Older
kernels with ``kernel.unprivileged_bpf_disabled`` set refuse every bpf() command
without CAP_BPF. ``reads_without_capabilities`` asks the running kernel (in a forked
child), and ``syscount serve`` keeps none, or CAP_BPF + CAP_PERFMON (``FOR_READING``)
where the answer is no.

The drop is for good: capabilities leave the bounding set too, the "keep" and
"root is privileged" securebits are locked off, and no_new_privs is set, so neither
an exec nor a setuid can win them back. The uid stays what it was (a root exporter
still owns root's files); running it as another user is the service manager's job
(docs/syscount.service).

Capabilities belong to a thread, not a process: ``drop`` must run before any other
thread starts (the HTTP server's), which then inherit the reduced set. It checks.

Python has no binding for capset(2) or prctl(2), so this module calls libc's through
ctypes: the only ctypes code outside the libbpf binding, four functions.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Callable
from typing import NamedTuple

from ..errors import SyscountError

CAP_SETPCAP = 8
CAP_SYS_ADMIN = 21
CAP_PERFMON = 38
CAP_BPF = 39
CAP_NAMES = {CAP_SYS_ADMIN: "CAP_SYS_ADMIN", CAP_PERFMON: "CAP_PERFMON", CAP_BPF: "CAP_BPF"}

# <linux/prctl.h>
PR_CAPBSET_DROP = 24
PR_SET_SECUREBITS = 28
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
# <linux/securebits.h>: root gets no capabilities from exec or setuid; locked so.
SECBIT_NOROOT, SECBIT_NOROOT_LOCKED = 1 << 0, 1 << 1
SECBIT_NO_SETUID_FIXUP, SECBIT_NO_SETUID_FIXUP_LOCKED = 1 << 2, 1 << 3
SECBIT_KEEP_CAPS_LOCKED = 1 << 5
SECBIT_NO_CAP_AMBIENT_RAISE, SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED = 1 << 6, 1 << 7
LOCKED_BITS = (
    SECBIT_NOROOT
    | SECBIT_NOROOT_LOCKED
    | SECBIT_NO_SETUID_FIXUP
    | SECBIT_NO_SETUID_FIXUP_LOCKED
    | SECBIT_KEEP_CAPS_LOCKED
    | SECBIT_NO_CAP_AMBIENT_RAISE
    | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED
)

# <linux/capability.h>: version 3 takes two 32-bit words per set.
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
CAP_LAST_CAP = "/proc/sys/kernel/cap_last_cap"


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


_DataPair = _Data * 2


class CapabilitySets(NamedTuple):
    """The calling thread's capability sets, as bit masks (bit N = capability N)."""

    effective: int
    permitted: int
    inheritable: int


class PrivilegeError(SyscountError):
    """Capabilities could not be dropped: the exporter refuses to serve with them."""


def names(mask: int) -> list[str]:
    """``CAP_BPF``-style names for a mask (others as ``cap_N``), lowest first."""
    return [CAP_NAMES.get(bit, f"cap_{bit}") for bit in range(64) if mask >> bit & 1]


def mask_of(*caps: int) -> int:
    mask = 0
    for cap in caps:
        mask |= 1 << cap
    return mask


# What reading the maps might need on a kernel that still checks capabilities there.
FOR_READING = mask_of(CAP_BPF, CAP_PERFMON)


def current() -> CapabilitySets:
    """The calling thread's sets (capget)."""
    header, data = _Header(_LINUX_CAPABILITY_VERSION_3, 0), _DataPair()
    _check(_libc().capget(ctypes.byref(header), data), "reading the capabilities")
    return CapabilitySets(
        effective=data[0].effective | data[1].effective << 32,
        permitted=data[0].permitted | data[1].permitted << 32,
        inheritable=data[0].inheritable | data[1].inheritable << 32,
    )


def reads_without_capabilities(read: Callable[[], object]) -> bool:
    """Does ``read`` work with no capability at all, on this kernel?

    Tried in a forked child that drops every capability and calls it once, so the
    answer costs this process nothing: it still holds everything until ``drop``.
    ``read`` must change no shared state (serve passes one read-only bpf() call, not a
    scrape: -L readings hand intervals over in the kernel)."""
    child = os.fork()
    if child == 0:  # pragma: no cover - the child leaves through os._exit only
        status = 1
        try:
            _set_sets(0)
            read()
            status = 0
        finally:
            os._exit(status)
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status) == 0


def drop(keep: int = 0) -> CapabilitySets:
    """Keep only the capabilities in ``keep`` (that the process has), for good; the sets after.

    Order matters: the bounding set and the securebits need CAP_SETPCAP, so they go
    before the capability sets themselves."""
    _single_threaded()
    have = current()
    keep &= have.permitted
    libc = _libc()
    if have.effective >> CAP_SETPCAP & 1:
        # Without CAP_SETPCAP (not root: CAP_BPF + CAP_PERFMON given by a service
        # manager) these cannot change, and no_new_privs below already stops an exec
        # from gaining anything.
        for cap in range(_last_cap() + 1):
            if not keep >> cap & 1:
                # EINVAL: a capability this kernel does not know; nothing to drop.
                _check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "shrinking the bounding set", ok=(errno.EINVAL,))
        _check(libc.prctl(PR_SET_SECUREBITS, LOCKED_BITS, 0, 0, 0), "locking the securebits")
    # EINVAL: no ambient capabilities before Linux 4.3, so none to clear.
    clear = libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    _check(clear, "clearing ambient capabilities", ok=(errno.EINVAL,))
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "setting no_new_privs")
    _set_sets(keep)
    return current()


def _set_sets(keep: int) -> None:
    """Effective and permitted := ``keep``, inheritable := none (this thread)."""
    header, data = _Header(_LINUX_CAPABILITY_VERSION_3, 0), _DataPair()
    for word in (0, 1):
        bits = keep >> (32 * word) & 0xFFFFFFFF
        data[word].effective = data[word].permitted = bits
        data[word].inheritable = 0
    _check(_libc().capset(ctypes.byref(header), data), "dropping capabilities")


def _single_threaded() -> None:
    threads = os.listdir("/proc/self/task")
    if len(threads) != 1:
        # A thread started earlier would keep every capability: a bug, not a user error.
        raise PrivilegeError(f"capabilities must be dropped before any thread starts ({len(threads)} running)")


def _last_cap() -> int:
    try:
        with open(CAP_LAST_CAP, encoding="ascii") as last:
            return int(last.read())
    except (OSError, ValueError):
        return 63


def _check(result: int, doing: str, ok: tuple[int, ...] = ()) -> None:
    if result != 0:
        err = ctypes.get_errno()
        if err not in ok:
            raise PrivilegeError(f"{doing}: {os.strerror(err)}")


_lib: ctypes.CDLL | None = None


def _libc() -> ctypes.CDLL:
    global _lib
    if _lib is None:
        libc = ctypes.CDLL(None, use_errno=True)
        pointer = ctypes.c_void_p
        libc.capget.argtypes = [pointer, pointer]
        libc.capset.argtypes = [pointer, pointer]
        libc.capget.restype = libc.capset.restype = ctypes.c_int
        libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        libc.prctl.restype = ctypes.c_int
        _lib = libc
    return _lib
