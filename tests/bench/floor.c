/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Collector benchmark: time a collector tick over DIR and, in the same run,
 * a floor that only preads the same files through fds opened beforehand.
 * Prints per-tick wall time, files read, the ratio, RSS and fd use.
 * Never pass/fail: the figures are for people (make bench).
 *   floor DIR [TICKS]
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cgfs.h"
#include "collector.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static char **paths;
static size_t nr_paths, cap_paths;
static const char *const *names;
static size_t nr_names;

/* Every file the collector would read: the same names, in every cgroup. */
static int add_dir(const char *dir, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type != FTW_D)
		return 0;
	for (size_t i = 0; i < nr_names; i++) {
		char p[4096];

		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		if (access(p, R_OK))
			continue;
		if (nr_paths == cap_paths) {
			cap_paths = cap_paths ? cap_paths * 2 : 4096;
			paths = realloc(paths, cap_paths * sizeof(*paths));
			if (!paths)
				return -1;
		}
		paths[nr_paths++] = strdup(p);
	}
	return 0;
}

/* One floor tick: pread every file once. The fd limit may not hold them all
 * (10,000 cgroups x 7 files here), so they are opened in chunks and only the
 * preads are timed. */
static uint64_t floor_tick(size_t chunk, struct cgfs_buf *b, uint64_t *reads)
{
	uint64_t spent = 0;
	int *fds = malloc(chunk * sizeof(int));

	for (size_t at = 0; at < nr_paths; at += chunk) {
		size_t n = nr_paths - at < chunk ? nr_paths - at : chunk;

		for (size_t i = 0; i < n; i++)
			fds[i] = open(paths[at + i], O_RDONLY | O_CLOEXEC);
		uint64_t t0 = now_ns();

		for (size_t i = 0; i < n; i++)
			if (fds[i] >= 0 && cgfs_pread_all(fds[i], b) >= 0)
				(*reads)++;
		spent += now_ns() - t0;
		for (size_t i = 0; i < n; i++)
			if (fds[i] >= 0)
				close(fds[i]);
	}
	free(fds);
	return spent;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

int main(int argc, char **argv)
{
	struct collector_opts o = { .quiet = true };
	const struct cg_snapshot *s = NULL;
	struct collector *c;
	int ticks = argc > 2 ? atoi(argv[2]) : 10;
	uint64_t coll_files = 0, floor_reads = 0, *coll_ns, *floor_ns;
	struct cgfs_buf b = { 0 };
	long chunk;
	int err;

	if (argc < 2 || ticks < 1) {
		fprintf(stderr, "usage: floor DIR [TICKS]\n");
		return 2;
	}
	coll_ns = calloc((size_t)ticks, sizeof(*coll_ns));
	floor_ns = calloc((size_t)ticks, sizeof(*floor_ns));
	o.root = argv[1];
	err = collector_new(&o, &c);
	if (err) {
		fprintf(stderr, "floor: %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	nr_names = collector_file_names(&names);
	if (nftw(argv[1], add_dir, 64, FTW_PHYS) || !nr_paths) {
		fprintf(stderr, "floor: cannot list %s\n", argv[1]);
		return 1;
	}
	/* Warm-up: the collector opens and keeps its fds, as a running daemon
	 * has; the floor touches every file once. */
	if (collector_tick(c, &s))
		return 1;
	/* The floor's chunks use what the collector's kept fds leave free. */
	chunk = cgfs_fd_limit() - (long)s->self.kept_fds - 128;
	if (chunk < 64) {
		fprintf(stderr, "floor: no fds left beside the collector's %llu\n",
			(unsigned long long)s->self.kept_fds);
		return 1;
	}
	floor_tick((size_t)chunk, &b, &floor_reads);
	floor_reads = 0;
	/* Interleaved, so drift in the machine's speed hits both alike. */
	for (int i = 0; i < ticks; i++) {
		uint64_t t0 = now_ns();

		if (collector_tick(c, &s))
			return 1;
		coll_ns[i] = now_ns() - t0;
		coll_files += s->self.files_read;
		floor_ns[i] = floor_tick((size_t)chunk, &b, &floor_reads);
	}
	printf("cgroups %zu, files read per tick %llu, kept fds %llu of budget %llu, "
	       "reopened per tick %llu, rss %.1f MiB\n",
	       s->nr_samples, (unsigned long long)(coll_files / (uint64_t)ticks),
	       (unsigned long long)s->self.kept_fds, (unsigned long long)s->self.fd_budget,
	       (unsigned long long)s->self.reopened_files, (double)s->self.rss_bytes / 1048576.0);
	uint64_t cm = median(coll_ns, ticks), fm = median(floor_ns, ticks);

	printf("collector %.2f ms/tick, floor (pread only, %llu files) %.2f ms/tick "
	       "(medians of %d interleaved ticks), ratio %.2f\n",
	       (double)cm / 1e6, (unsigned long long)(floor_reads / (uint64_t)ticks),
	       (double)fm / 1e6, ticks, (double)cm / (double)fm);
	collector_free(c);
	cgfs_buf_free(&b);
	for (size_t i = 0; i < nr_paths; i++)
		free(paths[i]);
	free(paths);
	free(coll_ns);
	free(floor_ns);
	return 0;
}
