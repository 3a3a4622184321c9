/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Making untrusted text safe to put on a terminal. A cgroup path is any
 * bytes but NUL (and '/' between names), and it reaches the dashboard and
 * stderr alike: this is the one escaper both use (ui/format.h's
 * fmt_sanitize is it under the dashboard's name).
 */
#ifndef CGWARDEN_TEXTESC_H
#define CGWARDEN_TEXTESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed UTF-8 sequence at p (avail >= 1 bytes readable)
 * and its code point in *cp, or 0 (and *cp untouched) if p starts none. */
size_t text_utf8_decode(const unsigned char *p, size_t avail, uint32_t *cp);

/*
 * Copies inlen bytes of in (NUL is just another byte) to out as text safe
 * for a terminal: C0 controls, DEL, C1 controls, bidi overrides and
 * invisible marks become visible escapes (\n, \t, \r, \e, \x00, \x7f,
 * \u009b, \u202e, \u200b), invalid UTF-8 bytes become \xNN. With ascii,
 * every other non-ASCII character becomes '?'. Never splits a sequence or
 * an escape; always NUL-terminates (outlen > 0). Returns the bytes written.
 * The output needs at most 4 bytes per input byte, plus one.
 */
size_t text_escape_mem(const char *in, size_t inlen, bool ascii, char *out, size_t outlen);

/* The same for a NUL-terminated string (NULL is ""). */
size_t text_escape(const char *in, bool ascii, char *out, size_t outlen);

#endif
