/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Layout shared by counts.bpf.c and its Python collector
 * (syscount/collectors/counts.py reads the SC_* constants from this file at run time,
 * so this header is the single definition of the layout).
 */
#ifndef SYSCOUNT_COUNTS_H
#define SYSCOUNT_COUNTS_H

/* Rows of per-CPU counters compiled in; CPUs beyond this share one atomic row. */
#define SC_MAX_CPUS 128
/* Syscall numbers 0..SC_NR_SLOTS-2 get their own slot; anything else (x32, -1, ...)
 * lands in the last slot so that totals never drop. */
#define SC_NR_SLOTS 512
#define SC_SLOT_OTHER (SC_NR_SLOTS - 1)
/* ABI banks: 0 = the machine's native ABI. Later ABIs (ia32 compat) get bank 1. */
#define SC_ABIS 2
#define SC_ROW_SLOTS (SC_ABIS * SC_NR_SLOTS)
/* Processes the in-kernel pid filter can hold (-p targets and followed descendants). */
#define SC_MAX_TRACKED 16384

/* Values in the `tracked` map. */
#define SC_TRACK_ONLY 1   /* count this process (-p) */
#define SC_TRACK_FOLLOW 2 /* count it and every process it forks (-- COMMAND) */
#define SC_TRACK_AT_EXEC 3 /* becomes FOLLOW at its next execve/execveat, which is counted */

/* Set before load (const volatile, .rodata); all globals live in one struct because
 * libbpf does not keep declaration order inside a data section. */
struct sc_config {
	__u8 filter_tgid; /* count only processes in `tracked` */
	__u8 pad[3];
	__u32 execve_nr;   /* native numbers of execve and execveat, for SC_TRACK_AT_EXEC */
	__u32 execveat_nr;
	__u32 pad2;
};

/* The only .bss variable. Counters only ever grow: user space takes deltas. */
struct sc_counters {
	__u64 track_failed;                     /* forks we could not follow: map full */
	__u64 pad[7];                           /* keep rows on their own cache lines */
	__u64 shared[SC_ROW_SLOTS];             /* atomic row for cpu >= SC_MAX_CPUS */
	__u64 cpu[SC_MAX_CPUS][SC_ROW_SLOTS];   /* plain increments: one writer per row */
};

#endif
