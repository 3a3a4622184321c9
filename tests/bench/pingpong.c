/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Context-switch-heavy workload for make bench: N round trips of one byte
 * between two processes over two pipes. Pinned to one CPU (run.sh uses
 * taskset), each round trip is two context switches and two wakeups, which
 * is where cgwarden's sched_wakeup/sched_switch programs run. Prints the
 * wall time of the round trips (fork and exit not included) and the CPU
 * time both processes used (user + system, fork and exit included): the
 * CPU time is what our programs add to, and unlike the wall time it does
 * not grow when something else on the machine takes the CPU. Never
 * pass/fail.
 *   pingpong [ROUND_TRIPS]        default 200000
 * Output, one line (run.sh reads the 6th field, the wall seconds, and the
 * 14th, the CPU seconds):
 *   pingpong: N round trips in S s, U us per round trip, cpu C s
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* User + system seconds of this process and its waited-for children. */
static double cpu_s(void)
{
	struct rusage self, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	return tv_s(self.ru_utime) + tv_s(self.ru_stime) + tv_s(kids.ru_utime) +
	       tv_s(kids.ru_stime);
}

/* One byte each way; EINTR is retried, anything else is fatal. */
static int xfer(int rfd, int wfd, int first_write)
{
	char c = 'x';

	for (int step = 0; step < 2; step++) {
		int writing = (step == 0) == first_write;
		ssize_t n;

		do
			n = writing ? write(wfd, &c, 1) : read(rfd, &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
	int ping[2], pong[2], status;
	double t0, t, c0 = cpu_s();
	pid_t pid;

	if (n < 1 || argc > 2) {
		fprintf(stderr, "usage: pingpong [ROUND_TRIPS]\n");
		return 2;
	}
	if (pipe(ping) || pipe(pong)) {
		perror("pingpong: pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("pingpong: fork");
		return 1;
	}
	if (pid == 0) {
		/* The echo side: read from ping, answer on pong. */
		close(ping[1]);
		close(pong[0]);
		for (long i = 0; i < n; i++)
			if (xfer(ping[0], pong[1], 0))
				_exit(1);
		_exit(0);
	}
	close(ping[0]);
	close(pong[1]);
	t0 = now_s();
	for (long i = 0; i < n; i++) {
		if (xfer(pong[0], ping[1], 1)) {
			fprintf(stderr, "pingpong: round trip %ld: %s\n", i, strerror(errno));
			return 1;
		}
	}
	t = now_s() - t0;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "pingpong: the echo process failed\n");
		return 1;
	}
	printf("pingpong: %ld round trips in %.3f s, %.2f us per round trip, cpu %.3f s\n",
	       n, t, t * 1e6 / (double)n, cpu_s() - c0);
	return 0;
}
