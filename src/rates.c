/* SPDX-License-Identifier: GPL-2.0-only */
#include <stddef.h>
#include "rates.h"

bool rate_per_sec(uint64_t prev, uint64_t cur, uint64_t dt_usec, double *out)
{
	if (dt_usec == 0 || cur < prev)
		return false;
	*out = (double)(cur - prev) * 1e6 / (double)dt_usec;
	return true;
}

/* usec of CPU per usec of wall time: 1.0 is one CPU. */
static bool cpu_ratio(const struct cg_sample *cur, const struct cg_sample *prev,
		      enum cg_cpu_key k, uint64_t dt_usec, double *out)
{
	uint32_t bit = 1u << k;
	double per_sec;

	if (!(cur->cpu_have & prev->cpu_have & bit))
		return false;
	if (!rate_per_sec(prev->cpu[k], cur->cpu[k], dt_usec, &per_sec))
		return false;
	*out = per_sec / 1e6;
	return true;
}

static void cpu_rates(struct cg_rates *r, const struct cg_sample *cur,
		      const struct cg_sample *prev, uint64_t dt)
{
	uint32_t both = cur->cpu_have & prev->cpu_have;
	uint32_t need = (1u << CG_CPU_NR_PERIODS) | (1u << CG_CPU_NR_THROTTLED);

	if (cpu_ratio(cur, prev, CG_CPU_USAGE_USEC, dt, &r->cpu_usage_ratio))
		r->have |= CG_RATE_CPU_USAGE;
	if (cpu_ratio(cur, prev, CG_CPU_USER_USEC, dt, &r->cpu_user_ratio))
		r->have |= CG_RATE_CPU_USER;
	if (cpu_ratio(cur, prev, CG_CPU_SYSTEM_USEC, dt, &r->cpu_system_ratio))
		r->have |= CG_RATE_CPU_SYSTEM;
	/* Share of enforcement periods that ended throttled. No period at all
	 * (no quota, or idle) means nothing was throttled: 0, not absent. */
	if ((both & need) == need && cur->cpu[CG_CPU_NR_PERIODS] >= prev->cpu[CG_CPU_NR_PERIODS] &&
	    cur->cpu[CG_CPU_NR_THROTTLED] >= prev->cpu[CG_CPU_NR_THROTTLED]) {
		uint64_t periods = cur->cpu[CG_CPU_NR_PERIODS] - prev->cpu[CG_CPU_NR_PERIODS];
		uint64_t thr = cur->cpu[CG_CPU_NR_THROTTLED] - prev->cpu[CG_CPU_NR_THROTTLED];

		r->cpu_throttled_ratio = periods ? (double)thr / (double)periods : 0.0;
		if (r->cpu_throttled_ratio > 1.0)
			r->cpu_throttled_ratio = 1.0;
		r->have |= CG_RATE_CPU_THROTTLED;
	}
}

static const struct cg_io_dev *find_dev(const struct cg_sample *s, uint32_t major, uint32_t minor)
{
	for (uint32_t i = 0; i < s->nr_io; i++)
		if (s->io[i].major == major && s->io[i].minor == minor)
			return &s->io[i];
	return NULL;
}

/* Sum of per-device deltas; a device that appeared counts from 0 (it had
 * no I/O before it existed), one that went backwards voids the rate. */
static bool io_delta(const struct cg_sample *cur, const struct cg_sample *prev,
		     enum cg_io_key k, uint64_t *out)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < cur->nr_io; i++) {
		const struct cg_io_dev *c = &cur->io[i];
		const struct cg_io_dev *p = find_dev(prev, c->major, c->minor);
		uint64_t before = p && (p->have & (1u << k)) ? p->v[k] : 0;

		if (!(c->have & (1u << k)))
			continue;
		if (c->v[k] < before)
			return false;
		sum += c->v[k] - before;
	}
	*out = sum;
	return true;
}

static void io_rates(struct cg_rates *r, const struct cg_sample *cur,
		     const struct cg_sample *prev, uint64_t dt)
{
	static const enum cg_io_key keys[4] = { CG_IO_RBYTES, CG_IO_WBYTES, CG_IO_RIOS, CG_IO_WIOS };
	double *outs[4] = { &r->io_read_bytes_per_sec, &r->io_write_bytes_per_sec,
			    &r->io_read_ios_per_sec, &r->io_write_ios_per_sec };
	double vals[4];

	if (!(cur->have & prev->have & CG_HAVE_IO_STAT) || dt == 0)
		return;
	for (int i = 0; i < 4; i++) {
		uint64_t d;

		if (!io_delta(cur, prev, keys[i], &d))
			return;
		vals[i] = (double)d * 1e6 / (double)dt;
	}
	for (int i = 0; i < 4; i++)
		*outs[i] = vals[i];
	r->have |= CG_RATE_IO;
}

static bool memstat_rate(const struct cg_sample *cur, const struct cg_sample *prev,
			 enum cg_memstat_key k, uint64_t dt, double *out)
{
	uint64_t bit = 1ull << k;

	return (cur->memstat_have & prev->memstat_have & bit) &&
	       rate_per_sec(prev->memstat[k], cur->memstat[k], dt, out);
}

static void mem_rates(struct cg_rates *r, const struct cg_sample *cur,
		      const struct cg_sample *prev, uint64_t dt)
{
	uint32_t need = (1u << CG_ME_OOM_KILL) | (1u << CG_ME_HIGH) | (1u << CG_ME_MAX);
	double oom, high, max;

	if ((cur->memevents_have & prev->memevents_have & need) == need &&
	    rate_per_sec(prev->memevents[CG_ME_OOM_KILL], cur->memevents[CG_ME_OOM_KILL], dt, &oom) &&
	    rate_per_sec(prev->memevents[CG_ME_HIGH], cur->memevents[CG_ME_HIGH], dt, &high) &&
	    rate_per_sec(prev->memevents[CG_ME_MAX], cur->memevents[CG_ME_MAX], dt, &max)) {
		r->oom_kill_per_sec = oom;
		r->high_per_sec = high;
		r->max_per_sec = max;
		r->have |= CG_RATE_MEM_EVENTS;
	}
}

static void memstat_rates(struct cg_rates *r, const struct cg_sample *cur,
			  const struct cg_sample *prev, uint64_t dt)
{
	if (memstat_rate(cur, prev, CG_MS_PGFAULT, dt, &r->pgfault_per_sec))
		r->have |= CG_RATE_PGFAULT;
	if (memstat_rate(cur, prev, CG_MS_PGMAJFAULT, dt, &r->pgmajfault_per_sec))
		r->have |= CG_RATE_PGMAJFAULT;
}

bool hist_quantile_usec(const uint64_t *hist, size_t nr, double q, double *out)
{
	uint64_t total = 0, seen = 0;
	double rank;

	for (size_t i = 0; i < nr; i++)
		total += hist[i];
	if (!total)
		return false;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	/* The rank'th delay, 1-based; q = 0.5 of 3 delays is the 2nd. */
	rank = q * (double)total;
	if (rank < 1)
		rank = 1;
	for (size_t i = 0; i < nr; i++) {
		if (!hist[i] || (double)(seen + hist[i]) < rank) {
			seen += hist[i];
			continue;
		}
		/* Bucket i spans [2^i - 1, 2^(i+1) - 1) usec. */
		double lo = (double)((1ull << i) - 1), hi = (double)((1ull << (i + 1)) - 1);

		*out = lo + (hi - lo) * ((rank - (double)seen) / (double)hist[i]);
		return true;
	}
	return false;
}

/* eBPF counters: network and scheduler rates, and the run-queue quantiles
 * of this interval alone (the histogram's delta, not its lifetime). */
static void bpf_rates(struct cg_rates *r, const struct cg_sample *cur,
		      const struct cg_sample *prev, uint64_t dt)
{
	const struct cg_bpf *c = &cur->bpf, *p = &prev->bpf;
	uint64_t delta[CG_RUNQ_BUCKETS];
	bool ok = true;

	if ((c->have & p->have & CG_BPF_NET) &&
	    rate_per_sec(p->rx_bytes, c->rx_bytes, dt, &r->rx_bytes_per_sec) &&
	    rate_per_sec(p->tx_bytes, c->tx_bytes, dt, &r->tx_bytes_per_sec) &&
	    rate_per_sec(p->rx_packets, c->rx_packets, dt, &r->rx_packets_per_sec) &&
	    rate_per_sec(p->tx_packets, c->tx_packets, dt, &r->tx_packets_per_sec))
		r->have |= CG_RATE_NET;
	if (!(c->have & p->have & CG_BPF_SCHED))
		return;
	if (rate_per_sec(p->ctx_switches, c->ctx_switches, dt, &r->ctx_switches_per_sec))
		r->have |= CG_RATE_SCHED;
	for (int i = 0; i < CG_RUNQ_BUCKETS; i++) {
		ok &= c->runq_hist[i] >= p->runq_hist[i];
		delta[i] = ok ? c->runq_hist[i] - p->runq_hist[i] : 0;
	}
	if (ok && hist_quantile_usec(delta, CG_RUNQ_BUCKETS, 0.50, &r->runq_p50_usec) &&
	    hist_quantile_usec(delta, CG_RUNQ_BUCKETS, 0.99, &r->runq_p99_usec))
		r->have |= CG_RATE_RUNQ;
}

void rates_derive(struct cg_sample *s)
{
	struct cg_rates *r = &s->rate;
	uint64_t in = s->memstat[CG_MS_INACTIVE_FILE];

	r->have &= ~(uint32_t)CG_RATE_WORKING_SET;
	r->mem_working_set_bytes = 0;
	if ((s->have & CG_HAVE_MEM_CURRENT) && (s->have & CG_HAVE_MEM_STAT) &&
	    (s->memstat_have & (1ull << CG_MS_INACTIVE_FILE))) {
		r->mem_working_set_bytes = s->mem_current > in ? s->mem_current - in : 0;
		r->have |= CG_RATE_WORKING_SET;
	}
}

/*
 * A file of the slow tier (src_files.h) not read this tick: its fields are
 * carried over with the rates of their last read. The first fresh read
 * after carried ones measures from when those were really read.
 */
static uint64_t slow_dt(const struct cg_sample *prev, uint32_t file, uint64_t dt)
{
	return prev->carried & file ? dt + prev->carried_age_usec : dt;
}

static void carry_io_rates(struct cg_rates *r, const struct cg_rates *p)
{
	r->have |= p->have & CG_RATE_IO;
	r->io_read_bytes_per_sec = p->io_read_bytes_per_sec;
	r->io_write_bytes_per_sec = p->io_write_bytes_per_sec;
	r->io_read_ios_per_sec = p->io_read_ios_per_sec;
	r->io_write_ios_per_sec = p->io_write_ios_per_sec;
}

static void carry_memstat_rates(struct cg_rates *r, const struct cg_rates *p)
{
	r->have |= p->have & (CG_RATE_PGFAULT | CG_RATE_PGMAJFAULT);
	r->pgfault_per_sec = p->pgfault_per_sec;
	r->pgmajfault_per_sec = p->pgmajfault_per_sec;
}

void rates_compute(struct cg_sample *cur, const struct cg_sample *prev, uint64_t dt_usec)
{
	struct cg_rates r = { 0 };

	if (prev && dt_usec) {
		cpu_rates(&r, cur, prev, dt_usec);
		if (cur->carried & CG_HAVE_IO_STAT)
			carry_io_rates(&r, &prev->rate);
		else
			io_rates(&r, cur, prev, slow_dt(prev, CG_HAVE_IO_STAT, dt_usec));
		if (cur->carried & CG_HAVE_MEM_STAT)
			carry_memstat_rates(&r, &prev->rate);
		else
			memstat_rates(&r, cur, prev, slow_dt(prev, CG_HAVE_MEM_STAT, dt_usec));
		mem_rates(&r, cur, prev, dt_usec);
		bpf_rates(&r, cur, prev, dt_usec);
	}
	cur->rate = r;
	rates_derive(cur);
}
