/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pure parsers for cgroupfs and procfs text. No I/O, no allocation: every
 * function takes (buf, len) that need not be NUL-terminated, so the fuzz
 * targets can feed them arbitrary bytes. Return 0 / a count, or -errno
 * (-EINVAL malformed, -ERANGE overflow, -ENOSPC output full).
 * Out-parameters are written only on success.
 */
#ifndef CGWARDEN_PARSE_H
#define CGWARDEN_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "snapshot.h"

/* "123\n" or "max\n" (-> CG_UNLIMITED). Surrounding whitespace allowed. */
int parse_u64_or_max(const char *buf, size_t len, uint64_t *out);

/*
 * Flat keyed file ("key value\n" lines: cpu.stat, memory.stat, memory.events,
 * cgroup.events). keys[] lists the keys we keep; vals[i] and bit i of *have
 * are set for each key found. Unknown keys and malformed lines are skipped
 * (the kernel adds keys over time). A last line without '\n' is ignored:
 * "usage_usec 1597" cut from "usage_usec 15972258" looks complete, and the
 * kernel always ends its lines. The same holds for PSI, io.stat, meminfo.
 * The kernel prints keys in a fixed order, so keys[] in that order makes this
 * linear in the file size. nkeys <= 64. Returns the number of keys found.
 */
int parse_keyed(const char *buf, size_t len, const char *const *keys, size_t nkeys,
		uint64_t *vals, uint64_t *have);

/* cpu.max: "max 100000" or "50000 100000". */
int parse_cpu_max(const char *buf, size_t len, uint64_t *quota, uint64_t *period);

/* *.pressure: "some avg10=.. avg60=.. avg300=.. total=..\nfull ...". Either
 * line may be absent; at least one must parse. */
int parse_psi(const char *buf, size_t len, struct cg_psi *out);

/* io.stat: one "MAJ:MIN key=val ..." line per device. Unknown keys skipped.
 * A device named again by a later line keeps its first line (the kernel
 * never repeats one): MAJ:MIN are unique in devs[].
 * Writes up to cap devices (name left NULL); returns the count, or -ENOSPC
 * if there were more than cap, in which case the first cap entries are
 * filled (valid) so a caller that grows its array re-parses once. */
int parse_io_stat(const char *buf, size_t len, struct cg_io_dev *devs, size_t cap);

/* Number of lines (cgroup.procs, cgroup.threads); a last line without '\n' counts. */
int64_t parse_count_lines(const char *buf, size_t len);

/* /proc/meminfo: MemTotal, MemAvailable, SwapTotal, SwapFree, in bytes. */
struct meminfo {
	uint64_t mem_total, mem_available, swap_total, swap_free;
};
int parse_meminfo(const char *buf, size_t len, struct meminfo *out);

/* A mountinfo field's octal escapes ("\040" for a blank) decoded from [s, e)
 * into out (may be s; NULL: only measure): the decoded length, or SIZE_MAX
 * when [s, e) holds a NUL. "\000" stays literal. */
size_t parse_mountinfo_unescape(const char *s, const char *e, char *out);

/* /proc/self/mountinfo: mount point of the first cgroup2 mount, with the
 * kernel's octal escapes (\040 etc.) decoded. -ENOENT if there is none,
 * -ENAMETOOLONG if it does not fit in out. */
int parse_mountinfo_cgroup2(const char *buf, size_t len, char *out, size_t outlen);

#endif
