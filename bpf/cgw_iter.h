/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The record one BPF cgroup-iterator walk (bpf/cgw_iter.bpf.c) writes for
 * each cgroup under the walked root, into an mmapped array map that user
 * space (src/iterbpf.c, src/src_iter.c) reads without a system call.
 * Fixed-width, 8-byte fields only: included by the BPF side (vmlinux.h
 * types) and by user space. Raw kernel units (ns, pages, fixed-point
 * averages): user space converts them exactly as the files print them.
 */
#ifndef CGWARDEN_BPF_ITER_H
#define CGWARDEN_BPF_ITER_H

/* Which groups of a record are filled (cgw_iter_rec.valid). A group is
 * filled only when the running kernel has the fields (CO-RE existence
 * checks) and the cgroup has the controller; anything else is left to the
 * files. */
#define CGW_IV_CGROUP	(1u << 0)	/* populated, frozen, nr_descendants (always) */
#define CGW_IV_RSTAT	(1u << 1)	/* cpu_* from cgroup->bstat, prev_* */
#define CGW_IV_CFS	(1u << 2)	/* task_group: quota, period, shares, throttling */
#define CGW_IV_MEM	(1u << 3)	/* mem_cgroup page counters and events */
#define CGW_IV_PIDS	(1u << 4)	/* pids_cgroup counter and limit */
#define CGW_IV_PSI	(1u << 5)	/* psi_group totals and averages */
#define CGW_IV_MEM_LOCAL_EVENTS (1u << 6) /* mount option memory_localevents:
					   * mem_events (memory.events, which
					   * then counts this cgroup's own
					   * events only, as .local does) */

/* cgw_iter_rec.flags */
#define CGW_IF_POPULATED (1u << 0)
#define CGW_IF_FROZEN	(1u << 1)	/* CGRP_FROZEN, what cgroup.events says */
#define CGW_IF_PSI_OFF	(1u << 2)	/* cgroup.pressure 0: no pressure files */

/* The memory.events counters, in the order of CG_MEMEVENT_KEYS. */
#define CGW_MEM_EVENTS 6
/* PSI states in the kernel's order: io some/full, memory some/full, cpu
 * some/full (enum psi_states; irq and nonidle after them are not read). */
#define CGW_PSI_STATES 6

struct cgw_iter_rec {
	__u64 id;		/* cgroup->kn->id = the directory's inode */
	__u64 parent_id;	/* 0 for the walk's root */
	__u32 level;		/* cgroup->level (the real root is 0) */
	__u32 valid;		/* CGW_IV_* */
	__u32 flags;		/* CGW_IF_* */
	__u32 css_mask;		/* bit i: cgroup->subsys[i] is set (which
				 * controllers it has: a change means files
				 * came or went) */
	__u64 nr_descendants;

	/* CGW_IV_RSTAT: cgroup->bstat.cputime after the walk's one rstat
	 * flush, and cgroup->prev_cputime (what cputime_adjust() last gave
	 * a reader of cpu.stat), so user space can give the split cpu.stat
	 * gives. ns. */
	__u64 cpu_sum_ns, cpu_utime_ns, cpu_stime_ns;
	__u64 prev_utime_ns, prev_stime_ns;

	/* CGW_IV_CFS: task_group. quota_ns is ~0 for "max" (RUNTIME_INF). */
	__u64 cfs_quota_ns, cfs_period_ns, shares;
	__u64 nr_periods, nr_throttled, throttled_ns, nr_bursts, burst_ns;

	/* CGW_IV_MEM: page counters, in pages. */
	__u64 mem_usage, mem_watermark, mem_max, mem_high, mem_low, mem_min;
	__u64 swap_usage, swap_max;
	__u64 mem_events[CGW_MEM_EVENTS];

	/* CGW_IV_PIDS */
	__u64 pids_current, pids_limit;

	/* CGW_IV_PSI: psi_group->total[PSI_AVGS][state] (ns) and
	 * psi_group->avg[state][10s, 60s, 300s] (fixed point, FSHIFT 11). */
	__u64 psi_total[CGW_PSI_STATES];
	__u64 psi_avg[CGW_PSI_STATES][3];
};

/* Counters of the last walk, in the program's .bss (mmapped). */
struct cgw_iter_counts {
	__u64 nrec;		/* records written (cgroups visited, up to cap) */
	__u64 visited;		/* cgroups visited */
	__u64 overflow;		/* cgroups beyond the array: grow and walk again */
	__u64 flushes;
};

#endif
