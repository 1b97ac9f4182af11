"""The kernel side of a breakdown: the ``keyed`` and ``key_names`` maps (keyed.h).

Kept apart from breakdown.py (the user-space bookkeeping) because the programs import
it before attaching, when every millisecond of import counts.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from ..kernel.layout import header_constants
from ..kernel.maps import possible_cpus
from ..kernel.objects import BpfObject
from ..kernel.structs import COMM_LEN, DIRECT_ROW
from ..names.escape import decode_name

_c = header_constants("keyed.h")
BREAKDOWNS: dict[str | None, int] = {
    None: _c["SC_BY_NONE"],
    "process": _c["SC_BY_PROCESS"],
    "thread": _c["SC_BY_THREAD"],
    "cgroup": _c["SC_BY_CGROUP"],
    "comm": _c["SC_BY_COMM"],
}
ID_SHIFT = _c["SC_KEY_ID_SHIFT"]
DIRECT_ROWS = _c["SC_DIRECT_ROWS"]
DIR_USED = 1 << 32  # SC_DIR_USED
_ROW = DIRECT_ROW.packer()
_WORD = (1 << 64) - 1
SLOT_SHIFT = _c["SC_KEY_SLOT_SHIFT"]
ERR_MASK = _c["SC_KEY_ERR_MASK"]

Key = tuple[int, int, int]  # (id, slot, errno)


class KeyedMap:
    """The kernel side of a breakdown: the ``keyed`` and ``key_names`` maps of one object."""

    def __init__(self, bpf: BpfObject, by: str) -> None:
        self.by = by
        self._keyed = bpf.map("keyed")
        self._names = bpf.map("key_names")
        self._cpus = possible_cpus()
        # The direct rows are read (and freed) through mappings: no system call per row.
        self._dir = bpf.mmap("key_dir", writable=True)
        self._rows = bpf.mmap("key_rows", writable=True)

    def read(self) -> dict[Key, int]:
        """(id, slot, errno) → calls since load: the direct rows plus the per-CPU hash."""
        counts = self._read_direct()
        for key, value in self._keyed.items(8, 8 * self._cpus):
            (word,) = struct.unpack("Q", key)
            ident, slot, err = unpack_key(word)
            total = sum(struct.unpack(f"{self._cpus}Q", value))
            counts[(ident, slot, err)] = counts.get((ident, slot, err), 0) + total
        return counts

    def _owners(self) -> list[tuple[int, int]]:
        """(row index, id) of every owned direct row."""
        owners = struct.unpack_from(f"{len(self._dir) // 8}Q", self._dir, 0)
        return [(index, owner & (DIR_USED - 1)) for index, owner in enumerate(owners) if owner]

    def _read_direct(self) -> dict[Key, int]:
        counts: dict[Key, int] = {}
        for index, ident in self._owners():
            base = index * _ROW.size
            for slot, calls in _nonzero_words(self._rows[base : base + _ROW.size]):
                counts[(ident, slot, 0)] = calls
        return counts

    def names(self) -> dict[int, str]:
        return {
            # Undecodable bytes kept (surrogateescape): the sinks escape them, never guess.
            struct.unpack("Q", key)[0]: decode_name(value.split(b"\0", 1)[0])
            for key, value in self._names.items(8, COMM_LEN)
        }

    def forget(self, keys: list[Key], ids: set[int]) -> None:
        """Drop the keys and rows of ids that are gone (their last values already read)."""
        for key in keys:
            self._keyed.delete(struct.pack("Q", pack_key(*key)))
        for index, ident in self._owners():
            if ident in ids:
                # Zero the row before freeing it: once free, a new id may claim it at once.
                self._rows[index * _ROW.size : (index + 1) * _ROW.size] = bytes(_ROW.size)
                struct.pack_into("Q", self._dir, index * 8, 0)
        for ident in ids:
            self._names.delete(struct.pack("Q", ident))


def _nonzero_words(row: bytes) -> Iterator[tuple[int, int]]:
    """(index, value) of the non-zero 64-bit words of ``row``.

    A direct row has a slot for every syscall and a process uses a few: as one big
    integer, each step jumps to the next set bit, instead of visiting ~1000 zeros in Python."""
    rest = int.from_bytes(row, "little")
    index = 0
    while rest:
        skip = ((rest & -rest).bit_length() - 1) // 64
        rest >>= 64 * skip
        index += skip
        yield index, rest & _WORD
        rest >>= 64
        index += 1


def unpack_key(word: int) -> Key:
    """(id, slot, errno) from a key word (keyed.h)."""
    return word >> ID_SHIFT, (word >> SLOT_SHIFT) & ((1 << (ID_SHIFT - SLOT_SHIFT)) - 1), word & ERR_MASK


def pack_key(ident: int, slot: int, err: int) -> int:
    return ident << ID_SHIFT | slot << SLOT_SHIFT | err


def size_keyed_maps(bpf: BpfObject, by: str | None, max_rows: int) -> None:
    """Before load: without a breakdown the maps stay tiny; with one, ``max_rows`` keys."""
    if by is None:
        for name in ("keyed", "key_names", "key_dir", "key_rows"):
            bpf.shrink_map(name)
    elif max_rows:
        bpf.resize_map("keyed", max_rows)
        bpf.resize_map("key_names", max_rows)
        # Rows whose index is past the end are simply absent: those ids use the hash.
        bpf.resize_map("key_dir", min(max_rows, DIRECT_ROWS))
        bpf.resize_map("key_rows", min(max_rows, DIRECT_ROWS))
