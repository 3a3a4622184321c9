/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The flight recorder's files (man cgwarden-store(5)): an
 * append-only directory of segment files holding opaque tick records
 * (reccodec.h makes them), compressed with zstd, with a small time index
 * beside each segment. This module knows bytes, times and files, never
 * what a tick means.
 *
 * Layout of DIR:
 *   lock                      flock()ed by the one writer
 *   <UTC start>-<n>.cgwr      a segment: header, then chunks
 *   <UTC start>-<n>.cgwi      its index: one entry per group
 *
 * A group is a run of ticks that starts with a keyframe (a tick the codec
 * encodes in full) and is one zstd stream, so a reader can start decoding
 * at any group without the ticks before it. A group is written as one or
 * more chunks, each flushed whole (its own header, length, CRC-32C and
 * times), so after a crash everything up to the last complete chunk reads
 * back; a torn or corrupt chunk ends its group for the reader, which says
 * so once and goes on at the next group. Segments are never appended to
 * after the writer closes them (a restarted writer begins a new one), and
 * retention deletes whole segments, oldest first.
 *
 * Inside a group's decompressed stream each tick is a varint of its wall
 * time (the difference from the tick before it), a varint length and that
 * many bytes. The byte layout: man cgwarden-store(5), and store.c's top.
 */
#ifndef CGWARDEN_STORE_H
#define CGWARDEN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The on-disk format this build writes, and the newest it reads. */
#define STORE_FORMAT_VERSION 1

/* ---- writing ------------------------------------------------------------ */

struct store_writer_opts {
	const char *dir;		/* created (0750) if missing */
	const char *who;		/* "cgwarden record": prefix of notices */
	bool quiet;			/* no notices on stderr (tests) */
	/* Retention: whole segments, oldest first, are deleted while the
	 * store is over retain_bytes, or when all of a segment is older than
	 * retain_usec. 0: that limit is off. Never the segment being written. */
	uint64_t retain_bytes;
	uint64_t retain_usec;
	/* A new segment is begun after this much wall time (0: 1 h) or when
	 * the current one reaches retain_bytes / 8 (so retention can keep
	 * within its cap by deleting whole files). */
	uint64_t segment_usec;
	/* A chunk is written (and the ticks in it made crash-safe) once this
	 * much wall time has passed since the last one (0: every tick), or its
	 * raw bytes reach STORE_CHUNK_RAW_MAX. */
	uint64_t flush_usec;
	/* A group ends (the next tick is a keyframe) after this many ticks
	 * (0: 120) or this much wall time (0: 10 min), whichever comes first:
	 * how much a reader decodes at most to reach one moment. */
	uint32_t group_ticks;
	uint64_t group_usec;
	int zstd_level;			/* 0: the default (3) */
};

#define STORE_CHUNK_RAW_MAX (4u << 20)

/* What the writer did so far (for self-cost, the bench and notices). */
struct store_writer_stats {
	uint64_t ticks;			/* ticks appended (and not lost to a pause) */
	uint64_t raw_bytes;		/* before compression */
	uint64_t disk_bytes;		/* written: chunk headers and index included */
	uint64_t store_bytes;		/* the store's size on disk now */
	uint64_t segments_deleted;	/* by retention */
	uint64_t ticks_dropped;		/* while paused */
	bool paused;			/* the disk is full: nothing is written */
};

struct store_writer;

/* Creates DIR if missing, takes its lock (-EBUSY when another writer has
 * it), applies retention once, and begins a new segment. 0, or -errno
 * after saying why on stderr. */
int store_writer_open(const struct store_writer_opts *o, struct store_writer **out);

/* Whether the next tick must be a keyframe: the first one, the first of a
 * new group or segment, and the first after a pause or a failed write.
 * The codec encodes it in full (rec_encode_tick's keyframe). */
bool store_need_keyframe(const struct store_writer *w);

/*
 * Appends one tick (raw bytes from the codec, wall_usec its CLOCK_REALTIME)
 * and writes a chunk when one is due. keyframe must be what
 * store_need_keyframe() said (-EINVAL for a delta where a keyframe is
 * needed; a keyframe where none is needed begins a group early). On a full disk (ENOSPC, EDQUOT) the store
 * pauses: says so once, drops ticks (counted), and tries again on each
 * later call once the file system has room; the first tick after that is
 * a keyframe. Returns 0 (also while paused), or -errno for what cannot go
 * on (said on stderr): the caller stops recording, monitoring goes on.
 */
int store_append(struct store_writer *w, const void *raw, size_t len, uint64_t wall_usec,
		 bool keyframe);

/* Writes what is buffered as a chunk now (SIGTERM, the end of a run). */
int store_flush(struct store_writer *w);

void store_writer_stats(const struct store_writer *w, struct store_writer_stats *st);

/* Flushes and closes; releases the lock. NULL is fine. 0 or -errno. */
int store_writer_close(struct store_writer *w);

/* ---- reading ------------------------------------------------------------ */

struct store_reader_opts {
	const char *who;		/* "cgwarden snapshot": prefix of notices */
	bool quiet;			/* no notices on stderr (tests, fuzzing) */
};

struct store_reader;

/*
 * Opens every segment of DIR (read-only; a writer may be appending to the
 * last one). A segment of a newer format version is refused: -EPROTO, with
 * "DIR/x.cgwr: format version N is newer than this cgwarden reads (1)" on
 * stderr; no segment at all is -ENOENT ("no recording in DIR"). A missing
 * or short index is rebuilt in memory by scanning its segment.
 */
int store_reader_open(const char *dir, const struct store_reader_opts *o,
		      struct store_reader **out);
void store_reader_close(struct store_reader *r);

/* The wall time of the first and the last complete tick in the store.
 * -ENOENT when it holds none. */
int store_range(struct store_reader *r, uint64_t *first_usec, uint64_t *last_usec);

/*
 * Positions the reader at the start of the group that holds the last tick
 * with wall time <= wall_usec (the first group when wall_usec is before
 * the recording): the next store_next() returns that group's keyframe.
 * back > 0 goes that many groups further back (to have the tick before a
 * group's first, for rates). 0 or -ENOENT (an empty store).
 */
int store_seek(struct store_reader *r, uint64_t wall_usec, unsigned back);

/*
 * The next tick: its raw bytes (valid until the next call), wall time, and
 * whether it is a keyframe (a group's first tick, which the codec can
 * decode alone; after a torn or corrupt chunk, reading goes on at the next
 * group, so the next tick returned is a keyframe). 0, or -ENOENT at the
 * end of the store, or -ENOMEM.
 */
int store_next(struct store_reader *r, const void **raw, size_t *len, uint64_t *wall_usec,
	       bool *keyframe);

/* Notices so far (torn chunks, bad CRCs, rebuilt indexes): each was said
 * once on stderr unless quiet. */
uint64_t store_reader_notices(const struct store_reader *r);

/* Times the end of the newest segment held a chunk not all written yet
 * while a writer held DIR/lock: the writer's next one, not a notice (the
 * same cut with no writer is a torn chunk, a notice). */
uint64_t store_reader_incomplete(const struct store_reader *r);

#endif
