/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Layout shared by counts.bpf.c and syscount/programs/counts.py (the structs are
 * mirrored in syscount/kernel/structs.py, checked against the object by a test).
 */
#ifndef SYSCOUNT_COUNTS_H
#define SYSCOUNT_COUNTS_H

#include "track.h"
#include "keyed.h"


/* Set before load (const volatile, .rodata); all globals live in one struct because
 * libbpf does not keep declaration order inside a data section. */
struct sc_config {
	struct sc_filter_config filter;
	__u32 breakdown; /* SC_BY_* (keyed.h) */
	__u32 pad;
};

/* The only .bss variable. Counters only ever grow: user space takes deltas. */
struct sc_counters {
	__u64 keyed_other[SC_SLOTS];       /* breakdown calls the full `keyed` map could not take */
	__u64 cpu[SC_CPU_ROWS][SC_SLOTS];  /* per-CPU rows (common.h) */
};

#endif
