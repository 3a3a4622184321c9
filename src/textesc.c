// SPDX-License-Identifier: GPL-2.0-only
/* Terminal-safe text (see textesc.h). */
#include <stdio.h>
#include <string.h>
#include "textesc.h"
#include "utf8.h"

size_t text_utf8_decode(const unsigned char *p, size_t avail, uint32_t *cp)
{
	size_t len = utf8_seq_len(p, avail);
	uint32_t c;

	if (len == 0)
		return 0;
	/* utf8_seq_len vouched for the form: only the bits are left. */
	c = len == 1 ? p[0] : len == 2 ? p[0] & 0x1fu : len == 3 ? p[0] & 0x0fu : p[0] & 0x07u;
	for (size_t i = 1; i < len; i++)
		c = (c << 6) | (p[i] & 0x3fu);
	*cp = c;
	return len;
}

/* Code points a terminal acts on, or that reorder or hide text (Trojan
 * Source): C1 controls, bidi embeddings/overrides/isolates and marks,
 * zero-width characters and the BOM. */
static bool unsafe_cp(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069) || (c >= 0x200b && c <= 0x200f) ||
	       c == 0x2028 || c == 0x2029 || c == 0x2060 || c == 0x061c || c == 0xfeff;
}

size_t text_escape_mem(const char *in, size_t inlen, bool ascii, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)in, *end = p + inlen;
	size_t o = 0;
	char esc[12];

	if (!outlen)
		return 0;
	while (p && p < end) {
		uint32_t cp = 0;
		size_t len = text_utf8_decode(p, (size_t)(end - p), &cp), plen;
		const char *put = esc;

		esc[0] = '\0';
		if (!len) {
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
			len = 1;
		} else if (cp == '\n') {
			put = "\\n";
		} else if (cp == '\t') {
			put = "\\t";
		} else if (cp == '\r') {
			put = "\\r";
		} else if (cp == 0x1b) {
			put = "\\e";
		} else if (cp < 0x20 || cp == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", (unsigned)cp);
		} else if (unsafe_cp(cp)) {
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
		} else if (cp >= 0x80 && ascii) {
			put = "?";
		} else {
			put = (const char *)p;	/* the sequence itself */
		}
		plen = put == (const char *)p ? len : strlen(put);
		if (o + plen >= outlen)
			break;
		memcpy(out + o, put, plen);
		o += plen;
		p += len;
	}
	out[o] = '\0';
	return o;
}

size_t text_escape(const char *in, bool ascii, char *out, size_t outlen)
{
	return text_escape_mem(in, in ? strlen(in) : 0, ascii, out, outlen);
}
