"""What /proc says about a process or thread: whether it lives, and its name."""

from __future__ import annotations

import os


def alive(ident: int) -> bool:
    """Does this process or thread still exist? (/proc/<tid> works for threads too.)"""
    return os.path.exists(f"/proc/{ident}")


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
