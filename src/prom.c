/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Prometheus / OpenMetrics text from a snapshot (METRICS.md has the names).
 *
 * Both formats group every sample of a family under one HELP/TYPE block, so
 * the walk is family-major: for each family, every cgroup. A cgroup's label
 * set (id, name, cgroup_id, kind, ...) is escaped once per render into a
 * side buffer and copied into each of its lines, which is most of the bytes.
 *
 * Units: cgroupfs counts CPU time and PSI stall time in microseconds and the
 * eBPF side in nanoseconds; Prometheus wants seconds. They are printed as
 * exact decimals ("12.000345"), never through a double, so a counter never
 * goes backwards through rounding.
 *
 * A field the snapshot does not have (bit clear in a have mask) writes no
 * sample; it is never shown as 0. The one exception is cAdvisor's: its
 * container_spec_*_limit_bytes and container_threads_max say 0 for "no
 * limit", and dashboards built on them expect that.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prom.h"
#include "utf8.h"

struct pw {
	struct prom_buf *b;
	bool om;
	int err;
};

/* ---- the buffer -------------------------------------------------------- */

void prom_buf_free(struct prom_buf *b)
{
	if (!b)
		return;
	free(b->data);
	*b = (struct prom_buf){ 0 };
}

static bool buf_room(struct prom_buf *b, size_t n, int *err)
{
	if (*err)
		return false;
	if (b->len + n < b->cap)	/* < : one byte stays for the final NUL */
		return true;
	size_t cap = b->cap ? b->cap : 64 * 1024;

	while (cap <= b->len + n)
		cap *= 2;
	char *p = realloc(b->data, cap);

	if (!p) {
		*err = -ENOMEM;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

static void put(struct pw *w, const char *s, size_t n)
{
	if (buf_room(w->b, n, &w->err)) {
		memcpy(w->b->data + w->b->len, s, n);
		w->b->len += n;
	}
}

#define lit(w, s) put(w, s, sizeof(s) - 1)

static void puts_(struct pw *w, const char *s)
{
	put(w, s, strlen(s));
}

static void putch(struct pw *w, char c)
{
	if (buf_room(w->b, 1, &w->err))
		w->b->data[w->b->len++] = c;
}

/* ---- values ------------------------------------------------------------ */

static void put_u64(struct pw *w, uint64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* v / 10^digits as an exact decimal, trailing zeros of the fraction dropped:
 * 12000345 usec -> "12.000345", 2000000 -> "2". */
static void put_fixed(struct pw *w, uint64_t v, unsigned digits, uint64_t scale)
{
	uint64_t frac = v % scale;
	char tmp[24];
	unsigned n = digits;

	put_u64(w, v / scale);
	if (!frac)
		return;
	for (unsigned i = digits; i-- > 0;) {
		tmp[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	while (n > 0 && tmp[n - 1] == '0')
		n--;
	putch(w, '.');
	put(w, tmp, n);
}

static void put_usec_as_sec(struct pw *w, uint64_t usec)
{
	put_fixed(w, usec, 6, 1000000);
}

static void put_nsec_as_sec(struct pw *w, uint64_t nsec)
{
	put_fixed(w, nsec, 9, 1000000000);
}

/*
 * A label value: '\\', '"' and newline escaped as both formats require, and
 * each byte of invalid UTF-8 replaced by U+FFFD: a scraper rejects the whole
 * scrape on one invalid label value, and cgroup names are arbitrary bytes.
 */
static void put_label_value(struct pw *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, run = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n;

		if (c < 0x80 && c != '"' && c != '\\' && c != '\n') {
			i++;
			run++;
			continue;
		}
		put(w, (const char *)p + i - run, run);
		run = 0;
		if (c == '"') {
			lit(w, "\\\"");
			n = 1;
		} else if (c == '\\') {
			lit(w, "\\\\");
			n = 1;
		} else if (c == '\n') {
			lit(w, "\\n");
			n = 1;
		} else if ((n = utf8_seq_len(p + i, len - i)) != 0) {
			put(w, (const char *)p + i, n);
		} else {
			lit(w, UTF8_REPLACEMENT);
			n = 1;
		}
		i += n;
	}
	put(w, (const char *)p + i - run, run);
}

/* ,name="value" (or name="value" first in the set) */
static void put_label(struct pw *w, bool first, const char *name, const char *value)
{
	if (!first)
		putch(w, ',');
	puts_(w, name);
	lit(w, "=\"");
	put_label_value(w, value);
	putch(w, '"');
}

/* ---- families ---------------------------------------------------------- */

enum ptype { T_COUNTER, T_GAUGE, T_HISTOGRAM };

static const char *const type_names[] = { "counter", "gauge", "histogram" };

/*
 * HELP, TYPE and (OpenMetrics) UNIT of one family. name is the sample name
 * of the 0.0.4 format ("..._total" for counters); OpenMetrics names the
 * family without the _total its samples carry.
 */
static void family(struct pw *w, const char *name, enum ptype type, const char *help)
{
	size_t n = strlen(name);
	const char *unit = NULL;

	if (w->om && type == T_COUNTER && n > 6 && strcmp(name + n - 6, "_total") == 0)
		n -= 6;
	if (n > 8 && strncmp(name + n - 8, "_seconds", 8) == 0)
		unit = "seconds";
	else if (n > 6 && strncmp(name + n - 6, "_bytes", 6) == 0)
		unit = "bytes";
	lit(w, "# HELP ");
	put(w, name, n);
	putch(w, ' ');
	puts_(w, help);
	lit(w, "\n# TYPE ");
	put(w, name, n);
	putch(w, ' ');
	puts_(w, type_names[type]);
	putch(w, '\n');
	if (w->om && unit) {
		lit(w, "# UNIT ");
		put(w, name, n);
		putch(w, ' ');
		puts_(w, unit);
		putch(w, '\n');
	}
}

/* ---- per-cgroup label sets --------------------------------------------- */

struct labels {
	struct prom_buf buf;
	size_t *off;		/* cgroup i's set is buf.data[off[i] .. off[i + 1]) */
};

static const char *basename_(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* id="/path",name=..,cgroup_id=..,kind=..[,runtime,image,container_id,
 * namespace,pod,container,qos when known] -- no braces. */
static void label_set(struct pw *w, const struct cg_sample *c)
{
	const struct cg_identity *id = &c->ident;
	const char *path = c->path ? c->path : "";
	char num[24], *p = num + sizeof(num);
	uint64_t v = c->id;

	lit(w, "id=\"/");
	put_label_value(w, path);
	putch(w, '"');
	put_label(w, false, "name", id->name ? id->name : basename_(path));
	*--p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_label(w, false, "cgroup_id", p);
	put_label(w, false, "kind", cg_kind_name(id->kind));
	if (cg_runtime_name(id->runtime))
		put_label(w, false, "runtime", cg_runtime_name(id->runtime));
	if (id->image)
		put_label(w, false, "image", id->image);
	if (id->container_id)
		put_label(w, false, "container_id", id->container_id);
	if (id->k8s_namespace)
		put_label(w, false, "namespace", id->k8s_namespace);
	if (id->k8s_pod)
		put_label(w, false, "pod", id->k8s_pod);
	if (id->k8s_container)
		put_label(w, false, "container", id->k8s_container);
	if (cg_qos_name(id->qos))
		put_label(w, false, "qos", cg_qos_name(id->qos));
}

static int labels_build(struct labels *l, const struct cg_snapshot *s)
{
	struct pw w = { .b = &l->buf };

	l->off = malloc((s->nr_samples + 1) * sizeof(*l->off));
	if (!l->off)
		return -ENOMEM;
	for (size_t i = 0; i < s->nr_samples; i++) {
		l->off[i] = l->buf.len;
		label_set(&w, &s->samples[i]);
	}
	l->off[s->nr_samples] = l->buf.len;
	return w.err;
}

static void labels_free(struct labels *l)
{
	prom_buf_free(&l->buf);
	free(l->off);
}

/* name{<cgroup i's labels> -- extra labels, '}' and the value follow. */
static void sample_start(struct pw *w, const char *name, size_t name_len,
			 const struct labels *l, size_t i)
{
	put(w, name, name_len);
	putch(w, '{');
	put(w, l->buf.data + l->off[i], l->off[i + 1] - l->off[i]);
}

/* name<suffix>{<cgroup i's labels> (histogram series: _bucket, _sum, _count) */
static void hist_start(struct pw *w, const char *name, size_t name_len, const char *suffix,
		       const struct labels *l, size_t i)
{
	put(w, name, name_len);
	puts_(w, suffix);
	putch(w, '{');
	put(w, l->buf.data + l->off[i], l->off[i + 1] - l->off[i]);
}

/* ---- simple per-cgroup families ---------------------------------------- */

enum unit { U_INT, U_USEC, U_NSEC };	/* as is; usec or nsec printed as seconds */

enum src {
	S_CPU_USAGE, S_CPU_USER, S_CPU_SYSTEM, S_CPU_PERIODS, S_CPU_THROTTLED,
	S_CPU_THROTTLED_USEC, S_CPU_BURSTS, S_CPU_BURST_USEC,
	S_CPU_QUOTA, S_CPU_PERIOD, S_CPU_SHARES,
	S_MEM_USAGE, S_MEM_WORKING_SET, S_MEM_PEAK, S_MEM_LIMIT, S_MEM_RESERVATION,
	S_SWAP, S_SWAP_LIMIT, S_MEM_RSS, S_MEM_CACHE, S_MEM_MAPPED,
	S_MEM_EV_HIGH, S_MEM_EV_MAX, S_MEM_EV_OOM_KILL,
	S_THREADS, S_THREADS_MAX, S_PROCS,
	S_PSI_CPU_SOME, S_PSI_CPU_FULL, S_PSI_MEM_SOME, S_PSI_MEM_FULL,
	S_PSI_IO_SOME, S_PSI_IO_FULL,
	S_CTX_SWITCHES, S_MIGRATIONS, S_RX_BYTES, S_TX_BYTES, S_RX_PACKETS, S_TX_PACKETS,
	S_OOM_KILLS, S_FORKS, S_EXECS, S_EXITS,
};

struct simple_family {
	const char *name;
	enum ptype type;
	enum unit unit;
	enum src src;
	const char *help;
};

static const struct simple_family simple_families[] = {
	{ "container_cpu_usage_seconds_total", T_COUNTER, U_USEC, S_CPU_USAGE,
	  "Cumulative CPU time consumed (cpu.stat usage_usec)." },
	{ "container_cpu_user_seconds_total", T_COUNTER, U_USEC, S_CPU_USER,
	  "Cumulative user CPU time consumed (cpu.stat user_usec)." },
	{ "container_cpu_system_seconds_total", T_COUNTER, U_USEC, S_CPU_SYSTEM,
	  "Cumulative system CPU time consumed (cpu.stat system_usec)." },
	{ "container_cpu_cfs_periods_total", T_COUNTER, U_INT, S_CPU_PERIODS,
	  "Number of elapsed enforcement periods (cpu.stat nr_periods)." },
	{ "container_cpu_cfs_throttled_periods_total", T_COUNTER, U_INT, S_CPU_THROTTLED,
	  "Number of throttled periods (cpu.stat nr_throttled)." },
	{ "container_cpu_cfs_throttled_seconds_total", T_COUNTER, U_USEC, S_CPU_THROTTLED_USEC,
	  "Total time duration the cgroup has been throttled (cpu.stat throttled_usec)." },
	{ "container_cpu_cfs_burst_periods_total", T_COUNTER, U_INT, S_CPU_BURSTS,
	  "Number of periods in which a burst occurred (cpu.stat nr_bursts)." },
	{ "container_cpu_cfs_burst_seconds_total", T_COUNTER, U_USEC, S_CPU_BURST_USEC,
	  "Total time spent bursting over the quota (cpu.stat burst_usec)." },
	{ "container_spec_cpu_quota", T_GAUGE, U_INT, S_CPU_QUOTA,
	  "CPU quota in microseconds per period, as cAdvisor (cpu.max; absent when max)." },
	{ "container_spec_cpu_period", T_GAUGE, U_INT, S_CPU_PERIOD,
	  "CPU period in microseconds, as cAdvisor (cpu.max)." },
	{ "container_spec_cpu_shares", T_GAUGE, U_INT, S_CPU_SHARES,
	  "CPU shares converted from cpu.weight as runc does (2..262144)." },
	{ "container_memory_usage_bytes", T_GAUGE, U_INT, S_MEM_USAGE,
	  "Current memory usage, all memory regardless of when it was accessed (memory.current)." },
	{ "container_memory_working_set_bytes", T_GAUGE, U_INT, S_MEM_WORKING_SET,
	  "Current working set: memory.current less inactive_file." },
	{ "container_memory_max_usage_bytes", T_GAUGE, U_INT, S_MEM_PEAK,
	  "Maximum memory usage recorded (memory.peak)." },
	{ "container_spec_memory_limit_bytes", T_GAUGE, U_INT, S_MEM_LIMIT,
	  "Memory limit (memory.max); 0 means no limit, as cAdvisor." },
	{ "container_spec_memory_reservation_limit_bytes", T_GAUGE, U_INT, S_MEM_RESERVATION,
	  "Memory reservation (memory.low); 0 means max, as cAdvisor." },
	{ "container_memory_swap", T_GAUGE, U_INT, S_SWAP,
	  "Container swap usage in bytes (memory.swap.current)." },
	{ "container_spec_memory_swap_limit_bytes", T_GAUGE, U_INT, S_SWAP_LIMIT,
	  "Swap limit (memory.swap.max); 0 means no limit, as cAdvisor." },
	{ "container_memory_rss", T_GAUGE, U_INT, S_MEM_RSS,
	  "Anonymous memory in bytes (memory.stat anon)." },
	{ "container_memory_cache", T_GAUGE, U_INT, S_MEM_CACHE,
	  "Page cache memory in bytes (memory.stat file)." },
	{ "container_memory_mapped_file", T_GAUGE, U_INT, S_MEM_MAPPED,
	  "Size of memory mapped files in bytes (memory.stat file_mapped)." },
	{ "container_memory_events_high_total", T_COUNTER, U_INT, S_MEM_EV_HIGH,
	  "Times usage went over memory.high (memory.events high)." },
	{ "container_memory_events_max_total", T_COUNTER, U_INT, S_MEM_EV_MAX,
	  "Times usage was about to go over memory.max (memory.events max)." },
	{ "container_oom_events_total", T_COUNTER, U_INT, S_MEM_EV_OOM_KILL,
	  "Processes killed by the OOM killer in this cgroup (memory.events oom_kill)." },
	{ "container_threads", T_GAUGE, U_INT, S_THREADS,
	  "Number of tasks, as counted by the pids controller (pids.current)." },
	{ "container_threads_max", T_GAUGE, U_INT, S_THREADS_MAX,
	  "Maximum number of tasks (pids.max); 0 means no limit, as cAdvisor." },
	{ "container_processes", T_GAUGE, U_INT, S_PROCS,
	  "Number of processes (lines of cgroup.procs)." },
	{ "container_pressure_cpu_waiting_seconds_total", T_COUNTER, U_USEC, S_PSI_CPU_SOME,
	  "Time some tasks waited for CPU (cpu.pressure some total)." },
	{ "container_pressure_cpu_stalled_seconds_total", T_COUNTER, U_USEC, S_PSI_CPU_FULL,
	  "Time all non-idle tasks waited for CPU (cpu.pressure full total)." },
	{ "container_pressure_memory_waiting_seconds_total", T_COUNTER, U_USEC, S_PSI_MEM_SOME,
	  "Time some tasks waited for memory (memory.pressure some total)." },
	{ "container_pressure_memory_stalled_seconds_total", T_COUNTER, U_USEC, S_PSI_MEM_FULL,
	  "Time all non-idle tasks waited for memory (memory.pressure full total)." },
	{ "container_pressure_io_waiting_seconds_total", T_COUNTER, U_USEC, S_PSI_IO_SOME,
	  "Time some tasks waited for I/O (io.pressure some total)." },
	{ "container_pressure_io_stalled_seconds_total", T_COUNTER, U_USEC, S_PSI_IO_FULL,
	  "Time all non-idle tasks waited for I/O (io.pressure full total)." },
	{ "cgwarden_context_switches_total", T_COUNTER, U_INT, S_CTX_SWITCHES,
	  "Context switches away from this cgroup's tasks (eBPF sched_switch)." },
	{ "cgwarden_migrations_total", T_COUNTER, U_INT, S_MIGRATIONS,
	  "CPU migrations of this cgroup's tasks (eBPF sched_migrate_task)." },
	{ "container_network_receive_bytes_total", T_COUNTER, U_INT, S_RX_BYTES,
	  "Bytes received by this cgroup's sockets, all interfaces (eBPF cgroup_skb)." },
	{ "container_network_transmit_bytes_total", T_COUNTER, U_INT, S_TX_BYTES,
	  "Bytes sent by this cgroup's sockets, all interfaces (eBPF cgroup_skb)." },
	{ "container_network_receive_packets_total", T_COUNTER, U_INT, S_RX_PACKETS,
	  "Packets received by this cgroup's sockets, all interfaces (eBPF cgroup_skb)." },
	{ "container_network_transmit_packets_total", T_COUNTER, U_INT, S_TX_PACKETS,
	  "Packets sent by this cgroup's sockets, all interfaces (eBPF cgroup_skb)." },
	{ "cgwarden_oom_kills_total", T_COUNTER, U_INT, S_OOM_KILLS,
	  "OOM kill victims in this cgroup (eBPF oom/mark_victim)." },
	{ "cgwarden_process_forks_total", T_COUNTER, U_INT, S_FORKS,
	  "Tasks forked in this cgroup (eBPF sched_process_fork)." },
	{ "cgwarden_process_execs_total", T_COUNTER, U_INT, S_EXECS,
	  "Successful execs in this cgroup (eBPF sched_process_exec)." },
	{ "cgwarden_process_exits_total", T_COUNTER, U_INT, S_EXITS,
	  "Task exits in this cgroup (eBPF sched_process_exit)." },
};

static bool cpu_key(const struct cg_sample *c, enum cg_cpu_key k, uint64_t *v)
{
	*v = c->cpu[k];
	return (c->have & CG_HAVE_CPU_STAT) && (c->cpu_have & (1u << k));
}

static bool memstat_key(const struct cg_sample *c, enum cg_memstat_key k, uint64_t *v)
{
	*v = c->memstat[k];
	return (c->have & CG_HAVE_MEM_STAT) && (c->memstat_have & (1ull << k));
}

static bool memevent_key(const struct cg_sample *c, enum cg_memevent_key k, uint64_t *v)
{
	*v = c->memevents[k];
	return (c->have & CG_HAVE_MEM_EVENTS) && (c->memevents_have & (1u << k));
}

/* cAdvisor's spec limits: "max" is 0. */
static bool limit(bool have, uint64_t lim, uint64_t *v)
{
	*v = lim == CG_UNLIMITED ? 0 : lim;
	return have;
}

static bool psi_total(const struct cg_sample *c, enum cg_psi_resource r, bool full, uint64_t *v)
{
	static const uint32_t bit[CG_PSI__COUNT] = {
		CG_HAVE_PSI_CPU, CG_HAVE_PSI_MEMORY, CG_HAVE_PSI_IO,
	};
	const struct cg_psi *p = &c->psi[r];

	*v = full ? p->full.total_usec : p->some.total_usec;
	return (c->have & bit[r]) && (full ? p->have_full : p->have_some);
}

static bool bpf_val(const struct cg_sample *c, uint32_t bit, uint64_t val, uint64_t *v)
{
	*v = val;
	return c->bpf.have & bit;
}

/* The value of a simple family for one cgroup; false: absent. */
static bool simple_value(enum src src, const struct cg_sample *c, uint64_t *v)
{
	uint32_t h = c->have;
	const struct cg_bpf *b = &c->bpf;

	switch (src) {
	case S_CPU_USAGE: return cpu_key(c, CG_CPU_USAGE_USEC, v);
	case S_CPU_USER: return cpu_key(c, CG_CPU_USER_USEC, v);
	case S_CPU_SYSTEM: return cpu_key(c, CG_CPU_SYSTEM_USEC, v);
	case S_CPU_PERIODS: return cpu_key(c, CG_CPU_NR_PERIODS, v);
	case S_CPU_THROTTLED: return cpu_key(c, CG_CPU_NR_THROTTLED, v);
	case S_CPU_THROTTLED_USEC: return cpu_key(c, CG_CPU_THROTTLED_USEC, v);
	case S_CPU_BURSTS: return cpu_key(c, CG_CPU_NR_BURSTS, v);
	case S_CPU_BURST_USEC: return cpu_key(c, CG_CPU_BURST_USEC, v);
	case S_CPU_QUOTA:
		/* cAdvisor writes no quota sample for an unlimited cgroup. */
		*v = c->cpu_max_quota_usec;
		return (h & CG_HAVE_CPU_MAX) && *v != CG_UNLIMITED;
	case S_CPU_PERIOD:
		*v = c->cpu_max_period_usec;
		return h & CG_HAVE_CPU_MAX;
	case S_CPU_SHARES:
		/* runc maps shares to weight as 1 + (shares - 2) * 9999 / 262142;
		 * cAdvisor on cgroup v2 reports its inverse. */
		if (!(h & CG_HAVE_CPU_WEIGHT) || c->cpu_weight < 1 || c->cpu_weight > 10000)
			return false;
		*v = 2 + (c->cpu_weight - 1) * 262142 / 9999;
		return true;
	case S_MEM_USAGE:
		*v = c->mem_current;
		return h & CG_HAVE_MEM_CURRENT;
	case S_MEM_WORKING_SET: {
		uint64_t inactive;

		if (!(h & CG_HAVE_MEM_CURRENT) || !memstat_key(c, CG_MS_INACTIVE_FILE, &inactive))
			return false;
		*v = c->mem_current > inactive ? c->mem_current - inactive : 0;
		return true;
	}
	case S_MEM_PEAK:
		*v = c->mem_peak;
		return h & CG_HAVE_MEM_PEAK;
	case S_MEM_LIMIT: return limit(h & CG_HAVE_MEM_MAX, c->mem_max, v);
	case S_MEM_RESERVATION: return limit(h & CG_HAVE_MEM_LOW, c->mem_low, v);
	case S_SWAP:
		*v = c->swap_current;
		return h & CG_HAVE_SWAP_CURRENT;
	case S_SWAP_LIMIT: return limit(h & CG_HAVE_SWAP_MAX, c->swap_max, v);
	case S_MEM_RSS: return memstat_key(c, CG_MS_ANON, v);
	case S_MEM_CACHE: return memstat_key(c, CG_MS_FILE, v);
	case S_MEM_MAPPED: return memstat_key(c, CG_MS_FILE_MAPPED, v);
	case S_MEM_EV_HIGH: return memevent_key(c, CG_ME_HIGH, v);
	case S_MEM_EV_MAX: return memevent_key(c, CG_ME_MAX, v);
	case S_MEM_EV_OOM_KILL: return memevent_key(c, CG_ME_OOM_KILL, v);
	case S_THREADS:
		*v = c->pids_current;
		return h & CG_HAVE_PIDS_CURRENT;
	case S_THREADS_MAX: return limit(h & CG_HAVE_PIDS_MAX, c->pids_max, v);
	case S_PROCS:
		*v = c->procs;
		return h & CG_HAVE_PROCS;
	case S_PSI_CPU_SOME: return psi_total(c, CG_PSI_CPU, false, v);
	case S_PSI_CPU_FULL: return psi_total(c, CG_PSI_CPU, true, v);
	case S_PSI_MEM_SOME: return psi_total(c, CG_PSI_MEMORY, false, v);
	case S_PSI_MEM_FULL: return psi_total(c, CG_PSI_MEMORY, true, v);
	case S_PSI_IO_SOME: return psi_total(c, CG_PSI_IO, false, v);
	case S_PSI_IO_FULL: return psi_total(c, CG_PSI_IO, true, v);
	case S_CTX_SWITCHES: return bpf_val(c, CG_BPF_SCHED, b->ctx_switches, v);
	case S_MIGRATIONS: return bpf_val(c, CG_BPF_SCHED, b->migrations, v);
	case S_RX_BYTES: return bpf_val(c, CG_BPF_NET, b->rx_bytes, v);
	case S_TX_BYTES: return bpf_val(c, CG_BPF_NET, b->tx_bytes, v);
	case S_RX_PACKETS: return bpf_val(c, CG_BPF_NET, b->rx_packets, v);
	case S_TX_PACKETS: return bpf_val(c, CG_BPF_NET, b->tx_packets, v);
	case S_OOM_KILLS: return bpf_val(c, CG_BPF_PROC, b->oom_kills, v);
	case S_FORKS: return bpf_val(c, CG_BPF_PROC, b->forks, v);
	case S_EXECS: return bpf_val(c, CG_BPF_PROC, b->execs, v);
	case S_EXITS: return bpf_val(c, CG_BPF_PROC, b->exits, v);
	}
	return false;
}

static void put_value(struct pw *w, enum unit u, uint64_t v)
{
	if (u == U_USEC)
		put_usec_as_sec(w, v);
	else if (u == U_NSEC)
		put_nsec_as_sec(w, v);
	else
		put_u64(w, v);
}

static void render_simple(struct pw *w, const struct cg_snapshot *s, const struct labels *l,
			  const struct simple_family *f)
{
	size_t n = strlen(f->name);

	family(w, f->name, f->type, f->help);
	for (size_t i = 0; i < s->nr_samples && !w->err; i++) {
		uint64_t v;

		if (!simple_value(f->src, &s->samples[i], &v))
			continue;
		sample_start(w, f->name, n, l, i);
		lit(w, "} ");
		put_value(w, f->unit, v);
		putch(w, '\n');
	}
}

/* ---- families with more labels ----------------------------------------- */

static void render_failures(struct pw *w, const struct cg_snapshot *s, const struct labels *l)
{
	static const char name[] = "container_memory_failures_total";
	static const struct { enum cg_memstat_key k; const char *type; } f[] = {
		{ CG_MS_PGFAULT, "pgfault" }, { CG_MS_PGMAJFAULT, "pgmajfault" },
	};

	family(w, name, T_COUNTER,
	       "Cumulative count of memory allocation failures (memory.stat pgfault, pgmajfault).");
	for (size_t j = 0; j < 2; j++)
		for (size_t i = 0; i < s->nr_samples && !w->err; i++) {
			uint64_t v;

			if (!memstat_key(&s->samples[i], f[j].k, &v))
				continue;
			sample_start(w, name, sizeof(name) - 1, l, i);
			lit(w, ",failure_type=\"");
			puts_(w, f[j].type);
			lit(w, "\",scope=\"container\"} ");
			put_u64(w, v);
			putch(w, '\n');
		}
}

/* cAdvisor's device label ("/dev/vda"); "MAJ:MIN" when the name is unknown
 * or an earlier device of this cgroup had it (two series must never share a
 * label set). */
static void put_device(struct pw *w, const struct cg_sample *c, uint32_t i)
{
	const char *name = c->io[i].name;
	bool unique = name && name[0];

	for (uint32_t j = 0; unique && j < i; j++)
		if (c->io[j].name && strcmp(c->io[j].name, name) == 0)
			unique = false;
	lit(w, ",device=\"");
	if (unique) {
		lit(w, "/dev/");
		put_label_value(w, name);
	} else {
		put_u64(w, c->io[i].major);
		putch(w, ':');
		put_u64(w, c->io[i].minor);
	}
	putch(w, '"');
}

static void render_io(struct pw *w, const struct cg_snapshot *s, const struct labels *l)
{
	static const struct { const char *name; enum cg_io_key k; const char *help; } f[] = {
		{ "container_fs_reads_bytes_total", CG_IO_RBYTES,
		  "Cumulative count of bytes read (io.stat rbytes)." },
		{ "container_fs_writes_bytes_total", CG_IO_WBYTES,
		  "Cumulative count of bytes written (io.stat wbytes)." },
		{ "container_fs_reads_total", CG_IO_RIOS,
		  "Cumulative count of reads completed (io.stat rios)." },
		{ "container_fs_writes_total", CG_IO_WIOS,
		  "Cumulative count of writes completed (io.stat wios)." },
	};

	for (size_t j = 0; j < sizeof(f) / sizeof(f[0]); j++) {
		size_t n = strlen(f[j].name);

		family(w, f[j].name, T_COUNTER, f[j].help);
		for (size_t i = 0; i < s->nr_samples && !w->err; i++) {
			const struct cg_sample *c = &s->samples[i];

			if (!(c->have & CG_HAVE_IO_STAT) || !c->io)
				continue;
			for (uint32_t d = 0; d < c->nr_io; d++) {
				if (!(c->io[d].have & (1u << f[j].k)))
					continue;
				sample_start(w, f[j].name, n, l, i);
				put_device(w, c, d);
				lit(w, "} ");
				put_u64(w, c->io[d].v[f[j].k]);
				putch(w, '\n');
			}
		}
	}
}

/*
 * Run-queue latency as a Prometheus histogram. The eBPF side counts delays
 * in log2 buckets of microseconds: bucket i holds delays d (usec, truncated)
 * with 2^i <= d + 1 < 2^(i+1), so every delay in buckets 0..i was shorter
 * than 2^(i+1) - 1 usec, an exact "le" bound. Every second bound is kept
 * (a factor of 4: 3 us, 15 us, ... 16.8 s, then +Inf): 15 series per cgroup
 * with _sum and _count instead of 34, which matters at 10,000 cgroups, and
 * every bound is still exact.
 */
#define RUNQ_FIRST_LE 1		/* bucket whose upper bound is the first le */
#define RUNQ_LAST_LE 23		/* 2^24 - 1 usec = 16.8 s */

static void render_runq(struct pw *w, const struct cg_snapshot *s, const struct labels *l)
{
	static const char name[] = "cgwarden_runq_latency_seconds";
	const size_t n = sizeof(name) - 1;

	family(w, name, T_HISTOGRAM,
	       "Time tasks waited on a run queue after a wakeup (eBPF sched_wakeup to sched_switch).");
	for (size_t i = 0; i < s->nr_samples && !w->err; i++) {
		const struct cg_bpf *b = &s->samples[i].bpf;
		uint64_t cum = 0, total = 0;
		int next = 0;

		if (!(b->have & CG_BPF_SCHED))
			continue;
		for (int k = 0; k < CG_RUNQ_BUCKETS; k++)
			total += b->runq_hist[k];
		for (int le = RUNQ_FIRST_LE; le <= RUNQ_LAST_LE; le += 2) {
			while (next <= le)
				cum += b->runq_hist[next++];
			hist_start(w, name, n, "_bucket", l, i);
			lit(w, ",le=\"");
			put_usec_as_sec(w, (2ull << le) - 1);
			lit(w, "\"} ");
			put_u64(w, cum);
			putch(w, '\n');
		}
		hist_start(w, name, n, "_bucket", l, i);
		lit(w, ",le=\"+Inf\"} ");
		put_u64(w, total);
		putch(w, '\n');
		/* The count is the buckets' total, not runq_count: the two are
		 * bumped separately and a read can land between them, and a
		 * histogram whose +Inf bucket differs from its count is invalid. */
		hist_start(w, name, n, "_sum", l, i);
		lit(w, "} ");
		put_nsec_as_sec(w, b->runq_sum_ns);
		putch(w, '\n');
		hist_start(w, name, n, "_count", l, i);
		lit(w, "} ");
		put_u64(w, total);
		putch(w, '\n');
	}
}

/* ---- host and self ----------------------------------------------------- */

/* A family with one unlabelled sample (or none when !have). */
static void single(struct pw *w, const char *name, enum ptype type, const char *help,
		   bool have, enum unit u, uint64_t v)
{
	family(w, name, type, help);
	if (!have)
		return;
	puts_(w, name);
	putch(w, ' ');
	put_value(w, u, v);
	putch(w, '\n');
}

static void render_host_self(struct pw *w, const struct cg_snapshot *s)
{
	const struct cg_self *me = &s->self;
	const struct cg_host *h = &s->host;

	single(w, "machine_cpu_cores", T_GAUGE, "Number of online CPUs.",
	       h->cpus > 0, U_INT, h->cpus);
	single(w, "machine_memory_bytes", T_GAUGE, "Amount of memory installed (MemTotal).",
	       h->have & CG_HOST_MEMINFO, U_INT, h->mem_total_bytes);
	single(w, "cgwarden_collect_seconds", T_GAUGE, "Wall time the last collection took.",
	       true, U_USEC, me->collect_usec);
	single(w, "cgwarden_cgroups", T_GAUGE, "Cgroups seen by the last collection.",
	       true, U_INT, me->cgroups);
	single(w, "cgwarden_files_read_total", T_COUNTER, "Cgroup files read since start.",
	       true, U_INT, me->files_read_total);
	single(w, "cgwarden_kept_fds", T_GAUGE, "Cgroup files kept open across collections.",
	       true, U_INT, me->kept_fds);
	single(w, "cgwarden_fd_budget", T_GAUGE, "How many files may be kept open.",
	       true, U_INT, me->fd_budget);
	single(w, "cgwarden_reopened_files", T_GAUGE,
	       "Files opened in the last collection for lack of fd budget.",
	       true, U_INT, me->reopened_files);
	single(w, "cgwarden_bpf_enabled", T_GAUGE, "1 when the eBPF counters are on.",
	       true, U_INT, me->bpf);
	single(w, "cgwarden_bpf_run_seconds_total", T_COUNTER,
	       "Run time of cgwarden's eBPF programs (kernel BPF stats, --bpf-stats).",
	       me->bpf_run_time_known, U_NSEC, me->bpf_run_time_ns);
	single(w, "cgwarden_bpf_map_entries", T_GAUGE, "Cgroups with an entry in the eBPF stats map.",
	       me->bpf, U_INT, me->bpf_map_entries);
	single(w, "cgwarden_bpf_map_max_entries", T_GAUGE, "Size of the eBPF stats map.",
	       me->bpf, U_INT, me->bpf_map_max);
	single(w, "cgwarden_last_collect_timestamp_seconds", T_GAUGE,
	       "When the snapshot being served was taken (Unix time).",
	       s->wall_usec > 0, U_USEC, s->wall_usec);
	single(w, "process_cpu_seconds_total", T_COUNTER,
	       "Total user and system CPU time spent by cgwarden.", true, U_USEC, me->cpu_usec);
	single(w, "process_resident_memory_bytes", T_GAUGE, "Resident memory size of cgwarden.",
	       me->rss_bytes > 0, U_INT, me->rss_bytes);
}

static void render_policy(struct pw *w, const struct prom_policy_count *pc, size_t n)
{
	static const char name[] = "cgwarden_policy_actions_total";

	family(w, name, T_COUNTER, "Policy actions taken, by rule, action and result.");
	for (size_t i = 0; i < n && !w->err; i++) {
		lit(w, name);
		putch(w, '{');
		put_label(w, true, "rule", pc[i].rule ? pc[i].rule : "");
		put_label(w, false, "action", pc[i].action ? pc[i].action : "");
		put_label(w, false, "result", pc[i].result ? pc[i].result : "");
		lit(w, "} ");
		put_u64(w, pc[i].count);
		putch(w, '\n');
	}
}

/* ---- entry points ------------------------------------------------------ */

int prom_render(struct prom_buf *b, const struct cg_snapshot *s, enum prom_format fmt,
		const struct prom_policy_count *policy, size_t nr_policy)
{
	struct pw w = { .b = b, .om = fmt == PROM_OPENMETRICS };
	struct labels l = { 0 };

	if (!b)
		return -EINVAL;
	b->len = 0;
	if (!s || (!s->samples && s->nr_samples) || (!policy && nr_policy) ||
	    (fmt != PROM_TEXT && fmt != PROM_OPENMETRICS))
		return -EINVAL;
	w.err = labels_build(&l, s);
	render_host_self(&w, s);
	for (size_t f = 0; f < sizeof(simple_families) / sizeof(simple_families[0]); f++)
		render_simple(&w, s, &l, &simple_families[f]);
	render_failures(&w, s, &l);
	render_io(&w, s, &l);
	render_runq(&w, s, &l);
	if (policy)
		render_policy(&w, policy, nr_policy);
	if (w.om)
		lit(&w, "# EOF\n");
	labels_free(&l);
	if (w.err) {
		b->len = 0;
		return w.err;
	}
	b->data[b->len] = '\0';
	return 0;
}

/* The q of one media range's parameters ("; version=1.0.0; q=0.5"): 1 when
 * absent, 0 when unreadable. */
static double accept_q(const char *params, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (params[i] != ';')
			continue;
		size_t j = i + 1;

		while (j < n && (params[j] == ' ' || params[j] == '\t'))
			j++;
		if (j + 1 < n && (params[j] == 'q' || params[j] == 'Q') && params[j + 1] == '=') {
			char tmp[16];
			size_t k = 0;

			for (j += 2; j < n && k < sizeof(tmp) - 1 &&
				     ((params[j] >= '0' && params[j] <= '9') || params[j] == '.'); j++)
				tmp[k++] = params[j];
			tmp[k] = '\0';
			return k ? strtod(tmp, NULL) : 0;
		}
	}
	return 1;
}

enum prom_format prom_negotiate(const char *accept)
{
	static const char om[] = "application/openmetrics-text";
	const char *p = accept;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		if (len >= sizeof(om) - 1 && strncasecmp(p, om, sizeof(om) - 1) == 0 &&
		    (len == sizeof(om) - 1 || p[sizeof(om) - 1] == ';' ||
		     p[sizeof(om) - 1] == ' ') &&
		    accept_q(p + sizeof(om) - 1, len - (sizeof(om) - 1)) > 0)
			return PROM_OPENMETRICS;
		p = end ? end + 1 : NULL;
	}
	return PROM_TEXT;
}

const char *prom_content_type(enum prom_format fmt)
{
	return fmt == PROM_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
				       : "text/plain; version=0.0.4; charset=utf-8";
}
