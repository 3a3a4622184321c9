// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "idmap.h"

/* Fibonacci hashing: cgroup ids are inode numbers, often consecutive, and
 * the multiply spreads them over the high bits taken here. */
static uint32_t home_of(const struct idmap *m, uint64_t key)
{
	return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (m->cap - 1);
}

static uint32_t find(const struct idmap *m, uint64_t key)
{
	for (uint32_t i = home_of(m, key);; i = (i + 1) & (m->cap - 1))
		if (m->vals[i] == IDMAP_NONE || m->keys[i] == key)
			return i;
}

uint32_t idmap_get(const struct idmap *m, uint64_t key)
{
	if (!m->count)
		return IDMAP_NONE;
	return m->vals[find(m, key)];
}

static int resize(struct idmap *m, uint32_t cap)
{
	struct idmap n = { .cap = cap };

	n.keys = malloc(cap * sizeof(*n.keys));
	n.vals = malloc(cap * sizeof(*n.vals));
	if (!n.keys || !n.vals) {
		free(n.keys);
		free(n.vals);
		return -ENOMEM;
	}
	memset(n.vals, 0xff, cap * sizeof(*n.vals));
	for (uint32_t i = 0; i < m->cap; i++) {
		if (m->vals[i] == IDMAP_NONE)
			continue;
		uint32_t j = find(&n, m->keys[i]);

		n.keys[j] = m->keys[i];
		n.vals[j] = m->vals[i];
	}
	n.count = m->count;
	free(m->keys);
	free(m->vals);
	*m = n;
	return 0;
}

int idmap_reserve(struct idmap *m, uint32_t n)
{
	uint32_t cap = m->cap ? m->cap : 64;

	/* At most 70% full: linear probing stays short. */
	while ((uint64_t)n * 10 >= (uint64_t)cap * 7) {
		if (cap >= (1u << 31))
			return -ENOMEM;
		cap *= 2;
	}
	return cap == m->cap ? 0 : resize(m, cap);
}

int idmap_put(struct idmap *m, uint64_t key, uint32_t val)
{
	uint32_t i;
	int err;

	if (val == IDMAP_NONE)
		return -EINVAL;
	/* A key already there is overwritten without growing: this never
	 * fails (callers that move an entry rely on it). */
	if (m->count) {
		i = find(m, key);
		if (m->vals[i] != IDMAP_NONE) {
			m->vals[i] = val;
			return 0;
		}
	}
	err = idmap_reserve(m, m->count + 1);
	if (err)
		return err;
	i = find(m, key);
	if (m->vals[i] == IDMAP_NONE)
		m->count++;
	m->keys[i] = key;
	m->vals[i] = val;
	return 0;
}

static void delete_at(struct idmap *m, uint32_t i)
{
	uint32_t mask = m->cap - 1;

	m->count--;
	/* Shift later members of the probe run back into the hole, so that a
	 * lookup never stops early at it. An entry at j may move to i only if
	 * its home is not cyclically in (i, j]. */
	for (uint32_t j = i;;) {
		m->vals[i] = IDMAP_NONE;
		for (;;) {
			j = (j + 1) & mask;
			if (m->vals[j] == IDMAP_NONE)
				return;
			if (((j - home_of(m, m->keys[j])) & mask) >= ((j - i) & mask))
				break;
		}
		m->keys[i] = m->keys[j];
		m->vals[i] = m->vals[j];
		i = j;
	}
}

bool idmap_del_if(struct idmap *m, uint64_t key, uint32_t val)
{
	uint32_t i;

	if (!m->count)
		return false;
	i = find(m, key);
	if (m->vals[i] == IDMAP_NONE || (val != IDMAP_NONE && m->vals[i] != val))
		return false;
	delete_at(m, i);
	return true;
}

bool idmap_del(struct idmap *m, uint64_t key)
{
	return idmap_del_if(m, key, IDMAP_NONE);
}

void idmap_clear(struct idmap *m)
{
	if (m->cap)
		memset(m->vals, 0xff, m->cap * sizeof(*m->vals));
	m->count = 0;
}

void idmap_free(struct idmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}
