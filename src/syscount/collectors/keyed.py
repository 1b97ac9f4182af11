"""The kernel side of a breakdown: the ``keyed`` and ``key_names`` maps (keyed.h).

Kept apart from collectors/breakdown.py (the user-space bookkeeping) because the
collectors import it before attaching, when every millisecond of import counts.
"""

from __future__ import annotations

import contextlib
import struct

from .. import _libbpf
from ..headers import header_constants
from ..objects import BpfObject

_c = header_constants("keyed.h")
BREAKDOWNS: dict[str | None, int] = {
    None: _c["SC_BY_NONE"],
    "process": _c["SC_BY_PROCESS"],
    "thread": _c["SC_BY_THREAD"],
    "cgroup": _c["SC_BY_CGROUP"],
    "comm": _c["SC_BY_COMM"],
}
_KEY = struct.Struct("QII")  # struct sc_key

Key = tuple[int, int, int]  # (id, slot, errno)


class KeyedMap:
    """The kernel side of a breakdown: the ``keyed`` and ``key_names`` maps of one object."""

    def __init__(self, bpf: BpfObject, by: str) -> None:
        self.by = by
        self._keyed_fd = bpf.map_fd("keyed")
        self._names_fd = bpf.map_fd("key_names")

    def read(self) -> dict[Key, int]:
        return {
            _KEY.unpack(key): struct.unpack("Q", value)[0]
            for key, value in _libbpf.map_items(self._keyed_fd, _KEY.size, 8)
        }

    def names(self) -> dict[int, str]:
        return {
            struct.unpack("Q", key)[0]: value.split(b"\0", 1)[0].decode(errors="replace")
            for key, value in _libbpf.map_items(self._names_fd, 8, 16)
        }

    def forget(self, keys: list[Key], ids: set[int]) -> None:
        for key in keys:
            _delete(self._keyed_fd, _KEY.pack(*key))
        for ident in ids:
            _delete(self._names_fd, struct.pack("Q", ident))


def size_keyed_maps(bpf: BpfObject, by: str | None, max_rows: int) -> None:
    """Before load: without a breakdown the maps stay tiny; with one, ``max_rows`` keys."""
    if by is None:
        bpf.shrink_map("keyed")
        bpf.shrink_map("key_names")
    elif max_rows:
        bpf.resize_map("keyed", max_rows)
        bpf.resize_map("key_names", max_rows)


def _delete(fd: int, key: bytes) -> None:
    with contextlib.suppress(OSError):  # already gone
        _libbpf.map_delete(fd, key)
