/* SPDX-License-Identifier: GPL-2.0-only */
/* Non-blocking whole-line output; see lineout.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "lineout.h"

/* The least time between two connects to a unix: reader that is away. */
#define LINEOUT_RETRY_MS 200

struct lineout {
	char *dest;		/* NULL: stdout */
	struct loop *loop;
	int fd;
	int stdout_flags;	/* restored at close (the tty or pipe is shared) */
	bool watched;		/* in the loop for EPOLLOUT */
	int err;		/* stdout: sticky first hard error; else one from
				 * a background flush, reported by the next write */
	bool is_unix;		/* dest is unix:PATH: reconnected by itself */
	uint64_t retry_ms;	/* when a closed unix: dest may next connect */
	char *pending;
	size_t pending_len, pending_off;
	uint64_t dropped;
};

static uint64_t now_msec(void)
{
	return mono_usec() / 1000u;
}

static int open_fd(struct lineout *o)
{
	const char *d = o->dest;
	int fd;

	if (!d) {
		o->stdout_flags = fcntl(STDOUT_FILENO, F_GETFL);
		if (o->stdout_flags < 0)
			return -errno;
		if (fcntl(STDOUT_FILENO, F_SETFL, o->stdout_flags | O_NONBLOCK))
			return -errno;
		o->fd = STDOUT_FILENO;
		return 0;
	}
	if (strncmp(d, "unix:", 5) == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		if (!d[5] || strlen(d + 5) >= sizeof(sa.sun_path))
			return -EINVAL;
		strcpy(sa.sun_path, d + 5);
		/* Non-blocking from the start: a reader whose backlog is full
		 * makes connect() fail with EAGAIN at once instead of holding
		 * the loop until it accepts. */
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			int err = -errno;

			close(fd);
			return err;
		}
	} else {
		fd = open(d, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0666);
		if (fd < 0)
			return -errno;
	}
	o->fd = fd;
	return 0;
}

static void close_fd(struct lineout *o)
{
	if (o->watched)
		loop_del_fd(o->loop, o->fd);
	o->watched = false;
	if (o->fd == STDOUT_FILENO)
		fcntl(STDOUT_FILENO, F_SETFL, o->stdout_flags);
	else if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
}

static void drop_pending(struct lineout *o)
{
	free(o->pending);
	o->pending = NULL;
	o->pending_len = o->pending_off = 0;
}

/* Writes what is left of a partly written line. 0 when done or when the
 * reader has no room yet (pending stays), else -errno. */
static int flush_pending(struct lineout *o)
{
	while (o->pending_off < o->pending_len) {
		ssize_t n = write(o->fd, o->pending + o->pending_off,
				  o->pending_len - o->pending_off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		o->pending_off += (size_t)n;
	}
	drop_pending(o);
	return 0;
}

static int on_writable(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct lineout *o = ctx;
	int err;

	(void)l;
	(void)fd;
	(void)events;
	err = flush_pending(o);
	if (err && !o->err)
		o->err = err;	/* reported by the next lineout_write */
	return 0;
}

/* Edge-triggered EPOLLOUT: woken when a full pipe or socket drains, to
 * finish a pending line. Regular files are always writable (epoll refuses
 * them with EPERM): nothing to watch. */
static int watch(struct lineout *o)
{
	int err;

	if (!o->loop)
		return 0;
	err = loop_add_fd(o->loop, o->fd, EPOLLOUT | EPOLLET, on_writable, o);
	if (err == -EPERM)
		return 0;
	if (!err)
		o->watched = true;
	return err;
}

/* A reader that is there but cannot take a connection now (its backlog
 * is full): not an error, just not connected yet. */
static bool not_yet(int err)
{
	return err == -EAGAIN || err == -EINPROGRESS;
}

/* Opens dest, watched. 0 or -errno (then fd is -1). */
static int connect_dest(struct lineout *o)
{
	int err = open_fd(o);

	if (!err) {
		err = watch(o);
		if (err)
			close_fd(o);
	}
	if (err && o->is_unix)
		o->retry_ms = now_msec() + LINEOUT_RETRY_MS;
	return err;
}

int lineout_open(const char *dest, struct loop *loop, struct lineout **out)
{
	struct lineout *o = calloc(1, sizeof(*o));
	int err;

	if (!o)
		return -ENOMEM;
	o->fd = -1;
	o->loop = loop;
	if (dest && !(o->dest = strdup(dest))) {
		free(o);
		return -ENOMEM;
	}
	o->is_unix = dest && strncmp(dest, "unix:", 5) == 0;
	err = connect_dest(o);
	if (o->is_unix && not_yet(err))
		err = 0;	/* retried on the next write */
	if (err) {
		close_fd(o);
		free(o->dest);
		free(o);
		return err;
	}
	*out = o;
	return 0;
}

/* One whole line (with its '\n'), or none of it. 0 or -errno. */
static int write_line(struct lineout *o, const char *line, size_t len)
{
	ssize_t n;
	int err = flush_pending(o);

	if (err)
		return err;
	if (o->pending) {
		o->dropped++;
		return 0;
	}
	do
		n = write(o->fd, line, len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno != EAGAIN)
			return -errno;
		o->dropped++;
		return 0;
	}
	if ((size_t)n < len) {
		o->pending = malloc(len - (size_t)n);
		if (!o->pending)
			return -ENOMEM;
		memcpy(o->pending, line + n, len - (size_t)n);
		o->pending_len = len - (size_t)n;
		o->pending_off = 0;
	}
	return 0;
}

/* Lines in buf (a last one without '\n' counts). */
static uint64_t count_lines(const char *buf, size_t len)
{
	uint64_t n = 0;

	for (const char *p = buf, *end = buf + len; p < end; n++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		p = nl ? nl + 1 : end;
	}
	return n;
}

/* A destination that failed: closed, its partial line lost. */
static void disconnect(struct lineout *o)
{
	if (o->pending) {
		drop_pending(o);
		o->dropped++;
	}
	close_fd(o);
	if (o->is_unix)
		o->retry_ms = now_msec() + LINEOUT_RETRY_MS;
}

int lineout_write(struct lineout *o, const char *buf, size_t len)
{
	size_t at = 0;
	int err = 0;

	if (!o->dest) {
		/* stdout: the first hard error (EPIPE: | head is done) ends it. */
		for (; !o->err && at < len;) {
			const char *nl = memchr(buf + at, '\n', len - at);
			size_t n = nl ? (size_t)(nl - buf) + 1 - at : len - at;

			o->err = write_line(o, buf + at, n);
			at += n;
		}
		return o->err;
	}
	/* A file or socket: a failure closes it and costs lines, never the
	 * command; a unix: reader is connected to again, at most every
	 * LINEOUT_RETRY_MS, a file is reopened by lineout_reopen. */
	if (o->fd < 0 && o->is_unix && now_msec() >= o->retry_ms)
		connect_dest(o);
	if (o->fd >= 0 && o->err) {
		err = o->err;	/* from a background flush */
		o->err = 0;
		disconnect(o);
	}
	while (o->fd >= 0 && at < len) {
		const char *nl = memchr(buf + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - buf) + 1 - at : len - at;

		err = write_line(o, buf + at, n);
		if (err) {
			disconnect(o);
			break;	/* this line is counted below */
		}
		at += n;
	}
	o->dropped += count_lines(buf + at, len - at);
	return err;
}

int lineout_reopen(struct lineout *o)
{
	int err;

	if (!o->dest)
		return 0;
	if (o->fd >= 0 && (flush_pending(o) || o->pending)) {
		drop_pending(o);
		o->dropped++;
	}
	close_fd(o);
	o->err = 0;
	err = connect_dest(o);
	return o->is_unix && not_yet(err) ? 0 : err;
}

bool lineout_busy(struct lineout *o)
{
	int err;

	if (o->fd < 0 || o->err || !o->pending)
		return false;
	err = flush_pending(o);
	if (err) {
		o->err = err;	/* reported by the next lineout_write */
		return false;
	}
	return o->pending != NULL;
}

uint64_t lineout_dropped(const struct lineout *o)
{
	return o->dropped;
}

void lineout_close(struct lineout *o, int drain_ms)
{
	struct pollfd pfd;
	uint64_t end;

	if (!o)
		return;
	pfd = (struct pollfd){ .fd = o->fd, .events = POLLOUT };
	end = now_msec() + (uint64_t)(drain_ms > 0 ? drain_ms : 0);
	while (o->fd >= 0 && !flush_pending(o) && o->pending) {
		uint64_t now = now_msec();

		if (now >= end || poll(&pfd, 1, (int)(end - now)) <= 0)
			break;
	}
	drop_pending(o);
	close_fd(o);
	free(o->dest);
	free(o);
}
