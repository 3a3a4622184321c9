/* SPDX-License-Identifier: GPL-2.0-only */
/* cgwarden stream: NDJSON, one line per event and per tick. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "commands.h"
#include "json.h"
#include "loop.h"

static const char stream_help[] =
	"Usage: cgwarden stream [OPTIONS]\n\n"
	"Print the cgroup tree as newline-delimited JSON: on each tick, one line\n"
	"per event (cgroup_added, cgroup_removed with its final counters, oom_kill),\n"
	"then one \"tick\" line with every cgroup (schema: cgwarden-json(7)). The\n"
	"first tick is written at once; rates appear from the second.\n\n"
	"Options:\n"
	"  -n, --count N         stop after N ticks (default: until interrupted)\n"
	"  -o, --output DEST     FILE: append to it, reopened on SIGHUP (log\n"
	"                        rotation); unix:/PATH: connect to that unix stream\n"
	"                        socket (reconnected on SIGHUP). Default: stdout\n"
	"  -f, --fields LIST     keep only these members of each cgroup object, e.g.\n"
	"                        cpu,memory.current_bytes,psi.cpu (identity members\n"
	"                        id, path, name, kind, ... are always kept)\n"
	CLI_COMMON_HELP
	"\nThe default interval is 2 s. The output never blocks the collector: a\n"
	"line the reader has no room for is dropped whole and counted in the next\n"
	"tick's self.dropped_lines. SIGINT and SIGTERM end the stream.\n";

/*
 * The output: a non-blocking fd. A line goes out whole or not at all: when
 * the reader's buffer (a pipe, a socket) is full, the line is dropped and
 * counted; a line the kernel took only part of is finished from pending[]
 * (when the fd is writable again, or before the next line) and any line
 * arriving meanwhile is dropped. So a slow reader costs lines, never the
 * collector's time, and never sees half a line.
 */
struct output {
	const char *dest;	/* NULL: stdout */
	int fd;
	int stdout_flags;	/* restored at exit (the tty or pipe is shared) */
	bool watched;		/* in the loop for EPOLLOUT */
	char *pending;
	size_t pending_len, pending_off;
	uint64_t dropped;
};

struct stream {
	struct collector *c;
	struct loop *loop;
	struct output out;
	const struct json_fields *fields;
	uint64_t count, done;
	int status;
};

static int out_open(struct output *o)
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
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    fcntl(fd, F_SETFL, O_NONBLOCK)) {
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

static void out_close(struct stream *st)
{
	struct output *o = &st->out;

	if (o->watched)
		loop_del_fd(st->loop, o->fd);
	o->watched = false;
	if (o->fd == STDOUT_FILENO)
		fcntl(STDOUT_FILENO, F_SETFL, o->stdout_flags);
	else if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
}

static uint64_t now_msec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Writes what is left of a partly written line. 0 when done or when the
 * reader has no room yet (pending stays), else -errno. */
static int out_flush(struct output *o)
{
	while (o->pending_off < o->pending_len) {
		ssize_t n = write(o->fd, o->pending + o->pending_off, o->pending_len - o->pending_off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		o->pending_off += (size_t)n;
	}
	free(o->pending);
	o->pending = NULL;
	o->pending_len = o->pending_off = 0;
	return 0;
}

/* At exit: waits up to timeout_ms for the reader to take what is pending. */
static void out_drain(struct output *o, int timeout_ms)
{
	struct pollfd pfd = { .fd = o->fd, .events = POLLOUT };
	uint64_t end = now_msec() + (uint64_t)timeout_ms;

	while (!out_flush(o) && o->pending) {
		uint64_t now = now_msec();

		if (now >= end || poll(&pfd, 1, (int)(end - now)) <= 0)
			return;
	}
}

/* One whole line (with its '\n'), or none of it. 0 or -errno. */
static int out_line(struct output *o, const char *line, size_t len)
{
	ssize_t n;
	int err = out_flush(o);

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

static int on_writable(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct stream *st = ctx;
	int err;

	(void)l;
	(void)fd;
	(void)events;
	err = out_flush(&st->out);
	if (err && err != -EPIPE) {
		fprintf(stderr, "cgwarden: writing the stream: %s\n", strerror(-err));
		st->status = EXIT_RUNTIME;
	}
	return err != 0;
}

/* Edge-triggered EPOLLOUT: woken when a full pipe or socket drains, to
 * finish a pending line. Regular files are always writable (epoll refuses
 * them with EPERM): nothing to watch. */
static int out_watch(struct stream *st)
{
	struct output *o = &st->out;
	int err;

	if (!st->loop)
		return 0;
	err = loop_add_fd(st->loop, o->fd, EPOLLOUT | EPOLLET, on_writable, st);
	if (err == -EPERM)
		return 0;
	if (!err)
		o->watched = true;
	return err;
}

/* SIGHUP: log rotation moved the file away (or the socket's reader
 * restarted); the rest of a partly written line still goes to the old one
 * if it can, else that line counts as dropped. */
static int out_reopen(struct stream *st)
{
	struct output *o = &st->out;
	int err;

	if (!o->dest)
		return 0;
	if (out_flush(o) || o->pending) {
		free(o->pending);
		o->pending = NULL;
		o->pending_len = o->pending_off = 0;
		o->dropped++;
	}
	out_close(st);
	err = out_open(o);
	if (err) {
		fprintf(stderr, "cgwarden stream: reopening %s: %s\n", o->dest, strerror(-err));
		return err;
	}
	return out_watch(st);
}

/* One tick: collect, render the tick's lines, write each whole or drop it.
 * Returns non-zero to stop the loop. */
static int stream_tick(struct stream *st)
{
	const struct cg_snapshot *snap;
	struct cg_snapshot s;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	int err = collector_tick(st->c, &snap);

	if (err) {
		fprintf(stderr, "cgwarden: reading %s: %s\n", collector_root(st->c), strerror(-err));
		st->status = EXIT_RUNTIME;
		return 1;
	}
	/* A shallow copy, to report the drops so far: the arrays stay the
	 * collector's. */
	s = *snap;
	s.self.dropped_lines_known = true;
	s.self.dropped_lines = st->out.dropped;
	mem = open_memstream(&buf, &len);
	err = mem ? json_write_stream_tick_fields(mem, &s, st->fields) : -ENOMEM;
	if (mem && fclose(mem) && err >= 0)
		err = -ENOMEM;
	for (size_t at = 0; err >= 0 && at < len;) {
		const char *nl = memchr(buf + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - buf) + 1 - at : len - at;

		err = out_line(&st->out, buf + at, n);
		at += n;
	}
	free(buf);
	if (err < 0) {
		/* A reader that went away (| head) is a normal end. */
		if (err != -EPIPE) {
			fprintf(stderr, "cgwarden: writing the stream: %s\n", strerror(-err));
			st->status = EXIT_RUNTIME;
		}
		return 1;
	}
	st->done++;
	return st->count && st->done >= st->count;
}

static int on_timer(struct loop *l, int fd, uint32_t events, void *ctx)
{
	(void)l;
	(void)events;
	/* Missed expirations (a slow tick) are not made up: one tick now. */
	loop_timer_expirations(fd);
	return stream_tick(ctx);
}

static int on_signal(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct stream *st = ctx;
	int sig = loop_signal_read(fd);

	(void)l;
	(void)events;
	if (sig == SIGHUP) {
		if (out_reopen(st)) {
			st->status = EXIT_RUNTIME;
			return 1;
		}
		return 0;
	}
	return sig == SIGINT || sig == SIGTERM;
}

int cmd_stream(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "count", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "fields", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common cc = { .interval_usec = 2000000 };
	struct stream st = { .out = { .fd = -1 } };
	struct json_fields *fields = NULL;
	char *end;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "hn:o:f:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(stream_help, stdout);
			return 0;
		case 'n':
			errno = 0;
			st.count = strtoull(optarg, &end, 10);
			if (errno || *end || end == optarg || st.count == 0 || optarg[0] == '-') {
				fprintf(stderr, "cgwarden stream: --count: '%s' is not a positive number\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'o':
			st.out.dest = optarg;
			break;
		case 'f':
			json_fields_free(fields);
			fields = NULL;
			err = json_fields_parse(optarg, &fields);
			if (err) {
				fprintf(stderr, "cgwarden stream: --fields '%s': %s\n", optarg,
					err == -ENOENT ? "names a member a cgroup object does not have "
							 "(see cgwarden-json(7))"
					: err == -EINVAL ? "expected ids like cpu,memory.current_bytes,psi.cpu"
							 : strerror(-err));
				return EXIT_USAGE;
			}
			break;
		default:
			err = cli_common_opt(&cc, opt, optarg);
			if (err) {
				if (err > 0)
					fputs(stream_help, stderr);
				json_fields_free(fields);
				return EXIT_USAGE;
			}
		}
	}
	st.fields = fields;
	if (optind < argc) {
		fprintf(stderr, "cgwarden stream: unexpected argument '%s'\n", argv[optind]);
		json_fields_free(fields);
		return EXIT_USAGE;
	}
	err = out_open(&st.out);
	if (err) {
		fprintf(stderr, "cgwarden stream: --output %s: %s\n",
			st.out.dest ? st.out.dest : "(stdout)", strerror(-err));
		json_fields_free(fields);
		return EXIT_USAGE;
	}
	/* EPIPE from write() instead of death by SIGPIPE: we end cleanly. */
	signal(SIGPIPE, SIG_IGN);
	err = loop_new(&st.loop);
	if (!err)
		err = out_watch(&st);
	if (!err)
		err = loop_add_signals(st.loop, on_signal, &st);
	if (err) {
		fprintf(stderr, "cgwarden stream: cannot set up the event loop: %s\n", strerror(-err));
		st.status = EXIT_RUNTIME;
		goto out;
	}
	err = cli_open_collector(&cc, &st.c);
	if (err) {
		st.status = err;
		goto out;
	}
	if (stream_tick(&st))
		goto out;
	err = loop_add_timer(st.loop, cc.interval_usec, on_timer, &st);
	if (err) {
		fprintf(stderr, "cgwarden stream: cannot set up the event loop: %s\n", strerror(-err));
		st.status = EXIT_RUNTIME;
		goto out;
	}
	err = loop_run(st.loop);
	if (err < 0) {
		fprintf(stderr, "cgwarden stream: event loop: %s\n", strerror(-err));
		st.status = EXIT_RUNTIME;
	}
out:
	/* The rest of a line a slow reader left pending: finish it if the
	 * reader makes room within 2 s, so it does not end on half a line. */
	if (st.out.fd >= 0)
		out_drain(&st.out, 2000);
	free(st.out.pending);
	out_close(&st);
	loop_free(st.loop);
	collector_free(st.c);
	json_fields_free(fields);
	return st.status;
}
