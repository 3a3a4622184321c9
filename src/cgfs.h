/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every read of cgroupfs goes through here: mount discovery, the root dirfd,
 * directory listing and whole-file pread on kept fds. Nothing here knows a
 * hard-coded mount point; everything is relative to a dirfd.
 */
#ifndef CGWARDEN_CGFS_H
#define CGWARDEN_CGFS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A growable read buffer, reused across reads so a tick does not allocate. */
struct cgfs_buf {
	char *data;
	size_t cap;
};

void cgfs_buf_free(struct cgfs_buf *b);

/* Mount point of the first cgroup2 mount listed in mountinfo_path
 * (normally /proc/self/mountinfo). -ENOENT when there is none. */
int cgfs_find_cgroup2(const char *mountinfo_path, char *out, size_t outlen);

/* Opens dir as the tree root. With require_cgroup2 the directory must be on
 * a cgroup2 filesystem (-EMEDIUMTYPE otherwise); fixture trees pass false.
 * Returns the dirfd or -errno. */
int cgfs_open_root(const char *dir, bool require_cgroup2);

/* True if fd is on cgroup2 (statfs magic). */
bool cgfs_is_cgroup2(int fd);

/* Opens a single path component (or "child/file") below dirfd without
 * following symlinks, close-on-exec. Returns fd or -errno. */
int cgfs_openat(int dirfd, const char *rel, int flags);

/* The most cgfs_pread_all reads of one file (cgwarden(8), LIMITS): no
 * kernel file it is used on comes near it; a fixture tree or a bad file
 * system may hold anything. */
#define CGFS_READ_MAX	(1u << 20)

/* Reads the file from offset 0 into b (grown as needed, up to max + 1
 * bytes), appends a NUL that is not counted. Returns the length or -errno.
 * A file longer than max gives its first max bytes and sets *cut (may be
 * NULL; else set false): the rest is not read, and a last line cut short
 * has no '\n' (which the line parsers ignore, parse.h). A removed cgroup's
 * kept fd gives -ENODEV. */
ssize_t cgfs_pread_max(int fd, struct cgfs_buf *b, size_t max, bool *cut);

/* cgfs_pread_max(fd, b, CGFS_READ_MAX, NULL). */
ssize_t cgfs_pread_all(int fd, struct cgfs_buf *b);

/* One directory entry. type is a DT_* value; DT_UNKNOWN is resolved with
 * fstatat before the callback sees it. */
struct cgfs_dirent {
	const char *name;
	size_t namelen;
	uint64_t ino;
	unsigned char type;
};

/* Lists dirfd from the start (rewinds it first, so a kept dirfd can be
 * listed every tick) and calls fn for each entry except "." and "..".
 * fn returns 0 to go on or -errno to stop. scratch holds the getdents buffer. */
typedef int (*cgfs_dirent_fn)(void *ctx, const struct cgfs_dirent *d);
int cgfs_list_dir(int dirfd, struct cgfs_buf *scratch, cgfs_dirent_fn fn, void *ctx);

/* The soft RLIMIT_NOFILE. */
long cgfs_fd_limit(void);

/* True for the errors that mean "this cgroup is gone" on a kept fd or a
 * lookup: the collector drops it quietly. */
static inline bool cgfs_gone(int err)
{
	return err == -ENOENT || err == -ENODEV || err == -ESTALE;
}

#endif
