/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * JSON output: snapshot document and stream lines, built from hand-made
 * snapshots, parsed back with json-c's strict tokener and, when python3 has
 * jsonschema, checked against schema/cgwarden.schema.json. Run from the repo
 * root (the schema check calls tests/schema_validate.py).
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>

#include "json.h"
#include "rates.h"
#include "snapshot.h"
#include "test.h"

#define MIB (1024ull * 1024)
#define CONTAINER_ID "4f1c7e2a9b3d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7"

static struct cg_arena *arena;

/* ---- building snapshots ------------------------------------------------ */

static struct cg_snapshot new_snapshot(size_t nr)
{
	struct cg_snapshot s = {
		.root = "/sys/fs/cgroup",
		.seq = 7,
		.mono_usec = 123456789,
		.wall_usec = 1700000000123456ull,
		.interval_usec = 1000000,
		.host = { .cpus = 4 },
		.self = { .collect_usec = 1500, .files_read = 3, .files_read_total = 42,
			  .cgroups = 2, .cpu_usec = 98765, .rss_bytes = 8 * MIB,
			  .kept_fds = 40, .fd_budget = 1000, .reopened_files = 2 },
		.nr_samples = nr,
		.arena = arena,
	};

	s.samples = arena_alloc(arena, sizeof(*s.samples) * (nr ? nr : 1));
	memset(s.samples, 0, sizeof(*s.samples) * (nr ? nr : 1));
	return s;
}

static void set_root(struct cg_sample *c)
{
	c->id = 1;
	c->parent = -1;
	c->path = "";
	c->ident.kind = CG_KIND_OTHER;
}

static void set_psi(struct cg_psi *p, bool full)
{
	p->have_some = true;
	p->some = (struct cg_psi_line){ 3978, 1205, 5, 123456789 };
	p->have_full = full;
	p->full = (struct cg_psi_line){ 100, 0, 10000, 42 };
}

/* A docker container with every field read and every rate known. */
static void set_container(struct cg_sample *c, int32_t parent)
{
	struct cg_io_dev *io = arena_alloc(arena, 2 * sizeof(*io));

	c->id = 12345;
	c->parent_id = 1;
	c->parent = parent;
	c->depth = 2;
	c->path = "system.slice/docker-" CONTAINER_ID ".scope";
	c->ident = (struct cg_identity){
		.kind = CG_KIND_CONTAINER, .runtime = CG_RT_DOCKER, .name = "web",
		.container_id = CONTAINER_ID, .short_id = "4f1c7e2a9b3d", .image = "nginx:1.25",
	};
	c->have = (CG_HAVE_EVENTS << 1) - 1;
	c->cpu_have = (1u << CG_CPU__COUNT) - 1;
	for (int k = 0; k < CG_CPU__COUNT; k++)
		c->cpu[k] = 1000 + k;
	c->cpu_max_quota_usec = 50000;
	c->cpu_max_period_usec = 100000;
	c->cpu_weight = 100;
	c->mem_current = 100 * MIB;
	c->mem_peak = 150 * MIB;
	c->mem_max = 512 * MIB;
	c->mem_high = CG_UNLIMITED;
	c->mem_low = 0;
	c->mem_min = 0;
	c->swap_current = 0;
	c->swap_max = CG_UNLIMITED;
	c->memstat_have = (1ull << CG_MS__COUNT) - 1;
	for (int k = 0; k < CG_MS__COUNT; k++)
		c->memstat[k] = 4096ull * k;
	c->memstat[CG_MS_INACTIVE_FILE] = 30 * MIB;
	c->memevents_have = (1u << CG_ME_OOM_GROUP_KILL) - 1;	/* no oom_group_kill */
	c->memevents[CG_ME_MAX] = 3;
	c->memevents[CG_ME_OOM_KILL] = 1;
	io[0] = (struct cg_io_dev){ 253, 0, (1u << CG_IO__COUNT) - 1, { 1, 2, 3, 4, 5, 6 }, "vda" };
	io[1] = (struct cg_io_dev){ 8, 0, 0xf, { 10, 20, 30, 40, 0, 0 }, NULL };
	c->nr_io = 2;
	c->io = io;
	c->pids_current = 12;
	c->pids_max = 1024;
	set_psi(&c->psi[CG_PSI_CPU], false);
	set_psi(&c->psi[CG_PSI_MEMORY], true);
	set_psi(&c->psi[CG_PSI_IO], true);
	c->procs = 3;
	c->threads = 12;
	c->populated = true;
	c->frozen = false;
	c->rate = (struct cg_rates){
		.have = (CG_RATE_MEM_EVENTS << 1) - 1,
		.cpu_usage_ratio = 0.1 + 0.2,		/* 0.30000000000000004 */
		.cpu_user_ratio = 0.25,
		.cpu_system_ratio = 0.05,
		.cpu_throttled_ratio = 1.0 / 3,
		.io_read_bytes_per_sec = 1234567.0,
		.io_write_bytes_per_sec = 0,
		.io_read_ios_per_sec = 1e-7,
		.io_write_ios_per_sec = 12.5,
		.pgfault_per_sec = 100,
		.pgmajfault_per_sec = 0.5,
		.oom_kill_per_sec = 0,
		.high_per_sec = 0,
		.max_per_sec = 2,
	};
}

/* Root + container, host with meminfo and PSI. */
static struct cg_snapshot full_snapshot(void)
{
	struct cg_snapshot s = new_snapshot(2);

	s.host.have = CG_HOST_MEMINFO | CG_HOST_PSI_CPU | CG_HOST_PSI_MEMORY | CG_HOST_PSI_IO;
	s.host.mem_total_bytes = 8192 * MIB;
	s.host.mem_available_bytes = 4096 * MIB;
	s.host.swap_total_bytes = 0;
	s.host.swap_free_bytes = 0;
	set_psi(&s.host.psi[CG_PSI_CPU], true);
	set_psi(&s.host.psi[CG_PSI_MEMORY], true);
	set_psi(&s.host.psi[CG_PSI_IO], false);
	set_root(&s.samples[0]);
	s.samples[0].have = CG_HAVE_CPU_STAT | CG_HAVE_MEM_STAT;
	s.samples[0].cpu_have = 1u << CG_CPU_USAGE_USEC;
	s.samples[0].cpu[CG_CPU_USAGE_USEC] = 99;
	s.samples[0].memstat_have = 1ull << CG_MS_ANON;
	s.samples[0].memstat[CG_MS_ANON] = 4096;
	set_container(&s.samples[1], 0);
	return s;
}

/* ---- rendering and parsing --------------------------------------------- */

/* Output of one call in a malloc'd buffer; *ret is the call's return. */
static char *render(const struct cg_snapshot *s, int mode, int *ret, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	/* What the collector derives from each sample (the working set). */
	for (size_t i = 0; s && i < s->nr_samples && s->samples; i++)
		rates_derive(&s->samples[i]);
	for (size_t i = 0; s && i < s->nr_removed && s->removed; i++)
		rates_derive(&s->removed[i]);
	/* mode: 0 compact snapshot, 1 pretty snapshot, 2 stream tick */
	*ret = mode == 2 ? json_write_stream_tick(f, s) : json_write_snapshot(f, s, mode == 1);
	fclose(f);
	return buf;
}

/* Strict parse of exactly buf[0..len): valid UTF-8, nothing trailing. */
static struct json_object *parse_exact(const char *buf, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (o && (json_tokener_get_error(tok) != json_tokener_success ||
		  json_tokener_get_parse_end(tok) != len)) {
		json_object_put(o);
		o = NULL;
	}
	if (!o)
		printf("  parse failed: %s at %zu of %zu\n",
		       json_tokener_error_desc(json_tokener_get_error(tok)),
		       json_tokener_get_parse_end(tok), len);
	json_tokener_free(tok);
	return o;
}

/* A document ends with exactly one '\n', which is not part of the JSON. */
static struct json_object *parse_doc(const char *buf, size_t len)
{
	if (!buf || !len || buf[len - 1] != '\n' || memchr(buf, '\0', len))
		return NULL;
	return parse_exact(buf, len - 1);
}

/*
 * Member at a dotted path ("cgroups.1.memory.max_bytes"; numbers index
 * arrays). *found says whether it exists, since a JSON null is NULL too.
 */
static struct json_object *jget_f(struct json_object *o, const char *path, bool *found)
{
	char seg[128];

	*found = false;
	while (*path) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(seg) || !o)
			return NULL;
		memcpy(seg, path, n);
		seg[n] = '\0';
		path += n + (path[n] == '.');
		if (json_object_is_type(o, json_type_array)) {
			char *end;
			unsigned long i = strtoul(seg, &end, 10);

			if (*end || i >= json_object_array_length(o))
				return NULL;
			o = json_object_array_get_idx(o, i);
		} else if (!json_object_object_get_ex(o, seg, &o)) {
			return NULL;
		}
	}
	*found = true;
	return o;
}

static struct json_object *jget(struct json_object *o, const char *path)
{
	bool found;

	return jget_f(o, path, &found);
}

static bool jexists(struct json_object *o, const char *path)
{
	bool found;

	jget_f(o, path, &found);
	return found;
}

static bool jis_null(struct json_object *o, const char *path)
{
	bool found;

	return !jget_f(o, path, &found) && found;
}

static uint64_t ju64(struct json_object *o, const char *path)
{
	struct json_object *v = jget(o, path);

	return json_object_is_type(v, json_type_int) ? json_object_get_uint64(v) : 0xdeadbeef;
}

static const char *jstr(struct json_object *o, const char *path)
{
	struct json_object *v = jget(o, path);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* The text json-c keeps for a parsed number, i.e. what we wrote. */
static const char *jtext(struct json_object *o, const char *path)
{
	struct json_object *v = jget(o, path);

	return v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : "null";
}

/* ---- schema check (python3 + jsonschema) -------------------------------- */

static int have_jsonschema = -1;

static bool schema_available(void)
{
	if (have_jsonschema < 0)
		have_jsonschema = system("python3 -c 'import jsonschema' >/dev/null 2>&1") == 0;
	return have_jsonschema;
}

static bool write_tmp(const char *buf, size_t len, char *path, size_t pathlen)
{
	int fd;
	bool ok;

	/* Fixed short name: schema_check() sizes its command line by it. */
	snprintf(path, pathlen, "/tmp/cgw-json-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return false;
	ok = write(fd, buf, len) == (ssize_t)len;
	close(fd);
	return ok;
}

/*
 * Runs schema_validate.py once over nr outputs (one python start, not nr).
 * Returns how many it rejected (it prints one line per bad file), or -1 if
 * it could not run.
 */
static int schema_check(char *const *bufs, const size_t *lens, size_t nr, bool ndjson,
			bool show)
{
	char (*paths)[64] = calloc(nr, sizeof(*paths));
	size_t cmdlen = 64 + nr * 70, n = 0;
	char *cmd = malloc(cmdlen), line[1024];
	int bad = -1;
	FILE *p;

	if (!paths || !cmd)
		goto out;
	n = snprintf(cmd, cmdlen, "python3 tests/schema_validate.py%s",
		     ndjson ? " --ndjson" : "");
	for (size_t i = 0; i < nr; i++) {
		if (!write_tmp(bufs[i], lens[i], paths[i], sizeof(paths[i])))
			goto out;
		n += snprintf(cmd + n, cmdlen - n, " '%s'", paths[i]);
	}
	p = popen(cmd, "r");
	if (!p)
		goto out;
	bad = 0;
	while (fgets(line, sizeof(line), p)) {
		if (show)
			printf("  validator: %s", line);
		bad++;
	}
	if (pclose(p) == -1)
		bad = -1;
out:
	for (size_t i = 0; paths && i < nr; i++)
		if (paths[i][0])
			unlink(paths[i]);
	free(paths);
	free(cmd);
	return bad;
}

/* ---- tests ------------------------------------------------------------- */

static void test_snapshot_full(void)
{
	struct cg_snapshot s = full_snapshot();
	struct json_object *o, *cg;
	size_t len;
	int ret;
	char *buf = render(&s, 1, &ret, &len);

	CHECK_INT(ret, 0);
	o = parse_doc(buf, len);
	CHECK(o != NULL);
	if (!o)
		goto out;
	CHECK_U64(ju64(o, "schema"), 1);
	CHECK_STR(jstr(o, "type"), "snapshot");
	CHECK_U64(ju64(o, "seq"), 7);
	CHECK_U64(ju64(o, "time_usec"), 1700000000123456ull);
	CHECK_U64(ju64(o, "monotonic_usec"), 123456789);
	CHECK_U64(ju64(o, "interval_usec"), 1000000);
	CHECK_STR(jstr(o, "root"), "/sys/fs/cgroup");
	CHECK_U64(ju64(o, "host.cpus"), 4);
	CHECK_U64(ju64(o, "host.mem_total_bytes"), 8192 * MIB);
	CHECK_U64(ju64(o, "host.swap_free_bytes"), 0);
	CHECK_STR(jtext(o, "host.psi.cpu.full.avg300"), "100.00");
	CHECK(jis_null(o, "host.psi.io.full"));
	CHECK_U64(ju64(o, "self.collect_usec"), 1500);
	CHECK_U64(ju64(o, "self.cgroups"), 2);
	CHECK_U64(ju64(o, "self.files_read"), 3);
	CHECK_U64(ju64(o, "self.files_read_total"), 42);
	CHECK_U64(ju64(o, "self.cpu_usec"), 98765);
	CHECK_U64(ju64(o, "self.rss_bytes"), 8 * MIB);
	CHECK_U64(ju64(o, "self.kept_fds"), 40);
	CHECK_U64(ju64(o, "self.fd_budget"), 1000);
	CHECK_U64(ju64(o, "self.reopened_files"), 2);
	CHECK(!jexists(o, "added") && !jexists(o, "removed"));
	CHECK_INT(json_object_array_length(jget(o, "cgroups")), 2);

	/* Root: no parent_id; name falls back to the (empty) last component. */
	CHECK(!jexists(o, "cgroups.0.parent_id"));
	CHECK_STR(jstr(o, "cgroups.0.path"), "");
	CHECK_STR(jstr(o, "cgroups.0.name"), "");
	CHECK_STR(jstr(o, "cgroups.0.kind"), "other");
	CHECK_U64(ju64(o, "cgroups.0.cpu.usage_usec"), 99);
	CHECK(jis_null(o, "cgroups.0.cpu.user_usec"));
	CHECK_U64(ju64(o, "cgroups.0.memory.stat.anon"), 4096);
	CHECK(!jexists(o, "cgroups.0.memory.stat.file"));

	cg = jget(o, "cgroups.1");
	CHECK_U64(ju64(cg, "id"), 12345);
	CHECK_U64(ju64(cg, "parent_id"), 1);
	CHECK_U64(ju64(cg, "depth"), 2);
	CHECK_STR(jstr(cg, "path"), "system.slice/docker-" CONTAINER_ID ".scope");
	CHECK_STR(jstr(cg, "name"), "web");
	CHECK_STR(jstr(cg, "kind"), "container");
	CHECK_STR(jstr(cg, "runtime"), "docker");
	CHECK_STR(jstr(cg, "container_id"), CONTAINER_ID);
	CHECK_STR(jstr(cg, "short_id"), "4f1c7e2a9b3d");
	CHECK_STR(jstr(cg, "image"), "nginx:1.25");
	CHECK(jis_null(cg, "k8s"));
	CHECK_U64(ju64(cg, "cpu.usage_usec"), 1000);
	CHECK_U64(ju64(cg, "cpu.burst_usec"), 1007);
	CHECK_U64(ju64(cg, "cpu.max_quota_usec"), 50000);
	CHECK_U64(ju64(cg, "cpu.max_period_usec"), 100000);
	CHECK_U64(ju64(cg, "cpu.weight"), 100);
	CHECK_STR(jtext(cg, "cpu.usage_ratio"), "0.3");
	CHECK_STR(jtext(cg, "cpu.throttled_ratio"), "0.333333");
	CHECK_U64(ju64(cg, "memory.current_bytes"), 100 * MIB);
	CHECK_U64(ju64(cg, "memory.working_set_bytes"), 70 * MIB);
	CHECK_U64(ju64(cg, "memory.peak_bytes"), 150 * MIB);
	CHECK_U64(ju64(cg, "memory.max_bytes"), 512 * MIB);
	CHECK_STR(jstr(cg, "memory.high_bytes"), "max");
	CHECK_U64(ju64(cg, "memory.low_bytes"), 0);
	CHECK_STR(jstr(cg, "memory.swap_max_bytes"), "max");
	CHECK_INT(json_object_object_length(jget(cg, "memory.stat")), CG_MS__COUNT);
	CHECK_U64(ju64(cg, "memory.stat.inactive_file"), 30 * MIB);
	CHECK_U64(ju64(cg, "memory.stat.thp_collapse_alloc"), 4096ull * CG_MS_THP_COLLAPSE_ALLOC);
	CHECK_U64(ju64(cg, "memory.events.max"), 3);
	CHECK_U64(ju64(cg, "memory.events.oom_kill"), 1);
	CHECK(!jexists(cg, "memory.events.oom_group_kill"));
	CHECK_STR(jtext(cg, "memory.pgmajfault_per_sec"), "0.5");
	CHECK_U64(ju64(cg, "io.devices.vda.major"), 253);
	CHECK_U64(ju64(cg, "io.devices.vda.dios"), 6);
	CHECK_U64(ju64(cg, "io.devices.8:0.wios"), 40);
	CHECK(!jexists(cg, "io.devices.8:0.dbytes"));
	CHECK_STR(jtext(cg, "io.read_bytes_per_sec"), "1.23457e+06");
	CHECK_STR(jtext(cg, "io.read_ios_per_sec"), "1e-07");
	CHECK_STR(jtext(cg, "io.write_bytes_per_sec"), "0");
	CHECK_U64(ju64(cg, "pids.current"), 12);
	CHECK_U64(ju64(cg, "pids.max"), 1024);
	CHECK(jis_null(cg, "psi.cpu.full"));
	CHECK_U64(ju64(cg, "psi.io.some.total_usec"), 123456789);
	CHECK_U64(ju64(cg, "procs"), 3);
	CHECK_U64(ju64(cg, "threads"), 12);
	CHECK(json_object_get_boolean(jget(cg, "populated")));
	CHECK(json_object_is_type(jget(cg, "frozen"), json_type_boolean) &&
	      !json_object_get_boolean(jget(cg, "frozen")));
	/* eBPF off (bpf.have 0): the four eBPF objects are there, as null. */
	CHECK(jis_null(cg, "sched") && jis_null(cg, "net") && jis_null(cg, "proc") &&
	      jis_null(cg, "oom"));
	/* Exactly the agreed member sets, in the agreed order. */
	CHECK_INT(json_object_object_length(cg), 24);
	CHECK_INT(json_object_object_length(o), 10);
	json_object_put(o);
out:
	free(buf);
}

static void test_absent_is_null(void)
{
	struct cg_snapshot s = new_snapshot(2);
	static const char *const nulls[] = {
		"interval_usec", "host.mem_total_bytes", "host.mem_available_bytes",
		"host.swap_total_bytes", "host.swap_free_bytes", "host.psi.cpu",
		"host.psi.memory", "host.psi.io",
		"cgroups.1.runtime", "cgroups.1.container_id", "cgroups.1.short_id",
		"cgroups.1.image", "cgroups.1.k8s", "cgroups.1.cpu.usage_usec",
		"cgroups.1.cpu.burst_usec", "cgroups.1.cpu.max_quota_usec",
		"cgroups.1.cpu.max_period_usec", "cgroups.1.cpu.weight",
		"cgroups.1.cpu.usage_ratio", "cgroups.1.cpu.throttled_ratio",
		"cgroups.1.memory.current_bytes", "cgroups.1.memory.working_set_bytes",
		"cgroups.1.memory.peak_bytes", "cgroups.1.memory.max_bytes",
		"cgroups.1.memory.min_bytes", "cgroups.1.memory.swap_max_bytes",
		"cgroups.1.memory.stat", "cgroups.1.memory.events",
		"cgroups.1.memory.pgfault_per_sec", "cgroups.1.memory.max_per_sec",
		"cgroups.1.io.devices", "cgroups.1.io.read_bytes_per_sec",
		"cgroups.1.pids.current", "cgroups.1.pids.max", "cgroups.1.psi.cpu",
		"cgroups.1.psi.memory", "cgroups.1.psi.io", "cgroups.1.procs",
		"cgroups.1.threads", "cgroups.1.populated", "cgroups.1.frozen",
	};
	struct json_object *o;
	size_t len;
	int ret;
	char *buf;

	s.interval_usec = 0;		/* first snapshot */
	set_root(&s.samples[0]);
	s.samples[1].id = 2;
	s.samples[1].parent = 0;
	s.samples[1].parent_id = 1;
	s.samples[1].depth = 1;
	s.samples[1].path = "init.scope";
	/* Values without their bits must not leak out. */
	s.samples[1].mem_current = 5;
	s.samples[1].memstat[CG_MS_INACTIVE_FILE] = 1;
	s.samples[1].rate.cpu_usage_ratio = 0.5;
	s.samples[1].populated = true;
	s.host.mem_total_bytes = 1;
	buf = render(&s, 0, &ret, &len);
	CHECK_INT(ret, 0);
	o = parse_doc(buf, len);
	CHECK(o != NULL);
	for (size_t i = 0; o && i < sizeof(nulls) / sizeof(nulls[0]); i++) {
		if (!jis_null(o, nulls[i])) {
			printf("  %s is not null\n", nulls[i]);
			test_cur_failed++;
		}
	}
	/* Name falls back to the last path component. */
	CHECK_STR(jstr(o, "cgroups.1.name"), "init.scope");
	/* Working set needs inactive_file too, not only current. */
	s.samples[1].have = CG_HAVE_MEM_CURRENT | CG_HAVE_MEM_STAT;
	json_object_put(o);
	free(buf);
	buf = render(&s, 0, &ret, &len);
	o = parse_doc(buf, len);
	CHECK_U64(ju64(o, "cgroups.1.memory.current_bytes"), 5);
	CHECK(jis_null(o, "cgroups.1.memory.working_set_bytes"));
	CHECK_INT(json_object_object_length(jget(o, "cgroups.1.memory.stat")), 0);
	json_object_put(o);
	free(buf);
	/* More inactive file than current (racy reads): floor at 0. */
	s.samples[1].memstat_have = 1ull << CG_MS_INACTIVE_FILE;
	s.samples[1].memstat[CG_MS_INACTIVE_FILE] = 6;
	buf = render(&s, 0, &ret, &len);
	o = parse_doc(buf, len);
	CHECK_U64(ju64(o, "cgroups.1.memory.working_set_bytes"), 0);
	s.samples[1].memstat[CG_MS_INACTIVE_FILE] = 2;
	json_object_put(o);
	free(buf);
	buf = render(&s, 0, &ret, &len);
	o = parse_doc(buf, len);
	CHECK_U64(ju64(o, "cgroups.1.memory.working_set_bytes"), 3);
	json_object_put(o);
	free(buf);
}

static void test_unlimited_is_max(void)
{
	struct cg_snapshot s = new_snapshot(1);
	struct cg_sample *c = &s.samples[0];
	struct json_object *o;
	size_t len;
	int ret;
	char *buf;

	set_root(c);
	c->have = CG_HAVE_CPU_MAX | CG_HAVE_MEM_MAX | CG_HAVE_MEM_HIGH | CG_HAVE_MEM_LOW |
		  CG_HAVE_MEM_MIN | CG_HAVE_SWAP_MAX | CG_HAVE_PIDS_MAX | CG_HAVE_MEM_CURRENT |
		  CG_HAVE_MEM_PEAK;
	c->cpu_max_quota_usec = CG_UNLIMITED;
	c->cpu_max_period_usec = 100000;
	c->mem_max = c->mem_high = c->mem_low = c->mem_min = CG_UNLIMITED;
	c->swap_max = c->pids_max = CG_UNLIMITED;
	/* A counter at UINT64_MAX is a number, not "max". */
	c->mem_current = c->mem_peak = UINT64_MAX;
	buf = render(&s, 0, &ret, &len);
	CHECK_INT(ret, 0);
	o = parse_doc(buf, len);
	CHECK(o != NULL);
	CHECK_STR(jstr(o, "cgroups.0.cpu.max_quota_usec"), "max");
	CHECK_U64(ju64(o, "cgroups.0.cpu.max_period_usec"), 100000);
	CHECK_STR(jstr(o, "cgroups.0.memory.max_bytes"), "max");
	CHECK_STR(jstr(o, "cgroups.0.memory.high_bytes"), "max");
	CHECK_STR(jstr(o, "cgroups.0.memory.low_bytes"), "max");
	CHECK_STR(jstr(o, "cgroups.0.memory.min_bytes"), "max");
	CHECK_STR(jstr(o, "cgroups.0.memory.swap_max_bytes"), "max");
	CHECK_STR(jstr(o, "cgroups.0.pids.max"), "max");
	CHECK_U64(ju64(o, "cgroups.0.memory.current_bytes"), UINT64_MAX);
	CHECK_U64(ju64(o, "cgroups.0.memory.peak_bytes"), UINT64_MAX);
	json_object_put(o);
	free(buf);
}

static void test_u64_max_exact(void)
{
	struct cg_snapshot s = full_snapshot();
	struct json_object *o;
	size_t len;
	int ret;
	char *buf;

	s.seq = UINT64_MAX;
	s.samples[1].id = UINT64_MAX;
	s.samples[1].cpu[CG_CPU_USAGE_USEC] = UINT64_MAX;
	s.samples[1].memstat[CG_MS_PGFAULT] = UINT64_MAX - 1;
	s.samples[1].psi[CG_PSI_IO].some.total_usec = UINT64_MAX;
	buf = render(&s, 0, &ret, &len);
	CHECK_INT(ret, 0);
	CHECK(buf && strstr(buf, "\"usage_usec\":18446744073709551615,"));
	CHECK(buf && strstr(buf, "\"pgfault\":18446744073709551614,"));
	CHECK(buf && strstr(buf, "\"seq\":18446744073709551615,"));
	o = parse_doc(buf, len);
	CHECK(o != NULL);
	CHECK_U64(ju64(o, "seq"), UINT64_MAX);
	CHECK_U64(ju64(o, "cgroups.1.id"), UINT64_MAX);
	CHECK_U64(ju64(o, "cgroups.1.cpu.usage_usec"), UINT64_MAX);
	CHECK_U64(ju64(o, "cgroups.1.psi.io.some.total_usec"), UINT64_MAX);
	json_object_put(o);
	free(buf);
}

static void test_psi_two_decimals(void)
{
	struct cg_snapshot s = full_snapshot();
	struct json_object *o;
	size_t len;
	int ret;
	char *buf;

	s.samples[1].psi[CG_PSI_MEMORY].full.avg60 = 7;
	s.samples[1].psi[CG_PSI_MEMORY].full.avg10 = 4294967295u;
	buf = render(&s, 0, &ret, &len);
	CHECK_INT(ret, 0);
	CHECK(buf && strstr(buf, "\"avg10\":39.78,\"avg60\":12.05,\"avg300\":0.05,"
			       "\"total_usec\":123456789"));
	o = parse_doc(buf, len);
	CHECK(o != NULL);
	CHECK_STR(jtext(o, "cgroups.1.psi.cpu.some.avg10"), "39.78");
	CHECK_NEAR(json_object_get_double(jget(o, "cgroups.1.psi.cpu.some.avg10")), 39.78, 1e-9);
	CHECK_STR(jtext(o, "cgroups.1.psi.memory.full.avg300"), "100.00");
	CHECK_STR(jtext(o, "cgroups.1.psi.memory.full.avg60"), "0.07");
	CHECK_STR(jtext(o, "cgroups.1.psi.memory.full.avg10"), "42949672.95");
	CHECK_STR(jtext(o, "host.psi.cpu.full.avg60"), "0.00");
	json_object_put(o);
	free(buf);
}

static void test_rates_never_nan(void)
{
	struct cg_snapshot s = full_snapshot();
	struct cg_rates *r = &s.samples[1].rate;
	struct json_object *o;
	size_t len;
	int ret;
	char *buf;

	r->cpu_usage_ratio = NAN;
	r->cpu_user_ratio = INFINITY;
	r->cpu_system_ratio = -INFINITY;
	r->pgfault_per_sec = 1e300 * 1e300;
	r->max_per_sec = 123456789012.0;
	buf = render(&s, 0, &ret, &len);
	CHECK_INT(ret, 0);
	CHECK(buf && !strstr(buf, "nan") && !strstr(buf, "inf") && !strstr(buf, "NaN"));
	o = parse_doc(buf, len);
	CHECK(o != NULL);
	CHECK(jis_null(o, "cgroups.1.cpu.usage_ratio"));
	CHECK(jis_null(o, "cgroups.1.cpu.user_ratio"));
	CHECK(jis_null(o, "cgroups.1.cpu.system_ratio"));
	CHECK(jis_null(o, "cgroups.1.memory.pgfault_per_sec"));
	CHECK_STR(jtext(o, "cgroups.1.memory.max_per_sec"), "1.23457e+11");
	json_object_put(o);
	free(buf);
}

/* Names built from arbitrary directory bytes, and what each must read back as. */
static const struct {
	const char *raw, *want;
} odd_names[] = {
	{ "with space", "with space" },
	{ "q\"uote", "q\"uote" },
	{ "back\\slash", "back\\slash" },
	{ "new\nline", "new\nline" },
	{ "tab\there", "tab\there" },
	{ "esc\x1b[31mred", "esc\x1b[31mred" },
	{ "del\x7f", "del\x7f" },
	{ "c1\xc2\x85nel\xc2\x9b", "c1\xc2\x85nel\xc2\x9b" },
	{ "bell\x07\x01", "bell\x07\x01" },
	{ "caf\xc3\xa9 \xf0\x9f\x90\xb3", "caf\xc3\xa9 \xf0\x9f\x90\xb3" },
	{ "ff\xff", "ff\xef\xbf\xbd" },
	{ "lone\xc3", "lone\xef\xbf\xbd" },
	{ "lone\xc3x", "lone\xef\xbf\xbdx" },
	{ "trunc\xe2\x82", "trunc\xef\xbf\xbd\xef\xbf\xbd" },
	{ "trunc\xe2\x82y", "trunc\xef\xbf\xbd\xef\xbf\xbdy" },
	{ "overlong\xc0\xaf", "overlong\xef\xbf\xbd\xef\xbf\xbd" },
	{ "overlong3\xe0\x80\xaf", "overlong3\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "surrogate\xed\xa0\x80", "surrogate\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "big\xf4\x90\x80\x80",
	  "big\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "cont\x80\xbf", "cont\xef\xbf\xbd\xef\xbf\xbd" },
	{ "max\xf4\x8f\xbf\xbf", "max\xf4\x8f\xbf\xbf" },
	{ "", "" },
};

#define NR_ODD (sizeof(odd_names) / sizeof(odd_names[0]))

static struct cg_snapshot odd_snapshot(void)
{
	struct cg_snapshot s = new_snapshot(NR_ODD + 1);
	struct cg_io_dev *io = arena_alloc(arena, sizeof(*io));

	set_root(&s.samples[0]);
	s.root = "/tmp/odd \"root\"\n\xff";
	for (size_t i = 0; i < NR_ODD; i++) {
		struct cg_sample *c = &s.samples[i + 1];
		char path[256];

		snprintf(path, sizeof(path), "a/%s", odd_names[i].raw);
		c->id = 100 + i;
		c->parent = 0;
		c->parent_id = 1;
		c->depth = 1;
		c->path = arena_strdup(arena, path);
		c->ident.name = odd_names[i].raw;
		c->ident.image = odd_names[i].raw;
		c->ident.k8s_pod = odd_names[i].raw;
	}
	/* A device name is a key: it must be clean too. */
	*io = (struct cg_io_dev){ 8, 16, 1, { 5 }, "sd\xff\x1b" };
	s.samples[1].have = CG_HAVE_IO_STAT;
	s.samples[1].nr_io = 1;
	s.samples[1].io = io;
	return s;
}

static void check_odd_doc(struct json_object *o)
{
	char path[64], want[300];

	CHECK_STR(jstr(o, "root"), "/tmp/odd \"root\"\n\xef\xbf\xbd");
	for (size_t i = 0; i < NR_ODD; i++) {
		const char *got;

		snprintf(path, sizeof(path), "cgroups.%zu.name", i + 1);
		got = jstr(o, path);
		if (!got || strcmp(got, odd_names[i].want)) {
			printf("  odd name %zu does not round-trip\n", i);
			test_cur_failed++;
		}
		snprintf(path, sizeof(path), "cgroups.%zu.path", i + 1);
		snprintf(want, sizeof(want), "a/%s", odd_names[i].want);
		CHECK_STR(jstr(o, path), want);
		snprintf(path, sizeof(path), "cgroups.%zu.k8s.pod", i + 1);
		CHECK_STR(jstr(o, path), odd_names[i].want);
	}
	CHECK_U64(ju64(o, "cgroups.1.io.devices.sd\xef\xbf\xbd\x1b.rbytes"), 5);
}

/* No raw byte a terminal acts on: C0 (except line ends), DEL, C1. */
static void check_no_raw_controls(const char *buf, size_t len, bool pretty)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = buf[i];

		if ((c < 0x20 && !(c == '\n' && (pretty || i == len - 1))) || c == 0x7f ||
		    (c == 0xc2 && i + 1 < len && (unsigned char)buf[i + 1] <= 0x9f)) {
			printf("  raw control 0x%02x at %zu\n", c, i);
			test_cur_failed++;
			return;
		}
	}
}

static void test_odd_names(void)
{
	struct cg_snapshot s = odd_snapshot();

	for (int mode = 0; mode < 2; mode++) {
		struct json_object *o;
		size_t len;
		int ret;
		char *buf = render(&s, mode, &ret, &len);

		CHECK_INT(ret, 0);
		o = parse_doc(buf, len);
		CHECK(o != NULL);
		if (o)
			check_odd_doc(o);
		check_no_raw_controls(buf, len, mode == 1);
		CHECK(buf && strstr(buf, "esc\\u001b[31mred"));
		CHECK(buf && strstr(buf, "del\\u007f"));
		CHECK(buf && strstr(buf, "c1\\u0085nel\\u009b"));
		CHECK(buf && strstr(buf, "new\\nline"));
		CHECK(buf && strstr(buf, "q\\\"uote"));
		json_object_put(o);
		free(buf);
	}
}

static void test_pretty_equals_compact(void)
{
	struct cg_snapshot s = full_snapshot();
	struct json_object *a, *b;
	size_t la, lb;
	int ra, rb;
	char *pa = render(&s, 1, &ra, &la), *pb = render(&s, 0, &rb, &lb);

	CHECK_INT(ra, 0);
	CHECK_INT(rb, 0);
	a = parse_doc(pa, la);
	b = parse_doc(pb, lb);
	CHECK(a && b && json_object_equal(a, b));
	/* Compact is one line; pretty is indented and starts "{\n  \"schema\"". */
	CHECK(pb && memchr(pb, '\n', lb) == pb + lb - 1);
	CHECK(pa && strncmp(pa, "{\n  \"schema\": 1,\n", 17) == 0);
	CHECK(pa && strstr(pa, "\n  \"cgroups\": [\n    {\n      \"id\": 1,\n"));
	CHECK(pa && strstr(pa, "\n    }\n  ]\n}\n"));
	CHECK(pb && strncmp(pb, "{\"schema\":1,\"type\":\"snapshot\",\"seq\":7,", 38) == 0);
	/* Paths stay readable: no "\/". */
	CHECK(pb && !strstr(pb, "\\/") && strstr(pb, "\"path\":\"system.slice/docker-"));
	json_object_put(a);
	json_object_put(b);
	free(pa);
	free(pb);
}

static void test_empty_tree(void)
{
	struct cg_snapshot s = new_snapshot(0);

	for (int mode = 0; mode < 3; mode++) {
		struct json_object *o;
		size_t len;
		int ret;
		char *buf = render(&s, mode, &ret, &len);

		CHECK_INT(ret, mode == 2 ? 1 : 0);
		o = parse_doc(buf, len);
		CHECK(o != NULL);
		CHECK(json_object_is_type(jget(o, "cgroups"), json_type_array) &&
		      json_object_array_length(jget(o, "cgroups")) == 0);
		CHECK_STR(jstr(o, "type"), mode == 2 ? "tick" : "snapshot");
		json_object_put(o);
		free(buf);
	}
}

static void test_io_devices(void)
{
	struct cg_snapshot s = new_snapshot(3);
	struct cg_io_dev *io = arena_alloc(arena, 3 * sizeof(*io));
	struct json_object *o;
	size_t len;
	int ret;
	char *buf;

	set_root(&s.samples[0]);
	s.samples[0].have = CG_HAVE_IO_STAT;	/* empty io.stat */
	/* Same name twice and an empty name: no device may hide another. */
	io[0] = (struct cg_io_dev){ 8, 0, 1, { 1 }, "sda" };
	io[1] = (struct cg_io_dev){ 8, 1, 1, { 2 }, "sda" };
	io[2] = (struct cg_io_dev){ 9, 0, 0, { 0 }, "" };
	s.samples[1] = (struct cg_sample){ .id = 2, .parent = 0, .parent_id = 1, .depth = 1,
					   .path = "x", .have = CG_HAVE_IO_STAT, .nr_io = 3,
					   .io = io };
	/* Devices without the bit: still null. */
	s.samples[2] = (struct cg_sample){ .id = 3, .parent = 0, .parent_id = 1, .depth = 1,
					   .path = "y", .nr_io = 3, .io = io };
	buf = render(&s, 0, &ret, &len);
	CHECK_INT(ret, 0);
	o = parse_doc(buf, len);
	CHECK(o != NULL);
	CHECK(json_object_is_type(jget(o, "cgroups.0.io.devices"), json_type_object));
	CHECK_INT(json_object_object_length(jget(o, "cgroups.0.io.devices")), 0);
	CHECK_INT(json_object_object_length(jget(o, "cgroups.1.io.devices")), 3);
	CHECK_U64(ju64(o, "cgroups.1.io.devices.sda.rbytes"), 1);
	CHECK_U64(ju64(o, "cgroups.1.io.devices.8:1.rbytes"), 2);
	CHECK_U64(ju64(o, "cgroups.1.io.devices.9:0.major"), 9);
	CHECK(!jexists(o, "cgroups.1.io.devices.9:0.rbytes"));
	CHECK(jis_null(o, "cgroups.2.io.devices"));
	json_object_put(o);
	free(buf);
}

/* Fields carried from an earlier read (serve's slow tier) say so, with
 * their age; a fresh sample has no such member. */
static void test_carried_is_said(void)
{
	struct cg_snapshot s = new_snapshot(2);
	struct json_object *o;
	size_t len;
	int ret;
	char *buf, *docs[1];

	set_root(&s.samples[0]);
	s.samples[1] = (struct cg_sample){ .id = 2, .parent = 0, .parent_id = 1, .depth = 1,
					   .path = "x", .have = CG_HAVE_MEM_STAT | CG_HAVE_PROCS,
					   .procs = 3, .carried = CG_HAVE_MEM_STAT | CG_HAVE_PROCS,
					   .carried_age_usec = 2500000 };
	buf = render(&s, 0, &ret, &len);
	CHECK_INT(ret, 0);
	o = parse_doc(buf, len);
	CHECK(o != NULL);
	CHECK(!jexists(o, "cgroups.0.carried"));
	CHECK_STR(json_object_get_string(jget(o, "cgroups.1.carried.files.0")), "memory.stat");
	CHECK_STR(json_object_get_string(jget(o, "cgroups.1.carried.files.1")), "cgroup.procs");
	CHECK_NEAR(json_object_get_double(jget(o, "cgroups.1.carried.age_seconds")), 2.5, 1e-9);
	CHECK_U64(ju64(o, "cgroups.1.procs"), 3);
	json_object_put(o);
	docs[0] = buf;
	if (schema_available())
		CHECK_INT(schema_check(docs, &len, 1, false, true), 0);
	free(buf);
}

static void test_k8s_object(void)
{
	struct cg_snapshot s = new_snapshot(3);
	struct json_object *o;
	size_t len;
	int ret;
	char *buf;

	set_root(&s.samples[0]);
	s.samples[1] = (struct cg_sample){
		.id = 2, .parent = 0, .parent_id = 1, .depth = 2,
		.path = "kubepods.slice/kubepods-burstable.slice/"
			"kubepods-burstable-pod0d1e2f3a_4b5c_6d7e_8f90_a1b2c3d4e5f6.slice",
		.ident = { .kind = CG_KIND_POD, .runtime = CG_RT_KUBERNETES,
			   .qos = CG_QOS_BURSTABLE,
			   .pod_uid = "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6" },
	};
	s.samples[2] = (struct cg_sample){
		.id = 3, .parent = 1, .parent_id = 2, .depth = 3,
		.path = "kubepods.slice/x/cri-containerd-abc.scope",
		.ident = { .kind = CG_KIND_CONTAINER, .runtime = CG_RT_CONTAINERD,
			   .qos = CG_QOS_GUARANTEED, .pod_uid = "u", .k8s_namespace = "default",
			   .k8s_pod = "web-0", .k8s_container = "nginx", .name = "nginx" },
	};
	buf = render(&s, 0, &ret, &len);
	CHECK_INT(ret, 0);
	o = parse_doc(buf, len);
	CHECK(o != NULL);
	CHECK(jis_null(o, "cgroups.0.k8s"));
	CHECK_STR(jstr(o, "cgroups.1.kind"), "pod");
	CHECK_STR(jstr(o, "cgroups.1.runtime"), "kubernetes");
	CHECK_STR(jstr(o, "cgroups.1.k8s.qos"), "burstable");
	CHECK_STR(jstr(o, "cgroups.1.k8s.pod_uid"), "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6");
	CHECK(jis_null(o, "cgroups.1.k8s.namespace"));
	CHECK(jis_null(o, "cgroups.1.k8s.pod"));
	CHECK(jis_null(o, "cgroups.1.k8s.container"));
	CHECK_STR(jstr(o, "cgroups.2.runtime"), "containerd");
	CHECK_STR(jstr(o, "cgroups.2.k8s.namespace"), "default");
	CHECK_STR(jstr(o, "cgroups.2.k8s.pod"), "web-0");
	CHECK_STR(jstr(o, "cgroups.2.k8s.container"), "nginx");
	CHECK_STR(jstr(o, "cgroups.2.k8s.qos"), "guaranteed");
	CHECK_INT(json_object_object_length(jget(o, "cgroups.2.k8s")), 5);
	json_object_put(o);
	free(buf);
}

/* Root, container, and a second child; both children are new; one gone. */
static struct cg_snapshot stream_snapshot(void)
{
	struct cg_snapshot s = full_snapshot();
	struct cg_sample *more = arena_alloc(arena, 3 * sizeof(*more));
	uint32_t *added = arena_alloc(arena, 2 * sizeof(*added));

	more[0] = s.samples[0];
	more[1] = s.samples[1];
	more[2] = (struct cg_sample){ .id = 77, .parent = 0, .parent_id = 1, .depth = 1,
				      .path = "user.slice", .ident.kind = CG_KIND_SLICE };
	s.samples = more;
	s.nr_samples = 3;
	added[0] = 1;
	added[1] = 2;
	s.added = added;
	s.nr_added = 2;
	s.removed = arena_alloc(arena, sizeof(*s.removed));
	s.removed[0] = (struct cg_sample){ .id = 66, .parent = 0, .parent_id = 1, .depth = 1,
					   .path = "gone.scope", .have = CG_HAVE_CPU_STAT,
					   .cpu_have = 1, .cpu = { 5555 },
					   .ident = { .kind = CG_KIND_SCOPE,
						      .runtime = CG_RT_SYSTEMD } };
	s.nr_removed = 1;
	return s;
}

static void test_stream_lines(void)
{
	struct cg_snapshot s = stream_snapshot();
	struct json_object *line[4] = { 0 };
	size_t len, n = 0;
	int ret;
	char *buf = render(&s, 2, &ret, &len), *p = buf;

	CHECK_INT(ret, 4);
	/* Exactly four '\n'-terminated lines, each one JSON object. */
	while (buf && p < buf + len) {
		char *nl = memchr(p, '\n', buf + len - p);

		if (!nl || n == 4)
			break;
		line[n] = parse_exact(p, nl - p);
		CHECK(line[n] != NULL);
		n++;
		p = nl + 1;
	}
	CHECK_INT(n, 4);
	CHECK(buf && p == buf + len);
	if (n != 4)
		goto out;
	for (int i = 0; i < 3; i++) {
		CHECK_U64(ju64(line[i], "schema"), 1);
		CHECK_STR(jstr(line[i], "type"), "event");
		CHECK_U64(ju64(line[i], "seq"), 7);
		CHECK_U64(ju64(line[i], "time_usec"), 1700000000123456ull);
		CHECK_INT(json_object_object_length(line[i]), 6);
	}
	CHECK_STR(jstr(line[0], "event"), "cgroup_added");
	CHECK_STR(jstr(line[0], "cgroup.name"), "web");
	CHECK_U64(ju64(line[0], "cgroup.memory.working_set_bytes"), 70 * MIB);
	CHECK_STR(jstr(line[1], "event"), "cgroup_added");
	CHECK_STR(jstr(line[1], "cgroup.path"), "user.slice");
	CHECK_STR(jstr(line[1], "cgroup.kind"), "slice");
	CHECK_STR(jstr(line[2], "event"), "cgroup_removed");
	CHECK_STR(jstr(line[2], "cgroup.path"), "gone.scope");
	CHECK_STR(jstr(line[2], "cgroup.runtime"), "systemd");
	CHECK_U64(ju64(line[2], "cgroup.cpu.usage_usec"), 5555);
	CHECK_STR(jstr(line[3], "type"), "tick");
	CHECK_U64(ju64(line[3], "seq"), 7);
	CHECK_INT(json_object_array_length(jget(line[3], "cgroups")), 3);
	CHECK_U64(ju64(line[3], "cgroups.2.id"), 77);
	CHECK(!jexists(line[3], "added") && !jexists(line[3], "removed"));
	CHECK(!jexists(line[3], "event"));
out:
	for (int i = 0; i < 4; i++)
		json_object_put(line[i]);
	free(buf);
}

static void test_stream_bad_input(void)
{
	struct cg_snapshot s = stream_snapshot();
	uint32_t bad = 3;
	size_t len;
	int ret;
	char *buf;

	s.added = &bad;
	s.nr_added = 1;
	buf = render(&s, 2, &ret, &len);
	CHECK_INT(ret, -EINVAL);
	CHECK_INT(len, 0);	/* nothing half written */
	free(buf);
	s.added = NULL;
	buf = render(&s, 2, &ret, &len);
	CHECK_INT(ret, -EINVAL);
	free(buf);
	CHECK_INT(json_write_snapshot(NULL, &s, true), -EINVAL);
	CHECK_INT(json_write_stream_tick(stdout, NULL), -EINVAL);
}

static void test_write_error(void)
{
	struct cg_snapshot s = stream_snapshot();
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		TEST_SKIP("no /dev/full");
	CHECK_INT(json_write_snapshot(f, &s, true), -ENOSPC);
	clearerr(f);
	CHECK_INT(json_write_stream_tick(f, &s), -ENOSPC);
	fclose(f);
}

/* The stream for a big tree is written cgroup by cgroup; check the joins. */
static void test_stream_large(void)
{
	enum { N = 1000 };
	struct cg_snapshot s = new_snapshot(N), ref = full_snapshot();
	struct json_object *o;
	size_t len;
	int ret;
	char *buf;

	set_root(&s.samples[0]);
	for (size_t i = 1; i < N; i++) {
		s.samples[i] = ref.samples[1];
		s.samples[i].id = 1000 + i;
	}
	buf = render(&s, 2, &ret, &len);
	CHECK_INT(ret, 1);
	o = parse_doc(buf, len);
	CHECK(o != NULL);
	CHECK_INT(json_object_array_length(jget(o, "cgroups")), N);
	CHECK_U64(ju64(o, "cgroups.999.id"), 1000 + N - 1);
	json_object_put(o);
	free(buf);
}

/*
 * printf's %g follows LC_NUMERIC, and the dashboard sets the locale. Build a
 * throwaway locale whose decimal point is ',' (tiny, so localedef is fast and
 * needs no locale sources) and check the output does not follow it.
 */
static void test_locale_decimal_point(void)
{
	static const char src[] = "LC_NUMERIC\ndecimal_point \"<U002C>\"\n"
				  "thousands_sep \"\"\ngrouping -1\nEND LC_NUMERIC\n";
	struct cg_snapshot s = full_snapshot();
	char dir[] = "/tmp/cgw-locale-XXXXXX", cmd[512];
	bool comma;
	size_t len;
	FILE *f;
	int ret;
	char *buf;

	if (!mkdtemp(dir))
		TEST_SKIP("mkdtemp: %s", strerror(errno));
	snprintf(cmd, sizeof(cmd), "%s/comma.src", dir);
	f = fopen(cmd, "w");
	if (f) {
		fputs(src, f);
		fclose(f);
	}
	/* -c: the other categories are missing on purpose (exit 1 = warnings). */
	snprintf(cmd, sizeof(cmd), "localedef -c -i %s/comma.src -f ANSI_X3.4-1968 "
		 "%s/comma.ascii >/dev/null 2>&1", dir, dir);
	ret = system(cmd);
	(void)ret;
	setenv("LOCPATH", dir, 1);
	comma = setlocale(LC_NUMERIC, "comma.ascii") &&
		strcmp(localeconv()->decimal_point, ",") == 0;
	buf = comma ? render(&s, 0, &ret, &len) : NULL;
	setlocale(LC_NUMERIC, "C");
	unsetenv("LOCPATH");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("  could not remove %s\n", dir);
	if (!comma)
		TEST_SKIP("could not build a decimal-comma locale with localedef");
	CHECK_INT(ret, 0);
	CHECK(buf && strstr(buf, "\"user_ratio\":0.25,"));
	CHECK(buf && strstr(buf, "\"throttled_ratio\":0.333333}"));
	CHECK(buf && strstr(buf, "\"avg10\":39.78,"));
	CHECK(buf && !strstr(buf, "0,25"));
	free(buf);
}

static void test_schema_accepts_output(void)
{
	struct cg_snapshot full = full_snapshot(), odd = odd_snapshot();
	struct cg_snapshot stream = stream_snapshot(), empty = new_snapshot(0);
	const struct {
		const struct cg_snapshot *s;
		int mode;
	} cases[] = {
		{ &full, 0 }, { &full, 1 }, { &odd, 1 }, { &empty, 0 }, { &stream, 1 },
		{ &stream, 2 }, { &odd, 2 }, { &empty, 2 }, { &full, 2 },
	};
	enum { NR = sizeof(cases) / sizeof(cases[0]) };
	char *docs[NR], *lines[NR];
	size_t ndocs = 0, nlines = 0, dlen[NR] = { 0 }, llen[NR] = { 0 };

	if (!schema_available())
		TEST_SKIP("python3 with jsonschema not available");
	odd.nr_added = 2;
	odd.added = stream.added;	/* indices 1 and 2 exist in odd too */
	for (size_t i = 0; i < NR; i++) {
		bool nd = cases[i].mode == 2;
		size_t len;
		int ret;
		char *buf = render(cases[i].s, cases[i].mode, &ret, &len);

		CHECK(ret >= 0 && buf);
		if (!buf)
			continue;
		(nd ? llen : dlen)[nd ? nlines : ndocs] = len;
		(nd ? lines : docs)[nd ? nlines++ : ndocs++] = buf;
	}
	CHECK_INT(schema_check(docs, dlen, ndocs, false, true), 0);
	CHECK_INT(schema_check(lines, llen, nlines, true, true), 0);
	for (size_t i = 0; i < ndocs; i++)
		free(docs[i]);
	for (size_t i = 0; i < nlines; i++)
		free(lines[i]);
}

/* --fields: the parser's verdicts, and what a selected line keeps. */
static void test_stream_fields(void)
{
	struct cg_snapshot s = stream_snapshot();
	struct json_fields *f = NULL;
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *mem;
	int ret, n = 0;

	CHECK_INT(json_fields_parse("", &f), -EINVAL);
	CHECK_INT(json_fields_parse("cpu,,memory", &f), -EINVAL);
	CHECK_INT(json_fields_parse("cpu.", &f), -EINVAL);
	CHECK_INT(json_fields_parse("CPU", &f), -EINVAL);
	CHECK_INT(json_fields_parse("cpu,nosuch.thing", &f), -ENOENT);
	CHECK(f == NULL);
	CHECK_INT(json_fields_parse("cpu.usage_usec,memory.stat.anon,psi.cpu,procs", &f), 0);
	if (!f)
		return;
	mem = open_memstream(&buf, &len);
	ret = json_write_stream_tick_fields(mem, &s, f);
	fclose(mem);
	CHECK_INT(ret, 4);	/* 2 added, 1 removed, the tick */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct json_object *o = parse_exact(line, strlen(line)), *c;

		CHECK(o != NULL);
		if (!o)
			continue;
		n++;
		CHECK_STR(jtext(o, "fields"),
			  "[\"cpu.usage_usec\",\"memory.stat.anon\",\"psi.cpu\",\"procs\"]");
		c = jexists(o, "cgroup") ? jget(o, "cgroup") : jget(o, "cgroups.1");
		/* identity kept, the rest cut to the selection */
		CHECK(jexists(c, "id") && jexists(c, "path") && jexists(c, "kind") &&
		      jexists(c, "k8s"));
		CHECK(jexists(c, "procs"));
		CHECK(!jexists(c, "io") && !jexists(c, "pids") && !jexists(c, "threads") &&
		      !jexists(c, "sched"));
		CHECK_INT(json_object_object_length(jget(c, "cpu")), 1);
		CHECK(jexists(c, "cpu.usage_usec"));
		CHECK(jexists(c, "psi.cpu") && !jexists(c, "psi.io"));
		json_object_put(o);
	}
	CHECK_INT(n, 4);
	/* the container of the tick line: memory.stat holds anon only */
	free(buf);
	buf = NULL;
	mem = open_memstream(&buf, &len);
	json_write_stream_tick_fields(mem, &s, f);
	fclose(mem);
	line = strrchr(buf, '{') ? strstr(buf, "\"type\":\"tick\"") : NULL;
	CHECK(line != NULL);
	if (line) {
		char *start = line;

		while (start > buf && start[-1] != '\n')
			start--;
		struct json_object *o = parse_exact(start, strlen(start) - 1);

		CHECK(o && jexists(o, "cgroups.1.memory.stat.anon"));
		CHECK(o && json_object_object_length(jget(o, "cgroups.1.memory.stat")) == 1);
		CHECK(o && json_object_object_length(jget(o, "cgroups.1.memory")) == 1);
		CHECK(o && jexists(o, "self.dropped_lines"));
		json_object_put(o);
	}
	free(buf);
	json_fields_free(f);
}

/* The schema must catch drift: an unknown member, a wrong type, a bad enum. */
static void test_schema_rejects_drift(void)
{
	static const struct {
		const char *from, *to;
	} edits[] = {
		{ "\"procs\":", "\"procz\":1,\"procs\":" },
		{ "\"kind\":\"container\"", "\"kind\":\"vm\"" },
		{ "\"max_bytes\":536870912", "\"max_bytes\":\"536870912\"" },
		{ "\"avg10\":39.78", "\"avg10\":null" },
		{ "\"schema\":1", "\"schema\":2" },
		{ "\"rbytes\":1", "\"rbytes\":-1" },
		{ "\"cpus\":4", "\"cpus\":4,\"added\":[]" },
		{ "\"type\":\"snapshot\"", "\"type\":\"event\"" },
		{ "\"usage_ratio\":0.3", "\"usage_ratio\":\"0.3\"" },
		{ "\"high_bytes\":\"max\"", "\"high_bytes\":\"unlimited\"" },
		{ "\"id\":12345,", "" },
		{ "\"oom_kill\":1", "\"oom_kill\":1,\"oom_kills\":1" },
	};
	enum { NR = sizeof(edits) / sizeof(edits[0]) };
	struct cg_snapshot s = full_snapshot();
	char *bad[NR] = { 0 };
	size_t len, blen[NR] = { 0 }, n = 0;
	int ret;
	char *buf;

	if (!schema_available())
		TEST_SKIP("python3 with jsonschema not available");
	buf = render(&s, 0, &ret, &len);
	CHECK_INT(ret, 0);
	for (size_t i = 0; buf && i < NR; i++) {
		const char *at = strstr(buf, edits[i].from);
		size_t fl = strlen(edits[i].from), tl = strlen(edits[i].to), pre;

		if (!at) {
			printf("  edit %zu: \"%s\" not in output\n", i, edits[i].from);
			test_cur_failed++;
			continue;
		}
		pre = at - buf;
		bad[n] = malloc(len + tl);
		memcpy(bad[n], buf, pre);
		memcpy(bad[n] + pre, edits[i].to, tl);
		memcpy(bad[n] + pre + tl, at + fl, len - pre - fl);
		blen[n++] = len - fl + tl;
	}
	/* One rejection line per edited document. */
	CHECK_INT(schema_check(bad, blen, n, false, false), NR);
	for (size_t i = 0; i < n; i++)
		free(bad[i]);
	free(buf);
}

int main(void)
{
	arena = arena_new();
	if (!arena)
		return 1;
	RUN(test_snapshot_full);
	RUN(test_absent_is_null);
	RUN(test_unlimited_is_max);
	RUN(test_u64_max_exact);
	RUN(test_psi_two_decimals);
	RUN(test_rates_never_nan);
	RUN(test_odd_names);
	RUN(test_pretty_equals_compact);
	RUN(test_empty_tree);
	RUN(test_io_devices);
	RUN(test_carried_is_said);
	RUN(test_k8s_object);
	RUN(test_stream_lines);
	RUN(test_stream_bad_input);
	RUN(test_write_error);
	RUN(test_stream_large);
	RUN(test_stream_fields);
	RUN(test_locale_decimal_point);
	RUN(test_schema_accepts_output);
	RUN(test_schema_rejects_drift);
	arena_free(arena);
	TEST_EXIT();
}
