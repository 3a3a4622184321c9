/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Recorded time as a source of snapshots (DESIGN.md: "replay -> same
 * snapshot type"): a store (store.h) read through the codec (reccodec.h),
 * positioned at a moment and stepped tick by tick, forward and back.
 * snapshot --replay, stream --replay, top --replay and check-policy
 * --replay all read through this.
 */
#ifndef CGWARDEN_REPLAY_H
#define CGWARDEN_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "reccodec.h"
#include "snapshot.h"

struct replay;

/* Opens the store in dir. 0, or -errno after saying why on stderr
 * (prefixed by who): -ENOENT no recording there, -EPROTO a newer format. */
int replay_open(const char *dir, const char *who, bool quiet, struct replay **out);
void replay_close(struct replay *r);

/* Wall time (CLOCK_REALTIME usec) of the first and last recorded tick. */
void replay_range(const struct replay *r, uint64_t *first_usec, uint64_t *last_usec);

/*
 * The last tick at or before wall_usec (the first tick when wall_usec is
 * before the recording), with its rates: *out valid until the next call
 * on r. 0, -ENOENT (nothing recorded), -EBADMSG (the store cannot be
 * decoded there, said on stderr), -ENOMEM.
 */
int replay_at(struct replay *r, uint64_t wall_usec, const struct cg_snapshot **out);

/* The tick after / before the current one. -ENOENT at the end / start
 * (the current one stays, and pointers to it stay valid). */
int replay_next(struct replay *r, const struct cg_snapshot **out);
int replay_prev(struct replay *r, const struct cg_snapshot **out);

/* The next (dir > 0) or previous (dir < 0) tick after the current one that
 * holds an event of kinds (enum rec_event mask). -ENOENT when there is
 * none: the search decoded other ticks, so *out is the current tick again,
 * decoded anew, and a snapshot pointer held from before is no longer
 * valid. */
int replay_find_event(struct replay *r, int dir, uint32_t kinds,
		      const struct cg_snapshot **out);

/* The current tick's events (enum rec_event) and policy actions. */
uint32_t replay_events(const struct replay *r);
const struct rec_action *replay_actions(const struct replay *r, size_t *nr);

#endif
