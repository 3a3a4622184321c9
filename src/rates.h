/* SPDX-License-Identifier: GPL-2.0-only */
/* Rates from two samples of the same cgroup. Pure. */
#ifndef CGWARDEN_RATES_H
#define CGWARDEN_RATES_H

#include <stdbool.h>
#include <stdint.h>
#include "snapshot.h"

/* Per-second rate of a counter between two readings dt_usec apart. False
 * (and *out untouched) when dt is 0 or the counter went backwards, which
 * means it was reset: a rate across a reset would be a lie. */
bool rate_per_sec(uint64_t prev, uint64_t cur, uint64_t dt_usec, double *out);

/* The q-quantile (0..1) in usec of a log2 histogram where bucket i holds
 * delays d with 2^i <= d+1 < 2^(i+1) usec, interpolated linearly inside the
 * bucket. False when the histogram is empty. */
bool hist_quantile_usec(const uint64_t *hist, size_t nr, double q, double *out);

/* The values derived from s alone (the working set): every face reads them
 * from s->rate through the metric table instead of computing its own.
 * Leaves the rates in s->rate as they are. */
void rates_derive(struct cg_sample *s);

/* Fills cur->rate from prev (the same cgroup one tick earlier), then
 * rates_derive(cur). */
void rates_compute(struct cg_sample *cur, const struct cg_sample *prev, uint64_t dt_usec);

#endif
