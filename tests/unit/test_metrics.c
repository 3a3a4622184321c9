/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The metric table (src/metrics.c): its shape, the getter, the metric sets,
 * and that the schema, the man pages and the sources cannot drift from it:
 * - every row is a property of schema/cgwarden.schema.json at its dotted
 *   path, and every metric property of the schema's cgroup object is a row;
 * - every row is documented in man/cgwarden-json.7, every policy name the
 *   policy page gives is a row rules may name, and every Prometheus name is
 *   in man/cgwarden.8 and the reverse;
 * - no JSON id or Prometheus name is written as a string literal in more
 *   than one file under src/ and ui/ (issue 13's "done when").
 * Run from the top of the tree (tests/run does).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "test.h"
#include "cgfile.h"
#include "json.h"
#include "metrics.h"
#include "policy.h"
#include "rates.h"
#include "history.h"
#include "rows.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		buf[fread(buf, 1, (size_t)n, f)] = '\0';
	}
	fclose(f);
	return buf;
}

/* ---- the table itself ---------------------------------------------------- */

static void test_table_shape(void)
{
	const char *last_family = NULL;

	for (int i = 0; i < M__COUNT; i++) {
		const struct metric_def *m = &metric_defs[i];
		int p = metric_parent((enum metric_id)i);

		CHECK(m->id != NULL);
		if (!m->id)
			continue;
		/* Ids are unique, and every dotted id sits under its object row. */
		CHECK_INT(metric_find(m->id), i);
		if (strchr(m->id, '.')) {
			CHECK(p >= 0);
			if (p >= 0 && m->kind != MK_DEV_KEY)
				CHECK_INT((int)(metric_leaf(m) - m->id - 1), (int)strlen(metric_defs[p].id));
		} else {
			CHECK_INT(p, -1);
		}
		/* JSON order: an object's rows follow it without a gap. */
		if (i > 0 && p >= 0 && p != i - 1)
			CHECK(metric_under((enum metric_id)(i - 1), (enum metric_id)p));
		/* A row with no presence test, file or eBPF flag of its own takes
		 * its object's: something feeds every value row. */
		if (m->kind != MK_OBJECT) {
			uint32_t feed = 0, b = 0;

			for (int k = i; k >= 0; k = metric_parent((enum metric_id)k)) {
				feed |= metric_defs[k].files;
				b |= metric_defs[k].bpf;
			}
			if (!feed && !b)
				printf("  no source: %s\n", m->id);
			CHECK(feed || b);
		}
		/* Policy names are value rows. */
		if (m->flags & MF_POLICY)
			CHECK(m->vtype != MV_NONE && m->kind != MK_DEV_KEY);
		/* The rows of one Prometheus family are adjacent. */
		if (m->prom.name) {
			if (last_family && strcmp(last_family, m->prom.name) != 0)
				for (int k = 0; k < i; k++)
					if (metric_defs[k].prom.name &&
					    strcmp(metric_defs[k].prom.name, m->prom.name) == 0)
						CHECK(!"family split");
			last_family = m->prom.name;
			CHECK(m->prom.help != NULL);
		}
	}
	/* The detail view counts on the PSI rows' layout. */
	CHECK_STR(metric_defs[M_PSI_CPU + 1].id, "psi.cpu.some");
	CHECK_STR(metric_defs[M_PSI_CPU + 2].id, "psi.cpu.some.avg10");
	CHECK_STR(metric_defs[M_PSI_CPU + 5].id, "psi.cpu.some.total_usec");
	CHECK_STR(metric_defs[M_PSI_IO + 7].id, "psi.io.full.avg10");
	CHECK_STR(metric_defs[M_PSI_IO + 10].id, "psi.io.full.total_usec");
	CHECK_STR(metric_defs[M_MEMSTAT_INACTIVE_FILE].id, "memory.stat.inactive_file");
	CHECK_STR(metric_defs[M_IO_DEV_RBYTES].id, "io.devices.*.rbytes");
}

static void test_getter(void)
{
	struct cg_sample s = { 0 };
	struct metric_val v;

	s.have = CG_HAVE_MEM_CURRENT | CG_HAVE_MEM_STAT | CG_HAVE_MEM_MAX | CG_HAVE_PSI_CPU;
	s.mem_current = 100;
	s.mem_max = CG_UNLIMITED;
	s.memstat_have = 1ull << CG_MS_INACTIVE_FILE;
	s.memstat[CG_MS_INACTIVE_FILE] = 30;
	s.psi[CG_PSI_CPU].have_some = true;
	s.psi[CG_PSI_CPU].some.avg10 = 1250;
	CHECK(!metric_get(&s, M_MEM_WORKING_SET, &v));	/* not derived yet */
	rates_derive(&s);
	CHECK(metric_get(&s, M_MEM_WORKING_SET, &v));
	CHECK_U64(v.u, 70);
	/* Floor 0. */
	s.memstat[CG_MS_INACTIVE_FILE] = 300;
	rates_derive(&s);
	CHECK(metric_get(&s, M_MEM_WORKING_SET, &v) && v.u == 0);
	CHECK(metric_get(&s, M_MEM_MAX, &v) && v.u == CG_UNLIMITED);
	CHECK(metric_double(&metric_defs[M_MEM_MAX], &v) > 1e300);
	CHECK(metric_get(&s, M_PSI_CPU_SOME_AVG10, &v) && v.u == 1250);
	CHECK_NEAR(metric_double(&metric_defs[M_PSI_CPU_SOME_AVG10], &v), 12.5, 1e-9);
	/* Absent: a clear bit anywhere up the objects. */
	CHECK(!metric_get(&s, M_PSI_CPU_FULL_AVG10, &v));
	CHECK(!metric_get(&s, M_PSI_MEMORY_SOME_AVG10, &v));
	CHECK(!metric_get(&s, M_MEMSTAT_ANON, &v));
	CHECK(!metric_get(&s, M_CPU_USAGE_RATIO, &v));
	CHECK(!metric_get(&s, M_SCHED_CTX_SWITCHES, &v));
	s.bpf.have = CG_BPF_SCHED;
	s.bpf.runq_sum_ns = 5500;
	CHECK(metric_get(&s, M_SCHED_RUNQ_SUM, &v) && v.u == 5);
	CHECK(metric_get(&s, M_POPULATED, &v) == false);
}

static void test_sets(void)
{
	struct metric_set set = { 0 };
	const char *ids[] = { "cpu.usage_ratio" };
	const char *ids2[] = { "psi.memory", "io.devices.vda.rbytes", "name" };
	struct policy p = { 0 };
	struct pol_rule r = { 0 };

	metric_set_from_ids(&set, ids, 1);
	CHECK(metric_set_has(&set, M_CPU_USAGE_RATIO));
	CHECK(!metric_set_has(&set, M_CPU_USER_RATIO));
	CHECK_U64(metrics_files(&set), CGF_BIT(CGF_CPU_STAT));
	CHECK_U64(metrics_bpf(&set), 0);

	memset(&set, 0, sizeof(set));
	metric_set_from_ids(&set, ids2, 3);
	CHECK(metric_set_has(&set, M_PSI_MEMORY_FULL_TOTAL));
	CHECK(metric_set_has(&set, M_IO_DEV_WBYTES));
	CHECK_U64(metrics_files(&set), CGF_BIT(CGF_MEM_PRESSURE) | CGF_BIT(CGF_IO_STAT));

	memset(&set, 0, sizeof(set));
	metric_set_add_under(&set, M_SCHED);
	CHECK_U64(metrics_files(&set), 0);
	CHECK_U64(metrics_bpf(&set), CG_BPF_SCHED);

	metric_set_all(&set);
	CHECK_U64(metrics_files(&set), CGF_ALL);
	CHECK_U64(metrics_bpf(&set), CG_BPF_SCHED | CG_BPF_NET | CG_BPF_PROC);

	/* A policy's set: its conditions' metrics. */
	r.nr_conds = 2;
	CHECK_INT(policy_metric_resolve("memory.working_set_bytes", &r.conds[0].metric), 0);
	CHECK_INT(policy_metric_resolve("psi.io.some.avg10", &r.conds[1].metric), 0);
	CHECK(r.conds[0].metric.bytes && r.conds[1].metric.psi_res == CG_PSI_IO);
	CHECK_INT(policy_metric_resolve("sched.runq_count", &r.conds[1].metric), -EINVAL);
	CHECK_INT(policy_metric_resolve("memory.stat", &r.conds[1].metric), -EINVAL);
	CHECK_INT(policy_metric_resolve("psi.io.some.avg10", &r.conds[1].metric), 0);
	p.rules = &r;
	p.nr_rules = 1;
	memset(&set, 0, sizeof(set));
	policy_metric_set(&p, &set);
	CHECK_U64(metrics_files(&set), CGF_BIT(CGF_MEM_CURRENT) | CGF_BIT(CGF_MEM_STAT) |
				       CGF_BIT(CGF_IO_PRESSURE));
}

static void test_dashboard_sets(void)
{
	struct metric_set set = { 0 };

	col_metrics(COL_MEMPCT, &set);
	CHECK_U64(metrics_files(&set), CGF_BIT(CGF_MEM_CURRENT) | CGF_BIT(CGF_MEM_MAX) |
				       CGF_BIT(CGF_MEM_HIGH));
	memset(&set, 0, sizeof(set));
	col_metrics(COL_OOM, &set);
	CHECK_U64(metrics_files(&set), CGF_BIT(CGF_MEM_EVENTS));
	CHECK_U64(metrics_bpf(&set), CG_BPF_PROC);
	memset(&set, 0, sizeof(set));
	col_metrics(COL_NAME, &set);
	col_metrics(COL_KIND, &set);
	CHECK_U64(metrics_files(&set), 0);
	history_metrics(&set);
	CHECK_U64(metrics_files(&set), CGF_BIT(CGF_CPU_STAT) | CGF_BIT(CGF_MEM_CURRENT) |
				       CGF_BIT(CGF_IO_STAT));
	CHECK_U64(metrics_bpf(&set), CG_BPF_NET);
}

static void test_fields_set(void)
{
	struct json_fields *f = NULL;
	struct metric_set set = { 0 };

	CHECK_INT(json_fields_parse("id,cpu.usage_ratio", &f), 0);
	if (!f)
		return;
	json_fields_metrics(f, &set);
	CHECK_U64(metrics_files(&set), CGF_BIT(CGF_CPU_STAT));
	json_fields_free(f);
}

/* ---- the schema ----------------------------------------------------------- */

static struct json_object *schema_root;

static struct json_object *deref(struct json_object *o)
{
	struct json_object *ref, *defs, *t;

	while (o && json_object_object_get_ex(o, "$ref", &ref)) {
		const char *r = json_object_get_string(ref);

		if (strncmp(r, "#/$defs/", 8) != 0 ||
		    !json_object_object_get_ex(schema_root, "$defs", &defs) ||
		    !json_object_object_get_ex(defs, r + 8, &t))
			return NULL;
		o = t;
	}
	return o;
}

/* The schema of member key ("*": any member) of the object schema o. */
static struct json_object *schema_child(struct json_object *o, const char *key)
{
	struct json_object *one, *props, *t;

	o = deref(o);
	if (!o)
		return NULL;
	if (json_object_object_get_ex(o, "oneOf", &one)) {
		for (size_t i = 0; i < json_object_array_length(one); i++)
			if ((t = schema_child(json_object_array_get_idx(one, i), key)))
				return t;
		return NULL;
	}
	if (strcmp(key, "*") == 0)
		return json_object_object_get_ex(o, "additionalProperties", &t) &&
		       json_object_is_type(t, json_type_object) ? t : NULL;
	if (json_object_object_get_ex(o, "properties", &props) &&
	    json_object_object_get_ex(props, key, &t))
		return t;
	return NULL;
}

static struct json_object *schema_cgroup(void)
{
	struct json_object *defs, *cg;

	if (!json_object_object_get_ex(schema_root, "$defs", &defs) ||
	    !json_object_object_get_ex(defs, "cgroup", &cg))
		return NULL;
	return cg;
}

static void test_schema(void)
{
	struct json_object *cg, *props;

	schema_root = json_object_from_file("schema/cgwarden.schema.json");
	CHECK(schema_root != NULL);
	cg = schema_root ? schema_cgroup() : NULL;
	CHECK(cg != NULL);
	if (!cg)
		goto out;
	for (int i = 0; i < M__COUNT; i++) {
		char path[128], *tok, *save = NULL;
		struct json_object *o = cg;

		snprintf(path, sizeof(path), "%s", metric_defs[i].id);
		for (tok = strtok_r(path, ".", &save); tok && o; tok = strtok_r(NULL, ".", &save))
			o = schema_child(o, tok);
		if (!o)
			printf("  not in the schema: %s\n", metric_defs[i].id);
		CHECK(o != NULL);
	}
	/* The reverse: each member of the cgroup object is identity, a row,
	 * or "carried" (which fields are from an earlier read: about the
	 * sample, not a metric), and so is each member of the metric objects
	 * below it. */
	json_object_object_get_ex(deref(cg), "properties", &props);
	json_object_object_foreach(props, key, val) {
		static const char *const identity[] = { "id", "parent_id", "path", "depth", "name",
			"kind", "runtime", "container_id", "short_id", "image", "k8s", "carried" };
		bool ident = false;

		(void)val;
		for (size_t k = 0; k < sizeof(identity) / sizeof(identity[0]); k++)
			ident |= strcmp(identity[k], key) == 0;
		if (!ident && metric_find(key) < 0)
			printf("  schema member without a row: %s\n", key);
		CHECK(ident || metric_find(key) >= 0);
	}
	for (int i = 0; i < M__COUNT; i++) {
		char path[128], *tok, *save = NULL;
		struct json_object *o = cg, *p2;

		if (metric_defs[i].kind != MK_OBJECT)
			continue;
		snprintf(path, sizeof(path), "%s", metric_defs[i].id);
		for (tok = strtok_r(path, ".", &save); tok && o; tok = strtok_r(NULL, ".", &save))
			o = schema_child(o, tok);
		o = deref(o);
		if (o && json_object_object_get_ex(o, "oneOf", &p2))
			o = deref(json_object_array_get_idx(p2, 0));
		if (!o || !json_object_object_get_ex(o, "properties", &p2))
			continue;
		json_object_object_foreach(p2, member, v2) {
			char id[160];

			(void)v2;
			snprintf(id, sizeof(id), "%s.%s", metric_defs[i].id, member);
			if (metric_find(id) < 0)
				printf("  schema member without a row: %s\n", id);
			CHECK(metric_find(id) >= 0);
		}
	}
out:
	json_object_put(schema_root);
	schema_root = NULL;
}

/* ---- the man pages --------------------------------------------------------- */

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Whether word appears in text as a whole word, or as a "prefix*" pattern
 * that covers it (memory.stat's "workingset_*, pgscan*"). */
static bool man_has_word(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = strstr(text, word); p; p = strstr(p + 1, word))
		if ((p == text || !word_char(p[-1])) && !word_char(p[n]))
			return true;
	for (const char *p = strchr(text, '*'); p; p = strchr(p + 1, '*')) {
		const char *b = p;

		while (b > text && word_char(b[-1]))
			b--;
		if (p > b && (size_t)(p - b) < n && strncmp(b, word, (size_t)(p - b)) == 0)
			return true;
	}
	return false;
}

static void test_man_json(void)
{
	char *man = slurp("man/cgwarden-json.7");

	CHECK(man != NULL);
	if (!man)
		return;
	for (int i = 0; i < M__COUNT; i++) {
		const char *leaf = metric_leaf(&metric_defs[i]);

		if (!man_has_word(man, leaf))
			printf("  not in cgwarden-json(7): %s\n", metric_defs[i].id);
		CHECK(man_has_word(man, leaf));
	}
	free(man);
}

static void test_man_policy(void)
{
	char *man = slurp("man/cgwarden-policy.5"), *p, *end;
	int named = 0;

	CHECK(man != NULL);
	if (!man)
		return;
	/* The names the metric paragraph gives as examples are rows rules may
	 * name, the ones it gives after "but not" rows they may not. */
	p = strstr(man, "\n.B metric\n");
	end = p ? strstr(p, "\nA metric the kernel") : NULL;
	CHECK(p && end);
	for (int state = 0; p && end && p < end && (p = strchr(p + 1, '\n')) && p < end;) {
		char name[64];
		struct pol_metric m;
		int row;

		if (strncmp(p, "\nbut not", 8) == 0)
			state = 1;
		if (sscanf(p, "\n.B%*[R] %63[a-zA-Z0-9_.]", name) != 1 &&
		    sscanf(p, "\n.B %63[a-zA-Z0-9_.]", name) != 1)
			continue;
		if (!strchr(name, '.') || strstr(name, "KEY"))
			continue;
		row = metric_find(name);
		if (state == 0) {
			named++;
			if (policy_metric_resolve(name, &m) != 0)
				printf("  cgwarden-policy(5) names %s, not a policy metric\n", name);
			CHECK_INT(policy_metric_resolve(name, &m), 0);
		} else {
			if (row < 0 || metric_policy_name(&metric_defs[row]))
				printf("  cgwarden-policy(5) excludes %s, a policy metric\n", name);
			CHECK(row >= 0 && !metric_policy_name(&metric_defs[row]));
		}
	}
	CHECK(named >= 10);
	for (int i = 0; i < M__COUNT; i++) {
		char top[32];
		const char *id = metric_policy_name(&metric_defs[i]);

		if (!id)
			continue;
		snprintf(top, sizeof(top), "%.*s", (int)strcspn(id, "."), id);
		if (!man_has_word(man, top))
			printf("  cgwarden-policy(5) does not name the group %s\n", top);
		CHECK(man_has_word(man, top));
	}
	free(man);
}

/* Appends to out (NUL-separated, ending "\0\0") every expansion of a
 * shell-style brace pattern: "a_{b,c}_d" -> "a_b_d", "a_c_d". */
static void brace_expand(const char *pat, char *out, size_t *len, size_t cap)
{
	const char *open = strchr(pat, '{'), *close, *p;
	char buf[256];

	if (!open || !(close = strchr(open, '}'))) {
		size_t n = strlen(pat) + 1;

		if (*len + n < cap) {
			memcpy(out + *len, pat, n);
			*len += n;
		}
		return;
	}
	for (p = open + 1; p <= close;) {
		size_t alt = strcspn(p, ",}");

		snprintf(buf, sizeof(buf), "%.*s%.*s%s", (int)(open - pat), pat, (int)alt, p,
			 close + 1);
		brace_expand(buf, out, len, cap);
		p += alt + 1;
	}
}

/* Every name of the page's metric lists, brace patterns expanded. */
static size_t man_prom_names(const char *man, char *out, size_t cap)
{
	size_t len = 0;

	for (const char *p = man; *p; p++) {
		char tok[256];
		size_t n = 0;
		int depth = 0;

		if (p > man && (word_char(p[-1]) || p[-1] == '}'))
			continue;
		if (strncmp(p, "container_", 10) && strncmp(p, "cgwarden_", 9) &&
		    strncmp(p, "machine_", 8) && strncmp(p, "process_", 8))
			continue;
		/* A '{' after '_' opens a brace pattern; after a letter, a label
		 * list ("..._total{device}"), which ends the name. */
		while (p[n] && n < sizeof(tok) - 1 &&
		       (word_char(p[n]) || (p[n] == '{' && n && p[n - 1] == '_') ||
			(depth && (p[n] == ',' || p[n] == '}')))) {
			depth += p[n] == '{';
			depth -= p[n] == '}';
			tok[n] = p[n];
			n++;
		}
		tok[n] = '\0';
		brace_expand(tok, out, &len, cap);
		p += n ? n - 1 : 0;
	}
	if (len < cap)
		out[len] = '\0';
	return len;
}

static bool in_list(const char *list, size_t len, const char *name)
{
	for (size_t i = 0; i < len; i += strlen(list + i) + 1)
		if (strcmp(list + i, name) == 0)
			return true;
	return false;
}

static void test_man_prom(void)
{
	static char names[64 * 1024];
	char *man = slurp("man/cgwarden.8"), *prom = slurp("src/prom.c");
	size_t len;

	CHECK(man && prom);
	if (!man || !prom)
		goto out;
	len = man_prom_names(man, names, sizeof(names));
	for (int i = 0; i < M__COUNT; i++) {
		const char *n = metric_defs[i].prom.name;

		if (!n)
			continue;
		if (!in_list(names, len, n))
			printf("  not in cgwarden(8): %s\n", n);
		CHECK(in_list(names, len, n));
	}
	/* The reverse: each name the page lists is a row's or one of prom.c's
	 * host, self and policy families. */
	for (size_t i = 0; i < len; i += strlen(names + i) + 1) {
		char lit[300];
		bool row = false;

		for (int k = 0; k < M__COUNT && !row; k++)
			row = metric_defs[k].prom.name && strcmp(metric_defs[k].prom.name, names + i) == 0;
		snprintf(lit, sizeof(lit), "\"%s\"", names + i);
		if (!row && !strstr(prom, lit))
			printf("  cgwarden(8) lists %s, which nothing exports\n", names + i);
		CHECK(row || strstr(prom, lit));
	}
out:
	free(man);
	free(prom);
}

/* ---- string literals ------------------------------------------------------- */

struct source {
	char path[300];
	char *text;
};

/* Blanks C comments: a name in a comment is no string literal. */
static void strip_comments(char *t)
{
	char quote = 0;

	for (char *p = t; *p; p++) {
		if (quote) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == quote)
				quote = 0;
		} else if (*p == '"' || *p == '\'') {
			quote = *p;
		} else if (p[0] == '/' && p[1] == '*') {
			char *e = strstr(p + 2, "*/");
			char *stop = e ? e + 2 : p + strlen(p);

			memset(p, ' ', (size_t)(stop - p));
			p = stop - 1;
		} else if (p[0] == '/' && p[1] == '/') {
			while (*p && *p != '\n')
				*p++ = ' ';
			if (!*p)
				break;
		}
	}
}

static size_t read_sources(struct source *src, size_t max)
{
	static const char *const dirs[] = { "src", "ui" };
	size_t n = 0;

	for (size_t d = 0; d < 2; d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *e;

		if (!dir)
			continue;
		while ((e = readdir(dir)) && n < max) {
			size_t l = strlen(e->d_name);

			if (l < 3 || e->d_name[l - 2] != '.' ||
			    (e->d_name[l - 1] != 'c' && e->d_name[l - 1] != 'h'))
				continue;
			snprintf(src[n].path, sizeof(src[n].path), "%s/%s", dirs[d], e->d_name);
			src[n].text = slurp(src[n].path);
			if (src[n].text) {
				strip_comments(src[n].text);
				n++;
			}
		}
		closedir(dir);
	}
	return n;
}

/* The first file but src/metrics.c whose text holds "name" (quotes
 * included), or NULL. */
static const char *elsewhere(const struct source *src, size_t n, const char *name)
{
	char lit[200];

	snprintf(lit, sizeof(lit), "\"%s\"", name);
	for (size_t i = 0; i < n; i++)
		if (strcmp(src[i].path, "src/metrics.c") != 0 && strstr(src[i].text, lit))
			return src[i].path;
	return NULL;
}

static bool is_cgroup_file(const char *name)
{
	for (int f = 0; f < CGF__COUNT; f++)
		if (strcmp(cg_files[f].name, name) == 0)
			return true;
	return false;
}

/*
 * No JSON id, Prometheus name or distinctive leaf key outside src/metrics.c
 * (so in no two files, issue 13's "done when"). Exempt:
 * ids that are also a cgroup file's name ("cpu.weight", "pids.max": there
 * they name the file), and leaf keys that are ordinary words of other JSON
 * objects (a policy target's "frozen", the host's "memory", ...) -- those
 * may appear elsewhere but never outside src/metrics.c as a cgroup metric.
 */
static void test_literals_once(void)
{
	static const char *const common_leaf[] = {
		"cpu", "memory", "io", "pids", "psi", "some", "full", "avg10", "avg60", "avg300",
		"total_usec", "current", "max", "high", "low", "min", "weight", "stat", "events",
		"devices", "major", "minor", "procs", "threads", "populated", "frozen", "sched",
		"net", "proc", "oom", "kills", "forks", "execs", "exits", "oom_kill", "file",
	};
	static struct source src[256];
	size_t n = read_sources(src, 256);

	CHECK(n > 20);
	for (int i = 0; i < M__COUNT; i++) {
		const struct metric_def *m = &metric_defs[i];
		const char *names[3] = { m->id, m->prom.name, metric_leaf(m) };

		for (int k = 0; k < 3; k++) {
			const char *where = NULL;
			bool common = false;

			/* An undotted id ("procs") is a leaf key: k == 2 checks it. */
			if (!names[k] || (k == 0 && (is_cgroup_file(names[k]) || names[2] == m->id)))
				continue;
			for (size_t c = 0; k == 2 && c < sizeof(common_leaf) / sizeof(*common_leaf); c++)
				common |= strcmp(common_leaf[c], names[k]) == 0;
			if (common)
				continue;
			if ((where = elsewhere(src, n, names[k])) != NULL) {
				printf("  \"%s\" is written in %s too\n", names[k], where);
				CHECK(!"a metric name outside src/metrics.c");
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		free(src[i].text);
}

int main(void)
{
	RUN(test_table_shape);
	RUN(test_getter);
	RUN(test_sets);
	RUN(test_fields_set);
	RUN(test_dashboard_sets);
	RUN(test_schema);
	RUN(test_man_json);
	RUN(test_man_policy);
	RUN(test_man_prom);
	RUN(test_literals_once);
	TEST_EXIT();
}
