/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The policy engine. Pure: every input is an argument (snapshot, now, state),
 * every output is a decision or a change to the state, so a test can replay
 * any sequence of snapshots and times (tests/unit/test_policy.c).
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "idmap.h"
#include "metrics.h"
#include "policy.h"

/* ---- metrics ------------------------------------------------------------ */

/* A rule names a metric by its JSON id (METRICS.md); the table says which
 * rows rules may name and how to read them. */
int policy_metric_resolve(const char *name, struct pol_metric *m)
{
	const struct metric_def *d;
	int i = metric_find(name);

	if (i < 0 || !metric_policy_name(&metric_defs[i]))
		return -EINVAL;
	d = &metric_defs[i];
	*m = (struct pol_metric){
		.row = (uint16_t)i,
		.bytes = d->unit == MU_BYTES || d->unit == MU_BYTES_PER_SEC,
		.psi_res = d->psi_res,
		.psi_full = d->psi_full,
	};
	return 0;
}

int policy_metric_get(const struct cg_sample *s, const struct pol_metric *m, double *out)
{
	struct metric_val v;

	if (m->row >= M__COUNT || !metric_get(s, (enum metric_id)m->row, &v))
		return -ENOENT;
	*out = metric_double(&metric_defs[m->row], &v);
	return 0;
}

/* What the engine reads itself for a rule, beyond its conditions: the
 * limit a step changes (saved for the restore), memory.min (the floor of a
 * memory step), cgroup.events (a freeze step knows a frozen cgroup), and
 * for a PSI CPU condition the stall and throttled totals and the cpu.max
 * period that tell self-inflicted stall apart (note_cpu). */
static void rule_engine_metrics(const struct pol_rule *r, struct metric_set *set)
{
	for (size_t k = 0; k < r->nr_steps; k++) {
		switch (r->steps[k].action) {
		case POL_MEMORY_HIGH:
			metric_set_add(set, M_MEM_HIGH);
			metric_set_add(set, M_MEM_MIN);
			/* The controller: usage, the stall it measures, the
			 * events that lift the limit at once. */
			if (r->steps[k].adaptive) {
				metric_set_add(set, M_MEM_CURRENT);
				metric_set_add(set, M_PSI_MEMORY_SOME_TOTAL);
				metric_set_add(set, M_MEMEVENT_HIGH);
				metric_set_add(set, M_MEMEVENT_OOM);
				metric_set_add(set, M_MEMEVENT_OOM_KILL);
			}
			break;
		case POL_MEMORY_MAX:
			metric_set_add(set, M_MEM_MAX);
			metric_set_add(set, M_MEM_MIN);
			break;
		case POL_CPU_MAX:
			metric_set_add(set, M_CPU_MAX_QUOTA);
			metric_set_add(set, M_CPU_MAX_PERIOD);
			break;
		case POL_CPU_WEIGHT:
			metric_set_add(set, M_CPU_WEIGHT);
			break;
		case POL_FREEZE:
		case POL_THAW:
			metric_set_add(set, M_FROZEN);
			break;
		default:
			break;
		}
	}
	for (size_t k = 0; k < r->nr_conds; k++) {
		const struct metric_def *m = &metric_defs[r->conds[k].metric.row];

		if (m->psi_res == CG_PSI_CPU) {
			metric_set_add(set, M_PSI_CPU_SOME_TOTAL);
			metric_set_add(set, M_PSI_CPU_FULL_TOTAL);
			metric_set_add(set, M_CPU_THROTTLED_USEC);
			metric_set_add(set, M_CPU_MAX_PERIOD);
		}
	}
}

void policy_metric_set(const struct policy *p, struct metric_set *set)
{
	for (size_t i = 0; p && i < p->nr_rules; i++) {
		for (size_t k = 0; k < p->rules[i].nr_conds; k++)
			metric_set_add(set, (enum metric_id)p->rules[i].conds[k].metric.row);
		rule_engine_metrics(&p->rules[i], set);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- rules -------------------------------------------------------------- */

static const char *const action_names[POL__ACTION_COUNT] = {
	[POL_MEMORY_HIGH] = "memory.high", [POL_MEMORY_MAX] = "memory.max",
	[POL_CPU_MAX] = "cpu.max", [POL_CPU_WEIGHT] = "cpu.weight", [POL_FREEZE] = "freeze",
	[POL_KILL] = "kill", [POL_HOOK] = "hook", [POL_LOG] = "log", [POL_THAW] = "thaw",
};

const char *policy_action_name(enum pol_action a)
{
	return (unsigned)a < POL__ACTION_COUNT ? action_names[a] : "?";
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nr_rules; i++) {
		struct pol_rule *r = &p->rules[i];

		free(r->name);
		for (int g = 0; g < POL_M__GLOBS; g++)
			free(r->glob[g]);
		for (size_t k = 0; k < r->nr_steps; k++) {
			free(r->steps[k].hook_path);
			free(r->steps[k].message);
		}
	}
	free(p->rules);
	for (size_t i = 0; i < p->nr_protected; i++)
		free(p->protected[i]);
	free(p->protected);
	free(p->file);
	free(p);
}

static bool glob_ok(const char *pattern, const char *s)
{
	return !pattern || (s && fnmatch(pattern, s, 0) == 0);
}

bool policy_rule_matches(const struct pol_rule *r, const struct cg_sample *s)
{
	const struct cg_identity *id = &s->ident;

	if (!s->path || !s->path[0])
		return false;
	return glob_ok(r->glob[POL_M_PATH], s->path) && glob_ok(r->glob[POL_M_NAME], id->name) &&
	       glob_ok(r->glob[POL_M_NAMESPACE], id->k8s_namespace) &&
	       glob_ok(r->glob[POL_M_POD], id->k8s_pod) &&
	       (r->kind < 0 || (int)id->kind == r->kind) &&
	       (r->runtime < 0 || (int)id->runtime == r->runtime);
}

size_t policy_rule_triggers(const struct pol_rule *r, struct pol_trigger *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nr_conds && n < max; i++) {
		const struct pol_cond *c = &r->conds[i];

		if (!c->window_usec || c->metric.psi_res < 0)
			continue;
		out[n].res = (enum cg_psi_resource)c->metric.psi_res;
		out[n].full = c->metric.psi_full;
		out[n].window_usec = c->window_usec;
		out[n].stall_usec = (uint64_t)(c->value / 100.0 * (double)c->window_usec);
		if (out[n].stall_usec < 1)
			out[n].stall_usec = 1;
		if (out[n].stall_usec >= c->window_usec)
			out[n].stall_usec = c->window_usec - 1;
		n++;
	}
	return n;
}

void policy_format_usec(uint64_t usec, char *out, size_t outlen)
{
	if (usec % 1000000 == 0)
		snprintf(out, outlen, "%" PRIu64 "s", usec / 1000000);
	else if (usec % 1000 == 0 && usec < 1000000)
		snprintf(out, outlen, "%" PRIu64 "ms", usec / 1000);
	else
		snprintf(out, outlen, "%.3fs", (double)usec / 1e6);
}

void policy_guard_names(uint32_t guards, char *out, size_t outlen)
{
	static const char *const names[] = { "dry_run", "protected", "floor", "cooldown",
					     "budget", "not_leaf", "shared" };
	size_t o = 0;

	if (outlen)
		out[0] = '\0';
	for (size_t i = 0; i < N(names); i++) {
		if (!(guards & (1u << i)))
			continue;
		int n = snprintf(out + o, outlen - o, "%s%s", o ? "," : "", names[i]);

		if (n < 0 || (size_t)n >= outlen - o)
			break;
		o += (size_t)n;
	}
}

/* ---- state -------------------------------------------------------------- */

void policy_state_init(struct policy_state *st)
{
	memset(st, 0, sizeof(*st));
}

void policy_state_free(struct policy_state *st)
{
	for (size_t i = 0; i < st->nr_targets; i++)
		free(st->targets[i].path);
	free(st->targets);
	free(st->fires);
	memset(st, 0, sizeof(*st));
}

static const struct pol_rule *find_rule(const struct policy *p, const char *name)
{
	for (size_t i = 0; p && i < p->nr_rules; i++)
		if (strcmp(p->rules[i].name, name) == 0)
			return &p->rules[i];
	return NULL;
}

void policy_state_rebind(struct policy_state *st, const struct policy *p)
{
	for (size_t i = 0; i < st->nr_targets; i++) {
		struct pol_target *t = &st->targets[i];
		const struct pol_rule *r = find_rule(p, t->rule);

		if (!r || r->fingerprint != t->fingerprint)
			t->orphan = true;
	}
}

/* The live ladder of rule on cgroup id. An orphan (a restore still owed by
 * an old rule, waiting for its retry) is not one: the rule starts afresh. */
static struct pol_target *find_target(struct policy_state *st, const char *rule, uint64_t id)
{
	for (size_t i = 0; i < st->nr_targets; i++)
		if (st->targets[i].cgroup_id == id && !st->targets[i].orphan &&
		    strcmp(st->targets[i].rule, rule) == 0)
			return &st->targets[i];
	return NULL;
}

struct pol_target *policy_state_add(struct policy_state *st, const char *rule,
				    uint64_t cgroup_id, const char *path)
{
	struct pol_target *t;

	if (strlen(rule) >= POL_NAME_MAX)
		return NULL;
	if (st->nr_targets == st->cap_targets) {
		size_t cap = st->cap_targets ? st->cap_targets * 2 : 16;
		struct pol_target *n = realloc(st->targets, cap * sizeof(*n));

		if (!n)
			return NULL;
		st->targets = n;
		st->cap_targets = cap;
	}
	t = &st->targets[st->nr_targets];
	memset(t, 0, sizeof(*t));
	t->path = strdup(path ? path : "");
	if (!t->path)
		return NULL;
	snprintf(t->rule, sizeof(t->rule), "%s", rule);
	t->cgroup_id = cgroup_id;
	st->nr_targets++;
	return t;
}

static void drop_target(struct policy_state *st, size_t i)
{
	free(st->targets[i].path);
	st->targets[i] = st->targets[--st->nr_targets];
}

int policy_note_trigger(struct policy_state *st, uint64_t cgroup_id, enum cg_psi_resource res,
			bool full, uint64_t now_usec)
{
	for (size_t i = 0; i < st->nr_fires; i++) {
		struct pol_trigger_fire *f = &st->fires[i];

		if (f->cgroup_id == cgroup_id && f->res == res && f->full == full) {
			f->time_usec = now_usec;
			return 0;
		}
	}
	if (st->nr_fires == st->cap_fires) {
		size_t cap = st->cap_fires ? st->cap_fires * 2 : 8;
		struct pol_trigger_fire *n = realloc(st->fires, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		st->fires = n;
		st->cap_fires = cap;
	}
	st->fires[st->nr_fires++] = (struct pol_trigger_fire){ cgroup_id, (uint8_t)res, full,
								now_usec };
	return 0;
}

static bool fired_within(const struct policy_state *st, uint64_t id, int res, bool full,
			 uint64_t window, uint64_t now)
{
	for (size_t i = 0; i < st->nr_fires; i++) {
		const struct pol_trigger_fire *f = &st->fires[i];

		if (f->cgroup_id == id && f->res == res && f->full == full)
			return f->time_usec <= now && now - f->time_usec <= window;
	}
	return false;
}

/* ---- decisions ---------------------------------------------------------- */

static void decisions_reset(struct pol_decisions *ds);

void policy_decisions_free(struct pol_decisions *ds)
{
	decisions_reset(ds);
	free(ds->d);
	memset(ds, 0, sizeof(*ds));
}

static void decisions_reset(struct pol_decisions *ds)
{
	for (size_t i = 0; i < ds->nr; i++)
		free(ds->d[i].path);
	ds->nr = 0;
}

static struct pol_decision *new_decision(struct pol_decisions *ds, const char *path)
{
	if (ds->nr == ds->cap) {
		size_t cap = ds->cap ? ds->cap * 2 : 16;
		struct pol_decision *n = realloc(ds->d, cap * sizeof(*n));

		if (!n)
			return NULL;
		ds->d = n;
		ds->cap = cap;
	}
	memset(&ds->d[ds->nr], 0, sizeof(ds->d[0]));
	ds->d[ds->nr].path = strdup(path ? path : "");
	if (!ds->d[ds->nr].path)
		return NULL;
	return &ds->d[ds->nr++];
}

static bool cmp(double v, enum pol_op op, double t)
{
	switch (op) {
	case POL_GT: return v > t;
	case POL_GE: return v >= t;
	case POL_LT: return v < t;
	case POL_LE: return v <= t;
	}
	return false;
}

static bool is_protected(const struct policy *p, const struct policy_env *env, const char *path)
{
	size_t first = strcspn(path, "/");

	if (!path[0])
		return true;
	if (first == strlen("init.scope") && strncmp(path, "init.scope", first) == 0)
		return true;
	if (env && env->self_path && env->self_path[0] && strcmp(env->self_path, path) == 0)
		return true;
	for (size_t i = 0; i < p->nr_protected; i++)
		if (fnmatch(p->protected[i], path, 0) == 0)
			return true;
	return false;
}

/* Does acting on path with a freeze, kill or limit reach a protected
 * cgroup below it? A frozen, killed or limited parent freezes, kills or
 * limits its whole subtree: a protected cgroup's ancestors are protected
 * from those too. Checked against the cgroups of the snapshot, our own
 * cgroup, and the literal part of each protected glob (which covers
 * cgroups not there yet). */
static bool covers_protected(const struct policy *p, const struct policy_env *env,
			     const struct cg_snapshot *s, const char *path)
{
	size_t len = strlen(path);

	if (!len)
		return true;
	if (env && env->self_path && strncmp(env->self_path, path, len) == 0 &&
	    env->self_path[len] == '/')
		return true;
	for (size_t i = 0; i < p->nr_protected; i++)
		if (strncmp(p->protected[i], path, len) == 0 && p->protected[i][len] == '/')
			return true;
	for (size_t i = 0; s && i < s->nr_samples; i++) {
		const char *q = s->samples[i].path;

		if (q && strncmp(q, path, len) == 0 && q[len] == '/' && is_protected(p, env, q))
			return true;
	}
	return false;
}

static bool reaches_subtree(enum pol_action a)
{
	return a == POL_FREEZE || a == POL_KILL || a == POL_MEMORY_HIGH || a == POL_MEMORY_MAX ||
	       a == POL_CPU_MAX;
}

/* Actions counted by the budget: those that change something. */
static bool counted(enum pol_action a)
{
	return a != POL_LOG;
}

static uint32_t budget_used(struct policy_state *st, uint64_t now)
{
	while (st->budget_len) {
		uint64_t t = st->budget_times[st->budget_head];

		if (t <= now && now - t < 60000000u)
			break;
		st->budget_head = (st->budget_head + 1) % POL_BUDGET_MAX;
		st->budget_len--;
	}
	return st->budget_len;
}

static void budget_take(struct policy_state *st, uint64_t now)
{
	if (st->budget_len == POL_BUDGET_MAX) {
		st->budget_head = (st->budget_head + 1) % POL_BUDGET_MAX;
		st->budget_len--;
	}
	st->budget_times[(st->budget_head + st->budget_len) % POL_BUDGET_MAX] = now;
	st->budget_len++;
}

/*
 * Self-inflicted CPU pressure. Tasks that cpu.max throttles are runnable
 * and wait, and the kernel counts that wait as CPU pressure of their
 * cgroup: a ladder that throttles on PSI would see its own step as a
 * reason for the next one (a freeze, a kill). So once a real cpu.max step
 * of the rule is in force, a PSI CPU condition counts toward escalation
 * only with the stall the throttling does not explain: over the last
 * interval (2 s at least), stall time minus throttled time (cpu.stat
 * throttled_usec) and one cpu.max period, as a share of the interval, must
 * pass the threshold too. Otherwise the
 * condition holds the ladder where it is: no step, no restore (lifting
 * cpu.max would bring the pressure back). throttled_usec sums the time
 * over CPUs, the stall is a wall-clock share: a cgroup throttled on several
 * CPUs at once is given the benefit of the doubt.
 */
#define CPU_SELF_MIN_USEC 2000000

static void note_cpu(struct pol_target *t, const struct cg_sample *x, uint64_t snap_usec)
{
	const struct cg_psi *p = &x->psi[CG_PSI_CPU];
	uint64_t stall[2] = { p->some.total_usec, p->full.total_usec };
	uint64_t thr = x->cpu[CG_CPU_THROTTLED_USEC];

	if (!snap_usec || !(x->have & CG_HAVE_PSI_CPU) || !p->have_some ||
	    !(x->cpu_have & (1u << CG_CPU_THROTTLED_USEC))) {
		t->cpu_snap_usec = 0;
		t->cpu_known = false;
		return;
	}
	/* The kernel adds a throttled stretch to throttled_usec when it ends,
	 * while the stall counts as it goes: one cpu.max period may be on one
	 * side only. So the interval is CPU_SELF_MIN_USEC at least (a
	 * trigger's evaluation, on the same snapshot, keeps the last verdict),
	 * and one period of stall is not held against the cgroup. */
	if (t->cpu_snap_usec && snap_usec >= t->cpu_snap_usec &&
	    snap_usec - t->cpu_snap_usec < CPU_SELF_MIN_USEC)
		return;
	t->cpu_known = t->cpu_snap_usec && snap_usec > t->cpu_snap_usec &&
		       thr >= t->cpu_throttled_usec && stall[0] >= t->cpu_stall_usec[0];
	if (t->cpu_known) {
		double dt = (double)(snap_usec - t->cpu_snap_usec);
		uint64_t dthr = thr - t->cpu_throttled_usec;
		uint64_t slack = (x->have & CG_HAVE_CPU_MAX) ? x->cpu_max_period_usec : 100000;

		for (int l = 0; l < 2; l++) {
			uint64_t d = stall[l] >= t->cpu_stall_usec[l] ? stall[l] - t->cpu_stall_usec[l] : 0;

			t->cpu_unexplained[l] = d > dthr + slack ? (double)(d - dthr - slack) * 100.0 / dt : 0;
		}
		/* cpu "full" is absent before 5.13: as it is, then. */
		if (!p->have_full)
			t->cpu_unexplained[1] = INFINITY;
	}
	t->cpu_snap_usec = snap_usec;
	t->cpu_stall_usec[0] = stall[0];
	t->cpu_stall_usec[1] = stall[1];
	t->cpu_throttled_usec = thr;
}

/* Has the ladder of r on t a real (not dry-run) cpu.max step in force? */
static bool throttling(const struct pol_rule *r, const struct pol_target *t)
{
	for (uint32_t k = 0; k < t->step && k < r->nr_steps && k < POL_MAX_STEPS; k++)
		if (r->steps[k].action == POL_CPU_MAX && !t->saved[k].dry_run)
			return true;
	return false;
}

/* Is condition c's pressure, met, only what t's own throttling explains? */
static bool self_inflicted(const struct pol_rule *r, const struct pol_cond *c,
			   const struct pol_target *t)
{
	if (!t || !t->cpu_known || c->metric.psi_res != CG_PSI_CPU ||
	    (c->op != POL_GT && c->op != POL_GE) || !throttling(r, t))
		return false;
	return !cmp(t->cpu_unexplained[c->metric.psi_full], c->op, c->value);
}

/* The conditions of r on sample x with target state t (NULL: none yet).
 * Fills vals; returns whether the rule fires, and in *any_raw whether any
 * condition is met at all (so a target entry is worth keeping). */
static bool eval_conds(const struct pol_rule *r, const struct cg_sample *x,
		       const struct policy_state *st, struct pol_target *t, uint64_t now,
		       struct pol_value *vals, bool *any_raw, bool *hold, bool commit)
{
	bool all = true, any = false, all_kept = true, any_kept = false;

	*any_raw = false;
	for (size_t i = 0; i < r->nr_conds; i++) {
		const struct pol_cond *c = &r->conds[i];
		struct pol_value *pv = &vals[i];
		double v = NAN;
		bool have = policy_metric_get(x, &c->metric, &v) == 0;
		bool on = t ? t->cond_on[i] : false, trig = false, held;
		uint64_t since = t ? t->cond_since_usec[i] : 0;

		if (c->window_usec && c->metric.psi_res >= 0)
			trig = fired_within(st, x->id, c->metric.psi_res, c->metric.psi_full,
					    c->window_usec, now);
		if (!on) {
			if (trig || (have && cmp(v, c->op, c->value))) {
				on = true;
				since = now;
			}
		} else if (!trig && !(have && cmp(v, c->op, c->clear))) {
			on = false;
		}
		held = on && now - since >= c->for_usec;
		pv->throttled = held && self_inflicted(r, c, t);
		all_kept &= held;
		any_kept |= held;
		held &= !pv->throttled;
		if (t && commit) {
			t->cond_on[i] = on;
			t->cond_since_usec[i] = on ? since : 0;
		}
		*any_raw |= on;
		snprintf(pv->metric, sizeof(pv->metric), "%s", c->metric_name);
		pv->op = c->op;
		pv->value = have ? v : NAN;
		pv->threshold = c->value;
		pv->met = held;
		pv->by_trigger = trig;
		all &= held;
		any |= held;
	}
	/* Met, were it not for pressure of its own throttling: hold. */
	*hold = r->nr_conds && (r->any ? any_kept : all_kept);
	return r->nr_conds && (r->any ? any : all);
}

static void fill_values(struct pol_decision *d, const struct pol_rule *r,
			const struct pol_value *vals)
{
	d->nr_values = r->nr_conds;
	memcpy(d->values, vals, r->nr_conds * sizeof(vals[0]));
}

/* Restore decisions for every saved step of t, newest first. */
static int restore_all(struct pol_target *t, const char *path, uint64_t now, bool freezes_only,
		       struct pol_decisions *ds)
{
	for (int k = POL_MAX_STEPS - 1; k >= 0; k--) {
		struct pol_saved *sv = &t->saved[k];
		struct pol_decision *d;

		/* Letting go (the daemon stops) gives back freezes, and the
		 * adaptive limit: nobody is left to lift it when the cgroup
		 * needs its memory. */
		bool adaptive = t->adapt_on && sv->action == POL_MEMORY_HIGH && k == t->adapt_step;

		if (!sv->valid || (freezes_only && sv->action != POL_FREEZE && !adaptive))
			continue;
		/* Only what a step changed has a restore: a kill, hook or log
		 * (never saved by a step, but a state file may say so) none. */
		if (sv->action != POL_MEMORY_HIGH && sv->action != POL_MEMORY_MAX &&
		    sv->action != POL_CPU_MAX && sv->action != POL_CPU_WEIGHT &&
		    sv->action != POL_FREEZE) {
			sv->valid = false;
			continue;
		}
		d = new_decision(ds, path);
		if (!d)
			return -ENOMEM;
		snprintf(d->rule, sizeof(d->rule), "%s", t->rule);
		d->cgroup_id = t->cgroup_id;
		d->step = k;
		d->restore = true;
		d->action = sv->action == POL_FREEZE ? POL_THAW : (enum pol_action)sv->action;
		d->value = sv->value;
		d->period = sv->period;
		/* As the step was taken: a real freeze is thawed for real even
		 * if the policy went to dry run since, and the other way round. */
		d->dry_run = sv->dry_run;
		d->guards = sv->dry_run ? POL_G_DRY_RUN : 0;
		d->time_usec = now;
		if (sv->action == POL_FREEZE)
			d->tries = t->thaw_tries;
		sv->valid = false;
		if (sv->action == POL_FREEZE && !sv->dry_run)
			t->frozen = false;
		/* The restore of the adaptive step ends control; its record
		 * is the one for the end. */
		if (t->adapt_on && sv->action == POL_MEMORY_HIGH && k == t->adapt_step) {
			t->adapt_on = false;
			/* Given back at exit with the ladder otherwise kept (the
			 * state file): the next start takes the step again and
			 * control resumes, rather than the ladder thinking it
			 * is in force. */
			if (t->step == (uint32_t)k + 1)
				t->step = (uint32_t)k;
			d->adapt = POL_ADAPT_END;
			d->adapt_pressure_pct = t->adapt_pressure_pct;
		}
	}
	return 0;
}

static unsigned path_depth(const char *path)
{
	unsigned d = path && path[0] ? 1 : 0;

	for (; path && *path; path++)
		d += *path == '/';
	return d;
}

/* Decisions [from, nr) ancestors first (stable: one target's restores keep
 * their newest-first order). A cgroup under a frozen ancestor cannot be
 * thawed (the actuator refuses), so a parent is thawed before its child. */
static void ancestors_first(struct pol_decisions *ds, size_t from)
{
	for (size_t i = from + 1; i < ds->nr; i++) {
		struct pol_decision d = ds->d[i];
		unsigned depth = path_depth(d.path);
		size_t j = i;

		for (; j > from && path_depth(ds->d[j - 1].path) > depth; j--)
			ds->d[j] = ds->d[j - 1];
		ds->d[j] = d;
	}
}

/* ---- adaptive memory.high ---------------------------------------------- */

#define PAGE_BYTES 4096u

/* The kernel counts limits in whole pages. */
static uint64_t page_up(uint64_t v)
{
	return v + (PAGE_BYTES - v % PAGE_BYTES) % PAGE_BYTES;
}

uint64_t policy_adapt_next(const struct pol_adaptive *a, uint64_t high, uint64_t current,
			   double pressure_pct, bool event, uint64_t floor, uint64_t ceiling)
{
	double target = a->pressure_pct, frac;
	uint64_t base = high < current ? high : current, next = high;

	if (ceiling < floor)
		floor = ceiling;
	if (event || pressure_pct >= POL_ADAPT_FAR_ABOVE * target)
		return ceiling;
	if (pressure_pct < target) {
		/* Down from what it uses (or the limit, if that is lower), the
		 * more the further below the target. */
		frac = a->step * (1.0 - pressure_pct / target);
		next = base - (uint64_t)((double)base * frac);
		next -= next % PAGE_BYTES;
	} else if (pressure_pct > target && high != CG_UNLIMITED) {
		/* Back up faster than it came down, in proportion to how far
		 * above, reaching POL_ADAPT_GIVE_BACK steps at the far mark. */
		frac = POL_ADAPT_GIVE_BACK * a->step *
		       (pressure_pct / target - 1.0) / (POL_ADAPT_FAR_ABOVE - 1);
		next = high + (uint64_t)((double)current * frac);
		if (next < high)	/* overflow */
			next = CG_UNLIMITED;
		next = page_up(next);
	}
	if (next < floor)
		next = floor;
	if (next > ceiling)
		next = ceiling;
	return next;
}

/* memory.events' count of one key on x, 0 when not read. */
static uint64_t adapt_event(const struct cg_sample *x, enum cg_memevent_key k)
{
	if (!(x->have & CG_HAVE_MEM_EVENTS) || !(x->memevents_have & (1u << k)))
		return 0;
	return x->memevents[k];
}

/* oom and oom_kill: the cgroup ran out; the limit goes at once. */
static uint64_t adapt_ooms(const struct cg_sample *x)
{
	return adapt_event(x, CG_ME_OOM) + adapt_event(x, CG_ME_OOM_KILL);
}

/* Whether the controller can measure x: usage and the memory stall total. */
static bool adapt_measurable(const struct cg_sample *x)
{
	return (x->have & CG_HAVE_MEM_CURRENT) && (x->have & CG_HAVE_PSI_MEMORY) &&
	       x->psi[CG_PSI_MEMORY].have_some;
}

/* The floor of a memory step on x: the policy's and the rule's, and x's
 * memory.min (max protects all of it: the floor is max too). */
static uint64_t memory_floor(const struct policy *p, const struct pol_rule *r,
			     const struct cg_sample *x)
{
	uint64_t fl = p->floor_bytes > r->floor_bytes ? p->floor_bytes : r->floor_bytes;

	if ((x->have & CG_HAVE_MEM_MIN) && x->mem_min > fl)
		fl = x->mem_min;
	return fl;
}

/* The lowest memory.high the controller may set on x: the floor, and min. */
static uint64_t adapt_floor(const struct policy *p, const struct pol_rule *r,
			    const struct cg_sample *x)
{
	uint64_t fl = memory_floor(p, r, x);

	return r->adaptive.min_bytes > fl ? r->adaptive.min_bytes : fl;
}

/* Readings at the start of an interval. */
static void adapt_mark(struct pol_target *t, const struct cg_sample *x, uint64_t snap_usec,
		       uint64_t now)
{
	t->adapt_last_usec = now;
	t->adapt_snap_usec = snap_usec;
	t->adapt_stall_usec = x->psi[CG_PSI_MEMORY].some.total_usec;
	t->adapt_events = adapt_ooms(x);
	t->adapt_highs = adapt_event(x, CG_ME_HIGH);
}

static struct pol_decision *adapt_decision(struct pol_decisions *ds, const struct pol_rule *r,
					   const struct cg_sample *x, const struct pol_target *t,
					   enum pol_adapt_kind kind, uint64_t now)
{
	struct pol_decision *d = new_decision(ds, x->path);

	if (!d)
		return NULL;
	snprintf(d->rule, sizeof(d->rule), "%s", r->name);
	d->cgroup_id = x->id;
	d->step = t->adapt_step;
	d->action = POL_MEMORY_HIGH;
	d->adapt = kind;
	d->value = t->adapt_high;
	d->dry_run = t->saved[t->adapt_step].dry_run;
	d->guards = d->dry_run ? POL_G_DRY_RUN : 0;
	d->time_usec = now;
	d->adapt_pressure_pct = t->adapt_pressure_pct;
	d->adapt_current = x->mem_current;
	d->adapt_held_back = t->adapt_peak > x->mem_current ? t->adapt_peak - x->mem_current : 0;
	return d;
}

/*
 * The hold after a lift (POL_ADAPT_HOLD_*), one interval of it: whether
 * the limit may not come down in this one. far: the stall was far above
 * the target or an event came; lifting: and the limit was below the
 * ceiling, so this interval lifts it.
 */
static bool adapt_holds(struct pol_target *t, bool far, bool lifting, double target)
{
	if (lifting)
		t->adapt_backoff = !t->adapt_backoff ? POL_ADAPT_HOLD_FIRST :
				   t->adapt_backoff >= POL_ADAPT_HOLD_MAX / 2 ? POL_ADAPT_HOLD_MAX :
				   (uint16_t)(2 * t->adapt_backoff);
	if (far) {	/* the hold counts from the last interval far above */
		t->adapt_hold = t->adapt_backoff;
		return true;
	}
	if (t->adapt_hold) {
		t->adapt_hold--;
		return true;
	}
	if (t->adapt_cut && t->adapt_pressure_pct < target)
		t->adapt_backoff /= 2;	/* the last cut cost nothing */
	return false;
}

/*
 * One tick of adaptive control on t (its step in force): at each interval,
 * the stall share since the last one and the next limit; an ADJUST decision
 * when it moves, a SUMMARY at most once a minute. Nothing when x cannot be
 * measured this tick (a file missing): the interval waits for one that can.
 */
static int adapt_tick(const struct policy *p, const struct pol_rule *r,
		      const struct cg_sample *x, struct pol_target *t, uint64_t snap_usec,
		      uint64_t now, struct pol_decisions *ds)
{
	const struct pol_saved *sv = &t->saved[t->adapt_step];
	uint64_t ceiling = sv->valid ? sv->value : CG_UNLIMITED, next;
	double stall, pct, target = r->adaptive.pressure_pct;
	uint64_t span;
	bool lift, far;

	if (!adapt_measurable(x))
		return 0;
	if (!t->adapt_snap_usec) {	/* the first reading starts the first interval */
		adapt_mark(t, x, snap_usec, now);
		return 0;
	}
	if (x->mem_current > t->adapt_peak)
		t->adapt_peak = x->mem_current;
	t->adapt_held = t->adapt_peak - x->mem_current;
	span = snap_usec > t->adapt_snap_usec ? snap_usec - t->adapt_snap_usec : 0;
	if (!span)
		return 0;
	stall = (double)(x->psi[CG_PSI_MEMORY].some.total_usec - t->adapt_stall_usec);
	if (x->psi[CG_PSI_MEMORY].some.total_usec < t->adapt_stall_usec)
		stall = 0;	/* a new cgroup with the same id cannot be: be safe */
	pct = 100.0 * stall / (double)span;
	if (pct > 100.0)
		pct = 100.0;
	/* An OOM lifts the limit at once. A memory.high event is what the
	 * squeeze does on every allocation over the limit: it lifts only when
	 * the stall it brings is above the target, i.e. the throttling hurts. */
	lift = adapt_ooms(x) > t->adapt_events ||
	       (adapt_event(x, CG_ME_HIGH) > t->adapt_highs && pct > target);
	far = lift || pct >= POL_ADAPT_FAR_ABOVE * target;
	/* At the interval's end, or sooner for a lift: a limit that makes the
	 * workload thrash is not left to do so for the rest of the interval.
	 * The tick that sees it lifts, once a quarter of the interval has
	 * passed (a few ms are too few to measure a share of time on). */
	if (now - t->adapt_last_usec < r->adaptive.interval_usec &&
	    !(far && t->adapt_high != ceiling && span >= r->adaptive.interval_usec / 4))
		return 0;
	t->adapt_pressure_pct = pct;
	next = policy_adapt_next(&r->adaptive, t->adapt_high, x->mem_current,
				 t->adapt_pressure_pct, lift, adapt_floor(p, r, x), ceiling);
	if (adapt_holds(t, far, far && t->adapt_high != ceiling, target) && next < t->adapt_high)
		next = t->adapt_high;
	t->adapt_cut = next < t->adapt_high;
	adapt_mark(t, x, snap_usec, now);
	if (next != t->adapt_high) {
		t->adapt_high = next;
		if (!adapt_decision(ds, r, x, t, POL_ADAPT_ADJUST, now))
			return -ENOMEM;
	}
	if (now - t->adapt_summary_usec >= POL_ADAPT_SUMMARY_USEC) {
		t->adapt_summary_usec = now;
		if (!adapt_decision(ds, r, x, t, POL_ADAPT_SUMMARY, now))
			return -ENOMEM;
	}
	return 0;
}

/* Step k of r on x: guards, then the decision (and the state, unless blocked). */
static int take_step(const struct policy *p, const struct policy_env *env,
		     const struct cg_snapshot *snap,
		     const struct pol_rule *r, const struct cg_sample *x, bool leaf,
		     struct pol_target *t, uint64_t now, const struct pol_value *vals,
		     struct policy_state *st, struct pol_decisions *ds)
{
	const struct pol_step *sp = &r->steps[t->step];
	struct pol_decision *d;
	uint32_t g = 0;
	uint64_t value = sp->value;
	uint32_t blocking;

	if (p->dry_run || r->dry_run)
		g |= POL_G_DRY_RUN;
	if (is_protected(p, env, x->path) ||
	    (reaches_subtree(sp->action) && covers_protected(p, env, snap, x->path)))
		g |= POL_G_PROTECTED;
	if (t->step == 0 && t->last_action_usec && r->cooldown_usec &&
	    now - t->last_action_usec < r->cooldown_usec)
		g |= POL_G_COOLDOWN;
	/* Adaptive control starts from what the cgroup uses (or its limit, if
	 * lower): no reclaim yet, the first interval decides. Without a way
	 * to measure it (no memory.pressure) it cannot start. */
	if (sp->adaptive) {
		if (!adapt_measurable(x))
			return 0;
		value = x->mem_current;
		if ((x->have & CG_HAVE_MEM_HIGH) && x->mem_high < value)
			value = x->mem_high;
		value = page_up(value);
		if (value < r->adaptive.min_bytes)
			value = r->adaptive.min_bytes;
	}
	if (sp->action == POL_MEMORY_HIGH || sp->action == POL_MEMORY_MAX) {
		uint64_t fl = memory_floor(p, r, x);

		if (value < fl) {
			value = fl;
			g |= POL_G_FLOOR;
		}
	}
	if (sp->action == POL_KILL && !leaf)
		g |= POL_G_NOT_LEAF;
	/* One controller per cgroup: two would fight over the one limit. */
	for (size_t i = 0; sp->adaptive && i < st->nr_targets; i++)
		if (&st->targets[i] != t && st->targets[i].cgroup_id == x->id &&
		    st->targets[i].adapt_on)
			g |= POL_G_SHARED;
	blocking = g & POL_G_BLOCKING;
	/* Raised to a floor of max the step would only lift a limit: blocked. */
	if ((g & POL_G_FLOOR) && value == CG_UNLIMITED)
		blocking |= POL_G_FLOOR;
	if (!blocking && counted(sp->action) && p->budget_per_minute &&
	    budget_used(st, now) >= p->budget_per_minute) {
		g |= POL_G_BUDGET;
		blocking |= POL_G_BUDGET;
	}

	if (blocking) {
		/* Logged when the reason changes, not on every tick. */
		if (t->blocked == blocking)
			return 0;
		t->blocked = blocking;
	} else {
		t->blocked = 0;
	}
	d = new_decision(ds, x->path);
	if (!d)
		return -ENOMEM;
	snprintf(d->rule, sizeof(d->rule), "%s", r->name);
	d->cgroup_id = x->id;
	d->step = (int)t->step;
	d->action = sp->action;
	d->value = value;
	d->period = sp->period;
	d->hook_path = sp->hook_path;
	d->hook_timeout_usec = sp->hook_timeout_usec;
	d->message = sp->message;
	d->guards = g;
	d->blocked = blocking != 0;
	d->dry_run = g & POL_G_DRY_RUN;
	d->time_usec = now;
	fill_values(d, r, vals);
	if (sp->adaptive) {
		d->adapt = POL_ADAPT_START;
		d->adapt_pressure_pct = -1;
		d->adapt_current = x->mem_current;
	}
	if (d->blocked) {
		snprintf(d->result, sizeof(d->result), "blocked");
		return 0;
	}

	/* Taken: what was there before, for restore_after. */
	struct pol_saved *sv = &t->saved[t->step];

	memset(sv, 0, sizeof(*sv));
	sv->action = (uint8_t)sp->action;
	sv->dry_run = d->dry_run;
	switch (sp->action) {
	case POL_MEMORY_HIGH:
		sv->valid = x->have & CG_HAVE_MEM_HIGH;
		sv->value = x->mem_high;
		if (sp->adaptive) {
			t->adapt_on = true;
			t->adapt_step = (uint8_t)t->step;
			t->adapt_high = value;
			t->adapt_pressure_pct = -1;
			t->adapt_peak = x->mem_current;
			t->adapt_summary_usec = now;
			/* The snapshot's time is not known here: the first
			 * interval starts at the next tick's reading. */
			t->adapt_snap_usec = 0;
			t->adapt_last_usec = now;
			t->adapt_backoff = t->adapt_hold = 0;
			t->adapt_cut = false;
		}
		break;
	case POL_MEMORY_MAX:
		sv->valid = x->have & CG_HAVE_MEM_MAX;
		sv->value = x->mem_max;
		break;
	case POL_CPU_MAX:
		sv->valid = x->have & CG_HAVE_CPU_MAX;
		sv->value = x->cpu_max_quota_usec;
		sv->period = x->cpu_max_period_usec;
		break;
	case POL_CPU_WEIGHT:
		sv->valid = x->have & CG_HAVE_CPU_WEIGHT;
		sv->value = x->cpu_weight;
		break;
	case POL_FREEZE:
		/* Frozen before us: not ours to thaw. */
		sv->valid = !((x->have & CG_HAVE_EVENTS) && x->frozen);
		if (sv->valid && !sv->dry_run)
			t->frozen = true;
		break;
	default:
		break;
	}
	if (t->step == 0)
		t->dry_run = d->dry_run;
	t->step++;
	t->last_step_usec = now;
	t->last_action_usec = now;
	t->fingerprint = r->fingerprint;
	/* A dry run changes nothing: a rule on trial must not use up the
	 * budget of the rules that enforce. */
	if (counted(sp->action) && p->budget_per_minute && !d->dry_run)
		budget_take(st, now);
	return 0;
}

/* The ladder of r on target t, given whether the rule fires now. */
static int ladder(const struct policy *p, const struct policy_env *env,
		  const struct cg_snapshot *snap, const struct pol_rule *r,
		  const struct cg_sample *x, bool leaf, struct pol_target *t, bool fired,
		  bool hold, uint64_t now, const struct pol_value *vals, struct policy_state *st,
		  struct pol_decisions *ds)
{
	if (!fired && hold) {
		/* Only its own cpu.max step's pressure: neither on nor back. */
		t->clearing = false;
		t->clear_since_usec = 0;
		return 0;
	}
	if (fired) {
		t->clearing = false;
		t->clear_since_usec = 0;
		if (t->step >= r->nr_steps)
			return 0;
		if (t->step > 0 && now - t->last_step_usec < r->steps[t->step - 1].wait_usec)
			return 0;
		return take_step(p, env, snap, r, x, leaf, t, now, vals, st, ds);
	}
	t->blocked = 0;
	if (t->step == 0 || !r->restore_after_usec)
		return 0;
	if (!t->clearing) {
		t->clearing = true;
		t->clear_since_usec = now;
	}
	if (now - t->clear_since_usec < r->restore_after_usec)
		return 0;
	if (restore_all(t, t->path, now, false, ds))
		return -ENOMEM;
	t->step = 0;
	t->clearing = false;
	t->clear_since_usec = 0;
	t->last_action_usec = now;
	return 0;
}

static bool target_idle(const struct pol_target *t, const struct pol_rule *r, uint64_t now)
{
	if (t->step || t->frozen || t->blocked)
		return false;
	for (size_t k = 0; r && k < r->nr_conds; k++)
		if (t->cond_on[k])
			return false;
	/* Kept through the cooldown, which is counted from its last action. */
	return !r || !r->cooldown_usec || !t->last_action_usec ||
	       now - t->last_action_usec >= r->cooldown_usec;
}

int policy_evaluate(const struct policy *p, const struct policy_env *env,
		    const struct cg_snapshot *s, uint64_t now, struct policy_state *st,
		    struct pol_decisions *ds)
{
	struct pol_value vals[POL_MAX_CONDS];
	bool *has_child = NULL;
	struct idmap ids = { 0 };	/* the cgroups that exist: id -> sample */
	size_t n = s->nr_samples;
	int err = -ENOMEM;

	decisions_reset(ds);
	has_child = calloc(n ? n : 1, sizeof(*has_child));
	if (!has_child || n >= IDMAP_NONE || idmap_reserve(&ids, (uint32_t)n))
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (s->samples[i].parent >= 0 && (size_t)s->samples[i].parent < n)
			has_child[s->samples[i].parent] = true;
		idmap_put(&ids, s->samples[i].id, (uint32_t)i);	/* reserved: cannot fail */
	}
	for (size_t i = 0; i < st->nr_targets; i++)
		st->targets[i].seen = false;

	/* Orphans first: their rule changed or went away on a reload, so what
	 * they changed is restored now, before the new rule may act. */
	for (size_t i = 0; i < st->nr_targets;) {
		struct pol_target *t = &st->targets[i];

		bool exists;

		if (!t->orphan && find_rule(p, t->rule)) {
			i++;
			continue;
		}
		exists = idmap_get(&ids, t->cgroup_id) != IDMAP_NONE;
		/* A refused thaw waits for its next try. */
		if (exists && t->thaw_next_usec && now < t->thaw_next_usec) {
			t->orphan = true;
			i++;
			continue;
		}
		if (exists && restore_all(t, t->path, now, false, ds))
			goto out;
		drop_target(st, i);
	}
	ancestors_first(ds, 0);

	for (size_t ri = 0; ri < p->nr_rules; ri++) {
		const struct pol_rule *r = &p->rules[ri];

		for (size_t i = 0; i < n; i++) {
			const struct cg_sample *x = &s->samples[i];
			struct pol_target *t;
			bool any_raw, fired, hold;

			if (!policy_rule_matches(r, x))
				continue;
			t = find_target(st, r->name, x->id);
			if (!t) {
				eval_conds(r, x, st, NULL, now, vals, &any_raw, &hold, false);
				if (!any_raw)
					continue;
				t = policy_state_add(st, r->name, x->id, x->path);
				if (!t)
					goto out;
				t->fingerprint = r->fingerprint;
			}
			t->seen = true;
			note_cpu(t, x, s->mono_usec);
			fired = eval_conds(r, x, st, t, now, vals, &any_raw, &hold, true);
			if (ladder(p, env, s, r, x, !has_child[i], t, fired, hold, now, vals, st, ds))
				goto out;
			if (t->adapt_on && adapt_tick(p, r, x, t, s->mono_usec, now, ds))
				goto out;
		}
	}

	/* Targets not matched this time: gone (dropped), or no longer
	 * matching, so the condition counts as false and restore_after runs. */
	for (size_t i = 0; i < st->nr_targets;) {
		struct pol_target *t = &st->targets[i];
		const struct pol_rule *r = find_rule(p, t->rule);
		bool exists = idmap_get(&ids, t->cgroup_id) != IDMAP_NONE;

		/* An orphan waiting for its retry has no ladder to run. */
		if (t->orphan) {
			if (exists) {
				i++;
				continue;
			}
			drop_target(st, i);
			continue;
		}
		/* Adaptive control needs the cgroup's readings: a cgroup the
		 * rule no longer matches gets its limit back now, whatever
		 * restore_after says. */
		if (!t->seen && exists && r && t->adapt_on) {
			if (restore_all(t, t->path, now, false, ds))
				goto out;
			t->step = 0;
			t->clearing = false;
			t->last_action_usec = now;
		}
		if (!t->seen && exists && r) {
			struct cg_sample lost = { .id = t->cgroup_id, .path = t->path };

			memset(t->cond_on, 0, sizeof(t->cond_on));
			if (ladder(p, env, s, r, &lost, true, t, false, false, now, NULL, st, ds))
				goto out;
		}
		if (!exists || target_idle(t, r, now)) {
			drop_target(st, i);
			continue;
		}
		i++;
	}
	/* Old trigger firings (windows are at most 10 s). */
	for (size_t i = 0; i < st->nr_fires;) {
		if (now > st->fires[i].time_usec && now - st->fires[i].time_usec > 60000000u)
			st->fires[i] = st->fires[--st->nr_fires];
		else
			i++;
	}
	err = (int)ds->nr;
out:
	free(has_child);
	idmap_free(&ids);
	return err;
}

int policy_release(const struct policy *p, struct policy_state *st, uint64_t now,
		   bool freezes_only, struct pol_decisions *ds)
{
	(void)p;
	decisions_reset(ds);
	for (size_t i = 0; i < st->nr_targets; i++) {
		struct pol_target *t = &st->targets[i];

		if (restore_all(t, t->path, now, freezes_only, ds))
			return -ENOMEM;
		if (!freezes_only)
			t->step = 0;
	}
	ancestors_first(ds, 0);
	return (int)ds->nr;
}

/* The wait after the tries-th failed thaw (0: the first). */
static uint64_t thaw_backoff(uint32_t tries)
{
	uint64_t w = POL_THAW_RETRY_USEC;

	while (tries-- && w < POL_THAW_RETRY_MAX_USEC)
		w *= 2;
	return w < POL_THAW_RETRY_MAX_USEC ? w : POL_THAW_RETRY_MAX_USEC;
}

int policy_restores_failed(struct policy_state *st, const struct pol_decisions *ds)
{
	int n = 0;

	for (size_t i = 0; i < ds->nr; i++) {
		const struct pol_decision *d = &ds->d[i];
		struct pol_target *t;

		if (!d->restore || d->action != POL_THAW || d->dry_run || d->blocked ||
		    d->step < 0 || d->step >= POL_MAX_STEPS ||
		    (strcmp(d->result, "failed") != 0 && strcmp(d->result, "refused") != 0))
			continue;
		/* Its entry, live or an orphan kept by policy_release (an
		 * evaluation drops an orphan's with its restore). */
		t = NULL;
		for (size_t k = 0; k < st->nr_targets && !t; k++)
			if (st->targets[k].cgroup_id == d->cgroup_id &&
			    strcmp(st->targets[k].rule, d->rule) == 0)
				t = &st->targets[k];
		if (!t) {
			t = policy_state_add(st, d->rule, d->cgroup_id, d->path);
			if (!t)
				return -ENOMEM;
			t->last_action_usec = d->time_usec;
		}
		t->saved[d->step] = (struct pol_saved){ .valid = true, .action = POL_FREEZE };
		t->frozen = true;
		t->thaw_tries = d->tries + 1;
		t->thaw_next_usec = d->time_usec + thaw_backoff(d->tries);
		/* Its ladder was reset with the restore: only the orphan path
		 * restores without the rule firing first. A ladder still in
		 * progress (SIGTERM's release) keeps its steps. */
		if (t->step == 0)
			t->orphan = true;
		n++;
	}
	return n;
}
