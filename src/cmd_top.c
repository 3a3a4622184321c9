/* SPDX-License-Identifier: GPL-2.0-only */
/* cgwarden top: the interactive dashboard (ui/). This file owns the
 * actuator and the runner (collector, loop, interval), or with --replay the
 * recording (src/replay.h) and a loop of its own; ui/screen draws and reads
 * keys. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "actuator.h"
#include "cli.h"
#include "clock.h"
#include "commands.h"
#include "format.h"
#include "json_records.h"
#include "replay.h"
#include "runner.h"
#include "screen.h"
#include "textesc.h"

/* What --at and the 'g' prompt take (cli_parse_time). */
#define TOP_TIME_FORMS                                                        \
	"                        2026-12-04T03:00:00Z (RFC 3339), '2026-12-04\n" \
	"                        03:00[:SS]' (local), unix seconds, or -DURATION\n" \
	"                        back from the end of the recording (-20s, -2h)\n"

static const char top_help[] =
	"Usage: cgwarden top [OPTIONS]\n\n"
	"Interactive dashboard: one row per cgroup with CPU, throttling, memory,\n"
	"io, network, tasks, pressure, run-queue latency and OOM kills; a detail\n"
	"view with history graphs; limits, freeze and kill from the keyboard.\n"
	"The default command on a terminal. What the kernel does not report is\n"
	"shown as '-', never 0.\n\n"
	"The first screen lists what uses the machine: the workloads (containers,\n"
	"pods, services) and every other cgroup that holds processes itself and is\n"
	"not inside a workload, with its KIND: ctr, pod, svc, scope, slice, sess\n"
	"(a login session), cgrp (a plain cgroup), host (the root, /: its figures\n"
	"are the whole machine's). t shows the whole tree.\n\n"
	"Options:\n"
	"      --tree            start in the full tree, not the first screen above\n"
	"      --filter TEXT     show only cgroups whose name or path contains TEXT\n"
	"      --sort COLUMN     sort by a column title (cpu%, mem, thr%, name ...)\n"
	"      --reverse         the other way round\n"
	"      --no-color        monochrome (also when NO_COLOR is set)\n"
	"      --ascii           ASCII bars and graphs (also in a non-UTF-8 locale)\n"
	"      --dry-run         actions are checked and shown but write nothing\n"
	"      --audit-log FILE  append one JSON audit line per action\n"
	"      --replay DIR      the dashboard on the recording in DIR (cgwarden\n"
	"                        record) instead of now: nothing is read from\n"
	"                        cgroupfs and no limit can be changed\n"
	"      --at TIME         with --replay, start at TIME (default: the end):\n"
	TOP_TIME_FORMS
	CLI_COMMON_HELP
	"\nKeys: ? help, q quit, Enter detail, t tree, / filter, s sort menu,\n"
	"P/M/T/N sort by CPU/memory/throttling/name, r reverse, space pause,\n"
	"+/- interval, c CPU limit, m memory limit, f freeze/thaw, K kill.\n"
	"Actions go through the same checks as 'cgwarden set' and ask first.\n"
	"With --replay: , . one tick back/forward, [ ] one minute back/forward,\n"
	"p n previous/next event (OOM kill, cgroup removal, policy action),\n"
	"g go to a typed TIME, space play/pause at the recorded pace, + - play\n"
	"faster/slower (1x to 120x).\n"
	"The default interval is 2 s. See cgwarden(8), section top.\n";

enum {
	OPT_TREE = 0x300, OPT_FILTER, OPT_SORT, OPT_REVERSE, OPT_NO_COLOR, OPT_ASCII,
	OPT_DRY_RUN, OPT_AUDIT_LOG, OPT_FIXTURE_ROOT, OPT_SELF_CGROUP, OPT_REPLAY, OPT_AT,
};

struct top {
	struct runner *r;
	struct screen *scr;
	uint32_t read_files, read_bpf;	/* what the last collection read */
	uint64_t read_detail;		/* and for which cgroup everything (detail view) */

	/* --replay: the recording instead of the runner. */
	struct replay *rp;
	struct loop *loop;
	const struct cg_snapshot *cur;	/* the tick on screen (the replay's) */
	uint64_t first_usec, last_usec;	/* the recording's first and last tick */
	int play_fd;			/* the playback alarm */
	unsigned speed;			/* playing at speed times the recorded pace; 0 paused */
	bool broken;			/* the recording could not be read: end the run */
};

/* A paused dashboard keeps its frame: nothing is read meanwhile. Else
 * what the screen shows now is read; the first tick, before the screen
 * opens, reads everything. */
static int top_prepare(struct runner *r, struct metric_set *want, void *ctx)
{
	struct top *t = ctx;

	if (!t->scr)
		metric_set_all(want);
	else if (screen_paused(t->scr))
		return RUNNER_SKIP;
	else
		screen_metrics(t->scr, want);
	t->read_files = metrics_files(want);
	t->read_bpf = metrics_bpf(want);
	/* The detail view: every metric, of its cgroup only. */
	t->read_detail = t->scr ? screen_detail_id(t->scr) : 0;
	if (t->read_detail) {
		struct metric_set all;

		metric_set_all(&all);
		runner_want_cgroup(r, t->read_detail, &all);
	}
	return RUNNER_GO;
}

/* Draws; then, when what the screen shows now needs files the last
 * collection did not read (the detail view opened, a column came back with
 * a wider window, another sort key), collects at once rather than show '-'
 * until the next tick, which may be a minute away. 1: end the run. */
static int redraw(struct top *t)
{
	struct metric_set now = { 0 };

	if (t->broken)
		return 1;
	screen_draw(t->scr);
	if (t->rp)
		return 0;
	if (screen_paused(t->scr))
		return 0;
	screen_metrics(t->scr, &now);
	if (!(metrics_files(&now) & ~t->read_files) && !(metrics_bpf(&now) & ~t->read_bpf) &&
	    (!screen_detail_id(t->scr) || screen_detail_id(t->scr) == t->read_detail))
		return 0;
	return runner_tick_now(t->r) == RUNNER_STOP;
}

static int top_tick(struct runner *r, const struct cg_snapshot *snap, void *ctx)
{
	struct top *t = ctx;

	(void)r;
	/* The first tick comes before the screen opens. */
	if (t->scr) {
		screen_snapshot(t->scr, snap);
		screen_draw(t->scr);
	}
	return RUNNER_GO;
}

/* The terminal hung up. */
static int top_hangup(struct runner *r, void *ctx)
{
	(void)r;
	(void)ctx;
	return RUNNER_STOP;
}

static uint64_t top_interval(void *ctx)
{
	return runner_interval(ctx);
}

static int top_set_interval(void *ctx, uint64_t usec)
{
	return runner_set_interval(ctx, usec);
}

static int on_key(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct top *t = ctx;
	int r;

	(void)l;
	(void)fd;
	if (events & (EPOLLHUP | EPOLLERR))
		return 1;	/* the terminal went away */
	r = screen_input(t->scr);
	if (r & SCREEN_QUIT)
		return 1;
	return redraw(t);
}

static int on_winch(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct top *t = ctx;
	struct signalfd_siginfo si;

	(void)l;
	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si))
		;
	screen_resize(t->scr);
	return redraw(t);
}

/* While curses owns the terminal, a notice on stderr (libbpf, the fd
 * budget) would scribble over the screen: keep them in a memfd and print
 * them after the dashboard ends. Returns the saved stderr, or -1. */
static int stderr_hold(int *memfd)
{
	int saved;

	*memfd = memfd_create("cgwarden-top-stderr", MFD_CLOEXEC);
	if (*memfd < 0)
		return -1;
	saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (saved < 0 || dup2(*memfd, STDERR_FILENO) < 0) {
		if (saved >= 0)
			close(saved);
		close(*memfd);
		*memfd = -1;
		return -1;
	}
	return saved;
}

/* Writes what was held, line by line through the terminal escaper: a
 * notice may quote a cgroup path (any bytes), and this lands on the
 * terminal the dashboard just gave back. Only the '\n' ending each line is
 * kept as is. */
static void stderr_release(int saved, int memfd)
{
	FILE *f;
	char *line = NULL, *safe = NULL;
	size_t cap = 0, safecap = 0;
	ssize_t n;

	if (saved < 0)
		return;
	dup2(saved, STDERR_FILENO);
	close(saved);
	lseek(memfd, 0, SEEK_SET);
	f = fdopen(memfd, "r");
	if (!f) {
		close(memfd);
		return;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		bool nl = line[n - 1] == '\n';
		size_t len = (size_t)n - nl, need = 4 * len + 2;

		if (need > safecap) {
			char *p = realloc(safe, need);

			if (!p)
				break;
			safe = p;
			safecap = need;
		}
		len = text_escape_mem(line, len, false, safe, safecap);
		if (nl)
			safe[len++] = '\n';
		if (write(STDERR_FILENO, safe, len) < 0)
			break;
	}
	free(line);
	free(safe);
	fclose(f);
}

static int parse_sort(const char *arg, enum col_id *out)
{
	for (int c = 0; c < COL__COUNT; c++) {
		const char *t = col_defs[c].title;
		size_t n = strlen(arg);

		/* "cpu" for "CPU%", "io-r" for "IO-R/s". */
		if (strcasecmp(arg, t) == 0 ||
		    (strncasecmp(arg, t, n) == 0 && (t[n] == '%' || t[n] == '/'))) {
			*out = (enum col_id)c;
			return 0;
		}
	}
	return -EINVAL;
}

static void audit_to_file(void *ctx, const struct act_audit *rec)
{
	json_write_audit(ctx, rec);
}

/* ---- actions the dashboard asks for: through the actuator, as `set` ------ */

static struct act_change act_change_of(const struct ui_change *c)
{
	static const enum act_kind kinds[] = {
		[UI_CHANGE_CPU_MAX] = ACT_CPU_MAX,
		[UI_CHANGE_MEMORY_MAX] = ACT_MEMORY_MAX,
		[UI_CHANGE_FREEZE] = ACT_FREEZE,
		[UI_CHANGE_THAW] = ACT_THAW,
		[UI_CHANGE_KILL] = ACT_KILL,
	};

	return (struct act_change){ .kind = kinds[c->kind], .value = c->value,
				    .period = c->period };
}

static int top_check(void *ctx, const char *path, const struct ui_change *c, char *text,
		     size_t len)
{
	struct act_change ch = act_change_of(c);
	struct act_outcome o;

	if (actuator_validate(ctx, path, &ch, &o)) {
		snprintf(text, len, "%s", o.why);
		return o.err ? o.err : -EPERM;
	}
	snprintf(text, len, "%s: %s -> %s", o.file, o.old, o.wrote);
	return 0;
}

static int top_apply(void *ctx, const char *path, const struct ui_change *c, char *text,
		     size_t len)
{
	struct act_change ch = act_change_of(c);
	struct act_outcome o;

	actuator_apply(ctx, path, &ch, &o);
	actuator_describe(&o, text, len);
	return o.err;
}

/* ---- --replay: recorded time instead of a collector -------------------- */

#define TOP_EVENTS (REC_EV_OOM | REC_EV_REMOVED | REC_EV_ACTION)
/* The graphs a jump prefills: two minutes before it, at most 256 ticks
 * (decoding them is what a jump costs). */
#define TOP_PREFILL_USEC (120 * 1000000ull)
#define TOP_PREFILL_TICKS 256
/* Playback: never more than 50 frames a second, whatever the speed. */
#define TOP_PLAY_MIN_USEC 20000

/* The recording could not be read and the tick on screen cannot be had
 * again: an empty frame until the loop ends (the reason is on the held
 * stderr). */
static void replay_broken(struct top *t)
{
	static const struct cg_snapshot none;

	t->broken = true;
	t->cur = &none;
	screen_snapshot(t->scr, &none);
}

/*
 * Shows the last tick at or before at, as if the dashboard had run up to
 * it: the graphs and the event log are rebuilt from the ticks of the
 * prefill window before it, so they never join two moments that are not
 * neighbours.
 */
static int replay_jump(struct top *t, uint64_t at)
{
	const struct cg_snapshot *snap;
	uint64_t dest, window;
	int err = replay_at(t->rp, at, &snap);

	if (err)
		return err;
	dest = snap->wall_usec;
	/* No interval: the first tick of a recording session, which has
	 * nothing before it to join. */
	window = snap->interval_usec * TOP_PREFILL_TICKS;
	if (window > TOP_PREFILL_USEC)
		window = TOP_PREFILL_USEC;
	screen_rewind(t->scr);
	if (window && dest > window) {
		err = replay_at(t->rp, dest - window, &snap);
		while (!err && snap->wall_usec < dest) {
			/* A recorder that restarted in the window: its new
			 * session's ticks only. */
			if (!snap->interval_usec)
				screen_rewind(t->scr);
			screen_feed(t->scr, snap);
			err = replay_next(t->rp, &snap);
		}
		if (err)
			return err;
	}
	t->cur = snap;
	screen_snapshot(t->scr, snap);
	return 0;
}

/*
 * Nothing there (-ENOENT): the replay is back at the tick on screen, but
 * it may have decoded others to find that out (an event search does; a
 * tick that would not decode does), and the screen's snapshot may have
 * gone with them: have it again, with its graphs.
 */
static void replay_stay(struct top *t, uint64_t wall)
{
	if (replay_jump(t, wall))
		replay_broken(t);
}

/* A seek failed past "nothing there": the replay's tick (the one the
 * screen holds) may be gone; have it again, or give up. */
static void replay_recover(struct top *t, uint64_t wall, int err, char *text, size_t len)
{
	snprintf(text, len, "cannot read the recording there: %s (details when top ends)",
		 strerror(-err));
	replay_stay(t, wall);
}

static int top_seek(void *ctx, enum ui_move how, int dir, const char *time, char *text,
		    size_t len)
{
	struct top *t = ctx;
	const struct cg_snapshot *to;
	uint64_t now = t->cur->wall_usec, at;
	int err;

	if (t->broken)
		return -EIO;
	switch (how) {
	case UI_MOVE_TICK:
		err = dir > 0 ? replay_next(t->rp, &to) : replay_prev(t->rp, &to);
		if (err == -ENOENT) {
			snprintf(text, len, "%s of the recording", dir > 0 ? "the end" : "the start");
			replay_stay(t, now);
			return err;
		}
		if (!err && dir > 0) {
			/* The next tick joins the graphs as a live one does. */
			t->cur = to;
			screen_snapshot(t->scr, to);
		} else if (!err) {
			err = replay_jump(t, to->wall_usec);
		}
		break;
	case UI_MOVE_MINUTE:
		if (dir > 0 ? now >= t->last_usec : now <= t->first_usec) {
			snprintf(text, len, "%s of the recording", dir > 0 ? "the end" : "the start");
			return -ENOENT;
		}
		at = dir > 0 ? now + 60000000 : now > 60000000 ? now - 60000000 : 0;
		err = replay_jump(t, at);
		break;
	case UI_MOVE_EVENT:
		err = replay_find_event(t->rp, dir, TOP_EVENTS, &to);
		if (err == -ENOENT) {
			snprintf(text, len, "no %s OOM kill, cgroup removal or policy action",
				 dir > 0 ? "later" : "earlier");
			replay_stay(t, now);
			return err;
		}
		if (!err)
			err = replay_jump(t, to->wall_usec);
		if (!err) {
			const struct rec_action *acts;
			size_t nr = 0;

			acts = replay_actions(t->rp, &nr);
			fmt_rec_events(t->cur, replay_events(t->rp), acts, nr, TOP_EVENTS, text, len);
		}
		break;
	case UI_MOVE_TIME:
		if (cli_parse_time(time, t->last_usec, &at)) {
			snprintf(text, len, "'%s' is not a time: 2026-12-04T03:00:00Z, "
				 "2026-12-04 03:00[:SS], unix seconds or -5m from the end", time);
			return -EINVAL;
		}
		err = replay_jump(t, at);
		if (!err && at < t->first_usec)
			snprintf(text, len, "before the recording: its first tick");
		else if (!err && at > t->last_usec)
			snprintf(text, len, "after the recording: its last tick");
		break;
	default:
		return -EINVAL;
	}
	if (err)
		replay_recover(t, now, err, text, len);
	return err;
}

static void play_arm(struct top *t)
{
	uint64_t d = t->cur->interval_usec ? t->cur->interval_usec : 1000000;

	d /= t->speed;
	loop_alarm_set(t->play_fd, mono_usec() + (d < TOP_PLAY_MIN_USEC ? TOP_PLAY_MIN_USEC : d));
}

/* Playback: the next tick after the current one's recorded interval (over
 * the speed), i.e. at the pace it was recorded. */
static void top_play(void *ctx, unsigned speed)
{
	struct top *t = ctx;

	t->speed = speed;
	if (speed)
		play_arm(t);
	else
		loop_alarm_set(t->play_fd, 0);
}

static int on_play(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct top *t = ctx;
	const struct cg_snapshot *to;
	char text[256];
	uint64_t now;
	int err;

	(void)l;
	(void)events;
	loop_timer_expirations(fd);
	if (!t->speed || t->broken)
		return 0;
	now = t->cur->wall_usec;
	err = replay_next(t->rp, &to);
	if (!err) {
		t->cur = to;
		screen_snapshot(t->scr, to);
		play_arm(t);
	} else {
		t->speed = 0;
		if (err == -ENOENT) {
			snprintf(text, sizeof(text), "the end of the recording: paused");
			replay_stay(t, now);
		} else {
			replay_recover(t, now, err, text, sizeof(text));
		}
		screen_play_stop(t->scr, text);
	}
	return redraw(t);
}

static int on_replay_signal(struct loop *l, int fd, uint32_t events, void *ctx)
{
	(void)l;
	(void)events;
	(void)ctx;
	loop_signal_read(fd);
	return 1;
}

/* Opens the recording and finds --at in it, before the screen opens (a
 * reason lands on the terminal). 0 or the exit code. */
static int replay_open_at(struct top *t, const char *dir, const char *at_arg, bool quiet,
			  uint64_t *at)
{
	const struct cg_snapshot *snap;
	int err = replay_open(dir, "cgwarden top", quiet, &t->rp);

	if (err)
		return err == -ENOENT || err == -EPROTO ? EXIT_USAGE : EXIT_RUNTIME;
	replay_range(t->rp, &t->first_usec, &t->last_usec);
	*at = t->last_usec;
	if (at_arg && cli_parse_time(at_arg, t->last_usec, at)) {
		fprintf(stderr, "cgwarden top: --at %s: before the recording's clock began\n",
			at_arg);
		return EXIT_USAGE;
	}
	err = replay_at(t->rp, *at, &snap);
	if (err == -ENOENT)
		fprintf(stderr, "cgwarden top: %s: nothing recorded yet\n", dir);
	else if (err && err != -EBADMSG)	/* -EBADMSG: said by replay_at */
		fprintf(stderr, "cgwarden top: %s: %s\n", dir, strerror(-err));
	if (err)
		return EXIT_RUNTIME;
	return 0;
}

/*
 * The terminal's part, live or replayed: a resize and the keys wake the
 * loop, stderr is held while curses owns the screen, then the loop runs
 * (the runner's, or the replay's own) until q, a signal or a failure.
 * Returns the exit status.
 */
static int top_screen(struct top *t, struct loop *l, const struct screen_opts *so,
		      uint64_t replay_at_usec)
{
	sigset_t winch;
	int err, winch_fd, saved_stderr, held_stderr = -1;

	/* SIGWINCH through a signalfd: the loop wakes on a resize even while no
	 * key arrives (curses only learns of it on the next getch). */
	sigemptyset(&winch);
	sigaddset(&winch, SIGWINCH);
	sigprocmask(SIG_BLOCK, &winch, NULL);
	winch_fd = signalfd(-1, &winch, SFD_NONBLOCK | SFD_CLOEXEC);
	err = winch_fd < 0 ? -errno : 0;
	if (!err)
		err = loop_add_fd(l, winch_fd, EPOLLIN, on_winch, t);
	if (!err)
		err = loop_add_fd(l, STDIN_FILENO, EPOLLIN, on_key, t);
	if (err) {
		fprintf(stderr, "cgwarden top: cannot set up the event loop: %s\n", strerror(-err));
		err = EXIT_RUNTIME;
		goto out;
	}
	saved_stderr = stderr_hold(&held_stderr);
	err = screen_open(so, &t->scr);
	if (err) {
		stderr_release(saved_stderr, held_stderr);
		fprintf(stderr, "cgwarden top: cannot start the terminal (TERM=%s): %s\n",
			getenv("TERM") ? getenv("TERM") : "", strerror(-err));
		err = EXIT_USAGE;
		goto out;
	}
	if (!t->rp) {
		screen_snapshot(t->scr, runner_snapshot(t->r));
		screen_draw(t->scr);
		err = runner_run(t->r);
	} else {
		if (replay_jump(t, replay_at_usec))
			replay_broken(t);
		err = redraw(t) ? 0 : loop_run(l);
		err = err < 0 || t->broken ? EXIT_RUNTIME : 0;
	}
	screen_close(t->scr);
	/* What went wrong meanwhile (said by the runner, or the replay) comes
	 * out here. */
	stderr_release(saved_stderr, held_stderr);
	if (t->broken)
		fprintf(stderr, "cgwarden top: stopped: the recording cannot be read there\n");
out:
	loop_del_fd(l, STDIN_FILENO);
	if (winch_fd >= 0) {
		loop_del_fd(l, winch_fd);
		close(winch_fd);
	}
	return err;
}

/* top --replay: the recording's ticks handed to the screen as live ones,
 * no collector, no actuator, a loop of its own. */
static int top_replay(struct top *t, const char *dir, const char *at_arg, bool quiet,
		      struct screen_opts *so)
{
	struct ui_replay rv = { .ctx = t, .seek = top_seek, .play = top_play };
	uint64_t at;
	int err;

	err = replay_open_at(t, dir, at_arg, quiet, &at);
	if (err)
		goto out;
	err = loop_new(&t->loop);
	if (!err)
		err = loop_add_signals(t->loop, on_replay_signal, t);
	if (err >= 0) {
		t->play_fd = loop_add_alarm(t->loop, on_play, t);
		err = t->play_fd < 0 ? t->play_fd : 0;
	}
	if (err) {
		fprintf(stderr, "cgwarden top: cannot set up the event loop: %s\n", strerror(-err));
		err = EXIT_RUNTIME;
		goto out;
	}
	rv.end_usec = t->last_usec;
	so->replay = &rv;
	err = top_screen(t, t->loop, so, at);
out:
	if (t->loop)
		loop_free(t->loop);
	if (t->rp)
		replay_close(t->rp);
	return err;
}

int cmd_top(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "tree", no_argument, NULL, OPT_TREE },
		{ "filter", required_argument, NULL, OPT_FILTER },
		{ "sort", required_argument, NULL, OPT_SORT },
		{ "reverse", no_argument, NULL, OPT_REVERSE },
		{ "no-color", no_argument, NULL, OPT_NO_COLOR },
		{ "ascii", no_argument, NULL, OPT_ASCII },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "audit-log", required_argument, NULL, OPT_AUDIT_LOG },
		{ "fixture-root", no_argument, NULL, OPT_FIXTURE_ROOT },
		{ "self-cgroup", required_argument, NULL, OPT_SELF_CGROUP },
		{ "replay", required_argument, NULL, OPT_REPLAY },
		{ "at", required_argument, NULL, OPT_AT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common cc = { .interval_usec = 2000000 };
	struct screen_opts so = { .view = VIEW_WORKLOADS, .sort = COL_CPU };
	struct actuator_opts ao = { 0 };
	struct runner_opts ro = { .who = "cgwarden top" };
	struct runner_part part = { .prepare = top_prepare, .tick = top_tick,
				    .hangup = top_hangup };
	struct top t = { .play_fd = -1 };
	struct actuator *act = NULL;
	struct ui_actions actions = { .check = top_check, .apply = top_apply };
	struct ui_interval iv = { .get = top_interval, .set = top_set_interval };
	const char *audit_path = NULL, *replay_dir = NULL, *at_arg = NULL;
	FILE *audit = NULL;
	char why[ACT_WHY_MAX] = "", who[128];
	uint64_t at;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(top_help, stdout);
			return 0;
		case OPT_TREE: so.view = VIEW_TREE; break;
		case OPT_FILTER: so.filter = optarg; break;
		case OPT_REVERSE: so.reverse = true; break;
		case OPT_NO_COLOR: so.no_color = true; break;
		case OPT_ASCII: so.ascii = true; break;
		case OPT_DRY_RUN: ao.dry_run = so.dry_run = true; break;
		case OPT_AUDIT_LOG: audit_path = optarg; break;
		case OPT_FIXTURE_ROOT: ao.fixture_root = true; break;
		case OPT_SELF_CGROUP: ao.self_cgroup = optarg; break;
		case OPT_REPLAY: replay_dir = optarg; break;
		case OPT_AT: at_arg = optarg; break;
		case OPT_SORT:
			if (parse_sort(optarg, &so.sort)) {
				fprintf(stderr, "cgwarden top: --sort: '%s' is not a column (see "
					"cgwarden top --help)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		default:
			if (cli_other_opt(&cc, opt, optarg, top_help))
				return EXIT_USAGE;
		}
	}
	if (cli_no_operands("top", argc, argv))
		return EXIT_USAGE;
	if (at_arg && !replay_dir) {
		fprintf(stderr, "cgwarden top: --at needs --replay DIR (live, it is always now)\n");
		return EXIT_USAGE;
	}
	/* The form now; whether a -DURATION reaches back past the clock's
	 * start once the recording's end is known. */
	if (at_arg && cli_parse_time(at_arg, UINT64_MAX, &at)) {
		fprintf(stderr, "cgwarden top: --at: '%s' is not a time: use 2026-12-04T03:00:00Z "
			"(RFC 3339), '2026-12-04 03:00[:SS]' (local time), unix seconds, or "
			"-DURATION back from the end of the recording (-20s, -2h)\n", at_arg);
		return EXIT_USAGE;
	}
	if (replay_dir && (so.dry_run || audit_path)) {
		fprintf(stderr, "cgwarden top: --%s: a replay changes no limit\n",
			so.dry_run ? "dry-run" : "audit-log");
		return EXIT_USAGE;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "cgwarden top: needs a terminal (for a stream of the same data: "
			"cgwarden stream%s)\n", replay_dir ? " --replay" : "");
		return EXIT_USAGE;
	}
	if (replay_dir)
		return top_replay(&t, replay_dir, at_arg, cc.copts.quiet, &so);
	if (audit_path) {
		audit = fopen(audit_path, "ae");
		if (!audit) {
			fprintf(stderr, "cgwarden top: --audit-log %s: %s\n", audit_path,
				strerror(errno));
			return EXIT_USAGE;
		}
	}
	/* Rates need two ticks: the second comes soon, then every interval. */
	ro.interval_usec = cc.interval_usec;
	ro.first_usec = cc.interval_usec < 500000 ? cc.interval_usec : 500000;
	if (runner_new(&ro, &t.r)) {
		err = EXIT_RUNTIME;
		goto out_audit;
	}
	part.ctx = &t;
	err = runner_add(t.r, &part);
	if (err) {
		fprintf(stderr, "cgwarden top: %s\n", strerror(-err));
		err = EXIT_RUNTIME;
		goto out;
	}
	/* Notices (eBPF off and why) go to stderr before curses takes the screen. */
	err = runner_open_collector(t.r, &cc);
	if (err)
		goto out;
	if (runner_tick_now(t.r)) {
		err = EXIT_RUNTIME;
		goto out;
	}
	snprintf(who, sizeof(who), "cgwarden top (uid %u, pid %d)", (unsigned)getuid(),
		 (int)getpid());
	ao.root = collector_root(runner_collector(t.r));
	ao.mountinfo = cc.copts.mountinfo;
	ao.who = who;
	ao.audit = audit ? audit_to_file : NULL;
	ao.audit_ctx = audit;
	if (actuator_open(&ao, &act, why, sizeof(why)))
		act = NULL;
	actions.ctx = act;
	so.actions = act ? &actions : NULL;
	so.act_why = why;
	iv.ctx = t.r;
	so.interval = &iv;
	err = top_screen(&t, runner_loop(t.r), &so, 0);
out:
	runner_free(t.r);
	actuator_close(act);
out_audit:
	if (audit)
		fclose(audit);
	return err;
}
