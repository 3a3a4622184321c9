/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The collector on fixture trees (real cgroupfs captures reached through
 * --root): values exactly as the kernel wrote them, absent stays absent,
 * parents before children, births and deaths, the fd budget fallback,
 * files longer than their cap read only up to it.
 */
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "test.h"
#include "cgfs.h"
#include "collector.h"

#define PURE "tests/fixtures/v2-pure-6.1"
#define DOCKER "system.slice/docker-3f4e8a9c1b2d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9d0e1f2a3b.scope"

static struct collector *open_root(const char *root, long budget)
{
	struct collector_opts o = { .root = root, .fd_budget = budget, .quiet = true,
				    .sys_root = "/nonexistent", .state_root = "/nonexistent" };
	struct collector *c = NULL;

	CHECK_INT(collector_new(&o, &c), 0);
	return c;
}

static void test_fixture_values_match_kernel_text(void)
{
	struct collector *c = open_root(PURE, 0);
	const struct cg_snapshot *s;
	const struct cg_sample *d;

	if (!c)
		return;
	CHECK_INT(collector_tick(c, &s), 0);
	CHECK_U64(s->nr_samples, 9);
	d = snapshot_find_path(s, DOCKER);
	CHECK(d != NULL);
	if (!d)
		goto out;
	CHECK_U64(d->cpu[CG_CPU_USAGE_USEC], 15972258);
	CHECK_U64(d->cpu[CG_CPU_NR_THROTTLED], 318);
	CHECK_U64(d->cpu_max_quota_usec, 50000);
	CHECK_U64(d->cpu_max_period_usec, 100000);
	CHECK_U64(d->mem_max, 314572800);
	CHECK_U64(d->swap_max, CG_UNLIMITED);
	CHECK_U64(d->pids_max, 100);
	CHECK_U64(d->mem_peak, 111796224);
	CHECK_U64(d->psi[CG_PSI_CPU].some.avg10, 3978);
	CHECK_U64(d->psi[CG_PSI_CPU].full.total_usec, 15736785);
	CHECK(d->have & CG_HAVE_MEM_EVENTS);
	CHECK_U64(d->memevents[CG_ME_OOM_KILL], 0);
	CHECK(d->populated);
	CHECK(!d->frozen);
	CHECK_INT(d->ident.kind, CG_KIND_CONTAINER);
	CHECK_INT(d->ident.runtime, CG_RT_DOCKER);
	CHECK_U64(d->depth, 2);
	/* First tick: no rates yet, only what one sample gives. */
	CHECK_U64(d->rate.have, CG_RATE_WORKING_SET);
out:
	collector_free(c);
}

static void test_absent_is_absent(void)
{
	struct collector *c = open_root(PURE, 0);
	const struct cg_snapshot *s;
	const struct cg_sample *root;

	if (!c)
		return;
	CHECK_INT(collector_tick(c, &s), 0);
	root = &s->samples[0];
	CHECK_STR(root->path, "");
	CHECK_INT(root->parent, -1);
	/* The root cgroup has no memory.current, cpu.max or pids.max. */
	CHECK(!(root->have & (CG_HAVE_MEM_CURRENT | CG_HAVE_CPU_MAX | CG_HAVE_PIDS_MAX)));
	CHECK(root->have & CG_HAVE_CPU_STAT);
	collector_free(c);

	/* The hybrid host's cgroup has no nr_periods in cpu.stat at all. */
	c = open_root("tests/fixtures/v2-hybrid-6.18", 0);
	if (!c)
		return;
	CHECK_INT(collector_tick(c, &s), 0);
	const struct cg_sample *busy = snapshot_find_path(s, "busy");

	CHECK(busy != NULL);
	if (busy) {
		CHECK_U64(busy->cpu[CG_CPU_USAGE_USEC], 3085525);
		CHECK(!(busy->cpu_have & (1u << CG_CPU_NR_PERIODS)));
		CHECK(!(busy->have & (CG_HAVE_MEM_STAT | CG_HAVE_IO_STAT | CG_HAVE_CPU_WEIGHT)));
	}
	collector_free(c);
}

static void test_parents_before_children(void)
{
	struct collector *c = open_root(PURE, 0);
	const struct cg_snapshot *s;

	if (!c)
		return;
	CHECK_INT(collector_tick(c, &s), 0);
	for (size_t i = 1; i < s->nr_samples; i++) {
		int32_t p = s->samples[i].parent;

		CHECK(p >= 0 && (size_t)p < i);
		if (p >= 0 && (size_t)p < i) {
			CHECK_U64(s->samples[i].parent_id, s->samples[p].id);
			CHECK_U64(s->samples[i].depth, s->samples[p].depth + 1);
		}
	}
	collector_free(c);
}

static void test_ids_are_inodes(void)
{
	struct collector *c = open_root(PURE, 0);
	const struct cg_snapshot *s;
	struct stat st;

	if (!c)
		return;
	CHECK_INT(collector_tick(c, &s), 0);
	CHECK_INT(stat(PURE "/" DOCKER, &st), 0);
	const struct cg_sample *d = snapshot_find_path(s, DOCKER);

	CHECK(d && d->id == (uint64_t)st.st_ino);
	collector_free(c);
}

/* The same numbers whether files are kept open or reopened each tick. */
static void test_fd_budget_fallback_reads_the_same(void)
{
	struct collector *a = open_root(PURE, 0), *b = open_root(PURE, 3);
	const struct cg_snapshot *sa, *sb;

	if (!a || !b)
		goto out;
	for (int t = 0; t < 2; t++) {
		CHECK_INT(collector_tick(a, &sa), 0);
		CHECK_INT(collector_tick(b, &sb), 0);
	}
	CHECK_U64(sb->self.kept_fds, 3);
	CHECK(sb->self.reopened_files > 0);
	CHECK_U64(sa->self.reopened_files, 0);
	CHECK_U64(sa->nr_samples, sb->nr_samples);
	for (size_t i = 0; i < sa->nr_samples && i < sb->nr_samples; i++) {
		const struct cg_sample *x = &sa->samples[i], *y = &sb->samples[i];

		CHECK_STR(x->path, y->path);
		CHECK_U64(x->have, y->have);
		CHECK(memcmp(x->cpu, y->cpu, sizeof(x->cpu)) == 0);
		CHECK(memcmp(x->memstat, y->memstat, sizeof(x->memstat)) == 0);
		CHECK_U64(x->mem_current, y->mem_current);
		CHECK_U64(x->nr_io, y->nr_io);
	}
out:
	collector_free(a);
	collector_free(b);
}

static char *copy_fixture(const char *src)
{
	static char tmpl[64];
	char cmd[256];

	snprintf(tmpl, sizeof(tmpl), "/tmp/cgw-unit-XXXXXX");
	if (!mkdtemp(tmpl))
		return NULL;
	snprintf(cmd, sizeof(cmd), "cp -a %s/. %s/", src, tmpl);
	return system(cmd) == 0 ? tmpl : NULL;
}

static void rm_tree(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_INT(system(cmd), 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* The depth notice quotes the first path too deep: a hostile name in it
 * reaches stderr (and so the terminal) escaped. */
static void test_depth_warning_is_escaped(void)
{
	char *dir = copy_fixture(PURE);
	char path[4096], text[2048];
	struct collector_opts o = { .sys_root = "/nonexistent", .state_root = "/nonexistent" };
	struct collector *c = NULL;
	const struct cg_snapshot *s;
	FILE *cap = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n, len;

	CHECK(dir && cap && saved >= 0);
	if (!dir || !cap || saved < 0)
		return;
	len = (size_t)snprintf(path, sizeof(path), "%s/evil\033]0;pwned\007\xe2\x80\xae", dir);
	CHECK_INT(mkdir(path, 0755), 0);
	for (int i = 0; i < 130 && len + 3 < sizeof(path); i++) {
		len += (size_t)snprintf(path + len, sizeof(path) - len, "/d");
		CHECK_INT(mkdir(path, 0755), 0);
	}
	o.root = dir;
	fflush(stderr);
	dup2(fileno(cap), STDERR_FILENO);
	if (collector_new(&o, &c) == 0)
		CHECK_INT(collector_tick(c, &s), 0);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	collector_free(c);
	rewind(cap);
	n = fread(text, 1, sizeof(text) - 1, cap);
	text[n] = '\0';
	fclose(cap);
	CHECK(strstr(text, "deeper than") != NULL);
	CHECK(strstr(text, "evil\\e]0;pwned\\x07\\u202e/d/d") != NULL);
	CHECK(strchr(text, '\033') == NULL && strchr(text, '\007') == NULL);
	CHECK(strstr(text, "\xe2\x80\xae") == NULL);
	rm_tree(dir);
}

/* Writes head, then filler up to bytes, then tail, to path. */
static void write_big(const char *path, const char *head, const char *filler, size_t bytes,
		      const char *tail)
{
	FILE *f = fopen(path, "w");
	size_t n = strlen(head), fl = strlen(filler);

	CHECK(f != NULL);
	if (!f)
		return;
	fputs(head, f);
	for (; n + fl <= bytes; n += fl)
		fputs(filler, f);
	fputs(tail, f);
	CHECK_INT(fclose(f), 0);
}

/* cgroupfs files longer than their cap (a --root tree can hold anything):
 * the first part counts, the rest is never read, each file name is said
 * once on stderr. The files are made here, not committed. */
static void test_oversized_files_are_capped(void)
{
	char *dir = copy_fixture(PURE);
	char path[512], text[4096];
	struct collector_opts o = { .sys_root = "/nonexistent", .state_root = "/nonexistent" };
	struct collector *c = NULL;
	const struct cg_snapshot *s;
	const struct cg_sample *d;
	FILE *cap = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	CHECK(dir && cap && saved >= 0);
	if (!dir || !cap || saved < 0)
		return;
	/* 5 MB of memory.stat: anon first, a known key past the cap. */
	snprintf(path, sizeof(path), "%s/%s/memory.stat", dir, DOCKER);
	write_big(path, "anon 111\n", "nosuch_key 1\n", 5u << 20, "file 222\n");
	/* 2 MB of io.stat naming 8:0 again and again, a new device past the
	 * cap: one device, its first line. */
	snprintf(path, sizeof(path), "%s/%s/io.stat", dir, DOCKER);
	write_big(path, "8:0 rbytes=5 wbytes=6\n", "8:0 rbytes=9 wbytes=9\n", 2u << 20,
		  "9:0 rbytes=1\n");
	/* 9 MB of cgroup.procs: counted up to the 8 MiB cap (2 bytes a line). */
	snprintf(path, sizeof(path), "%s/%s/cgroup.procs", dir, DOCKER);
	write_big(path, "", "1\n", 9u << 20, "");
	/* 2,000 devices in one io.stat (40 KB, under the cap): the first
	 * 1,024 are kept. */
	snprintf(path, sizeof(path), "%s/system.slice/io.stat", dir);
	FILE *io = fopen(path, "w");

	CHECK(io != NULL);
	for (int i = 0; io && i < 2000; i++)
		fprintf(io, "%d:%d rbytes=%d\n", 1000 + i, i, i);
	if (io)
		CHECK_INT(fclose(io), 0);
	/* A value file of 8 KiB of digits: cut, so absent (never a number
	 * made of its first 4 KiB, which would overflow anyway). */
	snprintf(path, sizeof(path), "%s/%s/memory.current", dir, DOCKER);
	write_big(path, "", "1", 8u << 10, "\n");

	o.root = dir;
	fflush(stderr);
	dup2(fileno(cap), STDERR_FILENO);
	if (collector_new(&o, &c) == 0) {
		CHECK_INT(collector_tick(c, &s), 0);
		CHECK_INT(collector_tick(c, &s), 0);	/* said once, not per tick */
	}
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(cap);
	n = fread(text, 1, sizeof(text) - 1, cap);
	text[n] = '\0';
	fclose(cap);
	d = c ? snapshot_find_path(s, DOCKER) : NULL;
	CHECK(d != NULL);
	if (d) {
		CHECK(d->have & CG_HAVE_MEM_STAT);
		CHECK(d->memstat_have & (1ull << CG_MS_ANON));
		CHECK_U64(d->memstat[CG_MS_ANON], 111);
		CHECK(!(d->memstat_have & (1ull << CG_MS_FILE)));
		CHECK_U64(d->nr_io, 1);
		if (d->nr_io == 1) {
			CHECK_U64(d->io[0].major, 8);
			CHECK_U64(d->io[0].v[CG_IO_RBYTES], 5);
		}
		CHECK_U64(d->procs, 4u << 20);
		CHECK(!(d->have & CG_HAVE_MEM_CURRENT));
	}
	d = c ? snapshot_find_path(s, "system.slice") : NULL;
	CHECK(d != NULL);
	if (d) {
		CHECK_U64(d->nr_io, 1024);
		if (d->nr_io == 1024)
			CHECK_U64(d->io[1023].major, 1000 + 1023);
	}
	collector_free(c);
	for (const char *const *f = (const char *const[]){
		     "memory.stat is longer than 64 KiB", "io.stat is longer than 1024 KiB",
		     "cgroup.procs is longer than 8192 KiB",
		     "memory.current is longer than 4 KiB",
		     "system.slice/io.stat lists more than 1024 devices", NULL }; *f; f++) {
		const char *at = strstr(text, *f);

		CHECK(at != NULL);
		if (at)
			CHECK(strstr(at + 1, *f) == NULL);
	}
	CHECK(strstr(text, DOCKER "/memory.stat") != NULL);
	rm_tree(dir);
}

/* Files of the fixture tree the collector would read, all of them (want
 * NULL) or only those named in mask. */
static uint32_t count_mask;
static uint64_t count_found;

static int count_dir(const char *dir, const struct stat *st, int type, struct FTW *ftw)
{
	const char *const *names;
	size_t nr = collector_file_names(&names);

	(void)st;
	(void)ftw;
	if (type != FTW_D)
		return 0;
	for (size_t f = 0; f < nr; f++) {
		char p[1024];

		snprintf(p, sizeof(p), "%s/%s", dir, names[f]);
		if ((count_mask & CGF_BIT(f)) && access(p, R_OK) == 0)
			count_found++;
	}
	return 0;
}

static uint64_t fixture_files(const char *root, uint32_t mask)
{
	count_mask = mask;
	count_found = 0;
	CHECK_INT(nftw(root, count_dir, 16, FTW_PHYS), 0);
	return count_found;
}

/* files_read of one tick less what the host's files took (a want of no
 * cgroup file reads only those: the fixture is not cgroupfs, so no
 * cgroup.stat either). */
static uint64_t cgroup_files_read(struct collector *c, const struct cg_want *w,
				  const struct cg_snapshot **s)
{
	const struct cg_want none = { 0 };
	uint64_t host;

	collector_want(c, &none);
	CHECK_INT(collector_tick(c, s), 0);
	host = (*s)->self.files_read;
	collector_want(c, w);
	CHECK_INT(collector_tick(c, s), 0);
	return (*s)->self.files_read - host;
}

/* A want of cpu.stat alone: exactly the cpu.stat files are read, and every
 * other field from files is absent (not 0). */
static void test_want_cpu_stat_only(void)
{
	const struct cg_want w = { .files = CGF_BIT(CGF_CPU_STAT) };
	struct collector *c = open_root(PURE, 0);
	const struct cg_snapshot *s;
	uint64_t with_cpu = 0;

	if (!c)
		return;
	CHECK_U64(cgroup_files_read(c, &w, &s), fixture_files(PURE, CGF_BIT(CGF_CPU_STAT)));
	CHECK_U64(s->nr_samples, 9);
	for (size_t i = 0; i < s->nr_samples; i++) {
		const struct cg_sample *x = &s->samples[i];

		CHECK_U64(x->have & ~(uint32_t)CG_HAVE_CPU_STAT, 0);
		CHECK_U64(x->nr_io, 0);
		with_cpu += !!(x->have & CG_HAVE_CPU_STAT);
	}
	CHECK_U64(with_cpu, fixture_files(PURE, CGF_BIT(CGF_CPU_STAT)));
	/* Identity and the tree stay whatever the want. */
	const struct cg_sample *d = snapshot_find_path(s, DOCKER);

	CHECK(d != NULL);
	if (d) {
		CHECK_U64(d->cpu[CG_CPU_USAGE_USEC], 15972258);
		CHECK_INT(d->ident.kind, CG_KIND_CONTAINER);
		CHECK_U64(d->depth, 2);
		CHECK(d->parent >= 0);
	}
	/* The default is everything: every file, as before. */
	collector_want(c, NULL);
	CHECK_INT(collector_tick(c, &s), 0);
	collector_free(c);
	c = open_root(PURE, 0);
	if (!c)
		return;
	CHECK_U64(cgroup_files_read(c, NULL, &s), fixture_files(PURE, CGF_ALL));
	collector_free(c);
}

/* Shrinking the want gives the fds of unwanted files back at once;
 * growing it reads them again from the next tick, the same values. */
static void test_want_shrinks_and_grows(void)
{
	const struct cg_want cpu = { .files = CGF_BIT(CGF_CPU_STAT) };
	const struct cg_want mem = { .files = CGF_BIT(CGF_MEM_CURRENT) | CGF_BIT(CGF_MEM_STAT) };
	struct collector *c = open_root(PURE, 0);
	const struct cg_snapshot *s;
	uint32_t have_all[16];
	uint64_t kept_all, kept_cpu;
	size_t n;

	if (!c)
		return;
	CHECK_INT(collector_tick(c, &s), 0);
	kept_all = s->self.kept_fds;
	n = s->nr_samples < 16 ? s->nr_samples : 16;
	for (size_t i = 0; i < n; i++)
		have_all[i] = s->samples[i].have;

	collector_want(c, &cpu);
	CHECK_INT(collector_tick(c, &s), 0);
	kept_cpu = s->self.kept_fds;
	CHECK_U64(kept_all - kept_cpu, fixture_files(PURE, CGF_ALL & ~CGF_BIT(CGF_CPU_STAT)));
	CHECK_U64(s->self.reopened_files, 0);

	collector_want(c, &mem);
	CHECK_INT(collector_tick(c, &s), 0);
	CHECK_U64(s->self.kept_fds - kept_cpu + fixture_files(PURE, CGF_BIT(CGF_CPU_STAT)),
		  fixture_files(PURE, mem.files));
	for (size_t i = 0; i < s->nr_samples; i++)
		CHECK_U64(s->samples[i].have & ~(uint32_t)(CG_HAVE_MEM_CURRENT | CG_HAVE_MEM_STAT), 0);
	const struct cg_sample *d = snapshot_find_path(s, DOCKER);

	CHECK(d && (d->have & CG_HAVE_MEM_STAT) && !(d->have & CG_HAVE_CPU_STAT));

	collector_want(c, NULL);
	CHECK_INT(collector_tick(c, &s), 0);
	CHECK_U64(s->self.kept_fds, kept_all);
	CHECK_U64(s->nr_samples, n);
	for (size_t i = 0; i < n && i < s->nr_samples; i++)
		CHECK_U64(s->samples[i].have, have_all[i]);
	collector_free(c);
}

/* Under a want, a cgroup that goes away is still dropped quietly and
 * reported once, and its fds go back to the budget. */
static void test_want_and_deaths(void)
{
	const struct cg_want cpu = { .files = CGF_BIT(CGF_CPU_STAT) | CGF_BIT(CGF_IO_STAT) };
	char *dir = copy_fixture(PURE);
	char cmd[512];
	const struct cg_snapshot *s;
	struct collector *c;
	uint64_t kept, files;

	CHECK(dir != NULL);
	if (!dir)
		return;
	snprintf(cmd, sizeof(cmd), "%s/machine.slice", dir);
	files = fixture_files(cmd, cpu.files);
	c = open_root(dir, 0);
	if (!c)
		goto out;
	collector_want(c, &cpu);
	CHECK_INT(collector_tick(c, &s), 0);
	kept = s->self.kept_fds;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/machine.slice'", dir);
	CHECK_INT(system(cmd), 0);
	CHECK_INT(collector_tick(c, &s), 0);
	CHECK_U64(s->nr_removed, 2);
	for (size_t i = 0; i < s->nr_removed; i++) {
		const struct cg_sample *r = &s->removed[i];

		CHECK_U64(r->have & ~(uint32_t)(CG_HAVE_CPU_STAT | CG_HAVE_IO_STAT), 0);
		if (strncmp(r->path, "machine.slice/libpod-", 21) == 0) {
			CHECK_U64(r->cpu[CG_CPU_USAGE_USEC], 242708);
			CHECK_U64(r->nr_io, 1);
		}
	}
	/* Their wanted files' fds and both dirfds (the leaf's is kept while
	 * the budget has room). */
	CHECK_U64(kept - s->self.kept_fds, files + 2);
	collector_free(c);
out:
	rm_tree(dir);
}

static void test_births_deaths_and_rates(void)
{
	char *dir = copy_fixture(PURE);
	char path[512];
	const struct cg_snapshot *s;
	struct collector *c;

	CHECK(dir != NULL);
	if (!dir)
		return;
	c = open_root(dir, 0);
	if (!c)
		goto out;
	CHECK_INT(collector_tick(c, &s), 0);
	CHECK_U64(s->nr_added, 0);	/* the first tick is the baseline, not births */

	/* A new cgroup, a removed one, and 0.5 s of CPU in the docker scope. */
	snprintf(path, sizeof(path), "%s/system.slice/new.service", dir);
	CHECK_INT(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/system.slice/new.service/cpu.stat", dir);
	write_file(path, "usage_usec 7\nuser_usec 5\nsystem_usec 2\n");
	snprintf(path, sizeof(path), "rm -rf '%s/machine.slice'", dir);
	CHECK_INT(system(path), 0);
	snprintf(path, sizeof(path), "%s/%s/cpu.stat", dir, DOCKER);
	write_file(path, "usage_usec 16472258\nuser_usec 14375436\nsystem_usec 1596822\n"
			 "nr_periods 321\nnr_throttled 318\nthrottled_usec 26289940\n");
	usleep(100000);
	CHECK_INT(collector_tick(c, &s), 0);

	CHECK_U64(s->nr_added, 1);
	if (s->nr_added == 1)
		CHECK_STR(s->samples[s->added[0]].path, "system.slice/new.service");
	/* machine.slice and its libpod child: both reported once, with the
	 * counters of the last tick that saw them. */
	CHECK_U64(s->nr_removed, 2);
	for (size_t i = 0; i < s->nr_removed; i++) {
		const struct cg_sample *r = &s->removed[i];

		if (strncmp(r->path, "machine.slice/libpod-", 21) == 0) {
			CHECK_U64(r->cpu[CG_CPU_USAGE_USEC], 242708);
			CHECK_U64(r->nr_io, 1);
			CHECK_INT(r->ident.kind, CG_KIND_CONTAINER);
		} else {
			CHECK_STR(r->path, "machine.slice");
		}
	}
	CHECK(snapshot_find_path(s, "machine.slice") == NULL);
	const struct cg_sample *d = snapshot_find_path(s, DOCKER);

	CHECK(d && (d->rate.have & CG_RATE_CPU_USAGE));
	/* 0.5 s of CPU over >= 0.1 s: a ratio of at most 5 and well above 0. */
	if (d)
		CHECK(d->rate.cpu_usage_ratio > 0.5 && d->rate.cpu_usage_ratio <= 5.0);

	/* Next tick: the removal is not reported again. */
	CHECK_INT(collector_tick(c, &s), 0);
	CHECK_U64(s->nr_removed, 0);
	CHECK_U64(s->nr_added, 0);
	collector_free(c);
out:
	rm_tree(dir);
}

/* A container whose runtime state appears after its cgroup gets its name
 * within the retry window (the kubelet and runtimes write state late). */
static void test_late_runtime_state_is_picked_up(void)
{
	char *dir = copy_fixture(PURE);
	char state[] = "/tmp/cgw-unit-state-XXXXXX", path[512];
	const char *id = "3f4e8a9c1b2d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9d0e1f2a3b";
	struct collector_opts o = { .quiet = true, .sys_root = "/nonexistent" };
	struct collector *c = NULL;
	const struct cg_snapshot *s;
	const struct cg_sample *d;

	CHECK(dir && mkdtemp(state));
	if (!dir)
		return;
	o.root = dir;
	o.state_root = state;
	CHECK_INT(collector_new(&o, &c), 0);
	if (!c)
		goto out;
	CHECK_INT(collector_tick(c, &s), 0);
	d = snapshot_find_path(s, DOCKER);
	CHECK(d && d->ident.name && strcmp(d->ident.name, "3f4e8a9c1b2d") == 0);
	snprintf(path, sizeof(path), "mkdir -p %s/var/lib/docker/containers/%s && "
		 "cp tests/fixtures/runtime-state/var/lib/docker/containers/%s/config.v2.json "
		 "%s/var/lib/docker/containers/%s/", state, id, id, state, id);
	CHECK_INT(system(path), 0);
	for (int t = 0; t < 17; t++)
		CHECK_INT(collector_tick(c, &s), 0);
	d = snapshot_find_path(s, DOCKER);
	CHECK(d && d->ident.name && strcmp(d->ident.name, "3f4e8a9c1b2d") != 0);
	if (d && d->ident.name)
		printf("  late name: %s\n", d->ident.name);
	collector_free(c);
out:
	rm_tree(dir);
	rm_tree(state);
}

static void test_no_cgroup2_mount(void)
{
	struct collector_opts o = { .mountinfo = "/tmp/cgw-unit-no-cgroup2.mountinfo",
				    .quiet = true };
	struct collector *c = NULL;
	char mnt[256];

	write_file("/tmp/cgw-unit-no-cgroup2.mountinfo",
		   "22 27 0:21 / /proc rw,relatime - proc proc rw\n");
	CHECK_INT(collector_new(&o, &c), -ENOENT);
	CHECK(c == NULL);
	unlink("/tmp/cgw-unit-no-cgroup2.mountinfo");
	CHECK_INT(cgfs_find_cgroup2("tests/fixtures/mountinfo.hybrid", mnt, sizeof(mnt)), 0);
	CHECK_STR(mnt, "/sys/fs/cgroup/unified");
	CHECK_INT(cgfs_find_cgroup2("tests/fixtures/mountinfo.pure-v2", mnt, sizeof(mnt)), 0);
	CHECK_STR(mnt, "/sys/fs/cgroup");
}

static void test_missing_root(void)
{
	struct collector_opts o = { .root = "/nonexistent/cgroup", .quiet = true };
	struct collector *c = NULL;

	CHECK_INT(collector_new(&o, &c), -ENOENT);
}

/* The slow tier (serve): memory.stat, io.stat and the process lists are
 * read at the first tick, then every slow_every'th tick at each cgroup's
 * own phase; in between their fields are carried, marked so, with their
 * age, and their rates are the last read's. Everything else is read every
 * tick. */
static void test_slow_tier_is_carried_and_marked(void)
{
	const struct cg_want w = { .files = CGF_ALL & ~CGF_SLOW, .slow = CGF_SLOW, .bpf = 0,
				   .slow_every = 3 };
	char *dir = copy_fixture(PURE);
	char path[512];
	struct collector *c;
	const struct cg_snapshot *s;
	const struct cg_sample *d;
	uint64_t all, period_reads = 0, fresh_reads[5] = { 0 };
	int read_at = 0;

	CHECK(dir != NULL);
	if (!dir)
		return;
	c = open_root(dir, 0);
	if (!c)
		goto out;
	collector_want(c, &w);
	CHECK_INT(collector_tick(c, &s), 0);
	all = s->self.files_read;
	CHECK_U64(s->self.slow_every, 3);
	for (size_t i = 0; i < s->nr_samples; i++)
		CHECK_U64(s->samples[i].carried, 0);
	d = snapshot_find_path(s, DOCKER);
	CHECK(d && (d->have & CG_HAVE_MEM_STAT) && d->memstat[CG_MS_PGFAULT] == 2968);
	/* The kernel's count moves on; memory.current too. */
	snprintf(path, sizeof(path), "%s/%s/memory.stat", dir, DOCKER);
	write_file(path, "anon 1\ninactive_file 5\npgfault 5968\n");
	snprintf(path, sizeof(path), "%s/%s/memory.current", dir, DOCKER);
	write_file(path, "4096\n");
	for (int t = 2; t <= 4; t++) {
		CHECK_INT(collector_tick(c, &s), 0);
		/* Over the period, not each tick: a cgroup's phase is a hash of
		 * its id (the copied fixture's inodes), and on one tick every
		 * cgroup with slow files may be due at once. */
		period_reads += s->self.files_read;
		d = snapshot_find_path(s, DOCKER);
		CHECK(d != NULL);
		if (!d)
			break;
		CHECK_U64(d->mem_current, 4096);	/* not slow: every tick */
		CHECK(d->have & CG_HAVE_MEM_STAT);
		if (d->carried & CG_HAVE_MEM_STAT) {
			CHECK_U64(d->memstat[CG_MS_PGFAULT], read_at ? 5968 : 2968);
			CHECK(d->carried_age_usec > 0);
			CHECK_U64(d->carried & ~(uint32_t)CGF_SLOW, 0);
		} else {
			CHECK_INT(read_at, 0);	/* once in the period */
			read_at = t;
			CHECK_U64(d->memstat[CG_MS_PGFAULT], 5968);
			/* 3,000 faults since tick 1's read, over the time
			 * since that read, not since the last tick. */
			CHECK(d->rate.have & CG_RATE_PGFAULT);
		}
		for (size_t i = 0; i < s->nr_samples; i++)
			fresh_reads[t] += !(s->samples[i].carried & CG_HAVE_MEM_STAT) &&
					  (s->samples[i].have & CG_HAVE_MEM_STAT);
	}
	CHECK(period_reads < 3 * all);
	CHECK(read_at >= 2);
	/* Each cgroup's memory.stat once in the three ticks. */
	CHECK_U64(fresh_reads[2] + fresh_reads[3] + fresh_reads[4],
		  fixture_files(dir, CGF_BIT(CGF_MEM_STAT)));
	/* A consumer that wants them every tick: nothing is carried. */
	collector_want(c, NULL);
	CHECK_INT(collector_tick(c, &s), 0);
	for (size_t i = 0; i < s->nr_samples; i++)
		CHECK_U64(s->samples[i].carried, 0);
	collector_free(c);
out:
	rm_tree(dir);
}

/* Files wanted for one cgroup (the dashboard's detail view) are read for
 * it alone, every tick; the others get only what all cgroups want. */
static void test_focus_reads_one_cgroup_only(void)
{
	struct collector *c = open_root(PURE, 0);
	const struct cg_snapshot *s;
	const struct cg_sample *d;
	uint64_t id;
	struct cg_want w = { .files = CGF_BIT(CGF_CPU_STAT), .focus_files = CGF_ALL, .nr_focus = 1,
			     .focus = &id };

	if (!c)
		return;
	CHECK_INT(collector_tick(c, &s), 0);
	d = snapshot_find_path(s, DOCKER);
	CHECK(d != NULL);
	if (!d)
		goto out;
	id = d->id;
	collector_want(c, &w);
	CHECK_INT(collector_tick(c, &s), 0);
	for (size_t i = 0; i < s->nr_samples; i++) {
		const struct cg_sample *x = &s->samples[i];

		if (x->id == id)
			CHECK((x->have & CG_HAVE_MEM_STAT) && (x->have & CG_HAVE_IO_STAT) &&
			      (x->have & CG_HAVE_CPU_STAT));
		else
			CHECK_U64(x->have & ~(uint32_t)CG_HAVE_CPU_STAT, 0);
	}
out:
	collector_free(c);
}

int main(void)
{
	RUN(test_fixture_values_match_kernel_text);
	RUN(test_absent_is_absent);
	RUN(test_parents_before_children);
	RUN(test_ids_are_inodes);
	RUN(test_fd_budget_fallback_reads_the_same);
	RUN(test_births_deaths_and_rates);
	RUN(test_want_cpu_stat_only);
	RUN(test_want_shrinks_and_grows);
	RUN(test_want_and_deaths);
	RUN(test_slow_tier_is_carried_and_marked);
	RUN(test_focus_reads_one_cgroup_only);
	RUN(test_depth_warning_is_escaped);
	RUN(test_oversized_files_are_capped);
	RUN(test_late_runtime_state_is_picked_up);
	RUN(test_no_cgroup2_mount);
	RUN(test_missing_root);
	TEST_EXIT();
}
