// SPDX-License-Identifier: GPL-2.0
/*
 * Keeps the `tracked` process filter current: descendants of a followed process are
 * added as they are forked, and a process is removed when its last thread exits.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "track.h"

char LICENSE[] SEC("license") = "GPL";

/* Only the fields used, resolved against the running kernel's BTF (CO-RE). */
struct signal_struct {
	struct {
		int counter;
	} live;
} __attribute__((preserve_access_index));

struct task_struct {
	int tgid;
	struct signal_struct *signal;
} __attribute__((preserve_access_index));

struct sc_track_stats stats;

/* The child is added before it can run: this tracepoint fires before the new task is
 * woken. Threads share the tgid, so they need no entry of their own. */
SEC("raw_tp/sched_process_fork")
int follow_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	__u8 *how = sc_track_byte(bpf_get_current_pid_tgid() >> 32), *child_how;
	__u32 child_tgid;

	if (!how || *how != SC_TRACK_FOLLOW)
		return 0;
	child_tgid = BPF_CORE_READ(child, tgid);
	child_how = sc_track_byte(child_tgid);
	if (child_how == how)
		return 0; /* a thread */
	if (child_how)
		*child_how = SC_TRACK_FOLLOW;
	else
		__sync_fetch_and_add(&stats.untracked_forks, 1);
	return 0;
}

/* signal->live reaches 0 just before this tracepoint for the thread that ends the
 * group (this works on kernels whose tracepoint has no `group_dead`), so the byte is
 * cleared exactly when the process ends and a recycled pid is not counted. */
SEC("raw_tp/sched_process_exit")
int forget_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	__u8 *how;

	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	how = sc_track_byte(BPF_CORE_READ(task, tgid));
	if (how && *how)
		*how = 0;
	return 0;
}
