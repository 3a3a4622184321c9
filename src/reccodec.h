/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The flight recorder's tick encoding: a struct cg_snapshot (and the policy
 * actions taken during that tick) to bytes, and back. Pure: no I/O, no
 * clock; store.h keeps the bytes.
 *
 * A tick is either a keyframe, which holds everything (the column
 * dictionary, every cgroup's path, identity and values) and decodes alone,
 * or a delta against the tick encoded just before it: births (path,
 * identity), identity changes, deaths, and for each cgroup whose values
 * changed, the changed columns only, each as a zigzag varint of (new - old)
 * keyed by the cgroup's slot and the column's index. Columns are the value
 * rows of the metric table (metrics.h, by their JSON id, so a reader maps
 * them by name and skips the ones it does not know), the presence words
 * (have masks), each sample's read_usec (the rates' dt) and the slow
 * tier's carried marks, plus the host and self figures. Rates are not
 * stored: the decoder derives them exactly as the collector did, with
 * rates_compute() against the previous tick, when that tick is the one
 * before (seq + 1); a keyframe also holds the rates that the slow tier
 * carries from earlier ticks, so a group decodes alone.
 *
 * Decoding never trusts its input: any malformed, truncated or hostile
 * record (a count of 2^60 cgroups, a column past the dictionary, a string
 * running past the end) is -EBADMSG with a reason, never a crash, and
 * memory grows only with what the input really holds.
 */
#ifndef CGWARDEN_RECCODEC_H
#define CGWARDEN_RECCODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "snapshot.h"

/* A growing byte buffer (the encoder's output). */
struct rec_buf {
	unsigned char *p;
	size_t len, cap;
};

void rec_buf_free(struct rec_buf *b);

/* A policy_action record of the daemon, as recorded: the JSON line it
 * wrote (json_write_policy_action, without its newline) and the fields a
 * replay looks at. The strings are the caller's when encoding and the
 * decoder's when decoded (valid until its next tick). */
struct rec_action {
	uint64_t time_usec;		/* CLOCK_REALTIME */
	uint64_t cgroup_id;
	const char *rule, *action, *result;	/* "memory.high", "ok" */
	bool restore, dry_run, blocked;
	const char *json;
};

/* ---- encoding ----------------------------------------------------------- */

struct rec_encoder;

int rec_encoder_new(struct rec_encoder **out);
void rec_encoder_free(struct rec_encoder *e);

/*
 * Appends tick s to buf (which it grows; buf->len is not reset). keyframe:
 * encode in full; otherwise deltas against the last tick given to this
 * encoder (there must be one: -EINVAL otherwise). acts: the policy actions
 * taken since the last tick. 0 or -ENOMEM. The encoder keeps what it needs
 * of s (it need not stay valid).
 */
int rec_encode_tick(struct rec_encoder *e, const struct cg_snapshot *s,
		    const struct rec_action *acts, size_t nr_acts, bool keyframe,
		    struct rec_buf *buf);

/* Forget the last tick: the next must be a keyframe (after a pause). */
void rec_encoder_reset(struct rec_encoder *e);

/* ---- decoding ----------------------------------------------------------- */

struct rec_decoder;

int rec_decoder_new(struct rec_decoder **out);
void rec_decoder_free(struct rec_decoder *d);

/*
 * Decodes one tick into a snapshot of the same schema as the collector's:
 * samples parent before child in the recorded order, removed[] (with the
 * final counters of the tick before), added[], oom[], host, self, and
 * rates derived as the collector did. *out (and *acts) stay valid until
 * the next call. A delta tick needs the tick before it decoded by this
 * decoder: -ENOENT if this decoder has none (start at a keyframe).
 * -EBADMSG for malformed input: why (a static string) in *why when not
 * NULL. -ENOMEM. After any error the decoder has reset itself: the next
 * tick it takes is a keyframe.
 */
int rec_decode_tick(struct rec_decoder *d, const void *buf, size_t len,
		    const struct cg_snapshot **out, const struct rec_action **acts,
		    size_t *nr_acts, const char **why);

/* Forget the last tick (after a seek): the next must be a keyframe. */
void rec_decoder_reset(struct rec_decoder *d);

/* What the last decoded tick held: its kind of events (for jumping from
 * event to event in a replay). */
enum rec_event {
	REC_EV_OOM	= 1u << 0,	/* an OOM kill (eBPF, or memory.events oom_kill grew) */
	REC_EV_REMOVED	= 1u << 1,	/* a cgroup went away */
	REC_EV_ACTION	= 1u << 2,	/* a policy action */
	REC_EV_ADDED	= 1u << 3,	/* a cgroup appeared */
};
uint32_t rec_decoder_events(const struct rec_decoder *d);

#endif
