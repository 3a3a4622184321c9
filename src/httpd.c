/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libmicrohttpd in "external epoll" mode (MHD_USE_EPOLL, no internal thread):
 * MHD keeps its own epoll set; that set's fd is level-readable in ours when
 * any of its sockets is ready, and MHD_run() then does the work. MHD's
 * timeouts (idle connections) and its internal "ready without an event"
 * work are driven by a timerfd armed from MHD_get_timeout() after each run.
 *
 * The listening socket is ours (MHD_OPTION_LISTEN_SOCKET): one code path
 * for IPv4, IPv6 and unix sockets, and the real address after binding port 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>

#include "httpd.h"
#include "json.h"

/* A rendered body, shared by every response made from it. One thread, so a
 * plain count: the snapshot's cache holds one reference, each response one. */
struct body {
	unsigned refs;
	bool retired;		/* no longer in the cache: only responses hold it */
	struct httpd *h;
	size_t len;
	char *data;
};

/*
 * Bodies of past snapshots still held by responses being sent. A client
 * that reads a little every few seconds never hits the idle timeout; one
 * per tick would pin a body per tick (176 MB each at 10,000 cgroups). Past
 * this many, requests that need a body get 503 until the slow ones finish.
 *
 * Known limit: the cap is global, so a few slow readers (deliberate or not)
 * keep /metrics at 503 for everyone until they finish or time out. The
 * intended fix: send bodies with MHD_create_response_from_callback reading
 * from the refcounted body, and end a response with
 * MHD_CONTENT_READER_END_WITH_ERROR once its body is more than about two
 * snapshots old, so stale readers are cut off instead of blocking others.
 */
#define HTTPD_MAX_RETIRED 4

enum { BODY_PROM_TEXT, BODY_PROM_OM, BODY_JSON, BODY__COUNT };

struct httpd {
	struct loop *loop;
	struct MHD_Daemon *d;
	int epfd;		/* MHD's epoll set: watched by the loop, owned by MHD */
	int tfd;		/* timerfd for MHD's timeouts */
	bool watching_ep, watching_t;
	char *unix_path;	/* a socket file we made, removed at stop ... */
	dev_t unix_dev;		/* ... if it is still the one we bound */
	ino_t unix_ino;
	char addr[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	uint64_t stale_usec;
	bool quiet;

	const struct cg_snapshot *snap;
	const struct prom_policy_count *policy;
	size_t nr_policy;
	uint64_t snap_mono_usec;	/* when it was set */
	struct body *cache[BODY__COUNT];
	unsigned retired;		/* bodies out of the cache, still referenced */
};

static uint64_t mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void body_put(struct body *b)
{
	if (b && --b->refs == 0) {
		if (b->retired)
			b->h->retired--;
		free(b->data);
		free(b);
	}
}

/* MHD_ContentReaderFreeCallback: a response made from b is gone. */
static void body_release(void *cls)
{
	body_put(cls);
}

static void cache_drop(struct httpd *h)
{
	for (int i = 0; i < BODY__COUNT; i++) {
		struct body *b = h->cache[i];

		if (b && b->refs > 1) {
			b->retired = true;
			h->retired++;
		}
		body_put(b);
		h->cache[i] = NULL;
	}
}

/* The body of kind k for the current snapshot, rendered now if it is the
 * first request for it since the snapshot changed. NULL: no snapshot yet,
 * or out of memory. */
static struct body *body_get(struct httpd *h, int k)
{
	struct body *b;

	if (h->cache[k])
		return h->cache[k];
	if (!h->snap || h->retired >= HTTPD_MAX_RETIRED)
		return NULL;
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

		if (prom_render(&pb, h->snap, k == BODY_PROM_OM ? PROM_OPENMETRICS : PROM_TEXT,
				h->policy, h->nr_policy)) {
			prom_buf_free(&pb);
			free(b);
			return NULL;
		}
		b->data = pb.data;
		b->len = pb.len;
	}
	b->refs = 1;
	b->h = h;
	h->cache[k] = b;
	return b;
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

static enum MHD_Result reply_body(struct httpd *h, struct MHD_Connection *conn, int k,
				  const char *type)
{
	struct body *b = body_get(h, k);
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!b)
		return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				  !h->snap ? "no snapshot yet\n"
				  : h->retired >= HTTPD_MAX_RETIRED ? "busy: slow clients hold "
								      "older bodies\n"
				  : "cannot render: out of memory\n", NULL);
	r = MHD_create_response_from_buffer_with_free_callback_cls(b->len, b->data,
								    body_release, b);
	if (!r)
		return MHD_NO;
	b->refs++;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
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

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "read-only: GET and HEAD only\n", "GET, HEAD");
	if (strcmp(url, "/metrics") == 0) {
		const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
								 MHD_HTTP_HEADER_ACCEPT);
		enum prom_format f = prom_negotiate(accept);

		return reply_body(h, conn, f == PROM_OPENMETRICS ? BODY_PROM_OM : BODY_PROM_TEXT,
				  prom_content_type(f));
	}
	if (strcmp(url, "/snapshot") == 0)
		return reply_body(h, conn, BODY_JSON, "application/json");
	if (strcmp(url, "/healthz") == 0)
		return reply_health(h, conn);
	if (strcmp(url, "/") == 0)
		return reply_text(conn, MHD_HTTP_OK,
				  "cgwarden: /metrics (Prometheus, OpenMetrics), /snapshot (JSON), "
				  "/healthz\n", NULL);
	return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n", NULL);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct httpd *h = cls;

	if (h->quiet)
		return;
	fputs("cgwarden: http: ", stderr);
	vfprintf(stderr, fmt, ap);
}

/* ---- the loop ---------------------------------------------------------- */

/* Arms the timerfd for MHD's next deadline (0 ms: at once), or disarms it. */
static void rearm(struct httpd *h)
{
	struct itimerspec its = { 0 };
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(h->d, &ms) == MHD_YES) {
		if (ms == 0)
			its.it_value.tv_nsec = 1;	/* 0 would disarm */
		else {
			its.it_value.tv_sec = (time_t)(ms / 1000);
			its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
		}
	}
	timerfd_settime(h->tfd, 0, &its, NULL);
}

static int on_mhd(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct httpd *h = ctx;

	(void)l;
	(void)fd;
	(void)events;
	MHD_run(h->d);
	rearm(h);
	return 0;
}

static int on_mhd_timer(struct loop *l, int fd, uint32_t events, void *ctx)
{
	loop_timer_expirations(fd);
	return on_mhd(l, fd, events, ctx);
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
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
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
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
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
	unsigned max_conn = o && o->max_connections ? o->max_connections : 64;
	unsigned per_ip = o && o->max_per_client ? o->max_per_client : 16;
	unsigned timeout = o && o->timeout_sec ? o->timeout_sec : 10;
	size_t mem = o && o->request_max_bytes ? o->request_max_bytes : 32 * 1024;
	const union MHD_DaemonInfo *info;
	struct httpd *h;
	int lfd, err;

	if (!l || !out)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->loop = l;
	h->tfd = -1;
	h->quiet = o && o->quiet;
	h->stale_usec = o ? o->stale_usec : 0;
	lfd = strncmp(spec, "unix:", 5) == 0 ? listen_unix(h, spec + 5) : listen_inet(h, spec);
	if (lfd < 0) {
		err = lfd;
		if (err == -EINVAL)
			fprintf(stderr, "cgwarden: --listen '%s': expected ADDR:PORT, [ADDR]:PORT "
					"or unix:/PATH\n", spec);
		else
			fprintf(stderr, "cgwarden: cannot listen on %s: %s\n", spec, strerror(-err));
		goto fail;
	}
	/* MHD_OPTION_PER_IP_CONNECTION_LIMIT on a unix socket would put every
	 * client in one bucket; the file's permissions guard it instead. */
	h->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				on_request, h,
				MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,	/* first, or MHD warns */
				MHD_OPTION_LISTEN_SOCKET, (MHD_socket)lfd,
				MHD_OPTION_CONNECTION_LIMIT, max_conn,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->unix_path ? 0u : per_ip,
				MHD_OPTION_CONNECTION_TIMEOUT, timeout,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem,
				MHD_OPTION_END);
	if (!h->d) {
		fprintf(stderr, "cgwarden: libmicrohttpd would not start on %s\n", h->addr);
		close(lfd);
		err = -EIO;
		goto fail;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	h->epfd = info ? info->epoll_fd : -1;
	h->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (h->epfd < 0 || h->tfd < 0) {
		err = h->tfd < 0 ? -errno : -EIO;
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
	rearm(h);
	*out = h;
	return 0;
fail:
	httpd_stop(h);
	return err;
}

void httpd_set_snapshot(struct httpd *h, const struct cg_snapshot *s,
			const struct prom_policy_count *policy, size_t nr_policy)
{
	cache_drop(h);
	h->snap = s;
	h->policy = policy;
	h->nr_policy = policy ? nr_policy : 0;
	h->snap_mono_usec = mono_usec();
}

const char *httpd_address(const struct httpd *h)
{
	return h->addr;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	if (h->watching_ep)
		loop_del_fd(h->loop, h->epfd);
	if (h->watching_t)
		loop_del_fd(h->loop, h->tfd);
	/* Closes the listening socket and every connection; their responses
	 * release the bodies they hold. */
	if (h->d)
		MHD_stop_daemon(h->d);
	if (h->tfd >= 0)
		close(h->tfd);
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
