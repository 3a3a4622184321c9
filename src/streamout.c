/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "lineout.h"
#include "streamout.h"

struct streamout {
	struct streamout_opts o;
	struct lineout *out;
	uint64_t done;			/* ticks, taken or not, for count */
	uint64_t skipped;		/* ticks not taken: a line was in flight */
	bool said_gone;			/* stdout gone, without ends_run: said once */
	int status;
};

/* Says what err (of rendering or writing) means for the stream. */
static int trouble(struct streamout *so, int err)
{
	if (err >= 0)
		return RUNNER_GO;
	if (so->o.dest && err != -ENOMEM) {
		/* A file or socket whose reader went (a restart, a full disk):
		 * lineout says so once per outage; the lines are dropped and
		 * counted until it is back. */
		fprintf(stderr, "%s: writing to %s: %s; lines are dropped (counted in "
			"self.dropped_lines) until %s\n", so->o.who, so->o.dest, strerror(-err),
			strncmp(so->o.dest, "unix:", 5) == 0 ?
				"it accepts again (retried each tick and on SIGHUP)" :
				"SIGHUP reopens it");
		return RUNNER_GO;
	}
	if (!so->o.ends_run) {
		/* stdout that is gone stays gone: said once. */
		if (!so->said_gone)
			fprintf(stderr, "%s: writing the stream: %s; its lines are dropped%s\n",
				so->o.who, strerror(-err),
				so->o.dest ? "" : " from now on (standard output)");
		so->said_gone = !so->o.dest;
		return RUNNER_GO;
	}
	/* On stdout, a reader that went away (| head) is a normal end. */
	if (err != -EPIPE) {
		fprintf(stderr, "%s: writing the stream: %s\n", so->o.who, strerror(-err));
		so->status = EXIT_RUNTIME;
	}
	return RUNNER_STOP;
}

int streamout_write(struct streamout *so, char *buf, size_t len)
{
	int err = lineout_write(so->out, buf, len);

	free(buf);
	return trouble(so, err);
}

static int counted(struct streamout *so)
{
	so->done++;
	return so->o.count && so->done >= so->o.count ? RUNNER_STOP : RUNNER_GO;
}

static int on_prepare(struct runner *r, struct metric_set *want, void *ctx)
{
	struct streamout *so = ctx;

	(void)r;
	/* Only what the tick lines keep is read (--fields); records alone
	 * (the daemon's policy_action lines) need nothing. */
	if (so->o.ticks && so->o.fields)
		json_fields_metrics(so->o.fields, want);
	else if (so->o.ticks)
		metric_set_all(want);
	/*
	 * A line the reader has taken only part of goes first. When a tick
	 * takes longer than the interval (thousands of cgroups), the timer is
	 * due again as soon as one ends and the loop is never idle: the line
	 * in flight would get one pipe buffer per tick and never end, while
	 * every new line is rendered only to be dropped. So this tick is not
	 * taken: the loop stays free to feed the reader, the collector reads
	 * nothing it cannot deliver, and the next tick taken reports the
	 * births, deaths and OOM kills since the last one, as a longer
	 * interval would. The tick line it would have written counts as dropped,
	 * and the tick counts for --count: a slow reader never moves the end.
	 */
	if (!so->o.skip_when_busy || !lineout_busy(so->out))
		return RUNNER_GO;
	so->skipped++;
	return counted(so) == RUNNER_STOP ? RUNNER_STOP : RUNNER_SKIP;
}

/* The tick's lines, each written whole or dropped. */
static int on_tick(struct runner *r, const struct cg_snapshot *snap, void *ctx)
{
	struct streamout *so = ctx;
	struct cg_snapshot s;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	int err;

	(void)r;
	if (!so->o.ticks)
		return RUNNER_GO;
	/* A shallow copy, to report the drops so far: the arrays stay the
	 * collector's. */
	s = *snap;
	s.self.dropped_lines_known = true;
	s.self.dropped_lines = lineout_dropped(so->out) + so->skipped;
	mem = open_memstream(&buf, &len);
	err = mem ? json_write_stream_tick_fields(mem, &s, so->o.fields) : -ENOMEM;
	if (mem && fclose(mem) && err >= 0)
		err = -ENOMEM;
	if (err >= 0)
		err = lineout_write(so->out, buf, len);
	free(buf);
	if (trouble(so, err) == RUNNER_STOP)
		return RUNNER_STOP;
	return counted(so);
}

static int on_hangup(struct runner *r, void *ctx)
{
	struct streamout *so = ctx;
	int err = lineout_reopen(so->out);

	(void)r;
	/* Not fatal: lines are dropped and counted until it opens. */
	if (err)
		fprintf(stderr, "%s: reopening %s: %s; lines are dropped until it opens\n",
			so->o.who, so->o.dest, strerror(-err));
	return RUNNER_GO;
}

int streamout_open(struct runner *r, const struct streamout_opts *o, struct streamout **out)
{
	struct runner_part part = { .prepare = on_prepare, .tick = on_tick, .hangup = on_hangup };
	struct streamout *so = calloc(1, sizeof(*so));
	int err;

	if (!so) {
		fprintf(stderr, "%s: out of memory\n", o->who);
		return -ENOMEM;
	}
	so->o = *o;
	err = lineout_open(o->dest, runner_loop(r), &so->out);
	if (err) {
		fprintf(stderr, "%s: --output %s: %s\n", o->who, o->dest ? o->dest : "(stdout)",
			strerror(-err));
		free(so);
		return err;
	}
	part.ctx = so;
	err = runner_add(r, &part);
	if (err) {
		fprintf(stderr, "%s: out of memory\n", o->who);
		streamout_close(so);
		return err;
	}
	/* EPIPE from write() instead of death by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	*out = so;
	return 0;
}

int streamout_status(const struct streamout *so)
{
	return so ? so->status : 0;
}

void streamout_close(struct streamout *so)
{
	if (!so)
		return;
	/* The rest of a line a slow reader left pending: finish it if the
	 * reader makes room within 2 s, so it does not end on half a line. */
	lineout_close(so->out, 2000);
	free(so);
}
