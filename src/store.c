/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The flight recorder's files; see store.h and man cgwarden-store(5).
 *
 * On-disk format, version 1. Every integer is little-endian.
 *
 * Segment (<UTC start>-<nnnn>.cgwr, e.g. 20261205T030000Z-0000.cgwr; names
 * sort by time, nnnn tells two segments begun in one second apart):
 *
 *   header, header_len bytes (32 in version 1):
 *     0  magic "CGWSTORE" (8)      anything else: not a store, refused
 *     8  u16 format version        > STORE_FORMAT_VERSION: refused, -EPROTO
 *    10  u16 header_len            a later version may grow the header;
 *                                  chunks begin at header_len
 *    12  u32 flags (0)
 *    16  u64 created, wall usec
 *    24  u32 CRC-32C of bytes 0..23
 *    28  u32 reserved (0)
 *   then chunks, back to back:
 *     0  u32 magic "CWCK"
 *     4  u32 flags                 1: the first chunk of a group (a new zstd
 *                                  frame begins), 2: the last (its frame ends)
 *     8  u32 comp_len              payload bytes after this header
 *    12  u32 raw_len               bytes the payload decompresses to
 *                                  (<= STORE_CHUNK_RAW_MAX)
 *    16  u32 nticks                >= 1, <= raw_len / 2
 *    20  u32 seq                   chunk number within its group (0 first)
 *    24  u64 first tick wall usec
 *    32  u64 last tick wall usec
 *    40  u32 reserved (0)
 *    44  u32 CRC-32C of bytes 0..43 and the payload
 *     48 payload: zstd data
 *
 * A group's chunks, concatenated, are one zstd frame (a flush ends each
 * chunk, so every chunk decompresses with only the ones before it in its
 * group). A frame may lack its end (a pause or a crash cut the group); the
 * next group-start chunk begins a new one. Decompressed, a chunk is its
 * ticks, each: varint zigzag(wall usec - previous tick's; the first tick
 * of a chunk counts from the chunk's first time, so it is 0), varint
 * length, that many bytes (the codec's opaque record). varint: LEB128.
 *
 * Index (same name, .cgwi): a 16-byte header (magic "CGWINDEX", u16
 * version, u16 header_len 16, u16 entry_len 16, u16 0), then one entry per
 * group, appended after the group's first chunk is written: u64 first tick
 * wall usec, u64 offset of that chunk in the segment. It only speeds up
 * finding groups: the reader checks each entry against the chunk header it
 * names, scans the segment from the last entry on (the newest group, and
 * groups a writer could not index), and rebuilds the whole list by
 * scanning when the index is missing, short or wrong (a notice).
 *
 * Crash behaviour: a chunk goes out in one write(); a segment is never
 * appended to after its writer closed it. A chunk cut by a crash (its
 * length runs past the end of the file) or damaged (bad CRC, lengths, or
 * a payload that does not decompress to exactly its raw_len and nticks)
 * ends its group for the reader, which says so once and goes on at the
 * next group start. At the end of the newest segment while a writer holds
 * DIR/lock, a short chunk is the writer's next one, not yet all there: it
 * is counted (store_reader_incomplete) but not said. A reader follows the
 * newest segment as it grows; segments begun after it opened are not
 * seen (open again).
 *
 * Memory: the writer holds one zstd compression context (window 2^20,
 * see STORE_WINDOW_LOG: ZSTD_sizeof_CCtx 2.6 MB at level 3, 1.9 MB at 1,
 * 5.0 MB at 5, libzstd 1.5.4) and one chunk's output buffer (64 KiB,
 * grown as a chunk needs, to the bound of STORE_CHUNK_RAW_MAX raw bytes).
 * The reader holds one decompression context (1.5 MB for these frames;
 * frames needing a window beyond 2^22 are refused as damage), one
 * compressed and one decompressed chunk.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>
#include "clock.h"
#include "store.h"

#define SEG_MAGIC "CGWSTORE"
#define SEG_HDR_LEN 32u
#define SEG_HDR_MAX 4096u
#define IDX_MAGIC "CGWINDEX"
#define IDX_HDR_LEN 16u
#define IDX_ENTRY_LEN 16u
#define CHUNK_MAGIC 0x4b435743u		/* "CWCK" */
#define CHUNK_HDR_LEN 48u
#define CHUNK_START 1u
#define CHUNK_END 2u
#define CHUNK_COMP_MAX (ZSTD_COMPRESSBOUND(STORE_CHUNK_RAW_MAX) + 4096u)
#define STORE_WINDOW_LOG 20
#define STORE_READ_WINDOW_LOG_MAX 22
#define TICK_OVERHEAD 20u		/* two varints at most */
#define NAME_MAX_LEN 48

/* ---- small helpers -------------------------------------------------------- */

static uint32_t crc_table[256];

static void crc_init(void)
{
	if (crc_table[1])
		return;
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[i] = c;
	}
}

/* CRC-32C (Castagnoli), the reflected table-driven form; crc starts at 0. */
static uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	crc_init();
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static size_t varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* 0 and *pos advanced, or -1 when it runs past end or over 64 bits. */
static int varint_get(const uint8_t *p, size_t end, size_t *pos, uint64_t *v)
{
	uint64_t r = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (*pos >= end)
			return -1;
		b = p[(*pos)++];
		r |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return -1;
}

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static void say(const char *who, bool quiet, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(const char *who, bool quiet, const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", who);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA;
		done += (size_t)n;
	}
	return 0;
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a > b && strcmp(s + a - b, suf) == 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of DIR's segments (not hidden files). *out NULL when none. */
static int list_segments(int dirfd, char ***out, size_t *n)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	DIR *d;
	struct dirent *e;
	char **v = NULL;
	size_t cnt = 0, cap = 0;

	*out = NULL;
	*n = 0;
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !has_suffix(e->d_name, ".cgwr") ||
		    strlen(e->d_name) >= NAME_MAX_LEN)
			continue;
		if (cnt == cap) {
			char **nv = realloc(v, (cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv)
				goto nomem;
			v = nv;
			cap = cap ? cap * 2 : 16;
		}
		v[cnt] = strdup(e->d_name);
		if (!v[cnt])
			goto nomem;
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), name_cmp);
	*out = v;
	*n = cnt;
	return 0;
nomem:
	closedir(d);
	while (cnt)
		free(v[--cnt]);
	free(v);
	return -ENOMEM;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void index_name(char *dst, const char *seg)
{
	size_t l = strlen(seg);

	memcpy(dst, seg, l - 5);
	strcpy(dst + l - 5, ".cgwi");
}

/* ---- writing -------------------------------------------------------------- */

struct wseg {
	char name[NAME_MAX_LEN];
	uint64_t bytes;		/* segment and index */
	uint64_t end_usec;	/* its last tick (or mtime) */
};

struct store_writer {
	struct store_writer_opts o;
	char *dir;
	char *who;
	int dirfd, lock_fd;
	ZSTD_CCtx *cctx;

	/* closed segments, oldest first, for retention without a scan */
	struct wseg *segs;
	size_t nsegs, segs_cap;
	uint64_t closed_bytes;

	/* the segment being written; seg_fd < 0: none (begun on a keyframe) */
	int seg_fd, idx_fd;
	char seg_name[NAME_MAX_LEN];
	uint64_t seg_size, idx_size, seg_start_usec;
	unsigned name_seq;
	bool idx_ok;

	/* the group and chunk being built */
	bool in_group, need_kf;
	uint32_t group_nticks, chunk_seq;
	uint64_t group_first_usec;
	uint8_t *out;			/* CHUNK_HDR_LEN reserved, then payload */
	size_t out_cap, out_len;
	uint32_t c_nticks, c_raw;
	uint64_t c_first, c_last, c_flush_usec;
	bool c_start;
	uint64_t last_usec, last_chunk_bytes;

	bool paused, resume_ready, said_big;
	uint64_t dropped_at_pause;
	int err;
	struct store_writer_stats st;
};

/* The one place this module opens anything for writing, always under DIR. */
static int create_at(int dirfd, const char *name, int flags)
{
	return openat(dirfd, name, flags | O_CREAT | O_CLOEXEC, 0640);
}

static uint64_t opt_or(uint64_t v, uint64_t dflt)
{
	return v ? v : dflt;
}

static bool is_full(int err)
{
	return err == -ENOSPC || err == -EDQUOT;
}

/* Writes all of buf at off in one call, or -errno (-ENOSPC for a short
 * write that made no error: the file system took what it had room for).
 * At an explicit offset, so a failed write truncated away leaves no gap. */
static int write_all(int fd, const void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	do
		n = pwrite(fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -ENOSPC;
}

static uint64_t store_total(const struct store_writer *w)
{
	return w->closed_bytes + w->seg_size + w->idx_size;
}

static void unlink_segment(struct store_writer *w, const char *name)
{
	char idx[NAME_MAX_LEN];

	index_name(idx, name);
	unlinkat(w->dirfd, name, 0);
	unlinkat(w->dirfd, idx, 0);
}

/* Deletes whole closed segments, oldest first, while the store is over
 * retain_bytes or a segment ended before now - retain_usec. */
static void retention(struct store_writer *w, uint64_t now)
{
	size_t k = 0;

	while (k < w->nsegs) {
		const struct wseg *s = &w->segs[k];
		bool over = w->o.retain_bytes && store_total(w) > w->o.retain_bytes;
		bool old = w->o.retain_usec && s->end_usec + w->o.retain_usec < now;

		if (!over && !old)
			break;
		unlink_segment(w, s->name);
		w->closed_bytes -= s->bytes;
		w->st.segments_deleted++;
		k++;
	}
	if (k) {
		memmove(w->segs, w->segs + k, (w->nsegs - k) * sizeof(*w->segs));
		w->nsegs -= k;
	}
}

/* Cheap enough for every chunk: no directory scan, only the running total
 * and the oldest segment's end. */
static void retention_check(struct store_writer *w, uint64_t now)
{
	if (!w->nsegs)
		return;
	if ((w->o.retain_bytes && store_total(w) > w->o.retain_bytes) ||
	    (w->o.retain_usec && w->segs[0].end_usec + w->o.retain_usec < now))
		retention(w, now);
}

static int segs_push(struct store_writer *w, const char *name, uint64_t bytes, uint64_t end)
{
	if (w->nsegs == w->segs_cap) {
		size_t cap = w->segs_cap ? w->segs_cap * 2 : 16;
		struct wseg *n = realloc(w->segs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		w->segs = n;
		w->segs_cap = cap;
	}
	snprintf(w->segs[w->nsegs].name, NAME_MAX_LEN, "%s", name);
	w->segs[w->nsegs].bytes = bytes;
	w->segs[w->nsegs].end_usec = end;
	w->nsegs++;
	w->closed_bytes += bytes;
	return 0;
}

/* The segments already in DIR (from earlier runs), for retention. */
static int load_existing(struct store_writer *w)
{
	char **names;
	size_t n;
	int err = list_segments(w->dirfd, &names, &n);

	if (err)
		return err;
	for (size_t i = 0; i < n && !err; i++) {
		char idx[NAME_MAX_LEN];
		struct stat sb;
		uint64_t bytes = 0, end = 0;

		if (fstatat(w->dirfd, names[i], &sb, 0) == 0) {
			bytes = (uint64_t)sb.st_size;
			end = (uint64_t)sb.st_mtim.tv_sec * 1000000u +
			      (uint64_t)sb.st_mtim.tv_nsec / 1000u;
		}
		index_name(idx, names[i]);
		if (fstatat(w->dirfd, idx, &sb, 0) == 0)
			bytes += (uint64_t)sb.st_size;
		err = segs_push(w, names[i], bytes, end);
	}
	/* Two segments begun in one second sort by this counter: go on
	 * from the newest one's. */
	if (n) {
		const char *dash = strrchr(names[n - 1], '-');

		if (dash)
			w->name_seq = (unsigned)strtoul(dash + 1, NULL, 10) + 1;
	}
	free_names(names, n);
	return err;
}

static void pause_recording(struct store_writer *w)
{
	if (w->paused)
		return;
	w->paused = true;
	w->resume_ready = false;
	w->dropped_at_pause = w->st.ticks_dropped;
	say(w->who, w->o.quiet, "%s: disk full: recording paused, monitoring goes on", w->dir);
}

/* A hard error: said once, kept, returned from then on. */
static int fail(struct store_writer *w, int err, const char *what)
{
	if (!w->err) {
		w->err = err;
		say(w->who, w->o.quiet, "%s: %s: %s: recording stops", w->dir, what,
		    strerror(-err));
	}
	return err;
}

static void close_segment(struct store_writer *w)
{
	if (w->seg_fd < 0)
		return;
	close(w->seg_fd);
	if (w->idx_fd >= 0)
		close(w->idx_fd);
	w->seg_fd = w->idx_fd = -1;
	/* On failure the segment is left out of retention's list; the next
	 * writer's open finds it again. */
	segs_push(w, w->seg_name, w->seg_size + w->idx_size,
		  w->last_usec ? w->last_usec : w->seg_start_usec);
	w->seg_size = w->idx_size = 0;
}

/* Begins a new segment and its index. 0, 1 when the disk is full (paused;
 * nothing left behind), or -errno. */
static int begin_segment(struct store_writer *w, uint64_t now)
{
	uint8_t h[SEG_HDR_LEN] = { 0 }, ih[IDX_HDR_LEN] = { 0 };
	char stamp[32], idx[NAME_MAX_LEN];
	time_t t = (time_t)(now / 1000000u);
	struct tm tm;
	int fd = -1, ifd = -1, err;

	if (!gmtime_r(&t, &tm) || !strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm))
		snprintf(stamp, sizeof(stamp), "%llu", (unsigned long long)t);
	for (unsigned tries = 0; tries < 10000; tries++) {
		snprintf(w->seg_name, sizeof(w->seg_name), "%s-%04u.cgwr", stamp,
			 w->name_seq % 10000);
		fd = create_at(w->dirfd, w->seg_name, O_WRONLY | O_EXCL);
		if (fd >= 0 || errno != EEXIST)
			break;
		w->name_seq++;
	}
	w->name_seq++;
	if (fd < 0) {
		err = -errno;
		return is_full(err) ? (pause_recording(w), 1) : fail(w, err, "cannot create a segment");
	}
	memcpy(h, SEG_MAGIC, 8);
	put16(h + 8, STORE_FORMAT_VERSION);
	put16(h + 10, SEG_HDR_LEN);
	put64(h + 16, now);
	put32(h + 24, crc32c(0, h, 24));
	err = write_all(fd, h, sizeof(h), 0);
	if (!err) {
		index_name(idx, w->seg_name);
		ifd = create_at(w->dirfd, idx, O_WRONLY | O_TRUNC);
		if (ifd < 0)
			err = -errno;
	}
	if (!err) {
		memcpy(ih, IDX_MAGIC, 8);
		put16(ih + 8, STORE_FORMAT_VERSION);
		put16(ih + 10, IDX_HDR_LEN);
		put16(ih + 12, IDX_ENTRY_LEN);
		err = write_all(ifd, ih, sizeof(ih), 0);
	}
	if (err) {
		if (ifd >= 0)
			close(ifd);
		close(fd);
		unlink_segment(w, w->seg_name);
		if (is_full(err)) {
			pause_recording(w);
			return 1;
		}
		return fail(w, err, "cannot begin a segment");
	}
	w->seg_fd = fd;
	w->idx_fd = ifd;
	w->idx_ok = true;
	w->seg_size = SEG_HDR_LEN;
	w->idx_size = IDX_HDR_LEN;
	w->seg_start_usec = now;
	w->st.disk_bytes += SEG_HDR_LEN + IDX_HDR_LEN;
	return 0;
}

static void chunk_reset(struct store_writer *w)
{
	w->out_len = CHUNK_HDR_LEN;
	w->c_nticks = w->c_raw = 0;
	w->c_start = false;
}

/* Feeds in (may be empty) with mode, growing the output buffer; for a
 * flush or end, until zstd has given everything out. */
static int compress(struct store_writer *w, const void *in, size_t len, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer ib = { in, len, 0 };

	for (;;) {
		ZSTD_outBuffer ob;
		size_t r;

		if (w->out_cap - w->out_len < 4096) {
			size_t cap = w->out_cap * 2;
			uint8_t *n;

			if (cap > CHUNK_HDR_LEN + 2 * CHUNK_COMP_MAX)
				return -EOVERFLOW;
			n = realloc(w->out, cap);
			if (!n)
				return -ENOMEM;
			w->out = n;
			w->out_cap = cap;
		}
		ob = (ZSTD_outBuffer){ w->out, w->out_cap, w->out_len };
		r = ZSTD_compressStream2(w->cctx, &ob, &ib, mode);
		w->out_len = ob.pos;
		if (ZSTD_isError(r))
			return -EIO;
		if (mode == ZSTD_e_continue ? ib.pos == ib.size : r == 0)
			return 0;
	}
}

/* Drops the group in the making after a failed write: its chunk's ticks
 * are lost, the zstd frame is abandoned, the next tick is a keyframe. */
static void abandon_group(struct store_writer *w)
{
	w->st.ticks -= w->c_nticks;
	w->st.ticks_dropped += w->c_nticks;
	ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_only);
	chunk_reset(w);
	w->in_group = false;
	w->need_kf = true;
}

/* Writes the chunk in the making (if it has ticks), closing the group's
 * frame when end. 0 (also when the disk turned out full: paused), or
 * -errno. */
static int write_chunk(struct store_writer *w, bool end)
{
	uint8_t *h = w->out;
	size_t comp;
	int err;

	if (!w->c_nticks) {
		if (end) {
			/* Nothing left to put in the frame: abandon it, the
			 * reader takes the next group start as its end. */
			ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_only);
			w->in_group = false;
			w->need_kf = true;
		}
		return 0;
	}
	err = compress(w, NULL, 0, end ? ZSTD_e_end : ZSTD_e_flush);
	if (err) {
		abandon_group(w);
		return fail(w, err, "zstd compression failed");
	}
	comp = w->out_len - CHUNK_HDR_LEN;
	put32(h, CHUNK_MAGIC);
	put32(h + 4, (w->c_start ? CHUNK_START : 0) | (end ? CHUNK_END : 0));
	put32(h + 8, (uint32_t)comp);
	put32(h + 12, w->c_raw);
	put32(h + 16, w->c_nticks);
	put32(h + 20, w->chunk_seq);
	put64(h + 24, w->c_first);
	put64(h + 32, w->c_last);
	put32(h + 40, 0);
	put32(h + 44, crc32c(crc32c(0, h, 44), h + CHUNK_HDR_LEN, comp));
	err = write_all(w->seg_fd, w->out, w->out_len, w->seg_size);
	if (err) {
		/* Back to the last good end: no torn chunk is left behind. */
		if (ftruncate(w->seg_fd, (off_t)w->seg_size) && !is_full(err))
			err = -errno;
		if (is_full(err)) {
			pause_recording(w);
			abandon_group(w);
			return 0;
		}
		abandon_group(w);
		return fail(w, err, "cannot write a chunk");
	}
	if (w->c_start && w->idx_ok) {
		uint8_t e[IDX_ENTRY_LEN];

		put64(e, w->c_first);
		put64(e + 8, w->seg_size);
		if (write_all(w->idx_fd, e, sizeof(e), w->idx_size) == 0) {
			w->idx_size += IDX_ENTRY_LEN;
			w->st.disk_bytes += IDX_ENTRY_LEN;
		} else {
			/* The index only speeds up seeking: a reader scans
			 * from its last entry on, so stop adding to it. */
			if (ftruncate(w->idx_fd, (off_t)w->idx_size)) {
				/* A part of an entry stays: the reader says the
				 * index is short and scans. */
			}
			w->idx_ok = false;
		}
	}
	w->seg_size += w->out_len;
	w->st.disk_bytes += w->out_len;
	w->last_chunk_bytes = w->out_len;
	w->c_flush_usec = w->c_last;
	w->chunk_seq++;
	if (end) {
		w->in_group = false;
		w->need_kf = true;
	}
	chunk_reset(w);
	retention_check(w, w->last_usec);
	return 0;
}

/* Room for about two more chunks and 1 MiB: a cheap statvfs. */
static bool have_room(struct store_writer *w)
{
	struct statvfs sv;

	if (fstatvfs(w->dirfd, &sv))
		return false;
	return (uint64_t)sv.f_bavail * sv.f_frsize >= 2 * w->last_chunk_bytes + (1u << 20);
}

static bool rotation_due(const struct store_writer *w, uint64_t now)
{
	uint64_t seg_usec = opt_or(w->o.segment_usec, 3600ull * 1000000u);

	if (w->seg_fd < 0)
		return false;
	if (now - w->seg_start_usec >= seg_usec && now >= w->seg_start_usec)
		return true;
	return w->o.retain_bytes && w->seg_size + w->idx_size >= w->o.retain_bytes / 8;
}

int store_writer_open(const struct store_writer_opts *o, struct store_writer **out)
{
	const char *who = o->who ? o->who : "cgwarden record";
	struct store_writer *w;
	char pid[32];
	int err, n;

	if (!o->dir || !*o->dir)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->o = *o;
	w->dirfd = w->lock_fd = w->seg_fd = w->idx_fd = -1;
	w->dir = strdup(o->dir);
	w->who = strdup(who);
	w->need_kf = true;
	w->out_cap = 64 << 10;
	w->out = malloc(w->out_cap);
	if (!w->dir || !w->who || !w->out) {
		err = -ENOMEM;
		goto fail;
	}
	w->o.dir = w->dir;
	w->o.who = w->who;
	if (mkdir(o->dir, 0750) && errno != EEXIST) {
		err = -errno;
		say(who, o->quiet, "%s: cannot create: %s", o->dir, strerror(-err));
		goto fail;
	}
	w->dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dirfd < 0) {
		err = -errno;
		say(who, o->quiet, "%s: %s", o->dir, strerror(-err));
		goto fail;
	}
	w->lock_fd = create_at(w->dirfd, "lock", O_RDWR);
	if (w->lock_fd < 0) {
		err = -errno;
		say(who, o->quiet, "%s/lock: %s", o->dir, strerror(-err));
		goto fail;
	}
	/* A reader probes the lock with a shared flock for an instant: wait
	 * that out rather than call the store busy. */
	for (int tries = 0;; tries++) {
		if (flock(w->lock_fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK || tries == 10) {
			err = errno == EWOULDBLOCK ? -EBUSY : -errno;
			n = (int)pread(w->lock_fd, pid, sizeof(pid) - 1, 0);
			pid[n > 0 ? n : 0] = '\0';
			pid[strcspn(pid, "\n")] = '\0';
			say(who, o->quiet, "%s/lock: %s%s%s", o->dir,
			    err == -EBUSY ? "held by another writer" : strerror(-err),
			    *pid ? ", pid " : "", pid);
			goto fail;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(w->lock_fd, 0) == 0 && pwrite(w->lock_fd, pid, (size_t)n, 0) < 0) {
		/* Only a hint for the next writer's message. */
	}
	w->cctx = ZSTD_createCCtx();
	if (!w->cctx) {
		err = -ENOMEM;
		goto fail;
	}
	if (ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel,
						o->zstd_level ? o->zstd_level : 3)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_windowLog, STORE_WINDOW_LOG)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 0)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 0))) {
		err = -EINVAL;
		say(who, o->quiet, "zstd level %d: not accepted", o->zstd_level);
		goto fail;
	}
	chunk_reset(w);
	err = load_existing(w);
	if (err) {
		say(who, o->quiet, "%s: cannot list: %s", o->dir, strerror(-err));
		goto fail;
	}
	retention(w, wall_usec());
	err = begin_segment(w, wall_usec());
	if (err < 0)
		goto fail;
	w->err = 0;
	*out = w;
	return 0;
fail:
	w->o.quiet = true;
	w->err = err;
	store_writer_close(w);
	return err;
}

bool store_need_keyframe(const struct store_writer *w)
{
	if (w->paused)
		return w->resume_ready;
	return w->need_kf || !w->in_group;
}

/* Starts a group with the tick that follows (a keyframe): ends the one in
 * the making, rotates when due. 0, 1 when paused, or -errno. */
static int begin_group(struct store_writer *w, uint64_t now)
{
	int err;

	if (w->in_group) {
		err = write_chunk(w, true);
		if (err)
			return err;
		if (w->paused)
			return 1;
	}
	if (rotation_due(w, now)) {
		close_segment(w);
		retention(w, now);
	}
	if (w->seg_fd < 0) {
		/* Named by the real clock, as the names must sort in the order
		 * the segments were begun. */
		err = begin_segment(w, wall_usec());
		if (err)
			return err;
	}
	/* The segment's age counts from its first tick, in the caller's
	 * clock (the one ticks carry), not from when it was created. */
	if (w->seg_size == SEG_HDR_LEN)
		w->seg_start_usec = now;
	w->in_group = true;
	w->need_kf = false;
	w->group_nticks = 0;
	w->chunk_seq = 0;
	w->group_first_usec = now;
	w->c_start = true;
	w->c_flush_usec = now;
	return 0;
}

int store_append(struct store_writer *w, const void *raw, size_t len, uint64_t wall,
		 bool keyframe)
{
	uint8_t pre[TICK_OVERHEAD];
	bool resuming = false;
	size_t np;
	int err;

	if (w->err)
		return w->err;
	if (len > STORE_CHUNK_RAW_MAX - TICK_OVERHEAD) {
		if (!w->said_big)
			say(w->who, w->o.quiet, "%s: a tick of %zu bytes is more than a chunk holds: dropped",
			    w->dir, len);
		w->said_big = true;
		w->st.ticks_dropped++;
		if (w->in_group)
			write_chunk(w, true);
		w->need_kf = true;
		return w->err;
	}
	if (w->paused) {
		bool room = have_room(w);

		if (!keyframe || !room) {
			/* With room, ask for a keyframe next: the codec
			 * encodes a tick in full only when it can be written. */
			if (room)
				w->resume_ready = true;
			w->st.ticks_dropped++;
			return 0;
		}
		resuming = true;
		w->need_kf = true;
		w->in_group = false;
	}
	if (!keyframe && store_need_keyframe(w))
		return -EINVAL;
	if (keyframe) {
		/* While still paused, a failure here is not said again. */
		err = begin_group(w, wall);
		if (err < 0)
			return err;
		if (err) {
			w->st.ticks_dropped++;
			return 0;
		}
	}
	if (resuming) {
		w->paused = w->resume_ready = false;
		say(w->who, w->o.quiet, "%s: recording resumed after %llu ticks dropped", w->dir,
		    (unsigned long long)(w->st.ticks_dropped - w->dropped_at_pause));
	}
	np = varint_put(pre, zigzag(w->c_nticks ? (int64_t)(wall - w->c_last) : 0));
	np += varint_put(pre + np, len);
	if (w->c_raw + np + len > STORE_CHUNK_RAW_MAX) {
		err = write_chunk(w, false);
		if (err)
			return err;
		if (w->paused) {
			w->st.ticks_dropped++;
			return 0;
		}
		np = varint_put(pre, 0);
		np += varint_put(pre + np, len);
	}
	err = compress(w, pre, np, ZSTD_e_continue);
	if (!err)
		err = compress(w, raw, len, ZSTD_e_continue);
	if (err) {
		abandon_group(w);
		return fail(w, err, "zstd compression failed");
	}
	if (!w->c_nticks)
		w->c_first = wall;
	w->c_last = w->last_usec = wall;
	w->c_nticks++;
	w->c_raw += (uint32_t)(np + len);
	w->group_nticks++;
	w->st.ticks++;
	w->st.raw_bytes += np + len;
	if (w->group_nticks >= opt_or(w->o.group_ticks, 120) ||
	    wall - w->group_first_usec >= opt_or(w->o.group_usec, 600ull * 1000000u) ||
	    rotation_due(w, wall))
		return write_chunk(w, true);
	if (!w->o.flush_usec || wall - w->c_flush_usec >= w->o.flush_usec)
		return write_chunk(w, false);
	return 0;
}

int store_flush(struct store_writer *w)
{
	if (!w || w->err)
		return w ? w->err : 0;
	if (w->paused || !w->in_group)
		return 0;
	return write_chunk(w, false);
}

void store_writer_stats(const struct store_writer *w, struct store_writer_stats *st)
{
	*st = w->st;
	st->store_bytes = store_total(w);
	st->paused = w->paused;
}

int store_writer_close(struct store_writer *w)
{
	int err;

	if (!w)
		return 0;
	if (!w->err && !w->paused && w->in_group && w->seg_fd >= 0)
		write_chunk(w, true);
	err = w->err;
	if (w->seg_fd >= 0)
		close(w->seg_fd);
	if (w->idx_fd >= 0)
		close(w->idx_fd);
	if (w->lock_fd >= 0)
		close(w->lock_fd);
	if (w->dirfd >= 0)
		close(w->dirfd);
	ZSTD_freeCCtx(w->cctx);
	free(w->segs);
	free(w->out);
	free(w->dir);
	free(w->who);
	free(w);
	return err;
}

/* ---- reading -------------------------------------------------------------- */

struct rseg {
	char *name;
	uint64_t size;		/* at open; the newest is looked at again */
	uint32_t hdr_len;
	uint64_t last_usec;	/* its last complete tick; 0: none */
	bool skip;		/* its header is torn or damaged */
};

struct rgroup {
	uint64_t first_usec, off;
	size_t seg;
};

struct chunk {
	uint32_t flags, comp, raw, nticks, seq;
	uint64_t first, last;
};

enum { CH_OK, CH_TORN, CH_BAD };

#define SEG_SKIPPED "segment skipped"
#define CHUNK_SKIPPED "skipped (ticks after it in its group are lost)"


struct store_reader {
	char *dir, *who;
	bool quiet, live;
	int dirfd;
	struct rseg *segs;
	size_t nsegs;
	struct rgroup *groups;
	size_t ngroups, groups_cap;
	ZSTD_DCtx *dctx;
	uint8_t *cbuf, *rbuf;
	size_t ccap, rcap;
	uint64_t notices, incomplete;
	uint64_t *said;		/* (segment, offset) pairs already reported */
	size_t nsaid;

	/* position */
	size_t seg;
	int fd;
	size_t fd_seg;
	uint64_t off;
	bool in_group;
	uint32_t next_seq;
	/* the decoded chunk */
	size_t rpos, rlen;
	uint32_t left;
	uint64_t prev_usec;
	bool next_kf;
};

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	uint8_t *n;

	if (need <= *cap)
		return 0;
	n = realloc(*buf, need);
	if (!n)
		return -ENOMEM;
	*buf = n;
	*cap = need;
	return 0;
}

/* Says a notice about a place in a segment once. */
static void rnotice(struct store_reader *r, size_t seg, uint64_t off, const char *what,
		    const char *then)
{
	for (size_t i = 0; i < r->nsaid; i++)
		if (r->said[2 * i] == seg && r->said[2 * i + 1] == off)
			return;
	if (r->nsaid < 4096) {
		uint64_t *n = realloc(r->said, (r->nsaid + 1) * 2 * sizeof(*n));

		if (n) {
			r->said = n;
			r->said[2 * r->nsaid] = seg;
			r->said[2 * r->nsaid + 1] = off;
			r->nsaid++;
		}
	}
	r->notices++;
	say(r->who, r->quiet, "%s/%s: %s at byte %llu: %s", r->dir, r->segs[seg].name, what,
	    (unsigned long long)off, then);
}

static int seg_fd(struct store_reader *r, size_t seg)
{
	if (r->fd >= 0 && r->fd_seg == seg)
		return r->fd;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = openat(r->dirfd, r->segs[seg].name, O_RDONLY | O_CLOEXEC);
	r->fd_seg = seg;
	return r->fd < 0 ? -errno : r->fd;
}

/* Reads and checks the chunk at off of a segment of size bytes: header,
 * lengths against the file and the maxima, and with payload its CRC (the
 * payload is then in r->cbuf). Nothing is allocated before the lengths
 * are known sane. */
static int read_chunk(struct store_reader *r, int fd, uint64_t size, uint64_t off,
		      struct chunk *c, bool payload)
{
	uint8_t h[CHUNK_HDR_LEN];

	if (off + CHUNK_HDR_LEN > size)
		return CH_TORN;
	if (pread_full(fd, h, sizeof(h), off))
		return CH_TORN;
	if (get32(h) != CHUNK_MAGIC)
		return CH_BAD;
	c->flags = get32(h + 4);
	c->comp = get32(h + 8);
	c->raw = get32(h + 12);
	c->nticks = get32(h + 16);
	c->seq = get32(h + 20);
	c->first = get64(h + 24);
	c->last = get64(h + 32);
	if ((c->flags & ~(CHUNK_START | CHUNK_END)) || c->comp == 0 || c->comp > CHUNK_COMP_MAX ||
	    c->raw < 2 || c->raw > STORE_CHUNK_RAW_MAX || c->nticks == 0 ||
	    c->nticks > c->raw / 2 || ((c->flags & CHUNK_START) && c->seq != 0))
		return CH_BAD;
	if (off + CHUNK_HDR_LEN + c->comp > size)
		return CH_TORN;
	if (!payload)
		return CH_OK;
	if (grow(&r->cbuf, &r->ccap, c->comp))
		return -ENOMEM;
	if (pread_full(fd, r->cbuf, c->comp, off + CHUNK_HDR_LEN))
		return CH_TORN;
	if (crc32c(crc32c(0, h, 44), r->cbuf, c->comp) != get32(h + 44))
		return CH_BAD;
	return CH_OK;
}

static int add_group(struct store_reader *r, size_t seg, uint64_t off, uint64_t first)
{
	if (r->ngroups == r->groups_cap) {
		size_t cap = r->groups_cap ? r->groups_cap * 2 : 64;
		struct rgroup *n = realloc(r->groups, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		r->groups = n;
		r->groups_cap = cap;
	}
	r->groups[r->ngroups++] = (struct rgroup){ first, off, seg };
	return 0;
}

/* The offset of the next group start after off with a sound chunk, found
 * by looking for the chunk magic; size when there is none. */
static uint64_t resync(struct store_reader *r, int fd, uint64_t size, uint64_t off)
{
	uint8_t buf[65536], magic[4];
	uint64_t pos = off + 1;

	put32(magic, CHUNK_MAGIC);
	while (pos + CHUNK_HDR_LEN <= size) {
		size_t want = size - pos < sizeof(buf) ? (size_t)(size - pos) : sizeof(buf);
		ssize_t n = pread(fd, buf, want, (off_t)pos);
		uint8_t *p = buf;

		if (n < 4)
			break;
		while ((p = memmem(p, (size_t)n - (size_t)(p - buf), magic, 4))) {
			uint64_t at = pos + (uint64_t)(p - buf);
			struct chunk c;

			if (read_chunk(r, fd, size, at, &c, true) == CH_OK && (c.flags & CHUNK_START))
				return at;
			p++;
			if (p - buf > n - 4)
				break;
		}
		pos += (uint64_t)n - 3;
	}
	return size;
}

/* Adds the groups of a segment from off on, checking every chunk, and
 * notes its last complete tick. */
static int scan_groups(struct store_reader *r, size_t seg, int fd, uint64_t off)
{
	struct rseg *s = &r->segs[seg];
	struct chunk c;

	while (off + CHUNK_HDR_LEN <= s->size) {
		int rc = read_chunk(r, fd, s->size, off, &c, true);

		if (rc < 0)
			return rc;
		if (rc != CH_OK) {
			/* Cut by a crash (then nothing follows), or damaged:
			 * a length flipped past the end looks torn too. */
			off = resync(r, fd, s->size, off);
			continue;
		}
		if ((c.flags & CHUNK_START) && add_group(r, seg, off, c.first))
			return -ENOMEM;
		s->last_usec = c.last;
		off += CHUNK_HDR_LEN + c.comp;
	}
	return 0;
}

static void index_notice(struct store_reader *r, size_t seg, const char *what)
{
	r->notices++;
	say(r->who, r->quiet, "%s/%s: index %s: rebuilt from its segment", r->dir,
	    r->segs[seg].name, what);
}

/* The groups of a segment: its index, checked entry by entry against the
 * chunks it names, then a scan from the last entry; or a scan of all. */
static int load_groups(struct store_reader *r, size_t seg, int fd)
{
	struct rseg *s = &r->segs[seg];
	size_t first = r->ngroups;
	uint64_t from = s->hdr_len;
	char name[NAME_MAX_LEN];
	uint8_t ih[IDX_HDR_LEN], *ent = NULL;
	struct stat sb;
	int ifd, err = 0;

	index_name(name, s->name);
	ifd = openat(r->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (ifd < 0) {
		if (s->size > s->hdr_len)
			index_notice(r, seg, "missing");
		return scan_groups(r, seg, fd, from);
	}
	if (fstat(ifd, &sb) || (uint64_t)sb.st_size < IDX_HDR_LEN ||
	    pread_full(ifd, ih, sizeof(ih), 0) || memcmp(ih, IDX_MAGIC, 8) ||
	    get16(ih + 8) != STORE_FORMAT_VERSION || get16(ih + 10) != IDX_HDR_LEN ||
	    get16(ih + 12) != IDX_ENTRY_LEN ||
	    (uint64_t)sb.st_size - IDX_HDR_LEN > (s->size / CHUNK_HDR_LEN + 1) * IDX_ENTRY_LEN) {
		index_notice(r, seg, "unreadable");
		goto scan_all;
	}
	{
		uint64_t body = (uint64_t)sb.st_size - IDX_HDR_LEN, prev_off = 0;
		size_t n = (size_t)(body / IDX_ENTRY_LEN);

		ent = malloc(n ? n * IDX_ENTRY_LEN : 1);
		if (!ent) {
			err = -ENOMEM;
			goto out;
		}
		if (n && pread_full(ifd, ent, n * IDX_ENTRY_LEN, IDX_HDR_LEN)) {
			index_notice(r, seg, "unreadable");
			goto scan_all;
		}
		for (size_t i = 0; i < n; i++) {
			uint64_t t = get64(ent + i * IDX_ENTRY_LEN);
			uint64_t o = get64(ent + i * IDX_ENTRY_LEN + 8);
			struct chunk c;

			if (o < s->hdr_len || (i && o <= prev_off) ||
			    read_chunk(r, fd, s->size, o, &c, false) != CH_OK ||
			    !(c.flags & CHUNK_START) || c.first != t) {
				index_notice(r, seg, "inconsistent");
				goto scan_all;
			}
			if (add_group(r, seg, o, t)) {
				err = -ENOMEM;
				goto out;
			}
			prev_off = o;
		}
		if (body % IDX_ENTRY_LEN)
			index_notice(r, seg, "short");
		if (r->ngroups > first) {
			/* The scan from the last entry adds it again, checked. */
			from = r->groups[--r->ngroups].off;
		}
		err = scan_groups(r, seg, fd, from);
		goto out;
	}
scan_all:
	r->ngroups = first;
	err = scan_groups(r, seg, fd, s->hdr_len);
out:
	free(ent);
	close(ifd);
	return err;
}

/* A writer holds DIR/lock: the newest segment may be growing. */
static bool writer_live(int dirfd)
{
	int fd = openat(dirfd, "lock", O_RDONLY | O_CLOEXEC);
	bool live = false;

	if (fd < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		flock(fd, LOCK_UN);
	else
		live = errno == EWOULDBLOCK;
	close(fd);
	return live;
}

/* Reads a segment's header. 0 (usable), 1 (skipped: torn or damaged, said),
 * or -errno (refused: not ours, or too new). */
static int open_segment(struct store_reader *r, size_t seg, int fd)
{
	struct rseg *s = &r->segs[seg];
	uint8_t h[SEG_HDR_LEN];
	struct stat sb;
	unsigned ver;

	if (fstat(fd, &sb))
		return -errno;
	s->size = (uint64_t)sb.st_size;
	if (s->size < 12 || pread_full(fd, h, 12, 0)) {
		if (!(r->live && seg + 1 == r->nsegs))
			rnotice(r, seg, 0, "torn segment header", SEG_SKIPPED);
		return 1;
	}
	if (memcmp(h, SEG_MAGIC, 8)) {
		say(r->who, r->quiet, "%s/%s: not a cgwarden store segment (bad magic)", r->dir,
		    s->name);
		return -EBADMSG;
	}
	ver = get16(h + 8);
	if (ver > STORE_FORMAT_VERSION) {
		say(r->who, r->quiet, "%s/%s: format version %u is newer than this cgwarden reads (%d)",
		    r->dir, s->name, ver, STORE_FORMAT_VERSION);
		return -EPROTO;
	}
	s->hdr_len = get16(h + 10);
	if (ver == 0 || s->hdr_len < SEG_HDR_LEN || s->hdr_len > SEG_HDR_MAX) {
		say(r->who, r->quiet, "%s/%s: not a cgwarden store segment (bad header)", r->dir,
		    s->name);
		return -EBADMSG;
	}
	if (s->size < s->hdr_len || pread_full(fd, h, SEG_HDR_LEN, 0)) {
		if (!(r->live && seg + 1 == r->nsegs))
			rnotice(r, seg, 0, "torn segment header", SEG_SKIPPED);
		return 1;
	}
	if (crc32c(0, h, 24) != get32(h + 24)) {
		rnotice(r, seg, 0, "segment header with a bad CRC", SEG_SKIPPED);
		return 1;
	}
	return 0;
}

int store_reader_open(const char *dir, const struct store_reader_opts *o,
		      struct store_reader **out)
{
	const char *who = o && o->who ? o->who : "cgwarden";
	struct store_reader *r = calloc(1, sizeof(*r));
	char **names = NULL;
	size_t n = 0;
	int err;

	if (!r)
		return -ENOMEM;
	r->quiet = o && o->quiet;
	r->fd = r->dirfd = -1;
	r->dir = strdup(dir);
	r->who = strdup(who);
	r->dctx = ZSTD_createDCtx();
	if (!r->dir || !r->who || !r->dctx) {
		err = -ENOMEM;
		goto fail;
	}
	ZSTD_DCtx_setParameter(r->dctx, ZSTD_d_windowLogMax, STORE_READ_WINDOW_LOG_MAX);
	r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dirfd < 0 || list_segments(r->dirfd, &names, &n) || !n) {
		err = r->dirfd < 0 && errno != ENOENT ? -errno : -ENOENT;
		if (err == -ENOENT)
			say(who, r->quiet, "no recording in %s", dir);
		else
			say(who, r->quiet, "%s: %s", dir, strerror(-err));
		goto fail;
	}
	r->segs = calloc(n, sizeof(*r->segs));
	if (!r->segs) {
		err = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		r->segs[i].name = names[i];
		names[i] = NULL;
	}
	r->nsegs = n;
	r->live = writer_live(r->dirfd);
	for (size_t i = 0; i < n; i++) {
		int fd = openat(r->dirfd, r->segs[i].name, O_RDONLY | O_CLOEXEC);

		if (fd < 0 && errno == ENOENT) {
			/* Retention deleted it since the listing. */
			r->segs[i].skip = true;
			continue;
		}
		if (fd < 0) {
			err = -errno;
			say(who, r->quiet, "%s/%s: %s", dir, r->segs[i].name, strerror(-err));
			goto fail;
		}
		err = open_segment(r, i, fd);
		if (err == 0)
			err = load_groups(r, i, fd);
		else if (err == 1)
			r->segs[i].skip = true, err = 0;
		close(fd);
		if (err)
			goto fail;
	}
	free_names(names, n);
	if (r->ngroups)
		r->off = r->groups[0].off, r->seg = r->groups[0].seg;
	else
		r->seg = r->nsegs;
	*out = r;
	return 0;
fail:
	free_names(names, n);
	store_reader_close(r);
	return err;
}

void store_reader_close(struct store_reader *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nsegs; i++)
		free(r->segs[i].name);
	free(r->segs);
	free(r->groups);
	free(r->cbuf);
	free(r->rbuf);
	free(r->said);
	ZSTD_freeDCtx(r->dctx);
	if (r->fd >= 0)
		close(r->fd);
	if (r->dirfd >= 0)
		close(r->dirfd);
	free(r->dir);
	free(r->who);
	free(r);
}

int store_range(struct store_reader *r, uint64_t *first_usec, uint64_t *last_usec)
{
	size_t i = r->nsegs;

	if (!r->ngroups)
		return -ENOENT;
	while (i && !r->segs[i - 1].last_usec)
		i--;
	*first_usec = r->groups[0].first_usec;
	*last_usec = i ? r->segs[i - 1].last_usec : r->groups[0].first_usec;
	return 0;
}

static void go_to(struct store_reader *r, size_t seg, uint64_t off)
{
	r->seg = seg;
	r->off = off;
	r->in_group = false;
	r->left = 0;
}

int store_seek(struct store_reader *r, uint64_t wall_usec, unsigned back)
{
	size_t lo = 0, hi = r->ngroups;

	if (!r->ngroups)
		return -ENOENT;
	/* The last group whose first tick is <= wall_usec (or the first). */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->groups[mid].first_usec <= wall_usec)
			lo = mid;
		else
			hi = mid;
	}
	lo = back >= lo ? 0 : lo - back;
	go_to(r, r->groups[lo].seg, r->groups[lo].off);
	return 0;
}

/* Whether a known group starts after the reader's place. */
static bool later_group(const struct store_reader *r)
{
	const struct rgroup *g = r->ngroups ? &r->groups[r->ngroups - 1] : NULL;

	return g && (g->seg > r->seg || (g->seg == r->seg && g->off > r->off));
}

/* After a bad chunk at off: on at the next group start (a known one, or
 * one found by scanning when the newest segment grew), else the next
 * segment, else the end. */
static void skip_group(struct store_reader *r, uint64_t bad, uint64_t size, int fd)
{
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct rgroup *g = &r->groups[i];

		if (g->seg > r->seg || (g->seg == r->seg && g->off > bad)) {
			go_to(r, g->seg, g->off);
			return;
		}
	}
	if (r->seg + 1 == r->nsegs) {
		go_to(r, r->seg, resync(r, fd, size, bad));
		return;
	}
	go_to(r, r->nsegs, 0);
}

/* Decompresses the chunk in r->cbuf into r->rbuf and checks that its tick
 * records fill exactly raw bytes, nticks of them, ending at c->last.
 * CH_OK, CH_BAD, or -ENOMEM. */
static int decode_chunk(struct store_reader *r, const struct chunk *c)
{
	ZSTD_inBuffer ib = { r->cbuf, c->comp, 0 };
	ZSTD_outBuffer ob;
	uint8_t extra;
	size_t pos = 0, rc;
	uint64_t t = c->first;

	if (grow(&r->rbuf, &r->rcap, c->raw))
		return -ENOMEM;
	ob = (ZSTD_outBuffer){ r->rbuf, c->raw, 0 };
	while (ib.pos < ib.size && ob.pos < ob.size) {
		size_t in0 = ib.pos, out0 = ob.pos;

		rc = ZSTD_decompressStream(r->dctx, &ob, &ib);
		if (ZSTD_isError(rc) || (ib.pos == in0 && ob.pos == out0))
			return CH_BAD;
	}
	if (ob.pos != c->raw || ib.pos != ib.size)
		return CH_BAD;
	/* Nothing more may come out of it: more would be over raw_len. */
	ob = (ZSTD_outBuffer){ &extra, 1, 0 };
	rc = ZSTD_decompressStream(r->dctx, &ob, &ib);
	if (ZSTD_isError(rc) || ob.pos)
		return CH_BAD;
	for (uint32_t i = 0; i < c->nticks; i++) {
		uint64_t d, len;

		if (varint_get(r->rbuf, c->raw, &pos, &d) || varint_get(r->rbuf, c->raw, &pos, &len) ||
		    len > c->raw - pos)
			return CH_BAD;
		t += (uint64_t)unzigzag(d);
		pos += len;
	}
	return pos == c->raw && t == c->last ? CH_OK : CH_BAD;
}

int store_next(struct store_reader *r, const void **raw, size_t *len, uint64_t *wall_usec,
	       bool *keyframe)
{
	for (;;) {
		struct rseg *s;
		struct chunk c;
		uint64_t size;
		int fd, rc;

		if (r->left) {
			uint64_t d = 0, l = 0;

			/* Checked whole by decode_chunk. */
			varint_get(r->rbuf, r->rlen, &r->rpos, &d);
			varint_get(r->rbuf, r->rlen, &r->rpos, &l);
			r->prev_usec += (uint64_t)unzigzag(d);
			*raw = r->rbuf + r->rpos;
			*len = (size_t)l;
			*wall_usec = r->prev_usec;
			*keyframe = r->next_kf;
			r->rpos += (size_t)l;
			r->next_kf = false;
			r->left--;
			return 0;
		}
		if (r->seg >= r->nsegs)
			return -ENOENT;
		s = &r->segs[r->seg];
		fd = s->skip ? -1 : seg_fd(r, r->seg);
		if (fd < 0) {
			go_to(r, r->seg + 1, r->seg + 1 < r->nsegs ? r->segs[r->seg + 1].hdr_len : 0);
			continue;
		}
		if (r->off < s->hdr_len)
			r->off = s->hdr_len;
		size = s->size;
		if (r->seg + 1 == r->nsegs) {
			struct stat sb;

			/* The newest segment may have grown since open. */
			if (fstat(fd, &sb) == 0 && (uint64_t)sb.st_size > size)
				size = s->size = (uint64_t)sb.st_size;
		}
		if (r->off >= size) {
			if (r->seg + 1 == r->nsegs)
				return -ENOENT;
			go_to(r, r->seg + 1, r->segs[r->seg + 1].hdr_len);
			continue;
		}
		rc = read_chunk(r, fd, size, r->off, &c, true);
		if (rc < 0)
			return rc;
		if (rc == CH_TORN && r->seg + 1 == r->nsegs && !later_group(r)) {
			/* The end of the store: a live writer's next chunk,
			 * not all there yet, or a crash's torn one. Stay. */
			if (r->live)
				r->incomplete++;
			else
				rnotice(r, r->seg, r->off, "torn chunk", CHUNK_SKIPPED);
			return -ENOENT;
		}
		if (rc == CH_OK && (c.flags & CHUNK_START)) {
			ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
			r->in_group = true;
			r->next_seq = 0;
		}
		if (rc == CH_OK && r->in_group && c.seq == r->next_seq)
			rc = decode_chunk(r, &c);
		else if (rc == CH_OK)
			rc = CH_BAD;
		if (rc < 0)
			return rc;
		if (rc != CH_OK) {
			rnotice(r, r->seg, r->off, rc == CH_TORN ? "torn chunk" : "damaged chunk",
				CHUNK_SKIPPED);
			skip_group(r, r->off, size, fd);
			continue;
		}
		r->next_seq++;
		r->left = c.nticks;
		r->rpos = 0;
		r->rlen = c.raw;
		r->prev_usec = c.first;
		r->next_kf = c.flags & CHUNK_START;
		r->off += CHUNK_HDR_LEN + c.comp;
		if (c.flags & CHUNK_END)
			r->in_group = false;
	}
}

uint64_t store_reader_notices(const struct store_reader *r)
{
	return r->notices;
}

uint64_t store_reader_incomplete(const struct store_reader *r)
{
	return r->incomplete;
}
