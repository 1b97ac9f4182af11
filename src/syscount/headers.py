"""Read the ``SC_*`` constants of a shared BPF header, so the C header stays the one definition."""

from __future__ import annotations

import re
from functools import cache

from .objects import BPF_DIR

_DEFINE = re.compile(r"^#define\s+(SC_\w+)\s+(\d+)\s*(?:/\*.*)?$", re.MULTILINE)


@cache
def header_constants(header: str) -> dict[str, int]:
    """Integer ``#define SC_*`` values of ``bpf/<header>`` (derived expressions are skipped)."""
    text = (BPF_DIR / header).read_text(encoding="utf-8")
    return {name: int(value) for name, value in _DEFINE.findall(text)}
