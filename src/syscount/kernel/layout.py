"""Shared BPF headers, seen from Python: their ``SC_*`` constants and struct layouts.

The C headers under ``bpf/`` are the one definition. ``header_constants`` reads a
header's integer ``#define SC_*`` values (following its ``#include "…"`` of other
syscount headers), and ``CStruct`` is a declarative mirror of one C struct, laid out
with the C rules (natural alignment, trailing padding) so that offsets never have to be
written by hand. tests/unit/test_layout.py checks every mirror in ``structs.py``
against the BTF of the compiled objects, field by field.
"""

from __future__ import annotations

import os
import re
import struct
from functools import cache
from typing import NamedTuple

from .objects import BPF_DIR

_DEFINE = re.compile(r"^#define\s+(SC_\w+)\s+(\d+)\s*(?:/\*.*)?$", re.MULTILINE)
_INCLUDE = re.compile(r'^#include\s+"(\w+\.h)"', re.MULTILINE)


@cache
def header_constants(header: str) -> dict[str, int]:
    """Integer ``#define SC_*`` values of ``bpf/<header>`` and the syscount headers it
    includes (derived expressions are skipped)."""
    with open(os.path.join(BPF_DIR, header), encoding="utf-8") as source:
        text = source.read()
    constants: dict[str, int] = {}
    for included in _INCLUDE.findall(text):
        constants.update(header_constants(included))
    constants.update((name, int(value)) for name, value in _DEFINE.findall(text))
    return constants


# C scalar types: struct format character and size (alignment = size).
SCALARS: dict[str, str] = {"u8": "B", "u16": "H", "u32": "I", "u64": "Q", "s64": "q", "char": "s"}


class Field(NamedTuple):
    name: str
    type: str | CStruct  # a SCALARS key or a nested struct
    length: int  # array elements (1: not an array); multi-dimensional arrays are flattened
    offset: int

    @property
    def element_size(self) -> int:
        return self.type.size if isinstance(self.type, CStruct) else _scalar_size(self.type)

    @property
    def size(self) -> int:
        return self.element_size * self.length


class CStruct:
    """A C struct, declared as ``(name, type, count)`` members in order."""

    def __init__(self, name: str, members: list[tuple[str, str | CStruct, int]]) -> None:
        self.name = name
        self.fields: dict[str, Field] = {}
        offset = 0
        self.align = 1
        for member, kind, length in members:
            align = kind.align if isinstance(kind, CStruct) else _scalar_size(kind)
            offset = -(-offset // align) * align
            field = Field(member, kind, length, offset)
            self.fields[member] = field
            offset += field.size
            self.align = max(self.align, align)
        self.size = -(-offset // self.align) * self.align

    def offset(self, name: str) -> int:
        """Byte offset of member ``name``; ``a.b`` reaches into a nested struct."""
        head, _, rest = name.partition(".")
        field = self.fields[head]
        if rest:
            assert isinstance(field.type, CStruct)
            return field.offset + field.type.offset(rest)
        return field.offset

    @property
    def format(self) -> str:
        """A ``struct`` format (no byte-order prefix) with every member and padding byte."""
        parts: list[str] = []
        at = 0
        for field in self.fields.values():
            if field.offset > at:
                parts.append(f"{field.offset - at}x")
            parts.append(_field_format(field))
            at = field.offset + field.size
        if self.size > at:
            parts.append(f"{self.size - at}x")
        return "".join(parts)

    def packer(self) -> struct.Struct:
        return struct.Struct("=" + self.format)

    def join(self, *parts: bytes) -> bytes:
        """The struct from already packed consecutive parts (e.g. a nested struct, then the
        rest), checked to fill it exactly."""
        data = b"".join(parts)
        if len(data) != self.size:
            raise ValueError(f"struct {self.name} is {self.size} bytes, got {len(data)}")
        return data


def _scalar_size(kind: str) -> int:
    return 1 if SCALARS[kind] == "s" else struct.calcsize("=" + SCALARS[kind])


def _field_format(field: Field) -> str:
    if isinstance(field.type, CStruct):
        return field.type.format * field.length
    code = SCALARS[field.type]
    if code == "s" or (code == "B" and field.length > 1):
        return f"{field.length}s"  # byte strings and byte arrays pack from bytes
    return code if field.length == 1 else f"{field.length}{code}"
