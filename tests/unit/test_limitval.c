/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * limitval: what a person types for a limit, turned into what a cgroup file
 * takes. Every parser with the inputs people really type, the edges of the
 * kernel's ranges, and the typos that must not turn into a limit. On every
 * error the why text must be there and name the value that was refused, so
 * `cgwarden set` and the dashboard can show it as is.
 */
#include <errno.h>
#include <string.h>
#include "test.h"
#include "limitval.h"
#include "snapshot.h"

#define SENTINEL 0x5a5a5a5a5a5a5a5aull

/*
 * An error result: the code, a why that is not empty and (when the input is
 * not empty) quotes the input, and the output left alone. A macro so that a
 * failure reports the line of the case, not of a helper.
 */
#define CHECK_REFUSED(rc, want, why, input, out)                                \
	do {                                                                    \
		CHECK_INT(rc, want);                                            \
		CHECK((why)[0] != '\0');                                        \
		if ((input)[0])                                                 \
			CHECK(strstr(why, input) != NULL);                      \
		CHECK_U64(out, SENTINEL);                                       \
	} while (0)

/* ---- bytes ------------------------------------------------------------ */

static int bytes(const char *s, uint64_t *v, char *why)
{
	*v = SENTINEL;
	why[0] = '\0';
	return limitval_parse_bytes(s, v, why, LIMITVAL_WHY_MAX);
}

static void test_bytes_suffixes_are_powers_of_1024(void)
{
	char why[LIMITVAL_WHY_MAX];
	uint64_t v;

	CHECK_INT(bytes("512M", &v, why), 0);
	CHECK_U64(v, 536870912);
	CHECK_INT(bytes("1G", &v, why), 0);
	CHECK_U64(v, 1073741824);
	CHECK_INT(bytes("1K", &v, why), 0);
	CHECK_U64(v, 1024);
	CHECK_INT(bytes("3T", &v, why), 0);
	CHECK_U64(v, 3ull << 40);
	CHECK_INT(bytes("2P", &v, why), 0);
	CHECK_U64(v, 2ull << 50);
	CHECK_INT(bytes("15E", &v, why), 0);	/* the largest whole E below 2^64 */
	CHECK_U64(v, 15ull << 60);
	/* Lower case, and the "i" / "iB" / "B" spellings all mean the same. */
	CHECK_INT(bytes("512m", &v, why), 0);
	CHECK_U64(v, 536870912);
	CHECK_INT(bytes("64Mi", &v, why), 0);
	CHECK_U64(v, 64ull << 20);
	CHECK_INT(bytes("2GiB", &v, why), 0);
	CHECK_U64(v, 2ull << 30);
	CHECK_INT(bytes("2GB", &v, why), 0);
	CHECK_U64(v, 2ull << 30);
	CHECK_INT(bytes("8kib", &v, why), 0);
	CHECK_U64(v, 8192);
}

static void test_bytes_fractions_are_exact(void)
{
	char why[LIMITVAL_WHY_MAX];
	uint64_t v;

	/* No floating point: 1.5G is exactly 3 * 2^29, not 1610612735. */
	CHECK_INT(bytes("1.5G", &v, why), 0);
	CHECK_U64(v, 1610612736);
	CHECK_INT(bytes("0.5K", &v, why), 0);
	CHECK_U64(v, 512);
	CHECK_INT(bytes(".5M", &v, why), 0);
	CHECK_U64(v, 524288);
	CHECK_INT(bytes("1.25G", &v, why), 0);
	CHECK_U64(v, 1342177280);
	/* A fraction that does not land on a byte is floored. */
	CHECK_INT(bytes("1.1K", &v, why), 0);
	CHECK_U64(v, 1126);	/* 1126.4 */
	/* Nine fraction digits are the finest the parser keeps. */
	CHECK_INT(bytes("1.000000001G", &v, why), 0);
	CHECK_U64(v, 1073741825);
}

static void test_bytes_plain_numbers_and_max(void)
{
	char why[LIMITVAL_WHY_MAX];
	uint64_t v;

	CHECK_INT(bytes("4096", &v, why), 0);
	CHECK_U64(v, 4096);
	CHECK_INT(bytes("0", &v, why), 0);
	CHECK_U64(v, 0);
	CHECK_INT(bytes("max", &v, why), 0);
	CHECK_U64(v, CG_UNLIMITED);
	CHECK_INT(bytes("MAX", &v, why), 0);
	CHECK_U64(v, CG_UNLIMITED);
	CHECK_INT(bytes("Max", &v, why), 0);
	CHECK_U64(v, CG_UNLIMITED);
	/* The largest value that is not "max" itself. */
	CHECK_INT(bytes("18446744073709551609", &v, why), 0);
	CHECK_U64(v, 18446744073709551609ull);
}

static void test_bytes_refuses_what_is_not_a_size(void)
{
	char why[LIMITVAL_WHY_MAX];
	uint64_t v;
	/* -EINVAL: not a size at all. The why quotes the input. */
	static const char *const bad[] = {
		"-1",		/* negative */
		"1.5",		/* a fraction of a byte */
		"12X",		/* unknown suffix */
		"1e3",		/* 'e' is the exa suffix, then a stray '3' */
		"512 M",	/* a space is not part of the number */
		" 512M",
		"512M ",
		"M",		/* a unit without a number */
		".",
		"1..5G",
		"1.5.G",
		"4096B",	/* a bare B is not a unit of its own */
		"1GiBB",
		"1Gx",
		"maxx",
		"max ",
		"0x10",
		"+1",
		"1.0000000001G",	/* ten fraction digits: a typo, not a size */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = bytes(bad[i], &v, why);

		if (rc != -EINVAL)
			printf("  input '%s'\n", bad[i]);
		CHECK_REFUSED(rc, -EINVAL, why, bad[i], v);
	}
	/* Empty: its own sentence (there is nothing to quote). */
	CHECK_REFUSED(bytes("", &v, why), -EINVAL, why, "", v);
	CHECK(strstr(why, "empty") != NULL);
	CHECK_REFUSED(limitval_parse_bytes(NULL, &v, why, sizeof(why)), -EINVAL, why, "", v);
	/* The why says what the expected form is. */
	CHECK_REFUSED(bytes("12X", &v, why), -EINVAL, why, "12X", v);
	CHECK(strstr(why, "512M") != NULL);
	/* A fraction with no unit says so rather than "not a size". */
	CHECK_REFUSED(bytes("1.5", &v, why), -EINVAL, why, "1.5", v);
	CHECK(strstr(why, "fraction") != NULL);
}

static void test_bytes_out_of_range(void)
{
	char why[LIMITVAL_WHY_MAX];
	uint64_t v;

	/* 2^64 - 1 is what the kernel shows as "max": a number cannot mean it. */
	CHECK_REFUSED(bytes("18446744073709551615", &v, why), -ERANGE, why,
		      "18446744073709551615", v);
	CHECK_REFUSED(bytes("18446744073709551616", &v, why), -ERANGE, why,
		      "18446744073709551616", v);
	CHECK_REFUSED(bytes("99999999999999999999999", &v, why), -ERANGE, why,
		      "99999999999999999999999", v);
	/* The largest value below max parses: the overflow guard is exact. */
	CHECK_INT(bytes("18446744073709551614", &v, why), 0);
	CHECK_U64(v, UINT64_MAX - 1);
	/* 16E = 2^64 and 17179869184G = 2^34 * 2^30 = 2^64: one past the top. */
	CHECK_REFUSED(bytes("16E", &v, why), -ERANGE, why, "16E", v);
	CHECK_REFUSED(bytes("17179869184G", &v, why), -ERANGE, why, "17179869184G", v);
	CHECK_REFUSED(bytes("16777216T", &v, why), -ERANGE, why, "16777216T", v);
	/* 15.999999999E floors to 2^64 - 2^60 + floor(0.999999999 * 2^60):
	 * still below 2^64, so no wrap-around into a small value. */
	CHECK_INT(bytes("15.999999999E", &v, why), 0);
	CHECK(v > (15ull << 60) && v < CG_UNLIMITED);
}

/* ---- cpus ------------------------------------------------------------- */

static int cpus(const char *s, uint64_t period, uint64_t *q, char *why)
{
	*q = SENTINEL;
	why[0] = '\0';
	return limitval_parse_cpus(s, period, q, why, LIMITVAL_WHY_MAX);
}

static void test_cpus_to_quota(void)
{
	char why[LIMITVAL_WHY_MAX];
	uint64_t q;

	CHECK_INT(cpus("1.5", 100000, &q, why), 0);
	CHECK_U64(q, 150000);
	CHECK_INT(cpus("0.2", 100000, &q, why), 0);
	CHECK_U64(q, 20000);
	CHECK_INT(cpus("2", 100000, &q, why), 0);
	CHECK_U64(q, 200000);
	CHECK_INT(cpus(".5", 100000, &q, why), 0);
	CHECK_U64(q, 50000);
	/* "2." is read as 2 (a trailing point holds no fraction). */
	CHECK_INT(cpus("2.", 100000, &q, why), 0);
	CHECK_U64(q, 200000);
	/* Another period scales the quota with it. */
	CHECK_INT(cpus("0.25", 20000, &q, why), 0);
	CHECK_U64(q, 5000);
	/* Exactly the kernel's 1 ms minimum is allowed. */
	CHECK_INT(cpus("0.01", 100000, &q, why), 0);
	CHECK_U64(q, 1000);
	CHECK_INT(cpus("max", 100000, &q, why), 0);
	CHECK_U64(q, CG_UNLIMITED);
	CHECK_INT(cpus("MAX", 100000, &q, why), 0);
	CHECK_U64(q, CG_UNLIMITED);
	/* The top of the range: a million CPUs. */
	CHECK_INT(cpus("1000000", 100000, &q, why), 0);
	CHECK_U64(q, 100000000000ull);
}

static void test_cpus_refused(void)
{
	char why[LIMITVAL_WHY_MAX];
	uint64_t q;

	/* 0.001 CPU of a 100 ms period is 100 usec: under the kernel's 1 ms. */
	CHECK_REFUSED(cpus("0.001", 100000, &q, why), -ERANGE, why, "0.001", q);
	CHECK(strstr(why, "1 ms") != NULL);
	CHECK_REFUSED(cpus("0", 100000, &q, why), -ERANGE, why, "0", q);
	CHECK_REFUSED(cpus("0.009", 100000, &q, why), -ERANGE, why, "0.009", q);
	CHECK_REFUSED(cpus("1000001", 100000, &q, why), -ERANGE, why, "1000001", q);

	CHECK_REFUSED(cpus("abc", 100000, &q, why), -EINVAL, why, "abc", q);
	CHECK_REFUSED(cpus("-1", 100000, &q, why), -EINVAL, why, "-1", q);
	CHECK_REFUSED(cpus("1.5x", 100000, &q, why), -EINVAL, why, "1.5x", q);
	CHECK_REFUSED(cpus("1,5", 100000, &q, why), -EINVAL, why, "1,5", q);
	CHECK_REFUSED(cpus("150%", 100000, &q, why), -EINVAL, why, "150%", q);
	CHECK_REFUSED(cpus(".", 100000, &q, why), -EINVAL, why, ".", q);
	CHECK_REFUSED(cpus(" 1", 100000, &q, why), -EINVAL, why, " 1", q);
	CHECK_REFUSED(cpus("1G", 100000, &q, why), -EINVAL, why, "1G", q);
	CHECK_REFUSED(cpus("", 100000, &q, why), -EINVAL, why, "", q);
	CHECK(strstr(why, "empty") != NULL);
	CHECK_REFUSED(limitval_parse_cpus(NULL, 100000, &q, why, sizeof(why)), -EINVAL, why, "", q);
}

/* ---- cpu.max ---------------------------------------------------------- */

static int cpu_max(const char *s, uint64_t *q, uint64_t *p, char *why)
{
	*q = SENTINEL;
	*p = SENTINEL;
	why[0] = '\0';
	return limitval_parse_cpu_max(s, q, p, why, LIMITVAL_WHY_MAX);
}

static void test_cpu_max_forms(void)
{
	char why[LIMITVAL_WHY_MAX];
	uint64_t q, p;

	CHECK_INT(cpu_max("50000 100000", &q, &p, why), 0);
	CHECK_U64(q, 50000);
	CHECK_U64(p, 100000);
	/* "max" alone keeps the default period. */
	CHECK_INT(cpu_max("max", &q, &p, why), 0);
	CHECK_U64(q, CG_UNLIMITED);
	CHECK_U64(p, LIMITVAL_CPU_PERIOD_DEFAULT);
	CHECK_INT(cpu_max("max 50000", &q, &p, why), 0);
	CHECK_U64(q, CG_UNLIMITED);
	CHECK_U64(p, 50000);
	CHECK_INT(cpu_max("MAX 50000", &q, &p, why), 0);
	CHECK_U64(q, CG_UNLIMITED);
	/* A quota alone: the default period (100 ms). */
	CHECK_INT(cpu_max("50000", &q, &p, why), 0);
	CHECK_U64(q, 50000);
	CHECK_U64(p, LIMITVAL_CPU_PERIOD_DEFAULT);
	/* A quota above the period is fine: more than one CPU. */
	CHECK_INT(cpu_max("400000 100000", &q, &p, why), 0);
	CHECK_U64(q, 400000);
	/* The edges of the kernel's period range, and the minimum quota. */
	CHECK_INT(cpu_max("1000 1000", &q, &p, why), 0);
	CHECK_U64(q, 1000);
	CHECK_U64(p, 1000);
	CHECK_INT(cpu_max("1000 1000000", &q, &p, why), 0);
	CHECK_U64(p, 1000000);
	/* Spaces around and between are tolerated (a shell-quoted argument). */
	CHECK_INT(cpu_max("  50000   100000  ", &q, &p, why), 0);
	CHECK_U64(q, 50000);
	CHECK_U64(p, 100000);
}

static void test_cpu_max_refused(void)
{
	char why[LIMITVAL_WHY_MAX];
	uint64_t q, p;

	/* Period outside 1000..1000000 usec. */
	CHECK_REFUSED(cpu_max("50000 999", &q, &p, why), -ERANGE, why, "50000 999", q);
	CHECK(strstr(why, "period") != NULL);
	CHECK_REFUSED(cpu_max("50000 1000001", &q, &p, why), -ERANGE, why, "50000 1000001", q);
	CHECK_REFUSED(cpu_max("max 0", &q, &p, why), -ERANGE, why, "max 0", q);
	/* "1 2": a period of 2 usec, before the quota is even looked at. */
	CHECK_REFUSED(cpu_max("1 2", &q, &p, why), -ERANGE, why, "1 2", q);
	/* Quota under 1 ms. */
	CHECK_REFUSED(cpu_max("999 100000", &q, &p, why), -ERANGE, why, "999 100000", q);
	CHECK(strstr(why, "quota") != NULL);
	CHECK_REFUSED(cpu_max("0", &q, &p, why), -ERANGE, why, "0", q);
	CHECK_U64(p, SENTINEL);

	/* Not the form at all. */
	CHECK_REFUSED(cpu_max("1 2 3", &q, &p, why), -EINVAL, why, "1 2 3", q);
	CHECK_REFUSED(cpu_max("50000 100000 x", &q, &p, why), -EINVAL, why, "50000 100000 x", q);
	CHECK_REFUSED(cpu_max("abc", &q, &p, why), -EINVAL, why, "abc", q);
	CHECK_REFUSED(cpu_max("maxi", &q, &p, why), -EINVAL, why, "maxi", q);
	CHECK_REFUSED(cpu_max("max max", &q, &p, why), -EINVAL, why, "max max", q);
	CHECK_REFUSED(cpu_max("-50000 100000", &q, &p, why), -EINVAL, why, "-50000 100000", q);
	CHECK_REFUSED(cpu_max("0.5", &q, &p, why), -EINVAL, why, "0.5", q);
	CHECK_REFUSED(cpu_max("50000\t100000", &q, &p, why), -EINVAL, why, "50000\t100000", q);
	CHECK_REFUSED(cpu_max("50000 99999999999999999999", &q, &p, why), -EINVAL, why,
		      "50000 99999999999999999999", q);
	CHECK_REFUSED(cpu_max("", &q, &p, why), -EINVAL, why, "", q);
	CHECK_REFUSED(cpu_max("   ", &q, &p, why), -EINVAL, why, "", q);
	CHECK_REFUSED(limitval_parse_cpu_max(NULL, &q, &p, why, sizeof(why)), -EINVAL, why, "", q);
	CHECK_U64(p, SENTINEL);
}

/* ---- weight and count ------------------------------------------------- */

static void test_weight(void)
{
	char why[LIMITVAL_WHY_MAX];
	uint64_t v = SENTINEL;

	CHECK_INT(limitval_parse_weight("1", &v, why, sizeof(why)), 0);
	CHECK_U64(v, 1);
	CHECK_INT(limitval_parse_weight("100", &v, why, sizeof(why)), 0);
	CHECK_U64(v, 100);
	CHECK_INT(limitval_parse_weight("10000", &v, why, sizeof(why)), 0);
	CHECK_U64(v, 10000);

	static const struct { const char *in; int err; } bad[] = {
		{ "0", -ERANGE }, { "10001", -ERANGE }, { "4294967297", -ERANGE },
		{ "x", -EINVAL }, { "", -EINVAL }, { "-1", -EINVAL }, { "1.5", -EINVAL },
		{ "max", -EINVAL }, { "100 ", -EINVAL }, { " 100", -EINVAL },
		{ "99999999999999999999999", -ERANGE },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc;

		v = SENTINEL;
		why[0] = '\0';
		rc = limitval_parse_weight(bad[i].in, &v, why, sizeof(why));
		if (rc != bad[i].err)
			printf("  input '%s'\n", bad[i].in);
		CHECK_REFUSED(rc, bad[i].err, why, bad[i].in, v);
	}
	why[0] = '\0';
	CHECK_REFUSED(limitval_parse_weight(NULL, &v, why, sizeof(why)), -EINVAL, why, "", v);
}

static void test_count(void)
{
	char why[LIMITVAL_WHY_MAX];
	uint64_t v = SENTINEL;

	CHECK_INT(limitval_parse_count("5", &v, why, sizeof(why)), 0);
	CHECK_U64(v, 5);
	CHECK_INT(limitval_parse_count("0", &v, why, sizeof(why)), 0);
	CHECK_U64(v, 0);
	CHECK_INT(limitval_parse_count("max", &v, why, sizeof(why)), 0);
	CHECK_U64(v, CG_UNLIMITED);
	CHECK_INT(limitval_parse_count("Max", &v, why, sizeof(why)), 0);
	CHECK_U64(v, CG_UNLIMITED);
	/* PID_MAX_LIMIT (4194304) is the kernel's top; one more is refused. */
	CHECK_INT(limitval_parse_count("4194304", &v, why, sizeof(why)), 0);
	CHECK_U64(v, 4194304);

	static const struct { const char *in; int err; } bad[] = {
		{ "4194305", -ERANGE }, { "18446744073709551609", -ERANGE },
		{ "x", -EINVAL }, { "", -EINVAL }, { "-1", -EINVAL }, { "5k", -EINVAL },
		{ "1.5", -EINVAL }, { "99999999999999999999999", -ERANGE },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc;

		v = SENTINEL;
		why[0] = '\0';
		rc = limitval_parse_count(bad[i].in, &v, why, sizeof(why));
		if (rc != bad[i].err)
			printf("  input '%s'\n", bad[i].in);
		CHECK_REFUSED(rc, bad[i].err, why, bad[i].in, v);
	}
	why[0] = '\0';
	CHECK_REFUSED(limitval_parse_count(NULL, &v, why, sizeof(why)), -EINVAL, why, "", v);
}

/* A NULL or zero-length why is allowed: the code alone still comes back. */
static void test_why_is_optional(void)
{
	uint64_t v = SENTINEL, p;
	char why[4] = "abc";

	CHECK_INT(limitval_parse_bytes("12X", &v, NULL, 0), -EINVAL);
	CHECK_INT(limitval_parse_bytes("16E", &v, why, 0), -ERANGE);
	CHECK_STR(why, "abc");
	CHECK_INT(limitval_parse_cpus("abc", 100000, &v, NULL, 0), -EINVAL);
	CHECK_INT(limitval_parse_cpu_max("1 2 3", &v, &p, NULL, 0), -EINVAL);
	CHECK_INT(limitval_parse_weight("0", &v, NULL, 0), -ERANGE);
	CHECK_INT(limitval_parse_count("x", &v, NULL, 0), -EINVAL);
	/* A short buffer is cut, still terminated. */
	CHECK_INT(limitval_parse_bytes("12X", &v, why, sizeof(why)), -EINVAL);
	CHECK_INT((int)strlen(why), 3);
	CHECK_U64(v, SENTINEL);
}

/* ---- formatting ------------------------------------------------------- */

static void test_format(void)
{
	char out[32];

	limitval_format(CG_UNLIMITED, out, sizeof(out));
	CHECK_STR(out, "max");
	limitval_format(0, out, sizeof(out));
	CHECK_STR(out, "0");
	limitval_format(536870912, out, sizeof(out));
	CHECK_STR(out, "536870912");
	limitval_format(CG_UNLIMITED - 1, out, sizeof(out));
	CHECK_STR(out, "18446744073709551614");
	/* Cut, never overrun. */
	limitval_format(536870912, out, 4);
	CHECK_STR(out, "536");
}

static void test_format_bytes_human(void)
{
	char out[32];

	limitval_format_bytes_human(536870912, out, sizeof(out));
	CHECK_STR(out, "512M");
	limitval_format_bytes_human(1000, out, sizeof(out));
	CHECK_STR(out, "1000");	/* not a multiple of 1024: exact digits */
	limitval_format_bytes_human(CG_UNLIMITED, out, sizeof(out));
	CHECK_STR(out, "max");
	limitval_format_bytes_human(0, out, sizeof(out));
	CHECK_STR(out, "0");
	limitval_format_bytes_human(1024, out, sizeof(out));
	CHECK_STR(out, "1K");
	limitval_format_bytes_human(1610612736, out, sizeof(out));
	CHECK_STR(out, "1536M");	/* 1.5G: the largest unit that divides */
	limitval_format_bytes_human(1ull << 60, out, sizeof(out));
	CHECK_STR(out, "1E");
	limitval_format_bytes_human(1ull << 63, out, sizeof(out));
	CHECK_STR(out, "8E");		/* E is the last unit */
	limitval_format_bytes_human(314572800, out, sizeof(out));
	CHECK_STR(out, "300M");
}

/* What the formatter prints, the parser reads back to the same number. */
static void test_format_round_trips(void)
{
	static const uint64_t vals[] = {
		0, 1, 1000, 1024, 4096, 536870912, 1610612736, 314572800, 111542272,
		1ull << 40, 15ull << 60, CG_UNLIMITED,
	};
	char text[32], why[LIMITVAL_WHY_MAX];

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		uint64_t back = SENTINEL;

		limitval_format_bytes_human(vals[i], text, sizeof(text));
		CHECK_INT(limitval_parse_bytes(text, &back, why, sizeof(why)), 0);
		CHECK_U64(back, vals[i]);
		limitval_format(vals[i], text, sizeof(text));
		back = SENTINEL;
		CHECK_INT(limitval_parse_bytes(text, &back, why, sizeof(why)), 0);
		CHECK_U64(back, vals[i]);
	}
}

int main(void)
{
	RUN(test_bytes_suffixes_are_powers_of_1024);
	RUN(test_bytes_fractions_are_exact);
	RUN(test_bytes_plain_numbers_and_max);
	RUN(test_bytes_refuses_what_is_not_a_size);
	RUN(test_bytes_out_of_range);
	RUN(test_cpus_to_quota);
	RUN(test_cpus_refused);
	RUN(test_cpu_max_forms);
	RUN(test_cpu_max_refused);
	RUN(test_weight);
	RUN(test_count);
	RUN(test_why_is_optional);
	RUN(test_format);
	RUN(test_format_bytes_human);
	RUN(test_format_round_trips);
	TEST_EXIT();
}
