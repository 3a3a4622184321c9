/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests for src/parse.c, mostly on files captured from live kernels
 * (tests/fixtures/). Run from the repository root.
 *
 * Inputs handed to a parser are copied into a heap buffer of exactly their
 * length, so a sanitizer build catches any read past len.
 */
#include <errno.h>
#include <stdlib.h>

#include "test.h"
#include "parse.h"

#define PURE	"tests/fixtures/v2-pure-6.1/"
#define HYBRID	"tests/fixtures/v2-hybrid-6.18/busy/"
#define DOCKER	PURE "system.slice/docker-3f4e8a9c1b2d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9d0e1f2a3b.scope/"
#define LIBPOD	PURE "machine.slice/libpod-0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d.scope/"
#define CRI	PURE "kubepods.slice/kubepods-burstable.slice/" \
		"kubepods-burstable-pod1b2c3d4e_5f60_7182_93a4_b5c6d7e8f90a.slice/" \
		"cri-containerd-9a8b7c6d5e4f30211f0e9d8c7b6a59483726150f1e2d3c4b5a69788796a5b4c3.scope/"

/* An exact-size heap copy: ASan flags a read at [len]. Freed by the next call
 * (tests hold at most a few at once, so keep a small ring). */
static char *ring[8];
static unsigned ring_pos;

static const char *exact(const void *src, size_t len)
{
	char *p = malloc(len ? len : 1);

	if (!p) {
		perror("malloc");
		exit(2);
	}
	memcpy(p, src, len);
	free(ring[ring_pos]);
	ring[ring_pos] = p;
	ring_pos = (ring_pos + 1) % 8;
	return p;
}

/* String literal without its NUL. */
#define S(lit) exact(lit, sizeof(lit) - 1), sizeof(lit) - 1

/* Reads a fixture into an exact-size buffer; *len = -1 if it is missing. */
static const char *fixture(const char *path, size_t *len)
{
	static char tmp[1 << 16];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		printf("  cannot open %s (run from the repository root)\n", path);
		test_cur_failed++;
		*len = 0;
		return exact("", 0);
	}
	n = fread(tmp, 1, sizeof(tmp), f);
	fclose(f);
	*len = n;
	return exact(tmp, n);
}

/* The collector's own key tables (snapshot.c), in kernel order. */
#define cpu_keys cg_cpu_keys
#define memstat_keys cg_memstat_keys
#define memevent_keys cg_memevent_keys

static const char *const events_keys[] = { "populated", "frozen" };

#define SENTINEL 0x5a5a5a5a5a5a5a5aull

/* ---- parse_u64_or_max ---------------------------------------------------- */

static void test_u64_fixtures(void)
{
	static const struct { const char *path; uint64_t want; } t[] = {
		{ DOCKER "memory.max", 314572800 },	/* 300M */
		{ DOCKER "memory.high", CG_UNLIMITED },
		{ DOCKER "memory.swap.max", CG_UNLIMITED },
		{ DOCKER "memory.peak", 111796224 },
		{ DOCKER "memory.current", 111542272 },
		{ DOCKER "memory.low", 0 },
		{ DOCKER "cpu.weight", 100 },
		{ DOCKER "pids.max", 100 },
		{ DOCKER "pids.current", 2 },
		{ CRI "memory.max", 134217728 },	/* 128M */
		{ PURE "kubepods.slice/memory.max", CG_UNLIMITED },
	};
	size_t i, len;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *b = fixture(t[i].path, &len);
		uint64_t v = SENTINEL;

		CHECK_INT(parse_u64_or_max(b, len, &v), 0);
		CHECK_U64(v, t[i].want);
	}
}

static void test_u64_edges(void)
{
	uint64_t v;

	v = 0; CHECK_INT(parse_u64_or_max(S("123\n"), &v), 0); CHECK_U64(v, 123);
	v = 0; CHECK_INT(parse_u64_or_max(S("123"), &v), 0); CHECK_U64(v, 123);
	v = 0; CHECK_INT(parse_u64_or_max(S("0\n"), &v), 0); CHECK_U64(v, 0);
	v = 0; CHECK_INT(parse_u64_or_max(S("  42 \t\n"), &v), 0); CHECK_U64(v, 42);
	v = 0; CHECK_INT(parse_u64_or_max(S("007\n"), &v), 0); CHECK_U64(v, 7);
	v = 0; CHECK_INT(parse_u64_or_max(S("max\n"), &v), 0); CHECK_U64(v, CG_UNLIMITED);
	v = 0; CHECK_INT(parse_u64_or_max(S("max"), &v), 0); CHECK_U64(v, CG_UNLIMITED);
	v = 0; CHECK_INT(parse_u64_or_max(S("5\r\n"), &v), 0); CHECK_U64(v, 5);
	/* 2^64-1 is a valid number and happens to equal CG_UNLIMITED */
	v = 0;
	CHECK_INT(parse_u64_or_max(S("18446744073709551615\n"), &v), 0);
	CHECK_U64(v, UINT64_MAX);
	v = 0;
	CHECK_INT(parse_u64_or_max(S("18446744073709551614"), &v), 0);
	CHECK_U64(v, UINT64_MAX - 1);

	v = SENTINEL;
	CHECK_INT(parse_u64_or_max(S("18446744073709551616\n"), &v), -ERANGE);
	CHECK_INT(parse_u64_or_max(S("18446744073709551620\n"), &v), -ERANGE);
	CHECK_INT(parse_u64_or_max(S("99999999999999999999\n"), &v), -ERANGE);
	CHECK_INT(parse_u64_or_max(S("184467440737095516150\n"), &v), -ERANGE);
	CHECK_INT(parse_u64_or_max(S(""), &v), -EINVAL);
	CHECK_INT(parse_u64_or_max(S("\n"), &v), -EINVAL);
	CHECK_INT(parse_u64_or_max(S("  \t \n"), &v), -EINVAL);
	CHECK_INT(parse_u64_or_max(S("12x\n"), &v), -EINVAL);
	CHECK_INT(parse_u64_or_max(S("12 13\n"), &v), -EINVAL);
	CHECK_INT(parse_u64_or_max(S("12\n13\n"), &v), -EINVAL);
	CHECK_INT(parse_u64_or_max(S("-1\n"), &v), -EINVAL);
	CHECK_INT(parse_u64_or_max(S("+1\n"), &v), -EINVAL);
	CHECK_INT(parse_u64_or_max(S("0x10\n"), &v), -EINVAL);
	CHECK_INT(parse_u64_or_max(S("1.5\n"), &v), -EINVAL);
	CHECK_INT(parse_u64_or_max(S("maxx\n"), &v), -EINVAL);
	CHECK_INT(parse_u64_or_max(S("ma"), &v), -EINVAL);
	CHECK_INT(parse_u64_or_max(S("MAX\n"), &v), -EINVAL);
	CHECK_INT(parse_u64_or_max(S("1\0"), &v), -EINVAL);
	CHECK_U64(v, SENTINEL);		/* untouched on every failure */

	/* never looks past len: "1234" seen as "12" */
	v = 0; CHECK_INT(parse_u64_or_max("1234", 2, &v), 0); CHECK_U64(v, 12);
	CHECK_INT(parse_u64_or_max(NULL, 0, &v), -EINVAL);
}

/* ---- parse_cpu_max ------------------------------------------------------- */

static void test_cpu_max_fixtures(void)
{
	uint64_t q = 0, p = 0;
	size_t len;
	const char *b;

	b = fixture(DOCKER "cpu.max", &len);
	CHECK_INT(parse_cpu_max(b, len, &q, &p), 0);
	CHECK_U64(q, 50000);
	CHECK_U64(p, 100000);

	b = fixture(CRI "cpu.max", &len);
	q = p = 0;
	CHECK_INT(parse_cpu_max(b, len, &q, &p), 0);
	CHECK_U64(q, CG_UNLIMITED);
	CHECK_U64(p, 100000);
}

static void test_cpu_max_edges(void)
{
	uint64_t q = 0, p = 0;

	CHECK_INT(parse_cpu_max(S("max 100000"), &q, &p), 0);
	CHECK_U64(q, CG_UNLIMITED);
	CHECK_U64(p, 100000);
	CHECK_INT(parse_cpu_max(S("1000\t1000\r\n"), &q, &p), 0);
	CHECK_U64(q, 1000);
	CHECK_U64(p, 1000);
	CHECK_INT(parse_cpu_max(S("18446744073709551615 1000\n"), &q, &p), 0);
	CHECK_U64(q, UINT64_MAX);

	q = p = SENTINEL;
	CHECK_INT(parse_cpu_max(S(""), &q, &p), -EINVAL);
	CHECK_INT(parse_cpu_max(S("\n"), &q, &p), -EINVAL);
	CHECK_INT(parse_cpu_max(S("max\n"), &q, &p), -EINVAL);
	CHECK_INT(parse_cpu_max(S("50000\n"), &q, &p), -EINVAL);
	CHECK_INT(parse_cpu_max(S("50000 \n"), &q, &p), -EINVAL);
	CHECK_INT(parse_cpu_max(S("50000 max\n"), &q, &p), -EINVAL);
	CHECK_INT(parse_cpu_max(S("50000 100000 7\n"), &q, &p), -EINVAL);
	CHECK_INT(parse_cpu_max(S("50000 100000x\n"), &q, &p), -EINVAL);
	CHECK_INT(parse_cpu_max(S("50000\n100000\n"), &q, &p), -EINVAL);
	CHECK_INT(parse_cpu_max(S("-1 100000\n"), &q, &p), -EINVAL);
	CHECK_INT(parse_cpu_max(S("50000 0\n"), &q, &p), -EINVAL);
	CHECK_INT(parse_cpu_max(S("18446744073709551616 100000\n"), &q, &p), -ERANGE);
	CHECK_INT(parse_cpu_max(S("1 18446744073709551616\n"), &q, &p), -ERANGE);
	CHECK_U64(q, SENTINEL);
	CHECK_U64(p, SENTINEL);
	/* cut mid-period: "50000 10" is a valid (if odd) value; never past len */
	CHECK_INT(parse_cpu_max("50000 100000\n", 8, &q, &p), 0);
	CHECK_U64(p, 10);
}

/* ---- parse_keyed --------------------------------------------------------- */

static void test_keyed_cpu_stat_docker(void)
{
	uint64_t v[CG_CPU__COUNT], have = 0;
	size_t len;
	const char *b = fixture(DOCKER "cpu.stat", &len);

	CHECK_INT(parse_keyed(b, len, cpu_keys, CG_CPU__COUNT, v, &have), 8);
	CHECK_U64(have, 0xff);
	CHECK_U64(v[CG_CPU_USAGE_USEC], 15972258);
	CHECK_U64(v[CG_CPU_USER_USEC], 14375436);
	CHECK_U64(v[CG_CPU_SYSTEM_USEC], 1596822);
	CHECK_U64(v[CG_CPU_NR_PERIODS], 321);
	CHECK_U64(v[CG_CPU_NR_THROTTLED], 318);
	CHECK_U64(v[CG_CPU_THROTTLED_USEC], 26289940);
	CHECK_U64(v[CG_CPU_NR_BURSTS], 0);
	CHECK_U64(v[CG_CPU_BURST_USEC], 0);
}

/* 6.18 without the cpu controller: nice_usec (new, not ours) and no
 * nr_periods & co. Absent values must stay as the caller left them. */
static void test_keyed_cpu_stat_hybrid(void)
{
	uint64_t v[CG_CPU__COUNT], have = 0;
	size_t len, i;
	const char *b = fixture(HYBRID "cpu.stat", &len);

	for (i = 0; i < CG_CPU__COUNT; i++)
		v[i] = SENTINEL;
	CHECK_INT(parse_keyed(b, len, cpu_keys, CG_CPU__COUNT, v, &have), 3);
	CHECK_U64(have, 0x7);
	CHECK_U64(v[CG_CPU_USAGE_USEC], 3085525);
	CHECK_U64(v[CG_CPU_USER_USEC], 3085525);
	CHECK_U64(v[CG_CPU_SYSTEM_USEC], 0);
	for (i = CG_CPU_NR_PERIODS; i < CG_CPU__COUNT; i++)
		CHECK_U64(v[i], SENTINEL);
}

static void test_keyed_memory_stat(void)
{
	uint64_t v[CG_MS__COUNT], have = 0;
	size_t len;
	const char *b = fixture(DOCKER "memory.stat", &len);

	CHECK_INT(parse_keyed(b, len, memstat_keys, CG_MS__COUNT, v, &have),
		  CG_MS__COUNT);
	CHECK_U64(have, (1ull << CG_MS__COUNT) - 1);
	CHECK_U64(v[CG_MS_ANON], 107827200);
	CHECK_U64(v[CG_MS_FILE], 3330048);
	CHECK_U64(v[CG_MS_FILE_MAPPED], 2125824);
	CHECK_U64(v[CG_MS_ANON_THP], 102760448);
	CHECK_U64(v[CG_MS_INACTIVE_FILE], 3215360);
	CHECK_U64(v[CG_MS_SLAB], 45608);
	CHECK_U64(v[CG_MS_WORKINGSET_REFAULT_FILE], 11);
	CHECK_U64(v[CG_MS_PGFAULT], 2968);
	CHECK_U64(v[CG_MS_PGMAJFAULT], 813);
	CHECK_U64(v[CG_MS_THP_FAULT_ALLOC], 49);
	CHECK_U64(v[CG_MS_THP_COLLAPSE_ALLOC], 0);

	/* every memory.stat in the tree parses fully */
	b = fixture(CRI "memory.stat", &len);
	CHECK_INT(parse_keyed(b, len, memstat_keys, CG_MS__COUNT, v, &have),
		  CG_MS__COUNT);
	b = fixture(PURE "memory.stat", &len);
	CHECK_INT(parse_keyed(b, len, memstat_keys, CG_MS__COUNT, v, &have),
		  CG_MS__COUNT);

	/* memory.numa_stat shares the key names but "anon N0=..." is not a
	 * flat value: nothing must be taken from it */
	b = fixture(DOCKER "memory.numa_stat", &len);
	CHECK_INT(parse_keyed(b, len, memstat_keys, CG_MS__COUNT, v, &have), 0);
	CHECK_U64(have, 0);
}

static void test_keyed_events(void)
{
	uint64_t v[CG_ME__COUNT], have = 0;
	size_t len;
	const char *b;

	b = fixture(CRI "memory.events", &len);
	CHECK_INT(parse_keyed(b, len, memevent_keys, CG_ME__COUNT, v, &have), 6);
	CHECK_U64(have, 0x3f);
	CHECK_U64(v[CG_ME_HIGH], 1551);		/* 200M into a 64M memory.high */
	CHECK_U64(v[CG_ME_MAX], 0);
	CHECK_U64(v[CG_ME_OOM_KILL], 0);

	b = fixture(DOCKER "cgroup.events", &len);
	CHECK_INT(parse_keyed(b, len, events_keys, 2, v, &have), 2);
	CHECK_U64(v[0], 1);
	CHECK_U64(v[1], 0);
	b = fixture(CRI "cgroup.events", &len);
	CHECK_INT(parse_keyed(b, len, events_keys, 2, v, &have), 2);
	CHECK_U64(v[0], 0);
	b = fixture(HYBRID "cgroup.events", &len);
	CHECK_INT(parse_keyed(b, len, events_keys, 1, v, &have), 1);
	CHECK_U64(v[0], 1);
	CHECK_U64(have, 1);
}

static void test_keyed_order(void)
{
	static const char *const rev[] = {
		"burst_usec", "nr_bursts", "throttled_usec", "nr_throttled",
		"nr_periods", "system_usec", "user_usec", "usage_usec",
	};
	static const char *const some[] = { "throttled_usec", "nope", "usage_usec" };
	uint64_t v[8], have = 0;
	size_t len;
	const char *b = fixture(DOCKER "cpu.stat", &len);

	CHECK_INT(parse_keyed(b, len, rev, 8, v, &have), 8);
	CHECK_U64(v[0], 0);
	CHECK_U64(v[2], 26289940);
	CHECK_U64(v[7], 15972258);
	CHECK_INT(parse_keyed(b, len, some, 3, v, &have), 2);
	CHECK_U64(have, 0x5);
	CHECK_U64(v[0], 26289940);
	CHECK_U64(v[2], 15972258);

	/* the file in an unusual order */
	CHECK_INT(parse_keyed(S("nr_periods 3\nfoo 1\nusage_usec 1\nuser_usec 2\n"),
			      cpu_keys, CG_CPU__COUNT, v, &have), 3);
	CHECK_U64(have, 0xb);	/* usage, user, nr_periods */
	CHECK_U64(v[CG_CPU_NR_PERIODS], 3);
	CHECK_U64(v[CG_CPU_USER_USEC], 2);
}

static void test_keyed_malformed(void)
{
	static const char *const k[] = { "a", "ab", "abc" };
	uint64_t v[3], have = 0;

	/* a key is the whole first token: "a" does not match "ab" */
	CHECK_INT(parse_keyed(S("ab 2\n"), k, 3, v, &have), 1);
	CHECK_U64(have, 2);
	CHECK_U64(v[1], 2);

	v[0] = SENTINEL;
	CHECK_INT(parse_keyed(S("a x\n"), k, 3, v, &have), 0);
	CHECK_INT(parse_keyed(S("a -1\n"), k, 3, v, &have), 0);
	CHECK_INT(parse_keyed(S("a\n"), k, 3, v, &have), 0);
	CHECK_INT(parse_keyed(S("a \n"), k, 3, v, &have), 0);
	CHECK_INT(parse_keyed(S("a 12 kB\n"), k, 3, v, &have), 0);
	CHECK_INT(parse_keyed(S("a 12x\n"), k, 3, v, &have), 0);
	CHECK_INT(parse_keyed(S("a 1.5\n"), k, 3, v, &have), 0);
	CHECK_INT(parse_keyed(S("a N0=1\n"), k, 3, v, &have), 0);
	CHECK_INT(parse_keyed(S("a 18446744073709551616\n"), k, 3, v, &have), 0);
	CHECK_INT(parse_keyed(S(" a 1\n"), k, 3, v, &have), 0);
	CHECK_INT(parse_keyed(S("a\0 1\n"), k, 3, v, &have), 0);
	CHECK_INT(parse_keyed(S("\0\0\0\n\n\n"), k, 3, v, &have), 0);
	CHECK_U64(have, 0);
	CHECK_U64(v[0], SENTINEL);

	/* bad lines do not hide good ones */
	CHECK_INT(parse_keyed(S("a x\n\n\nzz 1\nab 7\ngarbage\nabc 18446744073709551615\n"),
			      k, 3, v, &have), 2);
	CHECK_U64(have, 6);
	CHECK_U64(v[2], UINT64_MAX);

	/* tolerated: extra blanks and CRLF; a repeated key counts once */
	CHECK_INT(parse_keyed(S("a  \t5 \r\nab 6\r\na 9\n"), k, 3, v, &have), 2);
	CHECK_U64(v[0], 9);
	CHECK_U64(have, 3);

	/* empty file, nothing wanted, too many keys */
	have = SENTINEL;
	CHECK_INT(parse_keyed(S(""), k, 3, v, &have), 0);
	CHECK_U64(have, 0);
	CHECK_INT(parse_keyed(S("a 1\n"), k, 0, v, &have), 0);
	have = SENTINEL;
	CHECK_INT(parse_keyed(S("a 1\n"), k, 65, v, &have), -EINVAL);
	CHECK_U64(have, SENTINEL);
}

/* 64 keys is the limit and bit 63 must work. */
static void test_keyed_64(void)
{
	static char names[64][4];
	static const char *keys[64];
	static char file[64 * 8];
	uint64_t v[64], have = 0;
	size_t i, n = 0;

	for (i = 0; i < 64; i++) {
		snprintf(names[i], sizeof(names[i]), "k%zu", i);
		keys[i] = names[i];
		n += (size_t)snprintf(file + n, sizeof(file) - n, "k%zu %zu\n", i, i * 3);
	}
	CHECK_INT(parse_keyed(exact(file, n), n, keys, 64, v, &have), 64);
	CHECK_U64(have, UINT64_MAX);
	CHECK_U64(v[63], 189);
}

/*
 * Cut cpu.stat and memory.stat at every byte: a key is either absent or has
 * its full value, never a prefix of the number ("usage_usec 1597"). The last
 * line without '\n' is dropped even when complete: we cannot tell.
 */
static void test_keyed_truncated(void)
{
	static const struct { const char *path; const char *const *keys; size_t n; } t[] = {
		{ DOCKER "cpu.stat", cpu_keys, CG_CPU__COUNT },
		{ DOCKER "memory.stat", memstat_keys, CG_MS__COUNT },
	};
	size_t f;

	for (f = 0; f < 2; f++) {
		uint64_t full[64], v[64], fhave, have;
		size_t len, cut, i;
		const char *b = fixture(t[f].path, &len);
		char copy[4096];
		int prev = 0, bad = 0;

		if (len > sizeof(copy))
			continue;
		memcpy(copy, b, len);
		CHECK_INT(parse_keyed(b, len, t[f].keys, t[f].n, full, &fhave), (int)t[f].n);
		for (cut = 0; cut <= len; cut++) {
			const char *c = exact(copy, cut);
			int r = parse_keyed(c, cut, t[f].keys, t[f].n, v, &have);
			size_t lines = 0;

			for (i = 0; i < cut; i++)
				lines += copy[i] == '\n';
			if (r != (int)lines || r < prev)
				bad++;
			for (i = 0; i < t[f].n; i++)
				if ((have >> i & 1) && v[i] != full[i])
					bad++;
			prev = r;
		}
		CHECK_INT(bad, 0);
	}
	/* the documented rule, spelled out */
	{
		uint64_t v[8], have;

		CHECK_INT(parse_keyed(S("usage_usec 15972258\nuser_usec 1437"),
				      cpu_keys, 8, v, &have), 1);
		CHECK_U64(have, 1);
		CHECK_INT(parse_keyed(S("usage_usec 15972258"), cpu_keys, 8, v, &have), 0);
	}
}

/* ---- parse_psi ----------------------------------------------------------- */

static void test_psi_fixtures(void)
{
	struct cg_psi p;
	size_t len;
	const char *b;

	b = fixture(DOCKER "cpu.pressure", &len);
	memset(&p, 0, sizeof(p));
	CHECK_INT(parse_psi(b, len, &p), 0);
	CHECK(p.have_some);
	CHECK(p.have_full);
	CHECK_U64(p.some.avg10, 3978);
	CHECK_U64(p.some.avg60, 1889);
	CHECK_U64(p.some.avg300, 483);
	CHECK_U64(p.some.total_usec, 15761908);
	CHECK_U64(p.full.avg10, 3975);
	CHECK_U64(p.full.avg60, 1885);
	CHECK_U64(p.full.avg300, 482);
	CHECK_U64(p.full.total_usec, 15736785);

	b = fixture(CRI "memory.pressure", &len);
	CHECK_INT(parse_psi(b, len, &p), 0);
	CHECK_U64(p.some.avg10, 232);
	CHECK_U64(p.some.avg60, 925);
	CHECK_U64(p.full.avg300, 317);
	CHECK_U64(p.full.total_usec, 10416320);

	b = fixture(PURE "cpu.pressure", &len);
	CHECK_INT(parse_psi(b, len, &p), 0);
	CHECK_U64(p.some.avg10, 5122);
	CHECK_U64(p.some.total_usec, 10374089);
	CHECK(p.have_full);
	CHECK_U64(p.full.total_usec, 0);

	b = fixture(HYBRID "cpu.pressure", &len);
	CHECK_INT(parse_psi(b, len, &p), 0);
	CHECK(p.have_some && p.have_full);
	CHECK_U64(p.some.avg10, 0);
	CHECK_U64(p.some.total_usec, 1375);
	b = fixture(HYBRID "io.pressure", &len);
	CHECK_INT(parse_psi(b, len, &p), 0);
	b = fixture(HYBRID "memory.pressure", &len);
	CHECK_INT(parse_psi(b, len, &p), 0);
}

static void test_psi_edges(void)
{
	struct cg_psi p, keep;

	/* cpu before 5.13 (and /proc/pressure/cpu before 5.13): no "full" */
	memset(&p, 0xa5, sizeof(p));
	CHECK_INT(parse_psi(S("some avg10=1.00 avg60=0.50 avg300=0.01 total=9\n"), &p), 0);
	CHECK(p.have_some);
	CHECK(!p.have_full);
	CHECK_U64(p.some.avg10, 100);
	CHECK_U64(p.some.avg60, 50);
	CHECK_U64(p.some.avg300, 1);
	CHECK_U64(p.full.total_usec, 0);	/* zeroed, not left over */

	CHECK_INT(parse_psi(S("full avg10=100.00 avg60=0.00 avg300=0.00 total=18446744073709551615\n"), &p), 0);
	CHECK(!p.have_some && p.have_full);
	CHECK_U64(p.full.avg10, 10000);
	CHECK_U64(p.full.total_usec, UINT64_MAX);

	/* fields in another order; unknown key=value fields skipped */
	CHECK_INT(parse_psi(S("some total=5 avg300=0.03 new=7 avg60=0.02 avg10=0.01\n"), &p), 0);
	CHECK_U64(p.some.avg10, 1);
	CHECK_U64(p.some.avg300, 3);
	CHECK_U64(p.some.total_usec, 5);

	/* a bad "some" does not hide a good "full" */
	CHECK_INT(parse_psi(S("some avg10=x\nfull avg10=0.10 avg60=0.20 avg300=0.30 total=4\n"), &p), 0);
	CHECK(!p.have_some && p.have_full);
	CHECK_U64(p.full.avg60, 20);

	memset(&keep, 0x3c, sizeof(keep));
	p = keep;
	CHECK_INT(parse_psi(S(""), &p), -EINVAL);
	CHECK_INT(parse_psi(S("\n"), &p), -EINVAL);
	CHECK_INT(parse_psi(S("some\n"), &p), -EINVAL);
	CHECK_INT(parse_psi(S("some avg10=39.7 avg60=0.00 avg300=0.00 total=1\n"), &p), -EINVAL);
	CHECK_INT(parse_psi(S("some avg10=39 avg60=0.00 avg300=0.00 total=1\n"), &p), -EINVAL);
	CHECK_INT(parse_psi(S("some avg10=39.789 avg60=0.00 avg300=0.00 total=1\n"), &p), -EINVAL);
	CHECK_INT(parse_psi(S("some avg10=.78 avg60=0.00 avg300=0.00 total=1\n"), &p), -EINVAL);
	CHECK_INT(parse_psi(S("some avg10=-1.00 avg60=0.00 avg300=0.00 total=1\n"), &p), -EINVAL);
	CHECK_INT(parse_psi(S("some avg10=0.00 avg60=0.00 avg300=0.00\n"), &p), -EINVAL);
	CHECK_INT(parse_psi(S("some avg10=0.00 avg60=0.00 avg300=0.00 total=\n"), &p), -EINVAL);
	CHECK_INT(parse_psi(S("some avg10=0.00 avg60=0.00 avg300=0.00 total=1x\n"), &p), -EINVAL);
	CHECK_INT(parse_psi(S("some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551616\n"), &p), -EINVAL);
	CHECK_INT(parse_psi(S("some avg10=42949673.00 avg60=0.00 avg300=0.00 total=1\n"), &p), -EINVAL);
	CHECK_INT(parse_psi(S("some avg10=0.00 avg60=0.00 avg300=0.00 total=1 junk\n"), &p), -EINVAL);
	CHECK_INT(parse_psi(S("somex avg10=0.00 avg60=0.00 avg300=0.00 total=1\n"), &p), -EINVAL);
	CHECK_INT(parse_psi(S("avg10=0.00 avg60=0.00 avg300=0.00 total=1\n"), &p), -EINVAL);
	/* cut before the '\n': total may be cut too */
	CHECK_INT(parse_psi(S("some avg10=0.00 avg60=0.00 avg300=0.00 total=1375"), &p), -EINVAL);
	CHECK(memcmp(&p, &keep, sizeof(p)) == 0);

	/* largest average that fits: 42949672.95 */
	CHECK_INT(parse_psi(S("some avg10=42949672.95 avg60=0.00 avg300=0.00 total=1\n"), &p), 0);
	CHECK_U64(p.some.avg10, UINT32_MAX);
	CHECK_INT(parse_psi(S("some avg10=42949672.96 avg60=0.00 avg300=0.00 total=1\n"), &p), -EINVAL);
	/* CRLF tolerated */
	CHECK_INT(parse_psi(S("some avg10=1.23 avg60=0.00 avg300=0.00 total=1\r\n"), &p), 0);
	CHECK_U64(p.some.avg10, 123);
}

static void test_psi_truncated(void)
{
	size_t len, cut, nl1 = 0;
	const char *b = fixture(DOCKER "cpu.pressure", &len);
	char copy[256];
	int bad = 0;

	if (len > sizeof(copy))
		return;
	memcpy(copy, b, len);
	while (nl1 < len && copy[nl1] != '\n')
		nl1++;
	for (cut = 0; cut <= len; cut++) {
		struct cg_psi p;
		int r = parse_psi(exact(copy, cut), cut, &p);

		if (cut <= nl1) {
			bad += r != -EINVAL;
		} else {
			bad += r != 0 || !p.have_some || p.some.total_usec != 15761908;
			bad += p.have_full != (cut == len);
		}
	}
	CHECK_INT(bad, 0);
}

/* ---- parse_io_stat ------------------------------------------------------- */

static void test_io_fixtures(void)
{
	struct cg_io_dev d[4];
	size_t len;
	const char *b;

	b = fixture(LIBPOD "io.stat", &len);
	memset(d, 0xa5, sizeof(d));
	CHECK_INT(parse_io_stat(b, len, d, 4), 1);
	CHECK_U64(d[0].major, 254);
	CHECK_U64(d[0].minor, 0);
	CHECK_U64(d[0].have, 0x3f);
	CHECK_U64(d[0].v[CG_IO_RBYTES], 0);
	CHECK_U64(d[0].v[CG_IO_WBYTES], 16777216);	/* the 16 MiB O_DIRECT write */
	CHECK_U64(d[0].v[CG_IO_RIOS], 0);
	CHECK_U64(d[0].v[CG_IO_WIOS], 16);
	CHECK_U64(d[0].v[CG_IO_DBYTES], 0);
	CHECK_U64(d[0].v[CG_IO_DIOS], 0);
	CHECK(d[0].name == NULL);

	b = fixture(PURE "io.stat", &len);
	CHECK_INT(parse_io_stat(b, len, d, 4), 1);
	CHECK_U64(d[0].v[CG_IO_RBYTES], 12288);
	CHECK_U64(d[0].v[CG_IO_RIOS], 3);

	/* an idle cgroup's io.stat is empty: zero devices, not an error */
	b = fixture(DOCKER "io.stat", &len);
	CHECK_INT(len, 0);
	CHECK_INT(parse_io_stat(b, len, d, 4), 0);
	b = fixture(CRI "io.stat", &len);
	CHECK_INT(parse_io_stat(b, len, d, 4), 0);
	CHECK_INT(parse_io_stat(b, len, NULL, 0), 0);
}

static void test_io_edges(void)
{
	struct cg_io_dev d[4];

	/* iocost and iolatency append keys with other value shapes */
	CHECK_INT(parse_io_stat(S("8:16 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6 "
				  "cost.vrate=100.00 cost.usage=12 cost.wait=0 "
				  "cost.indebt=0 cost.indelay=0 depth=max avg_lat=3 win=10\n"
				  "259:0 rbytes=10 wbytes=20 rios=30 wios=40\n"), d, 4), 2);
	CHECK_U64(d[0].major, 8);
	CHECK_U64(d[0].minor, 16);
	CHECK_U64(d[0].have, 0x3f);
	CHECK_U64(d[0].v[CG_IO_DIOS], 6);
	/* a kernel before discard stats: dbytes/dios absent, not 0-with-bit */
	CHECK_U64(d[1].major, 259);
	CHECK_U64(d[1].have, 0xf);
	CHECK_U64(d[1].v[CG_IO_WIOS], 40);
	CHECK_U64(d[1].v[CG_IO_DBYTES], 0);
	CHECK(d[1].name == NULL);

	/* keys in another order; a known key with a bad value is absent */
	CHECK_INT(parse_io_stat(S("1:2 dios=6 rbytes=x wbytes=18446744073709551616 rios=3=3 wios=4\n"),
				d, 4), 1);
	CHECK_U64(d[0].have, (1u << CG_IO_DIOS) | (1u << CG_IO_WIOS));
	CHECK_U64(d[0].v[CG_IO_DIOS], 6);
	CHECK_U64(d[0].v[CG_IO_RBYTES], 0);

	/* a device line with nothing we know still names a device */
	CHECK_INT(parse_io_stat(S("7:0 cost.usage=1\n"), d, 4), 1);
	CHECK_U64(d[0].have, 0);

	/* lines that are not "MAJ:MIN ..." are skipped */
	CHECK_INT(parse_io_stat(S("\n254 rbytes=1\n:0 rbytes=1\n254:x rbytes=1\n"
				  "4294967296:0 rbytes=1\n254:0:1 rbytes=1\n"
				  "rbytes=1\n8:0 rbytes=1\n"), d, 4), 1);
	CHECK_U64(d[0].major, 8);
	CHECK_INT(parse_io_stat(S("4294967295:4294967295 rbytes=1\n"), d, 4), 1);
	CHECK_U64(d[0].minor, UINT32_MAX);

	/* output full */
	CHECK_INT(parse_io_stat(S("8:0 rbytes=1\n8:16 rbytes=2\n"), d, 1), -ENOSPC);
	CHECK_U64(d[0].v[CG_IO_RBYTES], 1);	/* documented: the first cap are valid */
	CHECK_INT(parse_io_stat(S("8:0 rbytes=1\n8:16 rbytes=2\n"), d, 2), 2);
	CHECK_INT(parse_io_stat(S("8:0 rbytes=1\n"), NULL, 0), -ENOSPC);
	/* a skipped line does not use a slot */
	CHECK_INT(parse_io_stat(S("8:0 rbytes=1\nbad\n"), d, 1), 1);

	/* the last line cut before its '\n' is dropped */
	CHECK_INT(parse_io_stat(S("8:0 rbytes=1\n8:16 rbytes=12"), d, 4), 1);
	CHECK_INT(parse_io_stat(S("8:0 rbytes=1 wbytes=2"), d, 4), 0);
	/* CRLF tolerated */
	CHECK_INT(parse_io_stat(S("8:0 rbytes=1 wbytes=2\r\n"), d, 4), 1);
	CHECK_U64(d[0].v[CG_IO_WBYTES], 2);
	CHECK_U64(d[0].have, 3);
}

/* The same MAJ:MIN twice (never from a kernel; a fixture, a bad file
 * system): the first line counts, so JSON and Prometheus see each device
 * once. */
static void test_io_same_device_twice(void)
{
	struct cg_io_dev d[4], many[300];
	char buf[16384];	/* 512 lines of at most 20 bytes */
	size_t len = 0;

	CHECK_INT(parse_io_stat(S("8:0 rbytes=1 wbytes=2\n8:16 rbytes=5\n"
				  "8:0 rbytes=100 wbytes=200 rios=3\n8:16 rbytes=6\n"), d, 4), 2);
	CHECK_U64(d[0].major, 8);
	CHECK_U64(d[0].minor, 0);
	CHECK_U64(d[0].v[CG_IO_RBYTES], 1);
	CHECK_U64(d[0].have, (1u << CG_IO_RBYTES) | (1u << CG_IO_WBYTES));
	CHECK_U64(d[1].minor, 16);
	CHECK_U64(d[1].v[CG_IO_RBYTES], 5);
	/* 0:8 is another device than 8:0 */
	CHECK_INT(parse_io_stat(S("8:0 rbytes=1\n0:8 rbytes=2\n"), d, 4), 2);
	/* A repeat is no new device: it takes no slot and no -ENOSPC. */
	CHECK_INT(parse_io_stat(S("8:0 rbytes=1\n8:0 rbytes=2\n8:0 rbytes=3\n"), d, 1), 1);
	CHECK_U64(d[0].v[CG_IO_RBYTES], 1);
	CHECK_INT(parse_io_stat(S("8:0 rbytes=1\n8:0 rbytes=2\n9:0 rbytes=3\n"), d, 1), -ENOSPC);
	/* Past the filter: 256 devices then each again, all caught. */
	for (int i = 0; i < 512; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%d:%d rbytes=%d\n",
					 i % 256, (i % 256) * 7, i);
	CHECK_INT(parse_io_stat(buf, len, many, 300), 256);
	for (int i = 0; i < 256; i++)
		if (many[i].major != (uint32_t)i || many[i].v[CG_IO_RBYTES] != (uint64_t)i) {
			CHECK_INT(many[i].v[CG_IO_RBYTES], i);
			break;
		}
}

/* ---- parse_count_lines --------------------------------------------------- */

static void test_count_lines(void)
{
	size_t len;
	const char *b;

	CHECK_INT(parse_count_lines(S("")), 0);
	CHECK_INT(parse_count_lines(NULL, 0), 0);
	CHECK_INT(parse_count_lines(S("1\n")), 1);
	CHECK_INT(parse_count_lines(S("1")), 1);
	CHECK_INT(parse_count_lines(S("1\n2")), 2);
	CHECK_INT(parse_count_lines(S("1\n2\n")), 2);
	CHECK_INT(parse_count_lines(S("\n\n")), 2);
	CHECK_INT(parse_count_lines(S("\n")), 1);
	CHECK_INT(parse_count_lines("1\n2\n3\n", 3), 2);	/* never past len */

	b = fixture(PURE "cgroup.procs", &len);
	CHECK_INT(parse_count_lines(b, len), 57);
	b = fixture(DOCKER "cgroup.procs", &len);
	CHECK_INT(parse_count_lines(b, len), 2);
	b = fixture(DOCKER "cgroup.threads", &len);
	CHECK_INT(parse_count_lines(b, len), 2);
	b = fixture(CRI "cgroup.procs", &len);
	CHECK_INT(parse_count_lines(b, len), 0);
	b = fixture(HYBRID "cgroup.procs", &len);
	CHECK_INT(parse_count_lines(b, len), 1);
}

/* ---- parse_meminfo ------------------------------------------------------- */

static const char meminfo_head[] =
	"MemTotal:       24683656 kB\n"
	"MemFree:        22887052 kB\n"
	"MemAvailable:   24297616 kB\n"
	"Buffers:           61076 kB\n"
	"Cached:          1488124 kB\n"
	"SwapCached:            0 kB\n"
	"Active:           302840 kB\n"
	"Inactive:        1245076 kB\n"
	"Active(anon):       1536 kB\n"
	"Inactive(anon):     6132 kB\n"
	"Active(file):     301304 kB\n"
	"Inactive(file):  1238944 kB\n"
	"Unevictable:       11580 kB\n"
	"Mlocked:           10040 kB\n"
	"SwapTotal:       8388604 kB\n"
	"SwapFree:        8388092 kB\n"
	"Zswap:                 0 kB\n"
	"HugePages_Total:       0\n"
	"Hugepagesize:       2048 kB\n";

static void test_meminfo(void)
{
	struct meminfo m, keep;

	memset(&m, 0xa5, sizeof(m));
	CHECK_INT(parse_meminfo(exact(meminfo_head, sizeof(meminfo_head) - 1),
				sizeof(meminfo_head) - 1, &m), 0);
	CHECK_U64(m.mem_total, 24683656ull * 1024);
	CHECK_U64(m.mem_available, 24297616ull * 1024);
	CHECK_U64(m.swap_total, 8388604ull * 1024);
	CHECK_U64(m.swap_free, 8388092ull * 1024);

	/* only MemTotal is required (MemAvailable is 3.14+); others become 0 */
	memset(&m, 0xa5, sizeof(m));
	CHECK_INT(parse_meminfo(S("MemTotal: 1 kB\nMemFree: 1 kB\n"), &m), 0);
	CHECK_U64(m.mem_total, 1024);
	CHECK_U64(m.mem_available, 0);
	CHECK_U64(m.swap_free, 0);

	/* order does not matter; lookalike keys do not match */
	CHECK_INT(parse_meminfo(S("SwapFree: 3 kB\nMemTotalX: 9 kB\nMemTotal:\t2 kB\n"), &m), 0);
	CHECK_U64(m.mem_total, 2048);
	CHECK_U64(m.swap_free, 3072);

	memset(&keep, 0x3c, sizeof(keep));
	m = keep;
	CHECK_INT(parse_meminfo(S(""), &m), -EINVAL);
	CHECK_INT(parse_meminfo(S("MemFree: 1 kB\n"), &m), -EINVAL);
	CHECK_INT(parse_meminfo(S("MemTotal: 1\n"), &m), -EINVAL);		/* no unit */
	CHECK_INT(parse_meminfo(S("MemTotal: 1 MB\n"), &m), -EINVAL);
	CHECK_INT(parse_meminfo(S("MemTotal: x kB\n"), &m), -EINVAL);
	CHECK_INT(parse_meminfo(S("MemTotal 1 kB\n"), &m), -EINVAL);
	CHECK_INT(parse_meminfo(S("MemTotal: 1 kB"), &m), -EINVAL);	/* cut */
	/* kB * 1024 must fit */
	CHECK_INT(parse_meminfo(S("MemTotal: 18014398509481984 kB\n"), &m), -EINVAL);
	CHECK(memcmp(&m, &keep, sizeof(m)) == 0);
	CHECK_INT(parse_meminfo(S("MemTotal: 18014398509481983 kB\n"), &m), 0);
	CHECK_U64(m.mem_total, 18014398509481983ull * 1024);
}

/* The live host's /proc/meminfo, as a format check against this kernel. */
static void test_meminfo_live(void)
{
	static char buf[16384];
	struct meminfo m;
	FILE *f = fopen("/proc/meminfo", "rb");
	size_t n;

	if (!f)
		TEST_SKIP("no /proc/meminfo");
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	CHECK_INT(parse_meminfo(exact(buf, n), n, &m), 0);
	CHECK(m.mem_total > 0);
	CHECK(m.mem_available <= m.mem_total);
	CHECK(m.swap_free <= m.swap_total);
}

/* ---- parse_mountinfo_cgroup2 --------------------------------------------- */

static void test_mountinfo_fixtures(void)
{
	char out[64];
	size_t len;
	const char *b;

	b = fixture("tests/fixtures/mountinfo.hybrid", &len);
	CHECK_INT(parse_mountinfo_cgroup2(b, len, out, sizeof(out)), 0);
	CHECK_STR(out, "/sys/fs/cgroup/unified");

	b = fixture("tests/fixtures/mountinfo.pure-v2", &len);
	CHECK_INT(parse_mountinfo_cgroup2(b, len, out, sizeof(out)), 0);
	CHECK_STR(out, "/sys/fs/cgroup");
	/* exactly enough room (string + NUL), then one byte short */
	CHECK_INT(parse_mountinfo_cgroup2(b, len, out, 15), 0);
	CHECK_STR(out, "/sys/fs/cgroup");
	memcpy(out, "unchanged", 10);
	CHECK_INT(parse_mountinfo_cgroup2(b, len, out, 14), -ENAMETOOLONG);
	CHECK_INT(parse_mountinfo_cgroup2(b, len, NULL, 0), -ENAMETOOLONG);
	CHECK_STR(out, "unchanged");
}

static void test_mountinfo_edges(void)
{
	char out[64];

	/* escapes: space, tab, newline, backslash */
	CHECK_INT(parse_mountinfo_cgroup2(S("40 1 0:38 / /mnt/my\\040cg\\011x\\012y\\134z rw - cgroup2 none rw\n"),
					  out, sizeof(out)), 0);
	CHECK_STR(out, "/mnt/my cg\tx\ny\\z");
	/* not an escape: stays literal ("\000" would end the C string) */
	CHECK_INT(parse_mountinfo_cgroup2(S("40 1 0:38 / /a\\000\\9\\47b\\ rw - cgroup2 none rw\n"),
					  out, sizeof(out)), 0);
	CHECK_STR(out, "/a\\000\\9\\47b\\");
	/* a raw NUL would silently shorten the path: skip that line */
	CHECK_INT(parse_mountinfo_cgroup2(S("1 0 0:1 / /a\0b rw - cgroup2 x rw\n"
					    "2 0 0:1 / /c rw - cgroup2 x rw\n"), out, sizeof(out)), 0);
	CHECK_STR(out, "/c");
	/* "\040" takes 4 bytes in the file but 1 in out */
	CHECK_INT(parse_mountinfo_cgroup2(S("40 1 0:38 / /a\\040b rw - cgroup2 none rw\n"),
					  out, 5), 0);
	CHECK_STR(out, "/a b");

	/* optional fields before the separator */
	CHECK_INT(parse_mountinfo_cgroup2(S("25 1 0:22 / / rw shared:1 - ext4 /dev/vda rw\n"
					    "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime "
					    "shared:5 master:1 propagate_from:2 - cgroup2 cgroup2 rw,nsdelegate\n"),
					  out, sizeof(out)), 0);
	CHECK_STR(out, "/sys/fs/cgroup");

	/* the first cgroup2 wins (a container's view may show several) */
	CHECK_INT(parse_mountinfo_cgroup2(S("1 0 0:1 / /first rw - cgroup2 cgroup2 rw\n"
					    "2 0 0:2 / /second rw - cgroup2 cgroup2 rw\n"),
					  out, sizeof(out)), 0);
	CHECK_STR(out, "/first");

	/* a "-" or "cgroup2" elsewhere in the line is not the separator/fstype */
	CHECK_INT(parse_mountinfo_cgroup2(S("1 0 0:1 / - rw - tmpfs cgroup2 rw\n"
					    "2 0 0:2 cgroup2 /x rw - cgroup cgroup2 rw,cpu\n"
					    "3 0 0:3 / /ok rw - cgroup2 x rw\n"),
					  out, sizeof(out)), 0);
	CHECK_STR(out, "/ok");
	CHECK_INT(parse_mountinfo_cgroup2(S("1 0 0:1 / /x - cgroup2 cgroup2 rw\n"), out, 64), -ENOENT);

	/* no trailing '\n' is fine once the fstype is whole */
	CHECK_INT(parse_mountinfo_cgroup2(S("1 0 0:1 / /nl rw - cgroup2 cgroup2 rw"), out, 64), 0);
	CHECK_STR(out, "/nl");

	memcpy(out, "unchanged", 10);
	CHECK_INT(parse_mountinfo_cgroup2(S(""), out, 64), -ENOENT);
	CHECK_INT(parse_mountinfo_cgroup2(S("\n\n"), out, 64), -ENOENT);
	CHECK_INT(parse_mountinfo_cgroup2(S("32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"),
					  out, 64), -ENOENT);
	CHECK_INT(parse_mountinfo_cgroup2(S("33 32 0:22 / /sys/fs/cgroup rw - cgroup2fs x rw\n"),
					  out, 64), -ENOENT);
	/* cut inside the fstype: "cgroup2" might have gone on */
	CHECK_INT(parse_mountinfo_cgroup2(S("33 32 0:22 / /sys/fs/cgroup rw - cgroup2"), out, 64), -ENOENT);
	CHECK_INT(parse_mountinfo_cgroup2(S("33 32 0:22 / /sys/fs/cgroup rw - "), out, 64), -ENOENT);
	CHECK_STR(out, "unchanged");
	/* too long for out, \040 counted decoded */
	CHECK_INT(parse_mountinfo_cgroup2(S("40 1 0:38 / /a\\040b rw - cgroup2 none rw\n"),
					  out, 4), -ENAMETOOLONG);
	CHECK_STR(out, "unchanged");
}

int main(void)
{
	RUN(test_u64_fixtures);
	RUN(test_u64_edges);
	RUN(test_cpu_max_fixtures);
	RUN(test_cpu_max_edges);
	RUN(test_keyed_cpu_stat_docker);
	RUN(test_keyed_cpu_stat_hybrid);
	RUN(test_keyed_memory_stat);
	RUN(test_keyed_events);
	RUN(test_keyed_order);
	RUN(test_keyed_malformed);
	RUN(test_keyed_64);
	RUN(test_keyed_truncated);
	RUN(test_psi_fixtures);
	RUN(test_psi_edges);
	RUN(test_psi_truncated);
	RUN(test_io_fixtures);
	RUN(test_io_edges);
	RUN(test_io_same_device_twice);
	RUN(test_count_lines);
	RUN(test_meminfo);
	RUN(test_meminfo_live);
	RUN(test_mountinfo_fixtures);
	RUN(test_mountinfo_edges);
	for (ring_pos = 0; ring_pos < 8; ring_pos++)
		free(ring[ring_pos]);
	TEST_EXIT();
}
