/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every use of json-c lives here: the snapshot document, the NDJSON stream,
 * and reading JSON files other modules need (runtime configs, later policy).
 * Field ids follow METRICS.md; the schema is schema/cgwarden.schema.json.
 */
#ifndef CGWARDEN_JSON_H
#define CGWARDEN_JSON_H

#include <stdio.h>
#include <stddef.h>
#include "snapshot.h"
#include "actuator.h"
#include "policy.h"

#define CGWARDEN_JSON_SCHEMA_VERSION 1

/* `cgwarden snapshot`: one pretty document {"schema":1,"type":"snapshot",...}. */
int json_write_snapshot(FILE *out, const struct cg_snapshot *s, bool pretty);

/* `cgwarden stream`: one line per event of this tick (cgroup_added,
 * cgroup_removed with final counters), then one "tick" line. Each line is
 * flushed whole. Returns the number of lines written or -errno. */
int json_write_stream_tick(FILE *out, const struct cg_snapshot *s);

/* --fields: which members of each cgroup object a stream line keeps. */
struct json_fields;

/* Parses "cpu,memory.current_bytes,psi.cpu": comma-separated dotted JSON
 * ids of cgroup members (cgwarden-json(7)); an id keeps that member and
 * everything under it, identity members (id, path, name, ...) are always
 * kept. -EINVAL: not an id list; -ENOENT: a first component that is no
 * member of a cgroup object; -ENOMEM. */
int json_fields_parse(const char *list, struct json_fields **out);
void json_fields_free(struct json_fields *f);
struct metric_set;
/* Adds the metrics f selects (every row under each id; identity members
 * are always written and need none) to set. */
void json_fields_metrics(const struct json_fields *f, struct metric_set *set);

/* json_write_stream_tick with only the selected cgroup members (fields
 * NULL: all); the lines then carry "fields": [the ids]. */
int json_write_stream_tick_fields(FILE *out, const struct cg_snapshot *s,
				  const struct json_fields *fields);

/* One audit record of the actuator as one line {"schema":1,"type":"audit",...}
 * (man cgwarden-json(7)). 0 or -errno. */
int json_write_audit(FILE *out, const struct act_audit *rec);

/* One decision of the policy daemon as one line {"schema":1,"type":
 * "policy_action",...} (cgwarden-json(7)): acted on, or stopped by a guard.
 * time_usec is CLOCK_REALTIME; latency_usec (trigger to action) is written
 * when non-zero. 0 or -errno. */
int json_write_policy_action(FILE *out, const struct pol_decision *d, uint64_t time_usec,
			     uint64_t latency_usec);

/* The daemon's state file (json_policy_state_read reads it back). */
int json_write_policy_state(FILE *out, const struct policy_state *st, const char *boot_id,
			    uint64_t mono_usec);

/* Docker's <containers>/<id>/config.v2.json "Name" ("/web" -> "web").
 * Writes a NUL-terminated name into out. -ENOENT, -EINVAL (not JSON / no
 * Name), -ENAMETOOLONG. */
int json_read_docker_name(const char *config_path, char *out, size_t outlen);

/* Podman's containers.json (array of {"id":..,"names":[..]}): name of id. */
int json_read_podman_name(const char *containers_json, const char *id, char *out,
			  size_t outlen);

#endif
