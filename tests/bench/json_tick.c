/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * JSON benchmark: one stream tick of N cgroups, each a copy of the real
 * docker scope of the 6.1 fixture (every field present), written to
 * /dev/null. Prints time per tick, per cgroup, and bytes per tick.
 *   json_tick [N] [TICKS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "collector.h"
#include "json.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
	int ticks = argc > 2 ? atoi(argv[2]) : 5;
	struct collector_opts o = { .root = "tests/fixtures/v2-pure-6.1", .quiet = true };
	const struct cg_snapshot *src;
	struct collector *c;
	struct cg_snapshot s;
	FILE *null = fopen("/dev/null", "w");
	char *mem = NULL;
	size_t memlen = 0;
	FILE *sizer = open_memstream(&mem, &memlen);
	uint64_t spent = 0;

	if (!null || !sizer || collector_new(&o, &c) || collector_tick(c, &src) ||
	    collector_tick(c, &src))
		return 1;
	const struct cg_sample *docker = NULL;

	for (size_t i = 0; i < src->nr_samples; i++)
		if (strstr(src->samples[i].path, "docker-"))
			docker = &src->samples[i];
	if (!docker)
		return 1;
	s = *src;
	s.nr_added = s.nr_removed = 0;
	s.nr_samples = n;
	s.samples = calloc(n, sizeof(*s.samples));
	for (size_t i = 0; i < n; i++) {
		s.samples[i] = *docker;
		s.samples[i].parent = i ? 0 : -1;
		s.samples[i].id = 100 + i;
		/* Rates present too, as on every tick after the first. */
		s.samples[i].rate.have = 0xff;
		s.samples[i].rate.cpu_usage_ratio = 0.123456 + (double)i / 1e6;
	}
	json_write_stream_tick(sizer, &s);
	fclose(sizer);
	for (int t = 0; t < ticks; t++) {
		uint64_t t0 = now_ns();

		json_write_stream_tick(null, &s);
		spent += now_ns() - t0;
	}
	printf("json stream tick, %zu full cgroups: %.1f ms/tick, %.2f us/cgroup, "
	       "%.1f MB/tick, %zu bytes/cgroup\n",
	       n, (double)spent / ticks / 1e6, (double)spent / ticks / 1e3 / (double)n,
	       (double)memlen / 1e6, memlen / n);
	free(s.samples);
	free(mem);
	fclose(null);
	collector_free(c);
	return 0;
}
