// SPDX-License-Identifier: GPL-2.0-only
/*
 * The tick codec (src/reccodec.h): what a decoder gives back must render
 * byte for byte as the live snapshot did, through json_write_snapshot and
 * json_write_stream_tick, rates included; and no input may crash it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test.h"
#include "collector.h"
#include "json.h"
#include "rates.h"
#include "reccodec.h"

#define STATE_ROOT "tests/fixtures/runtime-state"
#define NO_PROC "tests/fixtures/no-such-proc"

static const char *const trees[] = { "v2-pure-6.1", "v2-hybrid-6.18" };

/*
 * RECCODEC_SEEDS=DIR: the ticks these tests encode are also written to DIR
 * as inputs of tests/fuzz/fuzz_reccodec (each tick a 2-byte little-endian
 * length and its bytes), one file per run of ticks from a keyframe on.
 */
static FILE *seed_file;

static void seed_open(const char *name)
{
	const char *dir = getenv("RECCODEC_SEEDS");
	char path[512];

	if (seed_file)
		fclose(seed_file);
	seed_file = NULL;
	if (!dir || !name)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	seed_file = fopen(path, "w");
}

static void seed_tick(const struct rec_buf *b, size_t from)
{
	size_t len = b->len - from;

	if (!seed_file || len > 0xffff)
		return;
	fputc((int)(len & 0xff), seed_file);
	fputc((int)(len >> 8), seed_file);
	fwrite(b->p + from, 1, len, seed_file);
}

static char *render(const struct cg_snapshot *s, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	if (json_write_snapshot(f, s, true) < 0 || json_write_stream_tick(f, s) < 0)
		fputs("(render failed)", f);
	fclose(f);
	return buf;
}

/* Whether b renders as a did; says where not. */
static bool same_json(const struct cg_snapshot *a, const struct cg_snapshot *b, const char *what)
{
	size_t la = 0, lb = 0, i = 0;
	char *ja = render(a, &la), *jb = render(b, &lb);
	bool ok = ja && jb && la == lb && memcmp(ja, jb, la) == 0;

	if (!ok && ja && jb) {
		while (i < la && i < lb && ja[i] == jb[i])
			i++;
		printf("  %s: JSON differs at byte %zu:\n    live:    %.80s\n    decoded: %.80s\n",
		       what, i, ja + (i > 40 ? i - 40 : 0), jb + (i > 40 ? i - 40 : 0));
	}
	free(ja);
	free(jb);
	return ok;
}

static int open_tree(const char *tree, struct collector **c)
{
	char root[256];

	snprintf(root, sizeof(root), "tests/fixtures/%s", tree);
	struct collector_opts o = {
		.root = root, .state_root = STATE_ROOT, .proc_root = NO_PROC,
		.sys_root = NO_PROC, .quiet = true,
	};
	return collector_new(&o, c);
}

/* (a) the collector over each fixture tree: tick 1 as a keyframe, tick 2
 * as a delta, decoded by a fresh decoder. */
static void test_fixture_ticks_round_trip(void)
{
	for (size_t t = 0; t < sizeof(trees) / sizeof(trees[0]); t++) {
		struct rec_encoder *e;
		struct rec_decoder *d;
		struct collector *c;
		struct rec_buf b1 = { 0 }, b2 = { 0 };
		const struct cg_snapshot *s, *out;
		char *live1 = NULL;
		size_t l1 = 0;

		CHECK_INT(open_tree(trees[t], &c), 0);
		CHECK_INT(rec_encoder_new(&e), 0);
		CHECK_INT(rec_decoder_new(&d), 0);
		if (!c || !e || !d)
			return;
		CHECK_INT(collector_tick(c, &s), 0);
		CHECK_INT(rec_encode_tick(e, s, NULL, 0, true, &b1), 0);
		live1 = render(s, &l1);
		CHECK_INT(collector_tick(c, &s), 0);
		CHECK_INT(rec_encode_tick(e, s, NULL, 0, false, &b2), 0);
		CHECK(b2.len < b1.len);
		seed_open(trees[t]);
		seed_tick(&b1, 0);
		seed_tick(&b2, 0);
		seed_open(NULL);

		CHECK_INT(rec_decode_tick(d, b1.p, b1.len, &out, NULL, NULL, NULL), 0);
		{
			size_t l = 0;
			char *got = render(out, &l);

			CHECK(got && l == l1 && memcmp(got, live1, l) == 0);
			free(got);
		}
		CHECK_INT(rec_decode_tick(d, b2.p, b2.len, &out, NULL, NULL, NULL), 0);
		CHECK(same_json(s, out, trees[t]));
		printf("  %s: %zu samples, keyframe %zu bytes, delta %zu bytes\n", trees[t],
		       s->nr_samples, b1.len, b2.len);
		free(live1);
		rec_buf_free(&b1);
		rec_buf_free(&b2);
		rec_encoder_free(e);
		rec_decoder_free(d);
		collector_free(c);
	}
}

/* ---- a synthetic tree that changes every tick ---------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define MAXG 64

struct gen {
	struct cg_sample tmpl[8];
	size_t nr_tmpl;
	struct cg_sample live[MAXG];	/* current samples, in order */
	size_t n;
	struct cg_io_dev io[MAXG][3];
	struct cg_io_dev io_tick[2][MAXG][3];	/* what each tick's samples point to */
	struct cg_snapshot snap, prev;
	struct cg_sample samples[MAXG], prev_samples[MAXG];
	struct cg_sample removed[MAXG];
	uint32_t added[MAXG];
	struct cg_oom_event oom[2];
	struct cg_arena *arena;		/* strings, kept to the end */
	uint64_t next_id, first_new, seq, mono, wall;
	bool have_prev;
};

static const char *gstr(struct gen *g, const char *s)
{
	return arena_strdup(g->arena, s);
}

static void gen_birth(struct gen *g, size_t at)
{
	struct cg_sample *x;
	char path[64];

	if (g->n >= MAXG)
		return;
	memmove(&g->live[at + 1], &g->live[at], (g->n - at) * sizeof(g->live[0]));
	memmove(&g->io[at + 1], &g->io[at], (g->n - at) * sizeof(g->io[0]));
	g->n++;
	x = &g->live[at];
	*x = g->tmpl[rnd() % g->nr_tmpl];
	x->id = g->next_id++;
	x->depth = 1;
	snprintf(path, sizeof(path), "grp-%" PRIu64 "%s", x->id, x->id % 3 ? "" : "\nnl\xff");
	x->path = gstr(g, path);
	x->ident.name = x->id % 4 ? NULL : gstr(g, "weird\nname\xff");
	x->ident.image = x->id % 5 ? x->ident.image : gstr(g, "img");
	x->nr_io = 0;
	x->io = NULL;
	memset(&x->rate, 0, sizeof(x->rate));
}

static void gen_mutate(struct gen *g, struct cg_sample *x, size_t k)
{
	uint64_t r = rnd();

	if (r % 3 == 0)
		return;	/* idle */
	x->cpu[CG_CPU_USAGE_USEC] += rnd() % 100000;
	x->cpu[CG_CPU_USER_USEC] += rnd() % 50000;
	x->cpu[CG_CPU_NR_PERIODS] += 50;
	x->mem_current = rnd() % (1ull << 32);
	x->memstat[CG_MS_PGFAULT] += rnd() % 1000;
	x->memstat[CG_MS_INACTIVE_FILE] = rnd() % (1ull << 30);
	x->memevents[CG_ME_OOM_KILL] += (r >> 8) % 20 == 0;
	x->psi[CG_PSI_CPU].some.avg10 = (uint32_t)(rnd() % 10000);
	x->psi[CG_PSI_CPU].some.total_usec += rnd() % 10000;
	x->mem_max = (r >> 12) % 4 ? CG_UNLIMITED : 1ull << 30;
	x->cpu_max_quota_usec = (r >> 14) % 2 ? CG_UNLIMITED : 50000;
	x->bpf.have = (r >> 16) % 2 ? CG_BPF_SCHED | CG_BPF_NET : 0;
	x->bpf.runq_hist[rnd() % CG_RUNQ_BUCKETS] += rnd() % 100;
	x->bpf.ctx_switches += rnd() % 1000;
	x->bpf.rx_bytes += rnd() % 100000;
	/* devices come and go */
	if ((r >> 20) % 5 == 0) {
		uint32_t n = (uint32_t)((r >> 24) % 3);

		for (uint32_t i = 0; i < n; i++) {
			g->io[k][i].major = 8;
			g->io[k][i].minor = i * 16;
			g->io[k][i].have = (1u << CG_IO__COUNT) - 1 - (i ? 1u << CG_IO_DBYTES : 0);
			g->io[k][i].name = i == 1 ? NULL : i ? "sdb" : "sda";
		}
		x->nr_io = n;
		x->have = n ? x->have | CG_HAVE_IO_STAT : x->have & ~(uint32_t)CG_HAVE_IO_STAT;
	}
	for (uint32_t i = 0; i < x->nr_io; i++) {
		g->io[k][i].v[CG_IO_RBYTES] += rnd() % 4096;
		g->io[k][i].v[CG_IO_WIOS] += rnd() % 3;
	}
	/* the slow tier */
	x->carried = (r >> 30) % 3 == 0 ? CG_HAVE_IO_STAT | CG_HAVE_MEM_STAT : 0;
	x->carried_age_usec = x->carried ? x->carried_age_usec + 5000000 + rnd() % 7 : 0;
}

/* The next tick: changes, births, deaths, maybe an order swap, a seq gap. */
static void gen_tick(struct gen *g, int t)
{
	struct cg_snapshot *s = &g->snap;
	bool gap = t == 23 || t == 37;

	g->prev = *s;
	memcpy(g->prev_samples, g->samples, sizeof(g->samples));
	g->prev.samples = g->prev_samples;
	s->nr_removed = s->nr_added = s->nr_oom = 0;
	s->removed = g->removed;
	s->added = g->added;
	s->oom = g->oom;
	/* deaths, reported with the tick before's sample */
	for (size_t k = 1; k < g->n; k++) {
		if (rnd() % 12)
			continue;
		for (size_t i = 0; i < g->prev.nr_samples; i++)
			if (g->prev.samples[i].id == g->live[k].id) {
				sample_copy_into(&g->removed[s->nr_removed], &g->prev.samples[i],
						 g->arena);
				g->removed[s->nr_removed++].parent = -1;
			}
		memmove(&g->live[k], &g->live[k + 1], (g->n - k - 1) * sizeof(g->live[0]));
		memmove(&g->io[k], &g->io[k + 1], (g->n - k - 1) * sizeof(g->io[0]));
		g->n--;
	}
	g->first_new = g->next_id;
	/* births anywhere after the root */
	for (int b = (int)(rnd() % 3); b > 0; b--)
		gen_birth(g, 1 + rnd() % g->n);
	if (t % 7 == 3 && g->n > 3) {
		struct cg_sample tmp = g->live[1];
		struct cg_io_dev tio[3];

		memcpy(tio, g->io[1], sizeof(tio));
		g->live[1] = g->live[2];
		memcpy(g->io[1], g->io[2], sizeof(tio));
		g->live[2] = tmp;
		memcpy(g->io[2], tio, sizeof(tio));
	}
	if (t % 9 == 4 && g->n > 2)	/* identity change */
		g->live[1].ident.name = gstr(g, t % 2 ? "renamed\n\xff" : "other");
	g->seq += gap ? 3 : 1;
	g->mono += 5000000 + rnd() % 1000;
	g->wall += 5000000 + rnd() % 1000;
	s->seq = g->seq;
	s->mono_usec = g->mono;
	s->wall_usec = g->wall;
	s->interval_usec = t ? 5000000 + rnd() % 100 : 0;
	s->host.mem_available_bytes = rnd() % (1ull << 34);
	s->host.psi[CG_PSI_IO].some.total_usec += rnd() % 1000;
	s->self.collect_usec = rnd() % 5000;
	s->self.files_read_total += 100;
	s->self.dropped_lines_known = t % 2;
	s->self.dropped_lines = (uint64_t)t;
	s->nr_samples = g->n;
	s->samples = g->samples;
	for (size_t k = 0; k < g->n; k++) {
		struct cg_sample *x = &g->live[k];
		const struct cg_sample *p = NULL;

		if (k)
			gen_mutate(g, x, k);
		x->read_usec = g->mono - 3000 + k * 7 + rnd() % 5;
		memcpy(g->io_tick[t % 2][k], g->io[k], sizeof(g->io[k]));
		x->io = x->nr_io ? g->io_tick[t % 2][k] : NULL;
		x->parent = k ? 0 : -1;
		x->parent_id = k ? g->live[0].id : 0;
		g->samples[k] = *x;
		if (g->have_prev && !gap)
			for (size_t i = 0; i < g->prev.nr_samples; i++)
				if (g->prev.samples[i].id == x->id)
					p = &g->prev.samples[i];
		rates_compute(&g->samples[k], p, p ? x->read_usec - p->read_usec : 0);
		if (gap && (x->carried & CG_HAVE_IO_STAT)) {
			/* carried from the tick the gap hides */
			g->samples[k].rate.have |= CG_RATE_IO;
			g->samples[k].rate.io_read_bytes_per_sec = 1234.5 + (double)k;
		}
		if (t && x->id >= g->first_new)
			g->added[s->nr_added++] = (uint32_t)k;
	}
	if (t % 11 == 5) {
		s->nr_oom = 1;
		memset(&g->oom[0], 0, sizeof(g->oom[0]));
		g->oom[0].time_usec = g->wall - 100;
		g->oom[0].cgroup_id = g->live[g->n - 1].id;
		g->oom[0].path = t % 2 ? NULL : g->live[g->n - 1].path;
		g->oom[0].pid = 4242;
		memcpy(g->oom[0].comm, "exactly16bytes!!", 16);
	}
	g->have_prev = true;
}

static int gen_init(struct gen *g)
{
	struct collector *c;
	const struct cg_snapshot *s;

	memset(g, 0, sizeof(*g));
	g->arena = arena_new();
	if (!g->arena || open_tree("v2-pure-6.1", &c))
		return -1;
	if (collector_tick(c, &s) || collector_tick(c, &s)) {
		collector_free(c);
		return -1;
	}
	for (size_t i = 0; i < s->nr_samples && g->nr_tmpl < 8; i++) {
		sample_copy_into(&g->tmpl[g->nr_tmpl], &s->samples[i], g->arena);
		g->tmpl[g->nr_tmpl].nr_io = 0;
		g->tmpl[g->nr_tmpl].io = NULL;
		g->nr_tmpl++;
	}
	g->snap = *s;
	g->snap.root = "/sys/fs/cgroup\n\xff";
	g->snap.arena = NULL;
	collector_free(c);
	g->next_id = 1000;
	g->seq = 1;
	g->mono = 1ull << 40;
	g->wall = 1700000000000000ull;
	gen_birth(g, 0);
	g->live[0].path = "";
	for (int i = 0; i < 10; i++)
		gen_birth(g, 1 + rnd() % g->n);
	return 0;
}

/* (b) ~50 ticks of a changing tree, a keyframe every 10. */
static void test_synthetic_ticks_round_trip(void)
{
	struct gen *g = calloc(1, sizeof(*g));
	struct rec_encoder *e;
	struct rec_decoder *d;
	struct rec_buf b = { 0 };
	size_t total = 0, nticks = 60;

	CHECK(g && gen_init(g) == 0);
	CHECK_INT(rec_encoder_new(&e), 0);
	CHECK_INT(rec_decoder_new(&d), 0);
	for (size_t t = 0; t < nticks && g; t++) {
		const struct cg_snapshot *out;
		const struct rec_action *acts;
		struct rec_action act[2] = {
			{ .time_usec = 17, .cgroup_id = 1001, .rule = "hog \"x\"\n\xff",
			  .action = "memory.high", .result = "ok", .dry_run = true,
			  .json = "{\"type\":\"policy_action\"}" },
			{ .time_usec = UINT64_MAX, .rule = NULL, .restore = true, .blocked = true },
		};
		size_t nr_acts = 0, na = t % 4 == 1 ? 2 : 0;
		char what[64];

		gen_tick(g, (int)t);
		b.len = 0;
		CHECK_INT(rec_encode_tick(e, &g->snap, act, na, t % 10 == 0, &b), 0);
		if (t % 10 == 0) {
			snprintf(what, sizeof(what), "synthetic-%02zu", t);
			seed_open(what);
		}
		if (t % 10 < 6)
			seed_tick(&b, 0);
		total += b.len;
		CHECK_INT(rec_decode_tick(d, b.p, b.len, &out, &acts, &nr_acts, NULL), 0);
		snprintf(what, sizeof(what), "tick %zu", t);
		if (!same_json(&g->snap, out, what)) {
			test_cur_failed++;
			break;
		}
		CHECK_INT(nr_acts, na);
		if (na == 2 && nr_acts == 2) {
			CHECK_STR(acts[0].rule, act[0].rule);
			CHECK_STR(acts[0].json, act[0].json);
			CHECK_STR(acts[1].rule, NULL);
			CHECK(acts[0].dry_run && !acts[0].restore && acts[1].restore && acts[1].blocked);
			CHECK_U64(acts[1].time_usec, UINT64_MAX);
			CHECK(rec_decoder_events(d) & REC_EV_ACTION);
		}
		if (g->snap.nr_removed)
			CHECK(rec_decoder_events(d) & REC_EV_REMOVED);
		if (g->snap.nr_oom)
			CHECK(rec_decoder_events(d) & REC_EV_OOM);
	}
	seed_open(NULL);
	printf("  %zu ticks, %zu bytes\n", nticks, total);
	rec_buf_free(&b);
	rec_encoder_free(e);
	rec_decoder_free(d);
	if (g)
		arena_free(g->arena);
	free(g);
}

/* (c) a keyframe decodes alone; a delta without its tick before does not. */
static void test_keyframe_alone_delta_needs_before(void)
{
	struct collector *c;
	struct rec_encoder *e;
	struct rec_decoder *d;
	struct rec_buf k = { 0 }, x = { 0 };
	const struct cg_snapshot *s, *out;
	char *live;
	size_t l = 0, lo = 0;

	CHECK_INT(open_tree("v2-pure-6.1", &c), 0);
	CHECK_INT(rec_encoder_new(&e), 0);
	CHECK_INT(rec_decoder_new(&d), 0);
	if (!c || !e || !d)
		return;
	CHECK_INT(collector_tick(c, &s), 0);
	CHECK_INT(rec_encode_tick(e, s, NULL, 0, false, &k), -EINVAL);
	CHECK_INT(rec_encode_tick(e, s, NULL, 0, true, &k), 0);
	live = render(s, &l);
	CHECK_INT(collector_tick(c, &s), 0);
	CHECK_INT(rec_encode_tick(e, s, NULL, 0, false, &x), 0);
	CHECK_INT(rec_decode_tick(d, x.p, x.len, &out, NULL, NULL, NULL), -ENOENT);
	CHECK_INT(rec_decode_tick(d, k.p, k.len, &out, NULL, NULL, NULL), 0);
	/* a keyframe alone: the first tick had no rates, so it matches */
	{
		char *got = render(out, &lo);

		CHECK(got && lo == l && memcmp(got, live, l) == 0);
		free(got);
	}
	rec_decoder_reset(d);
	CHECK_INT(rec_decode_tick(d, x.p, x.len, &out, NULL, NULL, NULL), -ENOENT);
	free(live);
	rec_buf_free(&k);
	rec_buf_free(&x);
	rec_encoder_free(e);
	rec_decoder_free(d);
	collector_free(c);
}

/* (d) every truncation of a keyframe and a delta: an error or a tick,
 * never a crash; and hostile counts. */
static void test_truncation_and_hostile_counts(void)
{
	struct gen *g = calloc(1, sizeof(*g));
	struct rec_encoder *e;
	struct rec_decoder *d;
	struct rec_buf k = { 0 }, x = { 0 };
	const struct cg_snapshot *out;
	const char *why = NULL;
	size_t ok = 0;

	CHECK(g && gen_init(g) == 0);
	CHECK_INT(rec_encoder_new(&e), 0);
	CHECK_INT(rec_decoder_new(&d), 0);
	if (!g || !e || !d)
		return;
	gen_tick(g, 0);
	CHECK_INT(rec_encode_tick(e, &g->snap, NULL, 0, true, &k), 0);
	gen_tick(g, 4);
	CHECK_INT(rec_encode_tick(e, &g->snap, NULL, 0, false, &x), 0);
	for (size_t len = 0; len < k.len; len++) {
		int err = rec_decode_tick(d, k.p, len, &out, NULL, NULL, &why);

		CHECK(err == -EBADMSG);
	}
	for (size_t len = 0; len <= x.len; len++) {
		int err;

		CHECK_INT(rec_decode_tick(d, k.p, k.len, &out, NULL, NULL, NULL), 0);
		err = rec_decode_tick(d, x.p, len, &out, NULL, NULL, &why);
		CHECK(err == -EBADMSG || (err == 0 && len == x.len));
		ok += err == 0;
	}
	CHECK_INT(ok, 1);
	/* a keyframe claiming 2^60 cgroups, or a varint of 11 bytes */
	{
		unsigned char huge[] = { 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
					 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10 };
		unsigned char longv[] = { 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
					  0x80, 0x80, 0x01 };

		CHECK_INT(rec_decode_tick(d, huge, sizeof(huge), &out, NULL, NULL, &why), -EBADMSG);
		CHECK_INT(rec_decode_tick(d, k.p, k.len, &out, NULL, NULL, NULL), 0);
		CHECK_INT(rec_decode_tick(d, longv, sizeof(longv), &out, NULL, NULL, &why),
			  -EBADMSG);
		/* the decoder reset itself: a delta now has no tick before */
		CHECK_INT(rec_decode_tick(d, x.p, x.len, &out, NULL, NULL, NULL), -ENOENT);
	}
	rec_buf_free(&k);
	rec_buf_free(&x);
	rec_encoder_free(e);
	rec_decoder_free(d);
	arena_free(g->arena);
	free(g);
}

int main(void)
{
	RUN(test_fixture_ticks_round_trip);
	RUN(test_synthetic_ticks_round_trip);
	RUN(test_keyframe_alone_delta_needs_before);
	RUN(test_truncation_and_hostile_counts);
	TEST_EXIT();
}
