/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The policy file and the daemon's state file, read with json-c. A policy is
 * written by people: every mistake is reported (not just the first), with
 * the place (line:column for syntax, the field path for meaning) and what
 * was expected. Unknown fields are errors, so a typo never silently turns a
 * guard off.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "json_policy.h"
#include "limitval.h"

/* The cap on what is read (cgwarden-policy(5)): a policy is written by
 * people, a few KiB. */
#define POLICY_FILE_MAX JSON_POLICY_FILE_MAX

void pol_errors_free(struct pol_errors *e)
{
	for (size_t i = 0; i < e->nr; i++)
		free(e->msg[i]);
	free(e->msg);
	memset(e, 0, sizeof(*e));
}

struct ctx {
	const char *file;
	struct pol_errors *errs;
	char path[256];		/* the field being read: rules[2].then[1] */
};

/* Adds a formatted message (owned by errs from now on); a failed
 * allocation marks errs as incomplete. */
static void push_error(struct ctx *c, char *m, int len)
{
	char **n;

	if (len < 0) {
		c->errs->oom = true;
		return;
	}
	n = realloc(c->errs->msg, (c->errs->nr + 1) * sizeof(*n));
	if (!n) {
		free(m);
		c->errs->oom = true;
		return;
	}
	c->errs->msg = n;
	c->errs->msg[c->errs->nr++] = m;
}

__attribute__((format(printf, 3, 4)))
static void err_at(struct ctx *c, const char *field, const char *fmt, ...)
{
	char reason[512], *m = NULL;
	va_list ap;
	int len;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (field && *field)
		len = asprintf(&m, "%s: %s%s%s: %s", c->file, c->path, *c->path ? "." : "", field,
			       reason);
	else
		len = asprintf(&m, "%s: %s%s%s", c->file, c->path, *c->path ? ": " : "", reason);
	push_error(c, m, len);
}

/* A syntax error: FILE:LINE:COL: reason. */
__attribute__((format(printf, 4, 5)))
static void err_line(struct ctx *c, int line, int col, const char *fmt, ...)
{
	char reason[256], *m = NULL;
	va_list ap;
	int len;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	len = asprintf(&m, "%s:%d:%d: %s", c->file, line, col, reason);
	push_error(c, m, len);
}

/* Enters a sub-path ("rules[2]"); returns the old length to leave it. */
__attribute__((format(printf, 2, 3)))
static size_t enter(struct ctx *c, const char *fmt, ...)
{
	size_t old = strlen(c->path);
	va_list ap;

	if (old && old < sizeof(c->path) - 1 && fmt[0] != '[')
		c->path[old] = '.', c->path[old + 1] = '\0';
	va_start(ap, fmt);
	vsnprintf(c->path + strlen(c->path), sizeof(c->path) - strlen(c->path), fmt, ap);
	va_end(ap);
	return old;
}

static void leave(struct ctx *c, size_t old)
{
	c->path[old] = '\0';
}

static const char *type_name(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double:
	case json_type_int: return "a number";
	case json_type_string: return "a string";
	case json_type_array: return "an array";
	case json_type_object: return "an object";
	}
	return "?";
}

/* Every key of obj must be one of allowed (NULL-terminated). */
static void check_keys(struct ctx *c, struct json_object *obj, const char *const *allowed,
		       const char *what)
{
	json_object_object_foreach(obj, key, val) {
		bool ok = false;
		char list[256] = "";
		size_t o = 0;

		(void)val;
		for (const char *const *a = allowed; *a; a++) {
			ok |= strcmp(*a, key) == 0;
			o += (size_t)snprintf(list + o, o < sizeof(list) ? sizeof(list) - o : 0,
					      "%s%s", o ? ", " : "", *a);
			if (o >= sizeof(list))
				o = sizeof(list) - 1;
		}
		if (!ok)
			err_at(c, key, "unknown field in %s (expected one of: %s)", what, list);
	}
}

static struct json_object *get(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

/* "10s", "500ms", "2m", "1h", "1.5", 3 (seconds), 0. */
static int parse_duration(struct json_object *v, uint64_t *out)
{
	double d, scale = 1e6;
	const char *s, *end;
	char *e;

	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
		d = json_object_get_double(v);
	} else if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		errno = 0;
		d = strtod(s, &e);
		end = e;
		if (errno || end == s)
			return -EINVAL;
		if (strcmp(end, "ms") == 0)
			scale = 1e3;
		else if (strcmp(end, "us") == 0)
			scale = 1;
		else if (strcmp(end, "m") == 0)
			scale = 60e6;
		else if (strcmp(end, "h") == 0)
			scale = 3600e6;
		else if (*end && strcmp(end, "s") != 0)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	d *= scale;
	/* A week is far beyond any ladder; beyond it is a typo. */
	if (!(d >= 0) || d > 604800e6)
		return -ERANGE;
	*out = (uint64_t)d;
	return 0;
}

static bool duration_field(struct ctx *c, struct json_object *obj, const char *key,
			   uint64_t *out)
{
	struct json_object *v = get(obj, key);
	int err;

	if (!v)
		return false;
	err = parse_duration(v, out);
	if (err == -ERANGE)
		err_at(c, key, "a duration from 0 to 7 days, not %s", json_object_to_json_string(v));
	else if (err)
		err_at(c, key, "expected a duration such as \"10s\", \"500ms\", \"2m\" or a "
		       "number of seconds, not %s", json_object_to_json_string(v));
	return !err;
}

/* A size: 536870912, "512M", "max". */
static int bytes_value(struct ctx *c, struct json_object *v, const char *key, uint64_t *out)
{
	char why[LIMITVAL_WHY_MAX], num[64];

	if (json_object_is_type(v, json_type_int)) {
		if (json_object_get_int64(v) < 0) {
			err_at(c, key, "a size cannot be negative");
			return -EINVAL;
		}
		*out = json_object_get_uint64(v);
		return 0;
	}
	if (json_object_is_type(v, json_type_double)) {
		snprintf(num, sizeof(num), "%s", json_object_get_string(v));
		v = NULL;
	}
	if (!v || json_object_is_type(v, json_type_string)) {
		if (limitval_parse_bytes(v ? json_object_get_string(v) : num, out, why, sizeof(why))) {
			err_at(c, key, "%s", why);
			return -EINVAL;
		}
		return 0;
	}
	err_at(c, key, "expected a size such as \"512M\", \"2G\" or a number of bytes, not %s",
	       type_name(v));
	return -EINVAL;
}

static bool bool_field(struct ctx *c, struct json_object *obj, const char *key, bool *out)
{
	struct json_object *v = get(obj, key);

	if (!v)
		return false;
	if (!json_object_is_type(v, json_type_boolean)) {
		err_at(c, key, "expected true or false, not %s", type_name(v));
		return false;
	}
	*out = json_object_get_boolean(v);
	return true;
}

static char *string_field(struct ctx *c, struct json_object *obj, const char *key, bool required)
{
	struct json_object *v = get(obj, key);
	char *s;

	if (!v) {
		if (required)
			err_at(c, key, "missing");
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string) || !*json_object_get_string(v)) {
		err_at(c, key, "expected a non-empty string, not %s", type_name(v));
		return NULL;
	}
	s = strdup(json_object_get_string(v));
	if (!s)
		c->errs->oom = true;
	return s;
}

/* ---- conditions --------------------------------------------------------- */

static const char *const cond_keys[] = { "metric", "op", "value", "for", "clear", "window", NULL };

static void parse_cond(struct ctx *c, struct json_object *o, struct pol_cond *pc)
{
	struct json_object *v;
	const char *name, *op;

	if (!json_object_is_type(o, json_type_object)) {
		err_at(c, NULL, "a condition is an object {\"metric\", \"op\", \"value\", "
		       "\"for\"}, not %s", type_name(o));
		return;
	}
	check_keys(c, o, cond_keys, "a condition");
	v = get(o, "metric");
	if (!v || !json_object_is_type(v, json_type_string)) {
		err_at(c, "metric", v ? "expected a metric name (cgwarden-policy(5)), not %s"
				      : "missing%s", v ? type_name(v) : "");
		return;
	}
	name = json_object_get_string(v);
	if (strlen(name) >= sizeof(pc->metric_name) ||
	    policy_metric_resolve(name, &pc->metric)) {
		err_at(c, "metric", "unknown metric '%.80s' (see METRICS.md and "
		       "cgwarden-policy(5): e.g. memory.current_bytes, cpu.usage_ratio, "
		       "psi.memory.some.avg10)", name);
		return;
	}
	snprintf(pc->metric_name, sizeof(pc->metric_name), "%s", name);
	v = get(o, "op");
	op = v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
	if (!v)
		pc->op = POL_GT;
	else if (op && strcmp(op, ">") == 0)
		pc->op = POL_GT;
	else if (op && strcmp(op, ">=") == 0)
		pc->op = POL_GE;
	else if (op && strcmp(op, "<") == 0)
		pc->op = POL_LT;
	else if (op && strcmp(op, "<=") == 0)
		pc->op = POL_LE;
	else
		err_at(c, "op", "expected one of \">\", \">=\", \"<\", \"<=\", not %s",
		       json_object_to_json_string(v));
	v = get(o, "value");
	if (!v) {
		err_at(c, "value", "missing");
	} else if (pc->metric.bytes || json_object_is_type(v, json_type_string)) {
		uint64_t b;

		if (!pc->metric.bytes) {
			err_at(c, "value", "'%s' is not a number ('%s' is not a size in bytes)",
			       json_object_get_string(v), name);
		} else if (bytes_value(c, v, "value", &b) == 0) {
			pc->value = b == CG_UNLIMITED ? INFINITY : (double)b;
		}
	} else if (json_object_is_type(v, json_type_int) ||
		   json_object_is_type(v, json_type_double)) {
		pc->value = json_object_get_double(v);
	} else {
		err_at(c, "value", "expected a number, not %s", type_name(v));
	}
	pc->clear = pc->value;
	v = get(o, "clear");
	if (v) {
		uint64_t b;

		if (pc->metric.bytes && bytes_value(c, v, "clear", &b) == 0)
			pc->clear = b == CG_UNLIMITED ? INFINITY : (double)b;
		else if (!pc->metric.bytes && (json_object_is_type(v, json_type_int) ||
					       json_object_is_type(v, json_type_double)))
			pc->clear = json_object_get_double(v);
		else if (!pc->metric.bytes)
			err_at(c, "clear", "expected a number, not %s", type_name(v));
		/* Hysteresis is on the far side: "> 80, clear 60" holds down to 60. */
		if ((pc->op == POL_GT || pc->op == POL_GE) && pc->clear > pc->value)
			err_at(c, "clear", "for '%s' the clear level must be at or below the "
			       "value (it is where the condition stops holding)",
			       pc->op == POL_GT ? ">" : ">=");
		if ((pc->op == POL_LT || pc->op == POL_LE) && pc->clear < pc->value)
			err_at(c, "clear", "for '<' the clear level must be at or above the value");
	}
	duration_field(c, o, "for", &pc->for_usec);
	/* PSI averages crossing upwards get a kernel trigger by default. */
	if (pc->metric.psi_res >= 0 && (pc->op == POL_GT || pc->op == POL_GE))
		pc->window_usec = 1000000;
	if (get(o, "window")) {
		uint64_t w = 0;

		if (pc->metric.psi_res < 0 || !(pc->op == POL_GT || pc->op == POL_GE)) {
			err_at(c, "window", "only a PSI average (psi.*.avg10/60/300) with '>' "
			       "or '>=' has a kernel trigger window");
		} else if (duration_field(c, o, "window", &w)) {
			if (w && (w < 500000 || w > 10000000))
				err_at(c, "window", "the kernel takes PSI trigger windows from "
				       "500ms to 10s (0 turns the trigger off)");
			pc->window_usec = w;
		}
	}
	if (pc->metric.psi_res >= 0 && pc->window_usec && !(pc->value > 0 && pc->value < 100))
		err_at(c, "value", "a PSI average with a trigger window is a percentage "
		       "above 0 and below 100");
}

static void parse_when(struct ctx *c, struct json_object *w, struct pol_rule *r)
{
	static const char *const keys[] = { "all", "any", NULL };
	struct json_object *list = NULL;
	size_t old;

	if (!json_object_is_type(w, json_type_object)) {
		err_at(c, "when", "expected {\"all\": [...]} or {\"any\": [...]}, not %s",
		       type_name(w));
		return;
	}
	old = enter(c, "when");
	if (get(w, "metric")) {
		/* One condition written directly. */
		r->nr_conds = 1;
		parse_cond(c, w, &r->conds[0]);
		leave(c, old);
		return;
	}
	check_keys(c, w, keys, "when");
	if (get(w, "all") && get(w, "any")) {
		err_at(c, NULL, "give \"all\" or \"any\", not both");
	} else if ((list = get(w, "all")) || (list = get(w, "any"))) {
		r->any = get(w, "any") != NULL;
		if (!json_object_is_type(list, json_type_array) ||
		    json_object_array_length(list) == 0 ||
		    json_object_array_length(list) > POL_MAX_CONDS) {
			err_at(c, r->any ? "any" : "all", "expected an array of 1 to %d conditions",
			       POL_MAX_CONDS);
		} else {
			r->nr_conds = json_object_array_length(list);
			for (size_t i = 0; i < r->nr_conds; i++) {
				size_t o2 = enter(c, "%s[%zu]", r->any ? "any" : "all", i);

				parse_cond(c, json_object_array_get_idx(list, i), &r->conds[i]);
				leave(c, o2);
			}
		}
	} else {
		err_at(c, NULL, "expected \"all\" or \"any\" (a list of conditions), or one "
		       "condition with \"metric\"");
	}
	leave(c, old);
}

/* ---- steps -------------------------------------------------------------- */

static const char *const step_actions[] = { "memory.high", "memory.max", "cpu.max",
					    "cpu.weight", "freeze", "kill", "hook", "log", NULL };
static const char *const step_keys[] = { "memory.high", "memory.max", "cpu.max", "cpu.weight",
					 "freeze", "kill", "hook", "log", "wait", NULL };

static void parse_step(struct ctx *c, struct json_object *o, struct pol_step *s)
{
	char why[LIMITVAL_WHY_MAX];
	const char *which = NULL;
	struct json_object *v;
	int n = 0;

	if (!json_object_is_type(o, json_type_object)) {
		err_at(c, NULL, "a step is an object such as {\"memory.high\": \"512M\", "
		       "\"wait\": \"30s\"}, not %s", type_name(o));
		return;
	}
	check_keys(c, o, step_keys, "a step");
	for (const char *const *a = step_actions; *a; a++)
		if (get(o, *a)) {
			which = *a;
			n++;
		}
	if (n != 1) {
		err_at(c, NULL, "a step has exactly one action (memory.high, memory.max, cpu.max, "
		       "cpu.weight, freeze, kill, hook, log); this one has %d", n);
		return;
	}
	duration_field(c, o, "wait", &s->wait_usec);
	v = get(o, which);
	if (strcmp(which, "memory.high") == 0 || strcmp(which, "memory.max") == 0) {
		s->action = which[7] == 'h' ? POL_MEMORY_HIGH : POL_MEMORY_MAX;
		if (json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), "adaptive") == 0) {
			/* memory.max has no give: a stall there is an OOM kill. */
			if (s->action == POL_MEMORY_HIGH)
				s->adaptive = true;
			else
				err_at(c, which, "only memory.high can be \"adaptive\" (a "
				       "memory.max that is too low kills)");
		} else {
			bytes_value(c, v, which, &s->value);
		}
	} else if (strcmp(which, "cpu.max") == 0) {
		s->action = POL_CPU_MAX;
		s->period = LIMITVAL_CPU_PERIOD_DEFAULT;
		if (json_object_is_type(v, json_type_string)) {
			if (limitval_parse_cpu_max(json_object_get_string(v), &s->value, &s->period,
						   why, sizeof(why)))
				err_at(c, which, "%s", why);
		} else if (json_object_is_type(v, json_type_int) ||
			   json_object_is_type(v, json_type_double)) {
			/* A number is CPUs, as `cgwarden set --cpu` takes; json-c
			 * gives back the number's text as written ("0.2"). */
			if (limitval_parse_cpus(json_object_get_string(v), s->period, &s->value,
						why, sizeof(why)))
				err_at(c, which, "%s", why);
		} else {
			err_at(c, which, "expected CPUs (0.5) or \"QUOTA PERIOD\" in usec, not %s",
			       type_name(v));
		}
	} else if (strcmp(which, "cpu.weight") == 0) {
		s->action = POL_CPU_WEIGHT;
		if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_string)) {
			if (limitval_parse_weight(json_object_get_string(v), &s->value, why, sizeof(why)))
				err_at(c, which, "%s", why);
		} else {
			err_at(c, which, "expected a weight from 1 to 10000, not %s", type_name(v));
		}
	} else if (strcmp(which, "freeze") == 0 || strcmp(which, "kill") == 0) {
		s->action = which[0] == 'f' ? POL_FREEZE : POL_KILL;
		if (!json_object_is_type(v, json_type_boolean) || !json_object_get_boolean(v))
			err_at(c, which, "write \"%s\": true", which);
	} else if (strcmp(which, "log") == 0) {
		s->action = POL_LOG;
		s->message = string_field(c, o, "log", true);
	} else {
		static const char *const hook_keys[] = { "path", "timeout", NULL };
		size_t old;

		s->action = POL_HOOK;
		s->hook_timeout_usec = 10000000;
		if (!json_object_is_type(v, json_type_object)) {
			err_at(c, which, "expected {\"path\": \"/usr/local/bin/x\", \"timeout\": "
			       "\"5s\"}, not %s", type_name(v));
			return;
		}
		old = enter(c, "hook");
		check_keys(c, v, hook_keys, "a hook");
		s->hook_path = string_field(c, v, "path", true);
		if (s->hook_path && s->hook_path[0] != '/')
			err_at(c, "path", "a hook is an absolute path ('%.100s' is not)", s->hook_path);
		if (duration_field(c, v, "timeout", &s->hook_timeout_usec) &&
		    (s->hook_timeout_usec < 1000 || s->hook_timeout_usec > 300000000))
			err_at(c, "timeout", "a hook timeout is from 1ms to 5m");
		leave(c, old);
	}
}

/* ---- rules -------------------------------------------------------------- */

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static int enum_by_name(const char *s, const char *(*name)(int), int count)
{
	for (int i = 0; i < count; i++) {
		const char *n = name(i);

		if (n && strcmp(n, s) == 0)
			return i;
	}
	return -1;
}

static const char *kind_name(int k) { return cg_kind_name((enum cg_kind)k); }
static const char *rt_name(int k) { return cg_runtime_name((enum cg_runtime)k); }

static void parse_match(struct ctx *c, struct json_object *m, struct pol_rule *r)
{
	static const char *const keys[] = { "path", "name", "namespace", "pod", "kind",
					    "runtime", NULL };
	static const char *const globs[POL_M__GLOBS] = { "path", "name", "namespace", "pod" };
	size_t old;
	char *s;

	if (!json_object_is_type(m, json_type_object)) {
		err_at(c, "match", "expected an object such as {\"path\": "
		       "\"system.slice/*.service\"}, not %s", type_name(m));
		return;
	}
	old = enter(c, "match");
	check_keys(c, m, keys, "match");
	for (int g = 0; g < POL_M__GLOBS; g++)
		r->glob[g] = string_field(c, m, globs[g], false);
	if (r->glob[POL_M_PATH] && r->glob[POL_M_PATH][0] == '/')
		err_at(c, "path", "paths are relative to the cgroup2 root: drop the leading '/'");
	if ((s = string_field(c, m, "kind", false))) {
		r->kind = enum_by_name(s, kind_name, CG_KIND__COUNT);
		if (r->kind < 0)
			err_at(c, "kind", "'%.40s' is not a kind (container, pod, service, scope, "
			       "slice, session, other)", s);
		free(s);
	}
	if ((s = string_field(c, m, "runtime", false))) {
		r->runtime = enum_by_name(s, rt_name, CG_RT__COUNT);
		if (r->runtime < 0)
			err_at(c, "runtime", "'%.40s' is not a runtime (docker, containerd, cri-o, "
			       "podman, systemd, kubernetes)", s);
		free(s);
	}
	leave(c, old);
}

static void parse_floor(struct ctx *c, struct json_object *o, uint64_t *floor)
{
	static const char *const keys[] = { "memory", NULL };
	struct json_object *v = get(o, "floor");
	size_t old;

	if (!v)
		return;
	if (!json_object_is_type(v, json_type_object)) {
		err_at(c, "floor", "expected {\"memory\": \"64M\"}, not %s", type_name(v));
		return;
	}
	old = enter(c, "floor");
	check_keys(c, v, keys, "floor");
	if (get(v, "memory"))
		bytes_value(c, get(v, "memory"), "memory", floor);
	leave(c, old);
}

static const char *const rule_keys[] = { "name", "dry_run", "match", "when", "then",
					 "restore_after", "cooldown", "floor", "adaptive", NULL };

/* A number strictly above 0 and at most hi (below it when !hi_incl). */
static bool share_field(struct ctx *c, struct json_object *obj, const char *key, double hi,
			bool hi_incl, const char *what, double *out)
{
	struct json_object *v = get(obj, key);
	double d;

	if (!v)
		return false;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)) {
		err_at(c, key, "expected a number, not %s", type_name(v));
		return false;
	}
	d = json_object_get_double(v);
	if (!(d > 0) || d > hi || (!hi_incl && d == hi)) {
		err_at(c, key, "%s above 0 and %s %g, not %s", what, hi_incl ? "at most" : "below",
		       hi, json_object_to_json_string(v));
		return false;
	}
	*out = d;
	return true;
}

/* Shorter, and one interval's stall is a few scheduler ticks: noise. */
#define ADAPT_INTERVAL_MIN_USEC 100000u

/* "adaptive": {"pressure", "interval", "step", "min"}, each optional. */
static void parse_adaptive(struct ctx *c, struct json_object *v, struct pol_adaptive *a)
{
	static const char *const keys[] = { "pressure", "interval", "step", "min", NULL };
	struct json_object *m;
	size_t old;

	if (!json_object_is_type(v, json_type_object)) {
		err_at(c, "adaptive", "expected an object such as {\"pressure\": 0.1, "
		       "\"interval\": \"6s\", \"step\": 0.01, \"min\": \"64M\"}, not %s",
		       type_name(v));
		return;
	}
	old = enter(c, "adaptive");
	check_keys(c, v, keys, "adaptive");
	share_field(c, v, "pressure", 100, false, "a stall share in percent", &a->pressure_pct);
	share_field(c, v, "step", 0.5, true, "a share of memory.current", &a->step);
	if (duration_field(c, v, "interval", &a->interval_usec) &&
	    a->interval_usec < ADAPT_INTERVAL_MIN_USEC)
		err_at(c, "interval", "at least 100ms (a shorter one measures noise), not %s",
		       json_object_to_json_string(get(v, "interval")));
	if ((m = get(v, "min")) && bytes_value(c, m, "min", &a->min_bytes) == 0 &&
	    a->min_bytes == CG_UNLIMITED)
		err_at(c, "min", "a size, not max (the limit could never go down)");
	leave(c, old);
}

/*
 * The adaptive step and the rule's tuning: one adaptive step at most, no
 * fixed memory.high beside it (the two would fight over one file), and an
 * "adaptive" object only for a ladder that has the step.
 */
static void check_adaptive(struct ctx *c, struct json_object *o, struct pol_rule *r)
{
	struct json_object *v = get(o, "adaptive");
	int first = -1;

	r->adaptive = (struct pol_adaptive){
		.pressure_pct = POL_ADAPT_PRESSURE_DEFAULT,
		.interval_usec = POL_ADAPT_INTERVAL_DEFAULT,
		.step = POL_ADAPT_STEP_DEFAULT,
	};
	for (size_t i = 0; i < r->nr_steps; i++) {
		const struct pol_step *s = &r->steps[i];
		size_t old;

		if (!s->adaptive)
			continue;
		old = enter(c, "then[%zu]", i);
		if (first >= 0)
			err_at(c, "memory.high", "a second adaptive step (then[%d] is one): one "
			       "per ladder", first);
		else
			first = (int)i;
		leave(c, old);
	}
	for (size_t i = 0; first >= 0 && i < r->nr_steps; i++) {
		const struct pol_step *s = &r->steps[i];
		size_t old;

		if (s->action != POL_MEMORY_HIGH || s->adaptive)
			continue;
		old = enter(c, "then[%zu]", i);
		err_at(c, "memory.high", "a fixed memory.high in a ladder with an adaptive one "
		       "(then[%d]): the two would fight over the same limit", first);
		leave(c, old);
	}
	if (v && first < 0)
		err_at(c, "adaptive", "no {\"memory.high\": \"adaptive\"} step in this rule's "
		       "ladder (then) to tune");
	if (v)
		parse_adaptive(c, v, &r->adaptive);
	r->has_adaptive = v || first >= 0;
}

static void parse_rule(struct ctx *c, struct json_object *o, struct pol_rule *r)
{
	struct json_object *v;

	r->kind = r->runtime = -1;
	if (!json_object_is_type(o, json_type_object)) {
		err_at(c, NULL, "a rule is an object, not %s", type_name(o));
		return;
	}
	check_keys(c, o, rule_keys, "a rule");
	r->fingerprint = fnv1a(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	r->name = string_field(c, o, "name", true);
	if (r->name) {
		if (strlen(r->name) >= POL_NAME_MAX)
			err_at(c, "name", "at most %d characters", POL_NAME_MAX - 1);
		for (const char *p = r->name; *p; p++)
			if (!(*p == '-' || *p == '_' || *p == '.' || (*p >= '0' && *p <= '9') ||
			      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) {
				err_at(c, "name", "letters, digits, '-', '_' and '.' only "
				       "(it is a Prometheus label and a key in the state file)");
				break;
			}
	}
	bool_field(c, o, "dry_run", &r->dry_run);
	if ((v = get(o, "match")))
		parse_match(c, v, r);
	else
		err_at(c, "match", "missing (write {} to match every cgroup but the root)");
	if ((v = get(o, "when")))
		parse_when(c, v, r);
	else
		err_at(c, "when", "missing");
	v = get(o, "then");
	if (!v) {
		err_at(c, "then", "missing (a list of steps)");
	} else if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0 ||
		   json_object_array_length(v) > POL_MAX_STEPS) {
		err_at(c, "then", "expected a list of 1 to %d steps", POL_MAX_STEPS);
	} else {
		r->nr_steps = json_object_array_length(v);
		for (size_t i = 0; i < r->nr_steps; i++) {
			size_t old = enter(c, "then[%zu]", i);

			parse_step(c, json_object_array_get_idx(v, i), &r->steps[i]);
			leave(c, old);
		}
	}
	duration_field(c, o, "restore_after", &r->restore_after_usec);
	duration_field(c, o, "cooldown", &r->cooldown_usec);
	parse_floor(c, o, &r->floor_bytes);
	check_adaptive(c, o, r);
}

static const char *const top_keys[] = { "dry_run", "budget", "protected", "floor", "rules",
					NULL };

static void parse_top(struct ctx *c, struct json_object *root, struct policy *p)
{
	struct json_object *v;

	if (!json_object_is_type(root, json_type_object)) {
		err_at(c, NULL, "a policy is a JSON object {\"rules\": [...]}, not %s",
		       type_name(root));
		return;
	}
	check_keys(c, root, top_keys, "the policy");
	bool_field(c, root, "dry_run", &p->dry_run);
	if ((v = get(root, "budget"))) {
		static const char *const keys[] = { "actions_per_minute", NULL };
		struct json_object *a;
		size_t old = enter(c, "budget");

		if (!json_object_is_type(v, json_type_object)) {
			err_at(c, NULL, "expected {\"actions_per_minute\": N}");
		} else {
			check_keys(c, v, keys, "budget");
			a = get(v, "actions_per_minute");
			if (a && (!json_object_is_type(a, json_type_int) ||
				  json_object_get_int64(a) < 1 ||
				  json_object_get_int64(a) > POL_BUDGET_MAX))
				err_at(c, "actions_per_minute", "expected a number from 1 to %d",
				       POL_BUDGET_MAX);
			else if (a)
				p->budget_per_minute = (uint32_t)json_object_get_int64(a);
		}
		leave(c, old);
	}
	if ((v = get(root, "protected"))) {
		if (!json_object_is_type(v, json_type_array)) {
			err_at(c, "protected", "expected a list of path globs");
		} else {
			size_t n = json_object_array_length(v);

			p->protected = calloc(n ? n : 1, sizeof(char *));
			if (!p->protected) {
				c->errs->oom = true;
				return;
			}
			for (size_t i = 0; i < n; i++) {
				struct json_object *e = json_object_array_get_idx(v, i);

				if (!json_object_is_type(e, json_type_string) ||
				    !*json_object_get_string(e)) {
					size_t old = enter(c, "protected[%zu]", i);

					err_at(c, NULL, "expected a path glob, not %s", type_name(e));
					leave(c, old);
					continue;
				}
				/* As match.path: a leading '/' would never match. */
				if (json_object_get_string(e)[0] == '/') {
					size_t old = enter(c, "protected[%zu]", i);

					err_at(c, NULL, "paths are relative to the cgroup2 root: "
					       "drop the leading '/'");
					leave(c, old);
					continue;
				}
				p->protected[p->nr_protected] = strdup(json_object_get_string(e));
				if (!p->protected[p->nr_protected])
					c->errs->oom = true;
				else
					p->nr_protected++;
			}
		}
	}
	parse_floor(c, root, &p->floor_bytes);
	v = get(root, "rules");
	if (!v) {
		err_at(c, "rules", "missing");
		return;
	}
	if (!json_object_is_type(v, json_type_array)) {
		err_at(c, "rules", "expected a list of rules, not %s", type_name(v));
		return;
	}
	p->nr_rules = json_object_array_length(v);
	p->rules = calloc(p->nr_rules ? p->nr_rules : 1, sizeof(*p->rules));
	if (!p->rules) {
		p->nr_rules = 0;
		c->errs->oom = true;
		return;
	}
	for (size_t i = 0; i < p->nr_rules; i++) {
		size_t old = enter(c, "rules[%zu]", i);

		parse_rule(c, json_object_array_get_idx(v, i), &p->rules[i]);
		for (size_t j = 0; j < i && p->rules[i].name; j++)
			if (p->rules[j].name && strcmp(p->rules[j].name, p->rules[i].name) == 0)
				err_at(c, "name", "'%s' is also the name of rules[%zu]: names are "
				       "unique", p->rules[i].name, j);
		leave(c, old);
	}
}

/* ---- what json-c lets through ------------------------------------------- */

/*
 * json-c keeps the last of two equal keys without a word, and takes NaN,
 * Infinity and numbers beyond a double (1e400 -> inf) even in strict mode.
 * A second "dry_run" that silently wins turns a trial into enforcement, so
 * after json-c has accepted the syntax this scan of the same text finds
 * both, each at its byte offset: the second of two equal keys (compared as
 * json-c compares them, after unescaping) and the non-finite number.
 */
struct strict_key {
	size_t at, len;		/* the unescaped key in the arena */
	size_t off;		/* its opening quote in the text */
};

struct strict_problem {
	size_t off;
	const char *why;	/* static text */
};

struct strict_scan {
	const char *text;
	size_t len;
	char *arena;
	size_t arena_len, arena_cap;
	struct strict_key *keys;
	size_t nr_keys, cap_keys;
	struct strict_problem *probs;
	size_t nr_probs, cap_probs;
};

#define STRICT_DEPTH 256
/* The reason of a duplicate key; the report names the key. */
static const char STRICT_DUP_KEY[] = "is a key this object already has: each key once "
				     "(json-c would silently keep only the last)";

static int strict_problem(struct strict_scan *sc, size_t off, const char *why)
{
	if (sc->nr_probs == sc->cap_probs) {
		size_t cap = sc->cap_probs ? sc->cap_probs * 2 : 8;
		struct strict_problem *n = realloc(sc->probs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		sc->probs = n;
		sc->cap_probs = cap;
	}
	sc->probs[sc->nr_probs++] = (struct strict_problem){ off, why };
	return 0;
}

static int arena_put(struct strict_scan *sc, const char *b, size_t n)
{
	if (sc->arena_len + n > sc->arena_cap) {
		size_t cap = sc->arena_cap ? sc->arena_cap : 4096;
		char *a;

		while (cap < sc->arena_len + n)
			cap *= 2;
		a = realloc(sc->arena, cap);
		if (!a)
			return -ENOMEM;
		sc->arena = a;
		sc->arena_cap = cap;
	}
	memcpy(sc->arena + sc->arena_len, b, n);
	sc->arena_len += n;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static unsigned hex4(const char *p)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 4 | (unsigned)hexval(p[i]);
	return v;
}

/*
 * The string starting at the quote at *i (json-c accepted it, so escapes are
 * whole). As a key (is_key) it is unescaped into the arena; a NUL or an
 * unpaired surrogate in a key is a problem (json-c would cut or replace it,
 * making two different texts one key). *i ends after the closing quote.
 */
static int strict_string(struct strict_scan *sc, size_t *i, bool is_key, struct strict_key *k)
{
	const char *t = sc->text;
	size_t p = *i + 1, start = *i;
	int err = 0;

	k->at = sc->arena_len;
	k->off = start;
	while (p < sc->len && t[p] != '"') {
		char u8[4];
		size_t n = 0;
		unsigned cp;

		if (t[p] != '\\') {
			size_t run = p;

			while (run < sc->len && t[run] != '"' && t[run] != '\\')
				run++;
			if (is_key && (err = arena_put(sc, t + p, run - p)))
				return err;
			p = run;
			continue;
		}
		if (p + 1 >= sc->len)
			break;
		switch (t[p + 1]) {
		case 'u':
			if (p + 6 > sc->len) {
				p = sc->len;	/* json-c took it: cannot be cut */
				break;
			}
			cp = hex4(t + p + 2);
			p += 6;
			if (cp >= 0xd800 && cp < 0xdc00 && p + 6 <= sc->len && t[p] == '\\' &&
			    t[p + 1] == 'u' && hex4(t + p + 2) >= 0xdc00 && hex4(t + p + 2) < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (hex4(t + p + 2) - 0xdc00);
				p += 6;
			} else if (cp >= 0xd800 && cp < 0xe000) {
				if (is_key && (err = strict_problem(sc, start, "a key with an unpaired "
								   "\\u surrogate: not accepted")))
					return err;
				continue;
			}
			if (cp == 0 && is_key &&
			    (err = strict_problem(sc, start, "a key with \\u0000 in it: not accepted")))
				return err;
			if (cp < 0x80) {
				u8[n++] = (char)cp;
			} else if (cp < 0x800) {
				u8[n++] = (char)(0xc0 | cp >> 6);
				u8[n++] = (char)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				u8[n++] = (char)(0xe0 | cp >> 12);
				u8[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
				u8[n++] = (char)(0x80 | (cp & 0x3f));
			} else {
				u8[n++] = (char)(0xf0 | cp >> 18);
				u8[n++] = (char)(0x80 | ((cp >> 12) & 0x3f));
				u8[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
				u8[n++] = (char)(0x80 | (cp & 0x3f));
			}
			break;
		case 'b': u8[n++] = '\b'; p += 2; break;
		case 'f': u8[n++] = '\f'; p += 2; break;
		case 'n': u8[n++] = '\n'; p += 2; break;
		case 'r': u8[n++] = '\r'; p += 2; break;
		case 't': u8[n++] = '\t'; p += 2; break;
		default: u8[n++] = t[p + 1]; p += 2; break;	/* " \\ / */
		}
		if (is_key && (err = arena_put(sc, u8, n)))
			return err;
	}
	k->len = sc->arena_len - k->at;
	*i = p + 1;
	return 0;
}

static int key_cmp(const void *a, const void *b, void *arena)
{
	const struct strict_key *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp((char *)arena + x->at, (char *)arena + y->at, n);

	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* The keys of one object, [from, nr_keys): every key after the first of its
 * name is a problem. */
static int strict_object_done(struct strict_scan *sc, size_t from)
{
	struct strict_key *k = sc->keys + from;
	size_t n = sc->nr_keys - from;
	int err;

	qsort_r(k, n, sizeof(*k), key_cmp, sc->arena);
	for (size_t i = 1; i < n; i++) {
		if (k[i].len == k[i - 1].len &&
		    memcmp(sc->arena + k[i].at, sc->arena + k[i - 1].at, k[i].len) == 0 &&
		    (err = strict_problem(sc, k[i].off, STRICT_DUP_KEY)))
			return err;
	}
	sc->nr_keys = from;
	return 0;
}

/* Does the integer text fit json-c's int64 (negative) or uint64? */
static bool int_fits(const char *t, size_t n)
{
	static const char max_u[] = "18446744073709551615", min_i[] = "9223372036854775808";
	const char *lim = max_u;
	size_t ln;

	if (n && *t == '-') {
		t++;
		n--;
		lim = min_i;
	}
	while (n > 1 && *t == '0') {
		t++;
		n--;
	}
	ln = strlen(lim);
	return n < ln || (n == ln && memcmp(t, lim, n) <= 0);
}

static int prob_cmp(const void *a, const void *b)
{
	const struct strict_problem *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * Scans text (valid JSON by json-c's judgement) for what json-c lets
 * through. Fills *probs (sorted by offset, malloc'd) and *nr. 0 or -ENOMEM.
 */
static int strict_scan(const char *text, size_t len, struct strict_problem **probs, size_t *nr)
{
	struct { bool obj, want_key; size_t keys_from; } stack[STRICT_DEPTH];
	struct strict_scan sc = { .text = text, .len = len };
	size_t depth = 0, i = 0;
	int err = 0;

	while (i < len && !err) {
		char ch = text[i];

		if (ch == '{' || ch == '[') {
			if (depth == STRICT_DEPTH) {
				err = strict_problem(&sc, i, "nested deeper than 256 levels");
				break;
			}
			stack[depth].obj = ch == '{';
			stack[depth].want_key = ch == '{';
			stack[depth].keys_from = sc.nr_keys;
			depth++;
			i++;
		} else if (ch == '}' || ch == ']') {
			if (depth && stack[depth - 1].obj)
				err = strict_object_done(&sc, stack[depth - 1].keys_from);
			if (depth)
				depth--;
			i++;
		} else if (ch == ':') {
			if (depth)
				stack[depth - 1].want_key = false;
			i++;
		} else if (ch == ',') {
			if (depth && stack[depth - 1].obj)
				stack[depth - 1].want_key = true;
			i++;
		} else if (ch == '"') {
			bool is_key = depth && stack[depth - 1].obj && stack[depth - 1].want_key;
			struct strict_key k;

			err = strict_string(&sc, &i, is_key, &k);
			if (!err && is_key) {
				if (sc.nr_keys == sc.cap_keys) {
					size_t cap = sc.cap_keys ? sc.cap_keys * 2 : 64;
					struct strict_key *nk = realloc(sc.keys, cap * sizeof(*nk));

					if (!nk) {
						err = -ENOMEM;
						break;
					}
					sc.keys = nk;
					sc.cap_keys = cap;
				}
				sc.keys[sc.nr_keys++] = k;
			}
		} else if (ch == '-' || (ch >= '0' && ch <= '9') || ch == '+' || ch == '.' ||
			   (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')) {
			size_t s = i;
			char num[64];
			double d;

			while (i < len && (text[i] == '-' || text[i] == '+' || text[i] == '.' ||
					   (text[i] >= '0' && text[i] <= '9') ||
					   (text[i] >= 'A' && text[i] <= 'Z') ||
					   (text[i] >= 'a' && text[i] <= 'z')))
				i++;
			if ((i - s == 4 && (!memcmp(text + s, "true", 4) || !memcmp(text + s, "null", 4))) ||
			    (i - s == 5 && !memcmp(text + s, "false", 5)))
				continue;
			/* NaN, Infinity, -Infinity and friends: no JSON number. */
			for (size_t j = s; j < i; j++) {
				char c = (char)(text[j] | 0x20);

				if (c >= 'a' && c <= 'z' && c != 'e') {
					err = strict_problem(&sc, s, "not a finite number (JSON has no "
							     "NaN or Infinity)");
					goto next;
				}
			}
			if (i - s >= sizeof(num)) {
				/* 64 digits fit a double only with a small exponent:
				 * strtod says so either way, on a copy without cut. */
				char *big = strndup(text + s, i - s);

				if (!big) {
					err = -ENOMEM;
					break;
				}
				d = strtod(big, NULL);
				free(big);
			} else {
				memcpy(num, text + s, i - s);
				num[i - s] = '\0';
				d = strtod(num, NULL);
			}
			if (!isfinite(d))
				err = strict_problem(&sc, s, "a number beyond the range of a double "
						     "(it would read as infinity)");
			else if (!memchr(text + s, '.', i - s) && !memchr(text + s, 'e', i - s) &&
				 !memchr(text + s, 'E', i - s) && !int_fits(text + s, i - s))
				/* json-c would clamp it to the largest 64-bit value. */
				err = strict_problem(&sc, s, "a whole number beyond 64 bits");
next:
			;
		} else {
			i++;
		}
	}
	free(sc.arena);
	free(sc.keys);
	if (err) {
		free(sc.probs);
		return err;
	}
	if (sc.nr_probs)
		qsort(sc.probs, sc.nr_probs, sizeof(*sc.probs), prob_cmp);
	*probs = sc.probs;
	*nr = sc.nr_probs;
	return 0;
}

/* line:column (1-based) of byte offset off in text. */
static void line_col(const char *text, size_t len, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

#define STRICT_REPORT_MAX 20

/* The length of the quoted key at off as written, quotes included (at
 * most 80 bytes of it, for a message). */
static int key_text_len(const char *text, size_t len, size_t off)
{
	size_t e = off + 1;

	while (e < len && text[e] != '"' && e - off < 80)
		e += text[e] == '\\' ? 2 : 1;
	return (int)(e < len && text[e] == '"' ? e + 1 - off : (e > len ? len : e) - off);
}

/* The strict scan's problems as FILE:LINE:COL errors (at most 20 and a
 * count of the rest). Returns whether there was any (or no memory). */
static bool strict_report(struct ctx *c, const char *text, size_t len)
{
	struct strict_problem *probs = NULL;
	size_t nr = 0, at = 0;
	int line = 1, col = 1;

	if (strict_scan(text, len, &probs, &nr)) {
		c->errs->oom = true;
		return true;
	}
	for (size_t i = 0; i < nr && i < STRICT_REPORT_MAX; i++) {
		/* Sorted by offset: line and column go on from the last one. */
		for (; at < probs[i].off && at < len; at++) {
			if (text[at] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		if (probs[i].why == STRICT_DUP_KEY)
			err_line(c, line, col, "%.*s %s", key_text_len(text, len, probs[i].off),
				 text + probs[i].off, STRICT_DUP_KEY);
		else
			err_line(c, line, col, "%s", probs[i].why);
	}
	if (nr > STRICT_REPORT_MAX)
		err_at(c, NULL, "%zu more like these", nr - STRICT_REPORT_MAX);
	free(probs);
	return nr > 0;
}

int json_policy_parse(const char *name, const char *text, size_t len, struct policy **out,
		      struct pol_errors *errs)
{
	struct ctx c = { .file = name, .errs = errs };
	struct json_tokener *tok;
	struct json_object *root;
	struct policy *p;
	enum json_tokener_error jerr;
	size_t off;
	int line, col;

	if (len > POLICY_FILE_MAX) {
		err_at(&c, NULL, "larger than the cap of %u bytes (4 MiB) for a policy file: "
		       "not read", POLICY_FILE_MAX);
		return -EINVAL;
	}
	if (memchr(text, '\0', len)) {
		line_col(text, len, (size_t)((const char *)memchr(text, '\0', len) - text), &line, &col);
		err_line(&c, line, col, "a NUL byte: not a text file");
		return -EINVAL;
	}
	tok = json_tokener_new_ex(64);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue || (jerr == json_tokener_success && !root)) {
		line_col(text, len, len, &line, &col);
		err_line(&c, line, col, "the file ends inside the JSON text");
		json_tokener_free(tok);
		return -EINVAL;
	}
	if (jerr != json_tokener_success) {
		line_col(text, len, off, &line, &col);
		err_line(&c, line, col, "%s", json_tokener_error_desc(jerr));
		json_tokener_free(tok);
		return -EINVAL;
	}
	for (; off < len; off++) {
		if (text[off] != ' ' && text[off] != '\n' && text[off] != '\t' && text[off] != '\r') {
			line_col(text, len, off, &line, &col);
			err_line(&c, line, col, "text after the end of the JSON object");
			json_object_put(root);
			json_tokener_free(tok);
			return -EINVAL;
		}
	}
	json_tokener_free(tok);
	if (strict_report(&c, text, len)) {
		json_object_put(root);
		return errs->nr ? -EINVAL : -ENOMEM;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		json_object_put(root);
		return -ENOMEM;
	}
	p->file = strdup(name);
	parse_top(&c, root, p);
	json_object_put(root);
	if (!p->file)
		errs->oom = true;
	if (errs->nr || errs->oom) {
		bool oom = errs->oom && !errs->nr;

		policy_free(p);
		return oom ? -ENOMEM : -EINVAL;
	}
	*out = p;
	return 0;
}

/*
 * The whole file, at most max bytes: one byte more is -EFBIG, whatever
 * st_size said (a file may grow while it is read). The buffer never grows
 * past max + 1, so a huge file costs no more than the cap.
 */
static int read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY), err = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb;

			if (len > max) {
				err = -EFBIG;
				break;
			}
			cap = cap ? cap * 2 : 65536;
			if (cap > max + 1)
				cap = max + 1;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				err = -ENOMEM;
				break;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!err && len > max)
		err = -EFBIG;
	if (err) {
		free(buf);
		return err;
	}
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

int json_policy_load(const char *path, struct policy **out, struct pol_errors *errs)
{
	char *text;
	size_t len;
	int err = read_file(path, POLICY_FILE_MAX, &text, &len);

	if (err) {
		struct ctx c = { .file = path, .errs = errs };

		if (err == -EFBIG)
			err_at(&c, NULL, "larger than the cap of %u bytes (4 MiB) for a policy file: "
			       "not read", POLICY_FILE_MAX);
		else
			err_at(&c, NULL, "%s", err == -EINVAL ? "not a regular file" : strerror(-err));
		return err == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	err = json_policy_parse(path, text, len, out, errs);
	free(text);
	return err;
}

/* ---- shared with the state file's reader (statefile.c) ------------------ */

void pol_errors_addf(struct pol_errors *e, const char *fmt, ...)
{
	struct ctx c = { .errs = e };
	char *m = NULL;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vasprintf(&m, fmt, ap);
	va_end(ap);
	push_error(&c, m, len);
}

const char *json_policy_type_name(struct json_object *v)
{
	return type_name(v);
}

int json_policy_read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	return read_file(path, max, out, outlen);
}

int json_policy_strict_first(const char *file, const char *text, size_t len, char *why,
			     size_t whylen)
{
	struct strict_problem *probs = NULL;
	size_t nprobs = 0;
	int line, col, err = strict_scan(text, len, &probs, &nprobs);

	if (err)
		return err;
	if (!nprobs) {
		free(probs);
		return 0;
	}
	line_col(text, len, probs[0].off, &line, &col);
	if (probs[0].why == STRICT_DUP_KEY)
		snprintf(why, whylen, "%s:%d:%d: %.*s %s", file, line, col,
			 key_text_len(text, len, probs[0].off), text + probs[0].off, STRICT_DUP_KEY);
	else
		snprintf(why, whylen, "%s:%d:%d: %s", file, line, col, probs[0].why);
	free(probs);
	return 1;
}
