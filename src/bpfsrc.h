/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * eBPF counters per cgroup (bpf/cgwarden.bpf.c): load, attach, read, merge
 * by cgroup id. Optional: when it cannot load, cgwarden says why in one line
 * and goes on with cgroupfs alone; the fields it fills stay absent.
 * Coexists with other BPF users: links only (multi-attach on the cgroup
 * root), never detaches what it did not attach; everything is released by
 * bpfsrc_close() and by the kernel when the process dies.
 */
#ifndef CGWARDEN_BPFSRC_H
#define CGWARDEN_BPFSRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "snapshot.h"

struct bpfsrc_opts {
	const char *cgroup_root;	/* cgroup2 mount for cgroup_skb (NULL: from mountinfo) */
	uint32_t max_cgroups;		/* stats map entries; 0: 16384 */
	/* Fast-path slots (a power of two, at most max_cgroups rounded up;
	 * 0: that many). The array is mmapped and its pages touched by the
	 * ids it holds, which are hashed all over it: sized to the tree, a
	 * host of 1,000 cgroups keeps 0.7 MB resident instead of 4 MB. A
	 * cgroup without a slot is counted in the hash map, as exactly. */
	uint32_t slots;
	/* Turn on the kernel's BPF run-time stats (BPF_ENABLE_STATS) for the
	 * process's life. Off by default: it is a global switch that makes
	 * every BPF program on the host pay two clock reads per run (~15% on
	 * a context-switch-heavy load with ours attached). */
	bool run_time_stats;
	/* Leave the scheduler alone: no program on sched_switch, sched_wakeup
	 * or sched_migrate_task, so no cost per context switch (sched fields
	 * absent); net, process and OOM counters stay. */
	bool no_sched;
};

struct bpfsrc;

/* 0, or -errno with one line for people in why ("no BTF at
 * /sys/kernel/btf/vmlinux", "needs root (CAP_BPF)", ...). */
int bpfsrc_open(const struct bpfsrc_opts *o, struct bpfsrc **out, char *why, size_t whylen);
void bpfsrc_close(struct bpfsrc *b);

/* Reads the whole stats map once (one batch lookup) so that bpfsrc_get()
 * is O(1). Call once per tick before the gets. */
int bpfsrc_refresh(struct bpfsrc *b);

/* Fills *out for cgroup id (have bits set) or leaves it zeroed (have 0)
 * when no event was counted for that cgroup yet, which for counters means
 * 0; the caller decides. Returns 1 found, 0 not. Also gives the cgroup a
 * fast slot when its slot is free (bpf/cgwarden.h, struct cgw_slot). */
int bpfsrc_get(struct bpfsrc *b, uint64_t cgroup_id, struct cg_bpf *out);

/* Drops the entries of a cgroup that is gone (bounded maps stay bounded). */
void bpfsrc_forget(struct bpfsrc *b, uint64_t cgroup_id);

/* Deletes every entry of the last refresh whose id alive() does not know:
 * events that arrive after a cgroup's death re-create its entry. */
void bpfsrc_prune(struct bpfsrc *b, bool (*alive)(void *ctx, uint64_t id), void *ctx);

/* Which CG_BPF_* groups are counted (CG_BPF_NET is missing when the
 * cgroup_skb programs could not attach). */
uint32_t bpfsrc_have(const struct bpfsrc *b);

/* Drains the ring buffer: fn is called for each OOM kill. Returns the
 * number of events or -errno. */
typedef void (*bpfsrc_oom_fn)(void *ctx, const struct cg_oom_event *ev);
int bpfsrc_drain(struct bpfsrc *b, bpfsrc_oom_fn fn, void *ctx);

/* The ring buffer's epoll-able fd (readable when events wait). */
int bpfsrc_event_fd(const struct bpfsrc *b);

/* Summed run time of our programs. Needs the kernel's run-time stats, which
 * bpfsrc_open turns on (BPF_ENABLE_STATS, for the process's life) only with
 * opts.run_time_stats; 0 when they are off, see bpfsrc_run_time_known(). */
uint64_t bpfsrc_run_time_ns(const struct bpfsrc *b);

/* Whether run-time stats are on, i.e. bpfsrc_run_time_ns() means anything
 * (false: not asked for, or the kernel refused BPF_ENABLE_STATS). */
bool bpfsrc_run_time_known(const struct bpfsrc *b);

/* Cgroups with counters (hash entries after the last refresh plus slots
 * in use), and the hash map's size. */
uint64_t bpfsrc_map_entries(const struct bpfsrc *b);
uint64_t bpfsrc_map_max(const struct bpfsrc *b);

#endif
