/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Layout shared by latency.bpf.c and syscount/programs/latency.py (structs mirrored in
 * syscount/kernel/structs.py, checked against the object by a test).
 */
#ifndef SYSCOUNT_LATENCY_H
#define SYSCOUNT_LATENCY_H

#include "track.h"
#include "keyed.h"

/* log2 buckets of nanoseconds: bucket k holds 2^k <= d < 2^(k+1) (bucket 0: d < 2);
 * the last bucket also holds everything longer (>= 2^31 ns, 2.1 s). */
#define SC_HIST_BUCKETS 32
/* Distinct (syscall, errno) pairs counted apart; beyond it, errors still count per
 * syscall and the overflow is reported. */
#define SC_MAX_ERRNO_KEYS 8192

/* One syscall's figures on one CPU for one interval (PERCPU_ARRAY value). */
struct sc_lat_stats {
	__u64 calls;    /* completed calls, plus calls that never return (exit, exit_group) */
	__u64 total_ns;
	__u64 min_ns;   /* 0 = no timed call yet */
	__u64 max_ns;
	__u64 errors;   /* returned -1..-4095 */
	__u64 hist[SC_HIST_BUCKETS];
};

struct sc_errno_key {
	__u32 slot;
	__u32 err; /* positive errno */
};

/* Per thread (task storage): the call in progress of a thread that was switched out
 * during it. */
struct sc_lat_start {
	__u64 start_ns; /* 0 = nothing being timed */
	__u32 slot;
	__u32 pad;
};

/* Per CPU: the call in progress of the task running there (the fast path). */
struct sc_lat_running {
	__u64 task;     /* task_struct address; 0 = none */
	__u64 start_ns;
	__u32 slot;
	__u32 pad;
};

#define SC_NORETURN_SLOTS 4

struct sc_lat_config {
	struct sc_filter_config filter;
	/* Calls that never return (exit and exit_group of each ABI), as slots: counted at
	 * entry, not timed. Unused entries repeat a used one. */
	__u32 noreturn_slots[SC_NORETURN_SLOTS];
	__u32 breakdown; /* SC_BY_* (keyed.h): rows keyed by who, syscall and errno */
	__u32 pad;
};

/* .bss, one struct (libbpf does not keep declaration order inside a section). */
struct sc_lat_globals {
	__u32 epoch;  /* which stats map the programs write: user space flips it */
	__u32 pad;
	__u64 errno_overflow;                /* (syscall, errno) pairs the map had no room for */
	__u64 untimed;                       /* calls whose start could not be stored */
	__u64 entered[SC_CPU_ROWS];     /* timed calls started, per CPU row (only grows) */
	__u64 completed[SC_CPU_ROWS];   /* timed calls finished, per CPU row (only grows) */
	__u64 keyed_other[SC_SLOTS];    /* breakdown calls the full `keyed` map could not take */
};

#endif
