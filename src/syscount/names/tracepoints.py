"""Where the kernel files a syscall's tracepoint when it is not under the table's name."""

from __future__ import annotations


def tracepoint_renames() -> dict[str, str]:
    """Table name -> the entry point (without ``sys_``) the kernel files its tracepoint under:
    the .tbl entry names another function with the same arguments."""
    return {
        "stat": "newstat",
        "lstat": "newlstat",
        "fstat": "newfstat",
        "uname": "newuname",
        "umount2": "umount",
        "sendfile": "sendfile64",
        "ugetrlimit": "getrlimit",
        "_newselect": "select",
    }
