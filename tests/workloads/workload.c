/*
 * A workload whose system calls are known exactly, for syscount's privileged tests
 * and benchmarks. Statically linked, so the dynamic loader adds no openat/close/read.
 *
 *   workload [--wait-stdin] [--getppid N] [--openclose N] [--fail-close N]
 *            [--fail-open N] [--children K] [--child-getppid N] [--depth D]
 *            [--threads T] [--thread-getppid N] [--sleeps K] [--sleep-ms MS]
 *            [--exit CODE] [--loop-report] [--exec-chain K] [--orphan-getppid N]
 *            [--churn N] [--churn-rate PER_SECOND]
 *
 * Order: wait for a byte on stdin (if asked), then threads (each makes
 * --thread-getppid calls), children (each makes --child-getppid calls, and with
 * --depth D forks its own child D levels deep, each level the same), then the
 * parent's own getppid, open+close, failing close(-1) (EBADF), failing openat of a
 * missing file (ENOENT), and nanosleeps. Every call goes through syscall(2), so libc
 * adds nothing behind our back.
 *
 * --exec-chain K: first re-execute itself K times (K+1 execve in all), the rest of the
 * plan unchanged. --orphan-getppid N (after the children): a child forks a grandchild
 * and exits at once; the grandchild, outliving its parent, waits for that exit, makes
 * N getppid and exits; the parent waits for the child and then for the grandchild's end
 * (EOF on a pipe): 2 pipe2, 2 clone, 5 close, 2 read, 1 wait4, 2 exit_group besides
 * the N getppid. --churn N (last): fork N children one after another, each exiting at
 * once (N clone and N wait4 in the parent, one exit_group in each child); with
 * --churn-rate R at most R a second (one clock_nanosleep per 60 processes).
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
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct plan {
	long getppid, openclose, fail_close, fail_open;
	long children, child_getppid, depth;
	long threads, thread_getppid;
	long sleeps, sleep_ms;
	long exec_chain, orphan_getppid, churn, churn_rate;
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

/* A grandchild that outlives its parent: see the header. */
static void run_orphan(long calls)
{
	int gone[2], done[2];
	char byte;
	pid_t pid;

	if (syscall(SYS_pipe2, gone, 0) || syscall(SYS_pipe2, done, 0)) {
		perror("pipe2");
		exit(2);
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		if (fork() == 0) {
			syscall(SYS_close, gone[1]);
			syscall(SYS_read, gone[0], &byte, 1); /* EOF once its parent has exited */
			call_getppid(calls);
		}
		_exit(0);
	}
	syscall(SYS_close, gone[1]);
	syscall(SYS_close, done[1]);
	waitpid(pid, NULL, 0);
	syscall(SYS_read, done[0], &byte, 1); /* EOF once the grandchild has exited */
	syscall(SYS_close, gone[0]);
	syscall(SYS_close, done[0]);
}

/* Short-lived processes, one after another: process churn. With a rate, paced by an
 * absolute sleep every CHURN_BATCH processes (one extra call per batch, so a benchmark
 * can hold the churn at, say, 6 000 exits/s on any machine). */
#define CHURN_BATCH 60
static void run_churn(long n, long rate)
{
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next); /* vDSO: no system call */
	for (long i = 0; i < n; i++) {
		if (rate > 0 && i > 0 && i % CHURN_BATCH == 0) {
			next.tv_nsec += (long)(CHURN_BATCH * 1000000000LL / rate);
			next.tv_sec += next.tv_nsec / 1000000000L;
			next.tv_nsec %= 1000000000L;
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		}
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			exit(2);
		}
		if (pid == 0)
			_exit(0);
		waitpid(pid, NULL, 0);
	}
}

/* Re-execute this program with --exec-chain one lower (the option's value is replaced
 * in place, so every other option stays as it was). */
static void exec_again(int argc, char **argv, long left)
{
	static char value[32];

	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--exec-chain")) {
			snprintf(value, sizeof(value), "%ld", left - 1);
			argv[i + 1] = value;
		}
	syscall(SYS_execve, "/proc/self/exe", argv, environ);
	perror("execve");
	exit(2);
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
		{ "exec-chain", required_argument, NULL, 'x' },
		{ "orphan-getppid", required_argument, NULL, 'O' },
		{ "churn", required_argument, NULL, 'C' },
		{ "churn-rate", required_argument, NULL, 'R' },
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
		case 'x': p.exec_chain = v; break;
		case 'O': p.orphan_getppid = v; break;
		case 'C': p.churn = v; break;
		case 'R': p.churn_rate = v; break;
		default: return 2;
		}
	}
	if (p.exec_chain > 0)
		exec_again(argc, argv, p.exec_chain); /* --exec-chain 0 comes to --wait-stdin */
	if (p.wait_stdin && read(0, &byte, 1) != 1)
		return 3;
	run_threads(&p);
	run_children(&p);
	if (p.orphan_getppid > 0)
		run_orphan(p.orphan_getppid);
	run_parent(&p);
	run_churn(p.churn, p.churn_rate);
	fflush(stdout);
	return p.exit_code;
}
