"""What /proc says about a process: whether it has ended."""

from __future__ import annotations


def has_exited(pid: int) -> bool:
    """Has process ``pid`` ended (gone, or a zombie not yet reaped)?"""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in (b"Z", b"X")


def proc_comm(ident: int) -> str | None:
    """The thread name (comm) of a process or thread; None once it is gone (also when it
    goes between the open and the read: ESRCH)."""
    try:
        # Kept byte for byte: no newline translation (a name may hold \r or \n), bytes
        # that are not UTF-8 kept too (surrogateescape); the sinks escape what it holds.
        with open(f"/proc/{ident}/comm", encoding="utf-8", errors="surrogateescape", newline="") as comm:
            return comm.read().removesuffix("\n")  # the newline /proc adds
    except OSError:
        return None
