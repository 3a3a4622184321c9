/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who a cgroup is. The path decides: its last component names the thing
 * (a container scope, a pod slice, a systemd unit), its ancestors give the
 * Kubernetes context (QoS class, pod uid). Runtime state on disk only adds
 * names and images; when it is missing, unreadable or malformed we fall back
 * to what the path says, because a monitoring tool must never lose a cgroup
 * over someone else's file.
 *
 * State read, all under ctx->state_root:
 *   docker      var/lib/docker/containers/<id>/config.v2.json
 *   containerd  run/containerd/io.containerd.runtime.v2.task/k8s.io/<id>/config.json
 *   cri-o       run/containers/storage/overlay-containers/<id>/userdata/config.json,
 *               then containers.json below
 *   podman      var/lib/containers/storage/overlay-containers/containers.json
 *   pod names   var/log/pods/<namespace>_<pod>_<uid>/ (kubelet, any runtime)
 * containers.json and var/log/pods hold every container/pod of the node, so
 * they are cached and re-read only when they change: resolving N cgroups then
 * costs one parse, not N.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "identity.h"
#include "json_read.h"

#define CTR_ID_LEN	64	/* docker, containerd, cri-o and podman ids */
#define SHORT_ID_LEN	12	/* what `docker ps` shows */
#define POD_UID_MAX	64	/* a UUID is 36; static pods use a 32-hex hash */
#define UNIT_NAME_MAX	255	/* systemd's UNIT_NAME_MAX minus the NUL */
/* The longest identity string kept (cgwarden-json(7)): whoever can write a
 * runtime's state chooses names, images and labels, and each is repeated in
 * every Prometheus series of the cgroup (a 3 MB image name made /metrics
 * 105 MB). A longer one keeps its start and ends with STR_CUT_MARK. */
#define STR_MAX		1024
#define STR_CUT_MARK	"...[truncated]"

#define STORAGE_JSON	"/var/lib/containers/storage/overlay-containers/containers.json"
#define POD_LOG_DIR	"/var/log/pods"

/* One version of a file or directory: a cache is rebuilt when this changes.
 * ctime too, because a rewrite within one mtime tick keeps the mtime. */
struct file_key {
	bool valid;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
};

struct storage_entry {
	char *id, *name, *image;
};

struct pod_entry {
	char *uid, *ns, *name;
};

struct identity_ctx {
	char *state_root;		/* "" for the host, never ends in '/' */

	struct file_key storage_key;	/* containers.json, sorted by id */
	struct storage_entry *storage;
	size_t nr_storage, cap_storage;

	struct file_key pods_key;	/* var/log/pods, sorted by uid */
	struct pod_entry *pods;
	size_t nr_pods, cap_pods;
};

/* ---- small string helpers ------------------------------------------------ */

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int hex_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Runtimes print ids in lowercase; anything else is not one of their ids. */
static bool is_ctr_id(const char *s, size_t n)
{
	size_t i;

	if (n != CTR_ID_LEN)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static int set_str(const char **dst, const char *s)
{
	char *d = strdup(s);

	if (!d)
		return -ENOMEM;
	*dst = d;
	return 0;
}

static int set_strn(const char **dst, const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (!d)
		return -ENOMEM;
	*dst = d;
	return 0;
}

static int set_fmt(const char **dst, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int set_fmt(const char **dst, const char *fmt, ...)
{
	va_list ap;
	char *d;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&d, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	*dst = d;
	return 0;
}

/*
 * Cuts a malloc'd string longer than STR_MAX bytes to STR_MAX bytes that
 * end with STR_CUT_MARK, in place. The cut falls between two UTF-8
 * characters: a continuation byte there moves it back to where that
 * character starts (at most 3; invalid text has no boundary to respect and
 * is replaced on output anyway).
 */
static void cap_str(char **s)
{
	size_t keep = STR_MAX - (sizeof(STR_CUT_MARK) - 1);
	char *p = *s, *shrunk;

	if (!p || strnlen(p, STR_MAX + 1) <= STR_MAX)
		return;
	for (int i = 0; i < 3 && ((unsigned char)p[keep] & 0xc0) == 0x80; i++)
		keep--;
	memcpy(p + keep, STR_CUT_MARK, sizeof(STR_CUT_MARK));
	shrunk = realloc(p, keep + sizeof(STR_CUT_MARK));
	if (shrunk)
		*s = shrunk;
}

/* Moves a malloc'd string from a json_ctr_info into the identity. */
static void move_str(const char **dst, char **src)
{
	if (!*dst && *src) {
		*dst = *src;
		*src = NULL;
	}
}

/* <state_root><rel>, or false when it does not fit (then there is no such
 * file for us). */
static bool state_path(const struct identity_ctx *ctx, char *buf, size_t len,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool state_path(const struct identity_ctx *ctx, char *buf, size_t len,
		       const char *fmt, ...)
{
	size_t root_len = strlen(ctx->state_root);
	va_list ap;
	int n;

	if (root_len >= len)
		return false;
	memcpy(buf, ctx->state_root, root_len);
	va_start(ap, fmt);
	n = vsnprintf(buf + root_len, len - root_len, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < len - root_len;
}

static bool file_key_get(const char *path, struct file_key *k)
{
	struct stat st;

	memset(k, 0, sizeof(*k));
	if (stat(path, &st) < 0)
		return false;
	k->valid = true;
	k->dev = st.st_dev;
	k->ino = st.st_ino;
	k->size = st.st_size;
	k->mtim = st.st_mtim;
	k->ctim = st.st_ctim;
	return true;
}

static bool file_key_eq(const struct file_key *a, const struct file_key *b)
{
	return a->valid == b->valid && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size &&
	       a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec &&
	       a->ctim.tv_sec == b->ctim.tv_sec && a->ctim.tv_nsec == b->ctim.tv_nsec;
}

/* ---- containers/storage cache (podman, cri-o) ----------------------------- */

static void storage_drop(struct identity_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->nr_storage; i++) {
		free(ctx->storage[i].id);
		free(ctx->storage[i].name);
		free(ctx->storage[i].image);
	}
	free(ctx->storage);
	ctx->storage = NULL;
	ctx->nr_storage = ctx->cap_storage = 0;
}

static int storage_add(const char *id, const char *name, const char *image, void *arg)
{
	struct identity_ctx *ctx = arg;
	struct storage_entry *e;

	if (ctx->nr_storage == ctx->cap_storage) {
		size_t ncap = ctx->cap_storage ? ctx->cap_storage * 2 : 64;

		e = reallocarray(ctx->storage, ncap, sizeof(*e));
		if (!e)
			return -ENOMEM;
		ctx->storage = e;
		ctx->cap_storage = ncap;
	}
	e = &ctx->storage[ctx->nr_storage];
	e->id = strdup(id);
	e->name = name ? strdup(name) : NULL;
	e->image = image ? strdup(image) : NULL;
	/* Capped here already: the cache holds every container of the node. */
	cap_str(&e->name);
	cap_str(&e->image);
	if (!e->id || (name && !e->name) || (image && !e->image)) {
		free(e->id);
		free(e->name);
		free(e->image);
		return -ENOMEM;
	}
	ctx->nr_storage++;
	return 0;
}

static int storage_cmp(const void *a, const void *b)
{
	return strcmp(((const struct storage_entry *)a)->id,
		      ((const struct storage_entry *)b)->id);
}

/* Rebuilds the cache if containers.json changed since the last look. */
static int storage_refresh(struct identity_ctx *ctx)
{
	char path[PATH_MAX];
	struct file_key k;
	int ret;

	if (!state_path(ctx, path, sizeof(path), STORAGE_JSON))
		return 0;
	file_key_get(path, &k);
	if (file_key_eq(&k, &ctx->storage_key))
		return 0;
	storage_drop(ctx);
	/* Remember the version even if it does not parse, so a broken file is
	 * not re-parsed for every new cgroup. */
	ctx->storage_key = k;
	if (!k.valid)
		return 0;
	ret = json_read_storage_containers(path, storage_add, ctx);
	if (ret == -ENOMEM) {
		storage_drop(ctx);
		ctx->storage_key.valid = false;	/* try again next time */
		return ret;
	}
	if (ret < 0)
		storage_drop(ctx);
	else if (ctx->nr_storage > 1)
		qsort(ctx->storage, ctx->nr_storage, sizeof(*ctx->storage), storage_cmp);
	return 0;
}

static const struct storage_entry *storage_find(const struct identity_ctx *ctx,
						const char *id)
{
	struct storage_entry key = { .id = (char *)id };

	if (!ctx->nr_storage)
		return NULL;
	return bsearch(&key, ctx->storage, ctx->nr_storage, sizeof(*ctx->storage),
		       storage_cmp);
}

/* ---- pod names from the kubelet's log directories ------------------------ */

static void pods_drop(struct identity_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->nr_pods; i++) {
		free(ctx->pods[i].uid);
		free(ctx->pods[i].ns);
		free(ctx->pods[i].name);
	}
	free(ctx->pods);
	ctx->pods = NULL;
	ctx->nr_pods = ctx->cap_pods = 0;
}

/*
 * "<namespace>_<pod>_<uid>": namespaces and pod names are DNS labels and uids
 * UUIDs or hashes, none may hold '_', so exactly two '_' split it safely.
 */
static int pods_add(struct identity_ctx *ctx, const char *dname)
{
	const char *u1 = strchr(dname, '_'), *u2;
	struct pod_entry *e;

	if (!u1 || u1 == dname)
		return 0;
	u2 = strchr(u1 + 1, '_');
	if (!u2 || u2 == u1 + 1 || !u2[1] || strchr(u2 + 1, '_'))
		return 0;

	if (ctx->nr_pods == ctx->cap_pods) {
		size_t ncap = ctx->cap_pods ? ctx->cap_pods * 2 : 64;

		e = reallocarray(ctx->pods, ncap, sizeof(*e));
		if (!e)
			return -ENOMEM;
		ctx->pods = e;
		ctx->cap_pods = ncap;
	}
	e = &ctx->pods[ctx->nr_pods];
	e->ns = strndup(dname, (size_t)(u1 - dname));
	e->name = strndup(u1 + 1, (size_t)(u2 - u1 - 1));
	e->uid = strdup(u2 + 1);
	if (!e->ns || !e->name || !e->uid) {
		free(e->ns);
		free(e->name);
		free(e->uid);
		return -ENOMEM;
	}
	ctx->nr_pods++;
	return 0;
}

static int pods_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pod_entry *)a)->uid,
		      ((const struct pod_entry *)b)->uid);
}

static int pods_refresh(struct identity_ctx *ctx)
{
	char path[PATH_MAX];
	struct file_key k;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (!state_path(ctx, path, sizeof(path), POD_LOG_DIR))
		return 0;
	file_key_get(path, &k);
	if (file_key_eq(&k, &ctx->pods_key))
		return 0;
	pods_drop(ctx);
	ctx->pods_key = k;
	if (!k.valid)
		return 0;
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		ret = pods_add(ctx, de->d_name);
		if (ret)
			break;
	}
	closedir(d);
	if (ret) {
		pods_drop(ctx);
		ctx->pods_key.valid = false;
		return ret;
	}
	if (ctx->nr_pods > 1)
		qsort(ctx->pods, ctx->nr_pods, sizeof(*ctx->pods), pods_cmp);
	return 0;
}

static const struct pod_entry *pods_find(const struct identity_ctx *ctx, const char *uid)
{
	struct pod_entry key = { .uid = (char *)uid };

	if (!ctx->nr_pods)
		return NULL;
	return bsearch(&key, ctx->pods, ctx->nr_pods, sizeof(*ctx->pods), pods_cmp);
}

/* ---- Kubernetes context from the path ------------------------------------ */

enum k8s_level {
	K8S_NONE,	/* not (or no longer) inside kubepods */
	K8S_ROOT,	/* kubepods.slice, kubepods */
	K8S_QOS,	/* kubepods-burstable.slice, kubepods/besteffort */
	K8S_POD,	/* kubepods-...-pod<uid>.slice, kubepods/.../pod<uid> */
	K8S_IN_POD,	/* anything below a pod */
};

struct k8s_ctx {
	enum k8s_level level;		/* of the component just seen */
	enum cg_k8s_qos qos;
	char pod_uid[POD_UID_MAX + 1];	/* with dashes; "" outside a pod */
};

/* Copies a pod uid, turning the systemd driver's '_' back into '-'
 * (the kubelet swaps them because '-' is systemd's slice separator). */
static bool parse_pod_uid(const char *s, size_t n, char *uid)
{
	size_t i;

	if (n == 0 || n > POD_UID_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '_')
			c = '-';
		else if (c != '-' && !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z'))
			return false;
		uid[i] = (char)c;
	}
	uid[n] = '\0';
	return true;
}

/* systemd driver: "kubepods-burstable-pod<uid_with_underscores>.slice". */
static bool parse_pod_slice(const char *c, enum cg_k8s_qos *qos, char *uid)
{
	static const struct {
		const char *prefix;
		enum cg_k8s_qos qos;
	} forms[] = {
		{ "kubepods-burstable-pod", CG_QOS_BURSTABLE },
		{ "kubepods-besteffort-pod", CG_QOS_BESTEFFORT },
		{ "kubepods-pod", CG_QOS_GUARANTEED },	/* guaranteed has no QoS slice */
	};
	size_t i, n = strlen(c), suffix = strlen(".slice");

	if (!has_suffix(c, ".slice"))
		return false;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		size_t plen = strlen(forms[i].prefix);

		if (n > plen + suffix && has_prefix(c, forms[i].prefix) &&
		    parse_pod_uid(c + plen, n - plen - suffix, uid)) {
			*qos = forms[i].qos;
			return true;
		}
	}
	return false;
}

/*
 * Feeds one path component. The systemd driver's names are unique enough to
 * be recognised alone; the cgroupfs driver's ("burstable", "pod<uid>") only
 * mean something right below kubepods, so they need the previous level.
 */
static void k8s_step(struct k8s_ctx *k, const char *c)
{
	enum k8s_level prev = k->level;
	char uid[POD_UID_MAX + 1];
	enum cg_k8s_qos qos;

	if (!strcmp(c, "kubepods.slice") || !strcmp(c, "kubepods")) {
		k->level = K8S_ROOT;
		k->qos = CG_QOS_NONE;
		k->pod_uid[0] = '\0';
	} else if (!strcmp(c, "kubepods-burstable.slice") ||
		   (prev == K8S_ROOT && !strcmp(c, "burstable"))) {
		k->level = K8S_QOS;
		k->qos = CG_QOS_BURSTABLE;
		k->pod_uid[0] = '\0';
	} else if (!strcmp(c, "kubepods-besteffort.slice") ||
		   (prev == K8S_ROOT && !strcmp(c, "besteffort"))) {
		k->level = K8S_QOS;
		k->qos = CG_QOS_BESTEFFORT;
		k->pod_uid[0] = '\0';
	} else if (parse_pod_slice(c, &qos, uid)) {
		k->level = K8S_POD;
		k->qos = qos;
		memcpy(k->pod_uid, uid, sizeof(uid));
	} else if ((prev == K8S_ROOT || prev == K8S_QOS) && has_prefix(c, "pod") &&
		   parse_pod_uid(c + 3, strlen(c + 3), uid)) {
		k->level = K8S_POD;
		/* Guaranteed pods sit right under kubepods. */
		k->qos = prev == K8S_ROOT ? CG_QOS_GUARANTEED : k->qos;
		memcpy(k->pod_uid, uid, sizeof(uid));
	} else if (prev == K8S_POD || prev == K8S_IN_POD) {
		k->level = K8S_IN_POD;
	} else {
		k->level = K8S_NONE;
		k->qos = CG_QOS_NONE;
		k->pod_uid[0] = '\0';
	}
}

/* ---- systemd units ------------------------------------------------------- */

/* systemd's own alphabet for unit names; a directory named otherwise was made
 * by someone else, whatever its suffix. */
static bool is_unit_name(const char *c)
{
	size_t n = strlen(c);
	const char *p;

	if (n == 0 || n > UNIT_NAME_MAX)
		return false;
	for (p = c; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= 'A' && ch <= 'Z') || strchr(":-_.\\@", ch)))
			return false;
	}
	return true;
}

/* Undoes systemd's \xNN escaping for display. A \x00 stays as written, since
 * a NUL would cut the name short. */
static int set_unescaped(const char **dst, const char *s)
{
	char *d = malloc(strlen(s) + 1), *o = d;

	if (!d)
		return -ENOMEM;
	while (*s) {
		int hi, lo;

		if (s[0] == '\\' && s[1] == 'x' && (hi = hex_val((unsigned char)s[2])) >= 0 &&
		    (lo = hex_val((unsigned char)s[3])) >= 0 && (hi | lo)) {
			*o++ = (char)(hi << 4 | lo);
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	*dst = d;
	return 0;
}

/* logind session scopes: "session-3.scope", "session-c1.scope". */
static bool is_session_scope(const char *c)
{
	size_t n = strlen(c), i;
	size_t pre = strlen("session-"), suf = strlen(".scope");

	if (n <= pre + suf || !has_prefix(c, "session-") || !has_suffix(c, ".scope"))
		return false;
	for (i = pre; i < n - suf; i++)
		if (!((c[i] >= '0' && c[i] <= '9') || (c[i] >= 'a' && c[i] <= 'z')))
			return false;
	return true;
}

/* Returns true and fills kind/runtime/name if c is a systemd unit. */
static bool resolve_unit(const char *c, struct cg_identity *id, int *ret)
{
	/* Sockets, mounts and swaps get a cgroup while their helpers run;
	 * METRICS.md has no kind for them. */
	static const struct {
		const char *suffix;
		enum cg_kind kind;
	} forms[] = {
		{ ".service", CG_KIND_SERVICE },
		{ ".scope", CG_KIND_SCOPE },
		{ ".slice", CG_KIND_SLICE },
		{ ".socket", CG_KIND_OTHER },
		{ ".mount", CG_KIND_OTHER },
		{ ".swap", CG_KIND_OTHER },
	};
	size_t i, n = strlen(c);

	if (!is_unit_name(c))
		return false;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		if (n > strlen(forms[i].suffix) && has_suffix(c, forms[i].suffix)) {
			id->kind = forms[i].kind;
			if (is_session_scope(c))
				id->kind = CG_KIND_SESSION;
			id->runtime = CG_RT_SYSTEMD;
			/* Operators know units by their full name ("nginx.service"). */
			*ret = set_unescaped(&id->name, c);
			return true;
		}
	}
	return false;
}

/* ---- containers ---------------------------------------------------------- */

static const struct ctr_form {
	const char *prefix;
	enum cg_runtime runtime;
	bool conmon;		/* the runtime's monitor process, not the container */
} ctr_forms[] = {
	/* Longer prefixes first: "crio-conmon-" also starts with "crio-". */
	{ "crio-conmon-", CG_RT_CRIO, true },
	{ "libpod-conmon-", CG_RT_PODMAN, true },
	{ "docker-", CG_RT_DOCKER, false },
	{ "cri-containerd-", CG_RT_CONTAINERD, false },
	{ "crio-", CG_RT_CRIO, false },
	{ "libpod-", CG_RT_PODMAN, false },
	{ "nerdctl-", CG_RT_CONTAINERD, false },
};

/*
 * "<prefix><64 hex>.scope" (systemd driver) or "<prefix><64 hex>" (cri-o and
 * podman under the cgroupfs driver). Returns the form, or NULL.
 */
static const struct ctr_form *match_ctr(const char *c, const char **cid)
{
	size_t i;

	for (i = 0; i < sizeof(ctr_forms) / sizeof(ctr_forms[0]); i++) {
		const char *rest;

		if (!has_prefix(c, ctr_forms[i].prefix))
			continue;
		rest = c + strlen(ctr_forms[i].prefix);
		if (strlen(rest) < CTR_ID_LEN || !is_ctr_id(rest, CTR_ID_LEN))
			continue;
		if (rest[CTR_ID_LEN] && strcmp(rest + CTR_ID_LEN, ".scope"))
			continue;
		*cid = rest;
		return &ctr_forms[i];
	}
	return NULL;
}

static int storage_info(struct identity_ctx *ctx, const char *cid,
			struct json_ctr_info *ci)
{
	const struct storage_entry *e;
	char id[CTR_ID_LEN + 1];
	int ret;

	ret = storage_refresh(ctx);
	if (ret)
		return ret;
	memcpy(id, cid, CTR_ID_LEN);
	id[CTR_ID_LEN] = '\0';
	e = storage_find(ctx, id);
	if (!e)
		return -ENOENT;
	memset(ci, 0, sizeof(*ci));
	if ((e->name && !(ci->name = strdup(e->name))) ||
	    (e->image && !(ci->image = strdup(e->image)))) {
		json_ctr_info_clear(ci);
		return -ENOMEM;
	}
	return 0;
}

/* What runtime rt's state says about container cid: 0, -ENOENT (nothing
 * usable, fall back) or -ENOMEM. */
static int ctr_info(struct identity_ctx *ctx, enum cg_runtime rt, const char *cid,
		    struct json_ctr_info *ci)
{
	char path[PATH_MAX];
	int ret = -ENOENT;

	if (!ctx)
		return -ENOENT;
	switch (rt) {
	case CG_RT_DOCKER:
		if (state_path(ctx, path, sizeof(path),
			       "/var/lib/docker/containers/%.64s/config.v2.json", cid))
			ret = json_read_docker_info(path, ci);
		break;
	case CG_RT_CONTAINERD:
		/* Every containerd task has a bundle, but only the CRI
		 * plugin (namespace k8s.io) writes names into it. */
		if (state_path(ctx, path, sizeof(path),
			       "/run/containerd/io.containerd.runtime.v2.task/k8s.io/%.64s/config.json",
			       cid))
			ret = json_read_oci_info(path, ci);
		break;
	case CG_RT_CRIO:
		if (state_path(ctx, path, sizeof(path),
			       "/run/containers/storage/overlay-containers/%.64s/userdata/config.json",
			       cid))
			ret = json_read_oci_info(path, ci);
		if (ret && ret != -ENOMEM)
			ret = storage_info(ctx, cid, ci);
		break;
	case CG_RT_PODMAN:
		ret = storage_info(ctx, cid, ci);
		break;
	default:
		break;
	}
	return ret == -ENOMEM ? ret : ret ? -ENOENT : 0;
}

/*
 * cri-o and cri-dockerd name containers "k8s_<container>_<pod>_<namespace>_
 * <uid>_<attempt>". Trusted only when the uid is the pod the path puts the
 * container in, so a plain docker container called "k8s_x_y_z_w_0" stays
 * itself.
 */
static int parse_k8s_name(struct json_ctr_info *ci, const char *pod_uid)
{
	const char *f[6], *p;
	size_t len[6], i = 0;

	if (!ci->name || !has_prefix(ci->name, "k8s_") || !*pod_uid ||
	    ci->k8s_pod || ci->k8s_namespace || ci->k8s_container)
		return 0;
	for (p = ci->name; i < 6; i++) {
		const char *u = strchr(p, '_');

		f[i] = p;
		len[i] = u ? (size_t)(u - p) : strlen(p);
		if (!len[i] || (!u && i < 5) || (u && i == 5))
			return 0;
		p = u ? u + 1 : p;
	}
	if (len[4] != strlen(pod_uid) || strncmp(f[4], pod_uid, len[4]))
		return 0;
	if (len[1] == 3 && !strncmp(f[1], "POD", 3)) {
		ci->k8s_sandbox = true;
	} else {
		ci->k8s_container = strndup(f[1], len[1]);
		if (!ci->k8s_container)
			return -ENOMEM;
	}
	ci->k8s_pod = strndup(f[2], len[2]);
	ci->k8s_namespace = strndup(f[3], len[3]);
	return ci->k8s_pod && ci->k8s_namespace ? 0 : -ENOMEM;
}

static int resolve_container(struct identity_ctx *ctx, const struct k8s_ctx *k,
			     const char *parent, const char *c, struct cg_identity *id)
{
	/* A bare id: whose it is shows only in which runtime has state for it. */
	static const enum cg_runtime probe[] = {
		CG_RT_DOCKER, CG_RT_CONTAINERD, CG_RT_CRIO,
	};
	struct json_ctr_info ci = { 0 };
	const struct ctr_form *form;
	const char *cid;
	int ret = -ENOENT;
	size_t i;

	form = match_ctr(c, &cid);
	if (form && form->conmon) {
		/* No container_id: the container is its sibling scope, and two
		 * cgroups claiming one id would double it in any aggregation. */
		id->kind = CG_KIND_SCOPE;
		id->runtime = form->runtime;
		return set_fmt(&id->name, "conmon %.12s", cid);
	}

	id->kind = CG_KIND_CONTAINER;
	if (form) {
		id->runtime = form->runtime;
		ret = ctr_info(ctx, form->runtime, cid, &ci);
	} else {
		cid = c;
		if (parent && !strcmp(parent, "docker")) {
			id->runtime = CG_RT_DOCKER;
			ret = ctr_info(ctx, CG_RT_DOCKER, cid, &ci);
		} else {
			for (i = 0; i < sizeof(probe) / sizeof(probe[0]) && ret == -ENOENT; i++) {
				ret = ctr_info(ctx, probe[i], cid, &ci);
				if (!ret)
					id->runtime = probe[i];
			}
			/* Unknown runtime: under a pod the kubelet made it. */
			if (ret == -ENOENT && *k->pod_uid)
				id->runtime = CG_RT_KUBERNETES;
		}
	}
	if (ret == -ENOMEM)
		return ret;

	if ((ret = set_strn(&id->container_id, cid, CTR_ID_LEN)) ||
	    (ret = set_strn(&id->short_id, cid, SHORT_ID_LEN)) ||
	    (ret = parse_k8s_name(&ci, k->pod_uid)))
		goto out;

	/* In a pod the spec's container name is what operators use; the
	 * sandbox gets the kubelet's traditional "POD". */
	if (ci.k8s_container)
		ret = set_str(&id->name, ci.k8s_container);
	else if (ci.k8s_sandbox)
		ret = set_str(&id->name, "POD");
	else
		move_str(&id->name, &ci.name);
	if (ret)
		goto out;
	if (!id->name && (ret = set_strn(&id->name, cid, SHORT_ID_LEN)))
		goto out;
	move_str(&id->image, &ci.image);
	move_str(&id->k8s_namespace, &ci.k8s_namespace);
	move_str(&id->k8s_pod, &ci.k8s_pod);
	move_str(&id->k8s_container, &ci.k8s_container);
out:
	json_ctr_info_clear(&ci);
	return ret;
}

/* Everything at or below a pod: its uid, QoS and, when the kubelet's log
 * directory tells, namespace and pod name. */
static int apply_pod(struct identity_ctx *ctx, const struct k8s_ctx *k,
		     struct cg_identity *id)
{
	const struct pod_entry *pe = NULL;
	int ret;

	id->qos = k->qos;
	ret = set_str(&id->pod_uid, k->pod_uid);
	if (ret)
		return ret;
	if (ctx && (!id->k8s_namespace || !id->k8s_pod)) {
		ret = pods_refresh(ctx);
		if (ret)
			return ret;
		pe = pods_find(ctx, k->pod_uid);
	}
	if (pe && !id->k8s_namespace && (ret = set_str(&id->k8s_namespace, pe->ns)))
		return ret;
	if (pe && !id->k8s_pod && (ret = set_str(&id->k8s_pod, pe->name)))
		return ret;
	if (k->level != K8S_POD)
		return 0;
	id->kind = CG_KIND_POD;
	id->runtime = CG_RT_KUBERNETES;
	if (id->k8s_pod)
		return set_str(&id->name, id->k8s_pod);
	return set_fmt(&id->name, "pod %s", k->pod_uid);
}

/* ---- public -------------------------------------------------------------- */

int identity_ctx_new(const char *state_root, struct identity_ctx **out)
{
	struct identity_ctx *ctx;
	size_t n;

	if (!out)
		return -EINVAL;
	if (!state_root)
		state_root = "";
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	/* Paths are built as root + "/var/...": "/" and "dir/" must not
	 * become "//var" (harmless) or worse, "" + "var" (relative). */
	n = strlen(state_root);
	while (n > 0 && state_root[n - 1] == '/')
		n--;
	ctx->state_root = strndup(state_root, n);
	if (!ctx->state_root) {
		free(ctx);
		return -ENOMEM;
	}
	*out = ctx;
	return 0;
}

void identity_ctx_free(struct identity_ctx *ctx)
{
	if (!ctx)
		return;
	storage_drop(ctx);
	pods_drop(ctx);
	free(ctx->state_root);
	free(ctx);
}

void identity_clear(struct cg_identity *id)
{
	if (!id)
		return;
	free((char *)id->name);
	free((char *)id->container_id);
	free((char *)id->short_id);
	free((char *)id->image);
	free((char *)id->pod_uid);
	free((char *)id->k8s_namespace);
	free((char *)id->k8s_pod);
	free((char *)id->k8s_container);
	memset(id, 0, sizeof(*id));
}

/* ctx may be NULL: then only the path speaks (no runtime state is read). */
int identity_resolve(struct identity_ctx *ctx, const char *path, struct cg_identity *out)
{
	struct cg_identity id = { 0 };
	struct k8s_ctx k = { 0 };
	char *buf, *comp, *save = NULL;
	const char *last = NULL, *parent = NULL, *cid;
	int ret = 0;

	buf = strdup(path ? path : "");
	if (!buf)
		return -ENOMEM;
	/* strtok_r skips empty components, so "a//b" and "/a" cost nothing. */
	for (comp = strtok_r(buf, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		parent = last;
		last = comp;
		k8s_step(&k, comp);
	}

	if (!last) {
		/* The root belongs to no runtime, even on a systemd host. */
		id.kind = CG_KIND_OTHER;
		ret = set_str(&id.name, "/");
	} else if (k.level == K8S_ROOT || k.level == K8S_QOS) {
		id.kind = CG_KIND_SLICE;
		id.runtime = CG_RT_KUBERNETES;
		id.qos = k.qos;
		ret = set_unescaped(&id.name, last);
	} else if (k.level == K8S_POD) {
		ret = 0;	/* apply_pod() names it */
	} else if (match_ctr(last, &cid) ||
		   is_ctr_id(last, strlen(last))) {
		ret = resolve_container(ctx, &k, parent, last, &id);
	} else if (!resolve_unit(last, &id, &ret)) {
		id.kind = CG_KIND_OTHER;
		id.runtime = CG_RT_NONE;
		ret = set_str(&id.name, last);
	}
	if (!ret && *k.pod_uid)
		ret = apply_pod(ctx, &k, &id);

	free(buf);
	if (ret) {
		identity_clear(&id);
		return ret;
	}
	/* Runtime state and (for --root trees) paths are someone else's
	 * bytes: no string of the identity is longer than STR_MAX. */
	cap_str((char **)&id.name);
	cap_str((char **)&id.image);
	cap_str((char **)&id.k8s_namespace);
	cap_str((char **)&id.k8s_pod);
	cap_str((char **)&id.k8s_container);
	*out = id;
	return 0;
}

bool identity_is_provisional(const struct cg_identity *id)
{
	if (id->kind == CG_KIND_POD)
		return !id->k8s_pod;
	if (id->kind == CG_KIND_CONTAINER)
		return !id->name || (id->short_id && strcmp(id->name, id->short_id) == 0);
	return false;
}
