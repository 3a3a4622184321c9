/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Prometheus text exposition (format 0.0.4) and OpenMetrics 1.0 from one
 * snapshot. Pure: no I/O, no clock; the output depends on its arguments only.
 * Names and labels follow METRICS.md (cAdvisor's where one exists); the list
 * of families is in man cgwarden(8), "METRICS".
 */
#ifndef CGWARDEN_PROM_H
#define CGWARDEN_PROM_H

#include <stddef.h>
#include <stdint.h>
#include "snapshot.h"

enum prom_format {
	PROM_TEXT,		/* text/plain; version=0.0.4 */
	PROM_OPENMETRICS,	/* application/openmetrics-text; version=1.0.0 */
};

/* A growable output buffer. Zero-initialise; prom_buf_free() when done.
 * A render resets len and reuses the memory. */
struct prom_buf {
	char *data;		/* NUL-terminated after a successful render */
	size_t len, cap;
};

void prom_buf_free(struct prom_buf *b);

/* One policy counter (the daemon's rule engine, issue 8): how often a rule's
 * action ended with a result ("ok", "dry-run", "refused", "failed"). */
struct prom_policy_count {
	const char *rule, *action, *result;
	uint64_t count;
};

/* The flight recorder of the same process (src/recorder), when it runs:
 * what an alert needs to see that the recording stopped or lost ticks. */
struct prom_record {
	bool paused;			/* the disk is full: ticks are dropped */
	bool stopped;			/* the store failed for good */
	uint64_t ticks;			/* recorded */
	uint64_t ticks_dropped;		/* while paused */
	uint64_t written_bytes;		/* to disk, headers and index included */
	uint64_t store_bytes;		/* the store's size now */
};

/* One cgroup under adaptive memory.high control (the policy daemon's
 * state, cgwarden-policy(5)): its series carry the cgroup's labels and the
 * rule's name. */
struct prom_adaptive {
	uint64_t cgroup_id;
	char rule[64];
	uint64_t high_bytes;		/* the limit the controller set last */
	double pressure_pct;		/* stall share of the last interval; < 0: not yet */
	uint64_t held_back_bytes;	/* highest memory.current under control minus now's */
};

/* What a process serves beside the snapshot; each member optional. */
struct prom_extra {
	const struct prom_policy_count *policy;	/* with nr_policy (0 is fine) */
	size_t nr_policy;
	const struct prom_record *record;
	/* cgwarden_build_info: version, revision and library versions (src/version).
	 * Off in the golden outputs, which must not change with every commit. */
	bool build_info;
	/* The cgwarden_adaptive_* families (their HELP and TYPE even when
	 * nr_adaptive is 0) when adaptive is non-NULL: the daemon's. */
	const struct prom_adaptive *adaptive;
	size_t nr_adaptive;
};

/* prom_render with the cgwarden_record_* families when x->record is set. */
int prom_render_extra(struct prom_buf *b, const struct cg_snapshot *s, enum prom_format fmt,
		      const struct prom_extra *x);

/*
 * Renders every family of s into b (replacing what b held). policy is
 * optional: with policy != NULL the cgwarden_policy_actions_total family is
 * written (with its HELP and TYPE even when nr_policy is 0). Returns 0 or
 * -EINVAL / -ENOMEM; on error b->len is 0.
 */
int prom_render(struct prom_buf *b, const struct cg_snapshot *s, enum prom_format fmt,
		const struct prom_policy_count *policy, size_t nr_policy);

/* The format a scraper asked for in its Accept header (NULL: none):
 * OpenMetrics when it lists application/openmetrics-text with a q > 0,
 * else the 0.0.4 text format. */
enum prom_format prom_negotiate(const char *accept);

/* Whether an Accept-Encoding header (NULL: none) takes gzip: "gzip" or
 * "*" with a q above 0. Prometheus asks for it on every scrape. */
bool prom_accepts_gzip(const char *accept_encoding);

/* The Content-Type header value of a format. */
const char *prom_content_type(enum prom_format fmt);

#endif
