#!/usr/bin/env python3
"""Generate syscount's syscall classes (``-s %file`` etc.) from the running kernel's syscall signatures.

Writes ``src/syscount/names/classes.py``: ``CLASSES`` maps a class name (without
the ``%``) to a frozenset of syscall NAMES.  Names, not numbers, so one module
serves every ABI table (x86_64, i386, aarch64); ``syscount.names.select``
turns names into numbers per table.  Only names in at least one of those three
tables are emitted.

Where signatures come from
--------------------------
tracefs describes every syscall the running kernel has a tracepoint for, in
``events/syscalls/sys_enter_<name>/format``: after the common fields and
``__syscall_nr`` come the arguments, e.g. ``field:const char * filename; ...``.
Fields whose names start with ``common_`` or ``__`` are bookkeeping, not
arguments, and are skipped.  For a table name, the first of these that exists
supplies its signature:

1. ``sys_enter_<name>`` itself;
2. the kernel entry point when the .tbl entry's entry point has another name
   (``RENAMES``: stat -> sys_newstat, umount2 -> sys_umount, sendfile -> sys_sendfile64, ...);
3. a prototype written in this script (``FALLBACK_PROTOTYPES``) from the kernel's
   SYSCALL_DEFINE, for calls this kernel cannot describe: i386-only entry
   points (socketcall, ipc, mmap2, stat64, _llseek, ...) that an x86_64 kernel
   builds only as untraced ia32 compat code, and calls compiled out of the
   kernel the script ran on (modules, kexec, shadow stacks, uselib, ...);
4. the same steps for the name with an ABI-variant suffix removed (``_time64``,
   ``_64``, ``64``, ``32``: clock_gettime64 -> clock_gettime, setuid32 -> setuid,
   fadvise64_64 -> fadvise64), because those variants differ from the base call
   only in the width of an argument, never in what the arguments are.

Calls with none of these (Linux never implemented them: afs_syscall, break,
tuxcall, ...) have no signature and can only be in name-list classes.  The
header of the generated module lists them.

Rules (one per class)
---------------------
``file``
    Takes a path: an argument of type ``char *``/``const char *`` named
    filename, pathname or path (alone or with a prefix such as from_/to_),
    oldname, newname, new_root, put_old, special, specialfile, dir_name or
    library.  ``name`` is a path only in acct, umount, umount2 and
    name_to_handle_at (``NAME_IS_PATH``): elsewhere it names an xattr, a host,
    a module.  Derived from arguments, so a new syscall with a path argument
    joins automatically.
``desc``
    Uses or creates a file descriptor: an argument named fd, fildes, mqdes
    (a POSIX mq descriptor is an fd on Linux) or usockvec, or whose name starts
    or ends with ``fd`` (dfd, epfd, pidfd, fd_in, out_fd, ...), or an argument of
    type ``fd_set *`` or ``struct pollfd *``; plus calls that return a new
    descriptor without taking one (``FD_CREATORS``: open, creat, socket,
    epoll_create, memfd_create, bpf, ...), which no signature shows.
``network``
    The socket API (``NETWORK``), and i386's socketcall multiplexer.
``process``
    Creates, replaces, ends, waits for or signals a process (``PROCESS``):
    fork/vfork/clone*, execve*, exit*, wait*, kill/tkill/tgkill,
    rt_(tg)sigqueueinfo, pidfd_open, pidfd_send_signal.
``signal``
    Names starting with ``sig`` or ``rt_sig``, plus the calls that send, wait
    for or restart after signals (``SIGNAL``: kill, pause, restart_syscall, ...).
``ipc``
    SysV IPC: names starting with msg, sem or shm, and i386's ipc multiplexer.
    POSIX message queues are descriptors (``desc``), not SysV IPC.
``memory``
    Maps, unmaps, protects, locks, advises or places memory (``MEMORY``),
    including shmat/shmdt, which map SysV segments.
``creds``
    Reads or changes user/group ids, supplementary groups or capabilities:
    ``(get|set)(res|re|fs|e)?(uid|gid)``, get/setgroups, capget/capset.
``clock``
    Reads, sets or adjusts a clock: names starting with ``clock_``, plus
    gettimeofday, settimeofday, adjtimex, time, stime and ftime.  Timers
    (timer_*, timerfd_*, setitimer, alarm) and plain sleeps (nanosleep) are not
    clock access.

Name lists apply to ABI variants too (recvmmsg_time64 is network because
recvmmsg is, setuid32 is creds because setuid is).

Usage (as root, with tracefs mounted: ``mount -t tracefs nodev /sys/kernel/tracing``)::

    python3 tools/gen_syscall_classes.py            # write src/syscount/names/classes.py
    python3 tools/gen_syscall_classes.py --check    # exit 1 if it would change
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import textwrap
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(REPO_SRC))  # the tables and the tracepoint names live in the package

from syscount.names.tracepoints import tracepoint_renames  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "src" / "syscount" / "names" / "classes.py"
SCRIPT = "tools/gen_syscall_classes.py"
# The usual mount point first; the debugfs path for kernels/configs that only expose it there.
TRACEFS_CANDIDATES = (Path("/sys/kernel/tracing"), Path("/sys/kernel/debug/tracing"))
SYSCALL_EVENTS = Path("events") / "syscalls"
ENTER_PREFIX = "sys_enter_"

# --- where signatures come from ------------------------------------------------------------------

# Table name -> kernel entry point (without sys_) where the .tbl entry names another function
# with the same arguments, so the tracepoint is filed under the entry point's name.
# Shared with the trace decoder, which looks the same tracepoints up.
RENAMES = tracepoint_renames()

# Prototypes (the SYSCALL_DEFINE arguments, with __user dropped) of calls that the kernel the
# script runs on may not describe: i386-only entry points, which an x86_64 kernel compiles only
# as untraced ia32 compat code, and calls that common configs compile out.  Only used when
# tracefs has no format for the name.
FALLBACK_PROTOTYPES: dict[str, str] = {
    # i386 legacy entry points (arch/x86/entry/syscalls/syscall_32.tbl -> fs/, kernel/, mm/).
    "_llseek": "unsigned int fd, unsigned long offset_high, unsigned long offset_low, loff_t * result,"
    " unsigned int whence",
    "bdflush": "int func, long data",
    "fstat64": "unsigned long fd, struct stat64 * statbuf",
    "fstatat64": "int dfd, const char * filename, struct stat64 * statbuf, int flag",
    "ipc": "unsigned int call, int first, unsigned long second, unsigned long third, void * ptr, long fifth",
    "lstat64": "const char * filename, struct stat64 * statbuf",
    "mmap2": "unsigned long addr, unsigned long len, unsigned long prot, unsigned long flags,"
    " unsigned long fd, unsigned long pgoff",
    "nice": "int increment",
    "oldfstat": "unsigned int fd, struct __old_kernel_stat * statbuf",
    "oldlstat": "const char * filename, struct __old_kernel_stat * statbuf",
    "oldolduname": "struct oldold_utsname * name",
    "oldstat": "const char * filename, struct __old_kernel_stat * statbuf",
    "olduname": "struct old_utsname * name",
    "readdir": "unsigned int fd, struct old_linux_dirent * dirent, unsigned int count",
    "sgetmask": "",
    "sigaction": "int sig, const struct old_sigaction * act, struct old_sigaction * oact",
    "signal": "int sig, __sighandler_t handler",
    "sigpending": "old_sigset_t * uset",
    "sigprocmask": "int how, old_sigset_t * nset, old_sigset_t * oset",
    "sigreturn": "",
    "sigsuspend": "int unused1, int unused2, old_sigset_t mask",
    "socketcall": "int call, unsigned long * args",
    "ssetmask": "int newmask",
    "stat64": "const char * filename, struct stat64 * statbuf",
    "stime": "old_time32_t * tptr",
    "vm86": "unsigned long cmd, unsigned long arg",
    "vm86old": "struct vm86_struct * user_vm86",
    "waitpid": "pid_t pid, int * stat_addr, int options",
    # Often compiled out (CONFIG_MODULES, CONFIG_KEXEC*, CONFIG_X86_USER_SHADOW_STACK, CONFIG_USELIB,
    # ...) or arch-specific entry points without a tracepoint.
    "_sysctl": "struct __sysctl_args * args",
    "delete_module": "const char * name_user, unsigned int flags",
    "finit_module": "int fd, const char * uargs, int flags",
    "get_thread_area": "struct user_desc * u_info",
    "init_module": "void * umod, unsigned long len, const char * uargs",
    "kexec_file_load": "int kernel_fd, int initrd_fd, unsigned long cmdline_len, const char * cmdline_ptr,"
    " unsigned long flags",
    "kexec_load": "unsigned long entry, unsigned long nr_segments, struct kexec_segment * segments,"
    " unsigned long flags",
    "lookup_dcookie": "u64 cookie64, char * buf, size_t len",
    "map_shadow_stack": "unsigned long addr, unsigned long size, unsigned int flags",
    "set_thread_area": "struct user_desc * u_info",
    "uselib": "const char * library",
}

# ABI-variant suffixes, longest first so "_time64" is not read as "64".
_VARIANT_SUFFIX = re.compile(r"(_time64|_64|64|32)$")

# --- argument rules ------------------------------------------------------------------------------

_CHAR_POINTER = re.compile(r"^(const\s+)?char\s*\*$")
_PATH_ARG = re.compile(
    r"(\w+_)?(filename|pathname|path)|oldname|newname|new_root|put_old|special|specialfile|dir_name|library"
)
NAME_IS_PATH = frozenset({"acct", "umount", "umount2", "name_to_handle_at"})
_FD_ARG = re.compile(r"fd\w*|\w*fd|fildes|mqdes|usockvec")
_FD_SET_TYPES = frozenset({"fd_set *", "struct pollfd *"})

# --- name lists ----------------------------------------------------------------------------------

FD_CREATORS = frozenset(
    {
        "bpf",
        "creat",
        "epoll_create",
        "epoll_create1",
        "eventfd",
        "eventfd2",
        "fanotify_init",
        "fsopen",
        "inotify_init",
        "inotify_init1",
        "io_uring_setup",
        "landlock_create_ruleset",
        "memfd_create",
        "memfd_secret",
        "mq_open",
        "open",
        "perf_event_open",
        "pidfd_open",
        "socket",
        "socketcall",
        "timerfd_create",
        "userfaultfd",
    }
)
NETWORK = frozenset(
    {
        "accept",
        "accept4",
        "bind",
        "connect",
        "getpeername",
        "getsockname",
        "getsockopt",
        "listen",
        "recvfrom",
        "recvmmsg",
        "recvmsg",
        "sendmmsg",
        "sendmsg",
        "sendto",
        "setsockopt",
        "shutdown",
        "socket",
        "socketcall",
        "socketpair",
    }
)
PROCESS = frozenset(
    {
        "clone",
        "clone3",
        "execve",
        "execveat",
        "exit",
        "exit_group",
        "fork",
        "kill",
        "pidfd_open",
        "pidfd_send_signal",
        "rt_sigqueueinfo",
        "rt_tgsigqueueinfo",
        "tgkill",
        "tkill",
        "vfork",
        "wait4",
        "waitid",
        "waitpid",
    }
)
SIGNAL = frozenset(
    {
        "kill",
        "pause",
        "pidfd_send_signal",
        # Only ever issued by the signal-return path, to resume a call a handler interrupted.
        "restart_syscall",
        "rt_tgsigqueueinfo",
        "sgetmask",
        "ssetmask",
        "tgkill",
        "tkill",
    }
)
_SIGNAL_PREFIX = re.compile(r"(rt_)?sig\w*")
IPC = frozenset({"ipc"})
_IPC_PREFIX = re.compile(r"(msg|sem|shm)\w*")
MEMORY = frozenset(
    {
        "brk",
        "get_mempolicy",
        "madvise",
        "map_shadow_stack",
        "mbind",
        "memfd_secret",
        "migrate_pages",
        "mincore",
        "mlock",
        "mlock2",
        "mlockall",
        "mmap",
        "mmap2",
        "move_pages",
        "mprotect",
        "mremap",
        "mseal",
        "msync",
        "munlock",
        "munlockall",
        "munmap",
        "pkey_alloc",
        "pkey_free",
        "pkey_mprotect",
        "process_madvise",
        "process_mrelease",
        "remap_file_pages",
        "set_mempolicy",
        "set_mempolicy_home_node",
        "shmat",
        "shmdt",
    }
)
CREDS = frozenset({"capget", "capset", "getgroups", "setgroups"})
_CREDS_ID = re.compile(r"(get|set)(res|re|fs|e)?(uid|gid)")
CLOCK = frozenset({"adjtimex", "ftime", "gettimeofday", "settimeofday", "stime", "time"})
_CLOCK_PREFIX = re.compile(r"clock_\w+")

# Shown by syscount (e.g. in -s errors and help); keep each to one short line.
DESCRIPTIONS: dict[str, str] = {
    "clock": "read, set or adjust a clock",
    "creds": "user/group ids, groups, capabilities",
    "desc": "use or create a file descriptor",
    "file": "take a file name (path) argument",
    "ipc": "System V IPC (msg*, sem*, shm*)",
    "memory": "map, protect, lock or advise memory",
    "network": "sockets",
    "process": "create, exec, exit, wait for or signal processes",
    "signal": "handle, mask, wait for or send signals",
}


class GenError(Exception):
    """tracefs is missing or a format file is malformed."""


@dataclass(frozen=True)
class Arg:
    """One syscall argument as tracefs (or a prototype above) declares it."""

    ctype: str  # normalised: single spaces, e.g. "const char *"
    name: str


@dataclass(frozen=True)
class Signature:
    args: tuple[Arg, ...]
    source: str  # "tracefs", "tracefs:<kernel name>", "prototype" or "prototype:<name>"


def _normalise_type(ctype: str) -> str:
    # "const char*" and "const char *" are the same type; compare one spelling.
    return re.sub(r"\s+", " ", re.sub(r"\s*\*\s*", " * ", ctype)).strip()


def parse_declaration(decl: str) -> Arg:
    """Split ``const char * filename`` into type and name."""
    match = re.fullmatch(r"\s*(?P<ctype>.*?[\s*])(?P<name>[A-Za-z_]\w*)\s*", decl)
    if match is None:
        raise GenError(f"cannot read declaration {decl!r}")
    return Arg(_normalise_type(match["ctype"]), match["name"])


_FIELD = re.compile(r"^\s*field:(?P<decl>[^;]*);")


def parse_format(text: str, where: str = "format") -> tuple[Arg, ...]:
    """The argument fields of one tracefs syscall event ``format`` file, in order."""
    args: list[Arg] = []
    for line in text.splitlines():
        match = _FIELD.match(line)
        if match is None:
            continue
        try:
            arg = parse_declaration(match["decl"])
        except GenError as exc:
            raise GenError(f"{where}: {exc}") from None
        # common_* belong to every event; __syscall_nr and any newer __-prefixed helper fields
        # (e.g. copied-in user strings) describe the event, not the syscall's arguments.
        if arg.name.startswith(("common_", "__")):
            continue
        args.append(arg)
    return tuple(args)


def parse_prototype(text: str) -> tuple[Arg, ...]:
    """The arguments of a comma-separated prototype such as ``int fd, const char * path``."""
    return tuple(parse_declaration(part) for part in text.split(",") if part.strip())


def find_tracefs(explicit: Path | None) -> Path:
    """The directory holding the syscall events (``<tracefs>/events/syscalls``)."""
    candidates = (explicit,) if explicit is not None else TRACEFS_CANDIDATES
    for root in candidates:
        events = root / SYSCALL_EVENTS
        if events.is_dir():
            return events
    tried = ", ".join(str(root / SYSCALL_EVENTS) for root in candidates)
    raise GenError(
        f"no syscall trace events at {tried}; as root, mount tracefs (mount -t tracefs nodev "
        "/sys/kernel/tracing) on a kernel built with CONFIG_FTRACE_SYSCALLS, or pass --tracefs"
    )


def read_tracefs(events: Path) -> dict[str, tuple[Arg, ...]]:
    """Kernel syscall name -> arguments, for every ``sys_enter_*`` event under ``events``."""
    signatures: dict[str, tuple[Arg, ...]] = {}
    for entry in sorted(events.iterdir()):
        if not entry.name.startswith(ENTER_PREFIX):
            continue
        fmt = entry / "format"
        if fmt.is_file():
            signatures[entry.name[len(ENTER_PREFIX) :]] = parse_format(fmt.read_text(encoding="utf-8"), str(fmt))
    if not signatures:
        raise GenError(f"{events}: no sys_enter_*/format files")
    return signatures


def variants(name: str) -> Iterator[str]:
    """``name``, then the names left by removing ABI-variant suffixes one at a time."""
    yield name
    while (stripped := _VARIANT_SUFFIX.sub("", name)) != name and stripped:
        name = stripped
        yield name


def resolve(name: str, tracefs: Mapping[str, tuple[Arg, ...]]) -> Signature | None:
    """The signature for table name ``name`` by the module docstring's steps 1-4, if any."""
    for candidate in variants(name):
        suffix = "" if candidate == name else f":{candidate}"
        if candidate in tracefs:
            return Signature(tracefs[candidate], "tracefs" + suffix)
        renamed = RENAMES.get(candidate)
        if renamed is not None and renamed in tracefs:
            return Signature(tracefs[renamed], f"tracefs:{renamed}")
        if candidate in FALLBACK_PROTOTYPES:
            return Signature(parse_prototype(FALLBACK_PROTOTYPES[candidate]), "prototype" + suffix)
    return None


def is_path_arg(call: str, arg: Arg) -> bool:
    if not _CHAR_POINTER.match(arg.ctype):
        return False
    return bool(_PATH_ARG.fullmatch(arg.name)) or (arg.name == "name" and call in NAME_IS_PATH)


def is_fd_arg(arg: Arg) -> bool:
    return bool(_FD_ARG.fullmatch(arg.name)) or arg.ctype in _FD_SET_TYPES


def _in_list(name: str, names: frozenset[str], pattern: re.Pattern[str] | None = None) -> bool:
    return any(v in names or (pattern is not None and pattern.fullmatch(v)) for v in variants(name))


def classify_one(name: str, signature: Signature | None) -> set[str]:
    """The classes of one syscall by the rules in the module docstring."""
    classes: set[str] = set()
    args = signature.args if signature is not None else ()
    if any(is_path_arg(name, arg) for arg in args):
        classes.add("file")
    if any(is_fd_arg(arg) for arg in args) or _in_list(name, FD_CREATORS):
        classes.add("desc")
    if _in_list(name, NETWORK):
        classes.add("network")
    if _in_list(name, PROCESS):
        classes.add("process")
    if _in_list(name, SIGNAL, _SIGNAL_PREFIX):
        classes.add("signal")
    if _in_list(name, IPC, _IPC_PREFIX):
        classes.add("ipc")
    if _in_list(name, MEMORY):
        classes.add("memory")
    if _in_list(name, CREDS, _CREDS_ID):
        classes.add("creds")
    if _in_list(name, CLOCK, _CLOCK_PREFIX):
        classes.add("clock")
    return classes


@dataclass(frozen=True)
class Result:
    classes: dict[str, tuple[str, ...]]  # class -> sorted names, every class in DESCRIPTIONS present
    sources: dict[str, int]  # how many names got their signature from each kind of source
    unsigned: tuple[str, ...]  # names with no signature at all


def classify(names: Iterable[str], tracefs: Mapping[str, tuple[Arg, ...]]) -> Result:
    """Classify every name; the result is sorted, so equal inputs give equal output."""
    members: dict[str, set[str]] = {cls: set() for cls in DESCRIPTIONS}
    sources = {"tracefs": 0, "tracefs under an entry-point or base name": 0, "prototype": 0}
    unsigned: list[str] = []
    for name in sorted(set(names)):
        signature = resolve(name, tracefs)
        if signature is None:
            unsigned.append(name)
        elif signature.source == "tracefs":
            sources["tracefs"] += 1
        elif signature.source.startswith("tracefs:"):
            sources["tracefs under an entry-point or base name"] += 1
        else:
            sources["prototype"] += 1
        for cls in classify_one(name, signature):
            members[cls].add(name)
    return Result({cls: tuple(sorted(m)) for cls, m in sorted(members.items())}, sources, tuple(unsigned))


def table_names() -> set[str]:
    """Every name in syscount's x86_64, i386 and aarch64 tables."""
    from syscount.names.syscalls import table_for

    names: set[str] = set()
    for arch in ("x86_64", "i386", "aarch64"):
        names.update(table_for(arch).names.values())
    return names


def _comment(text: str, indent: str = "") -> list[str]:
    width = 100 - len(indent)
    return [f"# {indent}{line}".rstrip() for line in textwrap.wrap(text, width) or [""]]


def render(result: Result, kernel: str) -> str:
    """The text of the generated module."""
    counts = ", ".join(f"{n} from {kind}" for kind, n in result.sources.items())
    lines = [
        f"# Generated by {SCRIPT} -- DO NOT EDIT.",
        "#",
        *_comment(
            f"Signatures: tracefs events/syscalls/sys_enter_*/format of {kernel}; {counts}; "
            f"{len(result.unsigned)} with none (name lists only): {', '.join(result.unsigned) or '-'}."
        ),
        "#",
        "# Rules (details in the generator's docstring):",
        *_comment(
            "%file: a char * argument named filename, pathname, *_filename/_pathname/_path, path, oldname, "
            "newname, new_root, put_old, special, specialfile, dir_name or library ('name' only in "
            f"{', '.join(sorted(NAME_IS_PATH))}).",
            "  ",
        ),
        *_comment(
            "%desc: an argument named fd, fildes, mqdes, usockvec, fd* or *fd, or of type fd_set * or "
            "struct pollfd *; or a call that returns a new descriptor: "
            f"{', '.join(sorted(FD_CREATORS))}.",
            "  ",
        ),
        *_comment(
            "%network, %process, %signal, %ipc, %memory, %creds, %clock: the generator's name lists and "
            "patterns (sig*/rt_sig*, msg*/sem*/shm*, (get|set)(res|re|fs|e)?(uid|gid), clock_*), applied "
            "to ABI variants too (_time64, _64, 64, 32 suffixes).",
            "  ",
        ),
        *_comment(
            "Signatures of i386-only calls (no tracepoint on an x86_64 kernel) and of calls compiled out "
            "of the generating kernel come from prototypes written in the generator, or from the base "
            "call of an ABI variant.",
            "  ",
        ),
        "#",
        "# Regenerate (as root, tracefs mounted) with:",
        f"#   python3 {SCRIPT}",
        '"""Syscall classes for ``-s %class``: class name (without ``%``) -> syscall names, for every ABI."""',
        "",
        "DESCRIPTIONS: dict[str, str] = {",
        *(f'    "{cls}": "{DESCRIPTIONS[cls]}",' for cls in sorted(DESCRIPTIONS)),
        "}",
        "",
        "CLASSES: dict[str, frozenset[str]] = {",
    ]
    for cls, members in result.classes.items():
        lines += [
            f'    "{cls}": frozenset(',
            "        {",
            *(f'            "{n}",' for n in members),
            "        }",
            "    ),",
        ]
    lines += ["}", ""]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument(
        "--tracefs", type=Path, help="tracefs mount point (default: /sys/kernel/tracing, then debugfs's tracing/)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="module to write (default: %(default)s)")
    parser.add_argument("--kernel", help='kernel description for the header (default: "Linux <uname -r> (<uname -m>)")')
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the module would change")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, names: Iterable[str] | None = None) -> int:
    """Entry point; ``names`` replaces syscount's tables (for tests)."""
    args = parse_args(argv)
    try:
        tracefs = read_tracefs(find_tracefs(args.tracefs))
    except (GenError, OSError) as exc:
        print(f"gen_syscall_classes: error: {exc}", file=sys.stderr)
        return 2
    uts = os.uname()
    kernel = args.kernel or f"Linux {uts.release} ({uts.machine})"
    result = classify(table_names() if names is None else names, tracefs)
    text = render(result, kernel)
    current = args.out.read_text(encoding="utf-8") if args.out.is_file() else None
    if current == text:
        return 0
    if args.check:
        print(f"out of date: {args.out}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    sizes = ", ".join(f"%{cls} {len(members)}" for cls, members in result.classes.items())
    print(f"wrote {args.out} ({sizes})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
