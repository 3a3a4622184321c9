/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Policy simulation on recorded time (check-policy --replay): the policy
 * engine run over a recording's ticks in order, with one state carried
 * across them, as a daemon would have run it. Pure: ticks and the real
 * daemon's recorded actions in, annotated decisions out; no I/O, no clock.
 *
 * Nothing is executed: each step counts as taken (as a dry-run daemon
 * counts it), and the recorded values go on as they really were, without
 * the simulated steps. Where the real daemon changed a cgroup (a recorded
 * action that was carried out: result ok, not dry run, not blocked, not a
 * log or hook), every simulated decision on it, or on a cgroup below it
 * for the actions that reach a subtree, at or after that moment is marked
 * with that action: from then on the values show its effect, not this
 * policy's.
 */
#ifndef CGWARDEN_POLSIM_H
#define CGWARDEN_POLSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "policy.h"
#include "reccodec.h"

/* A real change recorded on a cgroup: the first one there, from a
 * policy_action record of the daemon. */
struct polsim_real {
	uint64_t time_usec;		/* CLOCK_REALTIME */
	uint64_t cgroup_id;
	char *target;			/* its path, "" when the record has none */
	char rule[POL_NAME_MAX];
	char action[24];		/* "memory.high", "thaw" */
	char value[48];			/* as recorded ("536870912", "max"), "" for none */
	bool restore;
	bool subtree;			/* reaches the cgroups below it too */
};

struct polsim_decision {
	struct pol_decision *d;		/* the engine's; result and why filled in:
					 * "simulated", or "blocked" and the guard */
	uint64_t wall_usec;		/* the tick's recorded wall time */
	const struct polsim_real *after;	/* NULL, or the real change it comes after */
	/* NULL, or why the daemon would likely have failed: the limit's file
	 * was not in the recording for this cgroup (no controller there). */
	const char *caveat;
};

struct polsim_stats {
	size_t ticks;
	uint64_t first_wall_usec, last_wall_usec;
	size_t decisions, blocked, after_real;
	size_t real_actions;		/* real changes seen in the recorded actions */
	size_t restarts;		/* monotonic clock went back: state started afresh */
	size_t *per_rule;		/* decisions per rule, by index in the policy */
	/* By rule index: whether it matched any cgroup in any tick, and per
	 * condition whether its metric was there on a matched cgroup (absent
	 * all along: never recorded, or not given by that kernel). */
	bool *matched;
	bool (*cond_seen)[POL_MAX_CONDS];
};

struct polsim;

/* p must outlive the simulation. self_path: as policy_env's (NULL: unknown,
 * which is what a recording gives). 0 or -ENOMEM. */
int polsim_new(const struct policy *p, const char *self_path, struct polsim **out);
void polsim_free(struct polsim *ps);

/*
 * Notes real actions without evaluating: those recorded before the
 * simulated range, whose effect the values of the range already show.
 * 0 or -ENOMEM.
 */
int polsim_note_actions(struct polsim *ps, const struct rec_action *acts, size_t nr);

/*
 * One recorded tick: its actions are noted (polsim_note_actions), then the
 * policy is evaluated on s at s's monotonic time. *out gets this tick's
 * decisions, valid until the next call. Returns their number, or -ENOMEM
 * (the simulation cannot go on: its state is no longer the daemon's).
 */
int polsim_tick(struct polsim *ps, const struct cg_snapshot *s, const struct rec_action *acts,
		size_t nr_acts, const struct polsim_decision **out);

const struct polsim_stats *polsim_stats(const struct polsim *ps);

/* "after the real memory.high 512M at 2026-12-04T03:00:05.000Z by rule R"
 * (human: sizes in K/M/G; else as recorded). */
void polsim_real_format(const struct polsim_real *r, bool human, char *out, size_t len);

#endif
