/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A source fills a cgroup's sample with what it knows, by cgroup id: the
 * cgroupfs files (src_files), the eBPF counters (src_bpf), later the BPF
 * cgroup iterator. The collector walks the tree, keeps identity, births and
 * deaths, and asks each source for what the consumers want; consumers see
 * only the snapshot, never a source, so a source can be swapped or added
 * without touching them.
 */
#ifndef CGWARDEN_SOURCE_H
#define CGWARDEN_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include "cgfile.h"
#include "snapshot.h"

#define CG_BPF_ALL (CG_BPF_SCHED | CG_BPF_NET | CG_BPF_PROC)

/* What the consumers want collected. Identity and the tree are always
 * collected; a field not wanted is absent (have bit clear), never 0. */
struct cg_want {
	uint32_t files;		/* CGF_BIT(enum cg_file) mask */
	uint32_t bpf;		/* CG_BPF_* groups */
};

#define CG_WANT_ALL ((struct cg_want){ .files = CGF_ALL, .bpf = CG_BPF_ALL })

/* Where one cgroup is, as the walk knows it this tick. */
struct cg_where {
	uint64_t id;		/* cgroup id (directory inode) */
	const char *path;	/* relative to the root, "" for the root */
	const char *name;	/* its directory's name under parent_fd */
	int dirfd;		/* its directory, or -1 (not kept: open through parent_fd) */
	int parent_fd;		/* the parent's directory (-1 for the root) */
	uint32_t present;	/* CGF bits: the files its last listing showed */
	bool listed;		/* listed this tick: present is fresh */
	bool born;		/* first visit of this cgroup: forget any older
				 * owner of the same id (a reused inode) */
};

struct cg_source;
struct cg_arena;

struct cg_source_ops {
	const char *name;
	/* Once per tick, before the fills. arena holds what a fill allocates
	 * for the snapshot being built. 0 or -errno (-ENOMEM stops the tick;
	 * anything else: this source fills nothing this tick). */
	int (*begin)(struct cg_source *src, struct cg_arena *arena, const struct cg_want *want);
	/* Fills the fields it owns into s, sets their have bits. 0, -ENOMEM,
	 * or a "gone" errno (cgfs_gone()): the cgroup died under the read,
	 * the collector drops it quietly. */
	int (*fill)(struct cg_source *src, const struct cg_where *where, struct cg_sample *s,
		    const struct cg_want *want);
	/* The cgroup is gone: drop what is kept for it. */
	void (*forget)(struct cg_source *src, uint64_t id);
	/* After the tick; known(ctx, id) says whether a cgroup still lives. */
	void (*end)(struct cg_source *src, bool (*known)(void *ctx, uint64_t id), void *ctx);
	/* An fd a loop may wake on (events), or -1. */
	int (*event_fd)(const struct cg_source *src);
	/* Adds this source's cost of the last tick into self. */
	void (*self_cost)(const struct cg_source *src, struct cg_self *self);
	/* Gives kept fds back until the shared budget is no longer over. */
	void (*shed)(struct cg_source *src);
	void (*free)(struct cg_source *src);
};

/* Embedded first in every source's own struct. Optional ops are NULL. */
struct cg_source {
	const struct cg_source_ops *ops;
};

#endif
