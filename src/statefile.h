/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The policy daemon's state file (cgwarden(8)): the ladders in progress,
 * what each step saved for its restore, and the action budget, so that a
 * restarted daemon undoes what the last run did and does not repeat it.
 * Written and read here, the format in one place (one JSON object
 * {"schema":1,"type":"policy_state",...} and a newline).
 */
#ifndef CGWARDEN_STATEFILE_H
#define CGWARDEN_STATEFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "json_policy.h"
#include "policy.h"

/* The state at monotonic time mono_usec of boot boot_id, into out.
 * 0 or -errno (-ENOMEM, or the write's). */
int statefile_write(FILE *out, const struct policy_state *st, const char *boot_id,
		    uint64_t mono_usec);

/* boot_id and cgroup_id are inputs; the rest is filled in. */
struct statefile_read {
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

/* State file reads are capped at this size (cgwarden(8)); the state holds
 * ~500 bytes per ladder. */
#define STATEFILE_MAX (64u << 20)

/* Reads the state file at path into st (which must be empty): 0 (read, or
 * ignored: r->ignored), -ENOENT, -EINVAL (r->why says why), -ENOMEM. An
 * entry that is unsound is skipped with a note in r->notes (free them with
 * pol_errors_free): a value a restore would write back that `cgwarden set`
 * would refuse, an action that has no restore, a number that is not a whole
 * number, a path that is now another cgroup. Duplicate keys, NaN or
 * Infinity anywhere refuse the whole file. */
int statefile_read(const char *path, struct policy_state *st, struct statefile_read *r);

#endif
