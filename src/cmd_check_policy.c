/* SPDX-License-Identifier: GPL-2.0-only */
/* cgwarden check-policy: every error of a policy file, or what it would act on now. */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "collector.h"
#include "commands.h"
#include "json_policy.h"
#include "json_records.h"
#include "limitval.h"
#include "policy.h"
#include "polsim.h"
#include "replay.h"

static const char check_help[] =
	"Usage: cgwarden check-policy FILE [OPTIONS]\n"
	"       cgwarden check-policy FILE --replay DIR [--since TIME] [--until TIME] [--json]\n\n"
	"Read a policy file (cgwarden-policy(5)) and report every error with the\n"
	"file, line:column or field path (rules[2].then[1].wait) and the reason;\n"
	"exit 1 if there is any. Otherwise read the cgroup tree once and print,\n"
	"for each rule, its conditions and ladder and the cgroups it matches on\n"
	"this host right now, with the values its conditions would see. For an\n"
	"adaptive rule (\"memory.high\": \"adaptive\"), also its tuning and the\n"
	"cgroups it would govern; a matched cgroup without memory.pressure (no PSI),\n"
	"or with a memory.max below the rule's adaptive min, is an error.\n\n"
	"Trying a policy on a recording (--replay): the policy runs over the ticks\n"
	"recorded in DIR (cgwarden record) from --since to --until, with the state\n"
	"it would have had, and each decision it would have made is printed with\n"
	"its recorded time, rule, cgroup, action and the values that made it fire,\n"
	"then a summary. Nothing is changed; each step counts as taken, and the\n"
	"recorded values after it are what happened without it. \"(after the real\n"
	"...)\" marks a decision on a cgroup the daemon really changed before: from\n"
	"then on the values show that change, not this policy's. Conditions with a\n"
	"window are taken from the recorded averages (the kernel trigger cannot be\n"
	"replayed), so they can fire later than live.\n\n"
	"Options:\n"
	"      --root DIR        cgroup2 tree to read (default: from mountinfo)\n"
	"      --replay DIR      simulate on the recording in DIR instead\n"
	"      --since TIME      from this moment (default: the recording's start):\n"
	"                        2026-12-04T03:00:00Z, \"2026-12-04 03:00[:SS]\" (local),\n"
	"                        unix seconds, or -2h before the recording's end; a\n"
	"                        moment before the recording means its start\n"
	"      --until TIME      to this moment (default: the recording's end)\n"
	"      --json            one policy_action line per decision (result\n"
	"                        \"simulated\", or \"blocked\" with the guard), to diff\n"
	"                        against the daemon's log; the rest goes to stderr\n"
	"      --quiet           only the errors (with --replay: the decisions)\n"
	"  -h, --help            this text\n\n"
	"Exit status: 0 valid (and simulated), 1 errors in the file or on this host,\n"
	"or a recording that cannot be read to the end, 2 usage, no cgroup tree, or\n"
	"no recording.\n";

#define SHOW_MAX 10

enum { OPT_REPLAY = OPT__COMMON_END, OPT_SINCE, OPT_UNTIL, OPT_JSON };

static void print_value(const struct pol_cond *c, double v, char *out, size_t len)
{
	if (isnan(v))
		snprintf(out, len, "absent");
	else if (isinf(v))
		snprintf(out, len, "max");
	else if (c->metric.bytes)
		limitval_format_bytes_human((uint64_t)v, out, len);
	else
		snprintf(out, len, "%.6g", v);
}

/* What follows the action's name: " 512M", " 20000 100000", " 10",
 * " /path (timeout 10s)", " \"message\"", or nothing. */
static void print_step_value(enum pol_action action, uint64_t value, uint64_t period,
			     const char *hook, uint64_t hook_timeout_usec, const char *message)
{
	char a[48];

	switch (action) {
	case POL_MEMORY_HIGH:
	case POL_MEMORY_MAX:
		limitval_format_bytes_human(value, a, sizeof(a));
		printf(" %s", a);
		break;
	case POL_CPU_MAX:
		limitval_format(value, a, sizeof(a));
		printf(" %s %" PRIu64, a, period);
		break;
	case POL_CPU_WEIGHT:
		printf(" %" PRIu64, value);
		break;
	case POL_HOOK:
		policy_format_usec(hook_timeout_usec, a, sizeof(a));
		printf(" %s (timeout %s)", hook, a);
		break;
	case POL_LOG:
		printf(" \"%s\"", message);
		break;
	default:
		break;
	}
}

static const char *const op_names[] = { ">", ">=", "<", "<=" };

static void print_rule(const struct pol_rule *r)
{
	char a[48], b[48];

	printf("rule %s%s:\n  when %s of:\n", r->name, r->dry_run ? " (dry run)" : "",
	       r->any ? "any" : "all");
	for (size_t i = 0; i < r->nr_conds; i++) {
		const struct pol_cond *c = &r->conds[i];

		print_value(c, c->value, a, sizeof(a));
		policy_format_usec(c->for_usec, b, sizeof(b));
		printf("    %s %s %s for %s", c->metric_name, op_names[c->op], a, b);
		if (c->clear != c->value) {
			print_value(c, c->clear, a, sizeof(a));
			printf(", clear at %s", a);
		}
		if (c->window_usec) {
			policy_format_usec(c->window_usec, a, sizeof(a));
			printf(" (kernel trigger, window %s)", a);
		}
		printf("\n");
	}
	printf("  then:\n");
	for (size_t k = 0; k < r->nr_steps; k++) {
		const struct pol_step *s = &r->steps[k];

		printf("    %zu. %s", k + 1, policy_action_name(s->action));
		if (s->adaptive)
			printf(" adaptive");
		else
			print_step_value(s->action, s->value, s->period, s->hook_path,
					 s->hook_timeout_usec, s->message);
		if (s->wait_usec && k + 1 < r->nr_steps) {
			policy_format_usec(s->wait_usec, a, sizeof(a));
			printf(", then wait %s", a);
		}
		printf("\n");
	}
	if (r->restore_after_usec) {
		policy_format_usec(r->restore_after_usec, a, sizeof(a));
		printf("  restore after %s without the condition\n", a);
	} else if (r->has_adaptive) {
		printf("  no restore_after: other limits stay until changed by hand; the adaptive\n"
		       "    memory.high goes back when the cgroup stops matching, the rule is\n"
		       "    reloaded away, or the daemon stops\n");
	} else {
		printf("  no restore: limits stay until changed by hand\n");
	}
	if (r->cooldown_usec) {
		policy_format_usec(r->cooldown_usec, a, sizeof(a));
		printf("  cooldown %s\n", a);
	}
}

/* The adaptive step's tuning, in the words of cgwarden-policy(5). */
static void print_adaptive(const struct policy *p, const struct pol_rule *r)
{
	const struct pol_adaptive *ad = &r->adaptive;
	char a[48];

	if (!r->has_adaptive)
		return;
	policy_format_usec(ad->interval_usec, a, sizeof(a));
	printf("  adaptive memory.high: every %s, aim at %g%% of the time stalled on memory\n"
	       "    (\"some\", from memory.pressure's total over the interval); below it, down by\n"
	       "    at most %g%% of memory.current; above it, up by at most %g%%; at %d times it,\n"
	       "    on a memory.events oom or oom_kill, or a high while above it, back to the\n"
	       "    value from before, and then not lowered for %d intervals (twice that after\n"
	       "    each lift that follows, at most %d)\n",
	       a, ad->pressure_pct, ad->step * 100, ad->step * 100 * POL_ADAPT_GIVE_BACK,
	       POL_ADAPT_FAR_ABOVE, POL_ADAPT_HOLD_FIRST, POL_ADAPT_HOLD_MAX);
	printf("    never below: ");
	if (ad->min_bytes) {
		limitval_format_bytes_human(ad->min_bytes, a, sizeof(a));
		printf("min %s, ", a);
	}
	if (r->floor_bytes) {
		limitval_format_bytes_human(r->floor_bytes, a, sizeof(a));
		printf("the rule's floor %s, ", a);
	}
	if (p->floor_bytes) {
		limitval_format_bytes_human(p->floor_bytes, a, sizeof(a));
		printf("the policy's floor %s, ", a);
	}
	printf("each cgroup's memory.min\n");
}

/* What stands between an adaptive rule and a cgroup it matches. */
struct adapt_fit {
	bool protected;		/* the engine never acts on it */
	const char *first;	/* an earlier adaptive rule matches it too */
	bool no_psi;		/* no memory.pressure: an error */
	bool no_memory;		/* no memory controller: no memory.high to set */
	bool min_above_max;	/* min above memory.max: an error */
	uint64_t lowest;	/* the lowest limit the controller may set */
	const char *lowest_why;
};

/* As the engine's guard, without cgwarden's own cgroup (not known here). */
static bool protected_here(const struct policy *p, const char *path)
{
	if (strncmp(path, "init.scope", 10) == 0 && (path[10] == '\0' || path[10] == '/'))
		return true;
	for (size_t i = 0; i < p->nr_protected; i++)
		if (fnmatch(p->protected[i], path, 0) == 0)
			return true;
	return false;
}

static struct adapt_fit adapt_fit(const struct policy *p, size_t ri, const struct cg_sample *x)
{
	const struct pol_rule *r = &p->rules[ri];
	struct adapt_fit f = { .lowest_why = "" };
	const struct { uint64_t v; const char *why; } lows[] = {
		{ r->adaptive.min_bytes, "min" },
		{ r->floor_bytes, "the rule's floor" },
		{ p->floor_bytes, "the policy's floor" },
		{ x->have & CG_HAVE_MEM_MIN ? x->mem_min : 0, "memory.min" },
	};

	f.protected = protected_here(p, x->path);
	for (size_t j = 0; j < ri && !f.first; j++)
		if (p->rules[j].has_adaptive && policy_rule_matches(&p->rules[j], x))
			f.first = p->rules[j].name;
	f.no_psi = !(x->have & CG_HAVE_PSI_MEMORY) || !x->psi[CG_PSI_MEMORY].have_some;
	f.no_memory = !(x->have & CG_HAVE_MEM_HIGH);
	f.min_above_max = r->adaptive.min_bytes && (x->have & CG_HAVE_MEM_MAX) &&
			  r->adaptive.min_bytes > x->mem_max;
	for (size_t i = 0; i < sizeof(lows) / sizeof(lows[0]); i++)
		if (lows[i].v > f.lowest) {
			f.lowest = lows[i].v;
			f.lowest_why = lows[i].why;
		}
	return f;
}

static void print_bytes_field(const char *name, bool have, uint64_t v, const char *sep)
{
	char a[32];

	if (have)
		limitval_format_bytes_human(v, a, sizeof(a));
	printf("%s%s %s", sep, name, have ? a : "absent");
}

/* The line under a matched cgroup: where adaptive control would start. */
static void print_adapt_line(const struct cg_sample *x, const struct adapt_fit *f)
{
	char a[32];

	printf("      adaptive: ");
	if (f->protected) {
		printf("not governed: protected\n");
		return;
	}
	if (f->first) {
		/* One rule at a time adapts a cgroup; the other is blocked. */
		printf("shared: rule %s adapts it too, and only one of the two can\n", f->first);
		return;
	}
	if (f->no_psi || f->no_memory) {
		printf("not governed: no %s\n", f->no_psi ? "memory.pressure (an error, below)" :
		       "memory controller (no memory.high to set)");
		return;
	}
	print_bytes_field("memory.current", x->have & CG_HAVE_MEM_CURRENT, x->mem_current, "");
	print_bytes_field("memory.high", true, x->mem_high, ", ");
	print_bytes_field("memory.max", x->have & CG_HAVE_MEM_MAX, x->mem_max, ", ");
	limitval_format_bytes_human(f->lowest, a, sizeof(a));
	printf(", lowest %s%s%s%s\n", a, *f->lowest_why ? " (" : "", f->lowest_why,
	       *f->lowest_why ? ")" : "");
	if (f->min_above_max)
		printf("        min is above memory.max: not governed (an error, below)\n");
}

/*
 * The cgroups an adaptive rule would govern now, and the errors only the
 * live tree shows (into errs, each with the rule's field path): a matched
 * cgroup without memory.pressure, and min above a matched memory.max. At
 * most SHOW_MAX of each per rule, then a count.
 */
static void adapt_summary(const struct policy *p, size_t ri, const struct cg_snapshot *s,
			  struct pol_errors *errs)
{
	const struct pol_rule *r = &p->rules[ri];
	size_t governed = 0, prot = 0, taken = 0, no_psi = 0, no_mem = 0, min_max = 0, step = 0;
	char a[32], b[32];
	const char *sep = "";

	if (!r->has_adaptive)
		return;
	while (step < r->nr_steps && !r->steps[step].adaptive)
		step++;
	limitval_format_bytes_human(r->adaptive.min_bytes, a, sizeof(a));
	for (size_t i = 0; i < s->nr_samples; i++) {
		const struct cg_sample *x = &s->samples[i];
		struct adapt_fit f;

		if (!policy_rule_matches(r, x))
			continue;
		f = adapt_fit(p, ri, x);
		if (f.protected || f.first) {
			prot += f.protected;
			taken += !f.protected;
			continue;
		}
		if (f.no_psi && no_psi++ < SHOW_MAX)
			pol_errors_addf(errs, "%s: rules[%zu].then[%zu].memory.high: %s has no "
					"memory.pressure (PSI is off: psi=0 on the kernel command "
					"line, 0 in its cgroup.pressure, or a kernel without "
					"CONFIG_PSI): its stalls cannot be measured", p->file, ri,
					step, x->path);
		if (f.min_above_max && min_max++ < SHOW_MAX) {
			limitval_format_bytes_human(x->mem_max, b, sizeof(b));
			pol_errors_addf(errs, "%s: rules[%zu].adaptive.min: %s is above the "
					"memory.max of %s (%s): memory.high there could never "
					"bind", p->file, ri, a, x->path, b);
		}
		no_mem += !f.no_psi && f.no_memory;
		governed += !f.no_psi && !f.no_memory && !f.min_above_max;
	}
	if (no_psi > SHOW_MAX)
		pol_errors_addf(errs, "%s: rules[%zu].then[%zu].memory.high: and %zu more "
				"cgroups without memory.pressure", p->file, ri, step,
				no_psi - SHOW_MAX);
	if (min_max > SHOW_MAX)
		pol_errors_addf(errs, "%s: rules[%zu].adaptive.min: and %zu more cgroups with "
				"a memory.max below it", p->file, ri, min_max - SHOW_MAX);
	printf("  adaptive control would govern %zu cgroup%s now", governed,
	       governed == 1 ? "" : "s");
	if (prot)
		printf("%s%zu protected", *sep ? ", " : (sep = "; not: "), prot);
	if (taken)
		printf("%s%zu shared with an earlier rule", *sep ? ", " : (sep = "; not: "), taken);
	if (no_psi)
		printf("%s%zu without memory.pressure", *sep ? ", " : (sep = "; not: "), no_psi);
	if (no_mem)
		printf("%s%zu without a memory controller", *sep ? ", " : (sep = "; not: "), no_mem);
	if (min_max)
		printf("%s%zu with memory.max below min", *sep ? ", " : (sep = "; not: "), min_max);
	printf("\n");
}

static void print_matches(const struct policy *p, size_t ri, const struct cg_snapshot *s)
{
	const struct pol_rule *r = &p->rules[ri];
	size_t n = 0;

	for (size_t i = 0; i < s->nr_samples; i++)
		n += policy_rule_matches(r, &s->samples[i]);
	printf("  matches %zu cgroup%s now%s\n", n, n == 1 ? "" : "s", n ? ":" : "");
	n = 0;
	for (size_t i = 0; i < s->nr_samples; i++) {
		const struct cg_sample *x = &s->samples[i];
		bool met_all = true, met_any = false;

		if (!policy_rule_matches(r, x))
			continue;
		if (n++ == SHOW_MAX) {
			printf("    ...\n");
			break;
		}
		printf("    %s (", x->path);
		for (size_t k = 0; k < r->nr_conds; k++) {
			const struct pol_cond *c = &r->conds[k];
			double v = NAN;
			char text[48];
			bool met;

			policy_metric_get(x, &c->metric, &v);
			met = !isnan(v) && (c->op == POL_GT ? v > c->value : c->op == POL_GE ? v >= c->value :
					    c->op == POL_LT ? v < c->value : v <= c->value);
			met_all &= met;
			met_any |= met;
			print_value(c, v, text, sizeof(text));
			printf("%s%s %s", k ? ", " : "", c->metric_name, text);
		}
		printf(")%s\n", (r->any ? met_any : met_all) ? " <- conditions met now" : "");
		if (r->has_adaptive) {
			struct adapt_fit f = adapt_fit(p, ri, x);

			print_adapt_line(x, &f);
		}
	}
}

/* ---- check-policy --replay: the policy on recorded time ----------------- */

struct sim_opts {
	const char *dir, *since, *until;
	bool json, quiet;
};

static const struct pol_rule *rule_named(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->nr_rules; i++)
		if (!strcmp(p->rules[i].name, name))
			return &p->rules[i];
	return NULL;
}

/* "memory.current_bytes 200M > 100M, ...": the conditions that made it fire
 * (of an any-rule, the ones met). */
static void print_because(const struct policy *p, const struct pol_decision *d)
{
	const struct pol_rule *r = rule_named(p, d->rule);
	bool first = true;

	if (d->restore) {
		printf(" <- its conditions have not held for restore_after");
		return;
	}
	for (size_t i = 0; r && i < d->nr_values && i < r->nr_conds; i++) {
		const struct pol_value *v = &d->values[i];
		char a[48], b[48];

		if (!v->met)
			continue;
		print_value(&r->conds[i], v->value, a, sizeof(a));
		print_value(&r->conds[i], v->threshold, b, sizeof(b));
		printf("%s%s %s %s %s", first ? " <- " : ", ", v->metric, a, op_names[v->op & 3], b);
		first = false;
	}
}

/* What an adaptive decision is: its start, one interval, or a summary. */
static void print_adapt_kind(const struct pol_decision *d)
{
	char cur[32], held[32], pr[32] = "not measured yet";

	if (d->adapt == POL_ADAPT_NONE)
		return;
	if (d->adapt_pressure_pct >= 0)
		snprintf(pr, sizeof(pr), "%.3g%%", d->adapt_pressure_pct);
	limitval_format_bytes_human(d->adapt_current, cur, sizeof(cur));
	limitval_format_bytes_human(d->adapt_held_back, held, sizeof(held));
	if (d->adapt == POL_ADAPT_START)
		printf(" (adaptive control starts)");
	else if (d->adapt == POL_ADAPT_ADJUST)
		printf(" (adaptive: memory.current %s, pressure %s)", cur, pr);
	else
		printf(" (adaptive summary: memory.current %s, pressure %s, held back %s)", cur,
		       pr, held);
}

static void print_decision(const struct policy *p, const struct polsim_decision *o)
{
	const struct pol_decision *d = o->d;
	char when[32], g[96];

	cli_format_time(o->wall_usec, when, sizeof(when));
	printf("%s  %s  %s: %s%s", when, d->rule, d->path && d->path[0] ? d->path : "/",
	       d->restore ? "restore " : "", policy_action_name(d->action));
	print_step_value(d->action, d->value, d->period, d->hook_path ? d->hook_path : "",
			 d->hook_timeout_usec, d->message ? d->message : "");
	print_adapt_kind(d);
	policy_guard_names(d->guards, g, sizeof(g));
	if (d->blocked)
		printf(" BLOCKED (%s)", g);
	else if (g[0])
		printf(" (%s)", g);
	print_because(p, d);
	if (o->caveat)
		printf(" [%s]", o->caveat);
	printf("\n");
	if (o->after) {
		char why[POL_WHY_MAX];

		polsim_real_format(o->after, true, why, sizeof(why));
		printf("    (%s: the values from then on reflect that action, not this policy)\n",
		       why);
	}
}

/* The notes that say what a simulation cannot know, once, before it. */
static void print_notes(FILE *f, const struct policy *p)
{
	bool windows = false;

	for (size_t i = 0; i < p->nr_rules; i++) {
		struct pol_trigger t;

		windows |= policy_rule_triggers(&p->rules[i], &t, 1) > 0;
	}
	fprintf(f, "notes:\n"
	       "  - nothing is changed: each step counts as taken (as in a dry run), and the\n"
	       "    recorded values after it are what happened without it (a simulated\n"
	       "    memory.max does not lower the memory.current recorded later)\n"
	       "  - cgwarden's own cgroup is not known from a recording: it is not protected\n"
	       "    here as the daemon protects it\n");
	if (windows)
		fprintf(f, "  - conditions with a window are kernel PSI triggers live; here they are\n"
		       "    evaluated on the recorded averages at each tick, so they can fire\n"
		       "    later than the daemon would\n");
}

static void print_duration(FILE *f, uint64_t usec)
{
	uint64_t s = usec / 1000000u;

	if (s >= 3600)
		fprintf(f, "%" PRIu64 "h%02" PRIu64 "m%02" PRIu64 "s", s / 3600, s / 60 % 60, s % 60);
	else if (s >= 60)
		fprintf(f, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else
		fprintf(f, "%.1fs", (double)usec / 1e6);
}

static void print_summary(FILE *f, const struct policy *p, const struct polsim_stats *st)
{
	char a[32], b[32];

	if (!st->ticks) {
		fprintf(f, "summary: no recorded tick in the range\n");
		return;
	}
	cli_format_time(st->first_wall_usec, a, sizeof(a));
	cli_format_time(st->last_wall_usec, b, sizeof(b));
	fprintf(f, "summary: %zu tick%s replayed, %s to %s (", st->ticks,
		st->ticks == 1 ? "" : "s", a, b);
	print_duration(f, st->last_wall_usec - st->first_wall_usec);
	fprintf(f, "); %zu decision%s", st->decisions, st->decisions == 1 ? "" : "s");
	if (st->blocked)
		fprintf(f, " (%zu blocked by a guard)", st->blocked);
	fprintf(f, "\n");
	for (size_t i = 0; i < p->nr_rules; i++) {
		const struct pol_rule *r = &p->rules[i];
		const char *sep = "";

		fprintf(f, "  rule %s: %zu decision%s", r->name, st->per_rule[i],
			st->per_rule[i] == 1 ? "" : "s");
		/* Why a rule was silent, when the recording can say. */
		if (!st->matched[i]) {
			fprintf(f, " (it matched no cgroup)");
		} else {
			for (size_t k = 0; k < r->nr_conds; k++) {
				if (st->cond_seen[i][k])
					continue;
				fprintf(f, "%s%s", *sep ? ", " : " (absent all along: ",
					r->conds[k].metric_name);
				sep = ")";
			}
			fprintf(f, "%s", sep);
		}
		fprintf(f, "\n");
	}
	if (st->after_real)
		fprintf(f, "  %zu decision%s came after a real change by the daemon (\"after the\n"
			"  real ...\"): from then on the recording shows that change's effect, so\n"
			"  what this policy would have done there is not known\n",
			st->after_real, st->after_real == 1 ? "" : "s");
	if (st->real_actions)
		fprintf(f, "  the recording holds %zu real change%s by the daemon\n",
			st->real_actions, st->real_actions == 1 ? "" : "s");
	if (st->restarts)
		fprintf(f, "  the monotonic clock went back %zu time%s (a reboot): the state\n"
			"  started afresh there, as a new daemon's would\n", st->restarts,
			st->restarts == 1 ? "" : "s");
}

/* One bound of the range. 0, or EXIT_USAGE after saying why. */
static int sim_time(const char *opt, const char *arg, uint64_t last, uint64_t *out)
{
	if (!cli_parse_time(arg, last, out))
		return 0;
	fprintf(stderr, "cgwarden check-policy: %s '%s': not a time (2026-12-04T03:00:00Z, "
		"\"2026-12-04 03:00[:SS]\", unix seconds, or -DURATION before the recording's "
		"end such as -20m)\n", opt, arg);
	return EXIT_USAGE;
}

/* The range within the recording [first, last]: a bound outside it is
 * moved to its edge with a note; a range with nothing recorded in it, or
 * backwards, is an error. 0 or EXIT_USAGE. */
static int sim_range(const struct sim_opts *o, uint64_t first, uint64_t last,
		     uint64_t *since, uint64_t *until)
{
	const char *who = "cgwarden check-policy";
	char a[32], b[32], x[32];

	cli_format_time(first, a, sizeof(a));
	cli_format_time(last, b, sizeof(b));
	*since = first;
	*until = last;
	if ((o->since && sim_time("--since", o->since, last, since)) ||
	    (o->until && sim_time("--until", o->until, last, until)))
		return EXIT_USAGE;
	if (*since > last || *until < first) {
		cli_format_time(*since > last ? *since : *until, x, sizeof(x));
		fprintf(stderr, "%s: %s %s is %s the recording in %s (%s to %s)\n", who,
			*since > last ? "--since" : "--until", x, *since > last ? "after" : "before",
			o->dir, a, b);
		return EXIT_USAGE;
	}
	if (*since > *until) {
		char y[32];

		cli_format_time(*since, x, sizeof(x));
		cli_format_time(*until, y, sizeof(y));
		fprintf(stderr, "%s: --since %s is after --until %s\n", who, x, y);
		return EXIT_USAGE;
	}
	if (*since < first) {
		cli_format_time(*since, x, sizeof(x));
		if (!o->quiet)
			fprintf(stderr, "%s: --since %s is before the recording: from its start, %s\n",
				who, x, a);
		*since = first;
	}
	if (*until > last) {
		cli_format_time(*until, x, sizeof(x));
		if (!o->quiet)
			fprintf(stderr, "%s: --until %s is after the recording: to its end, %s\n",
				who, x, b);
		*until = last;
	}
	return 0;
}

/* Every real change recorded before since: the values of the range show
 * their effect already. */
static int note_before(struct replay *r, struct polsim *ps, uint64_t first, uint64_t since)
{
	const struct cg_snapshot *s;
	const struct rec_action *acts;
	size_t nr;
	int err;

	if (since <= first)
		return 0;
	err = replay_at(r, first, &s);
	while (!err && s->wall_usec < since) {
		acts = replay_actions(r, &nr);
		err = polsim_note_actions(ps, acts, nr);
		if (!err)
			err = replay_find_event(r, 1, REC_EV_ACTION, &s);
	}
	return err == -ENOENT ? 0 : err;
}

static int simulate(const struct policy *p, const char *file, const struct sim_opts *o)
{
	const char *who = "cgwarden check-policy";
	/* --json: stdout is one record per line, what is said goes to stderr. */
	FILE *info = o->json ? stderr : stdout;
	const struct polsim_decision *ds;
	const struct cg_snapshot *s;
	uint64_t first, last, since, until;
	struct replay *r = NULL;
	struct polsim *ps = NULL;
	int err, status = 0;

	err = replay_open(o->dir, who, o->quiet, &r);
	if (err)
		return EXIT_USAGE;
	replay_range(r, &first, &last);
	status = sim_range(o, first, last, &since, &until);
	if (!status && polsim_new(p, NULL, &ps)) {
		fprintf(stderr, "%s: out of memory\n", who);
		status = EXIT_RUNTIME;
	}
	if (status) {
		replay_close(r);
		return status;
	}
	if (!o->quiet) {
		char a[32], b[32];

		cli_format_time(since, a, sizeof(a));
		cli_format_time(until, b, sizeof(b));
		fprintf(info, "%s: valid, %zu rule%s; simulated on the recording in %s from %s to %s\n",
			file, p->nr_rules, p->nr_rules == 1 ? "" : "s", o->dir, a, b);
		print_notes(info, p);
		if (!o->json)
			printf("decisions (recorded time  rule  cgroup: action, guards <- why):\n");
		fflush(info);
	}
	err = note_before(r, ps, first, since);
	if (!err)
		err = replay_at(r, since, &s);
	/* replay_at gives the tick at or before since. */
	if (!err && s->wall_usec < since)
		err = replay_next(r, &s);
	while (!err && s->wall_usec <= until) {
		const struct rec_action *acts;
		size_t nr;
		int n;

		acts = replay_actions(r, &nr);
		n = polsim_tick(ps, s, acts, nr, &ds);
		if (n < 0) {
			err = n;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (o->json)
				json_write_policy_action(stdout, ds[i].d, ds[i].wall_usec, 0);
			else
				print_decision(p, &ds[i]);
		}
		err = replay_next(r, &s);
	}
	fflush(stdout);
	if (err && err != -ENOENT) {
		/* replay said what it could not decode; the summary says how far
		 * the simulation got. */
		fprintf(stderr, "%s: the replay stopped: %s\n", who, strerror(-err));
		status = EXIT_RUNTIME;
	}
	if (!o->quiet)
		print_summary(info, p, polsim_stats(ps));
	polsim_free(ps);
	replay_close(r);
	return status;
}

int cmd_check_policy(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "mountinfo", required_argument, NULL, OPT_MOUNTINFO },
		/* Undocumented, as for every command: the golden tests' fixture
		 * trees name their own runtime state and /proc. */
		{ "state-root", required_argument, NULL, OPT_STATE_ROOT },
		{ "proc-root", required_argument, NULL, OPT_PROC_ROOT },
		{ "sys-root", required_argument, NULL, OPT_SYS_ROOT },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "replay", required_argument, NULL, OPT_REPLAY },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common cc = { .no_bpf = true };
	struct sim_opts so = { 0 };
	const struct cg_snapshot *snap;
	struct pol_errors errs = { 0 };
	struct collector *c = NULL;
	struct policy *p = NULL;
	bool quiet = false;
	int opt, err;

	cc.copts.quiet = true;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(check_help, stdout);
			return 0;
		case OPT_QUIET:
			quiet = true;	/* here: nothing on success */
			break;
		case OPT_REPLAY:
			so.dir = optarg;
			break;
		case OPT_SINCE:
			so.since = optarg;
			break;
		case OPT_UNTIL:
			so.until = optarg;
			break;
		case OPT_JSON:
			so.json = true;
			break;
		default:
			if (cli_other_opt(&cc, opt, optarg, check_help))
				return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "cgwarden check-policy: give one FILE (see --help)\n");
		return EXIT_USAGE;
	}
	if (!so.dir && (so.since || so.until || so.json)) {
		fprintf(stderr, "cgwarden check-policy: %s needs --replay DIR\n",
			so.since ? "--since" : so.until ? "--until" : "--json");
		return EXIT_USAGE;
	}
	err = json_policy_load(argv[optind], &p, &errs);
	if (err) {
		for (size_t i = 0; i < errs.nr; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		if (errs.oom || err == -ENOMEM)
			fprintf(stderr, "cgwarden check-policy: out of memory\n");
		fprintf(stderr, "cgwarden check-policy: %s: %zu error%s\n", argv[optind], errs.nr,
			errs.nr == 1 ? "" : "s");
		pol_errors_free(&errs);
		return EXIT_RUNTIME;
	}
	if (so.dir) {
		so.quiet = quiet;
		err = simulate(p, argv[optind], &so);
		policy_free(p);
		return err;
	}
	if (quiet) {
		policy_free(p);
		return 0;
	}
	printf("%s: valid, %zu rule%s; %s", argv[optind], p->nr_rules, p->nr_rules == 1 ? "" : "s",
	       p->dry_run ? "dry run (nothing is changed)" : "acting");
	if (p->budget_per_minute)
		printf("; at most %u actions a minute", p->budget_per_minute);
	if (p->floor_bytes) {
		char f[32];

		limitval_format_bytes_human(p->floor_bytes, f, sizeof(f));
		printf("; memory floor %s", f);
	}
	printf("\nprotected: the root, init.scope, cgwarden's own cgroup");
	for (size_t i = 0; i < p->nr_protected; i++)
		printf(", %s", p->protected[i]);
	printf("\n");
	err = cli_open_collector(&cc, &c);
	if (err) {
		policy_free(p);
		return err;
	}
	err = collector_tick(c, &snap);
	if (err) {
		fprintf(stderr, "cgwarden check-policy: reading %s: %s\n", collector_root(c),
			strerror(-err));
		snap = NULL;
	}
	for (size_t i = 0; i < p->nr_rules; i++) {
		print_rule(&p->rules[i]);
		print_adaptive(p, &p->rules[i]);
		if (snap) {
			print_matches(p, i, snap);
			adapt_summary(p, i, snap, &errs);
		}
	}
	if (snap)
		printf("(rates need two ticks and are absent in this one-tick view)\n");
	collector_free(c);
	policy_free(p);
	/* After all of stdout, so that the two read in one order when they
	 * go to one place. */
	fflush(stdout);
	if (errs.nr || errs.oom) {
		for (size_t i = 0; i < errs.nr; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		if (errs.oom)
			fprintf(stderr, "cgwarden check-policy: out of memory\n");
		fprintf(stderr, "cgwarden check-policy: %s: %zu error%s on this host\n",
			argv[optind], errs.nr, errs.nr == 1 ? "" : "s");
		pol_errors_free(&errs);
		return EXIT_RUNTIME;
	}
	/* The file is valid, but what it matches could not be shown: "no
	 * cgroup tree" in --help's words. */
	return snap ? 0 : EXIT_USAGE;
}
