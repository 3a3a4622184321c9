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

/* The same from a file (at most 4 MiB). -ENOENT etc. are errors too. */
int json_policy_load(const char *path, struct policy **out, struct pol_errors *errs);

/* Reads a state file written by json_write_policy_state() into st (which
 * must be empty). A state of another boot (boot_id differs) is ignored:
 * its cgroups and monotonic times are gone. 0 (read or ignored: *ignored
 * says which), -ENOENT, -EINVAL (why says what), -ENOMEM. */
int json_policy_state_read(const char *path, const char *boot_id, struct policy_state *st,
			   bool *ignored, char *why, size_t whylen);

#endif
