/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The cgroup-iterator walk (src/iterbpf.c loads it): attached with
 * BPF_CGROUP_ITER_DESCENDANTS_PRE at a cgroup2 directory, one read() of
 * the iterator runs this program once per live cgroup under it, parents
 * before children, with cgroup_mutex held by the kernel for the whole walk.
 * Each run writes one struct cgw_iter_rec (bpf/cgw_iter.h) into the
 * mmapped array `recs`; user space reads the array without a system call.
 *
 * Nothing goes through the seq_file: a cgroup iterator cannot resume after
 * its first output buffer (about 32 KiB, then -EOPNOTSUPP), while the
 * array holds any tree user space makes room for.
 *
 * Built twice (Makefile), because Debian 12's libbpf 1.1 has no weak
 * kfuncs: the rstat flush is css_rstat_flush(&cgrp->self) on 6.16+
 * (CGW_ITER_FLUSH_CSS) and cgroup_rstat_flush(cgrp) on 6.1 to 6.15.
 * User space picks the object by the running kernel's BTF.
 *
 * Every group of fields is read only where the running kernel has it
 * (CO-RE existence checks) and the cgroup has the controller; anything
 * else leaves its CGW_IV_* bit clear, and its fields zero, for the files.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "cgw_iter.h"

char LICENSE[] SEC("license") = "GPL";

/* User space sets max_entries (its capacity) before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct cgw_iter_rec);
} recs SEC(".maps");

/* Zeroed by user space before each walk. */
struct cgw_iter_counts counts;

#if defined(CGW_ITER_FLUSH_CSS)
extern void css_rstat_flush(struct cgroup_subsys_state *css) __ksym;
#define rstat_flush(cgrp) css_rstat_flush(&(cgrp)->self)
#elif defined(CGW_ITER_FLUSH_CGROUP)
extern void cgroup_rstat_flush(struct cgroup *cgrp) __ksym;
#define rstat_flush(cgrp) cgroup_rstat_flush(cgrp)
#else
#error "build with -DCGW_ITER_FLUSH_CSS or -DCGW_ITER_FLUSH_CGROUP"
#endif

/*
 * Bits of anonymous kernel enums, which CO-RE cannot look up by name.
 * Both have kept their values since they were added (CGRP_FROZEN in 5.2,
 * the mount flag in 5.2) and are the same in the 6.1 and 6.18 BTF.
 */
#define CGRP_FROZEN_BIT			3
#define ROOT_MEMORY_LOCAL_EVENTS	(1u << 17)

/* More than any kernel's CGROUP_SUBSYS_COUNT so far (6.1 has 14). */
#define MAX_SUBSYS 16

/* The first member of a controller's state is its css: the container is
 * the css address less that member's offset in the running kernel. */
#define css_container(css, type, member) \
	((type *)((unsigned long)(css) - bpf_core_field_offset(type, member)))

/* The css of controller `id` (an enum cgroup_subsys_id value), or 0.
 * Constant indexes only: the verifier wants a known stack offset. */
static __always_inline unsigned long css_of(const unsigned long *subsys, __u32 nr, int id)
{
	unsigned long css = 0;

#pragma unroll
	for (int i = 0; i < MAX_SUBSYS; i++)
		if (i == id && i < nr)
			css = subsys[i];
	return css;
}

static __always_inline void fill_rstat(struct cgw_iter_rec *r, struct cgroup *cgrp)
{
	if (!bpf_core_field_exists(cgrp->bstat) || !bpf_core_field_exists(cgrp->prev_cputime))
		return;
	r->cpu_sum_ns = cgrp->bstat.cputime.sum_exec_runtime;
	r->cpu_utime_ns = cgrp->bstat.cputime.utime;
	r->cpu_stime_ns = cgrp->bstat.cputime.stime;
	r->prev_utime_ns = cgrp->prev_cputime.utime;
	r->prev_stime_ns = cgrp->prev_cputime.stime;
	r->valid |= CGW_IV_RSTAT;
}

/* The cpu controller's task_group: what cpu.max, cpu.weight and the
 * throttling lines of cpu.stat print. */
static __always_inline void fill_cfs(struct cgw_iter_rec *r, unsigned long css)
{
	struct task_group *tg;

	if (!css || !bpf_core_field_exists(struct task_group, cfs_bandwidth) ||
	    !bpf_core_field_exists(struct cfs_bandwidth, nr_burst))
		return;
	tg = css_container(css, struct task_group, css);
	r->cfs_quota_ns = BPF_CORE_READ(tg, cfs_bandwidth.quota);
	r->cfs_period_ns = BPF_CORE_READ(tg, cfs_bandwidth.period);
	r->shares = BPF_CORE_READ(tg, shares);
	r->nr_periods = (__u32)BPF_CORE_READ(tg, cfs_bandwidth.nr_periods);
	r->nr_throttled = (__u32)BPF_CORE_READ(tg, cfs_bandwidth.nr_throttled);
	r->throttled_ns = BPF_CORE_READ(tg, cfs_bandwidth.throttled_time);
	r->nr_bursts = (__u32)BPF_CORE_READ(tg, cfs_bandwidth.nr_burst);
	r->burst_ns = BPF_CORE_READ(tg, cfs_bandwidth.burst_time);
	r->valid |= CGW_IV_CFS;
}

/* One memory.events counter. memory.events always prints memory_events[]
 * (with memory_localevents that array simply stops propagating upwards),
 * so that is the array read in both modes. */
#define MEM_EVENT(i, name)							\
	do {									\
		if (bpf_core_enum_value_exists(enum memcg_memory_event, name)) {	\
			int e_ = bpf_core_enum_value(enum memcg_memory_event, name);	\
										\
			r->mem_events[i] = BPF_CORE_READ(memcg, memory_events[e_].counter); \
		}								\
	} while (0)

static __always_inline void fill_mem(struct cgw_iter_rec *r, unsigned long css,
				     __u32 root_flags)
{
	struct mem_cgroup *memcg;

	if (!css || !bpf_core_field_exists(struct mem_cgroup, swap) ||
	    !bpf_core_field_exists(struct mem_cgroup, memory_events) ||
	    !bpf_core_field_exists(struct page_counter, watermark) ||
	    !bpf_core_field_exists(struct page_counter, high))
		return;
	memcg = css_container(css, struct mem_cgroup, css);
	r->mem_usage = BPF_CORE_READ(memcg, memory.usage.counter);
	r->mem_watermark = BPF_CORE_READ(memcg, memory.watermark);
	r->mem_max = BPF_CORE_READ(memcg, memory.max);
	r->mem_high = BPF_CORE_READ(memcg, memory.high);
	r->mem_low = BPF_CORE_READ(memcg, memory.low);
	r->mem_min = BPF_CORE_READ(memcg, memory.min);
	r->swap_usage = BPF_CORE_READ(memcg, swap.usage.counter);
	r->swap_max = BPF_CORE_READ(memcg, swap.max);
	MEM_EVENT(0, MEMCG_LOW);
	MEM_EVENT(1, MEMCG_HIGH);
	MEM_EVENT(2, MEMCG_MAX);
	MEM_EVENT(3, MEMCG_OOM);
	MEM_EVENT(4, MEMCG_OOM_KILL);
	MEM_EVENT(5, MEMCG_OOM_GROUP_KILL);
	r->valid |= CGW_IV_MEM;
	if (root_flags & ROOT_MEMORY_LOCAL_EVENTS)
		r->valid |= CGW_IV_MEM_LOCAL_EVENTS;
}

static __always_inline void fill_pids(struct cgw_iter_rec *r, unsigned long css)
{
	struct pids_cgroup *pids;

	if (!css || !bpf_core_field_exists(struct pids_cgroup, limit))
		return;
	pids = css_container(css, struct pids_cgroup, css);
	r->pids_current = BPF_CORE_READ(pids, counter.counter);
	r->pids_limit = BPF_CORE_READ(pids, limit.counter);
	r->valid |= CGW_IV_PIDS;
}

/*
 * The PSI_AVGS row of the totals and the averages, as the pressure files
 * print them (after the last aggregation; a read of the file may run one
 * more). Row 0 and the first six states sit at the start of both arrays
 * whatever NR_PSI_STATES the kernel has.
 */
static __always_inline void fill_psi(struct cgw_iter_rec *r, struct cgroup *cgrp)
{
	struct psi_group *psi;

	if (!bpf_core_field_exists(cgrp->psi) ||
	    !bpf_core_enum_value_exists(enum psi_aggregators, PSI_AVGS) ||
	    bpf_core_enum_value(enum psi_aggregators, PSI_AVGS) != 0)
		return;
	psi = cgrp->psi;
	if (!psi)
		return;		/* PSI off for cgroups (psi_cgroups_enabled) */
	if (bpf_core_field_exists(psi->enabled) && !psi->enabled) {
		r->flags |= CGW_IF_PSI_OFF;	/* cgroup.pressure 0 */
		return;
	}
#pragma unroll
	for (int i = 0; i < CGW_PSI_STATES; i++) {
		r->psi_total[i] = psi->total[i];
		r->psi_avg[i][0] = psi->avg[i * 3];
		r->psi_avg[i][1] = psi->avg[i * 3 + 1];
		r->psi_avg[i][2] = psi->avg[i * 3 + 2];
	}
	r->valid |= CGW_IV_PSI;
}

static __always_inline void fill(struct cgw_iter_rec *r, struct cgroup *cgrp, bool walk_root)
{
	unsigned long subsys[MAX_SUBSYS] = {};
	struct cgroup_subsys_state *pcss;
	__u32 nr, sz, root_flags;
	__u64 *zero = (__u64 *)r;

	/* The slot still holds the last walk's record. */
#pragma unroll
	for (int i = 0; i < sizeof(*r) / sizeof(__u64); i++)
		zero[i] = 0;

	r->id = cgrp->kn->id;
	r->level = cgrp->level;
	r->nr_descendants = cgrp->nr_descendants;
	/* The parent through the css, not kernfs: kernfs_node::parent was
	 * renamed __parent in 6.15. */
	pcss = cgrp->self.parent;
	if (pcss && !walk_root)
		r->parent_id = pcss->cgroup->kn->id;

	/* One read of the whole pointer array, as long as this kernel has
	 * it (14 on 6.1, 12 on 6.18). */
	sz = bpf_core_field_size(cgrp->subsys);
	if (sz > sizeof(subsys))
		sz = sizeof(subsys);
	bpf_core_read(subsys, sz, &cgrp->subsys);
	nr = sz / sizeof(subsys[0]);
#pragma unroll
	for (int i = 0; i < MAX_SUBSYS; i++)
		if (i < nr && subsys[i])
			r->css_mask |= 1u << i;
	r->valid = CGW_IV_CGROUP;

	/* The real root's files are system-wide figures computed another
	 * way (cpu.stat from all CPUs, psi_system, no memory.max): user
	 * space reads those from the files. */
	if (r->level == 0)
		return;

	if (cgrp->nr_populated_csets + cgrp->nr_populated_domain_children +
	    cgrp->nr_populated_threaded_children)
		r->flags |= CGW_IF_POPULATED;
	if (cgrp->flags & (1ul << CGRP_FROZEN_BIT))
		r->flags |= CGW_IF_FROZEN;

	fill_rstat(r, cgrp);
	fill_psi(r, cgrp);
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, cpu_cgrp_id))
		fill_cfs(r, css_of(subsys, nr, bpf_core_enum_value(enum cgroup_subsys_id,
								   cpu_cgrp_id)));
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id)) {
		root_flags = BPF_CORE_READ(cgrp, root, flags);
		fill_mem(r, css_of(subsys, nr, bpf_core_enum_value(enum cgroup_subsys_id,
								   memory_cgrp_id)),
			 root_flags);
	}
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, pids_cgrp_id))
		fill_pids(r, css_of(subsys, nr, bpf_core_enum_value(enum cgroup_subsys_id,
								    pids_cgrp_id)));
}

SEC("iter.s/cgroup")
int cgw_iter(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cgrp = ctx->cgroup;
	struct cgw_iter_rec *r;
	__u32 idx;

	if (!cgrp)
		return 0;	/* the call after the last cgroup */
	/*
	 * Our own count, not meta->seq_num, indexes the array: the kernel
	 * skips a dying cgroup (rmdir'd, still pinned by its memory) without
	 * running us but still counts it, which would leave holes.
	 */
	idx = counts.visited++;
	if (idx == 0) {
		/* One flush for the subtree: it pulls every CPU's pending
		 * deltas of the whole tree below the walk's root. */
		rstat_flush(cgrp);
		counts.flushes++;
	}
	r = bpf_map_lookup_elem(&recs, &idx);
	if (!r) {
		/* Keep walking to count them: user space grows the array to
		 * fit and walks again. */
		counts.overflow++;
		return 0;
	}
	fill(r, cgrp, idx == 0);
	counts.nrec = idx + 1;
	return 0;
}
