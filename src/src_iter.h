/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The BPF cgroup-iterator source: one walk a tick (src/iterbpf) gives, for
 * every cgroup under the root, what cpu.stat, cpu.max, cpu.weight, the
 * memory page counters and memory.events, pids, the three pressure files
 * and cgroup.events would say, converted exactly as the kernel prints them.
 * A field it cannot give (the root cgroup's, which the kernel computes
 * system-wide; a kernel without the field; memory.stat, io.stat and the
 * process lists) is left to the files. It also tells the collector which
 * cgroups' children changed, so directories are listed only then.
 */
#ifndef CGWARDEN_SRC_ITER_H
#define CGWARDEN_SRC_ITER_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "cgw_iter.h"
#include "source.h"

/* 0, or -errno with one line for people in why (then the caller goes on
 * with files alone and says so). quiet: no notice when a walk fails at run
 * time and the source turns itself off. */
int src_iter_new(int root_fd, bool quiet, struct cg_source **out, char *why, size_t whylen);

/* Cgroups under the root now (one walk), or 0 when the walk fails: what
 * other structures are sized by at start. */
uint32_t src_iter_count(struct cg_source *src);

/* ---- the conversions, exposed for the unit tests ---- */

/* What cputime_adjust() keeps between two readers of cpu.stat. */
struct iter_cputime {
	uint64_t utime, stime;
};

/* The kernel's cputime_adjust() (kernel/sched/cputime.c): the tick-sampled
 * user/system split scaled to the precise runtime, never going backwards
 * against prev, which it updates. ns in, ns out. */
void iter_cputime_adjust(uint64_t rtime, uint64_t utime, uint64_t stime,
			 struct iter_cputime *prev, uint64_t *ut, uint64_t *st);

/* A PSI running average (fixed point, FSHIFT 11) in hundredths of a
 * percent, the two decimals the pressure file prints. */
uint32_t iter_psi_avg(uint64_t fixed);

/* Fills s from one record, for the files in want that the cgroup has
 * (present) and the record can give. prev is the cgroup's cputime_adjust
 * state. Returns the CG_HAVE bits (= CGF bits) it filled. */
uint32_t iter_rec_fill(const struct cgw_iter_rec *r, uint32_t want, uint32_t present,
		       uint64_t page_size, struct iter_cputime *prev, struct cg_sample *s);

#endif
