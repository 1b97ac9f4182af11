"""Names for argument and return values: open/mmap/AT_* flags, AT_FDCWD, modes, errnos.

Flag values are the kernel's uapi ones (include/uapi/asm-generic/fcntl.h, mman-common.h,
linux/fcntl.h); where an architecture differs (arm64's O_DIRECTORY...), the table
says so. Decoders are plain functions of one integer; ``Memo`` caches them, because
a trace repeats the same few flag values millions of times.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Sequence
from typing import Any

from ..names.errnos import errno_description, errno_name
from ..names.escape import decode_name, escape_text

MAX_ERRNO = 4095
AT_FDCWD = -100

_ARM64 = os.uname().machine in ("aarch64", "arm64")

# (name, mask), checked in order; a name is shown when all of its mask's bits are set.
# Multi-bit names (O_SYNC, O_TMPFILE) come before the single bits they contain.
_O_DIRECT, _O_LARGEFILE, _O_DIRECTORY, _O_NOFOLLOW = (
    (0o200000, 0o400000, 0o40000, 0o100000) if _ARM64 else (0o40000, 0o100000, 0o200000, 0o400000)
)
OPEN_FLAGS: Sequence[tuple[str, int]] = (
    ("O_CREAT", 0o100),
    ("O_EXCL", 0o200),
    ("O_NOCTTY", 0o400),
    ("O_TRUNC", 0o1000),
    ("O_APPEND", 0o2000),
    ("O_NONBLOCK", 0o4000),
    ("O_SYNC", 0o4010000),
    ("O_DSYNC", 0o10000),
    ("O_ASYNC", 0o20000),
    ("O_DIRECT", _O_DIRECT),
    ("O_LARGEFILE", _O_LARGEFILE),
    ("O_TMPFILE", 0o20000000 | _O_DIRECTORY),
    ("O_DIRECTORY", _O_DIRECTORY),
    ("O_NOFOLLOW", _O_NOFOLLOW),
    ("O_NOATIME", 0o1000000),
    ("O_CLOEXEC", 0o2000000),
    ("O_PATH", 0o10000000),
)
OPEN_ACCESS = ("O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE")
# The bits that make openat() use its mode argument.
OPEN_NEEDS_MODE = 0o100 | 0o20000000

PROT_FLAGS: Sequence[tuple[str, int]] = (
    ("PROT_READ", 0x1),
    ("PROT_WRITE", 0x2),
    ("PROT_EXEC", 0x4),
    ("PROT_SEM", 0x8),
    *((("PROT_BTI", 0x10), ("PROT_MTE", 0x20)) if _ARM64 else ()),
    ("PROT_GROWSDOWN", 0x01000000),
    ("PROT_GROWSUP", 0x02000000),
)

MAP_TYPES = {0x1: "MAP_SHARED", 0x2: "MAP_PRIVATE", 0x3: "MAP_SHARED_VALIDATE", 0xF: "MAP_DROPPABLE"}
MAP_FLAGS: Sequence[tuple[str, int]] = (
    ("MAP_FIXED", 0x10),
    ("MAP_ANONYMOUS", 0x20),
    *((("MAP_32BIT", 0x40),) if not _ARM64 else ()),
    ("MAP_GROWSDOWN", 0x100),
    ("MAP_DENYWRITE", 0x800),
    ("MAP_EXECUTABLE", 0x1000),
    ("MAP_LOCKED", 0x2000),
    ("MAP_NORESERVE", 0x4000),
    ("MAP_POPULATE", 0x8000),
    ("MAP_NONBLOCK", 0x10000),
    ("MAP_STACK", 0x20000),
    ("MAP_HUGETLB", 0x40000),
    ("MAP_SYNC", 0x80000),
    ("MAP_FIXED_NOREPLACE", 0x100000),
    ("MAP_UNINITIALIZED", 0x4000000),
)

# include/uapi/linux/fcntl.h. 0x200 means AT_REMOVEDIR to unlinkat and AT_EACCESS to
# faccessat2: each call gets its own table.
_AT_COMMON: Sequence[tuple[str, int]] = (
    ("AT_SYMLINK_NOFOLLOW", 0x100),
    ("AT_SYMLINK_FOLLOW", 0x400),
    ("AT_NO_AUTOMOUNT", 0x800),
    ("AT_EMPTY_PATH", 0x1000),
    ("AT_STATX_FORCE_SYNC", 0x2000),
    ("AT_STATX_DONT_SYNC", 0x4000),
    ("AT_RECURSIVE", 0x8000),
)
AT_FLAGS = _AT_COMMON
AT_FLAGS_UNLINK: Sequence[tuple[str, int]] = (("AT_REMOVEDIR", 0x200), *_AT_COMMON)
AT_FLAGS_ACCESS: Sequence[tuple[str, int]] = (("AT_EACCESS", 0x200), *_AT_COMMON)

ACCESS_MODES: Sequence[tuple[str, int]] = (("R_OK", 4), ("W_OK", 2), ("X_OK", 1))
WHENCE = {0: "SEEK_SET", 1: "SEEK_CUR", 2: "SEEK_END", 3: "SEEK_DATA", 4: "SEEK_HOLE"}


def int32(value: int) -> int:
    """The low 32 bits as a signed int: how an ``int`` argument sits in a 64-bit register."""
    return ((value & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000


def int64(value: int) -> int:
    return ((value & 0xFFFFFFFFFFFFFFFF) ^ 0x8000000000000000) - 0x8000000000000000


def flag_names(value: int, flags: Sequence[tuple[str, int]], zero: str = "0") -> str:
    """``A|B|0x40`` for the named bits of ``value``, unknown bits in hex; ``zero`` for none."""
    names = []
    rest = value
    for name, mask in flags:
        if rest & mask == mask:
            names.append(name)
            rest &= ~mask
    if rest:
        names.append(hex(rest))
    return "|".join(names) if names else zero


def open_flags(value: int) -> str:
    value &= 0xFFFFFFFF
    access = OPEN_ACCESS[value & 3]
    rest = flag_names(value & ~3, OPEN_FLAGS, zero="")
    return f"{access}|{rest}" if rest else access


def mmap_prot(value: int) -> str:
    return flag_names(value & 0xFFFFFFFF, PROT_FLAGS, zero="PROT_NONE")


def mmap_flags(value: int) -> str:
    value &= 0xFFFFFFFF
    kind = MAP_TYPES.get(value & 0xF)
    if kind is None:
        return flag_names(value, MAP_FLAGS)
    rest = flag_names(value & ~0xF, MAP_FLAGS, zero="")
    return f"{kind}|{rest}" if rest else kind


def at_flags(value: int, table: Sequence[tuple[str, int]] = AT_FLAGS) -> str:
    return flag_names(value & 0xFFFFFFFF, table)


def access_mode(value: int) -> str:
    return flag_names(value & 0xFFFFFFFF, ACCESS_MODES, zero="F_OK")


def file_mode(value: int) -> str:
    """Permission bits in octal as strace shows them: ``0644``; file type bits by name."""
    value &= 0xFFFFFFFF
    kind = {0o140000: "S_IFSOCK", 0o120000: "S_IFLNK", 0o100000: "S_IFREG", 0o60000: "S_IFBLK"}
    kind |= {0o40000: "S_IFDIR", 0o20000: "S_IFCHR", 0o10000: "S_IFIFO"}
    perms = f"0{value & 0o7777:03o}"
    file_type = kind.get(value & 0o170000)
    return f"{file_type}|{perms}" if file_type else perms


def dirfd(value: int) -> str:
    fd = int32(value)
    return "AT_FDCWD" if fd == AT_FDCWD else str(fd)


def signal_name(value: int) -> str:
    number = int32(value)
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def whence(value: int) -> str:
    return WHENCE.get(value & 0xFFFFFFFF, str(int32(value)))


def pointer(value: int) -> str:
    return hex(value) if value else "NULL"


def is_error(ret: int) -> bool:
    return -MAX_ERRNO <= ret < 0


def error_text(ret: int) -> str:
    """strace's spelling of a failed call's result: ``-1 ENOENT (No such file or directory)``."""
    err = -ret
    return f"-1 {errno_name(err)} ({errno_description(err)})"


class Memo(dict[Any, str]):
    """``decoder(value)``, remembered: ``memo[value]`` costs one dict lookup after the first."""

    LIMIT = 65536  # values that never repeat must not grow it forever

    def __init__(self, decoder: Callable[[Any], str]) -> None:
        super().__init__()
        self.decoder = decoder

    def __missing__(self, value: Any) -> str:
        if len(self) >= self.LIMIT:
            self.clear()
        text = self[value] = self.decoder(value)
        return text


def comm_name(raw: bytes) -> str:
    """A thread name as the kernel keeps it (16 bytes, NUL-padded), undecodable bytes kept."""
    return decode_name(raw.split(b"\0", 1)[0])


def comm_text(raw: bytes) -> str:
    """A thread name for people: escaped (the thread chose it)."""
    return escape_text(comm_name(raw))
