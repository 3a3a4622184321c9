/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one map from a cgroup id (u64) to a u32 (an index into the caller's
 * array): open addressing, linear probing, backward-shift deletion, so a
 * lookup never walks over tombstones however long the process runs and
 * however many cgroups come and go. Any key, 0 included. A zeroed struct
 * is an empty map.
 */
#ifndef CGWARDEN_IDMAP_H
#define CGWARDEN_IDMAP_H

#include <stdbool.h>
#include <stdint.h>

#define IDMAP_NONE UINT32_MAX

struct idmap {
	uint64_t *keys;
	uint32_t *vals;		/* IDMAP_NONE: the slot is empty */
	uint32_t cap, count;	/* cap: 0 or a power of two */
};

/* The value of key, or IDMAP_NONE. */
uint32_t idmap_get(const struct idmap *m, uint64_t key);

/* Sets key to val (val != IDMAP_NONE: -EINVAL). 0 or -ENOMEM (the map is
 * unchanged then); a key already there is set in place, never -ENOMEM. */
int idmap_put(struct idmap *m, uint64_t key, uint32_t val);

/* Removes key; true if it was there. */
bool idmap_del(struct idmap *m, uint64_t key);

/* Removes key only while it maps to val: a number reused by a newer owner
 * keeps its entry when the old owner goes. True if removed. */
bool idmap_del_if(struct idmap *m, uint64_t key, uint32_t val);

/* Room for n keys without growing. 0 or -ENOMEM. */
int idmap_reserve(struct idmap *m, uint32_t n);

/* Empties the map and keeps its memory (a map rebuilt every tick). */
void idmap_clear(struct idmap *m);

void idmap_free(struct idmap *m);

#endif
