/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgwarden's kernel side: per-cgroup counters that cgroupfs has no file for
 * (run-queue latency, context switches, migrations, forks/execs/exits, OOM
 * victims, network bytes), keyed by the v2 cgroup id, read by src/bpfsrc.c.
 *
 * Every tracing program exists twice, built from one body: as tp_btf (the
 * preferred, cheaper attach) and as raw_tp (the fallback where tp_btf cannot
 * load). Neither needs tracefs. The bodies take a constant `btf` flag
 * (set by CGW_TRACE) and the compiler keeps one side of each choice:
 *  - task fields: tp_btf hands us trusted BTF pointers, read directly (plain
 *    loads the verifier checks, CO-RE relocated); raw_tp gets plain u64s that
 *    must go through BPF_CORE_READ (bpf_probe_read_kernel calls);
 *  - run-queue waits: tp_btf reads the scheduler's own sched_info stamp
 *    (runq_from_sched_info below) and needs no wakeup programs; without
 *    sched_info it keeps wakeup times in task-local storage (a per-task
 *    slot, freed with the task); raw_tp has no trusted task pointer for
 *    bpf_task_storage_get and uses an LRU hash by pid. Each flavour creates
 *    only the maps it uses (bpfsrc.c).
 *
 * Oldest kernel: 5.8 (BPF ring buffer), on the raw_tp side; tp_btf needs
 * task storage in tracing programs (5.11) and falls back to raw_tp before.
 * 5.8 also covers the u64 kernfs_node::id (5.5, commit 67c0496e87d1), so the
 * cgroup id needs no shim.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "cgwarden.h"

char LICENSE[] SEC("license") = "GPL";

#define TASK_RUNNING 0

/*
 * Not per-CPU: per-CPU values cost max_entries * 352 bytes * nr_cpus, which
 * for 16k cgroups on a large machine is gigabytes. Contention on one cgroup's
 * value is paid with atomic adds instead. User space sets max_entries before
 * load.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct cgw_stats);
} stats SEC(".maps");

/* See struct cgw_slot. User space sets max_entries (a power of two) and
 * slot_mask before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct cgw_slot);
} slots SEC(".maps");

const volatile __u32 slot_mask = 16383;

/* Wakeup time by pid, raw_tp only. LRU: a task woken and then never switched
 * in (it exited, or the wakeup raced) must not pin an entry forever. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, __u64);
} wakeup_ts SEC(".maps");

/* Wakeup time per task, tp_btf only; 0 = none pending. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} wakeup_tls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} oom_events SEC(".maps");

/*
 * Run-queue waits from the scheduler's own bookkeeping (tp_btf only; set by
 * user space before load, so the verifier drops the other path). With
 * CONFIG_SCHED_INFO (every distribution kernel: TASK_DELAY_ACCT or
 * SCHEDSTATS select it; no runtime switch since 5.14) the kernel stamps
 * task->sched_info.last_queued with rq_clock() when a task is enqueued or
 * preempted, and clears it only in sched_info_arrive(), which runs in
 * context_switch() after the sched_switch tracepoint. So at sched_switch
 * the wait of `next` is this CPU's rq->clock (updated by __schedule) minus
 * last_queued: the very delta the kernel adds to run_delay
 * (/proc/PID/schedstat), with no wakeup programs, no per-task storage and
 * no clock read of our own. That is the whole cost on a context-switch-heavy
 * host: the two wakeup programs ran on every wakeup, each with a task
 * storage lookup and bpf_ktime_get_ns().
 */
const volatile bool runq_from_sched_info = false;

/*
 * This CPU's rq->clock, reached through next's cfs_rq: set_task_rq() points
 * se.cfs_rq of every task (any class) at its group's cfs_rq on the CPU it is
 * on, and cfs_rq->rq exists with CONFIG_FAIR_GROUP_SCHED (every distribution
 * kernel with cgroups). The per-CPU `runqueues` ksym would be more direct
 * but needs CONFIG_KALLSYMS_ALL, which this host's kernel does not have.
 * User space turns this mode on only when the kernel's BTF has both fields
 * (bpfsrc.c kernel_has_sched_info); the check here keeps the load valid.
 */
static __always_inline __u64 rq_clock_of(struct task_struct *next)
{
	struct cfs_rq *cfs = next->se.cfs_rq;

	if (!bpf_core_field_exists(cfs->rq) || !cfs)
		return 0;
	return cfs->rq->clock;
}

/* The value inserted for a new cgroup. A global instead of a stack zero:
 * struct cgw_stats is 352 bytes of the 512-byte BPF stack. */
static const struct cgw_stats zero_stats = {};

/* task_struct::state was renamed __state (and became unsigned int) in 5.14,
 * commit 2f064a59a11f ("sched: Change task_struct::state"). */
struct task_struct___pre514 {
	volatile long state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *t, bool btf)
{
	struct task_struct___pre514 *old = (void *)t;

	if (bpf_core_field_exists(old->state))
		return btf ? old->state : BPF_CORE_READ(old, state);
	return btf ? t->__state : BPF_CORE_READ(t, __state);
}

static __always_inline __u32 task_pid(struct task_struct *t, bool btf)
{
	return btf ? t->pid : BPF_CORE_READ(t, pid);
}

static __always_inline __u32 task_tgid(struct task_struct *t, bool btf)
{
	return btf ? t->tgid : BPF_CORE_READ(t, tgid);
}

static __always_inline __u64 task_cgroup_id(struct task_struct *t, bool btf)
{
	/* The verifier allows this walk in tp_btf (BTF pointers; a NULL
	 * along the way reads as 0 instead of faulting). */
	if (btf)
		return t->cgroups->dfl_cgrp->kn->id;
	return BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
}

static __always_inline struct cgw_stats *stats_of(__u64 cgid)
{
	__u32 idx = cgw_slot_index(cgid, slot_mask);
	struct cgw_slot *slot = bpf_map_lookup_elem(&slots, &idx);
	struct cgw_stats *s;

	if (slot && slot->cgroup_id == cgid)
		return &slot->stats;
	s = bpf_map_lookup_elem(&stats, &cgid);
	if (s)
		return s;
	/* EEXIST from a racing CPU is fine: the lookup below finds its entry.
	 * E2BIG (map full) leaves the event uncounted. */
	bpf_map_update_elem(&stats, &cgid, &zero_stats, BPF_NOEXIST);
	return bpf_map_lookup_elem(&stats, &cgid);
}

/* floor(log2(v)) for v > 0, without a loop. */
static __always_inline __u64 log2_u64(__u64 v)
{
	__u64 r = 0, shift;

	shift = (v > 0xffffffffULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xffff) << 4; v >>= shift; r |= shift;
	shift = (v > 0xff) << 3; v >>= shift; r |= shift;
	shift = (v > 0xf) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline void record_wakeup(struct task_struct *p, bool btf)
{
	__u32 pid = task_pid(p, btf);
	__u64 ts, *tsp;

	if (!pid)
		return;		/* the idle tasks: never waited for */
	if (btf) {
		tsp = bpf_task_storage_get(&wakeup_tls, p, 0,
					   BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (tsp)
			*tsp = bpf_ktime_get_ns();
		return;
	}
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&wakeup_ts, &pid, &ts, BPF_ANY);
}

/* Takes next's pending wakeup time (0: none) and clears it. */
static __always_inline __u64 take_wakeup(struct task_struct *next, __u32 pid, bool btf)
{
	__u64 *tsp, ts;

	if (btf) {
		tsp = bpf_task_storage_get(&wakeup_tls, next, 0, 0);
		if (!tsp)
			return 0;
		ts = *tsp;
		*tsp = 0;
		return ts;
	}
	tsp = bpf_map_lookup_elem(&wakeup_ts, &pid);
	if (!tsp)
		return 0;
	ts = *tsp;
	bpf_map_delete_elem(&wakeup_ts, &pid);
	return ts;
}

static __always_inline void on_switch(struct task_struct *prev, struct task_struct *next,
				      bool btf)
{
	struct cgw_stats *s;
	/* bucket is 64-bit on purpose: a u32 gets zero-extended into a fresh
	 * register for the clamp and the verifier loses the bound on the
	 * copy used as the index. */
	__u64 ts, now, delta_us, bucket;
	__u32 pid;

	/* A preempted task goes straight back on the run queue: its wait
	 * starts now, as if it had been woken. (The kernel's sched_info does
	 * the same in sched_info_depart().) */
	if (!(btf && runq_from_sched_info) && task_state(prev, btf) == TASK_RUNNING)
		record_wakeup(prev, btf);

	pid = task_pid(next, btf);
	if (!pid)
		return;		/* idle */
	/* One stats lookup per switch; every add below goes to it. */
	s = stats_of(task_cgroup_id(next, btf));
	if (!s)
		return;
	__sync_fetch_and_add(&s->ctx_switches, 1);

	if (btf && runq_from_sched_info) {
		ts = next->sched_info.last_queued;
		if (!ts)
			return;		/* not queued: nothing waited */
		now = rq_clock_of(next);
	} else {
		ts = take_wakeup(next, pid, btf);
		if (!ts)
			return;		/* woken before we attached */
		now = bpf_ktime_get_ns();
	}
	if (now > ts) {
		__u64 delta = now - ts;

		delta_us = delta / 1000;
		bucket = log2_u64(delta_us + 1);
		if (bucket >= CGW_RUNQ_BUCKETS)
			bucket = CGW_RUNQ_BUCKETS - 1;
		__sync_fetch_and_add(&s->runq_count, 1);
		__sync_fetch_and_add(&s->runq_sum_ns, delta);
		__sync_fetch_and_add(&s->runq_hist[bucket], 1);
	}
}

static __always_inline void on_migrate(struct task_struct *p, bool btf)
{
	struct cgw_stats *s = stats_of(task_cgroup_id(p, btf));

	if (s)
		__sync_fetch_and_add(&s->migrations, 1);
}

static __always_inline void on_fork(struct task_struct *child, bool btf)
{
	struct cgw_stats *s;

	/* Threads are clones too; count new processes only. */
	if (task_pid(child, btf) != task_tgid(child, btf))
		return;
	s = stats_of(task_cgroup_id(child, btf));
	if (s)
		__sync_fetch_and_add(&s->forks, 1);
}

static __always_inline void on_exec(struct task_struct *p, bool btf)
{
	struct cgw_stats *s = stats_of(task_cgroup_id(p, btf));

	if (s)
		__sync_fetch_and_add(&s->execs, 1);
}

/*
 * OOM victims are found here rather than at oom/mark_victim: that
 * tracepoint's arguments changed (6.1: int pid; 6.8+: task and uid), its
 * task is not current, and as a classic tracepoint it needs tracefs. The
 * leader of a victim process still has signal->oom_mm (set by
 * mark_oom_victim, kept until the signal struct is freed) when it exits, and
 * it is still in its cgroup: cgroup_exit() runs after this tracepoint.
 */
static __always_inline void on_exit(struct task_struct *p, bool btf)
{
	struct cgw_oom_event *ev;
	struct cgw_stats *s;
	__u64 cgid;
	__u32 tgid;

	tgid = task_tgid(p, btf);
	if (task_pid(p, btf) != tgid)
		return;		/* a thread; the process exits with its leader */
	cgid = task_cgroup_id(p, btf);
	s = stats_of(cgid);
	if (s)
		__sync_fetch_and_add(&s->exits, 1);
	if (!BPF_CORE_READ(p, signal, oom_mm))
		return;
	if (s)
		__sync_fetch_and_add(&s->oom_kills, 1);
	ev = bpf_ringbuf_reserve(&oom_events, sizeof(*ev), 0);
	if (!ev)
		return;		/* ring full: the counter above still has it */
	ev->time_ns = bpf_ktime_get_ns();
	ev->cgroup_id = cgid;
	ev->pid = tgid;
	ev->pad = 0;
	BPF_CORE_READ_STR_INTO(&ev->comm, p, comm);
	bpf_ringbuf_submit(ev, 0);
}

/*
 * One body, two attach types. The raw_tp copies carry a '?' so that libbpf
 * does not load them by default; user space turns them on (and the tp_btf
 * ones off) only when the tp_btf set fails to load.
 */
#define CGW_TRACE(name, tp, args, body)					\
	SEC("tp_btf/" tp)						\
	int BPF_PROG(btf_##name, args) { const bool btf = true; body; return 0; } \
	SEC("?raw_tp/" tp)						\
	int BPF_PROG(raw_##name, args) { const bool btf = false; body; return 0; }

#define ARGS(...) __VA_ARGS__

CGW_TRACE(wakeup, "sched_wakeup", ARGS(struct task_struct *p), record_wakeup(p, btf))
CGW_TRACE(wakeup_new, "sched_wakeup_new", ARGS(struct task_struct *p), record_wakeup(p, btf))
CGW_TRACE(switch, "sched_switch",
	  ARGS(bool preempt, struct task_struct *prev, struct task_struct *next),
	  on_switch(prev, next, btf))
CGW_TRACE(migrate, "sched_migrate_task", ARGS(struct task_struct *p, int dest_cpu),
	  on_migrate(p, btf))
CGW_TRACE(fork, "sched_process_fork",
	  ARGS(struct task_struct *parent, struct task_struct *child), on_fork(child, btf))
CGW_TRACE(exec, "sched_process_exec", ARGS(struct task_struct *p), on_exec(p, btf))
CGW_TRACE(exit, "sched_process_exit", ARGS(struct task_struct *p), on_exit(p, btf))

/*
 * Network bytes by the socket's cgroup (bpf_skb_cgroup_id), not by current:
 * ingress runs in softirq context on behalf of whoever. Attached once on the
 * cgroup2 root, the programs run for every descendant's sockets. skb->len is
 * the L3 length (IP header on) in both directions. Ingress counts the skbs
 * the stack hands up (after GRO, if the driver coalesced). Always allow: we count,
 * never filter.
 */
#define ETH_P_IPV6_BE	0xdd86	/* htons(0x86dd) as __sk_buff::protocol reads */
#define IPPROTO_TCP_	6
#define IPPROTO_UDP_	17

/*
 * L3+L4 header length of a GSO packet, 0 when unknown. Egress sees GSO
 * super-packets before segmentation: one skb of gso_segs packets, each of
 * which carries its own copy of these headers on the wire. Options and TCP
 * options are included; IPv6 extension headers are not (the next header
 * must be TCP or UDP directly, else 0: bytes then miss the extra headers).
 */
static __always_inline __u32 gso_hdr_len(struct __sk_buff *skb)
{
	__u8 b[2];
	__u32 l3, proto;

	if (skb->protocol == ETH_P_IPV6_BE) {
		if (bpf_skb_load_bytes(skb, 6, b, 1))
			return 0;
		l3 = 40;
	} else {
		if (bpf_skb_load_bytes(skb, 0, b, 1))
			return 0;
		l3 = (b[0] & 0xf) * 4;
		if (bpf_skb_load_bytes(skb, 9, b, 1))
			return 0;
	}
	proto = b[0];
	if (proto == IPPROTO_UDP_)
		return l3 + 8;
	if (proto != IPPROTO_TCP_ || l3 < 20 || l3 > 60)
		return 0;
	if (bpf_skb_load_bytes(skb, l3 + 12, b, 1))
		return 0;
	return l3 + (b[0] >> 4) * 4;
}

static __always_inline void count_skb(struct __sk_buff *skb, bool rx)
{
	struct cgw_stats *s = stats_of(bpf_skb_cgroup_id(skb));
	__u64 bytes = skb->len, pkts = 1;

	if (!s)
		return;
	if (rx) {
		__sync_fetch_and_add(&s->rx_bytes, bytes);
		__sync_fetch_and_add(&s->rx_packets, pkts);
		return;
	}
	/* A GSO super-packet (TSO, or software GSO on lo) leaves as gso_segs
	 * packets: count those, and the headers of the extra ones, so tx is
	 * what the wire (and the receiver's rx) sees. */
	if (skb->gso_segs > 1) {
		pkts = skb->gso_segs;
		bytes += (pkts - 1) * gso_hdr_len(skb);
	}
	__sync_fetch_and_add(&s->tx_bytes, bytes);
	__sync_fetch_and_add(&s->tx_packets, pkts);
}

SEC("cgroup_skb/ingress")
int skb_ingress(struct __sk_buff *skb)
{
	count_skb(skb, true);
	return 1;
}

SEC("cgroup_skb/egress")
int skb_egress(struct __sk_buff *skb)
{
	count_skb(skb, false);
	return 1;
}
