/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include "serve_http.h"

struct serve_http {
	struct httpd *h;
	serve_http_counts_fn counts;
	void *counts_ctx;
	serve_http_adaptive_fn adaptive;
	void *adaptive_ctx;
};

static int on_tick(struct runner *r, const struct cg_snapshot *snap, void *ctx)
{
	struct serve_http *sh = ctx;
	const struct prom_policy_count *pc = NULL;
	size_t nr = 0;

	(void)r;
	if (sh->counts)
		pc = sh->counts(sh->counts_ctx, &nr);
	if (sh->adaptive) {
		size_t na = 0;
		const struct prom_adaptive *a = sh->adaptive(sh->adaptive_ctx, &na);

		httpd_set_adaptive(sh->h, a, na);
	}
	httpd_set_snapshot(sh->h, snap, pc, nr);
	return RUNNER_GO;
}

int serve_http_start(struct runner *r, const char *who, struct httpd_opts *ho,
		     serve_http_counts_fn counts, void *counts_ctx, struct serve_http **out)
{
	struct runner_part part = { .tick = on_tick, .slow_ok = true };
	struct serve_http *sh = calloc(1, sizeof(*sh));
	int err;

	if (!sh) {
		fprintf(stderr, "%s: out of memory\n", who);
		return -ENOMEM;
	}
	sh->counts = counts;
	sh->counts_ctx = counts_ctx;
	/* A client that goes away mid-response is MHD's to handle, not a
	 * reason to die. */
	signal(SIGPIPE, SIG_IGN);
	ho->stale_usec = runner_stale_usec(r);
	err = httpd_start(runner_loop(r), ho, &sh->h);
	if (err) {
		free(sh);
		return err;
	}
	part.ctx = sh;
	err = runner_add(r, &part);
	if (err) {
		fprintf(stderr, "%s: out of memory\n", who);
		serve_http_stop(sh);
		return err;
	}
	if (!ho->quiet)
		fprintf(stderr, "%s: serving on %s\n", who, httpd_address(sh->h));
	*out = sh;
	return 0;
}

void serve_http_stop(struct serve_http *sh)
{
	if (!sh)
		return;
	httpd_stop(sh->h);
	free(sh);
}

void serve_http_adaptive(struct serve_http *sh, serve_http_adaptive_fn fn, void *ctx)
{
	if (!sh)
		return;
	sh->adaptive = fn;
	sh->adaptive_ctx = ctx;
}

void serve_http_record(struct serve_http *sh, const struct prom_record *r)
{
	if (sh)
		httpd_set_record(sh->h, r);
}
