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

/* json_write_stream_tick with only the selected cgroup members (fields
 * NULL: all); the lines then carry "fields": [the ids]. */
int json_write_stream_tick_fields(FILE *out, const struct cg_snapshot *s,
				  const struct json_fields *fields);

#endif
