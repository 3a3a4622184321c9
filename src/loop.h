/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one event loop (DESIGN.md): epoll over timerfds for ticks and alarms,
 * a signalfd for SIGINT/SIGTERM/SIGHUP, and the fds its users add: the eBPF
 * ring buffer, the HTTP server's sockets, the daemon's inotify and PSI
 * trigger fds and hook pidfds, the terminal, a stream's output. One thread;
 * callbacks run to completion and must not block.
 */
#ifndef CGWARDEN_LOOP_H
#define CGWARDEN_LOOP_H

#include <stdint.h>

struct loop;

/* Called with the fd's ready events; return 0 to go on, or non-zero to stop
 * the loop (loop_run returns it). */
typedef int (*loop_fn)(struct loop *l, int fd, uint32_t events, void *ctx);

int loop_new(struct loop **out);
void loop_free(struct loop *l);	/* closes the fds it made (timers, alarms, signals) */

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fn fn, void *ctx);

/* Stops watching fd (added with loop_add_fd; the caller still owns it).
 * Safe from a callback: events already queued for it are dropped. Call it
 * before closing fd. 0 or -ENOENT. */
int loop_del_fd(struct loop *l, int fd);

/* A periodic timer, first firing after interval_usec. Returns its fd
 * (closed by loop_free) or -errno. fn gets the timerfd;
 * loop_timer_expirations() drains it and says how many ticks were missed. */
int loop_add_timer(struct loop *l, uint64_t interval_usec, loop_fn fn, void *ctx);
uint64_t loop_timer_expirations(int timer_fd);

/* Re-arms a timer of loop_add_timer: next firing first_usec from now, then
 * every interval_usec (0 for both disarms it). Expirations not yet read
 * are dropped. 0 or -errno. */
int loop_timer_set(int timer_fd, uint64_t first_usec, uint64_t interval_usec);

/* A one-shot timer on CLOCK_MONOTONIC, disarmed until loop_alarm_set():
 * for deadlines that move (a hook's, a verification's). Returns its fd
 * (closed by loop_free) or -errno. fn should call loop_timer_expirations. */
int loop_add_alarm(struct loop *l, loop_fn fn, void *ctx);

/* Arms the alarm for the absolute monotonic time at_usec (in the past: at
 * once); 0 disarms it. 0 or -errno. */
int loop_alarm_set(int alarm_fd, uint64_t at_usec);

/* Blocks SIGINT, SIGTERM and SIGHUP and delivers them to fn; read the
 * signal with loop_signal_read(). */
int loop_add_signals(struct loop *l, loop_fn fn, void *ctx);
int loop_signal_read(int sig_fd);	/* signal number, or -errno */

/* Runs until a callback returns non-zero; returns that value (or -errno). */
int loop_run(struct loop *l);

#endif
