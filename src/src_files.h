/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The cgroupfs file source: reads the per-cgroup files a want names
 * (cgfile.h) and parses them into the sample. It keeps each file's fd
 * open across ticks, keyed by cgroup id, while the shared fd budget
 * allows, and re-reads it with pread; a file no longer wanted gives its fd
 * back at once.
 */
#ifndef CGWARDEN_SRC_FILES_H
#define CGWARDEN_SRC_FILES_H

#include <stdbool.h>
#include <stdint.h>
#include "source.h"

struct fd_budget;
struct host;

struct src_files_opts {
	const char *root_path;		/* for notices: outlives the source */
	struct host *host;		/* block device names for io.stat */
	struct fd_budget *fds;		/* shared with the walk */
	bool quiet;
};

/* 0 or -ENOMEM. */
int src_files_new(const struct src_files_opts *o, struct cg_source **out);

/* "<root>/<path>/<file> is longer than N KiB", escaped, on stderr: the
 * walk says it for cgroup.stat, the source for its files. */
void src_files_warn_cut(const char *root, const char *path, const char *file, uint32_t max);

#endif
