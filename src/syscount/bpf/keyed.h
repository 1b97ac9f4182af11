/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Breakdowns (-P, --by-thread, --by-cgroup, --by-comm): calls per (who, syscall slot, errno).
 *
 * One bounded hash map; a new key is inserted on the first call. When the map is full,
 * the call is still counted in `keyed_other[slot]` (in the program's .bss), so the rows
 * plus "other" always add up to the total. User space deletes the keys of processes
 * that have exited (after reading their last values), which keeps the map bounded.
 * The kernel tells it which: sc_keyed_exit() hands over the final direct row of each
 * process (thread) that ends with only that row (most short-lived ones) in one record
 * of the `ended_rows` ring, and frees the row itself; it puts the others into `exited`,
 * which user space drains in one call per reading. The housekeeping costs a few system
 * calls per reading however many processes come and go.
 * syscount/collectors/breakdown.py reads the SC_* constants from this file.
 */
#ifndef SYSCOUNT_KEYED_H
#define SYSCOUNT_KEYED_H

#define SC_MAX_KEYS 16384
#define SC_BY_NONE 0
#define SC_BY_PROCESS 1
#define SC_BY_THREAD 2
#define SC_BY_CGROUP 3
#define SC_BY_COMM 4 /* keyed by a hash of the thread name; key_names holds the name */

/* A key is one 64-bit word, id << 32 | slot << 12 | errno: hashing 8 bytes instead of a
 * 16-byte struct, and a per-CPU hash instead of atomic adds, took ~30 ns off every call.
 *   id:   tgid, tid, low 32 bits of the cgroup id, or a 32-bit hash of the thread name
 *   slot: sc_slot() of the call (common.h; 10 bits)
 *   err:  errno for failed calls (programs that see the exit), else 0 (12 bits) */
#define SC_KEY_ID_SHIFT 32
/* Direct rows: the id's low bits pick one of SC_DIRECT_ROWS rows of per-syscall counters
 * (array lookups, which the verifier inlines: ~33 ns a call where the hash costs ~73).
 * A row belongs to the first id that claims it; ids that collide with a taken row, and
 * failed calls (keyed by errno), use the hash. User space frees a dead process's row. */
#define SC_DIRECT_ROWS 1024
#define SC_DIR_USED (1ULL << 32) /* key_dir value: id | SC_DIR_USED; 0 = free */
#define SC_DIR_FREEING (1ULL << 33) /* key_dir value while the kernel frees an ended id's row */
/* An ended process's (thread's) direct row, handed over whole at sched_process_exit:
 * at most this many used slots (a short-lived process uses a few; more: user space
 * reads and frees the row as before). */
#define SC_ENDED_SLOTS 14
#define SC_ENDED_RING (2 << 20) /* bytes: ~11 900 ended rows between two readings */
#define SC_KEY_SLOT_SHIFT 12
#define SC_KEY_ERR_MASK 4095

#ifdef __bpf__
#include <bpf/bpf_core_read.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH); /* preallocated: inserts need no allocation */
	__uint(max_entries, SC_MAX_KEYS);
	__type(key, __u64);
	__type(value, __u64); /* per CPU, only grows */
} keyed SEC(".maps");

/* `used` marks the slots with calls, set on a slot's first call: user space reads only
 * those, not all SC_SLOTS counters of every row (under churn every row is taken).
 * `comm` is the owner's name as key_names holds it, written before a slot is marked:
 * user space reads it with the calls, so a row is named even when its id ends (and
 * the kernel deletes the id's name) before user space reads key_names. */
struct sc_direct_row {
	__u64 used[SC_SLOTS / 64];
	char comm[SC_COMM_LEN];
	__u64 calls[SC_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SC_DIRECT_ROWS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64); /* owner: id | SC_DIR_USED, or 0 */
} key_dir SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SC_DIRECT_ROWS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct sc_direct_row); /* only grows while owned */
} key_rows SEC(".maps");

/* The name of each process or thread id, as of its latest new key (so a process that
 * execs is named after the program it became, not the shell that forked it). */
/* Preallocated: an element freed at one CPU's exit is there for another CPU's insert.
 * Allocated on demand, inserts failed now and then under churn (~1 in 100 short-lived
 * processes went unnamed), when the kernel frees names as processes end. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SC_MAX_KEYS);
	__type(key, __u64);
	__type(value, char[16]);
} key_names SEC(".maps");

/* Ids (tgid with -P, tid with --by-thread) that ended with rows in the maps, not yet
 * read by user space. Sized like key_names (every id with rows has a name), so an id
 * with rows always finds room. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SC_MAX_KEYS);
	__type(key, __u64);
	__type(value, __u8);
} exited SEC(".maps");

/* Ids (-P, --by-thread) with calls in the hash: at their end user space reads and
 * frees everything, as the kernel cannot find an id's hash keys. Set on a new key. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH); /* preallocated, as key_names */
	__uint(max_entries, SC_MAX_KEYS);
	__type(key, __u64);
	__type(value, __u8);
} key_hashed SEC(".maps");

/* The final row of an ended id that had only a direct row: its used slots and their
 * calls, and its name. One record instead of user space finding the row among the
 * others, copying it, zeroing 8 KB and deleting the name: under churn most rows end
 * this way (and their row is free for the next id at once, so few spill to the hash). */
struct sc_ended {
	__u64 id;
	char comm[SC_COMM_LEN];
	__u32 slots; /* entries used in slot[] and calls[] */
	__u16 slot[SC_ENDED_SLOTS];
	__u64 calls[SC_ENDED_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SC_ENDED_RING);
} ended_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); /* where a record is built (too big for the stack) */
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sc_ended);
} ended_scratch SEC(".maps");

/* Only the task fields sc_keyed_exit() reads, resolved against the kernel's BTF
 * (CO-RE); the ___sc flavour keeps them apart from other partial definitions. */
struct signal_struct___sc {
	struct {
		int counter;
	} live;
} __attribute__((preserve_access_index));

struct task_struct___sc {
	int pid;
	int tgid;
	struct signal_struct___sc *signal;
} __attribute__((preserve_access_index));

/* FNV-1a over the 16 bytes of a thread name: a stable 32-bit key for it. */
static __always_inline __u32 sc_comm_hash(const char *comm)
{
	__u32 hash = 2166136261U;
	int i;

	for (i = 0; i < 16; i++) {
		hash ^= (__u8)comm[i];
		hash *= 16777619U;
	}
	return hash;
}

static __always_inline __u32 sc_key_id(__u32 by, const char *comm)
{
	__u64 pid_tgid;

	if (by == SC_BY_CGROUP)
		return (__u32)bpf_get_current_cgroup_id();
	if (by == SC_BY_COMM)
		return sc_comm_hash(comm);
	pid_tgid = bpf_get_current_pid_tgid();
	return by == SC_BY_THREAD ? (__u32)pid_tgid : pid_tgid >> 32;
}

static __always_inline void sc_record_name(__u32 by, __u64 id, char *comm)
{
	if (by == SC_BY_CGROUP)
		return;
	if (by != SC_BY_COMM)
		bpf_get_current_comm(comm, 16);
	bpf_map_update_elem(&key_names, &id, comm, BPF_ANY);
}

struct sc_gather {
	__u32 idx; /* the row */
	__u32 over; /* more used slots than a record holds */
};

/* bpf_loop callback: the used slots of one 64-slot word of a row, into the record. */
static long sc_gather_word(__u32 word, void *data)
{
	struct sc_gather *gather = data;
	struct sc_direct_row *row;
	struct sc_ended *out;
	__u32 zero = 0, bit, n;
	__u64 bits;

	row = bpf_map_lookup_elem(&key_rows, &gather->idx);
	out = bpf_map_lookup_elem(&ended_scratch, &zero);
	if (!row || !out)
		return 1;
	word &= SC_SLOTS / 64 - 1; /* bpf_loop's index is below that: bounds for the verifier */
	bits = row->used[word];
	for (bit = 0; bit < 64 && bits; bit++, bits >>= 1) {
		if (!(bits & 1))
			continue;
		n = out->slots;
		if (n >= SC_ENDED_SLOTS) {
			gather->over = 1;
			return 1;
		}
		out->slot[n] = word * 64 + bit;
		out->calls[n] = row->calls[(word * 64 + bit) & (SC_SLOTS - 1)];
		out->slots = n + 1;
	}
	return 0;
}

/* Hand an ended id's direct row over in one ring record and free it here; 0 = not
 * done (no row, calls in the hash too, too many slots, or the ring full): user space
 * then reads and frees it as before. The row is taken out of use first (FREEING): no
 * id claims it and user space skips it until it is zeroed and free. */
static __always_inline int sc_hand_over(__u64 id)
{
	__u32 idx = id & (SC_DIRECT_ROWS - 1), zero = 0, i, n;
	__u64 owned = id | SC_DIR_USED;
	struct sc_gather gather = { .idx = idx };
	struct sc_direct_row *row;
	struct sc_ended *out;
	__u64 *entry;

	if (bpf_map_lookup_elem(&key_hashed, &id))
		return 0;
	entry = bpf_map_lookup_elem(&key_dir, &idx);
	row = bpf_map_lookup_elem(&key_rows, &idx);
	out = bpf_map_lookup_elem(&ended_scratch, &zero);
	if (!entry || !row || !out)
		return 0;
	if (__sync_val_compare_and_swap(entry, owned, SC_DIR_FREEING) != owned)
		return 0; /* not this id's row */
	out->id = id;
	out->slots = 0;
	__builtin_memcpy(out->comm, row->comm, SC_COMM_LEN);
	bpf_loop(SC_SLOTS / 64, sc_gather_word, &gather, 0);
	/* No wake-up: user space drains the ring at each reading. */
	if (gather.over || bpf_ringbuf_output(&ended_rows, out, sizeof(*out), BPF_RB_NO_WAKEUP)) {
		__sync_lock_test_and_set(entry, owned); /* still this id's: user space frees it */
		return 0;
	}
	n = out->slots;
	for (i = 0; i < SC_ENDED_SLOTS && i < n; i++)
		row->calls[out->slot[i] & (SC_SLOTS - 1)] = 0;
	for (i = 0; i < SC_SLOTS / 64; i++)
		row->used[i] = 0;
	bpf_map_delete_elem(&key_names, &id);
	__sync_lock_test_and_set(entry, 0); /* a full barrier: the zeroes are seen before the row is free */
	return 1;
}

/* sched_process_exit: `task` ends. This tracepoint comes after the task's last system
 * call, and for the thread that ends the group signal->live has just reached 0, so a
 * process is seen here once, when its last thread ends: its rows are final. A row
 * alone is handed over in the ring (sc_hand_over); otherwise the id goes into `exited`
 * if it has rows, and user space reads and frees them. */
static __always_inline void sc_keyed_exit(__u32 by, struct task_struct___sc *task)
{
	__u8 one = 1;
	__u64 id;

	if (by == SC_BY_THREAD) {
		id = (__u32)BPF_CORE_READ(task, pid);
	} else if (by == SC_BY_PROCESS) {
		if (BPF_CORE_READ(task, signal, live.counter) != 0)
			return;
		id = (__u32)BPF_CORE_READ(task, tgid);
	} else {
		return;
	}
	if (sc_hand_over(id))
		return;
	if (bpf_map_lookup_elem(&key_names, &id))
		bpf_map_update_elem(&exited, &id, &one, BPF_ANY);
}

/* Count in the id's direct row if it owns it (or claims it now); 0 = use the hash. */
static __always_inline int sc_count_direct(__u32 by, __u64 id, __u32 slot, char *comm)
{
	__u32 idx = id & (SC_DIRECT_ROWS - 1);
	__u64 want = id | SC_DIR_USED, owner;
	struct sc_direct_row *row;
	__u64 *entry;

	entry = bpf_map_lookup_elem(&key_dir, &idx);
	if (!entry || slot >= SC_SLOTS)
		return 0;
	owner = *entry;
	if (owner != want) {
		if (owner)
			return 0; /* taken by another id */
		owner = __sync_val_compare_and_swap(entry, 0, want);
		if (owner && owner != want)
			return 0; /* another id claimed it first */
	}
	row = bpf_map_lookup_elem(&key_rows, &idx);
	if (!row)
		return 0;
	if (!__sync_fetch_and_add(&row->calls[slot], 1)) {
		/* A slot's first call: name the id again (as a new hash key does), so a process
		 * that execs is named after the program it became, in the row first; then mark
		 * the slot (a full barrier: a marked slot's row has its name). */
		if (by == SC_BY_COMM)
			__builtin_memcpy(row->comm, comm, SC_COMM_LEN);
		else if (by != SC_BY_CGROUP)
			bpf_get_current_comm(row->comm, SC_COMM_LEN);
		__sync_fetch_and_or(&row->used[slot / 64], 1ULL << (slot % 64));
		if (by != SC_BY_CGROUP)
			bpf_map_update_elem(&key_names, &id, row->comm, BPF_ANY);
	}
	return 1;
}

/* Count one call for the current task's row; `other` is the program's overflow row. */
static __always_inline void sc_count_keyed(__u32 by, __u32 slot, __u32 err, __u64 *other)
{
	char comm[16] = {};
	__u64 key, id, one = 1, *n;
	__u8 flag = 1;

	/* The name is fetched on every call only when it is the key; otherwise only when
	 * a new key is inserted (rare): it costs ~20 ns. */
	if (by == SC_BY_COMM)
		bpf_get_current_comm(comm, sizeof(comm));
	id = sc_key_id(by, comm);
	if (!err && sc_count_direct(by, id, slot, comm))
		return;
	key = id << SC_KEY_ID_SHIFT | (__u64)slot << SC_KEY_SLOT_SHIFT | (err & SC_KEY_ERR_MASK);
	n = bpf_map_lookup_elem(&keyed, &key);
	if (n) {
		(*n)++; /* this CPU's value: one writer at a time */
		return;
	}
	if (bpf_map_update_elem(&keyed, &key, &one, BPF_NOEXIST) == 0) {
		sc_record_name(by, id, comm);
		if (by == SC_BY_PROCESS || by == SC_BY_THREAD)
			bpf_map_update_elem(&key_hashed, &id, &flag, BPF_ANY);
		return;
	}
	n = bpf_map_lookup_elem(&keyed, &key); /* another CPU inserted it first */
	if (n)
		(*n)++;
	else if (slot < SC_SLOTS)
		__sync_fetch_and_add(&other[slot], 1); /* full: counted all the same */
}
#endif

#endif
