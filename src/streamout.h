/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The stream as a part on a runner (src/runner): NDJSON through lineout to
 * stdout, a file or a unix socket; on each tick the events and the tick
 * line, with the lines dropped so far; SIGHUP reopens the destination.
 * `cgwarden stream` is this part alone; the daemon adds its policy records
 * (streamout_write) and writes tick lines on --ticks.
 */
#ifndef CGWARDEN_STREAMOUT_H
#define CGWARDEN_STREAMOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "runner.h"

struct json_fields;

struct streamout_opts {
	const char *who;		/* "cgwarden stream": the prefix of messages */
	const char *dest;		/* --output; NULL: stdout */
	bool ticks;			/* a tick line (and its events) per tick */
	const struct json_fields *fields;	/* of each cgroup in the tick; NULL: all */
	/* A tick due while a line is still in flight to a slow reader is
	 * not taken (no collection), and counts as one dropped line. */
	bool skip_when_busy;
	uint64_t count;			/* end the run after this many ticks; 0: never */
	/* A stream that fails for good (stdout's reader went away: status 0
	 * on EPIPE; out of memory: EXIT_RUNTIME) ends the run. Without it, its
	 * lines are dropped (said once) and the runner goes on: the daemon,
	 * where enforcement matters more. A file's or socket's outage never
	 * ends it: lines are dropped and counted until it is back. */
	bool ends_run;
};

struct streamout;

/* Opens the destination (lineout_open) and adds the part to r. Ignores
 * SIGPIPE: a reader that goes away is EPIPE, not death. 0, or -errno after
 * saying why on stderr. */
int streamout_open(struct runner *r, const struct streamout_opts *o, struct streamout **out);

/* Takes buf (malloc'ed, freed here), one or more whole lines, for the
 * stream. Trouble is said on stderr as the part does for its tick lines.
 * RUNNER_GO, or RUNNER_STOP when the stream ended (ends_run). */
int streamout_write(struct streamout *so, char *buf, size_t len);

/* 0, or EXIT_RUNTIME after the stream failed for good (ends_run). */
int streamout_status(const struct streamout *so);

/* Gives a pending partial line up to 2 s to finish, then closes. Before
 * runner_free. NULL is fine. */
void streamout_close(struct streamout *so);

#endif
