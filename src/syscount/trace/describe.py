"""What the text and JSON renderers share about a call's arguments.

Which decoder shows each named kind (and its memo in compiled code), which kinds are
plain numbers, and the order and conditions in which arguments appear (open's mode
only when its flags use it). Each renderer supplies how a label and a value look.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from typing import NamedTuple

from . import constants as c
from . import values as v
from .compile import Call
from .kinds import Kind
from .layout import IfBits, IfIn, Lit, Named, Segment
from .record import ARG0

# Named kinds: the decoder that shows them, and its memo's name in compiled code.
MEMOS: dict[Kind, tuple[str, Callable[[int], str]]] = {
    Kind.DIRFD: ("DIRFD", v.dirfd),
    Kind.OPEN_FLAGS: ("OFLAGS", v.open_flags),
    Kind.OPEN_MODE: ("MODE", v.file_mode),
    Kind.MODE: ("MODE", v.file_mode),
    Kind.ACCESS: ("ACCESS", v.access_mode),
    Kind.PROT: ("PROT", v.mmap_prot),
    Kind.MAP_FLAGS: ("MAPFLAGS", v.mmap_flags),
    Kind.AT_FLAGS: ("ATFLAGS", v.at_flags),
    Kind.AT_FLAGS_UNLINK: ("ATUNLINK", partial(v.at_flags, table=v.AT_FLAGS_UNLINK)),
    Kind.AT_FLAGS_ACCESS: ("ATACCESS", partial(v.at_flags, table=v.AT_FLAGS_ACCESS)),
    Kind.SIGNAL: ("SIGNAL", v.signal_name),
    Kind.WHENCE: ("WHENCE", v.whence),
}
# Symbolic constants (generated tables): a name in text; in JSON the number stays in
# `args` (its type unchanged) and the name goes to `names`. (decoder, memo, number kind)
SYMBOLIC: dict[Kind, tuple[str, Callable[[int], str], Kind]] = {
    Kind.CLOCK: ("CLOCK", v.clock_id, Kind.INT),
    Kind.SIGPROCMASK_HOW: ("SIGHOW", v.sigprocmask_how, Kind.INT),
    Kind.ADDRESS_FAMILY: ("AF", v.address_family, Kind.INT),
    Kind.SOCKET_TYPE: ("SOCKTYPE", v.socket_type, Kind.INT),
    Kind.SOCKET_PROTOCOL: ("PROTO", v.socket_protocol, Kind.INT),
    Kind.SOCKET_LEVEL: ("SOL", v.socket_level, Kind.INT),
    Kind.MESSAGE_FLAGS: ("MSGFLAGS", v.message_flags, Kind.UINT),
    Kind.SHUTDOWN_HOW: ("SHUT", v.shutdown_how, Kind.INT),
    Kind.FCNTL_COMMAND: ("FCNTL", v.fcntl_command, Kind.UINT),
    Kind.IOCTL_REQUEST: ("IOCTL", v.ioctl_request, Kind.UINT),
    Kind.MADVISE: ("MADV", v.madvise_advice, Kind.INT),
    Kind.FADVISE: ("FADV", v.fadvise_advice, Kind.INT),
    Kind.PRCTL_OPTION: ("PRCTL", v.prctl_option, Kind.INT),
    Kind.ARCH_PRCTL_OPTION: ("ARCHPRCTL", v.arch_prctl_option, Kind.INT),
    Kind.FUTEX_OP: ("FUTEX", v.futex_op, Kind.INT),
    Kind.CLONE_FLAGS: ("CLONE", v.clone_flags, Kind.ULONG),
    Kind.RLIMIT: ("RLIMIT", v.rlimit_resource, Kind.UINT),
    Kind.RANDOM_FLAGS: ("GRND", v.random_flags, Kind.UINT),
    Kind.EPOLL_CTL: ("EPOLLCTL", v.epoll_ctl_op, Kind.INT),
    Kind.EPOLL_CREATE_FLAGS: ("EPOLLFLAGS", v.epoll_create_flags, Kind.INT),
    Kind.WAIT_OPTIONS: ("WAIT", v.wait_options, Kind.INT),
    Kind.CLOSE_RANGE_FLAGS: ("CLOSERANGE", v.close_range_flags, Kind.UINT),
    Kind.STATX_MASK: ("STATX", v.statx_mask, Kind.UINT),
    Kind.AT_FLAGS_STATX: ("ATSTATX", v.statx_flags, Kind.UINT),
    Kind.PIPE_FLAGS: ("PIPEFLAGS", v.pipe_flags, Kind.INT),
    Kind.MREMAP_FLAGS: ("MREMAP", v.mremap_flags, Kind.ULONG),
    Kind.SOCKET_FLAGS: ("SOCKFLAGS", v.socket_flags, Kind.INT),
    Kind.FD_FLAGS: ("FDFLAGS", v.fd_flags, Kind.ULONG),
    Kind.IP_PROTOCOL: ("IPPROTO", v.ip_protocol, Kind.INT),
    Kind.NETLINK_PROTOCOL: ("NLPROTO", v.netlink_protocol, Kind.INT),
    Kind.SOCKET_OPTION: ("SO", v.socket_option, Kind.INT),
    Kind.FUTEX_BITSET: ("BITSET", v.futex_bitset, Kind.UINT),
}
# Shown in hex in text, as strace does; plain numbers in JSON.
DISPLAY: dict[Kind, tuple[str, Callable[[int], str], Kind]] = {
    Kind.HEX: ("HEX", v.hex32, Kind.UINT),
    Kind.OFFSET: ("OFFSET", v.offset, Kind.ULONG),
    Kind.ADDRESS: ("ADDRESS", v.pointer, Kind.ULONG),
}
# Everything text shows by name.
TEXT_NAMED: dict[Kind, tuple[str, Callable[[int], str]]] = {
    **MEMOS,
    **{kind: (name, decoder) for kind, (name, decoder, _) in (SYMBOLIC | DISPLAY).items()},
}
NUMBERS = (Kind.INT, Kind.UINT, Kind.LONG, Kind.ULONG, Kind.FD)


class Depends(NamedTuple):
    """How strace shows an argument that depends on another: by the other's value
    (masked), the first case whose values hold it gives the kind; ``default`` None hides it."""

    control: str
    mask: int
    cases: tuple[tuple[frozenset[int], Kind | None], ...]  # None: hidden for these values
    default: Kind | None


def _futex(*names: str) -> frozenset[int]:
    numbers = {name: number for number, name in c.FUTEX_COMMANDS.items()}
    return frozenset(numbers[f"FUTEX_{name}"] for name in names)


def _fcntl(*names: str) -> frozenset[int]:
    numbers = {name: number for number, name in c.FCNTL_COMMANDS.items()}
    return frozenset(numbers[f"F_{name}"] for name in names)


def _ioctl(*names: str) -> frozenset[int]:
    numbers = {name: number for number, name in c.IOCTL_COMMANDS.items()}
    return frozenset(numbers[name] for name in names)


_FUTEX_TIMEOUT = _futex("WAIT", "WAIT_BITSET", "LOCK_PI", "LOCK_PI2", "WAIT_REQUEUE_PI")
_FUTEX_VAL2 = _futex("REQUEUE", "CMP_REQUEUE", "CMP_REQUEUE_PI", "WAKE_OP")
_FUTEX_UADDR2 = _futex("REQUEUE", "CMP_REQUEUE", "CMP_REQUEUE_PI", "WAKE_OP", "WAIT_REQUEUE_PI")
_FUTEX_CMP = _futex("CMP_REQUEUE", "CMP_REQUEUE_PI")
_FUTEX_BITSET = _futex("WAIT_BITSET", "WAKE_BITSET")
_AF_INET = frozenset({2, 10})  # AF_INET, AF_INET6
_AF_NETLINK = frozenset({16})
_SOL_SOCKET = frozenset({1})
# strace's choices (futex.c, fcntl.c, net.c in its sources describe them in prose;
# checked against strace 6.1 output). Text only: JSON always has every argument.
DEPENDS: dict[tuple[str, str], Depends] = {
    ("futex", "utime"): Depends("op", 0x7F, ((_FUTEX_TIMEOUT, Kind.CAPTURED), (_FUTEX_VAL2, Kind.UINT)), None),
    ("futex", "uaddr2"): Depends("op", 0x7F, ((_FUTEX_UADDR2, Kind.POINTER),), None),
    ("futex", "val3"): Depends(
        "op", 0x7F, ((_FUTEX_BITSET, Kind.FUTEX_BITSET), (_FUTEX_CMP, Kind.UINT), (_futex("WAKE_OP"), Kind.HEX)), None
    ),
    ("fcntl", "arg"): Depends(
        "cmd",
        0xFFFFFFFF,
        (
            (_fcntl("SETFD"), Kind.FD_FLAGS),
            (_fcntl("SETFL"), Kind.OPEN_FLAGS),
            (_fcntl("SETSIG"), Kind.SIGNAL),
            (_fcntl("DUPFD", "DUPFD_CLOEXEC", "SETOWN", "SETPIPE_SZ", "SETLEASE", "NOTIFY", "ADD_SEALS"), Kind.INT),
            (_fcntl("GETLK", "SETLK", "SETLKW", "OFD_GETLK", "OFD_SETLK", "OFD_SETLKW"), Kind.POINTER),
            (_fcntl("GETOWN_EX", "SETOWN_EX", "GET_RW_HINT", "SET_RW_HINT"), Kind.POINTER),
            (_fcntl("GET_FILE_RW_HINT", "SET_FILE_RW_HINT"), Kind.POINTER),
        ),
        None,
    ),
    # Requests without an argument (ioctl_list(2)); others: the argument's address.
    ("ioctl", "arg"): Depends(
        "cmd",
        0xFFFFFFFF,
        (
            (_ioctl("FIOCLEX", "FIONCLEX", "TIOCEXCL", "TIOCNXCL"), None),
            (_ioctl("TIOCNOTTY", "TIOCCBRK", "TIOCSBRK"), None),
        ),
        Kind.ADDRESS,
    ),
    ("socket", "protocol"): Depends(
        "family", 0xFFFFFFFF, ((_AF_INET, Kind.IP_PROTOCOL), (_AF_NETLINK, Kind.NETLINK_PROTOCOL)), Kind.INT
    ),
    ("socketpair", "protocol"): Depends("family", 0xFFFFFFFF, ((_AF_INET, Kind.IP_PROTOCOL),), Kind.INT),
    ("setsockopt", "optname"): Depends("level", 0xFFFFFFFF, ((_SOL_SOCKET, Kind.SOCKET_OPTION),), Kind.INT),
    ("getsockopt", "optname"): Depends("level", 0xFFFFFFFF, ((_SOL_SOCKET, Kind.SOCKET_OPTION),), Kind.INT),
}


def _dependent(
    call: Call, rule: Depends, index: int, label: str, value: Callable[[Kind, int], Segment]
) -> Segment | None:
    """The argument as a chain of IfIn on its controlling argument (None: no such argument)."""
    control = next((i for i, arg, _ in call.args if arg.name == rule.control), None)
    if control is None:
        return None
    shown: tuple[Segment, ...] = (Lit(label), value(rule.default, index)) if rule.default else ()
    for values, kind in reversed(rule.cases):
        then: tuple[Segment, ...] = (Lit(label), value(kind, index)) if kind is not None else ()
        shown = (IfIn(ARG0 + control, rule.mask, values, then, shown),)
    return shown[0] if len(shown) == 1 else None


def open_flags_index(call: Call) -> int | None:
    for index, _, kind in call.args:
        if kind is Kind.OPEN_FLAGS:
            return index
    return None


def argument_segments(
    call: Call,
    label: Callable[[str, bool], str],
    value: Callable[[Kind, int], Segment],
    strace_like: bool = False,
) -> list[Segment]:
    """The arguments of ``call``: ``label(name, first)`` then ``value(kind, index)`` each.

    open's mode is shown only when the flags use it (O_CREAT, O_TMPFILE), as strace does;
    ``strace_like`` also hides or decodes the DEPENDS arguments by their controlling one."""
    segments: list[Segment] = []
    flags = open_flags_index(call)
    first = True
    for index, arg, kind in call.args:
        if kind is Kind.OPEN_MODE and flags is not None:
            shown = value(kind, index)
            assert isinstance(shown, Named)
            mode = Named(shown.field, "OPT" + shown.name, _optional(label(arg.name, first), shown.decoder))
            segments.append(IfBits(ARG0 + flags, v.OPEN_NEEDS_MODE, mode))
            continue
        rule = DEPENDS.get((call.name.rpartition(":")[2], arg.name)) if strace_like and not first else None
        dependent = _dependent(call, rule, index, label(arg.name, first), value) if rule else None
        if dependent is not None:
            segments.append(dependent)
            continue
        segments += [Lit(label(arg.name, first)), value(kind, index)]
        first = False
    return segments


@cache
def _optional(label: str, decoder: Callable[[int], str]) -> Callable[[int], str]:
    return lambda value: label + decoder(value)
