/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The only writer of cgroupfs (DESIGN.md). `cgwarden set`, the dashboard's
 * actions and the policy daemon all come here. Every write is confined below
 * the cgroup2 root (openat2 RESOLVE_BENEATH|NO_SYMLINKS|NO_XDEV, or a
 * component-by-component walk checked with fstatfs where openat2 is
 * missing), validated before it is made, read back after, and recorded in
 * one audit record. Protected: the root, init.scope, and cgwarden's own
 * cgroup (and, for freeze and kill, its ancestors).
 */
#ifndef CGWARDEN_ACTUATOR_H
#define CGWARDEN_ACTUATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum act_kind {
	ACT_CPU_MAX,		/* cpu.max "QUOTA PERIOD" */
	ACT_CPU_WEIGHT,		/* cpu.weight */
	ACT_MEMORY_MIN,
	ACT_MEMORY_LOW,
	ACT_MEMORY_HIGH,
	ACT_MEMORY_MAX,
	ACT_SWAP_MAX,		/* memory.swap.max */
	ACT_PIDS_MAX,
	ACT_FREEZE,		/* cgroup.freeze 1, verified by cgroup.events frozen 1 */
	ACT_THAW,		/* cgroup.freeze 0 */
	ACT_KILL,		/* cgroup.kill, verified by cgroup.events populated 0 */
	ACT__COUNT
};

struct act_change {
	enum act_kind kind;
	uint64_t value;		/* the limit, CG_UNLIMITED for "max" */
	uint64_t period;	/* cpu.max period (usec) */
	bool force;		/* allow memory.max/high below current usage */
	/* Nonzero: how long a write that reclaims may block before it is cut
	 * short (the limit stays set), instead of the actuator's timeout. The
	 * adaptive controller writes every few seconds from the daemon's
	 * loop and must not hold it. */
	uint64_t timeout_usec;
	/* A change that takes is not audited: the adaptive controller's
	 * adjustments, every few seconds, which the policy records as a start,
	 * a summary a minute and an end. One that fails or is refused is. */
	bool quiet;
	/* Nonzero: the cgroup at the target must be this id (inode), or the
	 * change is refused. The policy daemon decides on a cgroup by id and
	 * acts by path (from a snapshot, or the state file of a last run). */
	uint64_t expect_id;
};

#define ACT_TEXT_MAX 64
#define ACT_WHY_MAX 320

/* What one change did (or would do). Texts are as the kernel shows them. */
struct act_outcome {
	const char *file;		/* "memory.max" */
	char old[ACT_TEXT_MAX];		/* before ("" if unreadable) */
	char wrote[ACT_TEXT_MAX];	/* what was (or would be) written */
	char now[ACT_TEXT_MAX];		/* read back after */
	int err;			/* 0, or -errno (-EPERM refused, -ETIMEDOUT ...) */
	bool dry_run;
	bool refused;			/* stopped by validation or protection, nothing written */
	bool cut_short;			/* the write timed out; the value is set */
	char why[ACT_WHY_MAX];		/* a sentence for people when err != 0 or cut_short */
};

/* One audit record per change, also for refusals and dry runs. */
struct act_audit {
	uint64_t time_usec;		/* CLOCK_REALTIME */
	const char *who;		/* "cgwarden set (uid 0, pid 1234)" */
	const char *target;		/* path relative to the root */
	uint64_t target_id;		/* cgroup id (inode), 0 if it could not be opened */
	const struct act_outcome *o;
};

typedef void (*act_audit_fn)(void *ctx, const struct act_audit *rec);

struct actuator_opts {
	const char *root;		/* NULL: the cgroup2 mount from mountinfo */
	const char *mountinfo;		/* NULL: /proc/self/mountinfo */
	bool fixture_root;		/* test only: accept a root that is not cgroup2 */
	bool dry_run;
	const char *who;
	act_audit_fn audit;		/* besides syslog; may be NULL */
	void *audit_ctx;
	uint64_t timeout_usec;		/* for writes that can block and for verify; 0: 5 s */
	const char *self_cgroup;	/* test only: our cgroup, relative to root; NULL: /proc/self/cgroup */
};

struct actuator;

/* -ENOENT no cgroup2 mount, -EMEDIUMTYPE root is not cgroup2; why says so. */
int actuator_open(const struct actuator_opts *o, struct actuator **out, char *why, size_t whylen);
void actuator_close(struct actuator *a);
const char *actuator_root(const struct actuator *a);

/* Our own cgroup relative to the root, or NULL when no cgroup under the
 * root holds us or when it cannot be told; then *why says why (else NULL),
 * and every change is refused. */
const char *actuator_self(const struct actuator *a, const char **why);

/* 0 if target names a cgroup below the root that may be acted on with kind;
 * else -errno and a sentence in why. Opens nothing for long, writes nothing. */
int actuator_check_target(struct actuator *a, const char *target, enum act_kind kind,
			  char *why, size_t whylen);

/* The id (inode) of the cgroup at target now: 0, or -errno (-ENOENT: none). */
int actuator_cgroup_id(struct actuator *a, const char *target, uint64_t *id);

/* Everything that can be known before writing: target, controller, value
 * range, usage. Fills o (old value, what would be written). 0 or -errno. */
int actuator_validate(struct actuator *a, const char *target, const struct act_change *c,
		      struct act_outcome *o);

/* Validates, writes (unless dry run), reads back, audits. Returns o->err.
 * A freeze, thaw or kill waits here until cgroup.events confirms it (up to
 * the timeout): for one-shot callers; a loop uses actuator_apply_start. */
int actuator_apply(struct actuator *a, const char *target, const struct act_change *c,
		   struct act_outcome *o);

/*
 * The same in two halves, for a loop that must not wait. Validates and
 * writes as actuator_apply does. A freeze, thaw or kill that was written is
 * confirmed by the kernel only later (cgroup.events "frozen", "populated"):
 * then *v is set, 0 is returned and o is not final; the caller re-checks
 * with actuator_verify_check() when actuator_verify_fd() signals EPOLLPRI,
 * or by its deadline. Otherwise *v is NULL, o is final (read back,
 * audited) and its err is returned.
 */
struct act_verify;
int actuator_apply_start(struct actuator *a, const char *target, const struct act_change *c,
			 struct act_outcome *o, struct act_verify **v);

/* The target's cgroup.events, open: EPOLLPRI when it changes; -1 when it
 * could not be opened (a fixture's plain file cannot be polled either: the
 * caller then re-checks by time). */
int actuator_verify_fd(const struct act_verify *v);

/* When the kernel must have followed (CLOCK_MONOTONIC usec). */
uint64_t actuator_verify_deadline(const struct act_verify *v);

/* -EINPROGRESS while cgroup.events has not followed and the deadline is
 * ahead (v stays). Otherwise fills o (read back, error), audits, frees v
 * and returns o->err (-ETIMEDOUT past the deadline). */
int actuator_verify_check(struct actuator *a, struct act_verify *v, uint64_t now_mono,
			  struct act_outcome *o);

/* Frees v without an outcome (the caller is going away). */
void actuator_verify_abandon(struct act_verify *v);

/*
 * Registers a PSI trigger on target's <resource>.pressure ("cpu", "memory",
 * "io"): opens it O_RDWR|O_NONBLOCK below the root as every write here is,
 * and writes "some|full STALL WINDOW" (usec). The returned fd signals
 * EPOLLPRI each time the stall exceeds STALL within WINDOW, and EPOLLERR
 * once the cgroup is gone; closing it removes the trigger. A registration
 * changes no limit, so it is not audited. fd or -errno (why says it).
 */
int actuator_open_psi_trigger(struct actuator *a, const char *target, const char *resource,
			      bool full, uint64_t stall_usec, uint64_t window_usec,
			      char *why, size_t whylen);

/* What a change did, in one line for people, without the target:
 * "memory.max: max -> 67108864 (read back: 67108864)", "... FAILED: why",
 * "... (dry run: nothing written)", "every process killed (...)". `cgwarden
 * set` and the dashboard both say it this way. Returns buf. */
const char *actuator_describe(const struct act_outcome *o, char *buf, size_t len);

/* The file a kind writes ("cpu.max"). */
const char *actuator_file(enum act_kind kind);

#endif
