/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Terminal set-up: curses mode, colours with a meaning (or monochrome
 * attributes when colour is off: --no-color, NO_COLOR, or a terminal without
 * colours), UTF-8 or ASCII drawing, mouse, and resizing.
 */
#ifndef CGWARDEN_UI_CRT_H
#define CGWARDEN_UI_CRT_H

#include <stdbool.h>
#include <stdio.h>
#include "rows.h"

enum crt_style {
	STYLE_NORMAL,
	STYLE_TITLE,		/* header labels */
	STYLE_COLHEAD,		/* the table's column header line */
	STYLE_SORTED,		/* the sorted column's title */
	STYLE_SELECTED,		/* the selected row */
	STYLE_WARN,		/* throttled, stalled: yellow */
	STYLE_CRIT,		/* at or over a limit, OOM: red */
	STYLE_OK,		/* bars below the warning level: green */
	STYLE_DIM,		/* absent, frozen, tree guides */
	STYLE_STATUS,		/* the bottom line */
	STYLE__COUNT
};

struct crt_opts {
	bool no_color;		/* monochrome */
	bool ascii;		/* no UTF-8 even if the locale has it */
	/* For the benchmark: a terminal of a fixed size on these streams
	 * (newterm); NULL: the process's terminal (initscr). */
	FILE *out, *in;
	const char *term;
	int lines, cols;
};

/* Sets the locale and enters curses mode. 0 or -errno (-ENOTTY). */
int crt_open(const struct crt_opts *o);
void crt_close(void);

bool crt_utf8(void);
int crt_attr(enum crt_style s);

/* Picks up a new terminal size (SIGWINCH) from the tty. */
void crt_resize(void);

/* Puts a sanitised string at (y, x) in at most w columns (cut with a mark). */
void ui_put(int y, int x, int attr, const char *text, int w);

/* The style for a cell level (normal, warn yellow, crit red). */
int ui_level_attr(enum cell_level l);

/* The ncurses this was compiled against ("6.4.20221231") and the one
 * loaded (as curses_version() says it, without "ncurses "): for --version
 * and cgwarden_build_info, so that curses stays inside ui/. */
const char *crt_curses_built(void);
const char *crt_curses_running(void);

#endif
