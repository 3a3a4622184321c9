/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The id map against a plain array: every key found after any sequence of
 * puts and deletes (backward shift must never strand an entry behind a
 * hole), key 0 like any other, del_if keeps a reused number's new owner.
 */
#include <stdlib.h>
#include "test.h"
#include "idmap.h"

#define KEYS 4096

static void test_empty_map(void)
{
	struct idmap m = { 0 };

	CHECK_U64(idmap_get(&m, 0), IDMAP_NONE);
	CHECK_U64(idmap_get(&m, 42), IDMAP_NONE);
	CHECK(!idmap_del(&m, 42));
	idmap_clear(&m);
	idmap_free(&m);
}

static void test_put_get_overwrite(void)
{
	struct idmap m = { 0 };

	CHECK_INT(idmap_put(&m, 0, 7), 0);
	CHECK_INT(idmap_put(&m, UINT64_MAX, 8), 0);
	CHECK_INT(idmap_put(&m, 5, 9), 0);
	CHECK_INT(idmap_put(&m, 5, 10), 0);
	CHECK_INT(idmap_put(&m, 6, IDMAP_NONE), -22);
	CHECK_U64(m.count, 3);
	CHECK_U64(idmap_get(&m, 0), 7);
	CHECK_U64(idmap_get(&m, UINT64_MAX), 8);
	CHECK_U64(idmap_get(&m, 5), 10);
	CHECK_U64(idmap_get(&m, 6), IDMAP_NONE);
	CHECK(!idmap_del_if(&m, 5, 9));
	CHECK_U64(idmap_get(&m, 5), 10);
	CHECK(idmap_del_if(&m, 5, 10));
	CHECK_U64(idmap_get(&m, 5), IDMAP_NONE);
	CHECK(idmap_del(&m, 0));
	CHECK_U64(idmap_get(&m, 0), IDMAP_NONE);
	CHECK_U64(m.count, 1);
	idmap_clear(&m);
	CHECK_U64(idmap_get(&m, UINT64_MAX), IDMAP_NONE);
	CHECK_INT(idmap_put(&m, 3, 1), 0);
	CHECK_U64(idmap_get(&m, 3), 1);
	idmap_free(&m);
}

/* Random puts and deletes over a small key space (long probe runs that
 * wrap around the table's end), checked against an array after each. */
static void test_random_against_array(void)
{
	static uint32_t ref[KEYS];
	struct idmap m = { 0 };
	uint32_t live = 0;
	int bad = 0;

	srand(13);
	for (uint32_t k = 0; k < KEYS; k++)
		ref[k] = IDMAP_NONE;
	for (int step = 0; step < 200000 && !bad; step++) {
		/* Consecutive ids (inodes) and ids a stride apart. */
		uint64_t k = (uint64_t)(rand() % KEYS);
		uint64_t key = (k & 1) ? k : k << 40;

		if (rand() % 3) {
			uint32_t v = (uint32_t)rand() % 1000;

			if (idmap_put(&m, key, v)) {
				bad++;
				break;
			}
			live += ref[k] == IDMAP_NONE;
			ref[k] = v;
		} else {
			bool had = ref[k] != IDMAP_NONE;

			if (idmap_del(&m, key) != had)
				bad++;
			live -= had;
			ref[k] = IDMAP_NONE;
		}
		if (m.count != live)
			bad++;
		if (step % 997 == 0)
			for (uint32_t j = 0; j < KEYS; j++)
				if (idmap_get(&m, (j & 1) ? j : (uint64_t)j << 40) != ref[j])
					bad++;
	}
	CHECK_INT(bad, 0);
	CHECK(m.count * 10 < m.cap * 7);
	idmap_free(&m);
}

static void test_reserve_keeps_entries(void)
{
	struct idmap m = { 0 };
	int bad = 0;

	for (uint32_t i = 1; i <= 100; i++)
		CHECK_INT(idmap_put(&m, i * 4096, i), 0);
	CHECK_INT(idmap_reserve(&m, 100000), 0);
	CHECK(m.cap >= 100000);
	for (uint32_t i = 1; i <= 100; i++)
		bad += idmap_get(&m, i * 4096) != i;
	CHECK_INT(bad, 0);
	idmap_free(&m);
	CHECK_U64(m.cap, 0);
}

int main(void)
{
	RUN(test_empty_map);
	RUN(test_put_get_overwrite);
	RUN(test_random_against_array);
	RUN(test_reserve_keeps_entries);
	TEST_EXIT();
}
