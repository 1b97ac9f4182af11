"""Syscall number -> name tables per architecture, generated from the kernel's own tables.

``x86_64``, ``i386`` and ``aarch64`` are written by ``tools/gen_syscall_tables.py``
(never by hand); this module only chooses among them and wraps them.

    >>> table_for("amd64").name(39)
    'getpid'
    >>> table_for("x86_64").name(9999)
    'unknown(9999)'
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..errors import NotSupported
from . import aarch64, i386, x86_64

__all__ = ["SyscallTable", "compat_table", "native_table", "table_for"]


@dataclass(frozen=True)
class SyscallTable:
    """The syscall names of one ABI; numbers not in it are shown as ``unknown(N)``."""

    arch: str
    names: Mapping[int, str]
    _numbers: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Freeze a private copy so a table handed out once can't change under its users.
        names = MappingProxyType(dict(sorted(self.names.items())))
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "_numbers", MappingProxyType({name: nr for nr, name in names.items()}))

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

    __hash__ = None  # type: ignore[assignment]  # holds mappings; equality compares them by value


# Spellings of platform.machine() / `uname -m` (and Debian's arch names) -> table.
_TABLES: dict[str, Mapping[int, str]] = {
    "x86_64": x86_64.NAMES,
    "i386": i386.NAMES,
    "aarch64": aarch64.NAMES,
}
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
    return SyscallTable(key, _TABLES[key])


def native_table() -> SyscallTable:
    """The table for the machine syscount runs on."""
    return table_for(platform.machine())


def compat_table() -> SyscallTable | None:
    """The table of the 32-bit compat ABI that processes on this machine may use, if any.

    On x86_64 that is i386 (ia32 emulation).  arm64's 32-bit compat ABI has its own
    numbering (arch/arm64/tools/syscall_32.tbl, the arm EABI table) and is out of
    scope for now, so aarch64 returns None, as does any natively 32-bit machine.
    """
    native = native_table()
    return table_for("i386") if native.arch == "x86_64" else None
