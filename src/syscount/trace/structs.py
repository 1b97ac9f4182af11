"""Bytes the kernel copied from a traced call's memory → text, strace-style, and JSON values.

Pure functions of bytes (and a length or count the event carries): a sockaddr of each
family, timespec/timeval, pollfd and epoll_event arrays, sigaction and sigset, stat and
statx key fields, rlimit, iovec and msghdr, and data buffers. Each text decoder returns
``None`` when the bytes cannot be what the argument should hold (too short, unknown
layout): the caller then shows the pointer, never a wrong value. Layouts are the
64-bit ABIs' (x86-64, arm64), where the compat ABI differs the caller does not decode.
"""

from __future__ import annotations

import base64
import ipaddress
import signal
import socket
import struct
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from ..names.escape import c_bytes  # data: strace's rule for buffers
from ..names.escape import c_string as c_quote  # the one escaping rule, as a C literal

# -- buffers ------------------------------------------------------------------------


class Buffer(NamedTuple):
    """Bytes of a buffer, and whether the call's buffer went on past them (cut at -s)."""

    data: bytes
    truncated: bool


def buffer_text(value: Buffer) -> str:
    """``"hello\\n"``, with ``...`` after the quote when cut (strace's -s convention); escaped
    by the shared module's rule for data (names/escape.c_bytes: octal, as strace)."""
    return c_bytes(value.data) + ("..." if value.truncated else "")


def buffer_json(value: Buffer) -> str | dict[str, str]:
    """A JSON string when the bytes are UTF-8 text, else ``{"base64": ...}`` (a cut is listed
    in the event's ``truncated``)."""
    try:
        return value.data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(value.data).decode("ascii")}


# -- socket addresses -----------------------------------------------------------------

AF_UNIX, AF_INET, AF_INET6, AF_NETLINK = 1, 2, 10, 16
FAMILIES = {0: "AF_UNSPEC", AF_UNIX: "AF_UNIX", AF_INET: "AF_INET", AF_INET6: "AF_INET6", AF_NETLINK: "AF_NETLINK"}
FAMILIES |= {17: "AF_PACKET", 4: "AF_IPX", 5: "AF_APPLETALK", 3: "AF_AX25", 31: "AF_BLUETOOTH", 40: "AF_VSOCK"}


def sockaddr_fields(data: bytes) -> list[tuple[str, Any, str]] | None:
    """(name, JSON value, text value) of each field of a sockaddr, or None if it cannot be one."""
    if len(data) < 2:
        return None
    family = int.from_bytes(data[:2], "little")
    name = FAMILIES.get(family, str(family))
    fields: list[tuple[str, Any, str]] = [("sa_family", name, name)]
    if family == AF_INET and len(data) >= 8:
        port = int.from_bytes(data[2:4], "big")
        addr = str(ipaddress.IPv4Address(data[4:8]))
        fields += [("sin_port", port, f"htons({port})"), ("sin_addr", addr, f'inet_addr("{addr}")')]
    elif family == AF_INET6 and len(data) >= 24:
        port = int.from_bytes(data[2:4], "big")
        flow = int.from_bytes(data[4:8], "big")
        addr = socket.inet_ntop(socket.AF_INET6, data[8:24])
        fields += [
            ("sin6_port", port, f"htons({port})"),
            ("sin6_flowinfo", flow, f"htonl({flow})"),
            ("sin6_addr", addr, f'inet_pton(AF_INET6, "{addr}")'),
        ]
        if len(data) >= 28:
            scope = int.from_bytes(data[24:28], "little")
            fields.append(("sin6_scope_id", scope, str(scope)))
    elif family == AF_UNIX:
        path = data[2:]
        if path[:1] == b"\0" and len(path) > 1:  # abstract: shown with a leading @, as strace does
            shown = "@" + c_quote(path[1:])
            raw = "@" + path[1:].decode("utf-8", "backslashreplace")
        else:
            path = path.split(b"\0", 1)[0]
            shown, raw = c_quote(path), path.decode("utf-8", "backslashreplace")
        fields.append(("sun_path", raw, shown))
    elif family == AF_NETLINK and len(data) >= 12:
        pid, groups = struct.unpack_from("<II", data, 4)
        fields += [("nl_pid", pid, str(pid)), ("nl_groups", groups, f"{groups:#010x}")]
    elif family not in (0,):
        fields.append(("sa_data", data[2:].hex(), c_quote(data[2:])))
    return fields


def sockaddr_text(data: bytes) -> str | None:
    """``{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}``"""
    fields = sockaddr_fields(data)
    if fields is None:
        return None
    return "{" + ", ".join(f"{name}={text}" for name, _, text in fields) + "}"


def sockaddr_json(data: bytes) -> dict[str, Any] | None:
    fields = sockaddr_fields(data)
    return None if fields is None else {name: value for name, value, _ in fields}


# -- times ----------------------------------------------------------------------------

_TWO_LONGS = struct.Struct("<qq")


def timespec_fields(data: bytes, sub: str = "tv_nsec") -> dict[str, int] | None:
    """``struct timespec`` (or timeval with ``sub="tv_usec"``): two 64-bit longs."""
    if len(data) < _TWO_LONGS.size:
        return None
    sec, frac = _TWO_LONGS.unpack_from(data)
    return {"tv_sec": sec, sub: frac}


def fields_text(fields: dict[str, Any] | None) -> str | None:
    if fields is None:
        return None
    return "{" + ", ".join(f"{name}={value}" for name, value in fields.items()) + "}"


def timespec_text(data: bytes) -> str | None:
    """``{tv_sec=0, tv_nsec=10000000}``"""
    return fields_text(timespec_fields(data))


def timeval_text(data: bytes) -> str | None:
    return fields_text(timespec_fields(data, "tv_usec"))


def timespec_pair_text(data: bytes) -> str | None:
    """utimensat's ``[{tv_sec=.., tv_nsec=..}, {...}]`` (UTIME_NOW and UTIME_OMIT by name)."""
    if len(data) < 2 * _TWO_LONGS.size:
        return None
    parts = []
    for offset in (0, _TWO_LONGS.size):
        sec, nsec = _TWO_LONGS.unpack_from(data, offset)
        special = {(1 << 30) - 1: "UTIME_NOW", (1 << 30) - 2: "UTIME_OMIT"}.get(nsec)
        parts.append(f"{{tv_sec={sec}, tv_nsec={special}}}" if special else f"{{tv_sec={sec}, tv_nsec={nsec}}}")
    return "[" + ", ".join(parts) + "]"


def timespec_pair_json(data: bytes) -> list[dict[str, int]] | None:
    if len(data) < 2 * _TWO_LONGS.size:
        return None
    return [timespec_fields(data[o : o + 16]) or {} for o in (0, 16)]


# -- rlimit ---------------------------------------------------------------------------

RLIM_INFINITY = (1 << 64) - 1


def rlimit_fields(data: bytes) -> dict[str, int | str] | None:
    if len(data) < 16:
        return None
    cur, limit = struct.unpack_from("<QQ", data)
    shown = ("RLIM64_INFINITY" if n == RLIM_INFINITY else n for n in (cur, limit))
    return dict(zip(("rlim_cur", "rlim_max"), shown, strict=True))


def rlimit_value_text(value: int | str) -> str:
    """strace's form of a limit: ``RLIM64_INFINITY``, ``8192*1024`` for whole KiB, else the number."""
    if isinstance(value, int) and value > 1024 and value % 1024 == 0:
        return f"{value // 1024}*1024"
    return str(value)


def rlimit_text(data: bytes) -> str | None:
    """``{rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}``"""
    fields = rlimit_fields(data)
    if fields is None:
        return None
    return fields_text({name: rlimit_value_text(value) for name, value in fields.items()})


# -- poll and epoll ---------------------------------------------------------------------

POLL_EVENTS = (
    ("POLLIN", 0x1),
    ("POLLPRI", 0x2),
    ("POLLOUT", 0x4),
    ("POLLERR", 0x8),
    ("POLLHUP", 0x10),
    ("POLLNVAL", 0x20),
    ("POLLRDNORM", 0x40),
    ("POLLRDBAND", 0x80),
    ("POLLWRNORM", 0x100),
    ("POLLWRBAND", 0x200),
    ("POLLMSG", 0x400),
    ("POLLRDHUP", 0x2000),
)
EPOLL_EVENTS = (
    ("EPOLLIN", 0x1),
    ("EPOLLPRI", 0x2),
    ("EPOLLOUT", 0x4),
    ("EPOLLERR", 0x8),
    ("EPOLLHUP", 0x10),
    ("EPOLLRDNORM", 0x40),
    ("EPOLLRDBAND", 0x80),
    ("EPOLLWRNORM", 0x100),
    ("EPOLLWRBAND", 0x200),
    ("EPOLLMSG", 0x400),
    ("EPOLLRDHUP", 0x2000),
    ("EPOLLEXCLUSIVE", 1 << 28),
    ("EPOLLWAKEUP", 1 << 29),
    ("EPOLLONESHOT", 1 << 30),
    ("EPOLLET", 1 << 31),
)


def bits(value: int, table: Sequence[tuple[str, int]]) -> str:
    names = []
    rest = value
    for name, mask in table:
        if rest & mask:
            names.append(name)
            rest &= ~mask
    if rest:
        names.append(hex(rest))
    return "|".join(names) if names else "0"


def pollfds(data: bytes, count: int) -> list[tuple[int, int, int]] | None:
    """(fd, events, revents) of ``count`` pollfds, or None when fewer bytes were kept."""
    if count < 0 or len(data) < 8 * count:
        return None
    return [struct.unpack_from("<ihh", data, 8 * i) for i in range(count)]


def pollfds_text(data: bytes, count: int) -> str | None:
    """``[{fd=3, events=POLLIN, revents=POLLIN}]`` (revents: after the call; strace shows it apart)."""
    items = pollfds(data, count)
    if items is None:
        return None
    shown = []
    for fd, events, revents in items:
        text = f"{{fd={fd}, events={bits(events & 0xFFFF, POLL_EVENTS)}"
        shown.append(text + (f", revents={bits(revents & 0xFFFF, POLL_EVENTS)}}}" if revents else "}"))
    return "[" + ", ".join(shown) + "]"


def epoll_events(data: bytes) -> list[tuple[int, int]]:
    """(events, data) of each whole 12-byte epoll_event (packed on x86-64)."""
    return [struct.unpack_from("<IQ", data, 12 * i) for i in range(len(data) // 12)]


def epoll_events_text(data: bytes) -> str | None:
    """``[{events=EPOLLIN, data=0x5}]``: an array of epoll_event."""
    if not data or len(data) % 12:
        return None
    items = (f"{{events={bits(ev, EPOLL_EVENTS)}, data={value:#x}}}" for ev, value in epoll_events(data))
    return "[" + ", ".join(items) + "]"


def epoll_event_text(data: bytes) -> str | None:
    shown = epoll_events_text(data[:12])
    return shown[1:-1] if shown else None


# -- signals ----------------------------------------------------------------------------


KERNEL_SIGRTMIN, KERNEL_SIGRTMAX = 32, 64


def sigset_names(data: bytes) -> list[str] | None:
    """Signal names in a sigset (64 bits: the kernel's size on these ABIs)."""
    if len(data) < 8:
        return None
    mask = int.from_bytes(data[:8], "little")
    names = []
    for number in range(1, 65):
        if mask & (1 << (number - 1)):
            names.append(signal_name(number))
    return names


def signal_name(number: int) -> str:
    """A signal's name without SIG, as strace shows sigsets: ``INT``, ``RTMIN``, ``RT_1``.

    Real-time signals count from the kernel's SIGRTMIN (32), not the C library's (which
    keeps the first two for itself): strace names them so."""
    if KERNEL_SIGRTMIN <= number <= KERNEL_SIGRTMAX:
        return "RTMIN" if number == KERNEL_SIGRTMIN else f"RT_{number - KERNEL_SIGRTMIN}"
    try:
        return signal.Signals(number).name.removeprefix("SIG")
    except ValueError:
        return str(number)


def sigset_text(data: bytes) -> str | None:
    """``[INT TERM]``, or ``~[KILL STOP]`` when most are set, as strace shows it."""
    names = sigset_names(data)
    if names is None:
        return None
    if len(names) > 32:
        mask = int.from_bytes(data[:8], "little")
        inverse = [signal_name(n) for n in range(1, 65) if not mask & (1 << (n - 1))]
        return "~[" + " ".join(inverse) + "]"
    return "[" + " ".join(names) + "]"


# In the order strace lists them.
SA_FLAGS = (
    ("SA_RESTORER", 0x04000000),
    ("SA_ONSTACK", 0x08000000),
    ("SA_RESTART", 0x10000000),
    ("SA_NODEFER", 0x40000000),
    ("SA_RESETHAND", 0x80000000),
    ("SA_SIGINFO", 0x4),
    ("SA_NOCLDSTOP", 0x1),
    ("SA_NOCLDWAIT", 0x2),
)
_HANDLERS = {0: "SIG_DFL", 1: "SIG_IGN"}


def sigaction_fields(data: bytes) -> dict[str, Any] | None:
    """The kernel's ``struct sigaction`` (x86-64): handler, flags, restorer, mask."""
    if len(data) < 32:
        return None
    handler, flags, restorer = struct.unpack_from("<QQQ", data)
    fields: dict[str, Any] = {
        "sa_handler": _HANDLERS.get(handler, f"{handler:#x}"),
        "sa_mask": sigset_names(data[24:32]),
        "sa_flags": bits(flags, SA_FLAGS),
    }
    if flags & 0x04000000:
        fields["sa_restorer"] = f"{restorer:#x}"
    return fields


def sigaction_text(data: bytes) -> str | None:
    """``{sa_handler=SIG_IGN, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x7f...}``"""
    fields = sigaction_fields(data)
    if fields is None:
        return None
    mask = sigset_text(data[24:32])
    parts = [f"sa_handler={fields['sa_handler']}", f"sa_mask={mask}", f"sa_flags={fields['sa_flags']}"]
    if "sa_restorer" in fields:
        parts.append(f"sa_restorer={fields['sa_restorer']}")
    return "{" + ", ".join(parts) + "}"


# -- stat and statx -------------------------------------------------------------------


def _mode_text(mode: int) -> str:
    from .values import file_mode

    return file_mode(mode)


S_IFMT, S_IFCHR, S_IFBLK = 0o170000, 0o20000, 0o60000


def stat_fields(data: bytes) -> dict[str, int] | None:
    """Key fields of the kernel's ``struct stat`` (x86-64 layout)."""
    if len(data) < 144:
        return None
    dev, ino, nlink, mode, uid, gid = struct.unpack_from("<QQQIII", data)
    rdev, size = struct.unpack_from("<Qq", data, 40)
    return {"st_dev": dev, "st_ino": ino, "st_mode": mode, "st_nlink": nlink, "st_uid": uid, "st_gid": gid} | {
        "st_rdev": rdev,
        "st_size": size,
    }


def makedev_text(rdev: int) -> str:
    """``makedev(0x1, 0x3)``: the kernel's encoding of a device number (major 12 bits + 32, minor 8 + 12)."""
    major = ((rdev >> 8) & 0xFFF) | ((rdev >> 32) & ~0xFFF)
    minor = (rdev & 0xFF) | ((rdev >> 12) & ~0xFF)
    return f"makedev({major:#x}, {minor:#x})"


def stat_text(data: bytes) -> str | None:
    """``{st_mode=S_IFREG|0644, st_size=1234, ...}`` (strace's abbreviated form); a device
    shows its number instead of a size: ``{st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}``."""
    fields = stat_fields(data)
    if fields is None:
        return None
    mode = fields["st_mode"]
    if mode & S_IFMT in (S_IFCHR, S_IFBLK):
        return f"{{st_mode={_mode_text(mode)}, st_rdev={makedev_text(fields['st_rdev'])}, ...}}"
    return f"{{st_mode={_mode_text(mode)}, st_size={fields['st_size']}, ...}}"


def statx_fields(data: bytes) -> dict[str, int] | None:
    """Key fields of ``struct statx``."""
    if len(data) < 256:
        return None
    mask, _blksize, attributes, nlink, uid, gid, mode = struct.unpack_from("<IIQIIIH", data)
    ino, size = struct.unpack_from("<QQ", data, 32)
    return {"stx_mask": mask, "stx_attributes": attributes, "stx_mode": mode, "stx_nlink": nlink} | {
        "stx_uid": uid,
        "stx_gid": gid,
        "stx_ino": ino,
        "stx_size": size,
    }


STATX_BASIC_STATS = 0x7FF


def statx_mask_text(mask: int) -> str:
    """``STATX_BASIC_STATS|STATX_MNT_ID``: the basic fields by their group name, as strace."""
    from .constants import STATX_MASK
    from .values import flag_names

    if mask & STATX_BASIC_STATS != STATX_BASIC_STATS:
        return flag_names(mask, STATX_MASK)
    rest = mask & ~STATX_BASIC_STATS
    return "STATX_BASIC_STATS" + (f"|{flag_names(rest, STATX_MASK)}" if rest else "")


def statx_text(data: bytes) -> str | None:
    """``{stx_mask=STATX_BASIC_STATS, stx_attributes=0, stx_mode=S_IFREG|0644, stx_size=3, ...}``"""
    fields = statx_fields(data)
    if fields is None:
        return None
    mode = _mode_text(fields["stx_mode"])
    attributes = f"{fields['stx_attributes']:#x}" if fields["stx_attributes"] else "0"
    return (
        f"{{stx_mask={statx_mask_text(fields['stx_mask'])}, stx_attributes={attributes},"
        f" stx_mode={mode}, stx_size={fields['stx_size']}, ...}}"
    )


# -- small outputs: sysinfo, a wait status, an int, a descriptor pair, a string ----------

SYSINFO = struct.Struct("<q3Q6QH6xQQI")  # through mem_unit (x86-64, arm64)
SYSINFO_NAMES: tuple[str, ...] = ("uptime", "loads", "totalram", "freeram", "sharedram", "bufferram")
SYSINFO_NAMES += ("totalswap", "freeswap", "procs", "totalhigh", "freehigh", "mem_unit")


def sysinfo_fields(data: bytes) -> dict[str, Any] | None:
    if len(data) < SYSINFO.size:
        return None
    values = SYSINFO.unpack_from(data)
    return dict(zip(SYSINFO_NAMES, (values[0], list(values[1:4]), *values[4:]), strict=True))


def sysinfo_text(data: bytes) -> str | None:
    """``{uptime=4950, loads=[85984, 143808, 218368], totalram=..., mem_unit=1}``"""
    fields = sysinfo_fields(data)
    if fields is None:
        return None
    loads = fields["loads"]
    return fields_text(fields | {"loads": f"[{loads[0]}, {loads[1]}, {loads[2]}]"})


def wait_status_text(data: bytes) -> str | None:
    """``[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]``: a wait status by the macros that read it."""
    if len(data) < 4:
        return None
    status = int.from_bytes(data[:4], "little")
    low = status & 0x7F
    if low == 0:
        shown = f"WIFEXITED(s) && WEXITSTATUS(s) == {(status >> 8) & 0xFF}"
    elif status & 0xFF == 0x7F:
        shown = f"WIFSTOPPED(s) && WSTOPSIG(s) == {_signal(status >> 8 & 0xFF)}"
        if status >> 16:
            shown += f" && s >> 16 == {status >> 16}"
    elif status == 0xFFFF:
        shown = "WIFCONTINUED(s)"
    else:
        shown = f"WIFSIGNALED(s) && WTERMSIG(s) == {_signal(low)}" + (" && WCOREDUMP(s)" if status & 0x80 else "")
    return f"[{{{shown}}}]"


def _signal(number: int) -> str:
    from .values import signal_name as full_name

    return full_name(number)


def int_text(data: bytes) -> str | None:
    """An ``int`` behind a pointer: ``[1]`` (setsockopt's optval of 4 bytes)."""
    if len(data) != 4:
        return None
    return f"[{int.from_bytes(data, 'little', signed=True)}]"


def fd_pair_text(data: bytes) -> str | None:
    """pipe's and socketpair's two new descriptors: ``[3, 4]``."""
    if len(data) < 8:
        return None
    first, second = struct.unpack_from("<ii", data)
    return f"[{first}, {second}]"


def fd_pair(data: bytes) -> list[int] | None:
    return list(struct.unpack_from("<ii", data)) if len(data) >= 8 else None


def string_text(value: Buffer) -> str:
    """A path the kernel wrote (getcwd's): quoted and escaped as every path is, ``...`` when cut."""
    return c_quote(value.data) + ("..." if value.truncated else "")


def string_json(value: Buffer) -> str:
    from ..names.escape import decode_name, unicode_safe

    return unicode_safe(decode_name(value.data))


# -- iovec and msghdr -----------------------------------------------------------------


class IovElement(NamedTuple):
    length: int  # iov_len
    data: Buffer | None  # None: could not be read


class Iovec(NamedTuple):
    elements: tuple[IovElement, ...]
    more: bool  # more elements than were kept


def iovec_text(iov: Iovec) -> str:
    """``[{iov_base="hello", iov_len=5}, ...]``"""
    items = []
    for element in iov.elements:
        base = buffer_text(element.data) if element.data is not None else "?"
        items.append(f"{{iov_base={base}, iov_len={element.length}}}")
    if iov.more:
        items.append("...")
    return "[" + ", ".join(items) + "]"


def iovec_json(iov: Iovec) -> list[Any]:
    items: list[Any] = [
        {"iov_base": buffer_json(e.data) if e.data is not None else None, "iov_len": e.length} for e in iov.elements
    ]
    if iov.more:
        items.append("...")
    return items


MSGHDR = struct.Struct("<QI4xQQQQI4x")  # name, namelen, iov, iovlen, control, controllen, flags


class Msghdr(NamedTuple):
    namelen: int
    name: bytes | None
    iovlen: int
    iov: Iovec
    controllen: int
    flags: int


def msghdr_text(msg: Msghdr) -> str:
    """``{msg_name=NULL, msg_namelen=0, msg_iov=[...], msg_iovlen=1, msg_controllen=0, msg_flags=0}``"""
    name = (sockaddr_text(msg.name) or "?") if msg.name is not None else "NULL"
    return (
        f"{{msg_name={name}, msg_namelen={msg.namelen}, msg_iov={iovec_text(msg.iov)}, msg_iovlen={msg.iovlen},"
        f" msg_controllen={msg.controllen}, msg_flags={msg.flags}}}"
    )


def msghdr_json(msg: Msghdr) -> dict[str, Any]:
    return {
        "msg_name": sockaddr_json(msg.name) if msg.name is not None else None,
        "msg_namelen": msg.namelen,
        "msg_iov": iovec_json(msg.iov),
        "msg_iovlen": msg.iovlen,
        "msg_controllen": msg.controllen,
        "msg_flags": msg.flags,
    }


# -- the table: a fixed-size struct's decoders by name ----------------------------------

TextDecoder = Callable[[bytes], str | None]
JsonDecoder = Callable[[bytes], Any]


STRUCTS: dict[str, tuple[TextDecoder, JsonDecoder]] = {
    "sockaddr": (sockaddr_text, sockaddr_json),
    "timespec": (timespec_text, timespec_fields),
    "timeval": (timeval_text, lambda data: timespec_fields(data, "tv_usec")),
    "timespec_pair": (timespec_pair_text, timespec_pair_json),
    "rlimit": (rlimit_text, rlimit_fields),
    "epoll_event": (epoll_event_text, lambda data: _epoll_json(data[:12], single=True)),
    "epoll_events": (epoll_events_text, lambda data: _epoll_json(data, single=False)),
    "sigset": (sigset_text, sigset_names),
    "sigaction": (sigaction_text, sigaction_fields),
    "stat": (stat_text, stat_fields),
    "statx": (statx_text, statx_fields),
    "sysinfo": (sysinfo_text, sysinfo_fields),
    "wait_status": (wait_status_text, lambda data: int.from_bytes(data[:4], "little") if len(data) >= 4 else None),
    "int": (int_text, lambda data: int.from_bytes(data, "little", signed=True) if len(data) == 4 else None),
    "fd_pair": (fd_pair_text, fd_pair),
}


def _epoll_json(data: bytes, *, single: bool) -> Any:
    if not data or len(data) % 12:
        return None
    items = [{"events": bits(ev, EPOLL_EVENTS), "data": value} for ev, value in epoll_events(data)]
    return items[0] if single else items
