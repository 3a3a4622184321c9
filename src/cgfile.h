/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The per-cgroup files cgwarden reads (METRICS.md, "From cgroupfs"). The
 * metric table names the files that feed each metric by these bits, and a
 * consumer's wanted metrics become a mask of them: the collector reads
 * only those.
 *
 * Read side only: the collector's file source (src_files.c) opens these
 * O_RDONLY. src/actuator is still the only writer of cgroupfs, with its
 * own names for the files it writes.
 */
#ifndef CGWARDEN_CGFILE_H
#define CGWARDEN_CGFILE_H

#include <stdint.h>

enum cg_file {
	CGF_CPU_STAT, CGF_CPU_MAX, CGF_CPU_WEIGHT,
	CGF_MEM_CURRENT, CGF_MEM_PEAK, CGF_MEM_MAX, CGF_MEM_HIGH, CGF_MEM_LOW,
	CGF_MEM_MIN, CGF_MEM_STAT, CGF_MEM_EVENTS, CGF_SWAP_CURRENT, CGF_SWAP_MAX,
	CGF_IO_STAT, CGF_PIDS_CURRENT, CGF_PIDS_MAX,
	CGF_CPU_PRESSURE, CGF_MEM_PRESSURE, CGF_IO_PRESSURE,
	CGF_PROCS, CGF_THREADS, CGF_EVENTS,
	CGF__COUNT
};

#define CGF_BIT(f) (1u << (f))
#define CGF_ALL ((1u << CGF__COUNT) - 1)
/*
 * The slow tier: files that cost many times a plain value to read (long
 * keyed text; the task lists grow with the processes) and that the BPF
 * iterator cannot replace. A consumer that takes them every Nth tick
 * (serve) gets them so (struct cg_want.slow).
 */
#define CGF_SLOW (CGF_BIT(CGF_MEM_STAT) | CGF_BIT(CGF_IO_STAT) | CGF_BIT(CGF_PROCS) | \
		  CGF_BIT(CGF_THREADS))

/* Caps on what one read takes (cgfile.c says why these sizes). */
#define CGF_CAP_VALUE	(4u << 10)
#define CGF_CAP_KEYED	(16u << 10)
#define CGF_CAP_MEMSTAT	(64u << 10)
#define CGF_CAP_IOSTAT	(1u << 20)
#define CGF_CAP_TASKS	(8u << 20)

struct cg_file_def {
	const char *name;
	uint8_t len;
	uint32_t max;		/* the most read of it (cgwarden(8), LIMITS) */
};

extern const struct cg_file_def cg_files[CGF__COUNT];

#endif
