/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The dashboard (`cgwarden top`): state, keys and frames. The command front
 * end (src/cmd_top.c) owns the collector, the loop and the interval (its
 * runner); it hands each snapshot here, asks for a frame, and passes keys
 * on; a new interval is asked of it through struct ui_interval. Actions are asked
 * of the command through struct ui_actions: it owns the actuator (the only
 * writer of cgroupfs), and ui/ never writes there itself. With --replay the
 * command owns a recording instead: the screen asks it for other moments
 * through struct ui_replay, and gets the recorded snapshots as live ones.
 */
#ifndef CGWARDEN_UI_SCREEN_H
#define CGWARDEN_UI_SCREEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "actions.h"
#include "rows.h"
#include "snapshot.h"

struct screen_opts {
	bool no_color, ascii;
	enum view view;
	const char *filter;
	enum col_id sort;
	bool reverse;
	const struct ui_interval *interval;	/* must outlive the screen */
	/* top --replay (must outlive the screen): no clock, no actions. */
	const struct ui_replay *replay;
	const struct ui_actions *actions;	/* NULL: actions say why not */
	const char *act_why;
	bool dry_run;			/* say so in the header and confirmations */
	/* Benchmark only: draw on these streams at a fixed size. */
	FILE *out, *in;
	int lines, cols;
};

/* What screen_input() asks of its caller (bits). */
enum {
	SCREEN_QUIT = 1,
	SCREEN_PAUSE = 4,	/* screen_paused() changed */
};

struct screen;

/* Enters curses mode. 0 or -errno (-ENOTTY: not a terminal). */
int screen_open(const struct screen_opts *o, struct screen **out);
void screen_close(struct screen *s);

/* A new snapshot (valid until the next one): history, events, rows. */
void screen_snapshot(struct screen *s, const struct cg_snapshot *snap);
/* top --replay. A jump in recorded time: forget the graphs and the event
 * log, which must not join two moments that are not neighbours. */
void screen_rewind(struct screen *s);
/* A tick before the one to show (after screen_rewind): into the graphs and
 * the event log only; screen_snapshot() then gives the one to show. snap
 * need not outlive the call. */
void screen_feed(struct screen *s, const struct cg_snapshot *snap);
/* Playback stopped (the end of the recording): why, on the bottom line. */
void screen_play_stop(struct screen *s, const char *why);
/* Draws one frame: only the rows on screen are formatted. */
void screen_draw(struct screen *s);
/* Reads every pending key and mouse event; returns SCREEN_* bits. */
int screen_input(struct screen *s);
/* The terminal changed size. */
void screen_resize(struct screen *s);

bool screen_paused(const struct screen *s);
struct metric_set;
/* Adds what the dashboard shows now for every cgroup to set (the runner
 * collects only that): its visible columns and sort key, the graphs'
 * series, what the header and the event log read. */
void screen_metrics(const struct screen *s, struct metric_set *set);
/* The cgroup the detail view is open on, which needs every metric (of
 * itself alone), or 0. */
uint64_t screen_detail_id(const struct screen *s);

#endif
