/* SPDX-License-Identifier: GPL-2.0-only */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/magic.h>
#include "cgfs.h"
#include "parse.h"

/* /proc/self/mountinfo is read up to this (cgwarden(8), LIMITS). */
#define CGFS_MOUNTINFO_MAX	(16u << 20)

void cgfs_buf_free(struct cgfs_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->cap = 0;
}

static int buf_reserve(struct cgfs_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (need <= b->cap)
		return 0;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

ssize_t cgfs_pread_max(int fd, struct cgfs_buf *b, size_t max, bool *cut)
{
	size_t len = 0;
	int err = buf_reserve(b, 4096);

	if (cut)
		*cut = false;
	if (err)
		return err;
	if (max > SIZE_MAX - 2)
		max = SIZE_MAX - 2;
	for (;;) {
		/* Keep one byte for the terminating NUL. */
		if (b->cap - len < 2) {
			err = buf_reserve(b, b->cap * 2);
			if (err)
				return err;
		}
		/* Up to one byte past max: that byte says there is more. */
		size_t want = b->cap - len - 1;

		if (want > max + 1 - len)
			want = max + 1 - len;
		ssize_t n = pread(fd, b->data + len, want, (off_t)len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			len = max;
			if (cut)
				*cut = true;
			break;
		}
		/* A short read of a small kernfs file is the whole file: saves
		 * the second pread that would return 0 (most files, every tick). */
		if (len < b->cap - 1 && len < 4096)
			break;
	}
	b->data[len] = '\0';
	return (ssize_t)len;
}

ssize_t cgfs_pread_all(int fd, struct cgfs_buf *b)
{
	return cgfs_pread_max(fd, b, CGFS_READ_MAX, NULL);
}

int cgfs_find_cgroup2(const char *mountinfo_path, char *out, size_t outlen)
{
	struct cgfs_buf b = { 0 };
	int fd = open(mountinfo_path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	/* mountinfo is a seq_file that can be long: read to EOF, not one page
	 * (a node with 10,000 mounts has about 2 MB). */
	n = cgfs_pread_max(fd, &b, CGFS_MOUNTINFO_MAX, NULL);
	close(fd);
	if (n < 0) {
		cgfs_buf_free(&b);
		return (int)n;
	}
	err = parse_mountinfo_cgroup2(b.data, (size_t)n, out, outlen);
	cgfs_buf_free(&b);
	return err;
}

bool cgfs_is_cgroup2(int fd)
{
	struct statfs st;

	return fstatfs(fd, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

int cgfs_open_root(const char *dir, bool require_cgroup2)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (require_cgroup2 && !cgfs_is_cgroup2(fd)) {
		close(fd);
		return -EMEDIUMTYPE;
	}
	return fd;
}

int cgfs_openat(int dirfd, const char *rel, int flags)
{
	int fd = openat(dirfd, rel, flags | O_CLOEXEC | O_NOFOLLOW);

	return fd < 0 ? -errno : fd;
}

/* glibc 2.36 has getdents64() but we keep to the raw layout for clarity. */
struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

int cgfs_list_dir(int dirfd, struct cgfs_buf *scratch, cgfs_dirent_fn fn, void *ctx)
{
	int err = buf_reserve(scratch, 32768);

	if (err)
		return err;
	if (lseek(dirfd, 0, SEEK_SET) < 0)
		return -errno;
	for (;;) {
		long n = syscall(SYS_getdents64, dirfd, scratch->data, scratch->cap);

		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *de = (void *)(scratch->data + off);
			struct cgfs_dirent d = {
				.name = de->d_name,
				.ino = de->d_ino,
				.type = de->d_type,
			};

			off += de->d_reclen;
			if (de->d_name[0] == '.' &&
			    (de->d_name[1] == '\0' ||
			     (de->d_name[1] == '.' && de->d_name[2] == '\0')))
				continue;
			d.namelen = strlen(de->d_name);
			if (d.type == DT_UNKNOWN) {
				struct stat st;

				if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW))
					continue;	/* vanished between getdents and now */
				d.type = S_ISDIR(st.st_mode) ? DT_DIR :
					 S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
			}
			err = fn(ctx, &d);
			if (err)
				return err;
		}
	}
}

long cgfs_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return 1024;
	return (long)rl.rlim_cur;
}
