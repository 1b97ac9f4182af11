"""What the text and JSON renderers share about a call's arguments.

Which decoder shows each named kind (and its memo in compiled code), which kinds are
plain numbers, and the order and conditions in which arguments appear (open's mode
only when its flags use it). Each renderer supplies how a label and a value look.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial

from . import values as v
from .compile import Call
from .kinds import Kind
from .layout import IfBits, Lit, Named, Segment
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
    Kind.CLOCK: ("CLOCK", v.clock_id),
    Kind.SIGPROCMASK_HOW: ("SIGHOW", v.sigprocmask_how),
    Kind.ADDRESS_FAMILY: ("AF", v.address_family),
    Kind.SOCKET_TYPE: ("SOCKTYPE", v.socket_type),
    Kind.SOCKET_PROTOCOL: ("PROTO", v.socket_protocol),
    Kind.SOCKET_LEVEL: ("SOL", v.socket_level),
    Kind.MESSAGE_FLAGS: ("MSGFLAGS", v.message_flags),
    Kind.SHUTDOWN_HOW: ("SHUT", v.shutdown_how),
    Kind.FCNTL_COMMAND: ("FCNTL", v.fcntl_command),
    Kind.IOCTL_REQUEST: ("IOCTL", v.ioctl_request),
    Kind.MADVISE: ("MADV", v.madvise_advice),
    Kind.FADVISE: ("FADV", v.fadvise_advice),
    Kind.PRCTL_OPTION: ("PRCTL", v.prctl_option),
    Kind.ARCH_PRCTL_OPTION: ("ARCHPRCTL", v.arch_prctl_option),
    Kind.FUTEX_OP: ("FUTEX", v.futex_op),
    Kind.CLONE_FLAGS: ("CLONE", v.clone_flags),
    Kind.RLIMIT: ("RLIMIT", v.rlimit_resource),
    Kind.RANDOM_FLAGS: ("GRND", v.random_flags),
    Kind.EPOLL_CTL: ("EPOLLCTL", v.epoll_ctl_op),
    Kind.EPOLL_CREATE_FLAGS: ("EPOLLFLAGS", v.epoll_create_flags),
    Kind.WAIT_OPTIONS: ("WAIT", v.wait_options),
    Kind.CLOSE_RANGE_FLAGS: ("CLOSERANGE", v.close_range_flags),
    Kind.STATX_MASK: ("STATX", v.statx_mask),
    Kind.AT_FLAGS_STATX: ("ATSTATX", v.statx_flags),
    Kind.PIPE_FLAGS: ("PIPEFLAGS", v.pipe_flags),
    Kind.MREMAP_FLAGS: ("MREMAP", v.mremap_flags),
    Kind.HEX: ("HEX", v.hex32),
}
NUMBERS = (Kind.INT, Kind.UINT, Kind.LONG, Kind.ULONG, Kind.FD)


def open_flags_index(call: Call) -> int | None:
    for index, _, kind in call.args:
        if kind is Kind.OPEN_FLAGS:
            return index
    return None


def argument_segments(
    call: Call,
    label: Callable[[str, bool], str],
    value: Callable[[Kind, int], Segment],
) -> list[Segment]:
    """The arguments of ``call``: ``label(name, first)`` then ``value(kind, index)`` each.

    open's mode is shown only when the flags use it (O_CREAT, O_TMPFILE), as strace does."""
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
        segments += [Lit(label(arg.name, first)), value(kind, index)]
        first = False
    return segments


@cache
def _optional(label: str, decoder: Callable[[int], str]) -> Callable[[int], str]:
    return lambda value: label + decoder(value)
