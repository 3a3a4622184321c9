// SPDX-License-Identifier: GPL-2.0-only
/* The detail view: every metric of one cgroup, its limits, memory.stat and
 * memory.events, history graphs since the dashboard started, and recent
 * events. Scrolls; only the lines on screen are drawn. */
#include <curses.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "crt.h"
#include "format.h"
#include "limitval.h"
#include "metrics.h"
#include "ui.h"

struct pen {
	struct screen *s;
	int y;		/* virtual line, before scrolling */
	int top, bottom;	/* screen lines we may use */
};

static void line(struct pen *p, int attr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void line(struct pen *p, int attr, const char *fmt, ...)
{
	char buf[1024];
	int sy = p->top + p->y - p->s->detail_scroll;
	va_list ap;

	p->y++;
	if (sy < p->top || sy >= p->bottom)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ui_put(sy, 1, attr, buf, COLS - 1);
}

/* "12.3%", or "-" when absent. */
static void pct(bool have, double v, char *out, size_t outlen)
{
	if (!have) {
		snprintf(out, outlen, "-");
		return;
	}
	fmt_pct(v, out, outlen);
	strncat(out, "%", outlen - strlen(out) - 1);
}

/* A row of the metric table as the detail view shows it, formatted by its
 * unit: "-" when absent, "max" for an unlimited limit. */
static void cell(const struct cg_sample *x, enum metric_id id, char *out, size_t outlen)
{
	const struct metric_def *m = &metric_defs[id];
	struct metric_val v;

	if (!metric_get(x, id, &v)) {
		snprintf(out, outlen, "-");
		return;
	}
	if (m->kind == MK_LIMIT && v.u == CG_UNLIMITED) {
		snprintf(out, outlen, "max");
		return;
	}
	switch (m->unit) {
	case MU_RATIO:
		pct(true, v.d * 100, out, outlen);
		break;
	case MU_BYTES:
		fmt_bytes(v.u, out, outlen);
		break;
	case MU_BYTES_PER_SEC:
		fmt_bytes_rate(v.d, out, outlen);
		break;
	case MU_USEC:
	case MU_USEC_P:
		fmt_usec(v.d, out, outlen);
		break;
	case MU_PERCENT:
		fmt_psi((uint32_t)v.u, out, outlen);
		break;
	case MU_PER_SEC:
		fmt_count((uint64_t)v.d, out, outlen);
		break;
	default:
		fmt_count(v.u, out, outlen);
	}
}

/* The raw number ("%llu"), for counts the detail view shows unabridged. */
static void raw_count(const struct cg_sample *x, enum metric_id id, char *out, size_t outlen)
{
	struct metric_val v;

	if (metric_get(x, id, &v))
		snprintf(out, outlen, "%llu", (unsigned long long)v.u);
	else
		snprintf(out, outlen, "-");
}

static void graphs(struct pen *p, const struct cg_sample *x)
{
	static const char *const names[HIST__COUNT] = {
		"CPU %", "memory", "io r+w/s", "net rx+tx/s"
	};
	const struct hist_entry *e = history_get(p->s->hist, x->id);
	char buf[HIST_POINTS * 4 + 1], mx[FMT_CELL_MAX];
	uint64_t secs;

	if (!e || !e->n) {
		line(p, crt_attr(STYLE_DIM), "History: none yet%s",
		     e ? "" : " (not tracked: over the history's cgroup limit)");
		return;
	}
	secs = (p->s->snap->mono_usec - e->first_mono_usec) / 1000000;
	line(p, crt_attr(STYLE_TITLE), "History (since %llum%02llus ago, one column = %u tick%s)",
	     (unsigned long long)(secs / 60), (unsigned long long)(secs % 60), e->step,
	     e->step == 1 ? "" : "s");
	for (int k = 0; k < HIST__COUNT; k++) {
		double max = 0;
		bool any = false;

		for (int i = 0; i < e->n; i++)
			if (!isnan(e->v[k][i])) {
				any = true;
				if (e->v[k][i] > max)
					max = e->v[k][i];
			}
		if (!any) {
			line(p, crt_attr(STYLE_DIM), "  %-12s -", names[k]);
			continue;
		}
		if (k == HIST_CPU) {
			if (max < 100)
				max = 100;
			fmt_pct(max, mx, sizeof(mx));
		} else {
			fmt_bytes_rate(max, mx, sizeof(mx));
		}
		for (int r = 0; r < 2; r++) {
			fmt_graph_row(e->v[k], e->n, max, r, 2, p->s->utf8, buf, sizeof(buf));
			line(p, crt_attr(STYLE_OK), "  %-12s|%s| %s",
			     r == 0 ? names[k] : "", buf, r == 0 ? mx : "0");
		}
	}
}

static void events(struct pen *p, uint64_t id)
{
	struct screen *s = p->s;
	size_t first = s->nr_ev > UI_EVENTS ? s->nr_ev - UI_EVENTS : 0;
	int shown = 0;

	line(p, crt_attr(STYLE_TITLE), "Recent events");
	for (size_t i = s->nr_ev; i > first; i--) {
		const struct ui_event *e = &s->ev[(i - 1) % UI_EVENTS];
		time_t t = (time_t)(e->wall_usec / 1000000);
		struct tm tm;
		char clock[16] = "";

		if (e->id != id)
			continue;
		if (localtime_r(&t, &tm))
			strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
		line(p, A_NORMAL, "  %s  %s", clock, e->text);
		shown++;
	}
	if (!shown)
		line(p, crt_attr(STYLE_DIM), s->replay ? "  none in the replayed time" :
		     "  none since the dashboard started");
}

/* One resource's pressure: its row of the table (M_PSI_CPU, ...) and the
 * some and full lines under it, each an object row and its four fields. */
static void psi_line(struct pen *p, const struct cg_sample *x, enum metric_id res)
{
	const char *name = metric_leaf(&metric_defs[res]);
	char a[8][FMT_CELL_MAX];

	if (!metric_present(x, res + 1)) {
		line(p, A_NORMAL, "  %-7s -", name);
		return;
	}
	for (int k = 0; k < 8; k++) {
		enum metric_id id = res + 2 + (k / 4) * 5 + k % 4;
		struct metric_val v;

		if (!metric_get(x, id, &v))
			snprintf(a[k], sizeof(a[k]), "-");
		else if (metric_defs[id].kind == MK_PSI_AVG)
			fmt_psi((uint32_t)v.u, a[k], sizeof(a[k]));
		else
			fmt_usec(v.d, a[k], sizeof(a[k]));
	}
	line(p, A_NORMAL, "  %-7s some %5s %5s %5s total %-7s  full %5s %5s %5s total %s",
	     name, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
}

/* Several "key value" pairs per line: the value rows under the table's
 * object row obj that are bytes (bytes) or counts (!bytes). */
static void keyed(struct pen *p, const struct cg_sample *x, enum metric_id obj, bool bytes)
{
	char buf[1024], val[FMT_CELL_MAX];
	size_t o = 0;
	int per = COLS > 40 ? (COLS - 2) / 34 : 1;
	int col = 0;

	buf[0] = '\0';
	for (int k = obj + 1; k < M__COUNT && metric_under((enum metric_id)k, obj); k++) {
		const struct metric_def *m = &metric_defs[k];
		struct metric_val v;

		if ((m->unit == MU_BYTES) != bytes || !metric_get(x, (enum metric_id)k, &v))
			continue;
		if (bytes)
			fmt_bytes(v.u, val, sizeof(val));
		else
			fmt_count(v.u, val, sizeof(val));
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "  %-24s %6s  ", metric_leaf(m), val);
		if (++col == per || o > sizeof(buf) - 80) {
			line(p, A_NORMAL, "%s", buf);
			o = 0;
			col = 0;
			buf[0] = '\0';
		}
	}
	if (o)
		line(p, A_NORMAL, "%s", buf);
}

/* The memory.stat or memory.events section: bytes first, then counts. */
static void keyed_section(struct pen *p, const struct cg_sample *x, enum metric_id obj)
{
	line(p, crt_attr(STYLE_TITLE), "%s", metric_defs[obj].id);
	if (!metric_present(x, obj)) {
		line(p, A_NORMAL, "  -");
		return;
	}
	keyed(p, x, obj, true);
	keyed(p, x, obj, false);
}

static void body(struct pen *p, const struct cg_sample *x)
{
	struct screen *s = p->s;
	const struct cg_identity *id = &x->ident;
	struct metric_val v1, v2;
	char a[FMT_CELL_MAX], b[FMT_CELL_MAX], c[FMT_CELL_MAX], d[FMT_CELL_MAX], e[FMT_CELL_MAX];
	char name[512], path[2048];
	double v = 0;

	fmt_sanitize(row_name(x, false), !s->utf8, name, sizeof(name));
	fmt_sanitize(x->path[0] ? x->path : "/", !s->utf8, path, sizeof(path));
	line(p, crt_attr(STYLE_TITLE), "%s  (%s%s%s)  cgroup id %llu", name,
	     cg_kind_name(id->kind), cg_runtime_name(id->runtime) ? ", " : "",
	     cg_runtime_name(id->runtime) ? cg_runtime_name(id->runtime) : "",
	     (unsigned long long)x->id);
	line(p, A_NORMAL, "path      %s", path);
	if (id->container_id) {
		fmt_sanitize(id->container_id, true, path, sizeof(path));
		line(p, A_NORMAL, "container %s", path);
	}
	if (id->image) {
		fmt_sanitize(id->image, !s->utf8, path, sizeof(path));
		line(p, A_NORMAL, "image     %s", path);
	}
	if (id->k8s_namespace || id->k8s_pod) {
		char ns[256], pod[256], ct[256];

		fmt_sanitize(id->k8s_namespace ? id->k8s_namespace : "-", !s->utf8, ns, sizeof(ns));
		fmt_sanitize(id->k8s_pod ? id->k8s_pod : "-", !s->utf8, pod, sizeof(pod));
		fmt_sanitize(id->k8s_container ? id->k8s_container : "-", !s->utf8, ct, sizeof(ct));
		line(p, A_NORMAL, "k8s       namespace %s  pod %s  container %s  qos %s", ns, pod, ct,
		     cg_qos_name(id->qos) ? cg_qos_name(id->qos) : "-");
	}
	{
		struct metric_val pop, frz;
		bool ev = metric_get(x, M_POPULATED, &pop) && metric_get(x, M_FROZEN, &frz);

		cell(x, M_PROCS, a, sizeof(a));
		cell(x, M_THREADS, b, sizeof(b));
		line(p, A_NORMAL, "state     %s%s  procs %s  threads %s",
		     !ev ? "-" : pop.u ? "populated" : "empty", ev && frz.u ? ", FROZEN" : "", a, b);
	}
	line(p, A_NORMAL, "%s", "");

	line(p, crt_attr(STYLE_TITLE), "CPU");
	cell(x, M_CPU_USAGE_RATIO, a, sizeof(a));
	cell(x, M_CPU_USER_RATIO, b, sizeof(b));
	cell(x, M_CPU_SYSTEM_RATIO, c, sizeof(c));
	cell(x, M_CPU_THROTTLED_RATIO, d, sizeof(d));
	line(p, ui_level_attr(col_level(x, COL_CPU)),
	     "  usage %s (100%% = one CPU)  user %s  system %s  throttled %s of periods",
	     a, b, c, d);
	if (metric_get(x, M_CPU_USAGE_USEC, &v1)) {
		char f[FMT_CELL_MAX];

		cell(x, M_CPU_USAGE_USEC, a, sizeof(a));
		cell(x, M_CPU_THROTTLED_USEC, b, sizeof(b));
		raw_count(x, M_CPU_NR_PERIODS, c, sizeof(c));
		raw_count(x, M_CPU_NR_THROTTLED, d, sizeof(d));
		raw_count(x, M_CPU_NR_BURSTS, f, sizeof(f));
		line(p, A_NORMAL, "  total %s  periods %s  throttled %s (%s)  bursts %s",
		     a, c, d, b, f);
	}
	if (!metric_get(x, M_CPU_MAX_QUOTA, &v1) || !metric_get(x, M_CPU_MAX_PERIOD, &v2))
		snprintf(a, sizeof(a), "-");
	else if (v1.u == CG_UNLIMITED)
		snprintf(a, sizeof(a), "max (no limit)");
	else
		snprintf(a, sizeof(a), "%.2f CPUs", (double)v1.u / (double)(v2.u ? v2.u : 1));
	raw_count(x, M_CPU_WEIGHT, b, sizeof(b));
	line(p, A_NORMAL, "  limit cpu.max %s  cpu.weight %s", a, b);
	line(p, A_NORMAL, "%s", "");

	line(p, crt_attr(STYLE_TITLE), "Memory");
	cell(x, M_MEM_CURRENT, a, sizeof(a));
	cell(x, M_MEM_PEAK, b, sizeof(b));
	if (col_value(x, COL_MEMPCT, &v))
		pct(true, v, c, sizeof(c));
	else
		snprintf(c, sizeof(c), "-");
	line(p, ui_level_attr(col_level(x, COL_MEM)),
	     "  current %s (%s of max)  peak %s", a, c, b);
	cell(x, M_MEM_MAX, a, sizeof(a));
	cell(x, M_MEM_HIGH, b, sizeof(b));
	cell(x, M_MEM_LOW, c, sizeof(c));
	cell(x, M_MEM_MIN, d, sizeof(d));
	line(p, A_NORMAL, "  limits max %s  high %s  low %s  min %s", a, b, c, d);
	/* The squeeze (the policy's adaptive memory.high, or anyone's): a
	 * memory.high under the cgroup's peak holds that much back. */
	if ((x->have & CG_HAVE_MEM_HIGH) && x->mem_high != CG_UNLIMITED &&
	    metric_get(x, M_MEM_PEAK, &v1) && v1.u > x->mem_high) {
		fmt_bytes(v1.u - x->mem_high, a, sizeof(a));
		pct(true, 100.0 * (double)x->mem_high / (double)v1.u, b, sizeof(b));
		line(p, crt_attr(STYLE_WARN), "  squeezed: memory.high is %s of the peak, %s "
		     "held back below it", b, a);
	}
	cell(x, M_MEM_SWAP_CURRENT, a, sizeof(a));
	cell(x, M_MEM_SWAP_MAX, b, sizeof(b));
	cell(x, M_MEM_PGFAULT_RATE, c, sizeof(c));
	cell(x, M_MEM_PGMAJFAULT_RATE, d, sizeof(d));
	line(p, A_NORMAL, "  swap %s of %s  faults/s %s  major/s %s", a, b, c, d);
	line(p, A_NORMAL, "%s", "");

	line(p, crt_attr(STYLE_TITLE), "Pressure (%% of time stalled: avg10 avg60 avg300)");
	psi_line(p, x, M_PSI_CPU);
	psi_line(p, x, M_PSI_MEMORY);
	psi_line(p, x, M_PSI_IO);
	line(p, A_NORMAL, "%s", "");

	line(p, crt_attr(STYLE_TITLE), "IO, tasks, network, scheduler");
	for (uint32_t i = 0; i < x->nr_io; i++) {
		const struct cg_io_dev *dv = &x->io[i];
		static const enum metric_id keys[4] = { M_IO_DEV_RBYTES, M_IO_DEV_WBYTES,
							M_IO_DEV_RIOS, M_IO_DEV_WIOS };
		char *out[4] = { a, b, c, d };
		char dn[64];

		fmt_sanitize(dv->name ? dv->name : "", true, dn, sizeof(dn));
		for (int k = 0; k < 4; k++) {
			if (!metric_read_dev(dv, keys[k], &v1))
				snprintf(out[k], FMT_CELL_MAX, "-");
			else if (metric_defs[keys[k]].unit == MU_BYTES)
				fmt_bytes(v1.u, out[k], FMT_CELL_MAX);
			else
				fmt_count(v1.u, out[k], FMT_CELL_MAX);
		}
		line(p, A_NORMAL, "  io %u:%u %-8s read %s (%s ios)  written %s (%s ios)",
		     dv->major, dv->minor, dn, a, c, b, d);
	}
	if (metric_present(x, M_IO_READ_BYTES_RATE) && metric_present(x, M_IO_WRITE_BYTES_RATE)) {
		cell(x, M_IO_READ_BYTES_RATE, a, sizeof(a));
		cell(x, M_IO_WRITE_BYTES_RATE, b, sizeof(b));
		line(p, A_NORMAL, "  io read %s/s  write %s/s", a, b);
	} else if (!x->nr_io) {
		line(p, A_NORMAL, "  io -");
	}
	if (metric_present(x, M_PIDS_CURRENT)) {
		cell(x, M_PIDS_CURRENT, a, sizeof(a));
		cell(x, M_PIDS_MAX, b, sizeof(b));
		line(p, ui_level_attr(col_level(x, COL_PIDS)), "  pids %s of %s", a, b);
	} else {
		line(p, A_NORMAL, "  pids -");
	}
	if (metric_present(x, M_NET_RX_BYTES_RATE)) {
		cell(x, M_NET_RX_BYTES_RATE, a, sizeof(a));
		cell(x, M_NET_TX_BYTES_RATE, b, sizeof(b));
		cell(x, M_NET_RX_BYTES, c, sizeof(c));
		cell(x, M_NET_TX_BYTES, d, sizeof(d));
		line(p, A_NORMAL, "  net rx %s/s tx %s/s (total rx %s tx %s)", a, b, c, d);
	} else {
		line(p, A_NORMAL, "  net -%s", s->snap->self.bpf ? "" : " (eBPF off)");
	}
	cell(x, M_SCHED_RUNQ_P50, a, sizeof(a));
	cell(x, M_SCHED_RUNQ_P99, b, sizeof(b));
	cell(x, M_SCHED_CTX_SWITCHES_RATE, c, sizeof(c));
	line(p, A_NORMAL, "  run-queue latency p50 %s p99 %s  context switches/s %s", a, b, c);
	if (metric_present(x, M_PROC)) {
		cell(x, M_PROC_FORKS, a, sizeof(a));
		cell(x, M_PROC_EXECS, b, sizeof(b));
		cell(x, M_PROC_EXITS, c, sizeof(c));
		cell(x, M_OOM_KILLS, e, sizeof(e));
		line(p, A_NORMAL, "  forks %s  execs %s  exits %s  OOM kills %s", a, b, c, e);
	}
	line(p, A_NORMAL, "%s", "");

	graphs(p, x);
	line(p, A_NORMAL, "%s", "");
	keyed_section(p, x, M_MEMEVENTS);
	keyed_section(p, x, M_MEMSTAT);
	line(p, A_NORMAL, "%s", "");
	events(p, x->id);
}

void detail_draw(struct screen *s)
{
	const struct cg_sample *x = snapshot_find_id(s->snap, s->sel_id);
	struct pen p = { .s = s, .top = 0, .bottom = LINES - 1 };

	/* A replay keeps its recorded time in sight while it steps. */
	if (s->replay) {
		header_replay_draw(s, COLS);
		p.top = 1;
	}
	if (!x) {
		line(&p, crt_attr(STYLE_CRIT), "This cgroup is gone (removed, or not in this view).");
		line(&p, A_NORMAL, "%s", "");
		events(&p, s->sel_id);
		return;
	}
	body(&p, x);
	/* Do not scroll past the end. */
	if (s->detail_scroll > p.y - (p.bottom - p.top))
		s->detail_scroll = p.y - (p.bottom - p.top) > 0 ? p.y - (p.bottom - p.top) : 0;
}
