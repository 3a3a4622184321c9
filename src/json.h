/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * JSON output of what cgwarden sees: the `cgwarden snapshot` document (also
 * serve's /snapshot) and the `cgwarden stream` NDJSON lines, written
 * directly, without json-c (json.c says why). The records of what it does
 * (audit, policy_action) are declared in json_records.h. json-c is the
 * reader: json_read.h (container runtimes' state), json_policy.h (the
 * policy file), statefile.h (the daemon's state file).
 * Field ids follow METRICS.md and cgwarden-json(7); the schema is
 * schema/cgwarden.schema.json.
 */
#ifndef CGWARDEN_JSON_H
#define CGWARDEN_JSON_H

#include <stdio.h>
#include <stddef.h>
#include "snapshot.h"

#define CGWARDEN_JSON_SCHEMA_VERSION 1

/* `cgwarden snapshot`: one pretty document {"schema":1,"type":"snapshot",...}. */
int json_write_snapshot(FILE *out, const struct cg_snapshot *s, bool pretty);

/* `cgwarden stream`: one line per event of this tick (cgroup_added,
 * cgroup_removed with final counters), then one "tick" line. Each line is
 * flushed whole. Returns the number of lines written or -errno. */
int json_write_stream_tick(FILE *out, const struct cg_snapshot *s);

/* s (len bytes, any bytes) as a quoted JSON string into out, which has
 * room for JSON_QUOTED_MAX(len) bytes; returns the bytes written (no NUL).
 * Always valid UTF-8 (U+FFFD for each invalid byte), control characters
 * C0, C1 and DEL escaped: what every JSON writer of cgwarden writes. */
#define JSON_QUOTED_MAX(len) (6 * (len) + 2)
size_t json_quote(const char *s, size_t len, char *out);

/* --fields: which members of each cgroup object a stream line keeps. */
struct json_fields;

/* Parses "cpu,memory.current_bytes,psi.cpu": comma-separated dotted JSON
 * ids of cgroup members (cgwarden-json(7)); an id keeps that member and
 * everything under it, identity members (id, path, name, ...) are always
 * kept. -EINVAL: not an id list; -ENOENT: a first component that is no
 * member of a cgroup object; -ENOMEM. */
int json_fields_parse(const char *list, struct json_fields **out);
void json_fields_free(struct json_fields *f);
/* The identity members --fields accepts (and always keeps); the rest are
 * the metric table's ids. For the shell completions. */
const char *const *json_identity_members(size_t *n);
struct metric_set;
/* Adds the metrics f selects (every row under each id; identity members
 * are always written and need none) to set. */
void json_fields_metrics(const struct json_fields *f, struct metric_set *set);

/* json_write_stream_tick with only the selected cgroup members (fields
 * NULL: all); the lines then carry "fields": [the ids]. */
int json_write_stream_tick_fields(FILE *out, const struct cg_snapshot *s,
				  const struct json_fields *fields);

#endif
