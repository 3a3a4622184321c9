// SPDX-License-Identifier: GPL-2.0-only
/* Per-cgroup history ring (see history.h): the entries in a dense array,
 * found by cgroup id through the one id map (src/idmap.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "history.h"
#include "idmap.h"

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

const struct hist_entry *history_get(const struct history *h, uint64_t id)
{
	uint32_t i = h ? idmap_get(&h->map, id) : IDMAP_NONE;

	return i == IDMAP_NONE ? NULL : h->ent[i];
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

float history_value(const struct cg_sample *s, enum hist_series k)
{
	const struct cg_rates *r = &s->rate;

	switch (k) {
	case HIST_CPU:
		return (r->have & CG_RATE_CPU_USAGE) ? (float)(r->cpu_usage_ratio * 100) : NAN;
	case HIST_MEM:
		return (s->have & CG_HAVE_MEM_CURRENT) ? (float)s->mem_current : NAN;
	case HIST_IO:
		return (r->have & CG_RATE_IO) ?
			(float)(r->io_read_bytes_per_sec + r->io_write_bytes_per_sec) : NAN;
	case HIST_NET:
		return (r->have & CG_RATE_NET) ?
			(float)(r->rx_bytes_per_sec + r->tx_bytes_per_sec) : NAN;
	default:
		return NAN;
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
