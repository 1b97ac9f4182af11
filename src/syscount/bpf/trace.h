/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Layout shared by trace.bpf.c and its Python side (syscount/programs/trace.py and
 * syscount/trace/), which read the SC_* constants from this file at run time and
 * mirror the structs (syscount/kernel/structs.py), checked against the object by a test.
 *
 * One event per completed system call: the arguments are captured at entry into
 * per-thread task storage (strings read from user memory then), and the event is
 * queued on the ring buffer at exit with the return value and the duration. Calls
 * that never return (exit, exit_group) are queued at entry.
 */
#ifndef SYSCOUNT_TRACE_H
#define SYSCOUNT_TRACE_H

#include "track.h"

/* Per-syscall settings and events name a call by its slot (common.h). Numbers out of
 * the slots' range (x32, syscall(-1)) share the bank's last slot, which captures no
 * strings. */
#define SC_TRACE_ARGS 6

/* String data: a string may start anywhere below SC_TRACE_STR_AREA and run up to
 * SC_TRACE_STR_MAX bytes past it (the verifier needs both bounds to be constants). */
#define SC_TRACE_STR_AREA 4096
#define SC_TRACE_STR_MAX 4096
#define SC_TRACE_STR_BYTES 8208 /* SC_TRACE_STR_AREA + SC_TRACE_STR_MAX + 16 */
/* Elements of an argv-like array (execve's argv) captured at most. */
#define SC_TRACE_ARGV_MAX 64

/* Per-slot call flags (sc_trace_config.calls) */
#define SC_CALL_NORETURN 1 /* exit, exit_group: queued at entry */
#define SC_CALL_EXEC 2     /* execve, execveat: after success, the caller's memory is gone */

/* event flags */
#define SC_EVENT_NORETURN 1  /* exit/exit_group: queued at entry, no ret, no duration */
#define SC_EVENT_STR_FAULT 2 /* a string could not be read at entry; read again at exit */

/* One string in the event's string data: this header, then `len` bytes, no NUL.
 * Strings follow each other unaligned, in argument order. */
struct sc_trace_str {
	__u8 arg;   /* argument index 0..5 */
	__u8 flags; /* SC_STR_* */
	__u16 len;
};

#define SC_STR_TRUNCATED 1 /* longer than the limit (or the space left): `len` bytes shown */
#define SC_STR_FAULT 2     /* could not be read (bad or unmapped address): len 0 */
#define SC_STR_ELEMENT 4   /* an element of an array argument (argv), in order */
#define SC_STR_MORE 8      /* the array goes on: more elements than captured (len 0) */

/* What the ring buffer carries: this header, then `str_bytes` of string data. */
struct sc_trace_event {
	__u64 start_ns;    /* bpf_ktime_get_ns() at entry (CLOCK_MONOTONIC) */
	__u64 duration_ns; /* entry to exit; 0 with SC_EVENT_NORETURN */
	__s64 ret;
	__u64 args[SC_TRACE_ARGS];
	__u32 pid; /* process (tgid) */
	__u32 tid; /* thread, at exit (a non-leader's execve takes the leader's id) */
	__u32 slot; /* the call: sc_slot() of its ABI and number (common.h) */
	__u16 flags;
	__u16 str_bytes;
	char comm[SC_COMM_LEN];   /* at exit: after an execve, the new program's */
};

/* Per thread (task storage): the call in progress, laid out as it will be queued. */
struct sc_trace_task {
	struct sc_trace_event ev; /* ev.start_ns == 0: no call in progress */
	char str[SC_TRACE_STR_BYTES];
};

/* Set before load (.rodata). */
struct sc_trace_config {
	struct sc_filter_config filter;
	__u32 str_max;  /* longest string kept, in bytes (--strings), <= SC_TRACE_STR_MAX */
	__u32 argv_max; /* array elements kept, <= SC_TRACE_ARGV_MAX */
	/* Per slot: bit i set = argument i is a string (a path, a name) ... */
	__u8 str_args[SC_SLOTS];
	/* ... or an array of strings ending in NULL (execve's argv). */
	__u8 argv_args[SC_SLOTS];
	__u8 calls[SC_SLOTS]; /* SC_CALL_* */
};

/* One CPU's counters, a cache line apart so CPUs never share a line. Only grow. */
struct sc_trace_cpu {
	__u64 calls; /* events due: completed (and never-returning) selected calls */
	__u64 lost;  /* of those, events the ring buffer had no room for */
	__u64 no_storage; /* of the lost: calls whose arguments could not be kept */
	__u64 pad[5];
};

/* The only .bss variable. */
struct sc_trace_counters {
	struct sc_trace_cpu cpu[SC_CPU_ROWS]; /* per-CPU rows (common.h) */
};

#endif
