/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The process filter shared by every syscount program: which processes to count.
 *
 * track.bpf.o owns the `tracked` map and keeps it current (fork, exit); every
 * program that filters (counts.bpf.c, ...) includes this header, declares the same
 * map and gets it replaced by track.bpf.o's before load (bpf_map__reuse_fd).
 * Kept apart because following forks needs kernel BTF (CO-RE), and loading that
 * costs ~15 ms: the unfiltered, system-wide mode never pays it.
 * syscount/filters.py reads the SC_* constants from this file.
 */
#ifndef SYSCOUNT_TRACK_H
#define SYSCOUNT_TRACK_H

/* Processes the filter can hold (-p targets and followed descendants). */
#define SC_MAX_TRACKED 16384

/* Values in the `tracked` map. */
#define SC_TRACK_ONLY 1    /* count this process (-p) */
#define SC_TRACK_FOLLOW 2  /* count it and every process it forks (-- COMMAND) */
#define SC_TRACK_AT_EXEC 3 /* becomes FOLLOW at its next execve/execveat, which is counted */

/* track.bpf.o's only .bss variable; counters only grow. */
struct sc_track_stats {
	__u64 untracked_forks; /* children of followed processes the full map could not take */
};

/* What the filtering programs need to know, set before load (part of their config). */
struct sc_filter_config {
	__u8 enabled;     /* count only processes in `tracked` */
	__u8 pad[3];
	__u32 execve_nr;  /* native numbers of execve and execveat, for SC_TRACK_AT_EXEC */
	__u32 execveat_nr;
	__u32 pad2;
};

#ifdef __bpf__
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SC_MAX_TRACKED);
	__type(key, __u32);  /* tgid */
	__type(value, __u8); /* SC_TRACK_* */
} tracked SEC(".maps");

/* Is the current process counted? A command is followed from its execve on: before
 * it, the child is still syscount's own code between fork and exec, which
 * strace -c -f does not count either. */
static __always_inline int sc_selected(const volatile struct sc_filter_config *filter, unsigned long id)
{
	__u32 tgid;
	__u8 *how;

	if (!filter->enabled)
		return 1;
	tgid = bpf_get_current_pid_tgid() >> 32;
	how = bpf_map_lookup_elem(&tracked, &tgid);
	if (!how)
		return 0;
	if (*how == SC_TRACK_AT_EXEC) {
		if (id != filter->execve_nr && id != filter->execveat_nr)
			return 0;
		*how = SC_TRACK_FOLLOW;
	}
	return 1;
}
#endif

#endif
