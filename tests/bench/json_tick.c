/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * JSON benchmark: one stream tick of N cgroups, each a copy of the real
 * docker scope of the 6.1 fixture (every field present), written to
 * /dev/null. Prints time per tick, per cgroup, and bytes per tick.
 *   json_tick [N] [TICKS]
 */
#include <stdio.h>
#include <stdlib.h>
#include "json.h"
#include "synth.h"

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
	int ticks = argc > 2 ? atoi(argv[2]) : 5;
	struct collector *c;
	struct cg_snapshot s;
	FILE *null = fopen("/dev/null", "w");
	char *mem = NULL;
	size_t memlen = 0;
	FILE *sizer = open_memstream(&mem, &memlen);
	uint64_t spent = 0;

	if (!null || !sizer || synth_snapshot(n, false, &c, &s))
		return 1;
	json_write_stream_tick(sizer, &s);
	fclose(sizer);
	for (int t = 0; t < ticks; t++) {
		uint64_t t0 = synth_now_ns();

		json_write_stream_tick(null, &s);
		spent += synth_now_ns() - t0;
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
