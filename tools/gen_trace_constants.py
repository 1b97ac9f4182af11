#!/usr/bin/env python3
"""Generate the symbolic constants ``syscount trace`` shows, from the kernel's uapi headers.

strace shows ``CLOCK_MONOTONIC``, ``SIGCHLD``, ``AF_INET``, ``TCGETS``, ``FUTEX_WAKE``...
instead of numbers. The numbers are the kernel's ABI and are spelled out in the uapi
headers that Debian's ``linux-libc-dev`` installs under ``/usr/include/linux``,
``/usr/include/asm-generic`` and ``/usr/include/<multiarch>/asm``. This script reads
the ``#define NAME value`` lines of the headers listed in GROUPS (evaluating values
that are C integer expressions of earlier names, ``_IO*`` ioctl numbers included),
keeps the names each group selects, and writes ``src/syscount/trace/constants.py``:
one ``dict[int, str]`` (value → name, first name wins) or, for bit sets, one tuple of
``(name, mask)`` pairs in header order, per group.

A few families are not in the kernel's uapi headers at all (address families,
socket types and levels, message flags live in the kernel's internal
``include/linux/socket.h``); for those the C library's copies of them
(``bits/socket.h``, ``bits/socket_type.h``, from the same libc6-dev) are read.

Run it again with ``--check`` (a unit test does) to prove the checked-in module
still matches what it would write from the installed headers.

Usage::

    python3 tools/gen_trace_constants.py [--include /usr/include] [--check]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "src" / "syscount" / "trace" / "constants.py"
SCRIPT = "tools/gen_trace_constants.py"
ARCH_DIR = "x86_64-linux-gnu"  # the multiarch directory whose asm/ and bits/ are read


@dataclass(frozen=True)
class Group:
    """One table: the names matching ``pattern`` in ``headers`` (in this order)."""

    name: str
    headers: tuple[str, ...]
    pattern: str
    bits: bool = False  # a set of flags (name, mask) rather than one value → name
    exclude: str = ""  # names matching this are skipped
    doc: str = ""
    # Options whose sub-values share the prefix (PR_SET_MM → PR_SET_MM_START_CODE):
    # a name that extends another selected name with "_..." is left out.
    drop_extensions: bool = False
    extra: Mapping[str, int] = field(default_factory=dict)  # values the headers do not spell
    header_order: bool = False  # bits: keep the header's order (strace's) instead of ascending values


A = f"{ARCH_DIR}/asm"
BITS = f"{ARCH_DIR}/bits"
GROUPS: tuple[Group, ...] = (
    Group("CLOCKS", ("linux/time.h",), r"CLOCK_\w+", exclude=r"CLOCKS_", doc="clockid_t"),
    Group("SIGNALS", (f"{A}/signal.h",), r"SIG[A-Z0-9]+", exclude=r"SIGRTM|SIGSTKSZ|SIGUNUSED|SIGIOT|SIGPOLL$"),
    Group("SIGPROCMASK_HOW", ("asm-generic/signal-defs.h",), r"SIG_(BLOCK|UNBLOCK|SETMASK)"),
    Group("ADDRESS_FAMILIES", (f"{BITS}/socket.h",), r"AF_\w+", exclude=r"AF_(UNSPEC|LOCAL|FILE|ROUTE|MAX)$"),
    Group("SOCKET_TYPES", (f"{BITS}/socket_type.h",), r"SOCK_(?!CLOEXEC|NONBLOCK)\w+"),
    Group("SOCKET_TYPE_FLAGS", (f"{BITS}/socket_type.h",), r"SOCK_(CLOEXEC|NONBLOCK)", bits=True, header_order=True),
    Group("IP_PROTOCOLS", ("linux/in.h",), r"IPPROTO_\w+", exclude=r"IPPROTO_MAX"),
    Group(
        "NETLINK_PROTOCOLS",
        ("linux/netlink.h",),
        r"NETLINK_[A-Z0-9_]+",
        exclude=(
            r"NETLINK_(INET_DIAG|ADD_MEMBERSHIP|DROP_MEMBERSHIP|PKTINFO|"
            r"BROADCAST_ERROR|NO_ENOBUFS|RX_RING|TX_RING|LISTEN_ALL_NSID|"
            r"LIST_MEMBERSHIPS|CAP_ACK|EXT_ACK|GET_STRICT_CHK|UNCONNECTED|"
            r"CONNECTED)$"
        ),
    ),
    Group("SOCKET_LEVELS", ("asm-generic/socket.h", f"{BITS}/socket.h"), r"SOL_\w+"),
    Group(
        "SOCKET_OPTIONS",
        ("asm-generic/socket.h",),
        r"SO_\w+",
        exclude=r"SO_(TIMESTAMP|TIMESTAMPNS|TIMESTAMPING|RCVTIMEO|SNDTIMEO)$|_OLD$|_NEW$",
    ),
    Group("MESSAGE_FLAGS", (f"{BITS}/socket.h",), r"MSG_\w+", bits=True, exclude=r"MSG_(TRYHARD|CMSG_CLOEXEC)$"),
    Group("SHUTDOWN_HOW", ("sys/socket.h",), r"SHUT_\w+", extra={"SHUT_WR": 1, "SHUT_RDWR": 2}),
    Group(
        "FCNTL_COMMANDS",
        ("asm-generic/fcntl.h", "linux/fcntl.h"),
        r"F_[A-Z0-9_]+",
        exclude=r"F_(OWNER|RDLCK|WRLCK|UNLCK|EXLCK|SHLCK|SEAL|LINUX_SPECIFIC_BASE|OK$)|F_.*_(SEALS_|HINT_)",
    ),
    Group("FD_FLAGS", ("asm-generic/fcntl.h",), r"FD_CLOEXEC", bits=True),
    Group(
        "IOCTL_COMMANDS",
        ("asm-generic/ioctls.h", "linux/fs.h"),
        r"(TC|TIOC|FIO|FS_IOC_)[A-Z0-9_]+|FI(GETBSZ|FREEZE|THAW|CLONE|CLONERANGE|DEDUPERANGE|BMAP|TRIM)",
        exclude=r"TIOCPKT_|TIOCSER_|FS_IOC32|FS_IOC_(GET|SET)FLAGS$",
    ),
    Group("PROT_FLAGS", ("asm-generic/mman-common.h",), r"PROT_\w+", bits=True, exclude=r"PROT_NONE"),
    Group(
        "MAP_TYPES",
        ("asm-generic/mman-common.h", "linux/mman.h"),
        r"MAP_(SHARED|PRIVATE|SHARED_VALIDATE|DROPPABLE)$",
        extra={"MAP_DROPPABLE": 0xF},
    ),
    Group(
        "MAP_FLAGS",
        ("asm-generic/mman-common.h", f"{A}/mman.h", "asm-generic/mman.h"),
        r"MAP_\w+",
        bits=True,
        exclude=r"MAP_(SHARED|PRIVATE|SHARED_VALIDATE|TYPE|FILE|ANON|HUGE_\w+)$",
    ),
    Group("MADVISE_ADVICE", ("asm-generic/mman-common.h",), r"MADV_\w+"),
    Group("SEEK_WHENCE", ("linux/fs.h",), r"SEEK_\w+", exclude=r"SEEK_MAX"),
    Group(
        "AT_FLAGS",
        ("linux/fcntl.h",),
        r"AT_\w+",
        bits=True,
        exclude=r"AT_(FDCWD|REMOVEDIR|EACCESS|STATX_SYNC_TYPE|STATX_SYNC_AS_STAT|RENAME_\w+|HANDLE_\w+)$",
    ),
    Group(
        "STATX_MASK",
        ("linux/stat.h",),
        r"STATX_[A-Z_]+",
        bits=True,
        exclude=r"STATX_(ATTR_\w+|ALL|_RESERVED|BASIC_STATS)$",
    ),
    Group(
        "PRCTL_OPTIONS",
        ("linux/prctl.h",),
        r"PR_(GET|SET|CAPBSET|TASK_PERF_EVENTS|MCE_KILL|CAP_AMBIENT$|SVE_|SME_|PAC_|SCHED_CORE$|MPX_|RISCV_V_|PPC_)\w*",
        drop_extensions=True,
        exclude=(
            r"PR_(SET|GET)_(MM_|VMA_|PTRACER_ANY|IO_FLUSHER_)|PR_(SVE|"
            r"SME)_(VL_|SET_VL_ONEXEC)|PR_PAC_AP|PR_MCE_KILL_(CLEAR|SET|"
            r"LATE|EARLY|DEFAULT)$|PR_CAP_AMBIENT_|PR_SCHED_CORE_"
        ),
    ),
    Group("ARCH_PRCTL_OPTIONS", (f"{A}/prctl.h",), r"ARCH_\w+", exclude=r"ARCH_SHSTK_\w+|ARCH_MAP_VDSO_\w+"),
    Group(
        "FUTEX_COMMANDS",
        ("linux/futex.h",),
        r"FUTEX_[A-Z_0-9]+",
        exclude=(
            r"FUTEX_(PRIVATE_FLAG|CLOCK_REALTIME|CMD_MASK|OP_\w+|WAITERS|"
            r"OWNER_DIED|TID_MASK|BITSET_MATCH_ANY|\w+_PRIVATE|WAITV_MAX|"
            r"32)$"
        ),
    ),
    Group(
        "CLONE_FLAGS",
        ("linux/sched.h",),
        r"CLONE_\w+",
        bits=True,
        exclude=r"CLONE_(ARGS_SIZE_VER\d|CLEAR_SIGHAND|INTO_CGROUP)$",
    ),
    Group("RLIMIT_RESOURCES", ("asm-generic/resource.h",), r"RLIMIT_\w+", exclude=r"RLIMIT_NLIMITS|RLIM_INFINITY"),
    Group("RANDOM_FLAGS", ("linux/random.h",), r"GRND_\w+", bits=True),
    Group("EPOLL_CTL", ("linux/eventpoll.h",), r"EPOLL_CTL_\w+"),
    Group("EPOLL_CREATE_FLAGS", ("asm-generic/fcntl.h", "linux/eventpoll.h"), r"EPOLL_CLOEXEC", bits=True),
    Group("WAIT_OPTIONS", ("linux/wait.h",), r"W[A-Z]+|__W\w+", bits=True, exclude=r"WSTOPPED"),
    Group("FADVISE_ADVICE", ("linux/fadvise.h",), r"POSIX_FADV_\w+"),
    Group("CLOSE_RANGE_FLAGS", ("linux/close_range.h",), r"CLOSE_RANGE_\w+", bits=True),
)

_DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)\s+(.+?)\s*$")
_ENUM_ITEM = re.compile(r"^\s*(\w+)\s*=\s*([^,/}]+?)\s*(?:,|};?)?\s*(?:/[*/].*)?$")
_COMMENT = re.compile(r"/\*.*?\*/|//.*$")
_TOKEN = re.compile(r"\s*(0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*|'.'|\w+|<<|>>|[-+~|&()*,])")
_INT_SUFFIX = re.compile(r"[uUlL]+$")
# Sizes for the ioctl numbers that encode one (_IOR('T', 0x30, unsigned int)).
_SIZES = {"int": 4, "unsigned int": 4, "__u32": 4, "__s32": 4, "long": 8, "unsigned long": 8, "__u64": 8}
_SIZES |= {"char": 1, "__u8": 1, "short": 2, "__u16": 2, "size_t": 8, "loff_t": 8, "pid_t": 4}
_IOC_DIRS = {"_IO": 0, "_IOW": 1, "_IOR": 2, "_IOWR": 3}


class Unevaluable(Exception):
    """A definition that is not a constant integer expression of known names."""


def _logical_lines(text: str) -> list[str]:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)
    return text.replace("\\\n", " ").splitlines()


def definitions(text: str) -> list[tuple[str, str]]:
    """(name, value text) of every object-like ``#define`` and ``NAME = value`` enum item, in order."""
    found = []
    for line in _logical_lines(text):
        match = _DEFINE.match(line)
        if match and "(" not in match[1]:
            value = _COMMENT.sub("", match[2]).strip()
            if value:
                found.append((match[1], value))
            continue
        item = _ENUM_ITEM.match(line)
        if item and not line.lstrip().startswith("#"):
            found.append((item[1], item[2]))
    return found


def evaluate(text: str, known: Mapping[str, int]) -> int:
    """The value of a C integer expression over ``known`` names, or Unevaluable."""
    tokens = _tokens(text)
    code = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in _IOC_DIRS:
            value, i = _ioctl_number(tokens, i, known)
            code.append(str(value))
            continue
        if token[0].isdigit():
            code.append(str(_c_int(token)))
        elif token.startswith("'"):
            code.append(str(ord(token[1])))
        elif token in known:
            code.append(f"({known[token]})")
        elif token in "|&~+-()<<>>*" or token in ("<<", ">>"):
            code.append(token)
        else:
            raise Unevaluable(text)
        i += 1
    try:
        value = eval(" ".join(code), {"__builtins__": {}}, {})  # digits and operators only
    except SyntaxError as exc:
        raise Unevaluable(text) from exc
    if not isinstance(value, int):
        raise Unevaluable(text)
    return value


def _tokens(text: str) -> list[str]:
    tokens = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise Unevaluable(text)
        tokens.append(match[1])
        pos = match.end()
    return tokens


def _c_int(token: str) -> int:
    token = _INT_SUFFIX.sub("", token)
    if token.lower().startswith("0x"):
        return int(token, 16)
    if len(token) > 1 and token.startswith("0"):
        return int(token, 8)
    return int(token)


def _ioctl_number(tokens: Sequence[str], i: int, known: Mapping[str, int]) -> tuple[int, int]:
    """``_IOR(type, nr, size_type)`` at ``tokens[i]``: the number and the index after it."""
    depth, j = 0, i + 1
    args: list[list[str]] = [[]]
    while j < len(tokens):
        token = tokens[j]
        j += 1
        if token == "(":
            depth += 1
            if depth == 1:
                continue
        elif token == ")":
            depth -= 1
            if depth == 0:
                break
        elif token == "," and depth == 1:
            args.append([])
            continue
        args[-1].append(token)
    direction = _IOC_DIRS[tokens[i]]
    kind, number = (evaluate(" ".join(arg), known) for arg in args[:2])
    size = 0
    if direction:
        ctype = " ".join(args[2]) if len(args) > 2 else ""
        if ctype not in _SIZES:
            raise Unevaluable(ctype)
        size = _SIZES[ctype]
    return direction << 30 | size << 16 | kind << 8 | number, j


def read_definitions(include: Path, headers: Sequence[str]) -> list[tuple[str, int]]:
    """(name, value) of every definition in ``headers`` that evaluates, in header order."""
    known: dict[str, int] = {}
    values: list[tuple[str, int]] = []
    for header in headers:
        for name, text in definitions((include / header).read_text(encoding="utf-8", errors="replace")):
            try:
                value = evaluate(text, known)
            except Unevaluable:
                continue
            known.setdefault(name, value)
            values.append((name, value))
    return values


def select(group: Group, include: Path, context: Sequence[str]) -> list[tuple[str, int]]:
    """The group's (name, value) pairs: first definition of each name, in header order."""
    pattern = re.compile(group.pattern)
    exclude = re.compile(group.exclude) if group.exclude else None
    seen: set[str] = set()
    chosen: list[tuple[str, int]] = []
    own = set(group.headers)
    for name, value in read_definitions(include, [*context, *group.headers]):
        if name in seen or not pattern.fullmatch(name) or (exclude and exclude.match(name)):
            continue
        if not _defined_in_group(name, include, own):
            continue
        seen.add(name)
        chosen.append((name, value))
    if group.drop_extensions:
        names = {name for name, _ in chosen}
        chosen = [(n, v) for n, v in chosen if not any(n.startswith(o + "_") for o in names if o != n)]
    chosen += [(name, value) for name, value in group.extra.items() if name not in seen]
    return chosen


_HEADER_NAMES: dict[tuple[Path, str], set[str]] = {}


def _defined_in_group(name: str, include: Path, headers: set[str]) -> bool:
    """Names come from the group's own headers; the context only supplies values."""
    for header in headers:
        key = (include, header)
        if key not in _HEADER_NAMES:
            text = (include / header).read_text(encoding="utf-8", errors="replace")
            _HEADER_NAMES[key] = {n for n, _ in definitions(text)}
        if name in _HEADER_NAMES[key]:
            return True
    return False


# Headers whose definitions other groups' values refer to (O_CLOEXEC, F_LINUX_SPECIFIC_BASE).
CONTEXT = ("asm-generic/fcntl.h",)


def render(include: Path) -> str:
    lines = [
        f'"""Symbolic constants for syscount trace. DO NOT EDIT: generated by {SCRIPT}.',
        "",
        "From the uapi headers of the installed linux-libc-dev (and libc6-dev's bits/socket*.h",
        f"for the socket families, types and levels), {_header_version(include)}. Regenerate with",
        f"``python3 {SCRIPT}``; ``--check`` tells whether this file is current.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
    ]
    for group in GROUPS:
        pairs = select(group, include, CONTEXT)
        sources = ", ".join(group.headers)
        lines.append(f"# {group.name}: from {sources}")
        if group.bits:
            lines.append(f"{group.name}: tuple[tuple[str, int], ...] = (")
            ordered = pairs if group.header_order else sorted(pairs, key=lambda pair: pair[1])
            lines += [f"    ({name!r}, {value:#x})," for name, value in ordered if value]
            lines.append(")")
        else:
            lines.append(f"{group.name}: dict[int, str] = {{")
            first: dict[int, str] = {}
            for name, value in pairs:
                first.setdefault(value, name)
            lines += [f"    {value}: {name!r}," for value, name in first.items()]
            lines.append("}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _header_version(include: Path) -> str:
    version = include / "linux" / "version.h"
    try:
        text = version.read_text(encoding="utf-8")
    except OSError:
        return "version unknown"
    match = re.search(r"LINUX_VERSION_MAJOR\s+(\d+).*?LINUX_VERSION_PATCHLEVEL\s+(\d+)", text, re.DOTALL)
    return f"Linux {match[1]}.{match[2]}" if match else "version unknown"


def _formatted(text: str) -> str:
    """The module as ``ruff format`` leaves it, so --check compares like with like."""
    try:
        result = subprocess.run(
            [sys.executable, "-m", "ruff", "format", "-"],
            input=text,
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO_ROOT,
        )
    except (OSError, subprocess.CalledProcessError):
        return text
    return result.stdout


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--include", type=Path, default=Path("/usr/include"), help="where the headers are")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the module to write")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the module would change")
    args = parser.parse_args(argv)
    text = _formatted(render(args.include))
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: run python3 {SCRIPT}", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
