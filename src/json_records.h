/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One-line JSON records of what cgwarden did, as opposed to what it saw
 * (json.h): the actuator's audit records and the policy daemon's decisions
 * (cgwarden-json(7)). Written by json.c with the same writer; apart from
 * json.h so that the snapshot and stream writers' users do not pull in the
 * actuator and the policy engine.
 */
#ifndef CGWARDEN_JSON_RECORDS_H
#define CGWARDEN_JSON_RECORDS_H

#include <stdint.h>
#include <stdio.h>
#include "actuator.h"
#include "policy.h"

/* One audit record of the actuator as one line {"schema":1,"type":"audit",...}
 * (man cgwarden-json(7)). 0 or -errno. */
int json_write_audit(FILE *out, const struct act_audit *rec);

/* One decision of the policy daemon as one line {"schema":1,"type":
 * "policy_action",...} (cgwarden-json(7)): acted on, or stopped by a guard.
 * time_usec is CLOCK_REALTIME; latency_usec (trigger to action) is written
 * when non-zero. 0 or -errno. */
int json_write_policy_action(FILE *out, const struct pol_decision *d, uint64_t time_usec,
			     uint64_t latency_usec);

/* The cgroups under adaptive memory.high control in st, as one line
 * {"schema":1,"type":"adaptive","time_usec":...,"cgroups":[...]}
 * (cgwarden-json(7)): the daemon's stream carries one a tick while any
 * is. 0 (nothing written when none is), or -errno. */
int json_write_adaptive(FILE *out, const struct policy_state *st, uint64_t time_usec);

#endif
