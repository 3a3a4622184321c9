/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The runner (src/runner.c) on a fixture tree: parts see each snapshot in
 * the order they were added, a part's prepare can let a tick pass without
 * a collection or end the run, SIGHUP reaches the parts' hangup, the
 * interval is the runner's, /healthz staleness is three ticks, never
 * under 10 s, and the collector reads the union of what the parts want.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include "test.h"
#include "runner.h"

struct log {
	char seen[64];
	size_t n;
	int prepares, skip_at, stop_after;
	uint64_t last_seq;
	bool hup;
};

static void note(struct log *g, char c)
{
	if (g->n + 1 < sizeof(g->seen))
		g->seen[g->n++] = c;
}

static int a_prepare(struct runner *r, struct metric_set *want, void *ctx)
{
	struct log *g = ctx;

	CHECK(runner_collector(r) != NULL);
	metric_set_add(want, M_CPU_USAGE_RATIO);
	return ++g->prepares == g->skip_at ? RUNNER_SKIP : RUNNER_GO;
}

static int a_tick(struct runner *r, const struct cg_snapshot *snap, void *ctx)
{
	struct log *g = ctx;

	CHECK(runner_snapshot(r) == snap);
	g->last_seq = snap->seq;
	note(g, 'a');
	return RUNNER_GO;
}

static int b_tick(struct runner *r, const struct cg_snapshot *snap, void *ctx)
{
	struct log *g = ctx;

	(void)r;
	(void)snap;
	note(g, 'b');
	return g->n / 2 >= (size_t)g->stop_after ? RUNNER_STOP : RUNNER_GO;
}

static int b_hangup(struct runner *r, void *ctx)
{
	struct log *g = ctx;

	(void)r;
	g->hup = true;
	return RUNNER_STOP;
}

static int open_fixture(struct runner **r, uint64_t interval_usec)
{
	struct runner_opts o = { .who = "test_runner", .interval_usec = interval_usec };
	struct cli_common cc = { .no_bpf = true };
	int err;

	cc.copts.root = "tests/fixtures/v2-pure-6.1";
	cc.copts.state_root = "tests/fixtures/runtime-state";
	cc.copts.proc_root = cc.copts.sys_root = "tests/fixtures/no-such-proc";
	cc.copts.quiet = true;
	err = runner_new(&o, r);
	if (err)
		return err;
	err = runner_open_collector(*r, &cc);
	if (err) {
		runner_free(*r);
		return -EIO;
	}
	return 0;
}

static void test_parts_in_order_skip_and_stop(void)
{
	struct log g = { .skip_at = 2, .stop_after = 3 };
	struct runner_part a = { .ctx = &g, .prepare = a_prepare, .tick = a_tick };
	struct runner_part b = { .ctx = &g, .tick = b_tick };
	struct runner *r;

	if (open_fixture(&r, 5000))
		TEST_SKIP("cannot open the fixture tree");
	CHECK(runner_snapshot(r) == NULL);
	CHECK_INT(runner_add(r, &a), 0);
	CHECK_INT(runner_add(r, &b), 0);
	/* The first tick at once, then on the timer until b says stop. */
	CHECK_INT(runner_run(r), 0);
	CHECK_STR(g.seen, "ababab");
	/* Four prepares: the second let its tick pass, nothing was read. */
	CHECK_INT(g.prepares, 4);
	CHECK_U64(g.last_seq, 3);
	runner_free(r);
}

static void test_tick_now_then_run(void)
{
	struct log g = { .stop_after = 2 };
	struct runner_part a = { .ctx = &g, .prepare = a_prepare, .tick = a_tick };
	struct runner_part b = { .ctx = &g, .tick = b_tick };
	struct runner *r;

	if (open_fixture(&r, 5000))
		TEST_SKIP("cannot open the fixture tree");
	runner_add(r, &a);
	runner_add(r, &b);
	CHECK_INT(runner_tick_now(r), RUNNER_GO);
	CHECK(runner_snapshot(r) != NULL);
	/* runner_run does not take the first tick again. */
	CHECK_INT(runner_run(r), 0);
	CHECK_STR(g.seen, "abab");
	runner_free(r);
}

static void test_hangup_reaches_parts(void)
{
	struct log g = { .stop_after = 1000 };
	struct runner_part b = { .ctx = &g, .tick = b_tick, .hangup = b_hangup };
	struct runner *r;

	if (open_fixture(&r, 3600000000ull))
		TEST_SKIP("cannot open the fixture tree");
	runner_add(r, &b);
	/* Blocked since runner_new: waits in the signalfd for the loop. */
	raise(SIGHUP);
	CHECK_INT(runner_run(r), 0);
	CHECK(g.hup);
	CHECK_STR(g.seen, "b");
	runner_free(r);
}

static void test_interval_is_the_runners(void)
{
	struct runner *r;

	if (open_fixture(&r, 2000000))
		TEST_SKIP("cannot open the fixture tree");
	CHECK_U64(runner_interval(r), 2000000);
	CHECK_U64(runner_stale_usec(r), 10000000);
	CHECK_INT(runner_set_interval(r, 0), -EINVAL);
	CHECK_U64(runner_interval(r), 2000000);
	CHECK_INT(runner_set_interval(r, 5000000), 0);
	CHECK_U64(runner_interval(r), 5000000);
	/* Three missed ticks, never under 10 s. */
	CHECK_U64(runner_stale_usec(r), 15000000);
	runner_free(r);
}

static bool snap_has(const struct cg_snapshot *s, uint32_t bit)
{
	for (size_t i = 0; i < s->nr_samples; i++)
		if (s->samples[i].have & bit)
			return true;
	return false;
}

static int mem_prepare(struct runner *r, struct metric_set *want, void *ctx)
{
	(void)r;
	(void)ctx;
	metric_set_add(want, M_MEM_CURRENT);
	return RUNNER_GO;
}

static int stop_tick(struct runner *r, const struct cg_snapshot *snap, void *ctx)
{
	(void)r;
	*(const struct cg_snapshot **)ctx = snap;
	return RUNNER_STOP;
}

/* Two parts that each want one metric: the tick reads the files of both
 * and nothing else. A part without prepare (serve) wants everything. */
static void test_wants_are_a_union(void)
{
	struct log g = { .stop_after = 1000 };
	const struct cg_snapshot *snap = NULL;
	struct runner_part a = { .ctx = &g, .prepare = a_prepare };
	struct runner_part m = { .prepare = mem_prepare, .tick = stop_tick, .ctx = &snap };
	struct runner_part all = { .tick = stop_tick, .ctx = &snap };
	struct runner *r;
	uint64_t files = 0;

	if (open_fixture(&r, 5000))
		TEST_SKIP("cannot open the fixture tree");
	runner_add(r, &a);
	runner_add(r, &m);
	CHECK_INT(runner_tick_now(r), RUNNER_STOP);
	CHECK(snap != NULL);
	for (size_t i = 0; snap && i < snap->nr_samples; i++) {
		const struct cg_sample *x = &snap->samples[i];

		CHECK(!(x->have & ~(uint32_t)(CG_HAVE_CPU_STAT | CG_HAVE_MEM_CURRENT)));
		files += !!(x->have & CG_HAVE_CPU_STAT) + !!(x->have & CG_HAVE_MEM_CURRENT);
	}
	CHECK_U64(snap ? snap->self.files_read : 0, files);
	runner_free(r);

	if (open_fixture(&r, 5000))
		TEST_SKIP("cannot open the fixture tree");
	runner_add(r, &m);
	runner_add(r, &all);
	snap = NULL;
	CHECK_INT(runner_tick_now(r), RUNNER_STOP);
	CHECK(snap && snap_has(snap, CG_HAVE_MEM_STAT) && snap_has(snap, CG_HAVE_IO_STAT));
	runner_free(r);
}

int main(void)
{
	RUN(test_wants_are_a_union);
	RUN(test_parts_in_order_skip_and_stop);
	RUN(test_tick_now_then_run);
	RUN(test_hangup_reaches_parts);
	RUN(test_interval_is_the_runners);
	TEST_EXIT();
}
