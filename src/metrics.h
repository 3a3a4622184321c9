/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one table of per-cgroup metrics (DESIGN.md "src/metrics"). One row per
 * metric, in the order of the JSON cgroup object; every face iterates it:
 * the JSON writer (json.c), the Prometheus renderer (prom.c), the policy
 * engine's metric names (policy.c, hence check-policy), and the dashboard's
 * columns, detail view and history (ui/).
 *
 * Row kinds beyond plain values:
 * - MK_OBJECT rows are the JSON objects that hold the rows under their id
 *   ("memory.stat", "psi.cpu.some"); when their presence test fails the
 *   object is null and the rows under it are not written.
 * - io.stat is per device: MK_DEVICES ("io.devices") is the map of devices,
 *   and the MK_DEV_KEY rows after it ("io.devices.*.rbytes") are read from
 *   each struct cg_io_dev with metric_read_dev(), not from the sample.
 * - MK_HIST is the run-queue histogram (an array in JSON, a Prometheus
 *   histogram); metric_get() does not read it.
 * - The memory.stat, memory.events and cpu.stat rows are made from the key
 *   lists in snapshot.h (CG_MEMSTAT_KEYS, ...): a kernel key added there is
 *   a metric everywhere.
 *
 * Host and self figures (struct cg_host, struct cg_self) are not in the
 * table: each of their names is written in one file only (json.c's host
 * and self objects, prom.c's host/self families), no consumer selects them
 * and no source is chosen for them, so a table would add a layer that
 * nothing iterates.
 */
#ifndef CGWARDEN_METRICS_H
#define CGWARDEN_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cgfile.h"
#include "snapshot.h"

#define M_KEY_ENUM_CPU(e, k, u) M_CPU_##e,
#define M_KEY_ENUM_MS(e, k, u) M_MEMSTAT_##e,
#define M_KEY_ENUM_ME(e, k, u) M_MEMEVENT_##e,
#define M_KEY_ENUM_IO(e, k, u) M_IO_DEV_##e,
#define M_PSI_LINE_ENUM(R, L) M_PSI_##R##_##L, M_PSI_##R##_##L##_AVG10, \
	M_PSI_##R##_##L##_AVG60, M_PSI_##R##_##L##_AVG300, M_PSI_##R##_##L##_TOTAL,
#define M_PSI_ENUM(R) M_PSI_##R, M_PSI_LINE_ENUM(R, SOME) M_PSI_LINE_ENUM(R, FULL)

/* The rows, in table (= JSON) order. A PSI resource's rows follow it as
 * some, its avg10, avg60, avg300, total_usec, then full and the same four:
 * the detail view counts on that layout (test_metrics checks it). */
enum metric_id {
	M_CPU,
	CG_CPU_KEYS(M_KEY_ENUM_CPU)
	M_CPU_MAX_QUOTA, M_CPU_MAX_PERIOD, M_CPU_WEIGHT,
	M_CPU_USAGE_RATIO, M_CPU_USER_RATIO, M_CPU_SYSTEM_RATIO, M_CPU_THROTTLED_RATIO,

	M_MEMORY,
	M_MEM_CURRENT, M_MEM_WORKING_SET, M_MEM_PEAK, M_MEM_MAX, M_MEM_HIGH, M_MEM_LOW,
	M_MEM_MIN, M_MEM_SWAP_CURRENT, M_MEM_SWAP_MAX,
	M_MEMSTAT,
	CG_MEMSTAT_KEYS(M_KEY_ENUM_MS)
	M_MEMEVENTS,
	CG_MEMEVENT_KEYS(M_KEY_ENUM_ME)
	M_MEM_PGFAULT_RATE, M_MEM_PGMAJFAULT_RATE, M_MEM_OOM_KILL_RATE, M_MEM_HIGH_RATE,
	M_MEM_MAX_RATE,

	M_IO,
	M_IO_DEVICES, M_IO_DEV_MAJOR, M_IO_DEV_MINOR,
	CG_IO_KEYS(M_KEY_ENUM_IO)
	M_IO_READ_BYTES_RATE, M_IO_WRITE_BYTES_RATE, M_IO_READ_IOS_RATE, M_IO_WRITE_IOS_RATE,

	M_PIDS, M_PIDS_CURRENT, M_PIDS_MAX,

	M_PSI,
	M_PSI_ENUM(CPU) M_PSI_ENUM(MEMORY) M_PSI_ENUM(IO)

	M_PROCS, M_THREADS, M_POPULATED, M_FROZEN,

	M_SCHED, M_SCHED_CTX_SWITCHES, M_SCHED_MIGRATIONS, M_SCHED_RUNQ_COUNT,
	M_SCHED_RUNQ_SUM, M_SCHED_RUNQ_HIST, M_SCHED_RUNQ_P50, M_SCHED_RUNQ_P99,
	M_SCHED_CTX_SWITCHES_RATE,
	M_NET, M_NET_RX_BYTES, M_NET_TX_BYTES, M_NET_RX_PACKETS, M_NET_TX_PACKETS,
	M_NET_RX_BYTES_RATE, M_NET_TX_BYTES_RATE, M_NET_RX_PACKETS_RATE, M_NET_TX_PACKETS_RATE,
	M_PROC, M_PROC_FORKS, M_PROC_EXECS, M_PROC_EXITS,
	M_OOM, M_OOM_KILLS,

	M__COUNT
};

enum metric_kind {
	MK_OBJECT,	/* JSON object of the rows under its id; null when absent */
	MK_COUNTER,	/* uint64_t that only grows */
	MK_GAUGE,	/* uint64_t */
	MK_LIMIT,	/* uint64_t; CG_UNLIMITED is the kernel's "max" */
	MK_RATE,	/* double, derived in rates.c */
	MK_PSI_AVG,	/* uint32_t, hundredths of a percent as the kernel prints */
	MK_BOOL,
	MK_HIST,	/* the run-queue histogram (CG_RUNQ_BUCKETS counts) */
	MK_DEVICES,	/* io.devices: one object per device, of the MK_DEV_KEY rows */
	MK_DEV_KEY,	/* a uint32_t/uint64_t of one struct cg_io_dev */
};

/* What a value counts; the dashboard's format and the policy's sizes
 * ("512M" only for bytes) follow from it. */
enum metric_unit {
	MU_NONE,	/* objects */
	MU_COUNT,
	MU_BYTES,
	MU_USEC,
	MU_RATIO,	/* 1.0 = one CPU, or a share of periods */
	MU_PER_SEC,
	MU_BYTES_PER_SEC,
	MU_USEC_P,	/* a latency in usec (not a sum of them) */
	MU_PERCENT,	/* PSI averages */
	MU_FLAG,
};

/* Where a value lives: a byte offset into struct cg_sample (struct
 * cg_io_dev for MK_DEV_KEY) and how it is stored. */
enum metric_vtype { MV_NONE, MV_U64, MV_U32, MV_DOUBLE, MV_BOOL, MV_NS_AS_US };

/* One presence test: (the word of size bytes at off) & mask. size 0: none. */
struct metric_test {
	uint16_t off;
	uint8_t size;
	uint64_t mask;
};

enum metric_flag {
	MF_POLICY	= 1u << 0,	/* a policy condition may name it (by its id) */
	MF_OMIT		= 1u << 1,	/* JSON: absent is left out, not null */
};

/* Prometheus export of a row. cAdvisor's transforms are kept as data. */
enum prom_type { PT_COUNTER, PT_GAUGE, PT_HISTOGRAM };
enum prom_scale { PS_NONE, PS_USEC, PS_NSEC };	/* usec, nsec -> seconds */
enum prom_xform {
	PX_NONE,
	PX_MAX_ZERO,		/* spec limits: "max" is 0, as cAdvisor */
	PX_SKIP_MAX,		/* no sample when unlimited (container_spec_cpu_quota) */
	PX_SHARES,		/* cpu.weight -> cpu.shares as runc maps them */
};

struct metric_prom {
	const char *name;	/* sample name; "..._total" for counters */
	const char *help;
	const char *labels;	/* extra labels, e.g. failure_type="pgfault",... */
	uint8_t type;		/* enum prom_type */
	uint8_t scale;		/* enum prom_scale */
	uint8_t xform;		/* enum prom_xform */
};

struct metric_def {
	const char *id;			/* JSON path, dotted: "memory.stat.anon" */
	uint8_t kind;			/* enum metric_kind */
	uint8_t unit;			/* enum metric_unit */
	uint8_t flags;			/* enum metric_flag */
	uint8_t vtype;			/* enum metric_vtype */
	int8_t psi_res;			/* enum cg_psi_resource of a PSI average, else -1 */
	bool psi_full;
	uint16_t off;			/* of the value */
	struct metric_test have[2];	/* all must hold */
	uint32_t files;			/* CGF_BIT()s of the files that feed it */
	uint32_t bpf;			/* CG_BPF_* flags that feed it */
	struct metric_prom prom;	/* name NULL: not exported */
};

extern const struct metric_def metric_defs[M__COUNT];

/* A value as read from a sample: u for the integer kinds (PSI hundredths,
 * bools as 0/1; 0 for rates), d as a double for every kind. */
struct metric_val {
	uint64_t u;
	double d;
};

/* The table's tree, worked out from the ids once: a row's parent object
 * row (-1 at the top), the row after the last one under it, and where its
 * last id component starts. For walkers that run per cgroup per tick. */
struct metric_tree {
	int16_t parent[M__COUNT];
	int16_t end[M__COUNT];
	uint8_t leaf[M__COUNT];
};
const struct metric_tree *metric_tree(void);

/* Row by JSON id; -ENOENT (negative) when there is none. */
int metric_find(const char *id);
/* The row's last id component: "usage_ratio". */
const char *metric_leaf(const struct metric_def *m);
/* The name the policy engine uses, or NULL when rules may not name it. */
const char *metric_policy_name(const struct metric_def *m);
/* The row's parent object row, -1 at the top. */
int metric_parent(enum metric_id id);
/* Whether row id lies under row obj (or is it). */
bool metric_under(enum metric_id id, enum metric_id obj);

static inline bool metric_test_holds(const void *base, const struct metric_test *t)
{
	const unsigned char *p = (const unsigned char *)base + t->off;

	switch (t->size) {
	case 0:
		return true;
	case 1:
		return *p & t->mask;
	case 4:
		return *(const uint32_t *)(const void *)p & t->mask;
	default:
		return *(const uint64_t *)(const void *)p & t->mask;
	}
}

/* Whether the row's own presence tests hold (its objects' unchecked). */
static inline bool metric_own_present(const void *base, const struct metric_def *m)
{
	return metric_test_holds(base, &m->have[0]) && metric_test_holds(base, &m->have[1]);
}

/* Reads a value row's value from base (a sample, or a device for
 * MK_DEV_KEY) whatever its presence. */
static inline void metric_read(const void *base, const struct metric_def *m,
			       struct metric_val *v)
{
	const unsigned char *p = (const unsigned char *)base + m->off;

	v->u = 0;
	v->d = 0;
	switch (m->vtype) {
	case MV_U64:
		v->u = *(const uint64_t *)(const void *)p;
		break;
	case MV_NS_AS_US:
		v->u = *(const uint64_t *)(const void *)p / 1000;
		break;
	case MV_U32:
		v->u = *(const uint32_t *)(const void *)p;
		break;
	case MV_BOOL:
		v->u = *(const bool *)(const void *)p;
		break;
	case MV_DOUBLE:
		v->d = *(const double *)(const void *)p;
		return;
	}
	v->d = (double)v->u;
}

/* Whether the row's presence tests (its own and its objects') hold in s.
 * For MK_DEV_KEY only the device map's. */
bool metric_present(const struct cg_sample *s, enum metric_id id);
/* The value of a value row; false when absent (*v untouched). */
bool metric_get(const struct cg_sample *s, enum metric_id id, struct metric_val *v);
/* The value of an MK_DEV_KEY row for one device. */
bool metric_read_dev(const struct cg_io_dev *d, enum metric_id id, struct metric_val *v);
/* The value as a number: rates as they are, PSI averages in percent,
 * CG_UNLIMITED as INFINITY. */
double metric_double(const struct metric_def *m, const struct metric_val *v);

/* ---- metric sets: what a consumer needs (demand-driven collection) ---- */

struct metric_set {
	uint64_t w[(M__COUNT + 63) / 64];
};

void metric_set_add(struct metric_set *set, enum metric_id id);
bool metric_set_has(const struct metric_set *set, enum metric_id id);
void metric_set_all(struct metric_set *set);
/* Adds every row under id (id itself included). */
void metric_set_add_under(struct metric_set *set, enum metric_id id);
/* The cg_file mask (CGF_BIT) of the files that feed the set. Identity and
 * tree structure need no file of this list: they are always collected. */
uint32_t metrics_files(const struct metric_set *set);
/* The CG_BPF_* flags that feed the set. */
uint32_t metrics_bpf(const struct metric_set *set);

/* The set a --fields list selects: every row under each dotted id (an id
 * may name an object, "psi.cpu", or a value). Identity members are not
 * rows; they name nothing here and are always written. Unknown ids are
 * skipped (json_fields_parse has refused them). */
void metric_set_from_ids(struct metric_set *set, const char *const *ids, size_t n);

#endif
