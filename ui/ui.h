/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The dashboard's state, shared by the files that draw it (header, table,
 * detail) and the one that changes it (screen). Internal to ui/.
 */
#ifndef CGWARDEN_UI_UI_H
#define CGWARDEN_UI_UI_H

#include <stdbool.h>
#include <stdint.h>
#include "actions.h"
#include "history.h"
#include "rows.h"
#include "snapshot.h"

enum ui_mode {
	MODE_TABLE, MODE_DETAIL, MODE_HELP, MODE_SORT,
	MODE_FILTER,		/* editing the filter on the bottom line */
	MODE_INPUT,		/* typing a limit for an action */
	MODE_CONFIRM,		/* y/N for an action */
	MODE_TIME,		/* typing a moment to go to (top --replay) */
};

/* Something that happened to a cgroup, for the detail view. */
struct ui_event {
	uint64_t wall_usec;
	uint64_t id;
	char text[240];
};
#define UI_EVENTS 256

#define UI_HEADER_LINES 4

struct screen {
	const struct cg_snapshot *snap;
	struct rows rows;
	struct rows_opts ro;
	struct idset collapsed;
	struct history *hist;
	char filter[128];
	char edit[128];
	size_t edit_len;
	enum ui_mode mode, prev_mode;
	size_t sel, top;		/* selected row, first row shown */
	uint64_t sel_id;		/* the selection follows the cgroup ... */
	bool sel_moved;			/* ... once the user has picked one */
	bool paused, utf8, dry_run;
	const struct ui_interval *interval;
	/* top --replay: recorded time; NULL live. The interval keys set the
	 * playback speed instead. */
	const struct ui_replay *replay;
	bool playing;
	unsigned speed;			/* times the recorded pace */
	int sort_sel;			/* sort menu cursor */
	int help_top;			/* first help line shown (it scrolls) */
	int detail_scroll;

	/* Table layout of the last frame, for mouse clicks. */
	int table_y, table_h;
	int col_x[COL__COUNT], col_w[COL__COUNT];
	bool col_shown[COL__COUNT];

	/* Actions. */
	const struct ui_actions *actions;
	char act_why[256];
	struct ui_change pending;
	char pending_path[4096];
	uint64_t pending_id;
	char prompt[1024];

	char status[512];		/* bottom line message until the next key */

	struct ui_event ev[UI_EVENTS];
	size_t nr_ev;			/* total ever; ring index nr_ev % UI_EVENTS */

	uint64_t prev_self_cpu_usec, prev_mono_usec;
	double self_cpu_pct;		/* NAN until two snapshots */
};

/* Drawing; each clips to the screen. */
void header_draw(struct screen *s);
/* top --replay: the header's first line (the recorded time), w columns. */
void header_replay_draw(struct screen *s, int w);
void table_draw(struct screen *s);
void detail_draw(struct screen *s);

#endif
