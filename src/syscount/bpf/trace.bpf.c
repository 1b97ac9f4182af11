// SPDX-License-Identifier: GPL-2.0
/*
 * syscount trace: one event per system call, with its arguments, result and duration.
 *
 * Entry (tp_btf/sys_enter): filter, then keep the call's number, arguments and entry
 * time in the thread's task storage, and read its string arguments from user memory
 * while they are certainly the caller's (after an execve they are gone).
 * Exit (tp_btf/sys_exit): add the result, the duration, the thread's ids and name,
 * and queue the whole record on the ring buffer in one bpf_ringbuf_output (the size
 * varies with the strings, which bpf_ringbuf_reserve cannot do).
 *
 * Why tp_btf: the raw tracepoint is the cheapest hook, and its typed form reads the
 * register frame (arguments, ABI) directly instead of through a probe read.
 * Why task storage: measured here at about half the cost of a pid-keyed hash, freed
 * with the thread, and nothing leaks when a call never returns.
 * Why count in the kernel: every event due is counted in `calls`, every one the ring
 * had no room for in `lost`, per CPU; user space checks events + lost == calls.
 * Why BPF_RB_NO_WAKEUP: a wake-up per event costs the traced program; the consumer
 * polls on a short timer instead, in batches.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "abi.h"
#include "trace.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct sc_trace_config cfg = {};

struct sc_trace_counters counters;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* user space sets the size before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sc_trace_task);
} tasks SEC(".maps");

/* Count one event due in this CPU's row (common.h), and whether it was lost. */
static __always_inline void count_event(int lost, int no_storage)
{
	__u32 row = sc_cpu_row();
	struct sc_trace_cpu *c;

	if (row >= SC_CPU_ROWS)
		return;
	c = &counters.cpu[row];
	sc_row_inc(&c->calls, row);
	if (lost)
		sc_row_inc(&c->lost, row);
	if (no_storage)
		sc_row_inc(&c->no_storage, row);
}

/* The six arguments, from the registers of the ABI the call came in through. */
static __always_inline void read_args(const struct pt_regs *regs, __u32 abi, __u64 *args)
{
#if defined(__TARGET_ARCH_x86)
	if (abi == SC_ABI_COMPAT) {
		/* ia32: ebx ecx edx esi edi ebp */
		args[0] = regs->bx, args[1] = regs->cx, args[2] = regs->dx;
		args[3] = regs->si, args[4] = regs->di, args[5] = regs->bp;
	} else {
		args[0] = regs->di, args[1] = regs->si, args[2] = regs->dx;
		args[3] = regs->r10, args[4] = regs->r8, args[5] = regs->r9;
	}
#elif defined(__TARGET_ARCH_arm64)
	/* x0..x5 (r0..r5 for AArch32); at entry x0 still holds the first argument */
	int i;

	for (i = 0; i < SC_TRACE_ARGS; i++)
		args[i] = regs->regs[i];
#else
#error "syscount trace: unsupported architecture"
#endif
}

/* Append one string read from user memory at `uptr` to t->str at `off`; the new end.
 * Reads one byte more than kept, so a string of exactly str_max bytes is not
 * mistaken for a truncated one.
 * put_str and put_argv are global functions on purpose: the verifier checks them
 * once, on their own. Inlined (or static), every path out of one call would be
 * explored again through every later call, and argv's loop makes that explode. */
__noinline int put_str(struct sc_trace_task *t, __u32 off, __u32 arg, __u32 flags, __u64 uptr)
{
	struct sc_trace_str *head;
	__u32 want = cfg.str_max + 2;
	long got;

	if (!t || off >= SC_TRACE_STR_AREA)
		return off;
	off &= SC_TRACE_STR_AREA - 1;
	if (want > SC_TRACE_STR_MAX + 2)
		want = SC_TRACE_STR_MAX + 2;
	head = (struct sc_trace_str *)&t->str[off];
	head->arg = arg;
	head->flags = flags;
	head->len = 0;
	if (!uptr) {
		/* NULL: shown as such; an array's end marker carries no string at all */
		if (!(flags & SC_STR_MORE))
			head->flags |= SC_STR_FAULT;
		return off + sizeof(*head);
	}
	got = bpf_probe_read_user_str(&t->str[off + sizeof(*head)], want, (const void *)uptr);
	if (got <= 0) {
		head->flags |= SC_STR_FAULT;
		t->ev.flags |= SC_EVENT_STR_FAULT;
	} else if (got - 1 > cfg.str_max) {
		head->flags |= SC_STR_TRUNCATED;
		head->len = cfg.str_max;
	} else {
		head->len = got - 1;
	}
	return off + sizeof(*head) + head->len;
}

/* A NULL-terminated array of string pointers (execve's argv). */
__noinline int put_argv(struct sc_trace_task *t, __u32 off, __u32 arg, __u64 uptr)
{
	__u64 item;
	__u32 i;

	if (!t)
		return off;
	for (i = 0; i <= SC_TRACE_ARGV_MAX; i++) {
		if (bpf_probe_read_user(&item, sizeof(item), (const void *)(uptr + i * sizeof(item)))) {
			t->ev.flags |= SC_EVENT_STR_FAULT;
			return put_str(t, off, arg, SC_STR_ELEMENT | SC_STR_FAULT, 0);
		}
		if (!item)
			return off;
		if (i >= cfg.argv_max || off >= SC_TRACE_STR_AREA)
			break;
		off = put_str(t, off, arg, SC_STR_ELEMENT, item);
	}
	return put_str(t, off, arg, SC_STR_ELEMENT | SC_STR_MORE, 0);
}

/* Every string argument of the call, in argument order; returns the bytes used. */
static __always_inline __u32 capture_strings(struct sc_trace_task *t, __u32 slot)
{
	__u8 strs, arrays;
	__u32 off = 0;
	int i;

	if (slot >= SC_SLOTS)
		return 0;
	strs = cfg.str_args[slot];
	arrays = cfg.argv_args[slot];
	if (!(strs | arrays))
		return 0;
	for (i = 0; i < SC_TRACE_ARGS; i++) {
		if (strs & (1 << i))
			off = put_str(t, off, i, 0, t->ev.args[i]);
		else if (arrays & (1 << i))
			off = put_argv(t, off, i, t->ev.args[i]);
	}
	return off;
}

static __always_inline void queue(void *data, __u64 size)
{
	count_event(bpf_ringbuf_output(&events, data, size, BPF_RB_NO_WAKEUP) != 0, 0);
}

static __always_inline void fill_ids(struct sc_trace_event *ev)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	ev->pid = pid_tgid >> 32;
	ev->tid = (__u32)pid_tgid;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
}

/* exit and exit_group: queued now, from the stack; they never fail, so -x never
 * selects them. */
static __always_inline void queue_noreturn(const struct pt_regs *regs, __u32 abi, __u32 slot)
{
	struct sc_trace_event ev = {};

	if (cfg.filter.failed_only)
		return;
	read_args(regs, abi, ev.args);
	ev.start_ns = bpf_ktime_get_ns();
	ev.slot = slot;
	ev.flags = SC_EVENT_NORETURN;
	fill_ids(&ev);
	queue(&ev, sizeof(ev));
}

SEC("tp_btf/sys_enter")
int BPF_PROG(trace_enter, struct pt_regs *regs, long id)
{
	__u32 abi = sc_abi(regs);
	__u32 slot = sc_slot(abi, id);
	struct sc_trace_task *t;

	if (!sc_selected(&cfg.filter, slot, id))
		return 0;
	if (slot >= SC_SLOTS)
		return 0; /* cannot happen: keeps the verifier sure of the bound */
	if (cfg.calls[slot] & SC_CALL_NORETURN) {
		queue_noreturn(regs, abi, slot);
		return 0;
	}
	t = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		/* The call is due an event that cannot be made: count it as lost. */
		count_event(1, 1);
		return 0;
	}
	read_args(regs, abi, t->ev.args);
	t->ev.slot = slot;
	t->ev.flags = 0;
	t->ev.str_bytes = capture_strings(t, slot);
	t->ev.start_ns = bpf_ktime_get_ns();
	return 0;
}

/* A string whose page was not in memory at entry cannot be read then (BPF may not
 * fault pages in); by the exit the kernel has read it itself, so the page is there.
 * Not after a successful execve: the caller's memory is gone. */
static __always_inline void retry_strings(struct sc_trace_task *t, long ret)
{
	__u32 slot = t->ev.slot;

	if (slot >= SC_SLOTS || (ret == 0 && (cfg.calls[slot] & SC_CALL_EXEC)))
		return;
	t->ev.flags &= ~SC_EVENT_STR_FAULT;
	t->ev.str_bytes = capture_strings(t, slot);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(trace_exit, struct pt_regs *regs, long ret)
{
	struct sc_trace_task *t;
	__u64 size;

	/* No F_CREATE: threads never selected at entry cost one lookup. */
	t = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0, 0);
	if (!t || !t->ev.start_ns)
		return 0; /* not selected, or began before syscount attached */
	if (!sc_result_selected(&cfg.filter, ret)) {
		t->ev.start_ns = 0;
		return 0;
	}
	t->ev.duration_ns = bpf_ktime_get_ns() - t->ev.start_ns;
	t->ev.ret = ret;
	if (t->ev.flags & SC_EVENT_STR_FAULT)
		retry_strings(t, ret);
	fill_ids(&t->ev);
	size = sizeof(t->ev) + t->ev.str_bytes;
	if (size > sizeof(*t))
		size = sizeof(*t);
	queue(t, size);
	t->ev.start_ns = 0;
	return 0;
}
