/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A synthetic recording for the replay benchmark (make bench, part record):
 * TICKS ticks of N cgroups INTERVAL apart, encoded with the tick codec and
 * written with the store exactly as `cgwarden record` writes them (its
 * default store options, src/recorder.c), without reading any cgroup.
 *   rec_synth [-n CGROUPS] [-t TICKS] [-i SECONDS] [-s START_UNIX] DIR
 * Defaults: 1,000 cgroups, 17,280 ticks, 5 s: one day. START defaults to
 * now, so the store holds the next day, cut in segments as a real day is.
 * Prints one key=value line.
 *
 * The tree: the root, 9 slices, and the rest containers spread over the
 * slices, each with its own path, id and identity, and every cgroupfs
 * field present (synth.h: copies of the 6.1 fixture's docker scope, with
 * the counters made different per cgroup). Each tick advances the clocks
 * and seq (read_usec = mono), and, as a busy host does: about a tenth of
 * the containers run (run_busy() says what moves), the others now and
 * then use a little CPU or a page of memory and their PSI averages decay,
 * the busy set moves on every hour, host figures and
 * the recorder's self-cost move, and every 5 minutes a container goes (its
 * final counters in removed[]) and a new one comes. The random choices
 * have a fixed seed; only the host figures (this machine's /proc, read
 * with the fixture) differ from one run to the next.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "reccodec.h"
#include "recorder.h"
#include "store.h"
#include "synth.h"

#define NR_SLICES 9
#define PAGE 4096u

/* Each cgroup's own strings: samples point into them. */
struct names {
	char path[128], name[32], cid[65], sid[13], image[48];
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* Uniform in [0, n). */
static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned percent)
{
	return below(100) < percent;
}

static void name_container(struct names *nm, struct cg_sample *x, unsigned slice,
			   uint64_t serial)
{
	for (int k = 0; k < 64; k += 16)
		snprintf(nm->cid + k, 17, "%016" PRIx64, rnd());
	memcpy(nm->sid, nm->cid, 12);
	nm->sid[12] = 0;
	snprintf(nm->path, sizeof(nm->path), "svc%u.slice/docker-%s.scope", slice, nm->cid);
	snprintf(nm->name, sizeof(nm->name), "app-%" PRIu64, serial);
	snprintf(nm->image, sizeof(nm->image), "registry.example/team%u/app%u:1.%u", slice,
		 (unsigned)(serial % 37), (unsigned)(serial % 5));
	x->path = nm->path;
	x->ident.kind = CG_KIND_CONTAINER;
	x->ident.runtime = CG_RT_DOCKER;
	x->ident.name = nm->name;
	x->ident.container_id = nm->cid;
	x->ident.short_id = nm->sid;
	x->ident.image = nm->image;
}

/* A container's counters as if it had run for a while: different per
 * cgroup, so a keyframe is not one record repeated. */
static void fresh_counters(struct cg_sample *x, uint64_t age_usec)
{
	uint64_t use = age_usec ? below(age_usec / 4 + 1) : 0;
	uint64_t mem = (2560 + below(128000)) * (uint64_t)PAGE;

	x->cpu[CG_CPU_USAGE_USEC] = use;
	x->cpu[CG_CPU_USER_USEC] = use / 10 * 7;
	x->cpu[CG_CPU_SYSTEM_USEC] = use - use / 10 * 7;
	x->mem_current = mem;
	x->mem_peak = mem + below(4096) * PAGE;
	x->memstat[CG_MS_ANON] = mem / 10 * 6 / PAGE * PAGE;
	x->memstat[CG_MS_FILE] = mem / 10 * 3 / PAGE * PAGE;
	x->memstat[CG_MS_ACTIVE_ANON] = x->memstat[CG_MS_ANON];
	x->memstat[CG_MS_INACTIVE_FILE] = x->memstat[CG_MS_FILE] / 2;
	x->memstat[CG_MS_ACTIVE_FILE] = x->memstat[CG_MS_FILE] - x->memstat[CG_MS_INACTIVE_FILE];
	x->memstat[CG_MS_KERNEL] = (64 + below(2048)) * (uint64_t)PAGE;
	x->memstat[CG_MS_SLAB] = x->memstat[CG_MS_KERNEL] / 2;
	x->memstat[CG_MS_PGFAULT] = use / 50 + below(100000);
	x->memstat[CG_MS_PGMAJFAULT] = below(500);
	for (uint32_t d = 0; d < x->nr_io; d++) {
		struct cg_io_dev *io = (struct cg_io_dev *)&x->io[d];

		io->v[CG_IO_RBYTES] = below(1ull << 32) / PAGE * PAGE;
		io->v[CG_IO_WBYTES] = below(1ull << 31) / PAGE * PAGE;
		io->v[CG_IO_RIOS] = io->v[CG_IO_RBYTES] / 16384;
		io->v[CG_IO_WIOS] = io->v[CG_IO_WBYTES] / 8192;
	}
	for (int r = 0; r < CG_PSI__COUNT; r++) {
		x->psi[r].some = (struct cg_psi_line){ .total_usec = use / 100 + below(1000000) };
		x->psi[r].full = (struct cg_psi_line){ .total_usec = x->psi[r].some.total_usec / 2 };
	}
	x->procs = 1 + below(8);
	x->threads = x->procs + below(40);
	x->pids_current = x->threads;
}

/* A PSI line after an interval of iv with this much stall: the kernel's
 * averages move towards the new share, and decay without stall. */
static void psi_step(struct cg_psi *p, uint64_t stall, uint64_t iv)
{
	uint32_t now = (uint32_t)(stall * 10000 / iv);

	p->some.total_usec += stall;
	p->full.total_usec += stall / 2;
	p->some.avg10 = (p->some.avg10 + now * 2) / 3;
	p->some.avg60 = (p->some.avg60 * 11 + now) / 12;
	p->some.avg300 = (p->some.avg300 * 59 + now) / 60;
}

/* Bytes of a memory.stat key moved by up to n pages either way. */
static void wobble(struct cg_sample *x, int key, unsigned n)
{
	int64_t d = ((int64_t)below(2 * n + 1) - n) * PAGE;

	if ((int64_t)x->memstat[key] + d > 0)
		x->memstat[key] += (uint64_t)d;
}

/* One tick of a running container: CPU every tick (so CPU pressure),
 * memory up and down, page faults, kernel and slab memory; io on a third
 * of its ticks (and io pressure then), memory pressure on one in twenty,
 * a process come or gone on one in five. */
static void run_busy(struct cg_sample *x, uint64_t iv, uint32_t cpus)
{
	uint64_t use = below(iv * (cpus > 2 ? 2 : cpus));
	int64_t dm = ((int64_t)below(513) - 256) * PAGE;
	bool io_now = chance(30) && x->nr_io;

	x->cpu[CG_CPU_USAGE_USEC] += use;
	x->cpu[CG_CPU_USER_USEC] += use / 10 * 7;
	x->cpu[CG_CPU_SYSTEM_USEC] += use - use / 10 * 7;
	if ((int64_t)x->memstat[CG_MS_ANON] + dm > 0) {
		x->mem_current += (uint64_t)dm;
		x->memstat[CG_MS_ANON] += (uint64_t)dm;
		x->memstat[CG_MS_ACTIVE_ANON] += (uint64_t)dm;
		if (x->mem_current > x->mem_peak)
			x->mem_peak = x->mem_current;
	}
	x->memstat[CG_MS_PGFAULT] += below(use / 20 + 1);
	if (chance(50)) {
		wobble(x, CG_MS_KERNEL, 8);
		wobble(x, CG_MS_SLAB, 4);
		wobble(x, CG_MS_SLAB_UNRECLAIMABLE, 4);
	}
	if (chance(30))
		wobble(x, CG_MS_SOCK, 16);
	if (chance(5))
		x->memstat[CG_MS_PGMAJFAULT] += 1 + below(10);
	if (io_now) {
		struct cg_io_dev *io = (struct cg_io_dev *)&x->io[0];
		uint64_t r = below(256) * PAGE, w = below(128) * PAGE;

		io->v[CG_IO_RBYTES] += r;
		io->v[CG_IO_WBYTES] += w;
		io->v[CG_IO_RIOS] += r / 16384;
		io->v[CG_IO_WIOS] += w / 8192;
		x->memstat[CG_MS_FILE] += r / 2;
		x->memstat[CG_MS_INACTIVE_FILE] += r / 2;
		x->mem_current += r / 2;
	}
	psi_step(&x->psi[CG_PSI_CPU], below(use / 20 + 1), iv);
	psi_step(&x->psi[CG_PSI_MEMORY], chance(5) ? below(use / 200 + 1) : 0, iv);
	psi_step(&x->psi[CG_PSI_IO], io_now ? below(use / 200 + 1) : 0, iv);
	if (chance(20)) {
		x->procs = 1 + below(8);
		x->threads = x->procs + below(40);
		x->pids_current = x->threads;
		x->memstat[CG_MS_KERNEL_STACK] = x->threads * 16384;
		wobble(x, CG_MS_PAGETABLES, 16);
	}
}

/* One tick of an idle one: now and then a wakeup, a page, a decaying PSI. */
static void run_idle(struct cg_sample *x)
{
	if (chance(5)) {
		uint64_t use = 100 + below(5000);

		x->cpu[CG_CPU_USAGE_USEC] += use;
		x->cpu[CG_CPU_USER_USEC] += use / 2;
		x->cpu[CG_CPU_SYSTEM_USEC] += use - use / 2;
	}
	if (chance(10)) {
		uint64_t d = PAGE * (1 + below(4));

		if (chance(50) && x->mem_current > d) {
			x->mem_current -= d;
		} else {
			x->mem_current += d;
			if (x->mem_current > x->mem_peak)
				x->mem_peak = x->mem_current;
		}
	}
	for (int r = 0; r < CG_PSI__COUNT; r++)
		psi_step(&x->psi[r], 0, 1);
}

static void usage(void)
{
	fprintf(stderr, "usage: rec_synth [-n CGROUPS] [-t TICKS] [-i SECONDS] [-s START_UNIX] DIR\n");
	exit(2);
}

int main(int argc, char **argv)
{
	size_t n = 1000, ticks = 17280;
	double iv_s = 5;
	uint64_t start = (uint64_t)time(NULL), iv, serial, used_ns = 0, t0;
	struct store_writer_opts so = {
		.who = "rec_synth",
		/* As `cgwarden record` opens its store (recorder_open); the
		 * size cap comes with the directory. */
		.retain_usec = RECORDER_RETAIN_USEC,
		.flush_usec = RECORDER_FLUSH_USEC,
	};
	struct store_writer_stats st;
	struct store_writer *w = NULL;
	struct rec_encoder *enc = NULL;
	struct rec_buf buf = { 0 };
	struct collector *c;
	struct cg_snapshot s;
	struct cg_sample gone;
	struct names *nm, gone_nm;
	struct cg_io_dev *io;
	const struct cg_io_dev *tmpl_io;
	uint32_t tmpl_nr_io, added;
	size_t children;
	int opt, err;

	while ((opt = getopt(argc, argv, "n:t:i:s:")) != -1) {
		switch (opt) {
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 't': ticks = strtoul(optarg, NULL, 10); break;
		case 'i': iv_s = strtod(optarg, NULL); break;
		case 's': start = strtoull(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (optind != argc - 1 || n < NR_SLICES + 2 || !ticks || !(iv_s > 0))
		usage();
	so.dir = argv[optind];
	so.retain_bytes = recorder_default_retain_bytes(so.dir);
	iv = (uint64_t)(iv_s * 1e6);
	t0 = synth_now_ns();
	if (synth_snapshot(n, false, &c, &s)) {
		fprintf(stderr, "rec_synth: cannot read the fixture (run from the repository root)\n");
		return 1;
	}
	tmpl_io = s.samples[0].io;
	tmpl_nr_io = s.samples[0].nr_io;
	nm = calloc(n, sizeof(*nm));
	io = calloc(n * (tmpl_nr_io ? tmpl_nr_io : 1), sizeof(*io));
	if (!nm || !io)
		return 1;
	/* The tree: the root, the slices, then the containers, parents first. */
	children = n - 1 - NR_SLICES;
	for (size_t i = 0; i < n; i++) {
		struct cg_sample *x = &s.samples[i];

		memset(&x->ident, 0, sizeof(x->ident));
		x->id = 1 + i * 3;
		x->carried = 0;
		x->carried_age_usec = 0;
		x->io = io + i * tmpl_nr_io;
		memcpy(io + i * tmpl_nr_io, tmpl_io, tmpl_nr_io * sizeof(*io));
		if (i == 0) {
			x->parent = -1, x->parent_id = 0, x->depth = 0;
			x->path = "";
			x->ident.kind = CG_KIND_OTHER;
			x->ident.name = "";
		} else if (i <= NR_SLICES) {
			x->parent = 0, x->parent_id = 1, x->depth = 1;
			snprintf(nm[i].path, sizeof(nm[i].path), "svc%zu.slice", i - 1);
			x->path = nm[i].path;
			x->ident.kind = CG_KIND_SLICE;
			x->ident.runtime = CG_RT_SYSTEMD;
			x->ident.name = nm[i].path;
		} else {
			unsigned slice = (unsigned)((i - 1 - NR_SLICES) % NR_SLICES);

			x->parent = (int32_t)(1 + slice), x->parent_id = s.samples[1 + slice].id;
			x->depth = 2;
			name_container(&nm[i], x, slice, i);
		}
		fresh_counters(x, 30ull * 24 * 3600 * 1000000);
	}
	/* Parents hold their children's sums in reality; a tenth as much
	 * again is close enough for the encoding. */
	for (size_t i = 0; i <= NR_SLICES; i++)
		s.samples[i].cpu[CG_CPU_USAGE_USEC] *= children / NR_SLICES + 1;
	serial = n;
	s.seq = 0;
	s.wall_usec = start * 1000000 - iv;
	s.mono_usec = 1000ull * 1000000;
	s.interval_usec = iv;
	s.nr_removed = s.nr_added = s.nr_oom = 0;
	s.removed = &gone;
	s.added = &added;
	s.self.cgroups = n;
	s.self.files_read_total = 0;
	s.self.cpu_usec = 0;

	err = rec_encoder_new(&enc);
	if (!err)
		err = store_writer_open(&so, &w);
	if (err) {
		fprintf(stderr, "rec_synth: %s: %s\n", so.dir, strerror(-err));
		return 1;
	}
	for (size_t t = 0; t < ticks; t++) {
		/* The busy tenth: a window over the containers that moves on
		 * every hour (720 ticks at 5 s). */
		size_t busy0 = (t * iv / 3600000000u * 37) % children;
		uint64_t tick_ns = synth_now_ns();
		bool key;

		s.seq++;
		s.wall_usec += iv;
		s.mono_usec += iv;
		s.nr_removed = s.nr_added = 0;
		for (size_t i = 0; i < n; i++) {
			struct cg_sample *x = &s.samples[i];
			size_t k = i - 1 - NR_SLICES;

			x->read_usec = s.mono_usec;
			if (i <= NR_SLICES)
				run_idle(x);
			else if ((k + children - busy0) % children < children / 10)
				run_busy(x, iv, s.host.cpus);
			else
				run_idle(x);
		}
		/* A busy slice's own counters move with its children's. */
		for (size_t i = 1; i <= NR_SLICES; i++)
			s.samples[i].cpu[CG_CPU_USAGE_USEC] += below(iv);
		s.samples[0].cpu[CG_CPU_USAGE_USEC] += below(iv * 2);
		if (t && t % (300000000u / iv ? 300000000u / iv : 1) == 0) {
			size_t i = 1 + NR_SLICES + below(children);
			struct cg_sample *x = &s.samples[i];

			/* removed[] holds the container's last counters and its
			 * own strings; the new one takes its slot (parent first
			 * still holds: it is a leaf). */
			gone_nm = nm[i];
			gone = *x;
			gone.path = gone_nm.path;
			gone.ident.name = gone_nm.name;
			gone.ident.container_id = gone_nm.cid;
			gone.ident.short_id = gone_nm.sid;
			gone.ident.image = gone_nm.image;
			s.nr_removed = 1;
			x->id = 1 + (serial++) * 3;
			name_container(&nm[i], x, (unsigned)(x->parent - 1), serial);
			fresh_counters(x, 0);
			added = (uint32_t)i;
			s.nr_added = 1;
		}
		s.host.mem_available_bytes += ((int64_t)below(2049) - 1024) * PAGE;
		for (int r = 0; r < CG_PSI__COUNT; r++)
			s.host.psi[r].some.total_usec += below(iv / 100);
		s.self.collect_usec = 15000 + below(5000);
		s.self.files_read = n * 7 + below(10);
		s.self.files_read_total += s.self.files_read;
		s.self.cpu_usec += s.self.collect_usec;

		key = store_need_keyframe(w);
		if (key)
			rec_encoder_reset(enc);
		buf.len = 0;
		err = rec_encode_tick(enc, &s, NULL, 0, key, &buf);
		if (!err)
			err = store_append(w, buf.p, buf.len, s.wall_usec, key);
		if (err) {
			fprintf(stderr, "rec_synth: tick %zu: %s\n", t + 1, strerror(-err));
			return 1;
		}
		used_ns += synth_now_ns() - tick_ns;
	}
	err = store_flush(w);
	store_writer_stats(w, &st);
	if (!err)
		err = store_writer_close(w);
	if (err) {
		fprintf(stderr, "rec_synth: closing %s: %s\n", so.dir, strerror(-err));
		return 1;
	}
	printf("ticks=%" PRIu64 " cgroups=%zu interval_s=%g first_unix=%" PRIu64 " last_unix=%" PRIu64
	       " raw_bytes=%" PRIu64 " disk_bytes=%" PRIu64 " store_bytes=%" PRIu64
	       " encode_store_ms=%.0f total_ms=%.0f\n",
	       st.ticks, n, iv_s, start, (s.wall_usec / 1000000), st.raw_bytes, st.disk_bytes,
	       st.store_bytes, (double)used_ns / 1e6, (double)(synth_now_ns() - t0) / 1e6);
	rec_encoder_free(enc);
	rec_buf_free(&buf);
	free(s.samples);
	free(nm);
	free(io);
	collector_free(c);
	return 0;
}
