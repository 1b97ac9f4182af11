/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vocabulary every syscount program shares, defined once: how a system call is
 * named by a slot, how per-CPU counters are laid out, and the shared limits.
 * syscount/kernel/layout.py reads the SC_* constants from this file at run time and
 * syscount/kernel/structs.py mirrors the structs; a unit test checks both against
 * the compiled objects.
 */
#ifndef SYSCOUNT_COMMON_H
#define SYSCOUNT_COMMON_H

/* A slot names one system call of one ABI: bank * SC_NR_SLOTS + number. Bank 0 is the
 * native ABI, bank 1 the compat one (abi.h). Numbers 0..SC_NR_SLOTS-2 get their own
 * slot; anything else (x32 calls, syscall(-1)) lands in the bank's last slot, so a
 * call is never dropped, only named "out of range". */
#define SC_NR_SLOTS 512
#define SC_ABIS 2
#define SC_SLOTS 1024 /* SC_ABIS * SC_NR_SLOTS */

#define SC_COMM_LEN 16
#define SC_MAX_ERRNO 4095

/* Per-CPU counters: rows 0..SC_MAX_CPUS-1 belong to one CPU each, and BPF programs on
 * the syscall tracepoints run with preemption disabled, so a row has one writer at a
 * time and a plain `++` is exact. CPUs from SC_MAX_CPUS on share the last row,
 * SC_SHARED_ROW, and add to it atomically. Every per-CPU array has SC_CPU_ROWS rows. */
#define SC_MAX_CPUS 128
#define SC_SHARED_ROW 128 /* SC_MAX_CPUS */
#define SC_CPU_ROWS 129   /* SC_MAX_CPUS + 1 */

#ifdef __bpf__
static __always_inline __u32 sc_slot(__u32 abi, unsigned long id)
{
	return abi * SC_NR_SLOTS + (id < SC_NR_SLOTS - 1 ? id : SC_NR_SLOTS - 1);
}

/* This CPU's row in a per-CPU array of SC_CPU_ROWS rows. */
static __always_inline __u32 sc_cpu_row(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return cpu < SC_MAX_CPUS ? cpu : SC_SHARED_ROW;
}

/* Add one to a counter in row `row` (from sc_cpu_row): plain in a CPU's own row,
 * atomic in the shared one. */
static __always_inline void sc_row_inc(__u64 *counter, __u32 row)
{
	if (row < SC_SHARED_ROW)
		(*counter)++;
	else
		__sync_fetch_and_add(counter, 1);
}
#endif

#endif
