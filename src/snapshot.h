/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The data model every consumer reads: one snapshot of the whole cgroup tree.
 * Transparent structs; the collector fills them, everyone else gets const
 * pointers (DESIGN.md "Core data model").
 */
#ifndef CGWARDEN_SNAPSHOT_H
#define CGWARDEN_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* A limit written as "max" by the kernel. */
#define CG_UNLIMITED UINT64_MAX

/*
 * Key lists as X-macros, in the order the kernel prints them: the enums
 * below, the key names in snapshot.c and the metric table's rows
 * (metrics.c) are all made from these, so a key is added in one place.
 * X(ENUM_SUFFIX, kernel_key, unit) with unit B (bytes), N (a count) or
 * U (microseconds).
 */
#define CG_CPU_KEYS(X) \
	X(USAGE_USEC, usage_usec, U) X(USER_USEC, user_usec, U) \
	X(SYSTEM_USEC, system_usec, U) X(NR_PERIODS, nr_periods, N) \
	X(NR_THROTTLED, nr_throttled, N) X(THROTTLED_USEC, throttled_usec, U) \
	X(NR_BURSTS, nr_bursts, N) X(BURST_USEC, burst_usec, U)

#define CG_KEY_ENUM_CPU(e, k, u) CG_CPU_##e,
enum cg_cpu_key {
	CG_CPU_KEYS(CG_KEY_ENUM_CPU)
	CG_CPU__COUNT
};

/* memory.stat keys we keep; others are skipped (the kernel adds keys often). */
#define CG_MEMSTAT_KEYS(X) \
	X(ANON, anon, B) X(FILE, file, B) X(KERNEL, kernel, B) \
	X(KERNEL_STACK, kernel_stack, B) X(PAGETABLES, pagetables, B) \
	X(SEC_PAGETABLES, sec_pagetables, B) X(PERCPU, percpu, B) X(SOCK, sock, B) \
	X(VMALLOC, vmalloc, B) X(SHMEM, shmem, B) X(ZSWAP, zswap, B) \
	X(ZSWAPPED, zswapped, B) X(FILE_MAPPED, file_mapped, B) \
	X(FILE_DIRTY, file_dirty, B) X(FILE_WRITEBACK, file_writeback, B) \
	X(SWAPCACHED, swapcached, B) X(ANON_THP, anon_thp, B) X(FILE_THP, file_thp, B) \
	X(SHMEM_THP, shmem_thp, B) X(INACTIVE_ANON, inactive_anon, B) \
	X(ACTIVE_ANON, active_anon, B) X(INACTIVE_FILE, inactive_file, B) \
	X(ACTIVE_FILE, active_file, B) X(UNEVICTABLE, unevictable, B) \
	X(SLAB_RECLAIMABLE, slab_reclaimable, B) \
	X(SLAB_UNRECLAIMABLE, slab_unreclaimable, B) X(SLAB, slab, B) \
	X(WORKINGSET_REFAULT_ANON, workingset_refault_anon, N) \
	X(WORKINGSET_REFAULT_FILE, workingset_refault_file, N) \
	X(WORKINGSET_ACTIVATE_ANON, workingset_activate_anon, N) \
	X(WORKINGSET_ACTIVATE_FILE, workingset_activate_file, N) \
	X(WORKINGSET_RESTORE_ANON, workingset_restore_anon, N) \
	X(WORKINGSET_RESTORE_FILE, workingset_restore_file, N) \
	X(WORKINGSET_NODERECLAIM, workingset_nodereclaim, N) X(PGSCAN, pgscan, N) \
	X(PGSTEAL, pgsteal, N) X(PGSCAN_KSWAPD, pgscan_kswapd, N) \
	X(PGSCAN_DIRECT, pgscan_direct, N) X(PGSTEAL_KSWAPD, pgsteal_kswapd, N) \
	X(PGSTEAL_DIRECT, pgsteal_direct, N) X(PGFAULT, pgfault, N) \
	X(PGMAJFAULT, pgmajfault, N) X(PGREFILL, pgrefill, N) \
	X(PGACTIVATE, pgactivate, N) X(PGDEACTIVATE, pgdeactivate, N) \
	X(PGLAZYFREE, pglazyfree, N) X(PGLAZYFREED, pglazyfreed, N) \
	X(ZSWPIN, zswpin, N) X(ZSWPOUT, zswpout, N) \
	X(THP_FAULT_ALLOC, thp_fault_alloc, N) X(THP_COLLAPSE_ALLOC, thp_collapse_alloc, N)

#define CG_KEY_ENUM_MS(e, k, u) CG_MS_##e,
enum cg_memstat_key {
	CG_MEMSTAT_KEYS(CG_KEY_ENUM_MS)
	CG_MS__COUNT
};

/* memory.events keys. */
#define CG_MEMEVENT_KEYS(X) \
	X(LOW, low, N) X(HIGH, high, N) X(MAX, max, N) X(OOM, oom, N) \
	X(OOM_KILL, oom_kill, N) X(OOM_GROUP_KILL, oom_group_kill, N)

#define CG_KEY_ENUM_ME(e, k, u) CG_ME_##e,
enum cg_memevent_key {
	CG_MEMEVENT_KEYS(CG_KEY_ENUM_ME)
	CG_ME__COUNT
};

enum cg_psi_resource { CG_PSI_CPU, CG_PSI_MEMORY, CG_PSI_IO, CG_PSI__COUNT };

/* One line of a *.pressure file. Averages are in hundredths of a percent,
 * exactly the two decimals the kernel prints (no float round trip). */
struct cg_psi_line {
	uint32_t avg10, avg60, avg300;
	uint64_t total_usec;
};

struct cg_psi {
	bool have_some, have_full;	/* cpu "full" is absent before 5.13 */
	struct cg_psi_line some, full;
};

/* One device line of io.stat. Absent keys (e.g. dbytes before 5.x) are 0
 * with the bit clear in have. */
#define CG_IO_KEYS(X) \
	X(RBYTES, rbytes, B) X(WBYTES, wbytes, B) X(RIOS, rios, N) X(WIOS, wios, N) \
	X(DBYTES, dbytes, B) X(DIOS, dios, N)

#define CG_KEY_ENUM_IO(e, k, u) CG_IO_##e,
enum cg_io_key {
	CG_IO_KEYS(CG_KEY_ENUM_IO)
	CG_IO__COUNT
};

struct cg_io_dev {
	uint32_t major, minor;
	uint32_t have;			/* bit per enum cg_io_key */
	uint64_t v[CG_IO__COUNT];
	const char *name;		/* "vda" from /sys/dev/block, or NULL */
};

enum cg_kind {
	CG_KIND_OTHER, CG_KIND_CONTAINER, CG_KIND_POD, CG_KIND_SERVICE,
	CG_KIND_SCOPE, CG_KIND_SLICE, CG_KIND_SESSION,
	CG_KIND__COUNT
};

enum cg_runtime {
	CG_RT_NONE, CG_RT_DOCKER, CG_RT_CONTAINERD, CG_RT_CRIO, CG_RT_PODMAN,
	CG_RT_SYSTEMD, CG_RT_KUBERNETES,
	CG_RT__COUNT
};

enum cg_k8s_qos { CG_QOS_NONE, CG_QOS_GUARANTEED, CG_QOS_BURSTABLE, CG_QOS_BESTEFFORT };

/* Who a cgroup is. Strings are NULL when unknown. */
struct cg_identity {
	enum cg_kind kind;
	enum cg_runtime runtime;
	enum cg_k8s_qos qos;
	const char *name;		/* container/pod/unit name, else last path component */
	const char *container_id;	/* full runtime id */
	const char *short_id;		/* first 12 characters of container_id */
	const char *image;		/* image or unit description when known */
	const char *pod_uid;		/* Kubernetes pod uid (dashes) */
	const char *k8s_namespace, *k8s_pod, *k8s_container;
};

/* Which groups of fields are valid (struct cg_sample.have). */
enum cg_have {
	CG_HAVE_CPU_STAT	= 1u << 0,
	CG_HAVE_CPU_MAX		= 1u << 1,
	CG_HAVE_CPU_WEIGHT	= 1u << 2,
	CG_HAVE_MEM_CURRENT	= 1u << 3,
	CG_HAVE_MEM_PEAK	= 1u << 4,
	CG_HAVE_MEM_MAX		= 1u << 5,
	CG_HAVE_MEM_HIGH	= 1u << 6,
	CG_HAVE_MEM_LOW		= 1u << 7,
	CG_HAVE_MEM_MIN		= 1u << 8,
	CG_HAVE_MEM_STAT	= 1u << 9,
	CG_HAVE_MEM_EVENTS	= 1u << 10,
	CG_HAVE_SWAP_CURRENT	= 1u << 11,
	CG_HAVE_SWAP_MAX	= 1u << 12,
	CG_HAVE_IO_STAT		= 1u << 13,
	CG_HAVE_PIDS_CURRENT	= 1u << 14,
	CG_HAVE_PIDS_MAX	= 1u << 15,
	CG_HAVE_PSI_CPU		= 1u << 16,
	CG_HAVE_PSI_MEMORY	= 1u << 17,
	CG_HAVE_PSI_IO		= 1u << 18,
	CG_HAVE_PROCS		= 1u << 19,
	CG_HAVE_THREADS		= 1u << 20,
	CG_HAVE_EVENTS		= 1u << 21,	/* cgroup.events */
};

/* Which derived values are valid (struct cg_rates.have). A rate needs the
 * same cgroup in the previous snapshot and a counter that did not go
 * backwards; the values derived from one sample alone (working set) do not. */
enum cg_rate_have {
	CG_RATE_CPU_USAGE	= 1u << 0,
	CG_RATE_CPU_USER	= 1u << 1,
	CG_RATE_CPU_SYSTEM	= 1u << 2,
	CG_RATE_CPU_THROTTLED	= 1u << 3,	/* needs nr_periods to have grown */
	CG_RATE_IO		= 1u << 4,
	CG_RATE_PGFAULT		= 1u << 5,
	CG_RATE_PGMAJFAULT	= 1u << 6,
	CG_RATE_MEM_EVENTS	= 1u << 7,
	CG_RATE_RUNQ		= 1u << 8,	/* p50/p99 of this interval's delays */
	CG_RATE_NET		= 1u << 9,
	CG_RATE_SCHED		= 1u << 10,	/* ctx switches per second */
	CG_RATE_WORKING_SET	= 1u << 11,	/* from this sample alone */
};

struct cg_rates {
	uint32_t have;
	double cpu_usage_ratio;		/* 1.0 = one CPU busy */
	double cpu_user_ratio, cpu_system_ratio;
	double cpu_throttled_ratio;	/* throttled periods / periods in the interval */
	double io_read_bytes_per_sec, io_write_bytes_per_sec;
	double io_read_ios_per_sec, io_write_ios_per_sec;
	double pgfault_per_sec, pgmajfault_per_sec;
	double oom_kill_per_sec, high_per_sec, max_per_sec;	/* memory.events */
	double runq_p50_usec, runq_p99_usec;	/* from the histogram's delta */
	double rx_bytes_per_sec, tx_bytes_per_sec, rx_packets_per_sec, tx_packets_per_sec;
	double ctx_switches_per_sec;
	/* memory.current less memory.stat inactive_file, floor 0: what
	 * cAdvisor and the kubelet's eviction call the working set. */
	uint64_t mem_working_set_bytes;
};

/* Counters from eBPF (bpf/cgwarden.bpf.c): what cgroupfs has no file for.
 * Absent (have == 0) when eBPF is off; with it on, a cgroup that has had no
 * event yet has zero counts (have set). */
#define CG_RUNQ_BUCKETS 32	/* = CGW_RUNQ_BUCKETS; log2 usec buckets */

enum cg_bpf_have {
	CG_BPF_SCHED	= 1u << 0,	/* ctx_switches, migrations, runq */
	CG_BPF_NET	= 1u << 1,	/* rx/tx */
	CG_BPF_PROC	= 1u << 2,	/* forks, execs, exits, oom_kills */
};

struct cg_bpf {
	uint32_t have;
	uint64_t ctx_switches, migrations;
	uint64_t runq_count, runq_sum_ns;
	uint64_t runq_hist[CG_RUNQ_BUCKETS];
	uint64_t rx_bytes, rx_packets, tx_bytes, tx_packets;
	uint64_t forks, execs, exits, oom_kills;
};

/* An OOM kill seen by eBPF: the victim and its cgroup. */
struct cg_oom_event {
	uint64_t time_usec;		/* CLOCK_REALTIME */
	uint64_t cgroup_id;
	const char *path;		/* the cgroup's path if still known, else NULL */
	uint32_t pid;
	char comm[16];
};

struct cg_sample {
	uint64_t id;			/* cgroup id = directory inode */
	uint64_t parent_id;		/* 0 for the root */
	int32_t parent;			/* index of the parent in samples[], -1 for root */
	uint32_t depth;			/* root = 0 */
	const char *path;		/* relative to the root, no leading '/', root = "" */
	struct cg_identity ident;
	uint32_t have;			/* enum cg_have */
	uint32_t iter_have;		/* of have: filled by the BPF cgroup iterator
					 * (the rest by the files) */
	/* Of have: fields carried from an earlier read of their file (the
	 * slow tier, read every Nth tick for serve), and how long before
	 * this sample's read that was. Never silently stale: JSON says so. */
	uint32_t carried;
	uint64_t carried_age_usec;
	/* CLOCK_MONOTONIC when this sample's counters were read (the BPF
	 * walk's time, or the moment its files were read): the rates' dt is
	 * the difference of two of these, and a recording keeps it so that
	 * replay derives the very same rates. */
	uint64_t read_usec;

	uint32_t cpu_have;		/* bit per enum cg_cpu_key */
	uint64_t cpu[CG_CPU__COUNT];
	uint64_t cpu_max_quota_usec;	/* CG_UNLIMITED for "max" */
	uint64_t cpu_max_period_usec;
	uint64_t cpu_weight;

	uint64_t mem_current, mem_peak, mem_max, mem_high, mem_low, mem_min;
	uint64_t swap_current, swap_max;
	uint64_t memstat_have;		/* bit per enum cg_memstat_key */
	uint64_t memstat[CG_MS__COUNT];
	uint32_t memevents_have;
	uint64_t memevents[CG_ME__COUNT];

	uint32_t nr_io;
	const struct cg_io_dev *io;	/* nr_io entries, in the snapshot arena */

	uint64_t pids_current, pids_max;
	struct cg_psi psi[CG_PSI__COUNT];
	uint64_t procs, threads;	/* line counts of cgroup.procs / .threads */
	bool populated, frozen;

	struct cg_bpf bpf;
	struct cg_rates rate;
};

/* Host-wide figures, from /proc. */
struct cg_host {
	uint32_t have;			/* CG_HOST_* */
	uint32_t cpus;			/* online CPUs */
	uint64_t mem_total_bytes, mem_available_bytes;
	uint64_t swap_total_bytes, swap_free_bytes;
	struct cg_psi psi[CG_PSI__COUNT];
};

enum cg_host_have {
	CG_HOST_MEMINFO		= 1u << 0,
	CG_HOST_PSI_CPU		= 1u << 1,
	CG_HOST_PSI_MEMORY	= 1u << 2,
	CG_HOST_PSI_IO		= 1u << 3,
};

/* What the collector itself cost for this tick. */
struct cg_self {
	uint64_t collect_usec;		/* wall time of the last tick */
	uint64_t files_read;		/* reads in the last tick */
	uint64_t files_read_total;	/* since start */
	uint64_t cgroups;
	uint64_t cpu_usec;		/* process CPU time since start */
	uint64_t rss_bytes;
	uint64_t kept_fds;		/* fds held open across ticks */
	uint64_t fd_budget;		/* how many we allow ourselves */
	uint64_t reopened_files;	/* files opened per tick for lack of budget */
	bool bpf;			/* eBPF counters are on */
	bool bpf_run_time_known;	/* --bpf-stats: the kernel's run-time stats are on */
	uint64_t bpf_run_time_ns;	/* our programs' run time (kernel BPF stats) */
	uint64_t bpf_map_entries;	/* cgroups with an entry in the stats map */
	uint64_t bpf_map_max;		/* its configured size */
	bool iter;			/* the BPF cgroup iterator walked this tick */
	uint64_t iter_walk_usec;	/* that walk's time (the kernel's part) */
	uint64_t iter_cgroups;		/* cgroups it filled fields of */
	/* The slow tier (cgfile.h CGF_SLOW): read every slow_every'th tick
	 * (0: nobody wants it carried; 1: every tick). The time its reads took
	 * this tick, and for how many cgroups: what N is chosen by. */
	uint32_t slow_every;
	uint64_t slow_read_usec;
	uint64_t slow_cgroups;
	/* Set by `cgwarden stream`, not the collector: lines a slow reader
	 * made it drop since the stream started. */
	bool dropped_lines_known;
	uint64_t dropped_lines;
};

struct cg_arena;

struct cg_snapshot {
	const char *root;		/* the cgroup2 mount (or --root) this walks */
	uint64_t seq;			/* 1 for the first tick */
	uint64_t mono_usec;		/* CLOCK_MONOTONIC at the end of the walk */
	uint64_t wall_usec;		/* CLOCK_REALTIME, for display and JSON */
	uint64_t interval_usec;		/* mono delta to the previous snapshot, 0 if none */
	struct cg_host host;
	struct cg_self self;

	size_t nr_samples;		/* parent before child */
	struct cg_sample *samples;

	/* Cgroups that vanished since the previous snapshot, with their last
	 * counters (from the previous tick), and cgroups first seen in this one
	 * (indices into samples[]). */
	size_t nr_removed;
	struct cg_sample *removed;
	size_t nr_added;
	uint32_t *added;
	size_t nr_oom;			/* OOM kills since the previous snapshot (eBPF) */
	struct cg_oom_event *oom;

	/* The arena owns the io arrays, the strings of removed[] (copied
	 * when their cgroup went) and oom[].path. It does not own the
	 * strings of samples[] (path, identity): those are the collector's,
	 * kept with its node of that cgroup; nor io[].name (the host's table
	 * of block devices) or root (the collector's). All of them stay
	 * valid until the next collector_tick() (collector.h). */
	struct cg_arena *arena;
};

/* Arena: bump allocator reset once per snapshot. */
struct cg_arena *arena_new(void);
void arena_free(struct cg_arena *a);
void arena_reset(struct cg_arena *a);
void *arena_alloc(struct cg_arena *a, size_t size);	/* 16-byte aligned, NULL on ENOMEM */
const char *arena_strdup(struct cg_arena *a, const char *s);	/* NULL stays NULL */

/* Deep copy of src's strings and io array into a (for removed[]).
 * Returns 0 or -ENOMEM. */
int sample_copy_into(struct cg_sample *dst, const struct cg_sample *src,
		     struct cg_arena *a);

/* Key names in kernel order, indexed by the enums above (for parse_keyed). */
extern const char *const cg_cpu_keys[CG_CPU__COUNT];
extern const char *const cg_memstat_keys[CG_MS__COUNT];
extern const char *const cg_memevent_keys[CG_ME__COUNT];
extern const char *const cg_io_keys[CG_IO__COUNT];

const char *cg_kind_name(enum cg_kind k);
const char *cg_runtime_name(enum cg_runtime r);	/* NULL for CG_RT_NONE */
const char *cg_qos_name(enum cg_k8s_qos q);	/* NULL for CG_QOS_NONE */
const char *cg_psi_resource_name(enum cg_psi_resource r);

/* Find a sample by path; NULL if absent. Linear: for tests and one-off lookups. */
const struct cg_sample *snapshot_find_path(const struct cg_snapshot *s, const char *path);

/* Find a sample by cgroup id; NULL if absent or s is NULL. Linear: the
 * dashboard looks its selection up once per frame or key, not per row. */
const struct cg_sample *snapshot_find_id(const struct cg_snapshot *s, uint64_t id);

#endif
