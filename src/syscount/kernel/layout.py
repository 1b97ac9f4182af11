"""Read the ``SC_*`` constants of a shared BPF header, so the C header stays the one definition."""

from __future__ import annotations

import os
import re
from functools import cache

from .objects import BPF_DIR

_DEFINE = re.compile(r"^#define\s+(SC_\w+)\s+(\d+)\s*(?:/\*.*)?$", re.MULTILINE)


@cache
def header_constants(header: str) -> dict[str, int]:
    """Integer ``#define SC_*`` values of ``bpf/<header>`` (derived expressions are skipped)."""
    with open(os.path.join(BPF_DIR, header), encoding="utf-8") as source:
        text = source.read()
    return {name: int(value) for name, value in _DEFINE.findall(text)}
