"""Python's one view of every struct the BPF programs share with user space.

Each mirror is declared once here, sized by the headers' own constants, and checked
member by member against the BTF of the compiled objects (tests/unit/test_layout.py):
a header change that is not mirrored here fails that test instead of shifting a read.
"""

from __future__ import annotations

from .layout import CStruct, header_constants

COMMON = header_constants("common.h")
SLOTS = COMMON["SC_SLOTS"]
CPU_ROWS = COMMON["SC_CPU_ROWS"]
COMM_LEN = COMMON["SC_COMM_LEN"]

# track.h
FILTER_CONFIG = CStruct(
    "sc_filter_config",
    [
        ("by_pid", "u8", 1),
        ("by_comm", "u8", 1),
        ("by_uid", "u8", 1),
        ("by_cgroup", "u8", 1),
        ("by_syscall", "u8", 1),
        ("failed_only", "u8", 1),
        ("pad", "u16", 1),
        ("uid", "u32", 1),
        ("errno_only", "u32", 1),
        ("execve_nr", "u32", 1),
        ("execveat_nr", "u32", 1),
        ("self_tgid", "u32", 1),
        ("comm", "char", COMM_LEN),
        ("syscalls", "u8", SLOTS // 8),
    ],
)
TRACK_STATS = CStruct("sc_track_stats", [("untracked_forks", "u64", 1)])
TRACK_ROW = CStruct("sc_track_row", [("how", "u8", header_constants("track.h")["SC_TRACK_ROW"])])

# counts.h
COUNTS_CONFIG = CStruct("sc_config", [("filter", FILTER_CONFIG, 1), ("breakdown", "u32", 1), ("pad", "u32", 1)])
COUNTERS = CStruct("sc_counters", [("keyed_other", "u64", SLOTS), ("cpu", "u64", CPU_ROWS * SLOTS)])

# keyed.h
DIRECT_ROW = CStruct(
    "sc_direct_row", [("used", "u64", SLOTS // 64), ("comm", "char", COMM_LEN), ("calls", "u64", SLOTS)]
)
_ENDED_SLOTS = header_constants("keyed.h")["SC_ENDED_SLOTS"]
ENDED_ROW = CStruct(
    "sc_ended",
    [
        ("id", "u64", 1),
        ("comm", "char", COMM_LEN),
        ("slots", "u32", 1),
        ("slot", "u16", _ENDED_SLOTS),
        ("calls", "u64", _ENDED_SLOTS),
    ],
)

# latency.h
_LAT = header_constants("latency.h")
LAT_STATS = CStruct(
    "sc_lat_stats",
    [
        ("calls", "u64", 1),
        ("total_ns", "u64", 1),
        ("min_ns", "u64", 1),
        ("max_ns", "u64", 1),
        ("errors", "u64", 1),
        ("hist", "u64", _LAT["SC_HIST_BUCKETS"]),
    ],
)
ERRNO_KEY = CStruct("sc_errno_key", [("slot", "u32", 1), ("err", "u32", 1)])
LAT_CONFIG = CStruct(
    "sc_lat_config",
    [
        ("filter", FILTER_CONFIG, 1),
        ("noreturn_slots", "u32", _LAT["SC_NORETURN_SLOTS"]),
        ("breakdown", "u32", 1),
        ("pad", "u32", 1),
    ],
)
LAT_GLOBALS = CStruct(
    "sc_lat_globals",
    [
        ("epoch", "u32", 1),
        ("pad", "u32", 1),
        ("errno_overflow", "u64", 1),
        ("untimed", "u64", 1),
        ("entered", "u64", CPU_ROWS),
        ("completed", "u64", CPU_ROWS),
        ("keyed_other", "u64", SLOTS),
    ],
)

# trace.h
_TRACE = header_constants("trace.h")
TRACE_EVENT = CStruct(
    "sc_trace_event",
    [
        ("start_ns", "u64", 1),
        ("duration_ns", "u64", 1),
        ("ret", "s64", 1),
        ("args", "u64", _TRACE["SC_TRACE_ARGS"]),
        ("pid", "u32", 1),
        ("tid", "u32", 1),
        ("slot", "u32", 1),
        ("flags", "u16", 1),
        ("str_bytes", "u16", 1),
        ("comm", "char", COMM_LEN),
    ],
)
TRACE_STR = CStruct("sc_trace_str", [("arg", "u8", 1), ("flags", "u8", 1), ("len", "u16", 1)])
TRACE_CAP = CStruct("sc_trace_cap", [("how", "u8", 1), ("len_arg", "u8", 1), ("size", "u16", 1)])
TRACE_CONFIG = CStruct(
    "sc_trace_config",
    [
        ("filter", FILTER_CONFIG, 1),
        ("str_max", "u32", 1),
        ("argv_max", "u32", 1),
        ("data_max", "u32", 1),
        ("wakeup_bytes", "u32", 1),
        ("calls", "u8", SLOTS),
        ("caps", TRACE_CAP, SLOTS * _TRACE["SC_TRACE_ARGS"]),
    ],
)
TRACE_CPU = CStruct(
    "sc_trace_cpu", [("calls", "u64", 1), ("lost", "u64", 1), ("no_storage", "u64", 1), ("pad", "u64", 5)]
)
TRACE_COUNTERS = CStruct("sc_trace_counters", [("cpu", TRACE_CPU, CPU_ROWS)])

# (stem, mirror): where the unit test finds each struct's BTF.
MIRRORS: tuple[tuple[str, CStruct], ...] = (
    ("counts", FILTER_CONFIG),
    ("counts", COUNTS_CONFIG),
    ("counts", COUNTERS),
    ("counts", DIRECT_ROW),
    ("counts", ENDED_ROW),
    ("latency", ENDED_ROW),
    ("track", TRACK_STATS),
    ("track", TRACK_ROW),
    ("latency", LAT_STATS),
    ("latency", ERRNO_KEY),
    ("latency", LAT_CONFIG),
    ("latency", LAT_GLOBALS),
    ("trace", TRACE_EVENT),
    ("trace", TRACE_STR),
    ("trace", TRACE_CAP),
    ("trace", TRACE_CONFIG),
    ("trace", TRACE_CPU),
    ("trace", TRACE_COUNTERS),
)
