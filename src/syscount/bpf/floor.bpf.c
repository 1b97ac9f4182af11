// SPDX-License-Identifier: GPL-2.0
/*
 * The floor: an empty program on the syscall tracepoints. bench/ attaches it to
 * measure what attaching costs by itself, so syscount's own cost can be compared
 * against the least any eBPF tool can pay.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("raw_tp/sys_enter")
int floor_enter(void *ctx)
{
	return 0;
}

SEC("raw_tp/sys_exit")
int floor_exit(void *ctx)
{
	return 0;
}
