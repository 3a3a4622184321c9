// SPDX-License-Identifier: GPL-2.0-only
/* Per-cgroup history ring (see history.h): an open-addressing table of
 * entries keyed by cgroup id, linear probing, backward-shift deletion. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "history.h"
#include "metrics.h"

struct history {
	struct hist_entry **slot;	/* NULL: empty */
	size_t cap;			/* power of two, >= 2 * max */
	size_t n, max;
};

static size_t hash_id(uint64_t id, size_t cap)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdull;
	id ^= id >> 33;
	return (size_t)id & (cap - 1);
}

int history_new(size_t max_entries, struct history **out)
{
	struct history *h = calloc(1, sizeof(*h));
	size_t cap = 16;

	if (!h)
		return -ENOMEM;
	while (cap < 2 * max_entries)
		cap *= 2;
	h->slot = calloc(cap, sizeof(*h->slot));
	if (!h->slot) {
		free(h);
		return -ENOMEM;
	}
	h->cap = cap;
	h->max = max_entries;
	*out = h;
	return 0;
}

void history_free(struct history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->cap; i++)
		free(h->slot[i]);
	free(h->slot);
	free(h);
}

static size_t find_pos(const struct history *h, uint64_t id)
{
	size_t p = hash_id(id, h->cap);

	while (h->slot[p] && h->slot[p]->id != id)
		p = (p + 1) & (h->cap - 1);
	return p;
}

const struct hist_entry *history_get(const struct history *h, uint64_t id)
{
	return h ? h->slot[find_pos(h, id)] : NULL;
}

size_t history_size(const struct history *h)
{
	return h->n;
}

static void delete_at(struct history *h, size_t p)
{
	size_t q = p;

	free(h->slot[p]);
	h->slot[p] = NULL;
	h->n--;
	/* Backward shift: move later members of the probe run into the hole
	 * when their home position allows it. */
	for (;;) {
		size_t home;

		q = (q + 1) & (h->cap - 1);
		if (!h->slot[q])
			return;
		home = hash_id(h->slot[q]->id, h->cap);
		if (((q - home) & (h->cap - 1)) >= ((q - p) & (h->cap - 1))) {
			h->slot[p] = h->slot[q];
			h->slot[q] = NULL;
			p = q;
		}
	}
}

/* A series is the sum of one or two rows of the metric table, scaled. */
static const struct {
	int16_t a, b;		/* enum metric_id; b -1: none */
	double scale;
} series[HIST__COUNT] = {
	[HIST_CPU] = { M_CPU_USAGE_RATIO, -1, 100 },
	[HIST_MEM] = { M_MEM_CURRENT, -1, 1 },
	[HIST_IO] = { M_IO_READ_BYTES_RATE, M_IO_WRITE_BYTES_RATE, 1 },
	[HIST_NET] = { M_NET_RX_BYTES_RATE, M_NET_TX_BYTES_RATE, 1 },
};

float history_value(const struct cg_sample *s, enum hist_series k)
{
	struct metric_val a, b = { 0 };

	if ((unsigned)k >= HIST__COUNT || !metric_get(s, (enum metric_id)series[k].a, &a) ||
	    (series[k].b >= 0 && !metric_get(s, (enum metric_id)series[k].b, &b)))
		return NAN;
	return (float)((a.d + b.d) * series[k].scale);
}

void history_metrics(struct metric_set *set)
{
	for (int k = 0; k < HIST__COUNT; k++) {
		metric_set_add(set, (enum metric_id)series[k].a);
		if (series[k].b >= 0)
			metric_set_add(set, (enum metric_id)series[k].b);
	}
}

static void push(struct hist_entry *e, const struct cg_sample *s)
{
	for (int k = 0; k < HIST__COUNT; k++) {
		float v = history_value(s, (enum hist_series)k);

		/* One absent tick in a point makes the point absent. */
		e->acc[k] = (e->acc_n && isnan(e->acc[k])) ? NAN : (e->acc_n ? e->acc[k] + v : v);
	}
	if (++e->acc_n < e->step)
		return;
	if (e->n == HIST_POINTS && e->step >= HIST_STEP_MAX) {
		for (int k = 0; k < HIST__COUNT; k++)
			memmove(e->v[k], e->v[k] + 1, (HIST_POINTS - 1) * sizeof(e->v[k][0]));
		e->n = HIST_POINTS - 1;
	} else if (e->n == HIST_POINTS) {
		for (int k = 0; k < HIST__COUNT; k++)
			for (int i = 0; i < HIST_POINTS / 2; i++)
				e->v[k][i] = (e->v[k][2 * i] + e->v[k][2 * i + 1]) / 2;
		e->n = HIST_POINTS / 2;
		e->step *= 2;
	}
	for (int k = 0; k < HIST__COUNT; k++)
		e->v[k][e->n] = e->acc[k] / (float)e->acc_n;
	e->n++;
	e->acc_n = 0;
}

int history_update(struct history *h, const struct cg_snapshot *s)
{
	int err = 0;

	for (size_t i = 0; i < s->nr_removed; i++) {
		size_t p = find_pos(h, s->removed[i].id);

		if (h->slot[p])
			delete_at(h, p);
	}
	for (size_t i = 0; i < s->nr_samples; i++) {
		const struct cg_sample *x = &s->samples[i];
		size_t p = find_pos(h, x->id);
		struct hist_entry *e = h->slot[p];

		if (!e) {
			if (h->n >= h->max)
				continue;
			e = calloc(1, sizeof(*e));
			if (!e) {
				err = -ENOMEM;
				continue;
			}
			e->id = x->id;
			e->step = 1;
			e->first_mono_usec = s->mono_usec;
			h->slot[p] = e;
			h->n++;
		}
		e->seen_seq = s->seq;
		push(e, x);
	}
	return err;
}
