// SPDX-License-Identifier: GPL-2.0-only
/* Pure formatting for the dashboard (see format.h). */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>
#include "cli.h"
#include "format.h"
#include "reccodec.h"
#include "textesc.h"

/* v scaled by base until it is below 1000 (so at most three digits before a
 * unit); one decimal while below 10. */
static void fmt_scaled(double v, double base, const char *units, char *out, size_t outlen)
{
	int u = -1;

	if (v < 999.5) {
		snprintf(out, outlen, "%.0f", v);
		return;
	}
	while (v >= 999.5 && units[u + 1]) {
		v /= base;
		u++;
	}
	if (v < 9.95)
		snprintf(out, outlen, "%.1f%c", v, units[u]);
	else
		snprintf(out, outlen, "%.0f%c", v, units[u]);
}

void fmt_bytes(uint64_t v, char *out, size_t outlen)
{
	fmt_scaled((double)v, 1024, "KMGTPE", out, outlen);
}

void fmt_bytes_rate(double v, char *out, size_t outlen)
{
	if (!(v >= 0)) {
		snprintf(out, outlen, "-");
		return;
	}
	fmt_scaled(v, 1024, "KMGTPE", out, outlen);
}

void fmt_count(uint64_t v, char *out, size_t outlen)
{
	fmt_scaled((double)v, 1000, "kMGTPE", out, outlen);
}

void fmt_pct(double pct, char *out, size_t outlen)
{
	if (!(pct >= 0))
		snprintf(out, outlen, "-");
	else if (pct < 99.95)
		snprintf(out, outlen, "%.1f", pct);
	else if (pct < 99999.5)
		snprintf(out, outlen, "%.0f", pct);
	else
		snprintf(out, outlen, "99999");
}

void fmt_psi(uint32_t v, char *out, size_t outlen)
{
	if (v < 1000)
		snprintf(out, outlen, "%u.%02u", v / 100, v % 100);
	else if (v < 10000)
		snprintf(out, outlen, "%u.%u", v / 100, v % 100 / 10);
	else
		snprintf(out, outlen, "%u", v / 100);
}

void fmt_usec(double us, char *out, size_t outlen)
{
	if (!(us >= 0))
		snprintf(out, outlen, "-");
	else if (us < 999.5)
		snprintf(out, outlen, "%.0fus", us);
	else if (us < 9950)
		snprintf(out, outlen, "%.1fms", us / 1e3);
	else if (us < 999.5e3)
		snprintf(out, outlen, "%.0fms", us / 1e3);
	else if (us < 9.95e6)
		snprintf(out, outlen, "%.1fs", us / 1e6);
	else
		snprintf(out, outlen, "%.0fs", us / 1e6);
}

const char *fmt_kind_short(enum cg_kind k)
{
	switch (k) {
	case CG_KIND_CONTAINER: return "ctr";
	case CG_KIND_POD: return "pod";
	case CG_KIND_SERVICE: return "svc";
	case CG_KIND_SCOPE: return "scope";
	case CG_KIND_SLICE: return "slice";
	case CG_KIND_SESSION: return "sess";
	default: return "cgrp";
	}
}

/* One strict UTF-8 sequence of the NUL-terminated s (the NUL ends any
 * sequence): its length and code point, or 0 if invalid. */
static int utf8_decode(const unsigned char *s, uint32_t *cp)
{
	return (int)text_utf8_decode(s, strnlen((const char *)s, 4), cp);
}

size_t fmt_sanitize(const char *in, bool ascii, char *out, size_t outlen)
{
	return text_escape(in, ascii, out, outlen);
}

static int cp_width(uint32_t cp)
{
	int w = cp < 0x80 ? 1 : wcwidth((wchar_t)cp);

	/* Unknown to this locale: terminals mostly draw one cell. */
	return w < 0 ? 1 : w;
}

int fmt_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int w = 0;

	while (*p) {
		uint32_t cp;
		int len = utf8_decode(p, &cp);

		if (!len) {
			len = 1;
			cp = '?';
		}
		w += cp_width(cp);
		p += len;
	}
	return w;
}

size_t fmt_fit(const char *s, int width, bool left, bool utf8, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *mark = utf8 ? "\xe2\x80\xa6" : "~";
	size_t o = 0, mlen = strlen(mark);
	int w = 0, total = fmt_width(s), pad;
	bool cut = total > width;
	int room = cut ? width - 1 : width;	/* columns for text */

	if (!outlen)
		return 0;
	if (width <= 0) {
		out[0] = '\0';
		return 0;
	}
	pad = cut ? 0 : width - total;
	if (!left)
		for (; pad > 0 && o + 1 < outlen; pad--)
			out[o++] = ' ';
	while (*p) {
		uint32_t cp;
		int len = utf8_decode(p, &cp), cw;

		if (!len) {
			len = 1;
			cp = '?';
		}
		cw = cp_width(cp);
		if (w + cw > room)
			break;
		if (o + (size_t)len >= outlen)
			break;
		if (cp == '?' && *p != '?')
			out[o++] = '?';
		else {
			memcpy(out + o, p, (size_t)len);
			o += (size_t)len;
		}
		w += cw;
		p += len;
	}
	if (cut) {
		/* A wide character that did not fit leaves a gap before the mark. */
		for (; w < room && o + 1 < outlen; w++)
			out[o++] = ' ';
		if (o + mlen < outlen) {
			memcpy(out + o, mark, mlen);
			o += mlen;
		}
	}
	for (; pad > 0 && o + 1 < outlen; pad--)
		out[o++] = ' ';
	out[o] = '\0';
	return o;
}

size_t fmt_fit_tail(const char *s, int width, bool utf8, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *mark = utf8 ? "\xe2\x80\xa6" : "~";
	size_t mlen = strlen(mark);
	int rest = fmt_width(s);

	if (rest <= width || width <= 0 || outlen <= mlen)
		return fmt_fit(s, width, true, utf8, out, outlen);
	/* Drop characters from the front until the rest fits beside the mark
	 * (a wide one dropped may leave a column over: fmt_fit pads it). */
	while (*p && rest > width - 1) {
		uint32_t cp;
		int len = utf8_decode(p, &cp);

		if (!len) {
			len = 1;
			cp = '?';
		}
		rest -= cp_width(cp);
		p += len;
	}
	memcpy(out, mark, mlen);
	return mlen + fmt_fit((const char *)p, width - 1, true, utf8, out + mlen, outlen - mlen);
}

int fmt_fit_columns(const struct fmt_col *cols, size_t n, int total, bool *shown)
{
	int used = 0, nshown = 0, flex = -1;

	for (size_t i = 0; i < n; i++) {
		shown[i] = true;
		used += cols[i].flex ? cols[i].min : cols[i].width;
		nshown++;
		if (cols[i].flex)
			flex = (int)i;
	}
	while (used + nshown - 1 > total) {
		int drop = -1;

		for (size_t i = 0; i < n; i++)
			if (shown[i] && cols[i].prio > 0 && !cols[i].flex &&
			    (drop < 0 || cols[i].prio >= cols[drop].prio))
				drop = (int)i;
		if (drop < 0)
			break;
		shown[drop] = false;
		used -= cols[drop].width;
		nshown--;
	}
	if (flex < 0)
		return 0;
	/* The flex column takes what is left (its min is already in used). */
	int w = cols[flex].min + (total - (used + nshown - 1));

	return w < cols[flex].min ? (cols[flex].min < total ? cols[flex].min : total) : w;
}

size_t fmt_bar(double frac, int width, bool utf8, char *out, size_t outlen)
{
	static const char *const eighth[8] = {
		"", "\xe2\x96\x8f", "\xe2\x96\x8e", "\xe2\x96\x8d", "\xe2\x96\x8c",
		"\xe2\x96\x8b", "\xe2\x96\x8a", "\xe2\x96\x89",
	};
	size_t o = 0;
	int cells, col = 0;

	if (!outlen)
		return 0;
	if (!(frac > 0))
		frac = 0;
	if (frac > 1)
		frac = 1;
	if (width < 0)
		width = 0;
	cells = (int)(frac * width * 8 + 0.5);	/* in eighths */
	for (; col < width; col++) {
		const char *c = " ";
		int left = cells - col * 8;

		if (left >= 8)
			c = utf8 ? "\xe2\x96\x88" : "|";
		else if (left > 0)
			c = utf8 ? eighth[left] : (left >= 4 ? "|" : " ");
		size_t l = strlen(c);

		if (o + l >= outlen)
			break;
		memcpy(out + o, c, l);
		o += l;
	}
	out[o] = '\0';
	return o;
}

size_t fmt_graph_row(const float *v, size_t n, double max, int row, int rows, bool utf8,
		     char *out, size_t outlen)
{
	static const char *const level[9] = {
		" ", "\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
		"\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88",
	};
	size_t o = 0;

	if (!outlen)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *c = " ";

		if (!isnan(v[i]) && max > 0) {
			double f = v[i] / max;
			int h, l;

			if (f < 0)
				f = 0;
			if (f > 1)
				f = 1;
			h = (int)(f * rows * 8 + 0.5);
			/* A non-zero value always shows a sliver on the bottom row. */
			if (h == 0 && v[i] > 0)
				h = 1;
			l = h - (rows - 1 - row) * 8;
			l = l < 0 ? 0 : l > 8 ? 8 : l;
			c = utf8 ? level[l] : (l >= 8 ? "#" : l > 0 ? "." : " ");
		}
		size_t len = strlen(c);

		if (o + len >= outlen)
			break;
		memcpy(out + o, c, len);
		o += len;
	}
	out[o] = '\0';
	return o;
}

bool fmt_match(const char *hay, const char *needle)
{
	size_t nl = needle ? strlen(needle) : 0;

	if (!nl)
		return true;
	if (!hay)
		return false;
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, nl) == 0)
			return true;
	return false;
}

/* ---- top --replay ------------------------------------------------------- */

void fmt_span(uint64_t usec, char *out, size_t outlen)
{
	uint64_t s = usec / 1000000;

	if (s < 10 && usec % 1000000 >= 100000)
		snprintf(out, outlen, "%" PRIu64 ".%" PRIu64 "s", s, usec % 1000000 / 100000);
	else if (s < 60)
		snprintf(out, outlen, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(out, outlen, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, outlen, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s % 3600 / 60);
	else
		snprintf(out, outlen, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s % 86400 / 3600);
}

void fmt_replay_where(uint64_t wall_usec, uint64_t seq, uint64_t end_usec, char *out,
		      size_t outlen)
{
	char when[32], back[FMT_CELL_MAX];

	/* cli_format_time rounds up: typed back into 'g', it is this tick. */
	cli_format_time(wall_usec, when, sizeof(when));
	if (wall_usec >= end_usec) {
		snprintf(out, outlen, "REPLAY %s (tick %" PRIu64 ", the end)", when, seq);
		return;
	}
	fmt_span(end_usec - wall_usec, back, sizeof(back));
	snprintf(out, outlen, "REPLAY %s (tick %" PRIu64 ", -%s from end)", when, seq, back);
}

double fmt_memevents_ooms(const struct cg_snapshot *snap, const struct cg_sample *x)
{
	if (!(x->rate.have & CG_RATE_MEM_EVENTS))
		return 0;
	return x->rate.oom_kill_per_sec * (double)snap->interval_usec / 1e6;
}

/* The path of a cgroup of the tick (or of one that went in it), for text
 * about it; "" is the root. */
static const char *event_path(const struct cg_snapshot *snap, uint64_t id, char *buf,
			      size_t len)
{
	const struct cg_sample *x = snapshot_find_id(snap, id);

	for (size_t i = 0; !x && i < snap->nr_removed; i++)
		if (snap->removed[i].id == id)
			x = &snap->removed[i];
	if (x)
		return x->path[0] ? x->path : "/";
	snprintf(buf, len, "cgroup id %" PRIu64, id);
	return buf;
}

/* memory.events counts a kill in every ancestor too: the deepest cgroup
 * that counted one says where. Children come after their parent; only the
 * few cgroups that counted a kill are asked. */
static bool child_ooms(const struct cg_snapshot *snap, size_t i)
{
	for (size_t k = i + 1; k < snap->nr_samples; k++)
		if (snap->samples[k].parent == (int32_t)i &&
		    fmt_memevents_ooms(snap, &snap->samples[k]) >= 0.5)
			return true;
	return false;
}

struct ev_text {
	char *out;
	size_t outlen, len;
	unsigned more;
};

static void ev_add(struct ev_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends one event, whole or not at all: a cut path would read as another
 * cgroup's. What does not fit is counted for "(+N more)", with room kept
 * for that. */
static void ev_add(struct ev_text *t, const char *fmt, ...)
{
	char one[1024];
	const char *sep = t->len ? "; " : "";
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(one, sizeof(one), fmt, ap);
	va_end(ap);
	n = strlen(sep) + strlen(one);
	if (t->more || t->len + n + sizeof(" (+9999 more)") > t->outlen) {
		t->more++;
		return;
	}
	t->len += (size_t)snprintf(t->out + t->len, t->outlen - t->len, "%s%s", sep, one);
}

size_t fmt_rec_events(const struct cg_snapshot *snap, uint32_t events,
		      const struct rec_action *acts, size_t nr_acts, uint32_t kinds,
		      char *out, size_t outlen)
{
	struct ev_text t = { .out = out, .outlen = outlen };
	char idbuf[48];

	if (!outlen)
		return 0;
	out[0] = '\0';
	events &= kinds;
	if (events & REC_EV_OOM) {
		size_t before = t.len + t.more;

		for (size_t i = 0; i < snap->nr_oom; i++) {
			const struct cg_oom_event *e = &snap->oom[i];
			char comm[sizeof(e->comm) + 1];

			snprintf(comm, sizeof(comm), "%.*s", (int)sizeof(e->comm), e->comm);
			ev_add(&t, "oom_kill in %s (pid %u %s)", e->path ? e->path :
			       event_path(snap, e->cgroup_id, idbuf, sizeof(idbuf)), e->pid, comm);
		}
		for (size_t i = 0; !snap->nr_oom && i < snap->nr_samples; i++) {
			const struct cg_sample *x = &snap->samples[i];
			double n = fmt_memevents_ooms(snap, x);

			if (n >= 0.5 && !child_ooms(snap, i))
				ev_add(&t, "oom_kill in %s (memory.events)", x->path[0] ? x->path : "/");
		}
		if (t.len + t.more == before)
			ev_add(&t, "oom_kill");
	}
	for (size_t i = 0; (events & REC_EV_ACTION) && i < nr_acts; i++) {
		const struct rec_action *a = &acts[i];

		ev_add(&t, "policy_action %s%s on %s: %s%s (rule %s)", a->action ? a->action : "?",
		       a->restore ? " (restore)" : "",
		       event_path(snap, a->cgroup_id, idbuf, sizeof(idbuf)),
		       a->result ? a->result : "?", a->dry_run ? ", dry run" : "",
		       a->rule ? a->rule : "?");
	}
	for (size_t i = 0; (events & REC_EV_REMOVED) && i < snap->nr_removed; i++)
		ev_add(&t, "removed: %s", snap->removed[i].path);
	if (t.more)
		t.len += (size_t)snprintf(out + t.len, outlen - t.len, " (+%u more)", t.more);
	return t.len;
}
