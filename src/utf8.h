/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * UTF-8 checks shared by the text writers (JSON, OpenMetrics): cgroup
 * directory names are arbitrary bytes, and both formats must be valid UTF-8.
 */
#ifndef CGWARDEN_UTF8_H
#define CGWARDEN_UTF8_H

#include <stddef.h>

/* U+FFFD REPLACEMENT CHARACTER, written for each byte of invalid UTF-8. */
#define UTF8_REPLACEMENT "\xef\xbf\xbd"

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF), or 0 if the byte at p starts none.
 * avail >= 1 bytes are readable at p.
 */
size_t utf8_seq_len(const unsigned char *p, size_t avail);

#endif
