/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HTTP endpoint (src/httpd) as a part on a runner (src/runner): each
 * snapshot is served from the tick that made it until the next, and
 * /healthz goes stale by the runner's rule. `cgwarden serve` is this part
 * alone; the daemon adds its policy counters.
 */
#ifndef CGWARDEN_SERVE_HTTP_H
#define CGWARDEN_SERVE_HTTP_H

#include <stddef.h>
#include "httpd.h"
#include "runner.h"

struct serve_http;

/* The policy counters to serve beside each snapshot, asked for at each
 * tick; valid until the next. */
typedef const struct prom_policy_count *(*serve_http_counts_fn)(void *ctx, size_t *nr);

/* Listens (httpd_start on the runner's loop; ho->stale_usec is set from
 * the runner) and adds the part to r. Unless ho->quiet, says where on
 * stderr as "WHO: serving on ADDR". counts may be NULL. 0, or -errno
 * (-EINVAL: a bad ho->listen) after saying why. */
int serve_http_start(struct runner *r, const char *who, struct httpd_opts *ho,
		     serve_http_counts_fn counts, void *counts_ctx, struct serve_http **out);

/* The flight recorder's figures (recorder_prom()) served in /metrics from
 * now on; NULL before the recorder is closed. sh NULL is fine. */
void serve_http_record(struct serve_http *sh, const struct prom_record *r);

/* The adaptive controller's cgroups, asked for at each tick beside the
 * counters (the daemon's); valid until the next. sh NULL is fine. */
typedef const struct prom_adaptive *(*serve_http_adaptive_fn)(void *ctx, size_t *nr);
void serve_http_adaptive(struct serve_http *sh, serve_http_adaptive_fn fn, void *ctx);

/* Stops serving; before runner_free. NULL is fine. */
void serve_http_stop(struct serve_http *sh);

#endif
