/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The dashboard's model without curses (ui/rows.c, ui/history.c): which rows
 * a view lists and in what order, absent values as '-' and sorted last,
 * colour levels, tree collapse, and the bounded history. The workloads
 * view's other cgroups with processes on trees built from the captured
 * fixtures (tests/fixtures/v2-*), through the real collector. Run from the
 * repository root.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "test.h"
#include "collector.h"
#include "history.h"
#include "rows.h"

/* root
 *   system.slice            slice
 *     a.service             svc  cpu 0.50  mem 100 of max 1000
 *     b.service             svc  cpu 1.50  mem (absent)
 *   kubepods.slice          slice
 *     pod1                  pod  cpu 0.10  mem 950 of max 1000 (95%)
 *       ctr1                ctr  cpu (absent) throttled 20%
 */
static struct cg_sample smp[7];
static struct cg_snapshot snap = { .samples = smp, .nr_samples = 7, .seq = 1 };

static void add(int i, int parent, const char *path, const char *name, enum cg_kind k)
{
	smp[i] = (struct cg_sample){
		.id = 100 + (uint64_t)i, .parent = parent, .path = path,
		.depth = parent < 0 ? 0 : smp[parent].depth + 1,
		.ident = { .kind = k, .name = name },
	};
}

static void cpu(int i, double r)
{
	smp[i].rate.have |= CG_RATE_CPU_USAGE;
	smp[i].rate.cpu_usage_ratio = r;
}

static void mem(int i, uint64_t cur, uint64_t max)
{
	smp[i].have |= CG_HAVE_MEM_CURRENT | CG_HAVE_MEM_MAX;
	smp[i].mem_current = cur;
	smp[i].mem_max = max;
}

static void setup(void)
{
	add(0, -1, "", NULL, CG_KIND_OTHER);
	add(1, 0, "system.slice", "system.slice", CG_KIND_SLICE);
	add(2, 1, "system.slice/a.service", "a.service", CG_KIND_SERVICE);
	add(3, 1, "system.slice/b.service", "b.service", CG_KIND_SERVICE);
	add(4, 0, "kubepods.slice", "kubepods.slice", CG_KIND_SLICE);
	add(5, 4, "kubepods.slice/pod1", "pod1", CG_KIND_POD);
	add(6, 5, "kubepods.slice/pod1/ctr1", "ctr1", CG_KIND_CONTAINER);
	cpu(2, 0.5);
	cpu(3, 1.5);
	cpu(5, 0.1);
	mem(2, 100, 1000);
	mem(5, 950, 1000);
	smp[6].rate.have |= CG_RATE_CPU_THROTTLED;
	smp[6].rate.cpu_throttled_ratio = 0.2;
}

static const char *order(const struct rows *r)
{
	static char buf[256];

	buf[0] = '\0';
	for (size_t k = 0; k < r->n; k++) {
		strcat(buf, k ? " " : "");
		strcat(buf, row_name(&smp[r->v[k].idx], false));
	}
	return buf;
}

static void test_workloads_sorted_by_cpu_absent_last(void)
{
	struct rows r = { 0 };
	struct rows_opts o = { .view = VIEW_WORKLOADS, .sort = COL_CPU };

	CHECK_INT(rows_build(&r, &snap, &o), 0);
	CHECK_STR(order(&r), "b.service a.service pod1 ctr1");
	o.reverse = true;
	rows_build(&r, &snap, &o);
	CHECK_STR(order(&r), "pod1 a.service b.service ctr1");	/* absent still last */
	o.reverse = false;
	o.sort = COL_NAME;
	rows_build(&r, &snap, &o);
	CHECK_STR(order(&r), "a.service b.service ctr1 pod1");
	o.sort = COL_MEMPCT;
	rows_build(&r, &snap, &o);
	CHECK_STR(order(&r), "pod1 a.service b.service ctr1");
	rows_free(&r);
}

static void test_filter_by_name_or_path(void)
{
	struct rows r = { 0 };
	struct rows_opts o = { .view = VIEW_WORKLOADS, .sort = COL_NAME, .filter = "SERVICE" };

	rows_build(&r, &snap, &o);
	CHECK_STR(order(&r), "a.service b.service");
	o.filter = "kubepods";	/* only in the path */
	rows_build(&r, &snap, &o);
	CHECK_STR(order(&r), "ctr1 pod1");
	o.filter = "nothing";
	rows_build(&r, &snap, &o);
	CHECK_INT(r.n, 0);
	rows_free(&r);
}

static void test_tree_order_depth_and_collapse(void)
{
	struct rows r = { 0 };
	struct idset col = { 0 };
	struct rows_opts o = { .view = VIEW_TREE, .sort = COL_NAME, .collapsed = &col };

	rows_build(&r, &snap, &o);
	/* Parents before children, siblings by name. */
	CHECK_STR(order(&r), "/ kubepods.slice pod1 ctr1 system.slice a.service b.service");
	CHECK_INT(r.v[3].depth, 3);
	CHECK(r.v[1].has_children && !r.v[3].has_children);
	/* Siblings by CPU: b (1.5) before a (0.5); the slices have no figure
	 * and keep their snapshot order. */
	o.sort = COL_CPU;
	rows_build(&r, &snap, &o);
	CHECK_STR(order(&r), "/ system.slice b.service a.service kubepods.slice pod1 ctr1");
	idset_add(&col, smp[4].id);
	rows_build(&r, &snap, &o);
	CHECK_STR(order(&r), "/ system.slice b.service a.service kubepods.slice");
	CHECK(r.v[4].collapsed);
	idset_del(&col, smp[4].id);
	rows_build(&r, &snap, &o);
	CHECK_INT(r.n, 7);
	idset_free(&col);
	rows_free(&r);
}

static void test_cells_and_levels(void)
{
	char buf[32];

	col_format(&smp[3], COL_MEM, buf, sizeof(buf));
	CHECK_STR(buf, "-");			/* absent, never 0 */
	col_format(&smp[3], COL_CPU, buf, sizeof(buf));
	CHECK_STR(buf, "150");
	col_format(&smp[5], COL_MEMPCT, buf, sizeof(buf));
	CHECK_STR(buf, "95.0");
	col_format(&smp[6], COL_THR, buf, sizeof(buf));
	CHECK_STR(buf, "20.0");
	col_format(&smp[6], COL_KIND, buf, sizeof(buf));
	CHECK_STR(buf, "ctr");
	col_format(&smp[0], COL_OOM, buf, sizeof(buf));
	CHECK_STR(buf, "-");
	CHECK_INT(col_level(&smp[5], COL_MEMPCT), LEVEL_CRIT);	/* near the limit: red */
	CHECK_INT(col_level(&smp[2], COL_MEMPCT), LEVEL_NORMAL);
	CHECK_INT(col_level(&smp[6], COL_THR), LEVEL_WARN);	/* throttled: yellow */
	CHECK_INT(col_level(&smp[3], COL_MEM), LEVEL_NORMAL);	/* absent: plain */
	CHECK_STR(row_name(&smp[0], false), "/");
	CHECK_STR(row_name(&smp[6], true), "ctr1");
}

/* How many of the fixture's cgroups the history tracks. */
static int tracked(const struct history *h)
{
	int n = 0;

	for (size_t i = 0; i < sizeof(smp) / sizeof(smp[0]); i++)
		n += history_get(h, smp[i].id) != NULL;
	return n;
}

static void test_history_bounded_and_compacted(void)
{
	struct history *h;
	const struct hist_entry *e;

	CHECK_INT(history_new(4, &h), 0);
	for (int t = 0; t < HIST_POINTS + 2; t++) {
		smp[2].rate.cpu_usage_ratio = t < HIST_POINTS ? 0.5 : 1.0;
		snap.mono_usec = (uint64_t)t * 1000000;
		history_update(h, &snap);
	}
	/* 7 cgroups, room for 4: the first four are tracked. */
	CHECK_INT(tracked(h), 4);
	CHECK(history_get(h, smp[6].id) == NULL);
	e = history_get(h, smp[2].id);
	CHECK(e != NULL);
	if (e) {
		/* Full at HIST_POINTS: halved, each point now two ticks. */
		CHECK_INT(e->step, 2);
		CHECK_INT(e->n, HIST_POINTS / 2 + 1);
		CHECK_NEAR(e->v[HIST_CPU][0], 50, 1e-3);
		CHECK_NEAR(e->v[HIST_CPU][e->n - 1], 100, 1e-3);
		CHECK(isnan(e->v[HIST_MEM][0]) == 0);	/* a.service has memory */
	}
	e = history_get(h, smp[1].id);
	CHECK(e && isnan(e->v[HIST_CPU][0]));		/* absent stays absent */
	/* A removed cgroup is forgotten (and its slot reused). */
	struct cg_sample gone = smp[1];
	struct cg_snapshot s2 = snap;

	s2.removed = &gone;
	s2.nr_removed = 1;
	s2.nr_samples = 0;
	history_update(h, &s2);
	CHECK(history_get(h, smp[1].id) == NULL);
	CHECK(history_get(h, smp[2].id) != NULL);
	CHECK_INT(tracked(h), 3);
	/* A replay's jump forgets everything, and tracks anew from there. */
	history_clear(h);
	CHECK_INT(tracked(h), 0);
	history_update(h, &snap);
	CHECK_INT(tracked(h), 4);
	e = history_get(h, smp[2].id);
	CHECK(e && e->n == 1 && e->step == 1);
	history_free(h);
}

/* The step doubles each time a series fills: it must go past 2^16 ticks
 * per point (about 2.1M ticks, 6 days at 250 ms) without wrapping to 0,
 * after which every tick would be a point and the graph a blur. */
static void test_history_step_does_not_wrap(void)
{
	struct history *h;
	const struct hist_entry *e = NULL;
	struct cg_snapshot one = snap;
	long t;

	one.samples = &smp[2];
	one.nr_samples = 1;
	one.nr_removed = 0;
	CHECK_INT(history_new(1, &h), 0);
	for (t = 0; t < 3000000; t++) {
		uint64_t step;

		smp[2].rate.cpu_usage_ratio = (t & 1) ? 1.0 : 0.0;
		history_update(h, &one);
		e = history_get(h, smp[2].id);
		if (!e)
			break;
		step = e->step;
		if (step >= 65536)
			break;
	}
	CHECK(e != NULL);
	if (e) {
		/* 64 + 32 * (2 + 4 + ... + 32768) ticks fill it at 2^15; the
		 * next one completes a point and doubles the step. */
		CHECK_U64(e->step, 65536);
		CHECK_INT(t + 1, 64 + 32 * (65536 - 2) + 1);
		CHECK_INT(e->n, HIST_POINTS / 2 + 1);
		/* Averages of alternating 0 and 100 stay 50. */
		CHECK_NEAR(e->v[HIST_CPU][0], 50, 0.1);
		CHECK_NEAR(e->v[HIST_CPU][e->n - 1], 50, 0.1);
	}
	history_free(h);
}

/* ---- the workloads view on captured trees -------------------------------- */

#define PURE "tests/fixtures/v2-pure-6.1"
#define HYBRID "tests/fixtures/v2-hybrid-6.18"
#define STATE_ROOT "tests/fixtures/runtime-state"
#define DOCKER "system.slice/" \
	"docker-3f4e8a9c1b2d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9d0e1f2a3b.scope"
/* The rows by name that every check of the tree below has, around the one
 * plain cgroup that holds a process at the time. */
#define ROWS_A "app ctr, apps/worker cgrp, db-cache ctr, init.scope scope, "
#define ROWS_S "session-3.scope sess, web-7d9f8c6b5-x2x4k pod, web-frontend ctr"

static struct collector *open_tree(const char *root)
{
	struct collector_opts o = { .root = root, .quiet = true, .sys_root = "/nonexistent",
				    .state_root = STATE_ROOT, .proc_root = "/nonexistent" };
	struct collector *c = NULL;

	CHECK_INT(collector_new(&o, &c), 0);
	return c;
}

/* "name kind, name kind, ..." of the rows, in their order. */
static const char *listed(const struct cg_snapshot *s, const struct rows *r)
{
	static char buf[1024];
	char kind[16];

	buf[0] = '\0';
	for (size_t k = 0; k < r->n; k++) {
		const struct cg_sample *x = &s->samples[r->v[k].idx];

		col_format(x, COL_KIND, kind, sizeof(kind));
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s %s", k ? ", " : "",
			 row_name(x, false), kind);
	}
	return buf;
}

/* One more tick of c, and the rows o lists in it (as listed() says). */
static const char *tick_rows(struct collector *c, const struct cg_snapshot **s, struct rows *r,
			     const struct rows_opts *o)
{
	CHECK_INT(collector_tick(c, s), 0);
	CHECK_INT(rows_build(r, *s, o), 0);
	return listed(*s, r);
}

static void put(const char *root, const char *path, const char *file, const char *text)
{
	char p[1024];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s/%s", root, path, file);
	f = fopen(p, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Who is in a cgroup, as the kernel says it: the pids in cgroup.procs and,
 * single-threaded, in cgroup.threads; populated in cgroup.events when they
 * or a descendant's are there. */
static void set_procs(const char *root, const char *path, const char *pids, bool populated)
{
	put(root, path, "cgroup.procs", pids);
	put(root, path, "cgroup.threads", pids);
	put(root, path, "cgroup.events", populated ? "populated 1\nfrozen 0\n" :
		"populated 0\nfrozen 0\n");
}

static void cgroup_dir(const char *root, const char *path, const char *pids, bool populated)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", root, path);
	CHECK(mkdir(p, 0755) == 0);
	set_procs(root, path, pids, populated);
}

/*
 * The 6.1 capture (its root holds 57 processes; system.slice and
 * kubepods.slice hold none, their containers below do), plus what a
 * systemd host has besides: init.scope and a login session holding
 * processes under two slices that hold none, a plain cgroup with a
 * process, one made empty, and a cgroup with a process inside the docker
 * container (nested, as a container's own init makes them).
 */
static void test_workloads_and_others_with_processes(void)
{
	char dir[] = "/tmp/cgw-unit-rows-XXXXXX", cmd[256];
	struct collector *c = NULL;
	const struct cg_snapshot *s;
	struct rows r = { 0 };
	struct rows_opts o = { .view = VIEW_WORKLOADS, .sort = COL_NAME };

	CHECK(mkdtemp(dir) != NULL);
	snprintf(cmd, sizeof(cmd), "cp -a %s/. %s/", PURE, dir);
	CHECK_INT(system(cmd), 0);
	cgroup_dir(dir, "init.scope", "1\n", true);
	cgroup_dir(dir, "user.slice", "", true);
	cgroup_dir(dir, "user.slice/user-1000.slice", "", true);
	cgroup_dir(dir, "user.slice/user-1000.slice/session-3.scope", "812\n815\n", true);
	cgroup_dir(dir, "plain", "4242\n", true);
	cgroup_dir(dir, "quiet", "", false);
	cgroup_dir(dir, "apps", "", true);
	cgroup_dir(dir, "apps/worker", "31\n", true);
	cgroup_dir(dir, DOCKER "/inner", "777\n", true);
	c = open_tree(dir);
	if (!c)
		goto out;
	/* The root is "/" of kind host; the workloads (three containers, one
	 * a pod's) as before; init.scope, the session and the plain cgroups
	 * with their kinds, a plain one by its path. Not the empty slices, nor
	 * the empty cgroups, nor inner: its process is the container's. */
	CHECK_STR(tick_rows(c, &s, &r, &o), "/ host, " ROWS_A "plain cgrp, " ROWS_S);
	CHECK_U64(r.nr_workloads, 4);
	CHECK_U64(r.nr_other, 5);
	/* In the tree, every cgroup, inner included; no counts there. */
	o.view = VIEW_TREE;
	CHECK_INT(rows_build(&r, s, &o), 0);
	CHECK_U64(r.n, s->nr_samples);
	CHECK_U64(r.nr_workloads + r.nr_other, 0);
	o.view = VIEW_WORKLOADS;

	/* Processes come and go: the rows follow at the next tick. */
	set_procs(dir, "quiet", "99\n", true);
	set_procs(dir, "plain", "", false);
	CHECK_STR(tick_rows(c, &s, &r, &o), "/ host, " ROWS_A "quiet cgrp, " ROWS_S);
	/* The filter applies to the others too, and to their counts. */
	o.filter = "scope";
	CHECK_INT(rows_build(&r, s, &o), 0);
	CHECK_STR(listed(s, &r), "app ctr, db-cache ctr, init.scope scope, session-3.scope sess, "
		  "web-frontend ctr");
	CHECK_U64(r.nr_workloads, 3);
	CHECK_U64(r.nr_other, 2);
	o.filter = NULL;

	/* Without cgroup.procs read (top reads cgroup.threads instead, which
	 * its PIDS column reads anyway), the same rows. */
	{
		const struct cg_want threads = { .files = CGF_ALL & ~CGF_BIT(CGF_PROCS) };

		collector_want(c, &threads);
		CHECK_STR(tick_rows(c, &s, &r, &o), "/ host, " ROWS_A "quiet cgrp, " ROWS_S);
		CHECK(!(s->samples[0].have & CG_HAVE_PROCS));
	}
	/* With neither (a recording that lacks both), a populated cgroup with
	 * no populated child stands in: the same rows but the root's (no
	 * cgroup.events there, as in the kernel; and its children are
	 * populated). */
	{
		const struct cg_want neither = {
			.files = CGF_ALL & ~CGF_BIT(CGF_PROCS) & ~CGF_BIT(CGF_THREADS),
		};

		collector_want(c, &neither);
		CHECK_STR(tick_rows(c, &s, &r, &o), ROWS_A "quiet cgrp, " ROWS_S);
	}
	collector_free(c);
out:
	rows_free(&r);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_INT(system(cmd), 0);
}

/* The hybrid host's capture: a plain cgroup with one busy loop, first by
 * CPU; its root was captured without cgroup.procs, so the root is not
 * known to hold any and is not listed. */
static void test_plain_cgroup_on_hybrid_host(void)
{
	struct collector *c = open_tree(HYBRID);
	const struct cg_snapshot *s;
	struct rows r = { 0 };
	struct rows_opts o = { .view = VIEW_WORKLOADS, .sort = COL_CPU };

	if (!c)
		return;
	CHECK_STR(tick_rows(c, &s, &r, &o), "busy cgrp");
	CHECK_U64(r.nr_workloads, 0);
	CHECK_U64(r.nr_other, 1);
	rows_free(&r);
	collector_free(c);
}

int main(void)
{
	setup();
	RUN(test_workloads_sorted_by_cpu_absent_last);
	RUN(test_filter_by_name_or_path);
	RUN(test_tree_order_depth_and_collapse);
	RUN(test_cells_and_levels);
	RUN(test_workloads_and_others_with_processes);
	RUN(test_plain_cgroup_on_hybrid_host);
	RUN(test_history_bounded_and_compacted);
	RUN(test_history_step_does_not_wrap);
	TEST_EXIT();
}
