"""The Python mirror of ``struct sc_trace_event`` and ``struct sc_trace_str`` (bpf/trace.h).

Events are unpacked together with the ring buffer's 8-byte record header, so one
``struct.iter_unpack`` walks a run of fixed-size records (no strings) in C. A unit
test checks these formats against the compiled object.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from ..kernel.layout import header_constants
from ..kernel.ringbuf import HEADER_FORMAT
from ..kernel.structs import TRACE_EVENT, TRACE_STR

# struct sc_trace_event: start_ns, duration_ns, ret, args[6], pid, tid, slot, flags, str_bytes, comm
EVENT_FORMAT = TRACE_EVENT.format
EVENT = struct.Struct("=" + EVENT_FORMAT)
EVENT_SIZE = EVENT.size  # 104
# Ring header + event, as one tuple: (len, pgoff, start_ns, ...).
RECORD = struct.Struct("=" + HEADER_FORMAT + EVENT_FORMAT)
RECORD_SIZE = RECORD.size  # 112: header and event are both 8-byte multiples

# Field positions in a RECORD tuple.
LEN, PGOFF, START, DURATION, RET = 0, 1, 2, 3, 4
ARG0 = 5  # args[i] is at ARG0 + i
PID, TID, SLOT, FLAGS, STR_BYTES, COMM = 11, 12, 13, 14, 15, 16
# An event's string data starts RECORD_SIZE into its record; the result starts this far
# before it: from there on is all that rendering the strings depends on (not the times).
STRINGS_KEY_BACK = RECORD_SIZE - struct.calcsize("=" + HEADER_FORMAT + "QQ")

# struct sc_trace_str: arg, flags, len
STR_HEAD = TRACE_STR.packer()


class TraceConstants(NamedTuple):
    """The SC_* values of bpf/trace.h that user space needs."""

    call_noreturn: int
    call_exec: int
    call_capture: int
    call_file: int
    args: int
    str_max: int
    argv_max: int
    data_max: int
    noreturn: int
    str_truncated: int
    str_fault: int
    str_element: int
    str_more: int
    str_file: int

    @classmethod
    def from_header(cls) -> TraceConstants:
        c = header_constants("trace.h")
        return cls(
            call_noreturn=c["SC_CALL_NORETURN"],
            call_exec=c["SC_CALL_EXEC"],
            call_capture=c["SC_CALL_CAPTURE"],
            call_file=c["SC_CALL_FILE"],
            args=c["SC_TRACE_ARGS"],
            str_max=c["SC_TRACE_STR_MAX"],
            argv_max=c["SC_TRACE_ARGV_MAX"],
            data_max=c["SC_TRACE_DATA_MAX"],
            noreturn=c["SC_EVENT_NORETURN"],
            str_truncated=c["SC_STR_TRUNCATED"],
            str_fault=c["SC_STR_FAULT"],
            str_element=c["SC_STR_ELEMENT"],
            str_more=c["SC_STR_MORE"],
            str_file=c["SC_STR_FILE"],
        )
