/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The executor of the policy daemon: carries out the engine's decisions
 * through the actuator (the only writer of cgroupfs), runs hooks, fills in
 * each decision's result, hands every decision to a record callback (the
 * stream, the log file) and counts them per {rule, action, result} for
 * Prometheus (cgwarden_policy_actions_total).
 */
#ifndef CGWARDEN_ENFORCER_H
#define CGWARDEN_ENFORCER_H

#include <stddef.h>
#include <stdint.h>
#include "actuator.h"
#include "policy.h"

/* One counter of cgwarden_policy_actions_total{rule,action,result}. The
 * strings live as long as the enforcer (rule names are kept across reloads). */
struct enforcer_counter {
	const char *rule, *action, *result;
	uint64_t count;
};

/* Called once per decision when it ended: at once, or later for one that
 * went on in the loop (d is then the enforcer's copy). time_usec is
 * CLOCK_REALTIME; latency_usec is trigger-to-done when the evaluation came
 * from a PSI trigger, else 0. */
typedef void (*enforcer_record_fn)(void *ctx, const struct pol_decision *d,
				   uint64_t time_usec, uint64_t latency_usec);

struct enforcer;

struct loop;

/* a and l stay the caller's. Hooks and the kernel's confirmation of
 * freezes, thaws and kills are waited for in the loop (a pidfd,
 * cgroup.events, an alarm for deadlines) and never block it. -ENOMEM or
 * -errno (the root cannot be opened, no timerfd). */
int enforcer_new(struct actuator *a, struct loop *l, enforcer_record_fn record, void *ctx,
		 struct enforcer **out);
void enforcer_free(struct enforcer *e);	/* after enforcer_drain */

/* Carries out every decision of ds in order: blocked ones are only
 * recorded, dry-run ones validated (nothing written), the rest applied.
 * A hook, and a freeze, thaw or kill until cgroup.events confirms it, go on
 * in the loop: their result ("running" in ds meanwhile) is filled in and
 * recorded when they end, in a copy of the decision. trigger_mono_usec:
 * when the PSI trigger that caused this evaluation was seen
 * (CLOCK_MONOTONIC), or 0. Returns how many were applied by now. */
int enforcer_run(struct enforcer *e, struct pol_decisions *ds, uint64_t trigger_mono_usec);

/* Before exit, outside the loop: waits for the verifications still going
 * on (each up to the actuator's timeout) and kills the hooks still
 * running; every one is recorded. */
void enforcer_drain(struct enforcer *e);

/* The counters so far: *nr entries, valid until the next enforcer_run. */
const struct enforcer_counter *enforcer_counters(const struct enforcer *e, size_t *nr);

#endif
