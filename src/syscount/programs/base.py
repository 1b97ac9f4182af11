"""What every syscall-counting program shares: loading its object with the user's
filters and, optionally, a breakdown (keyed.h); detaching; naming its slots."""

from __future__ import annotations

from ..filters import Filters
from ..kernel.objects import BpfObject, ObjectOwner
from ..names.syscalls import abi_tables, slot_name
from .keyed import BREAKDOWNS, EXIT_PROGRAM, PER_TASK, KeyedMap, size_keyed_maps


class SyscallProgram(ObjectOwner):
    def __init__(self, stem: str, filters: Filters, breakdown: str | None, max_rows: int) -> None:
        super().__init__(stem)
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
        per_task = self.breakdown in PER_TASK
        bpf.set_autoload(EXIT_PROGRAM, per_task)
        bpf.load()
        self.filters.after_load(bpf)
        if self.breakdown:
            self.keyed = KeyedMap(bpf, self.breakdown)
        if per_task:
            bpf.attach(EXIT_PROGRAM)  # before counting starts: no exit of an id with rows is missed

    def detach(self) -> None:
        """Stop the programs; the maps stay readable for the final read."""
        self._object.detach_all()

    def name(self, slot: int) -> str:
        """The syscall a slot (bpf/common.h) counts."""
        return slot_name(self.tables, slot)

    def untracked_forks(self) -> int | None:
        """Children of followed processes whose id is past the filter (only grows); None without -p/COMMAND."""
        processes = self.filters.processes
        return processes.untracked_forks() if processes is not None else None
