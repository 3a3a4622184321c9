/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The flight recorder's size and encode cost: N synthetic cgroups (synth.h)
 * over T ticks, BUSY percent of them busy (cpu, memory, memory.stat, PSI
 * and io counters growing each tick), the rest idle (only their read time
 * moves, as in a file walk). Encoded with src/reccodec (a keyframe every
 * GROUP ticks) and compressed as src/store.c does: one zstd stream (level
 * 3) per group, flushed every FLUSH ticks, each tick a varint length and
 * its bytes. Prints bytes per cgroup-sample on disk and the encoder's CPU
 * per tick per 1000 cgroups.
 *   rec_size [N] [TICKS] [BUSY%] [bpf]
 */
#include <stdio.h>
#include <stdlib.h>
#include <zstd.h>
#include "reccodec.h"
#include "synth.h"

#define GROUP 120
#define FLUSH 10

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? rng % n : 0;
}

static size_t zout(ZSTD_CCtx *z, const void *p, size_t len, ZSTD_EndDirective end,
		   unsigned char *buf, size_t cap)
{
	ZSTD_inBuffer in = { p, len, 0 };
	size_t total = 0, left;

	do {
		ZSTD_outBuffer out = { buf, cap, 0 };

		left = ZSTD_compressStream2(z, &out, &in, end);
		if (ZSTD_isError(left)) {
			fprintf(stderr, "zstd: %s\n", ZSTD_getErrorName(left));
			exit(1);
		}
		total += out.pos;
	} while (in.pos < in.size || (end != ZSTD_e_continue && left));
	return total;
}

static void busy_tick(struct cg_sample *x)
{
	uint64_t cpu = rnd(400000);

	x->cpu[CG_CPU_USAGE_USEC] += cpu;
	x->cpu[CG_CPU_USER_USEC] += cpu * 3 / 4;
	x->cpu[CG_CPU_SYSTEM_USEC] += cpu / 4;
	x->mem_current += (rnd(65) - 32) * 4096;
	x->memstat[CG_MS_ANON] += (rnd(33) - 16) * 4096;
	x->memstat[CG_MS_FILE] += rnd(8) * 4096;
	x->memstat[CG_MS_ACTIVE_ANON] += (rnd(33) - 16) * 4096;
	x->memstat[CG_MS_INACTIVE_FILE] += rnd(8) * 4096;
	x->memstat[CG_MS_PGFAULT] += rnd(5000);
	x->memstat[CG_MS_SLAB] += (rnd(9) - 4) * 64;
	x->psi[CG_PSI_CPU].some.total_usec += rnd(20000);
	x->psi[CG_PSI_CPU].some.avg10 = (uint32_t)rnd(400);
	x->psi[CG_PSI_CPU].some.avg60 = (uint32_t)rnd(200);
	x->psi[CG_PSI_MEMORY].some.total_usec += rnd(3);
	x->psi[CG_PSI_IO].some.total_usec += rnd(2000);
	x->procs = 3 + rnd(2);
	for (uint32_t i = 0; i < x->nr_io; i++) {
		struct cg_io_dev *d = (struct cg_io_dev *)&x->io[i];

		d->v[CG_IO_RBYTES] += rnd(8) * 4096;
		d->v[CG_IO_WBYTES] += rnd(64) * 4096;
		d->v[CG_IO_RIOS] += rnd(8);
		d->v[CG_IO_WIOS] += rnd(32);
	}
	if (x->bpf.have) {
		x->bpf.ctx_switches += rnd(3000);
		x->bpf.runq_count += rnd(3000);
		x->bpf.runq_sum_ns += rnd(30000000);
		x->bpf.runq_hist[rnd(12)] += rnd(1000);
		x->bpf.rx_bytes += rnd(100000);
		x->bpf.rx_packets += rnd(100);
	}
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
	int ticks = argc > 2 ? atoi(argv[2]) : 600;
	unsigned busy = argc > 3 ? (unsigned)atoi(argv[3]) : 10;
	bool bpf = argc > 4 && strcmp(argv[4], "bpf") == 0;
	struct collector *c;
	struct cg_snapshot s;
	struct rec_encoder *e;
	struct rec_buf b = { 0 };
	ZSTD_CCtx *z = ZSTD_createCCtx();
	size_t cap = ZSTD_CStreamOutSize() * 4, disk = 0, raw = 0, key_raw = 0;
	unsigned char *zbuf = malloc(cap);
	uint64_t enc_ns = 0, mono = 1ull << 40;
	struct cg_io_dev *io;

	if (!z || !zbuf || synth_snapshot(n, bpf, &c, &s) || rec_encoder_new(&e))
		return 1;
	ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, 3);
	/* each cgroup its own devices (synth's samples share the docker's) */
	io = calloc(n * 2, sizeof(*io));
	if (!io)
		return 1;
	for (size_t i = 0; i < n; i++) {
		struct cg_sample *x = &s.samples[i];

		for (uint32_t k = 0; k < x->nr_io && k < 2; k++)
			io[i * 2 + k] = x->io[k];
		x->nr_io = x->nr_io > 2 ? 2 : x->nr_io;
		x->io = x->nr_io ? &io[i * 2] : NULL;
		x->carried = 0;
		x->carried_age_usec = 0;
	}
	s.nr_removed = s.nr_added = s.nr_oom = 0;
	for (int t = 0; t < ticks; t++) {
		bool key = t % GROUP == 0;
		uint64_t walk = mono, t0;
		unsigned char len[10];
		size_t nl = 0, v;

		s.seq = (uint64_t)t + 1;
		mono += 5000000 + rnd(2000);
		s.mono_usec = mono;
		s.wall_usec = mono + 1700000000000000ull;
		s.interval_usec = 5000000 + rnd(2000);
		s.self.collect_usec = 1800 + rnd(400);
		s.self.cpu_usec += 1500 + rnd(300);
		s.self.files_read_total += n * 12;
		for (size_t i = 0; i < n; i++) {
			struct cg_sample *x = &s.samples[i];

			/* a file walk: each cgroup read a little after the one before */
			walk += 1 + rnd(3);
			x->read_usec = walk;
			if (rnd(100) < busy)
				busy_tick(x);
		}
		b.len = 0;
		t0 = synth_now_ns();
		if (rec_encode_tick(e, &s, NULL, 0, key, &b))
			return 1;
		enc_ns += synth_now_ns() - t0;
		raw += b.len;
		if (key)
			key_raw += b.len;
		if (key && t)
			disk += zout(z, NULL, 0, ZSTD_e_end, zbuf, cap);
		for (v = b.len; v >= 0x80; v >>= 7)
			len[nl++] = (unsigned char)(v | 0x80);
		len[nl++] = (unsigned char)v;
		disk += zout(z, len, nl, ZSTD_e_continue, zbuf, cap);
		disk += zout(z, b.p, b.len, (t + 1) % FLUSH ? ZSTD_e_continue : ZSTD_e_flush,
			     zbuf, cap);
	}
	disk += zout(z, NULL, 0, ZSTD_e_end, zbuf, cap);
	printf("rec_size: %zu cgroups, %d ticks, %u%% busy%s: %.2f bytes/cgroup-sample on disk "
	       "(raw %.2f, keyframes %.0f%% of raw), encode %.3f ms/tick per 1000 cgroups\n",
	       n, ticks, busy, bpf ? ", eBPF" : "", (double)disk / ((double)n * ticks),
	       (double)raw / ((double)n * ticks), 100.0 * (double)key_raw / (double)raw,
	       (double)enc_ns / ticks / 1e6 * 1000.0 / (double)n);
	rec_buf_free(&b);
	rec_encoder_free(e);
	ZSTD_freeCCtx(z);
	free(zbuf);
	free(io);
	free(s.samples);
	collector_free(c);
	return 0;
}
