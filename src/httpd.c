/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libmicrohttpd in "external epoll" mode (MHD_USE_EPOLL, no internal thread):
 * MHD keeps its own epoll set; that set's fd is level-readable in ours when
 * any of its sockets is ready, and MHD_run() then does the work. MHD's
 * timeouts (idle connections) and its internal "ready without an event"
 * work are driven by a timerfd armed from MHD_get_timeout() after each run.
 *
 * The listening socket is ours, bound here: one code path for IPv4, IPv6
 * and unix sockets, and the real address after binding port 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>
#include <zlib.h>

#include "clock.h"
#include "httpd.h"
#include "json.h"

/*
 * Connections are accepted here, not by MHD (MHD_USE_NO_LISTEN_SOCKET and
 * MHD_add_connection), so the limits are ours to apply at the moment a
 * client arrives:
 *  - MHD, at its connection limit, takes its listening socket out of its
 *    epoll set and puts it back only at the start of a later MHD_run();
 *    when the last connection had gone by then, nothing ever ran it again
 *    and the endpoint was dead for good. Ours is watched by the loop and
 *    is paused only while no slot can be made, and resumed as soon as one
 *    can (a connection closed, or one went back to waiting).
 *  - A connection that has not sent a complete request head yet (it just
 *    connected, or it is a keep-alive one between requests) is cheap to
 *    drop, and is the only thing a slowloris client can hold. When the
 *    table or the client's address is full, the one that has been waiting
 *    longest for its request makes room for the newcomer; and no one waits
 *    longer than the request deadline, full table or not.
 *  - A response whose body is more than HTTPD_BODY_MAX_AGE snapshots old
 *    is cut off when its client is what holds it up, so slow readers pin
 *    at most that many snapshots' bodies and block nobody.
 * A connection is cut by shutdown() on its socket: MHD still owns the fd
 * (valid from NOTIFY_STARTED to NOTIFY_CLOSED) and closes it on its next
 * run, when the read returns 0 or the hangup is reported. Nothing but
 * these two callbacks and the loop callbacks below touch the records, all
 * in the loop's one thread.
 */

/* A rendered body, shared by every response made from it. One thread, so a
 * plain count: the snapshot's cache holds one reference, each response one. */
struct body {
	unsigned refs;
	uint64_t gen;		/* the snapshot it was rendered from */
	size_t len;
	char *data;
};

/*
 * Bodies of snapshots this many generations back are still sent to anyone;
 * older ones only to clients that keep up. A client keeps up when it has
 * taken all we handed to its socket by the time of the next snapshot (so
 * the server, busy with ticks that overrun the interval, is what makes it
 * slow): cutting it would only turn a slow scrape into a failed one. Any
 * other client is cut, so slow readers hold at most HTTPD_BODY_MAX_AGE + 1
 * generations of bodies (176 MB each for /metrics at 10,000 cgroups). At
 * the default 2 s interval a slow reader has 4 to 6 s.
 */
#define HTTPD_BODY_MAX_AGE 2

/* MHD's own limit is ours plus this many connections that have been cut
 * but not yet closed by MHD; while that many are pending (MHD closes them
 * on its next run, which is due at once), no more are accepted. */
#define HTTPD_CUT_PENDING_MAX 16

/* Accepts per readiness of the listening socket, so that a flood of new
 * connections cannot starve the rest of the loop. */
#define HTTPD_ACCEPT_BATCH 16

/* After EMFILE and the like from accept(), wait this long before trying
 * again: the socket stays readable, so retrying at once would spin. */
#define HTTPD_ACCEPT_BACKOFF_USEC 250000

/* Each body also gzipped (for clients that ask), from the plain one. */
enum { BODY_PROM_TEXT, BODY_PROM_OM, BODY_JSON, BODY__PLAIN, BODY__COUNT = 2 * BODY__PLAIN };
#define BODY_GZIP(k) ((k) + BODY__PLAIN)

/*
 * zlib level 1. Measured on the /metrics of 1,011 nested cgroups (1.3 MB,
 * python's zlib, the same library): level 1 gives 11.1x in 4.1 ms, level 6
 * 14.8x in 12 ms, level 9 17.2x in 31 ms. A scrape's bytes matter less
 * than the collector's CPU, which is what cgwarden must not take from the
 * host. Done once per snapshot and kind, on the first request that asks.
 */
#define HTTPD_GZIP_LEVEL 1

enum hc_state {
	HC_HEAD,	/* waiting for a complete request line and headers */
	HC_BUSY,	/* a request is being answered */
	HC_CUT,		/* shut down by us; MHD has not closed it yet */
};

struct hconn {
	struct hconn *prev, *next;	/* every connection, in accept order */
	struct hconn *hprev, *hnext;	/* HC_HEAD ones, longest waiting first */
	enum hc_state state;
	int fd;				/* MHD's: only shutdown(), never close() */
	uint64_t head_since;		/* mono usec: accepted, or last response done */
	bool sending;			/* the response has a body ... */
	uint64_t body_gen;		/* ... of this snapshot */
	struct sockaddr_storage addr;	/* the client's, for the per-address limit */
};

struct httpd {
	struct loop *loop;
	struct MHD_Daemon *d;
	int lfd;		/* our listening socket */
	int epfd;		/* MHD's epoll set: watched by the loop, owned by MHD */
	int tfd;		/* timerfd for MHD's timeouts */
	int sfd;		/* timerfd for request deadlines and accept backoff */
	bool watching_l, watching_ep, watching_t, watching_s;
	bool stopping;
	bool kick;		/* connections were cut: run MHD at once */
	bool closing_cuts;	/* in an MHD run that closes connections we cut */
	uint64_t log_window;	/* MHD messages: this minute began (mono usec) */
	unsigned log_shown, log_dropped;
	bool said_accept_err;
	char *unix_path;	/* a socket file we made, removed at stop ... */
	dev_t unix_dev;		/* ... if it is still the one we bound */
	ino_t unix_ino;
	char addr[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	uint64_t stale_usec;
	bool quiet;

	unsigned max_conn, per_ip;
	uint64_t head_usec;		/* request deadline */
	struct hconn *first, *last;	/* every connection */
	struct hconn *hfirst, *hlast;	/* HC_HEAD, by head_since */
	unsigned nr_open;		/* connections not cut */
	unsigned nr_all;		/* every connection MHD holds */
	struct hconn *adding;		/* handed to NOTIFY_STARTED */
	uint64_t accept_pause_until;	/* mono usec, 0: none */
	uint64_t sweep_at;		/* sfd armed for (mono usec), 0: disarmed */

	const struct cg_snapshot *snap;
	const struct prom_policy_count *policy;
	size_t nr_policy;
	const struct prom_record *record;	/* httpd_set_record */
	const struct prom_adaptive *adaptive;	/* httpd_set_adaptive */
	size_t nr_adaptive;
	uint64_t snap_mono_usec;	/* when it was set */
	uint64_t gen;			/* snapshots set so far */
	struct body *cache[BODY__COUNT];
};

static void body_put(struct body *b)
{
	if (b && --b->refs == 0) {
		free(b->data);
		free(b);
	}
}

/* One response's reading of a body. c is valid whenever MHD calls
 * body_read() (the connection is open then); body_release() leaves it
 * alone, as MHD may free a response after the connection's NOTIFY_CLOSED. */
struct reader {
	struct body *b;
	struct hconn *c;	/* NULL: untracked */
};

/* MHD_ContentReaderFreeCallback: a response made from a body is gone. */
static void body_release(void *cls)
{
	struct reader *r = cls;

	body_put(r->b);
	free(r);
}

/* MHD_ContentReaderCallback: the next piece of the body, or the end of a
 * response that httpd_set_snapshot() has cut (MHD may not have seen the
 * shutdown of its socket yet). */
static ssize_t body_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct reader *r = cls;
	struct body *b = r->b;
	size_t n;

	if (r->c && r->c->state == HC_CUT)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (pos >= b->len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = b->len - (size_t)pos < max ? b->len - (size_t)pos : max;
	memcpy(buf, b->data + pos, n);
	return (ssize_t)n;
}

static void cache_drop(struct httpd *h)
{
	for (int i = 0; i < BODY__COUNT; i++) {
		body_put(h->cache[i]);
		h->cache[i] = NULL;
	}
}

static struct body *body_get(struct httpd *h, int k);

/* The gzip member of the plain body of kind k - BODY__PLAIN, made from it
 * in one deflate. NULL: no snapshot, or out of memory. */
static struct body *body_gzip(struct httpd *h, int k)
{
	struct body *plain = body_get(h, k - BODY__PLAIN), *b;
	z_stream z = { 0 };
	int rc;

	if (!plain)
		return NULL;
	b = calloc(1, sizeof(*b));
	/* windowBits 15 + 16: a gzip header and trailer, not raw zlib. */
	if (!b || deflateInit2(&z, HTTPD_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8,
			       Z_DEFAULT_STRATEGY) != Z_OK) {
		free(b);
		return NULL;
	}
	b->len = deflateBound(&z, plain->len);
	b->data = malloc(b->len ? b->len : 1);
	z.next_in = (Bytef *)plain->data;
	z.avail_in = (uInt)plain->len;
	z.next_out = (Bytef *)b->data;
	z.avail_out = (uInt)b->len;
	/* deflateBound() leaves room for all of it: one call finishes. */
	rc = b->data && plain->len < UINT32_MAX ? deflate(&z, Z_FINISH) : Z_MEM_ERROR;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(b->data);
		free(b);
		return NULL;
	}
	b->len = z.total_out;
	b->refs = 1;
	b->gen = h->gen;
	h->cache[k] = b;
	return b;
}

/* The body of kind k for the current snapshot, rendered now if it is the
 * first request for it since the snapshot changed. NULL: no snapshot yet,
 * or out of memory. */
static struct body *body_get(struct httpd *h, int k)
{
	struct body *b;

	if (h->cache[k])
		return h->cache[k];
	if (!h->snap)
		return NULL;
	if (k >= BODY__PLAIN)
		return body_gzip(h, k);
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	if (k == BODY_JSON) {
		FILE *f = open_memstream(&b->data, &b->len);

		if (!f || json_write_snapshot(f, h->snap, false) < 0) {
			if (f)
				fclose(f);
			free(b->data);
			free(b);
			return NULL;
		}
		fclose(f);
	} else {
		struct prom_buf pb = { 0 };
		struct prom_extra x = { h->policy, h->nr_policy, h->record, .build_info = true,
					.adaptive = h->adaptive, .nr_adaptive = h->nr_adaptive };

		if (prom_render_extra(&pb, h->snap, k == BODY_PROM_OM ? PROM_OPENMETRICS : PROM_TEXT,
				      &x)) {
			prom_buf_free(&pb);
			free(b);
			return NULL;
		}
		b->data = pb.data;
		b->len = pb.len;
	}
	b->refs = 1;
	b->gen = h->gen;
	h->cache[k] = b;
	return b;
}

/* ---- connections ------------------------------------------------------- */

static void head_append(struct httpd *h, struct hconn *c)
{
	c->state = HC_HEAD;
	c->head_since = mono_usec();
	c->hnext = NULL;
	c->hprev = h->hlast;
	if (h->hlast)
		h->hlast->hnext = c;
	else
		h->hfirst = c;
	h->hlast = c;
}

static void head_unlink(struct httpd *h, struct hconn *c)
{
	if (c->hprev)
		c->hprev->hnext = c->hnext;
	else
		h->hfirst = c->hnext;
	if (c->hnext)
		c->hnext->hprev = c->hprev;
	else
		h->hlast = c->hprev;
	c->hprev = c->hnext = NULL;
}

/* Ends c now: MHD sees the hangup and closes it on its next run. */
static void conn_cut(struct httpd *h, struct hconn *c)
{
	if (c->state == HC_CUT)
		return;
	if (c->state == HC_HEAD)
		head_unlink(h, c);
	/* A response cut in the middle: MHD's close sends a reset, which
	 * tells the client at once and frees the send queue (up to MBs of
	 * kernel memory, which a slow reader would take its time over). A
	 * connection without a request in progress gets an orderly FIN. */
	if (c->state == HC_BUSY) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	shutdown(c->fd, SHUT_RDWR);
	c->state = HC_CUT;
	h->nr_open--;
	h->kick = true;
}

/* Whether c's client has taken every byte handed to its socket (SIOCOUTQ:
 * not yet sent, or not yet acknowledged; for a unix socket, not yet read).
 * Asked at a snapshot, a tick after the last send at the earliest when the
 * ticks keep the loop busy: a client still holding data then is slower
 * than the server. */
static bool keeps_up(const struct hconn *c)
{
	int queued;

	return ioctl(c->fd, SIOCOUTQ, &queued) == 0 && queued == 0;
}

/* Our record of MHD's connection, NULL for one we do not track (none). */
static struct hconn *conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static bool same_client(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)b)->sin6_addr,
			       sizeof(struct in6_addr));
	return true;
}

/* MHD_NotifyConnectionCallback: a connection enters (from admit(), which
 * handed it over in h->adding) or leaves MHD's table. */
static void on_conn(void *cls, struct MHD_Connection *conn, void **socket_ctx,
		    enum MHD_ConnectionNotificationCode what)
{
	struct httpd *h = cls;
	struct hconn *c;

	(void)conn;
	if (what == MHD_CONNECTION_NOTIFY_STARTED) {
		c = h->adding;
		h->adding = NULL;
		*socket_ctx = c;
		if (!c)
			return;
		c->prev = h->last;
		if (h->last)
			h->last->next = c;
		else
			h->first = c;
		h->last = c;
		head_append(h, c);
		h->nr_open++;
		h->nr_all++;
		return;
	}
	c = *socket_ctx;
	*socket_ctx = NULL;
	if (!c)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		h->first = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		h->last = c->prev;
	if (c->state == HC_HEAD)
		head_unlink(h, c);
	if (c->state != HC_CUT)
		h->nr_open--;
	h->nr_all--;
	free(c);
}

/* MHD_RequestCompletedCallback: a response is done (or abandoned); a
 * keep-alive connection waits for its next request from now on. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_ctx,
			 enum MHD_RequestTerminationCode toe)
{
	struct httpd *h = cls;
	struct hconn *c = conn_of(conn);

	(void)req_ctx;
	if (!c || c->state != HC_BUSY)
		return;
	c->sending = false;
	/* Otherwise MHD is closing it and NOTIFY_CLOSED follows. */
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		head_append(h, c);
}

/* Whether a connection could be admitted now (making room if need be). */
static bool can_admit(const struct httpd *h)
{
	return !h->stopping && !h->accept_pause_until &&
	       h->nr_all < h->max_conn + HTTPD_CUT_PENDING_MAX &&
	       (h->nr_open < h->max_conn || h->hfirst);
}

/* A new connection fd from address ss: hands it to MHD, cutting the
 * longest-waiting incomplete request of that address (at its limit) or of
 * anyone (table full). An address at its limit with every connection busy
 * answering gets this one closed. */
static void admit(struct httpd *h, int fd, const struct sockaddr_storage *ss, socklen_t sl)
{
	struct hconn *c, *victim = NULL;

	if (h->per_ip && (ss->ss_family == AF_INET || ss->ss_family == AF_INET6)) {
		unsigned n = 0;

		for (c = h->first; c; c = c->next)
			if (c->state != HC_CUT && same_client(&c->addr, ss))
				n++;
		if (n >= h->per_ip) {
			for (c = h->hfirst; c && !victim; c = c->hnext)
				if (same_client(&c->addr, ss))
					victim = c;
			if (!victim) {
				close(fd);
				return;
			}
		}
	}
	if (!victim && h->nr_open >= h->max_conn)
		victim = h->hfirst;	/* not NULL: can_admit() */
	if (victim)
		conn_cut(h, victim);
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	memcpy(&c->addr, ss, sl);
	h->adding = c;
	/* Closes fd when it fails; NOTIFY_STARTED took c when it worked. */
	MHD_add_connection(h->d, fd, (const struct sockaddr *)ss, sl);
	free(h->adding);
	h->adding = NULL;
}

/* ---- responses --------------------------------------------------------- */

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status,
				  const char *text, const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * By callback from the shared body, a block at a time: the response holds
 * a reference and nothing else, and it ends (END_WITH_ERROR) as soon as
 * httpd_set_snapshot() has cut its connection. Each MHD_run() moves at most
 * one block per connection (see on_mhd()).
 */
#define HTTPD_BLOCK_SIZE (64 * 1024)

static enum MHD_Result reply_body(struct httpd *h, struct MHD_Connection *conn,
				  struct hconn *c, int k, const char *type)
{
	const char *enc = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						      MHD_HTTP_HEADER_ACCEPT_ENCODING);
	bool gzip = prom_accepts_gzip(enc);
	struct body *b = body_get(h, gzip ? BODY_GZIP(k) : k);
	struct reader *rd = b ? malloc(sizeof(*rd)) : NULL;
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!rd)
		return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				  !h->snap ? "no snapshot yet\n" : "cannot render: out of memory\n",
				  NULL);
	*rd = (struct reader){ b, c };
	r = MHD_create_response_from_callback(b->len, HTTPD_BLOCK_SIZE, body_read, rd,
					      body_release);
	if (!r) {
		free(rd);
		return MHD_NO;
	}
	b->refs++;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	if (gzip)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	if (ret == MHD_YES && c) {
		c->sending = true;
		c->body_gen = b->gen;
	}
	return ret;
}

static enum MHD_Result reply_health(struct httpd *h, struct MHD_Connection *conn)
{
	char msg[96];

	if (!h->snap)
		return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no snapshot yet\n", NULL);
	uint64_t age = mono_usec() - h->snap_mono_usec;

	if (h->stale_usec && age > h->stale_usec) {
		snprintf(msg, sizeof(msg), "stale: last snapshot %.1f s ago\n", (double)age / 1e6);
		return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, msg, NULL);
	}
	snprintf(msg, sizeof(msg), "ok seq %llu\n", (unsigned long long)h->snap->seq);
	return reply_text(conn, MHD_HTTP_OK, msg, NULL);
}

/* MHD_AccessHandlerCallback: every request, answered on its first call. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	struct httpd *h = cls;
	struct hconn *c = conn_of(conn);

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;
	/* The request head is complete: no longer one to make room with. */
	if (c && c->state == HC_HEAD) {
		head_unlink(h, c);
		c->state = HC_BUSY;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "read-only: GET and HEAD only\n", "GET, HEAD");
	if (strcmp(url, "/metrics") == 0) {
		const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
								 MHD_HTTP_HEADER_ACCEPT);
		enum prom_format f = prom_negotiate(accept);

		return reply_body(h, conn, c, f == PROM_OPENMETRICS ? BODY_PROM_OM : BODY_PROM_TEXT,
				  prom_content_type(f));
	}
	if (strcmp(url, "/snapshot") == 0)
		return reply_body(h, conn, c, BODY_JSON, "application/json");
	if (strcmp(url, "/healthz") == 0)
		return reply_health(h, conn);
	if (strcmp(url, "/") == 0)
		return reply_text(conn, MHD_HTTP_OK,
				  "cgwarden: /metrics (Prometheus, OpenMetrics), /snapshot (JSON), "
				  "/healthz\n", NULL);
	return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n", NULL);
}

/*
 * libmicrohttpd's messages are nearly all about one connection, so any
 * client can make them (a slowloris client that gives up makes one each
 * time). Those about connections we cut ourselves are not shown (we know
 * why they closed), and the rest are limited to a few a minute.
 */
#define HTTPD_LOG_BURST 5
#define HTTPD_LOG_WINDOW_USEC (60 * 1000000ull)

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct httpd *h = cls;
	uint64_t now;

	if (h->quiet || h->closing_cuts)
		return;
	now = mono_usec();
	if (!h->log_window || now - h->log_window >= HTTPD_LOG_WINDOW_USEC) {
		if (h->log_dropped)
			fprintf(stderr, "cgwarden: http: %u more messages from libmicrohttpd "
					"not shown\n", h->log_dropped);
		h->log_window = now;
		h->log_shown = h->log_dropped = 0;
	}
	if (h->log_shown >= HTTPD_LOG_BURST) {
		h->log_dropped++;
		return;
	}
	h->log_shown++;
	fputs("cgwarden: http: ", stderr);
	vfprintf(stderr, fmt, ap);
}

/* ---- the loop ---------------------------------------------------------- */

static int on_listen(struct loop *l, int fd, uint32_t events, void *ctx);

static void arm_abs(int tfd, uint64_t at_usec)
{
	struct itimerspec its = { 0 };

	its.it_value.tv_sec = (time_t)(at_usec / 1000000u);
	its.it_value.tv_nsec = (long)(at_usec % 1000000u) * 1000;
	timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/*
 * After anything that changed the connections (MHD ran, one was accepted
 * or cut, a snapshot came): watch the listening socket exactly while a
 * connection could be admitted, arm sfd for the earliest request deadline
 * (the longest-waiting one's: all have the same length) or the end of an
 * accept backoff, and arm tfd for MHD's next deadline, or at once when a
 * cut connection is waiting to be closed.
 */
static void settle(struct httpd *h)
{
	struct itimerspec its = { 0 };
	MHD_UNSIGNED_LONG_LONG ms;
	uint64_t at = 0;
	bool want = can_admit(h);

	if (want != h->watching_l) {
		if (!want)
			loop_del_fd(h->loop, h->lfd);
		/* A failed add is tried again on the next settle. */
		h->watching_l = want && !loop_add_fd(h->loop, h->lfd, EPOLLIN, on_listen, h);
	}
	if (h->hfirst)
		at = h->hfirst->head_since + h->head_usec;
	if (h->accept_pause_until && (!at || h->accept_pause_until < at))
		at = h->accept_pause_until;
	if (at != h->sweep_at) {
		arm_abs(h->sfd, at);	/* 0 disarms */
		h->sweep_at = at;
	}
	if (h->kick) {
		h->kick = false;
		its.it_value.tv_nsec = 1;
	} else if (MHD_get_timeout(h->d, &ms) == MHD_YES) {
		if (ms == 0)
			its.it_value.tv_nsec = 1;	/* 0 would disarm */
		else {
			its.it_value.tv_sec = (time_t)(ms / 1000);
			its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
		}
	}
	timerfd_settime(h->tfd, 0, &its, NULL);
}

/*
 * MHD_run() moves at most one block (HTTPD_BLOCK_SIZE) per connection. When
 * ticks take longer than the interval, the loop runs a tick between any two
 * runs, so bodies would crawl at a block per tick and be cut for their age
 * before they were sent. So runs are repeated while MHD has work ready
 * (a timeout of 0), within this budget per wakeup.
 */
#define HTTPD_RUN_BUDGET_USEC 20000

static int on_mhd(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct httpd *h = ctx;
	uint64_t t0 = mono_usec();
	MHD_UNSIGNED_LONG_LONG ms;

	(void)l;
	(void)fd;
	(void)events;
	do {
		/* The messages of this run are about connections we cut, when
		 * there are any: they close now, as their sockets report the
		 * hangup. */
		h->closing_cuts = h->nr_all > h->nr_open;
		MHD_run(h->d);
		h->closing_cuts = false;
	} while (MHD_get_timeout(h->d, &ms) == MHD_YES && ms == 0 &&
		 mono_usec() - t0 < HTTPD_RUN_BUDGET_USEC);
	settle(h);
	return 0;
}

static int on_mhd_timer(struct loop *l, int fd, uint32_t events, void *ctx)
{
	loop_timer_expirations(fd);
	return on_mhd(l, fd, events, ctx);
}

/* sfd: requests past their deadline are cut; an accept backoff ends. */
static int on_sweep(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct httpd *h = ctx;
	uint64_t now = mono_usec();

	(void)l;
	(void)events;
	loop_timer_expirations(fd);
	h->sweep_at = 0;	/* fired: a one-shot timer is disarmed now */
	while (h->hfirst && h->hfirst->head_since + h->head_usec <= now)
		conn_cut(h, h->hfirst);
	if (h->accept_pause_until && h->accept_pause_until <= now)
		h->accept_pause_until = 0;
	settle(h);
	return 0;
}

static int on_listen(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct httpd *h = ctx;

	(void)l;
	(void)events;
	for (int i = 0; i < HTTPD_ACCEPT_BATCH && can_admit(h); i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			int err = errno;

			if (err == EAGAIN || err == EWOULDBLOCK)
				break;
			if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
				/* Out of descriptors or memory: the client waits in
				 * the backlog, and the loop does not spin meanwhile. */
				if (!h->said_accept_err && !h->quiet)
					fprintf(stderr, "cgwarden: http: cannot accept a connection: "
							"%s; retrying every %u ms\n", strerror(err),
						HTTPD_ACCEPT_BACKOFF_USEC / 1000);
				h->said_accept_err = true;
				h->accept_pause_until = mono_usec() + HTTPD_ACCEPT_BACKOFF_USEC;
				break;
			}
			continue;	/* that one client's failure (ECONNABORTED, ...) */
		}
		h->said_accept_err = false;
		if (sl > sizeof(ss))
			sl = sizeof(ss);
		admit(h, cfd, &ss, sl);
	}
	settle(h);
	return 0;
}

/* ---- listening --------------------------------------------------------- */

static int listen_unix(struct httpd *h, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, err;

	if (!path[0] || strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	strcpy(sa.sun_path, path);
	/* A socket left by a previous run (it died without cleaning up) is
	 * replaced, but only once a connect says nobody listens on it: one
	 * that a live instance serves is not ours to take. Anything else at
	 * that path is not ours to remove (bind fails with EADDRINUSE). */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return -errno;
		err = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0;
		close(fd);
		if (err != ECONNREFUSED)
			return -EADDRINUSE;	/* live (or its backlog is full) */
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 64) ||
	    lstat(path, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	h->unix_path = strdup(path);
	h->unix_dev = st.st_dev;
	h->unix_ino = st.st_ino;
	snprintf(h->addr, sizeof(h->addr), "unix:%s", path);
	return fd;
}

/* "127.0.0.1:9333", "[::1]:9333", "localhost:9333", ":9333" (all addresses). */
static int listen_inet(struct httpd *h, const char *spec)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *res, *ai;
	char host[256], hostbuf[INET6_ADDRSTRLEN];
	const char *colon = strrchr(spec, ':'), *port;
	size_t hl;
	int fd = -EADDRNOTAVAIL, one = 1;

	if (!colon || !colon[1])
		return -EINVAL;
	port = colon + 1;
	hl = (size_t)(colon - spec);
	if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	} else if (memchr(spec, ':', hl)) {
		return -EINVAL;		/* a bare IPv6 address needs brackets */
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	for (const char *p = port; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	if (getaddrinfo(hl ? host : NULL, port, &hints, &res))
		return -EINVAL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			fd = -errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* "[::]:9333" is one dual-stack socket that serves IPv4 too; any
		 * other IPv6 address means IPv6 only. */
		if (ai->ai_family == AF_INET6) {
			int v6only = strcmp(host, "::") != 0;

			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
		}
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0)
			break;
		int err = -errno;

		close(fd);
		fd = err;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return fd;

	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &s6->sin6_addr, hostbuf, sizeof(hostbuf));
			snprintf(h->addr, sizeof(h->addr), "[%s]:%u", hostbuf, ntohs(s6->sin6_port));
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &s4->sin_addr, hostbuf, sizeof(hostbuf));
			snprintf(h->addr, sizeof(h->addr), "%s:%u", hostbuf, ntohs(s4->sin_port));
		}
	}
	return fd;
}

/* ---- start / stop ------------------------------------------------------ */

int httpd_start(struct loop *l, const struct httpd_opts *o, struct httpd **out)
{
	const char *spec = o && o->listen ? o->listen : HTTPD_DEFAULT_LISTEN;
	unsigned timeout = o && o->timeout_sec ? o->timeout_sec : 10;
	unsigned head = o && o->request_timeout_sec ? o->request_timeout_sec : 5;
	size_t mem = o && o->request_max_bytes ? o->request_max_bytes : 32 * 1024;
	const union MHD_DaemonInfo *info;
	struct httpd *h;
	int err;

	if (!l || !out)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->loop = l;
	h->lfd = h->tfd = h->sfd = -1;
	h->quiet = o && o->quiet;
	h->stale_usec = o ? o->stale_usec : 0;
	h->max_conn = o && o->max_connections ? o->max_connections : 64;
	h->per_ip = o && o->max_per_client ? o->max_per_client : 16;
	h->head_usec = (uint64_t)head * 1000000u;
	h->lfd = strncmp(spec, "unix:", 5) == 0 ? listen_unix(h, spec + 5) : listen_inet(h, spec);
	if (h->lfd < 0) {
		err = h->lfd;
		if (err == -EINVAL)
			fprintf(stderr, "cgwarden: --listen '%s': expected ADDR:PORT, [ADDR]:PORT "
					"or unix:/PATH\n", spec);
		else
			fprintf(stderr, "cgwarden: cannot listen on %s: %s\n", spec, strerror(-err));
		goto fail;
	}
	/* A unix socket has no client address to count by: the file's
	 * permissions guard it instead. */
	if (h->unix_path)
		h->per_ip = 0;
	/* The limits are applied in admit(); MHD's is only a backstop, with
	 * room for connections cut but not yet closed. Its idle timeout
	 * stays: a request head can be complete and the reader silent. */
	h->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG, 0,
				NULL, NULL, on_request, h,
				MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,	/* first, or MHD warns */
				MHD_OPTION_CONNECTION_LIMIT, h->max_conn + HTTPD_CUT_PENDING_MAX,
				MHD_OPTION_CONNECTION_TIMEOUT, timeout,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem,
				MHD_OPTION_NOTIFY_CONNECTION, on_conn, h,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				MHD_OPTION_END);
	if (!h->d) {
		fprintf(stderr, "cgwarden: libmicrohttpd would not start on %s\n", h->addr);
		err = -EIO;
		goto fail;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	h->epfd = info ? info->epoll_fd : -1;
	h->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	h->sfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (h->epfd < 0 || h->tfd < 0 || h->sfd < 0) {
		err = h->tfd < 0 || h->sfd < 0 ? -errno : -EIO;
		goto fail;
	}
	err = loop_add_fd(l, h->epfd, EPOLLIN, on_mhd, h);
	if (err)
		goto fail;
	h->watching_ep = true;
	err = loop_add_fd(l, h->tfd, EPOLLIN, on_mhd_timer, h);
	if (err)
		goto fail;
	h->watching_t = true;
	err = loop_add_fd(l, h->sfd, EPOLLIN, on_sweep, h);
	if (err)
		goto fail;
	h->watching_s = true;
	settle(h);
	if (!h->watching_l) {
		err = -ENOMEM;
		goto fail;
	}
	*out = h;
	return 0;
fail:
	httpd_stop(h);
	return err;
}

void httpd_set_record(struct httpd *h, const struct prom_record *r)
{
	h->record = r;
	cache_drop(h);
}

void httpd_set_adaptive(struct httpd *h, const struct prom_adaptive *a, size_t n)
{
	h->adaptive = a;
	h->nr_adaptive = a ? n : 0;
	cache_drop(h);
}

void httpd_set_snapshot(struct httpd *h, const struct cg_snapshot *s,
			const struct prom_policy_count *policy, size_t nr_policy)
{
	cache_drop(h);
	h->gen++;
	h->snap = s;
	h->policy = policy;
	h->nr_policy = policy ? nr_policy : 0;
	h->snap_mono_usec = mono_usec();
	for (struct hconn *c = h->first; c; c = c->next)
		if (c->state == HC_BUSY && c->sending &&
		    h->gen - c->body_gen > HTTPD_BODY_MAX_AGE && !keeps_up(c))
			conn_cut(h, c);
	settle(h);
}

const char *httpd_address(const struct httpd *h)
{
	return h->addr;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	h->stopping = true;
	if (h->watching_l)
		loop_del_fd(h->loop, h->lfd);
	if (h->watching_ep)
		loop_del_fd(h->loop, h->epfd);
	if (h->watching_t)
		loop_del_fd(h->loop, h->tfd);
	if (h->watching_s)
		loop_del_fd(h->loop, h->sfd);
	/* Closes every connection (NOTIFY_CLOSED frees our records); their
	 * responses release the bodies they hold. */
	if (h->d)
		MHD_stop_daemon(h->d);
	if (h->lfd >= 0)
		close(h->lfd);
	if (h->tfd >= 0)
		close(h->tfd);
	if (h->sfd >= 0)
		close(h->sfd);
	/* The path may have been taken over since (another instance found
	 * ours unanswered, or an admin replaced it): only our own file goes. */
	if (h->unix_path) {
		struct stat st;

		if (lstat(h->unix_path, &st) == 0 && st.st_dev == h->unix_dev &&
		    st.st_ino == h->unix_ino)
			unlink(h->unix_path);
		free(h->unix_path);
	}
	cache_drop(h);
	free(h);
}
