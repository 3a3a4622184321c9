/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * User side of bpf/cgw_iter.bpf.c: pick the object whose rstat flush kfunc
 * the running kernel has, load it with an array as large as asked, attach
 * it to the walk's root, and walk: bpf_iter_create() + read() runs the
 * program over the whole subtree; the records are then in the mmapped
 * array. A tree that outgrew the array is walked again after a reload
 * with a larger one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include "bpflog.h"
#include "iterbpf.h"
#include "cgw_iter_css.skel.h"
#include "cgw_iter_cgrp.skel.h"

#define KERNEL_BTF "/sys/kernel/btf/vmlinux"
#define DEFAULT_CAP 4096
/* Walks after a grow that may still find the tree larger: cgroups made
 * faster than we reload. Each grow at least doubles. */
#define MAX_GROWS 4
/* Far beyond any tree we were asked about (the fd limit here keeps file
 * readers near 10,000 cgroups); 464 MiB of records at most, so a runaway
 * count cannot ask for more. */
#define MAX_CAP (1u << 20)

/* One skeleton's parts, whichever flush variant it is. */
struct loaded {
	void *skel;
	struct bpf_link *link;
	struct cgw_iter_counts *counts;	/* the program's .bss, mmapped by libbpf */
	struct cgw_iter_rec *recs;	/* the array, mmapped here */
	size_t recs_len;
	uint32_t cap;
};

/* The two skeletons differ only in their type names. */
struct variant {
	const char *flush;		/* the kfunc the object calls */
	void *(*open)(void);
	int (*load)(void *skel);
	void (*destroy)(void *skel);
	struct bpf_map *(*recs)(void *skel);
	struct bpf_program *(*prog)(void *skel);
	struct cgw_iter_counts *(*counts)(void *skel);
};

#define VARIANT(name, kfunc)							\
static void *name##_open(void) { return name##__open(); }			\
static int name##_load(void *s) { return name##__load(s); }			\
static void name##_destroy(void *s) { name##__destroy(s); }			\
static struct bpf_map *name##_recs(void *s) { return ((struct name *)s)->maps.recs; } \
static struct bpf_program *name##_prog(void *s)				\
{										\
	return ((struct name *)s)->progs.cgw_iter;				\
}										\
static struct cgw_iter_counts *name##_counts(void *s)				\
{										\
	return &((struct name *)s)->bss->counts;				\
}										\
static const struct variant name##_variant = {					\
	kfunc, name##_open, name##_load, name##_destroy, name##_recs,		\
	name##_prog, name##_counts,						\
}

VARIANT(cgw_iter_css, "css_rstat_flush");
VARIANT(cgw_iter_cgrp, "cgroup_rstat_flush");

struct iterbpf {
	int root_fd;			/* our dup: a grow re-attaches to it */
	const struct variant *var;
	struct loaded cur;
	uint64_t last_walk_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void unload(const struct variant *var, struct loaded *l)
{
	bpf_link__destroy(l->link);
	if (l->recs)
		munmap(l->recs, l->recs_len);
	if (l->skel)
		var->destroy(l->skel);
	memset(l, 0, sizeof(*l));
}

/* Why a load or attach failed, for people. */
static void explain(char *why, size_t whylen, const char *step, int err)
{
	if (err == -EPERM || err == -EACCES) {
		if (geteuid() != 0)
			snprintf(why, whylen, "needs root (CAP_BPF, CAP_PERFMON)");
		else
			snprintf(why, whylen, "cgroup iterator refused (%s) although root: "
				 "lockdown or seccomp? %s", strerror(-err), bpflog_first());
		return;
	}
	if (err == -EBADF && strcmp(step, "attaching") == 0) {
		/* The kernel takes only a cgroup2 directory as the root. */
		snprintf(why, whylen, "attaching the cgroup iterator: the walk's root is not "
			 "a cgroup2 directory");
		return;
	}
	if (bpflog_first()[0])
		snprintf(why, whylen, "%s the cgroup iterator: %s (%s)", step, strerror(-err),
			 bpflog_first());
	else
		snprintf(why, whylen, "%s the cgroup iterator: %s", step, strerror(-err));
}

/* Open, size, load, attach and map one copy of the program. */
static int load(const struct variant *var, int root_fd, uint32_t cap, struct loaded *l,
		char *why, size_t whylen)
{
	union bpf_iter_link_info info;
	LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &info,
		    .link_info_len = sizeof(info));
	/* The print hook only while we load (bpflog.h): our warnings. */
	libbpf_print_fn_t old_print = libbpf_set_print(bpflog_print);
	const char *step = "loading";
	int err = 0;
	void *p;

	memset(l, 0, sizeof(*l));
	bpflog_reset();
	l->skel = var->open();
	if (!l->skel) {
		err = -errno;
		goto fail;
	}
	l->cap = cap;
	err = bpf_map__set_max_entries(var->recs(l->skel), cap);
	if (!err)
		err = var->load(l->skel);
	if (err)
		goto fail;

	step = "attaching";
	memset(&info, 0, sizeof(info));
	info.cgroup.cgroup_fd = (__u32)root_fd;
	info.cgroup.order = BPF_CGROUP_ITER_DESCENDANTS_PRE;
	l->link = bpf_program__attach_iter(var->prog(l->skel), &opts);
	if (!l->link) {
		err = -errno;
		goto fail;
	}

	step = "mapping the records of";
	/* An mmapable array's elements are contiguous, each rounded up to
	 * 8 bytes, which the record already is. */
	l->recs_len = (size_t)cap * sizeof(struct cgw_iter_rec);
	p = mmap(NULL, l->recs_len, PROT_READ, MAP_SHARED, bpf_map__fd(var->recs(l->skel)), 0);
	if (p == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	l->recs = p;
	l->counts = var->counts(l->skel);
	libbpf_set_print(old_print);
	return 0;
fail:
	if (!err)
		err = -EINVAL;
	explain(why, whylen, step, err);
	unload(var, l);
	libbpf_set_print(old_print);
	return err;
}

_Static_assert(sizeof(struct cgw_iter_rec) % 8 == 0, "array elements are 8-byte aligned");

int iterbpf_open(int root_fd, uint32_t cap, struct iterbpf **out, char *why, size_t whylen)
{
	struct iterbpf *it;
	struct btf *btf;
	int err;

	*out = NULL;
	if (why && whylen)
		why[0] = '\0';
	if (access(KERNEL_BTF, R_OK)) {
		snprintf(why, whylen, "no kernel BTF (%s)", KERNEL_BTF);
		return -ENOENT;
	}
	btf = btf__load_vmlinux_btf();
	if (!btf) {
		err = -errno;
		snprintf(why, whylen, "cannot read kernel BTF (%s): %s", KERNEL_BTF, strerror(errno));
		return err ? err : -ENOENT;
	}
	it = calloc(1, sizeof(*it));
	if (!it) {
		btf__free(btf);
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	/* The iterator's context type is in BTF exactly when the kernel has
	 * the iterator; the flush kfunc decides which object loads. */
	if (btf__find_by_name_kind(btf, "bpf_iter__cgroup", BTF_KIND_STRUCT) < 0) {
		snprintf(why, whylen, "kernel has no BPF cgroup iterator (needs 6.1)");
		err = -EOPNOTSUPP;
	} else if (btf__find_by_name_kind(btf, "css_rstat_flush", BTF_KIND_FUNC) >= 0) {
		it->var = &cgw_iter_css_variant;
	} else if (btf__find_by_name_kind(btf, "cgroup_rstat_flush", BTF_KIND_FUNC) >= 0) {
		it->var = &cgw_iter_cgrp_variant;
	} else {
		snprintf(why, whylen, "kernel has neither css_rstat_flush nor cgroup_rstat_flush");
		err = -EOPNOTSUPP;
	}
	btf__free(btf);
	if (!it->var) {
		free(it);
		return err;
	}

	it->root_fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
	if (it->root_fd < 0) {
		err = -errno;
		snprintf(why, whylen, "walk root: %s", strerror(errno));
		free(it);
		return err;
	}
	if (!cap)
		cap = DEFAULT_CAP;
	if (cap > MAX_CAP)
		cap = MAX_CAP;
	err = load(it->var, it->root_fd, cap, &it->cur, why, whylen);
	if (err) {
		iterbpf_close(it);
		return err;
	}
	*out = it;
	return 0;
}

void iterbpf_close(struct iterbpf *it)
{
	if (!it)
		return;
	if (it->var)
		unload(it->var, &it->cur);
	if (it->root_fd >= 0)
		close(it->root_fd);
	free(it);
}

/* One read() of a fresh iterator: the whole walk. */
static int walk_once(struct iterbpf *it, char *why, size_t whylen)
{
	/* The program writes nothing to the seq_file; read() returns 0
	 * once every cgroup is visited. */
	char buf[64];
	uint64_t t0;
	ssize_t n;
	int fd, err = 0;

	/* Counted afresh: a walk whose root is gone visits nothing. */
	memset(it->cur.counts, 0, sizeof(*it->cur.counts));
	t0 = now_ns();
	fd = bpf_iter_create(bpf_link__fd(it->cur.link));
	if (fd < 0) {
		err = -errno;
		snprintf(why, whylen, "cgroup iterator: %s", strerror(errno));
		return err;
	}
	do {
		n = read(fd, buf, sizeof(buf));
	} while (n > 0 || (n < 0 && errno == EINTR));
	if (n < 0) {
		err = -errno;
		snprintf(why, whylen, "cgroup iterator read: %s", strerror(errno));
	}
	close(fd);
	it->last_walk_ns = now_ns() - t0;
	return err;
}

static uint32_t cap_for(uint64_t visited)
{
	uint64_t c = 64;

	while (c < 2 * visited && c < MAX_CAP)
		c <<= 1;
	return (uint32_t)c;
}

/* A larger array: load the new copy before dropping the old one, so a
 * failed grow leaves a working (if too small) iterator. */
static int grow(struct iterbpf *it, uint64_t visited, char *why, size_t whylen)
{
	struct loaded l;
	uint32_t cap = cap_for(visited);
	int err;

	if (cap <= it->cur.cap) {
		snprintf(why, whylen, "cgroup iterator: %llu cgroups, more than %u records",
			 (unsigned long long)visited, it->cur.cap);
		return -E2BIG;
	}
	err = load(it->var, it->root_fd, cap, &l, why, whylen);
	if (err)
		return err;
	unload(it->var, &it->cur);
	it->cur = l;
	return 0;
}

int iterbpf_walk(struct iterbpf *it, const struct cgw_iter_rec **recs, uint32_t *n,
		 char *why, size_t whylen)
{
	int err;

	*recs = NULL;
	*n = 0;
	for (int grows = 0;; grows++) {
		const struct cgw_iter_counts *c;

		err = walk_once(it, why, whylen);
		if (err)
			return err;
		c = it->cur.counts;
		if (!c->visited) {
			/* The root is visited first whenever it is alive; a
			 * removed one is skipped, and with it everything. */
			snprintf(why, whylen, "cgroup iterator: the walk's root cgroup is gone");
			return -ENOENT;
		}
		if (!c->overflow)
			break;
		if (grows == MAX_GROWS) {
			snprintf(why, whylen, "cgroup iterator: the tree outgrew %u records %d times",
				 it->cur.cap, MAX_GROWS);
			return -EOVERFLOW;
		}
		err = grow(it, c->visited, why, whylen);
		if (err)
			return err;
	}
	*recs = it->cur.recs;
	*n = (uint32_t)it->cur.counts->nrec;
	return 0;
}

const char *iterbpf_flush_name(const struct iterbpf *it)
{
	return it->var->flush;
}

uint64_t iterbpf_last_walk_ns(const struct iterbpf *it)
{
	return it->last_walk_ns;
}

uint32_t iterbpf_capacity(const struct iterbpf *it)
{
	return it->cur.cap;
}
