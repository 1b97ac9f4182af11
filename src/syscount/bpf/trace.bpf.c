// SPDX-License-Identifier: GPL-2.0
/*
 * syscount trace: one event per system call, with its arguments, result and duration,
 * and the data its arguments point to.
 *
 * Entry (tp_btf/sys_enter): filter, then keep the call's number, arguments and entry
 * time in this CPU's running slot, with the thread's task: a few plain stores.
 * Switch (tp_btf/sched_switch): a task switched out during a call takes its running
 * slot along into its task storage. Short calls, the vast majority, never touch task
 * storage; blocking calls pay for it once, at the switch (the -L scheme, latency.bpf.c).
 * Exit (tp_btf/sys_exit): take the call back (from the CPU's slot, or the task's
 * storage), add the result, the duration, the thread's ids and name, and queue it:
 * - a call that captures nothing reserves exactly one event on the ring buffer and
 *   fills it in place (no copy);
 * - a call that captures data (strings, buffers, structs) builds the event in a
 *   per-CPU scratch area, reading the caller's memory then (after the call: a read's
 *   buffer holds what was read, a sockaddr length what the kernel wrote), and queues
 *   exactly the bytes used (bpf_ringbuf_output: its size is only known then).
 * exec calls read their strings at entry, into task storage: after a successful
 * execve the caller's memory is gone.
 *
 * Why count in the kernel: every event due is counted in `calls`, every one the ring
 * had no room for in `lost`, per CPU; user space checks events + lost == calls.
 * Why BPF_RB_NO_WAKEUP, mostly: a wake-up per event costs the traced program; the
 * consumer drains on a short timer in batches, and is woken early only when the ring
 * holds more than `wakeup_bytes`.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "abi.h"
#include "trace.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct sc_trace_config cfg = {};

struct sc_trace_counters counters;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* user space sets the size before load */
} events SEC(".maps");

/* The call in progress of the task running on each CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sc_trace_running);
} running SEC(".maps");

/* Where an event with data is built. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sc_trace_task);
} scratch SEC(".maps");

/* Calls of tasks switched out while in them. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sc_trace_running);
} spilled SEC(".maps");

/* The strings of an exec call, read at entry. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sc_trace_task);
} execs SEC(".maps");

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

/* BPF_RB_NO_WAKEUP, except for the record that makes the queued data cross
 * `wakeup_bytes` (`queued` counts it): one wake-up per fill, however far behind the
 * consumer is. (Waking on every record above the mark was measured to cost the
 * producers microseconds per call: each wake-up is an irq_work and an IPI.) */
static __always_inline __u64 wakeup(__u64 queued, __u64 size)
{
	if (cfg.wakeup_bytes && queued >= cfg.wakeup_bytes && queued - size < cfg.wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
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

static __always_inline struct sc_trace_running *this_cpu(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&running, &zero);
}

/* --- captured data ------------------------------------------------------------- */
/* The capture functions are global on purpose: the verifier checks each once, on its
 * own. Inlined, every path out of one call would be explored again through every
 * later call, and the loops make that explode. Each takes the end of the data so far
 * and returns the new end; an item that does not fit is left out (user space then
 * shows the pointer). */

/* `off` masked below SC_TRACE_STR_AREA in a way the compiler cannot drop or move: the
 * verifier needs to see the bound on the very register used as the offset. */
static __always_inline __u64 bounded(__u64 off)
{
	asm volatile("%[off] &= %[mask]" : [off] "+r"(off) : [mask] "i"(SC_TRACE_STR_AREA - 1));
	return off;
}

/* A header for argument `arg` at `off` (< SC_TRACE_STR_AREA, bounded). */
static __always_inline struct sc_trace_str *item(struct sc_trace_task *t, __u64 off, __u32 arg, __u32 flags)
{
	struct sc_trace_str *head;

	head = (struct sc_trace_str *)&t->str[off];
	head->arg = arg;
	head->flags = flags;
	head->len = 0;
	return head;
}

/* Append one string read from user memory at `uptr`. Reads one byte more than kept,
 * so a string of exactly str_max bytes is not mistaken for a truncated one. */
__noinline int put_str(struct sc_trace_task *t, __u32 off, __u32 arg, __u32 flags, __u64 uptr)
{
	struct sc_trace_str *head;
	__u32 want = cfg.str_max + 2;
	__u64 at;
	long got;

	if (!t || off >= SC_TRACE_STR_AREA)
		return off;
	at = bounded(off);
	head = item(t, at, arg, flags);
	if (want > SC_TRACE_STR_MAX + 2)
		want = SC_TRACE_STR_MAX + 2;
	if (!uptr) {
		/* NULL: shown as such; an array's end marker carries no string at all */
		if (!(flags & SC_STR_MORE))
			head->flags |= SC_STR_FAULT;
		return off + sizeof(*head);
	}
	got = bpf_probe_read_user_str(&t->str[bounded(off) + sizeof(*head)], want, (const void *)uptr);
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

/* Global functions take at most five arguments: an item's place is packed in one
 * word, POS(end of data, argument index, SC_STR_* flags), and a length with its limit
 * in another, SPAN(length, at most). */
#define POS(off, arg, flags) ((__u64)(off) | ((__u64)(arg) << 16) | ((__u64)(flags) << 24))
#define SPAN(len, max) (((__u64)(max) << 32) | ((len) > (max) ? (__u64)(max) + 1 : (__u64)(len)))
#define NO_PREFIX (~0ULL)

/* Append up to SPAN's length of bytes read from user memory at `uptr`, cut at its
 * limit (SC_STR_TRUNCATED). A read that fails leaves an empty item with SC_STR_FAULT:
 * never bytes that were not there. `prefix`, unless NO_PREFIX, is stored first as 8
 * bytes (an iovec element's iov_len). */
__noinline int put_bytes(struct sc_trace_task *t, __u64 pos, __u64 uptr, __u64 span, __u64 prefix)
{
	struct sc_trace_str *head;
	__u32 off = pos & 0xffff, n, max, extra = 0;

	if (!t || off >= SC_TRACE_STR_AREA)
		return off;
	head = item(t, bounded(off), (pos >> 16) & 0xff, (pos >> 24) & 0xff);
	if (prefix != NO_PREFIX) {
		*(__u64 *)&t->str[bounded(off) + sizeof(*head)] = prefix;
		extra = 8;
	}
	max = span >> 32;
	if (max > SC_TRACE_DATA_MAX)
		max = SC_TRACE_DATA_MAX;
	n = span & 0xffffffff;
	if (n > max) {
		n = max;
		head->flags |= SC_STR_TRUNCATED;
	}
	n = bounded(n); /* no change (n <= SC_TRACE_DATA_MAX): the verifier's bound */
	if (n && (!uptr || bpf_probe_read_user(&t->str[bounded(off) + sizeof(*head) + extra], n, (const void *)uptr))) {
		head->flags |= SC_STR_FAULT;
		head->flags &= ~SC_STR_TRUNCATED;
		n = 0;
	}
	head->len = n + extra;
	return off + sizeof(*head) + head->len;
}

/* An iovec array of `count` elements at `uptr`: one element item per iovec (its
 * iov_len, then its data); with `total` != NO_PREFIX, data only up to that many bytes
 * in all (what a read-like call returned). */
__noinline int put_iov(struct sc_trace_task *t, __u64 pos, __u64 uptr, __u64 count, __u64 total)
{
	struct { __u64 base, len; } iov;
	__u32 off = pos & 0xffff, arg = (pos >> 16) & 0xff;
	__u64 take;
	__u32 i;

	if (!t)
		return off;
	for (i = 0; i < SC_TRACE_IOV_MAX && i < count; i++) {
		if (bpf_probe_read_user(&iov, sizeof(iov), (const void *)(uptr + i * sizeof(iov))))
			return put_bytes(t, POS(off, arg, SC_STR_ELEMENT | SC_STR_FAULT), 0, 0, NO_PREFIX);
		take = iov.len;
		if (total != NO_PREFIX) {
			take = take < total ? take : total;
			total -= take;
		}
		off = put_bytes(t, POS(off, arg, SC_STR_ELEMENT), iov.base, SPAN(take, cfg.data_max), iov.len);
	}
	if (i < count)
		off = put_bytes(t, POS(off, arg, SC_STR_ELEMENT | SC_STR_MORE), 0, 0, NO_PREFIX);
	return off;
}

/* A NULL-terminated array of string pointers (execve's argv). */
__noinline int put_argv(struct sc_trace_task *t, __u32 off, __u32 arg, __u64 uptr)
{
	__u64 elem;
	__u32 i;

	if (!t)
		return off;
	for (i = 0; i <= SC_TRACE_ARGV_MAX; i++) {
		if (bpf_probe_read_user(&elem, sizeof(elem), (const void *)(uptr + i * sizeof(elem)))) {
			t->ev.flags |= SC_EVENT_STR_FAULT;
			return put_str(t, off, arg, SC_STR_ELEMENT | SC_STR_FAULT, 0);
		}
		if (!elem)
			return off;
		if (i >= cfg.argv_max || off >= SC_TRACE_STR_AREA)
			break;
		off = put_str(t, off, arg, SC_STR_ELEMENT, elem);
	}
	return put_str(t, off, arg, SC_STR_ELEMENT | SC_STR_MORE, 0);
}

/* struct msghdr: the struct itself, its msg_name (a sockaddr, msg_namelen bytes) and
 * its iovec. */
__noinline int put_msghdr(struct sc_trace_task *t, __u64 pos, __u64 uptr, __u64 total)
{
	struct {
		__u64 name;
		__u32 namelen, pad;
		__u64 iov, iovlen, control, controllen;
		__u32 flags, pad2;
	} msg;
	__u32 off = pos & 0xffff, arg = (pos >> 16) & 0xff;

	if (!t)
		return off;
	if (bpf_probe_read_user(&msg, sizeof(msg), (const void *)uptr))
		return put_bytes(t, POS(off, arg, SC_STR_HEAD | SC_STR_FAULT), 0, 0, NO_PREFIX);
	off = put_bytes(t, POS(off, arg, SC_STR_HEAD), uptr, SPAN(sizeof(msg), sizeof(msg)), NO_PREFIX);
	if (msg.name && msg.namelen)
		off = put_bytes(t, POS(off, arg, SC_STR_NAME), msg.name, SPAN(msg.namelen, SC_TRACE_ADDR_MAX),
				NO_PREFIX);
	return put_iov(t, POS(off, arg, 0), msg.iov, msg.iovlen, total);
}

/* The kernel's own view of a descriptor, for the names it makes up ("socket:[1234]",
 * "pipe:[1234]", "anon_inode:[eventpoll]"): user space cannot ask /proc once the
 * process has closed it or exited, which is the common case by the time it decodes.
 * Partial definitions, relocated by CO-RE; the ___sct flavour keeps them apart. */
struct qstr___sct {
	const unsigned char *name;
} __attribute__((preserve_access_index));

struct dentry___sct {
	struct qstr___sct d_name;
} __attribute__((preserve_access_index));

struct inode___sct {
	unsigned short i_mode;
	unsigned long i_ino;
} __attribute__((preserve_access_index));

struct path___sct {
	struct dentry___sct *dentry;
} __attribute__((preserve_access_index));

struct file___sct {
	struct path___sct f_path;
	struct inode___sct *f_inode;
} __attribute__((preserve_access_index));

struct fdtable___sct {
	unsigned int max_fds;
	struct file___sct **fd;
} __attribute__((preserve_access_index));

struct files_struct___sct {
	struct fdtable___sct *fdt;
} __attribute__((preserve_access_index));

struct task_struct___sct {
	int pid;  /* the thread */
	int tgid; /* its process */
	char comm[SC_COMM_LEN];
	struct files_struct___sct *files;
} __attribute__((preserve_access_index));

/* What descriptor `fd` of the current task is: an SC_STR_FILE item of inode number,
 * mode and dentry name; SC_STR_FAULT when it is not open (any more). */
__noinline int put_file(struct sc_trace_task *t, __u64 pos, __u64 fd)
{
	struct task_struct___sct *task = (struct task_struct___sct *)bpf_get_current_task();
	struct fdtable___sct *fdt = BPF_CORE_READ(task, files, fdt);
	struct file___sct **fds = BPF_CORE_READ(fdt, fd);
	struct file___sct *file = 0;
	struct sc_trace_str *head;
	__u32 off = pos & 0xffff;
	const unsigned char *name;
	__u64 at, ino;
	__u32 mode;
	long got;

	if (!t || off >= SC_TRACE_STR_AREA)
		return off;
	at = bounded(off);
	head = item(t, at, (pos >> 16) & 0xff, SC_STR_FILE);
	if (fd >= BPF_CORE_READ(fdt, max_fds) || bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file) {
		head->flags |= SC_STR_FAULT;
		return off + sizeof(*head);
	}
	ino = BPF_CORE_READ(file, f_inode, i_ino);
	mode = BPF_CORE_READ(file, f_inode, i_mode);
	name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
	__builtin_memcpy(&t->str[at + sizeof(*head)], &ino, sizeof(ino));
	__builtin_memcpy(&t->str[at + sizeof(*head) + 8], &mode, sizeof(mode));
	got = bpf_probe_read_kernel_str(&t->str[at + sizeof(*head) + 12], SC_TRACE_FILE_NAME, name);
	head->len = 12 + (got > 0 ? got - 1 : 0);
	return off + sizeof(*head) + head->len;
}

/* One argument, as the slot's capture says: `cap` is POS(end, argument, how) with the
 * capture's size in bits 32..47. */
__noinline int capture_arg(struct sc_trace_task *t, __u64 cap, __u64 uptr, __u64 lenval, long ret)
{
	__u32 off = cap & 0xffff, arg = (cap >> 16) & 0xff, how = (cap >> 24) & 0xff;
	__u32 size = (cap >> 32) & 0xffff;
	__u64 pos = POS(off, arg, 0);
	__u32 addrlen;
	__s32 fds[2];
	__u64 n;

	if (!t)
		return off;
	if ((how & SC_CAP_IF_OK) && ret < 0 && ret >= -SC_MAX_ERRNO)
		return off;
	switch (how & SC_CAP_HOW) {
	case SC_CAP_STR:
		return put_str(t, off, arg, 0, uptr);
	case SC_CAP_BUF:
		return put_bytes(t, pos, uptr, SPAN(lenval, cfg.data_max), NO_PREFIX);
	case SC_CAP_BUF_RET:
		return ret >= 0 ? put_bytes(t, pos, uptr, SPAN((__u64)ret, cfg.data_max), NO_PREFIX) : off;
	case SC_CAP_FIXED:
		return uptr ? put_bytes(t, pos, uptr, SPAN(size, size), NO_PREFIX) : off;
	case SC_CAP_ADDR:
		return uptr ? put_bytes(t, pos, uptr, SPAN(lenval, size), NO_PREFIX) : off;
	case SC_CAP_ADDR_PTR:
		if (!uptr || !lenval || bpf_probe_read_user(&addrlen, sizeof(addrlen), (const void *)lenval))
			return off;
		return put_bytes(t, pos, uptr, SPAN(addrlen, size), NO_PREFIX);
	case SC_CAP_IOV:
		return put_iov(t, pos, uptr, lenval, NO_PREFIX);
	case SC_CAP_IOV_RET:
		return ret >= 0 ? put_iov(t, pos, uptr, lenval, ret) : off;
	case SC_CAP_ARRAY:
	case SC_CAP_ARRAY_RET:
		n = (how & SC_CAP_HOW) == SC_CAP_ARRAY ? lenval : (ret > 0 ? ret : 0);
		if (!uptr || !n)
			return off;
		if (n > SC_TRACE_ARRAY_MAX)
			n = SC_TRACE_ARRAY_MAX; /* elements: enough to know the bytes are too many */
		return put_bytes(t, pos, uptr, SPAN(n * size, SC_TRACE_ARRAY_MAX), NO_PREFIX);
	case SC_CAP_MSGHDR:
		return uptr ? put_msghdr(t, pos, uptr, NO_PREFIX) : off;
	case SC_CAP_MSGHDR_RET:
		return uptr && ret >= 0 ? put_msghdr(t, pos, uptr, ret) : off;
	case SC_CAP_FDS:
		if (!uptr || bpf_probe_read_user(fds, sizeof(fds), (const void *)uptr))
			return off;
		off = put_bytes(t, pos, uptr, SPAN(sizeof(fds), sizeof(fds)), NO_PREFIX);
		off = put_file(t, POS(off, arg, 0), (__u32)fds[0]);
		return put_file(t, POS(off, arg, 0), (__u32)fds[1]);
	}
	return off;
}

/* Every captured argument of the call, in argument order; returns the bytes used.
 * `exec`: the strings of an exec call, at entry; otherwise everything else, at exit. */
static __always_inline __u32 capture(struct sc_trace_task *t, __u32 slot, long ret, int exec)
{
	const volatile struct sc_trace_cap *cap;
	__u32 off = 0, len_arg;
	int i;

	if (slot >= SC_SLOTS)
		return 0;
	for (i = 0; i < SC_TRACE_ARGS; i++) {
		cap = &cfg.caps[slot][i];
		if (cap->how == SC_CAP_NONE)
			continue;
		if (exec) {
			if (cap->how == SC_CAP_STR)
				off = put_str(t, off, i, 0, t->ev.args[i]);
			else if (cap->how == SC_CAP_ARGV)
				off = put_argv(t, off, i, t->ev.args[i]);
			continue;
		}
		len_arg = cap->len_arg;
		if (len_arg >= SC_TRACE_ARGS)
			len_arg = 0;
		off = capture_arg(t, POS(off, i, cap->how) | ((__u64)cap->size << 32), t->ev.args[i],
				  t->ev.args[len_arg], ret);
	}
	if (!exec && (cfg.calls[slot] & SC_CALL_FILE) && ret >= 0)
		off = put_file(t, POS(off, SC_TRACE_ARGS, 0), ret);
	return off;
}

/* --- queueing ------------------------------------------------------------------- */

/* The current task, as a pointer the verifier trusts: one helper call, and its ids and
 * name are plain loads (bpf_get_current_pid_tgid and bpf_get_current_comm would be two
 * more calls, the latter a string copy). */
static __always_inline struct task_struct___sct *current_task(void)
{
	return (struct task_struct___sct *)bpf_get_current_task_btf();
}

/* The same task, as the helpers' prototypes name it. */
static __always_inline struct task_struct *as_task(struct task_struct___sct *task)
{
	return (struct task_struct *)task;
}

static __always_inline void fill_ids(struct sc_trace_event *ev, const struct task_struct___sct *task)
{
	ev->pid = task->tgid;
	ev->tid = task->pid;
	/* The kernel pads a name with NULs up to its last byte, which stays NUL: two words
	 * copy it whole (a rename racing with this may mix two names, never lose the end;
	 * bpf_get_current_comm reads it unlocked too). */
	*(__u64 *)&ev->comm[0] = *(const __u64 *)&task->comm[0];
	*(__u64 *)&ev->comm[8] = *(const __u64 *)&task->comm[8];
}

static __always_inline void copy_args(__u64 *to, const __u64 *from)
{
	int i;

	for (i = 0; i < SC_TRACE_ARGS; i++)
		to[i] = from[i];
}

/* An event with no data: reserved at its exact size and filled in place. */
static __always_inline void queue_plain(const struct sc_trace_running *run, __u64 now, long ret, __u16 flags,
					const struct task_struct___sct *task)
{
	struct sc_trace_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);

	if (!ev) {
		count_event(1, 0);
		return;
	}
	ev->start_ns = run->start_ns;
	ev->duration_ns = flags & SC_EVENT_NORETURN ? 0 : now - run->start_ns;
	ev->ret = ret;
	copy_args(ev->args, run->args);
	ev->slot = run->slot;
	ev->flags = flags;
	ev->str_bytes = 0;
	fill_ids(ev, task);
	count_event(0, 0);
	bpf_ringbuf_submit(ev, wakeup(cfg.wakeup_bytes ? bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) : 0,
				      sizeof(*ev) + 8));
}

static __always_inline void output(struct sc_trace_task *t)
{
	__u64 size = sizeof(t->ev) + t->ev.str_bytes, queued;

	if (size > sizeof(*t))
		size = sizeof(*t);
	queued = cfg.wakeup_bytes ? bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + size + 8 : 0;
	count_event(bpf_ringbuf_output(&events, t, size, wakeup(queued, size + 8)) != 0, 0);
}

/* An event with data: built in this CPU's scratch area, then copied at its size. */
static __always_inline void queue_captured(const struct sc_trace_running *run, __u64 now, long ret,
					   const struct task_struct___sct *task)
{
	__u32 zero = 0;
	struct sc_trace_task *t = bpf_map_lookup_elem(&scratch, &zero);

	if (!t) {
		count_event(1, 1);
		return;
	}
	t->ev.start_ns = run->start_ns;
	t->ev.duration_ns = now - run->start_ns;
	t->ev.ret = ret;
	copy_args(t->ev.args, run->args);
	t->ev.slot = run->slot;
	t->ev.flags = 0;
	fill_ids(&t->ev, task);
	t->ev.str_bytes = capture(t, run->slot, ret, 0);
	output(t);
}

/* An exec call: its strings were read at entry into the exec storage. A string whose
 * page was not in memory then (BPF may not fault pages in) is read again now, when
 * the kernel has read it itself; not after a successful execve: that memory is gone. */
static __always_inline void queue_exec(const struct sc_trace_running *run, __u64 now, long ret,
				       struct task_struct___sct *task)
{
	struct sc_trace_task *t = bpf_task_storage_get(&execs, as_task(task), 0, 0);

	if (!t || !t->ev.start_ns) {
		count_event(1, 1);
		return;
	}
	t->ev.duration_ns = now - run->start_ns;
	t->ev.ret = ret;
	if ((t->ev.flags & SC_EVENT_STR_FAULT) && ret != 0) {
		t->ev.flags &= ~SC_EVENT_STR_FAULT;
		t->ev.str_bytes = capture(t, t->ev.slot, ret, 1);
	}
	fill_ids(&t->ev, task);
	output(t);
	t->ev.start_ns = 0;
}

/* exit and exit_group: queued now; they never fail, so -x never selects them. */
static __always_inline void queue_noreturn(const struct pt_regs *regs, __u32 abi, __u32 slot,
					   const struct task_struct___sct *task)
{
	struct sc_trace_running run;

	if (cfg.filter.failed_only)
		return;
	read_args(regs, abi, run.args);
	run.start_ns = bpf_ktime_get_ns();
	run.slot = slot;
	queue_plain(&run, 0, 0, SC_EVENT_NORETURN, task);
}

/* Read an exec call's strings now, into the thread's exec storage; 0 when there is
 * no storage (the event then shows their pointers). */
static __always_inline int keep_exec_strings(const struct sc_trace_running *run, struct task_struct___sct *task)
{
	struct sc_trace_task *t = bpf_task_storage_get(&execs, as_task(task), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!t)
		return 0;
	copy_args(t->ev.args, run->args);
	t->ev.slot = run->slot;
	t->ev.flags = 0;
	t->ev.start_ns = run->start_ns;
	t->ev.str_bytes = capture(t, run->slot, 0, 1);
	return 1;
}

/* An exec call goes to task storage at once: a non-leader thread's execve returns
 * with the leader's id, which the per-CPU slot would not recognise. */
static __always_inline void enter_exec(const struct pt_regs *regs, __u32 abi, __u32 slot,
				       struct task_struct___sct *task)
{
	struct sc_trace_running *keep = bpf_task_storage_get(&spilled, as_task(task), 0,
							     BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!keep) {
		count_event(1, 1); /* due an event that cannot be made: lost */
		return;
	}
	read_args(regs, abi, keep->args);
	keep->slot = slot;
	keep->start_ns = bpf_ktime_get_ns();
	keep->exec = keep_exec_strings(keep, task);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(trace_enter, struct pt_regs *regs, long id)
{
	__u32 abi = sc_abi(regs);
	__u32 slot = sc_slot(abi, id);
	struct task_struct___sct *task = 0;
	struct sc_trace_running *run;

	/* The process filters need the process id: then the task is fetched first, else
	 * only for the calls the other filters let through. */
	if (cfg.filter.by_pid || cfg.filter.self_tgid)
		task = current_task();
	if (!sc_selected_tgid(&cfg.filter, slot, id, task ? task->tgid : 0))
		return 0;
	if (!task)
		task = current_task();
	if (slot >= SC_SLOTS)
		return 0; /* cannot happen: keeps the verifier sure of the bound */
	if (cfg.calls[slot] & (SC_CALL_NORETURN | SC_CALL_EXEC)) {
		if (cfg.calls[slot] & SC_CALL_NORETURN)
			queue_noreturn(regs, abi, slot, task);
		else
			enter_exec(regs, abi, slot, task);
		return 0;
	}
	run = this_cpu();
	if (!run)
		return 0;
	read_args(regs, abi, run->args);
	run->slot = slot;
	run->start_ns = bpf_ktime_get_ns();
	run->exec = 0;
	run->task = (__u64)task;
	return 0;
}

/* The running task leaves the CPU (current is still the outgoing task): if it is in a
 * traced call, the call goes along, into its task storage. */
SEC("tp_btf/sched_switch")
int BPF_PROG(trace_switch, int preempt, struct task_struct *prev, struct task_struct *next)
{
	struct sc_trace_running *run = this_cpu();
	struct sc_trace_running *keep;

	if (!run || !run->task)
		return 0;
	if (run->task == (__u64)prev) {
		keep = bpf_task_storage_get(&spilled, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (keep)
			*keep = *run;
		else
			count_event(1, 1); /* its exit will not find it: the event is lost */
	}
	run->task = 0;
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(trace_exit, struct pt_regs *regs, long ret)
{
	struct sc_trace_running *run = this_cpu();
	struct task_struct___sct *task = current_task();
	struct sc_trace_running *from;
	__u64 now;

	if (!run)
		return 0;
	if (run->task == (__u64)task) {
		from = run; /* never left the CPU: the fast path */
		run->task = 0;
	} else {
		/* Switched out during the call, or not traced. No F_CREATE: threads
		 * without storage cost one failed lookup. */
		from = bpf_task_storage_get(&spilled, as_task(task), 0, 0);
		if (!from || !from->start_ns)
			return 0; /* not selected, or began before syscount attached */
	}
	if (!sc_result_selected(&cfg.filter, ret)) {
		from->start_ns = 0;
		return 0;
	}
	now = bpf_ktime_get_ns();
	if (from->exec)
		queue_exec(from, now, ret, task);
	else if (from->slot < SC_SLOTS && (cfg.calls[from->slot] & SC_CALL_CAPTURE))
		queue_captured(from, now, ret, task);
	else
		queue_plain(from, now, ret, 0, task);
	from->start_ns = 0;
	return 0;
}
