"""Symbolic constants in syscount trace: each decoder, the arguments strace shows by another
argument's value (text), the numbers and names JSON keeps, and numpy's batches alike."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import pytest

from syscount.names.syscalls import slot_name
from syscount.trace import values as v
from syscount.trace.jsonl import JsonLine
from syscount.trace.kinds import Kind, arg_kind, kinds
from syscount.trace.signatures import Arg, from_prototypes
from syscount.trace.sink import EventSink, FdOutput, StreamFormat
from syscount.trace.stream import decode, joined
from syscount.trace.text import TextLine

from .test_trace_format import NORETURN, OFFSET, TABLES, record

PROTOTYPES = {
    "futex": [
        ("u32 *", "uaddr"),
        ("int", "op"),
        ("u32", "val"),
        ("const struct __kernel_timespec *", "utime"),
        ("u32 *", "uaddr2"),
        ("u32", "val3"),
    ],
    "fcntl": [("unsigned int", "fd"), ("unsigned int", "cmd"), ("unsigned long", "arg")],
    "ioctl": [("unsigned int", "fd"), ("unsigned int", "cmd"), ("unsigned long", "arg")],
    "socket": [("int", "family"), ("int", "type"), ("int", "protocol")],
    "clock_nanosleep": [
        ("const clockid_t", "which_clock"),
        ("int", "flags"),
        ("const struct __kernel_timespec *", "rqtp"),
        ("struct __kernel_timespec *", "rmtp"),
    ],
    "clone": [
        ("unsigned long", "clone_flags"),
        ("unsigned long", "newsp"),
        ("int *", "parent_tidptr"),
        ("int *", "child_tidptr"),
        ("unsigned long", "tls"),
    ],
    "setsockopt": [("int", "fd"), ("int", "level"), ("int", "optname"), ("char *", "optval"), ("int", "optlen")],
    "mmap": [("unsigned long", name) for name in ("addr", "len", "prot", "flags", "fd", "off")],
}
SIGNATURES = from_prototypes(TABLES[0], PROTOTYPES)


def _sink(line: StreamFormat) -> EventSink:
    return EventSink(FdOutput(-1), line, partial(slot_name, TABLES), SIGNATURES, NORETURN)


def calls(*records: bytes) -> list[str]:
    """The call part of each text line (``name(args) = ret``, no time, ids, duration)."""
    lines: list[str] = []
    decode(b"".join(records), _sink(TextLine(OFFSET)).formatters, lines)
    return [line.split(" ", 3)[3].rsplit(" <", 1)[0] for line in lines]


def objects(*records: bytes) -> list[dict[str, Any]]:
    lines: list[str] = []
    decode(b"".join(records), _sink(JsonLine(OFFSET)).formatters, lines)
    return [json.loads(line) for line in lines]


def test_decoders() -> None:
    assert v.clock_id(1) == "CLOCK_MONOTONIC" and v.clock_id(99) == "99"
    assert v.signal_name(17) == "SIGCHLD" and v.signal_name(34) == "SIGRT_2" and v.signal_name(99) == "99"
    assert v.socket_type(1 | 0o2000000 | 0o4000) == "SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK"
    assert v.socket_type(2) == "SOCK_DGRAM"
    assert v.socket_flags(0o2000000) == "SOCK_CLOEXEC" and v.socket_flags(0) == "0"
    assert v.address_family(10) == "AF_INET6" and v.address_family(0) == "AF_UNSPEC"
    assert v.ip_protocol(0) == "IPPROTO_IP" and v.socket_protocol(0) == "0" and v.socket_protocol(17) == "IPPROTO_UDP"
    assert v.futex_op(0x81) == "FUTEX_WAKE_PRIVATE"
    assert v.futex_op(9 | 128 | 256) == "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME"
    assert v.futex_op(0x7F) == "0x7f"
    assert v.futex_bitset(0xFFFFFFFF) == "FUTEX_BITSET_MATCH_ANY"
    assert v.clone_flags(0x1200000 | 17) == "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"
    assert v.clone_flags(0) == "0"
    assert v.fcntl_command(1030) == "F_DUPFD_CLOEXEC" and v.fcntl_command(4242) == "4242"
    assert v.ioctl_request(0x5401) == "TCGETS" and v.ioctl_request(0xDEAD) == "0xdead"
    assert v.madvise_advice(4) == "MADV_DONTNEED"
    assert v.prctl_option(15) == "PR_SET_NAME" and v.arch_prctl_option(0x1002) == "ARCH_SET_FS"
    assert v.rlimit_resource(3) == "RLIMIT_STACK"
    assert v.random_flags(1) == "GRND_NONBLOCK" and v.random_flags(0) == "0"
    assert v.wait_options(1 | 0x40000000) == "WNOHANG|__WALL"
    assert v.statx_flags(0x100 | 0x800) == "AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW|AT_NO_AUTOMOUNT"
    assert v.statx_mask(0x2 | 0x200) == "STATX_MODE|STATX_SIZE"
    assert v.sigprocmask_how(2) == "SIG_SETMASK"
    assert v.epoll_ctl_op(1) == "EPOLL_CTL_ADD" and v.epoll_create_flags(0o2000000) == "EPOLL_CLOEXEC"
    assert v.fadvise_advice(2) == "POSIX_FADV_SEQUENTIAL"
    assert v.socket_option(2) == "SO_REUSEADDR" and v.socket_level(1) == "SOL_SOCKET"
    assert v.message_flags(0x4000 | 0x40) == "MSG_DONTWAIT|MSG_NOSIGNAL"
    assert v.shutdown_how(2) == "SHUT_RDWR"
    assert v.pipe_flags(0o2000000 | 0o4000) == "O_NONBLOCK|O_CLOEXEC" and v.pipe_flags(0) == "0"
    assert v.offset(0x25000) == "0x25000" and v.offset(0) == "0"


def test_open_flags_in_strace_order() -> None:
    # strace 6.1: O_DIRECTORY after O_CLOEXEC, O_ASYNC as FASYNC and last.
    assert v.open_flags(0o200000 | 0o4000 | 0o2000000) == "O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY"
    assert v.open_flags(0o40000 | 0o2000000 | 0o200000 | 0o20000) == "O_RDONLY|O_DIRECT|O_CLOEXEC|O_DIRECTORY|FASYNC"
    assert v.open_flags(2 | 0o20200000 | 0o2000000) == "O_RDWR|O_CLOEXEC|O_TMPFILE"


def test_kinds_name_the_arguments_strace_names() -> None:
    # utime: its timespec is captured (decoded only for the ops where it is a timeout)
    assert kinds(SIGNATURES[202]) == (Kind.POINTER, Kind.FUTEX_OP, Kind.UINT, Kind.CAPTURED, Kind.POINTER, Kind.UINT)
    assert arg_kind("socket", Arg("type", "int")) is Kind.SOCKET_TYPE
    assert arg_kind("read", Arg("fd", "unsigned int")) is Kind.FD
    assert arg_kind("dup", Arg("fildes", "unsigned int")) is Kind.FD
    assert arg_kind("close_range", Arg("max_fd", "unsigned int")) is Kind.INT  # a number, not a descriptor


FUTEX_WAKE = record("futex", (0x7F00, 0x81, 1, 0, 0, 0), 0)
FUTEX_WAIT_BITSET = record("futex", (0x7F00, 9 | 128 | 256, 0, 0, 0, 0xFFFFFFFF), 0)
FUTEX_WAIT = record("futex", (0x7F00, 0x80, 2, 0, 0, 0), 0)
FCNTL_GETFD = record("fcntl", (3, 1, 0), 1)
FCNTL_SETFD = record("fcntl", (3, 2, 1), 0)
FCNTL_SETFL = record("fcntl", (3, 4, 0o4000), 0)
FCNTL_DUPFD = record("fcntl", (3, 1030, 10), 11)
IOCTL_FIOCLEX = record("ioctl", (3, 0x5451, 0), 0)
IOCTL_TCGETS = record("ioctl", (1, 0x5401, 0x7FFE0000), -25)
SOCKETS = (
    record("socket", (2, 1 | 0o2000000, 0), 3),
    record("socket", (1, 1, 0), 4),
    record("socket", (16, 3, 0), 5),
)


def test_arguments_strace_shows_by_another_argument() -> None:
    assert calls(FUTEX_WAKE, FUTEX_WAIT_BITSET, FUTEX_WAIT) == [
        "futex(uaddr=0x7f00, op=FUTEX_WAKE_PRIVATE, val=1) = 0",
        "futex(uaddr=0x7f00, op=FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, val=0, utime=NULL,"
        " val3=FUTEX_BITSET_MATCH_ANY) = 0",
        "futex(uaddr=0x7f00, op=FUTEX_WAIT_PRIVATE, val=2, utime=NULL) = 0",
    ]
    assert calls(FCNTL_GETFD, FCNTL_SETFD, FCNTL_SETFL, FCNTL_DUPFD) == [
        "fcntl(fd=3, cmd=F_GETFD) = 1",
        "fcntl(fd=3, cmd=F_SETFD, arg=FD_CLOEXEC) = 0",
        "fcntl(fd=3, cmd=F_SETFL, arg=O_RDONLY|O_NONBLOCK) = 0",
        "fcntl(fd=3, cmd=F_DUPFD_CLOEXEC, arg=10) = 11",
    ]
    assert calls(IOCTL_FIOCLEX, IOCTL_TCGETS) == [
        "ioctl(fd=3, cmd=FIOCLEX) = 0",
        "ioctl(fd=1, cmd=TCGETS, arg=0x7ffe0000) = -1 ENOTTY (Inappropriate ioctl for device)",
    ]
    assert calls(*SOCKETS) == [
        "socket(family=AF_INET, type=SOCK_STREAM|SOCK_CLOEXEC, protocol=IPPROTO_IP) = 3",
        "socket(family=AF_UNIX, type=SOCK_STREAM, protocol=0) = 4",
        "socket(family=AF_NETLINK, type=SOCK_RAW, protocol=NETLINK_ROUTE) = 5",
    ]
    assert calls(record("setsockopt", (3, 1, 2, 0x7F00, 4), 0)) == [
        "setsockopt(fd=3, level=SOL_SOCKET, optname=SO_REUSEADDR, optval=0x7f00, optlen=4) = 0"
    ]
    assert calls(record("clock_nanosleep", (1, 0, 0x7F00, 0), 0)) == [
        "clock_nanosleep(which_clock=CLOCK_MONOTONIC, flags=0, rqtp=0x7f00, rmtp=NULL) = 0"
    ]
    assert calls(record("mmap", (0, 4096, 1, 2, 3, 0x3000), 0x7F0000000000)) == [
        "mmap(addr=NULL, len=4096, prot=PROT_READ, flags=MAP_PRIVATE, fd=3, off=0x3000) = 0x7f0000000000"
    ]


def test_json_keeps_every_argument_as_a_number_and_adds_names() -> None:
    wake, getfd = objects(FUTEX_WAKE, FCNTL_GETFD)
    assert wake["args"] == {"uaddr": "0x7f00", "op": 129, "val": 1, "utime": None, "uaddr2": None, "val3": 0}
    assert wake["names"] == {"op": "FUTEX_WAKE_PRIVATE"}
    assert getfd["args"] == {"fd": 3, "cmd": 1, "arg": 0} and getfd["names"] == {"cmd": "F_GETFD"}
    (clone,) = objects(record("clone", (0x1200011, 0, 0, 0x7F00, 0), 42))
    assert clone["names"] == {"clone_flags": "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"}
    (mapped,) = objects(record("mmap", (0, 4096, 1, 2, 3, 0x3000), 0x7F0000000000))
    assert mapped["args"]["off"] == 0x3000 and "names" not in mapped  # prot/flags were named before: in args


@pytest.mark.parametrize("line_format", [TextLine, JsonLine])
def test_numpy_batches_render_dependent_arguments_alike(line_format: type[TextLine] | type[JsonLine]) -> None:
    pytest.importorskip("numpy")
    from syscount.trace.vector import Vectorized

    mix = (FUTEX_WAKE, FUTEX_WAIT_BITSET, FUTEX_WAIT, FCNTL_GETFD, FCNTL_SETFD, FCNTL_SETFL, FCNTL_DUPFD, *SOCKETS)
    span = b"".join(mix[i % len(mix)] for i in range(3000))
    per_event: list[str] = []
    decode(span, _sink(line_format(OFFSET)).formatters, per_event)
    formatters = _sink(line_format(OFFSET)).formatters
    batched: list[str] = []
    decode(span, formatters, batched, Vectorized(formatters))
    assert len(batched) < len(per_event)  # numpy rendered runs
    assert joined(batched) == joined(per_event)
