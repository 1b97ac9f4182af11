"""Syscall number -> name tables per architecture, generated from the kernel's own tables.

``x86_64``, ``i386`` and ``aarch64`` are written by ``tools/gen_syscall_tables.py``
(never by hand); this module only chooses among them and wraps them.

    >>> table_for("amd64").name(39)
    'getpid'
    >>> table_for("x86_64").name(9999)
    'unknown(9999)'
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from types import MappingProxyType

from ..errors import NotSupported
from ..kernel.layout import header_constants

__all__ = [
    "NO_RETURN",
    "NR_SLOTS",
    "SyscallTable",
    "abi_tables",
    "compat_table",
    "native_table",
    "slot_name",
    "slot_of",
    "slots_named",
    "table_for",
]


class SyscallTable:
    """The syscall names of one ABI; numbers not in it are shown as ``unknown(N)``.

    A plain class rather than a dataclass: syscount imports this before it attaches,
    and dataclasses (with inspect) would add ~10 ms to every start."""

    __slots__ = ("_numbers", "arch", "names")

    def __init__(self, arch: str, names: Mapping[int, str]) -> None:
        # Freeze a private copy so a table handed out once can't change under its users.
        self.arch = arch
        self.names: Mapping[int, str] = MappingProxyType(dict(sorted(names.items())))
        self._numbers: Mapping[str, int] = MappingProxyType({name: nr for nr, name in self.names.items()})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SyscallTable) and (self.arch, dict(self.names)) == (other.arch, dict(other.names))

    __hash__ = None  # type: ignore[assignment]  # holds mappings; equality compares them by value

    def __repr__(self) -> str:
        return f"SyscallTable({self.arch!r}, {len(self.names)} names)"

    def name(self, nr: int) -> str:
        """Return the name of syscall ``nr``, or ``unknown(nr)`` when this ABI has none."""
        return self.names.get(nr, f"unknown({nr})")

    def number(self, name: str) -> int | None:
        """Return the number of syscall ``name`` (kernel spelling, e.g. "openat"), or None."""
        return self._numbers.get(name)

    def items(self) -> list[tuple[int, str]]:
        """All (number, name) pairs, sorted by number."""
        return list(self.names.items())

    def __len__(self) -> int:
        return len(self.names)


# Spellings of platform.machine() / `uname -m` (and Debian's arch names) -> table.
# Generated modules, imported on first use: only the running machine's is needed.
_TABLES = ("aarch64", "i386", "x86_64")
_ALIASES: dict[str, str] = {
    "x86_64": "x86_64",
    "amd64": "x86_64",
    "i386": "i386",
    "i486": "i386",
    "i586": "i386",
    "i686": "i386",
    "x86": "i386",
    "aarch64": "aarch64",
    "arm64": "aarch64",
}


def table_for(arch: str) -> SyscallTable:
    """Return the native syscall table for ``arch`` as ``platform.machine()`` spells it.

    Raises NotSupported for architectures syscount has no table for.
    """
    key = _ALIASES.get(arch.strip().lower())
    if key is None:
        raise NotSupported(
            f"syscall names for architecture {arch!r}",
            f"syscount has tables for {', '.join(sorted(_TABLES))} only",
        )
    module = importlib.import_module(f"{__package__}.tables.{key}")
    return SyscallTable(key, module.NAMES)


def machine() -> str:
    """The running machine's architecture as ``uname -m`` spells it (``platform`` costs start-up time)."""
    return os.uname().machine


def native_table() -> SyscallTable:
    """The table for the machine syscount runs on."""
    return table_for(machine())


def compat_table() -> SyscallTable | None:
    """The table of the 32-bit compat ABI that processes on this machine may use, if any.

    On x86_64 that is i386 (ia32 emulation).  arm64's 32-bit compat ABI has its own
    numbering (arch/arm64/tools/syscall_32.tbl, the arm EABI table) and is out of
    scope for now, so aarch64 returns None, as does any natively 32-bit machine.
    """
    native = native_table()
    return table_for("i386") if native.arch == "x86_64" else None


OUT_OF_RANGE = "unknown(out-of-range)"


def abi_tables() -> list[SyscallTable]:
    """The tables of the kernel's ABI banks, in bank order: native first, then compat."""
    compat = compat_table()
    return [native_table()] if compat is None else [native_table(), compat]


# The kernel's slot encoding (bpf/common.h): bank * NR_SLOTS + number; the last slot of
# a bank holds every number out of range. Read from the header so it is stated once.
NR_SLOTS = header_constants("common.h")["SC_NR_SLOTS"]
NO_RETURN = ("exit", "exit_group")  # calls that never return: counted at entry, never timed


def slot_of(bank: int, nr: int) -> int | None:
    """The slot of syscall ``nr`` of ABI ``bank``; None when it has no slot of its own."""
    return bank * NR_SLOTS + nr if 0 <= nr < NR_SLOTS - 1 else None


def slot_name(tables: list[SyscallTable], slot: int) -> str:
    """The name of a kernel slot: the one naming function for counts, latency and trace.

    Native calls keep their plain name; a compat ABI's calls are prefixed with its
    table (``i386:read``), so a 32-bit program's calls are never confused with 64-bit
    ones. The last slot of a bank holds numbers out of its range."""
    bank, nr = divmod(slot, NR_SLOTS)
    prefix = "" if bank == 0 else f"{tables[bank].arch if bank < len(tables) else f'abi{bank}'}:"
    if nr == NR_SLOTS - 1:
        return prefix + OUT_OF_RANGE
    if bank >= len(tables):
        return f"{prefix}unknown({nr})"
    return prefix + tables[bank].name(nr)


def slots_named(tables: list[SyscallTable], names: tuple[str, ...]) -> list[int]:
    """The slots of these syscalls in every ABI that has them (e.g. ``NO_RETURN``)."""
    found = []
    for bank, table in enumerate(tables):
        for name in names:
            number = table.number(name)
            slot = slot_of(bank, number) if number is not None else None
            if slot is None:
                raise NotSupported(f"the {table.arch} syscall table", f"it has no {name}")
            found.append(slot)
    return found
