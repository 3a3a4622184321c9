/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The policy engine is pure: these tests feed it snapshots built here and
 * times chosen here, and check the decisions. Also the loader's errors and
 * the state file's round trip.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>
#include "test.h"
#include "json.h"
#include "json_policy.h"
#include "json_records.h"
#include "statefile.h"
#include "metrics.h"
#include "policy.h"

#define SEC 1000000ull
#define MiB (1024ull * 1024)

/* A tree: root, "hog", "calm", "parent", "parent/child", "init.scope". */
enum { ROOT, HOG, CALM, PARENT, CHILD, INIT, NR };

struct fake {
	struct cg_snapshot s;
	struct cg_sample x[NR];
};

static void fake_init(struct fake *f)
{
	static const char *const paths[NR] = { "", "hog", "calm", "parent", "parent/child",
					       "init.scope" };
	static const int parents[NR] = { -1, 0, 0, 0, 3, 0 };

	memset(f, 0, sizeof(*f));
	for (int i = 0; i < NR; i++) {
		struct cg_sample *x = &f->x[i];

		x->id = 100 + (uint64_t)i;
		x->parent = parents[i];
		x->path = paths[i];
		x->ident.name = paths[i];
		x->have = CG_HAVE_MEM_CURRENT | CG_HAVE_MEM_HIGH | CG_HAVE_MEM_MAX | CG_HAVE_MEM_MIN |
			  CG_HAVE_CPU_MAX | CG_HAVE_CPU_WEIGHT | CG_HAVE_EVENTS | CG_HAVE_PSI_CPU;
		x->mem_current = 10 * MiB;
		x->mem_high = x->mem_max = CG_UNLIMITED;
		x->cpu_max_quota_usec = CG_UNLIMITED;
		x->cpu_max_period_usec = 100000;
		x->cpu_weight = 100;
		x->psi[CG_PSI_CPU].have_some = true;
		x->populated = true;
	}
	f->s.samples = f->x;
	f->s.nr_samples = NR;
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

/* The start of most tests: the policy loaded (else a failure), an empty
 * state, the fake tree. */
static bool start(struct policy *p, struct policy_state *st, struct fake *f)
{
	CHECK(p);
	if (!p)
		return false;
	policy_state_init(st);
	fake_init(f);
	return true;
}

static void stop(struct policy *p, struct policy_state *st)
{
	policy_state_free(st);
	policy_free(p);
}

static struct pol_decisions ds;

static int eval(const struct policy *p, struct fake *f, uint64_t now, struct policy_state *st)
{
	struct policy_env env = { .self_path = "cgwarden.service" };

	return policy_evaluate(p, &env, &f->s, now, st, &ds);
}

static const char memory_rule[] =
	"{\"rules\": [{\"name\": \"hog\", \"match\": {\"path\": \"hog\"},\n"
	" \"when\": {\"all\": [{\"metric\": \"memory.current_bytes\", \"op\": \">\",\n"
	"   \"value\": \"100M\", \"for\": \"10s\"}]},\n"
	" \"then\": [{\"memory.high\": \"150M\", \"wait\": \"5s\"}, {\"kill\": true}],\n"
	" \"restore_after\": \"5s\", \"cooldown\": \"60s\"}]}";

static void test_for_duration_and_ladder(void)
{
	struct policy *p = load(memory_rule);
	struct policy_state st;
	struct fake f;

	if (!start(p, &st, &f))
		return;
	f.x[HOG].mem_current = 200 * MiB;
	CHECK_INT(eval(p, &f, 1 * SEC, &st), 0);	/* met, not yet for 10 s */
	CHECK_INT(eval(p, &f, 6 * SEC, &st), 0);
	CHECK_INT(eval(p, &f, 11 * SEC, &st), 1);	/* held 10 s: step 0 */
	CHECK_STR(ds.d[0].path, "hog");
	CHECK_INT(ds.d[0].action, POL_MEMORY_HIGH);
	CHECK_U64(ds.d[0].value, 150 * MiB);
	CHECK_INT(ds.d[0].step, 0);
	CHECK(!ds.d[0].blocked && !ds.d[0].dry_run);
	CHECK_INT(ds.d[0].nr_values, 1);
	CHECK_NEAR(ds.d[0].values[0].value, 200.0 * MiB, 1);
	CHECK_NEAR(ds.d[0].values[0].threshold, 100.0 * MiB, 1);
	CHECK_INT(eval(p, &f, 13 * SEC, &st), 0);	/* within the wait */
	CHECK_INT(eval(p, &f, 16 * SEC, &st), 1);	/* wait over, still met: kill */
	CHECK_INT(ds.d[0].action, POL_KILL);
	CHECK_INT(ds.d[0].step, 1);
	CHECK(!(ds.d[0].guards & POL_G_NOT_LEAF));
	CHECK_INT(eval(p, &f, 30 * SEC, &st), 0);	/* the ladder is done */
	/* The sibling was never touched. */
	CHECK_INT(st.nr_targets, 1);
	stop(p, &st);
}

static void test_condition_breaks_for(void)
{
	struct policy *p = load(memory_rule);
	struct policy_state st;
	struct fake f;

	if (!start(p, &st, &f))
		return;
	f.x[HOG].mem_current = 200 * MiB;
	CHECK_INT(eval(p, &f, 1 * SEC, &st), 0);
	f.x[HOG].mem_current = 50 * MiB;		/* dips: the 10 s start again */
	CHECK_INT(eval(p, &f, 5 * SEC, &st), 0);
	f.x[HOG].mem_current = 200 * MiB;
	CHECK_INT(eval(p, &f, 6 * SEC, &st), 0);
	CHECK_INT(eval(p, &f, 12 * SEC, &st), 0);
	CHECK_INT(eval(p, &f, 16 * SEC, &st), 1);
	/* Absent metric: not met, never "0 > x". */
	f.x[HOG].have &= ~CG_HAVE_MEM_CURRENT;
	CHECK_INT(eval(p, &f, 100 * SEC, &st), 0);
	stop(p, &st);
}

static void test_restore_and_cooldown(void)
{
	struct policy *p = load(memory_rule);
	struct policy_state st;
	struct fake f;

	if (!start(p, &st, &f))
		return;
	f.x[HOG].mem_current = 200 * MiB;
	f.x[HOG].mem_high = 300 * MiB;			/* what restore must put back */
	eval(p, &f, 1 * SEC, &st);
	CHECK_INT(eval(p, &f, 11 * SEC, &st), 1);
	f.x[HOG].mem_current = 20 * MiB;		/* calmed down */
	f.x[HOG].mem_high = 150 * MiB;
	CHECK_INT(eval(p, &f, 12 * SEC, &st), 0);
	CHECK_INT(eval(p, &f, 16 * SEC, &st), 0);
	CHECK_INT(eval(p, &f, 17 * SEC, &st), 1);	/* 5 s false: restore */
	CHECK(ds.d[0].restore);
	CHECK_INT(ds.d[0].action, POL_MEMORY_HIGH);
	CHECK_U64(ds.d[0].value, 300 * MiB);
	/* Again over the line: the cooldown (60 s from the restore) holds it,
	 * recorded once, not on every tick. */
	f.x[HOG].mem_current = 200 * MiB;
	CHECK_INT(eval(p, &f, 20 * SEC, &st), 0);
	CHECK_INT(eval(p, &f, 30 * SEC, &st), 1);
	CHECK(ds.d[0].blocked && (ds.d[0].guards & POL_G_COOLDOWN));
	CHECK_STR(ds.d[0].result, "blocked");
	CHECK_INT(eval(p, &f, 40 * SEC, &st), 0);
	CHECK_INT(eval(p, &f, 78 * SEC, &st), 1);	/* 17 + 60 passed */
	CHECK(!ds.d[0].blocked && ds.d[0].step == 0);
	stop(p, &st);
}

static void test_restore_reverse_and_thaw(void)
{
	struct policy *p = load("{\"rules\": [{\"name\": \"cpu\", \"match\": {\"name\": \"hog\"},"
				"\"when\": {\"metric\": \"cpu.usage_ratio\", \"value\": 0.5},"
				"\"then\": [{\"cpu.max\": 0.2, \"wait\": 1}, {\"cpu.weight\": 10, \"wait\": 1},"
				"{\"freeze\": true}], \"restore_after\": 2}]}");
	struct policy_state st;
	struct fake f;

	if (!start(p, &st, &f))
		return;
	f.x[HOG].rate.have = CG_RATE_CPU_USAGE;
	f.x[HOG].rate.cpu_usage_ratio = 0.9;
	CHECK_INT(eval(p, &f, 1 * SEC, &st), 1);
	CHECK_U64(ds.d[0].value, 20000);
	CHECK_U64(ds.d[0].period, 100000);
	CHECK_INT(eval(p, &f, 2 * SEC, &st), 1);
	CHECK_INT(eval(p, &f, 3 * SEC, &st), 1);
	CHECK_INT(ds.d[0].action, POL_FREEZE);
	CHECK(st.nr_targets == 1 && st.targets[0].frozen);
	f.x[HOG].rate.cpu_usage_ratio = 0.0;
	f.x[HOG].frozen = true;
	CHECK_INT(eval(p, &f, 4 * SEC, &st), 0);
	CHECK_INT(eval(p, &f, 6 * SEC, &st), 3);	/* in reverse: thaw, weight, cpu.max */
	CHECK(ds.nr == 3 && ds.d[0].action == POL_THAW && ds.d[1].action == POL_CPU_WEIGHT &&
	      ds.d[2].action == POL_CPU_MAX);
	CHECK(ds.nr == 3 && ds.d[1].value == 100 && ds.d[2].value == CG_UNLIMITED);
	CHECK(st.nr_targets == 0 || !st.targets[0].frozen);
	stop(p, &st);
}

static void test_release_thaws(void)
{
	struct policy *p = load("{\"rules\": [{\"name\": \"f\", \"match\": {\"path\": \"hog\"},"
				"\"when\": {\"metric\": \"procs\", \"value\": 0},"
				"\"then\": [{\"memory.max\": \"1G\"}, {\"freeze\": true}]}]}");
	struct policy_state st;
	struct fake f;

	if (!start(p, &st, &f))
		return;
	f.x[HOG].have |= CG_HAVE_PROCS;
	f.x[HOG].procs = 3;
	eval(p, &f, 1 * SEC, &st);
	eval(p, &f, 2 * SEC, &st);
	CHECK_INT(ds.nr, 1);
	CHECK_INT(policy_release(p, &st, 3 * SEC, true, &ds), 1);	/* SIGTERM: thaw only */
	CHECK(ds.nr == 1 && ds.d[0].action == POL_THAW && ds.d[0].restore);
	CHECK_INT(policy_release(p, &st, 3 * SEC, true, &ds), 0);	/* once */
	stop(p, &st);
}

static void test_hysteresis(void)
{
	struct policy *p = load("{\"rules\": [{\"name\": \"h\", \"match\": {\"path\": \"hog\"},"
				"\"when\": {\"metric\": \"cpu.usage_ratio\", \"value\": 0.8, \"clear\": 0.6},"
				"\"then\": [{\"log\": \"a\", \"wait\": 1}, {\"log\": \"b\"}]}]}");
	struct policy_state st;
	struct fake f;

	if (!start(p, &st, &f))
		return;
	f.x[HOG].rate.have = CG_RATE_CPU_USAGE;
	f.x[HOG].rate.cpu_usage_ratio = 0.9;
	CHECK_INT(eval(p, &f, 1 * SEC, &st), 1);
	f.x[HOG].rate.cpu_usage_ratio = 0.7;		/* under 0.8, over 0.6: still met */
	CHECK_INT(eval(p, &f, 3 * SEC, &st), 1);
	CHECK_STR(ds.d[0].message, "b");
	f.x[HOG].rate.cpu_usage_ratio = 0.5;
	CHECK_INT(eval(p, &f, 4 * SEC, &st), 0);
	CHECK(st.nr_targets == 1 && !st.targets[0].cond_on[0]);
	f.x[HOG].rate.cpu_usage_ratio = 0.7;		/* not met again until 0.8 */
	CHECK_INT(eval(p, &f, 5 * SEC, &st), 0);
	CHECK(!st.targets[0].cond_on[0]);
	stop(p, &st);
}

static void test_protected_and_self(void)
{
	struct policy *p = load("{\"protected\": [\"calm\"], \"rules\": [{\"name\": \"all\","
				"\"match\": {}, \"when\": {\"metric\": \"memory.current_bytes\", \"value\": 1},"
				"\"then\": [{\"memory.high\": \"1G\"}]}]}");
	struct policy_state st;
	struct fake f;
	int blocked = 0, acted = 0;

	if (!start(p, &st, &f))
		return;
	f.x[CHILD].path = "cgwarden.service";	/* our own cgroup */
	CHECK_INT(eval(p, &f, 1 * SEC, &st), 5);	/* every one but the root */
	for (size_t i = 0; i < ds.nr; i++) {
		bool prot = strcmp(ds.d[i].path, "calm") == 0 || strcmp(ds.d[i].path, "init.scope") == 0 ||
			    strcmp(ds.d[i].path, "cgwarden.service") == 0;

		CHECK(prot == !!(ds.d[i].guards & POL_G_PROTECTED));
		blocked += ds.d[i].blocked;
		acted += !ds.d[i].blocked;
	}
	CHECK_INT(blocked, 3);
	CHECK_INT(acted, 2);
	CHECK_INT(eval(p, &f, 2 * SEC, &st), 0);	/* blocked ones recorded once */
	stop(p, &st);
}

static void test_floor(void)
{
	struct policy *p = load("{\"floor\": {\"memory\": \"64M\"}, \"rules\": [{\"name\": \"f\","
				"\"match\": {\"path\": \"hog\"}, \"when\": {\"metric\": \"procs\", \"op\": \">=\","
				"\"value\": 0}, \"then\": [{\"memory.high\": \"10M\"}]}, {\"name\": \"g\","
				"\"match\": {\"path\": \"calm\"}, \"when\": {\"metric\": \"procs\", \"op\": \">=\","
				"\"value\": 0}, \"then\": [{\"memory.max\": \"80M\"}]}]}");
	struct policy_state st;
	struct fake f;

	if (!start(p, &st, &f))
		return;
	f.x[HOG].have |= CG_HAVE_PROCS;
	f.x[CALM].have |= CG_HAVE_PROCS;
	f.x[CALM].mem_min = 100 * MiB;			/* above the step's 80M */
	CHECK_INT(eval(p, &f, 1 * SEC, &st), 2);
	CHECK(ds.nr == 2 && ds.d[0].value == 64 * MiB && (ds.d[0].guards & POL_G_FLOOR));
	CHECK(ds.nr == 2 && ds.d[1].value == 100 * MiB && (ds.d[1].guards & POL_G_FLOOR));
	CHECK(ds.nr == 2 && !ds.d[0].blocked && !ds.d[1].blocked);
	stop(p, &st);
}

static void test_budget(void)
{
	struct policy *p = load("{\"budget\": {\"actions_per_minute\": 1}, \"rules\": [{\"name\": \"b\","
				"\"match\": {\"path\": \"[hc]*\"}, \"when\": {\"metric\": \"procs\", \"op\": \">=\","
				"\"value\": 0}, \"then\": [{\"cpu.weight\": 10}]}]}");
	struct policy_state st;
	struct fake f;

	if (!start(p, &st, &f))
		return;
	f.x[HOG].have |= CG_HAVE_PROCS;
	f.x[CALM].have |= CG_HAVE_PROCS;
	CHECK_INT(eval(p, &f, 1 * SEC, &st), 2);
	CHECK(ds.nr == 2 && !ds.d[0].blocked && ds.d[1].blocked &&
	      (ds.d[1].guards & POL_G_BUDGET));
	CHECK_INT(eval(p, &f, 30 * SEC, &st), 0);
	CHECK_INT(eval(p, &f, 62 * SEC, &st), 1);	/* a minute later */
	CHECK(ds.nr == 1 && !ds.d[0].blocked && strcmp(ds.d[0].path, "calm") == 0);
	stop(p, &st);
}

static void test_dry_run(void)
{
	struct policy *p = load("{\"dry_run\": true, \"rules\": [{\"name\": \"d\","
				"\"match\": {\"path\": \"hog\"}, \"when\": {\"metric\": \"procs\", \"op\": \">=\","
				"\"value\": 0}, \"then\": [{\"memory.high\": \"1G\", \"wait\": 1}, {\"kill\": true}],"
				"\"restore_after\": 1}]}");
	struct policy_state st;
	struct fake f;

	if (!start(p, &st, &f))
		return;
	f.x[HOG].have |= CG_HAVE_PROCS;
	CHECK_INT(eval(p, &f, 1 * SEC, &st), 1);
	CHECK(ds.d[0].dry_run && (ds.d[0].guards & POL_G_DRY_RUN) && !ds.d[0].blocked);
	CHECK_INT(eval(p, &f, 2 * SEC, &st), 1);	/* the ladder goes on, on paper */
	CHECK(ds.d[0].dry_run && ds.d[0].action == POL_KILL);
	f.x[HOG].have &= ~CG_HAVE_PROCS;
	eval(p, &f, 3 * SEC, &st);
	CHECK_INT(eval(p, &f, 4 * SEC, &st), 1);	/* its restore is a dry run too */
	CHECK(ds.d[0].restore && ds.d[0].dry_run);
	stop(p, &st);
}

static void test_not_leaf(void)
{
	struct policy *p = load("{\"rules\": [{\"name\": \"k\", \"match\": {\"path\": \"parent*\"},"
				"\"when\": {\"metric\": \"procs\", \"op\": \">=\", \"value\": 0},"
				"\"then\": [{\"kill\": true}]}]}");
	struct policy_state st;
	struct fake f;

	if (!start(p, &st, &f))
		return;
	f.x[PARENT].have |= CG_HAVE_PROCS;
	f.x[CHILD].have |= CG_HAVE_PROCS;
	CHECK_INT(eval(p, &f, 1 * SEC, &st), 2);
	CHECK(ds.nr == 2 && (ds.d[0].guards & POL_G_NOT_LEAF) && !(ds.d[1].guards & POL_G_NOT_LEAF));
	stop(p, &st);
}

static void test_reload_keeps_state(void)
{
	struct policy *p = load(memory_rule), *q;
	struct policy_state st;
	struct fake f;
	char *changed;

	if (!start(p, &st, &f))
		return;
	f.x[HOG].mem_current = 200 * MiB;
	eval(p, &f, 1 * SEC, &st);
	CHECK_INT(eval(p, &f, 11 * SEC, &st), 1);
	/* The same text (another rule added): the ladder goes on, step 0 is
	 * not repeated. */
	q = load("{\"rules\": [{\"name\": \"hog\", \"match\": {\"path\": \"hog\"},\n"
		 " \"when\": {\"all\": [{\"metric\": \"memory.current_bytes\", \"op\": \">\",\n"
		 "   \"value\": \"100M\", \"for\": \"10s\"}]},\n"
		 " \"then\": [{\"memory.high\": \"150M\", \"wait\": \"5s\"}, {\"kill\": true}],\n"
		 " \"restore_after\": \"5s\", \"cooldown\": \"60s\"},"
		 "{\"name\": \"other\", \"match\": {\"path\": \"nothing\"}, \"when\": {\"metric\": \"procs\","
		 "\"value\": 1}, \"then\": [{\"log\": \"x\"}]}]}");
	CHECK(q);
	if (!q)
		goto out;
	policy_state_rebind(&st, q);
	policy_free(p);
	p = q;
	CHECK_INT(eval(p, &f, 12 * SEC, &st), 0);
	CHECK_INT(eval(p, &f, 16 * SEC, &st), 1);
	CHECK(ds.d[0].action == POL_KILL);
	/* A changed rule: what the old one did is restored at once. */
	changed = strdup(memory_rule);
	memcpy(strstr(changed, "150M"), "160M", 4);
	q = load(changed);
	free(changed);
	CHECK(q);
	if (!q)
		goto out;
	policy_state_rebind(&st, q);
	policy_free(p);
	p = q;
	CHECK_INT(eval(p, &f, 17 * SEC, &st), 1);
	CHECK(ds.d[0].restore && ds.d[0].action == POL_MEMORY_HIGH && ds.d[0].value == CG_UNLIMITED);
out:
	stop(p, &st);
}

static void test_psi_trigger(void)
{
	struct policy *p = load("{\"rules\": [{\"name\": \"psi\", \"match\": {\"path\": \"hog\"},"
				"\"when\": {\"metric\": \"psi.cpu.some.avg10\", \"value\": 20, \"window\": \"500ms\"},"
				"\"then\": [{\"cpu.max\": \"10000 100000\"}]}]}");
	struct pol_trigger tr[4];
	struct policy_state st;
	struct fake f;

	if (!p) {
		CHECK(p);
		return;
	}
	CHECK_INT(policy_rule_triggers(&p->rules[0], tr, 4), 1);
	CHECK(tr[0].res == CG_PSI_CPU && !tr[0].full && tr[0].stall_usec == 100000 &&
	      tr[0].window_usec == 500000);
	policy_state_init(&st);
	fake_init(&f);
	CHECK_INT(eval(p, &f, 1 * SEC, &st), 0);	/* avg10 0.00 */
	policy_note_trigger(&st, f.x[HOG].id, CG_PSI_CPU, false, 1500000);
	CHECK_INT(eval(p, &f, 1501000, &st), 1);	/* the trigger, not the average */
	CHECK(ds.d[0].values[0].by_trigger && ds.d[0].values[0].met);
	/* The average alone does it too (ticks without triggers). */
	fake_init(&f);
	policy_state_free(&st);
	policy_state_init(&st);
	f.x[HOG].psi[CG_PSI_CPU].some.avg10 = 2550;	/* 25.50 % */
	CHECK_INT(eval(p, &f, 1 * SEC, &st), 1);
	CHECK_NEAR(ds.d[0].values[0].value, 25.5, 0.001);
	stop(p, &st);
}

/* statefile_read without the path check; its notes dropped. */
static int read_state(const char *path, const char *boot, struct policy_state *st, bool *ignored)
{
	struct statefile_read r = { .boot_id = boot };
	int err = statefile_read(path, st, &r);

	*ignored = r.ignored;
	pol_errors_free(&r.notes);
	return err;
}

/* One interval of the hog: wall time dt, CPU stall and throttled time
 * grown by stall and thr (usec), avg10 in hundredths of a percent. */
static void cpu_interval(struct fake *f, uint64_t dt, uint64_t stall, uint64_t thr,
			 uint32_t avg10)
{
	struct cg_sample *x = &f->x[HOG];

	f->s.mono_usec += dt;
	x->cpu_have |= 1u << CG_CPU_THROTTLED_USEC;
	x->cpu[CG_CPU_THROTTLED_USEC] += thr;
	x->psi[CG_PSI_CPU].some.total_usec += stall;
	x->psi[CG_PSI_CPU].some.avg10 = avg10;
}

static const char cpu_ladder[] =
	"{\"rules\": [{\"name\": \"cpu\", \"match\": {\"path\": \"hog\"},"
	"\"when\": {\"metric\": \"psi.cpu.some.avg10\", \"value\": 20, \"window\": \"1s\"},"
	"\"then\": [{\"cpu.max\": \"20000 100000\", \"wait\": \"2s\"}, {\"freeze\": true}],"
	"\"restore_after\": \"5s\"}]}";

/* Issue 12 item 9: CPU pressure that the ladder's own cpu.max explains
 * (stall no more than throttled time over the interval, give or take the
 * threshold) holds the ladder at its cpu.max step: no freeze, and no
 * restore either. Pressure beyond it escalates; pressure gone restores. */
static void test_cpu_ladder_holds_on_own_throttle(void)
{
	struct policy *p = load(cpu_ladder);
	struct policy_state st;
	struct fake f;

	if (!start(p, &st, &f))
		return;
	cpu_interval(&f, 2 * SEC, 1200000, 0, 6000);	/* contention: 60 % */
	CHECK_INT(eval(p, &f, 2 * SEC, &st), 1);
	CHECK_INT(ds.d[0].action, POL_CPU_MAX);
	f.x[HOG].cpu_max_quota_usec = 20000;
	/* Throttled 80 % of the time, stalled as long: its own doing. The
	 * kernel accounts a throttled stretch when it ends: within a period,
	 * the stall may run ahead of throttled_usec. */
	for (int i = 2; i <= 6; i++) {
		cpu_interval(&f, 2 * SEC, 1600000 + (i % 2 ? 100000 : 0), 1600000, 8000);
		CHECK_INT(eval(p, &f, (uint64_t)i * 2 * SEC, &st), 0);
	}
	CHECK_INT(st.nr_targets, 1);
	CHECK_INT(st.targets[0].step, 1);
	CHECK(!st.targets[0].clearing);
	/* The kernel's trigger fires on that pressure too, and ticks come
	 * closer than 2 s: the last verdict stands, still held. */
	policy_note_trigger(&st, f.x[HOG].id, CG_PSI_CPU, false, 12500000);
	CHECK_INT(eval(p, &f, 12500000, &st), 0);
	cpu_interval(&f, SEC / 2, 400000, 400000, 8000);
	CHECK_INT(eval(p, &f, 12500000, &st), 0);
	/* A little stall beyond throttling (10 % < 20): still its own. */
	cpu_interval(&f, 2 * SEC - SEC / 2, 1500000, 1300000, 8000);
	CHECK_INT(eval(p, &f, 14 * SEC, &st), 0);
	/* Others take the CPU when it may run: 35 % unexplained -> freeze. */
	cpu_interval(&f, 2 * SEC, 1800000, 1000000, 8000);
	CHECK_INT(eval(p, &f, 16 * SEC, &st), 1);
	CHECK_INT(ds.d[0].action, POL_FREEZE);
	CHECK_INT(ds.d[0].step, 1);
	stop(p, &st);

	/* Pressure gone: the ladder is restored after restore_after, as ever. */
	p = load(cpu_ladder);
	if (!start(p, &st, &f))
		return;
	cpu_interval(&f, 2 * SEC, 1200000, 0, 6000);
	CHECK_INT(eval(p, &f, 2 * SEC, &st), 1);
	cpu_interval(&f, 2 * SEC, 1600000, 1600000, 8000);
	CHECK_INT(eval(p, &f, 4 * SEC, &st), 0);
	for (int i = 5; i <= 9; i++) {
		cpu_interval(&f, 1 * SEC, 0, 0, 1000);
		CHECK_INT(eval(p, &f, (uint64_t)i * SEC, &st), 0);
	}
	cpu_interval(&f, 1 * SEC, 0, 0, 500);
	CHECK_INT(eval(p, &f, 10 * SEC, &st), 1);
	CHECK(ds.d[0].restore && ds.d[0].action == POL_CPU_MAX);
	stop(p, &st);
}

/* Where throttling cannot be told apart, pressure counts as it is: a
 * dry-run cpu.max step throttles nothing, and without throttled_usec (or
 * before a cpu.max step) there is nothing to subtract. */
static void test_cpu_pressure_counts_without_own_throttle(void)
{
	struct policy *p = load("{\"dry_run\": true, \"rules\": [{\"name\": \"cpu\","
				"\"match\": {\"path\": \"hog\"},"
				"\"when\": {\"metric\": \"psi.cpu.some.avg10\", \"value\": 20},"
				"\"then\": [{\"cpu.max\": \"20000 100000\", \"wait\": \"2s\"},"
				"{\"freeze\": true}]}]}");
	struct policy_state st;
	struct fake f;

	if (!start(p, &st, &f))
		return;
	cpu_interval(&f, 2 * SEC, 1200000, 0, 6000);
	CHECK_INT(eval(p, &f, 2 * SEC, &st), 1);
	CHECK(ds.d[0].dry_run);
	cpu_interval(&f, 2 * SEC, 1600000, 1600000, 8000);
	CHECK_INT(eval(p, &f, 4 * SEC, &st), 1);	/* dry run: not its doing */
	CHECK_INT(ds.d[0].action, POL_FREEZE);
	stop(p, &st);

	p = load(cpu_ladder);
	if (!start(p, &st, &f))
		return;
	f.s.mono_usec = 1 * SEC;
	f.x[HOG].psi[CG_PSI_CPU].some.avg10 = 6000;	/* no throttled_usec known */
	CHECK_INT(eval(p, &f, 1 * SEC, &st), 1);
	f.s.mono_usec = 3 * SEC;
	f.x[HOG].psi[CG_PSI_CPU].some.total_usec = 1600000;
	CHECK_INT(eval(p, &f, 3 * SEC, &st), 1);
	CHECK_INT(ds.d[0].action, POL_FREEZE);
	stop(p, &st);
}

static void test_state_round_trip(void)
{
	struct policy *p = load(memory_rule);
	struct policy_state st, back;
	char path[] = "/tmp/cgw-policy-state-XXXXXX";
	struct fake f;
	bool ignored;
	FILE *out;
	int fd;

	if (!p) {
		CHECK(p);
		return;
	}
	policy_state_init(&st);
	policy_state_init(&back);
	fake_init(&f);
	f.x[HOG].mem_current = 200 * MiB;
	f.x[HOG].mem_high = 300 * MiB;
	eval(p, &f, 1 * SEC, &st);
	eval(p, &f, 11 * SEC, &st);
	fd = mkstemp(path);
	CHECK(fd >= 0);
	out = fdopen(fd, "w");
	CHECK_INT(statefile_write(out, &st, "boot-a", 11 * SEC), 0);
	fclose(out);
	CHECK_INT(read_state(path, "boot-a", &back, &ignored), 0);
	CHECK(!ignored);
	CHECK_INT(back.nr_targets, 1);
	if (back.nr_targets == 1) {
		struct pol_target *t = &back.targets[0];

		CHECK_STR(t->rule, "hog");
		CHECK_STR(t->path, "hog");
		CHECK_U64(t->cgroup_id, f.x[HOG].id);
		CHECK_U64(t->step, 1);
		CHECK_U64(t->last_step_usec, 11 * SEC);
		CHECK_U64(t->fingerprint, p->rules[0].fingerprint);
		CHECK(t->saved[0].valid && t->saved[0].value == 300 * MiB &&
		      t->saved[0].action == POL_MEMORY_HIGH);
		CHECK(t->cond_on[0] && t->cond_since_usec[0] == 1 * SEC);
	}
	/* After a restart (kill -9): no repeated step, the kill follows. */
	CHECK_INT(eval(p, &f, 12 * SEC, &back), 0);
	CHECK_INT(eval(p, &f, 16 * SEC, &back), 1);
	CHECK(ds.nr == 1 && ds.d[0].action == POL_KILL);
	policy_state_free(&back);
	policy_state_init(&back);
	CHECK_INT(read_state(path, "boot-b", &back, &ignored), 0);
	CHECK(ignored && back.nr_targets == 0);
	unlink(path);
	policy_state_free(&back);
	stop(p, &st);
}

static bool has_error(const struct pol_errors *e, const char *needle)
{
	for (size_t i = 0; i < e->nr; i++)
		if (strstr(e->msg[i], needle))
			return true;
	printf("  no error holds '%s'\n", needle);
	for (size_t i = 0; i < e->nr; i++)
		printf("    have: %s\n", e->msg[i]);
	return false;
}

static void test_loader_errors(void)
{
	static const char bad[] =
		"{\"rules\": [\n"
		"  {\"name\": \"a\", \"match\": {\"path\": \"x\"},\n"
		"   \"when\": {\"all\": [{\"metric\": \"memory.curent_bytes\", \"value\": 1}]},\n"
		"   \"then\": [{\"memory.high\": \"1G\"}, {\"kill\": true, \"wait\": \"soon\"}]},\n"
		"  {\"name\": \"a\", \"match\": {\"kind\": \"vm\"}, \"thn\": [],\n"
		"   \"when\": {\"metric\": \"cpu.usage_ratio\", \"op\": \"=>\", \"value\": 1}}\n"
		"]}\n";
	static const char syntax[] = "{\"rules\": [\n  {\"name\": \"a\",,}\n]}";
	struct pol_errors e = { 0 };
	struct policy *p = NULL;

	CHECK_INT(json_policy_parse("bad.json", bad, strlen(bad), &p, &e), -EINVAL);
	CHECK(!p);
	CHECK(has_error(&e, "bad.json: rules[0].when.all[0].metric: unknown metric 'memory.curent_bytes'"));
	CHECK(has_error(&e, "bad.json: rules[0].then[1].wait: expected a duration"));
	CHECK(has_error(&e, "bad.json: rules[1].thn: unknown field"));
	CHECK(has_error(&e, "bad.json: rules[1].then: missing"));
	CHECK(has_error(&e, "bad.json: rules[1].match.kind: 'vm' is not a kind"));
	CHECK(has_error(&e, "bad.json: rules[1].when.op: expected one of"));
	CHECK(has_error(&e, "bad.json: rules[1].name: 'a' is also the name of rules[0]"));
	CHECK(e.nr >= 7);
	pol_errors_free(&e);
	CHECK_INT(json_policy_parse("syn.json", syntax, strlen(syntax), &p, &e), -EINVAL);
	CHECK_INT(e.nr, 1);
	CHECK(has_error(&e, "syn.json:2:16: "));
	pol_errors_free(&e);
	CHECK_INT(json_policy_parse("cut.json", "{\"rules\": [", 11, &p, &e), -EINVAL);
	CHECK(has_error(&e, "cut.json:1:12: the file ends inside"));
	pol_errors_free(&e);
	CHECK_INT(json_policy_load("/nonexistent/policy.json", &p, &e), -EINVAL);
	CHECK(has_error(&e, "/nonexistent/policy.json: No such file"));
	pol_errors_free(&e);
}

/* A rule around a ladder (then) and rule-level extras, for the adaptive
 * parse tests. */
static int load_rule(const char *then, const char *extra, struct policy **p,
		     struct pol_errors *e)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "{\"rules\": [{\"name\": \"a\", \"match\": {\"path\": \"hog\"},\n"
		 " \"when\": {\"metric\": \"memory.current_bytes\", \"value\": \"1M\"},\n"
		 " \"then\": [%s]%s%s}]}", then, extra ? ", " : "", extra ? extra : "");
	return json_policy_parse("t.json", text, strlen(text), p, e);
}

static void test_adaptive_accepted(void)
{
	struct pol_errors e = { 0 };
	struct policy *p = NULL;
	const struct pol_rule *r;

	/* The step alone: the defaults. */
	CHECK_INT(load_rule("{\"memory.high\": \"adaptive\"}", NULL, &p, &e), 0);
	CHECK_INT(e.nr, 0);
	if (p) {
		r = &p->rules[0];
		CHECK(r->has_adaptive);
		CHECK_INT(r->steps[0].action, POL_MEMORY_HIGH);
		CHECK(r->steps[0].adaptive);
		CHECK(r->adaptive.pressure_pct == POL_ADAPT_PRESSURE_DEFAULT);
		CHECK(r->adaptive.interval_usec == POL_ADAPT_INTERVAL_DEFAULT);
		CHECK(r->adaptive.step == POL_ADAPT_STEP_DEFAULT);
		CHECK(r->adaptive.min_bytes == 0);
		policy_free(p);
		p = NULL;
	}
	/* Every member, after other steps, with a wait and a step after it. */
	CHECK_INT(load_rule("{\"log\": \"x\"}, {\"memory.max\": \"1G\"}, "
			    "{\"memory.high\": \"adaptive\", \"wait\": \"10m\"}, {\"kill\": true}",
			    "\"adaptive\": {\"pressure\": 0.5, \"interval\": \"1s\", \"step\": 0.05, "
			    "\"min\": \"64M\"}", &p, &e), 0);
	CHECK_INT(e.nr, 0);
	if (p) {
		r = &p->rules[0];
		CHECK(r->has_adaptive);
		CHECK(!r->steps[0].adaptive && !r->steps[1].adaptive && r->steps[2].adaptive);
		CHECK(r->steps[2].wait_usec == 600 * SEC);
		CHECK(r->adaptive.pressure_pct == 0.5);
		CHECK(r->adaptive.interval_usec == 1 * SEC);
		CHECK(r->adaptive.step == 0.05);
		CHECK(r->adaptive.min_bytes == 64 * MiB);
		policy_free(p);
		p = NULL;
	}
	/* Some members: the rest default; a number of seconds, a size in bytes,
	 * the bounds themselves (step 0.5, interval 100ms). */
	CHECK_INT(load_rule("{\"memory.high\": \"adaptive\"}",
			    "\"adaptive\": {\"interval\": 0.1, \"step\": 0.5, \"min\": 1048576}",
			    &p, &e), 0);
	CHECK_INT(e.nr, 0);
	if (p) {
		r = &p->rules[0];
		CHECK(r->adaptive.pressure_pct == POL_ADAPT_PRESSURE_DEFAULT);
		CHECK(r->adaptive.interval_usec == 100000);
		CHECK(r->adaptive.step == 0.5);
		CHECK(r->adaptive.min_bytes == MiB);
		policy_free(p);
		p = NULL;
	}
	CHECK_INT(load_rule("{\"memory.high\": \"adaptive\"}", "\"adaptive\": {}", &p, &e), 0);
	if (p) {
		CHECK(p->rules[0].has_adaptive);
		CHECK(p->rules[0].adaptive.step == POL_ADAPT_STEP_DEFAULT);
		policy_free(p);
		p = NULL;
	}
	/* A rule without the step has no adaptive tuning. */
	CHECK_INT(load_rule("{\"memory.high\": \"100M\"}", NULL, &p, &e), 0);
	if (p) {
		CHECK(!p->rules[0].has_adaptive && !p->rules[0].steps[0].adaptive);
		policy_free(p);
	}
	pol_errors_free(&e);
}

/* A changed adaptive object is a changed rule (the fingerprint). */
static void test_adaptive_fingerprint(void)
{
	struct pol_errors e = { 0 };
	struct policy *a = NULL, *b = NULL;

	CHECK_INT(load_rule("{\"memory.high\": \"adaptive\"}", "\"adaptive\": {\"step\": 0.01}",
			    &a, &e), 0);
	CHECK_INT(load_rule("{\"memory.high\": \"adaptive\"}", "\"adaptive\": {\"step\": 0.02}",
			    &b, &e), 0);
	CHECK(a && b && a->rules[0].fingerprint != b->rules[0].fingerprint);
	policy_free(a);
	policy_free(b);
	pol_errors_free(&e);
}

static void test_adaptive_errors(void)
{
	static const struct {
		const char *then, *extra, *want;
	} bad[] = {
		{ "{\"memory.high\": \"100M\"}", "\"adaptive\": {\"step\": 0.01}",
		  "t.json: rules[0].adaptive: no {\"memory.high\": \"adaptive\"} step in this "
		  "rule's ladder (then) to tune" },
		{ "{\"memory.high\": \"adaptive\"}", "\"adaptive\": {\"step\": 0}",
		  "t.json: rules[0].adaptive.step: a share of memory.current above 0 and at most "
		  "0.5, not 0" },
		{ "{\"memory.high\": \"adaptive\"}", "\"adaptive\": {\"step\": 0.51}",
		  "t.json: rules[0].adaptive.step: a share of memory.current above 0 and at most "
		  "0.5, not 0.51" },
		{ "{\"memory.high\": \"adaptive\"}", "\"adaptive\": {\"step\": -0.1}",
		  "t.json: rules[0].adaptive.step: a share of memory.current above 0 and at most "
		  "0.5, not -0.1" },
		{ "{\"memory.high\": \"adaptive\"}", "\"adaptive\": {\"step\": \"1%\"}",
		  "t.json: rules[0].adaptive.step: expected a number, not a string" },
		{ "{\"memory.high\": \"adaptive\"}", "\"adaptive\": {\"pressure\": 0}",
		  "t.json: rules[0].adaptive.pressure: a stall share in percent above 0 and below "
		  "100, not 0" },
		{ "{\"memory.high\": \"adaptive\"}", "\"adaptive\": {\"pressure\": 100}",
		  "t.json: rules[0].adaptive.pressure: a stall share in percent above 0 and below "
		  "100, not 100" },
		{ "{\"memory.high\": \"adaptive\"}", "\"adaptive\": {\"pressure\": true}",
		  "t.json: rules[0].adaptive.pressure: expected a number, not a boolean" },
		{ "{\"memory.high\": \"adaptive\"}", "\"adaptive\": {\"interval\": \"50ms\"}",
		  "t.json: rules[0].adaptive.interval: at least 100ms (a shorter one measures "
		  "noise), not \"50ms\"" },
		{ "{\"memory.high\": \"adaptive\"}", "\"adaptive\": {\"interval\": \"often\"}",
		  "t.json: rules[0].adaptive.interval: expected a duration such as \"10s\"" },
		{ "{\"memory.high\": \"adaptive\"}", "\"adaptive\": {\"min\": \"lots\"}",
		  "t.json: rules[0].adaptive.min: " },
		{ "{\"memory.high\": \"adaptive\"}", "\"adaptive\": {\"min\": \"max\"}",
		  "t.json: rules[0].adaptive.min: a size, not max (the limit could never go down)" },
		{ "{\"memory.high\": \"adaptive\"}", "\"adaptive\": {\"target\": 0.1}",
		  "t.json: rules[0].adaptive.target: unknown field in adaptive (expected one of: "
		  "pressure, interval, step, min)" },
		{ "{\"memory.high\": \"adaptive\"}", "\"adaptive\": [0.1]",
		  "t.json: rules[0].adaptive: expected an object such as {\"pressure\": 0.1, "
		  "\"interval\": \"6s\", \"step\": 0.01, \"min\": \"64M\"}, not an array" },
		{ "{\"memory.high\": \"adaptive\"}, {\"memory.high\": \"1G\"}", NULL,
		  "t.json: rules[0].then[1].memory.high: a fixed memory.high in a ladder with an "
		  "adaptive one (then[0]): the two would fight over the same limit" },
		{ "{\"memory.high\": \"1G\"}, {\"memory.high\": \"adaptive\"}", NULL,
		  "t.json: rules[0].then[0].memory.high: a fixed memory.high in a ladder with an "
		  "adaptive one (then[1]): the two would fight over the same limit" },
		{ "{\"memory.high\": \"adaptive\"}, {\"log\": \"x\"}, {\"memory.high\": \"adaptive\"}",
		  NULL,
		  "t.json: rules[0].then[2].memory.high: a second adaptive step (then[0] is one): "
		  "one per ladder" },
		{ "{\"memory.max\": \"adaptive\"}", NULL,
		  "t.json: rules[0].then[0].memory.max: only memory.high can be \"adaptive\" (a "
		  "memory.max that is too low kills)" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pol_errors e = { 0 };
		struct policy *p = NULL;

		CHECK_INT(load_rule(bad[i].then, bad[i].extra, &p, &e), -EINVAL);
		CHECK(!p);
		CHECK(has_error(&e, bad[i].want));
		pol_errors_free(&e);
	}
}

static void test_metric_names(void)
{
	static const char *const good[] = { "cpu.usage_ratio", "cpu.nr_throttled",
		"memory.current_bytes", "memory.stat.anon", "memory.events.oom_kill",
		"psi.memory.full.avg60", "psi.io.some.total_usec", "pids.current",
		"sched.runq_p99_usec", "io.write_bytes_per_sec", "frozen" };
	static const char *const badn[] = { "cpu", "memory.stat.nope", "psi.gpu.some.avg10",
		"psi.cpu.half.avg10", "psi.cpu.some.avg10x", "" };
	struct pol_metric m;
	struct fake f;
	double v;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(policy_metric_resolve(good[i], &m) == 0);
	for (size_t i = 0; i < sizeof(badn) / sizeof(badn[0]); i++)
		CHECK(policy_metric_resolve(badn[i], &m) == -EINVAL);
	fake_init(&f);
	CHECK(policy_metric_resolve("memory.high_bytes", &m) == 0 && m.bytes);
	CHECK(policy_metric_get(&f.x[HOG], &m, &v) == 0 && isinf(v));
	CHECK(policy_metric_resolve("memory.peak_bytes", &m) == 0);
	CHECK_INT(policy_metric_get(&f.x[HOG], &m, &v), -ENOENT);
}

/* Review finding 1: a restore's rule name pointed into st->targets[], which
 * the same evaluation reshuffles (drop_target) and reallocates (new
 * targets); the decision must carry its own copy. */
static void test_restore_rule_name_owned(void)
{
	enum { NX = 40 };
	static struct cg_sample x[NX];
	static char paths[NX][16];
	struct cg_snapshot s = { .samples = x, .nr_samples = NX };
	struct policy_env env = { 0 };
	struct policy *p = load("{\"rules\": [{\"name\": \"a-rule\", \"match\": {\"path\": \"c0*\"},"
				"\"when\": {\"metric\": \"memory.current_bytes\", \"value\": \"100M\"},"
				"\"then\": [{\"memory.high\": \"200M\"}], \"restore_after\": \"1s\"},"
				"{\"name\": \"b-rule\", \"match\": {\"path\": \"c[1-3]*\"},"
				"\"when\": {\"metric\": \"memory.current_bytes\", \"value\": \"100M\"},"
				"\"then\": [{\"memory.high\": \"200M\"}]}]}");
	struct policy_state st;
	int restores = 0;

	if (!p) {
		CHECK(p);
		return;
	}
	memset(x, 0, sizeof(x));
	for (int i = 0; i < NX; i++) {
		snprintf(paths[i], sizeof(paths[i]), i ? "c%02d" : "", i);
		x[i].id = 100 + (uint64_t)i;
		x[i].parent = i ? 0 : -1;
		x[i].path = x[i].ident.name = paths[i];
		x[i].have = CG_HAVE_MEM_CURRENT | CG_HAVE_MEM_HIGH | CG_HAVE_EVENTS;
		x[i].mem_current = (i >= 1 && i < 10) ? 500 * MiB : 10 * MiB;
		x[i].mem_high = CG_UNLIMITED;
	}
	policy_state_init(&st);
	CHECK_INT(policy_evaluate(p, &env, &s, 1 * SEC, &st, &ds), 9);
	x[1].mem_current = 10 * MiB;
	policy_evaluate(p, &env, &s, 2 * SEC, &st, &ds);
	for (int i = 10; i < NX; i++)
		x[i].mem_current = 500 * MiB;
	CHECK(policy_evaluate(p, &env, &s, 4 * SEC, &st, &ds) > 20);
	for (size_t i = 0; i < ds.nr; i++) {
		if (!ds.d[i].restore)
			continue;
		restores++;
		CHECK_STR(ds.d[i].rule, "a-rule");
		CHECK_STR(ds.d[i].path, "c01");
	}
	CHECK_INT(restores, 1);
	policy_decisions_free(&ds);
	stop(p, &st);
}

/* Review finding 3: dry_run was fixed for the whole ladder at step 0, so a
 * real freeze taken after the policy left dry run was "thawed" in dry run
 * and stayed frozen. Each step's restore runs as the step did, also after
 * a restart (the state file). */
static void test_dry_run_per_step(void)
{
	static const char rule[] = "\"rules\": [{\"name\": \"hog\", \"match\": {\"path\": \"hog\"},"
		"\"when\": {\"metric\": \"memory.current_bytes\", \"value\": \"100M\"},"
		"\"then\": [{\"log\": \"hi\", \"wait\": \"1s\"}, {\"freeze\": true}],"
		"\"restore_after\": \"5s\"}]}";
	char v1[1024], v2[1024], path[] = "/tmp/cgw-policy-state-XXXXXX";
	struct policy *p, *q;
	struct policy_state st, back;
	struct fake f;
	bool ignored;
	FILE *out;
	int fd;

	snprintf(v1, sizeof(v1), "{\"dry_run\": true, %s", rule);
	snprintf(v2, sizeof(v2), "{%s", rule);
	p = load(v1);
	q = load(v2);
	if (!p || !q) {
		CHECK(p && q);
		policy_free(p);
		policy_free(q);
		return;
	}
	policy_state_init(&st);
	policy_state_init(&back);
	fake_init(&f);
	f.x[HOG].mem_current = 500 * MiB;
	CHECK_INT(eval(p, &f, 1 * SEC, &st), 1);
	CHECK(ds.d[0].dry_run);
	/* SIGHUP: dry_run off; the rule's text is the same, its ladder goes on. */
	policy_state_rebind(&st, q);
	CHECK_INT(eval(q, &f, 3 * SEC, &st), 1);
	CHECK(ds.d[0].action == POL_FREEZE && !ds.d[0].dry_run);
	CHECK(st.nr_targets == 1 && st.targets[0].frozen);
	/* Restart: the state file keeps each step's dry_run. */
	fd = mkstemp(path);
	CHECK(fd >= 0);
	out = fdopen(fd, "w");
	CHECK_INT(statefile_write(out, &st, "boot-a", 3 * SEC), 0);
	fclose(out);
	CHECK_INT(read_state(path, "boot-a", &back, &ignored), 0);
	unlink(path);
	CHECK(back.nr_targets == 1 && back.targets[0].saved[1].valid &&
	      !back.targets[0].saved[1].dry_run && back.targets[0].frozen);
	/* SIGTERM: the thaw is real. */
	CHECK_INT(policy_release(q, &st, 4 * SEC, true, &ds), 1);
	CHECK(ds.nr == 1 && ds.d[0].action == POL_THAW && !ds.d[0].dry_run &&
	      !(ds.d[0].guards & POL_G_DRY_RUN));
	/* The other way: a dry-run freeze never marks the target frozen. */
	policy_state_free(&st);
	policy_state_init(&st);
	f.x[HOG].mem_current = 500 * MiB;
	eval(p, &f, 10 * SEC, &st);
	CHECK_INT(eval(p, &f, 12 * SEC, &st), 1);
	CHECK(ds.nr == 1 && ds.d[0].action == POL_FREEZE && ds.d[0].dry_run);
	CHECK(st.nr_targets == 1 && !st.targets[0].frozen);
	policy_state_free(&back);
	policy_state_free(&st);
	policy_free(p);
	policy_free(q);
}

static void set_result(const char *path, const char *result)
{
	for (size_t i = 0; i < ds.nr; i++)
		if (strcmp(ds.d[i].path, path) == 0)
			snprintf(ds.d[i].result, sizeof(ds.d[i].result), "%s", result);
}

/* Review finding 4a: SIGTERM thawed in state order, a child frozen before
 * its parent was refused (frozen ancestor) and then forgotten. Parents are
 * thawed first, and a thaw that fails stays owed. */
static void test_thaw_order_and_retry(void)
{
	struct policy *p = load("{\"rules\": [{\"name\": \"pod\", \"match\": {\"path\": \"parent\"},"
				"\"when\": {\"metric\": \"memory.current_bytes\", \"value\": \"4G\"},"
				"\"then\": [{\"freeze\": true}]},"
				"{\"name\": \"ctr\", \"match\": {\"path\": \"parent/*\"},"
				"\"when\": {\"metric\": \"memory.current_bytes\", \"value\": \"1G\"},"
				"\"then\": [{\"freeze\": true}]}]}");
	struct policy_state st;
	struct fake f;
	size_t i;

	if (!start(p, &st, &f))
		return;
	f.x[PARENT].mem_current = f.x[CHILD].mem_current = 2000 * MiB;
	CHECK_INT(eval(p, &f, 1 * SEC, &st), 1);	/* the child first */
	CHECK(ds.nr == 1 && strcmp(ds.d[0].path, "parent/child") == 0);
	f.x[CHILD].frozen = true;
	f.x[PARENT].mem_current = f.x[CHILD].mem_current = 5000 * MiB;
	CHECK_INT(eval(p, &f, 2 * SEC, &st), 1);	/* then the parent */
	CHECK(ds.nr == 1 && strcmp(ds.d[0].path, "parent") == 0);
	CHECK_INT(policy_release(p, &st, 3 * SEC, true, &ds), 2);
	CHECK(ds.nr == 2 && strcmp(ds.d[0].path, "parent") == 0 &&
	      strcmp(ds.d[1].path, "parent/child") == 0);
	/* Say the child's thaw was refused anyway: it stays owed. */
	set_result("parent", "ok");
	set_result("parent/child", "refused");
	CHECK_INT(policy_restores_failed(&st, &ds), 1);
	for (i = 0; i < st.nr_targets; i++)
		if (strcmp(st.targets[i].path, "parent/child") == 0)
			break;
	CHECK(i < st.nr_targets && st.targets[i].frozen && st.targets[i].saved[0].valid);
	CHECK_INT(policy_release(p, &st, 4 * SEC, true, &ds), 1);	/* tried again */
	CHECK(ds.nr == 1 && strcmp(ds.d[0].path, "parent/child") == 0 &&
	      ds.d[0].action == POL_THAW);
	stop(p, &st);
}

/* A restore_after thaw that fails is retried at the next evaluation. */
static void test_failed_thaw_retried(void)
{
	struct policy *p = load("{\"rules\": [{\"name\": \"f\", \"match\": {\"path\": \"hog\"},"
				"\"when\": {\"metric\": \"memory.current_bytes\", \"value\": \"1G\"},"
				"\"then\": [{\"freeze\": true}], \"restore_after\": 1}]}");
	struct policy_state st;
	struct fake f;

	if (!start(p, &st, &f))
		return;
	f.x[HOG].mem_current = 2000 * MiB;
	CHECK_INT(eval(p, &f, 1 * SEC, &st), 1);
	f.x[HOG].frozen = true;
	f.x[HOG].mem_current = 10 * MiB;
	CHECK_INT(eval(p, &f, 2 * SEC, &st), 0);
	CHECK_INT(eval(p, &f, 3 * SEC, &st), 1);
	CHECK(ds.nr == 1 && ds.d[0].action == POL_THAW);
	set_result("hog", "failed");
	CHECK_INT(policy_restores_failed(&st, &ds), 1);
	CHECK_INT(eval(p, &f, 4 * SEC, &st), 1);
	CHECK(ds.nr == 1 && ds.d[0].action == POL_THAW && ds.d[0].restore &&
	      strcmp(ds.d[0].rule, "f") == 0);
	set_result("hog", "ok");
	CHECK_INT(policy_restores_failed(&st, &ds), 0);
	CHECK_INT(eval(p, &f, 5 * SEC, &st), 0);
	CHECK_INT(st.nr_targets, 0);
	stop(p, &st);
}

/* Review finding 7c: the state file's lists were read without type checks
 * ("saved": 5 aborted the daemon in a json-c assertion). Bad entries are
 * skipped, the rest loads. */
static void test_state_bad_types(void)
{
	static const char *const bad[] = {
		"{\"boot_id\":\"b\",\"targets\":[{\"rule\":\"r\",\"cgroup_id\":5,\"saved\":5},"
		"{\"rule\":\"ok\",\"cgroup_id\":6,\"path\":\"a/b\",\"saved\":[]}]}",
		"{\"boot_id\":\"b\",\"targets\":[{\"rule\":\"r\",\"cgroup_id\":5,\"saved\":{\"step\":0}},"
		"{\"rule\":\"ok\",\"cgroup_id\":6,\"path\":\"a/b\"}]}",
		"{\"boot_id\":\"b\",\"targets\":[5, {\"rule\":7}, {\"rule\":\"r\",\"path\":[]},"
		"{\"rule\":\"ok\",\"cgroup_id\":6,\"path\":\"a/b\",\"saved\":[3,{\"step\":0,\"action\":4},"
		"{\"step\":1,\"action\":\"freeze\"}],\"cond_since_usec\":\"x\"}],"
		"\"budget_usec\":3}",
	};
	char path[] = "/tmp/cgw-policy-state-XXXXXX";
	struct policy_state st;
	bool ignored;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = mkstemp(path);
		FILE *f = fdopen(fd, "w");

		CHECK(f);
		if (!f)
			return;
		fputs(bad[i], f);
		fclose(f);
		policy_state_init(&st);
		CHECK_INT(read_state(path, "b", &st, &ignored), 0);
		CHECK(!ignored && st.nr_targets == 1 && strcmp(st.targets[0].rule, "ok") == 0);
		if (i == 2 && st.nr_targets == 1)
			CHECK(!st.targets[0].saved[0].valid && st.targets[0].saved[1].valid &&
			      st.budget_len == 0);
		unlink(path);
		memcpy(path + strlen(path) - 6, "XXXXXX", 6);
		policy_state_free(&st);
	}
}

/* Review finding 9: "protected" with a leading '/' loaded and never matched. */
static void test_protected_leading_slash(void)
{
	static const char t[] = "{\"protected\": [\"system.slice/a\", \"/system.slice/sshd.service\"],"
		"\"rules\": [{\"name\": \"x\", \"match\": {\"path\": \"system.slice/*\"},"
		"\"when\": {\"metric\": \"memory.current_bytes\", \"value\": \"1G\"},"
		"\"then\": [{\"freeze\": true}]}]}";
	struct pol_errors e = { 0 };
	struct policy *p = NULL;

	CHECK_INT(json_policy_parse("t.json", t, strlen(t), &p, &e), -EINVAL);
	CHECK(!p);
	CHECK(has_error(&e, "t.json: protected[1]: paths are relative to the cgroup2 root"));
	CHECK_INT(e.nr, 1);
	pol_errors_free(&e);
	policy_free(p);
}

/* Review finding 10: a rule on dry-run trial used up the budget and
 * blocked the rules that enforce. */
static void test_dry_run_takes_no_budget(void)
{
	struct policy *p = load("{\"budget\": {\"actions_per_minute\": 1}, \"rules\": ["
				"{\"name\": \"trial\", \"dry_run\": true, \"match\": {\"path\": \"hog\"},"
				"\"when\": {\"metric\": \"procs\", \"op\": \">=\", \"value\": 0},"
				"\"then\": [{\"cpu.weight\": 10}]},"
				"{\"name\": \"real\", \"match\": {\"path\": \"calm\"},"
				"\"when\": {\"metric\": \"procs\", \"op\": \">=\", \"value\": 0},"
				"\"then\": [{\"cpu.weight\": 10}]}]}");
	struct policy_state st;
	struct fake f;

	if (!start(p, &st, &f))
		return;
	f.x[HOG].have |= CG_HAVE_PROCS;
	f.x[CALM].have |= CG_HAVE_PROCS;
	CHECK_INT(eval(p, &f, 1 * SEC, &st), 2);
	CHECK(ds.nr == 2 && ds.d[0].dry_run && !ds.d[0].blocked);
	CHECK(ds.nr == 2 && !ds.d[1].dry_run && !ds.d[1].blocked &&
	      !(ds.d[1].guards & POL_G_BUDGET));
	CHECK_INT(st.budget_len, 1);
	stop(p, &st);
}

/* Review finding 11: memory.min max was skipped as a floor, so a
 * memory.max step cut into memory the cgroup had fully protected. */
static void test_floor_min_max(void)
{
	struct policy *p = load("{\"rules\": [{\"name\": \"g\", \"match\": {\"path\": \"calm\"},"
				"\"when\": {\"metric\": \"procs\", \"op\": \">=\", \"value\": 0},"
				"\"then\": [{\"memory.max\": \"80M\"}]}]}");
	struct policy_state st;
	struct fake f;

	if (!start(p, &st, &f))
		return;
	f.x[CALM].have |= CG_HAVE_PROCS;
	f.x[CALM].mem_min = CG_UNLIMITED;
	CHECK_INT(eval(p, &f, 1 * SEC, &st), 1);
	CHECK(ds.nr == 1 && ds.d[0].blocked && (ds.d[0].guards & POL_G_FLOOR) &&
	      ds.d[0].value == CG_UNLIMITED);
	CHECK_INT(eval(p, &f, 2 * SEC, &st), 0);	/* said once */
	CHECK(st.nr_targets == 1 && st.targets[0].step == 0);
	stop(p, &st);
}

/* Review finding 12: a clear of "max" on a _bytes metric was 2^64-1 (shown
 * as 16E), not the unlimited value "max" is everywhere else. */
static void test_clear_max(void)
{
	struct policy *p = load("{\"rules\": [{\"name\": \"c\", \"match\": {\"path\": \"hog\"},"
				"\"when\": {\"metric\": \"memory.high_bytes\", \"op\": \"<\", \"value\": \"1G\","
				"\"clear\": \"max\"}, \"then\": [{\"log\": \"limited\"}]}]}");

	CHECK(p);
	if (!p)
		return;
	CHECK(isinf(p->rules[0].conds[0].clear));
	CHECK(p->rules[0].conds[0].value == 1024.0 * MiB);
	policy_free(p);
}

/* Review finding 5: freezing or limiting a parent reaches the protected
 * cgroups below it (and cgwarden itself). */
static void test_protected_ancestors(void)
{
	struct policy *p = load("{\"protected\": [\"parent/child\", \"calm/sshd.service\"],"
				"\"rules\": [{\"name\": \"f\", \"match\": {\"path\": \"parent\"},"
				"\"when\": {\"metric\": \"procs\", \"op\": \">=\", \"value\": 0},"
				"\"then\": [{\"freeze\": true}]},"
				"{\"name\": \"m\", \"match\": {\"path\": \"calm\"},"
				"\"when\": {\"metric\": \"procs\", \"op\": \">=\", \"value\": 0},"
				"\"then\": [{\"memory.max\": \"1G\"}]},"
				"{\"name\": \"w\", \"match\": {\"path\": \"parent\"},"
				"\"when\": {\"metric\": \"procs\", \"op\": \">=\", \"value\": 0},"
				"\"then\": [{\"cpu.weight\": 10}]},"
				"{\"name\": \"k\", \"match\": {\"path\": \"hog\"},"
				"\"when\": {\"metric\": \"procs\", \"op\": \">=\", \"value\": 0},"
				"\"then\": [{\"kill\": true}]}]}");
	struct policy_env env = { .self_path = "hog/cgwarden.service" };
	struct policy_state st;
	struct fake f;

	if (!start(p, &st, &f))
		return;
	f.x[PARENT].have |= CG_HAVE_PROCS;
	f.x[CALM].have |= CG_HAVE_PROCS;
	f.x[HOG].have |= CG_HAVE_PROCS;
	CHECK_INT(policy_evaluate(p, &env, &f.s, 1 * SEC, &st, &ds), 4);
	for (size_t i = 0; i < ds.nr; i++) {
		const struct pol_decision *d = &ds.d[i];
		bool want = d->action != POL_CPU_WEIGHT;	/* weight only shares */

		if (want != (d->blocked && (d->guards & POL_G_PROTECTED)))
			printf("  %s on %s: blocked %d guards %#x\n", policy_action_name(d->action),
			       d->path, d->blocked, d->guards);
		CHECK(want == (d->blocked && (d->guards & POL_G_PROTECTED)));
	}
	policy_decisions_free(&ds);
	stop(p, &st);
}

/* ---- issue 12: hostile state files, strict JSON, caps ------------------- */

/* text into a temp file; path is filled (unlink it). */
static bool put_temp(char *path, const char *text, size_t len)
{
	int fd;
	bool ok;

	strcpy(path, "/tmp/cgw-policy-state-XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return false;
	ok = write(fd, text, len) == (ssize_t)len;
	CHECK(ok);
	close(fd);
	return ok;
}

/* The fake tree's ids by path, as the daemon's check asks the actuator:
 * "calm" is cgroup 102, and so on. */
static int fake_id_of(void *ctx, const char *path, uint64_t *id)
{
	struct fake *f = ctx;

	for (int i = 0; i < NR; i++)
		if (strcmp(f->x[i].path, path) == 0) {
			*id = f->x[i].id;
			return 0;
		}
	return -ENOENT;
}

static bool has_note(const struct statefile_read *r, const char *needle)
{
	return has_error(&r->notes, needle);
}

/*
 * Review finding 5: a state file (current boot) whose entry names cgroup
 * 101 ("hog") by id and "calm" by path, with saved [{kill}, {hook}], made a
 * daemon with 0 rules kill calm's processes and fork a hook with a NULL
 * path; "value": "zzzz" read as 0 would "restore" memory.max to 0. Only what
 * a step changed is restored, to a value `set` would take, on the cgroup
 * the entry is about; the rest is skipped with a note naming the field.
 */
static void test_state_hostile_entries(void)
{
	static const char text[] = "{\"boot_id\":\"b\",\"targets\":["
		/* 0: id of hog, path of calm, kill and hook saved */
		"{\"rule\":\"gone\",\"cgroup_id\":101,\"path\":\"calm\",\"saved\":["
		"{\"step\":0,\"action\":\"kill\"},{\"step\":1,\"action\":\"hook\"}]},"
		/* 1: hog itself, kill/hook/log/thaw saved, and garbage values */
		"{\"rule\":\"gone\",\"cgroup_id\":101,\"path\":\"hog\",\"saved\":["
		"{\"step\":0,\"action\":\"kill\"},{\"step\":1,\"action\":\"hook\"},"
		"{\"step\":2,\"action\":\"log\"},{\"step\":3,\"action\":\"thaw\"},"
		"{\"step\":4,\"action\":\"memory.max\",\"value\":\"zzzz\"},"
		"{\"step\":5,\"action\":\"memory.high\",\"value\":-1},"
		"{\"step\":6,\"action\":\"cpu.weight\",\"value\":0},"
		"{\"step\":7,\"action\":\"cpu.max\",\"value\":500,\"period\":100000}]},"
		/* 2: parent, the one sound restore, and a duplicate step */
		"{\"rule\":\"gone\",\"cgroup_id\":103,\"path\":\"parent\",\"saved\":["
		"{\"step\":0,\"action\":\"memory.max\",\"value\":1073741824},"
		"{\"step\":0,\"action\":\"memory.max\",\"value\":0},"
		"{\"step\":1,\"action\":\"cpu.max\",\"value\":\"max\",\"period\":100000},"
		"{\"step\":2,\"action\":\"freeze\",\"value\":0}]},"
		/* 3-9: entries that are skipped whole */
		"{\"rule\":\"x\",\"cgroup_id\":\"104\",\"path\":\"parent/child\"},"
		"{\"rule\":\"x\",\"cgroup_id\":104.0,\"path\":\"parent/child\"},"
		"{\"rule\":\"x\",\"cgroup_id\":104,\"path\":\"parent/child\",\"step\":9},"
		"{\"rule\":\"x\",\"cgroup_id\":104,\"path\":\"parent/child\",\"fingerprint\":\"zz\"},"
		"{\"rule\":\"x\",\"cgroup_id\":104,\"path\":\"parent/../calm\"},"
		"{\"rule\":\"x\",\"cgroup_id\":104,\"path\":\"/parent/child\"},"
		"{\"rule\":\"x\",\"cgroup_id\":104,\"path\":\"parent/child\",\"frozen\":\"false\"},"
		/* 10: a cgroup gone since */
		"{\"rule\":\"x\",\"cgroup_id\":999,\"path\":\"nothere\"}"
		"]}";
	struct policy *p = load("{\"rules\": []}");
	struct statefile_read r = { .boot_id = "b", .cgroup_id = fake_id_of };
	char path[64];
	struct policy_state st;
	struct fake f;

	if (!start(p, &st, &f) || !put_temp(path, text, strlen(text))) {
		stop(p, &st);
		return;
	}
	r.ctx = &f;
	CHECK_INT(statefile_read(path, &st, &r), 0);
	CHECK(has_note(&r, "targets[0].path: 'calm' is cgroup 102, not the recorded 101: "
		       "entry skipped"));
	CHECK(has_note(&r, "targets[1].saved[0]: action 'kill' has no restore"));
	CHECK(has_note(&r, "targets[1].saved[1]: action 'hook' has no restore"));
	CHECK(has_note(&r, "targets[1].saved[2]: action 'log' has no restore"));
	CHECK(has_note(&r, "targets[1].saved[3]: action 'thaw' has no restore"));
	CHECK(has_note(&r, "targets[1].saved[4]: value: expected a whole number >= 0 or "
		       "\"max\", not \"zzzz\""));
	CHECK(has_note(&r, "targets[1].saved[5]: value: expected a whole number"));
	CHECK(has_note(&r, "targets[1].saved[6]: "));
	CHECK(has_note(&r, "targets[1].saved[7]: "));
	CHECK(has_note(&r, "targets[2].saved[1]: a second saved value for step 0"));
	CHECK(has_note(&r, "targets[3].cgroup_id: expected a cgroup id"));
	CHECK(has_note(&r, "targets[4].cgroup_id: expected a cgroup id"));
	CHECK(has_note(&r, "targets[5].step: 9 is more than"));
	CHECK(has_note(&r, "targets[6].fingerprint"));
	CHECK(has_note(&r, "targets[7].path: expected a cgroup path"));
	CHECK(has_note(&r, "targets[8].path: expected a cgroup path"));
	CHECK(has_note(&r, "targets[9].frozen: expected true or false"));
	CHECK(has_note(&r, "targets[10].path: no cgroup 'nothere' any more"));
	/* Only hog (nothing left to restore) and parent's entry. */
	CHECK_U64(st.nr_targets, 2);
	for (size_t i = 0; i < st.nr_targets; i++)
		for (int k = 0; k < POL_MAX_STEPS; k++)
			if (st.targets[i].saved[k].valid)
				CHECK(strcmp(st.targets[i].path, "parent") == 0);
	/* 0 rules: every entry is an orphan; what is left is restored, and
	 * only that: memory.max back to 1G, cpu.max to max, the thaw. */
	policy_state_rebind(&st, p);
	CHECK_INT(eval(p, &f, 1 * SEC, &st), 3);
	for (size_t i = 0; i < ds.nr; i++) {
		CHECK_STR(ds.d[i].path, "parent");
		CHECK(ds.d[i].restore && ds.d[i].cgroup_id == 103);
		CHECK(ds.d[i].action == POL_MEMORY_MAX || ds.d[i].action == POL_CPU_MAX ||
		      ds.d[i].action == POL_THAW);
		if (ds.d[i].action == POL_MEMORY_MAX)
			CHECK_U64(ds.d[i].value, 1024 * MiB);
		if (ds.d[i].action == POL_CPU_MAX)
			CHECK_U64(ds.d[i].value, CG_UNLIMITED);
	}
	unlink(path);
	pol_errors_free(&r.notes);
	stop(p, &st);
}

/* The engine itself never "restores" a kill, hook or log, whatever the
 * state says (a state built by hand, say). */
static void test_restore_only_what_a_step_changed(void)
{
	struct policy *p = load("{\"rules\": []}");
	struct policy_state st;
	struct pol_target *t;
	struct fake f;

	if (!start(p, &st, &f))
		return;
	t = policy_state_add(&st, "gone", 101, "hog");
	CHECK(t);
	if (!t) {
		stop(p, &st);
		return;
	}
	t->saved[0] = (struct pol_saved){ .valid = true, .action = POL_KILL };
	t->saved[1] = (struct pol_saved){ .valid = true, .action = POL_HOOK };
	t->saved[2] = (struct pol_saved){ .valid = true, .action = POL_LOG };
	t->saved[3] = (struct pol_saved){ .valid = true, .action = POL_CPU_WEIGHT, .value = 100 };
	CHECK_INT(eval(p, &f, 1 * SEC, &st), 1);
	CHECK(ds.nr == 1 && ds.d[0].action == POL_CPU_WEIGHT && ds.d[0].restore);
	stop(p, &st);
}

/* Duplicate keys and non-finite numbers refuse the whole state file, at
 * FILE:LINE:COL. */
static void test_state_strict_json(void)
{
	static const char *const bad[] = {
		"{\"boot_id\":\"b\",\"targets\":[],\n \"boot_id\":\"b\"}",
		"{\"boot_id\":\"b\",\"targets\":[{\"rule\":\"r\",\"cgroup_id\":102,\"path\":\"calm\","
		"\n\"saved\":[{\"step\":0,\"action\":\"cpu.weight\",\"value\":50,\"value\":1}]}]}",
		"{\"boot_id\":\"b\",\"targets\":[],\"budget_usec\":[NaN]}",
		"{\"boot_id\":\"b\",\"targets\":[],\"budget_usec\":[1e400]}",
	};
	static const char *const where[] = { ":2:2: \"boot_id\" is a key this object already has",
					     ":2:53: \"value\" is a key this object already has",
					     ":1:44: not a finite number",
					     ":1:44: a number beyond the range" };
	char path[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct statefile_read r = { .boot_id = "b" };
		struct policy_state st;

		if (!put_temp(path, bad[i], strlen(bad[i])))
			return;
		policy_state_init(&st);
		CHECK_INT(statefile_read(path, &st, &r), -EINVAL);
		CHECK(strncmp(r.why, path, strlen(path)) == 0 && strstr(r.why, where[i]));
		if (!strstr(r.why, where[i]))
			printf("  why: %s (want %s)\n", r.why, where[i]);
		CHECK_U64(st.nr_targets, 0);
		unlink(path);
		pol_errors_free(&r.notes);
		policy_state_free(&st);
	}
}

/* Review finding 13: the readers took twice their stated maximum. The cap
 * is exact, and the message names the file and the cap. */
static void test_read_caps(void)
{
	struct statefile_read r = { .boot_id = "b" };
	struct pol_errors e = { 0 };
	struct policy_state st;
	struct policy *p = NULL;
	char path[64], *text;
	size_t n = JSON_POLICY_FILE_MAX;
	int fd;

	text = malloc(n + 1);
	CHECK(text);
	if (!text)
		return;
	memset(text, ' ', n + 1);
	memcpy(text, "{\"rules\": []}", 13);
	if (put_temp(path, text, n)) {
		CHECK_INT(json_policy_load(path, &p, &e), 0);
		policy_free(p);
		p = NULL;
		unlink(path);
	}
	if (put_temp(path, text, n + 1)) {
		CHECK_INT(json_policy_load(path, &p, &e), -EINVAL);
		CHECK(e.nr == 1 && strncmp(e.msg[0], path, strlen(path)) == 0 &&
		      strstr(e.msg[0], "cap of 4194304 bytes"));
		unlink(path);
	}
	pol_errors_free(&e);
	free(text);
	/* A state file one byte over: a sparse file, nothing to write. */
	strcpy(path, "/tmp/cgw-policy-state-XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0 && ftruncate(fd, (off_t)STATEFILE_MAX + 1) == 0);
	close(fd);
	policy_state_init(&st);
	CHECK_INT(statefile_read(path, &st, &r), -EINVAL);
	CHECK(strncmp(r.why, path, strlen(path)) == 0 && strstr(r.why, "cap of 67108864 bytes"));
	unlink(path);
	policy_state_free(&st);
}

/* Review finding 7: {"dry_run": true, ..., "dry_run": false} acted, and
 * NaN and 1e400 were taken. Each is an error at FILE:LINE:COL. */
static void test_policy_duplicates_and_non_finite(void)
{
	static const char *const bad[] = {
		"{\"dry_run\": true,\n \"rules\": [],\n \"dry_run\": false}",
		"{\"rules\": [], \"dry_run\": true, \"dry_\\u0072un\": false}",
		"{\"rules\": [{\"name\": \"a\", \"match\": {}, \"name\": \"b\",\n"
		"  \"when\": {\"metric\": \"cpu.usage_ratio\", \"value\": 1}, \"then\": [{\"log\": \"x\"}]}]}",
		"{\"rules\": [{\"name\": \"a\", \"match\": {},\n"
		"  \"when\": {\"metric\": \"cpu.usage_ratio\", \"value\": NaN}, \"then\": [{\"log\": \"x\"}]}]}",
		"{\"rules\": [{\"name\": \"a\", \"match\": {},\n"
		"  \"when\": {\"metric\": \"cpu.usage_ratio\", \"value\": 1e400}, \"then\": [{\"log\": \"x\"}]}]}",
		"{\"rules\": [{\"name\": \"a\", \"match\": {},\n"
		"  \"when\": {\"metric\": \"cpu.usage_ratio\", \"value\": -Infinity}, \"then\": [{\"log\": \"x\"}]}]}",
		"{\"budget\": {\"actions_per_minute\": 99999999999999999999}, \"rules\": []}",
	};
	static const char *const want[] = {
		"t.json:3:2: \"dry_run\" is a key this object already has",
		"t.json:1:32: \"dry_\\u0072un\" is a key this object already has",
		"t.json:1:39: \"name\" is a key this object already has",
		"t.json:2:50: not a finite number",
		"t.json:2:50: a number beyond the range of a double",
		"t.json:2:50: not a finite number",
		"t.json:1:35: a whole number beyond 64 bits",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pol_errors e = { 0 };
		struct policy *p = NULL;

		CHECK_INT(json_policy_parse("t.json", bad[i], strlen(bad[i]), &p, &e), -EINVAL);
		CHECK(!p);
		CHECK(has_error(&e, want[i]));
		pol_errors_free(&e);
	}
}

/* Review finding 5: a thaw the kernel keeps refusing (a frozen ancestor)
 * was tried, and recorded, on every tick forever. It is retried after 1 s,
 * 2 s, 4 s... up to 5 min: one try and one record per step. */
static void test_refused_thaw_backs_off(void)
{
	struct policy *p = load("{\"rules\": []}");
	struct policy_state st;
	struct pol_target *t;
	struct fake f;
	uint64_t tries_at[16];
	size_t tries = 0;

	if (!start(p, &st, &f))
		return;
	t = policy_state_add(&st, "gone", 104, "parent/child");
	CHECK(t);
	if (!t) {
		stop(p, &st);
		return;
	}
	t->saved[0] = (struct pol_saved){ .valid = true, .action = POL_FREEZE };
	t->frozen = true;
	t->orphan = true;
	/* 60 s of 100 ms ticks, every thaw refused. */
	for (uint64_t now = 1 * SEC; now <= 61 * SEC; now += SEC / 10) {
		int n = eval(p, &f, now, &st);

		CHECK(n == 0 || n == 1);
		if (n == 1) {
			CHECK(ds.d[0].action == POL_THAW && ds.d[0].restore);
			if (tries < 16)
				tries_at[tries] = now;
			tries++;
			set_result("parent/child", "refused");
			CHECK_INT(policy_restores_failed(&st, &ds), 1);
		}
	}
	/* At 1, 2, 4, 8, 16, 32 s: six, not 600. */
	CHECK_U64(tries, 6);
	for (size_t i = 1; i < tries && i < 16; i++)
		CHECK_U64(tries_at[i] - tries_at[i - 1], (1ull << (i - 1)) * SEC);
	/* SIGTERM: the release tries at once; refused again, the same entry
	 * stays owed (not a second one per try), next after 64 s. */
	CHECK_INT(policy_release(p, &st, 62 * SEC, true, &ds), 1);
	set_result("parent/child", "refused");
	CHECK_INT(policy_restores_failed(&st, &ds), 1);
	CHECK_U64(st.nr_targets, 1);
	CHECK_INT(eval(p, &f, 100 * SEC, &st), 0);
	/* The ancestor thawed: the next try succeeds, and the entry goes. */
	CHECK_INT(eval(p, &f, 126 * SEC, &st), 1);
	set_result("parent/child", "ok");
	CHECK_INT(policy_restores_failed(&st, &ds), 0);
	CHECK_INT(eval(p, &f, 127 * SEC, &st), 0);
	CHECK_U64(st.nr_targets, 0);
	stop(p, &st);
}

/* The daemon collects only what its rules need: their conditions' metrics
 * and what the engine reads for their steps (the saved limit, the floor)
 * and for a PSI CPU condition (stall and throttled totals, the period). */
static void test_policy_metric_set_covers_engine_inputs(void)
{
	struct policy *p = load("{\"rules\": [{\"name\": \"m\", \"match\": {},"
				"\"when\": {\"metric\": \"memory.current_bytes\", \"value\": \"1G\"},"
				"\"then\": [{\"memory.high\": \"512M\"}]},"
				"{\"name\": \"c\", \"match\": {},"
				"\"when\": {\"metric\": \"psi.cpu.some.avg10\", \"value\": 40},"
				"\"then\": [{\"cpu.max\": \"50000 100000\"}, {\"freeze\": true}]}]}");
	struct metric_set set = { 0 };
	uint32_t files;

	CHECK(p != NULL);
	if (!p)
		return;
	policy_metric_set(p, &set);
	files = metrics_files(&set);
	CHECK(metric_set_has(&set, M_MEM_CURRENT));
	CHECK(metric_set_has(&set, M_MEM_HIGH) && metric_set_has(&set, M_MEM_MIN));
	CHECK(!metric_set_has(&set, M_MEM_MAX));
	CHECK(metric_set_has(&set, M_PSI_CPU_SOME_AVG10));
	CHECK(metric_set_has(&set, M_PSI_CPU_SOME_TOTAL) && metric_set_has(&set, M_CPU_THROTTLED_USEC));
	CHECK(metric_set_has(&set, M_CPU_MAX_QUOTA) && metric_set_has(&set, M_FROZEN));
	CHECK_U64(files, CGF_BIT(CGF_MEM_CURRENT) | CGF_BIT(CGF_MEM_HIGH) | CGF_BIT(CGF_MEM_MIN) |
			 CGF_BIT(CGF_CPU_PRESSURE) | CGF_BIT(CGF_CPU_STAT) | CGF_BIT(CGF_CPU_MAX) |
			 CGF_BIT(CGF_EVENTS));
	policy_free(p);
}

/* ---- adaptive memory.high ------------------------------------------------ */

/* The controller alone: one interval's move from the numbers. */
static void test_adapt_next(void)
{
	const struct pol_adaptive a = { .pressure_pct = 1.0, .interval_usec = SEC, .step = 0.05 };
	uint64_t cur = 200 * MiB;

	/* No stall: the whole step, from usage (the limit is above it). */
	CHECK_U64(policy_adapt_next(&a, CG_UNLIMITED, cur, 0, false, 0, CG_UNLIMITED),
		  cur - 10 * MiB);
	/* Half the target: half the step, from the limit when it is lower. */
	CHECK_U64(policy_adapt_next(&a, 100 * MiB, cur, 0.5, false, 0, CG_UNLIMITED),
		  100 * MiB - (uint64_t)(100 * MiB * 0.025) / 4096 * 4096);
	/* On target: held. */
	CHECK_U64(policy_adapt_next(&a, 100 * MiB, cur, 1.0, false, 0, CG_UNLIMITED), 100 * MiB);
	/* Twice the target: a third of the way to the far mark, so one step
	 * (POL_ADAPT_GIVE_BACK 3 x 0.05 x 1/3) of usage back. */
	CHECK_U64(policy_adapt_next(&a, 100 * MiB, cur, 2.0, false, 0, CG_UNLIMITED),
		  100 * MiB + 10 * MiB);
	/* Far above, or an event: the value from before at once. */
	CHECK_U64(policy_adapt_next(&a, 100 * MiB, cur, 4.0, false, 0, 512 * MiB), 512 * MiB);
	CHECK_U64(policy_adapt_next(&a, 100 * MiB, cur, 0, true, 0, CG_UNLIMITED), CG_UNLIMITED);
	/* Never below the floor, never above the ceiling. */
	CHECK_U64(policy_adapt_next(&a, 100 * MiB, cur, 0, false, 99 * MiB, CG_UNLIMITED), 99 * MiB);
	CHECK_U64(policy_adapt_next(&a, 150 * MiB, cur, 3.5, false, 0, 160 * MiB), 160 * MiB);
	/* Pages: the kernel counts them, so does the controller. */
	CHECK_U64(policy_adapt_next(&a, CG_UNLIMITED, 1000003, 0, false, 0, CG_UNLIMITED) % 4096, 0);
}

/* The hog rule with its memory.high step made adaptive (the loader's own
 * tests cover the policy file's form). */
static struct policy *adaptive_policy(bool dry_run)
{
	struct policy *p = load(memory_rule);

	if (!p)
		return NULL;
	p->dry_run = dry_run;
	p->rules[0].steps[0].adaptive = true;
	p->rules[0].nr_steps = 1;		/* no kill after it */
	p->rules[0].restore_after_usec = 5 * SEC;
	p->rules[0].has_adaptive = true;
	p->rules[0].adaptive = (struct pol_adaptive){ .pressure_pct = 1.0, .interval_usec = SEC,
						      .step = 0.05, .min_bytes = 64 * MiB };
	p->rules[0].conds[0].for_usec = 0;
	return p;
}

/* One tick: the snapshot at `t` seconds, memory.pressure's total at
 * stall_ms, usage at cur. */
static int adapt_eval(struct policy *p, struct fake *f, struct policy_state *st, unsigned t,
		      uint64_t stall_ms, uint64_t cur)
{
	f->s.mono_usec = t * SEC;
	f->x[HOG].psi[CG_PSI_MEMORY].some.total_usec = stall_ms * 1000;
	f->x[HOG].mem_current = cur;
	return eval(p, f, t * SEC, st);
}

/* The stream's adaptive line for st at time_usec (malloc'd), or NULL. */
static char *adaptive_line(const struct policy_state *st, uint64_t time_usec)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	if (json_write_adaptive(m, st, time_usec) != 0) {
		fclose(m);
		free(buf);
		return NULL;
	}
	fclose(m);
	return buf;
}

static void test_adaptive_squeezes_and_backs_off(void)
{
	struct policy *p = adaptive_policy(false);
	struct policy_state st;
	struct fake f;
	uint64_t high;
	unsigned t;

	if (!start(p, &st, &f))
		return;
	f.x[HOG].have |= CG_HAVE_PSI_MEMORY | CG_HAVE_MEM_EVENTS;
	f.x[HOG].psi[CG_PSI_MEMORY].have_some = true;
	f.x[HOG].memevents_have = 1u << CG_ME_HIGH | 1u << CG_ME_OOM | 1u << CG_ME_OOM_KILL;
	/* Control starts at usage: no reclaim yet, recorded as the start. */
	CHECK_INT(adapt_eval(p, &f, &st, 1, 0, 200 * MiB), 1);
	CHECK_INT(ds.d[0].adapt, POL_ADAPT_START);
	CHECK_U64(ds.d[0].value, 200 * MiB);
	CHECK(!ds.d[0].dry_run && !ds.d[0].blocked);
	/* Within the interval: nothing. */
	f.s.mono_usec = 1 * SEC + SEC / 2;
	CHECK_INT(eval(p, &f, 1 * SEC + SEC / 2, &st), 0);
	/* No stall over an interval: down 5 % of usage, quietly. */
	CHECK_INT(adapt_eval(p, &f, &st, 2, 0, 200 * MiB), 1);
	CHECK_INT(ds.d[0].adapt, POL_ADAPT_ADJUST);
	CHECK_U64(ds.d[0].value, 190 * MiB);
	CHECK_NEAR(ds.d[0].adapt_pressure_pct, 0, 1e-9);
	/* Usage follows the limit down; still no stall: down again, from it. */
	CHECK_INT(adapt_eval(p, &f, &st, 3, 0, 190 * MiB), 1);
	high = ds.d[0].value;
	CHECK(high < 190 * MiB && high >= 180 * MiB);
	CHECK_U64(ds.d[0].adapt_held_back, 10 * MiB);
	/* 2 % stalled against a 1 % target: back up one step of usage. */
	CHECK_INT(adapt_eval(p, &f, &st, 4, 20, 180 * MiB), 1);
	CHECK_NEAR(ds.d[0].adapt_pressure_pct, 2.0, 1e-9);
	CHECK_U64(ds.d[0].value, high + 9 * MiB);
	/* 5 %: far above: the limit from before (max) at once. */
	CHECK_INT(adapt_eval(p, &f, &st, 5, 70, 180 * MiB), 1);
	CHECK_U64(ds.d[0].value, CG_UNLIMITED);
	/* It found the edge: held for POL_ADAPT_HOLD_FIRST (2) intervals,
	 * however calm, then down again from usage. */
	CHECK_INT(adapt_eval(p, &f, &st, 6, 70, 180 * MiB), 0);
	CHECK_INT(adapt_eval(p, &f, &st, 7, 70, 180 * MiB), 0);
	CHECK_INT(adapt_eval(p, &f, &st, 8, 70, 180 * MiB), 1);
	CHECK_U64(ds.d[0].value, 171 * MiB);
	/* An OOM kill lifts it at once, and the next hold is twice as long. */
	f.x[HOG].memevents[CG_ME_OOM_KILL] = 1;
	CHECK_INT(adapt_eval(p, &f, &st, 9, 70, 180 * MiB), 1);
	CHECK_U64(ds.d[0].value, CG_UNLIMITED);
	for (t = 10; t <= 13; t++)
		CHECK_INT(adapt_eval(p, &f, &st, t, 70, 180 * MiB), 0);
	CHECK_INT(adapt_eval(p, &f, &st, 14, 70, 180 * MiB), 1);
	CHECK_U64(ds.d[0].value, 171 * MiB);
	/* A memory.high event while the stall is within the target is the
	 * squeeze working: no lift. */
	f.x[HOG].memevents[CG_ME_HIGH] = 40;
	CHECK_INT(adapt_eval(p, &f, &st, 15, 70, 171 * MiB), 1);
	CHECK(ds.d[0].value < 171 * MiB);
	/* The cut at 14 cost nothing (no stall over 15): the hold is halved
	 * (4 -> 2), so the next lift holds for 4 intervals, not 8. */
	CHECK_U64(st.targets[0].adapt_backoff, 2);
	CHECK_INT(adapt_eval(p, &f, &st, 16, 170, 171 * MiB), 1);
	CHECK_U64(ds.d[0].value, CG_UNLIMITED);
	CHECK_U64(st.targets[0].adapt_hold, 4);
	/* While the stall stays far above, the hold starts over each
	 * interval, and grows only with a new lift. */
	CHECK_INT(adapt_eval(p, &f, &st, 17, 270, 171 * MiB), 0);
	CHECK_U64(st.targets[0].adapt_hold, 4);
	CHECK_U64(st.targets[0].adapt_backoff, 4);
	/* It never grows past POL_ADAPT_HOLD_MAX. */
	st.targets[0].adapt_backoff = POL_ADAPT_HOLD_MAX;
	st.targets[0].adapt_high = 100 * MiB;
	CHECK_INT(adapt_eval(p, &f, &st, 18, 370, 171 * MiB), 1);
	CHECK_U64(st.targets[0].adapt_backoff, POL_ADAPT_HOLD_MAX);
	CHECK_U64(st.targets[0].adapt_hold, POL_ADAPT_HOLD_MAX);
	st.targets[0].adapt_hold = 0;	/* not to wait 32 intervals below */
	/* Never below min (64M), however long it finds no stall (usage stays
	 * above the rule's 100M, so the rule keeps firing). */
	for (t = 19; t < 60; t++)
		CHECK(adapt_eval(p, &f, &st, t, 370, 120 * MiB) >= 0);
	CHECK_U64(st.targets[0].adapt_high, 64 * MiB);
	/* A summary at most once a minute, with what it saw. */
	CHECK_INT(adapt_eval(p, &f, &st, 61, 370, 120 * MiB), 1);
	CHECK_INT(ds.d[0].adapt, POL_ADAPT_SUMMARY);
	CHECK_U64(ds.d[0].value, 64 * MiB);
	CHECK_U64(ds.d[0].adapt_current, 120 * MiB);
	CHECK_U64(ds.d[0].adapt_held_back, 80 * MiB);
	CHECK_INT(adapt_eval(p, &f, &st, 62, 370, 120 * MiB), 0);
	/* The stream's line of what control holds, a tick. */
	{
		char *buf = adaptive_line(&st, 5);

		CHECK(buf && strcmp(buf, "{\"schema\":1,\"type\":\"adaptive\",\"time_usec\":5,"
				   "\"cgroups\":[{\"target\":\"hog\",\"target_id\":101,"
				   "\"rule\":\"hog\",\"memory_high_bytes\":67108864,"
				   "\"pressure_pct\":0,\"held_back_bytes\":83886080,"
				   "\"hold_intervals\":0}]}\n") == 0);
		if (buf && getenv("CGW_DUMP_ADAPTIVE_RECORDS"))
			fputs(buf, stdout);
		free(buf);
	}
	/* The cgroup leaves the rule's match: its limit back now, not after
	 * restore_after, and control ends. */
	f.x[HOG].path = "hog-renamed";
	CHECK_INT(adapt_eval(p, &f, &st, 63, 370, 120 * MiB), 1);
	CHECK(ds.d[0].restore);
	CHECK_INT(ds.d[0].action, POL_MEMORY_HIGH);
	CHECK_U64(ds.d[0].value, CG_UNLIMITED);
	CHECK_INT(adapt_eval(p, &f, &st, 64, 370, 120 * MiB), 0);
	stop(p, &st);
}

/* A stall far above the target is not left to the interval's end: the
 * tick that sees it lifts the limit (once a quarter of the interval has
 * passed); a milder one waits for the interval. */
static void test_adaptive_lifts_within_the_interval(void)
{
	struct policy *p = adaptive_policy(false);
	struct policy_state st;
	struct fake f;

	if (!p)
		return;
	p->rules[0].adaptive.interval_usec = 4 * SEC;
	if (!start(p, &st, &f))
		return;
	f.x[HOG].have |= CG_HAVE_PSI_MEMORY | CG_HAVE_MEM_EVENTS;
	f.x[HOG].psi[CG_PSI_MEMORY].have_some = true;
	CHECK_INT(adapt_eval(p, &f, &st, 1, 0, 200 * MiB), 1);
	CHECK_INT(ds.d[0].adapt, POL_ADAPT_START);
	CHECK_INT(adapt_eval(p, &f, &st, 2, 0, 200 * MiB), 0);
	/* 1 % over 2 s: at the target, well below the far mark (4 %): the
	 * interval runs on. */
	CHECK_INT(adapt_eval(p, &f, &st, 3, 20, 200 * MiB), 0);
	CHECK_INT(adapt_eval(p, &f, &st, 4, 20, 200 * MiB), 0);
	/* The interval's end (4 s, 0.5 % stalled): down. */
	CHECK_INT(adapt_eval(p, &f, &st, 5, 20, 200 * MiB), 1);
	CHECK_INT(ds.d[0].adapt, POL_ADAPT_ADJUST);
	CHECK(ds.d[0].value < 200 * MiB);
	/* One second later, 10 % stalled: lifted now, not at 9 s. */
	CHECK_INT(adapt_eval(p, &f, &st, 6, 120, 200 * MiB), 1);
	CHECK_U64(ds.d[0].value, CG_UNLIMITED);
	CHECK_NEAR(ds.d[0].adapt_pressure_pct, 10.0, 1e-9);
	/* The stream's line says it is holding, and for how long. */
	{
		char *buf = adaptive_line(&st, 6);

		CHECK(buf && strstr(buf, "\"memory_high_bytes\":18446744073709551615,") &&
		      strstr(buf, "\"hold_intervals\":2}"));
		free(buf);
	}
	/* Already lifted: more stall changes nothing before the interval ends. */
	CHECK_INT(adapt_eval(p, &f, &st, 7, 320, 200 * MiB), 0);
	stop(p, &st);
}

/* Two rules adapting one cgroup: the first wins, the second is recorded
 * as blocked (once) and never moves the limit; the daemon's exit gives
 * the limit back (freezes_only release, as on SIGTERM). */
static void test_adaptive_first_wins_and_exit_restores(void)
{
	struct policy *p = load(
		"{\"rules\": [\n"
		" {\"name\": \"one\", \"match\": {\"path\": \"hog\"},\n"
		"  \"when\": {\"metric\": \"memory.current_bytes\", \"op\": \">\", \"value\": \"1M\"},\n"
		"  \"then\": [{\"memory.high\": \"adaptive\"}],\n"
		"  \"adaptive\": {\"interval\": \"1s\", \"step\": 0.05, \"pressure\": 1}},\n"
		" {\"name\": \"two\", \"match\": {\"path\": \"h*\"},\n"
		"  \"when\": {\"metric\": \"memory.current_bytes\", \"op\": \">\", \"value\": \"1M\"},\n"
		"  \"then\": [{\"memory.high\": \"adaptive\"}]}]}");
	struct policy_state st;
	struct pol_decisions rel = { 0 };
	struct fake f;

	if (!start(p, &st, &f))
		return;
	f.x[HOG].have |= CG_HAVE_PSI_MEMORY;
	f.x[HOG].psi[CG_PSI_MEMORY].have_some = true;
	CHECK_INT(adapt_eval(p, &f, &st, 1, 0, 200 * MiB), 2);
	CHECK(!strcmp(ds.d[0].rule, "one") && ds.d[0].adapt == POL_ADAPT_START && !ds.d[0].blocked);
	CHECK(!strcmp(ds.d[1].rule, "two") && ds.d[1].blocked && (ds.d[1].guards & POL_G_SHARED));
	/* Blocked is said once; the first rule's control goes on alone. */
	CHECK_INT(adapt_eval(p, &f, &st, 2, 0, 200 * MiB), 1);
	CHECK(!strcmp(ds.d[0].rule, "one") && ds.d[0].adapt == POL_ADAPT_ADJUST);
	/* SIGTERM: freezes and the adaptive limit go back, nothing else. */
	CHECK_INT(policy_release(p, &st, 3 * SEC, true, &rel), 1);
	CHECK(rel.d[0].restore && rel.d[0].adapt == POL_ADAPT_END);
	CHECK_U64(rel.d[0].value, CG_UNLIMITED);
	/* The next start (the same state, as the state file keeps it) takes
	 * the step again: control resumes. */
	CHECK_INT(adapt_eval(p, &f, &st, 4, 0, 200 * MiB), 1);
	CHECK(!strcmp(ds.d[0].rule, "one") && ds.d[0].adapt == POL_ADAPT_START);
	policy_decisions_free(&rel);
	stop(p, &st);
}

/* Each phase's record: start, summary and end carry what the controller
 * saw (schema: policy_action.adaptive). */
static void test_adaptive_records(void)
{
	struct pol_decision d = { .rule = "squeeze", .path = "hog", .cgroup_id = 7,
				  .action = POL_MEMORY_HIGH, .value = 190 * MiB };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(f);
	if (!f)
		return;
	d.adapt = POL_ADAPT_START;
	d.adapt_pressure_pct = -1;
	d.adapt_current = 200 * MiB;
	snprintf(d.result, sizeof(d.result), "ok");
	CHECK_INT(json_write_policy_action(f, &d, 1, 0), 0);
	d.adapt = POL_ADAPT_SUMMARY;
	d.adapt_pressure_pct = 0.25;
	d.adapt_held_back = 10 * MiB;
	snprintf(d.result, sizeof(d.result), "summary");
	CHECK_INT(json_write_policy_action(f, &d, 2, 0), 0);
	d.adapt = POL_ADAPT_END;
	d.restore = true;
	d.value = CG_UNLIMITED;
	snprintf(d.result, sizeof(d.result), "ok");
	CHECK_INT(json_write_policy_action(f, &d, 3, 0), 0);
	fclose(f);
	CHECK(strstr(buf, "\"value\":\"199229440\"") != NULL);
	CHECK(strstr(buf, "\"adaptive\":{\"phase\":\"start\",\"pressure_pct\":null,"
			  "\"memory_current_bytes\":209715200,\"held_back_bytes\":0}") != NULL);
	CHECK(strstr(buf, "\"result\":\"summary\"") != NULL);
	CHECK(strstr(buf, "\"adaptive\":{\"phase\":\"summary\",\"pressure_pct\":0.25,"
			  "\"memory_current_bytes\":209715200,\"held_back_bytes\":10485760}") != NULL);
	CHECK(strstr(buf, "\"adaptive\":{\"phase\":\"end\",\"pressure_pct\":0.25}") != NULL);
	if (getenv("CGW_DUMP_ADAPTIVE_RECORDS"))
		fputs(buf, stdout);
	free(buf);
}

static void test_adaptive_restores_and_needs_psi(void)
{
	struct policy *p = adaptive_policy(false);
	struct policy_state st;
	struct pol_decisions rel = { 0 };
	struct fake f;

	if (!start(p, &st, &f))
		return;
	/* No memory.pressure (PSI off): control cannot start. */
	CHECK_INT(adapt_eval(p, &f, &st, 1, 0, 200 * MiB), 0);
	CHECK_INT(adapt_eval(p, &f, &st, 5, 0, 200 * MiB), 0);
	f.x[HOG].have |= CG_HAVE_PSI_MEMORY;
	f.x[HOG].psi[CG_PSI_MEMORY].have_some = true;
	f.x[HOG].mem_high = 300 * MiB;
	CHECK_INT(adapt_eval(p, &f, &st, 6, 0, 200 * MiB), 1);
	CHECK_INT(ds.d[0].adapt, POL_ADAPT_START);
	CHECK_INT(adapt_eval(p, &f, &st, 7, 0, 200 * MiB), 1);
	CHECK_U64(ds.d[0].value, 190 * MiB);
	/* The daemon stops: the limit from before comes back. */
	CHECK_INT(policy_release(p, &st, 8 * SEC, false, &rel), 1);
	CHECK(rel.d[0].restore);
	CHECK_U64(rel.d[0].value, 300 * MiB);
	CHECK(!st.nr_targets || !st.targets[0].adapt_on);
	policy_decisions_free(&rel);
	stop(p, &st);

	/* In dry run: the same decisions, each marked, nothing to apply. */
	p = adaptive_policy(true);
	if (!start(p, &st, &f))
		return;
	f.x[HOG].have |= CG_HAVE_PSI_MEMORY;
	f.x[HOG].psi[CG_PSI_MEMORY].have_some = true;
	CHECK_INT(adapt_eval(p, &f, &st, 1, 0, 200 * MiB), 1);
	CHECK(ds.d[0].dry_run && ds.d[0].adapt == POL_ADAPT_START);
	CHECK_INT(adapt_eval(p, &f, &st, 2, 0, 200 * MiB), 1);
	CHECK(ds.d[0].dry_run && ds.d[0].adapt == POL_ADAPT_ADJUST);
	stop(p, &st);
}

int main(void)
{
	RUN(test_for_duration_and_ladder);
	RUN(test_condition_breaks_for);
	RUN(test_restore_and_cooldown);
	RUN(test_restore_reverse_and_thaw);
	RUN(test_release_thaws);
	RUN(test_hysteresis);
	RUN(test_protected_and_self);
	RUN(test_floor);
	RUN(test_budget);
	RUN(test_dry_run);
	RUN(test_not_leaf);
	RUN(test_reload_keeps_state);
	RUN(test_psi_trigger);
	RUN(test_cpu_ladder_holds_on_own_throttle);
	RUN(test_cpu_pressure_counts_without_own_throttle);
	RUN(test_state_round_trip);
	RUN(test_loader_errors);
	RUN(test_adaptive_accepted);
	RUN(test_adaptive_fingerprint);
	RUN(test_adaptive_errors);
	RUN(test_metric_names);
	RUN(test_restore_rule_name_owned);
	RUN(test_dry_run_per_step);
	RUN(test_thaw_order_and_retry);
	RUN(test_failed_thaw_retried);
	RUN(test_state_bad_types);
	RUN(test_protected_leading_slash);
	RUN(test_dry_run_takes_no_budget);
	RUN(test_floor_min_max);
	RUN(test_clear_max);
	RUN(test_protected_ancestors);
	RUN(test_state_hostile_entries);
	RUN(test_restore_only_what_a_step_changed);
	RUN(test_state_strict_json);
	RUN(test_read_caps);
	RUN(test_policy_duplicates_and_non_finite);
	RUN(test_refused_thaw_backs_off);
	RUN(test_policy_metric_set_covers_engine_inputs);
	RUN(test_adapt_next);
	RUN(test_adaptive_squeezes_and_backs_off);
	RUN(test_adaptive_lifts_within_the_interval);
	RUN(test_adaptive_restores_and_needs_psi);
	RUN(test_adaptive_records);
	RUN(test_adaptive_first_wins_and_exit_restores);
	policy_decisions_free(&ds);
	TEST_EXIT();
}
