// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cgfile.h"
#include "idmap.h"
#include "iterbpf.h"
#include "src_iter.h"
#include "textesc.h"

/* The have bits are the file bits: a field group is one file. */
_Static_assert(CG_HAVE_CPU_STAT == CGF_BIT(CGF_CPU_STAT) &&
	       CG_HAVE_MEM_EVENTS == CGF_BIT(CGF_MEM_EVENTS) &&
	       CG_HAVE_PSI_CPU == CGF_BIT(CGF_CPU_PRESSURE) &&
	       CG_HAVE_EVENTS == CGF_BIT(CGF_EVENTS), "have bits differ from file bits");
_Static_assert(CGW_MEM_EVENTS == CG_ME__COUNT, "memory.events keys differ");

/* Kernel constants the files print by (include/linux/page_counter.h,
 * kernel/cgroup/pids.c, kernel/sched/sched.h, include/linux/sched/loadavg.h). */
#define RUNTIME_INF		(~0ULL)
#define PID_MAX_LIMIT		(4u * 1024 * 1024)	/* 64-bit */
#define PIDS_MAX		(PID_MAX_LIMIT + 1ULL)
#define SCHED_FIXEDPOINT_SHIFT	10
#define CGROUP_WEIGHT_DFL	100
#define CGROUP_WEIGHT_MIN	1
#define CGROUP_WEIGHT_MAX	10000
#define FSHIFT			11
#define FIXED_1			(1UL << FSHIFT)

/* The walk's state kept per cgroup: cputime_adjust's memory. */
struct iter_state {
	uint64_t id;
	struct iter_cputime prev;
};

struct src_iter {
	struct cg_source src;
	struct iterbpf *it;
	bool quiet;
	uint64_t page_size;

	/* This tick's walk: records, id -> record, and each record's
	 * children as the walk saw them (for the tree hints). */
	bool walked;
	const struct cgw_iter_rec *recs;
	uint32_t n;
	struct idmap index;
	uint64_t last_id;		/* record_of()'s one-entry cache */
	uint32_t last_idx;
	uint32_t *nr_children;
	uint64_t *children_hash;
	uint32_t cap;

	struct iter_state *st;		/* dense: a forgotten one takes the last's place */
	uint32_t nr_st, cap_st;
	struct idmap st_map;

	uint64_t walk_ns;
	uint32_t filled;		/* cgroups filled this tick */
};

#define SI(s) ((struct src_iter *)(s))

void iter_cputime_adjust(uint64_t rtime, uint64_t utime, uint64_t stime,
			 struct iter_cputime *prev, uint64_t *ut, uint64_t *st)
{
	if (prev->stime + prev->utime >= rtime)
		goto out;
	if (stime == 0) {
		utime = rtime;
	} else if (utime == 0) {
		stime = rtime;
	} else {
		/* mul_u64_u64_div_u64: exact in 128 bits, as on x86-64. */
		stime = (uint64_t)((unsigned __int128)stime * rtime / ((unsigned __int128)stime + utime));
		if (stime > rtime)
			stime = rtime;
	}
	if (stime < prev->stime)
		stime = prev->stime;
	utime = rtime - stime;
	if (utime < prev->utime) {
		utime = prev->utime;
		stime = rtime - utime;
	}
	prev->stime = stime;
	prev->utime = utime;
out:
	*ut = prev->utime;
	*st = prev->stime;
}

uint32_t iter_psi_avg(uint64_t fixed)
{
	uint64_t whole = fixed >> FSHIFT;
	uint64_t frac = ((fixed & (FIXED_1 - 1)) * 100) >> FSHIFT;

	return (uint32_t)(whole * 100 + frac);
}

/* A page counter's limit: "max" at PAGE_COUNTER_MAX, else bytes. */
static uint64_t pages_limit(uint64_t pages, uint64_t page_size)
{
	uint64_t max = (uint64_t)INT64_MAX / page_size;

	return pages >= max ? CG_UNLIMITED : pages * page_size;
}

static void fill_cpu(const struct cgw_iter_rec *r, bool cfs, struct iter_cputime *prev,
		     struct cg_sample *s)
{
	const struct iter_cputime last = *prev;	/* what we gave out last tick */
	struct iter_cputime mine = *prev;
	uint64_t ut, st;

	/* Whoever adjusted last (another reader of cpu.stat, or our last
	 * tick) holds the later split: start from it, as the file would. */
	if (r->prev_utime_ns + r->prev_stime_ns > mine.utime + mine.stime)
		mine = (struct iter_cputime){ r->prev_utime_ns, r->prev_stime_ns };
	iter_cputime_adjust(r->cpu_sum_ns, r->cpu_utime_ns, r->cpu_stime_ns, &mine, &ut, &st);
	/* The kernel's split and ours each only grow, but the kernel's may
	 * have given system a smaller share than we did: adopting it whole
	 * would turn our system (or user) time back, and its rate would
	 * vanish for a tick. Keep the sum, move the split just enough that
	 * neither part goes back; the sum is at least last tick's, so both
	 * cannot fall short at once. */
	if (st < last.stime) {
		ut = ut + st - last.stime;
		st = last.stime;
	} else if (ut < last.utime) {
		st = st + ut - last.utime;
		ut = last.utime;
	}
	*prev = (struct iter_cputime){ ut, st };
	s->cpu[CG_CPU_USAGE_USEC] = r->cpu_sum_ns / 1000;
	s->cpu[CG_CPU_USER_USEC] = ut / 1000;
	s->cpu[CG_CPU_SYSTEM_USEC] = st / 1000;
	s->cpu_have = 1u << CG_CPU_USAGE_USEC | 1u << CG_CPU_USER_USEC | 1u << CG_CPU_SYSTEM_USEC;
	if (!cfs)
		return;
	s->cpu[CG_CPU_NR_PERIODS] = r->nr_periods;
	s->cpu[CG_CPU_NR_THROTTLED] = r->nr_throttled;
	s->cpu[CG_CPU_THROTTLED_USEC] = r->throttled_ns / 1000;
	s->cpu[CG_CPU_NR_BURSTS] = r->nr_bursts;
	s->cpu[CG_CPU_BURST_USEC] = r->burst_ns / 1000;
	s->cpu_have = (1u << CG_CPU__COUNT) - 1;
}

/* cpu.weight from the group's shares: scale_load_down() then
 * sched_weight_to_cgroup(), rounding and clamping as the kernel does. */
static uint64_t cpu_weight(uint64_t shares)
{
	uint64_t w = shares;

	if (w) {
		w >>= SCHED_FIXEDPOINT_SHIFT;
		if (w < 2)
			w = 2;
	}
	w = (w * CGROUP_WEIGHT_DFL + 512) / 1024;
	if (w < CGROUP_WEIGHT_MIN)
		w = CGROUP_WEIGHT_MIN;
	if (w > CGROUP_WEIGHT_MAX)
		w = CGROUP_WEIGHT_MAX;
	return w;
}

static void fill_psi(const struct cgw_iter_rec *r, int res, struct cg_psi *p)
{
	/* The kernel's states: io some/full, memory some/full, cpu some/full. */
	static const int kernel_res[CG_PSI__COUNT] = { [CG_PSI_CPU] = 2, [CG_PSI_MEMORY] = 1,
						       [CG_PSI_IO] = 0 };
	struct cg_psi_line *line[2] = { &p->some, &p->full };

	for (int full = 0; full < 2; full++) {
		int k = kernel_res[res] * 2 + full;

		line[full]->avg10 = iter_psi_avg(r->psi_avg[k][0]);
		line[full]->avg60 = iter_psi_avg(r->psi_avg[k][1]);
		line[full]->avg300 = iter_psi_avg(r->psi_avg[k][2]);
		line[full]->total_usec = r->psi_total[k] / 1000;
	}
	/* A cgroup's files have both lines since 5.13; the iterator needs 6.1. */
	p->have_some = p->have_full = true;
}

uint32_t iter_rec_fill(const struct cgw_iter_rec *r, uint32_t want, uint32_t present,
		       uint64_t page_size, struct iter_cputime *prev, struct cg_sample *s)
{
	uint32_t can = 0, v = r->valid;
	/* The cpu controller is on when its files are there: then cpu.stat
	 * has the throttling keys too, and only the task group has them. */
	bool cpu_ctl = present & CGF_BIT(CGF_CPU_MAX);

	if (v & CGW_IV_CGROUP)
		can |= CGF_BIT(CGF_EVENTS);
	if ((v & CGW_IV_RSTAT) && (!cpu_ctl || (v & CGW_IV_CFS)))
		can |= CGF_BIT(CGF_CPU_STAT);
	if (v & CGW_IV_CFS)
		can |= CGF_BIT(CGF_CPU_MAX) | CGF_BIT(CGF_CPU_WEIGHT);
	if (v & CGW_IV_MEM)
		can |= CGF_BIT(CGF_MEM_CURRENT) | CGF_BIT(CGF_MEM_PEAK) | CGF_BIT(CGF_MEM_MAX) |
		       CGF_BIT(CGF_MEM_HIGH) | CGF_BIT(CGF_MEM_LOW) | CGF_BIT(CGF_MEM_MIN) |
		       CGF_BIT(CGF_SWAP_CURRENT) | CGF_BIT(CGF_SWAP_MAX) | CGF_BIT(CGF_MEM_EVENTS);
	if (v & CGW_IV_PIDS)
		can |= CGF_BIT(CGF_PIDS_CURRENT) | CGF_BIT(CGF_PIDS_MAX);
	if ((v & CGW_IV_PSI) && !(r->flags & CGW_IF_PSI_OFF))
		can |= CGF_BIT(CGF_CPU_PRESSURE) | CGF_BIT(CGF_MEM_PRESSURE) |
		       CGF_BIT(CGF_IO_PRESSURE);
	/* Only what the file source would show: the files the cgroup has. */
	can &= want & present;

	for (uint32_t m = can; m; m &= m - 1) {
		switch (__builtin_ctz(m)) {
		case CGF_CPU_STAT: fill_cpu(r, cpu_ctl, prev, s); break;
		case CGF_CPU_MAX:
			s->cpu_max_quota_usec = r->cfs_quota_ns == RUNTIME_INF ? CG_UNLIMITED :
						r->cfs_quota_ns / 1000;
			s->cpu_max_period_usec = r->cfs_period_ns / 1000;
			break;
		case CGF_CPU_WEIGHT: s->cpu_weight = cpu_weight(r->shares); break;
		case CGF_MEM_CURRENT: s->mem_current = r->mem_usage * page_size; break;
		case CGF_MEM_PEAK: s->mem_peak = r->mem_watermark * page_size; break;
		case CGF_MEM_MAX: s->mem_max = pages_limit(r->mem_max, page_size); break;
		case CGF_MEM_HIGH: s->mem_high = pages_limit(r->mem_high, page_size); break;
		case CGF_MEM_LOW: s->mem_low = pages_limit(r->mem_low, page_size); break;
		case CGF_MEM_MIN: s->mem_min = pages_limit(r->mem_min, page_size); break;
		case CGF_SWAP_CURRENT: s->swap_current = r->swap_usage * page_size; break;
		case CGF_SWAP_MAX: s->swap_max = pages_limit(r->swap_max, page_size); break;
		case CGF_MEM_EVENTS:
			memcpy(s->memevents, r->mem_events, sizeof(s->memevents));
			s->memevents_have = (1u << CG_ME__COUNT) - 1;
			break;
		case CGF_PIDS_CURRENT: s->pids_current = r->pids_current; break;
		case CGF_PIDS_MAX:
			s->pids_max = r->pids_limit >= PIDS_MAX ? CG_UNLIMITED : r->pids_limit;
			break;
		case CGF_CPU_PRESSURE: fill_psi(r, CG_PSI_CPU, &s->psi[CG_PSI_CPU]); break;
		case CGF_MEM_PRESSURE: fill_psi(r, CG_PSI_MEMORY, &s->psi[CG_PSI_MEMORY]); break;
		case CGF_IO_PRESSURE: fill_psi(r, CG_PSI_IO, &s->psi[CG_PSI_IO]); break;
		case CGF_EVENTS:
			s->populated = r->flags & CGW_IF_POPULATED;
			s->frozen = r->flags & CGW_IF_FROZEN;
			break;
		}
	}
	s->have |= can;
	s->iter_have |= can;
	return can;
}

static struct iter_state *state_get(struct src_iter *si, uint64_t id, bool born)
{
	uint32_t i = idmap_get(&si->st_map, id);
	struct iter_state *e;

	if (i != IDMAP_NONE) {
		e = &si->st[i];
		if (born)
			e->prev = (struct iter_cputime){ 0, 0 };
		return e;
	}
	if (si->nr_st == si->cap_st) {
		uint32_t cap = si->cap_st ? si->cap_st * 2 : 256;
		struct iter_state *p = realloc(si->st, cap * sizeof(*p));

		if (!p)
			return NULL;
		si->st = p;
		si->cap_st = cap;
	}
	if (idmap_put(&si->st_map, id, si->nr_st))
		return NULL;
	e = &si->st[si->nr_st++];
	*e = (struct iter_state){ .id = id };
	return e;
}

/* The walk went wrong at run time: files from now on, said once. */
static void turn_off(struct src_iter *si, const char *why)
{
	if (!si->quiet) {
		char safe[256];

		text_escape(why, false, safe, sizeof(safe));
		fprintf(stderr, "cgwarden: BPF cgroup iterator off: %s; reading files instead\n",
			safe);
	}
	iterbpf_close(si->it);
	si->it = NULL;
}

static int grow(struct src_iter *si, uint32_t n)
{
	uint32_t cap = si->cap ? si->cap : 1024;
	uint32_t *nk;
	uint64_t *kh;

	while (cap < n)
		cap *= 2;
	if (cap == si->cap)
		return 0;
	nk = realloc(si->nr_children, cap * sizeof(*nk));
	if (!nk)
		return -ENOMEM;
	si->nr_children = nk;
	kh = realloc(si->children_hash, cap * sizeof(*kh));
	if (!kh)
		return -ENOMEM;
	si->children_hash = kh;
	si->cap = cap;
	return 0;
}

static int iter_begin(struct cg_source *src, struct cg_arena *arena, const struct cg_want *want)
{
	struct src_iter *si = SI(src);
	char why[256];
	int err;

	(void)arena;
	(void)want;
	si->walked = false;
	si->filled = 0;
	/* Walked even when no consumer wants a field it gives: the tree
	 * hints alone save a listing per parent. */
	if (!si->it)
		return -ENODEV;
	err = iterbpf_walk(si->it, &si->recs, &si->n, why, sizeof(why));
	if (err) {
		turn_off(si, why);
		return err;
	}
	si->walk_ns = iterbpf_last_walk_ns(si->it);
	if (grow(si, si->n))
		return -ENOMEM;
	idmap_clear(&si->index);
	si->last_id = 0;
	si->last_idx = IDMAP_NONE;
	if (idmap_reserve(&si->index, si->n))
		return -ENOMEM;
	for (uint32_t i = 0; i < si->n; i++) {
		const struct cgw_iter_rec *r = &si->recs[i];
		uint32_t p;

		si->nr_children[i] = 0;
		si->children_hash[i] = 0;
		if (idmap_put(&si->index, r->id, i))
			return -ENOMEM;
		/* Parents first: a record's parent is indexed already. */
		p = r->parent_id ? idmap_get(&si->index, r->parent_id) : IDMAP_NONE;
		if (p != IDMAP_NONE) {
			si->nr_children[p]++;
			si->children_hash[p] = cg_tree_hash_add(si->children_hash[p], r->id);
		}
	}
	si->walked = true;
	return 0;
}

/* The record of id this tick, or IDMAP_NONE. The collector asks for the
 * tree hint and then the fill of one cgroup: one lookup serves both. */
static uint32_t record_of(struct src_iter *si, uint64_t id)
{
	if (si->last_id != id) {
		si->last_id = id;
		si->last_idx = idmap_get(&si->index, id);
	}
	return si->last_idx;
}

static int iter_fill(struct cg_source *src, const struct cg_where *w, struct cg_sample *s,
		     const struct cg_want *want)
{
	struct src_iter *si = SI(src);
	struct iter_state *st;
	uint32_t i;

	if (!si->walked || !want->files)
		return 0;
	i = record_of(si, w->id);
	if (i == IDMAP_NONE)
		return 0;	/* born after the walk: the files have it */
	st = state_get(si, w->id, w->born);
	if (!st)
		return -ENOMEM;
	if (iter_rec_fill(&si->recs[i], want->files, w->present, si->page_size, &st->prev, s))
		si->filled++;
	return 0;
}

static bool iter_tree(struct cg_source *src, uint64_t id, struct cg_tree_hint *hint)
{
	struct src_iter *si = SI(src);
	uint32_t i;

	if (!si->walked)
		return false;
	i = record_of(si, id);
	if (i == IDMAP_NONE)
		return false;
	hint->nr_children = si->nr_children[i];
	hint->children_hash = si->children_hash[i];
	hint->shape = si->recs[i].css_mask ^ (si->recs[i].flags & CGW_IF_PSI_OFF ? 1u << 31 : 0);
	return true;
}

static void iter_forget(struct cg_source *src, uint64_t id)
{
	struct src_iter *si = SI(src);
	uint32_t i = idmap_get(&si->st_map, id);

	if (i == IDMAP_NONE)
		return;
	idmap_del(&si->st_map, id);
	if (i != --si->nr_st) {
		si->st[i] = si->st[si->nr_st];
		idmap_put(&si->st_map, si->st[i].id, i);	/* in place: cannot fail */
	}
}

static void iter_self_cost(const struct cg_source *src, struct cg_self *self)
{
	const struct src_iter *si = (const struct src_iter *)src;

	self->iter = si->walked;
	self->iter_walk_usec = si->walked ? si->walk_ns / 1000 : 0;
	self->iter_cgroups = si->walked ? si->filled : 0;
}

static void iter_free(struct cg_source *src)
{
	struct src_iter *si = SI(src);

	iterbpf_close(si->it);
	idmap_free(&si->index);
	idmap_free(&si->st_map);
	free(si->nr_children);
	free(si->children_hash);
	free(si->st);
	free(si);
}

uint32_t src_iter_count(struct cg_source *src)
{
	struct src_iter *si = SI(src);
	const struct cgw_iter_rec *recs;
	uint32_t n = 0;
	char why[256];

	if (!si->it || iterbpf_walk(si->it, &recs, &n, why, sizeof(why)))
		return 0;
	return n;
}

static const struct cg_source_ops iter_ops = {
	.name = "bpf-iter",
	.begin = iter_begin,
	.fill = iter_fill,
	.forget = iter_forget,
	.tree = iter_tree,
	.self_cost = iter_self_cost,
	.free = iter_free,
};

int src_iter_new(int root_fd, bool quiet, struct cg_source **out, char *why, size_t whylen)
{
	struct src_iter *si = calloc(1, sizeof(*si));
	long page = sysconf(_SC_PAGESIZE);
	int err;

	if (!si) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	err = iterbpf_open(root_fd, 0, &si->it, why, whylen);
	if (err) {
		free(si);
		return err;
	}
	si->src.ops = &iter_ops;
	si->quiet = quiet;
	si->page_size = page > 0 ? (uint64_t)page : 4096;
	*out = &si->src;
	return 0;
}
