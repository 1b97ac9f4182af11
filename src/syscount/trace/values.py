"""Names for argument and return values: open/mmap/AT_* flags, AT_FDCWD, modes, errnos.

Flag values are the kernel's uapi ones (include/uapi/asm-generic/fcntl.h, mman-common.h,
linux/fcntl.h); where an architecture differs (arm64's O_DIRECTORY...), the table
says so. Decoders are plain functions of one integer; ``Memo`` caches them, because
a trace repeats the same few flag values millions of times.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from ..names.errnos import errno_description, errno_name
from ..names.escape import decode_name, escape_text
from . import constants as c

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
    ("FASYNC", 0o20000),
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
# The order strace writes them in (checked against strace 6.1): the values' order but
# O_DIRECTORY, O_PATH and O_TMPFILE after O_CLOEXEC, and FASYNC (O_ASYNC) last.
_OPEN_SHOWN = ("O_CLOEXEC", "O_DIRECTORY", "O_PATH", "O_TMPFILE", "FASYNC")
OPEN_ORDER = {
    name: rank for rank, name in enumerate([n for n, _ in OPEN_FLAGS if n not in _OPEN_SHOWN] + [*_OPEN_SHOWN])
}
# The bits that make openat() use its mode argument.
OPEN_NEEDS_MODE = 0o100 | 0o20000000

# The mmap, AT_* and lseek tables are generated from the uapi headers (constants.py);
# arm64 adds PROT_BTI/PROT_MTE and has no MAP_32BIT.
PROT_FLAGS: Sequence[tuple[str, int]] = (
    *c.PROT_FLAGS,
    *((("PROT_BTI", 0x10), ("PROT_MTE", 0x20)) if _ARM64 else ()),
)
MAP_TYPES = c.MAP_TYPES
MAP_FLAGS: Sequence[tuple[str, int]] = tuple(f for f in c.MAP_FLAGS if not (_ARM64 and f[0] == "MAP_32BIT"))

# include/uapi/linux/fcntl.h. 0x200 means AT_REMOVEDIR to unlinkat and AT_EACCESS to
# faccessat2: each call gets its own table.
_AT_COMMON: Sequence[tuple[str, int]] = c.AT_FLAGS
AT_FLAGS = _AT_COMMON
AT_FLAGS_UNLINK: Sequence[tuple[str, int]] = (("AT_REMOVEDIR", 0x200), *_AT_COMMON)
AT_FLAGS_ACCESS: Sequence[tuple[str, int]] = (("AT_EACCESS", 0x200), *_AT_COMMON)

ACCESS_MODES: Sequence[tuple[str, int]] = (("R_OK", 4), ("W_OK", 2), ("X_OK", 1))
WHENCE = c.SEEK_WHENCE


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
    if "|" in rest:  # unknown bits (hex) stay last
        rest = "|".join(sorted(rest.split("|"), key=lambda name: OPEN_ORDER.get(name, len(OPEN_ORDER))))
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


SIGRTMIN = 32  # the kernel's; strace names 34 SIGRT_2


def signal_name(value: int) -> str:
    number = int32(value)
    name = c.SIGNALS.get(number)
    if name is not None:
        return name
    if SIGRTMIN <= number <= 64:
        return f"SIGRT_{number - SIGRTMIN}"
    return str(number)


def whence(value: int) -> str:
    return WHENCE.get(value & 0xFFFFFFFF, str(int32(value)))


def pointer(value: int) -> str:
    return hex(value) if value else "NULL"


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


# Symbolic constants (tables generated from the uapi headers into constants.py). Each
# decoder takes the raw 64-bit register; an unknown value is shown as a number (or, in
# a set of flags, its unknown bits in hex), never dropped.


def _named_int(table: dict[int, str]) -> Callable[[int], str]:
    """A decoder for an ``int`` argument that is one of ``table``'s values."""

    def decode(value: int) -> str:
        number = int32(value)
        return table.get(number) or str(number)

    return decode


def _named_uint(table: dict[int, str]) -> Callable[[int], str]:
    """A decoder for an unsigned argument (ioctl requests, prctl options) shown in hex when unknown."""

    def decode(value: int) -> str:
        number = value & 0xFFFFFFFF
        return table.get(number) or hex(number)

    return decode


def _flags32(flags: Sequence[tuple[str, int]]) -> Callable[[int], str]:
    return lambda value: flag_names(value & 0xFFFFFFFF, flags)


clock_id = _named_int(c.CLOCKS)
sigprocmask_how = _named_int(c.SIGPROCMASK_HOW)
address_family = _named_int(c.ADDRESS_FAMILIES | {0: "AF_UNSPEC"})
fcntl_command = _named_int(c.FCNTL_COMMANDS)
ioctl_request = _named_uint(c.IOCTL_COMMANDS)
madvise_advice = _named_int(c.MADVISE_ADVICE)
prctl_option = _named_int(c.PRCTL_OPTIONS)
arch_prctl_option = _named_int(c.ARCH_PRCTL_OPTIONS)
rlimit_resource = _named_int(c.RLIMIT_RESOURCES)
epoll_ctl_op = _named_int(c.EPOLL_CTL)
fadvise_advice = _named_int(c.FADVISE_ADVICE)
shutdown_how = _named_int(c.SHUTDOWN_HOW)
socket_level = _named_int(c.SOCKET_LEVELS | {6: "SOL_TCP", 17: "SOL_UDP", 41: "SOL_IPV6", 0: "SOL_IP"})
random_flags = _flags32(c.RANDOM_FLAGS)
epoll_create_flags = _flags32(c.EPOLL_CREATE_FLAGS)
wait_options = _flags32(c.WAIT_OPTIONS)
close_range_flags = _flags32(c.CLOSE_RANGE_FLAGS)
message_flags = _flags32(c.MESSAGE_FLAGS)
statx_mask = _flags32(c.STATX_MASK)
fd_flags = _flags32(c.FD_FLAGS)

# The protocol alone: 0 means "the domain's default", which strace names after the
# domain (IPPROTO_IP for AF_INET, 0 for AF_UNIX). Without the domain, 0 stays 0.
_PROTOCOLS = {number: name for number, name in c.IP_PROTOCOLS.items() if number}


def socket_protocol(value: int) -> str:
    number = int32(value)
    return _PROTOCOLS.get(number) or str(number)


def socket_type(value: int) -> str:
    """``SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK``: the type in the low 4 bits, then the flags."""
    value &= 0xFFFFFFFF
    kind = c.SOCKET_TYPES.get(value & 0xF) or str(value & 0xF)
    rest = flag_names(value & ~0xF, c.SOCKET_TYPE_FLAGS, zero="")
    return f"{kind}|{rest}" if rest else kind


FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME = 128, 256


def futex_op(value: int) -> str:
    """``FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME``, as strace spells the command."""
    value &= 0xFFFFFFFF
    command = c.FUTEX_COMMANDS.get(value & 0x7F)
    if command is None:
        return hex(value)
    name = command + ("_PRIVATE" if value & FUTEX_PRIVATE_FLAG else "")
    rest = value & ~(0x7F | FUTEX_PRIVATE_FLAG)
    if rest & FUTEX_CLOCK_REALTIME:
        name += "|FUTEX_CLOCK_REALTIME"
        rest &= ~FUTEX_CLOCK_REALTIME
    return f"{name}|{rest:#x}" if rest else name


def clone_flags(value: int) -> str:
    """clone's flags: the named bits, then the exit signal in the low byte (``...|SIGCHLD``)."""
    value &= 0xFFFFFFFFFFFFFFFF
    names = flag_names(value & ~0xFF, c.CLONE_FLAGS, zero="")
    signal = value & 0xFF
    parts = [part for part in (names, signal_name(signal) if signal else "") if part]
    return "|".join(parts) if parts else "0"


def pipe_flags(value: int) -> str:
    """pipe2/dup3/eventfd2-style O_* flags: 0 stays 0 (no access mode is implied)."""
    return flag_names(value & 0xFFFFFFFF, OPEN_FLAGS)


def socket_flags(value: int) -> str:
    """accept4's flags: SOCK_CLOEXEC|SOCK_NONBLOCK, 0 for none."""
    return flag_names(value & 0xFFFFFFFF, c.SOCKET_TYPE_FLAGS)


def offset(value: int) -> str:
    """An mmap offset: hex as strace shows it, 0 for none."""
    return f"{value:#x}" if value else "0"


def mremap_flags(value: int) -> str:
    return flag_names(value & 0xFFFFFFFF, (("MREMAP_MAYMOVE", 1), ("MREMAP_FIXED", 2), ("MREMAP_DONTUNMAP", 4)))


def statx_flags(value: int) -> str:
    """statx's flags: the sync type first (``AT_STATX_SYNC_AS_STAT`` is 0), then the AT_* bits."""
    value &= 0xFFFFFFFF
    sync = {0: "AT_STATX_SYNC_AS_STAT", 0x2000: "AT_STATX_FORCE_SYNC", 0x4000: "AT_STATX_DONT_SYNC"}
    kind = sync.get(value & 0x6000)
    if kind is None:
        return flag_names(value, AT_FLAGS)
    rest = flag_names(value & ~0x6000, AT_FLAGS, zero="")
    return f"{kind}|{rest}" if rest else kind


def hex32(value: int) -> str:
    return hex(value & 0xFFFFFFFF)


def ip_protocol(value: int) -> str:
    """An AF_INET/AF_INET6 socket's protocol: 0 is IPPROTO_IP."""
    number = int32(value)
    return c.IP_PROTOCOLS.get(number) or str(number)


netlink_protocol = _named_int(c.NETLINK_PROTOCOLS)
socket_option = _named_int(c.SOCKET_OPTIONS)
FUTEX_BITSET_MATCH_ANY = 0xFFFFFFFF


def futex_bitset(value: int) -> str:
    value &= 0xFFFFFFFF
    return "FUTEX_BITSET_MATCH_ANY" if value == FUTEX_BITSET_MATCH_ANY else hex(value)
