"""BPF maps by file descriptor: the reads and writes the programs' readers need.

Only the kernel layer touches libbpf; the programs reach maps through these calls,
which hide the C conventions (buffers, per-CPU value sizes, errno on failure).
"""

from __future__ import annotations

import contextlib
from functools import cache

from . import libbpf as _libbpf


@cache
def possible_cpus() -> int:
    """CPUs the kernel may bring online: the number of values a per-CPU map holds."""
    return _libbpf.num_possible_cpus()


class BpfMap:
    """One map of a loaded object (``BpfObject.map``)."""

    def __init__(self, fd: int, name: str) -> None:
        self.fd = fd
        self.name = name

    def items(self, key_size: int, value_size: int) -> list[tuple[bytes, bytes]]:
        """Every (key, value) of a hash map; entries that vanish meanwhile are skipped."""
        return _libbpf.map_items(self.fd, key_size, value_size)

    def read_hash(self, key_size: int, value_size: int, capacity: int) -> tuple[bytes, bytes]:
        """Every entry of a hash map, in batches: (packed keys, packed values)."""
        return _libbpf.hash_read_all(self.fd, key_size, value_size, capacity)

    def take_hash(self, key_size: int, value_size: int, capacity: int) -> tuple[bytes, bytes]:
        """Like ``read_hash``, removing each entry as it is read (a queue drained at once)."""
        return _libbpf.hash_read_all(self.fd, key_size, value_size, capacity, delete=True)

    def delete_many(self, keys: bytes, key_size: int) -> None:
        """Remove the packed ``keys`` in batches; ones already gone are not an error."""
        if keys:
            _libbpf.hash_delete_all(self.fd, keys, key_size)

    def update(self, key: bytes, value: bytes) -> None:
        _libbpf.map_update(self.fd, key, value)

    def delete(self, key: bytes) -> None:
        """Remove ``key``; one already gone is not an error."""
        with contextlib.suppress(OSError):
            _libbpf.map_delete(self.fd, key)

    def read_array(self, entries: int, value_bytes: int) -> bytes:
        """Every value of an array map in one system call (per-CPU: all CPUs' values)."""
        return _libbpf.array_read_all(self.fd, entries, value_bytes)

    def write_array(self, entries: int, data: bytes) -> None:
        """Overwrite every value of an array map in one system call."""
        _libbpf.array_write_all(self.fd, entries, data)
