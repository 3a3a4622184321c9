/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The policy simulation (check-policy --replay) without a store: ticks built
 * here, with the real daemon's recorded actions, and the annotated
 * decisions checked.
 */
#include <errno.h>
#include <stdlib.h>
#include "test.h"
#include "json_policy.h"
#include "polsim.h"

#define SEC 1000000ull
#define MiB (1024ull * 1024)
#define WALL0 (1796353200ull * SEC)	/* 2026-12-04T03:00:00Z */
#define MONO0 (5000ull * SEC)

enum { ROOT, HOG, CALM, PARENT, CHILD, NR };

struct fake {
	struct cg_snapshot s;
	struct cg_sample x[NR];
};

static void fake_init(struct fake *f)
{
	static const char *const paths[NR] = { "", "hog", "calm", "parent", "parent/child" };
	static const int parents[NR] = { -1, 0, 0, 0, 3 };

	memset(f, 0, sizeof(*f));
	for (int i = 0; i < NR; i++) {
		struct cg_sample *x = &f->x[i];

		x->id = 100 + (uint64_t)i;
		x->parent = parents[i];
		x->path = paths[i];
		x->ident.name = paths[i];
		x->have = CG_HAVE_MEM_CURRENT | CG_HAVE_MEM_HIGH | CG_HAVE_MEM_MAX | CG_HAVE_MEM_MIN |
			  CG_HAVE_CPU_MAX | CG_HAVE_CPU_WEIGHT | CG_HAVE_EVENTS;
		x->mem_current = 10 * MiB;
		x->mem_high = x->mem_max = CG_UNLIMITED;
		x->cpu_max_quota_usec = CG_UNLIMITED;
		x->cpu_max_period_usec = 100000;
		x->cpu_weight = 100;
		x->populated = true;
	}
	f->s.samples = f->x;
	f->s.nr_samples = NR;
}

/* Tick k of the fake recording: one a second. */
static void at(struct fake *f, unsigned k)
{
	f->s.seq = k + 1;
	f->s.mono_usec = MONO0 + k * SEC;
	f->s.wall_usec = WALL0 + k * SEC;
}

static struct policy *load(const char *text)
{
	struct pol_errors e = { 0 };
	struct policy *p = NULL;

	if (json_policy_parse("t.json", text, strlen(text), &p, &e)) {
		for (size_t i = 0; i < e.nr; i++)
			printf("  loader: %s\n", e.msg[i]);
		p = NULL;
	}
	pol_errors_free(&e);
	return p;
}

/* Two rules: "grow" on any cgroup over 100M for 2 s (a ladder of two steps
 * 3 s apart), "never" on a path nothing has. */
static const char two_rules[] =
	"{\"rules\": [{\"name\": \"grow\", \"match\": {},\n"
	" \"when\": {\"metric\": \"memory.current_bytes\", \"op\": \">\", \"value\": \"100M\",\n"
	"   \"for\": \"2s\"},\n"
	" \"then\": [{\"memory.high\": \"64M\", \"wait\": \"3s\"}, {\"memory.max\": \"80M\"}]},\n"
	" {\"name\": \"never\", \"match\": {\"path\": \"nothing/*\"},\n"
	" \"when\": {\"metric\": \"memory.current_bytes\", \"value\": 0},\n"
	" \"then\": [{\"kill\": true}]}]}";

static void test_ladder_on_recorded_time(void)
{
	struct policy *p = load(two_rules);
	const struct polsim_decision *out;
	const struct polsim_stats *st;
	struct polsim *ps = NULL;
	struct fake f;
	int got[12];

	CHECK(p);
	if (!p)
		return;
	CHECK_INT(polsim_new(p, NULL, &ps), 0);
	fake_init(&f);
	for (unsigned k = 0; k < 12; k++) {
		at(&f, k);
		/* The hog grows past the threshold at tick 3. */
		f.x[HOG].mem_current = k >= 3 ? 200 * MiB : 10 * MiB;
		got[k] = polsim_tick(ps, &f.s, NULL, 0, &out);
		if (k == 5) {
			/* Held since tick 3 for 2 s: the first step. */
			CHECK_INT(got[k], 1);
			CHECK_U64(out[0].wall_usec, WALL0 + 5 * SEC);
			CHECK_STR(out[0].d->rule, "grow");
			CHECK_STR(out[0].d->path, "hog");
			CHECK_INT(out[0].d->action, POL_MEMORY_HIGH);
			CHECK_U64(out[0].d->value, 64 * MiB);
			CHECK_STR(out[0].d->result, "simulated");
			CHECK(!out[0].after);
		}
		if (k == 8) {
			/* Counted as taken: the next step after its wait, even
			 * though the recorded value never went down. */
			CHECK_INT(got[k], 1);
			CHECK_INT(out[0].d->action, POL_MEMORY_MAX);
			CHECK_INT(out[0].d->step, 1);
		}
	}
	for (unsigned k = 0; k < 12; k++)
		if (k != 5 && k != 8)
			CHECK_INT(got[k], 0);
	st = polsim_stats(ps);
	CHECK_U64(st->ticks, 12);
	CHECK_U64(st->first_wall_usec, WALL0);
	CHECK_U64(st->last_wall_usec, WALL0 + 11 * SEC);
	CHECK_U64(st->decisions, 2);
	CHECK_U64(st->per_rule[0], 2);
	CHECK_U64(st->per_rule[1], 0);	/* a rule that never matches: nothing */
	CHECK(st->matched[0] && st->cond_seen[0][0]);
	CHECK(!st->matched[1]);
	CHECK_U64(st->after_real, 0);
	polsim_free(ps);
	policy_free(p);
}

static struct rec_action real(uint64_t t, uint64_t id, const char *action, const char *result,
			      const char *json)
{
	return (struct rec_action){ .time_usec = t, .cgroup_id = id, .rule = "live",
				    .action = action, .result = result, .json = json };
}

/* The real daemon's action marks what comes after it on that cgroup, and
 * only what comes after it. */
static void test_after_real_action(void)
{
	struct policy *p = load(two_rules);
	const struct polsim_decision *out;
	struct polsim *ps = NULL;
	struct fake f;
	struct rec_action acts[3];
	char text[256];
	int n;

	CHECK(p);
	if (!p)
		return;
	CHECK_INT(polsim_new(p, NULL, &ps), 0);
	fake_init(&f);
	f.x[HOG].mem_current = f.x[CALM].mem_current = 200 * MiB;
	/* Noted with tick 1, done after tick 2's wall time: a log, a dry run
	 * and a blocked step change nothing; memory.high on hog does. */
	acts[0] = real(WALL0 + 2500000, 100 + HOG, "memory.high", "ok",
		       "{\"target\":\"hog\",\"value\":\"536870912\"}");
	acts[1] = real(WALL0 + 1000000, 100 + CALM, "log", "ok", "{\"target\":\"calm\"}");
	acts[2] = real(WALL0 + 1000000, 100 + CALM, "memory.high", "dry-run", NULL);
	acts[2].dry_run = true;
	for (unsigned k = 0; k < 10; k++) {
		at(&f, k);
		n = polsim_tick(ps, &f.s, k == 1 ? acts : NULL, k == 1 ? 3 : 0, &out);
		if (k == 2) {
			/* Both start at tick 0 and fire at tick 2, before the
			 * real action's time. */
			CHECK_INT(n, 2);
			for (int i = 0; i < n; i++)
				CHECK(!out[i].after);
		}
		if (k == 5) {
			/* The second steps: hog's after the real action. */
			CHECK_INT(n, 2);
			for (int i = 0; i < n; i++) {
				bool hog = !strcmp(out[i].d->path, "hog");

				CHECK(hog == (out[i].after != NULL));
				if (hog) {
					CHECK_STR(out[i].d->why, "after the real memory.high 536870912 "
						  "at 2026-12-04T03:00:02.500Z by rule live");
					polsim_real_format(out[i].after, true, text, sizeof(text));
					CHECK_STR(text, "after the real memory.high 512M at "
						  "2026-12-04T03:00:02.500Z by rule live");
				} else {
					CHECK_STR(out[i].d->why, "");
				}
			}
		}
	}
	CHECK_U64(polsim_stats(ps)->after_real, 1);
	CHECK_U64(polsim_stats(ps)->real_actions, 1);
	polsim_free(ps);
	policy_free(p);
}

/* A freeze or limit of a parent reaches its children; a weight does not. */
static void test_after_real_on_ancestor(void)
{
	struct policy *p = load(two_rules);
	const struct polsim_decision *out;
	struct polsim *ps = NULL;
	struct rec_action a[2];
	struct fake f;
	int n;

	CHECK(p);
	if (!p)
		return;
	fake_init(&f);
	f.x[CHILD].mem_current = 200 * MiB;
	f.x[PARENT].mem_current = 10 * MiB;	/* the parent's own rule stays quiet */
	a[0] = real(WALL0 - SEC, 100 + PARENT, "cpu.weight", "ok",
		    "{\"target\":\"parent\",\"value\":\"10\"}");
	a[1] = real(WALL0 - SEC, 100 + PARENT, "freeze", "ok", "{\"target\":\"parent\",\"value\":null}");
	for (int which = 0; which < 2; which++) {
		CHECK_INT(polsim_new(p, NULL, &ps), 0);
		/* Recorded before the simulated range. */
		CHECK_INT(polsim_note_actions(ps, &a[which], 1), 0);
		for (unsigned k = 0; k <= 2; k++) {
			at(&f, k);
			n = polsim_tick(ps, &f.s, NULL, 0, &out);
		}
		CHECK_INT(n, 1);
		CHECK_STR(out[0].d->path, "parent/child");
		CHECK(which ? out[0].after != NULL : out[0].after == NULL);
		if (which)
			CHECK_STR(out[0].after->action, "freeze");
		polsim_free(ps);
	}
	policy_free(p);
}

/* Blocked steps carry the guard as the daemon writes it. */
static void test_blocked(void)
{
	struct policy *p = load("{\"protected\": [\"hog\"], \"rules\": [{\"name\": \"r\","
				" \"match\": {\"path\": \"hog\"},"
				" \"when\": {\"metric\": \"memory.current_bytes\", \"value\": \"100M\"},"
				" \"then\": [{\"cpu.weight\": 10}]}]}");
	const struct polsim_decision *out;
	struct polsim *ps = NULL;
	struct fake f;

	CHECK(p);
	if (!p)
		return;
	CHECK_INT(polsim_new(p, NULL, &ps), 0);
	fake_init(&f);
	f.x[HOG].mem_current = 200 * MiB;
	at(&f, 0);
	CHECK_INT(polsim_tick(ps, &f.s, NULL, 0, &out), 1);
	CHECK(out[0].d->blocked);
	CHECK_STR(out[0].d->result, "blocked");
	CHECK_STR(out[0].d->why, "stopped by a guard: protected");
	at(&f, 1);
	CHECK_INT(polsim_tick(ps, &f.s, NULL, 0, &out), 0);	/* once, not every tick */
	CHECK_U64(polsim_stats(ps)->blocked, 1);
	polsim_free(ps);
	policy_free(p);
}

/* The monotonic clock going back (a reboot between two recorded ticks)
 * starts the state afresh instead of wrapping the engine's durations. */
static void test_clock_restart(void)
{
	struct policy *p = load(two_rules);
	const struct polsim_decision *out;
	struct polsim *ps = NULL;
	struct fake f;
	int n = 0;

	CHECK(p);
	if (!p)
		return;
	CHECK_INT(polsim_new(p, NULL, &ps), 0);
	fake_init(&f);
	f.x[HOG].mem_current = 200 * MiB;
	at(&f, 0);
	CHECK_INT(polsim_tick(ps, &f.s, NULL, 0, &out), 0);
	at(&f, 1);
	CHECK_INT(polsim_tick(ps, &f.s, NULL, 0, &out), 0);
	/* Rebooted: mono starts near 0, wall goes on. */
	f.s.mono_usec = 10 * SEC;
	f.s.wall_usec = WALL0 + 100 * SEC;
	CHECK_INT(polsim_tick(ps, &f.s, NULL, 0, &out), 0);	/* held 0 s, not "forever" */
	f.s.mono_usec += 2 * SEC;
	f.s.wall_usec += 2 * SEC;
	n = polsim_tick(ps, &f.s, NULL, 0, &out);
	CHECK_INT(n, 1);
	CHECK_U64(polsim_stats(ps)->restarts, 1);
	polsim_free(ps);
	policy_free(p);
}

/* A metric no matched cgroup ever had (this host's v2 tree has no memory
 * controller): said, so a silent rule is not taken for a calm one. */
static void test_absent_metric(void)
{
	struct policy *p = load(two_rules);
	const struct polsim_decision *out;
	struct polsim *ps = NULL;
	struct fake f;

	CHECK(p);
	if (!p)
		return;
	CHECK_INT(polsim_new(p, NULL, &ps), 0);
	fake_init(&f);
	for (int i = 0; i < NR; i++)
		f.x[i].have &= ~CG_HAVE_MEM_CURRENT;
	for (unsigned k = 0; k < 3; k++) {
		at(&f, k);
		CHECK_INT(polsim_tick(ps, &f.s, NULL, 0, &out), 0);
	}
	CHECK(polsim_stats(ps)->matched[0]);
	CHECK(!polsim_stats(ps)->cond_seen[0][0]);
	/* A limit whose file the cgroup does not have: the write would fail. */
	f.x[HOG].have |= CG_HAVE_MEM_CURRENT;
	f.x[HOG].have &= ~CG_HAVE_MEM_HIGH;
	f.x[HOG].mem_current = 200 * MiB;
	for (unsigned k = 3; k < 6; k++) {
		at(&f, k);
		if (polsim_tick(ps, &f.s, NULL, 0, &out) == 1) {
			CHECK_STR(out[0].d->path, "hog");
			CHECK(out[0].caveat && strstr(out[0].caveat, "no memory.high recorded"));
			CHECK_STR(out[0].d->why, out[0].caveat);
		}
	}
	CHECK_U64(polsim_stats(ps)->decisions, 1);
	polsim_free(ps);
	policy_free(p);
}

int main(void)
{
	RUN(test_ladder_on_recorded_time);
	RUN(test_after_real_action);
	RUN(test_after_real_on_ancestor);
	RUN(test_blocked);
	RUN(test_clock_restart);
	RUN(test_absent_metric);
	TEST_EXIT();
}
