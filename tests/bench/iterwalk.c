/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The bare cgroup-iterator walk (src/iterbpf.c) over DIR: the kernel's
 * cost of one tick with the iterator source, the figure user space is
 * measured against. Times WALKS walks after WARMUP untimed ones and prints
 * one line of key=value pairs (tests/bench/run.sh parses these keys):
 *   cgroups=N walk_ms_median=X.XXX walk_ms_min=X.XXX flush=NAME cap=N
 *   iterwalk [-n WALKS] [-w WARMUP] [-i INTERVAL_MS] DIR
 * -i sleeps between walks as a command's tick timer does: walks back to
 * back find the kernel's cgroup structures in the CPU caches, walks a
 * second apart do not (2.8 ms against about 7 ms for 10,011 cgroups
 * here), and the command is measured at its interval.
 * Exit 0; 2 with "iterwalk: <why>" when the iterator cannot be had.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "iterbpf.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int usage(void)
{
	fprintf(stderr, "usage: iterwalk [-n WALKS] [-w WARMUP] [-i INTERVAL_MS] DIR\n");
	return 2;
}

int main(int argc, char **argv)
{
	const struct cgw_iter_rec *recs;
	struct iterbpf *it = NULL;
	uint32_t n = 0;
	uint64_t *t;
	char why[256];
	long walks = 20, warmup = 3, interval_ms = 0;
	int c, fd, err;

	while ((c = getopt(argc, argv, "n:w:i:")) != -1) {
		switch (c) {
		case 'n':
			walks = strtol(optarg, NULL, 10);
			break;
		case 'w':
			warmup = strtol(optarg, NULL, 10);
			break;
		case 'i':
			interval_ms = strtol(optarg, NULL, 10);
			break;
		default:
			return usage();
		}
	}
	if (optind != argc - 1 || walks < 1 || walks > 100000 || warmup < 0 || interval_ms < 0 ||
	    interval_ms > 60000)
		return usage();
	fd = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "iterwalk: %s: %s\n", argv[optind], strerror(errno));
		return 2;
	}
	err = iterbpf_open(fd, 0, &it, why, sizeof(why));
	close(fd);
	if (err) {
		fprintf(stderr, "iterwalk: %s\n", why);
		return 2;
	}
	t = calloc((size_t)walks, sizeof(*t));
	if (!t) {
		iterbpf_close(it);
		fprintf(stderr, "iterwalk: out of memory\n");
		return 2;
	}
	/* The warm-up walks also grow the array to the tree, so the timed
	 * ones are single reads. */
	for (long i = -warmup; i < walks; i++) {
		if (interval_ms)
			usleep((useconds_t)interval_ms * 1000);
		err = iterbpf_walk(it, &recs, &n, why, sizeof(why));
		if (err) {
			fprintf(stderr, "iterwalk: %s\n", why);
			free(t);
			iterbpf_close(it);
			return 2;
		}
		if (i >= 0)
			t[i] = iterbpf_last_walk_ns(it);
	}
	qsort(t, (size_t)walks, sizeof(*t), cmp_u64);
	printf("cgroups=%u walk_ms_median=%.3f walk_ms_min=%.3f flush=%s cap=%u\n", n,
	       (walks % 2 ? t[walks / 2] : (t[walks / 2 - 1] + t[walks / 2]) / 2) / 1e6,
	       t[0] / 1e6, iterbpf_flush_name(it), iterbpf_capacity(it));
	free(t);
	iterbpf_close(it);
	return 0;
}
