/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libFuzzer target for the flight recorder's reader (src/store.c). The
 * first byte of an input says what the rest is:
 *   bits 0-1  0: one segment file; 1: a segment and its index (split at the
 *             offset in bytes 1-2); 2: two segments (split the same way);
 *             3: one segment whose chunk CRCs are fixed up first, so the
 *             fuzzer gets past them to zstd and the tick records
 *   bit 2     ticks for the writer instead: the rest is cut into ticks
 *             (a length byte, then that many bytes), written with small
 *             settings and read back; they must come back byte for byte
 * The reader (quiet) then opens the directory, asks for the range, and
 * reads everything from several seeks. Nothing may crash, trip a
 * sanitizer, or allocate without bound (run with -malloc_limit_mb=64: a
 * chunk is at most 4 MiB raw, so 64 MiB means a length was believed).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

#define ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

static char dir[64];

static const char *const files[] = {
	"20260101T000000Z-0000.cgwr", "20260101T000000Z-0000.cgwi",
	"20260101T000001Z-0000.cgwr", "lock",
};

static void put(const char *name, const uint8_t *b, size_t n)
{
	char p[128];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT(fd >= 0);
	ASSERT(write(fd, b, n) == (ssize_t)n);
	close(fd);
}

/* Empties the directory (without a shell per input: that was most of
 * the time). */
static void clean(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	ASSERT(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t crc32c(const uint8_t *p, size_t n, uint32_t c)
{
	c = ~c;
	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
	}
	return ~c;
}

/* Walks the chunks from the header's length on and sets each CRC. */
static void fix_crcs(uint8_t *b, size_t n)
{
	size_t off = n >= 12 ? (size_t)(b[10] | b[11] << 8) : n;

	if (n >= 32 && off >= 32) {
		uint32_t c = crc32c(b, 24, 0);

		memcpy(b + 24, &(uint8_t[4]){ c, c >> 8, c >> 16, c >> 24 }, 4);
	}
	while (off + 48 <= n) {
		uint32_t comp = get32(b + off + 8), c;

		if (comp > n - off - 48)
			comp = (uint32_t)(n - off - 48);
		c = crc32c(b + off + 48, comp, crc32c(b + off, 44, 0));
		memcpy(b + off + 44, &(uint8_t[4]){ c, c >> 8, c >> 16, c >> 24 }, 4);
		off += 48 + comp;
	}
}

static void read_all(void)
{
	struct store_reader_opts ro = { .who = "fuzz", .quiet = true };
	struct store_reader *r;
	uint64_t first = 0, last = 0;
	const uint64_t at[] = { 0, 1, UINT64_MAX, 1767225600000000ull };

	if (store_reader_open(dir, &ro, &r))
		return;
	if (store_range(r, &first, &last) == 0)
		ASSERT(store_seek(r, first, 0) == 0);
	for (int k = -1; k < 7; k++) {
		const void *raw;
		size_t len, n = 0;
		uint64_t t;
		bool kf;

		if (k >= 0 && k < 4)
			store_seek(r, at[k], (unsigned)k);
		else if (k >= 4)
			store_seek(r, k == 4 ? last : first + (last - first) / 2, (unsigned)(k - 4));
		while (n++ < 100000 && store_next(r, &raw, &len, &t, &kf) == 0)
			ASSERT(len <= STORE_CHUNK_RAW_MAX);
	}
	store_reader_close(r);
}

/* The writer round trip: every tick back, byte for byte, in order. */
static void write_and_read(const uint8_t *d, size_t n)
{
	struct store_writer_opts o = {
		.dir = dir, .who = "fuzz", .quiet = true,
		.group_ticks = 1 + (n ? d[0] % 5 : 0), .segment_usec = 3000000,
		.flush_usec = n > 1 ? (uint64_t)(d[1] % 3) * 1000000 : 0,
	};
	struct store_reader_opts ro = { .who = "fuzz", .quiet = true };
	struct store_writer *w;
	struct store_reader *r;
	size_t pos = 2, ntick = 0, got = 0;
	uint64_t t0 = 1767225600000000ull;

	ASSERT(store_writer_open(&o, &w) == 0);
	while (pos < n) {
		size_t len = d[pos++];

		if (len > n - pos)
			len = n - pos;
		ASSERT(store_append(w, d + pos, len, t0 + ntick * 1000000,
				    store_need_keyframe(w)) == 0);
		pos += len;
		ntick++;
	}
	ASSERT(store_writer_close(w) == 0);
	ASSERT(store_reader_open(dir, &ro, &r) == 0);
	pos = 2;
	for (;;) {
		const void *raw;
		size_t len, want;
		uint64_t t;
		bool kf;

		if (store_next(r, &raw, &len, &t, &kf))
			break;
		ASSERT(pos < n);
		want = d[pos++];
		if (want > n - pos)
			want = n - pos;
		ASSERT(len == want && memcmp(raw, d + pos, len) == 0);
		ASSERT(t == t0 + got * 1000000);
		ASSERT(got != 0 || kf);
		pos += len;
		got++;
	}
	ASSERT(got == ntick);
	ASSERT(store_reader_notices(r) == 0);
	store_reader_close(r);
}

/* Each input's files are removed after it; the directory at exit. */
static void remove_dir(void)
{
	clean();
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t split;
	uint8_t *b;

	if (!dir[0]) {
		strcpy(dir, "/tmp/fuzz_store.XXXXXX");
		ASSERT(mkdtemp(dir));
		atexit(remove_dir);
	}
	if (size < 1)
		return 0;
	if (data[0] & 4) {
		write_and_read(data + 1, size - 1);
		clean();
		return 0;
	}
	split = size >= 3 ? (size_t)(data[1] | data[2] << 8) : 0;
	data++, size--;
	switch (data[-1] & 3) {
	case 0:
		put(files[0], data, size);
		break;
	case 1:
	case 2:
		if (size < 2)
			return 0;
		data += 2, size -= 2;
		if (split > size)
			split = size;
		put(files[0], data, split);
		put(files[(data[-3] & 3) == 1 ? 1 : 2], data + split, size - split);
		break;
	case 3:
		b = malloc(size ? size : 1);
		ASSERT(b);
		memcpy(b, data, size);
		fix_crcs(b, size);
		put(files[0], b, size);
		free(b);
		break;
	}
	read_all();
	clean();
	return 0;
}
