// SPDX-License-Identifier: GPL-2.0-only
/* Policy simulation on recorded ticks (polsim.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "cli.h"
#include "limitval.h"
#include "polsim.h"

struct polsim {
	const struct policy *p;
	struct policy_env env;
	struct policy_state st;
	struct pol_decisions ds;
	struct polsim_decision *out;
	size_t cap_out;
	/* The first real change of each cgroup the daemon changed. */
	struct polsim_real *real;
	size_t nr_real, cap_real;
	uint64_t last_mono_usec;
	struct polsim_stats stats;
	bool *done;			/* by rule: matched, and every metric seen */
};

int polsim_new(const struct policy *p, const char *self_path, struct polsim **out)
{
	struct polsim *ps = calloc(1, sizeof(*ps));
	size_t n = p->nr_rules ? p->nr_rules : 1;

	if (!ps)
		return -ENOMEM;
	policy_state_init(&ps->st);
	ps->stats.per_rule = calloc(n, sizeof(*ps->stats.per_rule));
	ps->stats.matched = calloc(n, sizeof(*ps->stats.matched));
	ps->stats.cond_seen = calloc(n, sizeof(*ps->stats.cond_seen));
	ps->done = calloc(n, sizeof(*ps->done));
	if (!ps->stats.per_rule || !ps->stats.matched || !ps->stats.cond_seen || !ps->done) {
		polsim_free(ps);
		return -ENOMEM;
	}
	ps->p = p;
	ps->env.self_path = self_path;
	*out = ps;
	return 0;
}

void polsim_free(struct polsim *ps)
{
	if (!ps)
		return;
	policy_state_free(&ps->st);
	policy_decisions_free(&ps->ds);
	for (size_t i = 0; i < ps->nr_real; i++)
		free(ps->real[i].target);
	free(ps->real);
	free(ps->out);
	free(ps->stats.per_rule);
	free(ps->stats.matched);
	free(ps->stats.cond_seen);
	free(ps->done);
	free(ps);
}

const struct polsim_stats *polsim_stats(const struct polsim *ps)
{
	return &ps->stats;
}

/* Only a step that was carried out changed what the recording shows: a log
 * or a hook changes no cgroup file (what a hook did is not known). */
static bool is_real_change(const struct rec_action *a)
{
	if (!a->action || !a->result || a->dry_run || a->blocked || strcmp(a->result, "ok"))
		return false;
	return strcmp(a->action, "log") && strcmp(a->action, "hook");
}

static bool reaches_subtree(const char *action)
{
	static const char *const acts[] = { "memory.high", "memory.max", "cpu.max", "freeze",
					    "thaw", "kill" };

	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
		if (!strcmp(action, acts[i]))
			return true;
	return false;
}

static struct polsim_real *find_real(struct polsim *ps, uint64_t id)
{
	for (size_t i = 0; i < ps->nr_real; i++)
		if (ps->real[i].cgroup_id == id)
			return &ps->real[i];
	return NULL;
}

/* The record's target and value: the JSON line the daemon wrote. */
static char *record_fields(const struct rec_action *a, char *value, size_t len)
{
	struct json_object *o = a->json ? json_tokener_parse(a->json) : NULL, *v;
	char *target = NULL;

	value[0] = '\0';
	if (o && json_object_object_get_ex(o, "target", &v) && json_object_is_type(v, json_type_string))
		target = strdup(json_object_get_string(v));
	else
		target = strdup("");
	if (o && json_object_object_get_ex(o, "value", &v) && json_object_is_type(v, json_type_string))
		snprintf(value, len, "%s", json_object_get_string(v));
	json_object_put(o);
	return target;
}

int polsim_note_actions(struct polsim *ps, const struct rec_action *acts, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		const struct rec_action *a = &acts[i];
		struct polsim_real *r;

		if (!is_real_change(a))
			continue;
		ps->stats.real_actions++;
		/* The first change is where the recording stops being this
		 * policy's counterfactual: later ones add nothing to that. */
		if (find_real(ps, a->cgroup_id))
			continue;
		if (ps->nr_real == ps->cap_real) {
			size_t cap = ps->cap_real ? 2 * ps->cap_real : 16;
			struct polsim_real *n = realloc(ps->real, cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			ps->real = n;
			ps->cap_real = cap;
		}
		r = &ps->real[ps->nr_real];
		memset(r, 0, sizeof(*r));
		r->target = record_fields(a, r->value, sizeof(r->value));
		if (!r->target)
			return -ENOMEM;
		r->time_usec = a->time_usec;
		r->cgroup_id = a->cgroup_id;
		snprintf(r->rule, sizeof(r->rule), "%s", a->rule ? a->rule : "");
		snprintf(r->action, sizeof(r->action), "%s", a->action);
		r->restore = a->restore;
		r->subtree = reaches_subtree(a->action);
		ps->nr_real++;
	}
	return 0;
}

/* The earliest real change, made by wall_usec, on d's cgroup or (for the
 * actions that reach a subtree) on one of its ancestors. */
static const struct polsim_real *real_before(const struct polsim *ps,
					     const struct pol_decision *d, uint64_t wall_usec)
{
	const struct polsim_real *best = NULL;

	for (size_t i = 0; i < ps->nr_real; i++) {
		const struct polsim_real *r = &ps->real[i];
		size_t len = strlen(r->target);
		bool on = r->cgroup_id == d->cgroup_id;

		/* A record without a target: its cgroup alone (the root,
		 * whose "" it would be, is never acted on). */
		if (!on && r->subtree && len && d->path && !strncmp(d->path, r->target, len) &&
		    d->path[len] == '/')
			on = true;
		if (on && r->time_usec <= wall_usec && (!best || r->time_usec < best->time_usec))
			best = r;
	}
	return best;
}

void polsim_real_format(const struct polsim_real *r, bool human, char *out, size_t len)
{
	char when[32], value[48];
	uint64_t v;

	cli_format_time(r->time_usec, when, sizeof(when));
	snprintf(value, sizeof(value), "%s", r->value);
	if (human && !strncmp(r->action, "memory.", 7) && r->value[0] &&
	    !limitval_parse_bytes(r->value, &v, NULL, 0))
		limitval_format_bytes_human(v, value, sizeof(value));
	snprintf(out, len, "after the real %s%s%s%s at %s by rule %s", r->action,
		 r->restore ? " (restore)" : "", value[0] ? " " : "", value, when,
		 r->rule[0] ? r->rule : "?");
}

static int grow_out(struct polsim *ps, size_t n)
{
	struct polsim_decision *o;

	if (n <= ps->cap_out)
		return 0;
	o = realloc(ps->out, n * sizeof(*o));
	if (!o)
		return -ENOMEM;
	ps->out = o;
	ps->cap_out = n;
	return 0;
}

/* What the summary says of a rule that never fired: did it match, and
 * were its metrics there at all. */
static void note_presence(struct polsim *ps, const struct cg_snapshot *s)
{
	for (size_t ri = 0; ri < ps->p->nr_rules; ri++) {
		const struct pol_rule *r = &ps->p->rules[ri];
		bool all = true;

		if (ps->done[ri])
			continue;
		for (size_t i = 0; i < s->nr_samples; i++) {
			const struct cg_sample *x = &s->samples[i];

			if (!policy_rule_matches(r, x))
				continue;
			ps->stats.matched[ri] = true;
			for (size_t k = 0; k < r->nr_conds; k++) {
				double v;

				if (!ps->stats.cond_seen[ri][k] &&
				    policy_metric_get(x, &r->conds[k].metric, &v) == 0)
					ps->stats.cond_seen[ri][k] = true;
			}
		}
		for (size_t k = 0; k < r->nr_conds; k++)
			all &= ps->stats.cond_seen[ri][k];
		ps->done[ri] = ps->stats.matched[ri] && all;
	}
}

/* A limit step on a cgroup whose file the recording does not have: the
 * controller is not enabled there, and the daemon's write would fail. */
static const char *missing_file(const struct cg_snapshot *s, const struct pol_decision *d)
{
	static const struct { enum pol_action a; uint32_t have; const char *why; } files[] = {
		{ POL_MEMORY_HIGH, CG_HAVE_MEM_HIGH, "no memory.high recorded for this cgroup: "
		  "the daemon's write would likely fail" },
		{ POL_MEMORY_MAX, CG_HAVE_MEM_MAX, "no memory.max recorded for this cgroup: "
		  "the daemon's write would likely fail" },
		{ POL_CPU_MAX, CG_HAVE_CPU_MAX, "no cpu.max recorded for this cgroup: "
		  "the daemon's write would likely fail" },
		{ POL_CPU_WEIGHT, CG_HAVE_CPU_WEIGHT, "no cpu.weight recorded for this cgroup: "
		  "the daemon's write would likely fail" },
	};

	if (d->blocked)
		return NULL;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (files[i].a != d->action)
			continue;
		for (size_t k = 0; k < s->nr_samples; k++)
			if (s->samples[k].id == d->cgroup_id)
				return s->samples[k].have & files[i].have ? NULL : files[i].why;
	}
	return NULL;
}

/* Appends "; text" (or text) to d's why, as far as it fits. */
static void why_add(struct pol_decision *d, const char *text)
{
	size_t used = strlen(d->why);

	snprintf(d->why + used, sizeof(d->why) - used, "%s%s", used ? "; " : "", text);
}

static void count_rule(struct polsim *ps, const char *rule)
{
	for (size_t i = 0; i < ps->p->nr_rules; i++)
		if (!strcmp(ps->p->rules[i].name, rule)) {
			ps->stats.per_rule[i]++;
			return;
		}
}

int polsim_tick(struct polsim *ps, const struct cg_snapshot *s, const struct rec_action *acts,
		size_t nr_acts, const struct polsim_decision **out)
{
	/* The engine's time base is monotonic; a store without it has only
	 * the wall clock, which serves the same purpose between ticks. */
	uint64_t now = s->mono_usec ? s->mono_usec : s->wall_usec;
	int n, err;

	*out = NULL;
	err = polsim_note_actions(ps, acts, nr_acts);
	if (err)
		return err;
	/* A new boot (or a recorder restarted with another clock): the
	 * engine's durations would wrap. A daemon starting then would have
	 * no state from before either. */
	if (ps->stats.ticks && now < ps->last_mono_usec) {
		policy_state_free(&ps->st);
		policy_state_init(&ps->st);
		ps->stats.restarts++;
	}
	ps->last_mono_usec = now;
	if (!ps->stats.ticks)
		ps->stats.first_wall_usec = s->wall_usec;
	ps->stats.last_wall_usec = s->wall_usec;
	ps->stats.ticks++;
	note_presence(ps, s);

	n = policy_evaluate(ps->p, &ps->env, s, now, &ps->st, &ps->ds);
	if (n < 0)
		return n;
	if (grow_out(ps, ps->ds.nr))
		return -ENOMEM;
	for (size_t i = 0; i < ps->ds.nr; i++) {
		struct pol_decision *d = &ps->ds.d[i];
		struct polsim_decision *o = &ps->out[i];

		o->d = d;
		o->wall_usec = s->wall_usec;
		o->after = real_before(ps, d, s->wall_usec);
		if (d->blocked) {
			/* As the executor words it (enforcer.c). */
			char g[96];

			policy_guard_names(d->guards & POL_G_BLOCKING, g, sizeof(g));
			if (!g[0] && (d->guards & POL_G_FLOOR))
				snprintf(g, sizeof(g), "floor (memory.min is max)");
			snprintf(d->result, sizeof(d->result), "blocked");
			snprintf(d->why, sizeof(d->why), "stopped by a guard: %s", g);
			ps->stats.blocked++;
		} else {
			snprintf(d->result, sizeof(d->result), "simulated");
			d->why[0] = '\0';
		}
		o->caveat = missing_file(s, d);
		if (o->caveat)
			why_add(d, o->caveat);
		if (o->after) {
			char text[POL_WHY_MAX];

			polsim_real_format(o->after, false, text, sizeof(text));
			why_add(d, text);
			ps->stats.after_real++;
		}
		ps->stats.decisions++;
		count_rule(ps, d->rule);
	}
	*out = ps->out;
	return (int)ps->ds.nr;
}
