/*
 * A getppid flood for syscount trace's loss and throughput tests and benchmarks.
 *
 *   flood [--threads T] [--calls N] [--rate R] [--write BYTES] [--wait-stdin]
 *
 * With --write BYTES, each call is a write(2) of BYTES bytes ("x"...) to /dev/null
 * instead of getppid: a flood of calls whose buffers syscount trace captures.
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
	long threads, calls, rate, write;
};

static struct plan plan = { 1, 1000000, 0, 0 };
static int devnull = -1;
static char data[4096];

static void one_call(void)
{
	if (plan.write)
		syscall(SYS_write, devnull, data, plan.write);
	else
		syscall(SYS_getppid);
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

	(void)unused;
	if (!plan.rate) {
		while (left-- > 0)
			one_call();
		return NULL;
	}
	/* calls per burst for this thread; at least one */
	burst = plan.rate / plan.threads / (1000000000L / BURST_NS);
	if (burst < 1)
		burst = 1;
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (left > 0) {
		for (long i = 0; i < burst && left > 0; i++, left--)
			one_call();
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
