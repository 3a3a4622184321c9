/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which cgroup cgwarden itself runs in, relative to the cgroup2 tree it acts
 * on, found the same way in every cgroup namespace. The actuator refuses to
 * freeze or kill that cgroup or an ancestor of it (and refuses everything
 * when it cannot tell); the policy daemon's engine guards the same path.
 */
#ifndef CGWARDEN_SELFCG_H
#define CGWARDEN_SELFCG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum selfcg_where {
	SELFCG_UNKNOWN,		/* could not tell (why says so): nothing is safe */
	SELFCG_OUTSIDE,		/* no cgroup under the root contains us */
	SELFCG_INSIDE,		/* path and ids say where */
};

struct selfcg {
	enum selfcg_where where;
	char *path;		/* INSIDE: relative to the root, "" = the root itself */
	uint64_t *ids;		/* INSIDE: our cgroup's id (inode), then each ancestor's
				 * up to the root, which is not included */
	size_t nr_ids;
	char why[320];		/* UNKNOWN: a sentence for people */
};

/* Test hooks; NULL / 0: /proc/self/cgroup, /proc/self/mountinfo, getpid(). */
struct selfcg_opts {
	const char *proc_cgroup;
	const char *mountinfo;
	pid_t pid;
};

/*
 * Locates our cgroup below root_fd (a directory of a cgroup2 mount: its
 * root or one below). out is always filled (free it with selfcg_free);
 * returns 0, or -ENOMEM (out says UNKNOWN).
 */
int selfcg_locate(int root_fd, const struct selfcg_opts *o, struct selfcg *out);

/* The same for a cgroup named by path relative to root_fd (tests, and
 * `--self-cgroup`): its id and its ancestors' up to the root. */
int selfcg_at(int root_fd, const char *path, struct selfcg *out);

void selfcg_free(struct selfcg *s);

/*
 * The one reader of /proc/<pid>/cgroup (len bytes of text): the path of the
 * "0::/path" line, the unified hierarchy's, malloc'd into *out as the kernel
 * wrote it (it does not escape: bytes stay bytes, "\\040" stays four).
 * Lines of v1 hierarchies are passed over. -ENOENT: no "0::" line (a v1-only
 * host); -EINVAL: a "0::" line without an absolute path; -ENOMEM.
 */
int selfcg_parse_proc_cgroup(const char *text, size_t len, char **out);

#endif
