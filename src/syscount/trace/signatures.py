"""Each syscall's argument names and C types, from the running kernel (tracefs).

``events/syscalls/sys_enter_<name>/format`` lists, after the common fields and
``__syscall_nr``, one ``field:<type> <name>;`` line per argument, in order: the
kernel's own SYSCALL_DEFINE signature. So every syscall the kernel can trace is
decoded by name, including ones newer than syscount.

A table name whose entry point has another name is looked up under that name
(``stat`` is ``sys_newstat``); calls with no tracepoint get no signature and are
shown with raw arguments.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

from ..errors import NotSupported
from ..names.syscalls import SyscallTable, slot_of
from ..names.tracepoints import tracepoint_renames

TRACEFS = Path("/sys/kernel/tracing")
# Older set-ups expose tracefs only under debugfs.
TRACEFS_FALLBACK = Path("/sys/kernel/debug/tracing")
SYSCALL_EVENTS = Path("events") / "syscalls"

RENAMES = tracepoint_renames()

_FIELD = re.compile(r"^\s*field:(?P<decl>[^;]+);\s*offset:\d+;\s*size:(?P<size>\d+);", re.MULTILINE)


class Arg(NamedTuple):
    """One argument: its name and C type as the kernel declares them."""

    name: str
    ctype: str  # e.g. "const char *", "unsigned long", "int"

    @property
    def is_pointer(self) -> bool:
        return "*" in self.ctype or self.ctype.endswith(("cap_user_header_t", "cap_user_data_t"))


class Signature(NamedTuple):
    name: str  # the syscall's name in the table
    args: tuple[Arg, ...]


def parse_format(text: str) -> tuple[Arg, ...]:
    """The arguments in a ``sys_enter_*/format`` file (bookkeeping fields skipped)."""
    args = []
    for match in _FIELD.finditer(text):
        decl = match["decl"].strip()
        ctype, _, name = decl.rpartition(" ")
        while name.startswith("*"):  # "char *name" spelled without the space
            ctype, name = ctype + " *", name[1:]
        if name.startswith(("common_", "__")) or not name.isidentifier():
            continue
        args.append(Arg(name, " ".join(ctype.replace("*", " * ").split()).replace("* *", "**")))
    return tuple(args)


def tracefs_root() -> Path:
    """Where tracefs is, mounting it if needed; NotSupported when it cannot be had."""
    for root in (TRACEFS, TRACEFS_FALLBACK):
        if (root / SYSCALL_EVENTS).is_dir():
            return root
    if TRACEFS.is_dir():
        result = subprocess.run(
            ["mount", "-t", "tracefs", "nodev", str(TRACEFS)], capture_output=True, text=True, check=False
        )
        if (TRACEFS / SYSCALL_EVENTS).is_dir():
            return TRACEFS
        why = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "no syscall events after mounting"
    else:
        why = f"{TRACEFS} does not exist"
    raise NotSupported(
        "reading syscall signatures from tracefs",
        f"{why} (mount it with `mount -t tracefs nodev {TRACEFS}`; the kernel needs CONFIG_FTRACE_SYSCALLS)",
    )


def read_signatures(table: SyscallTable, root: Path | None = None) -> dict[int, Signature]:
    """Syscall number → signature, for every call of ``table`` that tracefs describes."""
    events = (root or tracefs_root()) / SYSCALL_EVENTS
    available = set(os.listdir(events))
    signatures: dict[int, Signature] = {}
    for nr, name in table.items():
        for candidate in (name, RENAMES.get(name)):
            if candidate and f"sys_enter_{candidate}" in available:
                try:
                    text = (events / f"sys_enter_{candidate}" / "format").read_text(encoding="utf-8")
                except OSError:
                    continue
                signatures[nr] = Signature(name, parse_format(text))
                break
    return signatures


def abi_signatures(tables: list[SyscallTable], root: Path | None = None) -> dict[int, Signature]:
    """Signatures for every ABI, keyed by slot (bpf/common.h), as events are.

    The compat ABI (i386 on x86-64) has its own numbers but the same calls: tracefs
    describes them under the same names."""
    root = root or tracefs_root()
    keyed: dict[int, Signature] = {}
    for bank, table in enumerate(tables):
        for nr, signature in read_signatures(table, root).items():
            slot = slot_of(bank, nr)
            if slot is not None:
                keyed[slot] = signature
    return keyed


def from_prototypes(table: SyscallTable, prototypes: Mapping[str, Iterable[tuple[str, str]]]) -> dict[int, Signature]:
    """Signatures written out as (type, name) pairs: for tests, and machines without tracefs."""
    signatures: dict[int, Signature] = {}
    for name, args in prototypes.items():
        nr = table.number(name)
        if nr is not None:
            signatures[nr] = Signature(name, tuple(Arg(arg_name, ctype) for ctype, arg_name in args))
    return signatures
