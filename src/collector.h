/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The tick: walk the cgroup2 tree parents first, ask the sources (source.h:
 * the cgroupfs files, the eBPF counters) to fill each cgroup's sample with
 * what the consumers want, compute rates against the previous tick, and
 * notice births and deaths. Owns snapshots N and N-1; consumers get a const pointer
 * that stays valid until the next collector_tick().
 */
#ifndef CGWARDEN_COLLECTOR_H
#define CGWARDEN_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include "snapshot.h"
#include "source.h"

struct collector_opts {
	const char *root;		/* NULL: the cgroup2 mount from mountinfo */
	const char *mountinfo;		/* NULL: /proc/self/mountinfo */
	const char *proc_root;		/* NULL: /proc */
	const char *sys_root;		/* NULL: /sys (block device names) */
	const char *state_root;		/* NULL: / (container runtimes' state) */
	long fd_budget;			/* fds kept open across ticks; 0: from RLIMIT_NOFILE */
	/* With fd_budget 0: besides the usual reserve, keep at least
	 * 1/fd_reserve_div of RLIMIT_NOFILE outside the budget (0: no share). */
	unsigned fd_reserve_div;
	bool quiet;			/* no notices on stderr (tests) */
	bool bpf;			/* load the eBPF counters (one line on stderr if not) */
	uint32_t bpf_max_cgroups;	/* their map size; 0: the default */
	bool bpf_stats;			/* kernel BPF run-time stats for self-cost */
	bool bpf_no_sched;		/* no scheduler programs (bpfsrc_opts.no_sched) */
	/* Fill what the BPF cgroup iterator can (src_iter.h) from one walk
	 * a tick, the files the rest; falls back to files alone, saying so
	 * in one line, when it cannot load or fails. */
	bool iter;
};

/*
 * cgroup.stat is read (check_children_are_leaves) only for a cgroup with at
 * least this many children: the one read replaces one fstat per leaf child,
 * and must cost less than those. On kernfs a pread of cgroup.stat through a
 * kept fd costs 2.5 to 4 times an fstat of a kept dirfd (6.x, measured:
 * 0.9-1.6 us against 0.3-0.4 us, before parsing), and it counts as a file
 * read. With one child it is a plain loss, and in a tree of slices ->
 * scopes -> one child each half the cgroups have one child: reading it
 * there cost 0.5 files per cgroup per tick for nothing. From four children
 * on, the fstats saved cost more than the read.
 */
#define COLLECTOR_STAT_MIN_CHILDREN 4

struct collector;

/* -ENOENT: no cgroup2 mount (and no root given); other -errno: the root
 * cannot be opened. */
int collector_new(const struct collector_opts *opts, struct collector **out);
void collector_free(struct collector *c);

/* Runs one tick. *out is valid until the next call. Returns 0 or -errno
 * (-ENOMEM; a vanished cgroup is never an error). */
int collector_tick(struct collector *c, const struct cg_snapshot **out);

/*
 * What the consumers want from the next tick on (NULL, and the default:
 * everything). Only the files in want->files are opened and read; a field
 * not wanted is absent (its have bit clear). Fds of files no longer wanted
 * go back to the fd budget at each cgroup's next read. Identity and the
 * tree are always collected.
 */
void collector_want(struct collector *c, const struct cg_want *want);

/* Names of the per-cgroup files a tick reads (for the benchmark's floor). */
size_t collector_file_names(const char *const **names);

/* The eBPF counters' ring buffer fd (OOM events), or -1 when eBPF is off:
 * a loop may wake on it to tick early. */
int collector_event_fd(const struct collector *c);

/*
 * Other long-lived fds of the process count in the same budget (the
 * daemon's PSI triggers, one fd each): a claim of n fds makes the walk keep
 * n fewer, giving back kept file fds at the next tick if it must (those
 * files are then opened at each tick). Claims may take half the budget at
 * most. 0, or -EMFILE (over that: the caller does without the fds).
 */
int collector_fd_claim(struct collector *c, long n);
void collector_fd_release(struct collector *c, long n);
long collector_fd_budget(const struct collector *c);

/* The directory being walked. */
const char *collector_root(const struct collector *c);

#endif
