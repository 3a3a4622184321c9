/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runner.h"

struct runner {
	struct runner_opts o;
	struct loop *loop;
	struct collector *c;
	const struct cg_snapshot *snap;
	struct runner_part *parts;
	size_t nr_parts;
	int timer_fd;			/* -1 until runner_run */
	bool ticked;			/* runner_tick_now has run */
	int status;
	/* This tick's runner_want_cgroup()s. */
	uint64_t focus[RUNNER_FOCUS_MAX];
	uint32_t nr_focus;
	uint32_t focus_files, focus_bpf;
};

int runner_want_cgroup(struct runner *r, uint64_t id, const struct metric_set *set)
{
	if (r->nr_focus == RUNNER_FOCUS_MAX)
		return -ENOSPC;
	r->focus[r->nr_focus++] = id;
	r->focus_files |= metrics_files(set);
	r->focus_bpf |= metrics_bpf(set);
	return 0;
}

static int on_signal(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct runner *r = ctx;
	int sig = loop_signal_read(fd);

	(void)l;
	(void)events;
	if (sig != SIGHUP)
		return sig == SIGINT || sig == SIGTERM;
	for (size_t i = 0; i < r->nr_parts; i++)
		if (r->parts[i].hangup && r->parts[i].hangup(r, r->parts[i].ctx))
			return RUNNER_STOP;
	return 0;
}

int runner_new(const struct runner_opts *o, struct runner **out)
{
	struct runner *r = calloc(1, sizeof(*r));
	int err;

	if (!r) {
		err = -ENOMEM;
		goto fail;
	}
	r->o = *o;
	r->timer_fd = -1;
	err = loop_new(&r->loop);
	if (!err)
		err = loop_add_signals(r->loop, on_signal, r);
	if (!err) {
		*out = r;
		return 0;
	}
	runner_free(r);
fail:
	fprintf(stderr, "%s: cannot set up the event loop: %s\n", o->who, strerror(-err));
	return err;
}

int runner_open_collector(struct runner *r, const struct cli_common *cc)
{
	return cli_open_collector(cc, &r->c);
}

int runner_add(struct runner *r, const struct runner_part *p)
{
	struct runner_part *n = realloc(r->parts, (r->nr_parts + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	r->parts = n;
	r->parts[r->nr_parts++] = *p;
	return 0;
}

int runner_tick_now(struct runner *r)
{
	const struct cg_snapshot *snap;
	struct metric_set want = { 0 }, lazy = { 0 };
	struct cg_want cw;
	uint32_t lazy_files;
	bool skip = false;
	int err;

	r->ticked = true;
	r->nr_focus = 0;
	r->focus_files = r->focus_bpf = 0;
	/* Every part is asked, also after one says skip: what each wants
	 * is said before any collection. */
	for (size_t i = 0; i < r->nr_parts; i++) {
		const struct runner_part *p = &r->parts[i];
		int rc = RUNNER_GO;

		struct metric_set *into = p->slow_ok ? &lazy : &want;

		if (p->prepare)
			rc = p->prepare(r, into, p->ctx);
		else
			metric_set_all(into);
		if (rc == RUNNER_STOP)
			return RUNNER_STOP;
		skip |= rc == RUNNER_SKIP;
	}
	if (skip)
		return RUNNER_GO;
	/* The slow tier is carried between reads only when no part wants
	 * it every tick. */
	lazy_files = metrics_files(&lazy);
	cw.files = metrics_files(&want) | (lazy_files & ~CGF_SLOW);
	cw.slow = lazy_files & CGF_SLOW & ~cw.files;
	cw.slow_every = 0;	/* the collector's choice, by cost */
	cw.bpf = metrics_bpf(&want) | metrics_bpf(&lazy) | r->focus_bpf;
	cw.focus_files = r->focus_files & ~cw.files;
	cw.nr_focus = r->nr_focus;
	cw.focus = r->focus;
	collector_want(r->c, &cw);
	err = collector_tick(r->c, &snap);
	if (err) {
		fprintf(stderr, "%s: reading %s: %s\n", r->o.who, collector_root(r->c),
			strerror(-err));
		/* The one before may be gone with the failed walk. */
		r->snap = NULL;
		if (r->o.keep_going)
			return RUNNER_GO;
		r->status = EXIT_RUNTIME;
		return RUNNER_STOP;
	}
	r->snap = snap;
	for (size_t i = 0; i < r->nr_parts; i++)
		if (r->parts[i].tick && r->parts[i].tick(r, snap, r->parts[i].ctx))
			return RUNNER_STOP;
	return RUNNER_GO;
}

static int on_timer(struct loop *l, int fd, uint32_t events, void *ctx)
{
	(void)l;
	(void)events;
	/* Missed expirations (a slow tick) are not made up: one tick now. */
	loop_timer_expirations(fd);
	return runner_tick_now(ctx);
}

int runner_run(struct runner *r)
{
	int err;

	if (!r->ticked && runner_tick_now(r) == RUNNER_STOP)
		return r->status;
	r->timer_fd = loop_add_timer(r->loop, r->o.interval_usec, on_timer, r);
	err = r->timer_fd < 0 ? r->timer_fd : 0;
	if (!err && r->o.first_usec && r->o.first_usec != r->o.interval_usec)
		err = loop_timer_set(r->timer_fd, r->o.first_usec, r->o.interval_usec);
	if (err) {
		fprintf(stderr, "%s: cannot set up the event loop: %s\n", r->o.who, strerror(-err));
		return EXIT_RUNTIME;
	}
	err = loop_run(r->loop);
	if (err < 0) {
		fprintf(stderr, "%s: event loop: %s\n", r->o.who, strerror(-err));
		r->status = EXIT_RUNTIME;
	}
	return r->status;
}

void runner_free(struct runner *r)
{
	if (!r)
		return;
	loop_free(r->loop);
	collector_free(r->c);
	free(r->parts);
	free(r);
}

struct loop *runner_loop(struct runner *r) { return r->loop; }
struct collector *runner_collector(struct runner *r) { return r->c; }
const struct cg_snapshot *runner_snapshot(const struct runner *r) { return r->snap; }
uint64_t runner_interval(const struct runner *r) { return r->o.interval_usec; }

int runner_set_interval(struct runner *r, uint64_t usec)
{
	int err = 0;

	if (!usec)
		return -EINVAL;
	if (r->timer_fd >= 0)
		err = loop_timer_set(r->timer_fd, usec, usec);
	if (!err)
		r->o.interval_usec = usec;
	return err;
}

uint64_t runner_stale_usec(const struct runner *r)
{
	/* Liveness: three missed ticks, and never less than 10 s. */
	uint64_t three = 3 * r->o.interval_usec;

	return three > 10000000 ? three : 10000000;
}
