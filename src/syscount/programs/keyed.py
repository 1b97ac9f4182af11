"""The kernel side of a breakdown: the ``keyed``, ``key_names`` and ``exited`` maps,
the direct rows, and the ``ended_rows`` ring of rows the kernel handed over (keyed.h).

Kept apart from breakdown.py (the user-space bookkeeping) because the programs import
it before attaching, when every millisecond of import counts. Hash maps are read and
emptied in batches and the direct rows through mappings, so a reading costs a few
system calls however many processes there are.
"""

from __future__ import annotations

import mmap
import operator
import struct
from array import array
from collections.abc import Iterable, Iterator, Mapping

from ..kernel.layout import header_constants
from ..kernel.maps import possible_cpus
from ..kernel.objects import BpfObject
from ..kernel.ringbuf import BUSY_BIT, DISCARD_BIT, HEADER_FORMAT, record_size
from ..kernel.structs import COMM_LEN, DIRECT_ROW, ENDED_ROW, SLOTS
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
DIR_USED = 1 << 32  # SC_DIR_USED (a row being freed by the kernel, SC_DIR_FREEING, has not this bit)
_ROW = DIRECT_ROW.packer()
_USED = struct.Struct(f"={SLOTS // 64}Q")  # sc_direct_row.used, at its start
_CALL = struct.Struct("=Q")
_CALLS_AT = DIRECT_ROW.offset("calls")
_COMM_AT = DIRECT_ROW.offset("comm")
SLOT_SHIFT = _c["SC_KEY_SLOT_SHIFT"]
ERR_MASK = _c["SC_KEY_ERR_MASK"]
_SLOT_MASK = (1 << (ID_SHIFT - SLOT_SHIFT)) - 1
_NAME = struct.Struct(f"{COMM_LEN}s")
_ZERO_CALLS_SIZE = 8 * SLOTS
_ZERO_CALLS = bytes(_ZERO_CALLS_SIZE)
_ZERO_USED = bytes(_USED.size)
_DECODED_KEPT = 4096  # distinct names decoded and remembered; forgotten all at once beyond
# A ring record (header, then struct sc_ended): every record is one of these, so the
# ring is read a stride at a time.
_ENDED = struct.Struct("=" + HEADER_FORMAT + ENDED_ROW.format)
_ENDED_STRIDE = record_size(ENDED_ROW.size)
assert _ENDED.size == _ENDED_STRIDE
_SLOT_AT = 5  # in an unpacked record: length, page offset, id, comm, slots, then slot[]
_CALLS_AT_RECORD = _SLOT_AT + _c["SC_ENDED_SLOTS"]

Key = tuple[int, int, int]  # (id, slot, errno)
# An ended id's final row as the kernel handed it over: (id, name or None if the kernel
# had none, used slots, their calls since the row was claimed).
Final = tuple[int, str | None, tuple[int, ...], tuple[int, ...]]

# Breakdowns whose ids are processes or threads: they end, and the kernel says when.
PER_TASK = ("process", "thread")
EXIT_PROGRAM = "keyed_exit"  # counts.bpf.c, latency.bpf.c: fills `ended_rows` and `exited`


class KeyedMap:
    """The kernel side of a breakdown: the ``keyed`` and ``key_names`` maps of one object."""

    def __init__(self, bpf: BpfObject, by: str) -> None:
        self.by = by
        self._keyed = bpf.map("keyed")
        self._names = bpf.map("key_names")
        self._exited = bpf.map("exited")
        self._hashed = bpf.map("key_hashed")
        self._hash_keys = array("Q")
        self._decoded: dict[bytes, str] = {}  # a recorded name (as the kernel holds it) -> text
        self._row_names: dict[int, tuple[bytes]] = {}  # the names in the direct rows as last read
        self._capacity = {name: bpf.max_entries(name) for name in ("keyed", "key_names", "exited")}
        self._cpus = possible_cpus()
        # The direct rows are read (and freed) through mappings: no system call per row.
        self._dir = bpf.mmap("key_dir", writable=True)
        self._rows = bpf.mmap("key_rows", writable=True)
        self._ended = bpf.ring("ended_rows") if by in PER_TASK else None

    def read(self) -> dict[Key, int]:
        """(id, slot, errno) → calls since load: the direct rows plus the per-CPU hash."""
        counts = self._read_direct()
        keys, values = self._keyed.read_hash(8, 8 * self._cpus, self._capacity["keyed"])
        per_cpu = array("Q", values)
        self._hash_keys = array("Q", keys)  # what forget() may delete from the hash
        cpus = self._cpus
        totals: Iterable[int] = per_cpu[0::cpus]
        for cpu in range(1, cpus):  # summed across CPUs a column at a time, not key by key
            totals = map(operator.add, totals, per_cpu[cpu::cpus])
        for word, total in zip(self._hash_keys, totals, strict=True):
            key = (word >> ID_SHIFT, (word >> SLOT_SHIFT) & _SLOT_MASK, word & ERR_MASK)
            counts[key] = counts.get(key, 0) + total
        return counts

    def exited(self) -> set[int]:
        """Ids with rows that ended since the last call (-P, --by-thread); each is told once."""
        keys, _ = self._exited.take_hash(8, 1, self._capacity["exited"])
        return set(array("Q", keys))

    def finals(self) -> list[Final]:
        """The rows the kernel handed over as their id ended (-P, --by-thread), oldest
        first, each told once; the kernel has freed them (and their names)."""
        if self._ended is None:
            return []
        span = self._ended.peek(self._ended.size)
        found: list[Final] = []
        consumed = 0
        decoded = self._decoded
        for record in _ENDED.iter_unpack(memoryview(span)[: len(span) - len(span) % _ENDED_STRIDE]):
            if record[0] & BUSY_BIT:  # still being written: this reading stops here
                break
            consumed += _ENDED_STRIDE
            if record[0] & DISCARD_BIT:
                continue
            raw, used = record[3], record[4]
            name = decoded.get(raw) or decode_recorded(raw, decoded)
            found.append(
                (
                    record[2],
                    name or None,
                    record[_SLOT_AT : _SLOT_AT + used],
                    record[_CALLS_AT_RECORD : _CALLS_AT_RECORD + used],
                )
            )
        self._ended.advance(consumed)
        return found

    def _owners(self, owners: array[int] | None = None) -> list[tuple[int, int]]:
        """(row index, id) of every owned direct row."""
        owners = array("Q", self._dir[:]) if owners is None else owners
        return [(index, owner & (DIR_USED - 1)) for index, owner in enumerate(owners) if owner & DIR_USED]

    def _read_direct(self) -> dict[Key, int]:
        """The owned rows' used slots: rows are sparse. Every owned row, every reading:
        the loop over set bits stays inline (no generator per row).

        The kernel frees a row when its id ends (sc_hand_over): a row whose owner
        changed while it was read is left out (its final values come in the ring, or
        it is read next time)."""
        counts: dict[Key, int] = {}
        names: dict[int, tuple[bytes]] = {}
        rows, unpack_call = self._rows, _CALL.unpack_from
        before = array("Q", self._dir[:])
        for index, ident in self._owners(before):
            base = index * _ROW.size
            calls = base + _CALLS_AT
            names[ident] = (rows[base + _COMM_AT : base + _COMM_AT + COMM_LEN],)
            for word, used in enumerate(_USED.unpack_from(rows, base)):
                bits = used
                while bits:
                    low = bits & -bits
                    slot = word * 64 + low.bit_length() - 1
                    (counts[(ident, slot, 0)],) = unpack_call(rows, calls + 8 * slot)
                    bits ^= low
        after = array("Q", self._dir[:])
        if after != before:
            moved = {
                owner & (DIR_USED - 1)
                for owner, now in zip(before, after, strict=True)
                if owner != now and owner & DIR_USED
            }
            for key in [key for key in counts if key[0] in moved]:
                del counts[key]
        self._row_names = names
        return counts

    def _zero_row(self, base: int) -> None:
        """Zero the counters, then the bitmap. All the counters in one copy: under churn
        a thousand rows a reading are freed, and one 8 KB copy costs less than
        finding and zeroing the few used slots one by one in Python."""
        calls = base + _CALLS_AT
        self._rows[calls : calls + _ZERO_CALLS_SIZE] = _ZERO_CALLS
        self._rows[base : base + _USED.size] = _ZERO_USED

    def names(self) -> Mapping[int, str]:
        """Each id's name as the kernel recorded it, decoded when asked for (most are not:
        a reading names only the rows that changed)."""
        keys, values = self._names.read_hash(8, COMM_LEN, self._capacity["key_names"])
        if len(self._decoded) > _DECODED_KEPT:
            self._decoded.clear()
        recorded = dict(zip(array("Q", keys), _NAME.iter_unpack(values), strict=True))
        # An id whose name the kernel deleted since its row was read (it ended, and its
        # row was handed over): named from the row.
        return RecordedNames(self._row_names | recorded, self._decoded)

    def forget(self, ids: set[int]) -> None:
        """Drop the keys and rows of ids that are gone (their last values already read)."""
        gone = array("Q", [word for word in self._hash_keys if word >> ID_SHIFT in ids])
        self._keyed.delete_many(gone.tobytes(), 8)
        # Only ids with hash keys are marked (deleting absent keys costs a call each).
        hashed = sorted({word >> ID_SHIFT for word in gone})
        if hashed:
            self._hashed.delete_many(array("Q", hashed).tobytes(), 8)
        for index, ident in self._owners():
            if ident in ids:
                # Zero the row before freeing it: once free, a new id may claim it at once.
                self._zero_row(index * _ROW.size)
                struct.pack_into("Q", self._dir, index * 8, 0)
        self._names.delete_many(array("Q", sorted(ids)).tobytes(), 8)


class RecordedNames(Mapping[int, str]):
    """The ``key_names`` map as read: id -> name, each decoded on first use."""

    def __init__(self, raw: dict[int, tuple[bytes]], decoded: dict[bytes, str]) -> None:
        self._raw = raw
        self._decoded = decoded  # shared across readings: many processes share a name

    def __getitem__(self, ident: int) -> str:
        (raw,) = self._raw[ident]
        name = self._decoded.get(raw)
        return name if name is not None else decode_recorded(raw, self._decoded)

    def get(self, ident: int, default: str | None = None) -> str | None:  # type: ignore[override]
        """As ``Mapping.get``, without its exception handling: thousands of calls a reading."""
        found = self._raw.get(ident)
        if found is None:
            return default
        name = self._decoded.get(found[0])
        return name if name is not None else self[ident]

    def __iter__(self) -> Iterator[int]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


def decode_recorded(raw: bytes, decoded: dict[bytes, str]) -> str:
    """A name as the kernel recorded it (NUL-padded), decoded and remembered in ``decoded``."""
    # Undecodable bytes kept (surrogateescape): the sinks escape them, never guess.
    name = decoded[raw] = decode_name(raw.split(b"\0", 1)[0])
    return name


def size_keyed_maps(bpf: BpfObject, by: str | None, max_rows: int) -> None:
    """Before load: without a breakdown the maps stay tiny; with one, ``max_rows`` keys."""
    if by not in PER_TASK:
        bpf.resize_map("ended_rows", mmap.PAGESIZE)  # a ring's smallest size
        bpf.shrink_map("key_hashed")
    if by is None:
        for name in ("keyed", "key_names", "key_dir", "key_rows", "exited"):
            bpf.shrink_map(name)
        return
    rows = max_rows or bpf.max_entries("keyed")
    direct = min(rows, DIRECT_ROWS)
    if max_rows:
        bpf.resize_map("keyed", rows)
        # Rows whose index is past the end are simply absent: those ids use the hash.
        bpf.resize_map("key_dir", direct)
        bpf.resize_map("key_rows", direct)
    # Every id with rows (in the hash or a direct row) has a name, and may end.
    bpf.resize_map("key_names", rows + direct)
    bpf.resize_map("exited", rows + direct if by in PER_TASK else 1)
    if by in PER_TASK:
        bpf.resize_map("key_hashed", rows)  # one per id with hash keys: at most one per key
