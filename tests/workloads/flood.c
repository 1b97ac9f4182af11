/*
 * A getppid flood for syscount trace's loss and throughput tests and benchmarks.
 *
 *   flood [--threads T] [--calls N] [--rate R] [--write BYTES [--vary]] [--open] [--wait-stdin]
 *
 * With --write BYTES, each call is a write(2) of BYTES bytes ("x"...) to /dev/null
 * instead of getppid: a flood of calls whose buffers syscount trace captures. With
 * --vary as well, every write's buffer differs from the one before (the thread's call
 * number in decimal, then a control byte, a high byte, a quote and a backslash that
 * change with it), so no two events in a row render alike.
 * With --open, each call is an openat(AT_FDCWD, "/nonexistent/flood/<T>/<n>", O_RDONLY),
 * which fails with ENOENT: a flood of paths of varying length, all different.
 * T threads (default 1) each make exactly N raw getppid calls (default 1000000).
 * With --rate R, the process as a whole makes R calls per second: each thread
 * makes its share in bursts every millisecond, on an absolute schedule, so the
 * rate stays steady (a thread that falls behind catches up without sleeping).
 * At the end it prints "CALLS <total> SECONDS <elapsed> CPU <seconds>" (monotonic
 * clock; CPU time of the whole process, kernel time in its calls included) on stdout. Statically linked, and every call goes through syscall(2), so the
 * only getppid calls are the counted ones.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BURST_NS 1000000L

struct plan {
	long threads, calls, rate, write, vary, open;
};

static struct plan plan = { 1, 1000000, 0, 0, 0, 0 };
static int devnull = -1;
static char data[4096];
static _Atomic long thread_ids;

/* What varies per call (--vary, --open): each thread's own buffer and counter. */
struct varied {
	long thread, n;
	char buf[4096];
};

/* The decimal digits of n at p, right to left from p + width - 1 (zero-padded). */
static void digits(char *p, int width, long n)
{
	for (int i = width - 1; i >= 0; i--, n /= 10)
		p[i] = (char)('0' + n % 10);
}

static void one_call(struct varied *v)
{
	if (plan.open) {
		snprintf(v->buf, sizeof(v->buf), "/nonexistent/flood/%ld/%ld", v->thread, v->n++);
		syscall(SYS_openat, AT_FDCWD, v->buf, O_RDONLY);
	} else if (plan.write && plan.vary) {
		static const char odd[] = { '\n', '\033', (char)0xe9, '"', '\\', '\t', 0, 0x7f };
		long n = v->n++;
		digits(v->buf, 10, n);
		v->buf[10] = odd[n % 8];
		v->buf[11] = (char)('a' + n % 26);
		syscall(SYS_write, devnull, v->buf, plan.write);
	} else if (plan.write) {
		syscall(SYS_write, devnull, data, plan.write);
	} else {
		syscall(SYS_getppid);
	}
}

static void add_ns(struct timespec *t, long ns)
{
	t->tv_nsec += ns;
	while (t->tv_nsec >= 1000000000L) {
		t->tv_nsec -= 1000000000L;
		t->tv_sec++;
	}
}

static void *flood(void *unused)
{
	long left = plan.calls, burst;
	struct timespec next;
	static __thread struct varied v;

	(void)unused;
	v.thread = thread_ids++;
	memset(v.buf, 'x', sizeof(v.buf));
	if (!plan.rate) {
		while (left-- > 0)
			one_call(&v);
		return NULL;
	}
	/* calls per burst for this thread; at least one */
	burst = plan.rate / plan.threads / (1000000000L / BURST_NS);
	if (burst < 1)
		burst = 1;
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (left > 0) {
		for (long i = 0; i < burst && left > 0; i++, left--)
			one_call(&v);
		add_ns(&next, BURST_NS);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "calls", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "write", required_argument, NULL, 'b' },
		{ "vary", no_argument, NULL, 'v' },
		{ "open", no_argument, NULL, 'o' },
		{ "wait-stdin", no_argument, NULL, 'w' },
		{ 0 },
	};
	pthread_t tids[64];
	struct timespec start, end;
	struct rusage usage;
	int opt, wait_stdin = 0;
	char byte;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		long v = optarg ? atol(optarg) : 0;
		switch (opt) {
		case 't': plan.threads = v < 1 ? 1 : v > 64 ? 64 : v; break;
		case 'n': plan.calls = v; break;
		case 'r': plan.rate = v; break;
		case 'b': plan.write = v < 1 ? 1 : v > 4096 ? 4096 : v; break;
		case 'v': plan.vary = 1; break;
		case 'o': plan.open = 1; break;
		case 'w': wait_stdin = 1; break;
		default: return 2;
		}
	}
	if (plan.write) {
		memset(data, 'x', sizeof(data));
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (devnull < 0) {
			perror("/dev/null");
			return 2;
		}
	}
	if (wait_stdin && read(0, &byte, 1) != 1)
		return 3;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (long i = 0; i < plan.threads; i++)
		if (pthread_create(&tids[i], NULL, flood, NULL)) {
			perror("pthread_create");
			return 2;
		}
	for (long i = 0; i < plan.threads; i++)
		pthread_join(tids[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &end);
	getrusage(RUSAGE_SELF, &usage);
	printf("CALLS %ld SECONDS %.6f CPU %.6f\n", plan.threads * plan.calls,
	       (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9,
	       usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
		       (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6);
	return 0;
}
