/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libFuzzer target for every parser in src/parse.h. Each input goes through
 * all of them, with small and large output capacities, and the results are
 * checked against invariants the contract promises (outputs untouched on
 * failure, counts consistent across capacities, a cut last line ignored),
 * so the fuzzer finds wrong answers as well as memory errors.
 *
 * libFuzzer hands us a heap buffer of exactly size bytes and no NUL, which is
 * what the parsers must cope with: ASan reports any read past the end.
 * Build and run: see tests/fuzz/README.md.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define SENT 0x5a5a5a5a5a5a5a5aull

/* Abort with a line number the crash report shows. */
#define ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

#define cpu_keys cg_cpu_keys

static const char *const cpu_keys_rev[] = {
	"burst_usec", "nr_bursts", "throttled_usec", "nr_throttled",
	"nr_periods", "system_usec", "user_usec", "usage_usec",
};

/* The collector's memory.stat keys padded past the 64-key limit, so the
 * fuzzer also drives the -EINVAL path. Filled on first use. */
static const char *memstat_keys[CG_MS__COUNT + 14];

static void memstat_keys_init(void)
{
	static const char *const pad[14] = {
		"k51", "k52", "k53", "k54", "k55", "k56", "k57", "k58", "k59", "k60",
		"k61", "k62", "k63", "k64",
	};

	if (memstat_keys[0])
		return;
	memcpy(memstat_keys, cg_memstat_keys, sizeof(cg_memstat_keys));
	memcpy(memstat_keys + CG_MS__COUNT, pad, sizeof(pad));
}

static const char *const misc_keys[] = {
	"low", "high", "max", "oom", "oom_kill", "oom_group_kill",
	"populated", "frozen", "a", "", "nr_descendants",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The length up to and including the last '\n' (0 if none). */
static size_t complete_len(const char *buf, size_t size)
{
	while (size && buf[size - 1] != '\n')
		size--;
	return size;
}

static void check_keyed(const char *buf, size_t size, const char *const *keys,
			size_t nkeys)
{
	uint64_t v[64], v2[64], have = SENT, have2 = SENT;
	size_t i, clen = complete_len(buf, size);
	int r, r2;

	for (i = 0; i < 64; i++)
		v[i] = v2[i] = SENT;
	r = parse_keyed(buf, size, keys, nkeys, v, &have);
	if (nkeys > 64) {
		ASSERT(r == -EINVAL && have == SENT && v[0] == SENT);
		return;
	}
	ASSERT(r >= 0 && (size_t)r <= nkeys);
	ASSERT(r == __builtin_popcountll(have));
	for (i = nkeys; i < 64; i++)
		ASSERT(v[i] == SENT && !(have >> i & 1));

	/* The unterminated tail never counts. */
	r2 = parse_keyed(buf, clen, keys, nkeys, v2, &have2);
	ASSERT(r2 == r && have2 == have);
	for (i = 0; i < nkeys; i++)
		ASSERT(!(have >> i & 1) || v[i] == v2[i]);
}

/* Same answers whatever the order of keys[] (no duplicate keys here). */
static void check_keyed_order(const char *buf, size_t size)
{
	uint64_t a[8], b[8], ha, hb;
	size_t i;

	ASSERT(parse_keyed(buf, size, cpu_keys, 8, a, &ha) ==
	       parse_keyed(buf, size, cpu_keys_rev, 8, b, &hb));
	for (i = 0; i < 8; i++) {
		ASSERT((ha >> i & 1) == (hb >> (7 - i) & 1));
		ASSERT(!(ha >> i & 1) || a[i] == b[7 - i]);
	}
}

/* Keys taken from the input's own first tokens, so matching sees odd bytes. */
static void check_keyed_dynamic(const char *buf, size_t size)
{
	char store[256];
	const char *keys[8];
	size_t nkeys = 0, used = 0, i = 0;

	while (i < size && nkeys < 8) {
		size_t s = i;

		while (i < size && buf[i] != ' ' && buf[i] != '\t' &&
		       buf[i] != '\r' && buf[i] != '\n')
			i++;
		if (i - s + 1 > sizeof(store) - used)
			break;
		memcpy(store + used, buf + s, i - s);
		store[used + (i - s)] = '\0';
		keys[nkeys++] = store + used;
		used += i - s + 1;
		while (i < size && buf[i] != '\n')
			i++;
		i++;
	}
	check_keyed(buf, size, keys, nkeys);
}

static void check_u64(const char *buf, size_t size)
{
	uint64_t v = SENT, q = SENT, p = SENT;
	int r;

	r = parse_u64_or_max(buf, size, &v);
	ASSERT(r == 0 || r == -EINVAL || r == -ERANGE);
	if (r)
		ASSERT(v == SENT);

	r = parse_cpu_max(buf, size, &q, &p);
	ASSERT(r == 0 || r == -EINVAL || r == -ERANGE);
	if (r)
		ASSERT(q == SENT && p == SENT);
	else
		ASSERT(p != 0);
}

static void check_psi(const char *buf, size_t size)
{
	struct cg_psi p, keep;
	int r;

	memset(&keep, 0xa5, sizeof(keep));
	p = keep;
	r = parse_psi(buf, size, &p);
	if (r) {
		ASSERT(r == -EINVAL);
		ASSERT(memcmp(&p, &keep, sizeof(p)) == 0);
	} else {
		ASSERT(p.have_some || p.have_full);
		if (!p.have_some)
			ASSERT(p.some.total_usec == 0 && p.some.avg10 == 0);
		if (!p.have_full)
			ASSERT(p.full.total_usec == 0 && p.full.avg10 == 0);
	}
}

static void check_io(const char *buf, size_t size)
{
	static struct cg_io_dev big[256], small[2];
	int n, m, k;
	size_t i;

	n = parse_io_stat(buf, size, big, N(big));
	ASSERT(n == -ENOSPC || (n >= 0 && (size_t)n <= N(big)));
	for (i = 0; n > 0 && i < (size_t)n; i++) {
		ASSERT(big[i].have < (1u << CG_IO__COUNT) && big[i].name == NULL);
		for (k = 0; k < CG_IO__COUNT; k++)
			ASSERT((big[i].have >> k & 1) || big[i].v[k] == 0);
		/* Each device once (the first line naming it wins). */
		for (size_t j = 0; j < i; j++)
			ASSERT(big[j].major != big[i].major || big[j].minor != big[i].minor);
	}

	m = parse_io_stat(buf, size, small, N(small));
	if (n >= 0 && (size_t)n <= N(small))
		ASSERT(m == n);
	else
		ASSERT(m == -ENOSPC);
	for (i = 0; m == -ENOSPC && n > 0 && i < N(small); i++) {
		ASSERT(small[i].major == big[i].major && small[i].minor == big[i].minor);
		ASSERT(small[i].have == big[i].have);
		ASSERT(memcmp(small[i].v, big[i].v, sizeof(big[i].v)) == 0);
	}

	m = parse_io_stat(buf, size, NULL, 0);
	ASSERT(m == (n == 0 ? 0 : -ENOSPC));
}

static void check_count_lines(const char *buf, size_t size)
{
	int64_t n = 0;
	size_t i;

	for (i = 0; i < size; i++)
		n += buf[i] == '\n';
	if (size && buf[size - 1] != '\n')
		n++;
	ASSERT(parse_count_lines(buf, size) == n);
}

static void check_meminfo(const char *buf, size_t size)
{
	struct meminfo m, keep;
	int r;

	memset(&keep, 0xa5, sizeof(keep));
	m = keep;
	r = parse_meminfo(buf, size, &m);
	ASSERT(r == 0 || r == -EINVAL);
	if (r)
		ASSERT(memcmp(&m, &keep, sizeof(m)) == 0);
	else
		ASSERT(m.mem_total % 1024 == 0 && m.swap_free % 1024 == 0);
}

static void check_mountinfo(const char *buf, size_t size)
{
	static char big[4096];
	char small[16];
	size_t len, cap;
	int r, r2;

	memset(big, 'Z', sizeof(big));
	r = parse_mountinfo_cgroup2(buf, size, big, sizeof(big));
	ASSERT(r == 0 || r == -ENOENT || r == -ENAMETOOLONG);
	if (r) {
		ASSERT(big[0] == 'Z');
		/* only a longer buffer can help, never a shorter one */
		ASSERT(parse_mountinfo_cgroup2(buf, size, small, sizeof(small)) == r);
		return;
	}
	len = strnlen(big, sizeof(big));
	ASSERT(len < sizeof(big) && len > 0);

	for (cap = 0; cap <= sizeof(small); cap += 5) {
		memset(small, 'Z', sizeof(small));
		r2 = parse_mountinfo_cgroup2(buf, size, cap ? small : NULL, cap);
		if (len < cap) {
			ASSERT(r2 == 0 && strcmp(small, big) == 0);
		} else {
			ASSERT(r2 == -ENAMETOOLONG);
			ASSERT(!cap || small[0] == 'Z');
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;

	memstat_keys_init();
	check_u64(buf, size);
	check_keyed(buf, size, cpu_keys, N(cpu_keys));
	check_keyed(buf, size, memstat_keys, 64);
	check_keyed(buf, size, memstat_keys, N(memstat_keys));	/* 65: -EINVAL */
	check_keyed(buf, size, misc_keys, N(misc_keys));
	check_keyed(buf, size, misc_keys, 0);
	check_keyed_order(buf, size);
	check_keyed_dynamic(buf, size);
	check_psi(buf, size);
	check_io(buf, size);
	check_count_lines(buf, size);
	check_meminfo(buf, size);
	check_mountinfo(buf, size);
	return 0;
}
