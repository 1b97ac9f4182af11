"""``-y`` / ``-yy``: which file each descriptor is, kept per process from the event stream.

strace asks the kernel at every call (/proc/PID/fd/N) while the tracee is stopped.
syscount decodes events some milliseconds after they happened, when descriptor 3
may already be another file, so it keeps its own table, fed by the events in order:

- ``openat``/``open``/``creat`` put the path they opened (made absolute from the
  directory descriptor or the working directory, symbolic links resolved as the
  kernel's own name for the file would be); ``chdir``/``fchdir`` move the working
  directory; ``dup*`` and ``fcntl(F_DUPFD*)`` copy an entry; ``close`` and
  ``close_range`` drop entries; a successful ``execve`` drops close-on-exec ones;
- a ``clone``/``fork``/``vfork`` result gives the child a copy of its parent's table
  (taken at that point, used when the child's first event is seen);
- descriptors the stream does not name (sockets, pipes, epoll: the kernel makes up
  their names, ``socket:[1234]``) and descriptors opened before tracing started are
  read from ``/proc/PID/fd`` the first time they are shown, and remembered.

``-yy`` shows a socket as its protocol and addresses (``TCP:[127.0.0.1:41000->
127.0.0.1:8080]``), looked up by inode in ``/proc/PID/net/*`` when the event is
decoded. Every name is escaped (names/escape.py).
"""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ..names.escape import decode_name, escape_text
from . import values as v
from .compile import Call, Formatter, Formatters
from .kinds import Kind
from .layout import IfOk, Named, Number, Segment, Text
from .record import ARG0, PID, RET, SLOT
from .strings import FAULT, FILE, CString, Items, Value
from .text import TextLine

PROC = Path("/proc")
O_CLOEXEC = 0o2000000
RETURN = 7  # the index in an event's rendered strings that holds its decorated result
# Calls whose result is a new descriptor.
FD_RETURNS = frozenset(
    {"open", "openat", "openat2", "creat", "socket", "accept", "accept4", "dup", "dup2", "dup3"}
    | {"epoll_create", "epoll_create1", "eventfd", "eventfd2", "memfd_create", "timerfd_create"}
    | {"signalfd", "signalfd4", "inotify_init", "inotify_init1", "pidfd_open", "pidfd_getfd"}
    | {"fanotify_init", "userfaultfd", "perf_event_open", "open_tree", "fsopen", "fsmount"}
    | {"fspick", "mq_open", "open_by_handle_at", "memfd_secret"}
)
OPENS = frozenset({"open", "openat", "openat2", "creat"})
# Calls that make two descriptors, written to an int[2] argument (its index).
FD_PAIRS = {"pipe": 0, "pipe2": 0, "socketpair": 3}
RESULT_FILE = 6  # SC_TRACE_ARGS: the index of the item telling what a call's result descriptor is
FORKS = frozenset({"clone", "clone3", "fork", "vfork"})
EXECS = frozenset({"execve", "execveat"})
F_DUPFD, F_SETFD, F_DUPFD_CLOEXEC = 0, 2, 1030
CLOSE_RANGE_CLOEXEC = 4
MAX_PENDING_FORKS = 4096  # thread creations leave unused copies: bound them


class Entry(NamedTuple):
    name: str  # "" for a descriptor the stream saw closed: no /proc fallback for it
    cloexec: bool


CLOSED = Entry("", False)


class Process:
    """One process's descriptors and working directory, as far as the stream told."""

    def __init__(self, fds: dict[int, Entry] | None = None, cwd: str | None = None) -> None:
        self.fds: dict[int, Entry] = fds or {}
        self.cwd = cwd

    def copy(self) -> Process:
        return Process(dict(self.fds), self.cwd)


def _readlink(path: Path | str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


class FdTable:
    """Descriptor → name for every traced process (the module docstring says how)."""

    def __init__(self, sockets: bool = False, proc: Path = PROC) -> None:
        self.sockets = sockets
        self.proc = proc
        self.processes: dict[int, Process] = {}
        self.forked: dict[int, Process] = {}
        self._socket_names: dict[str, str] = {}

    # --- what is shown

    def process(self, tgid: int) -> Process:
        known = self.processes.get(tgid)
        if known is None:
            known = self.processes[tgid] = self.forked.pop(tgid) if tgid in self.forked else Process()
        return known

    def name(self, tgid: int, fd: int) -> str | None:
        """The name of ``fd`` in process ``tgid``, or None when it cannot be known."""
        if fd < 0:
            return None
        process = self.process(tgid)
        entry = process.fds.get(fd)
        if entry is None:  # not seen opened: ask /proc once (a failure is remembered too)
            link = _readlink(f"{self.proc}/{tgid}/fd/{fd}")
            entry = process.fds[fd] = CLOSED if link is None else Entry(link, False)
        if entry is CLOSED:
            return None
        if self.sockets and entry.name.startswith("socket:["):
            return self._socket(tgid, entry.name)
        return entry.name

    def shown(self, tgid: int, value: int) -> str:
        """``3</etc/hostname>``, or the bare number when the name is unknown."""
        fd = v.int32(value)
        name = self.name(tgid, fd)
        return f"{fd}<{escape_text(name)}>" if name is not None else str(fd)

    def shown_dirfd(self, tgid: int, value: int) -> str:
        """A directory descriptor: ``AT_FDCWD</tmp>`` names the working directory, as strace does."""
        if v.int32(value) != v.AT_FDCWD:
            return self.shown(tgid, value)
        cwd = self.cwd(tgid)
        return f"AT_FDCWD<{escape_text(cwd)}>" if cwd is not None else "AT_FDCWD"

    def cwd(self, tgid: int) -> str | None:
        process = self.process(tgid)
        if process.cwd is None:
            process.cwd = _readlink(self.proc / str(tgid) / "cwd")
        return process.cwd

    def prime(self, tgid: int) -> None:
        """Read a process's descriptors and directory now (a command about to start, -p PIDs)."""
        process = self.process(tgid)
        process.cwd = _readlink(self.proc / str(tgid) / "cwd")
        try:
            names = os.listdir(self.proc / str(tgid) / "fd")
        except OSError:
            return
        for fd in filter(str.isdigit, names):
            link = _readlink(self.proc / str(tgid) / "fd" / fd)
            if link is not None:
                process.fds[int(fd)] = Entry(link, False)

    def inherit_from_self(self, child: int) -> None:
        """A command syscount forked: it starts with syscount's inheritable descriptors and directory."""
        own = Process(cwd=os.getcwd())
        for fd in map(int, filter(str.isdigit, os.listdir(self.proc / "self" / "fd"))):
            try:
                inheritable = os.get_inheritable(fd)
            except OSError:
                continue
            link = _readlink(self.proc / "self" / "fd" / str(fd)) if inheritable else None
            if link is not None:
                own.fds[fd] = Entry(link, False)
        self.forked[child] = own

    # --- what the calls change

    def observe(self, name: str, t: Sequence[Any], strings: Mapping[int, Value]) -> None:
        """Apply the effect of a completed call (record ``t``) on its process's table."""
        ret = t[RET]
        if ret < 0:
            return
        args = t[ARG0 : ARG0 + 6]
        tgid = t[PID]
        if name in OPENS:
            self._opened(tgid, name, args, strings, ret)
        elif name in ("close", "close_range", "fcntl", "dup", "dup2", "dup3"):
            self._descriptors(tgid, name, args, ret)
        elif name in FD_RETURNS:  # named by the kernel (socket:[1234]): the event says what it is
            self._named_by_kernel(tgid, ret, file_items(strings.get(RESULT_FILE)))
        elif name in FD_PAIRS:
            pair = fd_pair(strings.get(FD_PAIRS[name]))
            files = file_items(strings.get(FD_PAIRS[name]))
            for fd, file in zip(pair or (), [*files, None, None], strict=False):
                self._named_by_kernel(tgid, fd, [file] if file is not None else [])
        elif name in FORKS and ret > 0:
            self._forked(self.process(tgid), ret)
        elif name in EXECS:
            process = self.process(tgid)
            process.fds = {fd: CLOSED if entry.cloexec else entry for fd, entry in process.fds.items()}
        elif name in ("chdir", "fchdir"):
            self._chdir(tgid, name, args, strings)

    def _descriptors(self, tgid: int, name: str, args: Sequence[int], ret: int) -> None:
        fds = self.process(tgid).fds
        fd = v.int32(args[0])
        if name == "close":
            fds[fd] = CLOSED
        elif name == "close_range":
            self._close_range(fds, args)
        elif name != "fcntl" or args[1] in (F_DUPFD, F_DUPFD_CLOEXEC):
            self._dup(tgid, name, args, ret)
        elif args[1] == F_SETFD and fd in fds:
            fds[fd] = fds[fd]._replace(cloexec=bool(args[2] & 1))

    def _named_by_kernel(self, tgid: int, fd: int, files: Sequence[bytes] = ()) -> None:
        """``fd`` as the kernel names it: from what the exit read (``files``), else from /proc
        (which only knows while the process has it open)."""
        link = kernel_file_name(files[0]) if files else None
        if link is None:
            link = _readlink(f"{self.proc}/{tgid}/fd/{fd}")
        if link is None:
            self.process(tgid).fds.pop(fd, None)
        else:
            self.process(tgid).fds[fd] = Entry(link, False)

    def _chdir(self, tgid: int, name: str, args: Sequence[int], strings: Mapping[int, Value]) -> None:
        process = self.process(tgid)
        if name == "fchdir":
            process.cwd = self.name(tgid, v.int32(args[0]))
            return
        path = _path(strings.get(0))
        if path is not None:
            process.cwd = os.path.normpath(os.path.join(self.cwd(tgid) or "/", path))

    def _opened(self, tgid: int, name: str, args: Sequence[int], strings: Mapping[int, Value], fd: int) -> None:
        at = name in ("openat", "openat2")
        path = _path(strings.get(1 if at else 0))
        fds = self.process(tgid).fds
        if path is None:
            fds.pop(fd, None)
            return
        if not path.startswith("/"):
            base = self.cwd(tgid) if not at or v.int32(args[0]) == v.AT_FDCWD else self.name(tgid, v.int32(args[0]))
            if base is None:
                fds.pop(fd, None)
                return
            path = os.path.join(base, path)
        flags = args[2] if at and name == "openat" else args[1] if name == "open" else 0
        fds[fd] = Entry(os.path.realpath(path), bool(flags & O_CLOEXEC))

    def _dup(self, tgid: int, name: str, args: Sequence[int], new: int) -> None:
        fds = self.process(tgid).fds
        old = v.int32(args[0])
        if self.name(tgid, old) is None:
            fds.pop(new, None)
            return
        cloexec = (name == "dup3" and bool(args[2] & O_CLOEXEC)) or (name == "fcntl" and args[1] == F_DUPFD_CLOEXEC)
        fds[new] = Entry(fds[old].name, cloexec)

    @staticmethod
    def _close_range(fds: dict[int, Entry], args: Sequence[int]) -> None:
        first, last, flags = args[0] & 0xFFFFFFFF, args[1] & 0xFFFFFFFF, args[2]
        for fd in [fd for fd in fds if first <= fd <= last]:
            fds[fd] = fds[fd]._replace(cloexec=True) if flags & CLOSE_RANGE_CLOEXEC else CLOSED

    def _forked(self, parent: Process, child: int) -> None:
        if child in self.processes:  # the child's events came first: fill in what it lacks
            known = self.processes[child]
            known.fds = {**parent.fds, **known.fds}
            known.cwd = known.cwd or parent.cwd
            return
        if len(self.forked) >= MAX_PENDING_FORKS:
            self.forked.pop(next(iter(self.forked)))
        self.forked[child] = parent.copy()

    # --- -yy

    def _socket(self, tgid: int, link: str) -> str:
        known = self._socket_names.get(link)
        if known is not None:
            return known
        inode = link[len("socket:[") : -1]
        described = describe_socket(self.proc / str(tgid) / "net", inode)
        if described is None:
            return link
        if "->" in described:  # connected: its addresses will not change
            self._socket_names[link] = described
        return described


def _path(value: Value | None) -> str | None:
    if not isinstance(value, CString) or value.truncated:
        return None
    return value.data.decode("utf-8", "surrogateescape")


# /proc/net tables: file, protocol name, address family.
_INET_TABLES: tuple[tuple[str, str, int], ...] = (
    ("tcp", "TCP", socket.AF_INET),
    ("tcp6", "TCPv6", socket.AF_INET6),
    ("udp", "UDP", socket.AF_INET),
    ("udp6", "UDPv6", socket.AF_INET6),
)


def describe_socket(net: Path, inode: str) -> str | None:
    """``TCP:[127.0.0.1:41000->127.0.0.1:8080]``, ``UNIX:[1234,"/run/x"]``... or None."""
    for table, protocol, family in _INET_TABLES:
        for fields in _rows(net / table):
            if len(fields) > 9 and fields[9] == inode:
                local, peer = _inet(fields[1], family), _inet(fields[2], family)
                connected = not fields[2].startswith(("00000000:0000", "0" * 32 + ":0000"))
                return f"{protocol}:[{local}->{peer}]" if connected else f"{protocol}:[{local}]"
    for fields in _rows(net / "unix"):
        if len(fields) > 6 and fields[6] == inode:
            path = f',"{escape_text(fields[7])}"' if len(fields) > 7 else ""
            return f"UNIX:[{inode}{path}]"
    return None


S_IFMT, S_IFSOCK, S_IFIFO = 0o170000, 0o140000, 0o10000


def kernel_file_name(data: bytes) -> str | None:
    """The name the kernel makes up for a file it created (what readlink of /proc/PID/fd/N
    says), from an SC_STR_FILE item: inode number, mode, dentry name. None for any other
    file: /proc tells then."""
    if len(data) < 12:
        return None
    ino, mode = struct.unpack_from("<QI", data)
    if mode & S_IFMT == S_IFSOCK:
        return f"socket:[{ino}]"
    if mode & S_IFMT == S_IFIFO and len(data) == 12:  # a pipe's dentry has no name
        return f"pipe:[{ino}]"
    if mode & S_IFMT == 0 and data[12:13] == b"[":  # an anonymous inode: its dentry is [eventpoll], ...
        return "anon_inode:" + decode_name(data[12:])
    return None


def file_items(value: Value) -> list[bytes]:
    """The SC_STR_FILE items of an argument (or of the result, RESULT_FILE), in order."""
    if not isinstance(value, Items):
        return []
    return [data for flags, data in value.items if flags & FILE and not flags & FAULT]


def fd_pair(value: Value) -> tuple[int, int] | None:
    """pipe's or socketpair's two new descriptors, from their captured int[2]."""
    if not isinstance(value, Items):
        return None
    found = [data for flags, data in value.items if not flags & (FILE | FAULT) and len(data) == 8]
    if not found:
        return None
    first, second = struct.unpack_from("<ii", found[0])
    return first, second


def _rows(path: Path) -> list[list[str]]:
    try:
        lines = path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    except OSError:
        return []
    return [line.split() for line in lines[1:]]


def _inet(text: str, family: int) -> str:
    """``0100007F:1F90`` → ``127.0.0.1:8080`` (/proc/net stores words in host order)."""
    address, _, port = text.partition(":")
    raw = bytes.fromhex(address)
    words = struct.unpack(f"={len(raw) // 4}I", raw)
    packed = b"".join(struct.pack(">I", word) for word in words)
    shown = socket.inet_ntop(family, packed)
    return f"[{shown}]:{int(port, 16)}" if family == socket.AF_INET6 else f"{shown}:{int(port, 16)}"


class FdPathLine(TextLine):
    """The text line with descriptors named (-y): ``read(fd=3</etc/hostname>, ...)``.

    Descriptor arguments become rendered-string slots that ``FdFormatters`` fills
    per event; so does the result of a call that returns a descriptor."""

    def segments(self, call: Call) -> list[Segment]:
        segments = super().segments(call)
        if call.name.rpartition(":")[2] not in FD_RETURNS:
            return segments
        return [_decorated_result(s) for s in segments]

    def _value(self, kind: Kind, index: int) -> Segment:  # type: ignore[override]
        if kind is Kind.FD:
            return Text(index, Number(ARG0 + index, Kind.INT))
        if kind is Kind.DIRFD:
            return Text(index, Named(ARG0 + index, "DIRFD", v.dirfd))
        return TextLine._value(kind, index)

    def strings(self, call: Call, values: Mapping[int, Value], record: tuple[Any, ...]) -> list[str]:
        return [*super().strings(call, values, record), ""]


def _decorated_result(segment: Segment) -> Segment:
    if isinstance(segment, IfOk) and isinstance(segment.then, Number):
        return IfOk(Text(RETURN, segment.then), segment.otherwise)
    return segment


class FdFormatters(Formatters):
    """Formatters that keep the descriptor table: each event updates it, in stream order."""

    def __init__(self, line: FdPathLine, table: FdTable, *args: Any) -> None:
        super().__init__(line, *args)
        self.table = table
        self._values: Mapping[int, Value] = {}

    def strings(self, record: tuple[Any, ...], data: bytes | memoryview, start: int, length: int) -> list[str]:
        self._values = self.parsed(record, data, start, length)
        return self.line.strings(self.call(record[SLOT]), self._values, record)

    def __missing__(self, nr: int) -> Formatter:
        formatter = super().__missing__(nr)
        wrapped = self[nr] = self._tracking(self.call(nr), formatter)
        return wrapped

    def _tracking(self, call: Call, formatter: Formatter) -> Formatter:
        table, line, name = self.table, self.line, call.name.rpartition(":")[2]
        fds = [i for i, _, kind in call.args if kind is Kind.FD]
        pair = FD_PAIRS.get(name)
        pair = pair if any(i == pair for i, _, _ in call.args) else None
        dirfds = [i for i, _, kind in call.args if kind is Kind.DIRFD]
        returns_fd = name in FD_RETURNS
        no_values: Mapping[int, Value] = {}

        def format_event(t: tuple[Any, ...], rendered: Sequence[str] | None) -> str:
            values = self._values if rendered is not None else no_values
            if rendered is not None:
                shown = list(rendered)
            else:  # no string data: string arguments show their pointers
                shown = line.strings(call, no_values, t) if call.has_strings else [""] * (RETURN + 1)
            tgid = t[PID]
            for index in fds:
                shown[index] = table.shown(tgid, t[ARG0 + index])
            for index in dirfds:
                shown[index] = table.shown_dirfd(tgid, t[ARG0 + index])
            table.observe(name, t, values)
            if returns_fd and t[RET] >= 0:
                shown[RETURN] = table.shown(tgid, t[RET])
            made = fd_pair(values.get(pair)) if pair is not None and t[RET] >= 0 else None
            if made is not None and pair is not None:
                shown[pair] = f"[{table.shown(tgid, made[0])}, {table.shown(tgid, made[1])}]"
            return formatter(t, shown)

        return format_event


# Calls that change a process's table (besides those returning a descriptor).
CHANGES = OPENS | FORKS | EXECS | FD_PAIRS.keys()
CHANGES |= {"close", "close_range", "fcntl", "dup", "dup2", "dup3", "chdir", "fchdir"}


def is_pure(call: Call) -> bool:
    """A call -y neither decorates nor learns from: it can be rendered in numpy batches."""
    name = call.name.rpartition(":")[2]
    if name in FD_RETURNS or name in CHANGES:
        return False
    return not any(kind in (Kind.FD, Kind.DIRFD) for _, _, kind in call.args)


def pure_vectorized(formatters: Formatters) -> Any:
    """numpy's batches for runs of calls that do not touch descriptors (getppid floods), else None.

    Everything else goes event by event, in order, through the table."""
    try:
        import numpy as np

        from .vector import Vectorized
    except ImportError:
        return None

    class PureRuns(Vectorized):
        def render(self, records: Any) -> bytes | None:
            slots: list[int] = np.unique(records["slot"]).tolist()
            if not all(is_pure(self.formatters.call(slot)) for slot in slots):
                return None
            return super().render(records)

    return PureRuns(formatters)


def fd_formatters(table: FdTable) -> Callable[..., FdFormatters]:
    """A factory for EventSink: ``FdFormatters`` over ``table``."""

    def make(line: FdPathLine, *args: Any) -> FdFormatters:
        return FdFormatters(line, table, *args)

    return make
