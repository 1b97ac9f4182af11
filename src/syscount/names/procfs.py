"""What /proc says about a process or thread: whether it lives, and its name."""

from __future__ import annotations

import os


def alive(ident: int) -> bool:
    """Does this process or thread still exist? (/proc/<tid> works for threads too.)"""
    return os.path.exists(f"/proc/{ident}")


def proc_comm(ident: int) -> str | None:
    """The thread name (comm) of a process or thread; None once it is gone."""
    try:
        with open(f"/proc/{ident}/comm", encoding="utf-8", errors="replace") as comm:
            return comm.read().rstrip("\n")
    except OSError:
        return None
