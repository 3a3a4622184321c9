/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Dashboard benchmark: one frame of `cgwarden top` with N cgroups (issue 6:
 * "stays smooth with 10,000 cgroups"). A synthetic snapshot of 100 pods x
 * (N/100 - 1) containers, each a copy of the 6.1 fixture's docker scope
 * (every field present) with its own id, name and CPU figure, drawn by the
 * real ui/ code on a curses screen of a fixed size written to /dev/null.
 * A frame = a new snapshot taken in (history, events, filter, sort) + the
 * draw. Prints ms per frame for the workloads view and the tree.
 *   top_frame [N] [FRAMES] [LINES] [COLS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "collector.h"
#include "screen.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t two_seconds(void *ctx)
{
	(void)ctx;
	return 2000000;
}

static double run(struct cg_snapshot *s, enum view view, int frames, int lines, int cols,
		  double *build_ms)
{
	static const struct ui_interval iv = { .get = two_seconds };
	struct screen_opts so = { .view = view, .sort = COL_CPU, .interval = &iv,
				  .act_why = "benchmark", .lines = lines, .cols = cols };
	struct screen *scr;
	uint64_t spent = 0, in_snap = 0;

	so.out = fopen("/dev/null", "w");
	so.in = fopen("/dev/null", "r");
	if (!so.out || !so.in || screen_open(&so, &scr)) {
		fprintf(stderr, "top_frame: cannot open a curses screen on /dev/null\n");
		exit(1);
	}
	for (int f = 0; f < frames; f++) {
		uint64_t t0, t1;

		/* Every tick the figures move, so the sort has work to do. */
		for (size_t i = 0; i < s->nr_samples; i++)
			s->samples[i].rate.cpu_usage_ratio = (double)((i * 7919 + (size_t)f * 104729) %
								      20011) / 10000.0;
		s->seq++;
		s->mono_usec += 2000000;
		t0 = now_ns();
		screen_snapshot(scr, s);
		t1 = now_ns();
		screen_draw(scr);
		spent += now_ns() - t0;
		in_snap += t1 - t0;
	}
	screen_close(scr);
	fclose(so.out);
	fclose(so.in);
	*build_ms = (double)in_snap / frames / 1e6;
	return (double)spent / frames / 1e6;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
	int frames = argc > 2 ? atoi(argv[2]) : 20;
	int lines = argc > 3 ? atoi(argv[3]) : 50, cols = argc > 4 ? atoi(argv[4]) : 200;
	struct collector_opts o = { .root = "tests/fixtures/v2-pure-6.1", .quiet = true,
				    .state_root = "tests/fixtures/runtime-state" };
	const struct cg_snapshot *src;
	const struct cg_sample *docker = NULL, *pod = NULL;
	struct collector *c;
	struct cg_snapshot s;
	size_t per_pod = n / 100, k = 0;
	char **names;
	double ms_w, ms_t, b_w, b_t;

	if (per_pod < 2 || frames < 1 || collector_new(&o, &c) || collector_tick(c, &src) ||
	    collector_tick(c, &src))
		return 1;
	for (size_t i = 0; i < src->nr_samples; i++) {
		if (strstr(src->samples[i].path, "docker-"))
			docker = &src->samples[i];
		if (src->samples[i].ident.kind == CG_KIND_POD)
			pod = &src->samples[i];
	}
	if (!docker || !pod)
		return 1;
	s = *src;
	s.nr_added = s.nr_removed = s.nr_oom = 0;
	s.nr_samples = 1 + 100 * per_pod;
	s.samples = calloc(s.nr_samples, sizeof(*s.samples));
	names = calloc(s.nr_samples, sizeof(*names));
	if (!s.samples || !names)
		return 1;
	s.samples[k] = src->samples[0];
	names[k] = strdup("");
	s.samples[k].path = names[k];
	k++;
	for (size_t p = 0; p < 100; p++) {
		size_t pi = k;

		s.samples[k] = *pod;
		s.samples[k].parent = 0;
		s.samples[k].depth = 1;
		s.samples[k].id = 1000 + k;
		if (asprintf(&names[k], "kubepods.slice/pod%zu.slice", p) < 0)
			return 1;
		s.samples[k].path = names[k];
		s.samples[k].ident.name = names[k] + 15;
		k++;
		for (size_t j = 1; j < per_pod; j++) {
			s.samples[k] = *docker;
			s.samples[k].parent = (int32_t)pi;
			s.samples[k].depth = 2;
			s.samples[k].id = 1000 + k;
			if (asprintf(&names[k], "kubepods.slice/pod%zu.slice/ctr-%zu-%zu.scope", p, p,
				     j) < 0)
				return 1;
			s.samples[k].path = names[k];
			s.samples[k].ident.name = strrchr(names[k], '/') + 1;
			s.samples[k].rate.have |= CG_RATE_CPU_USAGE;
			k++;
		}
	}
	ms_w = run(&s, VIEW_WORKLOADS, frames, lines, cols, &b_w);
	ms_t = run(&s, VIEW_TREE, frames, lines, cols, &b_t);
	printf("top frame, %zu cgroups, %dx%d terminal, %d frames: workloads view %.2f ms/frame "
	       "(%.2f ms taking the snapshot in), tree view %.2f ms/frame (%.2f ms)\n",
	       s.nr_samples, cols, lines, frames, ms_w, b_w, ms_t, b_t);
	for (size_t i = 0; i < s.nr_samples; i++)
		free(names[i]);
	free(names);
	free(s.samples);
	collector_free(c);
	return 0;
}
