/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The whole-line writer's unix: destination (src/lineout.c): a reader whose
 * backlog is full is not waited for, a reader that goes is said once and
 * its lines are counted, and the writer connects again by itself; a line
 * the reader took only part of keeps lineout_busy() true until it is all
 * out, and is never cut by the lines after it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "test.h"
#include "lineout.h"

static char dir[40], path[64], dest[80];

static int listener(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	unlink(path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 0)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int client(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void test_full_backlog_is_not_waited_for(void)
{
	int l = listener(), filler = l >= 0 ? client() : -1, c;
	struct lineout *o = NULL;
	char buf[64];

	CHECK(l >= 0 && filler >= 0);
	if (l < 0 || filler < 0)
		goto out;
	/* listen(0) admits one: the filler has it. A blocking connect would
	 * wait here for ever. */
	CHECK_INT(lineout_open(dest, NULL, &o), 0);
	if (!o)
		goto out;
	CHECK_INT(lineout_write(o, "a\nb\n", 4), 0);
	CHECK_U64(lineout_dropped(o), 2);
	/* Room again: the next write after the retry delay connects. */
	close(accept(l, NULL, NULL));
	close(filler);
	filler = -1;
	sleep_ms(250);
	CHECK_INT(lineout_write(o, "c\n", 2), 0);
	CHECK_U64(lineout_dropped(o), 2);
	c = accept(l, NULL, NULL);
	CHECK(c >= 0);
	if (c >= 0) {
		CHECK_INT(read(c, buf, sizeof(buf)), 2);
		close(c);
	}
out:
	lineout_close(o, 0);
	if (filler >= 0)
		close(filler);
	if (l >= 0)
		close(l);
}

static void test_reader_restart_reconnects(void)
{
	int l = listener(), c = -1;
	struct lineout *o = NULL;
	char buf[64];

	CHECK(l >= 0);
	if (l < 0)
		return;
	CHECK_INT(lineout_open(dest, NULL, &o), 0);
	if (!o)
		goto out;
	c = accept(l, NULL, NULL);
	CHECK_INT(lineout_write(o, "1\n", 2), 0);
	/* The reader goes: the error is said once, by the write that met it;
	 * the lines meanwhile are counted. */
	close(c);
	close(l);
	c = -1;
	l = -1;
	CHECK_INT(lineout_write(o, "2\n3\n", 4), -EPIPE);
	CHECK_U64(lineout_dropped(o), 2);
	CHECK_INT(lineout_write(o, "4\n", 2), 0);
	CHECK_U64(lineout_dropped(o), 3);
	/* A new reader on the same path: connected to by a later write. */
	l = listener();
	CHECK(l >= 0);
	sleep_ms(250);
	CHECK_INT(lineout_write(o, "5\n", 2), 0);
	CHECK_U64(lineout_dropped(o), 3);
	c = l >= 0 ? accept(l, NULL, NULL) : -1;
	CHECK(c >= 0);
	if (c >= 0) {
		CHECK_INT(read(c, buf, sizeof(buf)), 2);
		CHECK(buf[0] == '5');
	}
	/* And lineout_reopen connects at once. */
	CHECK_INT(lineout_reopen(o), 0);
	CHECK_INT(lineout_write(o, "6\n", 2), 0);
	CHECK_U64(lineout_dropped(o), 3);
out:
	lineout_close(o, 0);
	if (c >= 0)
		close(c);
	if (l >= 0)
		close(l);
}

/* A line larger than the socket's buffer: part goes, the rest is in flight.
 * lineout_busy() finishes it as the reader makes room, and a line written
 * meanwhile is dropped whole, never spliced into it. */
static void test_line_in_flight_goes_first(void)
{
	int l = listener(), c = -1;
	struct lineout *o = NULL;
	size_t big = 4u << 20, got = 0, newlines = 0;
	char *line = malloc(big), buf[65536];
	bool busy = true;

	CHECK(l >= 0 && line);
	if (l < 0 || !line)
		goto out;
	memset(line, 'x', big - 1);
	line[big - 1] = '\n';
	CHECK_INT(lineout_open(dest, NULL, &o), 0);
	if (!o)
		goto out;
	c = accept(l, NULL, NULL);
	CHECK(c >= 0);
	if (c < 0)
		goto out;
	CHECK_INT(lineout_write(o, line, big), 0);
	CHECK(lineout_busy(o));
	CHECK_INT(lineout_write(o, "late\n", 5), 0);
	CHECK_U64(lineout_dropped(o), 1);
	/* The reader takes what there is; each lineout_busy() sends more. */
	for (int i = 0; i < 100000 && busy; i++) {
		ssize_t n = recv(c, buf, sizeof(buf), MSG_DONTWAIT);

		for (ssize_t k = 0; k < n; k++)
			newlines += buf[k] == '\n';
		got += n > 0 ? (size_t)n : 0;
		busy = lineout_busy(o);
	}
	CHECK(!busy);
	for (ssize_t n; (n = recv(c, buf, sizeof(buf), MSG_DONTWAIT)) > 0; got += (size_t)n)
		for (ssize_t k = 0; k < n; k++)
			newlines += buf[k] == '\n';
	CHECK_U64(got, big);
	CHECK_U64(newlines, 1);
	CHECK_U64(lineout_dropped(o), 1);
out:
	lineout_close(o, 0);
	free(line);
	if (c >= 0)
		close(c);
	if (l >= 0)
		close(l);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/cgw-lineout-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/sock", dir);
	snprintf(dest, sizeof(dest), "unix:%s", path);
	RUN(test_full_backlog_is_not_waited_for);
	RUN(test_reader_restart_reconnects);
	RUN(test_line_in_flight_goes_first);
	unlink(path);
	rmdir(dir);
	TEST_EXIT();
}
