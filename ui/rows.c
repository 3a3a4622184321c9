// SPDX-License-Identifier: GPL-2.0-only
/* The table's model: columns and the row list (see rows.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "format.h"
#include "rows.h"

const struct col_def col_defs[COL__COUNT] = {
	[COL_NAME] = { "NAME", 16, 0, "container, pod or unit name, else the cgroup path" },
	[COL_KIND] = { "KIND", 5, 9, "container (ctr), pod, service (svc), scope, slice, session" },
	[COL_CPU] = { "CPU%", 5, 1, "CPU use, 100 = one CPU busy (like top)" },
	[COL_THR] = { "THR%", 5, 5, "share of CPU periods throttled by cpu.max" },
	[COL_MEM] = { "MEM", 5, 2, "memory.current" },
	[COL_MEMPCT] = { "MEM%", 5, 3, "memory.current as a share of memory.max" },
	[COL_PEAK] = { "PEAK", 5, 11, "memory.peak (highest since creation)" },
	[COL_IOR] = { "IO-R/s", 6, 7, "bytes read per second (io.stat)" },
	[COL_IOW] = { "IO-W/s", 6, 7, "bytes written per second (io.stat)" },
	[COL_NETRX] = { "RX/s", 5, 12, "network bytes received per second (eBPF)" },
	[COL_NETTX] = { "TX/s", 5, 12, "network bytes sent per second (eBPF)" },
	[COL_PIDS] = { "PIDS", 5, 4, "pids.current, else tasks in cgroup.threads" },
	[COL_PSI_CPU] = { "PSIcpu", 6, 6, "cpu.pressure some avg10 (% of time stalled)" },
	[COL_PSI_MEM] = { "PSImem", 6, 8, "memory.pressure some avg10" },
	[COL_PSI_IO] = { "PSIio", 5, 10, "io.pressure some avg10" },
	[COL_RUNQ] = { "RUNQ99", 6, 13, "run-queue latency p99 this interval (eBPF)" },
	[COL_OOM] = { "OOM", 4, 14, "OOM kills (memory.events oom_kill, else eBPF)" },
};

static bool psi_value(const struct cg_sample *s, enum cg_psi_resource r, uint32_t bit,
		      double *v)
{
	if (!(s->have & bit) || !s->psi[r].have_some)
		return false;
	*v = s->psi[r].some.avg10;
	return true;
}

bool col_value(const struct cg_sample *s, enum col_id c, double *v)
{
	const struct cg_rates *r = &s->rate;

	switch (c) {
	case COL_NAME:
		return false;
	case COL_KIND:
		*v = s->ident.kind;
		return true;
	case COL_CPU:
		if (!(r->have & CG_RATE_CPU_USAGE))
			return false;
		*v = r->cpu_usage_ratio * 100;
		return true;
	case COL_THR:
		if (!(r->have & CG_RATE_CPU_THROTTLED))
			return false;
		*v = r->cpu_throttled_ratio * 100;
		return true;
	case COL_MEM:
		if (!(s->have & CG_HAVE_MEM_CURRENT))
			return false;
		*v = (double)s->mem_current;
		return true;
	case COL_MEMPCT:
		if ((s->have & (CG_HAVE_MEM_CURRENT | CG_HAVE_MEM_MAX)) !=
		    (CG_HAVE_MEM_CURRENT | CG_HAVE_MEM_MAX) ||
		    s->mem_max == CG_UNLIMITED || s->mem_max == 0)
			return false;
		*v = 100.0 * (double)s->mem_current / (double)s->mem_max;
		return true;
	case COL_PEAK:
		if (!(s->have & CG_HAVE_MEM_PEAK))
			return false;
		*v = (double)s->mem_peak;
		return true;
	case COL_IOR:
	case COL_IOW:
		if (!(r->have & CG_RATE_IO))
			return false;
		*v = c == COL_IOR ? r->io_read_bytes_per_sec : r->io_write_bytes_per_sec;
		return true;
	case COL_NETRX:
	case COL_NETTX:
		if (!(r->have & CG_RATE_NET))
			return false;
		*v = c == COL_NETRX ? r->rx_bytes_per_sec : r->tx_bytes_per_sec;
		return true;
	case COL_PIDS:
		if (s->have & CG_HAVE_PIDS_CURRENT)
			*v = (double)s->pids_current;
		else if (s->have & CG_HAVE_THREADS)
			*v = (double)s->threads;
		else
			return false;
		return true;
	case COL_PSI_CPU:
		return psi_value(s, CG_PSI_CPU, CG_HAVE_PSI_CPU, v);
	case COL_PSI_MEM:
		return psi_value(s, CG_PSI_MEMORY, CG_HAVE_PSI_MEMORY, v);
	case COL_PSI_IO:
		return psi_value(s, CG_PSI_IO, CG_HAVE_PSI_IO, v);
	case COL_RUNQ:
		if (!(r->have & CG_RATE_RUNQ))
			return false;
		*v = r->runq_p99_usec;
		return true;
	case COL_OOM:
		if ((s->have & CG_HAVE_MEM_EVENTS) && (s->memevents_have & (1u << CG_ME_OOM_KILL)))
			*v = (double)s->memevents[CG_ME_OOM_KILL];
		else if (s->bpf.have & CG_BPF_PROC)
			*v = (double)s->bpf.oom_kills;
		else
			return false;
		return true;
	case COL__COUNT:
		break;
	}
	return false;
}

void col_format(const struct cg_sample *s, enum col_id c, char *out, size_t outlen)
{
	double v;

	if (c == COL_KIND) {
		snprintf(out, outlen, "%s", fmt_kind_short(s->ident.kind));
		return;
	}
	if (!col_value(s, c, &v)) {
		snprintf(out, outlen, "-");
		return;
	}
	switch (c) {
	case COL_CPU:
	case COL_THR:
	case COL_MEMPCT:
		fmt_pct(v, out, outlen);
		break;
	case COL_MEM:
	case COL_PEAK:
	case COL_IOR:
	case COL_IOW:
	case COL_NETRX:
	case COL_NETTX:
		fmt_bytes_rate(v, out, outlen);
		break;
	case COL_PIDS:
	case COL_OOM:
		fmt_count((uint64_t)v, out, outlen);
		break;
	case COL_PSI_CPU:
	case COL_PSI_MEM:
	case COL_PSI_IO:
		fmt_psi((uint32_t)v, out, outlen);
		break;
	case COL_RUNQ:
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

static int build_flat(struct rows *r, const struct cg_snapshot *s, const struct rows_opts *o,
		      struct sort_ctx *ctx)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nr_samples; i++) {
		const struct cg_sample *x = &s->samples[i];

		if (rows_is_workload(x) && matches(x, o->filter))
			r->tmp[n++] = (uint32_t)i;
	}
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
