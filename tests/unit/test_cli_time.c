/* SPDX-License-Identifier: GPL-2.0-only */
/* cli_parse_time: the moments --at, --since and --until accept. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include "cli.h"
#include "test.h"

#define END 1764817200000000ull		/* 2025-12-04T03:00:00Z */

static uint64_t t_of(const char *s)
{
	uint64_t v = 0;

	CHECK_INT(cli_parse_time(s, END, &v), 0);
	return v;
}

static void test_rfc3339(void)
{
	CHECK_U64(t_of("2025-12-04T03:00:00Z"), END);
	CHECK_U64(t_of("2025-12-04t03:00:00z"), END);
	CHECK_U64(t_of("2025-12-04T03:00:00.25Z"), END + 250000);
	CHECK_U64(t_of("2025-12-04T04:30:00+01:30"), END);
	CHECK_U64(t_of("2025-12-04T01:00:00-02:00"), END);
	CHECK_U64(t_of("2025-12-04T03:00:00.1234567Z"), END + 123456);
}

static void test_local_time(void)
{
	/* The local form is read in TZ; UTC makes it checkable. */
	setenv("TZ", "UTC", 1);
	tzset();
	CHECK_U64(t_of("2025-12-04 03:00"), END);
	CHECK_U64(t_of("2025-12-04 03:00:07"), END + 7000000);
	/* A POSIX zone string: no tzdata needed (minimal installs). */
	setenv("TZ", "CET-1", 1);
	tzset();
	CHECK_U64(t_of("2025-12-04 04:00"), END);
	unsetenv("TZ");
	tzset();
}

static void test_unix_seconds_and_spans(void)
{
	CHECK_U64(t_of("1764817200"), END);
	CHECK_U64(t_of("1764817200.5"), END + 500000);
	CHECK_U64(t_of("-20s"), END - 20000000);
	CHECK_U64(t_of("-20"), END - 20000000);
	CHECK_U64(t_of("-2h"), END - 7200000000ull);
	CHECK_U64(t_of("-90m"), END - 5400000000ull);
	CHECK_U64(t_of("-1d"), END - 86400000000ull);
	CHECK_U64(t_of("-500ms"), END - 500000);
	CHECK_U64(t_of("-1.5h"), END - 5400000000ull);
}

static void test_refused(void)
{
	static const char *const bad[] = {
		"", "-", "-x", "--2h", "-2w", "-2 h", "2025-12-04", "2025-12-04T03:00Z",
		"2025-12-04T03:00:00", "2025-12-04T03:00:00+1", "2025-12-04T03:00:00Zjunk",
		"2025-13-04T03:00:00Z", "2025-12-04 25:00", "2025-12-04 03:00 UTC", "12abc",
		"1.", "-inf", "-nan", "-1e300d", "99999999999999999999",
	};
	uint64_t v = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cli_parse_time(bad[i], END, &v) != -EINVAL)
			printf("  accepted '%s'\n", bad[i]), test_cur_failed++;
	}
	/* Further back than the recording's end from the epoch. */
	CHECK_INT(cli_parse_time("-100000d", END, &v), -EINVAL);
	CHECK_U64(v, 42);
}

static void test_format(void)
{
	char b[32];

	cli_format_time(END + 250000, b, sizeof(b));
	CHECK(strcmp(b, "2025-12-04T03:00:00.250Z") == 0);
	/* Rounded up, so that the text names this moment or one after it. */
	cli_format_time(END + 250001, b, sizeof(b));
	CHECK(strcmp(b, "2025-12-04T03:00:00.251Z") == 0);
	cli_format_time(END + 999999, b, sizeof(b));
	CHECK(strcmp(b, "2025-12-04T03:00:01.000Z") == 0);
	CHECK_U64(t_of(b), END + 1000000);
}

int main(void)
{
	RUN(test_rfc3339);
	RUN(test_local_time);
	RUN(test_unix_seconds_and_spans);
	RUN(test_refused);
	RUN(test_format);
	TEST_EXIT();
}
