/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The BPF cgroup iterator (bpf/cgw_iter.bpf.c): load it, attach it to a
 * cgroup2 directory (descendants, parents first), and walk: one read()
 * makes the kernel visit every cgroup under that directory once, after one
 * rstat flush, and write one struct cgw_iter_rec per cgroup into an
 * mmapped array. Knows nothing of samples; src/src_iter.c turns records
 * into them.
 */
#ifndef CGWARDEN_ITERBPF_H
#define CGWARDEN_ITERBPF_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "cgw_iter.h"

struct iterbpf;

/*
 * root_fd: an open cgroup2 directory (the walk's root; kept by the caller,
 * may be closed after this returns). cap: records to make room for first
 * (0: a default); the array grows when a walk finds more. 0, or -errno
 * with one line for people in why ("no BTF", "needs CAP_BPF and
 * CAP_PERFMON", "kernel has no cgroup iterator (6.1+)", the verifier's
 * first complaint).
 */
int iterbpf_open(int root_fd, uint32_t cap, struct iterbpf **out, char *why, size_t whylen);
void iterbpf_close(struct iterbpf *it);

/*
 * One walk. On success *recs points at n records in walk order (parents
 * before children), valid until the next walk or close. A tree larger than
 * the array grows it (a reload) and walks again: cgroups are never
 * dropped. 0, or -errno with why (a read() error, a failed grow): the
 * caller falls back to files.
 */
int iterbpf_walk(struct iterbpf *it, const struct cgw_iter_rec **recs, uint32_t *n,
		 char *why, size_t whylen);

/* Which rstat flush the loaded program calls: "css_rstat_flush" (6.16+)
 * or "cgroup_rstat_flush" (6.1-6.15). */
const char *iterbpf_flush_name(const struct iterbpf *it);

/* Wall time of the last walk (the read()), ns; and records capacity. */
uint64_t iterbpf_last_walk_ns(const struct iterbpf *it);
uint32_t iterbpf_capacity(const struct iterbpf *it);

#endif
