/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Layout shared by counts.bpf.c and its Python collector
 * (syscount/collectors/counts.py reads the SC_* constants from this file at run time,
 * so this header is the single definition of the layout).
 */
#ifndef SYSCOUNT_COUNTS_H
#define SYSCOUNT_COUNTS_H

#include "track.h"
#include "keyed.h"

/* Rows of per-CPU counters compiled in; CPUs beyond this share one atomic row. */
#define SC_MAX_CPUS 128
/* Syscall numbers 0..SC_NR_SLOTS-2 get their own slot; anything else (x32, -1, ...)
 * lands in the last slot so that totals never drop. */
#define SC_NR_SLOTS 512
#define SC_SLOT_OTHER (SC_NR_SLOTS - 1)
/* ABI banks: 0 = the machine's native ABI. Later ABIs (ia32 compat) get bank 1. */
#define SC_ABIS 2
#define SC_ROW_SLOTS (SC_ABIS * SC_NR_SLOTS)

/* Set before load (const volatile, .rodata); all globals live in one struct because
 * libbpf does not keep declaration order inside a data section. */
struct sc_config {
	struct sc_filter_config filter;
	__u32 breakdown; /* SC_BY_* (keyed.h) */
	__u32 pad;
};

/* The only .bss variable. Counters only ever grow: user space takes deltas. */
struct sc_counters {
	__u64 keyed_other[SC_ROW_SLOTS];        /* breakdown calls the full `keyed` map could not take */
	__u64 shared[SC_ROW_SLOTS];             /* atomic row for cpu >= SC_MAX_CPUS */
	__u64 cpu[SC_MAX_CPUS][SC_ROW_SLOTS];   /* plain increments: one writer per row */
};

#endif
