/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The process filter shared by every syscount program: which processes to count.
 *
 * track.bpf.o owns the `tracked` map and keeps it current (fork, exit); every
 * program that filters (counts.bpf.c, ...) includes this header, declares the same
 * map and gets it replaced by track.bpf.o's before load (bpf_map__reuse_fd).
 *
 * Why one byte per process id in an array: "is this task followed?" is asked on every
 * system call of the machine. A hash lookup there cost ~70 ns a call (2.06x the floor
 * for -- COMMAND); an array lookup is inlined by the verifier, so the question costs a
 * helper call and a byte load. A byte per id (not a bit) needs no atomics: each id's
 * byte has one writer at a time (user space before the process runs, then the kernel
 * at its fork, execve and exit), and a byte store never disturbs its neighbours.
 * User space sizes the array to pid_max and writes it through a mapping.
 * Kept apart because following forks needs kernel BTF (CO-RE), and loading that
 * costs ~15 ms: the unfiltered, system-wide mode never pays it.
 * syscount/filters.py reads the SC_* constants from this file.
 */
#ifndef SYSCOUNT_TRACK_H
#define SYSCOUNT_TRACK_H

#include "common.h"

/* Process ids per element of `tracked`: an element is one row of SC_TRACK_ROW bytes. */
#define SC_TRACK_ROW 64

/* Values of a process id's byte in `tracked`; 0: not counted. */
#define SC_TRACK_ONLY 1    /* count this process (-p) */
#define SC_TRACK_FOLLOW 2  /* count it and every process it forks (-- COMMAND) */
#define SC_TRACK_AT_EXEC 3 /* becomes FOLLOW at its next execve/execveat, which is counted */

/* track.bpf.o's only .bss variable; counters only grow. */
struct sc_track_stats {
	__u64 untracked_forks; /* children of followed processes whose id is past the array (pid_max raised) */
};


/* What the filtering programs need to know, set before load: the first member of each
 * program's const volatile config. syscount/filters.py packs it. */
struct sc_filter_config {
	__u8 by_pid;      /* only processes in `tracked` (-p, -- COMMAND) */
	__u8 by_comm;     /* only threads named `comm` (--comm) */
	__u8 by_uid;      /* only this real uid (-u) */
	__u8 by_cgroup;   /* only tasks in the cgroup in `cgroup_filter`, or below it (--cgroup) */
	__u8 by_syscall;  /* only slots set in `syscalls` (-s) */
	__u8 failed_only; /* programs that see the exit: only calls that failed (-x, -e) */
	__u16 pad;
	__u32 uid;
	__u32 errno_only; /* with failed_only: only calls failing with this errno; 0 = any */
	__u32 execve_nr;  /* native numbers of execve and execveat, for SC_TRACK_AT_EXEC */
	__u32 execveat_nr;
	__u32 self_tgid;  /* syscount's own process, left out (system-wide); 0 = count it too */
	char comm[SC_COMM_LEN];
	__u8 syscalls[SC_SLOTS / 8]; /* bit per slot (common.h) */
};

#ifdef __bpf__
struct sc_track_row {
	__u8 how[SC_TRACK_ROW]; /* SC_TRACK_* of process id row * SC_TRACK_ROW + i */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* sized by user space: pid_max / SC_TRACK_ROW, rounded up */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct sc_track_row);
} tracked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_filter SEC(".maps");

static __always_inline int sc_same_comm(const volatile char *want)
{
	char comm[SC_COMM_LEN];
	int i;

	bpf_get_current_comm(comm, sizeof(comm));
	for (i = 0; i < SC_COMM_LEN; i++) {
		if (comm[i] != want[i])
			return 0;
		if (!comm[i])
			return 1;
	}
	return 1;
}

/* The byte of process `tgid` in `tracked`; NULL past the end of the array. */
static __always_inline __u8 *sc_track_byte(__u32 tgid)
{
	__u32 row = tgid / SC_TRACK_ROW;
	struct sc_track_row *bytes = bpf_map_lookup_elem(&tracked, &row);

	return bytes ? &bytes->how[tgid % SC_TRACK_ROW] : 0;
}

/* Is process `tgid` (the current one) tracked? A command is followed from its execve
 * on: before it, the child is still syscount's own code between fork and exec, which
 * strace -c -f does not count either. */
static __always_inline int sc_tracked(const volatile struct sc_filter_config *filter, unsigned long id, __u32 tgid)
{
	__u8 *how = sc_track_byte(tgid);

	if (!how || !*how)
		return 0;
	if (*how == SC_TRACK_AT_EXEC) {
		if (id != filter->execve_nr && id != filter->execveat_nr)
			return 0;
		*how = SC_TRACK_FOLLOW;
	}
	return 1;
}

/* The current process's id: `tgid` when the caller already has it (a program that
 * reads it from the task), else asked of the helper, only when a filter needs it. */
static __always_inline __u32 sc_current_tgid(__u32 tgid)
{
	return tgid ? tgid : bpf_get_current_pid_tgid() >> 32;
}

/* Every entry-side filter; `slot` is sc_slot() of the call, `id` the raw number,
 * `tgid` the current process's id or 0 (sc_current_tgid). Each check is compiled away
 * when its const volatile switch is off. */
static __always_inline int sc_selected_tgid(const volatile struct sc_filter_config *filter, __u32 slot,
					    unsigned long id, __u32 tgid)
{
	/* The process check comes first: it must see a followed command's execve even
	 * when -s leaves execve out, or the command would never start being counted. */
	if (filter->by_pid && !sc_tracked(filter, id, sc_current_tgid(tgid)))
		return 0;
	if (filter->self_tgid && sc_current_tgid(tgid) == filter->self_tgid)
		return 0;
	if (filter->by_syscall &&
	    !(slot < SC_SLOTS && (filter->syscalls[slot / 8] & (1 << (slot % 8)))))
		return 0;
	if (filter->by_uid && (__u32)bpf_get_current_uid_gid() != filter->uid)
		return 0;
	if (filter->by_comm && !sc_same_comm(filter->comm))
		return 0;
	if (filter->by_cgroup && bpf_current_task_under_cgroup(&cgroup_filter, 0) != 1)
		return 0;
	return 1;
}

static __always_inline int sc_selected(const volatile struct sc_filter_config *filter, __u32 slot,
				       unsigned long id)
{
	return sc_selected_tgid(filter, slot, id, 0);
}

/* The exit-side filter (-x, -e): does this return value count? */
static __always_inline int sc_result_selected(const volatile struct sc_filter_config *filter, long ret)
{
	if (!filter->failed_only)
		return 1;
	if (ret >= 0 || ret < -SC_MAX_ERRNO)
		return 0;
	return !filter->errno_only || -ret == filter->errno_only;
}
#endif

#endif
