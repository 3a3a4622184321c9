/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libFuzzer target for the flight recorder's tick decoder (src/reccodec.h).
 * An input is a run of ticks, each a 2-byte little-endian length and that
 * many bytes, decoded in sequence by one decoder: whatever the bytes, each
 * call must give a tick, -EBADMSG (with a reason) or -ENOENT, never a crash
 * or a sanitizer report.
 *
 * And what decodes must survive a round trip: each decoded tick is encoded
 * again (by an encoder that follows the decoder: a keyframe where it read
 * one) and decoded by a second decoder, whose tick must render the same
 * JSON (json_write_snapshot and json_write_stream_tick) and give the same
 * policy actions. A broken invariant is a __builtin_trap() crash.
 * Build and run: see tests/fuzz/README.md.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "reccodec.h"

#define ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

static char *render(const struct cg_snapshot *s, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	ASSERT(f);
	json_write_snapshot(f, s, false);
	json_write_stream_tick(f, s);
	fclose(f);
	return buf;
}

static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec_decoder *d, *d2;
	struct rec_encoder *e;
	struct rec_buf b = { 0 };
	bool enc_prev = false;

	if (rec_decoder_new(&d) || rec_decoder_new(&d2) || rec_encoder_new(&e))
		__builtin_trap();
	while (size >= 2) {
		size_t len = (size_t)data[0] | (size_t)data[1] << 8;
		const struct cg_snapshot *s, *s2;
		const struct rec_action *a, *a2;
		size_t na = 0, na2 = 0, l1, l2;
		const char *why = NULL;
		char *j1, *j2;
		int err;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		/* An exact copy: ASan sees any read past the tick. */
		uint8_t *tick = malloc(len ? len : 1);

		ASSERT(tick);
		memcpy(tick, data, len);
		data += len;
		size -= len;
		err = rec_decode_tick(d, tick, len, &s, &a, &na, &why);
		if (err) {
			ASSERT(err == -EBADMSG || err == -ENOENT);
			ASSERT(err != -EBADMSG || why);
			rec_encoder_reset(e);
			rec_decoder_reset(d2);
			enc_prev = false;
			free(tick);
			continue;
		}
		b.len = 0;
		err = rec_encode_tick(e, s, a, na, !enc_prev || (len && (tick[0] & 1)), &b);
		free(tick);
		ASSERT(err == 0);
		enc_prev = true;
		err = rec_decode_tick(d2, b.p, b.len, &s2, &a2, &na2, &why);
		ASSERT(err == 0);
		ASSERT(rec_decoder_events(d) == rec_decoder_events(d2));
		ASSERT(na == na2);
		for (size_t i = 0; i < na; i++) {
			ASSERT(a[i].time_usec == a2[i].time_usec && a[i].cgroup_id == a2[i].cgroup_id);
			ASSERT(str_same(a[i].rule, a2[i].rule) && str_same(a[i].action, a2[i].action));
			ASSERT(str_same(a[i].result, a2[i].result) && str_same(a[i].json, a2[i].json));
			ASSERT(a[i].restore == a2[i].restore && a[i].dry_run == a2[i].dry_run &&
			       a[i].blocked == a2[i].blocked);
		}
		j1 = render(s, &l1);
		j2 = render(s2, &l2);
		ASSERT(l1 == l2 && memcmp(j1, j2, l1) == 0);
		free(j1);
		free(j2);
	}
	rec_buf_free(&b);
	rec_encoder_free(e);
	rec_decoder_free(d);
	rec_decoder_free(d2);
	return 0;
}
