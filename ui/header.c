// SPDX-License-Identifier: GPL-2.0-only
/* The dashboard's header: the clock (or a replay's recorded time), host
 * CPU, memory and swap bars, host PSI, counts, interval, eBPF, and what
 * the collector itself costs. */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "crt.h"
#include "format.h"
#include "ui.h"

/* "LABEL[bar   text]" in w columns; the bar's colour says how full. */
static void bar(int y, int x, int w, const char *label, double frac, const char *text, bool utf8)
{
	char b[512];
	int inner = w - (int)strlen(label) - 2 - (int)strlen(text) - 1;
	int style = !(frac >= 0) ? STYLE_DIM : frac >= 0.9 ? STYLE_CRIT :
		    frac >= 0.7 ? STYLE_WARN : STYLE_OK;

	if (inner < 1)
		inner = 1;
	ui_put(y, x, crt_attr(STYLE_TITLE), label, w);
	x += (int)strlen(label);
	ui_put(y, x, A_NORMAL, "[", 1);
	fmt_bar(frac, inner, utf8, b, sizeof(b));
	ui_put(y, x + 1, crt_attr(style), b, inner);
	ui_put(y, x + 1 + inner, A_NORMAL, " ", 1);
	ui_put(y, x + 2 + inner, A_NORMAL, text, (int)strlen(text));
	ui_put(y, x + 2 + inner + (int)strlen(text), A_NORMAL, "]", 1);
}

static void psi_text(const struct cg_host *h, enum cg_psi_resource r, uint32_t bit,
		     char *out, size_t outlen)
{
	if ((h->have & bit) && h->psi[r].have_some)
		fmt_psi(h->psi[r].some.avg10, out, outlen);
	else
		snprintf(out, outlen, "-");
}

/* top --replay: the recorded time where the clock was, in reverse video so
 * that nobody takes it for now (the detail view shows it too). */
void header_replay_draw(struct screen *s, int w)
{
	static const char title[] = "cgwarden top  ";
	const struct cg_snapshot *snap = s->snap;
	char where[128], rest[128];
	int x = (int)strlen(title), n;

	fmt_replay_where(snap->wall_usec, snap->seq, s->replay->end_usec, where, sizeof(where));
	if (s->playing)
		snprintf(rest, sizeof(rest), "  playing %ux  eBPF %s", s->speed,
			 snap->self.bpf ? "on" : "off");
	else
		snprintf(rest, sizeof(rest), "  paused (space plays)  eBPF %s",
			 snap->self.bpf ? "on" : "off");
	ui_put(0, 0, crt_attr(STYLE_TITLE), title, w);
	n = (int)strlen(where);
	ui_put(0, x, crt_attr(STYLE_WARN) | A_REVERSE, where, w - x);
	if (w > x + n)
		ui_put(0, x + n, crt_attr(STYLE_TITLE), rest, w - x - n);
}

void header_draw(struct screen *s)
{
	const struct cg_snapshot *snap = s->snap;
	const struct cg_host *h = &snap->host;
	const struct cg_self *self = &snap->self;
	char line[512], a[FMT_CELL_MAX], b[FMT_CELL_MAX], c[FMT_CELL_MAX], d[FMT_CELL_MAX];
	char clock[16] = "";
	time_t t = (time_t)(snap->wall_usec / 1000000);
	struct tm tm;
	int w = COLS, bw;
	size_t nctr = 0, npod = 0, nsvc = 0;
	double cpu = NAN, v;

	if (s->replay) {
		header_replay_draw(s, w);
	} else {
		if (localtime_r(&t, &tm))
			strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
		fmt_usec((double)s->interval->get(s->interval->ctx), a, sizeof(a));
		snprintf(line, sizeof(line), "cgwarden top  %s  interval %s  eBPF %s%s%s", clock,
			 a, self->bpf ? "on" : "off",
			 s->dry_run ? "  DRY RUN (actions write nothing)" : "",
			 s->paused ? "  [PAUSED]" : "");
		ui_put(0, 0, crt_attr(STYLE_TITLE), line, w);
	}

	/* Host CPU: the root cgroup's usage over the online CPUs. */
	for (size_t i = 0; i < snap->nr_samples; i++) {
		const struct cg_sample *x = &snap->samples[i];

		if (!x->path[0] && col_value(x, COL_CPU, &v) && h->cpus)
			cpu = v / h->cpus;
		nctr += x->ident.kind == CG_KIND_CONTAINER;
		npod += x->ident.kind == CG_KIND_POD;
		nsvc += x->ident.kind == CG_KIND_SERVICE;
	}
	bw = w / 3;
	if (cpu >= 0) {
		fmt_pct(cpu, a, sizeof(a));
		snprintf(line, sizeof(line), "%s%% of %u", a, h->cpus);
	} else {
		snprintf(line, sizeof(line), "- of %u", h->cpus);
	}
	bar(1, 0, bw - 1, "CPU ", cpu / 100, line, s->utf8);
	if (h->have & CG_HOST_MEMINFO) {
		uint64_t used = h->mem_total_bytes - h->mem_available_bytes;
		uint64_t sused = h->swap_total_bytes - h->swap_free_bytes;

		fmt_bytes(used, a, sizeof(a));
		fmt_bytes(h->mem_total_bytes, b, sizeof(b));
		snprintf(line, sizeof(line), "%s/%s", a, b);
		bar(1, bw, bw - 1, "MEM ", h->mem_total_bytes ?
		    (double)used / (double)h->mem_total_bytes : NAN, line, s->utf8);
		fmt_bytes(sused, a, sizeof(a));
		fmt_bytes(h->swap_total_bytes, b, sizeof(b));
		snprintf(line, sizeof(line), "%s/%s", a, b);
		bar(1, 2 * bw, w - 2 * bw, "SWP ", h->swap_total_bytes ?
		    (double)sused / (double)h->swap_total_bytes : NAN, line, s->utf8);
	} else {
		bar(1, bw, bw - 1, "MEM ", NAN, "-", s->utf8);
		bar(1, 2 * bw, w - 2 * bw, "SWP ", NAN, "-", s->utf8);
	}

	psi_text(h, CG_PSI_CPU, CG_HOST_PSI_CPU, a, sizeof(a));
	psi_text(h, CG_PSI_MEMORY, CG_HOST_PSI_MEMORY, b, sizeof(b));
	psi_text(h, CG_PSI_IO, CG_HOST_PSI_IO, c, sizeof(c));
	snprintf(line, sizeof(line),
		 "PSI some avg10%%: cpu %s  mem %s  io %s    cgroups %zu  containers %zu  "
		 "pods %zu  services %zu", a, b, c, snap->nr_samples, nctr, npod, nsvc);
	ui_put(2, 0, A_NORMAL, line, w);

	fmt_usec((double)self->collect_usec, a, sizeof(a));
	fmt_bytes(self->rss_bytes, b, sizeof(b));
	if (s->self_cpu_pct >= 0)
		fmt_pct(s->self_cpu_pct, c, sizeof(c));
	else
		snprintf(c, sizeof(c), "-");
	fmt_count(self->files_read, d, sizeof(d));
	snprintf(line, sizeof(line), "self: tick %s, %s files, cpu %s%%, rss %s, fds %llu/%llu%s",
		 a, d, c, b, (unsigned long long)self->kept_fds,
		 (unsigned long long)self->fd_budget,
		 self->reopened_files ? " (over budget: reopening)" : "");
	ui_put(3, 0, crt_attr(STYLE_DIM), line, w);
}
