/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The terminal escaper shared by src/ and ui/ (src/textesc.c): byte buffers
 * with NULs, bidi and zero-width characters, the 4x output bound, and the
 * decoder that ui/format.c's widths build on.
 */
#include "test.h"
#include "textesc.h"

static char buf[256];

#define M(lit) (text_escape_mem((lit), sizeof(lit) - 1, false, buf, sizeof(buf)), buf)

static void test_mem_escapes_nul_and_newline(void)
{
	CHECK_STR(M("a\0b"), "a\\x00b");
	CHECK_STR(M("line\n"), "line\\n");
	CHECK_INT(text_escape_mem("abc", 0, false, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "");
	CHECK_INT(text_escape(NULL, false, buf, sizeof(buf)), 0);
	/* A sequence cut by the length is invalid, not read past. */
	CHECK_INT(text_escape_mem("\xc3\xa9", 1, false, buf, sizeof(buf)), 4);
	CHECK_STR(buf, "\\xc3");
}

static void test_bidi_and_invisible(void)
{
	/* RLO, LRI..PDI, ZWSP, ZWJ, LRM, word joiner, BOM, line separator. */
	CHECK_STR(M("a\xe2\x80\xae" "b"), "a\\u202eb");
	CHECK_STR(M("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u2066x\\u2069");
	CHECK_STR(M("\xe2\x80\x8b\xe2\x80\x8d\xe2\x80\x8e"), "\\u200b\\u200d\\u200e");
	CHECK_STR(M("\xe2\x81\xa0\xef\xbb\xbf\xe2\x80\xa8"), "\\u2060\\ufeff\\u2028");
	/* Ordinary non-ASCII stays. */
	CHECK_STR(M("caf\xc3\xa9 \xe2\x80\xa6"), "caf\xc3\xa9 \xe2\x80\xa6");
}

static void test_four_bytes_per_byte_is_enough(void)
{
	/* Worst case: every byte an invalid one or a C0 control. */
	char in[64], out[4 * sizeof(in) + 1];

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)(i % 2 ? 0xff : 0x01);
	CHECK_INT(text_escape_mem(in, sizeof(in), false, out, sizeof(out)), 4 * sizeof(in));
	for (size_t i = 0; i < 4 * sizeof(in); i++)
		CHECK((unsigned char)out[i] >= 0x20 && (unsigned char)out[i] < 0x7f);
}

static void test_decode(void)
{
	uint32_t cp = 0;

	CHECK_INT(text_utf8_decode((const unsigned char *)"A", 1, &cp), 1);
	CHECK_U64(cp, 'A');
	CHECK_INT(text_utf8_decode((const unsigned char *)"\xc3\xa9", 2, &cp), 2);
	CHECK_U64(cp, 0xe9);
	CHECK_INT(text_utf8_decode((const unsigned char *)"\xe2\x80\xae", 3, &cp), 3);
	CHECK_U64(cp, 0x202e);
	CHECK_INT(text_utf8_decode((const unsigned char *)"\xf0\x9f\x90\xb3", 4, &cp), 4);
	CHECK_U64(cp, 0x1f433);
	CHECK_INT(text_utf8_decode((const unsigned char *)"\xc0\xaf", 2, &cp), 0);
	CHECK_INT(text_utf8_decode((const unsigned char *)"\xed\xa0\x80", 3, &cp), 0);
	CHECK_INT(text_utf8_decode((const unsigned char *)"\xe2\x80\xae", 2, &cp), 0);
}

int main(void)
{
	RUN(test_mem_escapes_nul_and_newline);
	RUN(test_bidi_and_invisible);
	RUN(test_four_bytes_per_byte_is_enough);
	RUN(test_decode);
	TEST_EXIT();
}
