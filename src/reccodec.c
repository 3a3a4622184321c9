// SPDX-License-Identifier: GPL-2.0-only
/*
 * The flight recorder's tick encoding (reccodec.h).
 *
 * Tick record layout (the man page's copy is made from this). VARINT is
 * unsigned LEB128 (at most 10 bytes), ZZ a zigzag VARINT of a signed
 * difference taken modulo 2^64, STR a VARINT of (length + 1) followed by
 * length bytes (0: NULL; no NUL byte inside), F64 the eight bytes of an
 * IEEE double, little endian.
 *
 * Columns (a keyframe's dictionaries name them, with their width): sample
 * columns are the value rows of metrics.h by JSON id (the run-queue
 * histogram as "<id>.0" to "<id>.31") and the presence words _have,
 * _iter_have, _carried, _carried_age_usec, _cpu_have, _memstat_have,
 * _memevents_have, _bpf.have, _psi.<cpu|memory|io>.have_<some|full>;
 * device columns are the io.devices rows but major and minor; host columns
 * are host.* and self.* as json.c names them. A reader maps columns by
 * name and skips the ones it does not know.
 *
 *   tick      := flags:u8 (bit 0 keyframe, bit 1 gap: seq is not the
 *                previous tick's + 1; other bits 0) (keyframe | delta)
 *   keyframe  := VARINT version (1) VARINT seq VARINT mono_usec
 *                VARINT wall_usec VARINT interval_usec STR root
 *                dict(sample) dict(device) dict(host)
 *                removed VARINT nr_samples nr_samples*(meta diff0 io)
 *                reads carried added oom actions diff0(host)
 *   delta     := ZZ dseq ZZ dmono ZZ dwall ZZ dinterval
 *                (VARINT 0 | VARINT 1 STR root)
 *                removed deaths births metas order reads values
 *                [carried, when gap] added oom actions diff(host)
 *   dict      := VARINT n n*(STR name u8 width)       width 1, 4 or 8
 *   meta      := VARINT id VARINT parent (0: none, else parent's slot + 1)
 *                VARINT parent_id VARINT depth VARINT kind VARINT runtime
 *                VARINT qos STR path STR name STR container_id STR short_id
 *                STR image STR pod_uid STR k8s_namespace STR k8s_pod
 *                STR k8s_container
 *   diff      := (VARINT col - previous col (first: col + 1) ZZ value -
 *                predicted)* VARINT 0; the prediction is the slot's value
 *                of the tick before, except for _carried_age_usec: that
 *                plus the sample's read_usec advance while it was carried.
 *                diff0 is the same against all zeros.
 *   io        := VARINT nr_io nr_io*(VARINT major VARINT minor VARINT have
 *                VARINT name (0 NULL, 1 the same as the tick before's
 *                device of that major:minor, 2 STR follows) diff(device)
 *                against that device, or zeros)
 *   removed   := VARINT n n*(VARINT 0 VARINT slot: the tick before's
 *                sample of that slot | VARINT 1 meta VARINT read_usec diff0
 *                io rates)
 *   rates     := VARINT have F64*20 (cg_rates' doubles in order)
 *                VARINT mem_working_set_bytes
 *   deaths    := VARINT n n*(VARINT slot)
 *   births    := VARINT n n*(VARINT slot VARINT position meta diff0 io)
 *                positions ascending: the order is the last tick's less
 *                the dead, each birth inserted at its position
 *   metas     := VARINT n n*(VARINT slot meta)   changed identity/path
 *   order     := VARINT 0 (as predicted) | VARINT 1 VARINT n n*(VARINT slot)
 *   reads     := one ZZ per sample in order: read_usec - prediction; the
 *                prediction is the slot's last read_usec plus the advance
 *                of the previous continuing sample in this tick (first:
 *                the mono_usec advance), or for a new sample the read_usec
 *                of the sample before it (first: mono_usec)
 *   values    := VARINT n VARINT len_a VARINT len_b A B: the cgroups whose
 *                values changed, n entries of (ZZ slot - previous entry's
 *                slot (first: slot) VARINT what (bit 0: diff follows,
 *                bit 1: io follows) [diff] [io]), split in two: part A
 *                holds everything but the ZZ values of their diffs, which
 *                are in part B in the same order (the column indices
 *                repeat tick after tick; zstd finds them as long matches
 *                when no value lies between them)
 *   carried   := per sample in order whose carried has io.stat or
 *                memory.stat: [u8 io rate valid F64*4] [u8 bits pgfault,
 *                pgmajfault F64*2] (the rates the slow tier carries)
 *   added     := VARINT n n*(VARINT index into samples)
 *   oom       := VARINT n n*(ZZ time - wall_usec VARINT cgroup_id STR path
 *                VARINT pid STR comm)
 *   actions   := VARINT n n*(ZZ time - wall_usec VARINT cgroup_id STR rule
 *                STR action STR result u8 flags (restore 1, dry_run 2,
 *                blocked 4) STR json)
 *
 * A keyframe numbers the slots 0..n-1 in sample order; deltas keep them.
 * A slot is a cgroup id for its life: an identity change keeps the id. A
 * sample goes on in its slot when its id was in the tick before and
 * removed[] does not name it; ids are unique in a tick. Rates: for a
 * sample that goes on, when the tick before has seq - 1, rates_compute()
 * against its sample there (matched by id after a keyframe), with
 * dt = the difference of their read_usec; else rates_compute(x, NULL, 0);
 * then, in a keyframe or after a gap, the carried rates as written.
 *
 * The decoder is not transactional: on any error it resets itself, so the
 * next tick it takes must be a keyframe (-ENOENT for a delta until then).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics.h"
#include "rates.h"
#include "reccodec.h"

#define REC_VERSION 1
#define F_KEY 1u
#define F_GAP 2u
#define NR_STR 9
#define MAX_COLS 4096
#define MAX_SLOTS (1u << 24)
#define MAX_DEVS 4096

/* ---- columns ------------------------------------------------------------ */

enum { CF_BOOL = 1, CF_AGE = 2 };

struct rc_col {
	const char *name;
	uint16_t off;
	uint8_t width;
	uint8_t flags;
};

#define SCOL_MAX (M__COUNT + CG_RUNQ_BUCKETS + 32)
static struct rc_col scols[SCOL_MAX];
static int nr_scols;
static struct rc_col dcols[CG_IO__COUNT + 4];
static int nr_dcols;
static char hist_names[CG_RUNQ_BUCKETS][64];

#define SOFF(f) ((uint16_t)offsetof(struct cg_sample, f))
#define SW(f) ((uint8_t)sizeof(((struct cg_sample *)0)->f))
#define HOFF(f) ((uint16_t)offsetof(struct cg_snapshot, f))
#define HW(f) ((uint8_t)sizeof(((struct cg_snapshot *)0)->f))
#define HC(n, f) { n, HOFF(f), HW(f), 0 }
#define HB(n, f) { n, HOFF(f), 1, CF_BOOL }
#define HPSI_LINE(r, R, l) HC("host.psi." r "." #l ".avg10", host.psi[R].l.avg10), \
	HC("host.psi." r "." #l ".avg60", host.psi[R].l.avg60), \
	HC("host.psi." r "." #l ".avg300", host.psi[R].l.avg300), \
	HC("host.psi." r "." #l ".total_usec", host.psi[R].l.total_usec)
#define HPSI(r, R) HB("host.psi." r ".have_some", host.psi[R].have_some), \
	HB("host.psi." r ".have_full", host.psi[R].have_full), \
	HPSI_LINE(r, R, some), HPSI_LINE(r, R, full)

/* Host and self: not in the metric table (metrics.h says why), so named
 * here, as json.c names them. */
static const struct rc_col hcols[] = {
	HC("host.have", host.have), HC("host.cpus", host.cpus),
	HC("host.mem_total_bytes", host.mem_total_bytes),
	HC("host.mem_available_bytes", host.mem_available_bytes),
	HC("host.swap_total_bytes", host.swap_total_bytes),
	HC("host.swap_free_bytes", host.swap_free_bytes),
	HPSI("cpu", CG_PSI_CPU), HPSI("memory", CG_PSI_MEMORY), HPSI("io", CG_PSI_IO),
	HC("self.collect_usec", self.collect_usec), HC("self.files_read", self.files_read),
	HC("self.files_read_total", self.files_read_total), HC("self.cgroups", self.cgroups),
	HC("self.cpu_usec", self.cpu_usec), HC("self.rss_bytes", self.rss_bytes),
	HC("self.kept_fds", self.kept_fds), HC("self.fd_budget", self.fd_budget),
	HC("self.reopened_files", self.reopened_files), HB("self.bpf", self.bpf),
	HB("self.bpf_run_time_known", self.bpf_run_time_known),
	HC("self.bpf_run_time_ns", self.bpf_run_time_ns),
	HC("self.bpf_map_entries", self.bpf_map_entries),
	HC("self.bpf_map_max", self.bpf_map_max), HB("self.iter", self.iter),
	HC("self.iter_walk_usec", self.iter_walk_usec),
	HC("self.iter_cgroups", self.iter_cgroups), HC("self.slow_every", self.slow_every),
	HC("self.slow_read_usec", self.slow_read_usec),
	HC("self.slow_cgroups", self.slow_cgroups),
	HB("self.dropped_lines_known", self.dropped_lines_known),
	HC("self.dropped_lines", self.dropped_lines),
};
#define NR_HCOLS ((int)(sizeof(hcols) / sizeof(hcols[0])))

/* Presence words and other fields no value row holds. */
#define SC(n, f) { n, SOFF(f), SW(f), 0 }
#define SB(n, f) { n, SOFF(f), 1, CF_BOOL }
static const struct rc_col reserved[] = {
	SC("_have", have), SC("_iter_have", iter_have), SC("_carried", carried),
	{ "_carried_age_usec", SOFF(carried_age_usec), 8, CF_AGE },
	SC("_cpu_have", cpu_have), SC("_memstat_have", memstat_have),
	SC("_memevents_have", memevents_have), SC("_bpf.have", bpf.have),
	SB("_psi.cpu.have_some", psi[CG_PSI_CPU].have_some),
	SB("_psi.cpu.have_full", psi[CG_PSI_CPU].have_full),
	SB("_psi.memory.have_some", psi[CG_PSI_MEMORY].have_some),
	SB("_psi.memory.have_full", psi[CG_PSI_MEMORY].have_full),
	SB("_psi.io.have_some", psi[CG_PSI_IO].have_some),
	SB("_psi.io.have_full", psi[CG_PSI_IO].have_full),
};

static int age_col = -1;

/* The column lists, from the metric table, once. */
static void cols_init(void)
{
	if (nr_scols)
		return;
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		if (reserved[i].flags & CF_AGE)
			age_col = nr_scols;
		scols[nr_scols++] = reserved[i];
	}
	for (int i = 0; i < M__COUNT; i++) {
		const struct metric_def *m = &metric_defs[i];
		uint8_t w = 0, fl = 0;

		switch (m->kind) {
		case MK_COUNTER: case MK_GAUGE: case MK_LIMIT: case MK_PSI_AVG: case MK_BOOL:
		case MK_DEV_KEY:
			break;
		case MK_HIST:
			for (int b = 0; b < CG_RUNQ_BUCKETS && nr_scols < SCOL_MAX; b++) {
				snprintf(hist_names[b], sizeof(hist_names[b]), "%s.%d", m->id, b);
				scols[nr_scols++] = (struct rc_col){ hist_names[b],
					(uint16_t)(m->off + b * 8), 8, 0 };
			}
			continue;
		default:
			continue;
		}
		switch (m->vtype) {
		case MV_U64: case MV_NS_AS_US:
			w = 8;
			break;
		case MV_U32:
			w = 4;
			break;
		case MV_BOOL:
			w = 1;
			fl = CF_BOOL;
			break;
		default:
			continue;
		}
		if (m->kind == MK_DEV_KEY) {
			/* major and minor are the device's key, in its header. */
			if (i == M_IO_DEV_MAJOR || i == M_IO_DEV_MINOR)
				continue;
			dcols[nr_dcols++] = (struct rc_col){ m->id, m->off, w, fl };
			continue;
		}
		if (nr_scols < SCOL_MAX)
			scols[nr_scols++] = (struct rc_col){ m->id, m->off, w, fl };
	}
}

static inline uint64_t col_get(const void *base, const struct rc_col *c)
{
	const unsigned char *p = (const unsigned char *)base + c->off;

	switch (c->width) {
	case 1:
		return *p;
	case 4:
		return *(const uint32_t *)(const void *)p;
	default:
		return *(const uint64_t *)(const void *)p;
	}
}

static inline void col_set(void *base, const struct rc_col *c, uint64_t v)
{
	unsigned char *p = (unsigned char *)base + c->off;

	switch (c->width) {
	case 1:
		*p = (unsigned char)v;
		break;
	case 4:
		*(uint32_t *)(void *)p = (uint32_t)v;
		break;
	default:
		*(uint64_t *)(void *)p = v;
	}
}

static inline bool col_fits(const struct rc_col *c, uint64_t v)
{
	if (c->flags & CF_BOOL)
		return v <= 1;
	return c->width == 8 || v < (1ull << (8 * c->width));
}

/* The regions of a sample the columns read, less read_usec and the age
 * (predicted, they change every tick): equal bytes there mean nothing to
 * write. The collector zeroes each sample before filling it, so padding
 * compares equal too; if it did not, a sample would only be diffed for
 * nothing. */
#define REG1_LO SOFF(have)
#define REG1_HI SOFF(carried_age_usec)
#define REG2_LO SOFF(cpu_have)
#define REG2_HI SOFF(nr_io)
#define REG3_LO SOFF(pids_current)
#define REG3_HI SOFF(rate)

static bool values_equal(const struct cg_sample *a, const struct cg_sample *b)
{
	const unsigned char *x = (const void *)a, *y = (const void *)b;

	return memcmp(x + REG1_LO, y + REG1_LO, REG1_HI - REG1_LO) == 0 &&
	       memcmp(x + REG2_LO, y + REG2_LO, REG2_HI - REG2_LO) == 0 &&
	       memcmp(x + REG3_LO, y + REG3_LO, REG3_HI - REG3_LO) == 0;
}

static void values_copy(struct cg_sample *dst, const struct cg_sample *src)
{
	unsigned char *x = (void *)dst;
	const unsigned char *y = (const void *)src;

	memcpy(x + REG1_LO, y + REG1_LO, REG1_HI - REG1_LO);
	memcpy(x + REG2_LO, y + REG2_LO, REG2_HI - REG2_LO);
	memcpy(x + REG3_LO, y + REG3_LO, REG3_HI - REG3_LO);
	dst->carried_age_usec = src->carried_age_usec;
	dst->read_usec = src->read_usec;
}

static const struct cg_sample zero_sample;
static const struct cg_io_dev zero_dev;
static const struct cg_snapshot zero_snap;

/* The doubles of struct cg_rates, in order (removed samples in full). */
#define RO(f) ((uint16_t)offsetof(struct cg_rates, f))
static const uint16_t rate_doubles[] = {
	RO(cpu_usage_ratio), RO(cpu_user_ratio), RO(cpu_system_ratio),
	RO(cpu_throttled_ratio), RO(io_read_bytes_per_sec), RO(io_write_bytes_per_sec),
	RO(io_read_ios_per_sec), RO(io_write_ios_per_sec), RO(pgfault_per_sec),
	RO(pgmajfault_per_sec), RO(oom_kill_per_sec), RO(high_per_sec), RO(max_per_sec),
	RO(runq_p50_usec), RO(runq_p99_usec), RO(rx_bytes_per_sec), RO(tx_bytes_per_sec),
	RO(rx_packets_per_sec), RO(tx_packets_per_sec), RO(ctx_switches_per_sec),
};
#define NR_RATE_DOUBLES ((int)(sizeof(rate_doubles) / sizeof(rate_doubles[0])))

static const char **ident_strs(struct cg_sample *s, const char **v[NR_STR])
{
	v[0] = &s->path;
	v[1] = &s->ident.name;
	v[2] = &s->ident.container_id;
	v[3] = &s->ident.short_id;
	v[4] = &s->ident.image;
	v[5] = &s->ident.pod_uid;
	v[6] = &s->ident.k8s_namespace;
	v[7] = &s->ident.k8s_pod;
	v[8] = &s->ident.k8s_container;
	return *v;
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* ---- id -> index table (open addressing, backward-shift deletion) ----- */

struct idtab {
	uint64_t *key;
	int32_t *val;
	uint32_t mask, nr;
};

static inline uint32_t id_hash(uint64_t id)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdull;
	id ^= id >> 33;
	return (uint32_t)id;
}

static void idtab_free(struct idtab *t)
{
	free(t->key);
	free(t->val);
	memset(t, 0, sizeof(*t));
}

static void idtab_clear(struct idtab *t)
{
	if (t->val)
		memset(t->val, 0xff, ((size_t)t->mask + 1) * sizeof(*t->val));
	t->nr = 0;
}

static int32_t idtab_get(const struct idtab *t, uint64_t id)
{
	if (!t->val)
		return -1;
	for (uint32_t i = id_hash(id) & t->mask;; i = (i + 1) & t->mask) {
		if (t->val[i] < 0)
			return -1;
		if (t->key[i] == id)
			return t->val[i];
	}
}

static int idtab_put(struct idtab *t, uint64_t id, int32_t v);

static int idtab_grow(struct idtab *t)
{
	struct idtab n = { 0 };
	uint32_t size = t->val ? (t->mask + 1) * 2 : 64;

	n.key = malloc((size_t)size * sizeof(*n.key));
	n.val = malloc((size_t)size * sizeof(*n.val));
	if (!n.key || !n.val) {
		idtab_free(&n);
		return -ENOMEM;
	}
	n.mask = size - 1;
	idtab_clear(&n);
	for (uint32_t i = 0; t->val && i <= t->mask; i++)
		if (t->val[i] >= 0)
			idtab_put(&n, t->key[i], t->val[i]);
	idtab_free(t);
	*t = n;
	return 0;
}

static int idtab_put(struct idtab *t, uint64_t id, int32_t v)
{
	if (!t->val || (t->nr + 1) * 2 > t->mask + 1) {
		int err = idtab_grow(t);

		if (err)
			return err;
	}
	for (uint32_t i = id_hash(id) & t->mask;; i = (i + 1) & t->mask) {
		if (t->val[i] < 0) {
			t->key[i] = id;
			t->val[i] = v;
			t->nr++;
			return 0;
		}
		if (t->key[i] == id) {
			t->val[i] = v;
			return 0;
		}
	}
}

/* Removes id when it maps to v. */
static void idtab_del(struct idtab *t, uint64_t id, int32_t v)
{
	uint32_t i, j;

	if (!t->val)
		return;
	for (i = id_hash(id) & t->mask;; i = (i + 1) & t->mask) {
		if (t->val[i] < 0)
			return;
		if (t->key[i] == id)
			break;
	}
	if (t->val[i] != v)
		return;
	t->val[i] = -1;
	t->nr--;
	for (j = (i + 1) & t->mask; t->val[j] >= 0; j = (j + 1) & t->mask) {
		uint32_t h = id_hash(t->key[j]) & t->mask;

		/* Entry j may move to the hole i when its home is not in (i, j]. */
		if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
			t->key[i] = t->key[j];
			t->val[i] = t->val[j];
			t->val[j] = -1;
			i = j;
		}
	}
}

/* ---- writing -------------------------------------------------------------- */

void rec_buf_free(struct rec_buf *b)
{
	if (!b)
		return;
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

struct wr {
	struct rec_buf *b;
	int err;
};

static bool wr_room(struct wr *w, size_t n)
{
	struct rec_buf *b = w->b;

	if (w->err)
		return false;
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 4096;
		unsigned char *p;

		while (cap - b->len < n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			w->err = -ENOMEM;
			return false;
		}
		b->p = p;
		b->cap = cap;
	}
	return true;
}

static inline void put_u8(struct wr *w, uint8_t v)
{
	if (wr_room(w, 1))
		w->b->p[w->b->len++] = v;
}

static inline void put_var(struct wr *w, uint64_t v)
{
	unsigned char *p;

	if (!wr_room(w, 10))
		return;
	p = w->b->p + w->b->len;
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	w->b->len = (size_t)(p - w->b->p);
}

static inline uint64_t zz(uint64_t d)
{
	return (d << 1) ^ (uint64_t)((int64_t)d >> 63);
}

static inline uint64_t unzz(uint64_t z)
{
	return (z >> 1) ^ (0 - (z & 1));
}

static inline void put_zz(struct wr *w, uint64_t new, uint64_t old)
{
	put_var(w, zz(new - old));
}

static void put_str(struct wr *w, const char *s)
{
	size_t n;

	if (!s) {
		put_var(w, 0);
		return;
	}
	n = strlen(s);
	put_var(w, n + 1);
	if (wr_room(w, n)) {
		memcpy(w->b->p + w->b->len, s, n);
		w->b->len += n;
	}
}

static void put_f64(struct wr *w, double d)
{
	uint64_t u;

	memcpy(&u, &d, 8);
	if (!wr_room(w, 8))
		return;
	for (int i = 0; i < 8; i++)
		w->b->p[w->b->len++] = (unsigned char)(u >> (8 * i));
}

/* The changed columns of new against old (pred_age: the prediction of the
 * age column), then 0. */
static void put_diff(struct wr *w, struct wr *wv, const void *old, const void *new,
		     const struct rc_col *cols, int n, uint64_t pred_age)
{
	int last = -1;

	for (int i = 0; i < n; i++) {
		uint64_t o = (cols[i].flags & CF_AGE) ? pred_age : col_get(old, &cols[i]);
		uint64_t v = col_get(new, &cols[i]);

		if (v == o)
			continue;
		put_var(w, (uint64_t)(i - last));
		put_zz(wv, v, o);
		last = i;
	}
	put_var(w, 0);
}

static void put_dict(struct wr *w, const struct rc_col *cols, int n)
{
	put_var(w, (uint64_t)n);
	for (int i = 0; i < n; i++) {
		put_str(w, cols[i].name);
		put_u8(w, cols[i].width);
	}
}

static const struct cg_io_dev *dev_find(const struct cg_io_dev *io, uint32_t nr,
					uint32_t major, uint32_t minor)
{
	for (uint32_t i = 0; i < nr; i++)
		if (io[i].major == major && io[i].minor == minor)
			return &io[i];
	return NULL;
}

/* What device i of io is diffed from: the one of that major:minor in old,
 * unless io repeats it (then zeros). */
static const struct cg_io_dev *dev_base(const struct cg_io_dev *io, uint32_t i,
					const struct cg_io_dev *old, uint32_t nr_old)
{
	for (uint32_t k = 0; k < i; k++)
		if (io[k].major == io[i].major && io[k].minor == io[i].minor)
			return NULL;
	return dev_find(old, nr_old, io[i].major, io[i].minor);
}

static void put_io(struct wr *w, struct wr *wv, const struct cg_io_dev *io, uint32_t nr,
		   const struct cg_io_dev *old, uint32_t nr_old)
{
	put_var(w, nr);
	for (uint32_t i = 0; i < nr && io; i++) {
		const struct cg_io_dev *d = &io[i];
		const struct cg_io_dev *o = dev_base(io, i, old, nr_old);

		put_var(w, d->major);
		put_var(w, d->minor);
		put_var(w, d->have);
		if (!d->name) {
			put_var(w, 0);
		} else if (o && str_eq(o->name, d->name)) {
			put_var(w, 1);
		} else {
			put_var(w, 2);
			put_str(w, d->name);
		}
		put_diff(w, wv, o ? o : &zero_dev, d, dcols, nr_dcols, 0);
	}
}

static bool io_equal(const struct cg_io_dev *a, uint32_t na, const struct cg_io_dev *b,
		     uint32_t nb)
{
	if (na != nb)
		return false;
	for (uint32_t i = 0; i < na; i++) {
		if (a[i].major != b[i].major || a[i].minor != b[i].minor ||
		    a[i].have != b[i].have || memcmp(a[i].v, b[i].v, sizeof(a[i].v)) ||
		    !str_eq(a[i].name, b[i].name))
			return false;
	}
	return true;
}

static void put_meta(struct wr *w, const struct cg_sample *s, int32_t parent_slot)
{
	const char **v[NR_STR];

	put_var(w, s->id);
	put_var(w, parent_slot < 0 ? 0 : (uint64_t)parent_slot + 1);
	put_var(w, s->parent_id);
	put_var(w, s->depth);
	put_var(w, (uint64_t)s->ident.kind);
	put_var(w, (uint64_t)s->ident.runtime);
	put_var(w, (uint64_t)s->ident.qos);
	ident_strs((struct cg_sample *)s, v);
	for (int i = 0; i < NR_STR; i++)
		put_str(w, *v[i]);
}

static void put_rates(struct wr *w, const struct cg_rates *r)
{
	put_var(w, r->have);
	for (int i = 0; i < NR_RATE_DOUBLES; i++) {
		double d;

		memcpy(&d, (const unsigned char *)r + rate_doubles[i], sizeof(d));
		put_f64(w, d);
	}
	put_var(w, r->mem_working_set_bytes);
}

static void put_carried_rates(struct wr *w, const struct cg_sample *s)
{
	const struct cg_rates *r = &s->rate;

	if (s->carried & CG_HAVE_IO_STAT) {
		put_u8(w, (r->have & CG_RATE_IO) ? 1 : 0);
		put_f64(w, r->io_read_bytes_per_sec);
		put_f64(w, r->io_write_bytes_per_sec);
		put_f64(w, r->io_read_ios_per_sec);
		put_f64(w, r->io_write_ios_per_sec);
	}
	if (s->carried & CG_HAVE_MEM_STAT) {
		put_u8(w, (uint8_t)(((r->have & CG_RATE_PGFAULT) ? 1 : 0) |
				    ((r->have & CG_RATE_PGMAJFAULT) ? 2 : 0)));
		put_f64(w, r->pgfault_per_sec);
		put_f64(w, r->pgmajfault_per_sec);
	}
}

/* ---- the encoder ---------------------------------------------------------- */

/*
 * Per cgroup, what a tick compares against. The hot part is read for every
 * cgroup every tick, so it is small and holds a fingerprint of the value
 * regions (64 bits, not a copy: reading a copy doubles the memory a tick
 * walks) and the identity strings in one block; the cold part, the values
 * as last recorded, is read only for a cgroup that changed.
 */
struct enc_slot {
	uint64_t id, parent_id;
	uint64_t vhash, rhash;		/* of the value regions, of the rates */
	uint64_t read_usec, age;	/* read_usec, carried_age_usec */
	uint32_t carried;
	uint32_t gen;			/* the tick it was last seen in */
	uint32_t rm_gen;		/* the tick its removal was recorded in */
	int32_t parent_slot;
	uint32_t depth;
	uint8_t kind, runtime, qos;
	bool live;
	bool changed;			/* its values changed in the last tick */
	uint32_t nr_io;
	char *idblob;			/* NR_STR of: 0 (NULL) | 1 bytes NUL */
	struct cg_io_dev *io;		/* names owned */
};

struct enc_cold {
	struct cg_sample s;		/* values as last recorded; pointers unused */
};

struct rec_encoder {
	bool have_prev;
	uint64_t seq, mono, wall, interval;
	char *root;
	struct cg_snapshot hs;		/* host and self of the last tick */
	struct enc_slot *slots;
	struct enc_cold *cold;
	size_t nr_slots, cap_slots, cap_cold;
	uint32_t *freel;
	size_t nr_free, cap_free;
	struct idtab ids;
	uint32_t *order;		/* the last tick's slots, in sample order */
	size_t nr_order, cap_order;
	int32_t *cur;			/* this tick: slot per sample */
	uint8_t *born;			/* this tick: 1 born, else what changed << 1 */
	size_t cap_cur, cap_born;
	int32_t *rm;			/* this tick: slot per removed, -1 in full */
	size_t cap_rm;
	struct rec_buf sa, sb;		/* the values section's two parts */
	uint32_t gen;
};

int rec_encoder_new(struct rec_encoder **out)
{
	struct rec_encoder *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	cols_init();
	*out = e;
	return 0;
}

static void slot_clear(struct enc_slot *sl)
{
	free(sl->idblob);
	sl->idblob = NULL;
	for (uint32_t i = 0; i < sl->nr_io; i++)
		free((char *)sl->io[i].name);
	free(sl->io);
	sl->io = NULL;
	sl->nr_io = 0;
	sl->live = false;
}

void rec_encoder_reset(struct rec_encoder *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nr_slots; i++)
		slot_clear(&e->slots[i]);
	e->nr_slots = 0;
	e->nr_free = 0;
	e->nr_order = 0;
	idtab_clear(&e->ids);
	e->have_prev = false;
}

void rec_encoder_free(struct rec_encoder *e)
{
	if (!e)
		return;
	rec_encoder_reset(e);
	free(e->slots);
	free(e->cold);
	free(e->freel);
	idtab_free(&e->ids);
	free(e->order);
	free(e->cur);
	free(e->born);
	free(e->rm);
	free(e->root);
	rec_buf_free(&e->sa);
	rec_buf_free(&e->sb);
	free(e);
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static char *dup_opt(const char *s, int *err)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*err = -ENOMEM;
	return d;
}

/* A 64-bit fingerprint of n bytes (a multiple of 8) at p, four lanes so
 * that it runs at the speed of memory. */
static inline void fp_words(uint64_t h[4], const unsigned char *p, size_t n)
{
	size_t i = 0;

	for (; i + 32 <= n; i += 32) {
		uint64_t w[4];

		memcpy(w, p + i, 32);
		h[0] = (h[0] ^ w[0]) * 0x9e3779b97f4a7c15ull;
		h[1] = (h[1] ^ w[1]) * 0xc2b2ae3d27d4eb4full;
		h[2] = (h[2] ^ w[2]) * 0x165667b19e3779f9ull;
		h[3] = (h[3] ^ w[3]) * 0x27d4eb2f165667c5ull;
	}
	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		h[0] = (h[0] ^ w) * 0x9e3779b97f4a7c15ull;
		h[0] ^= h[0] >> 29;
	}
}

static inline uint64_t fp_end(const uint64_t h[4])
{
	uint64_t x = h[0] ^ (h[1] * 0xff51afd7ed558ccdull) ^ (h[2] * 0xc4ceb9fe1a85ec53ull) ^
		     ((h[3] << 31) | (h[3] >> 33));

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static uint64_t values_fp(const struct cg_sample *x)
{
	const unsigned char *p = (const void *)x;
	uint64_t h[4] = { 1, 2, 3, 4 };

	fp_words(h, p + REG1_LO, REG1_HI - REG1_LO);
	fp_words(h, p + REG2_LO, REG2_HI - REG2_LO);
	fp_words(h, p + REG3_LO, REG3_HI - REG3_LO);
	return fp_end(h);
}

static uint64_t rates_fp(const struct cg_rates *r)
{
	uint64_t h[4] = { 5, 6, 7, 8 };

	_Static_assert(sizeof(*r) % 8 == 0, "cg_rates: whole words");
	fp_words(h, (const unsigned char *)r, sizeof(*r));
	return fp_end(h);
}

static int slot_set_meta(struct enc_slot *sl, const struct cg_sample *s, int32_t parent_slot)
{
	const char **v[NR_STR];
	size_t len = 0;
	char *b, *q;

	ident_strs((struct cg_sample *)s, v);
	for (int i = 0; i < NR_STR; i++)
		len += *v[i] ? strlen(*v[i]) + 2 : 1;
	b = malloc(len);
	if (!b)
		return -ENOMEM;
	q = b;
	for (int i = 0; i < NR_STR; i++) {
		if (!*v[i]) {
			*q++ = 0;
			continue;
		}
		*q++ = 1;
		q = stpcpy(q, *v[i]) + 1;
	}
	free(sl->idblob);
	sl->idblob = b;
	sl->parent_slot = parent_slot;
	sl->id = s->id;
	sl->parent_id = s->parent_id;
	sl->depth = s->depth;
	sl->kind = (uint8_t)s->ident.kind;
	sl->runtime = (uint8_t)s->ident.runtime;
	sl->qos = (uint8_t)s->ident.qos;
	return 0;
}

static bool slot_meta_equal(const struct enc_slot *sl, const struct cg_sample *s,
			    int32_t parent_slot)
{
	const char **v[NR_STR];
	const char *q = sl->idblob;

	if (sl->parent_slot != parent_slot || sl->parent_id != s->parent_id ||
	    sl->depth != s->depth || sl->kind != (uint8_t)s->ident.kind ||
	    sl->runtime != (uint8_t)s->ident.runtime || sl->qos != (uint8_t)s->ident.qos ||
	    (unsigned)s->ident.kind > 255 || (unsigned)s->ident.runtime > 255 ||
	    (unsigned)s->ident.qos > 255 || !q)
		return false;
	ident_strs((struct cg_sample *)s, v);
	for (int i = 0; i < NR_STR; i++) {
		if (!*q++) {
			if (*v[i])
				return false;
			continue;
		}
		if (!*v[i] || strcmp(q, *v[i]))
			return false;
		q += strlen(q) + 1;
	}
	return true;
}

static int slot_set_io(struct enc_slot *sl, const struct cg_sample *s)
{
	uint32_t nr = s->io ? s->nr_io : 0;
	int err = 0;

	for (uint32_t i = 0; i < sl->nr_io; i++)
		free((char *)sl->io[i].name);
	free(sl->io);
	sl->io = NULL;
	sl->nr_io = 0;
	if (!nr)
		return 0;
	sl->io = malloc(nr * sizeof(*sl->io));
	if (!sl->io)
		return -ENOMEM;
	for (uint32_t i = 0; i < nr; i++) {
		sl->io[i] = s->io[i];
		sl->io[i].name = dup_opt(s->io[i].name, &err);
	}
	sl->nr_io = nr;
	return err;
}

/* Records x's values in slot k. */
static void slot_set_values(struct rec_encoder *e, uint32_t k, const struct cg_sample *x,
			    uint64_t vhash)
{
	struct enc_slot *sl = &e->slots[k];

	values_copy(&e->cold[k].s, x);
	sl->vhash = vhash;
	sl->carried = x->carried;
}

/* A removed sample is written as a reference when it is the slot's last
 * recorded sample (the collector copies it from the tick before). */
static bool removed_is_slot(const struct rec_encoder *e, uint32_t k, const struct cg_sample *r)
{
	const struct enc_slot *sl = &e->slots[k];

	return sl->live && sl->read_usec == r->read_usec && sl->age == r->carried_age_usec &&
	       sl->vhash == values_fp(r) && values_equal(&e->cold[k].s, r) &&
	       sl->rhash == rates_fp(&r->rate) && slot_meta_equal(sl, r, sl->parent_slot) &&
	       io_equal(sl->io, sl->nr_io, r->io, r->io ? r->nr_io : 0);
}

static void put_removed_full(struct wr *w, const struct cg_sample *r)
{
	put_var(w, 1);
	put_meta(w, r, -1);
	put_var(w, r->read_usec);
	put_diff(w, w, &zero_sample, r, scols, nr_scols, 0);
	put_io(w, w, r->io, r->io ? r->nr_io : 0, NULL, 0);
	put_rates(w, &r->rate);
}

static void put_tail(struct wr *w, const struct cg_snapshot *s, const struct rec_action *acts,
		     size_t nr_acts)
{
	size_t nr_oom = s->oom ? s->nr_oom : 0;

	put_var(w, s->added ? s->nr_added : 0);
	for (size_t i = 0; s->added && i < s->nr_added; i++)
		put_var(w, s->added[i]);
	put_var(w, nr_oom);
	for (size_t i = 0; i < nr_oom; i++) {
		const struct cg_oom_event *o = &s->oom[i];
		char comm[sizeof(o->comm) + 1];

		memcpy(comm, o->comm, sizeof(o->comm));
		comm[sizeof(o->comm)] = 0;
		put_zz(w, o->time_usec, s->wall_usec);
		put_var(w, o->cgroup_id);
		put_str(w, o->path);
		put_var(w, o->pid);
		put_str(w, comm);
	}
	put_var(w, acts ? nr_acts : 0);
	for (size_t i = 0; acts && i < nr_acts; i++) {
		const struct rec_action *a = &acts[i];

		put_zz(w, a->time_usec, s->wall_usec);
		put_var(w, a->cgroup_id);
		put_str(w, a->rule);
		put_str(w, a->action);
		put_str(w, a->result);
		put_u8(w, (uint8_t)((a->restore ? 1 : 0) | (a->dry_run ? 2 : 0) |
				    (a->blocked ? 4 : 0)));
		put_str(w, a->json);
	}
}

static int alloc_slot(struct rec_encoder *e, uint32_t *out)
{
	size_t cap = e->cap_slots;

	if (e->nr_free) {
		*out = e->freel[--e->nr_free];
		return 0;
	}
	if (grow((void **)&e->slots, &cap, e->nr_slots + 1, sizeof(*e->slots)) ||
	    grow((void **)&e->cold, &e->cap_cold, e->nr_slots + 1, sizeof(*e->cold)))
		return -ENOMEM;
	if (cap > e->cap_slots)
		memset(e->slots + e->cap_slots, 0, (cap - e->cap_slots) * sizeof(*e->slots));
	e->cap_slots = cap;
	*out = (uint32_t)e->nr_slots++;
	return 0;
}

static int32_t parent_slot_of(const struct rec_encoder *e, const struct cg_snapshot *s,
			      const struct cg_sample *x)
{
	if (x->parent < 0 || (size_t)x->parent >= s->nr_samples)
		return -1;
	return e->cur[x->parent];
}

/* Slot k takes the new cgroup x: identity, values, devices. */
static int slot_birth(struct rec_encoder *e, uint32_t k, const struct cg_sample *x, int32_t ps)
{
	struct enc_slot *sl = &e->slots[k];
	int err;

	memset(&e->cold[k].s, 0, sizeof(e->cold[k].s));
	slot_set_values(e, k, x, values_fp(x));
	sl->read_usec = x->read_usec;
	sl->age = x->carried_age_usec;
	sl->rhash = rates_fp(&x->rate);
	sl->changed = true;
	sl->live = true;
	sl->gen = e->gen;
	err = slot_set_meta(sl, x, ps);
	err = err ? err : slot_set_io(sl, x);
	if (!err) {
		int32_t o = idtab_get(&e->ids, x->id);

		/* The decoder refuses an id twice in one tick. */
		if (o >= 0 && o != (int32_t)k && e->slots[o].live && e->slots[o].gen == e->gen)
			return -EINVAL;
	}
	return err ? err : idtab_put(&e->ids, x->id, (int32_t)k);
}

static int encode_keyframe(struct rec_encoder *e, const struct cg_snapshot *s,
			   struct wr *w)
{
	uint64_t last_read = s->mono_usec;
	int err = 0;

	rec_encoder_reset(e);
	put_var(w, REC_VERSION);
	put_var(w, s->seq);
	put_var(w, s->mono_usec);
	put_var(w, s->wall_usec);
	put_var(w, s->interval_usec);
	put_str(w, s->root);
	put_dict(w, scols, nr_scols);
	put_dict(w, dcols, nr_dcols);
	put_dict(w, hcols, NR_HCOLS);
	put_var(w, s->removed ? s->nr_removed : 0);
	for (size_t i = 0; s->removed && i < s->nr_removed; i++)
		put_removed_full(w, &s->removed[i]);

	for (size_t i = 0; i < s->nr_samples; i++) {
		uint32_t slot;

		if (alloc_slot(e, &slot))
			return -ENOMEM;
		e->cur[i] = (int32_t)slot;
	}
	put_var(w, s->nr_samples);
	for (size_t i = 0; i < s->nr_samples; i++) {
		const struct cg_sample *x = &s->samples[i];
		int32_t ps = parent_slot_of(e, s, x);

		put_meta(w, x, ps);
		put_diff(w, w, &zero_sample, x, scols, nr_scols, 0);
		put_io(w, w, x->io, x->io ? x->nr_io : 0, NULL, 0);
		err = err ? err : slot_birth(e, (uint32_t)i, x, ps);
	}
	for (size_t i = 0; i < s->nr_samples; i++) {
		put_zz(w, s->samples[i].read_usec, last_read);
		last_read = s->samples[i].read_usec;
	}
	for (size_t i = 0; i < s->nr_samples; i++)
		put_carried_rates(w, &s->samples[i]);
	return err;
}

static int encode_delta(struct rec_encoder *e, const struct cg_snapshot *s, struct wr *w)
{
	struct wr wa = { .b = &e->sa }, wb = { .b = &e->sb };
	size_t nr_rm = s->removed ? s->nr_removed : 0, nr_births = 0, nr_dead = 0;
	size_t nr_meta = 0, nr_changed = 0;
	uint64_t last_read, adv;
	bool predicted = true;
	int32_t last_slot = 0;
	int err = 0;

	if (grow((void **)&e->rm, &e->cap_rm, nr_rm, sizeof(*e->rm)))
		return -ENOMEM;
	put_zz(w, s->seq, e->seq);
	put_zz(w, s->mono_usec, e->mono);
	put_zz(w, s->wall_usec, e->wall);
	put_zz(w, s->interval_usec, e->interval);
	if (str_eq(s->root, e->root)) {
		put_var(w, 0);
	} else {
		put_var(w, 1);
		put_str(w, s->root);
	}

	/* removed: by reference to the slot's last sample when it is that */
	for (size_t i = 0; i < nr_rm; i++) {
		const struct cg_sample *r = &s->removed[i];
		int32_t slot = idtab_get(&e->ids, r->id);

		e->rm[i] = -1;
		if (slot < 0 || !e->slots[slot].live || e->slots[slot].rm_gen == e->gen)
			continue;
		/* A cgroup removed is gone, even if its id is back in samples
		 * (a new cgroup took it over): the decoder checks the same. */
		if (removed_is_slot(e, (uint32_t)slot, r))
			e->rm[i] = slot;
		e->slots[slot].rm_gen = e->gen;
	}
	put_var(w, nr_rm);
	for (size_t i = 0; i < nr_rm; i++) {
		if (e->rm[i] >= 0) {
			put_var(w, 0);
			put_var(w, (uint64_t)e->rm[i]);
		} else {
			put_removed_full(w, &s->removed[i]);
		}
	}

	/* which samples go on in their slot */
	for (size_t i = 0; i < s->nr_samples; i++) {
		int32_t slot = idtab_get(&e->ids, s->samples[i].id);

		e->born[i] = 1;
		e->cur[i] = -1;
		if (slot >= 0 && e->slots[slot].rm_gen != e->gen && e->slots[slot].gen != e->gen) {
			e->cur[i] = slot;
			e->born[i] = 0;
			e->slots[slot].gen = e->gen;
		} else {
			nr_births++;
		}
	}
	/* deaths: slots of the last tick not seen in this one */
	for (size_t j = 0; j < e->nr_order; j++)
		if (e->slots[e->order[j]].gen != e->gen)
			nr_dead++;
	put_var(w, nr_dead);
	for (size_t j = 0; j < e->nr_order; j++)
		if (e->slots[e->order[j]].gen != e->gen)
			put_var(w, e->order[j]);
	/* births take free slots of earlier ticks, never one dying now */
	for (size_t i = 0; i < s->nr_samples; i++) {
		uint32_t slot;

		if (!e->born[i])
			continue;
		if (alloc_slot(e, &slot))
			return -ENOMEM;
		e->cur[i] = (int32_t)slot;
		e->slots[slot].gen = e->gen;
	}
	for (size_t j = 0; j < e->nr_order; j++) {
		struct enc_slot *sl = &e->slots[e->order[j]];

		if (sl->gen == e->gen)
			continue;
		idtab_del(&e->ids, sl->id, (int32_t)e->order[j]);
		slot_clear(sl);
		if (grow((void **)&e->freel, &e->cap_free, e->nr_free + 1, sizeof(*e->freel)))
			return -ENOMEM;
		e->freel[e->nr_free++] = e->order[j];
	}

	put_var(w, nr_births);
	for (size_t i = 0; i < s->nr_samples; i++) {
		const struct cg_sample *x = &s->samples[i];
		int32_t ps;

		if (!e->born[i])
			continue;
		ps = parent_slot_of(e, s, x);
		put_var(w, (uint64_t)e->cur[i]);
		put_var(w, i);
		put_meta(w, x, ps);
		put_diff(w, w, &zero_sample, x, scols, nr_scols, 0);
		put_io(w, w, x->io, x->io ? x->nr_io : 0, NULL, 0);
		err = err ? err : slot_birth(e, (uint32_t)e->cur[i], x, ps);
	}

	/* identity changes: flagged in born[] (bit 7) on the way */
	for (size_t i = 0; i < s->nr_samples; i++)
		if (!e->born[i] && !slot_meta_equal(&e->slots[e->cur[i]], &s->samples[i],
						    parent_slot_of(e, s, &s->samples[i]))) {
			e->born[i] = 0x80;
			nr_meta++;
		}
	put_var(w, nr_meta);
	for (size_t i = 0; nr_meta && i < s->nr_samples; i++) {
		const struct cg_sample *x = &s->samples[i];
		int32_t ps = parent_slot_of(e, s, x);

		if (e->born[i] != 0x80)
			continue;
		e->born[i] = 0;
		put_var(w, (uint64_t)e->cur[i]);
		put_meta(w, x, ps);
		err = err ? err : slot_set_meta(&e->slots[e->cur[i]], x, ps);
	}

	/* order: as predicted (the last less the dead, births in place)? */
	{
		size_t j = 0;

		for (size_t i = 0; i < s->nr_samples && predicted; i++) {
			if (e->born[i])
				continue;
			while (j < e->nr_order && e->slots[e->order[j]].gen != e->gen)
				j++;
			if (j >= e->nr_order || e->order[j] != (uint32_t)e->cur[i])
				predicted = false;
			j++;
		}
	}
	if (predicted) {
		put_var(w, 0);
	} else {
		put_var(w, 1);
		put_var(w, s->nr_samples);
		for (size_t i = 0; i < s->nr_samples; i++)
			put_var(w, (uint64_t)e->cur[i]);
	}

	/* reads, and what changed */
	last_read = s->mono_usec;
	adv = s->mono_usec - e->mono;
	for (size_t i = 0; i < s->nr_samples; i++) {
		const struct cg_sample *x = &s->samples[i];
		struct enc_slot *sl;
		uint64_t pred_age, vh;
		unsigned what = 0;

		if (e->born[i]) {
			put_zz(w, x->read_usec, last_read);
			last_read = x->read_usec;
			continue;
		}
		sl = &e->slots[e->cur[i]];
		put_zz(w, x->read_usec, sl->read_usec + adv);
		adv = x->read_usec - sl->read_usec;
		last_read = x->read_usec;
		pred_age = sl->carried ? sl->age + adv : sl->age;
		vh = values_fp(x);
		if (x->carried_age_usec != pred_age || vh != sl->vhash)
			what |= 1;
		if (sl->nr_io != (x->io ? x->nr_io : 0) ||
		    (sl->nr_io && !io_equal(sl->io, sl->nr_io, x->io, x->nr_io)))
			what |= 2;
		/* born[] of a cgroup that goes on: what changed, for the next pass */
		e->born[i] = (uint8_t)(what << 1);
		nr_changed += what != 0;
		if (what & 1)
			sl->vhash = vh;
	}

	/* values of the cgroups that went on and changed: their slots and
	 * column indices (much the same tick after tick, which zstd finds
	 * as long repeats when nothing else is between them) apart from
	 * their values */
	wa.b->len = wb.b->len = 0;
	for (size_t i = 0; i < s->nr_samples; i++) {
		const struct cg_sample *x = &s->samples[i];
		struct enc_slot *sl;
		unsigned what = e->born[i] >> 1;
		uint32_t k;

		if (e->born[i] & 1)
			continue;
		k = (uint32_t)e->cur[i];
		sl = &e->slots[k];
		if (what) {
			uint64_t pred_age = sl->carried ? sl->age + (x->read_usec - sl->read_usec)
							: sl->age;

			put_zz(&wa, k, (uint64_t)last_slot);
			last_slot = (int32_t)k;
			put_var(&wa, what);
			if (what & 1) {
				put_diff(&wa, &wb, &e->cold[k].s, x, scols, nr_scols, pred_age);
				slot_set_values(e, k, x, sl->vhash);
			}
			if (what & 2) {
				put_io(&wa, &wb, x->io, x->io ? x->nr_io : 0, sl->io, sl->nr_io);
				err = err ? err : slot_set_io(sl, x);
			}
		}
		sl->read_usec = x->read_usec;
		sl->age = x->carried_age_usec;
		/* A cgroup idle for two ticks has the rates it had (nothing
		 * grew in either interval). A stale fingerprint could only
		 * make a removal be written in full, never wrongly by
		 * reference: it matches only rates equal to the ones it was
		 * taken of. */
		if (what || sl->changed)
			sl->rhash = rates_fp(&x->rate);
		sl->changed = what != 0;
	}
	if (wa.err || wb.err)
		return -ENOMEM;
	put_var(w, nr_changed);
	put_var(w, wa.b->len);
	put_var(w, wb.b->len);
	if (wa.b->len && wr_room(w, wa.b->len + wb.b->len)) {
		memcpy(w->b->p + w->b->len, wa.b->p, wa.b->len);
		if (wb.b->len)
			memcpy(w->b->p + w->b->len + wa.b->len, wb.b->p, wb.b->len);
		w->b->len += wa.b->len + wb.b->len;
	}
	if (s->seq != e->seq + 1)
		for (size_t i = 0; i < s->nr_samples; i++)
			put_carried_rates(w, &s->samples[i]);
	return err;
}

int rec_encode_tick(struct rec_encoder *e, const struct cg_snapshot *s,
		    const struct rec_action *acts, size_t nr_acts, bool keyframe,
		    struct rec_buf *buf)
{
	struct wr w = { .b = buf };
	size_t start;
	uint8_t flags;
	int err;

	if (!e || !s || !buf || (s->nr_samples && !s->samples))
		return -EINVAL;
	if (!keyframe && !e->have_prev)
		return -EINVAL;
	if (s->nr_samples >= MAX_SLOTS)
		return -E2BIG;
	start = buf->len;
	if (grow((void **)&e->cur, &e->cap_cur, s->nr_samples, sizeof(*e->cur)) ||
	    grow((void **)&e->born, &e->cap_born, s->nr_samples, sizeof(*e->born)) ||
	    grow((void **)&e->order, &e->cap_order, s->nr_samples, sizeof(*e->order)))
		return -ENOMEM;
	e->gen++;
	flags = keyframe ? F_KEY : 0;
	if (!keyframe && s->seq != e->seq + 1)
		flags |= F_GAP;
	put_u8(&w, flags);
	err = keyframe ? encode_keyframe(e, s, &w) : encode_delta(e, s, &w);
	if (!err) {
		put_tail(&w, s, acts, nr_acts);
		put_diff(&w, &w, keyframe ? &zero_snap : &e->hs, s, hcols, NR_HCOLS, 0);
	}
	if (!err && w.err)
		err = w.err;
	if (!err && !str_eq(e->root, s->root)) {
		free(e->root);
		e->root = dup_opt(s->root, &err);
	}
	if (err) {
		/* Half-updated slots: the next tick must be a keyframe. */
		buf->len = start;
		rec_encoder_reset(e);
		return err;
	}
	for (size_t i = 0; i < s->nr_samples; i++)
		e->order[i] = (uint32_t)e->cur[i];
	e->nr_order = s->nr_samples;
	e->hs.host = s->host;
	e->hs.self = s->self;
	e->seq = s->seq;
	e->mono = s->mono_usec;
	e->wall = s->wall_usec;
	e->interval = s->interval_usec;
	e->have_prev = true;
	return 0;
}

/* ---- reading -------------------------------------------------------------- */

struct rd {
	const unsigned char *p, *end;
	const char *why;
};

static void bad(struct rd *r, const char *why)
{
	if (!r->why)
		r->why = why;
	r->p = r->end;
}

static uint64_t get_var(struct rd *r)
{
	uint64_t v = 0;

	for (int i = 0; i < 10; i++) {
		unsigned c;

		if (r->p >= r->end) {
			bad(r, "truncated");
			return 0;
		}
		c = *r->p++;
		if (i == 9 && c > 1) {
			bad(r, "varint overflows 64 bits");
			return 0;
		}
		v |= (uint64_t)(c & 0x7f) << (7 * i);
		if (!(c & 0x80))
			return v;
	}
	bad(r, "varint longer than 10 bytes");
	return 0;
}

static uint8_t get_u8(struct rd *r)
{
	if (r->p >= r->end) {
		bad(r, "truncated");
		return 0;
	}
	return *r->p++;
}

static uint32_t get_u32(struct rd *r)
{
	uint64_t v = get_var(r);

	if (v > UINT32_MAX)
		bad(r, "value over 32 bits");
	return (uint32_t)v;
}

static double get_f64(struct rd *r)
{
	uint64_t u = 0;
	double d;

	if ((size_t)(r->end - r->p) < 8) {
		bad(r, "truncated");
		return 0;
	}
	for (int i = 0; i < 8; i++)
		u |= (uint64_t)r->p[i] << (8 * i);
	r->p += 8;
	memcpy(&d, &u, 8);
	return d;
}

/* A count of elements of at least min bytes each: never more than the
 * bytes left can hold. */
static size_t get_count(struct rd *r, size_t min)
{
	uint64_t n = get_var(r);

	if (n > (uint64_t)(r->end - r->p) / min) {
		bad(r, "count larger than the record");
		return 0;
	}
	return (size_t)n;
}

struct rstr {
	const char *p;
	size_t len;
	bool null;
};

static struct rstr get_str(struct rd *r)
{
	struct rstr s = { .null = true };
	uint64_t n = get_var(r);

	if (r->why || n == 0)
		return s;
	n--;
	if (n > (uint64_t)(r->end - r->p)) {
		bad(r, "string past the end");
		return s;
	}
	if (memchr(r->p, 0, n)) {
		bad(r, "NUL byte in a string");
		return s;
	}
	s.p = (const char *)r->p;
	s.len = (size_t)n;
	s.null = false;
	r->p += n;
	return s;
}

static char *rstr_dup(struct rstr s, int *err)
{
	char *d;

	if (s.null)
		return NULL;
	d = malloc(s.len + 1);
	if (!d) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(d, s.p, s.len);
	d[s.len] = 0;
	return d;
}

static const char *rstr_arena(struct cg_arena *a, struct rstr s, int *err)
{
	char *d;

	if (s.null)
		return NULL;
	d = arena_alloc(a, s.len + 1);
	if (!d) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(d, s.p, s.len);
	d[s.len] = 0;
	return d;
}

struct meta {
	uint64_t id, parent_ref, parent_id;
	uint32_t depth;
	uint8_t kind, runtime, qos;
	struct rstr str[NR_STR];
};

static void get_meta(struct rd *r, struct meta *m)
{
	uint64_t k, rt, q;

	m->id = get_var(r);
	m->parent_ref = get_var(r);
	m->parent_id = get_var(r);
	m->depth = get_u32(r);
	k = get_var(r);
	rt = get_var(r);
	q = get_var(r);
	if (k >= CG_KIND__COUNT || rt >= CG_RT__COUNT || q > CG_QOS_BESTEFFORT)
		bad(r, "identity kind out of range");
	if (m->parent_ref > MAX_SLOTS)
		bad(r, "parent slot out of range");
	m->kind = (uint8_t)k;
	m->runtime = (uint8_t)rt;
	m->qos = (uint8_t)q;
	for (int i = 0; i < NR_STR; i++)
		m->str[i] = get_str(r);
}

static void meta_ints(struct cg_sample *s, const struct meta *m)
{
	s->id = m->id;
	s->parent_id = m->parent_id;
	s->depth = m->depth;
	s->ident.kind = (enum cg_kind)m->kind;
	s->ident.runtime = (enum cg_runtime)m->runtime;
	s->ident.qos = (enum cg_k8s_qos)m->qos;
}

/* Column entries onto base: a file column c maps to local map[c] (-1:
 * unknown here, skipped). */
static void get_diff(struct rd *r, struct rd *rv, void *base, const struct rc_col *cols,
		     const int16_t *map, int nf)
{
	int64_t col = -1;

	for (;;) {
		uint64_t g = get_var(r), z, v;
		const struct rc_col *c;

		if (r->why || g == 0)
			return;
		if (g > (uint64_t)(nf - 1 - col)) {
			bad(r, "column past the dictionary");
			return;
		}
		col += (int64_t)g;
		z = get_var(rv);
		if (rv->why) {
			bad(r, rv->why);
			return;
		}
		if (map[col] < 0)
			continue;
		c = &cols[map[col]];
		v = col_get(base, c) + unzz(z);
		if (!col_fits(c, v)) {
			bad(r, "value wider than its column");
			return;
		}
		col_set(base, c, v);
	}
}

struct dec_slot {
	struct cg_sample s;		/* its strings are str[], its io is io */
	char *str[NR_STR];
	int64_t parent_slot;		/* -1: none */
	uint32_t nr_io;
	struct cg_io_dev *io;		/* names owned */
	int32_t prev_idx, cur_idx;	/* in the last tick's and this tick's samples */
	uint32_t died;			/* the tick it died in */
	uint32_t rm;			/* the tick it was listed in removed[] */
	bool live, born;
};

struct dsnap {
	struct cg_snapshot s;
	size_t cap_samples, cap_removed, cap_added, cap_oom;
};

struct rec_decoder {
	bool have_prev;
	struct dsnap snap[2];
	int cur;
	struct cg_snapshot hs;
	char *root;
	int nf[3];
	int16_t *map[3];		/* sample, device, host: file column -> ours */
	struct dec_slot *slots;
	size_t nr_slots, cap_slots, nr_live;
	uint32_t *order, *prev_order;
	size_t nr_order, nr_prev, cap_order, cap_prev;
	uint64_t *birth_pos;
	uint32_t *birth_slot;
	size_t cap_births, cap_bslot;
	struct rec_action *acts;
	size_t nr_acts, cap_acts;
	struct idtab prev_ids;
	struct idtab ids;		/* id -> slot of the live slots */
	uint32_t *rm_slots, *dead;	/* this tick: slots removed[] names, slots dead */
	size_t nr_rm_slots, cap_rm_slots, nr_dead, cap_dead;
	uint32_t tick;
	uint32_t events;
};

int rec_decoder_new(struct rec_decoder **out)
{
	struct rec_decoder *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	cols_init();
	for (int i = 0; i < 2; i++) {
		d->snap[i].s.arena = arena_new();
		if (!d->snap[i].s.arena) {
			rec_decoder_free(d);
			return -ENOMEM;
		}
	}
	*out = d;
	return 0;
}

static void dslot_clear(struct dec_slot *sl)
{
	for (int i = 0; i < NR_STR; i++) {
		free(sl->str[i]);
		sl->str[i] = NULL;
	}
	for (uint32_t i = 0; i < sl->nr_io; i++)
		free((char *)sl->io[i].name);
	free(sl->io);
	sl->io = NULL;
	sl->nr_io = 0;
	sl->live = false;
	sl->born = false;
	sl->prev_idx = sl->cur_idx = -1;
}

static void dec_clear_slots(struct rec_decoder *d)
{
	for (size_t i = 0; i < d->nr_slots; i++)
		dslot_clear(&d->slots[i]);
	d->nr_slots = 0;
	d->nr_live = 0;
	idtab_clear(&d->ids);
}

void rec_decoder_reset(struct rec_decoder *d)
{
	if (!d)
		return;
	dec_clear_slots(d);
	d->have_prev = false;
	d->nr_order = d->nr_prev = 0;
	d->events = 0;
	for (int i = 0; i < 3; i++) {
		free(d->map[i]);
		d->map[i] = NULL;
		d->nf[i] = 0;
	}
}

void rec_decoder_free(struct rec_decoder *d)
{
	if (!d)
		return;
	rec_decoder_reset(d);
	for (int i = 0; i < 2; i++) {
		struct cg_snapshot *s = &d->snap[i].s;

		arena_free(s->arena);
		free(s->samples);
		free(s->removed);
		free(s->added);
		free(s->oom);
	}
	free(d->slots);
	free(d->order);
	free(d->prev_order);
	free(d->birth_pos);
	free(d->birth_slot);
	free(d->acts);
	free(d->root);
	free(d->rm_slots);
	free(d->dead);
	idtab_free(&d->prev_ids);
	idtab_free(&d->ids);
	free(d);
}

uint32_t rec_decoder_events(const struct rec_decoder *d)
{
	return d ? d->events : 0;
}

static int get_dict(struct rd *r, const struct rc_col *cols, int n, int16_t **map, int *nf)
{
	size_t nr = get_count(r, 2);

	if (nr > MAX_COLS) {
		bad(r, "too many columns");
		return 0;
	}
	free(*map);
	*map = malloc((nr ? nr : 1) * sizeof(**map));
	*nf = 0;
	if (!*map)
		return -ENOMEM;
	for (size_t i = 0; i < nr && !r->why; i++) {
		struct rstr name = get_str(r);
		uint8_t w = get_u8(r);

		if (w != 1 && w != 4 && w != 8)
			bad(r, "column width not 1, 4 or 8");
		(*map)[i] = -1;
		for (int k = 0; k < n && !name.null; k++)
			if (strlen(cols[k].name) == name.len &&
			    memcmp(cols[k].name, name.p, name.len) == 0)
				(*map)[i] = (int16_t)k;
	}
	*nf = (int)nr;
	return 0;
}

/* Devices, against old (the slot's last ones): into the arena. */
static int get_io(struct rd *r, struct rd *rv, struct cg_arena *a, const struct rec_decoder *d,
		  const struct cg_io_dev *old, uint32_t nr_old, struct cg_io_dev **out,
		  uint32_t *nr_out)
{
	size_t n = get_count(r, 5);
	struct cg_io_dev *io = NULL;
	int err = 0;

	*out = NULL;
	*nr_out = 0;
	if (r->why || !n)
		return 0;
	if (n > MAX_DEVS) {
		bad(r, "too many devices");
		return 0;
	}
	io = arena_alloc(a, n * sizeof(*io));
	if (!io)
		return -ENOMEM;
	for (size_t i = 0; i < n && !r->why; i++) {
		struct cg_io_dev *x = &io[i];
		const struct cg_io_dev *o;
		uint64_t mode;

		memset(x, 0, sizeof(*x));
		x->major = get_u32(r);
		x->minor = get_u32(r);
		x->have = get_u32(r);
		o = dev_base(io, (uint32_t)i, old, nr_old);
		mode = get_var(r);
		if (mode == 1) {
			if (!o)
				bad(r, "device name of a device not there before");
			else
				x->name = o->name ? arena_strdup(a, o->name) : NULL;
			if (o && o->name && !x->name)
				err = -ENOMEM;
		} else if (mode == 2) {
			x->name = rstr_arena(a, get_str(r), &err);
		} else if (mode != 0) {
			bad(r, "device name mode");
		}
		if (o)
			memcpy(x->v, o->v, sizeof(x->v));
		get_diff(r, rv, x, dcols, d->map[1], d->nf[1]);
	}
	if (err || r->why)
		return err;	/* the devices after a bad one are not made */
	*out = io;
	*nr_out = (uint32_t)n;
	return 0;
}

static int slot_take_io(struct dec_slot *sl, const struct cg_io_dev *io, uint32_t nr)
{
	int err = 0;

	for (uint32_t i = 0; i < sl->nr_io; i++)
		free((char *)sl->io[i].name);
	free(sl->io);
	sl->io = NULL;
	sl->nr_io = 0;
	if (!nr)
		return 0;
	sl->io = malloc(nr * sizeof(*io));
	if (!sl->io)
		return -ENOMEM;
	for (uint32_t i = 0; i < nr; i++) {
		sl->io[i] = io[i];
		sl->io[i].name = dup_opt(io[i].name, &err);
	}
	sl->nr_io = nr;
	return err;
}

static int slot_take_meta(struct dec_slot *sl, const struct meta *m)
{
	const char **v[NR_STR];
	int err = 0;

	meta_ints(&sl->s, m);
	sl->parent_slot = (int64_t)m->parent_ref - 1;
	for (int i = 0; i < NR_STR; i++) {
		free(sl->str[i]);
		sl->str[i] = rstr_dup(m->str[i], &err);
	}
	ident_strs(&sl->s, v);
	for (int i = 0; i < NR_STR; i++)
		*v[i] = sl->str[i];
	return err;
}

static int need(void **p, size_t *cap, size_t n, size_t size)
{
	return grow(p, cap, n ? n : 1, size);
}

/* A removed sample in full, into the next snapshot. */
static int get_removed_full(struct rd *r, struct rec_decoder *d, struct cg_snapshot *ns,
			    struct cg_sample *x)
{
	const char **v[NR_STR];
	struct meta m;
	struct cg_io_dev *io;
	uint32_t nr_io;
	int err = 0;

	memset(x, 0, sizeof(*x));
	get_meta(r, &m);
	meta_ints(x, &m);
	x->parent = -1;
	ident_strs(x, v);
	for (int i = 0; i < NR_STR; i++)
		*v[i] = rstr_arena(ns->arena, m.str[i], &err);
	x->read_usec = get_var(r);
	get_diff(r, r, x, scols, d->map[0], d->nf[0]);
	err = err ? err : get_io(r, r, ns->arena, d, NULL, 0, &io, &nr_io);
	if (err)
		return err;
	x->io = io;
	x->nr_io = nr_io;
	x->rate.have = (uint32_t)get_var(r);
	for (int i = 0; i < NR_RATE_DOUBLES; i++) {
		double f = get_f64(r);

		memcpy((unsigned char *)&x->rate + rate_doubles[i], &f, sizeof(f));
	}
	x->rate.mem_working_set_bytes = get_var(r);
	return 0;
}

static int get_removed(struct rd *r, struct rec_decoder *d, struct cg_snapshot *ns,
		       const struct cg_snapshot *ps, struct dsnap *nd, bool key)
{
	size_t n = get_count(r, 2);
	int err;

	if (r->why)
		return 0;
	if (need((void **)&ns->removed, &nd->cap_removed, n, sizeof(*ns->removed)))
		return -ENOMEM;
	for (size_t i = 0; i < n && !r->why; i++) {
		struct cg_sample *x = &ns->removed[i];
		uint64_t mode = get_var(r);

		int32_t slot_of = -1;

		if (mode == 1) {
			err = get_removed_full(r, d, ns, x);
			slot_of = key ? -1 : idtab_get(&d->ids, x->id);
			if (slot_of >= 0 && !d->slots[slot_of].live)
				slot_of = -1;
		} else if (mode == 0 && !key) {
			uint64_t slot = get_var(r);
			struct dec_slot *sl = slot < d->nr_slots ? &d->slots[slot] : NULL;

			if (!sl || !sl->live || sl->prev_idx < 0 || !ps) {
				bad(r, "removed cgroup not in the tick before");
				break;
			}
			err = sample_copy_into(x, &ps->samples[sl->prev_idx], ns->arena);
			x->parent = -1;
			slot_of = (int32_t)slot;
		} else {
			bad(r, "removed cgroup mode");
			break;
		}
		if (err)
			return err;
		if (slot_of >= 0) {
			if (grow((void **)&d->rm_slots, &d->cap_rm_slots, d->nr_rm_slots + 1,
				 sizeof(*d->rm_slots)))
				return -ENOMEM;
			d->rm_slots[d->nr_rm_slots++] = (uint32_t)slot_of;
			d->slots[slot_of].rm = d->tick;
		}
		ns->nr_removed = i + 1;
	}
	return 0;
}

static int slots_room(struct rec_decoder *d, uint64_t slot)
{
	size_t cap = d->cap_slots;

	if (slot < d->nr_slots)
		return 0;
	if (grow((void **)&d->slots, &cap, d->nr_slots + 1, sizeof(*d->slots)))
		return -ENOMEM;
	if (cap > d->cap_slots)
		memset(d->slots + d->cap_slots, 0, (cap - d->cap_slots) * sizeof(*d->slots));
	d->cap_slots = cap;
	d->slots[d->nr_slots].prev_idx = d->slots[d->nr_slots].cur_idx = -1;
	d->nr_slots++;
	return 0;
}

/* A new cgroup in slot: meta, values from zeros, devices. */
static int get_born(struct rd *r, struct rec_decoder *d, struct cg_arena *a, uint64_t slot)
{
	struct dec_slot *sl;
	struct cg_io_dev *io;
	uint32_t nr_io;
	struct meta m;
	int err;

	if (slot > d->nr_slots || slot >= MAX_SLOTS) {
		bad(r, "slot out of range");
		return 0;
	}
	err = slots_room(d, slot);
	if (err)
		return err;
	sl = &d->slots[slot];
	if (sl->live || (sl->died == d->tick && d->tick)) {
		bad(r, "birth in a slot in use");
		return 0;
	}
	get_meta(r, &m);
	if (r->why)
		return 0;
	{
		int32_t o = idtab_get(&d->ids, m.id);

		/* ids are unique in a tick, and one that was in the tick
		 * before is a new cgroup only if removed[] says the old went */
		if (o >= 0 && (d->slots[o].live ||
			       (d->slots[o].died == d->tick && d->slots[o].rm != d->tick))) {
			bad(r, "cgroup id twice, or back without its removal");
			return 0;
		}
		if ((err = idtab_put(&d->ids, m.id, (int32_t)slot)))
			return err;
	}
	dslot_clear(sl);
	memset(&sl->s, 0, sizeof(sl->s));
	err = slot_take_meta(sl, &m);
	get_diff(r, r, &sl->s, scols, d->map[0], d->nf[0]);
	err = err ? err : get_io(r, r, a, d, NULL, 0, &io, &nr_io);
	err = err ? err : slot_take_io(sl, io, nr_io);
	sl->live = true;
	sl->born = true;
	d->nr_live++;
	return err;
}

static void carried_rates(struct rd *r, struct cg_sample *x)
{
	struct cg_rates *t = &x->rate;

	if (x->carried & CG_HAVE_IO_STAT) {
		uint8_t f = get_u8(r);

		t->have = (t->have & ~(uint32_t)CG_RATE_IO) | (f & 1 ? CG_RATE_IO : 0);
		t->io_read_bytes_per_sec = get_f64(r);
		t->io_write_bytes_per_sec = get_f64(r);
		t->io_read_ios_per_sec = get_f64(r);
		t->io_write_ios_per_sec = get_f64(r);
	}
	if (x->carried & CG_HAVE_MEM_STAT) {
		uint8_t f = get_u8(r);

		t->have &= ~(uint32_t)(CG_RATE_PGFAULT | CG_RATE_PGMAJFAULT);
		t->have |= (f & 1 ? CG_RATE_PGFAULT : 0) | (f & 2 ? CG_RATE_PGMAJFAULT : 0);
		t->pgfault_per_sec = get_f64(r);
		t->pgmajfault_per_sec = get_f64(r);
	}
}

/* The order of a delta tick: the last less the dead, births in place, or
 * given in full. */
static void get_order(struct rd *r, struct rec_decoder *d, size_t nr_births)
{
	uint64_t flag = get_var(r);
	size_t n = d->nr_live, k = 0, j = 0, b = 0;

	if (r->why)
		return;
	if (flag == 0) {
		for (k = 0; k < n; k++) {
			if (b < nr_births && d->birth_pos[b] == k) {
				d->order[k] = d->birth_slot[b++];
				continue;
			}
			while (j < d->nr_prev && !d->slots[d->prev_order[j]].live)
				j++;
			if (j >= d->nr_prev) {
				bad(r, "birth position past the end");
				return;
			}
			d->order[k] = d->prev_order[j++];
		}
		if (b != nr_births)
			bad(r, "birth position past the end");
	} else if (flag == 1) {
		if (get_var(r) != n) {
			bad(r, "order of another length");
			return;
		}
		for (k = 0; k < n && !r->why; k++) {
			uint64_t slot = get_var(r);

			if (slot >= d->nr_slots || !d->slots[slot].live ||
			    d->slots[slot].cur_idx >= 0) {
				bad(r, "order names a slot not live or twice");
				return;
			}
			d->order[k] = (uint32_t)slot;
			d->slots[slot].cur_idx = (int32_t)k;
		}
	} else {
		bad(r, "order mode");
	}
	for (k = 0; k < n && !r->why; k++)
		d->slots[d->order[k]].cur_idx = (int32_t)k;
}

static void get_tail(struct rd *r, struct rec_decoder *d, struct cg_snapshot *ns,
		     struct dsnap *nd, int *err)
{
	size_t n = get_count(r, 1);

	if (need((void **)&ns->added, &nd->cap_added, n, sizeof(*ns->added))) {
		*err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < n && !r->why; i++) {
		uint64_t v = get_var(r);

		if (v >= ns->nr_samples)
			bad(r, "added index past the samples");
		ns->added[i] = (uint32_t)v;
		ns->nr_added = i + 1;
	}
	n = get_count(r, 5);
	if (need((void **)&ns->oom, &nd->cap_oom, n, sizeof(*ns->oom))) {
		*err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < n && !r->why && !*err; i++) {
		struct cg_oom_event *o = &ns->oom[i];
		struct rstr comm;

		memset(o, 0, sizeof(*o));
		o->time_usec = ns->wall_usec + unzz(get_var(r));
		o->cgroup_id = get_var(r);
		o->path = rstr_arena(ns->arena, get_str(r), err);
		o->pid = get_u32(r);
		comm = get_str(r);
		if (comm.len > sizeof(o->comm))
			bad(r, "comm longer than 16 bytes");
		else if (!comm.null)
			memcpy(o->comm, comm.p, comm.len);
		ns->nr_oom = i + 1;
	}
	n = get_count(r, 9);
	if (need((void **)&d->acts, &d->cap_acts, n, sizeof(*d->acts))) {
		*err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < n && !r->why && !*err; i++) {
		struct rec_action *a = &d->acts[i];
		uint8_t f;

		memset(a, 0, sizeof(*a));
		a->time_usec = ns->wall_usec + unzz(get_var(r));
		a->cgroup_id = get_var(r);
		a->rule = rstr_arena(ns->arena, get_str(r), err);
		a->action = rstr_arena(ns->arena, get_str(r), err);
		a->result = rstr_arena(ns->arena, get_str(r), err);
		f = get_u8(r);
		if (f > 7)
			bad(r, "action flags");
		a->restore = f & 1;
		a->dry_run = f & 2;
		a->blocked = f & 4;
		a->json = rstr_arena(ns->arena, get_str(r), err);
		d->nr_acts = i + 1;
	}
}

static int decode(struct rec_decoder *d, struct rd *r)
{
	uint8_t flags = get_u8(r);
	bool key = flags & F_KEY;
	int nxt = d->cur ^ 1;
	struct dsnap *nd = &d->snap[nxt];
	struct cg_snapshot *ns = &nd->s;
	const struct cg_snapshot *ps = d->have_prev ? &d->snap[d->cur].s : NULL;
	size_t nr_births = 0, n;
	bool cont;
	int err = 0;

	if (r->why)
		return -EBADMSG;
	if (flags & ~(F_KEY | F_GAP) || (key && (flags & F_GAP))) {
		bad(r, "unknown tick flags");
		return -EBADMSG;
	}
	if (!key && !d->have_prev)
		return -ENOENT;
	d->tick++;
	d->nr_rm_slots = d->nr_dead = 0;
	arena_reset(ns->arena);
	ns->nr_samples = ns->nr_removed = ns->nr_added = ns->nr_oom = 0;
	d->nr_acts = 0;

	if (key) {
		struct rstr root;

		if (get_var(r) != REC_VERSION) {
			bad(r, "tick format version unknown");
			return -EBADMSG;
		}
		ns->seq = get_var(r);
		ns->mono_usec = get_var(r);
		ns->wall_usec = get_var(r);
		ns->interval_usec = get_var(r);
		root = get_str(r);
		free(d->root);
		d->root = rstr_dup(root, &err);
		if (err)
			return err;
		if ((err = get_dict(r, scols, nr_scols, &d->map[0], &d->nf[0])) ||
		    (err = get_dict(r, dcols, nr_dcols, &d->map[1], &d->nf[1])) ||
		    (err = get_dict(r, hcols, NR_HCOLS, &d->map[2], &d->nf[2])))
			return err;
		if ((err = get_removed(r, d, ns, ps, nd, true)))
			return err;
		dec_clear_slots(d);
		n = get_count(r, 18);
		if (need((void **)&d->order, &d->cap_order, n, sizeof(*d->order)))
			return -ENOMEM;
		for (size_t i = 0; i < n && !r->why; i++) {
			if ((err = get_born(r, d, ns->arena, i)))
				return err;
			d->order[i] = (uint32_t)i;
			d->slots[i].cur_idx = (int32_t)i;
		}
		d->nr_order = n;
		memset(&d->hs, 0, sizeof(d->hs));
	} else {
		ns->seq = ps->seq + unzz(get_var(r));
		ns->mono_usec = ps->mono_usec + unzz(get_var(r));
		ns->wall_usec = ps->wall_usec + unzz(get_var(r));
		ns->interval_usec = ps->interval_usec + unzz(get_var(r));
		if (((flags & F_GAP) != 0) != (ns->seq != ps->seq + 1)) {
			bad(r, "gap flag does not match seq");
			return -EBADMSG;
		}
		{
			uint64_t f = get_var(r);

			if (f == 1) {
				free(d->root);
				d->root = rstr_dup(get_str(r), &err);
				if (err)
					return err;
			} else if (f != 0) {
				bad(r, "root mode");
			}
		}
		if ((err = get_removed(r, d, ns, ps, nd, false)))
			return err;
		/* deaths */
		n = get_count(r, 1);
		for (size_t i = 0; i < n && !r->why; i++) {
			uint64_t slot = get_var(r);

			if (slot >= d->nr_slots || !d->slots[slot].live) {
				bad(r, "death of a slot not live");
				break;
			}
			if (grow((void **)&d->dead, &d->cap_dead, d->nr_dead + 1, sizeof(*d->dead)))
				return -ENOMEM;
			d->dead[d->nr_dead++] = (uint32_t)slot;
			dslot_clear(&d->slots[slot]);
			d->slots[slot].died = d->tick;
			d->nr_live--;
		}
		for (size_t i = 0; i < d->nr_rm_slots && !r->why; i++)
			if (d->slots[d->rm_slots[i]].died != d->tick)
				bad(r, "a removed cgroup goes on");
		/* births */
		n = get_count(r, 20);
		if (need((void **)&d->birth_pos, &d->cap_births, n, sizeof(*d->birth_pos)))
			return -ENOMEM;
		if (need((void **)&d->birth_slot, &d->cap_bslot, n, sizeof(*d->birth_slot)))
			return -ENOMEM;
		for (size_t i = 0; i < n && !r->why; i++) {
			uint64_t slot = get_var(r), pos = get_var(r);

			if (i && pos <= d->birth_pos[i - 1])
				bad(r, "birth positions not ascending");
			if (r->why)
				break;
			d->birth_pos[i] = pos;
			d->birth_slot[i] = (uint32_t)slot;
			if ((err = get_born(r, d, ns->arena, slot)))
				return err;
			nr_births = i + 1;
		}
		/* identity changes */
		n = get_count(r, 17);
		for (size_t i = 0; i < n && !r->why; i++) {
			uint64_t slot = get_var(r);
			struct meta m;

			if (slot >= d->nr_slots || !d->slots[slot].live) {
				bad(r, "identity change of a slot not live");
				break;
			}
			get_meta(r, &m);
			if (!r->why && m.id != d->slots[slot].s.id) {
				/* the id is the cgroup: a new one is a birth */
				bad(r, "identity change of the id");
				break;
			}
			if (!r->why && (err = slot_take_meta(&d->slots[slot], &m)))
				return err;
		}
		if (need((void **)&d->order, &d->cap_order, d->nr_live, sizeof(*d->order)))
			return -ENOMEM;
		get_order(r, d, nr_births);
		d->nr_order = d->nr_live;
	}
	if (r->why)
		return -EBADMSG;

	/* reads */
	{
		uint64_t last = ns->mono_usec, adv = ps ? ns->mono_usec - ps->mono_usec : 0;

		for (size_t k = 0; k < d->nr_order && !r->why; k++) {
			struct dec_slot *sl = &d->slots[d->order[k]];
			uint64_t z = unzz(get_var(r));

			if (sl->born) {
				sl->s.read_usec = last + z;
			} else {
				uint64_t old = sl->s.read_usec;

				sl->s.read_usec = old + adv + z;
				adv = sl->s.read_usec - old;
				if (sl->s.carried)
					sl->s.carried_age_usec += adv;
			}
			last = sl->s.read_usec;
		}
	}
	/* values: slots and columns in one part, the values in the next */
	if (!key) {
		int64_t last = 0;
		uint64_t la, lb;
		struct rd ra, rb;

		n = get_count(r, 1);
		la = get_var(r);
		lb = get_var(r);
		if (r->why || la > (uint64_t)(r->end - r->p) ||
		    lb > (uint64_t)(r->end - r->p) - la || n > la / 2) {
			bad(r, "values section past the end");
			return -EBADMSG;
		}
		ra = (struct rd){ .p = r->p, .end = r->p + la };
		rb = (struct rd){ .p = r->p + la, .end = r->p + la + lb };
		r->p += la + lb;
		for (size_t i = 0; i < n && !ra.why; i++) {
			uint64_t slot = (uint64_t)last + unzz(get_var(&ra));
			uint64_t what = get_var(&ra);
			struct dec_slot *sl;

			if (ra.why)
				break;
			if (slot >= d->nr_slots || !d->slots[slot].live || d->slots[slot].born ||
			    what == 0 || what > 3) {
				bad(&ra, "values of a slot not going on");
				break;
			}
			last = (int64_t)slot;
			sl = &d->slots[slot];
			if (what & 1)
				get_diff(&ra, &rb, &sl->s, scols, d->map[0], d->nf[0]);
			if (what & 2) {
				struct cg_io_dev *io;
				uint32_t nr_io;

				err = get_io(&ra, &rb, ns->arena, d, sl->io, sl->nr_io, &io, &nr_io);
				if (!err && !ra.why)
					err = slot_take_io(sl, io, nr_io);
				if (err)
					return err;
			}
		}
		if (ra.why || rb.why)
			bad(r, ra.why ? ra.why : rb.why);
		else if (ra.p != ra.end || rb.p != rb.end)
			bad(r, "values section not used up");
	}
	if (r->why)
		return -EBADMSG;

	/* the samples, and their rates as the collector made them */
	if (need((void **)&ns->samples, &nd->cap_samples, d->nr_order, sizeof(*ns->samples)))
		return -ENOMEM;
	cont = ps && ps->seq + 1 == ns->seq;
	if (key && cont) {
		idtab_clear(&d->prev_ids);
		for (size_t i = 0; i < ps->nr_samples; i++)
			if ((err = idtab_put(&d->prev_ids, ps->samples[i].id, (int32_t)i)))
				return err;
	}
	d->events = 0;
	for (size_t k = 0; k < d->nr_order; k++) {
		struct dec_slot *sl = &d->slots[d->order[k]];
		struct cg_sample *x = &ns->samples[k];
		const struct cg_sample *p = NULL;

		*x = sl->s;
		x->parent = -1;
		if (sl->parent_slot >= 0) {
			if ((uint64_t)sl->parent_slot >= d->nr_slots ||
			    d->slots[sl->parent_slot].cur_idx < 0) {
				bad(r, "parent not in the tick");
				return -EBADMSG;
			}
			x->parent = d->slots[sl->parent_slot].cur_idx;
		}
		x->io = NULL;
		x->nr_io = sl->nr_io;
		if (sl->nr_io) {
			struct cg_io_dev *io = arena_alloc(ns->arena, sl->nr_io * sizeof(*io));

			if (!io)
				return -ENOMEM;
			memcpy(io, sl->io, sl->nr_io * sizeof(*io));
			x->io = io;
		}
		if (cont && key) {
			int32_t pi = idtab_get(&d->prev_ids, x->id);

			p = pi >= 0 ? &ps->samples[pi] : NULL;
		} else if (cont && !sl->born && sl->prev_idx >= 0) {
			p = &ps->samples[sl->prev_idx];
		}
		rates_compute(x, p, p ? x->read_usec - p->read_usec : 0);
		if (p && (x->memevents_have & p->memevents_have & (1u << CG_ME_OOM_KILL)) &&
		    x->memevents[CG_ME_OOM_KILL] > p->memevents[CG_ME_OOM_KILL])
			d->events |= REC_EV_OOM;
	}
	ns->nr_samples = d->nr_order;
	if (key || (flags & F_GAP))
		for (size_t k = 0; k < d->nr_order && !r->why; k++)
			carried_rates(r, &ns->samples[k]);

	get_tail(r, d, ns, nd, &err);
	if (err)
		return err;
	if (key)
		memset(&d->hs, 0, sizeof(d->hs));
	get_diff(r, r, &d->hs, hcols, d->map[2], d->nf[2]);
	if (!r->why && r->p != r->end)
		bad(r, "bytes after the tick");
	if (r->why)
		return -EBADMSG;

	for (size_t i = 0; i < d->nr_dead; i++)
		idtab_del(&d->ids, d->slots[d->dead[i]].s.id, (int32_t)d->dead[i]);
	ns->root = d->root;
	ns->host = d->hs.host;
	ns->self = d->hs.self;
	for (size_t i = 0; i < d->nr_slots; i++) {
		struct dec_slot *sl = &d->slots[i];

		sl->prev_idx = sl->live ? sl->cur_idx : -1;
		sl->cur_idx = -1;
		sl->born = false;
	}
	{
		uint32_t *t = d->prev_order;
		size_t c = d->cap_prev;

		d->prev_order = d->order;
		d->cap_prev = d->cap_order;
		d->nr_prev = d->nr_order;
		d->order = t;
		d->cap_order = c;
	}
	if (ns->nr_oom)
		d->events |= REC_EV_OOM;
	if (ns->nr_removed)
		d->events |= REC_EV_REMOVED;
	if (ns->nr_added)
		d->events |= REC_EV_ADDED;
	if (d->nr_acts)
		d->events |= REC_EV_ACTION;
	d->cur = nxt;
	d->have_prev = true;
	return 0;
}

int rec_decode_tick(struct rec_decoder *d, const void *buf, size_t len,
		    const struct cg_snapshot **out, const struct rec_action **acts,
		    size_t *nr_acts, const char **why)
{
	struct rd r = { .p = buf, .end = (const unsigned char *)buf + len };
	int err;

	if (!d || (!buf && len))
		return -EINVAL;
	if (!buf)
		r.p = r.end = (const unsigned char *)"";
	err = decode(d, &r);
	if (err) {
		if (err == -EBADMSG && why)
			*why = r.why ? r.why : "malformed tick";
		if (err != -ENOENT)
			rec_decoder_reset(d);
		return err;
	}
	if (out)
		*out = &d->snap[d->cur].s;
	if (acts)
		*acts = d->acts;
	if (nr_acts)
		*nr_acts = d->nr_acts;
	return 0;
}
