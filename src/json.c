/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * JSON output: the `cgwarden snapshot` document and the `cgwarden stream`
 * NDJSON lines. The format is documented in man/cgwarden-json.7 and checked
 * by schema/cgwarden.schema.json; change all three together.
 *
 * Written directly into a staging buffer rather than built as json-c objects:
 * a tick holds up to 10,000 cgroups of ~160 values each, and building and
 * serializing one json-c object per value cost ~65 us per cgroup (0.65 s of
 * CPU per tick); writing them costs a few. json-c stays the reader (runtime
 * configs in json_read.c, the policy file later), where its tokenizer earns
 * its keep. Memory stays flat: the buffer is flushed every 64 KiB.
 *
 * Error handling: the first failure is kept in struct json_w.err and every
 * later write is a no-op, so the many optional fields need no error path.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgfile.h"
#include "json.h"
#include "json_records.h"
#include "limitval.h"
#include "metrics.h"
#include "utf8.h"

#define JSON_FLUSH_AT (64 * 1024)

struct json_w {
	FILE *out;
	bool pretty;
	bool comma;		/* the next member of the open container needs a ',' */
	unsigned depth;
	int err;		/* first failure, -errno */
	char *buf;
	size_t len, cap;

	/* --fields: inside a cgroup object only the selected members are
	 * written (json_select). sel_depth is the depth of that object's
	 * members (0: not in one), all_depth the depth from which everything
	 * is selected (0: none), skip the nesting inside an unselected
	 * container, prefix[d] the dotted path of depth d's container. */
	const struct json_fields *fields;
	unsigned sel_depth, all_depth, skip;
	char path[128];
	size_t prefix[16];
};

struct json_fields {
	size_t n;
	char **id;		/* "cpu", "memory.current_bytes", "psi.cpu" */
	size_t *len;		/* strlen(id[i]) */
};

/* Identity members of a cgroup object: kept whatever --fields says. */
static const char *const json_identity[] = {
	"id", "parent_id", "path", "depth", "name", "kind", "runtime", "container_id",
	"short_id", "image", "k8s",
};

const char *const *json_identity_members(size_t *n)
{
	*n = sizeof(json_identity) / sizeof(json_identity[0]);
	return json_identity;
}

static void json_fail(struct json_w *w, int err)
{
	if (!w->err)
		w->err = err;
}

/* ---- the staging buffer ----------------------------------------------- */

static void json_flush(struct json_w *w)
{
	if (w->len && !w->err && fwrite(w->buf, 1, w->len, w->out) != w->len)
		json_fail(w, errno ? -errno : -EIO);
	w->len = 0;
}

/* Room for n more bytes, or false (w->err set). */
static bool json_room(struct json_w *w, size_t n)
{
	if (w->err)
		return false;
	if (w->len + n <= w->cap)
		return true;
	if (w->len >= JSON_FLUSH_AT) {
		json_flush(w);
		if (w->err)
			return false;
		if (n <= w->cap)
			return true;
	}
	size_t cap = w->cap ? w->cap : 2 * JSON_FLUSH_AT;

	while (cap < w->len + n)
		cap *= 2;
	char *p = realloc(w->buf, cap);

	if (!p) {
		json_fail(w, -ENOMEM);
		return false;
	}
	w->buf = p;
	w->cap = cap;
	return true;
}

static void json_put(struct json_w *w, const char *s, size_t n)
{
	if (json_room(w, n)) {
		memcpy(w->buf + w->len, s, n);
		w->len += n;
	}
}

#define json_lit(w, s) json_put(w, s, sizeof(s) - 1)

static void json_putc(struct json_w *w, char c)
{
	if (json_room(w, 1))
		w->buf[w->len++] = c;
}

/* ---- strings ---------------------------------------------------------- */

/*
 * A JSON string that is always valid UTF-8 whatever bytes s holds (cgroup
 * directory names are arbitrary bytes): '"' and '\\' escaped, C0 controls
 * as \n \t ... or \u00XX, and U+007F and the C1 controls as \u escapes too
 * (JSON allows them raw, but a terminal acts on them and people do
 * `cgwarden stream | less`); each byte of invalid UTF-8 becomes U+FFFD.
 * '/' is left alone.
 */
size_t json_quote(const char *s, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, o = 0;

#define PUT(src, n) (memcpy(out + o, (src), (n)), o += (n))
	out[o++] = '"';
	while (i < len) {
		unsigned char c = p[i];
		size_t n;

		/* Plain printable ASCII is nearly every byte of a cgroup path. */
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			i++;
			run++;
			continue;
		}
		PUT(p + i - run, run);
		run = 0;
		n = utf8_seq_len(p + i, len - i);
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f || (n == 2 && c == 0xc2 && p[i + 1] <= 0x9f)) {
			unsigned cp = c == 0xc2 ? p[i + 1] : c;
			const char *short_esc = NULL;

			switch (cp) {
			case '\n': short_esc = "\\n"; break;
			case '\t': short_esc = "\\t"; break;
			case '\r': short_esc = "\\r"; break;
			case '\b': short_esc = "\\b"; break;
			case '\f': short_esc = "\\f"; break;
			}
			if (short_esc) {
				PUT(short_esc, 2);
			} else {
				PUT("\\u00", 4);
				out[o++] = hex[cp >> 4];
				out[o++] = hex[cp & 15];
			}
			if (!n)
				n = 1;
		} else if (n) {
			PUT(p + i, n);
		} else {
			PUT(UTF8_REPLACEMENT, 3);
			n = 1;
		}
		i += n;
	}
	PUT(p + i - run, run);
#undef PUT
	out[o++] = '"';
	return o;
}

static void json_string(struct json_w *w, const char *s)
{
	size_t len = strlen(s);

	if (json_room(w, JSON_QUOTED_MAX(len)))
		w->len += json_quote(s, len, w->buf + w->len);
}

static const char *json_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* ---- structure -------------------------------------------------------- */

static void json_indent(struct json_w *w)
{
	static const char spaces[] = "                                ";
	unsigned n = w->depth * 2;

	json_putc(w, '\n');
	while (n) {
		unsigned k = n < sizeof(spaces) - 1 ? n : (unsigned)sizeof(spaces) - 1;

		json_put(w, spaces, k);
		n -= k;
	}
}

static bool json_in(const char *const *set, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(set[i], key) == 0)
			return true;
	return false;
}

enum { SEL_NO, SEL_ALL, SEL_PART };

/* Whether member key of the open container is selected by --fields: all of
 * it (an id names it or one of its parents), part of it (an id names one of
 * its members), or not. */
static int json_select(struct json_w *w, const char *key)
{
	const struct json_fields *f = w->fields;
	char full[sizeof(w->path) + 64];
	size_t n, pre, klen;
	int sel = SEL_NO;

	if (!f || !w->sel_depth || w->depth < w->sel_depth || !key ||
	    (w->all_depth && w->depth >= w->all_depth))
		return SEL_ALL;
	if (w->depth == w->sel_depth &&
	    json_in(json_identity, sizeof(json_identity) / sizeof(json_identity[0]), key))
		return SEL_ALL;
	/* Runs for every member of every cgroup of a --fields tick: the
	 * dotted path is put together by hand, not by snprintf (a seventh
	 * of such a tick went there). */
	pre = w->prefix[w->depth];
	klen = strlen(key);
	if (pre + klen >= sizeof(full))
		return SEL_NO;
	memcpy(full, w->path, pre);
	memcpy(full + pre, key, klen + 1);
	n = pre + klen;
	for (size_t i = 0; i < f->n; i++) {
		size_t l = f->len[i];

		if (l <= n && memcmp(f->id[i], full, l) == 0 && (full[l] == '\0' || full[l] == '.'))
			return SEL_ALL;
		if (l > n && memcmp(f->id[i], full, n) == 0 && f->id[i][n] == '.')
			sel = SEL_PART;
	}
	return sel;
}

/* Starts a member (key != NULL, inside an object) or an array element.
 * false: --fields leaves it out, write nothing. */
static bool json_member(struct json_w *w, const char *key)
{
	if (w->skip || (w->fields && w->sel_depth && json_select(w, key) != SEL_ALL))
		return false;
	if (w->comma)
		json_putc(w, ',');
	if (w->pretty && w->depth)
		json_indent(w);
	if (key) {
		json_string(w, key);
		if (w->pretty)
			json_lit(w, ": ");
		else
			json_putc(w, ':');
	}
	w->comma = true;
	return true;
}

static void json_open(struct json_w *w, const char *key, char brace)
{
	int sel = SEL_ALL;

	if (w->skip) {
		w->skip++;
		return;
	}
	if (w->fields && w->sel_depth)
		sel = json_select(w, key);
	if (sel == SEL_NO) {
		w->skip = 1;
		return;
	}
	/* json_member would refuse a partly selected container. */
	if (sel == SEL_PART) {
		const struct json_fields *f = w->fields;

		w->fields = NULL;
		json_member(w, key);
		w->fields = f;
	} else {
		json_member(w, key);
	}
	json_putc(w, brace);
	w->depth++;
	w->comma = false;
	if (!w->fields || !w->sel_depth || w->depth >= sizeof(w->prefix) / sizeof(w->prefix[0]))
		return;
	if (sel == SEL_PART) {
		size_t at = w->prefix[w->depth - 1];
		int n = snprintf(w->path + at, sizeof(w->path) - at, "%s.", key);

		w->prefix[w->depth] = n > 0 && at + (size_t)n < sizeof(w->path) ? at + (size_t)n : at;
	} else if (!w->all_depth && w->depth > w->sel_depth) {
		w->all_depth = w->depth;
	}
}

static void json_close(struct json_w *w, char brace)
{
	bool had_members = w->comma;

	if (w->skip) {
		w->skip--;
		return;
	}
	if (w->all_depth == w->depth)
		w->all_depth = 0;
	w->depth--;
	if (w->pretty && had_members)
		json_indent(w);
	json_putc(w, brace);
	/* A closed top-level document is not followed by a sibling. */
	w->comma = w->depth > 0;
}

/* ---- values ----------------------------------------------------------- */

static void json_null(struct json_w *w, const char *key)
{
	if (json_member(w, key))
		json_lit(w, "null");
}

static void json_u64(struct json_w *w, const char *key, uint64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (json_member(w, key))
		json_put(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void json_u64_if(struct json_w *w, const char *key, bool have, uint64_t v)
{
	if (have)
		json_u64(w, key, v);
	else
		json_null(w, key);
}

static void json_str_opt(struct json_w *w, const char *key, const char *s)
{
	if (!s) {
		json_null(w, key);
		return;
	}
	if (json_member(w, key))
		json_string(w, s);
}

/* A limit: the number, "max" for CG_UNLIMITED, null when not read. */
static void json_limit(struct json_w *w, const char *key, bool have, uint64_t v)
{
	if (have && v == CG_UNLIMITED)
		json_str_opt(w, key, "max");
	else
		json_u64_if(w, key, have, v);
}

static void json_bool_if(struct json_w *w, const char *key, bool have, bool v)
{
	if (!json_member(w, key))
		return;
	if (!have)
		json_lit(w, "null");
	else if (v)
		json_lit(w, "true");
	else
		json_lit(w, "false");
}

/*
 * printf's "%g" writes the locale's decimal point, and the dashboard calls
 * setlocale(LC_ALL, "") for UTF-8: under de_DE "0.5" would come out "0,5",
 * which is not JSON. Put the '.' back.
 */
static void json_c_decimal_point(char *buf)
{
	const char *dp = localeconv()->decimal_point;
	size_t n;
	char *p;

	if (!dp || !dp[0] || (dp[0] == '.' && !dp[1]))
		return;
	p = strstr(buf, dp);
	if (!p)
		return;
	n = strlen(dp);
	*p = '.';
	memmove(p + 1, p + n, strlen(p + n) + 1);
}

/* A derived rate. Six significant digits hide binary-fraction noise
 * (0.30000000000000004); JSON has no NaN or infinity, so those are null. */
static void json_rate(struct json_w *w, const char *key, bool have, double v)
{
	char buf[40];

	if (!have || !isfinite(v)) {
		json_null(w, key);
		return;
	}
	/* Most rates of an idle cgroup are 0 and many are whole numbers; "%g"
	 * costs more than the rest of the value, and prints these the same. */
	if (v >= 0 && v < 1e6 && v == (double)(uint32_t)v) {
		json_u64(w, key, (uint32_t)v);
		return;
	}
	snprintf(buf, sizeof(buf), "%.6g", v);
	json_c_decimal_point(buf);
	if (json_member(w, key))
		json_put(w, buf, strlen(buf));
}

/* PSI averages are kept in hundredths, exactly as the kernel prints them;
 * writing the text ourselves keeps "39.78" from becoming 39.780000000000001. */
static void json_hundredths(struct json_w *w, const char *key, uint32_t v)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%u.%02u", v / 100, v % 100);

	if (json_member(w, key))
		json_put(w, buf, (size_t)n);
}

/* ---- the document ----------------------------------------------------- */

static void json_psi_line(struct json_w *w, const char *key, bool have,
			  const struct cg_psi_line *l)
{
	if (!have) {
		json_null(w, key);
		return;
	}
	json_open(w, key, '{');
	json_hundredths(w, "avg10", l->avg10);
	json_hundredths(w, "avg60", l->avg60);
	json_hundredths(w, "avg300", l->avg300);
	json_u64(w, "total_usec", l->total_usec);
	json_close(w, '}');
}

/* have[r]: whether psi[r] was read (host and cgroup use different bits). */
static void json_psi_set(struct json_w *w, const struct cg_psi *psi,
			 const bool have[CG_PSI__COUNT])
{
	json_open(w, "psi", '{');
	for (int r = 0; r < CG_PSI__COUNT; r++) {
		const char *name = cg_psi_resource_name(r);

		if (!have[r]) {
			json_null(w, name);
			continue;
		}
		json_open(w, name, '{');
		json_psi_line(w, "some", psi[r].have_some, &psi[r].some);
		json_psi_line(w, "full", psi[r].have_full, &psi[r].full);
		json_close(w, '}');
	}
	json_close(w, '}');
}

/* Any Kubernetes fact at all makes the object; its unknown members are null. */
static void json_k8s(struct json_w *w, const struct cg_identity *id)
{
	if (!id->pod_uid && id->qos == CG_QOS_NONE && id->runtime != CG_RT_KUBERNETES &&
	    !id->k8s_namespace && !id->k8s_pod && !id->k8s_container) {
		json_null(w, "k8s");
		return;
	}
	json_open(w, "k8s", '{');
	json_str_opt(w, "namespace", id->k8s_namespace);
	json_str_opt(w, "pod", id->k8s_pod);
	json_str_opt(w, "container", id->k8s_container);
	json_str_opt(w, "qos", cg_qos_name(id->qos));
	json_str_opt(w, "pod_uid", id->pod_uid);
	json_close(w, '}');
}

/* A device's key is its name, unless it has none or an earlier device of
 * this cgroup had the same one: then "MAJ:MIN", which the kernel never
 * repeats, so no device silently replaces another. */
static bool json_dev_name_usable(const struct cg_sample *c, uint32_t i)
{
	const char *name = c->io[i].name;

	if (!name || !name[0])
		return false;
	for (uint32_t j = 0; j < i; j++)
		if (c->io[j].name && strcmp(c->io[j].name, name) == 0)
			return false;
	return true;
}

/* io.devices: an object per device of the MK_DEV_KEY rows after row dev. */
static void json_devices(struct json_w *w, const struct cg_sample *c, int dev)
{
	json_open(w, metric_leaf(&metric_defs[dev]), '{');
	for (uint32_t i = 0; i < c->nr_io && c->io; i++) {
		const struct cg_io_dev *d = &c->io[i];
		char majmin[24];

		snprintf(majmin, sizeof(majmin), "%u:%u", d->major, d->minor);
		json_open(w, json_dev_name_usable(c, i) ? d->name : majmin, '{');
		for (int k = dev + 1; k < M__COUNT && metric_defs[k].kind == MK_DEV_KEY; k++) {
			struct metric_val v;

			if (metric_read_dev(d, (enum metric_id)k, &v))
				json_u64(w, metric_leaf(&metric_defs[k]), v.u);
		}
		json_close(w, '}');
	}
	json_close(w, '}');
}

/* Bucket i: delays of 2^i - 1 to 2^(i+1) - 1 usec; trailing empty buckets
 * are left out. */
static void json_runq_hist(struct json_w *w, const char *key, const struct cg_bpf *b)
{
	int last = -1;

	for (int i = 0; i < CG_RUNQ_BUCKETS; i++)
		if (b->runq_hist[i])
			last = i;
	json_open(w, key, '[');
	for (int i = 0; i <= last; i++)
		json_u64(w, NULL, b->runq_hist[i]);
	json_close(w, ']');
}

static void json_metric(struct json_w *w, const struct cg_sample *c, const struct metric_def *m,
			const char *key)
{
	struct metric_val v;
	bool have = metric_own_present(c, m);

	if (!have && (m->flags & MF_OMIT))
		return;
	if (have)
		metric_read(c, m, &v);
	else
		v = (struct metric_val){ 0 };
	switch (m->kind) {
	case MK_LIMIT:
		json_limit(w, key, have, v.u);
		break;
	case MK_RATE:
		json_rate(w, key, have, v.d);
		break;
	case MK_PSI_AVG:
		if (have)
			json_hundredths(w, key, (uint32_t)v.u);
		else
			json_null(w, key);
		break;
	case MK_BOOL:
		json_bool_if(w, key, have, v.u);
		break;
	default:
		json_u64_if(w, key, have, v.u);
	}
}

/* The metric members of a cgroup object: the table's rows in order, its
 * object rows opened as JSON objects (null, and their rows skipped, when
 * their presence test fails). Runs per cgroup per tick: it reads the
 * table's tree and presence tests directly. */
static void json_metrics(struct json_w *w, const struct cg_sample *c)
{
	const struct metric_tree *t = metric_tree();
	int open[8], depth = 0;

	for (int i = 0; i < M__COUNT;) {
		const struct metric_def *m = &metric_defs[i];
		const char *key = m->id + t->leaf[i];

		while (depth && open[depth - 1] != t->parent[i]) {
			json_close(w, '}');
			depth--;
		}
		switch (m->kind) {
		case MK_OBJECT:
			if (metric_own_present(c, m) && depth < (int)(sizeof(open) / sizeof(open[0]))) {
				unsigned skip = w->skip;

				json_open(w, key, '{');
				if (w->skip > skip) {
					/* --fields leaves it out: so are its rows. */
					w->skip = skip;
					i = t->end[i];
					continue;
				}
				open[depth++] = i++;
				continue;
			}
			json_null(w, key);
			i = t->end[i];
			continue;
		case MK_DEVICES:
			if (metric_own_present(c, m))
				json_devices(w, c, i);
			else
				json_null(w, key);
			i = t->end[i];
			continue;
		case MK_HIST:
			json_runq_hist(w, key, &c->bpf);
			break;
		default:
			json_metric(w, c, m, key);
		}
		i++;
	}
	while (depth--)
		json_close(w, '}');
}

/* One cgroup object, as an array element (key NULL) or a member. */
/* Fields carried from an earlier read of their file (the slow tier, read
 * every Nth tick for serve): which files, and how long before this
 * sample's read they were read. */
static void json_carried(struct json_w *w, const struct cg_sample *c)
{
	json_open(w, "carried", '{');
	json_open(w, "files", '[');
	for (uint32_t m = c->carried; m; m &= m - 1)
		json_str_opt(w, NULL, cg_files[__builtin_ctz(m)].name);
	json_close(w, ']');
	json_rate(w, "age_seconds", true, (double)c->carried_age_usec / 1e6);
	json_close(w, '}');
}

static void json_cgroup(struct json_w *w, const char *key, const struct cg_sample *c)
{
	const struct cg_identity *id = &c->ident;
	const char *path = c->path ? c->path : "";

	json_open(w, key, '{');
	if (w->fields) {
		w->sel_depth = w->depth;
		w->prefix[w->depth] = 0;
	}
	json_u64(w, "id", c->id);
	if (c->parent >= 0)
		json_u64(w, "parent_id", c->parent_id);
	json_str_opt(w, "path", path);
	json_u64(w, "depth", c->depth);
	json_str_opt(w, "name", id->name ? id->name : json_basename(path));
	json_str_opt(w, "kind", cg_kind_name(id->kind));
	json_str_opt(w, "runtime", cg_runtime_name(id->runtime));
	json_str_opt(w, "container_id", id->container_id);
	json_str_opt(w, "short_id", id->short_id);
	json_str_opt(w, "image", id->image);
	json_k8s(w, id);
	json_metrics(w, c);
	w->sel_depth = 0;
	if (c->carried && !w->fields)
		json_carried(w, c);
	json_close(w, '}');
}

static void json_host(struct json_w *w, const struct cg_host *h)
{
	bool mi = h->have & CG_HOST_MEMINFO;
	const bool psi[CG_PSI__COUNT] = {
		[CG_PSI_CPU] = h->have & CG_HOST_PSI_CPU,
		[CG_PSI_MEMORY] = h->have & CG_HOST_PSI_MEMORY,
		[CG_PSI_IO] = h->have & CG_HOST_PSI_IO,
	};

	json_open(w, "host", '{');
	json_u64(w, "cpus", h->cpus);
	json_u64_if(w, "mem_total_bytes", mi, h->mem_total_bytes);
	json_u64_if(w, "mem_available_bytes", mi, h->mem_available_bytes);
	json_u64_if(w, "swap_total_bytes", mi, h->swap_total_bytes);
	json_u64_if(w, "swap_free_bytes", mi, h->swap_free_bytes);
	json_psi_set(w, h->psi, psi);
	json_close(w, '}');
}

static void json_self(struct json_w *w, const struct cg_self *s)
{
	json_open(w, "self", '{');
	json_u64(w, "collect_usec", s->collect_usec);
	json_u64(w, "cgroups", s->cgroups);
	json_u64(w, "files_read", s->files_read);
	json_u64(w, "files_read_total", s->files_read_total);
	json_u64(w, "cpu_usec", s->cpu_usec);
	json_u64(w, "rss_bytes", s->rss_bytes);
	json_u64(w, "kept_fds", s->kept_fds);
	json_u64(w, "fd_budget", s->fd_budget);
	json_u64(w, "reopened_files", s->reopened_files);
	json_bool_if(w, "bpf", true, s->bpf);
	json_u64_if(w, "bpf_run_time_ns", s->bpf_run_time_known, s->bpf_run_time_ns);
	json_u64(w, "bpf_map_entries", s->bpf_map_entries);
	json_u64(w, "bpf_map_max", s->bpf_map_max);
	json_bool_if(w, "bpf_iter", true, s->iter);
	json_u64_if(w, "bpf_iter_walk_usec", s->iter, s->iter_walk_usec);
	json_u64(w, "bpf_iter_cgroups", s->iter_cgroups);
	json_u64(w, "slow_every", s->slow_every);
	json_u64_if(w, "dropped_lines", s->dropped_lines_known, s->dropped_lines);
	json_close(w, '}');
}

/* "fields": the --fields ids, on lines whose cgroup objects they cut. */
static void json_fields_member(struct json_w *w)
{
	if (!w->fields)
		return;
	json_open(w, "fields", '[');
	for (size_t i = 0; i < w->fields->n; i++)
		json_str_opt(w, NULL, w->fields->id[i]);
	json_close(w, ']');
}

/* The shared body of a snapshot and a tick line, '\n' included. */
static void json_body(struct json_w *w, const struct cg_snapshot *s, const char *type)
{
	json_open(w, NULL, '{');
	json_u64(w, "schema", CGWARDEN_JSON_SCHEMA_VERSION);
	json_str_opt(w, "type", type);
	json_u64(w, "seq", s->seq);
	json_u64(w, "time_usec", s->wall_usec);
	json_u64(w, "monotonic_usec", s->mono_usec);
	/* 0 means there was no previous snapshot: no interval, not a zero one. */
	json_u64_if(w, "interval_usec", s->interval_usec, s->interval_usec);
	json_str_opt(w, "root", s->root ? s->root : "");
	json_fields_member(w);
	json_host(w, &s->host);
	json_self(w, &s->self);
	json_open(w, "cgroups", '[');
	for (size_t i = 0; i < s->nr_samples && !w->err; i++)
		json_cgroup(w, NULL, &s->samples[i]);
	json_close(w, ']');
	json_close(w, '}');
	json_putc(w, '\n');
}

static void json_event(struct json_w *w, const struct cg_snapshot *s, const char *event,
		       const struct cg_sample *c)
{
	json_open(w, NULL, '{');
	json_u64(w, "schema", CGWARDEN_JSON_SCHEMA_VERSION);
	json_str_opt(w, "type", "event");
	json_str_opt(w, "event", event);
	json_u64(w, "seq", s->seq);
	json_u64(w, "time_usec", s->wall_usec);
	json_fields_member(w);
	json_cgroup(w, "cgroup", c);
	json_close(w, '}');
	json_putc(w, '\n');
}

/* An OOM victim seen by eBPF: who, and in which cgroup. */
static void json_oom_event(struct json_w *w, const struct cg_snapshot *s,
			   const struct cg_oom_event *e)
{
	char comm[sizeof(e->comm) + 1];

	memcpy(comm, e->comm, sizeof(e->comm));
	comm[sizeof(e->comm)] = '\0';
	json_open(w, NULL, '{');
	json_u64(w, "schema", CGWARDEN_JSON_SCHEMA_VERSION);
	json_str_opt(w, "type", "event");
	json_str_opt(w, "event", "oom_kill");
	json_u64(w, "seq", s->seq);
	json_u64(w, "time_usec", e->time_usec);
	json_u64(w, "cgroup_id", e->cgroup_id);
	json_str_opt(w, "path", e->path);
	json_u64(w, "pid", e->pid);
	json_str_opt(w, "comm", comm);
	json_close(w, '}');
	json_putc(w, '\n');
}

/* Writes out what is buffered and frees the buffer. A line that failed half
 * way (ENOMEM) is still ended, so a stream reader loses that line and not
 * the next one too. */
static int json_finish(struct json_w *w)
{
	int err = w->err;

	if (err && w->len) {
		w->err = 0;
		json_flush(w);
		fputc('\n', w->out);
		w->err = err;
	}
	json_flush(w);
	free(w->buf);
	w->buf = NULL;
	if (fflush(w->out) == EOF || ferror(w->out))
		json_fail(w, errno ? -errno : -EIO);
	return w->err;
}

static bool json_snapshot_ok(const struct cg_snapshot *s)
{
	return s && (s->samples || !s->nr_samples) && (s->removed || !s->nr_removed) &&
	       (s->added || !s->nr_added);
}

int json_write_snapshot(FILE *out, const struct cg_snapshot *s, bool pretty)
{
	struct json_w w = { .out = out, .pretty = pretty };

	if (!out || !json_snapshot_ok(s))
		return -EINVAL;
	errno = 0;	/* so a stream already in error reports -EIO, not a stale errno */
	json_body(&w, s, "snapshot");
	return json_finish(&w);
}

int json_write_stream_tick(FILE *out, const struct cg_snapshot *s)
{
	return json_write_stream_tick_fields(out, s, NULL);
}

int json_write_stream_tick_fields(FILE *out, const struct cg_snapshot *s,
				  const struct json_fields *fields)
{
	struct json_w w = { .out = out, .fields = fields };
	int lines = 0, err;

	if (!out || !json_snapshot_ok(s))
		return -EINVAL;
	/* Check every index before writing, so a bad one costs no half tick. */
	for (size_t i = 0; i < s->nr_added; i++)
		if (s->added[i] >= s->nr_samples)
			return -EINVAL;
	if (s->nr_added + s->nr_removed > (size_t)INT_MAX - 1)
		return -EOVERFLOW;
	errno = 0;
	/* Events go out before the tick that reports them, each line whole. */
	for (size_t i = 0; i < s->nr_added && !w.err; i++, lines++)
		json_event(&w, s, "cgroup_added", &s->samples[s->added[i]]);
	for (size_t i = 0; i < s->nr_removed && !w.err; i++, lines++)
		json_event(&w, s, "cgroup_removed", &s->removed[i]);
	for (size_t i = 0; i < s->nr_oom && s->oom && !w.err; i++, lines++)
		json_oom_event(&w, s, &s->oom[i]);
	json_body(&w, s, "tick");
	lines++;
	err = json_finish(&w);
	return err ? err : lines;
}

int json_write_audit(FILE *out, const struct act_audit *rec)
{
	const struct act_outcome *o = rec->o;
	struct json_w w = { .out = out };
	const char *result = o->dry_run && !o->err ? "dry-run" : o->refused ? "refused"
			     : o->err ? "failed" : "ok";

	if (!out || !rec || !o)
		return -EINVAL;
	errno = 0;
	json_open(&w, NULL, '{');
	json_u64(&w, "schema", CGWARDEN_JSON_SCHEMA_VERSION);
	json_str_opt(&w, "type", "audit");
	json_u64(&w, "time_usec", rec->time_usec);
	json_str_opt(&w, "who", rec->who ? rec->who : "");
	json_str_opt(&w, "target", rec->target ? rec->target : "");
	json_u64(&w, "target_id", rec->target_id);
	json_str_opt(&w, "file", o->file ? o->file : "");
	json_str_opt(&w, "old", o->old);
	json_str_opt(&w, "new", o->wrote);
	json_str_opt(&w, "now", o->now);
	json_str_opt(&w, "result", result);
	json_str_opt(&w, "why", o->why[0] ? o->why : NULL);
	json_bool_if(&w, "dry_run", true, o->dry_run);
	json_bool_if(&w, "cut_short", true, o->cut_short);
	json_close(&w, '}');
	json_putc(&w, '\n');
	return json_finish(&w);
}

/* ---- the policy daemon ---------------------------------------------------- */

/* The value a step sets, as text: "157286400", "max", "20000 100000". */
static void json_step_value(struct json_w *w, const struct pol_decision *d)
{
	char buf[64];

	switch (d->action) {
	case POL_MEMORY_HIGH:
	case POL_MEMORY_MAX:
	case POL_CPU_WEIGHT:
		limitval_format(d->value, buf, sizeof(buf));
		break;
	case POL_CPU_MAX:
		limitval_format(d->value, buf, sizeof(buf));
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %" PRIu64, d->period);
		break;
	default:
		json_null(w, "value");
		return;
	}
	json_str_opt(w, "value", buf);
}

static const char *const json_op_names[] = { ">", ">=", "<", "<=" };

int json_write_policy_action(FILE *out, const struct pol_decision *d, uint64_t time_usec,
			     uint64_t latency_usec)
{
	static const char *const guards[] = { "dry_run", "protected", "floor", "cooldown",
					      "budget", "not_leaf", "shared" };
	struct json_w w = { .out = out };

	if (!out || !d)
		return -EINVAL;
	errno = 0;
	json_open(&w, NULL, '{');
	json_u64(&w, "schema", CGWARDEN_JSON_SCHEMA_VERSION);
	json_str_opt(&w, "type", "policy_action");
	json_u64(&w, "time_usec", time_usec);
	json_str_opt(&w, "rule", d->rule);
	json_str_opt(&w, "target", d->path ? d->path : "");
	json_u64(&w, "target_id", d->cgroup_id);
	json_u64(&w, "step", (uint64_t)(d->step < 0 ? 0 : d->step));
	json_str_opt(&w, "action", policy_action_name(d->action));
	json_bool_if(&w, "restore", true, d->restore);
	json_step_value(&w, d);
	json_open(&w, "guards", '[');
	for (size_t i = 0; i < sizeof(guards) / sizeof(guards[0]); i++)
		if (d->guards & (1u << i))
			json_str_opt(&w, NULL, guards[i]);
	json_close(&w, ']');
	json_bool_if(&w, "dry_run", true, d->dry_run);
	json_str_opt(&w, "result", d->result[0] ? d->result : "pending");
	json_str_opt(&w, "why", d->why[0] ? d->why : NULL);
	json_open(&w, "values", '[');
	for (size_t i = 0; i < d->nr_values; i++) {
		const struct pol_value *v = &d->values[i];

		json_open(&w, NULL, '{');
		json_str_opt(&w, "metric", v->metric);
		json_str_opt(&w, "op", json_op_names[v->op & 3]);
		json_rate(&w, "value", !isnan(v->value), v->value);
		json_rate(&w, "threshold", true, v->threshold);
		json_bool_if(&w, "met", true, v->met);
		json_bool_if(&w, "by_trigger", true, v->by_trigger);
		json_close(&w, '}');
	}
	json_close(&w, ']');
	if (d->adapt != POL_ADAPT_NONE) {
		static const char *const phases[] = {
			[POL_ADAPT_START] = "start", [POL_ADAPT_ADJUST] = "adjust",
			[POL_ADAPT_SUMMARY] = "summary", [POL_ADAPT_END] = "end",
		};

		/* What the controller saw: value above is the limit it set
		 * (start, adjust), holds (summary) or gave back (end). */
		json_open(&w, "adaptive", '{');
		json_str_opt(&w, "phase", phases[d->adapt]);
		json_rate(&w, "pressure_pct", d->adapt_pressure_pct >= 0, d->adapt_pressure_pct);
		if (d->adapt != POL_ADAPT_END) {
			json_u64(&w, "memory_current_bytes", d->adapt_current);
			json_u64(&w, "held_back_bytes", d->adapt_held_back);
		}
		json_close(&w, '}');
	}
	if (latency_usec)
		json_u64(&w, "latency_usec", latency_usec);
	json_close(&w, '}');
	json_putc(&w, '\n');
	return json_finish(&w);
}

int json_write_adaptive(FILE *out, const struct policy_state *st, uint64_t time_usec)
{
	struct json_w w = { .out = out };
	bool any = false;

	if (!out || !st)
		return -EINVAL;
	for (size_t i = 0; i < st->nr_targets && !any; i++)
		any = st->targets[i].adapt_on;
	if (!any)
		return 0;
	errno = 0;
	json_open(&w, NULL, '{');
	json_u64(&w, "schema", CGWARDEN_JSON_SCHEMA_VERSION);
	json_str_opt(&w, "type", "adaptive");
	json_u64(&w, "time_usec", time_usec);
	json_open(&w, "cgroups", '[');
	for (size_t i = 0; i < st->nr_targets; i++) {
		const struct pol_target *t = &st->targets[i];

		if (!t->adapt_on)
			continue;
		json_open(&w, NULL, '{');
		json_str_opt(&w, "target", t->path ? t->path : "");
		json_u64(&w, "target_id", t->cgroup_id);
		json_str_opt(&w, "rule", t->rule);
		json_u64(&w, "memory_high_bytes", t->adapt_high);
		json_rate(&w, "pressure_pct", t->adapt_pressure_pct >= 0, t->adapt_pressure_pct);
		json_u64(&w, "held_back_bytes", t->adapt_held);
		json_u64(&w, "hold_intervals", t->adapt_hold);
		json_close(&w, '}');
	}
	json_close(&w, ']');
	json_close(&w, '}');
	json_putc(&w, '\n');
	return json_finish(&w);
}

static bool json_metric_group(const char *name)
{
	int i = metric_find(name);

	return i >= 0 && metric_parent((enum metric_id)i) < 0;
}

void json_fields_free(struct json_fields *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->id[i]);
	free(f->id);
	free(f->len);
	free(f);
}

void json_fields_metrics(const struct json_fields *f, struct metric_set *set)
{
	if (f)
		metric_set_from_ids(set, (const char *const *)f->id, f->n);
}

int json_fields_parse(const char *list, struct json_fields **out)
{
	struct json_fields *f = calloc(1, sizeof(*f));
	char *copy = strdup(list ? list : ""), *rest = copy, *tok;
	int err = 0;

	if (!f || !copy) {
		err = -ENOMEM;
		goto out;
	}
	/* strsep, not strtok: "cpu,,memory" is a mistake to report. */
	while ((tok = strsep(&rest, ",")) != NULL) {
		size_t len = strlen(tok), first = strcspn(tok, ".");
		char group[64], **id;
		size_t *len_;

		if (!len || tok[0] == '.' || tok[len - 1] == '.' || strstr(tok, "..") ||
		    strspn(tok, "abcdefghijklmnopqrstuvwxyz0123456789_.") != len ||
		    first >= sizeof(group)) {
			err = -EINVAL;
			goto out;
		}
		memcpy(group, tok, first);
		group[first] = '\0';
		/* The other members are the metric table's top-level rows. */
		if (!json_metric_group(group) &&
		    !json_in(json_identity, sizeof(json_identity) / sizeof(json_identity[0]), group)) {
			err = -ENOENT;
			goto out;
		}
		id = realloc(f->id, (f->n + 1) * sizeof(*id));
		if (!id) {
			err = -ENOMEM;
			goto out;
		}
		f->id = id;
		len_ = realloc(f->len, (f->n + 1) * sizeof(*len_));
		if (!len_) {
			err = -ENOMEM;
			goto out;
		}
		f->len = len_;
		f->len[f->n] = len;
		f->id[f->n] = strdup(tok);
		if (!f->id[f->n]) {
			err = -ENOMEM;
			goto out;
		}
		f->n++;
	}
	if (!f->n)
		err = -EINVAL;
out:
	free(copy);
	if (err) {
		json_fields_free(f);
		return err;
	}
	*out = f;
	return 0;
}
