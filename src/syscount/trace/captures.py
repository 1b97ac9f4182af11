"""Which arguments the kernel copies from the caller's memory, how, and how they are shown.

A capture is read at the call's exit (so a read's buffer holds what was read and a
sockaddr length what the kernel wrote), bounded (-s for data, fixed sizes for structs),
and only from native-ABI calls: the compat ABI's structs have other layouts, so its
arguments stay pointers. Paths and argv (kinds STRING, ARGV) are captured too; this
table holds everything else, as kind CAPTURED.
"""

from __future__ import annotations

from typing import NamedTuple

from ..kernel.layout import header_constants

_C = header_constants("trace.h")
STR, ARGV, BUF, BUF_RET, FIXED = (_C[f"SC_CAP_{n}"] for n in ("STR", "ARGV", "BUF", "BUF_RET", "FIXED"))
ADDR, ADDR_PTR, IOV, IOV_RET = (_C[f"SC_CAP_{n}"] for n in ("ADDR", "ADDR_PTR", "IOV", "IOV_RET"))
ARRAY, ARRAY_RET, MSGHDR, MSGHDR_RET = (_C[f"SC_CAP_{n}"] for n in ("ARRAY", "ARRAY_RET", "MSGHDR", "MSGHDR_RET"))
FDS, IF_OK = _C["SC_CAP_FDS"], _C["SC_CAP_IF_OK"]
ADDR_MAX = _C["SC_TRACE_ADDR_MAX"]


class Capture(NamedTuple):
    how: int  # SC_CAP_*, with IF_OK when only a successful call wrote it
    shape: str  # "buffer", "sockaddr", "iovec", "msghdr", "pollfds", or a structs.STRUCTS name
    len_arg: str | None = None  # the argument holding the length or count
    size: int = 0  # bytes of a struct (or an array's element), or at most (sockaddr)


def _buffer(length: str) -> Capture:
    return Capture(BUF, "buffer", length)


_READ = Capture(BUF_RET | IF_OK, "buffer")
_SOCKADDR_OUT = Capture(ADDR_PTR | IF_OK, "sockaddr", None, ADDR_MAX)  # len_arg filled below
_TIMESPEC = Capture(FIXED, "timespec", size=16)
_TIMESPEC_OUT = Capture(FIXED | IF_OK, "timespec", size=16)
_STAT = Capture(FIXED | IF_OK, "stat", size=144)
_RLIMIT_IN = Capture(FIXED, "rlimit", size=16)
_RLIMIT_OUT = Capture(FIXED | IF_OK, "rlimit", size=16)
_SIGSET_IN = Capture(FIXED, "sigset", size=8)
_SIGSET_OUT = Capture(FIXED | IF_OK, "sigset", size=8)
_FDS = Capture(FDS | IF_OK, "fd_pair", size=8)  # and what each descriptor is (-y)

# (syscall, argument) → capture; names as the kernel's signatures spell them.
CAPTURES: dict[tuple[str, str], Capture] = {
    ("read", "buf"): _READ,
    ("write", "buf"): _buffer("count"),
    ("pread64", "buf"): _READ,
    ("pwrite64", "buf"): _buffer("count"),
    ("readv", "vec"): Capture(IOV_RET | IF_OK, "iovec", "vlen"),
    ("writev", "vec"): Capture(IOV, "iovec", "vlen"),
    ("preadv", "vec"): Capture(IOV_RET | IF_OK, "iovec", "vlen"),
    ("pwritev", "vec"): Capture(IOV, "iovec", "vlen"),
    ("preadv2", "vec"): Capture(IOV_RET | IF_OK, "iovec", "vlen"),
    ("pwritev2", "vec"): Capture(IOV, "iovec", "vlen"),
    ("sendto", "buff"): _buffer("len"),
    ("sendto", "addr"): Capture(ADDR, "sockaddr", "addr_len", ADDR_MAX),
    ("recvfrom", "ubuf"): _READ,
    ("recvfrom", "addr"): _SOCKADDR_OUT._replace(len_arg="addr_len"),
    ("sendmsg", "msg"): Capture(MSGHDR, "msghdr"),
    ("recvmsg", "msg"): Capture(MSGHDR_RET | IF_OK, "msghdr"),
    ("connect", "uservaddr"): Capture(ADDR, "sockaddr", "addrlen", ADDR_MAX),
    ("bind", "umyaddr"): Capture(ADDR, "sockaddr", "addrlen", ADDR_MAX),
    ("accept", "upeer_sockaddr"): _SOCKADDR_OUT._replace(len_arg="upeer_addrlen"),
    ("accept4", "upeer_sockaddr"): _SOCKADDR_OUT._replace(len_arg="upeer_addrlen"),
    ("getsockname", "usockaddr"): _SOCKADDR_OUT._replace(len_arg="usockaddr_len"),
    ("getpeername", "usockaddr"): _SOCKADDR_OUT._replace(len_arg="usockaddr_len"),
    ("nanosleep", "rqtp"): _TIMESPEC,
    ("clock_nanosleep", "rqtp"): _TIMESPEC,
    ("clock_gettime", "tp"): _TIMESPEC_OUT,
    ("clock_getres", "tp"): _TIMESPEC_OUT,
    ("gettimeofday", "tv"): Capture(FIXED | IF_OK, "timeval", size=16),
    ("futex", "utime"): _TIMESPEC,  # a timeout only for the wait ops: captured.py checks op
    ("utimensat", "utimes"): Capture(FIXED, "timespec_pair", size=32),
    ("poll", "ufds"): Capture(ARRAY, "pollfds", "nfds", 8),
    ("epoll_ctl", "event"): Capture(FIXED, "epoll_event", size=12),
    ("epoll_wait", "events"): Capture(ARRAY_RET | IF_OK, "epoll_events", size=12),
    ("epoll_pwait", "events"): Capture(ARRAY_RET | IF_OK, "epoll_events", size=12),
    ("rt_sigaction", "act"): Capture(FIXED, "sigaction", size=32),
    ("rt_sigaction", "oact"): Capture(FIXED | IF_OK, "sigaction", size=32),
    ("rt_sigprocmask", "nset"): _SIGSET_IN,
    ("rt_sigprocmask", "oset"): _SIGSET_OUT,
    ("stat", "statbuf"): _STAT,
    ("lstat", "statbuf"): _STAT,
    ("fstat", "statbuf"): _STAT,
    ("newfstatat", "statbuf"): _STAT,
    ("statx", "buffer"): Capture(FIXED | IF_OK, "statx", size=256),
    ("getrlimit", "rlim"): _RLIMIT_OUT,
    ("setrlimit", "rlim"): _RLIMIT_IN,
    ("prlimit64", "new_rlim"): _RLIMIT_IN,
    ("prlimit64", "old_rlim"): _RLIMIT_OUT,
    # Outputs read at exit: up to the result (readlink: the bytes written, -s bounded as
    # strace's), a path the kernel wrote (getcwd: a NUL-ended string), small structs.
    ("readlink", "buf"): _READ,
    ("readlinkat", "buf"): _READ,
    ("getcwd", "buf"): Capture(STR | IF_OK, "string"),
    ("sysinfo", "info"): Capture(FIXED | IF_OK, "sysinfo", size=112),
    ("wait4", "stat_addr"): Capture(FIXED | IF_OK, "wait_status", size=4),
    ("pipe", "fildes"): _FDS,
    ("pipe2", "fildes"): _FDS,
    ("socketpair", "usockvec"): _FDS,
    # An int option (the usual case) is [1]; other sizes stay pointers (structs.int_text).
    ("setsockopt", "optval"): Capture(ADDR, "int", "optlen", 16),
}


# Calls whose result is a descriptor the kernel names itself (socket:[1234], pipe:[1234],
# anon_inode:[eventpoll]): the exit adds what file it is (SC_CALL_FILE), for -y.
FILE_RESULTS = frozenset(
    {"socket", "accept", "accept4", "epoll_create", "epoll_create1", "eventfd", "eventfd2", "timerfd_create"}
    | {"signalfd", "signalfd4", "inotify_init", "inotify_init1", "fanotify_init", "userfaultfd", "pidfd_open"}
    | {"perf_event_open", "pidfd_getfd"}
)


def capture_of(syscall: str, arg: str) -> Capture | None:
    """The capture of a native call's argument (compat calls are named ``i386:...``: none)."""
    return CAPTURES.get((syscall, arg))
