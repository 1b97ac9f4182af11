"""libseccomp.so.2 through ctypes: which syscall names the runtimes' seccomp library knows.

A container runtime (runc, crun, podman, docker) turns a profile's names into numbers
with libseccomp, and skips a name it cannot resolve (runc: "unknown seccomp syscall
ignored", at debug level). So a profile is only as good as the names libseccomp knows:
syscount asks the same library, rather than keeping its own list that would drift
from the installed one. Nothing is loaded into the kernel here; this only reads
libseccomp's tables.

The second ctypes module besides ``libbpf``; like it, every signature is declared and
failures become syscount errors here.
"""

from __future__ import annotations

import ctypes
import functools

from ..errors import NotSupported

LIBSECCOMP_SONAME = "libseccomp.so.2"
SCMP_ERROR = -1  # __NR_SCMP_ERROR: "no such syscall" from seccomp_syscall_resolve_name_arch


class _Version(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint), ("minor", ctypes.c_uint), ("micro", ctypes.c_uint)]


@functools.cache
def _lib() -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL(LIBSECCOMP_SONAME)
    except OSError as exc:
        raise NotSupported(
            "checking syscall names against libseccomp", f"{LIBSECCOMP_SONAME} not found (apt install libseccomp2)"
        ) from exc
    lib.seccomp_version.restype = ctypes.POINTER(_Version)
    lib.seccomp_version.argtypes = []
    lib.seccomp_arch_resolve_name.restype = ctypes.c_uint32
    lib.seccomp_arch_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_syscall_resolve_name_arch.restype = ctypes.c_int
    lib.seccomp_syscall_resolve_name_arch.argtypes = [ctypes.c_uint32, ctypes.c_char_p]
    return lib


def version() -> str:
    """libseccomp's version, e.g. ``2.5.4``; raises NotSupported when it is missing."""
    v = _lib().seccomp_version().contents
    return f"{v.major}.{v.minor}.{v.micro}"


@functools.cache
def _arch_token(scmp_arch: str) -> int:
    """``SCMP_ARCH_X86_64`` → libseccomp's token for it (its AUDIT_ARCH value)."""
    token: int = _lib().seccomp_arch_resolve_name(scmp_arch.removeprefix("SCMP_ARCH_").lower().encode())
    if token == 0:
        raise NotSupported(f"seccomp architecture {scmp_arch}", f"libseccomp {version()} does not know it")
    return token


def knows(scmp_arch: str, name: str) -> bool:
    """Whether libseccomp resolves ``name`` for this architecture (as the runtime will).

    A name it knows under a multiplexer (i386 ``socket`` via ``socketcall``) resolves to
    a negative pseudo-number: known too, libseccomp filters both forms.
    """
    number: int = _lib().seccomp_syscall_resolve_name_arch(_arch_token(scmp_arch), name.encode())
    return number != SCMP_ERROR
