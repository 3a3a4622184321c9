/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The policy engine (DESIGN.md: "rules in, decisions out"). Pure: no I/O,
 * no clock reads. One evaluation takes a snapshot, the current monotonic
 * time and the engine state, and returns the decisions of this instant:
 * ladder steps to take, restores to make, and steps a guard stopped. The
 * executor (src/enforcer.c) carries them out through the actuator and fills
 * in each decision's result. The policy file is read by src/json_policy.c;
 * the format is man cgwarden-policy(5).
 */
#ifndef CGWARDEN_POLICY_H
#define CGWARDEN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "snapshot.h"

#define POL_MAX_CONDS 8
#define POL_MAX_STEPS 8
#define POL_NAME_MAX 64

/* ---- metrics ------------------------------------------------------------ */

/* A metric name of METRICS.md resolved once at load time. */
struct pol_metric {
	uint16_t row;		/* enum metric_id: its row of the metric table */
	bool bytes;		/* a _bytes quantity: thresholds may say "512M" */
	int8_t psi_res;		/* enum cg_psi_resource for psi.* averages, else -1 */
	bool psi_full;
};

/* "memory.current_bytes" -> m. 0 or -EINVAL (unknown name). */
int policy_metric_resolve(const char *name, struct pol_metric *m);

/* The metric's value in s: 0, or -ENOENT when the kernel did not give it
 * (absent is never 0: a condition on it is simply not met). PSI averages are
 * percent (12.5 = 12.50 %), ratios 1.0 = one CPU, everything else raw. */
int policy_metric_get(const struct cg_sample *s, const struct pol_metric *m, double *out);

struct policy;
struct metric_set;
/* Adds the metrics p's rules need to set (the daemon collects them): their
 * conditions', and what the engine reads for their steps and guards. */
void policy_metric_set(const struct policy *p, struct metric_set *set);

/* ---- rules -------------------------------------------------------------- */

enum pol_op { POL_GT, POL_GE, POL_LT, POL_LE };

struct pol_cond {
	char metric_name[POL_NAME_MAX];
	struct pol_metric metric;
	enum pol_op op;
	double value;
	double clear;		/* hysteresis: stays met until it crosses this (= value if unset) */
	uint64_t for_usec;	/* must hold that long before it counts */
	/* PSI averages with > or >=: the kernel trigger "some|full STALL WINDOW"
	 * with STALL = value% of WINDOW; its firing makes the condition met
	 * at once (within WINDOW of the event), not at the next tick. */
	uint64_t window_usec;
};

enum pol_action {
	POL_MEMORY_HIGH, POL_MEMORY_MAX, POL_CPU_MAX, POL_CPU_WEIGHT,
	POL_FREEZE, POL_KILL, POL_HOOK, POL_LOG,
	POL_THAW,		/* only as the restore of POL_FREEZE */
	POL__ACTION_COUNT
};

struct pol_step {
	enum pol_action action;
	/* POL_MEMORY_HIGH only: {"memory.high": "adaptive"}: value is unused;
	 * the rule's adaptive tuning finds the limit (see struct pol_adaptive). */
	bool adaptive;
	uint64_t value;		/* bytes, cpu.max quota (CG_UNLIMITED = max), weight */
	uint64_t period;	/* cpu.max period */
	uint64_t wait_usec;	/* before the next step may follow */
	char *hook_path;	/* POL_HOOK: absolute path */
	uint64_t hook_timeout_usec;
	char *message;		/* POL_LOG, optional for others */
};

/*
 * Adaptive memory.high (cgwarden-policy(5), "Adaptive memory"): once the
 * ladder reaches a {"memory.high": "adaptive"} step, every interval the
 * engine measures the share of wall time the cgroup's tasks stalled on
 * memory (memory.pressure "some" total, over that interval) and moves
 * memory.high: below the target it takes away up to `step` of
 * memory.current; above it, it gives back faster; far above it, on a
 * memory.events oom/oom_kill, or on a memory.events high while the stall
 * is above the target, it lifts the limit at once (at the tick that sees
 * it, not the interval's end), and then holds it a while before lowering
 * again (POL_ADAPT_HOLD_*). The
 * rule's restore puts back the value from before, as for any step.
 */
struct pol_adaptive {
	double pressure_pct;	/* target stall share, percent, in (0, 100) */
	uint64_t interval_usec;	/* between adjustments */
	double step;		/* largest share of memory.current taken per interval, (0, 0.5] */
	uint64_t min_bytes;	/* never below this (0: only the floors and memory.min) */
};
/* Senpai's, in spirit: 6 s, 1 %, a small stall target. */
#define POL_ADAPT_PRESSURE_DEFAULT 0.1
#define POL_ADAPT_INTERVAL_DEFAULT 6000000u
#define POL_ADAPT_STEP_DEFAULT 0.01
/* Above the target it gives back this many times what it may take. */
#define POL_ADAPT_GIVE_BACK 3
/* At this many times the target (or on an event) it lifts the limit. */
#define POL_ADAPT_FAR_ABOVE 4
/* After a lift it does not lower the limit for a while: HOLD_FIRST
 * intervals after the first, twice as long after each lift that follows,
 * up to HOLD_MAX; half as long again after each cut that cost nothing.
 * A lift means it found the working set's edge: probing it again at once
 * would cost the workload a reclaim and a refault every other interval. */
#define POL_ADAPT_HOLD_FIRST 2
#define POL_ADAPT_HOLD_MAX 32

enum pol_match_field { POL_M_PATH, POL_M_NAME, POL_M_NAMESPACE, POL_M_POD, POL_M__GLOBS };

struct pol_rule {
	char *name;
	uint64_t fingerprint;	/* of the rule's text: unchanged rules keep their state */
	bool dry_run;
	char *glob[POL_M__GLOBS];	/* NULL: any */
	int kind;		/* enum cg_kind, -1: any */
	int runtime;		/* enum cg_runtime, -1: any */
	bool any;		/* "any" instead of "all" */
	size_t nr_conds;
	struct pol_cond conds[POL_MAX_CONDS];
	size_t nr_steps;
	struct pol_step steps[POL_MAX_STEPS];
	uint64_t restore_after_usec;	/* 0: the ladder's changes stay */
	uint64_t cooldown_usec;		/* between one ladder's end and the next start */
	uint64_t floor_bytes;		/* memory.high/max never below this */
	bool has_adaptive;		/* "adaptive" given (or defaulted for an adaptive step) */
	struct pol_adaptive adaptive;
};

struct policy {
	char *file;		/* as given, for messages */
	bool dry_run;
	uint32_t budget_per_minute;	/* 0: no budget */
	uint64_t floor_bytes;		/* global memory floor */
	size_t nr_protected;
	char **protected;	/* path globs never acted on */
	size_t nr_rules;
	struct pol_rule *rules;
};

void policy_free(struct policy *p);

/* Does rule r match sample s (root never matches)? */
bool policy_rule_matches(const struct pol_rule *r, const struct cg_sample *s);

/* The PSI triggers rule r wants on a target: one per PSI condition with a
 * window. Returns how many were written to out (at most max). */
struct pol_trigger {
	enum cg_psi_resource res;
	bool full;
	uint64_t stall_usec, window_usec;
};
size_t policy_rule_triggers(const struct pol_rule *r, struct pol_trigger *out, size_t max);

const char *policy_action_name(enum pol_action a);

/* ---- state -------------------------------------------------------------- */

/* What was there before a step, for restore_after. */
struct pol_saved {
	bool valid;
	bool dry_run;			/* the step was recorded only: so is its restore */
	uint8_t action;			/* enum pol_action of the step */
	uint64_t value, period;
};

/* One rule acting on one cgroup. Transparent so the state file can be
 * written and read (json.c / json_policy.c). */
struct pol_target {
	char rule[POL_NAME_MAX];
	uint64_t fingerprint;
	uint64_t cgroup_id;
	char *path;
	uint32_t step;			/* steps taken in this ladder */
	uint64_t last_step_usec;	/* monotonic */
	bool clearing;			/* the condition has been false since clear_since_usec */
	uint64_t clear_since_usec;
	uint64_t last_action_usec;	/* any step or restore, for cooldown */
	bool frozen;			/* a real (not dry-run) freeze of ours is in force */
	/* Step 0 ran in dry run. Informational: a policy's dry_run may change
	 * mid-ladder (SIGHUP, restart), so each saved step has its own. */
	bool dry_run;
	bool orphan;			/* its rule is gone or changed: restore now */
	/* A thaw that failed or was refused (a frozen ancestor) is owed: tried
	 * again not before thaw_next_usec, with the wait doubling per try. */
	uint32_t thaw_tries;
	uint64_t thaw_next_usec;
	uint32_t blocked;		/* the guard that stopped the last attempt (logged once) */
	struct pol_saved saved[POL_MAX_STEPS];
	/* Per condition: met (with hysteresis) and since when it has been. */
	bool cond_on[POL_MAX_CONDS];
	uint64_t cond_since_usec[POL_MAX_CONDS];
	bool seen;			/* scratch: matched in this evaluation */
	/* Self-inflicted CPU pressure (policy.c, cgwarden-policy(5)): the CPU
	 * stall totals (some, full) and cpu.stat throttled_usec at snapshot
	 * cpu_snap_usec, and the share of the last interval's stall that the
	 * throttling does not explain (percent; known when cpu_known). Not
	 * kept across restarts: one interval rebuilds them. */
	uint64_t cpu_snap_usec;
	uint64_t cpu_stall_usec[2], cpu_throttled_usec;
	bool cpu_known;
	double cpu_unexplained[2];
	/* Adaptive memory.high, while its step is in force (adapt_on). Not
	 * kept across restarts: a restart restores, then starts again. */
	bool adapt_on;
	uint8_t adapt_step;		/* the adaptive step's index in the ladder */
	uint64_t adapt_high;		/* the limit set last (bytes) */
	uint64_t adapt_last_usec;	/* the last adjustment (monotonic) */
	uint64_t adapt_snap_usec;	/* snapshot time of the readings below */
	uint64_t adapt_stall_usec;	/* memory.pressure some total then */
	uint64_t adapt_events;		/* memory.events oom + oom_kill then */
	uint64_t adapt_highs;		/* memory.events high then */
	double adapt_pressure_pct;	/* measured over the last interval (-1: not yet) */
	uint64_t adapt_peak;		/* highest memory.current seen under control */
	uint64_t adapt_held;		/* adapt_peak minus memory.current at the last tick */
	uint64_t adapt_summary_usec;	/* the last summary record */
	uint16_t adapt_backoff;		/* intervals held after the last lift (0: none yet) */
	uint16_t adapt_hold;		/* intervals left in which it may not lower */
	bool adapt_cut;			/* the last interval lowered the limit */
};

/* The last time the kernel's PSI trigger fired on a cgroup. */
struct pol_trigger_fire {
	uint64_t cgroup_id;
	uint8_t res;
	bool full;
	uint64_t time_usec;
};

#define POL_BUDGET_MAX 1024

struct policy_state {
	size_t nr_targets, cap_targets;
	struct pol_target *targets;
	/* Times of the last actions counted by the budget (ring). */
	uint64_t budget_times[POL_BUDGET_MAX];
	uint32_t budget_head, budget_len;
	size_t nr_fires, cap_fires;
	struct pol_trigger_fire *fires;
};

void policy_state_init(struct policy_state *st);
void policy_state_free(struct policy_state *st);

/* After a reload: state of rules kept unchanged (same name, same text) goes
 * on; state of rules changed or removed becomes orphan, and the next
 * evaluation restores what they changed. */
void policy_state_rebind(struct policy_state *st, const struct policy *p);

/* Adds a target entry (state file loading, tests). Returns it or NULL. */
struct pol_target *policy_state_add(struct policy_state *st, const char *rule,
				    uint64_t cgroup_id, const char *path);

/* The kernel's PSI trigger on cgroup_id fired at now_usec. */
int policy_note_trigger(struct policy_state *st, uint64_t cgroup_id,
			enum cg_psi_resource res, bool full, uint64_t now_usec);

/* ---- decisions ---------------------------------------------------------- */

enum pol_guard {
	POL_G_DRY_RUN	= 1u << 0,	/* recorded, not done */
	POL_G_PROTECTED	= 1u << 1,	/* blocked */
	POL_G_FLOOR	= 1u << 2,	/* value raised to the floor; blocked when
					 * the floor is max (memory.min max) */
	POL_G_COOLDOWN	= 1u << 3,	/* blocked */
	POL_G_BUDGET	= 1u << 4,	/* blocked */
	POL_G_NOT_LEAF	= 1u << 5,	/* kill of a cgroup with children: the executor
					 * checks memory.oom.group */
	POL_G_SHARED	= 1u << 6,	/* an adaptive step on a cgroup another rule's
					 * adaptive control governs: blocked (the first wins) */
};
#define POL_G_BLOCKING (POL_G_PROTECTED | POL_G_COOLDOWN | POL_G_BUDGET | POL_G_SHARED)

/* "dry_run,floor" for a guard mask; "" when none. */
void policy_guard_names(uint32_t guards, char *out, size_t outlen);

struct pol_value {
	char metric[POL_NAME_MAX];
	enum pol_op op;
	double value, threshold;
	bool met;		/* met now (the fired ones, for an any-rule) */
	bool throttled;		/* held but not met: CPU pressure its own cpu.max explains */
	bool by_trigger;	/* met because the PSI trigger fired */
};

#define POL_RESULT_MAX 32
#define POL_WHY_MAX 320

/* What a decision is to adaptive control. */
enum pol_adapt_kind {
	POL_ADAPT_NONE,		/* not adaptive */
	POL_ADAPT_START,	/* the step was taken: control starts (recorded) */
	POL_ADAPT_ADJUST,	/* one interval's new limit: applied, not recorded */
	POL_ADAPT_SUMMARY,	/* at most one a minute: recorded, nothing applied */
	POL_ADAPT_END,		/* the restore of the adaptive step: control ends (recorded) */
};
/* Summaries of a controlled cgroup: at most one per this. */
#define POL_ADAPT_SUMMARY_USEC 60000000u

struct pol_decision {
	/* The rule's name, a copy: a restore's rule lives in a state entry,
	 * which the same evaluation may move (realloc, drop). */
	char rule[POL_NAME_MAX];
	uint64_t cgroup_id;
	char *path;			/* owned; freed with the decision list */
	int step;			/* index in the ladder */
	enum pol_action action;
	bool restore;			/* undo of step `step` */
	uint32_t tries;			/* a thaw: the failed tries before this one */
	uint64_t value, period;		/* what to set (after floors) */
	const char *hook_path;
	uint64_t hook_timeout_usec;
	const char *message;
	uint32_t guards;		/* enum pol_guard */
	bool blocked;			/* a guard stopped it: nothing to execute */
	bool dry_run;			/* record only */
	size_t nr_values;
	struct pol_value values[POL_MAX_CONDS];
	uint64_t time_usec;		/* now, monotonic */
	/* Adaptive memory.high: the kind, and what the controller saw (value
	 * is the new limit for START and ADJUST, the one in force for SUMMARY).
	 * held_back: the highest memory.current under control minus now's. */
	enum pol_adapt_kind adapt;
	double adapt_pressure_pct;	/* -1: not measured yet */
	uint64_t adapt_current, adapt_held_back;
	/* Filled by the executor. */
	char result[POL_RESULT_MAX];	/* ok, failed, refused, dry-run, blocked */
	char why[POL_WHY_MAX];
};

struct pol_decisions {
	size_t nr, cap;
	struct pol_decision *d;
};

void policy_decisions_free(struct pol_decisions *ds);

/* Inputs besides the snapshot. */
struct policy_env {
	const char *self_path;		/* our own cgroup (relative to root), never acted on */
};

/*
 * One evaluation at now_usec (monotonic). ds is emptied and refilled;
 * decisions point into p (hook paths, messages; rule names are copies),
 * valid until the policy is freed or the next call. Blocked steps are
 * recorded once per guard change, not every tick. Returns the number of
 * decisions or -ENOMEM; on -ENOMEM ds still holds the decisions made before
 * the failure, which the state already counts as done: carry them out.
 */
int policy_evaluate(const struct policy *p, const struct policy_env *env,
		    const struct cg_snapshot *s, uint64_t now_usec,
		    struct policy_state *st, struct pol_decisions *ds);

/* Restores every change of ours in force (when freezes_only: freezes and
 * adaptive memory.high only):
 * for SIGTERM (thaw what we froze) or for a daemon asked to let go.
 * Ancestors come before their descendants. */
int policy_release(const struct policy *p, struct policy_state *st, uint64_t now_usec,
		   bool freezes_only, struct pol_decisions *ds);

/* After the executor ran ds: a thaw that failed or was refused (a frozen
 * ancestor, say) is still owed, so its freeze goes back into the state and
 * a later evaluation (or start) tries again instead of forgetting it: after
 * POL_THAW_RETRY_USEC, doubling with each failed try up to
 * POL_THAW_RETRY_MAX_USEC, so each try (and its record) is one per step of
 * the backoff, not one per tick. Returns how many, or -ENOMEM. */
#define POL_THAW_RETRY_USEC 1000000u
#define POL_THAW_RETRY_MAX_USEC 300000000u
int policy_restores_failed(struct policy_state *st, const struct pol_decisions *ds);

/*
 * One interval of the adaptive controller, pure: the next memory.high from
 * the one in force (high), memory.current, the stall share measured over
 * the interval (percent), whether memory.events counted a high, oom or
 * oom_kill in it, the lowest allowed (floor: min, floors, memory.min) and
 * the value from before control (ceiling; CG_UNLIMITED for max). Below the
 * target: down by up to a->step of current, in proportion to how far below
 * (from min(high, current)); above: up by up to POL_ADAPT_GIVE_BACK times
 * that; at POL_ADAPT_FAR_ABOVE times the target or on an event: the
 * ceiling. Never below floor nor above ceiling.
 */
uint64_t policy_adapt_next(const struct pol_adaptive *a, uint64_t high, uint64_t current,
			   double pressure_pct, bool event, uint64_t floor, uint64_t ceiling);

/* Durations and sizes in messages and records: "1.5s", "300ms". */
void policy_format_usec(uint64_t usec, char *out, size_t outlen);

#endif
