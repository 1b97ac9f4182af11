// SPDX-License-Identifier: GPL-2.0
/*
 * syscount -L: per-syscall call counts, time spent (total, min, max, log2 histogram)
 * and errors by errno, aggregated in the kernel.
 *
 * Where the start of a call is kept: a task can only leave its CPU through a context
 * switch, so the start goes into a per-CPU slot (a plain store), and only when the
 * task is switched out mid-call does a sched_switch program move it into task
 * storage. Short calls, the vast majority, never touch task storage (~45 ns per
 * access here, twice per call); blocking calls pay it once, at the switch. Task
 * storage is freed with the task: calls that never return leave nothing behind. The
 * slot is keyed by the task_struct, not the tid, which a multi-threaded execve
 * changes. Statistics go to per-CPU arrays: no atomics. Two
 * arrays alternate by interval (`epoch`): user space flips the epoch, lets the
 * programs that may still write the old array finish (they run with preemption
 * disabled, for microseconds), reads it and zeroes it. So min and max are per
 * interval, and a call that blocks across an interval boundary is timed in the
 * interval it finishes in.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "abi.h"
#include "latency.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct sc_lat_config cfg = {};

struct sc_lat_globals g;

struct stats_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SC_SLOTS);
	__type(key, __u32);
	__type(value, struct sc_lat_stats);
};
struct stats_map stats0 SEC(".maps");
struct stats_map stats1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SC_MAX_ERRNO_KEYS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sc_errno_key);
	__type(value, __u64); /* only grows */
} errnos SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sc_lat_running);
} running SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sc_lat_start);
} starts SEC(".maps");

static __always_inline struct sc_lat_stats *stats_for(__u32 slot)
{
	if (g.epoch & 1)
		return bpf_map_lookup_elem(&stats1, &slot);
	return bpf_map_lookup_elem(&stats0, &slot);
}

static __always_inline __u32 log2_bucket(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	return r < SC_HIST_BUCKETS ? r : SC_HIST_BUCKETS - 1;
}

static __always_inline void count_cpu(__u64 *counters)
{
	__u32 row = sc_cpu_row();

	if (row < SC_CPU_ROWS)
		sc_row_inc(&counters[row], row);
}

static __always_inline struct sc_lat_running *this_cpu(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&running, &zero);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(latency_enter, struct pt_regs *regs, long id)
{
	__u32 slot = sc_slot(sc_abi(regs), id);
	struct sc_lat_running *run;
	struct sc_lat_stats *s;

	if (!sc_selected(&cfg.filter, slot, id))
		return 0;
	if (slot == cfg.noreturn_slots[0] || slot == cfg.noreturn_slots[1] ||
	    slot == cfg.noreturn_slots[2] || slot == cfg.noreturn_slots[3]) {
		/* Never returns: count it now, time nothing, store nothing. It never fails
		 * either, so -x/-e never count it. */
		if (cfg.filter.failed_only)
			return 0;
		s = stats_for(slot);
		if (s)
			s->calls++;
		if (cfg.breakdown)
			sc_count_keyed(cfg.breakdown, slot, 0, g.keyed_other);
		return 0;
	}
	run = this_cpu();
	if (!run)
		return 0;
	run->slot = slot;
	run->start_ns = bpf_ktime_get_ns();
	run->task = (__u64)bpf_get_current_task();
	count_cpu(g.entered);
	return 0;
}

/* The running task leaves the CPU (current is still the outgoing task): if it is in
 * a timed call, move the call's start into its task storage. */
SEC("raw_tp/sched_switch")
int latency_switch(struct bpf_raw_tracepoint_args *ctx)
{
	struct sc_lat_running *run = this_cpu();
	struct sc_lat_start *start;

	if (!run || !run->task)
		return 0;
	if (run->task == (__u64)bpf_get_current_task()) {
		start = bpf_task_storage_get(&starts, bpf_get_current_task_btf(), 0,
					     BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (start) {
			start->start_ns = run->start_ns;
			start->slot = run->slot;
		} else {
			__sync_fetch_and_add(&g.untimed, 1);
		}
	}
	run->task = 0;
	return 0;
}

static __always_inline void count_errno(__u32 slot, long ret)
{
	struct sc_errno_key key = { .slot = slot, .err = -ret };
	__u64 one = 1, *n;

	n = bpf_map_lookup_elem(&errnos, &key);
	if (n) {
		__sync_fetch_and_add(n, 1);
		return;
	}
	/* Another CPU may insert the same key first: then add to its entry. */
	if (bpf_map_update_elem(&errnos, &key, &one, BPF_NOEXIST) == 0)
		return;
	n = bpf_map_lookup_elem(&errnos, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		__sync_fetch_and_add(&g.errno_overflow, 1);
}

SEC("raw_tp/sys_exit")
int latency_exit(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = ctx->args[1];
	struct sc_lat_running *run = this_cpu();
	struct sc_lat_start *start;
	struct sc_lat_stats *s;
	__u64 begin, delta;
	__u32 slot;

	if (!run)
		return 0;
	if (run->task && run->task == (__u64)bpf_get_current_task()) {
		begin = run->start_ns; /* never left the CPU: the fast path */
		slot = run->slot;
		run->task = 0;
	} else {
		/* Switched out during the call, or never timed. No F_CREATE: threads
		 * without storage cost one failed lookup. */
		start = bpf_task_storage_get(&starts, bpf_get_current_task_btf(), 0, 0);
		if (!start || !start->start_ns)
			return 0; /* not selected, or began before syscount attached */
		begin = start->start_ns;
		slot = start->slot;
		start->start_ns = 0;
	}
	delta = bpf_ktime_get_ns() - begin;
	count_cpu(g.completed);
	if (!sc_result_selected(&cfg.filter, ret))
		return 0;
	if (slot >= SC_SLOTS)
		return 0;
	s = stats_for(slot);
	if (!s)
		return 0;
	s->calls++;
	s->total_ns += delta;
	if (!s->min_ns || delta < s->min_ns)
		s->min_ns = delta ? delta : 1;
	if (delta > s->max_ns)
		s->max_ns = delta;
	s->hist[log2_bucket(delta)]++;
	if (ret < 0 && ret >= -SC_MAX_ERRNO) {
		s->errors++;
		count_errno(slot, ret);
	}
	if (cfg.breakdown)
		sc_count_keyed(cfg.breakdown, slot, ret < 0 && ret >= -SC_MAX_ERRNO ? -ret : 0, g.keyed_other);
	return 0;
}

/* -P, --by-thread: hand over the rows of ids that end, or say which (keyed.h); attached only then. */
SEC("raw_tp/sched_process_exit")
int keyed_exit(struct bpf_raw_tracepoint_args *ctx)
{
	sc_keyed_exit(cfg.breakdown, (struct task_struct___sc *)ctx->args[0]);
	return 0;
}
