"""-y / -yy: the descriptor table kept from the event stream, /proc as the fallback, the
text it gives, sockets' addresses; and -o FILE --output-separately."""

from __future__ import annotations

import os
import struct
from functools import partial
from pathlib import Path

from syscount.names.syscalls import slot_name
from syscount.trace.fdpaths import RESULT_FILE, FdPathLine, FdTable, describe_socket, fd_formatters, kernel_file_name
from syscount.trace.separate import SeparateSink
from syscount.trace.signatures import from_prototypes
from syscount.trace.sink import EventSink, FdOutput
from syscount.trace.stream import decode
from syscount.trace.strings import FILE
from syscount.trace.text import TextLine

from .test_trace_format import NORETURN, OFFSET, TABLES, record, string
from .test_trace_symbolic import PROTOTYPES as SYMBOLIC_PROTOTYPES

PROTOTYPES = {
    "openat": [("int", "dfd"), ("const char *", "filename"), ("int", "flags"), ("umode_t", "mode")],
    "read": [("unsigned int", "fd"), ("char *", "buf"), ("size_t", "count")],
    "close": [("unsigned int", "fd")],
    "dup2": [("unsigned int", "oldfd"), ("unsigned int", "newfd")],
    "chdir": [("const char *", "filename")],
    "clone": SYMBOLIC_PROTOTYPES["clone"],
    "execve": [("const char *", "filename"), ("const char *const *", "argv"), ("const char *const *", "envp")],
    "socket": SYMBOLIC_PROTOTYPES["socket"],
    "getppid": [],
    "epoll_create1": [("int", "flags")],
    "pipe2": [("int *", "fildes"), ("int", "flags")],
}
SIGNATURES = from_prototypes(TABLES[0], PROTOTYPES)
AT_FDCWD = 0xFFFFFF9C
O_CLOEXEC = 0o2000000


def fake_proc(root: Path, pid: int, cwd: str, fds: dict[int, str]) -> Path:
    """A /proc with one process: its working directory and descriptors as symbolic links."""
    (root / str(pid) / "fd").mkdir(parents=True)
    os.symlink(cwd, root / str(pid) / "cwd")
    for fd, target in fds.items():
        os.symlink(target, root / str(pid) / "fd" / str(fd))
    return root


def calls(table: FdTable, *records: bytes) -> list[str]:
    make = fd_formatters(table)
    sink = EventSink(
        FdOutput(-1), FdPathLine(OFFSET), partial(slot_name, TABLES), SIGNATURES, NORETURN, formatters=make
    )
    lines: list[str] = []
    decode(b"".join(records), sink.formatters, lines)
    return [line.split(" ", 3)[3].rsplit(" <", 1)[0] for line in lines]


def openat(path: bytes, fd: int, flags: int = 0, dfd: int = AT_FDCWD, pid: int = 100) -> bytes:
    return record("openat", (dfd, 0x7F00, flags, 0), fd, strings=string(1, path), pid=pid, tid=pid)


def read(fd: int, pid: int = 100) -> bytes:
    return record("read", (fd, 0x7F00, 64), 1, pid=pid, tid=pid)


def test_paths_follow_opens_dups_closes_and_the_working_directory(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path / "proc", 100, "/home/u", {0: "/dev/null", 3: "/stale/three"})
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "link")
    lines = calls(
        FdTable(proc=proc),
        read(0),  # opened before tracing: from /proc
        openat(str(tmp_path / "link" / "f").encode(), 3),  # symbolic links resolved, as the kernel names it
        read(3),
        record("dup2", (3, 7), 7, pid=100, tid=100),
        record("close", (3,), 0, pid=100, tid=100),
        read(3),  # closed: a bare number, not /proc's (stale) name
        read(7),
        record("chdir", (0x7F00,), 0, strings=string(0, b"sub"), pid=100, tid=100),
        openat(b"rel\x1b[2J", 4),  # relative to the new directory; a hostile name escaped
        read(4),
    )
    real = tmp_path / "real" / "f"
    assert lines == [
        "read(fd=0</dev/null>, buf=0x7f00, count=64) = 1",
        f'openat(dfd=AT_FDCWD</home/u>, filename="{tmp_path}/link/f", flags=O_RDONLY) = 3<{real}>',
        f"read(fd=3<{real}>, buf=0x7f00, count=64) = 1",
        f"dup2(oldfd=3<{real}>, newfd=7) = 7<{real}>",
        f"close(fd=3<{real}>) = 0",
        "read(fd=3, buf=0x7f00, count=64) = 1",
        f"read(fd=7<{real}>, buf=0x7f00, count=64) = 1",
        'chdir(filename="sub") = 0',
        'openat(dfd=AT_FDCWD</home/u/sub>, filename="rel\\033[2J", flags=O_RDONLY) = 4</home/u/sub/rel\\033[2J>',
        "read(fd=4</home/u/sub/rel\\033[2J>, buf=0x7f00, count=64) = 1",
    ]


def test_children_inherit_and_exec_drops_close_on_exec(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path / "proc", 100, "/", {})
    lines = calls(
        FdTable(proc=proc),
        openat(b"/a", 3),
        openat(b"/b", 4, flags=O_CLOEXEC),
        record("clone", (0x1200011, 0, 0, 0, 0), 200, pid=100, tid=100),
        read(3, pid=200),
        record("execve", (0x7F00, 0x7F10, 0x7F20), 0, strings=string(0, b"/bin/x"), pid=200, tid=200),
        read(3, pid=200),
        read(4, pid=200),
        read(4, pid=100),
    )
    assert lines[3:] == [
        "read(fd=3</a>, buf=0x7f00, count=64) = 1",
        'execve(filename="/bin/x", argv=0x7f10, envp=0x7f20) = 0',
        "read(fd=3</a>, buf=0x7f00, count=64) = 1",
        "read(fd=4, buf=0x7f00, count=64) = 1",  # O_CLOEXEC: gone in the new program
        "read(fd=4</b>, buf=0x7f00, count=64) = 1",  # still open in the parent
    ]


def test_kernel_named_descriptors_come_from_proc(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path / "proc", 100, "/", {5: "socket:[4242]"})
    lines = calls(FdTable(proc=proc), record("socket", (2, 1, 0), 5, pid=100, tid=100), read(5))
    assert lines == [
        "socket(family=AF_INET, type=SOCK_STREAM, protocol=IPPROTO_IP) = 5<socket:[4242]>",
        "read(fd=5<socket:[4242]>, buf=0x7f00, count=64) = 1",
    ]


def kernel_file(ino: int, mode: int, name: bytes = b"") -> bytes:
    """An SC_STR_FILE item's bytes: what the exit read of a new descriptor."""
    return struct.pack("<QI", ino, mode) + name


def test_the_kernel_names_what_it_made_when_proc_no_longer_can(tmp_path: Path) -> None:
    # The process is gone from /proc (it exited before decoding): the event says.
    proc = fake_proc(tmp_path / "proc", 1, "/", {})
    sock = string(RESULT_FILE, kernel_file(4242, 0o140777), FILE)
    epoll = string(RESULT_FILE, kernel_file(7, 0o600, b"[eventpoll]"), FILE)
    pipe = string(0, struct.pack("<ii", 3, 4)) + string(0, kernel_file(99, 0o10600), FILE) * 2
    lines = calls(
        FdTable(proc=proc),
        record("socket", (2, 1, 0), 5, strings=sock, pid=100, tid=100),
        record("epoll_create1", (0,), 6, strings=epoll, pid=100, tid=100),
        record("pipe2", (0x7F00, 0), 0, strings=pipe, pid=100, tid=100),
        read(5),
        record("close", (6,), 0, pid=100, tid=100),
        read(4),
    )
    assert lines == [
        "socket(family=AF_INET, type=SOCK_STREAM, protocol=IPPROTO_IP) = 5<socket:[4242]>",
        "epoll_create1(flags=0) = 6<anon_inode:[eventpoll]>",
        "pipe2(fildes=[3<pipe:[99]>, 4<pipe:[99]>], flags=0) = 0",
        "read(fd=5<socket:[4242]>, buf=0x7f00, count=64) = 1",
        "close(fd=6<anon_inode:[eventpoll]>) = 0",
        "read(fd=4<pipe:[99]>, buf=0x7f00, count=64) = 1",
    ]


def test_kernel_file_names_only_for_files_the_kernel_names() -> None:
    assert kernel_file_name(kernel_file(1, 0o140777)) == "socket:[1]"
    assert kernel_file_name(kernel_file(2, 0o10600)) == "pipe:[2]"
    assert kernel_file_name(kernel_file(3, 0o600, b"[timerfd]")) == "anon_inode:[timerfd]"
    assert kernel_file_name(kernel_file(4, 0o100644, b"a.txt")) is None  # a file: /proc knows its path
    assert kernel_file_name(kernel_file(5, 0o10600, b"fifo")) is None  # a named FIFO: a path too
    assert kernel_file_name(b"short") is None


TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0
   1: 0100007F:A028 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0
"""
TCP6 = """  sl  local_address                         remote_address                        st
   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 0:0 0:0 0 0 0 333 1
"""
UNIX = """Num       RefCount Protocol Flags    Type St Inode Path
0000000000000000: 00000002 00000000 00010000 0001 01 444 /run/x\\n
"""


def test_sockets_described_by_inode(tmp_path: Path) -> None:
    net = tmp_path / "net"
    net.mkdir()
    (net / "tcp").write_text(TCP)
    (net / "tcp6").write_text(TCP6)
    (net / "unix").write_text(UNIX)
    assert describe_socket(net, "111") == "TCP:[127.0.0.1:8080]"
    assert describe_socket(net, "222") == "TCP:[127.0.0.1:41000->127.0.0.1:8080]"
    assert describe_socket(net, "333") == "TCPv6:[[::1]:22]"
    assert describe_socket(net, "444") == 'UNIX:[444,"/run/x\\\\n"]'
    assert describe_socket(net, "999") is None
    proc = fake_proc(tmp_path / "proc", 100, "/", {6: "socket:[222]"})
    (proc / "100" / "net").symlink_to(net)
    assert calls(FdTable(sockets=True, proc=proc), read(6)) == [
        "read(fd=6<TCP:[127.0.0.1:41000->127.0.0.1:8080]>, buf=0x7f00, count=64) = 1"
    ]


def test_output_separately_routes_each_process_to_its_file(tmp_path: Path) -> None:
    base = tmp_path / "out"
    with open(base, "ab") as main:
        sink = SeparateSink(
            FdOutput(main.fileno()), str(base), TextLine(OFFSET), partial(slot_name, TABLES), SIGNATURES, NORETURN
        )
        span = b"".join(record("getppid", ret=1, pid=pid, tid=pid + i) for i in range(3) for pid in (10, 20))
        assert sink.batch(span) == len(span)
        sink.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out.10", "out.20"]
    for pid in (10, 20):
        lines = (tmp_path / f"out.{pid}").read_text().splitlines()
        assert [line.split(" ")[1] for line in lines] == [f"{pid}/{pid + i}" for i in range(3)]
    assert sink.events == 6
