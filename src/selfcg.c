/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Finding our own cgroup. /proc/self/cgroup gives its path relative to our
 * cgroup namespace's root, and mountinfo gives the cgroup2 mount's root
 * relative to that same namespace root: "/" when they are one, "/a/b" when
 * the mount shows a part of the namespace, "/../../.." when the mount shows
 * more than the namespace (a shell that ran `unshare -C` keeps the host's
 * mount, and sees its own cgroup as "/"). Joining the mount point with the
 * path, as cgwarden did, is right only in the first case: in the last it
 * named the mount's root, and `set X/inner --freeze` froze cgwarden itself.
 *
 * So the path is only a lead. What makes a directory our cgroup is that its
 * cgroup.procs lists our pid (a process is in exactly one cgroup, and the
 * file speaks the reader's pid namespace, which is ours). Where the lead is
 * incomplete ("/.." above the namespace root, whose names we do not see),
 * the candidates at that depth are searched for the one that lists us.
 * From the directory found, its ancestors are the ".." chain (a real walk
 * of the tree, by inode), up to the root we act on. Anything that does not
 * add up is SELFCG_UNKNOWN, and the actuator then refuses every change.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "parse.h"
#include "selfcg.h"

/* Directories a search may visit before it gives up (UNKNOWN). */
#define SEARCH_MAX 100000
/* Levels a search goes down (each holds a directory open meanwhile). */
#define SEARCH_DEPTH_MAX 256
/* Tries when our pid is not where the lead says: we may have moved. */
#define LOCATE_TRIES 3

void selfcg_free(struct selfcg *s)
{
	free(s->path);
	free(s->ids);
	s->path = NULL;
	s->ids = NULL;
	s->nr_ids = 0;
}

__attribute__((format(printf, 2, 3)))
static void unknown(struct selfcg *s, const char *fmt, ...)
{
	va_list ap;

	selfcg_free(s);
	s->where = SELFCG_UNKNOWN;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

/* Does dirfd's cgroup.procs list pid? 1, 0, or -errno. */
static int lists_pid(int dirfd, pid_t pid)
{
	int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char *line = NULL;
	size_t cap = 0;
	int found = 0;
	FILE *f;

	if (fd < 0)
		return -errno;
	f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	while (!found && getline(&line, &cap, f) > 0) {
		char *end;
		long v = strtol(line, &end, 10);

		found = end != line && (*end == '\n' || !*end) && v == (long)pid;
	}
	free(line);
	fclose(f);
	return found;
}

/* A mountinfo field (a C string: no NUL inside) decoded in place. */
static void unescape(char *s)
{
	s[parse_mountinfo_unescape(s, s + strlen(s), s)] = '\0';
}

/* The mount id of fd (fdinfo "mnt_id:", Linux 3.15). */
static int mnt_id_of(int fd, int *id)
{
	char path[64], line[256];
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "mnt_id: %d", id) == 1) {
			ret = 0;
			break;
		}
	fclose(f);
	return ret;
}

/* The mount with id mnt in mountinfo: its root and mount point
 * (unescaped, malloc'd) and whether it is cgroup2. */
static int find_mount(const char *mountinfo, int mnt, char **root, char **point, bool *cg2)
{
	FILE *f = fopen(mountinfo, "re");
	char *line = NULL;
	size_t cap = 0;
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char r[PATH_MAX], p[PATH_MAX], *dash;
		int id;

		if (sscanf(line, "%d %*d %*s %4095s %4095s", &id, r, p) != 3 || id != mnt)
			continue;
		dash = strstr(line, " - ");
		*cg2 = dash && strncmp(dash + 3, "cgroup2 ", 8) == 0;
		unescape(r);
		unescape(p);
		*root = strdup(r);
		*point = strdup(p);
		ret = *root && *point ? 0 : -ENOMEM;
		break;
	}
	free(line);
	fclose(f);
	return ret;
}

int selfcg_parse_proc_cgroup(const char *text, size_t len, char **out)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *eol = nl ? nl : end;
		size_t n = (size_t)(eol - p);

		/* Hierarchy id 0, no controllers: the unified hierarchy. v1
		 * lines ("4:memory:/x", "1:name=systemd:/x") never start so. */
		if (n >= 3 && memcmp(p, "0::", 3) == 0) {
			char *path;

			if (n == 3 || p[3] != '/' || memchr(p + 3, '\0', n - 3))
				return -EINVAL;
			path = strndup(p + 3, n - 3);
			if (!path)
				return -ENOMEM;
			*out = path;
			return 0;
		}
		p = eol + 1;
	}
	return -ENOENT;
}

/* The whole cgroup file (a few lines, up to one per v1 hierarchy) and its
 * "0::" path; -errno of the read, else as selfcg_parse_proc_cgroup. */
static int v2_path(const char *file, char **out)
{
	FILE *f = fopen(file, "re");
	char *text = NULL;
	size_t cap = 0;
	ssize_t n;
	int ret;

	if (!f)
		return -errno;
	/* No NUL in the file: one getdelim reads it all. */
	n = getdelim(&text, &cap, '\0', f);
	if (n < 0)
		ret = ferror(f) ? -EIO : -ENOENT;
	else
		ret = selfcg_parse_proc_cgroup(text, (size_t)n, out);
	free(text);
	fclose(f);
	return ret;
}

/* How many leading "/.." a namespace-relative path has; *rest is after them. */
static unsigned ups(const char *p, const char **rest)
{
	unsigned n = 0;

	while (strncmp(p, "/..", 3) == 0 && (p[3] == '/' || !p[3])) {
		n++;
		p += 3;
	}
	*rest = p;
	return n;
}

static bool has_dotdot(const char *p)
{
	for (const char *c = p; (c = strstr(c, "..")); c += 2)
		if ((c == p || c[-1] == '/') && (c[2] == '/' || !c[2]))
			return true;
	return false;
}

static int open_dir(int dirfd, const char *rel)
{
	int fd;

	while (*rel == '/')
		rel++;
	fd = *rel ? openat(dirfd, rel, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
		  : fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	return fd < 0 ? -errno : fd;
}

struct search {
	pid_t pid;
	const char *below;	/* the part of the path under the unknown names */
	unsigned depth;		/* how many unknown names */
	size_t visited;
	char *found;		/* relative to the mount root, malloc'd */
	bool too_many;
};

/*
 * The candidates depth levels below dirfd (at rel): the one whose
 * rel/below lists our pid. 1 found, 0 not, -errno.
 */
static int search(struct search *s, int dirfd, const char *rel, unsigned depth)
{
	DIR *d;
	struct dirent *e;
	int fd, ret = 0;

	if (++s->visited > SEARCH_MAX) {
		s->too_many = true;
		return 0;
	}
	if (depth == s->depth) {
		const char *b = s->below + strspn(s->below, "/");
		int sub = open_dir(dirfd, b);

		if (sub < 0)
			return 0;
		ret = lists_pid(sub, s->pid);
		close(sub);
		if (ret == 1 && asprintf(&s->found, "%s%s%s", rel, *rel && *b ? "/" : "", b) < 0) {
			s->found = NULL;
			return -ENOMEM;
		}
		return ret < 0 ? 0 : ret;
	}
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while (!ret && (e = readdir(d))) {
		char *sub_rel;
		int sub;

		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		sub = openat(dirfd, e->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (sub < 0)
			continue;
		if (asprintf(&sub_rel, "%s%s%s", rel, *rel ? "/" : "", e->d_name) < 0) {
			close(sub);
			ret = -ENOMEM;
			break;
		}
		ret = search(s, sub, sub_rel, depth + 1);
		free(sub_rel);
		close(sub);
		if (s->too_many)
			break;
	}
	closedir(d);
	return ret;
}

/*
 * From our cgroup's directory (own, at rel below top) up the ".." chain:
 * the ids up to root (excluded) and our path relative to it. Reaching top
 * (the mount's root) without passing root means root is not above us.
 */
static int walk_up(int own, const char *rel, const struct stat *root, const struct stat *top,
		   struct selfcg *out)
{
	size_t cap = 0, k;
	int fd = fcntl(own, F_DUPFD_CLOEXEC, 3), ret = 0;
	const char *p;

	if (fd < 0)
		return -errno;
	for (;;) {
		struct stat st;
		int up;

		if (fstat(fd, &st)) {
			ret = -errno;
			break;
		}
		if (st.st_dev == root->st_dev && st.st_ino == root->st_ino) {
			out->where = SELFCG_INSIDE;
			break;
		}
		if (st.st_dev == top->st_dev && st.st_ino == top->st_ino) {
			out->where = SELFCG_OUTSIDE;
			break;
		}
		if (out->nr_ids == cap) {
			uint64_t *n = realloc(out->ids, (cap = cap ? cap * 2 : 16) * sizeof(*n));

			if (!n) {
				ret = -ENOMEM;
				break;
			}
			out->ids = n;
		}
		out->ids[out->nr_ids++] = (uint64_t)st.st_ino;
		up = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = up;
		if (fd < 0) {
			ret = -errno;
			break;
		}
	}
	if (fd >= 0)
		close(fd);
	if (ret)
		return ret;
	if (out->where == SELFCG_OUTSIDE) {
		selfcg_free(out);
		return 0;
	}
	/* Our path below root: the last nr_ids components of rel. */
	for (p = rel, k = 0; *p; k++) {
		p += strspn(p, "/");
		if (!*p)
			break;
		p += strcspn(p, "/");
	}
	if (k < out->nr_ids)
		return -EINVAL;		/* the chain and the path disagree */
	for (p = rel, k -= out->nr_ids; k; k--) {
		p += strspn(p, "/");
		p += strcspn(p, "/");
	}
	p += strspn(p, "/");
	out->path = strdup(p);
	if (!out->path)
		return -ENOMEM;
	for (k = strlen(out->path); k && out->path[k - 1] == '/'; k--)
		out->path[k - 1] = '\0';
	return 0;
}

/* One try of selfcg_locate: 0 (out filled), -EAGAIN (our pid was not where
 * the path led: we may have moved), -ENOMEM; UNKNOWN is 0 with why. */
static int locate_once(int root_fd, const struct selfcg_opts *o, struct selfcg *out)
{
	const char *cgfile = o && o->proc_cgroup ? o->proc_cgroup : "/proc/self/cgroup";
	const char *mi = o && o->mountinfo ? o->mountinfo : "/proc/self/mountinfo";
	pid_t pid = o && o->pid ? o->pid : getpid();
	char *nspath = NULL, *mroot = NULL, *mpoint = NULL, *rel = NULL;
	const char *mrest, *prest;
	struct stat rst, tst;
	int mnt, mnt2 = -1, mfd = -1, own = -1, err;
	unsigned mup;
	bool cg2 = false;

	memset(out, 0, sizeof(*out));
	if (fstat(root_fd, &rst) || mnt_id_of(root_fd, &mnt)) {
		unknown(out, "the mount of the cgroup2 root cannot be told (/proc/self/fdinfo): %s",
			strerror(errno));
		return 0;
	}
	err = find_mount(mi, mnt, &mroot, &mpoint, &cg2);
	if (err == -ENOMEM)
		goto out;
	if (err) {
		unknown(out, "mount %d (the cgroup2 root's) is not in %s", mnt, mi);
		err = 0;
		goto out;
	}
	/* A fixture tree, or another filesystem: no process is in it. */
	if (!cg2) {
		out->where = SELFCG_OUTSIDE;
		goto out;
	}
	err = v2_path(cgfile, &nspath);
	if (err == -ENOMEM)
		goto out;
	if (err) {
		unknown(out, "%s has no cgroup2 (\"0::/\") line", cgfile);
		err = 0;
		goto out;
	}
	mfd = open(mpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0 || fstat(mfd, &tst) || mnt_id_of(mfd, &mnt2) || mnt2 != mnt) {
		unknown(out, "the cgroup2 mount point %.200s does not open to the mount itself",
			mpoint);
		err = 0;
		goto out;
	}
	mup = ups(mroot, &mrest);
	if (ups(nspath, &prest) || has_dotdot(prest) || has_dotdot(mrest)) {
		/* We sit outside our own namespace's root (moved there after
		 * unshare): the lead says nothing. */
		unknown(out, "our cgroup (%.200s) is outside our cgroup namespace", nspath);
		err = 0;
		goto out;
	}
	if (mup == 0) {
		/* The mount shows the namespace root or a part of it (mrest):
		 * we are in it if our path starts there. */
		size_t ml = strcmp(mrest, "/") == 0 ? 0 : strlen(mrest);

		if (strncmp(nspath, mrest, ml) != 0 || (nspath[ml] != '/' && nspath[ml])) {
			out->where = SELFCG_OUTSIDE;
			err = 0;
			goto out;
		}
		rel = strdup(nspath + ml + (nspath[ml] == '/'));
		if (!rel) {
			err = -ENOMEM;
			goto out;
		}
	} else if (*mrest && strcmp(mrest, "/") != 0) {
		/* Up to a common ancestor, then down another branch: the mount
		 * shows a subtree that our namespace root is not in. */
		out->where = SELFCG_OUTSIDE;
		err = 0;
		goto out;
	} else if (mup > SEARCH_DEPTH_MAX) {
		unknown(out, "our cgroup namespace's root is %u levels below the mount's: too "
			"deep to search", mup);
		err = 0;
		goto out;
	} else {
		/* The mount's root is mup levels above our namespace root,
		 * through names we cannot see: search for them. */
		struct search s = { .pid = pid, .below = nspath, .depth = mup };

		err = search(&s, mfd, "", 0);
		if (err < 0)
			goto out;
		if (s.too_many) {
			unknown(out, "more than %d cgroups to search for our own under %.200s",
				SEARCH_MAX, mpoint);
			err = 0;
			goto out;
		}
		if (!s.found) {
			err = -EAGAIN;
			goto out;
		}
		rel = s.found;
	}
	own = open_dir(mfd, rel);
	if (own < 0 || lists_pid(own, pid) != 1) {
		err = -EAGAIN;
		goto out;
	}
	err = walk_up(own, rel, &rst, &tst, out);
	if (err == -EINVAL) {
		unknown(out, "the ancestors of %.200s do not match its path", rel);
		err = 0;
	}
out:
	if (own >= 0)
		close(own);
	if (mfd >= 0)
		close(mfd);
	free(nspath);
	free(mroot);
	free(mpoint);
	free(rel);
	if (err == -ENOMEM)
		unknown(out, "out of memory");
	return err;
}

int selfcg_locate(int root_fd, const struct selfcg_opts *o, struct selfcg *out)
{
	int err = -EAGAIN;

	for (int i = 0; i < LOCATE_TRIES && err == -EAGAIN; i++) {
		if (i)
			selfcg_free(out);
		err = locate_once(root_fd, o, out);
	}
	if (err == -EAGAIN) {
		unknown(out, "no cgroup under the cgroup2 mount lists our pid %d in cgroup.procs",
			(int)(o && o->pid ? o->pid : getpid()));
		err = 0;
	}
	return err;
}

int selfcg_at(int root_fd, const char *path, struct selfcg *out)
{
	struct stat rst;
	int own, err;

	memset(out, 0, sizeof(*out));
	if (fstat(root_fd, &rst)) {
		unknown(out, "the root: %s", strerror(errno));
		return 0;
	}
	own = open_dir(root_fd, path);
	if (own < 0) {
		unknown(out, "our cgroup '%.200s': %s", path, strerror(-own));
		return 0;
	}
	/* The root is the top too: a path below it always reaches it. */
	err = walk_up(own, path, &rst, &rst, out);
	close(own);
	if (err == -EINVAL) {
		unknown(out, "the ancestors of '%.200s' do not match its path", path);
		err = 0;
	}
	if (err == -ENOMEM)
		unknown(out, "out of memory");
	return err;
}
