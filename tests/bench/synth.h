/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A synthetic, fully populated snapshot of N cgroups for the output
 * benchmarks (json_tick, prom_render): each a copy of the real docker scope
 * of the 6.1 fixture (every cgroupfs field present), with rates, and
 * optionally eBPF counters as if eBPF were on. Header-only: each benchmark
 * is one file (Makefile: $(OUTPUT)/bench/%).
 */
#ifndef CGWARDEN_BENCH_SYNTH_H
#define CGWARDEN_BENCH_SYNTH_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "collector.h"

static inline uint64_t synth_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Fills *s with n cgroups; *c must be freed with collector_free() and
 * s->samples with free() afterwards. Run from the repository root. 0 or -1. */
static inline int synth_snapshot(size_t n, bool bpf, struct collector **c,
				 struct cg_snapshot *s)
{
	struct collector_opts o = { .root = "tests/fixtures/v2-pure-6.1", .quiet = true };
	const struct cg_snapshot *src;
	const struct cg_sample *docker = NULL;

	if (collector_new(&o, c) || collector_tick(*c, &src) || collector_tick(*c, &src))
		return -1;
	for (size_t i = 0; i < src->nr_samples; i++)
		if (strstr(src->samples[i].path, "docker-"))
			docker = &src->samples[i];
	if (!docker)
		return -1;
	*s = *src;
	s->nr_added = s->nr_removed = s->nr_oom = 0;
	s->nr_samples = n;
	s->samples = calloc(n, sizeof(*s->samples));
	if (!s->samples)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct cg_sample *x = &s->samples[i];

		*x = *docker;
		x->parent = i ? 0 : -1;
		x->id = 100 + i;
		/* Rates present too, as on every tick after the first, and
		 * what one sample gives (the working set). */
		x->rate.have = 0xff | (docker->rate.have & CG_RATE_WORKING_SET);
		x->rate.cpu_usage_ratio = 0.123456 + (double)i / 1e6;
		if (bpf) {
			x->bpf.have = CG_BPF_SCHED | CG_BPF_NET | CG_BPF_PROC;
			x->bpf.ctx_switches = 123456 + i;
			x->bpf.migrations = 789;
			for (int b = 0; b < 16; b++)
				x->bpf.runq_hist[b] = 1000u >> (b / 2);
			x->bpf.runq_count = 5000;
			x->bpf.runq_sum_ns = 987654321;
			x->bpf.rx_bytes = x->bpf.tx_bytes = 1u << 30;
			x->bpf.rx_packets = x->bpf.tx_packets = 1u << 20;
			x->bpf.forks = x->bpf.execs = x->bpf.exits = 42;
		}
	}
	return 0;
}

#endif
