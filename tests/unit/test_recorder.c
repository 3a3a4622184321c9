/* SPDX-License-Identifier: GPL-2.0-only */
/* recorder_parse_retain: --retain's sizes and ages. */
#include <errno.h>
#include <sys/statvfs.h>
#include "recorder.h"
#include "test.h"

static void test_retain_forms(void)
{
	uint64_t b = 1, u = 1;

	CHECK_INT(recorder_parse_retain("512M", &b, &u), 0);
	CHECK_U64(b, 512ull << 20);
	CHECK_U64(u, 0);
	CHECK_INT(recorder_parse_retain("7d", &b, &u), 0);
	CHECK_U64(b, 0);
	CHECK_U64(u, 7ull * 86400 * 1000000);
	CHECK_INT(recorder_parse_retain("2G,30d", &b, &u), 0);
	CHECK_U64(b, 2ull << 30);
	CHECK_U64(u, 30ull * 86400 * 1000000);
	CHECK_INT(recorder_parse_retain("12h,1.5G", &b, &u), 0);
	CHECK_U64(b, 3ull << 29);
	CHECK_U64(u, 12ull * 3600 * 1000000);
	/* A lower-case m is minutes; sizes are upper case (or plain bytes). */
	CHECK_INT(recorder_parse_retain("30m", &b, &u), 0);
	CHECK_U64(u, 30ull * 60 * 1000000);
	CHECK_INT(recorder_parse_retain("1048576", &b, &u), 0);
	CHECK_U64(b, 1048576);
	CHECK_INT(recorder_parse_retain("100MiB", &b, &u), 0);
	CHECK_U64(b, 100ull << 20);
}

static void test_retain_refused(void)
{
	static const char *const bad[] = {
		"", ",", "512M,", ",7d", "7x", "0", "0d", "-1d", "max", "1G,2G", "1d,2d",
		"d", "1.5.5d", "7dd", "abc", "99999999999999999999d",
	};
	uint64_t b = 42, u = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (recorder_parse_retain(bad[i], &b, &u) != -EINVAL)
			printf("  accepted '%s'\n", bad[i]), test_cur_failed++;
	CHECK_U64(b, 42);
	CHECK_U64(u, 42);
}

/* The default cap: 1 GiB, or a twentieth of the file system when less;
 * a store not yet made is measured on the directory it will be in. */
static void test_default_cap(void)
{
	struct statvfs st;
	uint64_t fs, want;

	CHECK_INT(statvfs("/tmp", &st), 0);
	fs = (uint64_t)st.f_blocks * st.f_frsize;
	want = fs / RECORDER_RETAIN_FS_DIV < RECORDER_RETAIN_BYTES ?
	       fs / RECORDER_RETAIN_FS_DIV : RECORDER_RETAIN_BYTES;
	CHECK_U64(recorder_default_retain_bytes("/tmp"), want);
	CHECK_U64(recorder_default_retain_bytes("/tmp/no/such/store/yet"), want);
	CHECK(recorder_default_retain_bytes("relative-store-not-there") > 0);
	CHECK(recorder_default_retain_bytes("relative-store-not-there") <= RECORDER_RETAIN_BYTES);
}

int main(void)
{
	RUN(test_retain_forms);
	RUN(test_retain_refused);
	RUN(test_default_cap);
	TEST_EXIT();
}
