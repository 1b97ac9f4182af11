/*
 * A workload whose system calls are known exactly, for syscount's privileged tests
 * and benchmarks. Statically linked, so the dynamic loader adds no openat/close/read.
 *
 *   workload [--wait-stdin] [--getppid N] [--openclose N] [--fail-close N]
 *            [--fail-open N] [--children K] [--child-getppid N] [--depth D]
 *            [--threads T] [--thread-getppid N] [--sleeps K] [--sleep-ms MS]
 *            [--exit CODE] [--loop-report]
 *
 * Order: wait for a byte on stdin (if asked), then threads (each makes
 * --thread-getppid calls), children (each makes --child-getppid calls, and with
 * --depth D forks its own child D levels deep, each level the same), then the
 * parent's own getppid, open+close, failing close(-1) (EBADF), failing openat of a
 * missing file (ENOENT), and nanosleeps. Every call goes through syscall(2), so libc
 * adds nothing behind our back.
 *
 * --loop-report: print "NS_PER_CALL <float>" for the parent's getppid loop (bench),
 * in thread CPU time (two clock_gettime calls are added).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct plan {
	long getppid, openclose, fail_close, fail_open;
	long children, child_getppid, depth;
	long threads, thread_getppid;
	long sleeps, sleep_ms;
	int exit_code, wait_stdin, loop_report;
};

static void call_getppid(long n)
{
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
}

static void *thread_main(void *arg)
{
	call_getppid(*(long *)arg);
	return NULL;
}

static void run_threads(const struct plan *p)
{
	pthread_t tids[64];
	long n = p->threads > 64 ? 64 : p->threads;
	long calls = p->thread_getppid;

	for (long i = 0; i < n; i++)
		if (pthread_create(&tids[i], NULL, thread_main, &calls)) {
			perror("pthread_create");
			exit(2);
		}
	for (long i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
}

/* A child makes its calls, then forks the next level while depth remains. */
static __attribute__((noreturn)) void child_main(long calls, long depth)
{
	for (;;) {
		pid_t pid;

		call_getppid(calls);
		if (depth-- <= 0)
			break;
		pid = fork();
		if (pid != 0) {
			if (pid > 0)
				waitpid(pid, NULL, 0);
			break;
		}
	}
	_exit(0);
}

static void run_children(const struct plan *p)
{
	for (long i = 0; i < p->children; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			exit(2);
		}
		if (pid == 0)
			child_main(p->child_getppid, p->depth);
		waitpid(pid, NULL, 0);
	}
}

/* CPU time of this thread (kernel time in our syscalls included): being preempted by
 * a noisy neighbour does not count, which steadies the benchmark. Only read with
 * --loop-report, so the exact-count tests see no clock_gettime. */
static double now_ns(int enabled)
{
	struct timespec ts;

	if (!enabled)
		return 0;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void run_parent(const struct plan *p)
{
	struct timespec pause = { p->sleep_ms / 1000, (p->sleep_ms % 1000) * 1000000L };
	double start = now_ns(p->loop_report);

	call_getppid(p->getppid);
	if (p->loop_report && p->getppid > 0)
		printf("NS_PER_CALL %.3f\n", (now_ns(1) - start) / p->getppid);
	for (long i = 0; i < p->openclose; i++) {
		long fd = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);
		syscall(SYS_close, fd);
	}
	for (long i = 0; i < p->fail_close; i++)
		syscall(SYS_close, -1);
	for (long i = 0; i < p->fail_open; i++)
		syscall(SYS_openat, AT_FDCWD, "/nonexistent/syscount-workload", O_RDONLY);
	for (long i = 0; i < p->sleeps; i++)
		syscall(SYS_nanosleep, &pause, NULL);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "wait-stdin", no_argument, NULL, 'w' },
		{ "getppid", required_argument, NULL, 'g' },
		{ "openclose", required_argument, NULL, 'o' },
		{ "fail-close", required_argument, NULL, 'c' },
		{ "fail-open", required_argument, NULL, 'f' },
		{ "children", required_argument, NULL, 'k' },
		{ "child-getppid", required_argument, NULL, 'K' },
		{ "depth", required_argument, NULL, 'd' },
		{ "threads", required_argument, NULL, 't' },
		{ "thread-getppid", required_argument, NULL, 'T' },
		{ "sleeps", required_argument, NULL, 's' },
		{ "sleep-ms", required_argument, NULL, 'm' },
		{ "exit", required_argument, NULL, 'e' },
		{ "loop-report", no_argument, NULL, 'r' },
		{ 0 },
	};
	struct plan p = { 0 };
	int opt;
	char byte;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		long v = optarg ? atol(optarg) : 0;
		switch (opt) {
		case 'w': p.wait_stdin = 1; break;
		case 'g': p.getppid = v; break;
		case 'o': p.openclose = v; break;
		case 'c': p.fail_close = v; break;
		case 'f': p.fail_open = v; break;
		case 'k': p.children = v; break;
		case 'K': p.child_getppid = v; break;
		case 'd': p.depth = v; break;
		case 't': p.threads = v; break;
		case 'T': p.thread_getppid = v; break;
		case 's': p.sleeps = v; break;
		case 'm': p.sleep_ms = v; break;
		case 'e': p.exit_code = (int)v; break;
		case 'r': p.loop_report = 1; break;
		default: return 2;
		}
	}
	if (p.wait_stdin && read(0, &byte, 1) != 1)
		return 3;
	run_threads(&p);
	run_children(&p);
	run_parent(&p);
	fflush(stdout);
	return p.exit_code;
}
