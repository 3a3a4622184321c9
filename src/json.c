/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * JSON output: the `cgwarden snapshot` document and the `cgwarden stream`
 * NDJSON lines. The format is documented in man/cgwarden-json.7 and checked
 * by schema/cgwarden.schema.json; change all three together.
 *
 * A tick can hold 10,000 cgroups, so the "cgroups" array is never built as one
 * json-c tree: the head is built and serialized alone, then each cgroup object
 * is built, serialized, written and freed before the next one. Memory stays at
 * one cgroup's worth whatever the size of the tree.
 *
 * Error handling: every constructor below records the first failure in
 * struct json_w.err and returns NULL, which json_add() then stores as a JSON
 * null; the caller checks err once after building an object, so the many
 * optional fields need no error path of their own.
 */
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* Not <json.h>: with -Isrc on the command line that name is our own header. */
#include <json-c/json.h>

#include "json.h"

/* Keys are literals or static name tables that outlive the object, and each
 * is added once, so json-c may skip both the strdup and the duplicate lookup. */
#define JSON_ADD_FLAGS (JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_ADD_CONSTANT_KEY)

/* U+FFFD REPLACEMENT CHARACTER, written for each byte of invalid UTF-8. */
static const char json_replacement[] = "\xef\xbf\xbd";

struct json_w {
	FILE *out;
	int flags;		/* json-c serializer flags */
	bool pretty;
	bool ctl;		/* a string since the last reset holds U+007F or a C1 control */
	int err;		/* first failure, -errno */
};

static void *json_fail(struct json_w *w, int err)
{
	if (!w->err)
		w->err = err;
	return NULL;
}

/* ---- strings ---------------------------------------------------------- */

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF), or 0 if the byte at p starts none.
 */
static size_t json_utf8_seq(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	/* The second byte's range is what rules out overlongs and surrogates. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (avail < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* U+007F or U+0080..U+009F: JSON allows them raw, terminals act on them. */
static bool json_is_ctl(const unsigned char *p, size_t n)
{
	return (n == 1 && p[0] == 0x7f) || (n == 2 && p[0] == 0xc2 && p[1] <= 0x9f);
}

/* True if s[0..len) is all well-formed UTF-8; notes controls in w->ctl. */
static bool json_utf8_valid(struct json_w *w, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n;

		/* Plain printable ASCII is nearly every byte of a cgroup path. */
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			i++;
			continue;
		}
		n = json_utf8_seq(p + i, len - i);
		if (!n)
			return false;
		if (json_is_ctl(p + i, n))
			w->ctl = true;
		i += n;
	}
	return true;
}

/*
 * Copy of s[0..len) with every byte that is not part of a well-formed
 * sequence replaced by U+FFFD, NUL-terminated; *outlen gets its length.
 * The caller frees it. NULL (and w->err) on ENOMEM.
 */
static char *json_utf8_fix(struct json_w *w, const char *s, size_t len, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0;
	char *d;

	if (len > (SIZE_MAX - 1) / 3)
		return json_fail(w, -ENOMEM);
	d = malloc(len * 3 + 1);
	if (!d)
		return json_fail(w, -ENOMEM);
	while (i < len) {
		size_t n = json_utf8_seq(p + i, len - i);

		if (n) {
			if (json_is_ctl(p + i, n))
				w->ctl = true;
			memcpy(d + o, p + i, n);
			o += n;
			i += n;
		} else {
			memcpy(d + o, json_replacement, 3);
			o += 3;
			i++;
		}
	}
	d[o] = '\0';
	*outlen = o;
	return d;
}

/* A JSON string that is always valid UTF-8, whatever bytes s holds (cgroup
 * directory names are arbitrary bytes). json-c escapes '"', '\\' and
 * U+0000..U+001F itself; json_w_text() handles U+007F and C1. */
static struct json_object *json_str(struct json_w *w, const char *s)
{
	size_t len = strlen(s), fixed_len;
	struct json_object *o;
	char *fixed;

	if (json_utf8_valid(w, s, len)) {
		if (len > INT_MAX)
			return json_fail(w, -EOVERFLOW);
		o = json_object_new_string_len(s, (int)len);
		return o ? o : json_fail(w, -ENOMEM);
	}
	fixed = json_utf8_fix(w, s, len, &fixed_len);
	if (!fixed)
		return NULL;
	o = fixed_len <= INT_MAX ? json_object_new_string_len(fixed, (int)fixed_len) : NULL;
	free(fixed);
	return o ? o : json_fail(w, fixed_len <= INT_MAX ? -ENOMEM : -EOVERFLOW);
}

/* NULL (unknown) becomes JSON null. */
static struct json_object *json_str_opt(struct json_w *w, const char *s)
{
	return s ? json_str(w, s) : NULL;
}

static const char *json_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* ---- numbers ---------------------------------------------------------- */

static struct json_object *json_u64(struct json_w *w, uint64_t v)
{
	struct json_object *o = json_object_new_uint64(v);

	return o ? o : json_fail(w, -ENOMEM);
}

static struct json_object *json_u64_if(struct json_w *w, bool have, uint64_t v)
{
	return have ? json_u64(w, v) : NULL;
}

/* A limit: the number, "max" for CG_UNLIMITED, null when not read. */
static struct json_object *json_limit(struct json_w *w, bool have, uint64_t v)
{
	struct json_object *o;

	if (!have)
		return NULL;
	if (v != CG_UNLIMITED)
		return json_u64(w, v);
	o = json_object_new_string("max");
	return o ? o : json_fail(w, -ENOMEM);
}

static struct json_object *json_bool_if(struct json_w *w, bool have, bool v)
{
	struct json_object *o;

	if (!have)
		return NULL;
	o = json_object_new_boolean(v);
	return o ? o : json_fail(w, -ENOMEM);
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
static struct json_object *json_rate(struct json_w *w, bool have, double v)
{
	struct json_object *o;
	char buf[40];

	if (!have || !isfinite(v))
		return NULL;
	/* Most rates of an idle cgroup are 0 and many are whole numbers; "%g"
	 * costs more than the rest of the value, and prints these the same. */
	if (v >= 0 && v < 1e6 && v == (double)(uint32_t)v) {
		snprintf(buf, sizeof(buf), "%u", (uint32_t)v);
	} else {
		snprintf(buf, sizeof(buf), "%.6g", v);
		json_c_decimal_point(buf);
	}
	o = json_object_new_double_s(v, buf);
	return o ? o : json_fail(w, -ENOMEM);
}

/* PSI averages are kept in hundredths, exactly as the kernel prints them;
 * writing the text ourselves keeps "39.78" from becoming 39.780000000000001. */
static struct json_object *json_hundredths(struct json_w *w, uint32_t v)
{
	struct json_object *o;
	char buf[16];

	snprintf(buf, sizeof(buf), "%u.%02u", v / 100, v % 100);
	o = json_object_new_double_s(v / 100.0, buf);
	return o ? o : json_fail(w, -ENOMEM);
}

/* ---- objects ---------------------------------------------------------- */

static struct json_object *json_obj(struct json_w *w)
{
	struct json_object *o = json_object_new_object();

	return o ? o : json_fail(w, -ENOMEM);
}

/* Takes ownership of val (NULL = JSON null) even on failure. key must be a
 * literal or a static table entry (JSON_ADD_FLAGS); NULL means a name table
 * in snapshot.c has a hole, a bug worth failing loudly on. */
static void json_add(struct json_w *w, struct json_object *obj, const char *key,
		     struct json_object *val)
{
	if (!obj || !key || json_object_object_add_ex(obj, key, val, JSON_ADD_FLAGS) < 0) {
		json_object_put(val);
		json_fail(w, key ? -ENOMEM : -EINVAL);
	}
}

static struct json_object *json_psi_line(struct json_w *w, const struct cg_psi_line *l)
{
	struct json_object *o = json_obj(w);

	json_add(w, o, "avg10", json_hundredths(w, l->avg10));
	json_add(w, o, "avg60", json_hundredths(w, l->avg60));
	json_add(w, o, "avg300", json_hundredths(w, l->avg300));
	json_add(w, o, "total_usec", json_u64(w, l->total_usec));
	return o;
}

static struct json_object *json_psi(struct json_w *w, bool have, const struct cg_psi *p)
{
	struct json_object *o;

	if (!have)
		return NULL;
	o = json_obj(w);
	json_add(w, o, "some", p->have_some ? json_psi_line(w, &p->some) : NULL);
	json_add(w, o, "full", p->have_full ? json_psi_line(w, &p->full) : NULL);
	return o;
}

/* have[r]: whether psi[r] was read (host and cgroup use different bits). */
static struct json_object *json_psi_set(struct json_w *w, const struct cg_psi *psi,
					const bool have[CG_PSI__COUNT])
{
	struct json_object *o = json_obj(w);

	for (int r = 0; r < CG_PSI__COUNT; r++)
		json_add(w, o, cg_psi_resource_name(r), json_psi(w, have[r], &psi[r]));
	return o;
}

/* Any Kubernetes fact at all makes the object; its unknown members are null. */
static struct json_object *json_k8s(struct json_w *w, const struct cg_identity *id)
{
	struct json_object *o;

	if (!id->pod_uid && id->qos == CG_QOS_NONE && id->runtime != CG_RT_KUBERNETES &&
	    !id->k8s_namespace && !id->k8s_pod && !id->k8s_container)
		return NULL;
	o = json_obj(w);
	json_add(w, o, "namespace", json_str_opt(w, id->k8s_namespace));
	json_add(w, o, "pod", json_str_opt(w, id->k8s_pod));
	json_add(w, o, "container", json_str_opt(w, id->k8s_container));
	json_add(w, o, "qos", json_str_opt(w, cg_qos_name(id->qos)));
	json_add(w, o, "pod_uid", json_str_opt(w, id->pod_uid));
	return o;
}

static struct json_object *json_cpu(struct json_w *w, const struct cg_sample *c)
{
	struct json_object *o = json_obj(w);
	bool max = c->have & CG_HAVE_CPU_MAX;
	uint32_t r = c->rate.have;

	for (int k = 0; k < CG_CPU__COUNT; k++)
		json_add(w, o, cg_cpu_key_name(k),
			 json_u64_if(w, c->cpu_have & (1u << k), c->cpu[k]));
	json_add(w, o, "max_quota_usec", json_limit(w, max, c->cpu_max_quota_usec));
	json_add(w, o, "max_period_usec", json_u64_if(w, max, c->cpu_max_period_usec));
	json_add(w, o, "weight", json_u64_if(w, c->have & CG_HAVE_CPU_WEIGHT, c->cpu_weight));
	json_add(w, o, "usage_ratio", json_rate(w, r & CG_RATE_CPU_USAGE, c->rate.cpu_usage_ratio));
	json_add(w, o, "user_ratio", json_rate(w, r & CG_RATE_CPU_USER, c->rate.cpu_user_ratio));
	json_add(w, o, "system_ratio",
		 json_rate(w, r & CG_RATE_CPU_SYSTEM, c->rate.cpu_system_ratio));
	json_add(w, o, "throttled_ratio",
		 json_rate(w, r & CG_RATE_CPU_THROTTLED, c->rate.cpu_throttled_ratio));
	return o;
}

static struct json_object *json_memory(struct json_w *w, const struct cg_sample *c)
{
	struct json_object *o = json_obj(w), *stat = NULL, *ev = NULL;
	uint64_t inactive = c->memstat[CG_MS_INACTIVE_FILE];
	bool ws = (c->have & CG_HAVE_MEM_CURRENT) && (c->have & CG_HAVE_MEM_STAT) &&
		  (c->memstat_have & (1ull << CG_MS_INACTIVE_FILE));
	uint32_t h = c->have, r = c->rate.have;

	json_add(w, o, "current_bytes", json_u64_if(w, h & CG_HAVE_MEM_CURRENT, c->mem_current));
	/* What cAdvisor and the kubelet's eviction call the working set. */
	json_add(w, o, "working_set_bytes",
		 json_u64_if(w, ws, c->mem_current > inactive ? c->mem_current - inactive : 0));
	json_add(w, o, "peak_bytes", json_u64_if(w, h & CG_HAVE_MEM_PEAK, c->mem_peak));
	json_add(w, o, "max_bytes", json_limit(w, h & CG_HAVE_MEM_MAX, c->mem_max));
	json_add(w, o, "high_bytes", json_limit(w, h & CG_HAVE_MEM_HIGH, c->mem_high));
	json_add(w, o, "low_bytes", json_limit(w, h & CG_HAVE_MEM_LOW, c->mem_low));
	json_add(w, o, "min_bytes", json_limit(w, h & CG_HAVE_MEM_MIN, c->mem_min));
	json_add(w, o, "swap_current_bytes",
		 json_u64_if(w, h & CG_HAVE_SWAP_CURRENT, c->swap_current));
	json_add(w, o, "swap_max_bytes", json_limit(w, h & CG_HAVE_SWAP_MAX, c->swap_max));
	if (h & CG_HAVE_MEM_STAT) {
		stat = json_obj(w);
		for (int k = 0; k < CG_MS__COUNT; k++)
			if (c->memstat_have & (1ull << k))
				json_add(w, stat, cg_memstat_key_name(k), json_u64(w, c->memstat[k]));
	}
	json_add(w, o, "stat", stat);
	if (h & CG_HAVE_MEM_EVENTS) {
		ev = json_obj(w);
		for (int k = 0; k < CG_ME__COUNT; k++)
			if (c->memevents_have & (1u << k))
				json_add(w, ev, cg_memevent_key_name(k), json_u64(w, c->memevents[k]));
	}
	json_add(w, o, "events", ev);
	json_add(w, o, "pgfault_per_sec", json_rate(w, r & CG_RATE_PGFAULT, c->rate.pgfault_per_sec));
	json_add(w, o, "pgmajfault_per_sec",
		 json_rate(w, r & CG_RATE_PGMAJFAULT, c->rate.pgmajfault_per_sec));
	json_add(w, o, "oom_kill_per_sec",
		 json_rate(w, r & CG_RATE_MEM_EVENTS, c->rate.oom_kill_per_sec));
	json_add(w, o, "high_per_sec", json_rate(w, r & CG_RATE_MEM_EVENTS, c->rate.high_per_sec));
	json_add(w, o, "max_per_sec", json_rate(w, r & CG_RATE_MEM_EVENTS, c->rate.max_per_sec));
	return o;
}

static struct json_object *json_io_dev(struct json_w *w, const struct cg_io_dev *d)
{
	struct json_object *o = json_obj(w);

	json_add(w, o, "major", json_u64(w, d->major));
	json_add(w, o, "minor", json_u64(w, d->minor));
	for (int k = 0; k < CG_IO__COUNT; k++)
		if (d->have & (1u << k))
			json_add(w, o, cg_io_key_name(k), json_u64(w, d->v[k]));
	return o;
}

/*
 * Device keys are built per device, so unlike every other key json-c copies
 * them. A name seen twice (or none) falls back to "MAJ:MIN", which the kernel
 * never repeats, so no device silently replaces another.
 */
static void json_add_io_dev(struct json_w *w, struct json_object *devs,
			    const struct cg_io_dev *d)
{
	struct json_object *val = json_io_dev(w, d);
	char majmin[24], *fixed = NULL;
	const char *key = NULL;
	size_t len;

	if (d->name && d->name[0]) {
		len = strlen(d->name);
		if (json_utf8_valid(w, d->name, len))
			key = d->name;
		else
			key = fixed = json_utf8_fix(w, d->name, len, &len);
		if (key && json_object_object_get_ex(devs, key, NULL))
			key = NULL;
	}
	if (!key) {
		snprintf(majmin, sizeof(majmin), "%u:%u", d->major, d->minor);
		key = majmin;
	}
	if (!devs || json_object_object_add(devs, key, val) < 0) {
		json_object_put(val);
		json_fail(w, -ENOMEM);
	}
	free(fixed);
}

static struct json_object *json_io(struct json_w *w, const struct cg_sample *c)
{
	struct json_object *o = json_obj(w), *devs = NULL;
	uint32_t r = c->rate.have;

	if (c->have & CG_HAVE_IO_STAT) {
		devs = json_obj(w);
		for (uint32_t i = 0; i < c->nr_io && c->io; i++)
			json_add_io_dev(w, devs, &c->io[i]);
	}
	json_add(w, o, "devices", devs);
	json_add(w, o, "read_bytes_per_sec", json_rate(w, r & CG_RATE_IO, c->rate.io_read_bytes_per_sec));
	json_add(w, o, "write_bytes_per_sec",
		 json_rate(w, r & CG_RATE_IO, c->rate.io_write_bytes_per_sec));
	json_add(w, o, "read_ios_per_sec", json_rate(w, r & CG_RATE_IO, c->rate.io_read_ios_per_sec));
	json_add(w, o, "write_ios_per_sec",
		 json_rate(w, r & CG_RATE_IO, c->rate.io_write_ios_per_sec));
	return o;
}

static struct json_object *json_cgroup(struct json_w *w, const struct cg_sample *c)
{
	const struct cg_identity *id = &c->ident;
	const char *path = c->path ? c->path : "";
	struct json_object *o = json_obj(w), *pids;
	const bool psi[CG_PSI__COUNT] = {
		[CG_PSI_CPU] = c->have & CG_HAVE_PSI_CPU,
		[CG_PSI_MEMORY] = c->have & CG_HAVE_PSI_MEMORY,
		[CG_PSI_IO] = c->have & CG_HAVE_PSI_IO,
	};

	json_add(w, o, "id", json_u64(w, c->id));
	if (c->parent >= 0)
		json_add(w, o, "parent_id", json_u64(w, c->parent_id));
	json_add(w, o, "path", json_str(w, path));
	json_add(w, o, "depth", json_u64(w, c->depth));
	json_add(w, o, "name", json_str(w, id->name ? id->name : json_basename(path)));
	json_add(w, o, "kind", json_str(w, cg_kind_name(id->kind)));
	json_add(w, o, "runtime", json_str_opt(w, cg_runtime_name(id->runtime)));
	json_add(w, o, "container_id", json_str_opt(w, id->container_id));
	json_add(w, o, "short_id", json_str_opt(w, id->short_id));
	json_add(w, o, "image", json_str_opt(w, id->image));
	json_add(w, o, "k8s", json_k8s(w, id));
	json_add(w, o, "cpu", json_cpu(w, c));
	json_add(w, o, "memory", json_memory(w, c));
	json_add(w, o, "io", json_io(w, c));
	pids = json_obj(w);
	json_add(w, pids, "current", json_u64_if(w, c->have & CG_HAVE_PIDS_CURRENT, c->pids_current));
	json_add(w, pids, "max", json_limit(w, c->have & CG_HAVE_PIDS_MAX, c->pids_max));
	json_add(w, o, "pids", pids);
	json_add(w, o, "psi", json_psi_set(w, c->psi, psi));
	json_add(w, o, "procs", json_u64_if(w, c->have & CG_HAVE_PROCS, c->procs));
	json_add(w, o, "threads", json_u64_if(w, c->have & CG_HAVE_THREADS, c->threads));
	json_add(w, o, "populated", json_bool_if(w, c->have & CG_HAVE_EVENTS, c->populated));
	json_add(w, o, "frozen", json_bool_if(w, c->have & CG_HAVE_EVENTS, c->frozen));
	return o;
}

static struct json_object *json_host(struct json_w *w, const struct cg_host *h)
{
	struct json_object *o = json_obj(w);
	bool mi = h->have & CG_HOST_MEMINFO;
	const bool psi[CG_PSI__COUNT] = {
		[CG_PSI_CPU] = h->have & CG_HOST_PSI_CPU,
		[CG_PSI_MEMORY] = h->have & CG_HOST_PSI_MEMORY,
		[CG_PSI_IO] = h->have & CG_HOST_PSI_IO,
	};

	json_add(w, o, "cpus", json_u64(w, h->cpus));
	json_add(w, o, "mem_total_bytes", json_u64_if(w, mi, h->mem_total_bytes));
	json_add(w, o, "mem_available_bytes", json_u64_if(w, mi, h->mem_available_bytes));
	json_add(w, o, "swap_total_bytes", json_u64_if(w, mi, h->swap_total_bytes));
	json_add(w, o, "swap_free_bytes", json_u64_if(w, mi, h->swap_free_bytes));
	json_add(w, o, "psi", json_psi_set(w, h->psi, psi));
	return o;
}

static struct json_object *json_self(struct json_w *w, const struct cg_self *s)
{
	struct json_object *o = json_obj(w);

	json_add(w, o, "collect_usec", json_u64(w, s->collect_usec));
	json_add(w, o, "cgroups", json_u64(w, s->cgroups));
	json_add(w, o, "files_read", json_u64(w, s->files_read));
	json_add(w, o, "files_read_total", json_u64(w, s->files_read_total));
	json_add(w, o, "cpu_usec", json_u64(w, s->cpu_usec));
	json_add(w, o, "rss_bytes", json_u64(w, s->rss_bytes));
	json_add(w, o, "kept_fds", json_u64(w, s->kept_fds));
	json_add(w, o, "fd_budget", json_u64(w, s->fd_budget));
	json_add(w, o, "reopened_files", json_u64(w, s->reopened_files));
	return o;
}

/* Every member of a snapshot/tick except "cgroups", which is streamed. */
static struct json_object *json_head(struct json_w *w, const struct cg_snapshot *s,
				     const char *type)
{
	struct json_object *o = json_obj(w);

	json_add(w, o, "schema", json_u64(w, CGWARDEN_JSON_SCHEMA_VERSION));
	json_add(w, o, "type", json_str(w, type));
	json_add(w, o, "seq", json_u64(w, s->seq));
	json_add(w, o, "time_usec", json_u64(w, s->wall_usec));
	json_add(w, o, "monotonic_usec", json_u64(w, s->mono_usec));
	/* 0 means there was no previous snapshot: no interval, not a zero one. */
	json_add(w, o, "interval_usec", json_u64_if(w, s->interval_usec, s->interval_usec));
	json_add(w, o, "root", json_str(w, s->root ? s->root : ""));
	json_add(w, o, "host", json_host(w, &s->host));
	json_add(w, o, "self", json_self(w, &s->self));
	return o;
}

static struct json_object *json_event(struct json_w *w, const struct cg_snapshot *s,
				      const char *event, const struct cg_sample *c)
{
	struct json_object *o = json_obj(w);

	json_add(w, o, "schema", json_u64(w, CGWARDEN_JSON_SCHEMA_VERSION));
	json_add(w, o, "type", json_str(w, "event"));
	json_add(w, o, "event", json_str(w, event));
	json_add(w, o, "seq", json_u64(w, s->seq));
	json_add(w, o, "time_usec", json_u64(w, s->wall_usec));
	json_add(w, o, "cgroup", json_cgroup(w, c));
	return o;
}

/* ---- writing ---------------------------------------------------------- */

static void json_w_bytes(struct json_w *w, const char *buf, size_t len)
{
	if (w->err || !len)
		return;
	if (fwrite(buf, 1, len, w->out) != len)
		json_fail(w, errno ? -errno : -EIO);
}

static void json_w_lit(struct json_w *w, const char *s)
{
	json_w_bytes(w, s, strlen(s));
}

/*
 * Writes serialized JSON. json-c leaves U+007F and the C1 controls raw (JSON
 * allows them), but a terminal acts on them, and people do `cgwarden stream |
 * less`: when w->ctl says one may be present, they become \u escapes. In
 * valid UTF-8 a 0x7f or a 0xc2 lead byte can only sit inside a string, so the
 * rewrite cannot touch structure. In pretty mode every line break gets indent
 * extra spaces, so an object serialized alone nests inside the hand-written
 * array (strings never hold a raw '\n': json-c escapes it).
 */
static void json_w_text(struct json_w *w, const char *buf, size_t len, unsigned indent)
{
	static const char spaces[] = "        ";
	size_t start = 0;
	char esc[8];

	if (!w->ctl && !indent) {
		json_w_bytes(w, buf, len);
		return;
	}
	if (indent > sizeof(spaces) - 1)
		indent = sizeof(spaces) - 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = buf[i], c2 = i + 1 < len ? buf[i + 1] : 0;

		if (c == '\n' && indent) {
			json_w_bytes(w, buf + start, i + 1 - start);
			json_w_bytes(w, spaces, indent);
			start = i + 1;
		} else if (w->ctl && (c == 0x7f || (c == 0xc2 && c2 >= 0x80 && c2 <= 0x9f))) {
			json_w_bytes(w, buf + start, i - start);
			snprintf(esc, sizeof(esc), "\\u%04x", c == 0x7f ? c : c2);
			json_w_bytes(w, esc, 6);
			i += c == 0xc2;
			start = i + 1;
		}
	}
	json_w_bytes(w, buf + start, len - start);
}

/* Serializes o, writes it, and frees it. */
static void json_w_object(struct json_w *w, struct json_object *o, unsigned indent)
{
	const char *str = NULL;
	size_t len;

	if (!w->err) {
		str = json_object_to_json_string_length(o, w->flags, &len);
		if (!str)
			json_fail(w, -ENOMEM);
		else
			json_w_text(w, str, len, indent);
	}
	json_object_put(o);
}

/*
 * The shared body of a snapshot and a tick line, '\n' included. The head is
 * serialized whole and its closing brace ("}" compact, "\n}" pretty) cut off
 * to append the "cgroups" array by hand.
 */
static void json_w_body(struct json_w *w, const struct cg_snapshot *s, const char *type)
{
	struct json_object *head;
	bool begun = false;
	const char *str;
	size_t len, cut = w->pretty ? 2 : 1;

	w->ctl = false;
	head = json_head(w, s, type);
	if (!w->err) {
		str = json_object_to_json_string_length(head, w->flags, &len);
		if (!str)
			json_fail(w, -ENOMEM);
		else if (len <= cut || str[len - 1] != '}' || (w->pretty && str[len - 2] != '\n'))
			json_fail(w, -EINVAL);	/* json-c changed its layout */
		else
			json_w_text(w, str, len - cut, 0);
	}
	json_object_put(head);
	json_w_lit(w, w->pretty ? ",\n  \"cgroups\": [" : ",\"cgroups\":[");
	begun = !w->err;

	for (size_t i = 0; i < s->nr_samples && !w->err; i++) {
		struct json_object *o;

		w->ctl = false;
		o = json_cgroup(w, &s->samples[i]);
		if (w->pretty)
			json_w_lit(w, i ? ",\n    " : "\n    ");
		else if (i)
			json_w_lit(w, ",");
		json_w_object(w, o, w->pretty ? 4 : 0);
	}
	if (!w->pretty)
		json_w_lit(w, "]}\n");
	else
		json_w_lit(w, s->nr_samples ? "\n  ]\n}\n" : "]\n}\n");
	/* Failed half way (ENOMEM): still end the line, so a stream reader loses
	 * this one line and not the next one too. Best effort, error kept. */
	if (w->err && begun)
		fputc('\n', w->out);
}

static int json_w_finish(struct json_w *w)
{
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
	struct json_w w = {
		.out = out,
		.pretty = pretty,
		.flags = JSON_C_TO_STRING_NOSLASHESCAPE |
			 (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
				 : JSON_C_TO_STRING_PLAIN),
	};

	if (!out || !json_snapshot_ok(s))
		return -EINVAL;
	errno = 0;	/* so a stream already in error reports -EIO, not a stale errno */
	json_w_body(&w, s, "snapshot");
	return json_w_finish(&w);
}

/* One compact event line, flushed. */
static void json_w_event(struct json_w *w, const struct cg_snapshot *s, const char *event,
			 const struct cg_sample *c)
{
	w->ctl = false;
	json_w_object(w, json_event(w, s, event, c), 0);
	json_w_lit(w, "\n");
	if (!w->err && fflush(w->out) == EOF)
		json_fail(w, errno ? -errno : -EIO);
}

int json_write_stream_tick(FILE *out, const struct cg_snapshot *s)
{
	struct json_w w = {
		.out = out,
		.flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
	};
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

	for (size_t i = 0; i < s->nr_added && !w.err; i++, lines++)
		json_w_event(&w, s, "cgroup_added", &s->samples[s->added[i]]);
	for (size_t i = 0; i < s->nr_removed && !w.err; i++, lines++)
		json_w_event(&w, s, "cgroup_removed", &s->removed[i]);
	json_w_body(&w, s, "tick");
	lines++;
	err = json_w_finish(&w);
	return err ? err : lines;
}
