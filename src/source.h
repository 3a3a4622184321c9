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
	uint32_t files;		/* CGF_BIT(enum cg_file) mask: read every tick */
	uint32_t bpf;		/* CG_BPF_* groups */
	/* Files of CGF_SLOW wanted only by consumers who take them every
	 * slow_every'th tick (serve): in between, their fields are carried
	 * from the last read, and the sample says so (cg_sample.carried). */
	uint32_t slow;
	uint32_t slow_every;
	/* Files wanted for a few cgroups only (the dashboard's detail view):
	 * focus_files are read every tick for the nr_focus ids in focus. */
	uint32_t focus_files;
	uint32_t nr_focus;
	const uint64_t *focus;
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

/*
 * What a source that walks the tree itself (the BPF iterator) knows of one
 * cgroup's place in it this tick: the collector lists a directory only
 * when this differs from what its last listing found.
 */
struct cg_tree_hint {
	uint32_t nr_children;
	uint64_t children_hash;	/* cg_tree_hash_add() over the children's ids */
	uint32_t shape;		/* its controllers and pressure switch: a change
				 * means files came or went */
};

/* Order-free, so a listing and a walk in different orders agree
 * (splitmix64's finalizer, summed). */
static inline uint64_t cg_tree_hash_add(uint64_t h, uint64_t id)
{
	id ^= id >> 30;
	id *= 0xbf58476d1ce4e5b9ULL;
	id ^= id >> 27;
	id *= 0x94d049bb133111ebULL;
	id ^= id >> 31;
	return h + id;
}

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
	 * the collector drops it quietly. want is what is left to fill:
	 * files an earlier source filled are no longer in want->files. */
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
	/* What this tick's walk knows of cgroup id's children (true), or
	 * nothing (false: the collector looks at the directory). */
	bool (*tree)(struct cg_source *src, uint64_t id, struct cg_tree_hint *hint);
	void (*free)(struct cg_source *src);
};

/* Embedded first in every source's own struct. Optional ops are NULL. */
struct cg_source {
	const struct cg_source_ops *ops;
};

#endif
