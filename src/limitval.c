/* SPDX-License-Identifier: GPL-2.0-only */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "limitval.h"
#include "snapshot.h"

static int say(char *why, size_t whylen, int err, const char *fmt, const char *s)
{
	if (why && whylen)
		snprintf(why, whylen, fmt, s);
	return err;
}

static bool is_max(const char *s)
{
	return strcasecmp(s, "max") == 0;
}

/*
 * A decimal with up to 9 fraction digits, as (whole, nanos), without
 * floating point so "1.1G" is exact. end gets the first byte after it.
 */
static int parse_decimal(const char *s, uint64_t *whole, uint64_t *nanos, const char **end)
{
	uint64_t w = 0, n = 0, scale = 100000000;
	const char *p = s;

	if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		uint64_t d = (uint64_t)(*p - '0');

		if (w > (UINT64_MAX - d) / 10)
			return -ERANGE;
		w = w * 10 + d;
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++) {
			n += (uint64_t)(*p - '0') * scale;
			scale /= 10;
			if (!scale && isdigit((unsigned char)p[1]))
				return -EINVAL;	/* finer than a nano-unit: a typo */
		}
	}
	*whole = w;
	*nanos = n;
	*end = p;
	return 0;
}

int limitval_parse_bytes(const char *s, uint64_t *out, char *why, size_t whylen)
{
	static const char units[] = "KMGTPE";
	const char *end, *u;
	uint64_t whole, nanos, mult = 1, v;
	int err;

	if (!s || !*s)
		return say(why, whylen, -EINVAL, "an empty value is not a size%s", "");
	if (is_max(s)) {
		*out = CG_UNLIMITED;
		return 0;
	}
	err = parse_decimal(s, &whole, &nanos, &end);
	if (err == -ERANGE)
		return say(why, whylen, err, "'%s' is larger than 2^64 bytes", s);
	if (err)
		goto bad;
	if (*end) {
		u = strchr(units, toupper((unsigned char)*end));
		if (!u)
			goto bad;
		for (int i = 0; i <= u - units; i++)
			mult *= 1024;
		end++;
		/* "M", "Mi", "MiB", "MB" all mean 2^20 here, as in the kernel's
		 * own files and in systemd's MemoryMax=. */
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
		if (*end)
			goto bad;
	} else if (nanos) {
		return say(why, whylen, -EINVAL, "'%s': a byte count has no fraction", s);
	}
	if (whole > UINT64_MAX / mult)
		return say(why, whylen, -ERANGE, "'%s' is larger than 2^64 bytes", s);
	v = whole * mult;
	/* nanos * mult / 1e9 without overflow: mult <= 2^60, nanos < 1e9. */
	v += (uint64_t)((unsigned __int128)nanos * mult / 1000000000u);
	if (v < whole * mult || v == CG_UNLIMITED)
		return say(why, whylen, -ERANGE, "'%s' is larger than 2^64 bytes", s);
	*out = v;
	return 0;
bad:
	return say(why, whylen, -EINVAL,
		   "'%s' is not a size (e.g. 512M, 1.5G, 4096, max)", s);
}

int limitval_parse_cpus(const char *s, uint64_t period, uint64_t *quota, char *why,
		      size_t whylen)
{
	uint64_t whole, nanos, q;
	const char *end;

	if (!s || !*s)
		return say(why, whylen, -EINVAL, "an empty value is not a CPU count%s", "");
	if (is_max(s)) {
		*quota = CG_UNLIMITED;
		return 0;
	}
	int err = parse_decimal(s, &whole, &nanos, &end);

	if (err == -ERANGE)
		return say(why, whylen, err, "'%s' CPUs is more than any host has", s);
	if (err || *end)
		return say(why, whylen, -EINVAL,
			   "'%s' is not a number of CPUs (e.g. 0.5, 2, max)", s);
	if (whole > 1000000)
		return say(why, whylen, -ERANGE, "'%s' CPUs is more than any host has", s);
	q = whole * period + (uint64_t)((unsigned __int128)nanos * period / 1000000000u);
	/* The kernel refuses a quota under 1 ms (EINVAL): say so first. */
	if (q < 1000)
		return say(why, whylen, -ERANGE,
			   "'%s' CPUs is below the kernel's minimum quota of 1 ms per period", s);
	*quota = q;
	return 0;
}

static int parse_u64_word(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		uint64_t d = (uint64_t)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*end = p;
	*out = v;
	return 0;
}

int limitval_parse_cpu_max(const char *s, uint64_t *quota, uint64_t *period, char *why,
			 size_t whylen)
{
	uint64_t q, p = LIMITVAL_CPU_PERIOD_DEFAULT;
	const char *end;
	int err;

	if (!s)
		s = "";
	while (*s == ' ')
		s++;
	if (strncasecmp(s, "max", 3) == 0 && (s[3] == ' ' || !s[3])) {
		q = CG_UNLIMITED;
		end = s + 3;
	} else if ((err = parse_u64_word(s, &end, &q))) {
		if (err == -ERANGE)
			return say(why, whylen, err, "'%s': the quota does not fit 64 bits", s);
		goto bad;
	}
	while (*end == ' ')
		end++;
	if (*end) {
		if (parse_u64_word(end, &end, &p))
			goto bad;
		while (*end == ' ')
			end++;
		if (*end)
			goto bad;
	}
	if (p < 1000 || p > 1000000)
		return say(why, whylen, -ERANGE,
			   "'%s': the period must be 1000..1000000 usec", s);
	if (q != CG_UNLIMITED && q < 1000)
		return say(why, whylen, -ERANGE, "'%s': the quota must be at least 1000 usec", s);
	*quota = q;
	*period = p;
	return 0;
bad:
	return say(why, whylen, -EINVAL,
		   "'%s' is not 'QUOTA PERIOD' in usec (e.g. '50000 100000', 'max')", s);
}

int limitval_parse_weight(const char *s, uint64_t *out, char *why, size_t whylen)
{
	const char *end;
	uint64_t v;

	int err = s ? parse_u64_word(s, &end, &v) : -EINVAL;

	if (err == -ERANGE)
		return say(why, whylen, err, "weight '%s' is outside 1..10000", s);
	if (err || *end)
		return say(why, whylen, -EINVAL, "'%s' is not a weight (1..10000)", s ? s : "");
	if (v < 1 || v > 10000)
		return say(why, whylen, -ERANGE, "weight '%s' is outside 1..10000", s);
	*out = v;
	return 0;
}

int limitval_parse_count(const char *s, uint64_t *out, char *why, size_t whylen)
{
	const char *end;
	uint64_t v;

	if (s && is_max(s)) {
		*out = CG_UNLIMITED;
		return 0;
	}
	int err = s ? parse_u64_word(s, &end, &v) : -EINVAL;

	if (err == -ERANGE)
		return say(why, whylen, err, "'%s' is above the kernel's 4194304 pids", s);
	if (err || *end)
		return say(why, whylen, -EINVAL, "'%s' is not a count or max", s ? s : "");
	/* pids.max takes an int: the kernel refuses more than PID_MAX_LIMIT. */
	if (v > 4194304)
		return say(why, whylen, -ERANGE, "'%s' is above the kernel's 4194304 pids", s);
	*out = v;
	return 0;
}

void limitval_format(uint64_t v, char *out, size_t outlen)
{
	if (v == CG_UNLIMITED)
		snprintf(out, outlen, "max");
	else
		snprintf(out, outlen, "%" PRIu64, v);
}

void limitval_format_bytes_human(uint64_t v, char *out, size_t outlen)
{
	static const char units[] = "KMGTPE";
	int u = -1;

	if (v == CG_UNLIMITED) {
		snprintf(out, outlen, "max");
		return;
	}
	while (v && v % 1024 == 0 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(out, outlen, "%" PRIu64, v);
	else
		snprintf(out, outlen, "%" PRIu64 "%c", v, units[u]);
}
