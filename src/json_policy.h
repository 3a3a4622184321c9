/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading the policy file (man cgwarden-policy(5)) and the daemon's state
 * file with json-c (DESIGN.md: json-c stays in json*.c). The loader collects
 * every error, each naming the file and either line:column (syntax) or the
 * field path (rules[2].then[1].wait) with the reason.
 */
#ifndef CGWARDEN_JSON_POLICY_H
#define CGWARDEN_JSON_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include "policy.h"

struct pol_errors {
	size_t nr;
	char **msg;		/* "FILE:3:14: ..." or "FILE: rules[0].then[1].wait: ..." */
	bool oom;		/* a message was lost for lack of memory */
};

void pol_errors_free(struct pol_errors *e);

/* Parses text (len bytes, no NUL needed) named name in messages. On success
 * *out is the policy and 0 is returned; else -EINVAL with every error in
 * errs (or -ENOMEM). */
int json_policy_parse(const char *name, const char *text, size_t len, struct policy **out,
		      struct pol_errors *errs);

/* Policy file reads are capped at this size (cgwarden-policy(5)). */
#define JSON_POLICY_FILE_MAX (4u << 20)

/* The same from a file (at most JSON_POLICY_FILE_MAX bytes: one more is an
 * error naming the file and the cap). -ENOENT etc. are errors too. */
int json_policy_load(const char *path, struct policy **out, struct pol_errors *errs);

/*
 * Reading the daemon's state file (written by json_write_policy_state()).
 * boot_id and cgroup_id are inputs; the rest is filled in.
 */
struct json_state_read {
	const char *boot_id;		/* this boot's: a file of another boot is ignored
					 * (its cgroups and monotonic times are gone) */
	/* The id of the cgroup at path (relative to the root) now: 0,
	 * -ENOENT or -errno. NULL: paths are not checked (tests only). */
	int (*cgroup_id)(void *ctx, const char *path, uint64_t *id);
	void *ctx;
	bool ignored;			/* out: the file is of another boot */
	struct pol_errors notes;	/* out: entries and fields skipped, and why */
	char why[512];			/* out: why the file as a whole was not read */
};

/* State file reads are capped at this size (cgwarden(8)). */
#define JSON_STATE_FILE_MAX (64u << 20)

/* Reads the state file at path into st (which must be empty): 0 (read, or
 * ignored: r->ignored), -ENOENT, -EINVAL (r->why says why), -ENOMEM. An
 * entry that is unsound is skipped with a note in r->notes (free them with
 * pol_errors_free): a value a restore would write back that `cgwarden set`
 * would refuse, an action that has no restore, a number that is not a whole
 * number, a path that is now another cgroup. Duplicate keys, NaN or
 * Infinity anywhere refuse the whole file. */
int json_policy_state_read(const char *path, struct policy_state *st, struct json_state_read *r);

#endif
