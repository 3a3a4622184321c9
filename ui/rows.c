// SPDX-License-Identifier: GPL-2.0-only
/* The table's model: columns and the row list (see rows.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "format.h"
#include "metrics.h"
#include "rows.h"

#define NONE_ -1, -1, -1, 0, CF_NONE
#define COL(m, f) M_##m, -1, -1, 1, CF_##f

const struct col_def col_defs[COL__COUNT] = {
	[COL_NAME] = { "NAME", 16, 0, "container, pod or unit name, else the cgroup path", NONE_ },
	[COL_KIND] = { "KIND", 5, 4, "ctr pod svc(service) scope slice sess cgrp host", NONE_ },
	[COL_CPU] = { "CPU%", 5, 1, "CPU use, 100 = one CPU busy (like top)",
		      M_CPU_USAGE_RATIO, -1, -1, 100, CF_PCT },
	[COL_THR] = { "THR%", 5, 6, "share of CPU periods throttled by cpu.max",
		      M_CPU_THROTTLED_RATIO, -1, -1, 100, CF_PCT },
	[COL_MEM] = { "MEM", 5, 2, "memory.current", COL(MEM_CURRENT, BYTES) },
	[COL_MEMPCT] = { "MEM%", 5, 3, "memory.current as a share of memory.max",
			 M_MEM_CURRENT, -1, M_MEM_MAX, 100, CF_PCT },
	[COL_PEAK] = { "PEAK", 5, 11, "memory.peak (highest since creation)", COL(MEM_PEAK, BYTES) },
	[COL_IOR] = { "IO-R/s", 6, 8, "bytes read per second (io.stat)",
		      COL(IO_READ_BYTES_RATE, BYTES) },
	[COL_IOW] = { "IO-W/s", 6, 8, "bytes written per second (io.stat)",
		      COL(IO_WRITE_BYTES_RATE, BYTES) },
	[COL_NETRX] = { "RX/s", 5, 12, "network bytes received per second (eBPF)",
			COL(NET_RX_BYTES_RATE, BYTES) },
	[COL_NETTX] = { "TX/s", 5, 12, "network bytes sent per second (eBPF)",
			COL(NET_TX_BYTES_RATE, BYTES) },
	[COL_PIDS] = { "PIDS", 5, 5, "pids.current, else tasks in cgroup.threads",
		       M_PIDS_CURRENT, M_THREADS, -1, 1, CF_COUNT },
	[COL_PSI_CPU] = { "PSIcpu", 6, 7, "cpu.pressure some avg10 (% of time stalled)",
			  COL(PSI_CPU_SOME_AVG10, PSI) },
	[COL_PSI_MEM] = { "PSImem", 6, 9, "memory.pressure some avg10",
			  COL(PSI_MEMORY_SOME_AVG10, PSI) },
	[COL_PSI_IO] = { "PSIio", 5, 10, "io.pressure some avg10", COL(PSI_IO_SOME_AVG10, PSI) },
	[COL_RUNQ] = { "RUNQ99", 6, 13, "run-queue latency p99 this interval (eBPF)",
		       COL(SCHED_RUNQ_P99, USEC) },
	[COL_OOM] = { "OOM", 4, 14, "OOM kills (memory.events oom_kill, else eBPF)",
		      M_MEMEVENT_OOM_KILL, M_OOM_KILLS, -1, 1, CF_COUNT },
};

/* A row's value as the dashboard sorts it: rates as they are, the rest as
 * integers (PSI averages in hundredths). */
static bool row_value(const struct cg_sample *s, int id, double *v)
{
	struct metric_val x;

	if (id < 0 || !metric_get(s, (enum metric_id)id, &x))
		return false;
	*v = x.d;
	return true;
}

bool col_value(const struct cg_sample *s, enum col_id c, double *v)
{
	const struct col_def *d;
	struct metric_val per;
	double x;

	if (c == COL_KIND) {
		/* The root apart from every kind: its figures are the host's. */
		*v = s->path[0] ? (double)s->ident.kind : -1;
		return true;
	}
	if ((unsigned)c >= COL__COUNT)
		return false;
	d = &col_defs[c];
	if (!row_value(s, d->metric, &x) && !row_value(s, d->fallback, &x))
		return false;
	x *= d->scale;
	if (d->per >= 0) {
		if (!metric_get(s, (enum metric_id)d->per, &per) || per.u == CG_UNLIMITED ||
		    per.u == 0)
			return false;
		x /= (double)per.u;
	}
	*v = x;
	return true;
}

void col_format(const struct cg_sample *s, enum col_id c, char *out, size_t outlen)
{
	double v;

	if (c == COL_KIND) {
		snprintf(out, outlen, "%s", s->path[0] ? fmt_kind_short(s->ident.kind) : "host");
		return;
	}
	if (!col_value(s, c, &v)) {
		snprintf(out, outlen, "-");
		return;
	}
	switch (col_defs[c].fmt) {
	case CF_PCT:
		fmt_pct(v, out, outlen);
		break;
	case CF_BYTES:
		fmt_bytes_rate(v, out, outlen);
		break;
	case CF_COUNT:
		fmt_count((uint64_t)v, out, outlen);
		break;
	case CF_PSI:
		fmt_psi((uint32_t)v, out, outlen);
		break;
	case CF_USEC:
		fmt_usec(v, out, outlen);
		break;
	default:
		snprintf(out, outlen, "-");
	}
}

enum cell_level col_level(const struct cg_sample *s, enum col_id c)
{
	double v, thr;

	if (!col_value(s, c, &v))
		return LEVEL_NORMAL;
	switch (c) {
	case COL_CPU:
		/* At its cpu.max quota: red; throttled at all: yellow. */
		if ((s->have & CG_HAVE_CPU_MAX) && s->cpu_max_quota_usec != CG_UNLIMITED &&
		    s->cpu_max_period_usec &&
		    v >= 90.0 * (double)s->cpu_max_quota_usec / (double)s->cpu_max_period_usec)
			return LEVEL_CRIT;
		if (col_value(s, COL_THR, &thr) && thr > 0)
			return LEVEL_WARN;
		return LEVEL_NORMAL;
	case COL_THR:
		return v > 0 ? LEVEL_WARN : LEVEL_NORMAL;
	case COL_MEM:
	case COL_MEMPCT:
		if (!col_value(s, COL_MEMPCT, &v)) {
			/* Above memory.high: the kernel is throttling it. */
			if ((s->have & CG_HAVE_MEM_HIGH) && s->mem_high != CG_UNLIMITED &&
			    s->mem_current > s->mem_high)
				return LEVEL_WARN;
			return LEVEL_NORMAL;
		}
		return v >= 90 ? LEVEL_CRIT : v >= 75 ? LEVEL_WARN : LEVEL_NORMAL;
	case COL_PIDS:
		if ((s->have & CG_HAVE_PIDS_MAX) && s->pids_max != CG_UNLIMITED &&
		    v >= 0.9 * (double)s->pids_max)
			return LEVEL_CRIT;
		return LEVEL_NORMAL;
	case COL_PSI_CPU:
	case COL_PSI_MEM:
	case COL_PSI_IO:
		return v >= 4000 ? LEVEL_CRIT : v >= 1000 ? LEVEL_WARN : LEVEL_NORMAL;
	case COL_RUNQ:
		return v >= 10000 ? LEVEL_WARN : LEVEL_NORMAL;
	case COL_OOM:
		return v > 0 ? LEVEL_CRIT : LEVEL_NORMAL;
	default:
		return LEVEL_NORMAL;
	}
}

void col_metrics(enum col_id c, struct metric_set *set)
{
	/* The rows col_level reads besides the column's own (0: none; row 0
	 * is the cpu object, never one of these). */
	static const int16_t level[COL__COUNT][3] = {
		[COL_CPU] = { M_CPU_MAX_QUOTA, M_CPU_MAX_PERIOD, M_CPU_THROTTLED_RATIO },
		[COL_MEM] = { M_MEM_MAX, M_MEM_HIGH, -1 },
		[COL_MEMPCT] = { M_MEM_HIGH, -1, -1 },
		[COL_PIDS] = { M_PIDS_MAX, -1, -1 },
	};
	const struct col_def *d;

	if ((unsigned)c >= COL__COUNT)
		return;
	d = &col_defs[c];
	if (d->metric >= 0)
		metric_set_add(set, (enum metric_id)d->metric);
	if (d->fallback >= 0)
		metric_set_add(set, (enum metric_id)d->fallback);
	if (d->per >= 0)
		metric_set_add(set, (enum metric_id)d->per);
	for (int k = 0; k < 3; k++)
		if (level[c][k] > 0)
			metric_set_add(set, (enum metric_id)level[c][k]);
}

const char *row_name(const struct cg_sample *s, bool tree)
{
	const char *last;

	if (!s->path[0])
		return "/";
	/* In the tree, a container or pod by its name, not its runtime's id. */
	if (tree && !((s->ident.kind == CG_KIND_CONTAINER || s->ident.kind == CG_KIND_POD) &&
		      s->ident.name && s->ident.name[0])) {
		last = strrchr(s->path, '/');
		return last ? last + 1 : s->path;
	}
	/* Out of the tree a plain cgroup is known by where it is (identity
	 * names it by its last component): two "worker" cgroups under other
	 * parents must not look the same on the first screen. */
	if (s->ident.kind == CG_KIND_OTHER)
		return s->path;
	return s->ident.name && s->ident.name[0] ? s->ident.name : s->path;
}

bool rows_is_workload(const struct cg_sample *s)
{
	return s->ident.kind == CG_KIND_CONTAINER || s->ident.kind == CG_KIND_POD ||
	       s->ident.kind == CG_KIND_SERVICE;
}

/* ---- idset -------------------------------------------------------------- */

static size_t idset_pos(const struct idset *s, uint64_t id)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool idset_has(const struct idset *s, uint64_t id)
{
	size_t p;

	if (!s || !s->n)
		return false;
	p = idset_pos(s, id);
	return p < s->n && s->ids[p] == id;
}

int idset_add(struct idset *s, uint64_t id)
{
	size_t p = idset_pos(s, id);

	if (p < s->n && s->ids[p] == id)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		uint64_t *n = realloc(s->ids, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->ids = n;
		s->cap = cap;
	}
	memmove(s->ids + p + 1, s->ids + p, (s->n - p) * sizeof(*s->ids));
	s->ids[p] = id;
	s->n++;
	return 0;
}

void idset_del(struct idset *s, uint64_t id)
{
	size_t p = idset_pos(s, id);

	if (p < s->n && s->ids[p] == id) {
		memmove(s->ids + p, s->ids + p + 1, (s->n - p - 1) * sizeof(*s->ids));
		s->n--;
	}
}

void idset_free(struct idset *s)
{
	free(s->ids);
	memset(s, 0, sizeof(*s));
}

/* ---- building ------------------------------------------------------------ */

struct sort_ctx {
	const struct cg_snapshot *s;
	const double *key;		/* NAN: absent */
	bool by_name, tree, reverse;
};

static int cmp_idx(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *c = arg;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	int r = 0;

	if (c->by_name) {
		r = strcasecmp(row_name(&c->s->samples[i], c->tree),
			       row_name(&c->s->samples[j], c->tree));
	} else {
		double x = c->key[i], y = c->key[j];
		bool xa = isnan(x), ya = isnan(y);

		/* Absent values go last whichever way the sort runs. */
		if (xa != ya)
			return xa ? 1 : -1;
		if (!xa)
			r = x > y ? -1 : x < y ? 1 : 0;	/* numbers: biggest first */
	}
	if (c->reverse)
		r = -r;
	if (!r)
		r = i < j ? -1 : i > j ? 1 : 0;	/* stable across ticks */
	return r;
}

static bool matches(const struct cg_sample *x, const char *filter)
{
	if (!filter || !filter[0])
		return true;
	return fmt_match(x->path, filter) || (x->ident.name && fmt_match(x->ident.name, filter));
}

static int grow(struct rows *r, size_t n)
{
	if (n > r->cap) {
		struct row *v = realloc(r->v, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = n;
	}
	if (n + 2 > r->scratch_cap) {
		size_t cap = n + 2;
		double *key = realloc(r->key, cap * sizeof(*key));

		if (!key)
			return -ENOMEM;
		r->key = key;
		uint32_t *tmp = realloc(r->tmp, cap * sizeof(*tmp));

		if (!tmp)
			return -ENOMEM;
		r->tmp = tmp;
		uint32_t *cs = realloc(r->child_start, cap * sizeof(*cs));

		if (!cs)
			return -ENOMEM;
		r->child_start = cs;
		uint32_t *ch = realloc(r->child, cap * sizeof(*ch));

		if (!ch)
			return -ENOMEM;
		r->child = ch;
		r->scratch_cap = cap;
	}
	return 0;
}

static void fill_keys(struct rows *r, const struct cg_snapshot *s, enum col_id col,
		      const uint32_t *idx, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		uint32_t i = idx ? idx[k] : (uint32_t)k;
		double v;

		r->key[i] = col_value(&s->samples[i], col, &v) ? v : NAN;
	}
}

/* Per sample, while the workloads view is built (in rows.child). */
#define FLAT_WORKLOAD		1u	/* it or an ancestor is a workload */
#define FLAT_POPULATED_CHILD	2u	/* a child is populated */

/*
 * Whether x holds processes itself, not only below it: its own cgroup.procs
 * lists some. Else its own cgroup.threads: a process's threads are all in
 * its cgroup outside threaded subtrees (and inside one, threads are what
 * use the CPU), so it says the same, and top reads it every tick anyway.
 * 1 yes, 0 no, -1 neither was read.
 */
static int holds_procs(const struct cg_sample *x)
{
	if (x->have & CG_HAVE_PROCS)
		return x->procs > 0;
	if (x->have & CG_HAVE_THREADS)
		return x->threads > 0;
	return -1;
}

static void flat_add(struct rows *r, const struct cg_sample *x, uint32_t i, bool workload,
		     const struct rows_opts *o, size_t *n)
{
	if (!matches(x, o->filter))
		return;
	r->tmp[(*n)++] = i;
	if (workload)
		r->nr_workloads++;
	else
		r->nr_other++;
}

/*
 * One pass down (parents come before their children) knows whether a
 * cgroup is in a workload and lists it or not; only a cgroup whose
 * procs and threads were both not read (a recording with neither) waits
 * for the end of the pass: then a populated cgroup none of whose children
 * is populated must hold processes itself (one with populated children
 * may or may not, and is left out).
 */
static int build_flat(struct rows *r, const struct cg_snapshot *s, const struct rows_opts *o,
		      struct sort_ctx *ctx)
{
	uint32_t *flags = r->child, *later = r->child_start;
	size_t n = 0, nr_later = 0;

	for (size_t i = 0; i < s->nr_samples; i++) {
		const struct cg_sample *x = &s->samples[i];
		int32_t p = x->parent;
		bool wl = rows_is_workload(x), up = p >= 0 && (size_t)p < i;
		int holds;

		flags[i] = wl || (up && (flags[p] & FLAT_WORKLOAD)) ? FLAT_WORKLOAD : 0;
		if (up && (x->have & CG_HAVE_EVENTS) && x->populated)
			flags[p] |= FLAT_POPULATED_CHILD;
		if (wl) {
			flat_add(r, x, (uint32_t)i, true, o, &n);
			continue;
		}
		if (flags[i] & FLAT_WORKLOAD)
			continue;	/* its processes are the workload's */
		holds = holds_procs(x);
		if (holds > 0)
			flat_add(r, x, (uint32_t)i, false, o, &n);
		else if (holds < 0 && (x->have & CG_HAVE_EVENTS) && x->populated)
			later[nr_later++] = (uint32_t)i;
	}
	for (size_t k = 0; k < nr_later; k++)
		if (!(flags[later[k]] & FLAT_POPULATED_CHILD))
			flat_add(r, &s->samples[later[k]], later[k], false, o, &n);
	if (!ctx->by_name)
		fill_keys(r, s, o->sort, r->tmp, n);
	qsort_r(r->tmp, n, sizeof(*r->tmp), cmp_idx, ctx);
	for (size_t k = 0; k < n; k++)
		r->v[k] = (struct row){ .idx = r->tmp[k] };
	r->n = n;
	return 0;
}

static int build_tree(struct rows *r, const struct cg_snapshot *s, const struct rows_opts *o,
		      struct sort_ctx *ctx)
{
	size_t n = s->nr_samples, out = 0, sp = 0;
	uint32_t *count = r->child_start;	/* n + 1 buckets: bucket n holds roots */

	if (!ctx->by_name)
		fill_keys(r, s, o->sort, NULL, n);
	memset(count, 0, (n + 2) * sizeof(*count));
	for (size_t i = 0; i < n; i++) {
		int32_t p = s->samples[i].parent;

		count[(p < 0 || (size_t)p >= n) ? n : (size_t)p]++;
	}
	/* Exclusive prefix sums: children of p are child[start[p] .. start[p+1]). */
	uint32_t sum = 0;

	for (size_t p = 0; p <= n; p++) {
		uint32_t c = count[p];

		count[p] = sum;
		sum += c;
	}
	count[n + 1] = sum;
	/* Fill using tmp as the per-bucket cursor. */
	for (size_t p = 0; p <= n; p++)
		r->tmp[p < n ? p : 0] = 0;
	{
		/* cursor per bucket; bucket n's cursor kept apart (tmp has n+2) */
		uint32_t root_cur = 0;

		for (size_t i = 0; i < n; i++) {
			int32_t p = s->samples[i].parent;
			size_t b = (p < 0 || (size_t)p >= n) ? n : (size_t)p;
			uint32_t *cur = b == n ? &root_cur : &r->tmp[b];

			r->child[count[b] + (*cur)++] = (uint32_t)i;
		}
	}
	for (size_t p = 0; p <= n; p++) {
		uint32_t a = count[p], b = count[p + 1];

		if (b - a > 1)
			qsort_r(r->child + a, b - a, sizeof(*r->child), cmp_idx, ctx);
	}
	/* Depth-first, children pushed in reverse so the first pops first;
	 * tmp becomes the stack (at most n entries). */
	for (uint32_t k = count[n + 1]; k > count[n]; k--)
		r->tmp[sp++] = r->child[k - 1];
	while (sp) {
		uint32_t i = r->tmp[--sp];
		const struct cg_sample *x = &s->samples[i];
		uint32_t a = count[i], b = count[i + 1];
		bool collapsed = b > a && idset_has(o->collapsed, x->id);

		if (matches(x, o->filter))
			r->v[out++] = (struct row){
				.idx = i,
				.depth = (uint16_t)(x->depth > 65535 ? 65535 : x->depth),
				.has_children = b > a,
				.collapsed = collapsed,
			};
		if (!collapsed)
			for (uint32_t k = b; k > a; k--)
				r->tmp[sp++] = r->child[k - 1];
	}
	r->n = out;
	return 0;
}

int rows_build(struct rows *r, const struct cg_snapshot *s, const struct rows_opts *o)
{
	struct sort_ctx ctx = {
		.s = s,
		.by_name = o->sort == COL_NAME,
		.tree = o->view == VIEW_TREE,
		.reverse = o->reverse,
	};
	int err = grow(r, s->nr_samples);

	if (err)
		return err;
	ctx.key = r->key;
	r->nr_workloads = r->nr_other = 0;
	return o->view == VIEW_TREE ? build_tree(r, s, o, &ctx) : build_flat(r, s, o, &ctx);
}

void rows_free(struct rows *r)
{
	free(r->v);
	free(r->key);
	free(r->tmp);
	free(r->child_start);
	free(r->child);
	memset(r, 0, sizeof(*r));
}
