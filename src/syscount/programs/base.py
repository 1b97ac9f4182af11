"""What every syscall collector shares: loading its object with the user's filters and,
optionally, a breakdown (keyed.h)."""

from __future__ import annotations

from ..filters import Filters
from ..kernel.objects import BpfObject, ObjectOwner
from ..names.syscalls import abi_tables, slot_name
from .keyed import BREAKDOWNS, KeyedMap, size_keyed_maps


class SyscallCollector(ObjectOwner):
    def __init__(self, stem: str, filters: Filters, breakdown: str | None, max_rows: int, nr_slots: int) -> None:
        super().__init__(stem)
        self._nr_slots = nr_slots  # slots per ABI bank in the program's counters
        self.filters = filters
        self.breakdown = breakdown
        self.max_rows = max_rows  # 0: as compiled (keyed.h)
        self.breakdown_code = BREAKDOWNS[breakdown]  # SC_BY_*, for the program's config
        self.keyed: KeyedMap | None = None
        self.tables = abi_tables()

    def load_with(self, bpf: BpfObject, config: bytes) -> None:
        """Configure (``config`` starts with the filter's part), share and size the maps,
        load, then fill what can only be filled after load."""
        bpf.configure(config)
        self.filters.before_load(bpf)
        size_keyed_maps(bpf, self.breakdown, self.max_rows)
        bpf.load()
        self.filters.after_load(bpf)
        if self.breakdown:
            self.keyed = KeyedMap(bpf, self.breakdown)

    def detach(self) -> None:
        """Stop the programs; the maps stay readable for the final read."""
        self._object.detach_all()

    def name(self, slot: int) -> str:
        """Syscall name for a flat slot index (bank * nr_slots + nr)."""
        return slot_name(self.tables, self._nr_slots, slot)
