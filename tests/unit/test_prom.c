/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Prometheus 0.0.4 and OpenMetrics 1.0 rendering from hand-made snapshots:
 * names and labels (METRICS.md), units, escaping, absent values, the
 * histogram, family grouping, content negotiation; and, when promtool is
 * installed, its linter on both outputs.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "prom.h"
#include "version.h"
#include "rates.h"
#include "snapshot.h"
#include "test.h"

#define MIB (1024ull * 1024)
#define CONTAINER_ID "4f1c7e2a9b3d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7"
#define CT_LABELS "id=\"/system.slice/docker-" CONTAINER_ID ".scope\",name=\"web\"," \
	"cgroup_id=\"12345\",kind=\"container\",runtime=\"docker\",image=\"nginx:1.25\"," \
	"container_id=\"" CONTAINER_ID "\""

static struct cg_sample samples[4];
static struct cg_io_dev devs[2];

/* root (only cpu.stat, like the hybrid host), a docker container with
 * every field, and a k8s container with nothing read at all. */
static struct cg_snapshot snapshot(void)
{
	struct cg_snapshot s = {
		.root = "/sys/fs/cgroup", .seq = 3, .wall_usec = 1700000000123456ull,
		.mono_usec = 5000000, .interval_usec = 1000000,
		.host = { .have = CG_HOST_MEMINFO, .cpus = 4, .mem_total_bytes = 8192 * MIB },
		.self = { .collect_usec = 1500, .files_read_total = 42, .cgroups = 3,
			  .cpu_usec = 2500000, .rss_bytes = 8 * MIB, .kept_fds = 40,
			  .fd_budget = 1000 },
		.nr_samples = 3,
		.samples = samples,
	};
	struct cg_sample *r = &samples[0], *c = &samples[1], *k = &samples[2];

	memset(samples, 0, sizeof(samples));
	r->id = 1;
	r->parent = -1;
	r->path = "";
	r->have = CG_HAVE_CPU_STAT;
	r->cpu_have = 7;
	r->cpu[CG_CPU_USAGE_USEC] = 2000000;
	r->cpu[CG_CPU_USER_USEC] = 1;
	r->cpu[CG_CPU_SYSTEM_USEC] = 1999999;

	c->id = 12345;
	c->parent_id = 1;
	c->depth = 2;
	c->path = "system.slice/docker-" CONTAINER_ID ".scope";
	c->ident = (struct cg_identity){
		.kind = CG_KIND_CONTAINER, .runtime = CG_RT_DOCKER, .name = "web",
		.container_id = CONTAINER_ID, .short_id = "4f1c7e2a9b3d", .image = "nginx:1.25",
	};
	c->have = ~0u;
	c->cpu_have = (1u << CG_CPU__COUNT) - 1;
	for (int i = 0; i < CG_CPU__COUNT; i++)
		c->cpu[i] = 1000000 + (uint64_t)i;
	c->cpu[CG_CPU_USAGE_USEC] = 1500000;
	c->cpu_max_quota_usec = 50000;
	c->cpu_max_period_usec = 100000;
	c->cpu_weight = 100;
	c->mem_current = 300 * MIB;
	c->mem_peak = 400 * MIB;
	c->mem_max = CG_UNLIMITED;
	c->mem_high = CG_UNLIMITED;
	c->mem_low = 0;
	c->swap_current = 0;
	c->swap_max = 64 * MIB;
	c->memstat_have = (1ull << CG_MS__COUNT) - 1;
	for (int i = 0; i < CG_MS__COUNT; i++)
		c->memstat[i] = 4096 * (uint64_t)(i + 1);
	c->memstat[CG_MS_INACTIVE_FILE] = 100 * MIB;
	c->memevents_have = (1u << CG_ME__COUNT) - 1;
	c->memevents[CG_ME_OOM_KILL] = 2;
	devs[0] = (struct cg_io_dev){ 253, 0, 0x3f, { 1000, 2000, 10, 20, 0, 0 }, "vda" };
	devs[1] = (struct cg_io_dev){ 8, 0, 0x0f, { 1, 2, 3, 4, 0, 0 }, NULL };
	c->nr_io = 2;
	c->io = devs;
	c->pids_current = 7;
	c->pids_max = CG_UNLIMITED;
	for (int r2 = 0; r2 < CG_PSI__COUNT; r2++) {
		c->psi[r2].have_some = c->psi[r2].have_full = true;
		c->psi[r2].some.total_usec = 123;
		c->psi[r2].full.total_usec = 45;
	}
	c->procs = 3;
	c->threads = 7;
	c->bpf.have = CG_BPF_SCHED | CG_BPF_NET | CG_BPF_PROC;
	c->bpf.ctx_switches = 99;
	c->bpf.runq_hist[0] = 5;	/* < 1 us */
	c->bpf.runq_hist[1] = 4;	/* 1-2 us */
	c->bpf.runq_hist[2] = 3;	/* 3-6 us */
	c->bpf.runq_hist[10] = 2;	/* ~1-2 ms */
	c->bpf.runq_hist[31] = 1;	/* clamped: > 35 minutes */
	c->bpf.runq_count = 15;
	c->bpf.runq_sum_ns = 1234567891;
	c->bpf.rx_bytes = 1000;

	k->id = 777;
	k->parent_id = 1;
	k->depth = 3;
	k->path = "kubepods.slice/pod-x/cri-containerd-abc.scope";
	k->ident = (struct cg_identity){
		.kind = CG_KIND_CONTAINER, .runtime = CG_RT_CONTAINERD, .qos = CG_QOS_BURSTABLE,
		.name = "app", .k8s_namespace = "default", .k8s_pod = "web-0",
		.k8s_container = "app",
	};
	return s;
}

static char *render(const struct cg_snapshot *s, enum prom_format f,
		    const struct prom_policy_count *pc, size_t n)
{
	struct prom_buf b = { 0 };
	int err;
	char *out;

	/* What the collector derives from each sample (the working set). */
	for (size_t i = 0; i < s->nr_samples; i++)
		rates_derive(&s->samples[i]);
	err = prom_render(&b, s, f, pc, n);

	CHECK_INT(err, 0);
	if (err)
		return strdup("");
	CHECK_U64(strlen(b.data), b.len);
	out = strdup(b.data);
	prom_buf_free(&b);
	return out;
}

/* Whether text holds this exact line. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

#define CHECK_LINE(text, line)                                                  \
	do {                                                                    \
		if (!has_line(text, line)) {                                    \
			printf("  %s:%d: no line: %s\n", __FILE__, __LINE__, line); \
			test_cur_failed++;                                      \
		}                                                               \
	} while (0)

#define CHECK_NO(text, needle)                                                  \
	do {                                                                    \
		if (strstr(text, needle)) {                                     \
			printf("  %s:%d: unexpected: %s\n", __FILE__, __LINE__, needle); \
			test_cur_failed++;                                      \
		}                                                               \
	} while (0)

static void test_cadvisor_names_and_labels(void)
{
	struct cg_snapshot s = snapshot();
	char *t = render(&s, PROM_TEXT, NULL, 0);

	CHECK_LINE(t, "# HELP container_cpu_usage_seconds_total Cumulative CPU time consumed "
		      "(cpu.stat usage_usec).");
	CHECK_LINE(t, "# TYPE container_cpu_usage_seconds_total counter");
	CHECK_LINE(t, "container_cpu_usage_seconds_total{" CT_LABELS "} 1.5");
	CHECK_LINE(t, "container_cpu_usage_seconds_total{id=\"/\",name=\"\",cgroup_id=\"1\","
		      "kind=\"other\"} 2");
	CHECK_LINE(t, "container_cpu_user_seconds_total{id=\"/\",name=\"\",cgroup_id=\"1\","
		      "kind=\"other\"} 0.000001");
	CHECK_LINE(t, "container_cpu_system_seconds_total{id=\"/\",name=\"\",cgroup_id=\"1\","
		      "kind=\"other\"} 1.999999");
	CHECK_LINE(t, "container_memory_usage_bytes{" CT_LABELS "} 314572800");
	CHECK_LINE(t, "container_memory_working_set_bytes{" CT_LABELS "} 209715200");
	CHECK_LINE(t, "container_spec_cpu_quota{" CT_LABELS "} 50000");
	CHECK_LINE(t, "container_spec_cpu_period{" CT_LABELS "} 100000");
	/* runc: weight 100 is the default 1024 shares' image, 2597 back. */
	CHECK_LINE(t, "container_spec_cpu_shares{" CT_LABELS "} 2597");
	CHECK_LINE(t, "container_fs_reads_bytes_total{" CT_LABELS ",device=\"/dev/vda\"} 1000");
	CHECK_LINE(t, "container_fs_writes_total{" CT_LABELS ",device=\"8:0\"} 4");
	CHECK_LINE(t, "container_memory_failures_total{" CT_LABELS
		      ",failure_type=\"pgmajfault\",scope=\"container\"} "
		      "172032");
	CHECK_LINE(t, "container_oom_events_total{" CT_LABELS "} 2");
	CHECK_LINE(t, "container_pressure_io_stalled_seconds_total{" CT_LABELS "} 0.000045");
	CHECK_LINE(t, "container_network_receive_bytes_total{" CT_LABELS "} 1000");
	CHECK_LINE(t, "machine_cpu_cores 4");
	CHECK_LINE(t, "cgwarden_collect_seconds 0.0015");
	CHECK_LINE(t, "cgwarden_files_read_total 42");
	CHECK_LINE(t, "process_cpu_seconds_total 2.5");
	CHECK_LINE(t, "cgwarden_last_collect_timestamp_seconds 1700000000.123456");
	/* Kubernetes labels when known, qos too. */
	CHECK(strstr(t, "container_processes{id=\"/kubepods.slice/pod-x/cri-containerd-abc.scope\","
			"name=\"app\",cgroup_id=\"777\",kind=\"container\",runtime=\"containerd\","
			"namespace=\"default\",pod=\"web-0\",container=\"app\",qos=\"burstable\"}")
	      == NULL);	/* procs not read for it: absent */
	CHECK_NO(t, "# EOF");
	free(t);
}

static void test_absent_never_zero(void)
{
	struct cg_snapshot s = snapshot();
	char *t = render(&s, PROM_TEXT, NULL, 0);

	/* Nothing read for the k8s container: not one sample of it. */
	CHECK_NO(t, "cgroup_id=\"777\"");
	/* Root: cpu.stat only, no memory or psi. */
	CHECK_NO(t, "container_memory_usage_bytes{id=\"/\"");
	CHECK_NO(t, "container_pressure_cpu_waiting_seconds_total{id=\"/\"");
	CHECK_NO(t, "cgwarden_runq_latency_seconds_bucket{id=\"/\"");
	/* No BPF stats: no run-time sample, but the family is declared. */
	CHECK_NO(t, "\ncgwarden_bpf_run_seconds_total ");
	CHECK_LINE(t, "# TYPE cgwarden_bpf_run_seconds_total counter");
	/* Unlimited quota: no sample (cAdvisor); unlimited memory/pids: 0 (cAdvisor). */
	samples[1].cpu_max_quota_usec = CG_UNLIMITED;
	free(t);
	t = render(&s, PROM_TEXT, NULL, 0);
	CHECK_NO(t, "container_spec_cpu_quota{");
	CHECK_LINE(t, "container_spec_memory_limit_bytes{" CT_LABELS "} 0");
	CHECK_LINE(t, "container_threads_max{" CT_LABELS "} 0");
	CHECK_LINE(t, "container_spec_memory_swap_limit_bytes{" CT_LABELS "} 67108864");
	/* A cleared bit hides one key, not its group. */
	samples[1].memstat_have &= ~(1ull << CG_MS_INACTIVE_FILE);
	samples[1].cpu_have &= ~(1u << CG_CPU_NR_BURSTS);
	free(t);
	t = render(&s, PROM_TEXT, NULL, 0);
	CHECK_NO(t, "container_memory_working_set_bytes{");
	CHECK_NO(t, "container_cpu_cfs_burst_periods_total{");
	CHECK(strstr(t, "container_memory_rss{") != NULL);
	free(t);
}

static void test_label_escaping(void)
{
	struct cg_snapshot s = snapshot();
	char *t;

	samples[0].path = "a\\b\"c";
	samples[0].ident.name = "new\nline";
	samples[0].ident.image = "bad\xff" "byte \xc3\xa9";
	t = render(&s, PROM_TEXT, NULL, 0);
	CHECK_LINE(t, "container_cpu_usage_seconds_total{id=\"/a\\\\b\\\"c\",name=\"new\\nline\","
		      "cgroup_id=\"1\",kind=\"other\",image=\"bad\xef\xbf\xbd" "byte \xc3\xa9\"} 2");
	free(t);
}

/* Every sample belongs to a family declared (TYPE) before it, and a
 * family's samples are contiguous: both formats require it. */
static void check_grouping(const char *t, bool om)
{
	char declared[256][96];
	int nd = 0, cur = -1;
	const char *p = t;

	while (*p) {
		const char *eol = strchr(p, '\n');
		char name[96];
		size_t n;

		if (!eol) {
			printf("  output does not end with a newline\n");
			test_cur_failed++;
			return;
		}
		if (strncmp(p, "# TYPE ", 7) == 0) {
			n = strcspn(p + 7, " ");
			snprintf(name, sizeof(name), "%.*s", (int)n, p + 7);
			for (int i = 0; i < nd; i++)
				if (strcmp(declared[i], name) == 0) {
					printf("  family %s declared twice\n", name);
					test_cur_failed++;
				}
			if (nd < 256)
				snprintf(declared[nd++], sizeof(declared[0]), "%s", name);
			cur = nd - 1;
		} else if (*p != '#') {
			const char *fam = cur >= 0 ? declared[cur] : "";
			size_t fl = strlen(fam);

			n = strcspn(p, "{ ");
			/* The sample name is the family's, or it plus a suffix
			 * its type allows. */
			bool ok = cur >= 0 && n >= fl && strncmp(p, fam, fl) == 0 &&
				  (n == fl || (om && n == fl + 6 && !strncmp(p + fl, "_total", 6)) ||
				   (n == fl + 7 && !strncmp(p + fl, "_bucket", 7)) ||
				   (n == fl + 4 && !strncmp(p + fl, "_sum", 4)) ||
				   (n == fl + 6 && !strncmp(p + fl, "_count", 6)));
			if (!ok) {
				printf("  sample outside its family: %.*s\n", (int)(eol - p), p);
				test_cur_failed++;
				return;
			}
		}
		p = eol + 1;
	}
	CHECK(nd > 40);
}

static void test_openmetrics_vs_text(void)
{
	struct cg_snapshot s = snapshot();
	char *t = render(&s, PROM_TEXT, NULL, 0);
	char *o = render(&s, PROM_OPENMETRICS, NULL, 0);
	size_t ol = strlen(o);

	CHECK_LINE(t, "# TYPE container_cpu_usage_seconds_total counter");
	CHECK_NO(t, "# UNIT");
	CHECK_LINE(o, "# TYPE container_cpu_usage_seconds counter");
	CHECK_LINE(o, "# HELP container_cpu_usage_seconds Cumulative CPU time consumed "
		      "(cpu.stat usage_usec).");
	CHECK_LINE(o, "# UNIT container_cpu_usage_seconds seconds");
	CHECK_LINE(o, "# UNIT container_memory_usage_bytes bytes");
	CHECK_LINE(o, "# TYPE container_memory_usage_bytes gauge");
	/* No unit suffix, no UNIT line. */
	CHECK_NO(o, "# UNIT container_memory_swap ");
	CHECK_LINE(o, "container_cpu_usage_seconds_total{" CT_LABELS "} 1.5");
	CHECK_LINE(o, "# TYPE cgwarden_runq_latency_seconds histogram");
	CHECK_LINE(o, "# UNIT cgwarden_runq_latency_seconds seconds");
	CHECK(ol > 6 && strcmp(o + ol - 6, "# EOF\n") == 0);
	CHECK(strstr(o, "# EOF") == o + ol - 6);
	check_grouping(t, false);
	check_grouping(o, true);
	free(t);
	free(o);
}

static void test_histogram(void)
{
	struct cg_snapshot s = snapshot();
	char *t = render(&s, PROM_TEXT, NULL, 0);
	const char *p = t;
	uint64_t prev = 0;
	int buckets = 0;

	CHECK_LINE(t, "cgwarden_runq_latency_seconds_bucket{" CT_LABELS ",le=\"0.000003\"} 9");
	CHECK_LINE(t, "cgwarden_runq_latency_seconds_bucket{" CT_LABELS ",le=\"0.000015\"} 12");
	CHECK_LINE(t, "cgwarden_runq_latency_seconds_bucket{" CT_LABELS ",le=\"0.004095\"} 14");
	CHECK_LINE(t, "cgwarden_runq_latency_seconds_bucket{" CT_LABELS ",le=\"16.777215\"} 14");
	CHECK_LINE(t, "cgwarden_runq_latency_seconds_bucket{" CT_LABELS ",le=\"+Inf\"} 15");
	CHECK_LINE(t, "cgwarden_runq_latency_seconds_count{" CT_LABELS "} 15");
	CHECK_LINE(t, "cgwarden_runq_latency_seconds_sum{" CT_LABELS "} 1.234567891");
	while ((p = strstr(p, "cgwarden_runq_latency_seconds_bucket{"))) {
		const char *sp = strchr(p, '}');
		uint64_t v = strtoull(sp + 2, NULL, 10);

		CHECK(v >= prev);
		prev = v;
		buckets++;
		p = sp;
	}
	CHECK_INT(buckets, 13);
	free(t);
}

static void test_policy_counts(void)
{
	struct cg_snapshot s = snapshot();
	const struct prom_policy_count pc[] = {
		{ "web-cpu", "set_cpu_max", "ok", 3 },
		{ "bad\"rule", "kill", "refused", 1 },
	};
	char *t = render(&s, PROM_TEXT, NULL, 0);
	char *o;

	CHECK_NO(t, "cgwarden_policy_actions_total");
	free(t);
	t = render(&s, PROM_TEXT, pc, 0);
	CHECK_LINE(t, "# TYPE cgwarden_policy_actions_total counter");
	CHECK_NO(t, "cgwarden_policy_actions_total{");
	free(t);
	t = render(&s, PROM_TEXT, pc, 2);
	o = render(&s, PROM_OPENMETRICS, pc, 2);
	CHECK_LINE(t, "cgwarden_policy_actions_total{rule=\"web-cpu\",action=\"set_cpu_max\","
		      "result=\"ok\"} 3");
	CHECK_LINE(t, "cgwarden_policy_actions_total{rule=\"bad\\\"rule\",action=\"kill\","
		      "result=\"refused\"} 1");
	CHECK_LINE(o, "# TYPE cgwarden_policy_actions counter");
	CHECK_LINE(o, "cgwarden_policy_actions_total{rule=\"web-cpu\",action=\"set_cpu_max\","
		      "result=\"ok\"} 3");
	free(t);
	free(o);
}

/* The flight recorder's families: only when a recorder runs, after the
 * policy counters, and before OpenMetrics' # EOF. */
static void test_record_families(void)
{
	struct cg_snapshot s = snapshot();
	const struct prom_record rec = { .paused = true, .ticks = 17280, .ticks_dropped = 3,
					 .written_bytes = 104857600, .store_bytes = 99 };
	const struct prom_extra x = { .record = &rec };
	struct prom_buf b = { 0 };
	const char *eof;

	for (size_t i = 0; i < s.nr_samples; i++)
		rates_derive(&s.samples[i]);
	CHECK_INT(prom_render_extra(&b, &s, PROM_TEXT, NULL), 0);
	CHECK_NO(b.data, "cgwarden_record");
	CHECK_INT(prom_render_extra(&b, &s, PROM_TEXT, &x), 0);
	CHECK_LINE(b.data, "# TYPE cgwarden_record_ticks_total counter");
	CHECK_LINE(b.data, "cgwarden_record_ticks_total 17280");
	CHECK_LINE(b.data, "cgwarden_record_ticks_dropped_total 3");
	CHECK_LINE(b.data, "cgwarden_record_written_bytes_total 104857600");
	CHECK_LINE(b.data, "cgwarden_record_store_bytes 99");
	CHECK_LINE(b.data, "cgwarden_record_paused 1");
	CHECK_LINE(b.data, "cgwarden_record_stopped 0");
	CHECK_INT(prom_render_extra(&b, &s, PROM_OPENMETRICS, &x), 0);
	CHECK_LINE(b.data, "# TYPE cgwarden_record_ticks counter");
	eof = strstr(b.data, "# EOF\n");
	CHECK(eof && eof[6] == 0 && strstr(b.data, "cgwarden_record_stopped 0") < eof);
	prom_buf_free(&b);
}

/* cgwarden_build_info: only when asked (serve, daemon), one sample of 1
 * whose labels are version.c's, in --version's order. */
static void test_build_info(void)
{
	struct cg_snapshot s = snapshot();
	const struct prom_extra x = { .build_info = true };
	struct prom_buf b = { 0 };
	char want[512];
	int len;
	size_t n;
	const struct build_lib *libs = version_libs(&n);

	CHECK_INT(prom_render_extra(&b, &s, PROM_TEXT, NULL), 0);
	CHECK_NO(b.data, "cgwarden_build_info");
	CHECK_INT(prom_render_extra(&b, &s, PROM_OPENMETRICS, &x), 0);
	CHECK_LINE(b.data, "# TYPE cgwarden_build_info gauge");
	len = snprintf(want, sizeof(want), "cgwarden_build_info{version=\"%s\",revision=\"%s\"",
		       version_string(), version_revision());
	for (size_t i = 0; i < n; i++)
		len += snprintf(want + len, sizeof(want) - (size_t)len, ",%s=\"%s\"", libs[i].label,
				libs[i].built);
	snprintf(want + len, sizeof(want) - (size_t)len, "} 1");
	CHECK_LINE(b.data, want);
	CHECK_INT((int)n, 6);
	CHECK(strcmp(libs[1].label, "json_c") == 0 && strcmp(libs[1].name, "json-c") == 0);
	prom_buf_free(&b);
}

/* The adaptive controller's families: the cgroup's labels plus the rule,
 * the pressure as a ratio (absent before the first interval), nothing for
 * a cgroup gone from the snapshot, HELP and TYPE even with none. */
static void test_adaptive_families(void)
{
	struct cg_snapshot s = snapshot();
	const struct prom_adaptive a[] = {
		{ .cgroup_id = 12345, .rule = "squeeze", .high_bytes = 199229440,
		  .pressure_pct = 0.25, .held_back_bytes = 10485760 },
		{ .cgroup_id = 999, .rule = "gone", .high_bytes = 1, .pressure_pct = 1 },
		{ .cgroup_id = 1, .rule = "new", .high_bytes = 4096, .pressure_pct = -1 },
	};
	struct prom_extra x = { .adaptive = a, .nr_adaptive = 3 };
	struct prom_buf b = { 0 };
	const char *line;

	CHECK_INT(prom_render_extra(&b, &s, PROM_TEXT, &x), 0);
	CHECK_LINE(b.data, "# TYPE cgwarden_adaptive_memory_high_bytes gauge");
	line = strstr(b.data, "\ncgwarden_adaptive_memory_high_bytes{id=\"/system.slice/docker-");
	CHECK(line && strstr(line, ",rule=\"squeeze\"} 199229440\n"));
	line = strstr(b.data, "\ncgwarden_adaptive_pressure_ratio{id=\"/system.slice/docker-");
	CHECK(line && strstr(line, ",rule=\"squeeze\"} 0.0025\n"));
	CHECK(strstr(b.data, "rule=\"squeeze\"} 10485760\n") != NULL);
	CHECK_NO(b.data, "rule=\"gone\"");
	CHECK(strstr(b.data, "cgwarden_adaptive_memory_high_bytes{id=\"/\"") != NULL);
	CHECK_NO(b.data, "cgwarden_adaptive_pressure_ratio{id=\"/\"");
	x.nr_adaptive = 0;
	CHECK_INT(prom_render_extra(&b, &s, PROM_OPENMETRICS, &x), 0);
	CHECK_LINE(b.data, "# TYPE cgwarden_adaptive_pressure_ratio gauge");
	CHECK_NO(b.data, "cgwarden_adaptive_pressure_ratio{");
	prom_buf_free(&b);
}

static void test_units_exact(void)
{
	struct cg_snapshot s = snapshot();
	char *t;

	samples[0].cpu[CG_CPU_USAGE_USEC] = UINT64_MAX;
	samples[0].cpu[CG_CPU_USER_USEC] = 0;
	samples[0].cpu[CG_CPU_SYSTEM_USEC] = 10;
	t = render(&s, PROM_TEXT, NULL, 0);
	CHECK_LINE(t, "container_cpu_usage_seconds_total{id=\"/\",name=\"\",cgroup_id=\"1\","
		      "kind=\"other\"} 18446744073709.551615");
	CHECK_LINE(t, "container_cpu_user_seconds_total{id=\"/\",name=\"\",cgroup_id=\"1\","
		      "kind=\"other\"} 0");
	CHECK_LINE(t, "container_cpu_system_seconds_total{id=\"/\",name=\"\",cgroup_id=\"1\","
		      "kind=\"other\"} 0.00001");
	free(t);
}

static void test_empty_and_bad_input(void)
{
	struct cg_snapshot s = { 0 };
	struct prom_buf b = { 0 };

	CHECK_INT(prom_render(&b, &s, PROM_OPENMETRICS, NULL, 0), 0);
	CHECK(b.len > 0 && strstr(b.data, "# EOF\n"));
	CHECK_INT(prom_render(NULL, &s, PROM_TEXT, NULL, 0), -EINVAL);
	CHECK_INT(prom_render(&b, NULL, PROM_TEXT, NULL, 0), -EINVAL);
	CHECK_U64(b.len, 0);
	s.nr_samples = 3;	/* and no samples array */
	CHECK_INT(prom_render(&b, &s, PROM_TEXT, NULL, 0), -EINVAL);
	s.nr_samples = 0;
	CHECK_INT(prom_render(&b, &s, PROM_TEXT, NULL, 2), -EINVAL);
	prom_buf_free(&b);
	CHECK(b.data == NULL);
}

static void test_negotiate(void)
{
	/* What Prometheus 2.x sends by default. */
	CHECK_INT(prom_negotiate("application/openmetrics-text;version=1.0.0,"
				 "application/openmetrics-text;version=0.0.1;q=0.75,"
				 "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"), PROM_OPENMETRICS);
	CHECK_INT(prom_negotiate("application/openmetrics-text; version=1.0.0; charset=utf-8"),
		  PROM_OPENMETRICS);
	CHECK_INT(prom_negotiate("text/plain, Application/OpenMetrics-Text"), PROM_OPENMETRICS);
	CHECK_INT(prom_negotiate(NULL), PROM_TEXT);
	CHECK_INT(prom_negotiate(""), PROM_TEXT);
	CHECK_INT(prom_negotiate("*/*"), PROM_TEXT);
	CHECK_INT(prom_negotiate("text/plain;version=0.0.4"), PROM_TEXT);
	CHECK_INT(prom_negotiate("application/openmetrics-text;q=0"), PROM_TEXT);
	CHECK_INT(prom_negotiate("application/openmetrics-textile"), PROM_TEXT);
	/* Accept-Encoding: what Prometheus and curl --compressed send, and
	 * what must not count as gzip. */
	CHECK(prom_accepts_gzip("gzip"));
	CHECK(prom_accepts_gzip("deflate, gzip;q=0.5"));
	CHECK(prom_accepts_gzip("GZIP"));
	CHECK(prom_accepts_gzip("br, *"));
	CHECK(!prom_accepts_gzip(NULL));
	CHECK(!prom_accepts_gzip(""));
	CHECK(!prom_accepts_gzip("identity"));
	CHECK(!prom_accepts_gzip("gzip;q=0"));
	CHECK(!prom_accepts_gzip("x-gzip2, gzipx"));
	CHECK_STR(prom_content_type(PROM_TEXT), "text/plain; version=0.0.4; charset=utf-8");
	CHECK_STR(prom_content_type(PROM_OPENMETRICS),
		  "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

/* promtool's linter ("check metrics") on the 0.0.4 text: no complaint.
 * It parses only that format (OpenMetrics counter families, named without
 * _total, read to it as samples without help), so OpenMetrics is left to the
 * real Prometheus of tests/integration/test_serve.sh. */
static void test_promtool_lint(void)
{
	struct cg_snapshot s = snapshot();
	const struct prom_policy_count pc[] = { { "r", "a", "ok", 1 } };

	if (system("command -v promtool >/dev/null 2>&1") != 0)
		TEST_SKIP("promtool not installed (scripts/deps.sh --test)");
	{
		char *t = render(&s, PROM_TEXT, pc, 1);
		char path[] = "/tmp/cgwarden-prom-XXXXXX", cmd[128], out[4096];
		int fd = mkstemp(path);
		FILE *p;
		size_t n;

		CHECK(fd >= 0);
		if (fd < 0) {
			free(t);
			return;
		}
		CHECK(write(fd, t, strlen(t)) == (ssize_t)strlen(t));
		close(fd);
		snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
		p = popen(cmd, "r");
		n = p ? fread(out, 1, sizeof(out) - 1, p) : 0;
		out[n] = '\0';
		CHECK(p && pclose(p) == 0);
		if (n) {
			printf("  promtool: %s\n", out);
			test_cur_failed++;
		}
		unlink(path);
		free(t);
	}
}

int main(void)
{
	RUN(test_cadvisor_names_and_labels);
	RUN(test_absent_never_zero);
	RUN(test_label_escaping);
	RUN(test_openmetrics_vs_text);
	RUN(test_record_families);
	RUN(test_build_info);
	RUN(test_adaptive_families);
	RUN(test_histogram);
	RUN(test_policy_counts);
	RUN(test_units_exact);
	RUN(test_empty_and_bad_input);
	RUN(test_negotiate);
	RUN(test_promtool_lint);
	TEST_EXIT();
}
