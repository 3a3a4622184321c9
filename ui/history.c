// SPDX-License-Identifier: GPL-2.0-only
/* Per-cgroup history ring (see history.h): the entries in a dense array,
 * found by cgroup id through the one id map (src/idmap.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "history.h"
#include "idmap.h"
#include "metrics.h"

struct history {
	struct hist_entry **ent;	/* n of them; a deleted one takes the last's place */
	struct idmap map;		/* id -> index in ent */
	size_t n, max;
};

int history_new(size_t max_entries, struct history **out)
{
	struct history *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->ent = calloc(max_entries ? max_entries : 1, sizeof(*h->ent));
	if (!h->ent || max_entries >= IDMAP_NONE || idmap_reserve(&h->map, (uint32_t)max_entries)) {
		free(h->ent);
		free(h);
		return -ENOMEM;
	}
	h->max = max_entries;
	*out = h;
	return 0;
}

void history_free(struct history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++)
		free(h->ent[i]);
	free(h->ent);
	idmap_free(&h->map);
	free(h);
}

static void delete_at(struct history *h, uint32_t i)
{
	idmap_del(&h->map, h->ent[i]->id);
	free(h->ent[i]);
	if (i != --h->n) {
		h->ent[i] = h->ent[h->n];
		idmap_put(&h->map, h->ent[i]->id, i);	/* in place: cannot fail */
	}
}

void history_clear(struct history *h)
{
	while (h->n)
		delete_at(h, (uint32_t)h->n - 1);
}

const struct hist_entry *history_get(const struct history *h, uint64_t id)
{
	uint32_t i = h ? idmap_get(&h->map, id) : IDMAP_NONE;

	return i == IDMAP_NONE ? NULL : h->ent[i];
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
		uint32_t p = idmap_get(&h->map, s->removed[i].id);

		if (p != IDMAP_NONE)
			delete_at(h, p);
	}
	for (size_t i = 0; i < s->nr_samples; i++) {
		const struct cg_sample *x = &s->samples[i];
		uint32_t p = idmap_get(&h->map, x->id);
		struct hist_entry *e;

		if (p != IDMAP_NONE) {
			e = h->ent[p];
		} else {
			if (h->n >= h->max)
				continue;
			e = calloc(1, sizeof(*e));
			/* Room was reserved for max entries: no growth here. */
			if (!e || idmap_put(&h->map, x->id, (uint32_t)h->n)) {
				free(e);
				err = -ENOMEM;
				continue;
			}
			e->id = x->id;
			e->step = 1;
			e->first_mono_usec = s->mono_usec;
			h->ent[h->n++] = e;
		}
		e->seen_seq = s->seq;
		push(e, x);
	}
	return err;
}
