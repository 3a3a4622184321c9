/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The read-only HTTP endpoint (/metrics, /snapshot, /healthz), libmicrohttpd
 * driven from our one epoll loop: MHD's epoll fd and a timerfd for its
 * timeouts are watched by struct loop, MHD_run() runs in our thread, so no
 * request ever races the collector. `cgwarden serve` uses it, and the daemon
 * embeds it in its own loop the same way.
 *
 * Nothing here can change a limit: GET and HEAD only (405 otherwise).
 * Bounded: connections in total and per client address, bytes of request
 * line plus headers per connection (a bigger request gets 431 and is
 * closed), the time to send a complete request head, and an idle timeout.
 * When the table or an address is full, the connection that has waited
 * longest without a complete request head is closed to make room, so
 * clients that connect and dawdle cannot lock anyone out. Bodies are
 * rendered at most once per snapshot and format, on the first request that
 * wants them, and shared by every response until the next snapshot, so a
 * scrape never triggers a collection and ten scrapers cost one render; a
 * response still being sent when its body is more than two snapshots old
 * is cut off, so slow readers hold at most three snapshots' bodies.
 */
#ifndef CGWARDEN_HTTPD_H
#define CGWARDEN_HTTPD_H

#include <stddef.h>
#include <stdint.h>
#include "loop.h"
#include "prom.h"
#include "snapshot.h"

#define HTTPD_DEFAULT_LISTEN "127.0.0.1:9333"

struct httpd_opts {
	const char *listen;		/* "ADDR:PORT", "[V6ADDR]:PORT", "unix:/path";
					   NULL: HTTPD_DEFAULT_LISTEN. Port 0: any. */
	unsigned max_connections;	/* 0: 64 */
	unsigned max_per_client;	/* per IP address; 0: 16 (unix sockets: no limit) */
	unsigned timeout_sec;		/* idle connection timeout; 0: 10 */
	unsigned request_timeout_sec;	/* a complete request head within this
					   long of connecting or of the previous
					   response; 0: 5 */
	size_t request_max_bytes;	/* request line + headers per connection; 0: 32 KiB */
	uint64_t stale_usec;		/* /healthz fails when the last snapshot is older;
					   0: never */
	bool quiet;			/* no libmicrohttpd messages on stderr */
};

struct httpd;

/* Binds, listens and starts watching on l. On failure, -errno (-EINVAL for
 * an unparsable listen string, -EADDRINUSE, ...) with a message on stderr.
 * A unix socket file already at the path is replaced only when nothing
 * listens on it (connect() is refused); a live one is -EADDRINUSE. */
int httpd_start(struct loop *l, const struct httpd_opts *opts, struct httpd **out);

/* The snapshot (and the policy counters, optional) to serve from now on.
 * Both must stay valid until the next call or httpd_stop(): the collector's
 * "valid until the next tick" is exactly that when called once per tick.
 * Drops the bodies rendered from the previous one (responses still being
 * sent keep theirs). */
void httpd_set_snapshot(struct httpd *h, const struct cg_snapshot *s,
			const struct prom_policy_count *policy, size_t nr_policy);

/* The flight recorder's figures to serve beside every snapshot from now on
 * (NULL: none). r stays valid, and is read at each render, until the next
 * call or httpd_stop(). */
void httpd_set_record(struct httpd *h, const struct prom_record *r);

/* The adaptive controller's cgroups (prom.h) to serve with the next
 * snapshot (httpd_set_snapshot); a non-NULL a, even with n 0, writes the
 * families' HELP and TYPE. Valid until the next call. */
void httpd_set_adaptive(struct httpd *h, const struct prom_adaptive *a, size_t n);

/* The bound address as given to --listen, with the real port ("127.0.0.1:41234",
 * "[::1]:9333", "unix:/run/cgwarden.sock"). */
const char *httpd_address(const struct httpd *h);

/* Stops serving (open connections are closed), removes the unix socket
 * file it made if the path still holds that file (same device and inode),
 * and frees h. NULL is fine. */
void httpd_stop(struct httpd *h);

#endif
