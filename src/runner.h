/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every long-running command (top, stream, serve, daemon) does the
 * same way: the loop (src/loop), SIGINT/SIGTERM/SIGHUP, the collector, the
 * tick timer and its interval. A command adds parts; on each tick the
 * runner asks every part whether and what to collect, collects once (only
 * the files that feed what the parts want), and hands the new snapshot to every part in the order they were
 * added. The daemon is three parts on one runner: the stream's, the
 * policy's and the HTTP endpoint's.
 */
#ifndef CGWARDEN_RUNNER_H
#define CGWARDEN_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include "cli.h"
#include "collector.h"
#include "loop.h"
#include "metrics.h"
#include "snapshot.h"

struct runner;

/* What a part's callback asks of the runner. */
enum {
	RUNNER_GO = 0,
	RUNNER_SKIP = 1,	/* prepare only: no collection this tick */
	RUNNER_STOP = 2,	/* end the run (runner_run returns) */
};

struct runner_part {
	void *ctx;
	/*
	 * Before each collection: what the part is going to read. It adds
	 * the metrics it needs to want (src/metrics.h); the runner collects
	 * once for all its parts, so it hands the union to collector_want()
	 * and the collector reads only the files that feed it. A part
	 * without prepare wants everything (serve's /metrics). Returns
	 * RUNNER_GO, RUNNER_SKIP (this tick passes without a collection:
	 * nothing is read that could not be delivered) or RUNNER_STOP.
	 */
	int (*prepare)(struct runner *r, struct metric_set *want, void *ctx);
	/* The new snapshot, valid until the next collection. RUNNER_GO or
	 * RUNNER_STOP. May be NULL. */
	int (*tick)(struct runner *r, const struct cg_snapshot *snap, void *ctx);
	/* SIGHUP (log rotation, reload). RUNNER_GO or RUNNER_STOP. NULL: the
	 * part ignores it. */
	int (*hangup)(struct runner *r, void *ctx);
	/* The part takes the slow tier (cgfile.h CGF_SLOW: memory.stat,
	 * io.stat, the process lists) every Nth tick, carried in between and
	 * marked so in each sample (serve's /metrics and /snapshot). */
	bool slow_ok;
};

struct runner_opts {
	const char *who;		/* "cgwarden stream": the prefix of messages */
	uint64_t interval_usec;
	/* The first timed tick after runner_run(); 0: one interval. */
	uint64_t first_usec;
	/* A collection that fails is said and tried again at the next tick
	 * (the daemon: enforcement must not end over one bad walk); else it
	 * ends the run with EXIT_RUNTIME. */
	bool keep_going;
};

/* The loop, with SIGINT, SIGTERM and SIGHUP blocked and watched from now
 * on; no collector yet. 0, or -errno after saying why on stderr. */
int runner_new(const struct runner_opts *o, struct runner **out);

/* Opens the collector (cli_open_collector). 0, or the exit code to use. */
int runner_open_collector(struct runner *r, const struct cli_common *cc);

/*
 * From a part's prepare: the metrics of set are wanted for cgroup id alone
 * (the dashboard's detail view), every tick, on top of what the sets of all
 * parts want for every cgroup. At most RUNNER_FOCUS_MAX cgroups a tick;
 * -ENOSPC beyond.
 */
#define RUNNER_FOCUS_MAX 8
int runner_want_cgroup(struct runner *r, uint64_t id, const struct metric_set *set);

/* Adds a part (copied); parts are called in the order added. 0 or -ENOMEM. */
int runner_add(struct runner *r, const struct runner_part *p);

/* One tick now, outside the timer (the first one, an event, a reload):
 * prepare (the parts' wants), collect, hand out. RUNNER_GO, or RUNNER_STOP when the run
 * should end (a part said so, or the collection failed without
 * keep_going). The timer keeps its rhythm. */
int runner_tick_now(struct runner *r);

/* The first tick at once (unless runner_tick_now took it already), then
 * arms the tick timer and runs the loop until SIGINT/SIGTERM, a part's
 * RUNNER_STOP or a failure. Returns the runner's exit status: 0, or
 * EXIT_RUNTIME (a failed collection, a broken loop: said on stderr). */
int runner_run(struct runner *r);

/* Closes the collector and the loop (with every fd it made). NULL is fine.
 * Anything watching the loop must be stopped first. */
void runner_free(struct runner *r);

struct loop *runner_loop(struct runner *r);
struct collector *runner_collector(struct runner *r);
/* The last snapshot; NULL before the first or after a failed collection. */
const struct cg_snapshot *runner_snapshot(const struct runner *r);

uint64_t runner_interval(const struct runner *r);
/* A new interval, in force at once: the next tick comes one interval from
 * now. 0 or -errno (the old one stays). */
int runner_set_interval(struct runner *r, uint64_t usec);
/* When the last snapshot counts as stale (HTTP /healthz): three missed
 * ticks, never under 10 s. */
uint64_t runner_stale_usec(const struct runner *r);

#endif
