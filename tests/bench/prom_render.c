/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * /metrics benchmark: render N fully populated cgroups (every cgroupfs
 * field and the eBPF counters, histogram included) in both formats, into a
 * buffer kept across renders as httpd does within a tick. Prints ms per
 * render, bytes, lines and bytes per cgroup.
 *   prom_render [N] [RENDERS]
 */
#include <stdio.h>
#include <stdlib.h>
#include "prom.h"
#include "synth.h"

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
	int renders = argc > 2 ? atoi(argv[2]) : 5;
	struct collector *c;
	struct cg_snapshot s;
	struct prom_buf b = { 0 };

	if (renders < 1 || synth_snapshot(n, true, &c, &s))
		return 1;
	for (int f = 0; f < 2; f++) {
		enum prom_format fmt = f ? PROM_OPENMETRICS : PROM_TEXT;
		uint64_t spent = 0, best = UINT64_MAX;
		size_t lines = 0;

		for (int r = 0; r < renders; r++) {
			uint64_t t0 = synth_now_ns(), dt;

			if (prom_render(&b, &s, fmt, NULL, 0))
				return 1;
			dt = synth_now_ns() - t0;
			spent += dt;
			if (dt < best)
				best = dt;
		}
		for (size_t i = 0; i < b.len; i++)
			lines += b.data[i] == '\n';
		printf("prom render %-11s %zu full cgroups: %.1f ms/render (best %.1f), "
		       "%.1f MB, %zu lines, %zu bytes/cgroup\n",
		       f ? "openmetrics" : "text 0.0.4", n, (double)spent / renders / 1e6,
		       (double)best / 1e6, (double)b.len / 1e6, lines, b.len / n);
	}
	prom_buf_free(&b);
	free(s.samples);
	collector_free(c);
	return 0;
}
