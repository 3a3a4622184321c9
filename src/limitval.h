/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a person types for a limit ("512M", "1.5" CPUs, "max") turned into
 * the text a cgroup file takes. Pure: no I/O. Shared by `cgwarden set`, the
 * dashboard's actions and the policy file. Errors are -EINVAL (not a value
 * of that kind) or -ERANGE (a value out of the kernel's range), with a
 * sentence in why[] that names the expected form.
 */
#ifndef CGWARDEN_LIMITVAL_H
#define CGWARDEN_LIMITVAL_H

#include <stddef.h>
#include <stdint.h>

#define LIMITVAL_CPU_PERIOD_DEFAULT 100000	/* usec; the kernel's default */
#define LIMITVAL_WHY_MAX 160

/* "512M", "1G", "1.5G", "4096", "64Mi", "2GiB", "max" (-> CG_UNLIMITED).
 * Suffixes are powers of 1024 (as the kernel's own memory files use),
 * case-insensitive, with optional "i"/"iB"/"B". */
int limitval_parse_bytes(const char *s, uint64_t *out, char *why, size_t whylen);

/* "--cpu 1.5": CPUs -> cpu.max quota for period_usec; "max" -> CG_UNLIMITED.
 * The kernel needs quota >= 1000 usec. */
int limitval_parse_cpus(const char *s, uint64_t period_usec, uint64_t *quota,
		      char *why, size_t whylen);

/* "--cpu-max 'Q P'" or "Q" alone, Q a number or "max"; P 1000..1000000. */
int limitval_parse_cpu_max(const char *s, uint64_t *quota, uint64_t *period,
			 char *why, size_t whylen);

/* cpu.weight: 1..10000. */
int limitval_parse_weight(const char *s, uint64_t *out, char *why, size_t whylen);

/* pids.max: a count or "max". */
int limitval_parse_count(const char *s, uint64_t *out, char *why, size_t whylen);

/* The text to write for a u64 limit: "max" for CG_UNLIMITED, else digits. */
void limitval_format(uint64_t v, char *out, size_t outlen);

/* "536870912" -> "512M" for people; exact when it divides. */
void limitval_format_bytes_human(uint64_t v, char *out, size_t outlen);

#endif
