/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Layout shared by trace.bpf.c and its Python side (syscount/programs/trace.py and
 * syscount/trace/), which read the SC_* constants from this file at run time and
 * mirror the structs (syscount/kernel/structs.py), checked against the object by a test.
 *
 * One event per completed system call: the arguments are kept at entry in a per-CPU
 * slot (moved to task storage only if the task is switched out during the call), and
 * the event is queued on the ring buffer at exit with the result, the duration and
 * the data the call's arguments point to (strings, buffers, structs), read then.
 * Calls that never return (exit, exit_group) are queued at entry.
 */
#ifndef SYSCOUNT_TRACE_H
#define SYSCOUNT_TRACE_H

#include "track.h"

/* Per-syscall settings and events name a call by its slot (common.h). Numbers out of
 * the slots' range (x32, syscall(-1)) share the bank's last slot, which captures
 * nothing. */
#define SC_TRACE_ARGS 6

/* String data: a string may start anywhere below SC_TRACE_STR_AREA and run up to
 * SC_TRACE_STR_MAX bytes past it (the verifier needs both bounds to be constants). */
#define SC_TRACE_STR_AREA 4096
#define SC_TRACE_STR_MAX 4096
#define SC_TRACE_STR_BYTES 8208 /* SC_TRACE_STR_AREA + SC_TRACE_STR_MAX + 16 */
/* Bytes of one buffer or struct kept at most (-s): below SC_TRACE_STR_AREA. */
#define SC_TRACE_DATA_MAX 4095
/* Elements of an argv-like array (execve's argv) captured at most. */
#define SC_TRACE_ARGV_MAX 64

/* Per-slot call flags (sc_trace_config.calls) */
#define SC_CALL_NORETURN 1 /* exit, exit_group: queued at entry */
#define SC_CALL_EXEC 2     /* execve, execveat: strings read at entry (after success the
			    * caller's memory is gone), kept in task storage */
#define SC_CALL_CAPTURE 4  /* some argument is captured at exit (sc_trace_config.caps) */
#define SC_CALL_FILE 8     /* the result is a descriptor the kernel names (socket, pipe,
			    * anon inode): the exit adds what file it is (SC_STR_FILE item,
			    * argument index SC_TRACE_ARGS), read while it surely is open */

/* event flags */
#define SC_EVENT_NORETURN 1  /* exit/exit_group: queued at entry, no ret, no duration */
#define SC_EVENT_STR_FAULT 2 /* a string could not be read at entry; read again at exit */

/* One captured item in the event's data: this header, then `len` bytes. Items follow
 * each other unaligned, in argument order. A string has no NUL. */
struct sc_trace_str {
	__u8 arg;   /* argument index 0..5 */
	__u8 flags; /* SC_STR_* */
	__u16 len;
};

#define SC_STR_TRUNCATED 1 /* longer than the limit (or the space left): `len` bytes shown */
#define SC_STR_FAULT 2     /* could not be read (bad or unmapped address): len 0 */
#define SC_STR_ELEMENT 4   /* an element of an array argument (argv, iovec data), in order */
#define SC_STR_MORE 8      /* the array goes on: more elements than captured (len 0) */
#define SC_STR_HEAD 16     /* the argument's own struct (a msghdr) before its parts */
#define SC_STR_NAME 32     /* a msghdr's msg_name (a sockaddr) */
#define SC_STR_FILE 64     /* what a descriptor is: inode number (u64), mode (u32), dentry name */
#define SC_TRACE_FILE_NAME 64 /* bytes of the dentry name kept at most (with its NUL) */

/* How an argument is captured at exit (sc_trace_cap.how), from the caller's memory,
 * into the event. Lengths are bounded by data_max (-s) unless said otherwise. */
#define SC_CAP_NONE 0
#define SC_CAP_STR 1       /* NUL-terminated string, at most str_max bytes */
#define SC_CAP_ARGV 2      /* NULL-terminated array of strings (exec calls, at entry) */
#define SC_CAP_BUF 3       /* bytes: as many as argument `len_arg` (a value) says */
#define SC_CAP_BUF_RET 4   /* bytes: as many as the call returned */
#define SC_CAP_FIXED 5     /* `size` bytes: a struct */
#define SC_CAP_ADDR 6      /* a sockaddr of argument `len_arg` bytes (a value), at most `size` */
#define SC_CAP_ADDR_PTR 7  /* a sockaddr of as many bytes as the int at argument `len_arg` */
#define SC_CAP_IOV 8       /* iovec[argument `len_arg`]: each element's iov_len (u64) and data */
#define SC_CAP_IOV_RET 9   /* the same, data up to the returned total (read-like) */
#define SC_CAP_ARRAY 10    /* `size`-byte elements, as many as argument `len_arg` says */
#define SC_CAP_ARRAY_RET 11 /* `size`-byte elements, as many as the call returned */
#define SC_CAP_MSGHDR 12   /* struct msghdr (HEAD), its msg_name (NAME), its iovec (IOV) */
#define SC_CAP_MSGHDR_RET 13 /* the same, data up to the returned total */
#define SC_CAP_FDS 14      /* int[2] of new descriptors (pipe, socketpair), then each one's
			    * file (SC_STR_FILE) */
#define SC_CAP_HOW 15      /* mask of the above */
#define SC_CAP_IF_OK 16    /* only when the call succeeded: the kernel wrote it */

/* Elements of an iovec captured at most, and bytes of an array of structs. */
#define SC_TRACE_IOV_MAX 8
#define SC_TRACE_ARRAY_MAX 256
#define SC_TRACE_ADDR_MAX 128 /* sizeof(struct sockaddr_storage) */
#define SC_TRACE_MSGHDR 56    /* sizeof(struct msghdr) on 64-bit ABIs */

struct sc_trace_cap {
	__u8 how;     /* SC_CAP_* | SC_CAP_IF_OK */
	__u8 len_arg; /* argument index holding the length or count */
	__u16 size;   /* SC_CAP_FIXED, SC_CAP_ARRAY*: bytes; SC_CAP_ADDR: at most */
};

/* What the ring buffer carries: this header, then `str_bytes` of captured data. */
struct sc_trace_event {
	__u64 start_ns;    /* bpf_ktime_get_ns() at entry (CLOCK_MONOTONIC) */
	__u64 duration_ns; /* entry to exit; 0 with SC_EVENT_NORETURN */
	__s64 ret;
	__u64 args[SC_TRACE_ARGS];
	__u32 pid; /* process (tgid) */
	__u32 tid; /* thread, at exit (a non-leader's execve takes the leader's id) */
	__u32 slot; /* the call: sc_slot() of its ABI and number (common.h) */
	__u16 flags;
	__u16 str_bytes;
	char comm[SC_COMM_LEN];   /* at exit: after an execve, the new program's */
};

/* An event being built with its data: per CPU at exit, per thread (task storage) for
 * the strings of an exec call, read at entry. */
struct sc_trace_task {
	struct sc_trace_event ev; /* ev.start_ns == 0: no call in progress */
	char str[SC_TRACE_STR_BYTES];
};

/* The call in progress: per CPU while its task runs (the fast path), moved to the
 * task's storage when the task is switched out during the call. */
struct sc_trace_running {
	__u64 task;     /* the thread's task_struct (per CPU only); 0 = none. Compared, never
			 * followed: the slot is emptied whenever its task leaves the CPU.
			 * exec calls go to task storage at once */
	__u64 start_ns; /* 0 = none (task storage) */
	__u64 args[SC_TRACE_ARGS];
	__u32 slot;
	__u32 exec;     /* the strings are in the exec storage */
};

/* Set before load (.rodata). */
struct sc_trace_config {
	struct sc_filter_config filter;
	__u32 str_max;  /* longest string kept, in bytes (--strings), <= SC_TRACE_STR_MAX */
	__u32 argv_max; /* array elements kept, <= SC_TRACE_ARGV_MAX */
	__u32 data_max; /* bytes of a buffer kept (-s), <= SC_TRACE_STR_MAX */
	__u32 wakeup_bytes; /* wake the consumer when this much is queued; 0: never */
	__u8 calls[SC_SLOTS]; /* SC_CALL_* */
	struct sc_trace_cap caps[SC_SLOTS][SC_TRACE_ARGS];
};

/* One CPU's counters, a cache line apart so CPUs never share a line. Only grow. */
struct sc_trace_cpu {
	__u64 calls; /* events due: completed (and never-returning) selected calls */
	__u64 lost;  /* of those, events the ring buffer had no room for */
	__u64 no_storage; /* of the lost: calls whose arguments could not be kept */
	__u64 pad[5];
};

/* The only .bss variable. */
struct sc_trace_counters {
	struct sc_trace_cpu cpu[SC_CPU_ROWS]; /* per-CPU rows (common.h) */
};

#endif
