/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Prometheus / OpenMetrics text from a snapshot (METRICS.md has the names).
 *
 * Both formats group every sample of a family under one HELP/TYPE block, so
 * the walk is family-major: for each family, every cgroup. A cgroup's label
 * set (id, name, cgroup_id, kind, ...) is escaped once per render into a
 * side buffer and copied into each of its lines, which is most of the bytes.
 *
 * Units: cgroupfs counts CPU time and PSI stall time in microseconds and the
 * eBPF side in nanoseconds; Prometheus wants seconds. They are printed as
 * exact decimals ("12.000345"), never through a double, so a counter never
 * goes backwards through rounding.
 *
 * A field the snapshot does not have (bit clear in a have mask) writes no
 * sample; it is never shown as 0. The one exception is cAdvisor's: its
 * container_spec_*_limit_bytes and container_threads_max say 0 for "no
 * limit", and dashboards built on them expect that.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "idmap.h"
#include "metrics.h"
#include "prom.h"
#include "version.h"
#include "utf8.h"

struct pw {
	struct prom_buf *b;
	bool om;
	int err;
};

/* ---- the buffer -------------------------------------------------------- */

void prom_buf_free(struct prom_buf *b)
{
	if (!b)
		return;
	free(b->data);
	*b = (struct prom_buf){ 0 };
}

static bool buf_room(struct prom_buf *b, size_t n, int *err)
{
	if (*err)
		return false;
	if (b->len + n < b->cap)	/* < : one byte stays for the final NUL */
		return true;
	size_t cap = b->cap ? b->cap : 64 * 1024;

	while (cap <= b->len + n)
		cap *= 2;
	char *p = realloc(b->data, cap);

	if (!p) {
		*err = -ENOMEM;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

static void put(struct pw *w, const char *s, size_t n)
{
	if (buf_room(w->b, n, &w->err)) {
		memcpy(w->b->data + w->b->len, s, n);
		w->b->len += n;
	}
}

#define lit(w, s) put(w, s, sizeof(s) - 1)

static void puts_(struct pw *w, const char *s)
{
	put(w, s, strlen(s));
}

static void putch(struct pw *w, char c)
{
	if (buf_room(w->b, 1, &w->err))
		w->b->data[w->b->len++] = c;
}

/* ---- values ------------------------------------------------------------ */

static void put_u64(struct pw *w, uint64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* v / 10^digits as an exact decimal, trailing zeros of the fraction dropped:
 * 12000345 usec -> "12.000345", 2000000 -> "2". */
static void put_fixed(struct pw *w, uint64_t v, unsigned digits, uint64_t scale)
{
	uint64_t frac = v % scale;
	char tmp[24];
	unsigned n = digits;

	put_u64(w, v / scale);
	if (!frac)
		return;
	for (unsigned i = digits; i-- > 0;) {
		tmp[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	while (n > 0 && tmp[n - 1] == '0')
		n--;
	putch(w, '.');
	put(w, tmp, n);
}

static void put_usec_as_sec(struct pw *w, uint64_t usec)
{
	put_fixed(w, usec, 6, 1000000);
}

static void put_nsec_as_sec(struct pw *w, uint64_t nsec)
{
	put_fixed(w, nsec, 9, 1000000000);
}

/*
 * A label value: '\\', '"' and newline escaped as both formats require, and
 * each byte of invalid UTF-8 replaced by U+FFFD: a scraper rejects the whole
 * scrape on one invalid label value, and cgroup names are arbitrary bytes.
 */
static void put_label_value(struct pw *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, run = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n;

		if (c < 0x80 && c != '"' && c != '\\' && c != '\n') {
			i++;
			run++;
			continue;
		}
		put(w, (const char *)p + i - run, run);
		run = 0;
		if (c == '"') {
			lit(w, "\\\"");
			n = 1;
		} else if (c == '\\') {
			lit(w, "\\\\");
			n = 1;
		} else if (c == '\n') {
			lit(w, "\\n");
			n = 1;
		} else if ((n = utf8_seq_len(p + i, len - i)) != 0) {
			put(w, (const char *)p + i, n);
		} else {
			lit(w, UTF8_REPLACEMENT);
			n = 1;
		}
		i += n;
	}
	put(w, (const char *)p + i - run, run);
}

/* ,name="value" (or name="value" first in the set) */
static void put_label(struct pw *w, bool first, const char *name, const char *value)
{
	if (!first)
		putch(w, ',');
	puts_(w, name);
	lit(w, "=\"");
	put_label_value(w, value);
	putch(w, '"');
}

/* ---- families ---------------------------------------------------------- */

enum ptype { T_COUNTER, T_GAUGE, T_HISTOGRAM };

static const char *const type_names[] = { "counter", "gauge", "histogram" };

/*
 * HELP, TYPE and (OpenMetrics) UNIT of one family. name is the sample name
 * of the 0.0.4 format ("..._total" for counters); OpenMetrics names the
 * family without the _total its samples carry.
 */
static void family(struct pw *w, const char *name, enum ptype type, const char *help)
{
	size_t n = strlen(name);
	const char *unit = NULL;

	if (w->om && type == T_COUNTER && n > 6 && strcmp(name + n - 6, "_total") == 0)
		n -= 6;
	if (n > 8 && strncmp(name + n - 8, "_seconds", 8) == 0)
		unit = "seconds";
	else if (n > 6 && strncmp(name + n - 6, "_bytes", 6) == 0)
		unit = "bytes";
	lit(w, "# HELP ");
	put(w, name, n);
	putch(w, ' ');
	puts_(w, help);
	lit(w, "\n# TYPE ");
	put(w, name, n);
	putch(w, ' ');
	puts_(w, type_names[type]);
	putch(w, '\n');
	if (w->om && unit) {
		lit(w, "# UNIT ");
		put(w, name, n);
		putch(w, ' ');
		puts_(w, unit);
		putch(w, '\n');
	}
}

/* ---- per-cgroup label sets --------------------------------------------- */

struct labels {
	struct prom_buf buf;
	size_t *off;		/* cgroup i's set is buf.data[off[i] .. off[i + 1]) */
};

static const char *basename_(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* id="/path",name=..,cgroup_id=..,kind=..[,runtime,image,container_id,
 * namespace,pod,container,qos when known] -- no braces. */
static void label_set(struct pw *w, const struct cg_sample *c)
{
	const struct cg_identity *id = &c->ident;
	const char *path = c->path ? c->path : "";
	char num[24], *p = num + sizeof(num);
	uint64_t v = c->id;

	lit(w, "id=\"/");
	put_label_value(w, path);
	putch(w, '"');
	put_label(w, false, "name", id->name ? id->name : basename_(path));
	*--p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_label(w, false, "cgroup_id", p);
	put_label(w, false, "kind", cg_kind_name(id->kind));
	if (cg_runtime_name(id->runtime))
		put_label(w, false, "runtime", cg_runtime_name(id->runtime));
	if (id->image)
		put_label(w, false, "image", id->image);
	if (id->container_id)
		put_label(w, false, "container_id", id->container_id);
	if (id->k8s_namespace)
		put_label(w, false, "namespace", id->k8s_namespace);
	if (id->k8s_pod)
		put_label(w, false, "pod", id->k8s_pod);
	if (id->k8s_container)
		put_label(w, false, "container", id->k8s_container);
	if (cg_qos_name(id->qos))
		put_label(w, false, "qos", cg_qos_name(id->qos));
}

static int labels_build(struct labels *l, const struct cg_snapshot *s)
{
	struct pw w = { .b = &l->buf };

	l->off = malloc((s->nr_samples + 1) * sizeof(*l->off));
	if (!l->off)
		return -ENOMEM;
	for (size_t i = 0; i < s->nr_samples; i++) {
		l->off[i] = l->buf.len;
		label_set(&w, &s->samples[i]);
	}
	l->off[s->nr_samples] = l->buf.len;
	return w.err;
}

static void labels_free(struct labels *l)
{
	prom_buf_free(&l->buf);
	free(l->off);
}

/* name{<cgroup i's labels> -- extra labels, '}' and the value follow. */
static void sample_start(struct pw *w, const char *name, size_t name_len,
			 const struct labels *l, size_t i)
{
	put(w, name, name_len);
	putch(w, '{');
	put(w, l->buf.data + l->off[i], l->off[i + 1] - l->off[i]);
}

/* name<suffix>{<cgroup i's labels> (histogram series: _bucket, _sum, _count) */
static void hist_start(struct pw *w, const char *name, size_t name_len, const char *suffix,
		       const struct labels *l, size_t i)
{
	put(w, name, name_len);
	puts_(w, suffix);
	putch(w, '{');
	put(w, l->buf.data + l->off[i], l->off[i + 1] - l->off[i]);
}

/* ---- per-cgroup families: the metric table's exported rows --------------- */

enum unit { U_INT, U_USEC, U_NSEC };	/* as is; usec or nsec printed as seconds */

static void put_value(struct pw *w, enum unit u, uint64_t v)
{
	if (u == U_USEC)
		put_usec_as_sec(w, v);
	else if (u == U_NSEC)
		put_nsec_as_sec(w, v);
	else
		put_u64(w, v);
}

static enum unit prom_unit(const struct metric_prom *p)
{
	return p->scale == PS_USEC ? U_USEC : p->scale == PS_NSEC ? U_NSEC : U_INT;
}

/* The presence tests a row's value passes through: its own and its
 * objects'. Worked out once per family, then tried per cgroup. */
struct prom_chain {
	const struct metric_def *m;
	const struct metric_def *up[4];
	int nr_up;
};

static void prom_chain(enum metric_id id, struct prom_chain *ch)
{
	const struct metric_tree *t = metric_tree();

	ch->m = &metric_defs[id];
	ch->nr_up = 0;
	for (int p = t->parent[id]; p >= 0 && ch->nr_up < 4; p = t->parent[p])
		ch->up[ch->nr_up++] = &metric_defs[p];
}

/* A row's value for Prometheus, cAdvisor's transforms applied; false: no
 * sample. */
static bool prom_value(const struct cg_sample *c, const struct prom_chain *ch, uint64_t *out)
{
	const struct metric_def *m = ch->m;
	struct metric_val v;

	if (m->vtype == MV_NONE || !metric_own_present(c, m))
		return false;
	for (int k = 0; k < ch->nr_up; k++)
		if (!metric_own_present(c, ch->up[k]))
			return false;
	metric_read(c, m, &v);
	switch (m->prom.xform) {
	case PX_SKIP_MAX:
		/* cAdvisor writes no quota sample for an unlimited cgroup. */
		if (v.u == CG_UNLIMITED)
			return false;
		break;
	case PX_MAX_ZERO:
		if (v.u == CG_UNLIMITED)
			v.u = 0;
		break;
	case PX_SHARES:
		/* runc maps shares to weight as 1 + (shares - 2) * 9999 / 262142;
		 * cAdvisor on cgroup v2 reports its inverse. */
		if (v.u < 1 || v.u > 10000)
			return false;
		v.u = 2 + (v.u - 1) * 262142 / 9999;
		break;
	}
	*out = v.u;
	return true;
}

/* Closes a sample's label set: the row's extra labels, then the value. */
static void sample_end(struct pw *w, const struct metric_prom *p, enum unit u, uint64_t v)
{
	if (p->labels) {
		putch(w, ',');
		puts_(w, p->labels);
	}
	lit(w, "} ");
	put_value(w, u, v);
	putch(w, '\n');
}

static void render_simple(struct pw *w, const struct cg_snapshot *s, const struct labels *l,
			  enum metric_id id)
{
	const struct metric_prom *p = &metric_defs[id].prom;
	size_t n = strlen(p->name);
	struct prom_chain ch;

	prom_chain(id, &ch);
	for (size_t i = 0; i < s->nr_samples && !w->err; i++) {
		uint64_t v;

		if (!prom_value(&s->samples[i], &ch, &v))
			continue;
		sample_start(w, p->name, n, l, i);
		sample_end(w, p, prom_unit(p), v);
	}
}

/* cAdvisor's device label ("/dev/vda"); "MAJ:MIN" when the name is unknown
 * or an earlier device of this cgroup had it (two series must never share a
 * label set). */
static void put_device(struct pw *w, const struct cg_sample *c, uint32_t i)
{
	const char *name = c->io[i].name;
	bool unique = name && name[0];

	for (uint32_t j = 0; unique && j < i; j++)
		if (c->io[j].name && strcmp(c->io[j].name, name) == 0)
			unique = false;
	lit(w, ",device=\"");
	if (unique) {
		lit(w, "/dev/");
		put_label_value(w, name);
	} else {
		put_u64(w, c->io[i].major);
		putch(w, ':');
		put_u64(w, c->io[i].minor);
	}
	putch(w, '"');
}

static void render_io(struct pw *w, const struct cg_snapshot *s, const struct labels *l,
		      enum metric_id id)
{
	const struct metric_prom *p = &metric_defs[id].prom;
	size_t n = strlen(p->name);

	for (size_t i = 0; i < s->nr_samples && !w->err; i++) {
		const struct cg_sample *c = &s->samples[i];

		if (!metric_present(c, id) || !c->io)
			continue;
		for (uint32_t d = 0; d < c->nr_io; d++) {
			struct metric_val v;

			if (!metric_read_dev(&c->io[d], id, &v))
				continue;
			sample_start(w, p->name, n, l, i);
			put_device(w, c, d);
			sample_end(w, p, prom_unit(p), v.u);
		}
	}
}

/*
 * Run-queue latency as a Prometheus histogram. The eBPF side counts delays
 * in log2 buckets of microseconds: bucket i holds delays d (usec, truncated)
 * with 2^i <= d + 1 < 2^(i+1), so every delay in buckets 0..i was shorter
 * than 2^(i+1) - 1 usec, an exact "le" bound. Every second bound is kept
 * (a factor of 4: 3 us, 15 us, ... 16.8 s, then +Inf): 15 series per cgroup
 * with _sum and _count instead of 34, which matters at 10,000 cgroups, and
 * every bound is still exact.
 */
#define RUNQ_FIRST_LE 1		/* bucket whose upper bound is the first le */
#define RUNQ_LAST_LE 23		/* 2^24 - 1 usec = 16.8 s */

static void render_runq(struct pw *w, const struct cg_snapshot *s, const struct labels *l,
			enum metric_id id)
{
	const char *name = metric_defs[id].prom.name;
	const size_t n = strlen(name);

	for (size_t i = 0; i < s->nr_samples && !w->err; i++) {
		const struct cg_bpf *b = &s->samples[i].bpf;
		uint64_t cum = 0, total = 0;
		int next = 0;

		if (!metric_present(&s->samples[i], id))
			continue;
		for (int k = 0; k < CG_RUNQ_BUCKETS; k++)
			total += b->runq_hist[k];
		for (int le = RUNQ_FIRST_LE; le <= RUNQ_LAST_LE; le += 2) {
			while (next <= le)
				cum += b->runq_hist[next++];
			hist_start(w, name, n, "_bucket", l, i);
			lit(w, ",le=\"");
			put_usec_as_sec(w, (2ull << le) - 1);
			lit(w, "\"} ");
			put_u64(w, cum);
			putch(w, '\n');
		}
		hist_start(w, name, n, "_bucket", l, i);
		lit(w, ",le=\"+Inf\"} ");
		put_u64(w, total);
		putch(w, '\n');
		/* The count is the buckets' total, not runq_count: the two are
		 * bumped separately and a read can land between them, and a
		 * histogram whose +Inf bucket differs from its count is invalid. */
		hist_start(w, name, n, "_sum", l, i);
		lit(w, "} ");
		put_nsec_as_sec(w, b->runq_sum_ns);
		putch(w, '\n');
		hist_start(w, name, n, "_count", l, i);
		lit(w, "} ");
		put_u64(w, total);
		putch(w, '\n');
	}
}

/* Every exported row of the metric table, in table order. Rows of one
 * family (container_memory_failures_total's failure types) are adjacent and
 * share its HELP and TYPE. */
static void render_table(struct pw *w, const struct cg_snapshot *s, const struct labels *l)
{
	static const enum ptype types[] = {
		[PT_COUNTER] = T_COUNTER, [PT_GAUGE] = T_GAUGE, [PT_HISTOGRAM] = T_HISTOGRAM,
	};
	const char *last = NULL;

	for (int i = 0; i < M__COUNT && !w->err; i++) {
		const struct metric_def *m = &metric_defs[i];

		if (!m->prom.name)
			continue;
		if (!last || strcmp(last, m->prom.name) != 0)
			family(w, m->prom.name, types[m->prom.type], m->prom.help);
		last = m->prom.name;
		if (m->kind == MK_HIST)
			render_runq(w, s, l, (enum metric_id)i);
		else if (m->kind == MK_DEV_KEY)
			render_io(w, s, l, (enum metric_id)i);
		else
			render_simple(w, s, l, (enum metric_id)i);
	}
}

/* ---- host and self ----------------------------------------------------- */

/* A family with one unlabelled sample (or none when !have). */
static void single(struct pw *w, const char *name, enum ptype type, const char *help,
		   bool have, enum unit u, uint64_t v)
{
	family(w, name, type, help);
	if (!have)
		return;
	puts_(w, name);
	putch(w, ' ');
	put_value(w, u, v);
	putch(w, '\n');
}

static void render_host_self(struct pw *w, const struct cg_snapshot *s)
{
	const struct cg_self *me = &s->self;
	const struct cg_host *h = &s->host;

	single(w, "machine_cpu_cores", T_GAUGE, "Number of online CPUs.",
	       h->cpus > 0, U_INT, h->cpus);
	single(w, "machine_memory_bytes", T_GAUGE, "Amount of memory installed (MemTotal).",
	       h->have & CG_HOST_MEMINFO, U_INT, h->mem_total_bytes);
	single(w, "cgwarden_collect_seconds", T_GAUGE, "Wall time the last collection took.",
	       true, U_USEC, me->collect_usec);
	single(w, "cgwarden_cgroups", T_GAUGE, "Cgroups seen by the last collection.",
	       true, U_INT, me->cgroups);
	single(w, "cgwarden_files_read_total", T_COUNTER, "Cgroup files read since start.",
	       true, U_INT, me->files_read_total);
	single(w, "cgwarden_kept_fds", T_GAUGE, "Cgroup files kept open across collections.",
	       true, U_INT, me->kept_fds);
	single(w, "cgwarden_fd_budget", T_GAUGE, "How many files may be kept open.",
	       true, U_INT, me->fd_budget);
	single(w, "cgwarden_reopened_files", T_GAUGE,
	       "Files opened in the last collection for lack of fd budget.",
	       true, U_INT, me->reopened_files);
	single(w, "cgwarden_bpf_enabled", T_GAUGE, "1 when the eBPF counters are on.",
	       true, U_INT, me->bpf);
	single(w, "cgwarden_bpf_run_seconds_total", T_COUNTER,
	       "Run time of cgwarden's eBPF programs (kernel BPF stats, --bpf-stats).",
	       me->bpf_run_time_known, U_NSEC, me->bpf_run_time_ns);
	single(w, "cgwarden_bpf_map_entries", T_GAUGE, "Cgroups with an entry in the eBPF stats map.",
	       me->bpf, U_INT, me->bpf_map_entries);
	single(w, "cgwarden_bpf_map_max_entries", T_GAUGE, "Size of the eBPF stats map.",
	       me->bpf, U_INT, me->bpf_map_max);
	single(w, "cgwarden_bpf_iter_enabled", T_GAUGE,
	       "1 when the BPF cgroup iterator filled the last collection.", true, U_INT, me->iter);
	single(w, "cgwarden_bpf_iter_walk_seconds", T_GAUGE,
	       "Time of the last BPF cgroup-iterator walk (kernel side).",
	       me->iter, U_USEC, me->iter_walk_usec);
	single(w, "cgwarden_slow_tier_every_ticks", T_GAUGE,
	       "memory.stat, io.stat and the process lists are read every this many ticks (0: not wanted).",
	       true, U_INT, me->slow_every);
	single(w, "cgwarden_last_collect_timestamp_seconds", T_GAUGE,
	       "When the snapshot being served was taken (Unix time).",
	       s->wall_usec > 0, U_USEC, s->wall_usec);
	single(w, "process_cpu_seconds_total", T_COUNTER,
	       "Total user and system CPU time spent by cgwarden.", true, U_USEC, me->cpu_usec);
	single(w, "process_resident_memory_bytes", T_GAUGE, "Resident memory size of cgwarden.",
	       me->rss_bytes > 0, U_INT, me->rss_bytes);
}

/* An info metric, Prometheus style (like prometheus_build_info): always 1,
 * the facts in its labels, so a query can join on them. */
static void render_build_info(struct pw *w)
{
	static const char name[] = "cgwarden_build_info";
	size_t n;
	const struct build_lib *libs = version_libs(&n);

	family(w, name, T_GAUGE,
	       "1, labelled with the version, git revision and library versions of this build.");
	lit(w, name);
	putch(w, '{');
	put_label(w, true, "version", version_string());
	put_label(w, false, "revision", version_revision());
	for (size_t i = 0; i < n; i++)
		put_label(w, false, libs[i].label, libs[i].built);
	lit(w, "} 1\n");
}

static void render_policy(struct pw *w, const struct prom_policy_count *pc, size_t n)
{
	static const char name[] = "cgwarden_policy_actions_total";

	family(w, name, T_COUNTER, "Policy actions taken, by rule, action and result.");
	for (size_t i = 0; i < n && !w->err; i++) {
		lit(w, name);
		putch(w, '{');
		put_label(w, true, "rule", pc[i].rule ? pc[i].rule : "");
		put_label(w, false, "action", pc[i].action ? pc[i].action : "");
		put_label(w, false, "result", pc[i].result ? pc[i].result : "");
		lit(w, "} ");
		put_u64(w, pc[i].count);
		putch(w, '\n');
	}
}

/* The adaptive controller's figures, with each cgroup's own labels and the
 * rule's: an entry whose cgroup is not in this snapshot (gone since the
 * policy saw it) writes nothing. */
static void render_adaptive(struct pw *w, const struct cg_snapshot *s, const struct labels *l,
			    const struct prom_adaptive *a, size_t n)
{
	static const struct { const char *name, *help; } fam[] = {
		{ "cgwarden_adaptive_memory_high_bytes",
		  "memory.high the adaptive controller set last (cgwarden-policy(5))." },
		{ "cgwarden_adaptive_pressure_ratio",
		  "Share of wall time the cgroup stalled on memory (some) over the controller's "
		  "last interval." },
		{ "cgwarden_adaptive_held_back_bytes",
		  "Highest memory.current under adaptive control minus the current one." },
	};
	struct idmap ids = { 0 };

	/* The families are written with or without cgroups under control; the
	 * snapshot is indexed only when there is one to find (the daemon's
	 * usual case is none, and it renders on every tick's first scrape). */
	if (n && (s->nr_samples >= IDMAP_NONE || idmap_reserve(&ids, (uint32_t)s->nr_samples))) {
		w->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; n && i < s->nr_samples; i++)
		idmap_put(&ids, s->samples[i].id, (uint32_t)i);
	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]) && !w->err; f++) {
		family(w, fam[f].name, T_GAUGE, fam[f].help);
		for (size_t k = 0; k < n && !w->err; k++) {
			uint32_t i = idmap_get(&ids, a[k].cgroup_id);

			if (i == IDMAP_NONE || (f == 1 && a[k].pressure_pct < 0))
				continue;
			sample_start(w, fam[f].name, strlen(fam[f].name), l, i);
			put_label(w, false, "rule", a[k].rule);
			lit(w, "} ");
			if (f == 0)
				put_u64(w, a[k].high_bytes);
			else if (f == 1)	/* percent to a ratio, to the millionth */
				put_fixed(w, (uint64_t)(a[k].pressure_pct * 1e4 + 0.5), 6, 1000000);
			else
				put_u64(w, a[k].held_back_bytes);
			putch(w, '\n');
		}
	}
	idmap_free(&ids);
}

static void render_record(struct pw *w, const struct prom_record *r)
{
	single(w, "cgwarden_record_ticks_total", T_COUNTER,
	       "Ticks the flight recorder wrote to its store.", true, U_INT, r->ticks);
	single(w, "cgwarden_record_ticks_dropped_total", T_COUNTER,
	       "Ticks the flight recorder dropped while the disk was full.", true, U_INT,
	       r->ticks_dropped);
	single(w, "cgwarden_record_written_bytes_total", T_COUNTER,
	       "Bytes the flight recorder wrote (compressed, with headers and index).", true,
	       U_INT, r->written_bytes);
	single(w, "cgwarden_record_store_bytes", T_GAUGE,
	       "Size of the flight recorder's store on disk (retention keeps it under its cap).",
	       true, U_INT, r->store_bytes);
	single(w, "cgwarden_record_paused", T_GAUGE,
	       "1 while the flight recorder waits for disk space.", true, U_INT, r->paused);
	single(w, "cgwarden_record_stopped", T_GAUGE,
	       "1 when the flight recorder has stopped for good (its store failed).", true, U_INT,
	       r->stopped);
}

/* ---- entry points ------------------------------------------------------ */

int prom_render(struct prom_buf *b, const struct cg_snapshot *s, enum prom_format fmt,
		const struct prom_policy_count *policy, size_t nr_policy)
{
	struct prom_extra x = { .policy = policy, .nr_policy = nr_policy };

	if (!policy && nr_policy) {
		if (b)
			b->len = 0;
		return -EINVAL;
	}
	return prom_render_extra(b, s, fmt, &x);
}

int prom_render_extra(struct prom_buf *b, const struct cg_snapshot *s, enum prom_format fmt,
		      const struct prom_extra *x)
{
	const struct prom_policy_count *policy = x ? x->policy : NULL;
	size_t nr_policy = x ? x->nr_policy : 0;

	struct pw w = { .b = b, .om = fmt == PROM_OPENMETRICS };
	struct labels l = { 0 };

	if (!b)
		return -EINVAL;
	b->len = 0;
	if (!s || (!s->samples && s->nr_samples) || (!policy && nr_policy) ||
	    (fmt != PROM_TEXT && fmt != PROM_OPENMETRICS))
		return -EINVAL;
	w.err = labels_build(&l, s);
	render_host_self(&w, s);
	if (x && x->build_info)
		render_build_info(&w);
	render_table(&w, s, &l);
	if (policy)
		render_policy(&w, policy, nr_policy);
	if (x && x->adaptive)
		render_adaptive(&w, s, &l, x->adaptive, x->nr_adaptive);
	if (x && x->record)
		render_record(&w, x->record);
	if (w.om)
		lit(&w, "# EOF\n");
	labels_free(&l);
	if (w.err) {
		b->len = 0;
		return w.err;
	}
	b->data[b->len] = '\0';
	return 0;
}

/* The q of one media range's parameters ("; version=1.0.0; q=0.5"): 1 when
 * absent, 0 when unreadable. */
static double accept_q(const char *params, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (params[i] != ';')
			continue;
		size_t j = i + 1;

		while (j < n && (params[j] == ' ' || params[j] == '\t'))
			j++;
		if (j + 1 < n && (params[j] == 'q' || params[j] == 'Q') && params[j + 1] == '=') {
			char tmp[16];
			size_t k = 0;

			for (j += 2; j < n && k < sizeof(tmp) - 1 &&
				     ((params[j] >= '0' && params[j] <= '9') || params[j] == '.'); j++)
				tmp[k++] = params[j];
			tmp[k] = '\0';
			return k ? strtod(tmp, NULL) : 0;
		}
	}
	return 1;
}

enum prom_format prom_negotiate(const char *accept)
{
	static const char om[] = "application/openmetrics-text";
	const char *p = accept;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		if (len >= sizeof(om) - 1 && strncasecmp(p, om, sizeof(om) - 1) == 0 &&
		    (len == sizeof(om) - 1 || p[sizeof(om) - 1] == ';' ||
		     p[sizeof(om) - 1] == ' ') &&
		    accept_q(p + sizeof(om) - 1, len - (sizeof(om) - 1)) > 0)
			return PROM_OPENMETRICS;
		p = end ? end + 1 : NULL;
	}
	return PROM_TEXT;
}

bool prom_accepts_gzip(const char *accept_encoding)
{
	const char *p = accept_encoding;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p), n;

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		n = strcspn(p, ";, \t");
		if (n > len)
			n = len;
		/* "gzip", or "*" (any coding), with a q above 0. */
		if (((n == 4 && strncasecmp(p, "gzip", 4) == 0) || (n == 1 && *p == '*')) &&
		    accept_q(p + n, len - n) > 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

const char *prom_content_type(enum prom_format fmt)
{
	return fmt == PROM_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
				       : "text/plain; version=0.0.4; charset=utf-8";
}
