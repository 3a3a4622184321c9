// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cgfs.h"
#include "clock.h"
#include "fdbudget.h"
#include "host.h"
#include "idmap.h"
#include "parse.h"
#include "src_files.h"
#include "textesc.h"

/* Devices kept from one io.stat (the kernel lists those the cgroup did I/O
 * on): bounds the per-device work of a hostile one. */
#define IO_DEVS_MAX	1024
/* io.stat's device count's bit in cut_warned, after the per-file ones. */
#define CUT_IO_DEVS	(1u << CGF__COUNT)

static const char *const cgroup_events_keys[] = { "populated", "frozen" };

/* The last read of a cgroup's slow-tier files (CGF_SLOW), carried into
 * the samples of the ticks they are not due. */
struct sf_carry {
	uint32_t have;			/* CGF bits read and parsed */
	uint64_t read_usec;		/* CLOCK_MONOTONIC of that read */
	uint64_t tick;			/* the source's tick of that read */
	uint64_t phase;			/* when in the period it is read */
	uint64_t memstat_have;
	uint64_t memstat[CG_MS__COUNT];
	uint64_t procs, threads;
	uint32_t nr_io;
	struct cg_io_dev *io;		/* malloc'd; names are the host's */
};

/* What is kept for one cgroup. */
struct sf_entry {
	uint64_t id;
	uint32_t open;			/* CGF bits with a kept fd */
	uint32_t absent;		/* failed alone (controller gone): not
					 * read again until the next listing */
	int fd[CGF__COUNT];
	struct sf_carry *carry;		/* once the slow tier is used */
};

struct src_files {
	struct cg_source src;
	const char *root_path;
	struct host *host;
	struct fd_budget *fds;
	bool quiet;

	struct sf_entry *ent;		/* dense: a forgotten one takes the last's place */
	uint32_t nr, cap;
	struct idmap map;		/* id -> index in ent */

	struct cg_arena *arena;		/* of the snapshot being built */
	struct cgfs_buf buf;
	struct cg_io_dev *io_scratch;
	size_t cap_io;
	uint32_t cut_warned;		/* CGF bits, CUT_IO_DEVS: said once */
	uint64_t files_read, reopened;	/* this tick */
	uint64_t tick;
	uint64_t slow_usec;		/* this tick: time in slow-tier reads */
	uint32_t slow_cgroups;		/* this tick: cgroups whose were read */
	uint32_t slow_every;		/* in force this tick (0: no slow tier) */
	uint64_t tick_usec;		/* CLOCK_MONOTONIC at this tick's begin */
};

#define SF(s) ((struct src_files *)(s))

static void carry_free(struct sf_entry *e)
{
	if (!e->carry)
		return;
	free(e->carry->io);
	free(e->carry);
	e->carry = NULL;
}

static struct sf_entry *entry_get(struct src_files *sf, const struct cg_where *w)
{
	uint32_t i = idmap_get(&sf->map, w->id);
	struct sf_entry *e;

	if (i != IDMAP_NONE) {
		e = &sf->ent[i];
		if (w->born) {
			/* The id of a cgroup we knew, reused (fixture trees on
			 * tmpfs do that): its fds read the old directory. */
			for (int f = 0; f < CGF__COUNT; f++)
				fd_budget_close(sf->fds, &e->fd[f]);
			e->open = e->absent = 0;
			carry_free(e);
		}
		return e;
	}
	if (sf->nr == sf->cap) {
		uint32_t cap = sf->cap ? sf->cap * 2 : 256;
		struct sf_entry *p = realloc(sf->ent, cap * sizeof(*p));

		if (!p)
			return NULL;
		sf->ent = p;
		sf->cap = cap;
	}
	if (idmap_put(&sf->map, w->id, sf->nr))
		return NULL;
	e = &sf->ent[sf->nr++];
	e->id = w->id;
	e->open = e->absent = 0;
	e->carry = NULL;
	for (int f = 0; f < CGF__COUNT; f++)
		e->fd[f] = -1;
	return e;
}

static void close_files(struct src_files *sf, struct sf_entry *e, uint32_t which)
{
	for (uint32_t m = e->open & which; m; m &= m - 1)
		fd_budget_close(sf->fds, &e->fd[__builtin_ctz(m)]);
	e->open &= ~which;
}

static void files_forget(struct cg_source *src, uint64_t id)
{
	struct src_files *sf = SF(src);
	uint32_t i = idmap_get(&sf->map, id);

	if (i == IDMAP_NONE)
		return;
	close_files(sf, &sf->ent[i], CGF_ALL);
	carry_free(&sf->ent[i]);
	idmap_del(&sf->map, id);
	if (i != --sf->nr) {
		sf->ent[i] = sf->ent[sf->nr];
		idmap_put(&sf->map, sf->ent[i].id, i);	/* in place: cannot fail */
	}
}

/* Newest entries first, the way the walk used to shed its last nodes. */
static void files_shed(struct cg_source *src)
{
	struct src_files *sf = SF(src);

	for (uint32_t i = sf->nr; i-- > 0 && fd_budget_over(sf->fds);)
		close_files(sf, &sf->ent[i], CGF_ALL);
}

void src_files_warn_cut(const char *root, const char *path, const char *file, uint32_t max)
{
	char full[PATH_MAX], safe[1024];

	snprintf(full, sizeof(full), "%s/%s%s%s", root, path, *path ? "/" : "", file);
	text_escape(full, false, safe, sizeof(safe));
	fprintf(stderr, "cgwarden: %s is longer than %u KiB: the rest is ignored (said once "
		"for each file name)\n", safe, max >> 10);
}

/* A file longer than its cap: its first max bytes were used. Said once per
 * file name; the path, any bytes a cgroup's creator chose, is escaped. */
static __attribute__((noinline, cold)) void warn_cut(struct src_files *sf, int f,
						     const char *path)
{
	sf->cut_warned |= CGF_BIT(f);
	if (!sf->quiet)
		src_files_warn_cut(sf->root_path, path, cg_files[f].name, cg_files[f].max);
}

/* An io.stat with more than IO_DEVS_MAX devices: the first are used. */
static __attribute__((noinline, cold)) void warn_cut_devs(struct src_files *sf, const char *path)
{
	char full[PATH_MAX], safe[1024];

	sf->cut_warned |= CUT_IO_DEVS;
	if (sf->quiet)
		return;
	snprintf(full, sizeof(full), "%s/%s%sio.stat", sf->root_path, path, *path ? "/" : "");
	text_escape(full, false, safe, sizeof(safe));
	fprintf(stderr, "cgwarden: %s lists more than %d devices: the rest are ignored (said "
		"once)\n", safe, IO_DEVS_MAX);
}

static int io_into_sample(struct src_files *sf, struct cg_sample *s, const char *buf, size_t len)
{
	int nr;
	struct cg_io_dev *io;

	for (;;) {
		nr = parse_io_stat(buf, len, sf->io_scratch, sf->cap_io);
		if (nr != -ENOSPC)
			break;
		if (sf->cap_io >= IO_DEVS_MAX) {
			/* The first IO_DEVS_MAX are filled and valid. */
			nr = (int)sf->cap_io;
			if (!(sf->cut_warned & CUT_IO_DEVS))
				warn_cut_devs(sf, s->path);
			break;
		}
		size_t cap = sf->cap_io ? sf->cap_io * 2 : 16;
		struct cg_io_dev *p = realloc(sf->io_scratch, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		sf->io_scratch = p;
		sf->cap_io = cap;
	}
	if (nr < 0)
		return nr;
	io = nr ? arena_alloc(sf->arena, (size_t)nr * sizeof(*io)) : NULL;
	if (nr && !io)
		return -ENOMEM;
	for (int i = 0; i < nr; i++) {
		io[i] = sf->io_scratch[i];
		io[i].name = host_block_dev_name(sf->host, io[i].major, io[i].minor);
	}
	s->io = io;
	s->nr_io = (uint32_t)nr;
	return 0;
}

static int u64_into(const char *buf, size_t len, uint64_t *out, uint32_t *have, uint32_t bit)
{
	if (parse_u64_or_max(buf, len, out) == 0)
		*have |= bit;
	return 0;
}

/* Parses one file's text into the sample. Malformed text leaves the field
 * absent; only ENOMEM is an error. */
static int parse_into(struct src_files *sf, struct cg_sample *s, int f, const char *buf,
		      size_t len)
{
	uint64_t have64 = 0, ev[2];

	switch (f) {
	case CGF_CPU_STAT:
		if (parse_keyed(buf, len, cg_cpu_keys, CG_CPU__COUNT, s->cpu, &have64) > 0) {
			s->cpu_have = (uint32_t)have64;
			s->have |= CG_HAVE_CPU_STAT;
		}
		return 0;
	case CGF_CPU_MAX:
		if (parse_cpu_max(buf, len, &s->cpu_max_quota_usec, &s->cpu_max_period_usec) == 0)
			s->have |= CG_HAVE_CPU_MAX;
		return 0;
	case CGF_CPU_WEIGHT: return u64_into(buf, len, &s->cpu_weight, &s->have, CG_HAVE_CPU_WEIGHT);
	case CGF_MEM_CURRENT: return u64_into(buf, len, &s->mem_current, &s->have, CG_HAVE_MEM_CURRENT);
	case CGF_MEM_PEAK: return u64_into(buf, len, &s->mem_peak, &s->have, CG_HAVE_MEM_PEAK);
	case CGF_MEM_MAX: return u64_into(buf, len, &s->mem_max, &s->have, CG_HAVE_MEM_MAX);
	case CGF_MEM_HIGH: return u64_into(buf, len, &s->mem_high, &s->have, CG_HAVE_MEM_HIGH);
	case CGF_MEM_LOW: return u64_into(buf, len, &s->mem_low, &s->have, CG_HAVE_MEM_LOW);
	case CGF_MEM_MIN: return u64_into(buf, len, &s->mem_min, &s->have, CG_HAVE_MEM_MIN);
	case CGF_SWAP_CURRENT: return u64_into(buf, len, &s->swap_current, &s->have, CG_HAVE_SWAP_CURRENT);
	case CGF_SWAP_MAX: return u64_into(buf, len, &s->swap_max, &s->have, CG_HAVE_SWAP_MAX);
	case CGF_PIDS_CURRENT: return u64_into(buf, len, &s->pids_current, &s->have, CG_HAVE_PIDS_CURRENT);
	case CGF_PIDS_MAX: return u64_into(buf, len, &s->pids_max, &s->have, CG_HAVE_PIDS_MAX);
	case CGF_MEM_STAT:
		if (parse_keyed(buf, len, cg_memstat_keys, CG_MS__COUNT, s->memstat, &have64) > 0) {
			s->memstat_have = have64;
			s->have |= CG_HAVE_MEM_STAT;
		}
		return 0;
	case CGF_MEM_EVENTS:
		if (parse_keyed(buf, len, cg_memevent_keys, CG_ME__COUNT, s->memevents, &have64) > 0) {
			s->memevents_have = (uint32_t)have64;
			s->have |= CG_HAVE_MEM_EVENTS;
		}
		return 0;
	case CGF_IO_STAT: {
		int err = io_into_sample(sf, s, buf, len);

		if (err == -ENOMEM)
			return err;
		if (!err)
			s->have |= CG_HAVE_IO_STAT;
		return 0;
	}
	case CGF_CPU_PRESSURE:
	case CGF_MEM_PRESSURE:
	case CGF_IO_PRESSURE: {
		int r = f - CGF_CPU_PRESSURE;

		if (parse_psi(buf, len, &s->psi[r]) == 0)
			s->have |= CG_HAVE_PSI_CPU << r;
		return 0;
	}
	case CGF_PROCS:
	case CGF_THREADS: {
		int64_t lines = parse_count_lines(buf, len);

		if (lines >= 0) {
			*(f == CGF_PROCS ? &s->procs : &s->threads) = (uint64_t)lines;
			s->have |= f == CGF_PROCS ? CG_HAVE_PROCS : CG_HAVE_THREADS;
		}
		return 0;
	}
	case CGF_EVENTS:
		if (parse_keyed(buf, len, cgroup_events_keys, 2, ev, &have64) > 0) {
			s->populated = (have64 & 1) && ev[0];
			s->frozen = (have64 & 2) && ev[1];
			s->have |= CG_HAVE_EVENTS;
		}
		return 0;
	}
	return 0;
}

/* Opens file f of the cgroup: through its directory when there is one,
 * else "name/file" below the parent (one lookup for a lone file). */
static int open_file(const struct cg_where *w, int dfd, int f)
{
	char rel[NAME_MAX + 32];

	if (dfd >= 0)
		return cgfs_openat(dfd, cg_files[f].name, O_RDONLY);
	if ((size_t)snprintf(rel, sizeof(rel), "%s/%s", w->name, cg_files[f].name) >= sizeof(rel))
		return -ENAMETOOLONG;
	return cgfs_openat(w->parent_fd, rel, O_RDONLY);
}

/* Reads file f into sf->buf through the kept fd, or opens it and keeps it
 * while the budget allows. Returns the length or -errno. */
static ssize_t read_file(struct src_files *sf, struct sf_entry *e, const struct cg_where *w,
			 int dfd, int f)
{
	ssize_t len;
	bool cut;
	int fd = e->fd[f];

	if (fd < 0) {
		fd = open_file(w, dfd, f);
		if (fd < 0)
			return fd;
		if (fd_budget_keep(sf->fds)) {
			e->fd[f] = fd;
			e->open |= CGF_BIT(f);
		} else {
			sf->reopened++;
		}
	}
	len = cgfs_pread_max(fd, &sf->buf, cg_files[f].max, &cut);
	if (e->fd[f] != fd)
		close(fd);
	if (len >= 0)
		sf->files_read++;
	if (cut && !(sf->cut_warned & CGF_BIT(f)))
		warn_cut(sf, f, w->path);
	return len;
}

/* Is the cgroup still there (after a read said "gone")? */
static bool still_there(const struct cg_where *w)
{
	struct stat st;

	if (w->parent_fd < 0)
		return true;
	return fstatat(w->parent_fd, w->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       (uint64_t)st.st_ino == w->id;
}

/* Reads the files in bits into s. 0, -ENOMEM, or -ENOENT: the cgroup died
 * under the read. */
static int read_set(struct src_files *sf, struct sf_entry *e, const struct cg_where *w, int dfd,
		    uint32_t bits, struct cg_sample *s)
{
	for (uint32_t m = bits; m; m &= m - 1) {
		int f = __builtin_ctz(m);
		ssize_t len = read_file(sf, e, w, dfd, f);
		int err;

		if (len < 0) {
			if (len == -ENOMEM || (cgfs_gone((int)len) && !still_there(w))) {
				/* Died mid-read: dropped quietly; the sweep
				 * reports its last good counters. */
				return len == -ENOMEM ? -ENOMEM : -ENOENT;
			}
			/* The file went away alone (controller disabled) or
			 * cannot be read: the field is absent until the next
			 * listing. */
			close_files(sf, e, CGF_BIT(f));
			e->absent |= CGF_BIT(f);
			continue;
		}
		err = parse_into(sf, s, f, sf->buf.data, (size_t)len);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Is the cgroup's slow tier due? At its first read yes (there is nothing
 * to carry), and for a file it has not read yet; then every slow_every'th
 * tick, each cgroup at its own phase, so that the cost is spread over the
 * ticks rather than all paid at one.
 */
static bool slow_due(const struct src_files *sf, const struct sf_entry *e, uint32_t slow)
{
	uint64_t n = sf->slow_every;

	if (!e->carry || (slow & ~e->carry->have))
		return true;
	/* The phase comes from the id, not from the first read: all first
	 * reads happen at one tick, under another period. When the period
	 * changes, a cgroup waits at most two of them. */
	return (sf->tick + e->carry->phase) % n == 0 || sf->tick - e->carry->tick >= 2 * n;
}

/* When this sample's counters were read: the collector's read_usec, so
 * that a carried value's age grows exactly as the samples' read times do
 * (a recording predicts it and stores nothing for it); the tick's start
 * for a caller that sets none. */
static uint64_t sample_now(const struct src_files *sf, const struct cg_sample *s)
{
	return s->read_usec ? s->read_usec : sf->tick_usec;
}

static int carry_save(struct src_files *sf, struct sf_entry *e, const struct cg_sample *s,
		      uint32_t slow)
{
	struct sf_carry *c = e->carry;
	bool first = !c;

	if (!c) {
		c = e->carry = calloc(1, sizeof(*c));
		if (!c)
			return -ENOMEM;
	}
	if (s->nr_io > c->nr_io || !c->io) {
		struct cg_io_dev *p = realloc(c->io, (s->nr_io ? s->nr_io : 1) * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->io = p;
	}
	c->have = s->have & slow;
	c->read_usec = sample_now(sf, s);
	c->tick = sf->tick;
	if (first)
		c->phase = cg_tree_hash_add(0, e->id);
	c->memstat_have = s->memstat_have;
	memcpy(c->memstat, s->memstat, sizeof(c->memstat));
	c->procs = s->procs;
	c->threads = s->threads;
	c->nr_io = s->nr_io;
	if (s->nr_io)
		memcpy(c->io, s->io, s->nr_io * sizeof(*c->io));
	return 0;
}

/* The last read's fields, in this sample: the io array is copied into the
 * snapshot's arena, since the carry changes while snapshots still point. */
static int carry_into(struct src_files *sf, const struct sf_entry *e, struct cg_sample *s,
		      uint32_t slow)
{
	const struct sf_carry *c = e->carry;
	uint32_t bits = c->have & slow;

	if (bits & CGF_BIT(CGF_MEM_STAT)) {
		s->memstat_have = c->memstat_have;
		memcpy(s->memstat, c->memstat, sizeof(s->memstat));
	}
	if ((bits & CGF_BIT(CGF_IO_STAT)) && c->nr_io) {
		struct cg_io_dev *io = arena_alloc(sf->arena, c->nr_io * sizeof(*io));

		if (!io)
			return -ENOMEM;
		memcpy(io, c->io, c->nr_io * sizeof(*io));
		s->io = io;
		s->nr_io = c->nr_io;
	}
	if (bits & CGF_BIT(CGF_PROCS))
		s->procs = c->procs;
	if (bits & CGF_BIT(CGF_THREADS))
		s->threads = c->threads;
	s->have |= bits;
	s->carried |= bits;
	s->carried_age_usec = sample_now(sf, s) - c->read_usec;
	return 0;
}

static int files_fill(struct cg_source *src, const struct cg_where *w, struct cg_sample *s,
		      const struct cg_want *want)
{
	struct src_files *sf = SF(src);
	struct sf_entry *e = entry_get(sf, w);
	uint32_t fresh, slow, read, to_open;
	int dfd = w->dirfd, temp_fd = -1, err = 0;
	bool due = false;

	if (!e)
		return -ENOMEM;
	if (w->listed)
		e->absent = 0;
	fresh = w->present & want->files & ~e->absent;
	slow = sf->slow_every ? w->present & want->slow & ~want->files & ~e->absent : 0;
	if (slow)
		due = slow_due(sf, e, slow);
	read = fresh | (due ? slow : 0);
	/* Files no longer wanted, filled by another source, or gone with
	 * their controller: their fds go back to the budget now. */
	if (e->open & ~(fresh | slow))
		close_files(sf, e, ~(fresh | slow));
	to_open = read & ~e->open;
	if (dfd < 0 && (to_open & (to_open - 1))) {
		/* Two files or more to open for a leaf without a kept dirfd:
		 * one dirfd for this fill is cheaper than a two-component
		 * lookup per file. */
		dfd = temp_fd = cgfs_openat(w->parent_fd, w->name, O_RDONLY | O_DIRECTORY);
		if (dfd < 0)
			return -ENOENT;	/* went away since the walk saw it */
	}
	err = read_set(sf, e, w, dfd, fresh, s);
	if (!err && due) {
		uint64_t t0 = mono_usec();

		err = read_set(sf, e, w, dfd, slow, s);
		if (!err)
			err = carry_save(sf, e, s, slow);
		sf->slow_usec += mono_usec() - t0;
		sf->slow_cgroups++;
	} else if (!err && slow) {
		err = carry_into(sf, e, s, slow);
	}
	if (temp_fd >= 0)
		close(temp_fd);
	return err;
}

static int files_begin(struct cg_source *src, struct cg_arena *arena, const struct cg_want *want)
{
	struct src_files *sf = SF(src);

	sf->arena = arena;
	sf->files_read = sf->reopened = 0;
	sf->slow_usec = 0;
	sf->slow_cgroups = 0;
	sf->slow_every = want->slow ? (want->slow_every ? want->slow_every : 1) : 0;
	sf->tick++;
	sf->tick_usec = mono_usec();
	return 0;
}

static void files_self_cost(const struct cg_source *src, struct cg_self *self)
{
	const struct src_files *sf = (const struct src_files *)src;

	self->files_read += sf->files_read;
	self->reopened_files += sf->reopened;
	self->slow_every = sf->slow_every;
	self->slow_read_usec = sf->slow_usec;
	self->slow_cgroups = sf->slow_cgroups;
}

static void files_free(struct cg_source *src)
{
	struct src_files *sf = SF(src);

	for (uint32_t i = 0; i < sf->nr; i++) {
		close_files(sf, &sf->ent[i], CGF_ALL);
		carry_free(&sf->ent[i]);
	}
	free(sf->ent);
	idmap_free(&sf->map);
	cgfs_buf_free(&sf->buf);
	free(sf->io_scratch);
	free(sf);
}

static const struct cg_source_ops files_ops = {
	.name = "cgroupfs",
	.begin = files_begin,
	.fill = files_fill,
	.forget = files_forget,
	.self_cost = files_self_cost,
	.shed = files_shed,
	.free = files_free,
};

int src_files_new(const struct src_files_opts *o, struct cg_source **out)
{
	struct src_files *sf = calloc(1, sizeof(*sf));

	if (!sf)
		return -ENOMEM;
	sf->src.ops = &files_ops;
	sf->root_path = o->root_path;
	sf->host = o->host;
	sf->fds = o->fds;
	sf->quiet = o->quiet;
	*out = &sf->src;
	return 0;
}
