/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pure parsers for cgroupfs and procfs text (contract in parse.h).
 *
 * These run for every cgroup on every tick, so they walk the buffer once
 * with a hand-written digit loop (strtoull() needs a NUL terminator we do
 * not have, and is slower) and never allocate.
 *
 * Rules shared by the line-oriented parsers (keyed, PSI, io.stat, meminfo):
 * a last line without '\n' is ignored. The kernel ends every line with '\n',
 * so a missing one means the reader's buffer was too small and the line was
 * cut; its number may be cut too ("usage_usec 1597" of 15972258), and a
 * silently wrong counter is worse than an absent one. Single-value files
 * (parse_u64_or_max, parse_cpu_max) accept a missing '\n': the caller knows
 * whether its read filled the buffer.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "parse.h"

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Blanks inside a line. '\r' counts so a CRLF file does not make every
 * value look like garbage. */
static inline bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static inline bool is_space(char c)
{
	return is_blank(c) || c == '\n' || c == '\v' || c == '\f';
}

/*
 * Decimal digits at *pp (not past end) into *out. Consumes every digit even
 * after an overflow, so the caller's position stays on a token boundary.
 * Returns 0, -EINVAL if there is no digit, -ERANGE past UINT64_MAX.
 */
static inline int take_u64(const char **pp, const char *end, uint64_t *out)
{
	const char *s = *pp, *p = s;
	uint64_t v = 0;

	while (p < end && is_digit(*p))
		p++;
	if (p == s)
		return -EINVAL;
	*pp = p;
	/* 19 digits always fit; only longer numbers pay for the check. */
	if (p - s <= 19) {
		for (; s < p; s++)
			v = v * 10 + (uint64_t)(*s - '0');
	} else {
		for (; s < p; s++)
			if (__builtin_mul_overflow(v, 10, &v) ||
			    __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
				return -ERANGE;
	}
	*out = v;
	return 0;
}

static inline const char *skip_blanks(const char *p, const char *end)
{
	while (p < end && is_blank(*p))
		p++;
	return p;
}

static inline const char *skip_space(const char *p, const char *end)
{
	while (p < end && is_space(*p))
		p++;
	return p;
}

/* Does [s, s+n) equal the C string key? Never reads key past its NUL, and
 * a NUL inside s cannot fake a match. */
static inline bool tok_eq(const char *s, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (key[i] == '\0' || key[i] != s[i])
			return false;
	return key[n] == '\0';
}

/* "max" or a number; the common core of parse_u64_or_max and cpu.max. */
static int take_u64_or_max(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp;

	if (end - p >= 3 && p[0] == 'm' && p[1] == 'a' && p[2] == 'x') {
		*pp = p + 3;
		*out = CG_UNLIMITED;
		return 0;
	}
	return take_u64(pp, end, out);
}

int parse_u64_or_max(const char *buf, size_t len, uint64_t *out)
{
	const char *p, *end;
	uint64_t v;
	int err;

	if (!buf || !out)
		return -EINVAL;
	end = buf + len;
	p = skip_space(buf, end);
	err = take_u64_or_max(&p, end, &v);
	if (err)
		return err;
	if (skip_space(p, end) != end)
		return -EINVAL;		/* "12x", "maxx", "1 2" */
	*out = v;
	return 0;
}

int parse_cpu_max(const char *buf, size_t len, uint64_t *quota, uint64_t *period)
{
	const char *p, *end, *q;
	uint64_t qv, pv;
	int err;

	if (!buf || !quota || !period)
		return -EINVAL;
	end = buf + len;
	p = skip_space(buf, end);
	err = take_u64_or_max(&p, end, &qv);
	if (err)
		return err;
	q = skip_blanks(p, end);
	if (q == p)
		return -EINVAL;		/* a period is required */
	p = q;
	err = take_u64(&p, end, &pv);
	if (err)
		return err;
	if (skip_space(p, end) != end)
		return -EINVAL;
	/* The kernel refuses periods under 1 ms; a 0 here would only reach
	 * someone's division. */
	if (pv == 0)
		return -EINVAL;
	*quota = qv;
	*period = pv;
	return 0;
}

/*
 * Next complete line of [*pp, end): sets [*ls, *le) without the '\n' and
 * moves *pp past it. False at the end or when only an unterminated tail is
 * left (see the comment at the top).
 */
static inline bool next_line(const char **pp, const char *end,
			     const char **ls, const char **le)
{
	const char *p = *pp, *nl;

	if (p >= end)
		return false;
	nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl)
		return false;
	*ls = p;
	*le = nl;
	*pp = nl + 1;
	return true;
}

/* A token of a line: up to the next blank. */
static inline const char *tok_end(const char *p, const char *end)
{
	while (p < end && !is_blank(*p))
		p++;
	return p;
}

/* Past the '\n' that ends the line p is in; end if there is none. */
static inline const char *skip_line(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl + 1 : end;
}

/* Does the line at p start with key followed by a blank? Returns the end of
 * the key or NULL. One pass over the bytes: the fast path of parse_keyed. */
static inline const char *key_at(const char *p, const char *end, const char *key)
{
	while (*key && p < end && *p == *key) {
		p++;
		key++;
	}
	return *key == '\0' && p < end && is_blank(*p) ? p : NULL;
}

/*
 * One pass, no memchr() on lines that parse: this runs on memory.stat (50-70
 * lines) for every cgroup on every tick. No step below crosses a '\n' except
 * skip_line(), so each iteration stays within one line.
 */
int parse_keyed(const char *buf, size_t len, const char *const *keys, size_t nkeys,
		uint64_t *vals, uint64_t *have)
{
	const char *p, *end;
	uint64_t found = 0;
	size_t next = 0;	/* keys[] index we expect on the next line */
	int n = 0;

	if (nkeys > 64 || (len && !buf) || !have || (nkeys && (!keys || !vals)))
		return -EINVAL;
	p = buf ? buf : "";	/* NULL + 0 is undefined */
	end = p + len;

	while (p < end) {
		const char *ke = NULL, *v;
		size_t i = next;
		uint64_t val;

		/* Kernel order: the key after the last match is the likely
		 * one. Otherwise scan; a first-byte test rejects most keys. */
		if (next < nkeys)
			ke = key_at(p, end, keys[next]);
		if (!ke) {
			size_t klen;

			for (ke = p; ke < end && !is_blank(*ke) && *ke != '\n'; ke++)
				;
			klen = (size_t)(ke - p);
			if (klen == 0 || ke == end || *ke == '\n') {
				p = skip_line(ke, end);	/* "key\n": no value */
				continue;
			}
			for (i = 0; i < nkeys; i++)
				if (keys[i][0] == *p && tok_eq(p, klen, keys[i]))
					break;
			if (i == nkeys) {
				p = skip_line(ke, end);	/* a key we do not keep */
				continue;
			}
		}
		v = skip_blanks(ke, end);
		if (take_u64(&v, end, &val)) {
			p = skip_line(v, end);		/* "-1", "N0=12", overflow */
			continue;
		}
		v = skip_blanks(v, end);
		if (v == end)
			break;				/* cut: see the top */
		if (*v != '\n') {
			p = skip_line(v, end);		/* "12 kB", "12x" */
			continue;
		}
		p = v + 1;
		vals[i] = val;
		if (!(found & (1ull << i)))
			n++;
		found |= 1ull << i;
		next = i + 1;
	}
	*have = found;
	return n;
}

/* "39.78" -> 3978. Exactly two decimals, as the kernel prints them. */
static int take_centi(const char **pp, const char *end, uint32_t *out)
{
	const char *p = *pp;
	uint64_t ip;
	int err;

	err = take_u64(&p, end, &ip);
	if (err)
		return err;
	if (end - p < 3 || p[0] != '.' || !is_digit(p[1]) || !is_digit(p[2]))
		return -EINVAL;
	if (ip > UINT32_MAX / 100)
		return -ERANGE;
	ip = ip * 100 + (uint64_t)(p[1] - '0') * 10 + (uint64_t)(p[2] - '0');
	if (ip > UINT32_MAX)
		return -ERANGE;
	*out = (uint32_t)ip;
	*pp = p + 3;
	return 0;
}

/*
 * The next blank-separated "key=value" token of [*p, le): key/klen name it
 * and [*v, *ve) is the value, or *v is NULL for a token without '='.
 * False at the end of the line. (PSI and io.stat lines are made of these.)
 */
static bool next_kv(const char **p, const char *le, const char **key, size_t *klen,
		    const char **v, const char **ve)
{
	const char *ts = skip_blanks(*p, le), *te, *eq;

	if (ts == le)
		return false;
	te = tok_end(ts, le);
	*p = te;
	eq = memchr(ts, '=', (size_t)(te - ts));
	*key = ts;
	*klen = eq ? (size_t)(eq - ts) : (size_t)(te - ts);
	*v = eq ? eq + 1 : NULL;
	*ve = te;
	return true;
}

/* "avg10=.. avg60=.. avg300=.. total=.." after "some"/"full". Fields in
 * any order; all four are required, unknown ones are skipped. */
static bool parse_psi_fields(const char *p, const char *le, struct cg_psi_line *out)
{
	struct cg_psi_line l = { 0 };
	const char *key, *v, *te;
	unsigned got = 0;
	size_t klen;

	while (next_kv(&p, le, &key, &klen, &v, &te)) {
		int err;

		if (!v)
			return false;
		if (tok_eq(key, klen, "avg10")) {
			err = take_centi(&v, te, &l.avg10);
			got |= 1;
		} else if (tok_eq(key, klen, "avg60")) {
			err = take_centi(&v, te, &l.avg60);
			got |= 2;
		} else if (tok_eq(key, klen, "avg300")) {
			err = take_centi(&v, te, &l.avg300);
			got |= 4;
		} else if (tok_eq(key, klen, "total")) {
			err = take_u64(&v, te, &l.total_usec);
			got |= 8;
		} else {
			continue;
		}
		if (err || v != te)
			return false;
	}
	if (got != 15)
		return false;
	*out = l;
	return true;
}

int parse_psi(const char *buf, size_t len, struct cg_psi *out)
{
	const char *p, *end, *ls, *le;
	struct cg_psi r = { 0 };

	if ((len && !buf) || !out)
		return -EINVAL;
	p = buf ? buf : "";	/* NULL + 0 is undefined */
	end = p + len;
	while (next_line(&p, end, &ls, &le)) {
		const char *ke = tok_end(ls, le);
		size_t klen = (size_t)(ke - ls);
		struct cg_psi_line l;

		if (tok_eq(ls, klen, "some")) {
			if (parse_psi_fields(ke, le, &l)) {
				r.some = l;
				r.have_some = true;
			}
		} else if (tok_eq(ls, klen, "full")) {
			if (parse_psi_fields(ke, le, &l)) {
				r.full = l;
				r.have_full = true;
			}
		}
	}
	if (!r.have_some && !r.have_full)
		return -EINVAL;
	*out = r;
	return 0;
}

/* "MAJ:MIN" -> major, minor; false unless the whole token is that. */
static bool take_devnum(const char *p, const char *te, uint32_t *maj, uint32_t *min)
{
	uint64_t a, b;

	if (take_u64(&p, te, &a) || a > UINT32_MAX)
		return false;
	if (p >= te || *p != ':')
		return false;
	p++;
	if (take_u64(&p, te, &b) || b > UINT32_MAX)
		return false;
	if (p != te)
		return false;
	*maj = (uint32_t)a;
	*min = (uint32_t)b;
	return true;
}

/* One device line. Unknown keys are skipped whatever their value (iocost and
 * iolatency add "cost.usage=", "depth=max", "avg_lat=" ...); a known key
 * whose value does not parse is left absent. */
static bool parse_io_line(const char *ls, const char *le, struct cg_io_dev *d)
{
	const char *te = tok_end(ls, le), *p = te, *key, *v, *ve;
	unsigned next = 0;	/* kernel order is the enum order */
	size_t klen;

	memset(d, 0, sizeof(*d));
	if (!take_devnum(ls, te, &d->major, &d->minor))
		return false;
	while (next_kv(&p, le, &key, &klen, &v, &ve)) {
		unsigned k, want = 0;

		if (!v)
			continue;
		for (k = 0; k < CG_IO__COUNT; k++) {
			want = (next + k) % CG_IO__COUNT;
			if (tok_eq(key, klen, cg_io_keys[want]))
				break;
		}
		if (k == CG_IO__COUNT)
			continue;
		next = want + 1;
		if (take_u64(&v, ve, &d->v[want]) || v != ve) {
			d->v[want] = 0;
			d->have &= ~(1u << want);
			continue;
		}
		d->have |= 1u << want;
	}
	return true;
}

/* Is MAJ:MIN of d already in devs[0..n)? */
static bool io_seen(const struct cg_io_dev *devs, size_t n, const struct cg_io_dev *d)
{
	for (size_t i = 0; i < n; i++)
		if (devs[i].major == d->major && devs[i].minor == d->minor)
			return true;
	return false;
}

/*
 * On -ENOSPC the first cap entries of devs[] are filled (and valid): the
 * caller may use them or grow and retry. Counting first to keep devs[]
 * untouched would cost a second pass on every tick.
 *
 * The kernel prints each device once. A file that names one twice (a
 * fixture, a bad file system) keeps the first: two entries would be a
 * duplicate JSON key and a duplicate Prometheus series, and a sum of two
 * lines that may be one device's old and new figures means nothing. A
 * 256-bit filter on MAJ:MIN spares the scan for all but the rare repeat.
 */
int parse_io_stat(const char *buf, size_t len, struct cg_io_dev *devs, size_t cap)
{
	const char *p, *end, *ls, *le;
	uint64_t seen[4] = { 0 };
	size_t n = 0;

	if ((len && !buf) || (cap && !devs))
		return -EINVAL;
	p = buf ? buf : "";	/* NULL + 0 is undefined */
	end = p + len;
	if (cap > INT32_MAX)
		cap = INT32_MAX;	/* the count must fit the return value */
	while (next_line(&p, end, &ls, &le)) {
		struct cg_io_dev d;

		if (!parse_io_line(ls, le, &d))
			continue;
		uint32_t h = (d.major * 0x9E3779B1u ^ d.minor * 0x85EBCA77u) >> 24;

		if ((seen[h >> 6] >> (h & 63) & 1) && io_seen(devs, n, &d))
			continue;
		seen[h >> 6] |= 1ull << (h & 63);
		if (n == cap)
			return -ENOSPC;
		devs[n++] = d;
	}
	return (int)n;
}

int64_t parse_count_lines(const char *buf, size_t len)
{
	const char *p, *end, *nl;
	int64_t n = 0;

	if (!buf || !len)
		return 0;
	p = buf;
	end = buf + len;
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		n++;
		p = nl + 1;
	}
	if (end[-1] != '\n')
		n++;
	return n;
}

int parse_meminfo(const char *buf, size_t len, struct meminfo *out)
{
	static const char *const keys[] = {
		"MemTotal:", "MemAvailable:", "SwapTotal:", "SwapFree:",
	};
	const char *p, *end, *ls, *le;
	uint64_t vals[4] = { 0 };
	unsigned found = 0, next = 0;

	if ((len && !buf) || !out)
		return -EINVAL;
	p = buf ? buf : "";	/* NULL + 0 is undefined */
	end = p + len;
	/* Our four keys come early and in this order (MemTotal is line 1,
	 * SwapFree about 16 of 50): stop as soon as we have them. */
	while (found != 15 && next_line(&p, end, &ls, &le)) {
		const char *ke = tok_end(ls, le), *v;
		size_t klen = (size_t)(ke - ls);
		uint64_t kb;
		unsigned i;

		if (klen == 0 || ke[-1] != ':')
			continue;
		for (i = 0; i < 4; i++)
			if (tok_eq(ls, klen, keys[(next + i) % 4]))
				break;
		if (i == 4)
			continue;
		i = (next + i) % 4;
		v = skip_blanks(ke, le);
		if (take_u64(&v, le, &kb))
			continue;
		/* Each of ours is in kB; without the unit it is not ours. */
		v = skip_blanks(v, le);
		if (le - v < 2 || v[0] != 'k' || v[1] != 'B' ||
		    skip_blanks(v + 2, le) != le)
			continue;
		if (kb > UINT64_MAX / 1024)
			continue;
		vals[i] = kb * 1024;
		found |= 1u << i;
		next = (i + 1) % 4;
	}
	if (!(found & 1))
		return -EINVAL;
	out->mem_total = vals[0];
	out->mem_available = vals[1];
	out->swap_total = vals[2];
	out->swap_free = vals[3];
	return 0;
}

static inline bool is_odigit(char c)
{
	return c >= '0' && c <= '7';
}

/*
 * Decode the kernel's mangle() escapes ("\040" for ' ', also \011 \012
 * \134) from [s, e). With out == NULL only measure. "\000" and any other
 * backslash stay literal. Returns the decoded length, or SIZE_MAX if [s, e)
 * holds a raw NUL: the kernel never prints one, and as a C string the path
 * would silently become a shorter, different one. out may be s itself: the
 * decoded text is never longer, and each byte is read before it is written.
 */
size_t parse_mountinfo_unescape(const char *s, const char *e, char *out)
{
	size_t n = 0;

	while (s < e) {
		char c = *s;

		if (c == '\0')
			return SIZE_MAX;
		if (c == '\\' && e - s >= 4 && is_odigit(s[1]) && s[1] <= '3' &&
		    is_odigit(s[2]) && is_odigit(s[3])) {
			unsigned v = (unsigned)(s[1] - '0') * 64 +
				     (unsigned)(s[2] - '0') * 8 +
				     (unsigned)(s[3] - '0');
			if (v != 0) {
				c = (char)v;
				s += 3;
			}
		}
		s++;
		if (out)
			out[n] = c;
		n++;
	}
	return n;
}

/*
 * "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [optional...] - FSTYPE SOURCE SUPER".
 * Fields are separated by single spaces (everything else is escaped), but we
 * tolerate runs of blanks. The unterminated-last-line rule does not apply:
 * we need the fstype to be followed by a blank, so a cut line still cannot
 * be mistaken ("cgroup" cut from "cgroup2"). Malformed lines are skipped.
 */
int parse_mountinfo_cgroup2(const char *buf, size_t len, char *out, size_t outlen)
{
	const char *p, *end;

	if ((len && !buf) || (outlen && !out))
		return -EINVAL;
	p = buf ? buf : "";	/* NULL + 0 is undefined */
	end = p + len;
	while (p < end) {
		const char *le = memchr(p, '\n', (size_t)(end - p));
		const char *ls = p, *mp = NULL, *mpe = NULL, *t, *te;
		unsigned field = 0;
		bool dash = false, match = false;
		size_t need;

		if (!le)
			le = end;
		p = le < end ? le + 1 : end;

		for (t = skip_blanks(ls, le); t < le; t = skip_blanks(te, le)) {
			te = tok_end(t, le);
			if (dash) {
				/* fstype: the first field after " - " */
				match = te < le && tok_eq(t, (size_t)(te - t), "cgroup2");
				break;
			}
			if (field == 4) {
				mp = t;
				mpe = te;
			} else if (field >= 6 && te - t == 1 && *t == '-') {
				dash = true;
			}
			field++;
		}
		if (!match)
			continue;
		need = parse_mountinfo_unescape(mp, mpe, NULL);
		if (need == SIZE_MAX)
			continue;
		if (need >= outlen)
			return -ENAMETOOLONG;
		parse_mountinfo_unescape(mp, mpe, out);
		out[need] = '\0';
		return 0;
	}
	return -ENOENT;
}
