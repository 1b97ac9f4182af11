"""trace.bpf.o (``syscount trace``): loads it and hands out its ring buffer.

It configures the program (filters, which arguments the kernel copies and how, limits),
sizes the ring buffer, attaches, and then gives the raw ring buffer contents to the
caller in batches (``peek``/``release``) together with the kernel's counters: events
due (``calls``) and events the ring had no room for (``lost``), per CPU. It never
decodes or formats: the trace package does (syscount/trace/).
"""

from __future__ import annotations

import struct
import time
from collections.abc import Mapping
from typing import NamedTuple

from ..errors import UsageError
from ..filters import Filters
from ..kernel.layout import header_constants
from ..kernel.maps import possible_cpus
from ..kernel.objects import BpfObject, ObjectOwner
from ..kernel.ringbuf import RingBuffer, valid_size
from ..kernel.structs import CPU_ROWS, SLOTS, TRACE_CAP, TRACE_CONFIG, TRACE_COUNTERS, TRACE_CPU
from ..names.syscalls import NO_RETURN, SyscallTable, slot_of, slots_named
from ..trace.captures import ARGV, FILE_RESULTS, STR, capture_of
from ..trace.kinds import Kind, kinds
from ..trace.record import TraceConstants
from ..trace.signatures import Signature

STEM = "trace"
RING = "events"
# Programs still running when they are detached finish within microseconds
# (preemption is off); this is a wide margin before the final drain and count.
DETACH_SETTLE_S = 0.01
_CPU_ROW = TRACE_CPU.packer()  # calls, lost, no_storage, pad[5]
EXEC = ("execve", "execveat")  # after success, the caller's memory is gone


NR_SLOTS = header_constants("common.h")["SC_NR_SLOTS"]  # slots below this are the native ABI's
_CAP = TRACE_CAP.packer()
NO_CAP = _CAP.pack(0, 0, 0)


class TraceOptions(NamedTuple):
    buffer_size: int = 16 << 20  # bytes; a power of two >= the page size
    str_max: int = 256  # bytes kept of each string argument
    argv_max: int = 32  # elements kept of an argv-like array
    data_max: int = 32  # bytes kept of a data buffer (-s, as strace)


class Counters(NamedTuple):
    """The kernel's counters since load (they only grow)."""

    calls: int  # events due
    lost: int  # events the ring buffer had no room for (or whose arguments had no storage)
    no_storage: int
    lost_by_cpu: dict[int, int]


def trace_config(
    filters: Filters,
    signatures: Mapping[int, Signature],
    tables: list[SyscallTable],
    options: TraceOptions,
    constants: TraceConstants,
) -> bytes:
    """``struct sc_trace_config`` (trace.h): the filter, then this program's settings.

    ``signatures`` is keyed by slot, as events are."""
    calls = bytearray(SLOTS)
    caps = [NO_CAP] * (SLOTS * constants.args)
    exec_slots = slots_named(tables, EXEC)
    for slot, signature in signatures.items():
        slot_caps = arg_captures(signature, native=slot < NR_SLOTS)
        for index, packed in slot_caps.items():
            caps[slot * constants.args + index] = packed
        if slot_caps and slot not in exec_slots:
            calls[slot] |= constants.call_capture
    for slot in file_result_slots(tables):
        calls[slot] |= constants.call_file | constants.call_capture
    for slot in noreturn_slots(tables):
        calls[slot] |= constants.call_noreturn
    for slot in exec_slots:
        calls[slot] |= constants.call_exec
    # Wake the consumer early when an eighth of the ring is waiting; it drains on a timer otherwise.
    settings = struct.pack("=IIII", options.str_max, options.argv_max, options.data_max, options.buffer_size // 8)
    return TRACE_CONFIG.join(filters.config(), settings, bytes(calls), b"".join(caps))


def arg_captures(signature: Signature, *, native: bool) -> dict[int, bytes]:
    """Argument index → its packed ``struct sc_trace_cap``, for the arguments the kernel reads.

    Paths and argv in every ABI; buffers and structs only in the native one (the compat
    ABI's structs have other layouts)."""
    names = [arg.name for arg in signature.args]
    found: dict[int, bytes] = {}
    for index, kind in enumerate(kinds(signature)):
        if kind is Kind.STRING:
            found[index] = _CAP.pack(STR, 0, 0)
        elif kind is Kind.ARGV:
            found[index] = _CAP.pack(ARGV, 0, 0)
        elif kind is Kind.CAPTURED and native:
            capture = capture_of(signature.name, names[index])
            if capture is None:
                continue
            length = names.index(capture.len_arg) if capture.len_arg in names else 0
            found[index] = _CAP.pack(capture.how, length, capture.size)
    return found


def file_result_slots(tables: list[SyscallTable]) -> list[int]:
    """The slots of the calls whose new descriptor the exit describes, in the ABIs that have them."""
    found = []
    for bank, table in enumerate(tables):
        for name in sorted(FILE_RESULTS):
            number = table.number(name)
            slot = slot_of(bank, number) if number is not None else None
            if slot is not None:
                found.append(slot)
    return found


def noreturn_slots(tables: list[SyscallTable]) -> frozenset[int]:
    """The slots of the calls that never return (queued at entry, with no result)."""
    return frozenset(slots_named(tables, NO_RETURN))


def check_options(options: TraceOptions, constants: TraceConstants) -> None:
    if not valid_size(options.buffer_size):
        raise UsageError(f"--buffer-size {options.buffer_size}: must be a power of two of at least 4 KiB")
    if not 1 <= options.str_max <= constants.str_max:
        raise UsageError(f"--strings {options.str_max}: must be 1..{constants.str_max}")
    if not 0 <= options.argv_max <= constants.argv_max:
        raise UsageError(f"--argv {options.argv_max}: must be 0..{constants.argv_max}")
    if not 0 <= options.data_max <= constants.data_max:
        raise UsageError(f"-s {options.data_max}: must be 0..{constants.data_max} (bytes of data shown)")


class TraceProgram(ObjectOwner):
    """Context manager: attached on enter, detached and unmapped on exit."""

    def __init__(
        self,
        filters: Filters,
        signatures: Mapping[int, Signature],
        tables: list[SyscallTable],
        options: TraceOptions,
    ) -> None:
        super().__init__(STEM)
        self.constants = TraceConstants.from_header()
        check_options(options, self.constants)
        self.filters = filters
        self.signatures = signatures
        self.tables = tables
        self.options = options
        self.ring: RingBuffer | None = None

    def setup(self, bpf: BpfObject) -> None:
        bpf.configure(trace_config(self.filters, self.signatures, self.tables, self.options, self.constants))
        self.filters.before_load(bpf)
        bpf.resize_map(RING, self.options.buffer_size)
        bpf.load()
        self.filters.after_load(bpf)
        cpus = possible_cpus()
        shared = CPU_ROWS - 1  # common.h: CPUs beyond the others share the last row
        self._rows = [*range(min(cpus, shared)), *([shared] if cpus > shared else [])]
        self._counters = bpf.mmap(".bss")
        self.ring = RingBuffer(bpf.map_fd(RING), self.options.buffer_size).__enter__()
        # exit and switch first: no call is entered without its exit (and its moves) watched
        bpf.attach("trace_exit")
        bpf.attach("trace_switch")
        bpf.attach("trace_enter")

    def close(self) -> None:
        if self.ring is not None:
            self.ring.close()
            self.ring = None
        super().close()

    def detach(self) -> None:
        """Stop tracing; what is queued stays readable. Returns once running programs are done."""
        self._object.detach_all()
        time.sleep(DETACH_SETTLE_S)

    def peek(self, limit: int) -> bytes:
        assert self.ring is not None
        return self.ring.peek(limit)

    def release(self, consumed: int) -> None:
        assert self.ring is not None
        self.ring.advance(consumed)

    def pending(self) -> int:
        assert self.ring is not None
        return self.ring.pending()

    def wakeup_fd(self) -> int:
        """Readable when the kernel wakes the consumer: when the ring holds an eighth of its
        size (the producers wake it only then; level-triggered, so wait on it only when empty)."""
        assert self.ring is not None
        return self.ring.fd

    def counters(self) -> Counters:
        base = TRACE_COUNTERS.offset("cpu")
        rows = {row: _CPU_ROW.unpack_from(self._counters, base + row * _CPU_ROW.size) for row in self._rows}
        return Counters(
            calls=sum(values[0] for values in rows.values()),
            lost=sum(values[1] for values in rows.values()),
            no_storage=sum(values[2] for values in rows.values()),
            lost_by_cpu={row: values[1] for row, values in rows.items()},
        )
