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
ID_SHIFT = _c["SC_KEY_ID_SHIFT"]
SLOT_SHIFT = _c["SC_KEY_SLOT_SHIFT"]
ERR_MASK = _c["SC_KEY_ERR_MASK"]

Key = tuple[int, int, int]  # (id, slot, errno)


class KeyedMap:
    """The kernel side of a breakdown: the ``keyed`` and ``key_names`` maps of one object."""

    def __init__(self, bpf: BpfObject, by: str) -> None:
        self.by = by
        self._keyed_fd = bpf.map_fd("keyed")
        self._names_fd = bpf.map_fd("key_names")
        self._cpus = _libbpf.num_possible_cpus()

    def read(self) -> dict[Key, int]:
        """(id, slot, errno) → calls since load, summed over CPUs (a per-CPU hash)."""
        counts: dict[Key, int] = {}
        for key, value in _libbpf.map_items(self._keyed_fd, 8, 8 * self._cpus):
            (word,) = struct.unpack("Q", key)
            counts[unpack_key(word)] = sum(struct.unpack(f"{self._cpus}Q", value))
        return counts

    def names(self) -> dict[int, str]:
        return {
            struct.unpack("Q", key)[0]: value.split(b"\0", 1)[0].decode(errors="replace")
            for key, value in _libbpf.map_items(self._names_fd, 8, 16)
        }

    def forget(self, keys: list[Key], ids: set[int]) -> None:
        for key in keys:
            _delete(self._keyed_fd, struct.pack("Q", pack_key(*key)))
        for ident in ids:
            _delete(self._names_fd, struct.pack("Q", ident))


def unpack_key(word: int) -> Key:
    """(id, slot, errno) from a key word (keyed.h)."""
    return word >> ID_SHIFT, (word >> SLOT_SHIFT) & ((1 << (ID_SHIFT - SLOT_SHIFT)) - 1), word & ERR_MASK


def pack_key(ident: int, slot: int, err: int) -> int:
    return ident << ID_SHIFT | slot << SLOT_SHIFT | err


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
