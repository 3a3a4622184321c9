// SPDX-License-Identifier: GPL-2.0-only
/*
 * Golden outputs: every face rendered from the fixture trees, compared byte
 * for byte with tests/golden/. They pin the output while the model beneath
 * is reshaped (issue 13): a change that alters a byte must say why in its
 * commit and rewrite the files with
 *   GOLDEN_UPDATE=1 build/tests/test_golden
 * What varies from run to run (times, the process's own cost, the host's
 * CPU count) is set to fixed values before rendering; everything else comes
 * from the fixtures through the real collector.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test.h"
#include "collector.h"
#include "json.h"
#include "prom.h"

#define GOLDEN "tests/golden"
#define STATE_ROOT "tests/fixtures/runtime-state"
#define NO_PROC "tests/fixtures/no-such-proc"

static const char *const trees[] = { "v2-pure-6.1", "v2-hybrid-6.18" };
static bool updating;

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (n + 65536 > cap) {
			char *p = realloc(buf, cap = cap * 2 + 65536);

			if (!p) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = p;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	fclose(f);
	*len = n;
	return buf;
}

/* Compares (or, updating, writes) one golden file; names the first
 * differing line so a failure says where to look. */
static void golden_compare(const char *name, const char *got, size_t len)
{
	char path[512];
	size_t want_len = 0, line = 1;
	char *want;

	snprintf(path, sizeof(path), "%s/%s", GOLDEN, name);
	if (updating) {
		FILE *f = fopen(path, "w");

		CHECK(f != NULL);
		if (f) {
			CHECK(fwrite(got, 1, len, f) == len);
			CHECK(fclose(f) == 0);
		}
		return;
	}
	want = slurp(path, &want_len);
	if (!want) {
		printf("  %s: cannot read (GOLDEN_UPDATE=1 writes it)\n", path);
		test_cur_failed++;
		return;
	}
	for (size_t i = 0; i < len && i < want_len; i++) {
		if (got[i] != want[i]) {
			const char *ls = got + i, *ws = want + i;

			while (ls > got && ls[-1] != '\n')
				ls--;
			while (ws > want && ws[-1] != '\n')
				ws--;
			printf("  %s: line %zu differs\n    got:  %.*s\n    want: %.*s\n", path, line,
			       (int)strcspn(ls, "\n"), ls, (int)strcspn(ws, "\n"), ws);
			test_cur_failed++;
			free(want);
			return;
		}
		if (got[i] == '\n')
			line++;
	}
	if (len != want_len) {
		printf("  %s: %zu bytes, expected %zu (differs from line %zu)\n", path, len, want_len,
		       line);
		test_cur_failed++;
	}
	free(want);
}

/* The snapshot with what changes between runs fixed. Cgroup ids are the
 * fixture directories' inode numbers, which differ in every checkout: each
 * sample gets 1000 + its index instead (parents keep theirs). The copy of
 * the samples is freed by masked_free(). */
static struct cg_snapshot masked(const struct cg_snapshot *s)
{
	struct cg_snapshot m = *s;
	struct cg_sample *copy = calloc(s->nr_samples ? s->nr_samples : 1, sizeof(*copy));

	CHECK(copy != NULL);
	if (copy) {
		memcpy(copy, s->samples, s->nr_samples * sizeof(*copy));
		for (size_t i = 0; i < s->nr_samples; i++) {
			copy[i].id = 1000 + i;
			copy[i].parent_id = copy[i].parent >= 0 ? 1000 + (uint64_t)copy[i].parent : 0;
		}
		m.samples = copy;
	}

	m.wall_usec = 1764800000000000ull;
	m.mono_usec = 1000000ull * s->seq;
	m.interval_usec = s->interval_usec ? 1000000 : 0;
	m.host.cpus = 2;
	m.self = (struct cg_self){ .cgroups = s->self.cgroups };
	return m;
}

static void masked_free(struct cg_snapshot *m)
{
	free(m->samples);
	m->samples = NULL;
}

static int open_tree(const char *tree, struct collector **c)
{
	char root[256];

	snprintf(root, sizeof(root), "tests/fixtures/%s", tree);
	struct collector_opts o = {
		.root = root, .state_root = STATE_ROOT, .proc_root = NO_PROC,
		.sys_root = NO_PROC, .quiet = true,
	};
	return collector_new(&o, c);
}

typedef int (*render_fn)(FILE *out, const struct cg_snapshot *s, const void *arg);

static void golden_render(const char *name, render_fn fn, const struct cg_snapshot *s,
			  const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK(fn(f, s, arg) >= 0);
	fclose(f);
	golden_compare(name, buf, len);
	free(buf);
}

static int r_snapshot(FILE *out, const struct cg_snapshot *s, const void *arg)
{
	(void)arg;
	return json_write_snapshot(out, s, true);
}

static int r_tick(FILE *out, const struct cg_snapshot *s, const void *arg)
{
	return json_write_stream_tick_fields(out, s, arg);
}

static int r_prom(FILE *out, const struct cg_snapshot *s, const void *arg)
{
	struct prom_buf b = { 0 };
	static const struct prom_policy_count pc[] = {
		{ "hog \"limit\"", "cpu.max", "applied", 3 },
	};
	int err = prom_render(&b, s, *(const enum prom_format *)arg, pc, 1);

	if (!err)
		fwrite(b.data, 1, b.len, out);
	prom_buf_free(&b);
	return err;
}

/* --fields lists whose cuts the stream golden pins. */
static const char *const field_lists[] = {
	"cpu.usage_ratio",
	"memory.working_set_bytes,memory.stat.inactive_file,psi.memory",
	"io,pids,procs,threads,populated,frozen",
};

static void test_faces_from_fixtures(void)
{
	for (size_t t = 0; t < sizeof(trees) / sizeof(trees[0]); t++) {
		const struct cg_snapshot *s;
		struct cg_snapshot m;
		struct collector *c;
		char name[128];

		CHECK_INT(open_tree(trees[t], &c), 0);
		if (!c)
			continue;
		/* First tick: counters only, every rate null. */
		CHECK_INT(collector_tick(c, &s), 0);
		m = masked(s);
		snprintf(name, sizeof(name), "%s.snapshot.json", trees[t]);
		golden_render(name, r_snapshot, &m, NULL);
		masked_free(&m);
		/* Second tick: the files did not change, so every rate the
		 * kernel's counters allow is present and 0. */
		CHECK_INT(collector_tick(c, &s), 0);
		m = masked(s);
		snprintf(name, sizeof(name), "%s.tick2.json", trees[t]);
		golden_render(name, r_snapshot, &m, NULL);
		for (int fmt = PROM_TEXT; fmt <= PROM_OPENMETRICS; fmt++) {
			enum prom_format f = fmt;

			snprintf(name, sizeof(name), "%s.metrics.%s", trees[t],
				 f == PROM_TEXT ? "txt" : "om");
			golden_render(name, r_prom, &m, &f);
		}
		for (size_t i = 0; i < sizeof(field_lists) / sizeof(field_lists[0]); i++) {
			struct json_fields *fl;

			CHECK_INT(json_fields_parse(field_lists[i], &fl), 0);
			snprintf(name, sizeof(name), "%s.fields%zu.ndjson", trees[t], i);
			golden_render(name, r_tick, &m, fl);
			json_fields_free(fl);
		}
		masked_free(&m);
		collector_free(c);
	}
}

/* check-policy as a user runs it: every policy of the fuzz corpus against
 * each fixture tree; stdout, stderr and the exit status. */
static void test_check_policy_on_corpus(void)
{
	const char *bin = getenv("CGWARDEN");
	FILE *ls;
	char file[512];

	if (!bin)
		bin = "build/cgwarden";
	if (access(bin, X_OK) != 0)
		TEST_SKIP("%s is not built", bin);
	ls = popen("ls tests/fuzz/corpus/policy/*.json tests/golden/policies/*.json", "r");
	CHECK(ls != NULL);
	if (!ls)
		return;
	while (fgets(file, sizeof(file), ls)) {
		file[strcspn(file, "\n")] = '\0';
		for (size_t t = 0; t < sizeof(trees) / sizeof(trees[0]); t++) {
			char cmd[2048], name[256], *out = NULL;
			size_t len = 0;
			FILE *o = open_memstream(&out, &len), *p;
			const char *base = strrchr(file, '/') + 1;
			int st;

			snprintf(cmd, sizeof(cmd),
				 "%s check-policy %s --root tests/fixtures/%s --state-root %s "
				 "--proc-root %s --sys-root %s 2>&1",
				 bin, file, trees[t], STATE_ROOT, NO_PROC, NO_PROC);
			p = popen(cmd, "r");
			CHECK(p != NULL && o != NULL);
			if (!p || !o)
				continue;
			for (int ch; (ch = fgetc(p)) != EOF;)
				fputc(ch, o);
			st = pclose(p);
			fprintf(o, "exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
			fclose(o);
			snprintf(name, sizeof(name), "check-policy/%.*s.%s", (int)(strlen(base) - 5),
				 base, trees[t]);
			golden_compare(name, out, len);
			free(out);
		}
	}
	pclose(ls);
}

int main(void)
{
	updating = getenv("GOLDEN_UPDATE") != NULL;
	if (updating)
		mkdir(GOLDEN "/check-policy", 0755);
	RUN(test_faces_from_fixtures);
	RUN(test_check_policy_on_corpus);
	TEST_EXIT();
}
