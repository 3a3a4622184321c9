/* SPDX-License-Identifier: GPL-2.0-only */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "cgfile.h"
#include "cgfs.h"
#include "collector.h"
#include "fdbudget.h"
#include "host.h"
#include "identity.h"
#include "idmap.h"
#include "parse.h"
#include "rates.h"
#include "src_bpf.h"
#include "src_files.h"
#include "src_iter.h"
#include "textesc.h"

/*
 * A leaf is listed again every RELIST_EVERY ticks (staggered by node index)
 * so that files appearing when a controller is enabled are picked up; a
 * cgroup with children is listed every tick, because that is how births and
 * deaths are seen.
 */
#define RELIST_EVERY 16
/*
 * With a source that walks the tree itself (the BPF iterator), a directory
 * is listed when the walk's children or controllers of it differ from the
 * last listing; only a rename (same id, same parent) or a file that came
 * without a controller is left for this slower relisting to find.
 */
#define RELIST_HINTED_EVERY 256
/* Deeper subtrees are skipped (recursion bound; real trees are < 16 deep). */
#define MAX_DEPTH 128
#define NO_NODE IDMAP_NONE
/* How long a provisional identity is retried (on the relist schedule). */
#define IDENT_RETRY_TICKS 150
/* The BPF iterator, the files, the eBPF counters. */
#define SOURCES_MAX 3

struct node {
	bool in_use;
	bool listed;			/* listed at least once */
	uint64_t ino;			/* directory inode = cgroup id */
	uint32_t parent;		/* NO_NODE for the root */
	uint32_t depth;
	char *name, *path;
	bool filled;			/* its sources have seen it (cg_where.born) */
	int dirfd;			/* kept dirfd or -1 */
	uint32_t present;		/* files the last listing showed (bit per cg_file) */
	uint64_t children_hash;		/* cg_tree_hash_add() over the listed children */
	uint32_t shape;			/* cg_tree_hint.shape when last seen */
	int stat_fd;			/* cgroup.stat, kept from COLLECTOR_STAT_MIN_CHILDREN children on */
	bool children_are_leaves;	/* cgroup.stat vouched for it this tick */
	uint32_t *children;
	uint32_t nr_children, cap_children;
	uint64_t born_tick, seen_tick;
	uint32_t sample;		/* index in the snapshot of seen_tick */
	uint64_t read_usec;		/* when its counters were read (for rates) */
	struct cg_identity ident;
	bool ident_provisional;		/* fallback name: resolve again later */
};

struct collector {
	char *root_path;
	int root_fd;
	struct host *host;
	struct identity_ctx *ident;
	bool quiet;

	struct node *nodes;
	uint32_t nr_nodes, cap_nodes;
	uint32_t *free_nodes;
	uint32_t nr_free, cap_free;
	struct idmap map;

	uint64_t tick;
	struct cg_snapshot snap[2];
	size_t cap_samples[2], cap_removed[2], cap_added[2];
	int cur;			/* index of the newest snapshot in snap[] */

	/* Shared by the walk's dirfds and cgroup.stat fds, the sources' fds
	 * and the caller's claims. */
	struct fd_budget fds;
	bool depth_warned;
	bool stat_cut_warned;		/* a cgroup.stat over its cap: said once */
	bool leaf_dirfds_shed;		/* leaves' dirfds given back to files */
	bool on_cgroupfs;		/* the root is cgroup2: cgroup.stat is live */
	uint64_t files_read;		/* this tick: the walk's own (cgroup.stat) */
	uint64_t files_read_total;	/* since start: the walk's, the host's, the sources' */

	struct cgfs_buf buf, dirbuf;
	uint32_t *tmp_children;
	uint32_t cap_tmp_children;
	int err;			/* first hard error (ENOMEM) of this tick */

	struct cg_want want;		/* what the consumers want read */
	uint32_t slow_every;		/* the slow tier's period, by cost */
	double slow_usec_per_cgroup;
	struct cg_source *src[SOURCES_MAX];	/* asked in this order */
	unsigned nr_src;
	struct cg_source *tree_src;	/* one that knows the tree, or NULL */
	uint64_t walk_usec;		/* this tick: when its walk ended, or 0 */
	bool debug_sources;		/* CGWARDEN_DEBUG_SOURCES: say who filled what */
	struct cg_oom_event *oom_scratch;	/* drained this tick, before paths */
	size_t nr_oom_scratch, cap_oom_scratch;
	size_t cap_oom[2];
};

/* ---- nodes ---- */

static void close_fd(struct collector *c, int *fd)
{
	fd_budget_close(&c->fds, fd);
}

static void node_release(struct collector *c, uint32_t n)
{
	struct node *nd = &c->nodes[n];

	/* Its parent's list of children names it: list the parent again
	 * before that list is walked. (A walk that vouches for the parent's
	 * children would otherwise keep the list, and this slot, once reused,
	 * would be visited under two parents.) */
	if (nd->parent != NO_NODE && c->nodes[nd->parent].in_use)
		c->nodes[nd->parent].listed = false;
	close_fd(c, &nd->dirfd);
	close_fd(c, &nd->stat_fd);
	/* Only while it maps to this node: an inode number reused by a new
	 * cgroup (fixture filesystems do that) keeps its entry. */
	idmap_del_if(&c->map, nd->ino, n);
	identity_clear(&nd->ident);
	free(nd->children);
	free(nd->name);
	free(nd->path);
	memset(nd, 0, sizeof(*nd));
	if (c->nr_free == c->cap_free) {
		uint32_t cap = c->cap_free ? c->cap_free * 2 : 256;
		uint32_t *p = realloc(c->free_nodes, cap * sizeof(*p));

		if (!p)
			return;	/* the slot is leaked, not reused: harmless */
		c->free_nodes = p;
		c->cap_free = cap;
	}
	c->free_nodes[c->nr_free++] = n;
}

/* Returns the new node's index or NO_NODE (ENOMEM, recorded in c->err). */
static uint32_t node_new(struct collector *c, uint32_t parent, const char *name,
			 size_t namelen, uint64_t ino)
{
	struct node *nd;
	uint32_t n;
	const char *ppath = parent == NO_NODE ? "" : c->nodes[parent].path;
	size_t plen = strlen(ppath);

	if (c->nr_free) {
		n = c->free_nodes[--c->nr_free];
	} else {
		if (c->nr_nodes == c->cap_nodes) {
			uint32_t cap = c->cap_nodes ? c->cap_nodes * 2 : 256;
			struct node *p = realloc(c->nodes, cap * sizeof(*p));

			if (!p)
				goto nomem;
			c->nodes = p;
			c->cap_nodes = cap;
		}
		n = c->nr_nodes++;
	}
	nd = &c->nodes[n];
	memset(nd, 0, sizeof(*nd));
	nd->dirfd = -1;
	nd->stat_fd = -1;
	nd->ino = ino;
	nd->parent = parent;
	nd->depth = parent == NO_NODE ? 0 : c->nodes[parent].depth + 1;
	nd->born_tick = c->tick;
	nd->name = strndup(name, namelen);
	nd->path = malloc(plen + 1 + namelen + 1);
	if (!nd->name || !nd->path)
		goto undo;
	if (parent == NO_NODE)
		nd->path[0] = '\0';
	else if (plen)
		sprintf(nd->path, "%s/%s", ppath, nd->name);
	else
		strcpy(nd->path, nd->name);
	nd->in_use = true;
	if (identity_resolve(c->ident, nd->path, &nd->ident) || idmap_put(&c->map, ino, n))
		goto undo;
	nd->ident_provisional = identity_is_provisional(&nd->ident);
	return n;
undo:
	nd->in_use = true;
	node_release(c, n);
nomem:
	c->err = -ENOMEM;
	return NO_NODE;
}

/* ---- the walk ---- */

struct list_ctx {
	struct collector *c;
	uint32_t parent;
	uint32_t nr_children;
	uint32_t present;
};

static int match_file(const struct cgfs_dirent *d)
{
	for (int f = 0; f < CGF__COUNT; f++)
		if (cg_files[f].len == d->namelen && memcmp(cg_files[f].name, d->name, d->namelen) == 0)
			return f;
	return -1;
}

static int on_dirent(void *arg, const struct cgfs_dirent *d)
{
	struct list_ctx *lc = arg;
	struct collector *c = lc->c;
	uint32_t child;

	if (d->type == DT_REG) {
		int f = match_file(d);

		if (f >= 0)
			lc->present |= 1u << f;
		return 0;
	}
	if (d->type != DT_DIR)
		return 0;
	child = idmap_get(&c->map, d->ino);
	/* The same inode under another parent or name is a new cgroup that
	 * reused the number; the old node is swept as dead. */
	if (child != NO_NODE && (c->nodes[child].parent != lc->parent ||
				 strcmp(c->nodes[child].name, d->name) != 0))
		child = NO_NODE;
	if (child == NO_NODE) {
		child = node_new(c, lc->parent, d->name, d->namelen, d->ino);
		if (child == NO_NODE)
			return c->err;
	}
	if (lc->nr_children == c->cap_tmp_children) {
		uint32_t cap = c->cap_tmp_children ? c->cap_tmp_children * 2 : 1024;
		uint32_t *p = realloc(c->tmp_children, cap * sizeof(*p));

		if (!p)
			return c->err = -ENOMEM;
		c->tmp_children = p;
		c->cap_tmp_children = cap;
	}
	c->tmp_children[lc->nr_children++] = child;
	return 0;
}

/* Lists node n's directory: its child cgroups and which files it offers. */
static int list_node(struct collector *c, uint32_t n, int dfd)
{
	struct list_ctx lc = { .c = c, .parent = n };
	int err = cgfs_list_dir(dfd, &c->dirbuf, on_dirent, &lc);
	struct node *nd;

	if (err)
		return err;
	nd = &c->nodes[n];	/* node_new may have moved the array */
	if (lc.nr_children > nd->cap_children) {
		uint32_t *p = realloc(nd->children, lc.nr_children * sizeof(*p));

		if (!p)
			return c->err = -ENOMEM;
		nd->children = p;
		nd->cap_children = lc.nr_children;
	}
	if (lc.nr_children)
		memcpy(nd->children, c->tmp_children, lc.nr_children * sizeof(uint32_t));
	nd->nr_children = lc.nr_children;
	nd->children_hash = 0;
	for (uint32_t i = 0; i < lc.nr_children; i++)
		nd->children_hash = cg_tree_hash_add(nd->children_hash,
						      c->nodes[c->tmp_children[i]].ino);
	/* Files that went away with a controller: the sources drop their fds
	 * when they see the new mask. */
	nd->present = lc.present;
	nd->listed = true;
	return 0;
}

/*
 * On cgroupfs, cgroup.stat's nr_descendants counts every live cgroup below
 * this one. When it equals the number of children just listed, no child has
 * children of its own, so none of them needs the fstat that would tell a
 * leaf grew one: one read per parent instead of one fstat per leaf child
 * (most cgroups are leaves); COLLECTOR_STAT_MIN_CHILDREN says when that pays. A race
 * with a mkdir between the listing and this read can only delay seeing a
 * grandchild by one tick.
 */
static void check_children_are_leaves(struct collector *c, uint32_t n, int dfd)
{
	static const char *const keys[] = { "nr_descendants" };
	struct node *nd = &c->nodes[n];
	uint64_t desc, have = 0;
	ssize_t len;
	bool cut;

	nd->children_are_leaves = false;
	if (!c->on_cgroupfs || nd->nr_children < COLLECTOR_STAT_MIN_CHILDREN) {
		close_fd(c, &nd->stat_fd);
		return;
	}
	if (nd->stat_fd < 0) {
		int fd = cgfs_openat(dfd, "cgroup.stat", O_RDONLY);

		if (fd < 0)
			return;
		if (!fd_budget_keep(&c->fds)) {
			len = cgfs_pread_max(fd, &c->buf, CGF_CAP_KEYED, &cut);
			close(fd);
			goto parse;
		}
		nd->stat_fd = fd;
	}
	len = cgfs_pread_max(nd->stat_fd, &c->buf, CGF_CAP_KEYED, &cut);
parse:
	if (len < 0)
		return;
	if (cut && !c->stat_cut_warned) {
		c->stat_cut_warned = true;
		if (!c->quiet)
			src_files_warn_cut(c->root_path, nd->path, "cgroup.stat", CGF_CAP_KEYED);
	}
	c->files_read++;
	if (parse_keyed(c->buf.data, (size_t)len, keys, 1, &desc, &have) == 1)
		nd->children_are_leaves = desc == nd->nr_children;
}

static struct cg_sample *append_sample(struct collector *c, struct cg_snapshot *snap, int which)
{
	if (snap->nr_samples == c->cap_samples[which]) {
		size_t cap = c->cap_samples[which] ? c->cap_samples[which] * 2 : 256;
		struct cg_sample *p = realloc(snap->samples, cap * sizeof(*p));

		if (!p)
			return NULL;
		snap->samples = p;
		c->cap_samples[which] = cap;
	}
	return &snap->samples[snap->nr_samples++];
}

/* A container or pod seen before its runtime wrote its state: look again.
 * The old strings may be freed: only the previous snapshot, which no
 * consumer holds any more, points at them. */
static void retry_identity(struct collector *c, uint32_t n)
{
	struct node *nd = &c->nodes[n];
	struct cg_identity fresh;

	if (c->tick - nd->born_tick > IDENT_RETRY_TICKS) {
		nd->ident_provisional = false;
		return;
	}
	if (identity_resolve(c->ident, nd->path, &fresh))
		return;
	identity_clear(&nd->ident);
	nd->ident = fresh;
	nd->ident_provisional = identity_is_provisional(&fresh);
}

/* CGWARDEN_DEBUG_SOURCES (cgwarden(8)): which source filled which file's
 * fields, per cgroup, on the first tick. */
static __attribute__((noinline, cold)) void debug_sources(const struct cg_sample *s)
{
	char safe[1024];

	text_escape(*s->path ? s->path : "/", false, safe, sizeof(safe));
	fprintf(stderr, "cgwarden: sources: %s:", safe);
	for (int from_iter = 1; from_iter >= 0; from_iter--) {
		uint32_t m = from_iter ? s->iter_have : s->have & ~s->iter_have;

		fprintf(stderr, " %s", from_iter ? "bpf-iter" : "files");
		if (!m)
			fprintf(stderr, " -");
		for (; m; m &= m - 1)
			fprintf(stderr, " %s", cg_files[__builtin_ctz(m)].name);
		fputc(from_iter ? ';' : '\n', stderr);
	}
}

/* Asks each source to fill node n's sample. 0, -ENOMEM, or "gone". */
static int fill_sample(struct collector *c, uint32_t n, int dfd, int parent_fd, bool listed,
		       struct cg_sample *s)
{
	struct node *nd = &c->nodes[n];
	const struct cg_where where = {
		.id = nd->ino,
		.path = nd->path,
		.name = nd->name,
		.dirfd = dfd,
		.parent_fd = parent_fd,
		.present = nd->present,
		.listed = listed,
		.born = !nd->filled,
	};

	struct cg_want left = c->want;

	for (uint32_t i = 0; i < c->want.nr_focus; i++)
		if (c->want.focus[i] == nd->ino)
			left.files |= c->want.focus_files;
	nd->filled = true;
	for (unsigned i = 0; i < c->nr_src; i++) {
		int err = c->src[i]->ops->fill(c->src[i], &where, s, &left);

		if (err)
			return err;
		/* What one source filled, the next does not read again. */
		left.files &= ~s->have;
	}
	if (c->debug_sources && c->tick == 1)
		debug_sources(s);
	return 0;
}

/* The path is any bytes a cgroup's creator chose: escaped, it cannot drive
 * the terminal this lands on. Out of line, so that visit()'s recursion does
 * not carry the buffer. */
static __attribute__((noinline, cold)) void warn_depth(const char *path)
{
	char safe[1024];

	text_escape(path, false, safe, sizeof(safe));
	fprintf(stderr, "cgwarden: cgroups deeper than %d levels are not shown (first: %s)\n",
		MAX_DEPTH, safe);
}

/* Visits node n and its subtree, appending samples parent first. parent_fd
 * is an open fd of the parent's directory (-1 for the root). */
static void visit(struct collector *c, uint32_t n, int parent_fd, int32_t parent_sample,
		  bool known_leaf)
{
	int which = c->cur ^ 1;
	struct cg_snapshot *snap = &c->snap[which];
	const struct cg_snapshot *prev = &c->snap[c->cur];
	struct node *nd = &c->nodes[n];
	int dfd = nd->dirfd, temp_fd = -1;
	struct stat st;
	struct cg_sample *s;
	uint64_t t_read;
	int err;

	if (nd->depth > MAX_DEPTH) {
		if (!c->depth_warned && !c->quiet)
			warn_depth(nd->path);
		c->depth_warned = true;
		return;
	}
	/* nlink of a cgroupfs directory is 2 + its number of child cgroups, so
	 * a leaf needs no listing to know it has no children. Filesystems that
	 * do not count (nlink < 2) are always listed. */
	bool relist = !nd->listed || (c->tick + n) % RELIST_EVERY == 0;
	struct cg_tree_hint hint;
	bool hinted = c->tree_src && c->tree_src->ops->tree(c->tree_src, nd->ino, &hint);

	if (hinted) {
		/* The walk saw it this tick, with these children: no fstat,
		 * and a listing only when they (or its controllers) changed. */
		if (nd->listed)
			relist = hint.nr_children != nd->nr_children ||
				 hint.children_hash != nd->children_hash ||
				 hint.shape != nd->shape ||
				 (c->tick + n) % RELIST_HINTED_EVERY == 0;
		nd->shape = hint.shape;
		st.st_nlink = 2 + nd->nr_children;
	} else if (known_leaf && !relist && !nd->nr_children) {
		/* The parent's cgroup.stat vouched for it: skip the fstat. */
		st.st_nlink = 2;
	} else {
		err = dfd >= 0 ? fstat(dfd, &st) :
				 fstatat(parent_fd, nd->name, &st, AT_SYMLINK_NOFOLLOW);
		if (err || (nd->parent != NO_NODE && (uint64_t)st.st_ino != nd->ino))
			return;	/* gone (or replaced) since the parent's listing */
	}
	if (relist || (!hinted && st.st_nlink != 2)) {
		if (dfd < 0) {
			dfd = cgfs_openat(parent_fd, nd->name, O_RDONLY | O_DIRECTORY);
			if (dfd < 0)
				return;
			/* A cgroup with children needs its dirfd every tick (to
			 * be listed, and as its children's anchor). A leaf's only
			 * saves an fstatat per tick, so it is kept only while the
			 * budget has never run short: files are worth more. */
			if ((st.st_nlink != 2 || !c->fds.ran_short) && fd_budget_keep(&c->fds)) {
				nd->dirfd = dfd;
			} else {
				temp_fd = dfd;
			}
		}
		err = list_node(c, n, dfd);
		nd = &c->nodes[n];
		if (err == -ENOMEM)
			goto out;
		if (err && cgfs_gone(err))
			goto out;
		check_children_are_leaves(c, n, dfd);
		nd = &c->nodes[n];
		/* Other listing errors (EACCES): keep the children we knew. */
	} else if (hinted) {
		/* Children as listed before; they need their parent's fd. */
		if (nd->nr_children && dfd < 0) {
			dfd = cgfs_openat(parent_fd, nd->name, O_RDONLY | O_DIRECTORY);
			if (dfd < 0)
				return;
			if (fd_budget_keep(&c->fds))
				nd->dirfd = dfd;
			else
				temp_fd = dfd;
		}
		nd->children_are_leaves = false;
	} else {
		nd->nr_children = 0;	/* nlink says: no child cgroups */
	}

	if (nd->ident_provisional && (c->tick + n) % RELIST_EVERY == 0)
		retry_identity(c, n);

	s = append_sample(c, snap, which);
	if (!s) {
		c->err = -ENOMEM;
		goto out;
	}
	memset(s, 0, sizeof(*s));
	s->id = nd->ino;
	s->parent = parent_sample;
	s->parent_id = parent_sample >= 0 ? snap->samples[parent_sample].id : 0;
	s->depth = nd->depth;
	s->path = nd->path;
	s->ident = nd->ident;
	t_read = c->walk_usec ? c->walk_usec : mono_usec();
	s->read_usec = t_read;
	err = fill_sample(c, n, dfd, parent_fd, relist, s);
	if (err) {
		/* Gone mid-read: dropped quietly; the sweep reports its last
		 * good counters. */
		if (err == -ENOMEM)
			c->err = err;
		snap->nr_samples--;
		goto out;
	}
	nd = &c->nodes[n];
	if (nd->seen_tick == c->tick - 1 && c->tick > 1)
		rates_compute(s, &prev->samples[nd->sample], t_read - nd->read_usec);
	else
		rates_compute(s, NULL, 0);
	nd->read_usec = t_read;
	nd->seen_tick = c->tick;
	nd->sample = (uint32_t)(snap->nr_samples - 1);

	{
		int32_t me = (int32_t)nd->sample;
		uint32_t nr = nd->nr_children;

		bool leaves = c->nodes[n].children_are_leaves;

		for (uint32_t i = 0; i < nr && !c->err; i++) {
			uint32_t child = c->nodes[n].children[i];

			/* A slot released and reused since the listing (see
			 * node_release) is another cgroup's now. */
			if (!c->nodes[child].in_use || c->nodes[child].parent != n) {
				c->nodes[n].listed = false;
				continue;
			}
			visit(c, child, dfd, me, leaves);
		}
	}
out:
	if (temp_fd >= 0)
		close(temp_fd);
}

static bool node_known(void *arg, uint64_t id)
{
	struct collector *c = arg;

	return idmap_get(&c->map, id) != NO_NODE;
}

static void on_oom(void *arg, const struct cg_oom_event *ev)
{
	struct collector *c = arg;

	if (c->nr_oom_scratch == c->cap_oom_scratch) {
		size_t cap = c->cap_oom_scratch ? c->cap_oom_scratch * 2 : 16;
		struct cg_oom_event *p = realloc(c->oom_scratch, cap * sizeof(*p));

		if (!p)
			return;	/* an event lost to ENOMEM; the counter still has it */
		c->oom_scratch = p;
		c->cap_oom_scratch = cap;
	}
	c->oom_scratch[c->nr_oom_scratch++] = *ev;
}

/* OOM kills drained this tick, with the victim cgroup's path while the
 * collector still knows it (the cgroup may be removed by this very sweep). */
static int oom_into_snapshot(struct collector *c, struct cg_snapshot *snap, int which)
{
	if (c->nr_oom_scratch > c->cap_oom[which]) {
		struct cg_oom_event *p = realloc(snap->oom, c->nr_oom_scratch * sizeof(*p));

		if (!p)
			return -ENOMEM;
		snap->oom = p;
		c->cap_oom[which] = c->nr_oom_scratch;
	}
	for (size_t i = 0; i < c->nr_oom_scratch; i++) {
		uint32_t n = idmap_get(&c->map, c->oom_scratch[i].cgroup_id);

		snap->oom[i] = c->oom_scratch[i];
		snap->oom[i].path = n != NO_NODE ? arena_strdup(snap->arena, c->nodes[n].path) : NULL;
	}
	snap->nr_oom = c->nr_oom_scratch;
	c->nr_oom_scratch = 0;
	return 0;
}

/* Once the budget has run short, leaves give their dirfds back so that
 * more files can be kept (an fd saves an open per tick on a file, only an
 * fstat-vs-fstatat difference on a leaf's directory). Done once. */
static void shed_leaf_dirfds(struct collector *c)
{
	for (uint32_t n = 1; n < c->nr_nodes; n++)
		if (c->nodes[n].in_use && c->nodes[n].nr_children == 0)
			close_fd(c, &c->nodes[n].dirfd);
	c->leaf_dirfds_shed = true;
}

/* A caller claimed fds the walk keeps: the sources' file fds go back
 * first, then cgroup.stat fds and leaves' dirfds, last nodes first, until
 * the claims fit (between ticks: nothing of the walk is open then). A file
 * without its fd is opened at each tick; a cgroup with children keeps its
 * dirfd (it anchors the walk below it). */
static void shed_for_claims(struct collector *c)
{
	for (unsigned i = 0; i < c->nr_src && fd_budget_over(&c->fds); i++)
		if (c->src[i]->ops->shed)
			c->src[i]->ops->shed(c->src[i]);
	for (uint32_t n = c->nr_nodes; n-- > 1 && fd_budget_over(&c->fds);) {
		struct node *nd = &c->nodes[n];

		if (!nd->in_use)
			continue;
		close_fd(c, &nd->stat_fd);
		if (nd->nr_children == 0)
			close_fd(c, &nd->dirfd);
	}
	c->fds.ran_short = true;
	c->leaf_dirfds_shed = true;
}

int collector_fd_claim(struct collector *c, long n)
{
	int err = fd_budget_claim(&c->fds, n);

	/* At once, not at the next tick: the caller opens its fds now. */
	if (!err && fd_budget_over(&c->fds))
		shed_for_claims(c);
	return err;
}

void collector_fd_release(struct collector *c, long n)
{
	fd_budget_release(&c->fds, n);
}

long collector_fd_budget(const struct collector *c)
{
	return c->fds.budget;
}

void collector_want(struct collector *c, const struct cg_want *want)
{
	c->want = want ? *want : CG_WANT_ALL;
	if (c->want.slow && !c->want.slow_every)
		c->want.slow_every = c->slow_every;
}

/*
 * How often the slow tier is read, chosen by its cost: all cgroups' slow
 * files, read once over slow_every ticks, add at most SLOW_SHARE_PCT % to
 * what the rest of a tick costs. Measured per cgroup on the ticks that read
 * some (the first reads them all), smoothed; N is said in self.slow_every.
 */
#define SLOW_SHARE_PCT 10
#define SLOW_EVERY_MAX 120

static void choose_slow_every(struct collector *c, const struct cg_self *self)
{
	double base, n;

	if (!c->want.slow)
		return;
	if (self->slow_cgroups) {
		double per = (double)self->slow_read_usec / (double)self->slow_cgroups;

		c->slow_usec_per_cgroup = c->slow_usec_per_cgroup > 0 ?
			0.75 * c->slow_usec_per_cgroup + 0.25 * per : per;
	}
	base = self->collect_usec > self->slow_read_usec ?
		(double)(self->collect_usec - self->slow_read_usec) : 1;
	n = c->slow_usec_per_cgroup * (double)self->cgroups * 100 / (SLOW_SHARE_PCT * base);
	c->slow_every = n < 1 ? 1 : n >= SLOW_EVERY_MAX ? SLOW_EVERY_MAX : (uint32_t)n + 1;
}

/* Cgroups not seen this tick are gone: report their last sample once. */
static int sweep(struct collector *c, struct cg_snapshot *snap, int which)
{
	const struct cg_snapshot *prev = &c->snap[c->cur];

	for (uint32_t n = 0; n < c->nr_nodes; n++) {
		struct node *nd = &c->nodes[n];

		if (!nd->in_use)
			continue;
		if (nd->seen_tick == c->tick) {
			if (nd->born_tick == c->tick && c->tick > 1) {
				if (snap->nr_added == c->cap_added[which]) {
					size_t cap = c->cap_added[which] ? c->cap_added[which] * 2 : 64;
					uint32_t *p = realloc(snap->added, cap * sizeof(*p));

					if (!p)
						return -ENOMEM;
					snap->added = p;
					c->cap_added[which] = cap;
				}
				snap->added[snap->nr_added++] = nd->sample;
			}
			continue;
		}
		if (nd->parent == NO_NODE)
			continue;	/* the root cannot go; a failed read of it is not a death */
		if (nd->seen_tick == c->tick - 1 && c->tick > 1) {
			if (snap->nr_removed == c->cap_removed[which]) {
				size_t cap = c->cap_removed[which] ? c->cap_removed[which] * 2 : 64;
				struct cg_sample *p = realloc(snap->removed, cap * sizeof(*p));

				if (!p)
					return -ENOMEM;
				snap->removed = p;
				c->cap_removed[which] = cap;
			}
			int err = sample_copy_into(&snap->removed[snap->nr_removed],
						   &prev->samples[nd->sample], snap->arena);

			if (err)
				return err;
			/* Its parent may be gone too; the index means nothing now. */
			snap->removed[snap->nr_removed].parent = -1;
			snap->nr_removed++;
		}
		/* Unless a new cgroup took over its id this tick. */
		if (idmap_get(&c->map, nd->ino) == n)
			for (unsigned i = 0; i < c->nr_src; i++)
				c->src[i]->ops->forget(c->src[i], nd->ino);
		node_release(c, n);
	}
	return 0;
}

int collector_tick(struct collector *c, const struct cg_snapshot **out)
{
	int which = c->cur ^ 1;
	struct cg_snapshot *snap = &c->snap[which];
	const struct cg_snapshot *prev = &c->snap[c->cur];
	uint64_t t0 = mono_usec();
	int host_files, err;

	c->tick++;
	c->err = 0;
	c->files_read = 0;
	arena_reset(snap->arena);
	snap->nr_samples = snap->nr_removed = snap->nr_added = 0;
	snap->root = c->root_path;

	if (fd_budget_over(&c->fds))
		shed_for_claims(c);
	if (c->fds.ran_short && !c->leaf_dirfds_shed)
		shed_leaf_dirfds(c);
	host_files = host_read(c->host, &snap->host);
	c->walk_usec = 0;
	for (unsigned i = 0; i < c->nr_src; i++) {
		err = c->src[i]->ops->begin(c->src[i], snap->arena, &c->want);
		if (err == -ENOMEM)
			return err;
		/* The walk read every cgroup's counters just now: that is
		 * their time for rates, one clock read instead of one each. */
		if (!err && c->src[i] == c->tree_src)
			c->walk_usec = mono_usec();
	}
	visit(c, 0, -1, -1, false);
	if (c->err)
		return c->err;
	err = oom_into_snapshot(c, snap, which);
	if (!err)
		err = sweep(c, snap, which);
	if (err)
		return err;
	for (unsigned i = 0; i < c->nr_src; i++)
		if (c->src[i]->ops->end)
			c->src[i]->ops->end(c->src[i], node_known, c);

	snap->seq = prev->seq + 1;
	snap->mono_usec = mono_usec();
	snap->wall_usec = wall_usec();
	snap->interval_usec = prev->seq ? snap->mono_usec - prev->mono_usec : 0;
	c->files_read += (uint64_t)host_files;
	snap->self = (struct cg_self){
		.collect_usec = snap->mono_usec - t0,
		.files_read = c->files_read,
		.cgroups = snap->nr_samples,
		.cpu_usec = clock_usec(CLOCK_PROCESS_CPUTIME_ID),
		.rss_bytes = host_self_rss(c->host),
		.kept_fds = (uint64_t)c->fds.kept,
		.fd_budget = (uint64_t)c->fds.budget,
	};
	for (unsigned i = 0; i < c->nr_src; i++)
		if (c->src[i]->ops->self_cost)
			c->src[i]->ops->self_cost(c->src[i], &snap->self);
	c->files_read_total += snap->self.files_read;
	snap->self.files_read_total = c->files_read_total;
	choose_slow_every(c, &snap->self);
	c->cur = which;
	*out = snap;
	return 0;
}

size_t collector_file_names(const char *const **names)
{
	static const char *list[CGF__COUNT];

	for (int f = 0; f < CGF__COUNT; f++)
		list[f] = cg_files[f].name;
	*names = list;
	return CGF__COUNT;
}

int collector_event_fd(const struct collector *c)
{
	for (unsigned i = 0; i < c->nr_src; i++) {
		int fd = c->src[i]->ops->event_fd ? c->src[i]->ops->event_fd(c->src[i]) : -1;

		if (fd >= 0)
			return fd;
	}
	return -1;
}

const char *collector_root(const struct collector *c)
{
	return c->root_path;
}

int collector_new(const struct collector_opts *o, struct collector **out)
{
	struct collector *c = calloc(1, sizeof(*c));
	char mnt[PATH_MAX];
	const char *root = o->root;
	struct stat st;
	int err;

	if (!c)
		return -ENOMEM;
	c->root_fd = -1;
	c->quiet = o->quiet;
	c->fds.quiet = o->quiet;
	c->want = CG_WANT_ALL;
	c->slow_every = 1;
	if (!root) {
		err = cgfs_find_cgroup2(o->mountinfo ? o->mountinfo : "/proc/self/mountinfo",
					mnt, sizeof(mnt));
		if (err)
			goto fail;
		root = mnt;
	}
	c->root_path = strdup(root);
	c->snap[0].arena = arena_new();
	c->snap[1].arena = arena_new();
	if (!c->root_path || !c->snap[0].arena || !c->snap[1].arena) {
		err = -ENOMEM;
		goto fail;
	}
	/* Reading is harmless anywhere, so a fixture tree (any filesystem)
	 * is accepted here; the actuator is the one that insists on cgroup2. */
	c->root_fd = cgfs_open_root(root, false);
	if (c->root_fd < 0) {
		err = c->root_fd;
		goto fail;
	}
	c->on_cgroupfs = cgfs_is_cgroup2(c->root_fd);
	if (fstat(c->root_fd, &st)) {
		err = -errno;
		goto fail;
	}
	err = host_open(o->proc_root, o->sys_root, &c->host);
	if (err)
		goto fail;
	err = identity_ctx_new(o->state_root, &c->ident);
	if (err)
		goto fail;
	c->fds.budget = o->fd_budget > 0 ? o->fd_budget :
		fd_budget_default(cgfs_fd_limit(), o->fd_reserve_div);
	/* The iterator first: what it fills, the files do not read. It
	 * walks real cgroups by id, so not on a fixture tree either. */
	if (o->iter && c->on_cgroupfs) {
		char why[256] = "";

		err = src_iter_new(c->root_fd, c->quiet, &c->src[c->nr_src], why, sizeof(why));
		if (err == -ENOMEM)
			goto fail;
		if (!err)
			c->tree_src = c->src[c->nr_src++];
		else if (!c->quiet)
			fprintf(stderr, "cgwarden: BPF cgroup iterator off: %s; reading files\n", why);
	}
	c->debug_sources = getenv("CGWARDEN_DEBUG_SOURCES") != NULL;
	struct src_files_opts fo = { .root_path = c->root_path, .host = c->host,
				     .fds = &c->fds, .quiet = c->quiet };

	err = src_files_new(&fo, &c->src[c->nr_src]);
	if (err)
		goto fail;
	c->nr_src++;
	if (node_new(c, NO_NODE, "", 0, (uint64_t)st.st_ino) != 0) {
		err = -ENOMEM;
		goto fail;
	}
	/* The root's fd is the walk's anchor: always kept, outside the budget. */
	c->nodes[0].dirfd = c->root_fd;
	c->root_fd = -1;
	/* eBPF counts real cgroups by id: meaningless for a fixture tree. */
	if (o->bpf && c->on_cgroupfs) {
		struct bpfsrc_opts bo = { .cgroup_root = c->root_path,
					  .max_cgroups = o->bpf_max_cgroups,
					  .run_time_stats = o->bpf_stats,
					  .no_sched = o->bpf_no_sched };
		uint32_t now = c->tree_src ? src_iter_count(c->tree_src) : 0;

		/* Fast-path slots for twice the tree of today (the rest of
		 * a tree that grows is counted in the hash map). */
		if (now)
			bo.slots = now * 2 < 1024 ? 1024 : now * 2;
		char why[256];

		/* Optional: without it cgwarden is cgroupfs-only, and says so once;
		 * a partial load (no network counters) says that. */
		why[0] = '\0';
		err = src_bpf_new(&bo, on_oom, c, &c->src[c->nr_src], why, sizeof(why));
		if (!err)
			c->nr_src++;
		if (err && !c->quiet)
			fprintf(stderr, "cgwarden: eBPF counters off: %s\n", why);
		else if (why[0] && !c->quiet)
			fprintf(stderr, "cgwarden: eBPF: %s\n", why);
	}
	/* Loading BPF parses the kernel's BTF (megabytes in many small
	 * blocks) and frees it: hand that back to the system now. */
	malloc_trim(0);
	*out = c;
	return 0;
fail:
	collector_free(c);
	return err;
}

void collector_free(struct collector *c)
{
	if (!c)
		return;
	if (c->nr_nodes && c->nodes[0].in_use && c->nodes[0].dirfd >= 0) {
		close(c->nodes[0].dirfd);
		c->nodes[0].dirfd = -1;
	}
	for (uint32_t n = 0; n < c->nr_nodes; n++)
		if (c->nodes[n].in_use)
			node_release(c, n);
	if (c->root_fd >= 0)
		close(c->root_fd);
	for (int i = 0; i < 2; i++) {
		free(c->snap[i].samples);
		free(c->snap[i].removed);
		free(c->snap[i].added);
		if (c->snap[i].arena)
			arena_free(c->snap[i].arena);
	}
	for (unsigned i = 0; i < c->nr_src; i++)
		c->src[i]->ops->free(c->src[i]);
	free(c->oom_scratch);
	for (int i = 0; i < 2; i++)
		free(c->snap[i].oom);
	host_close(c->host);
	identity_ctx_free(c->ident);
	free(c->nodes);
	free(c->free_nodes);
	idmap_free(&c->map);
	free(c->tmp_children);
	cgfs_buf_free(&c->buf);
	cgfs_buf_free(&c->dirbuf);
	free(c->root_path);
	free(c);
}
