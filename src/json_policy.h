/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading the policy file (man cgwarden-policy(5)) with json-c (DESIGN.md:
 * json-c is the reader of policy, state and runtime files). The loader collects
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

/* Shared with the state file's reader (statefile.c), which checks its file
 * as strictly as a policy. */
struct json_object;

/* Adds a message formatted like printf (a lost one sets e->oom). */
void pol_errors_addf(struct pol_errors *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "a number", "a string", ...: what v is, for a message. */
const char *json_policy_type_name(struct json_object *v);

/* The whole regular file at path into *out (NUL-terminated, *outlen bytes
 * before it): -EFBIG past max bytes, -EINVAL not a regular file, -errno. */
int json_policy_read_file(const char *path, size_t max, char **out, size_t *outlen);

/* What json-c lets through and a trusted file must not have (a key twice
 * in one object, a non-finite number): 0 none, 1 and the first one in why
 * as "FILE:LINE:COL: ...", or -ENOMEM. */
int json_policy_strict_first(const char *file, const char *text, size_t len, char *why,
			     size_t whylen);

#endif
