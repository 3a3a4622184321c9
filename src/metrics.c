// SPDX-License-Identifier: GPL-2.0-only
/* The metric table (see metrics.h): every per-cgroup metric, once. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <string.h>
#include "metrics.h"

#define OFF(f) ((uint16_t)offsetof(struct cg_sample, f))
#define TEST(f, m) { OFF(f), (uint8_t)sizeof(((struct cg_sample *)0)->f), (m) }
#define HAVE(b) TEST(have, b)
#define RATE(b) TEST(rate.have, b)
#define BPF(b) TEST(bpf.have, b)
#define FILE_(f) CGF_BIT(CGF_##f)

#define PROM(n, t, sc, x, h) { .name = n, .help = h, .type = PT_##t, .scale = PS_##sc, \
			       .xform = PX_##x }
#define PROML(n, t, l, h) { .name = n, .help = h, .labels = l, .type = PT_##t }
#define NOPROM { 0 }

/* An object row: presence tests t0, t1 (or none). */
#define OBJ(i, t0, t1) { .id = i, .kind = MK_OBJECT, .psi_res = -1, .have = { t0, t1 } }
#define NOTEST { 0 }

/* A value row. */
#define ROW(i, k, u, fl, vt, field, t0, t1, fi, bp, ...) { \
	.id = i, .kind = MK_##k, .unit = MU_##u, .flags = fl, .vtype = MV_##vt, \
	.psi_res = -1, .off = OFF(field), .have = { t0, t1 }, .files = fi, .bpf = bp, \
	.prom = __VA_ARGS__ }

#define P MF_POLICY

/* cpu.stat */
/* Key units of the snapshot.h key lists. */
#define MU_B MU_BYTES
#define MU_N MU_COUNT
#define MU_U MU_USEC

#define CPU_ROW(e, k, u, ...) [M_CPU_##e] = ROW("cpu." #k, COUNTER, u, \
	P, U64, cpu[CG_CPU_##e], HAVE(CG_HAVE_CPU_STAT), TEST(cpu_have, 1u << CG_CPU_##e), \
	FILE_(CPU_STAT), 0, __VA_ARGS__)

/* memory.stat, memory.events */
#define MS_ROW_P(e, k, u, ...) [M_MEMSTAT_##e] = ROW("memory.stat." #k, GAUGE, u, \
	P | MF_OMIT, U64, memstat[CG_MS_##e], TEST(memstat_have, 1ull << CG_MS_##e), NOTEST, \
	FILE_(MEM_STAT), 0, __VA_ARGS__)
#define MS_ROW(e, k, u) MS_ROW_P(e, k, u, NOPROM),
#define ME_ROW_P(e, k, u, ...) [M_MEMEVENT_##e] = ROW("memory.events." #k, COUNTER, COUNT, \
	P | MF_OMIT, U64, memevents[CG_ME_##e], TEST(memevents_have, 1u << CG_ME_##e), NOTEST, \
	FILE_(MEM_EVENTS), 0, __VA_ARGS__)
#define ME_ROW(e, k, u) ME_ROW_P(e, k, u, NOPROM),

/* io.stat, per device: offsets into struct cg_io_dev. */
#define DEV_ROW_P(e, k, u, ...) [M_IO_DEV_##e] = { .id = "io.devices.*." #k, .kind = MK_DEV_KEY, \
	.unit = MU_##u, .flags = MF_OMIT, .vtype = MV_U64, .psi_res = -1, \
	.off = (uint16_t)offsetof(struct cg_io_dev, v[CG_IO_##e]), \
	.have = { { (uint16_t)offsetof(struct cg_io_dev, have), 4, 1u << CG_IO_##e } }, \
	.files = FILE_(IO_STAT), .prom = __VA_ARGS__ }
#define DEV_ROW(e, k, u) DEV_ROW_P(e, k, u, NOPROM),

/* PSI: resource object, some/full line objects, their four fields. */
#define PSI_AVG(R, L, F, f, isfull) [M_PSI_##R##_##L##_##F] = { \
	.id = "psi." PSI_NAME_##R "." #f "." PSI_F_##F, .kind = MK_PSI_AVG, .unit = MU_PERCENT, \
	.flags = P, .vtype = MV_U32, .psi_res = CG_PSI_##R, .psi_full = isfull, \
	.off = OFF(psi[CG_PSI_##R].f.PSI_F_##F##_FIELD), .files = FILE_(R##_PRESSURE_FILE) }
#define PSI_LINE(R, L, f, isfull, pname, phelp) \
	[M_PSI_##R##_##L] = OBJ("psi." PSI_NAME_##R "." #f, \
				TEST(psi[CG_PSI_##R].have_##f, 1), NOTEST), \
	PSI_AVG(R, L, AVG10, f, isfull), PSI_AVG(R, L, AVG60, f, isfull), \
	PSI_AVG(R, L, AVG300, f, isfull), \
	[M_PSI_##R##_##L##_TOTAL] = { .id = "psi." PSI_NAME_##R "." #f ".total_usec", \
		.kind = MK_COUNTER, .unit = MU_USEC, .flags = P, .vtype = MV_U64, .psi_res = -1, \
		.psi_full = isfull, .off = OFF(psi[CG_PSI_##R].f.total_usec), \
		.files = FILE_(R##_PRESSURE_FILE), .prom = PROM(pname, COUNTER, USEC, NONE, phelp) }
#define PSI_RES(R, bit, ps, fs, sh, fh) \
	[M_PSI_##R] = OBJ("psi." PSI_NAME_##R, HAVE(bit), NOTEST), \
	PSI_LINE(R, SOME, some, false, ps, sh), PSI_LINE(R, FULL, full, true, fs, fh)
#define PSI_NAME_CPU "cpu"
#define PSI_NAME_MEMORY "memory"
#define PSI_NAME_IO "io"
#define PSI_F_AVG10 "avg10"
#define PSI_F_AVG60 "avg60"
#define PSI_F_AVG300 "avg300"
#define PSI_F_AVG10_FIELD avg10
#define PSI_F_AVG60_FIELD avg60
#define PSI_F_AVG300_FIELD avg300
#define CGF_CPU_PRESSURE_FILE CGF_CPU_PRESSURE
#define CGF_MEMORY_PRESSURE_FILE CGF_MEM_PRESSURE
#define CGF_IO_PRESSURE_FILE CGF_IO_PRESSURE

/* The rows that a later initializer of the same index completes with its
 * Prometheus export: the key lists make every row of a block, and the few
 * that cAdvisor exports are written again below them. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"

const struct metric_def metric_defs[M__COUNT] = {
	[M_CPU] = OBJ("cpu", NOTEST, NOTEST),
	CPU_ROW(USAGE_USEC, usage_usec, U, PROM("container_cpu_usage_seconds_total",
		COUNTER, USEC, NONE, "Cumulative CPU time consumed (cpu.stat usage_usec).")),
	CPU_ROW(USER_USEC, user_usec, U, PROM("container_cpu_user_seconds_total",
		COUNTER, USEC, NONE, "Cumulative user CPU time consumed (cpu.stat user_usec).")),
	CPU_ROW(SYSTEM_USEC, system_usec, U, PROM("container_cpu_system_seconds_total",
		COUNTER, USEC, NONE, "Cumulative system CPU time consumed (cpu.stat system_usec).")),
	CPU_ROW(NR_PERIODS, nr_periods, N, PROM("container_cpu_cfs_periods_total",
		COUNTER, NONE, NONE, "Number of elapsed enforcement periods (cpu.stat nr_periods).")),
	CPU_ROW(NR_THROTTLED, nr_throttled, N, PROM("container_cpu_cfs_throttled_periods_total",
		COUNTER, NONE, NONE, "Number of throttled periods (cpu.stat nr_throttled).")),
	CPU_ROW(THROTTLED_USEC, throttled_usec, U, PROM("container_cpu_cfs_throttled_seconds_total",
		COUNTER, USEC, NONE,
		"Total time duration the cgroup has been throttled (cpu.stat throttled_usec).")),
	CPU_ROW(NR_BURSTS, nr_bursts, N, PROM("container_cpu_cfs_burst_periods_total",
		COUNTER, NONE, NONE, "Number of periods in which a burst occurred (cpu.stat nr_bursts).")),
	CPU_ROW(BURST_USEC, burst_usec, U, PROM("container_cpu_cfs_burst_seconds_total",
		COUNTER, USEC, NONE, "Total time spent bursting over the quota (cpu.stat burst_usec).")),
	[M_CPU_MAX_QUOTA] = ROW("cpu.max_quota_usec", LIMIT, USEC, P, U64, cpu_max_quota_usec,
		HAVE(CG_HAVE_CPU_MAX), NOTEST, FILE_(CPU_MAX), 0,
		PROM("container_spec_cpu_quota", GAUGE, NONE, SKIP_MAX,
		     "CPU quota in microseconds per period, as cAdvisor (cpu.max; absent when max).")),
	[M_CPU_MAX_PERIOD] = ROW("cpu.max_period_usec", GAUGE, USEC, P, U64, cpu_max_period_usec,
		HAVE(CG_HAVE_CPU_MAX), NOTEST, FILE_(CPU_MAX), 0,
		PROM("container_spec_cpu_period", GAUGE, NONE, NONE,
		     "CPU period in microseconds, as cAdvisor (cpu.max).")),
	[M_CPU_WEIGHT] = ROW("cpu.weight", GAUGE, COUNT, P, U64, cpu_weight,
		HAVE(CG_HAVE_CPU_WEIGHT), NOTEST, FILE_(CPU_WEIGHT), 0,
		PROM("container_spec_cpu_shares", GAUGE, NONE, SHARES,
		     "CPU shares converted from cpu.weight as runc does (2..262144).")),
	[M_CPU_USAGE_RATIO] = ROW("cpu.usage_ratio", RATE, RATIO, P, DOUBLE, rate.cpu_usage_ratio,
		RATE(CG_RATE_CPU_USAGE), NOTEST, FILE_(CPU_STAT), 0, NOPROM),
	[M_CPU_USER_RATIO] = ROW("cpu.user_ratio", RATE, RATIO, P, DOUBLE, rate.cpu_user_ratio,
		RATE(CG_RATE_CPU_USER), NOTEST, FILE_(CPU_STAT), 0, NOPROM),
	[M_CPU_SYSTEM_RATIO] = ROW("cpu.system_ratio", RATE, RATIO, P, DOUBLE,
		rate.cpu_system_ratio, RATE(CG_RATE_CPU_SYSTEM), NOTEST, FILE_(CPU_STAT), 0, NOPROM),
	[M_CPU_THROTTLED_RATIO] = ROW("cpu.throttled_ratio", RATE, RATIO, P, DOUBLE,
		rate.cpu_throttled_ratio, RATE(CG_RATE_CPU_THROTTLED), NOTEST, FILE_(CPU_STAT), 0,
		NOPROM),

	[M_MEMORY] = OBJ("memory", NOTEST, NOTEST),
	[M_MEM_CURRENT] = ROW("memory.current_bytes", GAUGE, BYTES, P, U64, mem_current,
		HAVE(CG_HAVE_MEM_CURRENT), NOTEST, FILE_(MEM_CURRENT), 0,
		PROM("container_memory_usage_bytes", GAUGE, NONE, NONE,
		     "Current memory usage, all memory regardless of when it was accessed (memory.current).")),
	[M_MEM_WORKING_SET] = ROW("memory.working_set_bytes", GAUGE, BYTES, P, U64,
		rate.mem_working_set_bytes, RATE(CG_RATE_WORKING_SET), NOTEST,
		FILE_(MEM_CURRENT) | FILE_(MEM_STAT), 0,
		PROM("container_memory_working_set_bytes", GAUGE, NONE, NONE,
		     "Current working set: memory.current less inactive_file.")),
	[M_MEM_PEAK] = ROW("memory.peak_bytes", GAUGE, BYTES, P, U64, mem_peak,
		HAVE(CG_HAVE_MEM_PEAK), NOTEST, FILE_(MEM_PEAK), 0,
		PROM("container_memory_max_usage_bytes", GAUGE, NONE, NONE,
		     "Maximum memory usage recorded (memory.peak).")),
	[M_MEM_MAX] = ROW("memory.max_bytes", LIMIT, BYTES, P, U64, mem_max,
		HAVE(CG_HAVE_MEM_MAX), NOTEST, FILE_(MEM_MAX), 0,
		PROM("container_spec_memory_limit_bytes", GAUGE, NONE, MAX_ZERO,
		     "Memory limit (memory.max); 0 means no limit, as cAdvisor.")),
	[M_MEM_HIGH] = ROW("memory.high_bytes", LIMIT, BYTES, P, U64, mem_high,
		HAVE(CG_HAVE_MEM_HIGH), NOTEST, FILE_(MEM_HIGH), 0, NOPROM),
	[M_MEM_LOW] = ROW("memory.low_bytes", LIMIT, BYTES, P, U64, mem_low,
		HAVE(CG_HAVE_MEM_LOW), NOTEST, FILE_(MEM_LOW), 0,
		PROM("container_spec_memory_reservation_limit_bytes", GAUGE, NONE, MAX_ZERO,
		     "Memory reservation (memory.low); 0 means max, as cAdvisor.")),
	[M_MEM_MIN] = ROW("memory.min_bytes", LIMIT, BYTES, P, U64, mem_min,
		HAVE(CG_HAVE_MEM_MIN), NOTEST, FILE_(MEM_MIN), 0, NOPROM),
	[M_MEM_SWAP_CURRENT] = ROW("memory.swap_current_bytes", GAUGE, BYTES, P, U64,
		swap_current, HAVE(CG_HAVE_SWAP_CURRENT), NOTEST, FILE_(SWAP_CURRENT), 0,
		PROM("container_memory_swap", GAUGE, NONE, NONE,
		     "Container swap usage in bytes (memory.swap.current).")),
	[M_MEM_SWAP_MAX] = ROW("memory.swap_max_bytes", LIMIT, BYTES, P, U64, swap_max,
		HAVE(CG_HAVE_SWAP_MAX), NOTEST, FILE_(SWAP_MAX), 0,
		PROM("container_spec_memory_swap_limit_bytes", GAUGE, NONE, MAX_ZERO,
		     "Swap limit (memory.swap.max); 0 means no limit, as cAdvisor.")),
	[M_MEMSTAT] = OBJ("memory.stat", HAVE(CG_HAVE_MEM_STAT), NOTEST),
	CG_MEMSTAT_KEYS(MS_ROW)
	MS_ROW_P(ANON, anon, B, PROM("container_memory_rss", GAUGE, NONE, NONE,
		"Anonymous memory in bytes (memory.stat anon).")),
	MS_ROW_P(FILE, file, B, PROM("container_memory_cache", GAUGE, NONE, NONE,
		"Page cache memory in bytes (memory.stat file).")),
	MS_ROW_P(FILE_MAPPED, file_mapped, B, PROM("container_memory_mapped_file", GAUGE, NONE,
		NONE, "Size of memory mapped files in bytes (memory.stat file_mapped).")),
	MS_ROW_P(PGFAULT, pgfault, N, PROML("container_memory_failures_total", COUNTER,
		"failure_type=\"pgfault\",scope=\"container\"",
		"Cumulative count of memory allocation failures (memory.stat pgfault, pgmajfault).")),
	MS_ROW_P(PGMAJFAULT, pgmajfault, N, PROML("container_memory_failures_total", COUNTER,
		"failure_type=\"pgmajfault\",scope=\"container\"",
		"Cumulative count of memory allocation failures (memory.stat pgfault, pgmajfault).")),
	[M_MEMEVENTS] = OBJ("memory.events", HAVE(CG_HAVE_MEM_EVENTS), NOTEST),
	CG_MEMEVENT_KEYS(ME_ROW)
	ME_ROW_P(HIGH, high, N, PROM("container_memory_events_high_total", COUNTER, NONE, NONE,
		"Times usage went over memory.high (memory.events high).")),
	ME_ROW_P(MAX, max, N, PROM("container_memory_events_max_total", COUNTER, NONE, NONE,
		"Times usage was about to go over memory.max (memory.events max).")),
	ME_ROW_P(OOM_KILL, oom_kill, N, PROM("container_oom_events_total", COUNTER, NONE, NONE,
		"Processes killed by the OOM killer in this cgroup (memory.events oom_kill).")),
	[M_MEM_PGFAULT_RATE] = ROW("memory.pgfault_per_sec", RATE, PER_SEC, P, DOUBLE,
		rate.pgfault_per_sec, RATE(CG_RATE_PGFAULT), NOTEST, FILE_(MEM_STAT), 0, NOPROM),
	[M_MEM_PGMAJFAULT_RATE] = ROW("memory.pgmajfault_per_sec", RATE, PER_SEC, P, DOUBLE,
		rate.pgmajfault_per_sec, RATE(CG_RATE_PGMAJFAULT), NOTEST, FILE_(MEM_STAT), 0,
		NOPROM),
	[M_MEM_OOM_KILL_RATE] = ROW("memory.oom_kill_per_sec", RATE, PER_SEC, P, DOUBLE,
		rate.oom_kill_per_sec, RATE(CG_RATE_MEM_EVENTS), NOTEST, FILE_(MEM_EVENTS), 0,
		NOPROM),
	[M_MEM_HIGH_RATE] = ROW("memory.high_per_sec", RATE, PER_SEC, P, DOUBLE,
		rate.high_per_sec, RATE(CG_RATE_MEM_EVENTS), NOTEST, FILE_(MEM_EVENTS), 0, NOPROM),
	[M_MEM_MAX_RATE] = ROW("memory.max_per_sec", RATE, PER_SEC, P, DOUBLE,
		rate.max_per_sec, RATE(CG_RATE_MEM_EVENTS), NOTEST, FILE_(MEM_EVENTS), 0, NOPROM),

	[M_IO] = OBJ("io", NOTEST, NOTEST),
	[M_IO_DEVICES] = { .id = "io.devices", .kind = MK_DEVICES, .psi_res = -1,
			   .have = { HAVE(CG_HAVE_IO_STAT) }, .files = FILE_(IO_STAT) },
	[M_IO_DEV_MAJOR] = { .id = "io.devices.*.major", .kind = MK_DEV_KEY, .unit = MU_COUNT,
			     .vtype = MV_U32, .psi_res = -1,
			     .off = (uint16_t)offsetof(struct cg_io_dev, major),
			     .files = FILE_(IO_STAT) },
	[M_IO_DEV_MINOR] = { .id = "io.devices.*.minor", .kind = MK_DEV_KEY, .unit = MU_COUNT,
			     .vtype = MV_U32, .psi_res = -1,
			     .off = (uint16_t)offsetof(struct cg_io_dev, minor),
			     .files = FILE_(IO_STAT) },
	CG_IO_KEYS(DEV_ROW)
	DEV_ROW_P(RBYTES, rbytes, B, PROM("container_fs_reads_bytes_total", COUNTER, NONE, NONE,
		"Cumulative count of bytes read (io.stat rbytes).")),
	DEV_ROW_P(WBYTES, wbytes, B, PROM("container_fs_writes_bytes_total", COUNTER, NONE, NONE,
		"Cumulative count of bytes written (io.stat wbytes).")),
	DEV_ROW_P(RIOS, rios, N, PROM("container_fs_reads_total", COUNTER, NONE, NONE,
		"Cumulative count of reads completed (io.stat rios).")),
	DEV_ROW_P(WIOS, wios, N, PROM("container_fs_writes_total", COUNTER, NONE, NONE,
		"Cumulative count of writes completed (io.stat wios).")),
	[M_IO_READ_BYTES_RATE] = ROW("io.read_bytes_per_sec", RATE, BYTES_PER_SEC, P, DOUBLE,
		rate.io_read_bytes_per_sec, RATE(CG_RATE_IO), NOTEST, FILE_(IO_STAT), 0, NOPROM),
	[M_IO_WRITE_BYTES_RATE] = ROW("io.write_bytes_per_sec", RATE, BYTES_PER_SEC, P, DOUBLE,
		rate.io_write_bytes_per_sec, RATE(CG_RATE_IO), NOTEST, FILE_(IO_STAT), 0, NOPROM),
	[M_IO_READ_IOS_RATE] = ROW("io.read_ios_per_sec", RATE, PER_SEC, P, DOUBLE,
		rate.io_read_ios_per_sec, RATE(CG_RATE_IO), NOTEST, FILE_(IO_STAT), 0, NOPROM),
	[M_IO_WRITE_IOS_RATE] = ROW("io.write_ios_per_sec", RATE, PER_SEC, P, DOUBLE,
		rate.io_write_ios_per_sec, RATE(CG_RATE_IO), NOTEST, FILE_(IO_STAT), 0, NOPROM),

	[M_PIDS] = OBJ("pids", NOTEST, NOTEST),
	[M_PIDS_CURRENT] = ROW("pids.current", GAUGE, COUNT, P, U64, pids_current,
		HAVE(CG_HAVE_PIDS_CURRENT), NOTEST, FILE_(PIDS_CURRENT), 0,
		PROM("container_threads", GAUGE, NONE, NONE,
		     "Number of tasks, as counted by the pids controller (pids.current).")),
	[M_PIDS_MAX] = ROW("pids.max", LIMIT, COUNT, P, U64, pids_max,
		HAVE(CG_HAVE_PIDS_MAX), NOTEST, FILE_(PIDS_MAX), 0,
		PROM("container_threads_max", GAUGE, NONE, MAX_ZERO,
		     "Maximum number of tasks (pids.max); 0 means no limit, as cAdvisor.")),

	[M_PSI] = OBJ("psi", NOTEST, NOTEST),
	PSI_RES(CPU, CG_HAVE_PSI_CPU,
		"container_pressure_cpu_waiting_seconds_total",
		"container_pressure_cpu_stalled_seconds_total",
		"Time some tasks waited for CPU (cpu.pressure some total).",
		"Time all non-idle tasks waited for CPU (cpu.pressure full total)."),
	PSI_RES(MEMORY, CG_HAVE_PSI_MEMORY,
		"container_pressure_memory_waiting_seconds_total",
		"container_pressure_memory_stalled_seconds_total",
		"Time some tasks waited for memory (memory.pressure some total).",
		"Time all non-idle tasks waited for memory (memory.pressure full total)."),
	PSI_RES(IO, CG_HAVE_PSI_IO,
		"container_pressure_io_waiting_seconds_total",
		"container_pressure_io_stalled_seconds_total",
		"Time some tasks waited for I/O (io.pressure some total).",
		"Time all non-idle tasks waited for I/O (io.pressure full total)."),

	[M_PROCS] = ROW("procs", GAUGE, COUNT, P, U64, procs, HAVE(CG_HAVE_PROCS), NOTEST,
		FILE_(PROCS), 0, PROM("container_processes", GAUGE, NONE, NONE,
		"Number of processes (lines of cgroup.procs).")),
	[M_THREADS] = ROW("threads", GAUGE, COUNT, P, U64, threads, HAVE(CG_HAVE_THREADS),
		NOTEST, FILE_(THREADS), 0, NOPROM),
	[M_POPULATED] = ROW("populated", BOOL, FLAG, P, BOOL, populated, HAVE(CG_HAVE_EVENTS),
		NOTEST, FILE_(EVENTS), 0, NOPROM),
	[M_FROZEN] = ROW("frozen", BOOL, FLAG, P, BOOL, frozen, HAVE(CG_HAVE_EVENTS),
		NOTEST, FILE_(EVENTS), 0, NOPROM),

	[M_SCHED] = { .id = "sched", .kind = MK_OBJECT, .psi_res = -1,
		      .have = { BPF(CG_BPF_SCHED) }, .bpf = CG_BPF_SCHED },
	[M_SCHED_CTX_SWITCHES] = ROW("sched.ctx_switches", COUNTER, COUNT, P, U64,
		bpf.ctx_switches, NOTEST, NOTEST, 0, CG_BPF_SCHED,
		PROM("cgwarden_context_switches_total", COUNTER, NONE, NONE,
		     "Context switches away from this cgroup's tasks (eBPF sched_switch).")),
	[M_SCHED_MIGRATIONS] = ROW("sched.migrations", COUNTER, COUNT, P, U64, bpf.migrations,
		NOTEST, NOTEST, 0, CG_BPF_SCHED,
		PROM("cgwarden_migrations_total", COUNTER, NONE, NONE,
		     "CPU migrations of this cgroup's tasks (eBPF sched_migrate_task).")),
	[M_SCHED_RUNQ_COUNT] = ROW("sched.runq_count", COUNTER, COUNT, 0, U64, bpf.runq_count,
		NOTEST, NOTEST, 0, CG_BPF_SCHED, NOPROM),
	[M_SCHED_RUNQ_SUM] = ROW("sched.runq_sum_usec", COUNTER, USEC, 0, NS_AS_US,
		bpf.runq_sum_ns, NOTEST, NOTEST, 0, CG_BPF_SCHED, NOPROM),
	[M_SCHED_RUNQ_HIST] = { .id = "sched.runq_latency_usec_log2", .kind = MK_HIST,
		.unit = MU_COUNT, .psi_res = -1, .off = OFF(bpf.runq_hist), .bpf = CG_BPF_SCHED,
		.prom = { .name = "cgwarden_runq_latency_seconds", .type = PT_HISTOGRAM,
			  .help = "Time tasks waited on a run queue after a wakeup "
				  "(eBPF sched_wakeup to sched_switch)." } },
	[M_SCHED_RUNQ_P50] = ROW("sched.runq_p50_usec", RATE, USEC_P, P, DOUBLE,
		rate.runq_p50_usec, RATE(CG_RATE_RUNQ), NOTEST, 0, CG_BPF_SCHED, NOPROM),
	[M_SCHED_RUNQ_P99] = ROW("sched.runq_p99_usec", RATE, USEC_P, P, DOUBLE,
		rate.runq_p99_usec, RATE(CG_RATE_RUNQ), NOTEST, 0, CG_BPF_SCHED, NOPROM),
	[M_SCHED_CTX_SWITCHES_RATE] = ROW("sched.ctx_switches_per_sec", RATE, PER_SEC, P, DOUBLE,
		rate.ctx_switches_per_sec, RATE(CG_RATE_SCHED), NOTEST, 0, CG_BPF_SCHED, NOPROM),

	[M_NET] = { .id = "net", .kind = MK_OBJECT, .psi_res = -1,
		    .have = { BPF(CG_BPF_NET) }, .bpf = CG_BPF_NET },
	[M_NET_RX_BYTES] = ROW("net.rx_bytes", COUNTER, BYTES, P, U64, bpf.rx_bytes, NOTEST,
		NOTEST, 0, CG_BPF_NET, PROM("container_network_receive_bytes_total", COUNTER, NONE,
		NONE, "Bytes received by this cgroup's sockets, all interfaces (eBPF cgroup_skb).")),
	[M_NET_TX_BYTES] = ROW("net.tx_bytes", COUNTER, BYTES, P, U64, bpf.tx_bytes, NOTEST,
		NOTEST, 0, CG_BPF_NET, PROM("container_network_transmit_bytes_total", COUNTER, NONE,
		NONE, "Bytes sent by this cgroup's sockets, all interfaces (eBPF cgroup_skb).")),
	[M_NET_RX_PACKETS] = ROW("net.rx_packets", COUNTER, COUNT, P, U64, bpf.rx_packets,
		NOTEST, NOTEST, 0, CG_BPF_NET,
		PROM("container_network_receive_packets_total", COUNTER, NONE, NONE,
		     "Packets received by this cgroup's sockets, all interfaces (eBPF cgroup_skb).")),
	[M_NET_TX_PACKETS] = ROW("net.tx_packets", COUNTER, COUNT, P, U64, bpf.tx_packets,
		NOTEST, NOTEST, 0, CG_BPF_NET,
		PROM("container_network_transmit_packets_total", COUNTER, NONE, NONE,
		     "Packets sent by this cgroup's sockets, all interfaces (eBPF cgroup_skb).")),
	[M_NET_RX_BYTES_RATE] = ROW("net.rx_bytes_per_sec", RATE, BYTES_PER_SEC, P, DOUBLE,
		rate.rx_bytes_per_sec, RATE(CG_RATE_NET), NOTEST, 0, CG_BPF_NET, NOPROM),
	[M_NET_TX_BYTES_RATE] = ROW("net.tx_bytes_per_sec", RATE, BYTES_PER_SEC, P, DOUBLE,
		rate.tx_bytes_per_sec, RATE(CG_RATE_NET), NOTEST, 0, CG_BPF_NET, NOPROM),
	[M_NET_RX_PACKETS_RATE] = ROW("net.rx_packets_per_sec", RATE, PER_SEC, P, DOUBLE,
		rate.rx_packets_per_sec, RATE(CG_RATE_NET), NOTEST, 0, CG_BPF_NET, NOPROM),
	[M_NET_TX_PACKETS_RATE] = ROW("net.tx_packets_per_sec", RATE, PER_SEC, P, DOUBLE,
		rate.tx_packets_per_sec, RATE(CG_RATE_NET), NOTEST, 0, CG_BPF_NET, NOPROM),

	[M_PROC] = { .id = "proc", .kind = MK_OBJECT, .psi_res = -1,
		     .have = { BPF(CG_BPF_PROC) }, .bpf = CG_BPF_PROC },
	[M_PROC_FORKS] = ROW("proc.forks", COUNTER, COUNT, P, U64, bpf.forks, NOTEST, NOTEST, 0,
		CG_BPF_PROC, PROM("cgwarden_process_forks_total", COUNTER, NONE, NONE,
		"Tasks forked in this cgroup (eBPF sched_process_fork).")),
	[M_PROC_EXECS] = ROW("proc.execs", COUNTER, COUNT, P, U64, bpf.execs, NOTEST, NOTEST, 0,
		CG_BPF_PROC, PROM("cgwarden_process_execs_total", COUNTER, NONE, NONE,
		"Successful execs in this cgroup (eBPF sched_process_exec).")),
	[M_PROC_EXITS] = ROW("proc.exits", COUNTER, COUNT, P, U64, bpf.exits, NOTEST, NOTEST, 0,
		CG_BPF_PROC, PROM("cgwarden_process_exits_total", COUNTER, NONE, NONE,
		"Task exits in this cgroup (eBPF sched_process_exit).")),
	[M_OOM] = { .id = "oom", .kind = MK_OBJECT, .psi_res = -1,
		    .have = { BPF(CG_BPF_PROC) }, .bpf = CG_BPF_PROC },
	[M_OOM_KILLS] = ROW("oom.kills", COUNTER, COUNT, P, U64, bpf.oom_kills, NOTEST, NOTEST,
		0, CG_BPF_PROC, PROM("cgwarden_oom_kills_total", COUNTER, NONE, NONE,
		"OOM kill victims in this cgroup (eBPF oom/mark_victim).")),
};

#pragma GCC diagnostic pop

/* ---- structure ---------------------------------------------------------- */

int metric_find(const char *id)
{
	if (!id)
		return -EINVAL;
	for (int i = 0; i < M__COUNT; i++)
		if (strcmp(metric_defs[i].id, id) == 0)
			return i;
	return -ENOENT;
}

const char *metric_policy_name(const struct metric_def *m)
{
	return (m->flags & MF_POLICY) ? m->id : NULL;
}

/* Worked out once: rows are in JSON order, so a row's parent is the
 * nearest object row before it whose id prefixes it. */
static struct metric_tree tree;
static bool tree_known;

static bool is_prefix(const char *obj, const char *id)
{
	size_t n = strlen(obj);

	return strncmp(obj, id, n) == 0 && id[n] == '.';
}

const struct metric_tree *metric_tree(void)
{
	if (tree_known)
		return &tree;
	for (int i = 0; i < M__COUNT; i++) {
		const char *dot = strrchr(metric_defs[i].id, '.');

		tree.leaf[i] = (uint8_t)(dot ? dot + 1 - metric_defs[i].id : 0);
		tree.parent[i] = -1;
		tree.end[i] = (int16_t)(i + 1);
		for (int j = i - 1; j >= 0; j--) {
			uint8_t k = metric_defs[j].kind;

			if ((k == MK_OBJECT || k == MK_DEVICES) &&
			    is_prefix(metric_defs[j].id, metric_defs[i].id)) {
				tree.parent[i] = (int16_t)j;
				break;
			}
		}
		for (int p = tree.parent[i]; p >= 0; p = tree.parent[p])
			tree.end[p] = (int16_t)(i + 1);
	}
	tree_known = true;
	return &tree;
}

const char *metric_leaf(const struct metric_def *m)
{
	return m->id + metric_tree()->leaf[m - metric_defs];
}

int metric_parent(enum metric_id id)
{
	return (unsigned)id < M__COUNT ? metric_tree()->parent[id] : -1;
}

bool metric_under(enum metric_id id, enum metric_id obj)
{
	return (unsigned)obj < M__COUNT && (int)id >= (int)obj && (int)id < metric_tree()->end[obj];
}

/* ---- values --------------------------------------------------------------- */

static bool own_tests(const void *base, const struct metric_def *m)
{
	return metric_own_present(base, m);
}

bool metric_present(const struct cg_sample *s, enum metric_id id)
{
	int i = (int)id;

	metric_tree();
	if (metric_defs[id].kind == MK_DEV_KEY)
		i = tree.parent[id];
	for (; i >= 0; i = tree.parent[i])
		if (!own_tests(s, &metric_defs[i]))
			return false;
	return true;
}

/* *v from base when the row is a value row and present. */
static bool read_if(const void *base, const struct metric_def *m, bool present,
		    struct metric_val *v)
{
	if (m->vtype == MV_NONE || !present)
		return false;
	metric_read(base, m, v);
	return true;
}

bool metric_get(const struct cg_sample *s, enum metric_id id, struct metric_val *v)
{
	const struct metric_def *m = &metric_defs[id];

	return m->kind != MK_DEV_KEY && read_if(s, m, metric_present(s, id), v);
}

bool metric_read_dev(const struct cg_io_dev *d, enum metric_id id, struct metric_val *v)
{
	const struct metric_def *m = &metric_defs[id];

	return m->kind == MK_DEV_KEY && read_if(d, m, own_tests(d, m), v);
}

double metric_double(const struct metric_def *m, const struct metric_val *v)
{
	switch (m->kind) {
	case MK_RATE:
		return v->d;
	case MK_PSI_AVG:
		return (double)v->u / 100.0;
	case MK_LIMIT:
		return v->u == CG_UNLIMITED ? INFINITY : (double)v->u;
	default:
		return (double)v->u;
	}
}

/* ---- sets ----------------------------------------------------------------- */

void metric_set_add(struct metric_set *set, enum metric_id id)
{
	if ((unsigned)id < M__COUNT)
		set->w[id / 64] |= 1ull << (id % 64);
}

bool metric_set_has(const struct metric_set *set, enum metric_id id)
{
	return (unsigned)id < M__COUNT && (set->w[id / 64] >> (id % 64)) & 1;
}

void metric_set_all(struct metric_set *set)
{
	memset(set, 0, sizeof(*set));
	for (int i = 0; i < M__COUNT; i++)
		metric_set_add(set, (enum metric_id)i);
}

void metric_set_add_under(struct metric_set *set, enum metric_id id)
{
	for (int i = (int)id; i < M__COUNT && metric_under((enum metric_id)i, id); i++)
		metric_set_add(set, (enum metric_id)i);
}

uint32_t metrics_files(const struct metric_set *set)
{
	uint32_t f = 0;

	for (int i = 0; i < M__COUNT; i++)
		if (metric_set_has(set, (enum metric_id)i))
			f |= metric_defs[i].files;
	return f;
}

uint32_t metrics_bpf(const struct metric_set *set)
{
	uint32_t b = 0;

	for (int i = 0; i < M__COUNT; i++)
		if (metric_set_has(set, (enum metric_id)i))
			b |= metric_defs[i].bpf;
	return b;
}

void metric_set_from_ids(struct metric_set *set, const char *const *ids, size_t n)
{
	char buf[128];

	for (size_t k = 0; k < n; k++) {
		int i;

		if (!ids[k] || strlen(ids[k]) >= sizeof(buf))
			continue;
		strcpy(buf, ids[k]);
		/* "io.devices.vda.rbytes" names no row: its nearest row does. */
		while ((i = metric_find(buf)) < 0) {
			char *dot = strrchr(buf, '.');

			if (!dot)
				break;
			*dot = '\0';
		}
		if (i >= 0)
			metric_set_add_under(set, (enum metric_id)i);
	}
}
