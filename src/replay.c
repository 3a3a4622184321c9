/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "replay.h"
#include "store.h"

/*
 * The decoder holds the current tick (and the one before, for rates). The
 * store's position is just past the current tick, except for one tick
 * read ahead (to know where a moment ends), kept in pending.
 */
struct replay {
	const char *who;
	bool quiet;
	struct store_reader *sr;
	struct rec_decoder *dec;
	uint64_t first_usec, last_usec;
	const struct cg_snapshot *cur;
	uint64_t cur_wall;
	const struct rec_action *acts;
	size_t nr_acts;
	uint32_t events;
	/* The tick read ahead, a copy (the store's buffer is reused). */
	unsigned char *pend;
	size_t pend_len, pend_cap;
	uint64_t pend_wall;
	bool pend_key, have_pend;
	bool said_bad;
};

int replay_open(const char *dir, const char *who, bool quiet, struct replay **out)
{
	struct store_reader_opts so = { .who = who, .quiet = quiet };
	struct replay *r = calloc(1, sizeof(*r));
	int err;

	if (!r) {
		fprintf(stderr, "%s: out of memory\n", who);
		return -ENOMEM;
	}
	r->who = who;
	r->quiet = quiet;
	err = store_reader_open(dir, &so, &r->sr);	/* says why */
	if (!err) {
		err = store_range(r->sr, &r->first_usec, &r->last_usec);
		if (err)
			fprintf(stderr, "%s: %s holds no complete tick\n", who, dir);
	}
	if (!err) {
		err = rec_decoder_new(&r->dec);
		if (err)
			fprintf(stderr, "%s: out of memory\n", who);
	}
	if (err) {
		replay_close(r);
		return err;
	}
	*out = r;
	return 0;
}

void replay_close(struct replay *r)
{
	if (!r)
		return;
	store_reader_close(r->sr);
	rec_decoder_free(r->dec);
	free(r->pend);
	free(r);
}

void replay_range(const struct replay *r, uint64_t *first_usec, uint64_t *last_usec)
{
	*first_usec = r->first_usec;
	*last_usec = r->last_usec;
}

/* The next tick's raw bytes: the one read ahead, else the store's. */
static int raw_next(struct replay *r, const void **raw, size_t *len, uint64_t *wall, bool *key)
{
	if (r->have_pend) {
		r->have_pend = false;
		*raw = r->pend;
		*len = r->pend_len;
		*wall = r->pend_wall;
		*key = r->pend_key;
		return 0;
	}
	return store_next(r->sr, raw, len, wall, key);
}

static int keep_pending(struct replay *r, const void *raw, size_t len, uint64_t wall, bool key)
{
	if (len > r->pend_cap) {
		unsigned char *p = realloc(r->pend, len);

		if (!p)
			return -ENOMEM;
		r->pend = p;
		r->pend_cap = len;
	}
	memcpy(r->pend, raw, len);
	r->pend_len = len;
	r->pend_wall = wall;
	r->pend_key = key;
	r->have_pend = true;
	return 0;
}

/*
 * Decodes the next tick. A tick that does not decode (the store checked
 * its bytes, so this is a bug or a hostile store) is said once, and
 * decoding goes on at the next keyframe. 0, -ENOENT at the end, -ENOMEM.
 */
static int decode_next(struct replay *r)
{
	const struct cg_snapshot *snap;
	const struct rec_action *acts;
	const char *why = NULL;
	const void *raw;
	size_t len, nr;
	uint64_t wall;
	bool key;
	int err;

	for (;;) {
		err = raw_next(r, &raw, &len, &wall, &key);
		if (err)
			return err;
		err = rec_decode_tick(r->dec, raw, len, &snap, &acts, &nr, &why);
		if (!err)
			break;
		if (err == -ENOMEM)
			return err;
		/* -ENOENT: a delta without its keyframe (after a skipped
		 * chunk); -EBADMSG: bytes the codec refuses. */
		if (err == -EBADMSG && !r->said_bad && !r->quiet) {
			fprintf(stderr, "%s: a recorded tick does not decode (%s): skipped to the "
				"next keyframe\n", r->who, why ? why : "malformed");
			r->said_bad = true;
		}
		rec_decoder_reset(r->dec);
		/* The decoder lost its ticks: what was current is gone too. */
		r->cur = NULL;
	}
	r->cur = snap;
	r->cur_wall = wall;
	r->acts = acts;
	r->nr_acts = nr;
	r->events = rec_decoder_events(r->dec);
	return 0;
}

/* After a seek: forget every decoded tick and decode the group's first. */
static int decode_group_start(struct replay *r)
{
	rec_decoder_reset(r->dec);
	r->have_pend = false;
	r->cur = NULL;
	return decode_next(r);
}

/* Decodes from the group start the store is at up to the last tick at or
 * before wall_usec (at least one tick); *nr how many. */
static int decode_until(struct replay *r, uint64_t wall_usec, unsigned *nr)
{
	const void *raw;
	size_t len;
	uint64_t wall;
	bool key;
	int err;

	*nr = 0;
	err = decode_group_start(r);
	if (err)
		return err;
	for (*nr = 1;; ++*nr) {
		err = raw_next(r, &raw, &len, &wall, &key);
		if (err == -ENOENT)
			return 0;
		if (err)
			return err;
		if (wall > wall_usec)
			return keep_pending(r, raw, len, wall, key);
		err = keep_pending(r, raw, len, wall, key);
		if (!err)
			err = decode_next(r);
		if (err)
			return err == -ENOENT ? 0 : err;
	}
}

static int seek_decode(struct replay *r, uint64_t wall_usec, unsigned back, unsigned *nr)
{
	int err = store_seek(r->sr, wall_usec, back);

	return err ? err : decode_until(r, wall_usec, nr);
}

int replay_at(struct replay *r, uint64_t wall_usec, const struct cg_snapshot **out)
{
	unsigned nr;
	int err = seek_decode(r, wall_usec, 0, &nr);

	/*
	 * The moment is a group's first tick: its rates need the tick
	 * before, which is the previous group's last. Start a group earlier
	 * (unless this is the recording's first tick).
	 */
	if (!err && r->cur && nr == 1 && r->cur_wall > r->first_usec) {
		uint64_t want = r->cur_wall;

		err = seek_decode(r, want, 1, &nr);
		if (!err && r->cur_wall != want)
			err = seek_decode(r, want, 0, &nr);
	}
	if (err)
		return err;
	if (!r->cur)
		return -EBADMSG;
	*out = r->cur;
	return 0;
}

int replay_next(struct replay *r, const struct cg_snapshot **out)
{
	int err;

	if (!r->cur)
		return -ENOENT;
	err = decode_next(r);
	if (err)
		return err;
	*out = r->cur;
	return 0;
}

int replay_prev(struct replay *r, const struct cg_snapshot **out)
{
	uint64_t at = r->cur_wall;

	if (!r->cur || at <= r->first_usec)
		return -ENOENT;
	return replay_at(r, at - 1, out);
}

/*
 * Backwards, group by group: from each group start up to where the last
 * scan began, keep the last tick with an event. Each group is decoded
 * once, not once per tick stepped over.
 */
static int find_event_back(struct replay *r, uint32_t kinds, const struct cg_snapshot **out)
{
	uint64_t from = r->cur_wall, found = 0;
	bool any = false;
	int err;

	while (!any) {
		uint64_t scan_start;

		err = store_seek(r->sr, from - 1, 0);
		if (err)
			return err;
		err = decode_group_start(r);
		if (err)
			return err;
		scan_start = r->cur_wall;
		for (;;) {
			if (r->cur_wall >= from)
				break;
			if (r->events & kinds) {
				found = r->cur_wall;
				any = true;
			}
			err = decode_next(r);
			if (err == -ENOENT)
				break;
			if (err)
				return err;
		}
		if (any || scan_start <= r->first_usec)
			break;
		from = scan_start;
	}
	if (!any)
		return -ENOENT;
	return replay_at(r, found, out);
}

int replay_find_event(struct replay *r, int dir, uint32_t kinds, const struct cg_snapshot **out)
{
	uint64_t start;
	int err;

	if (!r->cur)
		return -ENOENT;
	start = r->cur_wall;
	if (dir < 0) {
		err = find_event_back(r, kinds, out);
		if (err == -ENOENT)
			replay_at(r, start, out);
		return err;
	}
	for (;;) {
		err = decode_next(r);
		if (err)
			break;
		if (r->events & kinds) {
			*out = r->cur;
			return 0;
		}
	}
	/* None ahead: back where we were. */
	if (err == -ENOENT)
		replay_at(r, start, out);
	return err;
}

uint32_t replay_events(const struct replay *r)
{
	return r->cur ? r->events : 0;
}

const struct rec_action *replay_actions(const struct replay *r, size_t *nr)
{
	*nr = r->cur ? r->nr_acts : 0;
	return r->cur ? r->acts : NULL;
}
