// SPDX-License-Identifier: GPL-2.0-only
/* Curses set-up (see crt.h). The only file besides the drawing ones that
 * talks to curses directly. */
#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "crt.h"
#include "format.h"

static bool utf8, color;
static SCREEN *bench_screen;
static int attrs[STYLE__COUNT];

#define CRT_STR_(x) #x
#define CRT_STR(x) CRT_STR_(x)

const char *crt_curses_built(void)
{
	return NCURSES_VERSION "." CRT_STR(NCURSES_VERSION_PATCH);
}

const char *crt_curses_running(void)
{
	const char *v = curses_version();

	return v && strncmp(v, "ncurses ", 8) == 0 ? v + 8 : v;
}

bool crt_utf8(void) { return utf8; }
int crt_attr(enum crt_style s) { return attrs[s]; }

void ui_put(int y, int x, int attr, const char *text, int w)
{
	char fit[2048];

	if (y < 0 || y >= LINES || x >= COLS || w <= 0)
		return;
	if (w > COLS - x)
		w = COLS - x;
	if (fmt_width(text) > w) {
		fmt_fit(text, w, true, crt_utf8(), fit, sizeof(fit));
		text = fit;
	}
	attrset(attr);
	mvaddstr(y, x, text);
	attrset(A_NORMAL);
}

int ui_level_attr(enum cell_level l)
{
	return l == LEVEL_CRIT ? crt_attr(STYLE_CRIT) : l == LEVEL_WARN ? crt_attr(STYLE_WARN) :
	       crt_attr(STYLE_NORMAL);
}

static void set_styles(void)
{
	if (color) {
		use_default_colors();
		init_pair(1, COLOR_RED, -1);
		init_pair(2, COLOR_YELLOW, -1);
		init_pair(3, COLOR_GREEN, -1);
		init_pair(4, COLOR_BLACK, COLOR_CYAN);
		init_pair(5, COLOR_BLACK, COLOR_GREEN);
		init_pair(6, COLOR_CYAN, -1);
		init_pair(7, COLOR_BLUE, -1);
		attrs[STYLE_NORMAL] = A_NORMAL;
		attrs[STYLE_TITLE] = COLOR_PAIR(6) | A_BOLD;
		attrs[STYLE_COLHEAD] = COLOR_PAIR(4);
		attrs[STYLE_SORTED] = COLOR_PAIR(5) | A_BOLD;
		attrs[STYLE_SELECTED] = A_REVERSE;
		attrs[STYLE_WARN] = COLOR_PAIR(2) | A_BOLD;
		attrs[STYLE_CRIT] = COLOR_PAIR(1) | A_BOLD;
		attrs[STYLE_OK] = COLOR_PAIR(3);
		attrs[STYLE_DIM] = COLOR_PAIR(7) | A_BOLD;
		attrs[STYLE_STATUS] = COLOR_PAIR(4);
		return;
	}
	/* Monochrome: what matters still stands out, by weight and line. */
	attrs[STYLE_NORMAL] = A_NORMAL;
	attrs[STYLE_TITLE] = A_BOLD;
	attrs[STYLE_COLHEAD] = A_REVERSE;
	attrs[STYLE_SORTED] = A_REVERSE | A_BOLD | A_UNDERLINE;
	attrs[STYLE_SELECTED] = A_REVERSE;
	attrs[STYLE_WARN] = A_UNDERLINE;
	attrs[STYLE_CRIT] = A_BOLD | A_UNDERLINE;
	attrs[STYLE_OK] = A_NORMAL;
	attrs[STYLE_DIM] = A_DIM;
	attrs[STYLE_STATUS] = A_REVERSE;
}

int crt_open(const struct crt_opts *o)
{
	const char *cs, *nc = getenv("NO_COLOR");

	setlocale(LC_ALL, "");
	cs = nl_langinfo(CODESET);
	utf8 = !o->ascii && cs && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
	if (o->out) {
		bench_screen = newterm(o->term ? o->term : "xterm-256color", o->out, o->in);
		if (!bench_screen)
			return -ENOTTY;
		set_term(bench_screen);
		if (o->lines > 0 && o->cols > 0)
			resize_term(o->lines, o->cols);
	} else {
		if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
			return -ENOTTY;
		/* initscr() exits on a bad TERM; newterm() lets us say why. */
		bench_screen = newterm(NULL, stdout, stdin);
		if (!bench_screen)
			return -ENOTTY;
		set_term(bench_screen);
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	/* Esc alone should act at once, not after a second. */
	set_escdelay(25);
	mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_DOUBLE_CLICKED |
		  BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
	mouseinterval(0);
	/* NO_COLOR (no-color.org): present and not empty. */
	color = !o->no_color && !(nc && nc[0]) && has_colors() && start_color() == OK;
	set_styles();
	return 0;
}

void crt_close(void)
{
	if (!bench_screen)
		return;
	endwin();
	delscreen(bench_screen);
	bench_screen = NULL;
}

void crt_resize(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
		resize_term(ws.ws_row, ws.ws_col);
	/* The terminal rewrapped what it showed: repaint all of it. */
	clearok(curscr, TRUE);
}
