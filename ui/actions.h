/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The changes the dashboard asks of its command (struct ui_actions; see
 * screen.h). Apart from screen.h because the dashboard's state (ui.h)
 * holds a pending change: were it to include screen.h, ui.h and screen.c
 * would include each other (tests/unit/include_cycles.py).
 */
#ifndef CGWARDEN_UI_ACTIONS_H
#define CGWARDEN_UI_ACTIONS_H

#include <stddef.h>
#include <stdint.h>

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

/*
 * top --replay: recorded time instead of a collector. The command owns the
 * recording; the dashboard asks it to seek, and it hands the new tick over
 * with screen_snapshot() (after screen_rewind() and the ticks before it,
 * on a jump) before seek() returns.
 */
enum ui_move {
	UI_MOVE_TICK,		/* dir ticks (+1 / -1) */
	UI_MOVE_MINUTE,		/* dir minutes of recorded time */
	UI_MOVE_EVENT,		/* the next (dir > 0) or previous OOM kill, removal or
				 * policy action */
	UI_MOVE_TIME,		/* to the moment typed in time (any --at form) */
};

struct ui_replay {
	void *ctx;
	uint64_t end_usec;	/* wall time of the recording's last tick */
	/* 0 and what to say (text may stay empty), or -errno and why. */
	int (*seek)(void *ctx, enum ui_move how, int dir, const char *time, char *text,
		    size_t len);
	/* Plays forward at speed times the recorded pace; 0 pauses. */
	void (*play)(void *ctx, unsigned speed);
};

#endif
