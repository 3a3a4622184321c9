/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The flight recorder's files (src/store.c): ticks read back byte for byte
 * with their times and keyframe flags; seeking; retention by size and age
 * deleting whole oldest segments; the one-writer lock; a future format
 * refused; a store cut at every byte of its last chunk, a flipped bit, a
 * lost or garbled index, hostile lengths; and, as root in a private mount
 * namespace, a full disk: paused, resumed with a keyframe, nothing lost but
 * the dropped ticks.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test.h"
#include "clock.h"
#include "store.h"

#define MAXN 2000
#define SEC 1000000ull

static uint64_t base_usec;
static uint8_t tickbuf[8192];

/* Tick i: its number, then (by i) random bytes or mostly zeros. */
static size_t gen_tick(unsigned i, uint8_t *buf)
{
	size_t len = 8 + (i * 7919u) % 3000u;
	uint64_t x = 0x9e3779b97f4a7c15ull * (i + 1);

	memset(buf, 0, len);
	memcpy(buf, &i, sizeof(i));
	for (size_t k = 4; k < len; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (i % 3 == 0)
			buf[k] = (uint8_t)x;
		else if (x % 16 == 0)
			buf[k] = (uint8_t)(x >> 8) & 7;
	}
	return len;
}

static uint64_t tick_time(unsigned i)
{
	return base_usec + i * SEC + (i % 7) * 1000;
}

struct wrote {
	unsigned n;
	bool kf[MAXN];
	bool dropped[MAXN];
};

static struct store_writer_opts opts(const char *dir)
{
	return (struct store_writer_opts){ .dir = dir, .who = "test", .quiet = !getenv("STORE_VERBOSE") };
}

/* Appends ticks [from, to) as a recorder would. */
static int append_ticks(struct store_writer *w, struct wrote *wr, unsigned from, unsigned to)
{
	for (unsigned i = from; i < to; i++) {
		struct store_writer_stats a, b;
		size_t len = gen_tick(i, tickbuf);
		int err;

		store_writer_stats(w, &a);
		wr->kf[i] = store_need_keyframe(w);
		err = store_append(w, tickbuf, len, tick_time(i), wr->kf[i]);
		if (err)
			return err;
		store_writer_stats(w, &b);
		wr->dropped[i] = b.ticks_dropped != a.ticks_dropped;
		wr->n = i + 1;
	}
	return 0;
}

static int write_store(const struct store_writer_opts *o, struct wrote *wr, unsigned n)
{
	struct store_writer *w;
	int err = store_writer_open(o, &w);

	memset(wr, 0, sizeof(*wr));
	if (err)
		return err;
	err = append_ticks(w, wr, 0, n);
	if (!err)
		err = store_writer_close(w);
	else
		store_writer_close(w);
	return err;
}

struct got {
	unsigned n;
	unsigned idx[MAXN];
	bool kf[MAXN];
	unsigned bad;		/* bytes or time not as written */
	uint64_t notices, incomplete;
};

/* Reads from the reader's place to the end, checking each tick's bytes. */
static void read_rest(struct store_reader *r, struct got *g)
{
	const void *raw;
	size_t len;
	uint64_t t;
	bool kf;

	while (store_next(r, &raw, &len, &t, &kf) == 0) {
		unsigned i;

		if (len < 4 || g->n == MAXN) {
			g->bad++;
			continue;
		}
		memcpy(&i, raw, sizeof(i));
		if (i >= MAXN || gen_tick(i, tickbuf) != len || memcmp(tickbuf, raw, len) ||
		    t != tick_time(i))
			g->bad++;
		g->idx[g->n] = i;
		g->kf[g->n] = kf;
		g->n++;
	}
	g->notices = store_reader_notices(r);
	g->incomplete = store_reader_incomplete(r);
}

static int read_store(const char *dir, struct got *g)
{
	struct store_reader *r;
	struct store_reader_opts ro = { .who = "test", .quiet = !getenv("STORE_VERBOSE") };
	int err = store_reader_open(dir, &ro, &r);

	memset(g, 0, sizeof(*g));
	if (err)
		return err;
	read_rest(r, g);
	store_reader_close(r);
	return 0;
}

/* Whether g holds exactly the ticks [from, to) not dropped and not in
 * skip[], in order, with the keyframe flags written. */
static bool got_is(const struct got *g, const struct wrote *wr, unsigned from, unsigned to,
		   const bool *skip)
{
	unsigned k = 0;

	if (g->bad)
		return false;
	for (unsigned i = from; i < to; i++) {
		if (wr->dropped[i] || (skip && skip[i]))
			continue;
		if (k >= g->n || g->idx[k] != i || g->kf[k] != wr->kf[i]) {
			printf("  tick %u: got %u (kf %d, want %d)\n", i, k < g->n ? g->idx[k] : 9999,
			       k < g->n ? g->kf[k] : -1, wr->kf[i]);
			return false;
		}
		k++;
	}
	return k == g->n;
}

static void make_dir(char *dir)
{
	strcpy(dir, "/tmp/cgw-store.XXXXXX");
	if (!mkdtemp(dir))
		dir[0] = '\0';
}

static void rm_dir(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (dir[0] && system(cmd) != 0)
		printf("  cannot remove %s\n", dir);
}

/* The names of the files in dir ending in suf, sorted; returns the count. */
static int list(const char *dir, const char *suf, char names[][64], int max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name), s = strlen(suf);

		if (l > s && strcmp(e->d_name + l - s, suf) == 0 && n < max)
			snprintf(names[n++], 64, "%s", e->d_name);
	}
	closedir(d);
	for (int a = 0; a < n; a++)
		for (int b = a + 1; b < n; b++)
			if (strcmp(names[a], names[b]) > 0) {
				char t[64];

				strcpy(t, names[a]);
				strcpy(names[a], names[b]);
				strcpy(names[b], t);
			}
	return n;
}

static uint64_t file_size(const char *dir, const char *name)
{
	char p[256];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &sb) ? 0 : (uint64_t)sb.st_size;
}

static uint8_t *slurp(const char *dir, const char *name, size_t *len)
{
	char p[256];
	FILE *f;
	uint8_t *b;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "rb");
	*len = (size_t)file_size(dir, name);
	b = malloc(*len + 1);
	if (!f || !b || fread(b, 1, *len, f) != *len) {
		free(b);
		b = NULL;
	}
	if (f)
		fclose(f);
	return b;
}

static void spill(const char *dir, const char *name, const void *b, size_t len)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "wb");
	if (!f || fwrite(b, 1, len, f) != len)
		printf("  cannot write %s\n", p);
	if (f)
		fclose(f);
}

static struct wrote wr;
static struct got g, g2;

static void test_roundtrip_and_seek(void)
{
	char dir[64], segs[64][64];
	struct store_writer_opts o;
	struct store_reader_opts ro = { .quiet = true };
	struct store_reader *r;
	uint64_t first, last;
	unsigned n = 500, kfs = 0, at;

	make_dir(dir);
	o = opts(dir);
	o.flush_usec = 3 * SEC;
	o.group_ticks = 20;
	o.segment_usec = 90 * SEC;
	CHECK_INT(write_store(&o, &wr, n), 0);
	CHECK(list(dir, ".cgwr", segs, 64) >= 5);
	CHECK_INT(list(dir, ".cgwi", segs, 64), list(dir, ".cgwr", segs, 64));
	CHECK_INT(read_store(dir, &g), 0);
	CHECK(got_is(&g, &wr, 0, n, NULL));
	CHECK_U64(g.notices, 0);
	for (unsigned i = 0; i < n; i++)
		kfs += wr.kf[i];
	CHECK(kfs >= n / 20 && kfs < n / 10);

	CHECK_INT(store_reader_open(dir, &ro, &r), 0);
	if (!r)
		goto out;
	CHECK_INT(store_range(r, &first, &last), 0);
	CHECK_U64(first, tick_time(0));
	CHECK_U64(last, tick_time(n - 1));
	/* Before the recording: the first group. */
	CHECK_INT(store_seek(r, base_usec - 100 * SEC, 0), 0);
	memset(&g, 0, sizeof(g));
	read_rest(r, &g);
	CHECK(got_is(&g, &wr, 0, n, NULL));
	/* Inside: the group holding tick 237, and one group before it. */
	at = 237;
	while (!wr.kf[at])
		at--;
	CHECK_INT(store_seek(r, tick_time(237) + 10, 0), 0);
	memset(&g, 0, sizeof(g));
	read_rest(r, &g);
	CHECK(got_is(&g, &wr, at, n, NULL));
	at--;
	while (!wr.kf[at])
		at--;
	CHECK_INT(store_seek(r, tick_time(237), 1), 0);
	memset(&g, 0, sizeof(g));
	read_rest(r, &g);
	CHECK(got_is(&g, &wr, at, n, NULL));
	/* Exactly a group's first tick: that group. */
	CHECK_INT(store_seek(r, tick_time(at), 0), 0);
	memset(&g, 0, sizeof(g));
	read_rest(r, &g);
	CHECK(got_is(&g, &wr, at, n, NULL));
	/* After the end: the last group. */
	at = n - 1;
	while (!wr.kf[at])
		at--;
	CHECK_INT(store_seek(r, tick_time(n) + 1000 * SEC, 0), 0);
	memset(&g, 0, sizeof(g));
	read_rest(r, &g);
	CHECK(got_is(&g, &wr, at, n, NULL));
	/* Further back than there is: the first. */
	CHECK_INT(store_seek(r, tick_time(100), 1000), 0);
	memset(&g, 0, sizeof(g));
	read_rest(r, &g);
	CHECK(got_is(&g, &wr, 0, n, NULL));
	/* Back across a segment boundary: the group before the second
	 * segment's first is in the first segment, and reading goes on
	 * from it into the second. */
	{
		char names[64][64];
		size_t sl;
		uint8_t *sb;
		uint64_t t2 = 0;
		unsigned k2 = 0, k1;

		list(dir, ".cgwr", names, 64);
		sb = slurp(dir, names[1], &sl);
		if (sb && sl >= 32 + 48)
			memcpy(&t2, sb + 32 + 24, 8);
		free(sb);
		while (k2 < n && tick_time(k2) != t2)
			k2++;
		CHECK(k2 < n && wr.kf[k2]);
		k1 = k2 ? k2 - 1 : 0;
		while (k1 && !wr.kf[k1])
			k1--;
		CHECK_INT(store_seek(r, t2, 1), 0);
		memset(&g, 0, sizeof(g));
		read_rest(r, &g);
		CHECK(k1 < k2 && got_is(&g, &wr, k1, n, NULL));
	}
	CHECK_U64(g.notices, 0);
	store_reader_close(r);
out:
	rm_dir(dir);
}

static void test_index_lost_or_garbled(void)
{
	char dir[64], idx[64][64], p[256];
	struct store_writer_opts o;
	int nidx;

	make_dir(dir);
	o = opts(dir);
	o.flush_usec = 2 * SEC;
	o.group_ticks = 10;
	o.segment_usec = 60 * SEC;
	CHECK_INT(write_store(&o, &wr, 300), 0);
	nidx = list(dir, ".cgwi", idx, 64);
	CHECK(nidx >= 4);
	/* Garbled: an entry's offset points into the middle of a chunk. */
	{
		size_t len;
		uint8_t *b = slurp(dir, idx[1], &len);

		CHECK(b && len >= 16 + 32);
		if (b && len >= 48) {
			b[16 + 16 + 8] ^= 0x10;
			spill(dir, idx[1], b, len);
		}
		free(b);
		/* Short: half an entry at the end. */
		b = slurp(dir, idx[2], &len);
		if (b && len >= 24)
			spill(dir, idx[2], b, len - 8);
		free(b);
	}
	CHECK_INT(read_store(dir, &g), 0);
	CHECK(got_is(&g, &wr, 0, 300, NULL));
	CHECK_U64(g.notices, 2);
	/* Missing: every index. */
	for (int i = 0; i < nidx; i++) {
		snprintf(p, sizeof(p), "%s/%.63s", dir, idx[i]);
		unlink(p);
	}
	CHECK_INT(read_store(dir, &g2), 0);
	CHECK(got_is(&g2, &wr, 0, 300, NULL));
	CHECK_U64(g2.notices, (uint64_t)nidx);
	/* Seeking without an index finds the same group. */
	{
		struct store_reader_opts ro = { .quiet = true };
		struct store_reader *r;
		unsigned at = 155;

		while (!wr.kf[at])
			at--;
		CHECK_INT(store_reader_open(dir, &ro, &r), 0);
		if (r) {
			CHECK_INT(store_seek(r, tick_time(155), 0), 0);
			memset(&g, 0, sizeof(g));
			read_rest(r, &g);
			CHECK(got_is(&g, &wr, at, 300, NULL));
			store_reader_close(r);
		}
	}
	rm_dir(dir);
}

/* Whole segments only: what is left reads back from a keyframe at a
 * segment's start to the last tick, every tick in between. */
static void test_retention(void)
{
	char dir[64], segs[256][64];
	struct store_writer_opts o;
	struct store_writer *w;
	struct store_writer_stats st;
	unsigned n = 1500;
	int nseg;

	make_dir(dir);
	o = opts(dir);
	o.flush_usec = 5 * SEC;
	o.group_ticks = 30;
	o.retain_bytes = 400 << 10;
	CHECK_INT(store_writer_open(&o, &w), 0);
	if (!w)
		goto out;
	memset(&wr, 0, sizeof(wr));
	CHECK_INT(append_ticks(w, &wr, 0, n), 0);
	store_writer_stats(w, &st);
	CHECK(st.segments_deleted > 0);
	CHECK(st.store_bytes <= o.retain_bytes);
	CHECK_U64(st.ticks, n);
	CHECK_INT(store_writer_close(w), 0);
	nseg = list(dir, ".cgwr", segs, 256);
	CHECK(nseg >= 7 && nseg <= 9);
	CHECK_INT(read_store(dir, &g), 0);
	CHECK(g.n > 0 && g.n < n);
	if (g.n)
		CHECK(got_is(&g, &wr, g.idx[0], n, NULL));
	CHECK(g.kf[0]);
	CHECK_U64(g.notices, 0);
	rm_dir(dir);

	/* By age: segments of 20 s, 100 s kept. */
	make_dir(dir);
	o = opts(dir);
	o.group_ticks = 8;
	o.segment_usec = 20 * SEC;
	o.retain_usec = 100 * SEC;
	CHECK_INT(write_store(&o, &wr, 400), 0);
	CHECK_INT(read_store(dir, &g), 0);
	CHECK(g.n > 0);
	if (g.n) {
		CHECK(got_is(&g, &wr, g.idx[0], 400, NULL));
		CHECK(tick_time(g.idx[0]) + 130 * SEC >= tick_time(399));
		CHECK(tick_time(g.idx[0]) + 100 * SEC <= tick_time(399));
	}
	/* A writer opened again applies retention to what is there (by
	 * mtime: all of it is recent, so only size counts). */
	o.retain_usec = 0;
	o.retain_bytes = 64 << 10;
	CHECK_INT(store_writer_open(&o, &w), 0);
	if (w) {
		store_writer_stats(w, &st);
		CHECK(st.segments_deleted > 0);
		CHECK(st.store_bytes <= o.retain_bytes);
		store_writer_close(w);
	}
out:
	rm_dir(dir);
}

static void test_lock(void)
{
	char dir[64];
	struct store_writer_opts o;
	struct store_writer *a = NULL, *b = NULL;

	make_dir(dir);
	o = opts(dir);
	CHECK_INT(store_writer_open(&o, &a), 0);
	CHECK_INT(store_writer_open(&o, &b), -EBUSY);
	CHECK(b == NULL);
	CHECK_INT(store_writer_close(a), 0);
	CHECK_INT(store_writer_open(&o, &b), 0);
	/* Never the old segment again: two writers, two segments. */
	store_writer_close(b);
	{
		char segs[8][64];

		CHECK_INT(list(dir, ".cgwr", segs, 8), 2);
	}
	rm_dir(dir);
}

static void test_future_version_and_foreign(void)
{
	char dir[64], segs[8][64];
	struct store_reader_opts ro = { .quiet = true };
	struct store_reader *r = NULL;
	size_t len;
	uint8_t *b;

	make_dir(dir);
	CHECK_INT(store_reader_open(dir, &ro, &r), -ENOENT);
	CHECK_INT(write_store(&(struct store_writer_opts){ .dir = dir, .quiet = true }, &wr, 10), 0);
	CHECK_INT(list(dir, ".cgwr", segs, 8), 1);
	b = slurp(dir, segs[0], &len);
	CHECK(b != NULL);
	if (!b)
		goto out;
	b[8] = STORE_FORMAT_VERSION + 1;
	spill(dir, segs[0], b, len);
	CHECK_INT(store_reader_open(dir, &ro, &r), -EPROTO);
	memcpy(b, "NOTOURS!", 8);
	spill(dir, segs[0], b, len);
	CHECK_INT(store_reader_open(dir, &ro, &r), -EBADMSG);
	free(b);
out:
	rm_dir(dir);
}

/* Cut the newest segment at every byte of its last chunk: every tick before
 * it reads back, the cut is a notice (no writer) or "incomplete" (a writer
 * holds the lock). */
static void test_truncated_everywhere(void)
{
	char dir[64], segs[8][64], p[256];
	struct store_writer_opts o;
	struct store_writer *w;
	uint64_t s0, s1;
	uint8_t *b;
	size_t len;
	int lockfd;

	make_dir(dir);
	o = opts(dir);
	o.group_ticks = 1000;
	CHECK_INT(store_writer_open(&o, &w), 0);
	if (!w)
		goto out;
	memset(&wr, 0, sizeof(wr));
	CHECK_INT(append_ticks(w, &wr, 0, 11), 0);
	CHECK_INT(list(dir, ".cgwr", segs, 8), 1);
	s0 = file_size(dir, segs[0]);
	CHECK_INT(append_ticks(w, &wr, 11, 12), 0);
	CHECK_INT(store_writer_close(w), 0);
	s1 = file_size(dir, segs[0]);
	CHECK(s1 > s0 + 48);
	b = slurp(dir, segs[0], &len);
	if (!b)
		goto out;
	for (uint64_t cut = s0; cut < s1; cut++) {
		spill(dir, segs[0], b, (size_t)cut);
		CHECK_INT(read_store(dir, &g), 0);
		if (!got_is(&g, &wr, 0, 11, NULL) || g.notices != (cut > s0)) {
			printf("  cut at %llu of %llu: %u ticks, %llu notices\n",
			       (unsigned long long)cut, (unsigned long long)s1, g.n,
			       (unsigned long long)g.notices);
			CHECK(!"cut");
			break;
		}
	}
	/* With a live writer the same cut is its next chunk, not yet there. */
	snprintf(p, sizeof(p), "%s/lock", dir);
	lockfd = open(p, O_RDONLY | O_CLOEXEC);
	CHECK(lockfd >= 0 && flock(lockfd, LOCK_EX) == 0);
	spill(dir, segs[0], b, (size_t)(s0 + 60));
	CHECK_INT(read_store(dir, &g), 0);
	CHECK(got_is(&g, &wr, 0, 11, NULL));
	CHECK_U64(g.notices, 0);
	CHECK(g.incomplete >= 1);
	if (lockfd >= 0)
		close(lockfd);
	/* The whole again, all twelve. */
	spill(dir, segs[0], b, len);
	CHECK_INT(read_store(dir, &g), 0);
	CHECK(got_is(&g, &wr, 0, 12, NULL));
	free(b);
out:
	rm_dir(dir);
}

/* A flipped bit in the middle: that chunk and the rest of its group are
 * skipped with one notice; the next group reads. */
static void test_bit_flip(void)
{
	char dir[64], segs[8][64];
	struct store_writer_opts o;
	struct store_writer *w;
	uint64_t off[60];
	bool skip[MAXN] = { false };
	uint8_t *b, *orig;
	size_t len;
	unsigned flips[] = { 48 + 20, 9, 13, 17, 25 };	/* payload, comp, raw, nticks, first */

	make_dir(dir);
	o = opts(dir);
	o.group_ticks = 10;
	CHECK_INT(store_writer_open(&o, &w), 0);
	if (!w)
		goto out;
	memset(&wr, 0, sizeof(wr));
	for (unsigned i = 0; i < 60; i++) {
		list(dir, ".cgwr", segs, 8);
		off[i] = file_size(dir, segs[0]);
		CHECK_INT(append_ticks(w, &wr, i, i + 1), 0);
	}
	CHECK_INT(store_writer_close(w), 0);
	CHECK(wr.kf[30] && !wr.kf[34] && wr.kf[40]);
	orig = slurp(dir, segs[0], &len);
	b = malloc(len);
	if (!orig || !b)
		goto out;
	for (unsigned i = 34; i < 40; i++)
		skip[i] = true;
	for (unsigned k = 0; k < sizeof(flips) / sizeof(flips[0]); k++) {
		memcpy(b, orig, len);
		b[off[34] + flips[k]] ^= 0x40;
		spill(dir, segs[0], b, len);
		CHECK_INT(read_store(dir, &g), 0);
		if (!got_is(&g, &wr, 0, 60, skip) || g.notices != 1) {
			printf("  flip at +%u: %u ticks, %llu notices\n", flips[k], g.n,
			       (unsigned long long)g.notices);
			CHECK(!"flip");
		}
	}
	/* In a group's first chunk, with the index removed: the resync scan
	 * finds the group after it. */
	memcpy(b, orig, len);
	b[off[20] + 60] ^= 1;
	spill(dir, segs[0], b, len);
	{
		char p[256], idx[8][64];

		list(dir, ".cgwi", idx, 8);
		snprintf(p, sizeof(p), "%s/%.63s", dir, idx[0]);
		unlink(p);
	}
	memset(skip, 0, sizeof(skip));
	for (unsigned i = 20; i < 30; i++)
		skip[i] = true;
	CHECK_INT(read_store(dir, &g), 0);
	CHECK(got_is(&g, &wr, 0, 60, skip));
	CHECK_U64(g.notices, 2);	/* the index, the chunk */
	free(b);
	free(orig);
out:
	rm_dir(dir);
}

static void put32le(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t crc32c_ref(const uint8_t *p, size_t n)
{
	uint32_t c = ~0u;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
	}
	return ~c;
}

/* Hostile headers: huge lengths and counts are refused before anything
 * is allocated for them (the fuzz target runs with -malloc_limit_mb). */
static void test_hostile_headers(void)
{
	char dir[64], segs[8][64], idx[8][64];
	uint8_t *b, *h;
	size_t len;
	struct {
		unsigned at;
		uint32_t v;
		bool fix_crc;
	} cases[] = {
		{ 8, 0xffffffffu, true },		/* comp_len 4 GiB */
		{ 12, 0x80000000u, true },		/* raw_len 2^31 */
		{ 16, 0x80000000u, true },		/* nticks 2^31 */
		{ 12, 2, true },			/* raw_len smaller than the ticks */
		{ 16, 1000, true },			/* more ticks than there are */
		{ 20, 7, true },			/* a group start not numbered 0 */
		{ 4, 0xff, true },			/* unknown flags */
	};

	make_dir(dir);
	CHECK_INT(write_store(&(struct store_writer_opts){ .dir = dir, .quiet = true,
							   .group_ticks = 5 }, &wr, 20), 0);
	list(dir, ".cgwr", segs, 8);
	list(dir, ".cgwi", idx, 8);
	b = slurp(dir, segs[0], &len);
	if (!b || len < 200)
		goto out;
	/* The first chunk is at 32. */
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		uint8_t *c = malloc(len);

		if (!c)
			break;
		memcpy(c, b, len);
		h = c + 32;
		put32le(h + cases[k].at, cases[k].v);
		if (cases[k].fix_crc) {
			uint32_t comp = h[8] | h[9] << 8 | h[10] << 16 | (uint32_t)h[11] << 24;
			uint8_t *tmp;

			if (comp > len)
				comp = 0;
			tmp = malloc(44 + comp);
			memcpy(tmp, h, 44);
			memcpy(tmp + 44, h + 48, comp);
			put32le(h + 44, crc32c_ref(tmp, 44 + comp));
			free(tmp);
		}
		spill(dir, segs[0], c, len);
		CHECK_INT(read_store(dir, &g), 0);
		/* The first group is lost, the rest reads. */
		if (g.bad || g.n != 15 || g.idx[0] != 5 || g.notices < 1) {
			printf("  case %u: %u ticks, first %u, %llu notices\n", k, g.n,
			       g.n ? g.idx[0] : 0, (unsigned long long)g.notices);
			CHECK(!"hostile");
		}
		free(c);
	}
	/* An index entry claiming a chunk at 2^60. */
	{
		size_t il;
		uint8_t *ib = slurp(dir, idx[0], &il);

		spill(dir, segs[0], b, len);
		if (ib && il >= 32) {
			ib[16 + 15] = 0x10;
			spill(dir, idx[0], ib, il);
			CHECK_INT(read_store(dir, &g), 0);
			CHECK(got_is(&g, &wr, 0, 20, NULL));
			CHECK_U64(g.notices, 1);
		}
		free(ib);
	}
	free(b);
out:
	rm_dir(dir);
}

/* The first tick must be a keyframe; an extra keyframe begins a group. */
static void test_keyframe_contract(void)
{
	char dir[64];
	struct store_writer *w;
	size_t len;

	make_dir(dir);
	CHECK_INT(store_writer_open(&(struct store_writer_opts){ .dir = dir, .quiet = true }, &w), 0);
	if (!w)
		goto out;
	memset(&wr, 0, sizeof(wr));
	CHECK(store_need_keyframe(w));
	len = gen_tick(0, tickbuf);
	CHECK_INT(store_append(w, tickbuf, len, tick_time(0), false), -EINVAL);
	CHECK_INT(append_ticks(w, &wr, 0, 3), 0);
	CHECK(!store_need_keyframe(w));
	len = gen_tick(3, tickbuf);
	CHECK_INT(store_append(w, tickbuf, len, tick_time(3), true), 0);
	wr.kf[3] = true;
	CHECK_INT(append_ticks(w, &wr, 4, 6), 0);
	CHECK_INT(store_writer_close(w), 0);
	CHECK_INT(read_store(dir, &g), 0);
	CHECK(got_is(&g, &wr, 0, 6, NULL));
	CHECK(g.n == 6 && g.kf[0] && !g.kf[1] && g.kf[3] && !g.kf[4]);
out:
	rm_dir(dir);
}

/* A reader beside a live writer: what is flushed reads, and the newest
 * segment is followed as it grows. */
static void test_live_follow(void)
{
	char dir[64];
	struct store_writer_opts o;
	struct store_writer *w;
	struct store_reader_opts ro = { .quiet = true };
	struct store_reader *r = NULL;

	make_dir(dir);
	o = opts(dir);
	o.flush_usec = 1000 * SEC;
	o.group_ticks = 25;
	CHECK_INT(store_writer_open(&o, &w), 0);
	if (!w)
		goto out;
	memset(&wr, 0, sizeof(wr));
	CHECK_INT(append_ticks(w, &wr, 0, 40), 0);
	/* Ticks 25..39 are buffered, not yet a chunk. */
	CHECK_INT(store_reader_open(dir, &ro, &r), 0);
	if (r) {
		memset(&g, 0, sizeof(g));
		read_rest(r, &g);
		CHECK(got_is(&g, &wr, 0, 25, NULL));
		CHECK_INT(store_flush(w), 0);
		CHECK_INT(append_ticks(w, &wr, 40, 60), 0);
		CHECK_INT(store_flush(w), 0);
		read_rest(r, &g);
		CHECK(got_is(&g, &wr, 0, 60, NULL));
		CHECK_U64(g.notices, 0);
		store_reader_close(r);
	}
	CHECK_INT(store_writer_close(w), 0);
out:
	rm_dir(dir);
}

/* As root, in a private mount namespace: a 4 MiB tmpfs filled up. */
static int diskfull_child(void)
{
	char dir[] = "/tmp/cgw-store-full.XXXXXX", p[256], store[300];
	struct store_writer_opts o;
	struct store_writer *w;
	struct store_writer_stats st;
	uint64_t before;
	static char junk[65536];
	FILE *f;

	if (unshare(CLONE_NEWNS) || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL))
		return 200;
	if (!mkdtemp(dir))
		return 200;
	if (mount("tmpfs", dir, "tmpfs", 0, "size=4m")) {
		rmdir(dir);
		return 200;
	}
	snprintf(store, sizeof(store), "%s/rec", dir);
	o = opts(store);
	o.group_ticks = 1000;
	CHECK_INT(store_writer_open(&o, &w), 0);
	if (!w)
		goto out;
	memset(&wr, 0, sizeof(wr));
	CHECK_INT(append_ticks(w, &wr, 0, 20), 0);
	snprintf(p, sizeof(p), "%s/filler", dir);
	f = fopen(p, "wb");
	memset(junk, 0x55, sizeof(junk));
	setvbuf(f, NULL, _IONBF, 0);
	while (f && fwrite(junk, 1, sizeof(junk), f) == sizeof(junk))
		;
	while (f && fwrite(junk, 1, 512, f) == 512)
		;
	if (f)
		fclose(f);
	store_writer_stats(w, &st);
	before = st.ticks;
	CHECK_INT(append_ticks(w, &wr, 20, 40), 0);
	store_writer_stats(w, &st);
	CHECK(st.paused);
	CHECK(wr.dropped[20] && wr.dropped[39]);
	CHECK_U64(st.ticks, before);
	CHECK_U64(st.ticks_dropped, 20);
	unlink(p);
	CHECK_INT(append_ticks(w, &wr, 40, 60), 0);
	store_writer_stats(w, &st);
	CHECK(!st.paused);
	/* One tick learns there is room, the next is the keyframe. */
	CHECK(wr.dropped[40] && !wr.dropped[41] && wr.kf[41]);
	CHECK_U64(st.ticks_dropped, 21);
	CHECK_U64(st.ticks, 39);
	CHECK_INT(store_writer_close(w), 0);
	CHECK_INT(read_store(store, &g), 0);
	CHECK(got_is(&g, &wr, 0, 60, NULL));
	CHECK_U64(g.n, 39);
	CHECK_U64(g.notices, 0);
out:
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	fflush(stdout);
	return test_cur_failed;
}

static void test_disk_full(void)
{
	pid_t pid;
	int status;

	if (geteuid() != 0)
		TEST_SKIP("needs root to mount a small tmpfs");
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(diskfull_child());
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		CHECK(!"child");
		return;
	}
	if (WEXITSTATUS(status) == 200)
		TEST_SKIP("no private mount namespace or tmpfs here");
	test_cur_failed += WEXITSTATUS(status);
}

int main(void)
{
	base_usec = (wall_usec() / SEC - 5000) * SEC;
	RUN(test_roundtrip_and_seek);
	RUN(test_index_lost_or_garbled);
	RUN(test_retention);
	RUN(test_lock);
	RUN(test_future_version_and_foreign);
	RUN(test_truncated_everywhere);
	RUN(test_bit_flip);
	RUN(test_hostile_headers);
	RUN(test_keyframe_contract);
	RUN(test_live_follow);
	RUN(test_disk_full);
	TEST_EXIT();
}
