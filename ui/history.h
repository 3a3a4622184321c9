/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-cgroup history for the detail view's graphs, keyed by cgroup id.
 * Bounded twice: at most max_entries cgroups (newer ones are not tracked),
 * and HIST_POINTS points per series, which always cover the whole time the
 * dashboard has run: when a series is full, neighbouring points are
 * averaged in pairs and each new point then stands for twice as many ticks.
 * No curses.
 */
#ifndef CGWARDEN_UI_HISTORY_H
#define CGWARDEN_UI_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include "snapshot.h"

enum hist_series { HIST_CPU, HIST_MEM, HIST_IO, HIST_NET, HIST__COUNT };
#define HIST_POINTS 64
/* Past this many ticks per point (2^30: centuries at any interval) a full
 * series drops its oldest point instead of doubling the step again, so the
 * step never wraps. */
#define HIST_STEP_MAX (UINT32_C(1) << 30)

struct hist_entry {
	uint64_t id;
	uint64_t first_mono_usec;	/* when the first point was taken */
	uint64_t seen_seq;
	uint16_t n;			/* points in v */
	uint32_t step;			/* ticks per point, at most HIST_STEP_MAX */
	uint32_t acc_n;			/* ticks summed in acc */
	float acc[HIST__COUNT];
	float v[HIST__COUNT][HIST_POINTS];	/* NAN: absent */
};

struct history;

int history_new(size_t max_entries, struct history **out);
void history_free(struct history *h);

/* Adds a point for every cgroup in s; forgets the ones in s->removed.
 * 0 or -ENOMEM (then some cgroups miss this point). */
int history_update(struct history *h, const struct cg_snapshot *s);

/* Forgets every cgroup's points: top --replay jumped in recorded time, and
 * the graphs must not join two moments that are not neighbours. */
void history_clear(struct history *h);

/* NULL when that cgroup is not tracked. */
const struct hist_entry *history_get(const struct history *h, uint64_t id);

/* The value a series takes from one sample (NAN if absent):
 * CPU % of one CPU, memory bytes, io and net bytes/s (read + write). */
float history_value(const struct cg_sample *s, enum hist_series k);
struct metric_set;
/* Adds the rows the series are made of to set. */
void history_metrics(struct metric_set *set);

#endif
