/* SPDX-License-Identifier: GPL-2.0-only */
/* The data model's helpers: the per-snapshot arena and the names of enums. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "snapshot.h"

/*
 * A chain of chunks. Reset keeps the first chunk (and frees the rest), so a
 * steady-state tick allocates nothing from malloc once the first chunk has
 * grown to the tree's size.
 */
struct arena_chunk {
	struct arena_chunk *next;
	size_t size, used;
	unsigned char data[];
};

struct cg_arena {
	struct arena_chunk *head;	/* current chunk, newest first */
	size_t total_used;
	size_t high_water;		/* largest total seen, sizes the next first chunk */
};

#define ARENA_MIN_CHUNK (64 * 1024)

static struct arena_chunk *chunk_new(size_t size)
{
	struct arena_chunk *c = malloc(sizeof(*c) + size);

	if (!c)
		return NULL;
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

struct cg_arena *arena_new(void)
{
	return calloc(1, sizeof(struct cg_arena));
}

static void chunks_free(struct arena_chunk *c)
{
	while (c) {
		struct arena_chunk *next = c->next;

		free(c);
		c = next;
	}
}

void arena_free(struct cg_arena *a)
{
	if (!a)
		return;
	chunks_free(a->head);
	free(a);
}

void arena_reset(struct cg_arena *a)
{
	if (a->total_used > a->high_water)
		a->high_water = a->total_used;
	/* More than one chunk: replace them by one that fits last tick's use. */
	if (a->head && a->head->next) {
		chunks_free(a->head);
		a->head = chunk_new(a->high_water + a->high_water / 4);
	} else if (a->head) {
		a->head->used = 0;
	}
	a->total_used = 0;
}

void *arena_alloc(struct cg_arena *a, size_t size)
{
	size_t need = (size + 15) & ~(size_t)15;
	struct arena_chunk *c = a->head;

	if (need < size)
		return NULL;
	if (!c || c->size - c->used < need) {
		size_t csize = need > ARENA_MIN_CHUNK ? need : ARENA_MIN_CHUNK;

		if (c && c->size * 2 > csize)
			csize = c->size * 2;
		c = chunk_new(csize);
		if (!c)
			return NULL;
		c->next = a->head;
		a->head = c;
	}
	void *p = c->data + c->used;

	c->used += need;
	a->total_used += need;
	return p;
}

const char *arena_strdup(struct cg_arena *a, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *p = arena_alloc(a, n);

	if (p)
		memcpy(p, s, n);
	return p;
}

/* Copies one optional string; sets *err on failure. */
static const char *dup_opt(struct cg_arena *a, const char *s, int *err)
{
	const char *d;

	if (!s)
		return NULL;
	d = arena_strdup(a, s);
	if (!d)
		*err = -ENOMEM;
	return d;
}

int sample_copy_into(struct cg_sample *dst, const struct cg_sample *src,
		     struct cg_arena *a)
{
	struct cg_sample tmp = *src;
	struct cg_identity *id = &tmp.ident;
	int err = 0;

	tmp.path = dup_opt(a, src->path, &err);
	id->name = dup_opt(a, src->ident.name, &err);
	id->container_id = dup_opt(a, src->ident.container_id, &err);
	id->short_id = dup_opt(a, src->ident.short_id, &err);
	id->image = dup_opt(a, src->ident.image, &err);
	id->pod_uid = dup_opt(a, src->ident.pod_uid, &err);
	id->k8s_namespace = dup_opt(a, src->ident.k8s_namespace, &err);
	id->k8s_pod = dup_opt(a, src->ident.k8s_pod, &err);
	id->k8s_container = dup_opt(a, src->ident.k8s_container, &err);
	if (src->nr_io) {
		struct cg_io_dev *io = arena_alloc(a, sizeof(*io) * src->nr_io);

		if (!io)
			return -ENOMEM;
		for (uint32_t i = 0; i < src->nr_io; i++) {
			io[i] = src->io[i];
			io[i].name = dup_opt(a, src->io[i].name, &err);
		}
		tmp.io = io;
	}
	if (err)
		return err;
	*dst = tmp;
	return 0;
}

static const char *const kind_names[CG_KIND__COUNT] = {
	[CG_KIND_OTHER] = "other",	 [CG_KIND_CONTAINER] = "container",
	[CG_KIND_POD] = "pod",		 [CG_KIND_SERVICE] = "service",
	[CG_KIND_SCOPE] = "scope",	 [CG_KIND_SLICE] = "slice",
	[CG_KIND_SESSION] = "session",
};

static const char *const runtime_names[CG_RT__COUNT] = {
	[CG_RT_NONE] = NULL,		  [CG_RT_DOCKER] = "docker",
	[CG_RT_CONTAINERD] = "containerd", [CG_RT_CRIO] = "cri-o",
	[CG_RT_PODMAN] = "podman",	  [CG_RT_SYSTEMD] = "systemd",
	[CG_RT_KUBERNETES] = "kubernetes",
};

#define CG_KEY_NAME(e, k, u) #k,
const char *const cg_memstat_keys[CG_MS__COUNT] = { CG_MEMSTAT_KEYS(CG_KEY_NAME) };
const char *const cg_memevent_keys[CG_ME__COUNT] = { CG_MEMEVENT_KEYS(CG_KEY_NAME) };
const char *const cg_cpu_keys[CG_CPU__COUNT] = { CG_CPU_KEYS(CG_KEY_NAME) };
const char *const cg_io_keys[CG_IO__COUNT] = { CG_IO_KEYS(CG_KEY_NAME) };

static const char *const psi_names[CG_PSI__COUNT] = { "cpu", "memory", "io" };

static const char *const qos_names[] = {
	[CG_QOS_NONE] = NULL, [CG_QOS_GUARANTEED] = "guaranteed",
	[CG_QOS_BURSTABLE] = "burstable", [CG_QOS_BESTEFFORT] = "besteffort",
};

#define NAME_OR_NULL(tbl, i) ((unsigned)(i) < sizeof(tbl) / sizeof(tbl[0]) ? tbl[i] : NULL)

const char *cg_kind_name(enum cg_kind k)
{
	const char *n = NAME_OR_NULL(kind_names, k);

	return n ? n : "other";
}

const char *cg_runtime_name(enum cg_runtime r) { return NAME_OR_NULL(runtime_names, r); }
const char *cg_qos_name(enum cg_k8s_qos q) { return NAME_OR_NULL(qos_names, q); }
const char *cg_psi_resource_name(enum cg_psi_resource r) { return NAME_OR_NULL(psi_names, r); }

const struct cg_sample *snapshot_find_path(const struct cg_snapshot *s, const char *path)
{
	for (size_t i = 0; i < s->nr_samples; i++)
		if (strcmp(s->samples[i].path, path) == 0)
			return &s->samples[i];
	return NULL;
}

const struct cg_sample *snapshot_find_id(const struct cg_snapshot *s, uint64_t id)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->nr_samples; i++)
		if (s->samples[i].id == id)
			return &s->samples[i];
	return NULL;
}
