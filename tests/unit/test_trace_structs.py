"""The byte → text decoders of captured arguments (syscount/trace/structs.py, captured.py)."""

from __future__ import annotations

import socket
import struct

from syscount.trace import structs
from syscount.trace.captured import FAULT, HEAD, MORE, TRUNCATED, captured_json, captured_text, was_truncated
from syscount.trace.record import ARG0, RET
from syscount.trace.strings import Items, parse_strings
from syscount.trace.structs import Buffer


def sockaddr_in(port: int, addr: str) -> bytes:
    return struct.pack("<H", socket.AF_INET) + struct.pack(">H", port) + socket.inet_aton(addr) + bytes(8)


def sockaddr_in6(port: int, addr: str, scope: int = 0) -> bytes:
    packed = socket.inet_pton(socket.AF_INET6, addr)
    return struct.pack("<H", socket.AF_INET6) + struct.pack(">HI", port, 0) + packed + struct.pack("<I", scope)


def test_sockaddr_inet() -> None:
    data = sockaddr_in(46369, "127.0.0.1")
    assert structs.sockaddr_text(data) == '{sa_family=AF_INET, sin_port=htons(46369), sin_addr=inet_addr("127.0.0.1")}'
    assert structs.sockaddr_json(data) == {"sa_family": "AF_INET", "sin_port": 46369, "sin_addr": "127.0.0.1"}


def test_sockaddr_inet6() -> None:
    data = sockaddr_in6(443, "2001:db8::1", scope=2)
    assert structs.sockaddr_text(data) == (
        "{sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0),"
        ' sin6_addr=inet_pton(AF_INET6, "2001:db8::1"), sin6_scope_id=2}'
    )
    assert structs.sockaddr_json(data)["sin6_addr"] == "2001:db8::1"  # type: ignore[index]


def test_sockaddr_unix_paths_abstract_names_and_hostile_bytes() -> None:
    family = struct.pack("<H", socket.AF_UNIX)
    assert structs.sockaddr_text(family + b"/run/x.sock\0") == '{sa_family=AF_UNIX, sun_path="/run/x.sock"}'
    assert structs.sockaddr_text(family + b"\0name") == '{sa_family=AF_UNIX, sun_path=@"name"}'
    assert structs.sockaddr_text(family + b"/tmp/\x1b[2J") == '{sa_family=AF_UNIX, sun_path="/tmp/\\033[2J"}'


def test_sockaddr_netlink_and_short_or_unknown() -> None:
    data = struct.pack("<HHII", 16, 0, 1234, 1)
    assert structs.sockaddr_text(data) == "{sa_family=AF_NETLINK, nl_pid=1234, nl_groups=0x00000001}"
    assert structs.sockaddr_text(b"\x02") is None  # too short to hold even a family: the pointer is shown
    # cut short: the bytes as they are, never a guessed address
    assert structs.sockaddr_text(struct.pack("<HH", socket.AF_INET, 80)) == '{sa_family=AF_INET, sa_data="P\\000"}'
    assert structs.sockaddr_text(struct.pack("<H", 99) + b"ab") == '{sa_family=99, sa_data="ab"}'


def test_timespec_timeval_and_utimensat_pairs() -> None:
    assert structs.timespec_text(struct.pack("<qq", 0, 10_000_000)) == "{tv_sec=0, tv_nsec=10000000}"
    assert structs.timeval_text(struct.pack("<qq", 5, 250)) == "{tv_sec=5, tv_usec=250}"
    assert structs.timespec_text(b"\0" * 15) is None
    pair = struct.pack("<qqqq", 0, (1 << 30) - 1, 7, (1 << 30) - 2)
    assert structs.timespec_pair_text(pair) == "[{tv_sec=0, tv_nsec=UTIME_NOW}, {tv_sec=7, tv_nsec=UTIME_OMIT}]"


def test_buffers_binary_hostile_and_truncated() -> None:
    assert structs.buffer_text(Buffer(b"hello\n", False)) == '"hello\\n"'
    assert structs.buffer_text(Buffer(b"\x7fELF\x02\xff", True)) == '"\\177ELF\\2\\377"...'
    hostile = b'\x1b]0;pwned\x07"\\'
    assert structs.buffer_text(Buffer(hostile, False)) == '"\\33]0;pwned\\7\\"\\\\"'
    assert structs.buffer_json(Buffer(b"caf\xc3\xa9", False)) == "café"
    assert structs.buffer_json(Buffer(b"\xff\xfe", False)) == {"base64": "//4="}


def test_rlimit_sigset_sigaction() -> None:
    assert structs.rlimit_text(struct.pack("<QQ", 1024, (1 << 64) - 1)) == "{rlim_cur=1024, rlim_max=RLIM64_INFINITY}"
    # Whole KiB above 1024 as strace writes them.
    assert structs.rlimit_text(struct.pack("<QQ", 8 << 20, 1000)) == "{rlim_cur=8192*1024, rlim_max=1000}"
    mask = (1 << 1) | (1 << 14)  # SIGINT (2), SIGTERM (15)
    assert structs.sigset_text(struct.pack("<Q", mask)) == "[INT TERM]"
    assert structs.sigset_text(struct.pack("<Q", ~((1 << 8) | (1 << 18)) & (2**64 - 1))) == "~[KILL STOP]"
    act = struct.pack("<QQQQ", 1, 0x04000000 | 0x10000000, 0x7F00, 1 << 1)
    assert structs.sigaction_text(act) == (
        "{sa_handler=SIG_IGN, sa_mask=[INT], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7f00}"
    )
    # strace's order of the flags; real-time signals from the kernel's SIGRTMIN (32).
    act = struct.pack("<QQQQ", 0x1234, 0x4 | 0x04000000 | 0x08000000 | 0x10000000, 0x7F00, 0)
    assert structs.sigaction_text(act) == (
        "{sa_handler=0x1234, sa_mask=[], sa_flags=SA_RESTORER|SA_ONSTACK|SA_RESTART|SA_SIGINFO, sa_restorer=0x7f00}"
    )
    all_but_rt01 = (2**64 - 1) & ~(3 << 31)  # every signal but 32 and 33
    assert structs.sigset_text(struct.pack("<Q", all_but_rt01)) == "~[RTMIN RT_1]"
    assert structs.sigset_text(struct.pack("<Q", 1 << 33)) == "[RT_2]"
    assert structs.sigset_text(bytes(8)) == "[]"


def test_poll_epoll_stat_statx() -> None:
    fds = struct.pack("<ihh", 3, 1, 1) + struct.pack("<ihh", 4, 4, 0)
    assert structs.pollfds_text(fds, 2) == "[{fd=3, events=POLLIN, revents=POLLIN}, {fd=4, events=POLLOUT}]"
    assert structs.pollfds_text(fds, 3) is None  # fewer bytes than fds: the pointer
    assert structs.epoll_events_text(struct.pack("<IQ", 1 | (1 << 31), 5)) == "[{events=EPOLLIN|EPOLLET, data=0x5}]"
    stat = struct.pack("<QQQIII", 1, 2, 1, 0o100644, 0, 0) + bytes(4 + 8) + struct.pack("<q", 1234)
    stat += bytes(144 - len(stat))
    assert structs.stat_text(stat) == "{st_mode=S_IFREG|0644, st_size=1234, ...}"
    statx = struct.pack("<IIQIIIH", 0xFFF, 4096, 0, 1, 0, 0, 0o40755) + bytes(2) + struct.pack("<QQ", 9, 4096)
    statx += bytes(256 - len(statx))
    assert structs.statx_text(statx) == (
        "{stx_mask=STATX_BASIC_STATS|STATX_BTIME, stx_attributes=0, stx_mode=S_IFDIR|0755, stx_size=4096, ...}"
    )


def test_a_device_shows_its_number_not_a_size() -> None:
    rdev = (1 << 8) | 3  # makedev(1, 3): /dev/null
    stat = struct.pack("<QQQIII", 1, 2, 1, 0o20666, 0, 0) + bytes(4) + struct.pack("<Qq", rdev, 0)
    stat += bytes(144 - len(stat))
    assert structs.stat_text(stat) == "{st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}"
    # The kernel's split encoding: minor's low byte, major, then minor's high bits.
    assert structs.makedev_text(0x34 | (0x103 << 8) | (0x1200 << 12)) == "makedev(0x103, 0x1234)"


def test_small_outputs_sysinfo_wait_status_int_and_fd_pair() -> None:
    info = struct.pack("<q3Q6QH6xQQI", 4950, 1, 2, 3, 10, 9, 8, 7, 0, 0, 1103, 0, 0, 1)
    assert structs.sysinfo_text(info + bytes(4)) == (
        "{uptime=4950, loads=[1, 2, 3], totalram=10, freeram=9, sharedram=8, bufferram=7, totalswap=0,"
        " freeswap=0, procs=1103, totalhigh=0, freehigh=0, mem_unit=1}"
    )
    assert structs.sysinfo_text(info[:50]) is None
    status = structs.wait_status_text
    assert status(struct.pack("<i", 3 << 8)) == "[{WIFEXITED(s) && WEXITSTATUS(s) == 3}]"
    assert status(struct.pack("<i", 9)) == "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}]"
    assert status(struct.pack("<i", 11 | 0x80)) == "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}]"
    assert status(struct.pack("<i", (19 << 8) | 0x7F)) == "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}]"
    assert status(struct.pack("<i", 0xFFFF)) == "[{WIFCONTINUED(s)}]"
    assert structs.int_text(struct.pack("<i", 1)) == "[1]"
    assert structs.int_text(struct.pack("<ii", 1, 2)) is None  # not an int: the pointer
    assert structs.fd_pair_text(struct.pack("<ii", 3, 4)) == "[3, 4]"


def test_outputs_read_at_exit_show_what_the_kernel_wrote() -> None:
    path = Items(((0, b"/tmp/work"),))
    assert captured_text("getcwd", "buf", path, record()) == '"/tmp/work"'
    assert captured_json("getcwd", "buf", path, record()) == "/tmp/work"
    assert captured_text("readlink", "buf", Items(((TRUNCATED, b"python3"),)), record()) == '"python3"...'
    status = Items(((0, struct.pack("<i", 0)),))
    exited = [0] * 17
    exited[RET] = 1234
    assert captured_text("wait4", "stat_addr", status, tuple(exited)) == "[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]"
    assert captured_text("wait4", "stat_addr", status, record()) is None  # WNOHANG, none: not written
    assert captured_text("setsockopt", "optval", Items(((0, struct.pack("<i", 1)),)), record()) == "[1]"


def record(*args: int) -> tuple[int, ...]:
    values = [0] * 17
    for i, value in enumerate(args):
        values[ARG0 + i] = value
    return tuple(values)


def item(arg: int, flags: int, data: bytes) -> bytes:
    return struct.pack("=BBH", arg, flags, len(data)) + data


def test_items_are_parsed_per_argument_and_rendered_by_shape() -> None:
    data = item(1, TRUNCATED, b"0123") + item(4, 0, sockaddr_in(53, "10.0.0.1"))
    values = parse_strings(data, 0, len(data), frozenset({1, 4}))
    assert values[1] == Items(((TRUNCATED, b"0123"),))
    assert captured_text("write", "buf", values[1], record()) == '"0123"...'
    assert was_truncated(values[1]) and not was_truncated(values[4])
    assert captured_json("sendto", "addr", values[4], record())["sin_port"] == 53


def test_a_fault_or_nothing_captured_shows_the_pointer() -> None:
    assert captured_text("write", "buf", Items(((FAULT, b""),)), record()) is None
    assert captured_text("write", "buf", None, record()) is None
    assert captured_text("nosuchcall", "buf", Items(((0, b"x"),)), record()) is None


def test_futex_utime_is_a_timeout_only_for_wait_ops() -> None:
    ts = Items(((0, struct.pack("<qq", 1, 5)),))
    assert captured_text("futex", "utime", ts, record(0, 0x80)) == "{tv_sec=1, tv_nsec=5}"  # FUTEX_WAIT_PRIVATE
    assert captured_text("futex", "utime", ts, record(0, 1)) is None  # FUTEX_WAKE: utime is not a time


def test_iovec_and_msghdr() -> None:
    iov = Items(((4, struct.pack("<Q", 5) + b"hel"), (4 | TRUNCATED, struct.pack("<Q", 9) + b"lo"), (4 | MORE, b"")))
    assert captured_text("writev", "vec", iov, record()) == (
        '[{iov_base="hel", iov_len=5}, {iov_base="lo"..., iov_len=9}, ...]'
    )
    head = structs.MSGHDR.pack(0, 0, 0x1000, 1, 0, 0, 0)
    msg = Items(((HEAD, head), (4, struct.pack("<Q", 2) + b"ab")))
    assert captured_text("sendmsg", "msg", msg, record()) == (
        '{msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="ab", iov_len=2}], msg_iovlen=1,'
        " msg_controllen=0, msg_flags=0}"
    )
