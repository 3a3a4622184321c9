/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "loop.h"

struct watch {
	int fd;
	bool owned;			/* made by the loop: closed by loop_free */
	bool used;			/* false: removed, the slot may be reused */
	uint32_t gen;			/* bumped on removal: stale events are dropped */
	loop_fn fn;
	void *ctx;
};

struct loop {
	int epfd;
	struct watch *watches;
	size_t nr, cap;
};

int loop_new(struct loop **out)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int err = -errno;

		free(l);
		return err;
	}
	*out = l;
	return 0;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nr; i++)
		if (l->watches[i].used && l->watches[i].owned)
			close(l->watches[i].fd);
	free(l->watches);
	close(l->epfd);
	free(l);
}

static int add(struct loop *l, int fd, bool owned, uint32_t events, loop_fn fn, void *ctx)
{
	struct epoll_event ev = { .events = events };
	size_t i;

	/* A removed watch's slot is reused; its generation tells an event
	 * queued for the old fd from one for the new. */
	for (i = 0; i < l->nr; i++)
		if (!l->watches[i].used)
			break;
	if (i == l->nr && l->nr == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct watch *w = realloc(l->watches, cap * sizeof(*w));

		if (!w)
			return -ENOMEM;
		l->watches = w;
		l->cap = cap;
	}
	if (i == l->nr)
		l->watches[i].gen = 0;
	ev.data.u64 = (uint64_t)i | (uint64_t)l->watches[i].gen << 32;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	l->watches[i] = (struct watch){ fd, owned, true, l->watches[i].gen, fn, ctx };
	if (i == l->nr)
		l->nr++;
	return 0;
}

int loop_del_fd(struct loop *l, int fd)
{
	for (size_t i = 0; i < l->nr; i++) {
		struct watch *w = &l->watches[i];

		if (!w->used || w->fd != fd || w->owned)
			continue;
		/* A closed fd has left the epoll set already. */
		if (epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL) && errno != EBADF && errno != ENOENT)
			return -errno;
		w->used = false;
		w->gen++;
		return 0;
	}
	return -ENOENT;
}

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fn fn, void *ctx)
{
	return add(l, fd, false, events, fn, ctx);
}

static struct timespec usec_ts(uint64_t usec)
{
	return (struct timespec){ .tv_sec = (time_t)(usec / 1000000u),
				  .tv_nsec = (long)(usec % 1000000u) * 1000 };
}

int loop_timer_set(int timer_fd, uint64_t first_usec, uint64_t interval_usec)
{
	struct itimerspec its = { .it_value = usec_ts(first_usec),
				  .it_interval = usec_ts(interval_usec) };

	if (timerfd_settime(timer_fd, 0, &its, NULL))
		return -errno;
	return 0;
}

/* A timerfd armed as loop_timer_set() does (0, 0: disarmed), watched by
 * the loop. Returns its fd or -errno. */
static int add_timerfd(struct loop *l, uint64_t first_usec, uint64_t interval_usec, loop_fn fn,
		       void *ctx)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	int err;

	if (fd < 0)
		return -errno;
	err = loop_timer_set(fd, first_usec, interval_usec);
	if (!err)
		err = add(l, fd, true, EPOLLIN, fn, ctx);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int loop_add_timer(struct loop *l, uint64_t interval_usec, loop_fn fn, void *ctx)
{
	return add_timerfd(l, interval_usec, interval_usec, fn, ctx);
}

uint64_t loop_timer_expirations(int timer_fd)
{
	uint64_t n = 0;

	if (read(timer_fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

int loop_add_alarm(struct loop *l, loop_fn fn, void *ctx)
{
	return add_timerfd(l, 0, 0, fn, ctx);
}

int loop_alarm_set(int alarm_fd, uint64_t at_usec)
{
	struct itimerspec its = { 0 };

	/* it_value 0 would disarm: "now" is the smallest time that fires. */
	if (at_usec) {
		its.it_value = usec_ts(at_usec);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(alarm_fd, TFD_TIMER_ABSTIME, &its, NULL))
		return -errno;
	return 0;
}

int loop_add_signals(struct loop *l, loop_fn fn, void *ctx)
{
	sigset_t set;
	int fd, err;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	err = add(l, fd, true, EPOLLIN, fn, ctx);
	if (err)
		close(fd);
	return err;
}

int loop_signal_read(int sig_fd)
{
	struct signalfd_siginfo si;

	if (read(sig_fd, &si, sizeof(si)) != sizeof(si))
		return -errno;
	return (int)si.ssi_signo;
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[16];

	for (;;) {
		int n = epoll_wait(l->epfd, evs, 16, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			size_t idx = (size_t)(evs[i].data.u64 & 0xffffffffu);
			struct watch *w = &l->watches[idx];
			int r;

			/* Removed (or removed and reused) by an earlier callback. */
			if (idx >= l->nr || !w->used || w->gen != (uint32_t)(evs[i].data.u64 >> 32))
				continue;
			r = w->fn(l, w->fd, evs[i].events, w->ctx);

			if (r)
				return r;
		}
	}
}
