/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The flight recorder as a part on a runner (src/runner): each tick of the
 * whole tree, with the policy actions taken during it, encoded
 * (reccodec.h) and appended to the store (store.h). `cgwarden record` is
 * this part alone; serve and daemon add it with --record DIR. A store that
 * fails for good stops the recording, said once; the run goes on.
 */
#ifndef CGWARDEN_RECORDER_H
#define CGWARDEN_RECORDER_H

#include <stdbool.h>
#include <stdint.h>
#include "policy.h"
#include "runner.h"

struct recorder_opts {
	const char *dir;
	const char *who;		/* "cgwarden record": prefix of notices */
	bool quiet;
	uint64_t retain_bytes;		/* 0: RECORDER_RETAIN_BYTES */
	uint64_t retain_usec;		/* 0: RECORDER_RETAIN_USEC */
	uint64_t flush_usec;		/* 0: RECORDER_FLUSH_USEC */
	/* Take the slow tier as the other parts do (serve): carried values
	 * are recorded as carried. Else every file is read every tick. */
	bool slow_ok;
	uint64_t count;			/* end the run after this many ticks; 0: never */
};

/* Defaults (cgwarden-record(8)): never more than 1 GiB nor older than 7
 * days, and never more than RECORDER_RETAIN_FS_DIV-th of the file system
 * the store is on (a small root disk); ticks safe on disk within 10 s. */
#define RECORDER_RETAIN_FS_DIV 20
#define RECORDER_RETAIN_BYTES (1ull << 30)
#define RECORDER_RETAIN_USEC (7ull * 24 * 3600 * 1000000)
#define RECORDER_FLUSH_USEC 10000000ull

struct recorder;

/* The default size cap for a store in dir: RECORDER_RETAIN_BYTES, or a
 * twentieth of the file system it is (or would be created) on when that
 * is less. */
uint64_t recorder_default_retain_bytes(const char *dir);

/* Opens the store and adds the part to r. 0, or -errno after saying why. */
int recorder_open(struct runner *r, const struct recorder_opts *o, struct recorder **out);

/* A decision the daemon's executor recorded (enforcer_record_fn): kept for
 * the next tick's record. */
void recorder_action(struct recorder *rec, const struct pol_decision *d, uint64_t time_usec,
		     uint64_t latency_usec);

struct prom_record;
/* The recorder's figures for /metrics, updated at each of its ticks; valid
 * until recorder_close(). */
const struct prom_record *recorder_prom(const struct recorder *rec);

/* Flushes and closes the store. NULL is fine. */
void recorder_close(struct recorder *rec);

/* --retain: "512M", "7d", or both "512M,7d". 0 or -EINVAL. */
int recorder_parse_retain(const char *s, uint64_t *bytes, uint64_t *usec);

/* The same, saying what is wrong on stderr (prefixed by who). */
int recorder_retain_opt(const char *who, const char *arg, struct recorder_opts *o);

/* serve and daemon: --record DIR and --retain SPEC. */
#define RECORDER_OPTS_HELP                                                    \
	"      --record DIR      also record every tick into DIR, as cgwarden\n" \
	"                        record does (values the slow tier carries are\n" \
	"                        recorded as carried)\n"                          \
	"      --retain SPEC     the recording's cap: 512M, 7d, or both: 2G,30d\n" \
	"                        (default 1G,7d, and at most a twentieth of the\n" \
	"                        file system)\n"

#endif
