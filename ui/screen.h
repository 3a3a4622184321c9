/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The dashboard (`cgwarden top`): state, keys and frames. The command front
 * end (src/cmd_top.c) owns the collector, the loop and the interval (its
 * runner); it hands each snapshot here, asks for a frame, and passes keys
 * on; a new interval is asked of it through struct ui_interval. Actions are asked
 * of the command through struct ui_actions: it owns the actuator (the only
 * writer of cgroupfs), and ui/ never writes there itself.
 */
#ifndef CGWARDEN_UI_SCREEN_H
#define CGWARDEN_UI_SCREEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "rows.h"
#include "snapshot.h"

/* A change the dashboard asks its command to make. */
enum ui_change_kind {
	UI_CHANGE_CPU_MAX,
	UI_CHANGE_MEMORY_MAX,
	UI_CHANGE_FREEZE,
	UI_CHANGE_THAW,
	UI_CHANGE_KILL,
};

struct ui_change {
	enum ui_change_kind kind;
	uint64_t value;		/* the limit, CG_UNLIMITED for "max" */
	uint64_t period;	/* cpu.max period (usec) */
};

/* What the command does for the dashboard; text gets one line for people. */
struct ui_actions {
	void *ctx;
	/* 0 and "FILE: OLD -> NEW" (what would be written), or -errno and why. */
	int (*check)(void *ctx, const char *path, const struct ui_change *c, char *text,
		     size_t len);
	/* Carries it out: 0 or -errno, and what it did in one sentence. */
	int (*apply)(void *ctx, const char *path, const struct ui_change *c, char *text,
		     size_t len);
};

/* The tick interval is the command's (its runner's): the dashboard shows
 * it and asks for another. */
struct ui_interval {
	void *ctx;
	uint64_t (*get)(void *ctx);
	/* In force at once: 0, or -errno and the old one stays. */
	int (*set)(void *ctx, uint64_t usec);
};

struct screen_opts {
	bool no_color, ascii;
	enum view view;
	const char *filter;
	enum col_id sort;
	bool reverse;
	const struct ui_interval *interval;	/* must outlive the screen */
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
/* Draws one frame: only the rows on screen are formatted. */
void screen_draw(struct screen *s);
/* Reads every pending key and mouse event; returns SCREEN_* bits. */
int screen_input(struct screen *s);
/* The terminal changed size. */
void screen_resize(struct screen *s);

bool screen_paused(const struct screen *s);

#endif
