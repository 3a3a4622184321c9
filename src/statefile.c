// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy daemon's state file (see statefile.h): written here as one
 * compact JSON document, read back here with json-c and checked.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"
#include "json_policy.h"
#include "limitval.h"
#include "statefile.h"

/* ---- writing ------------------------------------------------------------ */

/*
 * The document is built in memory (~500 bytes per ladder) and written with
 * one fwrite. Members are written as json.c writes them, with its quoting
 * (json_quote), so the file is byte for byte what json.c wrote before.
 * The first failure is kept in err and makes every later write a no-op.
 */
struct sf_w {
	char *buf;
	size_t len, cap;
	bool comma;		/* the next member of the open container needs a ',' */
	int err;
};

static bool sf_room(struct sf_w *w, size_t n)
{
	size_t cap;
	char *p;

	if (w->err)
		return false;
	if (w->len + n <= w->cap)
		return true;
	for (cap = w->cap ? w->cap : 4096; cap < w->len + n; cap *= 2)
		;
	p = realloc(w->buf, cap);
	if (!p) {
		w->err = -ENOMEM;
		return false;
	}
	w->buf = p;
	w->cap = cap;
	return true;
}

static void sf_put(struct sf_w *w, const char *s, size_t n)
{
	if (sf_room(w, n)) {
		memcpy(w->buf + w->len, s, n);
		w->len += n;
	}
}

static void sf_quote(struct sf_w *w, const char *s)
{
	size_t n = strlen(s);

	if (sf_room(w, JSON_QUOTED_MAX(n)))
		w->len += json_quote(s, n, w->buf + w->len);
}

/* Starts a member (key) or an array element (key NULL). */
static void sf_member(struct sf_w *w, const char *key)
{
	if (w->comma)
		sf_put(w, ",", 1);
	if (key) {
		sf_quote(w, key);
		sf_put(w, ":", 1);
	}
	w->comma = true;
}

static void sf_open(struct sf_w *w, const char *key, char brace)
{
	sf_member(w, key);
	sf_put(w, &brace, 1);
	w->comma = false;
}

static void sf_close(struct sf_w *w, char brace)
{
	sf_put(w, &brace, 1);
	w->comma = true;
}

static void sf_u64(struct sf_w *w, const char *key, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);

	sf_member(w, key);
	sf_put(w, tmp, (size_t)n);
}

/* A string; NULL is null. */
static void sf_str(struct sf_w *w, const char *key, const char *s)
{
	sf_member(w, key);
	if (s)
		sf_quote(w, s);
	else
		sf_put(w, "null", 4);
}

static void sf_bool(struct sf_w *w, const char *key, bool v)
{
	sf_member(w, key);
	if (v)
		sf_put(w, "true", 4);
	else
		sf_put(w, "false", 5);
}

int statefile_write(FILE *out, const struct policy_state *st, const char *boot_id,
		    uint64_t mono_usec)
{
	struct sf_w w = { 0 };
	char hex[24];
	int err;

	sf_open(&w, NULL, '{');
	sf_u64(&w, "schema", CGWARDEN_JSON_SCHEMA_VERSION);
	sf_str(&w, "type", "policy_state");
	sf_str(&w, "boot_id", boot_id ? boot_id : "");
	sf_u64(&w, "mono_usec", mono_usec);
	sf_open(&w, "targets", '[');
	for (size_t i = 0; i < st->nr_targets; i++) {
		const struct pol_target *t = &st->targets[i];

		sf_open(&w, NULL, '{');
		sf_str(&w, "rule", t->rule);
		snprintf(hex, sizeof(hex), "%016" PRIx64, t->fingerprint);
		sf_str(&w, "fingerprint", hex);
		sf_u64(&w, "cgroup_id", t->cgroup_id);
		sf_str(&w, "path", t->path ? t->path : "");
		sf_u64(&w, "step", t->step);
		sf_u64(&w, "last_step_usec", t->last_step_usec);
		sf_u64(&w, "last_action_usec", t->last_action_usec);
		sf_bool(&w, "clearing", t->clearing);
		sf_u64(&w, "clear_since_usec", t->clear_since_usec);
		sf_bool(&w, "frozen", t->frozen);
		sf_bool(&w, "dry_run", t->dry_run);
		sf_open(&w, "saved", '[');
		for (int k = 0; k < POL_MAX_STEPS; k++) {
			const struct pol_saved *sv = &t->saved[k];

			if (!sv->valid)
				continue;
			sf_open(&w, NULL, '{');
			sf_u64(&w, "step", (uint64_t)k);
			sf_str(&w, "action", policy_action_name((enum pol_action)sv->action));
			/* A limit: "max" for CG_UNLIMITED, as limit files say it. */
			if (sv->value == CG_UNLIMITED)
				sf_str(&w, "value", "max");
			else
				sf_u64(&w, "value", sv->value);
			sf_u64(&w, "period", sv->period);
			sf_bool(&w, "dry_run", sv->dry_run);
			sf_close(&w, '}');
		}
		sf_close(&w, ']');
		sf_open(&w, "cond_since_usec", '[');
		for (int k = 0; k < POL_MAX_CONDS; k++) {
			if (t->cond_on[k])
				sf_u64(&w, NULL, t->cond_since_usec[k]);
			else
				sf_str(&w, NULL, NULL);
		}
		sf_close(&w, ']');
		sf_close(&w, '}');
	}
	sf_close(&w, ']');
	sf_open(&w, "budget_usec", '[');
	for (uint32_t k = 0; k < st->budget_len; k++)
		sf_u64(&w, NULL, st->budget_times[(st->budget_head + k) % POL_BUDGET_MAX]);
	sf_close(&w, ']');
	sf_close(&w, '}');
	sf_put(&w, "\n", 1);
	err = w.err;
	errno = 0;
	if (!err && fwrite(w.buf, 1, w.len, out) != w.len)
		err = errno ? -errno : -EIO;
	free(w.buf);
	return err;
}

/* ---- reading ------------------------------------------------------------ */

static struct json_object *get(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

/*
 * The state file is ours, but it sits on disk between two runs: a hand edit,
 * a bug or someone with write access to it must not make the daemon act.
 * Everything in it is checked as strictly as a policy: whole numbers only
 * where numbers are written (no sign, no fraction, no text such as "zzzz"
 * that strtoull would read as 0), "max" only where a limit is, a saved step
 * only for what a restore can undo (memory.high, memory.max, cpu.max,
 * cpu.weight, freeze), its value through the same checks `cgwarden set`
 * uses (limitval.c), and the cgroup at the recorded path must still be the
 * recorded one. What fails is skipped with a note; the rest is read.
 */

struct state_ctx {
	const char *file;
	struct statefile_read *r;
	size_t target;			/* targets[i] being read */
};

__attribute__((format(printf, 3, 4)))
static void state_note(struct state_ctx *sc, const char *field, const char *fmt, ...)
{
	char reason[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (field && *field)
		pol_errors_addf(&sc->r->notes, "%s: targets[%zu].%s: %s", sc->file, sc->target,
				field, reason);
	else
		pol_errors_addf(&sc->r->notes, "%s: targets[%zu]: %s", sc->file, sc->target,
				reason);
}

/* A whole number >= 0 as JSON writes it: no fraction, sign or string. */
static int state_u64(struct json_object *v, uint64_t *out)
{
	if (!v || !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return -EINVAL;
	*out = json_object_get_uint64(v);
	return 0;
}

/* An optional whole number (absent: 0); false (and a note) when malformed. */
static bool state_u64_field(struct state_ctx *sc, struct json_object *o, const char *key,
			    uint64_t *out)
{
	struct json_object *v = get(o, key);

	*out = 0;
	if (!v)
		return true;
	if (state_u64(v, out)) {
		state_note(sc, key, "expected a whole number >= 0, not %s; entry skipped",
			   json_object_to_json_string(v));
		return false;
	}
	return true;
}

/* An optional boolean (absent or null: false). */
static bool state_bool_field(struct state_ctx *sc, struct json_object *o, const char *key,
			     bool *out)
{
	struct json_object *v = get(o, key);

	*out = false;
	if (!v || json_object_is_type(v, json_type_null))
		return true;
	if (!json_object_is_type(v, json_type_boolean)) {
		state_note(sc, key, "expected true or false, not %s; entry skipped",
			   json_policy_type_name(v));
		return false;
	}
	*out = json_object_get_boolean(v);
	return true;
}

/* The fingerprint json.c writes: 1 to 16 hex digits, nothing else. */
static int state_hex64(struct json_object *v, uint64_t *out)
{
	const char *s;
	uint64_t x = 0;
	size_t n;

	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	s = json_object_get_string(v);
	n = strlen(s);
	if (n == 0 || n > 16)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = (char)(s[i] | 0x20);

		if (s[i] >= '0' && s[i] <= '9')
			x = x << 4 | (uint64_t)(s[i] - '0');
		else if (c >= 'a' && c <= 'f')
			x = x << 4 | (uint64_t)(c - 'a' + 10);
		else
			return -EINVAL;
	}
	*out = x;
	return 0;
}

/* A cgroup path as the collector writes it: relative, no empty, "." or ".."
 * component, no control character. */
static bool state_path_ok(const char *p)
{
	const char *c = p;

	if (!*p || *p == '/' || strlen(p) >= 4096)
		return false;
	for (const unsigned char *u = (const unsigned char *)p; *u; u++)
		if (*u < 0x20 || *u == 0x7f)
			return false;
	while (*c) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += n;
		if (*c == '/' && !*++c)
			return false;
	}
	return true;
}

static bool state_rule_ok(const char *r)
{
	if (!*r || strlen(r) >= POL_NAME_MAX)
		return false;
	for (; *r; r++)
		if (!(*r == '-' || *r == '_' || *r == '.' || (*r >= '0' && *r <= '9') ||
		      (*r >= 'a' && *r <= 'z') || (*r >= 'A' && *r <= 'Z')))
			return false;
	return true;
}

static int action_by_name(const char *s)
{
	for (int a = 0; a < POL__ACTION_COUNT; a++)
		if (strcmp(policy_action_name((enum pol_action)a), s) == 0)
			return a;
	return -1;
}

/* Actions whose restore the daemon makes; a kill, hook or log has none. */
static bool restorable(int a)
{
	return a == POL_MEMORY_HIGH || a == POL_MEMORY_MAX || a == POL_CPU_MAX ||
	       a == POL_CPU_WEIGHT || a == POL_FREEZE;
}

/*
 * One saved step into t->saved[]: what a restore would write back, checked
 * as `cgwarden set` checks a value. false (and a note) when skipped.
 */
static bool state_saved(struct state_ctx *sc, struct pol_target *t, struct json_object *s,
			size_t k)
{
	static const char *const keys[] = { "step", "action", "value", "period", "dry_run",
					     NULL };
	struct json_object *an, *v;
	char field[48], text[64], why[LIMITVAL_WHY_MAX];
	uint64_t idx, value = 0, period = 0, q, pd;
	const char *name;
	int a = -1, err = 0;

	snprintf(field, sizeof(field), "saved[%zu]", k);
	if (!json_object_is_type(s, json_type_object)) {
		state_note(sc, field, "expected an object, not %s; skipped",
			   json_policy_type_name(s));
		return false;
	}
	json_object_object_foreach(s, key, val) {
		bool known = false;

		(void)val;
		for (const char *const *kk = keys; *kk; kk++)
			known |= strcmp(*kk, key) == 0;
		if (!known) {
			state_note(sc, field, "unknown field '%.40s'; skipped", key);
			return false;
		}
	}
	if (state_u64(get(s, "step"), &idx) || idx >= POL_MAX_STEPS) {
		state_note(sc, field, "step: expected 0 to %d; skipped", POL_MAX_STEPS - 1);
		return false;
	}
	an = get(s, "action");
	name = an && json_object_is_type(an, json_type_string) ? json_object_get_string(an) : "";
	a = action_by_name(name);
	if (a < 0 || !restorable(a)) {
		state_note(sc, field, "action '%.40s' has no restore (only memory.high, "
			   "memory.max, cpu.max, cpu.weight and freeze are undone); skipped", name);
		return false;
	}
	if (t->saved[idx].valid) {
		state_note(sc, field, "a second saved value for step %" PRIu64 "; skipped", idx);
		return false;
	}
	v = get(s, "value");
	if (a == POL_FREEZE) {
		/* Nothing to write back but cgroup.freeze 0: no value. */
		if (v && !json_object_is_type(v, json_type_null) &&
		    (state_u64(v, &value) || value != 0)) {
			state_note(sc, field, "a freeze has no value to restore, not %s; skipped",
				   json_object_to_json_string(v));
			return false;
		}
		value = 0;
	} else {
		if (v && json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), "max") == 0)
			value = CG_UNLIMITED;
		else if (state_u64(v, &value)) {
			state_note(sc, field, "value: expected a whole number >= 0 or \"max\", "
				   "not %s; skipped", v ? json_object_to_json_string(v) : "nothing");
			return false;
		}
		limitval_format(value, text, sizeof(text));
		switch (a) {
		case POL_MEMORY_HIGH:
		case POL_MEMORY_MAX:
			err = limitval_parse_bytes(text, &q, why, sizeof(why));
			break;
		case POL_CPU_MAX:
			if (state_u64(get(s, "period"), &period)) {
				state_note(sc, field, "period: expected a whole number of usec; "
					   "skipped");
				return false;
			}
			snprintf(text + strlen(text), sizeof(text) - strlen(text), " %" PRIu64,
				 period);
			err = limitval_parse_cpu_max(text, &q, &pd, why, sizeof(why));
			break;
		case POL_CPU_WEIGHT:
			err = limitval_parse_weight(text, &q, why, sizeof(why));
			break;
		}
		if (err) {
			state_note(sc, field, "%s; not restored to it: skipped", why);
			return false;
		}
	}
	t->saved[idx].action = (uint8_t)a;
	t->saved[idx].value = value;
	t->saved[idx].period = period;
	/* Files from before per-step dry_run: the ladder's. */
	t->saved[idx].dry_run = t->dry_run;
	if (get(s, "dry_run") && !json_object_is_type(get(s, "dry_run"), json_type_null)) {
		if (!json_object_is_type(get(s, "dry_run"), json_type_boolean)) {
			state_note(sc, field, "dry_run: expected true or false; skipped");
			return false;
		}
		t->saved[idx].dry_run = json_object_get_boolean(get(s, "dry_run"));
	}
	t->saved[idx].valid = true;
	return true;
}

/* targets[i]: added to st when sound (0), skipped with a note (0), -ENOMEM. */
static int state_target(struct state_ctx *sc, struct json_object *o, struct policy_state *st)
{
	struct json_object *r, *saved, *cs, *pv;
	struct pol_target tmp = { 0 }, *t;
	uint64_t id, step = 0;
	const char *rule, *path;

	if (!json_object_is_type(o, json_type_object)) {
		state_note(sc, NULL, "expected an object, not %s; skipped",
			   json_policy_type_name(o));
		return 0;
	}
	r = get(o, "rule");
	rule = r && json_object_is_type(r, json_type_string) ? json_object_get_string(r) : "";
	if (!state_rule_ok(rule)) {
		state_note(sc, "rule", "expected a rule name; entry skipped");
		return 0;
	}
	if (state_u64(get(o, "cgroup_id"), &id) || id <= 1) {
		state_note(sc, "cgroup_id", "expected a cgroup id (a whole number above 1); "
			   "entry skipped");
		return 0;
	}
	pv = get(o, "path");
	path = pv && json_object_is_type(pv, json_type_string) ? json_object_get_string(pv) : "";
	if (!state_path_ok(path)) {
		state_note(sc, "path", "expected a cgroup path relative to the root; entry "
			   "skipped");
		return 0;
	}
	saved = get(o, "saved");
	cs = get(o, "cond_since_usec");
	/* A ladder without its saved values cannot be restored: skipped whole. */
	if (saved && !json_object_is_type(saved, json_type_array)) {
		state_note(sc, "saved", "expected a list, not %s; entry skipped",
			   json_policy_type_name(saved));
		return 0;
	}
	if (cs && !json_object_is_type(cs, json_type_array)) {
		state_note(sc, "cond_since_usec", "expected a list, not %s; taken as none met",
			   json_policy_type_name(cs));
		cs = NULL;
	}
	if (get(o, "fingerprint") && state_hex64(get(o, "fingerprint"), &tmp.fingerprint)) {
		state_note(sc, "fingerprint", "expected 1 to 16 hex digits; entry skipped");
		return 0;
	}
	if (!state_u64_field(sc, o, "step", &step) ||
	    !state_u64_field(sc, o, "last_step_usec", &tmp.last_step_usec) ||
	    !state_u64_field(sc, o, "last_action_usec", &tmp.last_action_usec) ||
	    !state_u64_field(sc, o, "clear_since_usec", &tmp.clear_since_usec) ||
	    !state_bool_field(sc, o, "clearing", &tmp.clearing) ||
	    !state_bool_field(sc, o, "frozen", &tmp.frozen) ||
	    !state_bool_field(sc, o, "dry_run", &tmp.dry_run))
		return 0;
	if (step > POL_MAX_STEPS) {
		state_note(sc, "step", "%" PRIu64 " is more than a ladder's %d steps; entry "
			   "skipped", step, POL_MAX_STEPS);
		return 0;
	}
	/* The path is what a restore writes to: it must still be the cgroup
	 * the entry is about, or the restore would land on another one. */
	if (sc->r->cgroup_id) {
		uint64_t now_id = 0;
		int err = sc->r->cgroup_id(sc->r->ctx, path, &now_id);

		if (err == -ENOMEM)
			return err;
		if (err == -ENOENT) {
			state_note(sc, "path", "no cgroup '%.200s' any more: nothing to restore; "
				   "entry skipped", path);
			return 0;
		}
		if (err) {
			state_note(sc, "path", "cgroup '%.200s': %s; entry skipped", path,
				   strerror(-err));
			return 0;
		}
		if (now_id != id) {
			state_note(sc, "path", "'%.200s' is cgroup %" PRIu64 ", not the recorded %"
				   PRIu64 ": entry skipped (nothing is done to either)", path,
				   now_id, id);
			return 0;
		}
	}
	t = policy_state_add(st, rule, id, path);
	if (!t)
		return -ENOMEM;
	t->fingerprint = tmp.fingerprint;
	t->step = (uint32_t)step;
	t->last_step_usec = tmp.last_step_usec;
	t->last_action_usec = tmp.last_action_usec;
	t->clearing = tmp.clearing;
	t->clear_since_usec = tmp.clear_since_usec;
	t->dry_run = tmp.dry_run;
	for (size_t k = 0; saved && k < json_object_array_length(saved); k++)
		state_saved(sc, t, json_object_array_get_idx(saved, k), k);
	/* Frozen by us only as far as a real freeze is on record. A saved
	 * value without a ladder in progress is a restore still owed (a thaw
	 * that was refused): made at the next evaluation, as an orphan's. */
	t->frozen = false;
	for (int k = 0; k < POL_MAX_STEPS; k++) {
		if (!t->saved[k].valid)
			continue;
		if (t->saved[k].action == POL_FREEZE && !t->saved[k].dry_run)
			t->frozen = tmp.frozen;
		if (t->step == 0)
			t->orphan = true;
	}
	for (size_t k = 0; cs && k < json_object_array_length(cs) && k < POL_MAX_CONDS; k++) {
		struct json_object *e = json_object_array_get_idx(cs, k);
		uint64_t since;

		/* null: not met; a time: met since then. */
		if (!e || json_object_is_type(e, json_type_null))
			continue;
		if (state_u64(e, &since)) {
			state_note(sc, "cond_since_usec", "element %zu is not a time; taken as "
				   "not met", k);
			continue;
		}
		t->cond_on[k] = true;
		t->cond_since_usec[k] = since;
	}
	return 0;
}

int statefile_read(const char *path, struct policy_state *st, struct statefile_read *r)
{
	struct json_object *root = NULL, *v, *targets;
	struct state_ctx sc = { .file = path, .r = r };
	struct json_tokener *tok;
	size_t len;
	char *text;
	int err = json_policy_read_file(path, STATEFILE_MAX, &text, &len);

	r->ignored = false;
	r->why[0] = '\0';
	if (err == -ENOENT)
		return err;
	if (err == -EFBIG) {
		snprintf(r->why, sizeof(r->why), "%s: larger than the cap of %u bytes (64 MiB) "
			 "for a state file: not read", path, STATEFILE_MAX);
		return -EINVAL;
	}
	if (err) {
		snprintf(r->why, sizeof(r->why), "%s: %s", path, strerror(-err));
		return err == -ENOMEM ? err : -EINVAL;
	}
	tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	if (!tok) {
		free(text);
		return -ENOMEM;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = memchr(text, '\0', len) ? NULL : json_tokener_parse_ex(tok, text, (int)len + 1);
	json_tokener_free(tok);
	/* Two equal keys or a non-finite number: a file json-c reads in a way
	 * nobody wrote it. Not trusted at all. */
	err = root ? json_policy_strict_first(path, text, len, r->why, sizeof(r->why)) : 0;
	free(text);
	if (err) {
		json_object_put(root);
		return err < 0 ? err : -EINVAL;
	}
	if (!root || !json_object_is_type(root, json_type_object) ||
	    !(targets = get(root, "targets")) || !json_object_is_type(targets, json_type_array)) {
		snprintf(r->why, sizeof(r->why), "%s: not a cgwarden state file", path);
		json_object_put(root);
		return -EINVAL;
	}
	v = get(root, "boot_id");
	if (!v || !r->boot_id || !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), r->boot_id) != 0) {
		r->ignored = true;
		json_object_put(root);
		return 0;
	}
	for (size_t i = 0; i < json_object_array_length(targets); i++) {
		sc.target = i;
		err = state_target(&sc, json_object_array_get_idx(targets, i), st);
		if (err) {
			json_object_put(root);
			return err;
		}
	}
	v = get(root, "budget_usec");
	if (v && !json_object_is_type(v, json_type_array)) {
		pol_errors_addf(&r->notes, "%s: budget_usec: expected a list, not %s; skipped", path,
				json_policy_type_name(v));
		v = NULL;
	}
	for (size_t k = 0; v && k < json_object_array_length(v) && k < POL_BUDGET_MAX; k++) {
		uint64_t when;

		if (state_u64(json_object_array_get_idx(v, k), &when))
			continue;
		st->budget_times[st->budget_len++] = when;
	}
	json_object_put(root);
	return 0;
}
