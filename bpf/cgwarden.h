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
