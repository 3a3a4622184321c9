/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Types shared by bpf/cgwarden.bpf.c and src/bpfsrc.c. Fixed-width only: this
 * is included by both the BPF side (vmlinux.h types) and user space.
 */
#ifndef CGWARDEN_BPF_SHARED_H
#define CGWARDEN_BPF_SHARED_H

/* Run-queue latency: bucket i counts wakeup-to-run delays d (usec) with
 * 2^i <= d+1 < 2^(i+1), i.e. bucket 0 is < 1 us, 1 is 1-2 us, ... the last
 * bucket takes everything longer. */
#define CGW_RUNQ_BUCKETS 32

/* Per-cgroup counters, in a hash keyed by the v2 cgroup id (cgroup->kn->id,
 * = the directory's inode, = bpf_get_current_cgroup_id()), updated with
 * atomic adds. Not per-CPU: 16k entries x every CPU would cost too much. */
struct cgw_stats {
	__u64 ctx_switches;	/* sched_switch: times a task of the cgroup was switched in */
	__u64 migrations;	/* sched_migrate_task */
	__u64 runq_count;	/* delays recorded */
	__u64 runq_sum_ns;
	__u64 runq_hist[CGW_RUNQ_BUCKETS];
	__u64 rx_bytes, rx_packets;	/* cgroup_skb ingress, by bpf_skb_cgroup_id */
	__u64 tx_bytes, tx_packets;	/* cgroup_skb egress */
	__u64 forks, execs, exits;	/* sched_process_fork/exec/exit */
	__u64 oom_kills;	/* victims (signal->oom_mm set) seen exiting */
};

/*
 * The fast path for the counters: a direct-mapped array of slots, one per
 * cgroup that user space has given one (it writes the id; the BPF side only
 * reads it). A lookup there is inlined by the verifier, where a hash lookup
 * is a call; with return-thunk mitigations (SRSO "Safe RET" on this host's
 * AMD EPYC) every call/return pair costs tens of ns, on every context
 * switch. An event whose cgroup has no slot (newly born, or its slot is
 * taken by another id) goes to the hash map `stats`, so counts are exact:
 * each event lands in exactly one place and user space adds the two.
 * The array is mmapped by user space: reading it costs no system call.
 */
struct cgw_slot {
	__u64 cgroup_id;	/* 0: free; written by user space only */
	struct cgw_stats stats;
};

/* The slot of a cgroup id; mask = number of slots - 1 (a power of two).
 * Fibonacci hashing: kernfs ids are mostly consecutive inode numbers. */
static inline __u32 cgw_slot_index(__u64 cgroup_id, __u32 mask)
{
	return (__u32)((cgroup_id * 0x9e3779b97f4a7c15ULL) >> 32) & mask;
}

#define CGW_COMM_LEN 16

/* Ring-buffer record: an OOM victim, sent when its thread-group leader
 * exits (its signal->oom_mm is set by mark_oom_victim). */
struct cgw_oom_event {
	__u64 time_ns;		/* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 cgroup_id;	/* the victim's v2 cgroup */
	__u32 pid;		/* tgid */
	__u32 pad;
	char comm[CGW_COMM_LEN];
};

#endif
