"""The filter options every syscount command shares: --comm, -u, --cgroup, -s, -x, -e,
--include-self.

``add_filter_options`` puts them on a parser; ``selection_from`` validates what the
user gave (one clear line per mistake) and returns a ``filters.Selection``.
"""

from __future__ import annotations

import argparse
import pwd

from ..errors import UsageError
from ..filters import Selection
from ..names.cgroups import cgroup_directory
from ..names.errnos import errno_number
from ..names.syscalls import abi_tables, slot_of

COMM_MAX = 15  # the kernel keeps 15 characters of a thread's name


# trace's -s also takes a number: strace's -s, the bytes of data shown.
DATA_SIZE_HELP = "; a number N instead is strace's -s: show N bytes of each buffer (default 32)"


def add_filter_options(parser: argparse.ArgumentParser, data_size: bool = False) -> None:
    """The kernel filters; ``data_size``: -s also takes strace's byte count (trace)."""
    group = parser.add_argument_group("filters (applied in the kernel, before counting; combinable)")
    group.add_argument("--comm", metavar="NAME", help="only threads with this name (as in /proc/PID/comm)")
    group.add_argument("-u", "--uid", metavar="UID|USER", help="only calls made with this real user id")
    group.add_argument("--cgroup", metavar="PATH", help="only tasks in this cgroup v2 (or below it)")
    group.add_argument(
        "-s",
        "--syscall",
        metavar="LIST|N" if data_size else "LIST",
        help="only these syscalls: names and classes (%%file %%network %%process %%signal %%ipc "
        "%%memory %%desc %%creds %%clock), ! excludes: -s '%%file,!openat'" + (DATA_SIZE_HELP if data_size else ""),
    )
    group.add_argument("-x", "--failures", action="store_true", help="only calls that failed")
    group.add_argument("-e", "--errno", metavar="NAME", help="only calls that failed with this errno (implies -x)")
    group.add_argument(
        "--include-self",
        action="store_true",
        help="system-wide: count syscount's own calls too (left out by default: they are its reading and output)",
    )


def selection_from(ns: argparse.Namespace) -> Selection:
    """The user's filters, checked; raises UsageError with one line for each mistake."""
    errno = _errno(ns.errno) if ns.errno is not None else 0
    return Selection(
        comm=_comm(ns.comm) if ns.comm is not None else None,
        uid=_uid(ns.uid) if ns.uid is not None else None,
        cgroup=cgroup_directory(ns.cgroup) if ns.cgroup is not None else None,
        syscalls=_syscall_slots(ns.syscall) if ns.syscall is not None else None,
        failed_only=ns.failures or bool(errno),
        errno=errno,
        # Commands without the option (seccomp: a profile never holds syscount's calls) leave it out.
        include_self=getattr(ns, "include_self", False),
    )


def filter_texts(ns: argparse.Namespace) -> dict[str, str]:
    """The filters given, as the user wrote them (for a recording's metadata)."""
    given = {"comm": ns.comm, "uid": ns.uid, "cgroup": ns.cgroup, "syscall": ns.syscall, "errno": ns.errno}
    texts = {key: str(value) for key, value in given.items() if value is not None}
    if ns.failures:
        texts["failures"] = "yes"
    return texts


def _comm(name: str) -> str:
    if not name or len(name) > COMM_MAX:
        raise UsageError(f"--comm: {name!r} must be 1 to {COMM_MAX} characters (the kernel keeps 15)")
    return name


def _uid(text: str) -> int:
    if text.isdigit():
        return int(text)
    try:
        return pwd.getpwnam(text).pw_uid
    except KeyError:
        raise UsageError(f"-u: no user {text!r} (give a user name or a numeric uid)") from None


def _errno(name: str) -> int:
    number = errno_number(name)
    if number is None:
        raise UsageError(f"-e: unknown errno {name!r} (e.g. ENOENT, EACCES, EAGAIN)")
    return number


def _syscall_slots(text: str) -> frozenset[int]:
    """Slots (bpf/common.h) of the selected syscalls, in every ABI's table."""
    from ..names.select import parse_selection

    tables = abi_tables()
    selection = parse_selection(text, tables)
    slots = (slot_of(bank, nr) for bank, table in enumerate(tables) for nr in selection.numbers(table))
    return frozenset(slot for slot in slots if slot is not None)
