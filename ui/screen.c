// SPDX-License-Identifier: GPL-2.0-only
/* The dashboard's state and keys (see screen.h): views, sort, filter, help,
 * pause, interval, detail, actions asked of the command (ui_actions), and
 * moves in recorded time asked of it (ui_replay). */
#include <curses.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "clock.h"
#include "crt.h"
#include "format.h"
#include "limitval.h"
#include "metrics.h"
#include "screen.h"
#include "ui.h"

#define HISTORY_MAX_CGROUPS 16384
#define KEY_ESC 27
#define KEY_CTRL(c) ((c) & 0x1f)

static const uint64_t intervals[] = {
	250000, 500000, 1000000, 2000000, 3000000, 5000000, 10000000, 30000000, 60000000,
};

/* The sample the selected row refers to in the current snapshot, or NULL. */
static const struct cg_sample *ui_selected(const struct screen *s)
{
	if (!s->snap || s->sel >= s->rows.n)
		return NULL;
	return &s->snap->samples[s->rows.v[s->sel].idx];
}

static void status(struct screen *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The bottom line, the prompts and the events list are sinks for text from
 * elsewhere: the actuator's why (which quotes the target path and the
 * --root as given), file contents, names. Each is formatted in full and
 * then escaped as a whole, so nothing reaches the terminal raw whatever a
 * caller forgot; escaping escaped text changes nothing. */
static void vsafe(const struct screen *s, char *out, size_t outlen, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static void vsafe(const struct screen *s, char *out, size_t outlen, const char *fmt, va_list ap)
{
	char raw[2048];

	vsnprintf(raw, sizeof(raw), fmt, ap);
	fmt_sanitize(raw, !s->utf8, out, outlen);
}

static void status(struct screen *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsafe(s, s->status, sizeof(s->status), fmt, ap);
	va_end(ap);
}

static void prompt(struct screen *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void prompt(struct screen *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsafe(s, s->prompt, sizeof(s->prompt), fmt, ap);
	va_end(ap);
}

static void add_event(struct screen *s, uint64_t wall_usec, uint64_t id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add_event(struct screen *s, uint64_t wall_usec, uint64_t id, const char *fmt, ...)
{
	struct ui_event *e = &s->ev[s->nr_ev % UI_EVENTS];
	va_list ap;

	e->wall_usec = wall_usec;
	e->id = id;
	va_start(ap, fmt);
	vsafe(s, e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	s->nr_ev++;
}

/* ---- rows ----------------------------------------------------------------- */

static void rebuild(struct screen *s)
{
	if (!s->snap)
		return;
	s->ro.filter = s->filter;
	s->ro.collapsed = &s->collapsed;
	if (rows_build(&s->rows, s->snap, &s->ro)) {
		/* The old rows index the previous snapshot, which s->snap no
		 * longer is: show none rather than read past the new one. */
		s->rows.n = 0;
		s->sel = s->top = 0;
		status(s, "out of memory: the table is empty until the next update");
		return;
	}
	/* The selection follows its cgroup once picked (until then it stays on
	 * the top row, which is what the sort put first); if it went, the row
	 * stays put. */
	for (size_t k = 0; (s->sel_moved || s->mode == MODE_DETAIL) && k < s->rows.n; k++)
		if (s->snap->samples[s->rows.v[k].idx].id == s->sel_id) {
			s->sel = k;
			return;
		}
	if (s->sel >= s->rows.n)
		s->sel = s->rows.n ? s->rows.n - 1 : 0;
	if (s->rows.n && s->mode != MODE_DETAIL)
		s->sel_id = s->snap->samples[s->rows.v[s->sel].idx].id;
}

static void select_row(struct screen *s, long k)
{
	if (!s->rows.n)
		return;
	if (k < 0)
		k = 0;
	if ((size_t)k >= s->rows.n)
		k = (long)s->rows.n - 1;
	s->sel = (size_t)k;
	s->sel_id = s->snap->samples[s->rows.v[k].idx].id;
	s->sel_moved = true;
}

/* ---- open / close ------------------------------------------------------- */

int screen_open(const struct screen_opts *o, struct screen **out)
{
	struct crt_opts co = {
		.no_color = o->no_color, .ascii = o->ascii,
		.out = o->out, .in = o->in, .lines = o->lines, .cols = o->cols,
	};
	struct screen *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	err = history_new(HISTORY_MAX_CGROUPS, &s->hist);
	if (err) {
		free(s);
		return err;
	}
	s->ro.view = o->view;
	s->ro.sort = o->sort;
	s->ro.reverse = o->reverse;
	if (o->filter)
		snprintf(s->filter, sizeof(s->filter), "%s", o->filter);
	s->interval = o->interval;
	s->replay = o->replay;
	s->speed = 1;
	s->actions = o->actions;
	snprintf(s->act_why, sizeof(s->act_why), "%s", o->act_why ? o->act_why : "");
	s->dry_run = o->dry_run;
	s->self_cpu_pct = NAN;
	err = crt_open(&co);
	if (err) {
		history_free(s->hist);
		free(s);
		return err;
	}
	s->utf8 = crt_utf8();
	*out = s;
	return 0;
}

void screen_close(struct screen *s)
{
	if (!s)
		return;
	crt_close();
	rows_free(&s->rows);
	idset_free(&s->collapsed);
	history_free(s->hist);
	free(s);
}

bool screen_paused(const struct screen *s) { return s->paused; }

uint64_t screen_detail_id(const struct screen *s)
{
	return s->mode == MODE_DETAIL || s->prev_mode == MODE_DETAIL ? s->sel_id : 0;
}

void screen_metrics(const struct screen *s, struct metric_set *set)
{
	for (int c = 0; c < COL__COUNT; c++)
		if (s->col_shown[c])
			col_metrics((enum col_id)c, set);
	/* The sort key may be a column the width left out. */
	col_metrics(s->ro.sort, set);
	/* Graphs keep their series for every cgroup, so that the detail
	 * view opens on its history. */
	history_metrics(set);
	/* The header's host CPU (the root's usage), "(frozen)" after a
	 * name and the freeze/thaw key, OOM kills in the event log when
	 * eBPF is off (memory.events). */
	metric_set_add(set, M_CPU_USAGE_RATIO);
	metric_set_add(set, M_FROZEN);
	metric_set_add(set, M_MEM_OOM_KILL_RATE);
	/* Which cgroups hold processes themselves (rows_is_workload), every
	 * tick, so one that starts to is listed at the next: by cgroup.threads,
	 * which the PIDS column reads anyway. cgroup.procs would say the same
	 * for one more file per cgroup per tick: 6 to 14% more of the tick's
	 * CPU on 1,000 cgroups without controllers (1.0 to 2.3 ms a tick). */
	if (s->ro.view == VIEW_WORKLOADS)
		metric_set_add(set, M_THREADS);
}

/* ---- snapshots ------------------------------------------------------------ */

void screen_rewind(struct screen *s)
{
	history_clear(s->hist);
	s->nr_ev = 0;
	s->prev_mono_usec = 0;
	s->self_cpu_pct = NAN;
}

void screen_play_stop(struct screen *s, const char *why)
{
	s->playing = false;
	status(s, "%s", why);
}

void screen_feed(struct screen *s, const struct cg_snapshot *snap)
{
	const struct cg_self *self = &snap->self;

	if (s->prev_mono_usec && snap->mono_usec > s->prev_mono_usec &&
	    self->cpu_usec >= s->prev_self_cpu_usec)
		s->self_cpu_pct = 100.0 * (double)(self->cpu_usec - s->prev_self_cpu_usec) /
				  (double)(snap->mono_usec - s->prev_mono_usec);
	s->prev_mono_usec = snap->mono_usec;
	s->prev_self_cpu_usec = self->cpu_usec;
	history_update(s->hist, snap);

	for (size_t i = 0; i < snap->nr_removed; i++) {
		const struct cg_sample *x = &snap->removed[i];
		char p[512];

		fmt_sanitize(x->path, !s->utf8, p, sizeof(p));
		add_event(s, snap->wall_usec, x->id, "cgroup removed: %s", p);
		idset_del(&s->collapsed, x->id);
	}
	for (size_t i = 0; i < snap->nr_oom; i++) {
		const struct cg_oom_event *e = &snap->oom[i];
		char comm[64];

		fmt_sanitize(e->comm, true, comm, sizeof(comm));
		add_event(s, e->time_usec, e->cgroup_id, "OOM kill: pid %u (%s)", e->pid, comm);
	}
	/* Without eBPF, memory.events says that OOM kills happened. */
	if (!self->bpf)
		for (size_t i = 0; i < snap->nr_samples; i++) {
			const struct cg_sample *x = &snap->samples[i];
			double n = fmt_memevents_ooms(snap, x);

			if (n >= 0.5)
				add_event(s, snap->wall_usec, x->id,
					  "OOM kill%s: %.0f (memory.events oom_kill)",
					  n >= 1.5 ? "s" : "", n);
		}
}

void screen_snapshot(struct screen *s, const struct cg_snapshot *snap)
{
	screen_feed(s, snap);
	s->snap = snap;
	rebuild(s);
}

/* ---- drawing -------------------------------------------------------------- */

static const char *const help_text[] = {
	"cgwarden top: one row per cgroup; what the kernel does not say is shown as -",
	"",
	"  Up/Down j/k PgUp/PgDn Home/End   move            Enter  details of the cgroup",
	"  t F5      workloads <-> full tree                Right/Left  expand/collapse (tree)",
	"  s F6      sort menu      < >  sort column        r   reverse the order",
	"  P M T N   sort by CPU%, MEM, THR%, NAME           /   filter by name or path",
	"  Esc       clear the filter, close a view          space  pause / resume",
	"  + -       longer / shorter interval               ? h F1  this help",
	"  q F10     quit                                    mouse  click a row, or a title to sort",
	"",
	"Actions (asked first; they show the file, its old and its new value):",
	"  c  CPU limit (cpu.max)    m  memory limit (memory.max)",
	"  f  freeze / thaw          K  kill every process in the cgroup",
	"",
	"Colours: red = at or over a limit (cpu.max, memory.max, pids.max) or OOM kills;",
	"yellow = throttled by cpu.max, above memory.high, or stalled (PSI avg10 >= 10%).",
	"",
	"First screen: workloads (containers, pods, services) and every other cgroup",
	"that itself holds processes, outside any workload: KIND cgrp, scope, sess...;",
	"the root / is host (its figures are the whole machine's). t: the whole tree.",
	"",
	"Columns:",
};

/* top --replay: the lines of help_text that say otherwise there (space and
 * + - are playback), and what takes the place of the actions. */
#define HELP_SPACE_LINE 6
#define HELP_PLUS_LINE 7
#define HELP_ACTIONS_LINE 10
#define HELP_ACTIONS_LINES 4
static const char *const replay_help_text[] = {
	"Replay: recorded time; limits cannot be changed in a recording",
	"  , .   one tick back / forward          [ ]  one minute back / forward",
	"  p n   previous / next event: OOM kill, cgroup removal, policy action",
	"  g     go to a time: 2026-12-04T03:00:00Z, 2026-12-04 03:00[:SS], unix s, -5m",
	"  (Home still goes to the first row)",
	"",
};

/* Help line i of the whole text (the keys, then one line per column), as
 * this mode says it; NULL past the end. *title for the headings. */
static const char *help_line(const struct screen *s, int i, char *buf, size_t len, bool *title)
{
	int n = (int)(sizeof(help_text) / sizeof(help_text[0]));
	int nr = (int)(sizeof(replay_help_text) / sizeof(replay_help_text[0]));

	*title = i == 0;
	if (s->replay) {
		/* The replay lines stand where the actions were. */
		if (i >= HELP_ACTIONS_LINE && i < HELP_ACTIONS_LINE + nr) {
			*title = i == HELP_ACTIONS_LINE;
			return replay_help_text[i - HELP_ACTIONS_LINE];
		}
		if (i >= HELP_ACTIONS_LINE + nr)
			i += HELP_ACTIONS_LINES - nr;
		if (i == HELP_SPACE_LINE)
			return "  Esc       clear the filter, close a view          space  play / pause";
		if (i == HELP_PLUS_LINE)
			return "  + -       faster / slower playback (1x-120x)      ? h F1  this help";
	}
	if (i < n)
		return help_text[i];
	if (i - n >= COL__COUNT)
		return NULL;
	snprintf(buf, len, "  %-7s %s", col_defs[i - n].title, col_defs[i - n].what);
	return buf;
}

static int help_lines(const struct screen *s)
{
	char buf[256];
	bool title;
	int i = 0;

	while (help_line(s, i, buf, sizeof(buf), &title))
		i++;
	return i;
}

/* The help scrolls: on a 24-line terminal the column list does not fit
 * under the keys, and the last line says there is more. */
static void help_draw(struct screen *s)
{
	int rows = LINES - 1, total = help_lines(s), y = 0;
	char buf[256];
	bool title;

	if (s->help_top > total - rows)
		s->help_top = total - rows > 0 ? total - rows : 0;
	for (int i = s->help_top; y < rows; i++) {
		const char *t = help_line(s, i, buf, sizeof(buf), &title);

		if (!t)
			break;
		if (y == rows - 1 && i + 1 < total) {
			ui_put(y++, 1, crt_attr(STYLE_TITLE),
			       "-- more: Down/PgDn scrolls, any other key closes --", COLS - 1);
			break;
		}
		ui_put(y++, 1, crt_attr(title ? STYLE_TITLE : STYLE_NORMAL), t, COLS - 1);
	}
}

static void sort_menu_draw(struct screen *s)
{
	int w = 60, y0 = UI_HEADER_LINES + 1;
	char line[256];

	ui_put(y0, 0, crt_attr(STYLE_COLHEAD), "Sort by (Enter picks, Esc cancels)  ", w);
	for (int c = 0; c < COL__COUNT && y0 + 1 + c < LINES - 1; c++) {
		snprintf(line, sizeof(line), "%s %-7s %-48s", c == (int)s->ro.sort ? "*" : " ",
			 col_defs[c].title, col_defs[c].what);
		ui_put(y0 + 1 + c, 0, crt_attr(c == s->sort_sel ? STYLE_SELECTED : STYLE_NORMAL),
		       line, w);
	}
}

/* The bottom line of the table: what the view lists, the filter, and the
 * keys; fewer keys when that does not fit the width. */
static void view_line(struct screen *s, char *line, size_t len)
{
	static const char *const keys[2][2] = {
		{ "?:help /:filter t:tree s:sort Enter:detail space:pause q:quit",
		  "?:help t:tree q:quit" },
		{ ",/.:tick [/]:minute p/n:event g:go to space:play ?:help q:quit",
		  ",/.:tick p/n:event ?:help q:quit" },
	};
	char what[128], f[256];
	int n;

	if (s->ro.view == VIEW_TREE)
		snprintf(what, sizeof(what), "TREE %zu rows", s->rows.n);
	else
		snprintf(what, sizeof(what), "WORKLOADS %zu + %zu other cgroup%s with processes",
			 s->rows.nr_workloads, s->rows.nr_other,
			 s->rows.nr_other == 1 ? "" : "s");
	fmt_sanitize(s->filter, !s->utf8, f, sizeof(f));
	for (int k = 0; k < 2; k++) {
		n = snprintf(line, len, "%s  %s%s%s%s", what, f[0] ? "filter '" : "", f,
			     f[0] ? "'  " : "", keys[!!s->replay][k]);
		if (n <= COLS)
			break;
	}
}

static void bottom_draw(struct screen *s)
{
	char line[1536], f[256];
	int y = LINES - 1;

	attrset(crt_attr(STYLE_STATUS));
	mvhline(y, 0, ' ', COLS);
	attrset(A_NORMAL);
	switch (s->mode) {
	case MODE_FILTER:
		fmt_sanitize(s->edit, !s->utf8, f, sizeof(f));
		snprintf(line, sizeof(line), "Filter: %s_   (Enter keeps it, Esc clears)", f);
		break;
	case MODE_INPUT:
		fmt_sanitize(s->edit, !s->utf8, f, sizeof(f));
		snprintf(line, sizeof(line), "%s%s_", s->prompt, f);
		break;
	case MODE_CONFIRM:
		snprintf(line, sizeof(line), "%s", s->prompt);
		break;
	case MODE_TIME:
		fmt_sanitize(s->edit, !s->utf8, f, sizeof(f));
		snprintf(line, sizeof(line), "Go to (2026-12-04T03:00:00Z, 2026-12-04 03:00[:SS], "
			 "unix seconds, -5m from the end): %s_", f);
		break;
	default:
		if (s->status[0])
			snprintf(line, sizeof(line), "%s", s->status);
		else if (s->mode == MODE_DETAIL && s->replay)
			snprintf(line, sizeof(line), "Esc/q back  Up/Down scroll  ,/. tick  [/] minute  "
				 "p/n event  g go to  space play");
		else if (s->mode == MODE_DETAIL)
			snprintf(line, sizeof(line), "Esc/q back  Up/Down scroll  c cpu  m memory  "
				 "f freeze/thaw  K kill");
		else
			view_line(s, line, sizeof(line));
	}
	ui_put(y, 0, crt_attr(s->mode == MODE_CONFIRM ? STYLE_CRIT : STYLE_STATUS) |
	       (s->mode == MODE_CONFIRM ? A_REVERSE : 0), line, COLS);
}

void screen_draw(struct screen *s)
{
	erase();
	if (!s->snap) {
		refresh();
		return;
	}
	switch (s->mode == MODE_INPUT || s->mode == MODE_CONFIRM || s->mode == MODE_TIME ?
		s->prev_mode : s->mode) {
	case MODE_DETAIL:
		detail_draw(s);
		break;
	case MODE_HELP:
		help_draw(s);
		break;
	default:
		header_draw(s);
		table_draw(s);
		if (s->mode == MODE_SORT)
			sort_menu_draw(s);
	}
	bottom_draw(s);
	refresh();
}

void screen_resize(struct screen *s)
{
	crt_resize();
	(void)s;
}

/* ---- actions -------------------------------------------------------------- */

/* Checks the pending change and asks for confirmation, or says why not. */
static void ask_confirm(struct screen *s)
{
	char text[600], path[512];

	if (s->actions->check(s->actions->ctx, s->pending_path, &s->pending, text,
			      sizeof(text))) {
		status(s, "refused: %s", text);
		s->mode = s->prev_mode;
		return;
	}
	fmt_sanitize(s->pending_path, !s->utf8, path, sizeof(path));
	if (s->pending.kind == UI_CHANGE_KILL)
		prompt(s, "KILL every process in %s (%s)%s? [y/N]", path, text,
		       s->dry_run ? " [dry run]" : "");
	else
		prompt(s, "%s: %s%s  Apply? [y/N]", path, text, s->dry_run ? " [dry run]" : "");
	s->mode = MODE_CONFIRM;
}

static void start_action(struct screen *s, enum ui_change_kind kind)
{
	const struct cg_sample *x = s->mode == MODE_DETAIL ? snapshot_find_id(s->snap, s->sel_id) :
				    ui_selected(s);
	char name[256];

	if (s->replay) {
		status(s, "replay: limits cannot be changed in a recording");
		return;
	}
	if (!s->actions) {
		status(s, "actions are not available: %s", s->act_why[0] ? s->act_why : "no actuator");
		return;
	}
	if (!x) {
		status(s, "no cgroup selected");
		return;
	}
	s->prev_mode = s->mode;
	memset(&s->pending, 0, sizeof(s->pending));
	s->pending.kind = kind;
	s->pending_id = x->id;
	snprintf(s->pending_path, sizeof(s->pending_path), "%s", x->path);
	s->edit[0] = '\0';
	s->edit_len = 0;
	fmt_sanitize(row_name(x, false), !s->utf8, name, sizeof(name));
	switch (kind) {
	case UI_CHANGE_CPU_MAX:
		s->pending.period = LIMITVAL_CPU_PERIOD_DEFAULT;
		prompt(s, "CPU limit for %s (CPUs like 1.5, or max): ", name);
		s->mode = MODE_INPUT;
		break;
	case UI_CHANGE_MEMORY_MAX:
		prompt(s, "Memory limit for %s (like 512M, 2G, or max): ", name);
		s->mode = MODE_INPUT;
		break;
	default:
		ask_confirm(s);
	}
}

static void input_done(struct screen *s)
{
	char why[LIMITVAL_WHY_MAX];
	int err;

	if (s->pending.kind == UI_CHANGE_CPU_MAX)
		err = limitval_parse_cpus(s->edit, s->pending.period, &s->pending.value, why,
					  sizeof(why));
	else
		err = limitval_parse_bytes(s->edit, &s->pending.value, why, sizeof(why));
	if (err) {
		status(s, "%s", why);
		s->mode = s->prev_mode;
		return;
	}
	ask_confirm(s);
}

static void apply(struct screen *s)
{
	char text[600];
	int err = s->actions->apply(s->actions->ctx, s->pending_path, &s->pending, text,
				    sizeof(text));

	status(s, "%s", text);
	add_event(s, wall_usec(), s->pending_id, "%s%s", err ? "" : "changed here: ", text);
	s->mode = s->prev_mode;
}

/* ---- keys ------------------------------------------------------------------- */

static void set_sort(struct screen *s, enum col_id c)
{
	if (s->ro.sort == c)
		s->ro.reverse = !s->ro.reverse;
	else {
		s->ro.sort = c;
		s->ro.reverse = false;
	}
	rebuild(s);
}

/* ---- top --replay --------------------------------------------------------- */

static const unsigned speeds[] = { 1, 2, 5, 10, 30, 60, 120 };

static void replay_move(struct screen *s, enum ui_move how, int dir, const char *time)
{
	char text[1024] = "";

	s->replay->seek(s->replay->ctx, how, dir, time, text, sizeof(text));
	if (text[0])
		status(s, "%s", text);
}

static void change_speed(struct screen *s, int dir)
{
	size_t n = sizeof(speeds) / sizeof(speeds[0]), i = 0;

	while (i + 1 < n && speeds[i] < s->speed)
		i++;
	if (dir > 0 && i + 1 < n)
		i++;
	else if (dir < 0 && i)
		i--;
	s->speed = speeds[i];
	if (s->playing)
		s->replay->play(s->replay->ctx, s->speed);
	status(s, "playback %ux the recorded pace%s", s->speed,
	       s->playing ? "" : " (space plays)");
}

/* The keys that move in recorded time; false for any other key. */
static bool replay_key(struct screen *s, int ch)
{
	switch (ch) {
	case ',': replay_move(s, UI_MOVE_TICK, -1, NULL); return true;
	case '.': replay_move(s, UI_MOVE_TICK, 1, NULL); return true;
	case '[': replay_move(s, UI_MOVE_MINUTE, -1, NULL); return true;
	case ']': replay_move(s, UI_MOVE_MINUTE, 1, NULL); return true;
	case 'p': replay_move(s, UI_MOVE_EVENT, -1, NULL); return true;
	case 'n': replay_move(s, UI_MOVE_EVENT, 1, NULL); return true;
	case 'g':
		s->prev_mode = s->mode;
		s->edit[0] = '\0';
		s->edit_len = 0;
		s->mode = MODE_TIME;
		return true;
	case ' ':
		s->playing = !s->playing;
		s->replay->play(s->replay->ctx, s->playing ? s->speed : 0);
		if (s->playing)
			status(s, "playing at %ux the recorded pace (space pauses)", s->speed);
		else
			status(s, "paused (space plays)");
		return true;
	case '+': change_speed(s, 1); return true;
	case '-': change_speed(s, -1); return true;
	}
	return false;
}

static int change_interval(struct screen *s, int dir)
{
	size_t n = sizeof(intervals) / sizeof(intervals[0]), i = 0;
	uint64_t now = s->interval->get(s->interval->ctx);
	char a[FMT_CELL_MAX];
	int err;

	while (i < n && intervals[i] < now)
		i++;
	if (dir > 0)
		i = (i < n && intervals[i] == now) ? i + 1 : i;
	else
		i = i ? i - 1 : 0;
	if (i >= n)
		i = n - 1;
	if (intervals[i] == now)
		return 0;
	fmt_usec((double)intervals[i], a, sizeof(a));
	err = s->interval->set(s->interval->ctx, intervals[i]);
	if (err)
		status(s, "interval %s: %s", a, strerror(-err));
	else
		status(s, "interval %s", a);
	return 0;
}

/* Right: expand; Left: collapse, or go to the parent when already closed. */
static void tree_key(struct screen *s, bool expand)
{
	const struct row *r;
	const struct cg_sample *x;

	if (s->ro.view != VIEW_TREE || s->sel >= s->rows.n)
		return;
	r = &s->rows.v[s->sel];
	x = &s->snap->samples[r->idx];
	if (expand) {
		idset_del(&s->collapsed, x->id);
	} else if (r->has_children && !r->collapsed) {
		if (idset_add(&s->collapsed, x->id))
			status(s, "out of memory");
	} else if (x->parent >= 0) {
		s->sel_id = s->snap->samples[x->parent].id;
		s->sel_moved = true;
	}
	rebuild(s);
}

static int mouse(struct screen *s)
{
	MEVENT ev;

	if (getmouse(&ev) != OK)
		return 0;
	if (ev.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
		int d = ev.bstate & BUTTON4_PRESSED ? -3 : 3;

		/* The wheel moves what is shown: the detail view scrolls (its
		 * cgroup stays), the table's selection moves. Under a prompt
		 * or a menu it does nothing. */
		if (s->mode == MODE_DETAIL)
			s->detail_scroll = s->detail_scroll + d > 0 ? s->detail_scroll + d : 0;
		else if (s->mode == MODE_TABLE || s->mode == MODE_FILTER)
			select_row(s, (long)s->sel + d);
		return 0;
	}
	if (s->mode != MODE_TABLE ||
	    !(ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED)))
		return 0;
	if (ev.y == s->table_y - 1) {
		for (int c = 0; c < COL__COUNT; c++)
			if (s->col_shown[c] && ev.x >= s->col_x[c] && ev.x < s->col_x[c] + s->col_w[c])
				set_sort(s, (enum col_id)c);
		return 0;
	}
	if (ev.y >= s->table_y && ev.y < s->table_y + s->table_h) {
		select_row(s, (long)(s->top + (size_t)(ev.y - s->table_y)));
		if (ev.bstate & BUTTON1_DOUBLE_CLICKED) {
			s->mode = MODE_DETAIL;
			s->detail_scroll = 0;
		}
	}
	return 0;
}

static void edit_key(struct screen *s, int ch)
{
	if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && s->edit_len)
		s->edit[--s->edit_len] = '\0';
	else if (ch == KEY_CTRL('u'))
		s->edit[s->edit_len = 0] = '\0';
	else if (ch >= 0x20 && ch < 0x100 && ch != 127 && s->edit_len + 1 < sizeof(s->edit)) {
		s->edit[s->edit_len++] = (char)ch;
		s->edit[s->edit_len] = '\0';
	}
}

static int key(struct screen *s, int ch)
{
	long page = s->table_h > 1 ? s->table_h - 1 : 1;

	if (ch == KEY_RESIZE)
		return 0;
	if (ch == KEY_MOUSE)
		return mouse(s);
	switch (s->mode) {
	case MODE_FILTER:
		if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
			s->mode = MODE_TABLE;
		} else if (ch == KEY_ESC) {
			s->filter[0] = '\0';
			s->mode = MODE_TABLE;
		} else {
			edit_key(s, ch);
			snprintf(s->filter, sizeof(s->filter), "%s", s->edit);
		}
		rebuild(s);
		return 0;
	case MODE_INPUT:
		if (ch == '\n' || ch == '\r' || ch == KEY_ENTER)
			input_done(s);
		else if (ch == KEY_ESC) {
			status(s, "nothing changed");
			s->mode = s->prev_mode;
		} else
			edit_key(s, ch);
		return 0;
	case MODE_CONFIRM:
		if (ch == 'y' || ch == 'Y')
			apply(s);
		else {
			status(s, "nothing changed");
			s->mode = s->prev_mode;
		}
		return 0;
	case MODE_TIME:
		if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
			s->mode = s->prev_mode;
			replay_move(s, UI_MOVE_TIME, 0, s->edit);
		} else if (ch == KEY_ESC) {
			s->mode = s->prev_mode;
		} else {
			edit_key(s, ch);
		}
		return 0;
	case MODE_HELP:
		if (ch == 'q' || ch == KEY_F(10))
			return SCREEN_QUIT;
		/* Scroll keys scroll (help_draw keeps it in range); any
		 * other key closes the help. */
		if (ch == KEY_DOWN || ch == 'j')
			s->help_top++;
		else if (ch == KEY_UP || ch == 'k')
			s->help_top -= s->help_top > 0;
		else if (ch == KEY_NPAGE || ch == ' ')
			s->help_top += LINES - 2;
		else if (ch == KEY_PPAGE)
			s->help_top = s->help_top > LINES - 2 ? s->help_top - (LINES - 2) : 0;
		else
			s->mode = MODE_TABLE;
		return 0;
	case MODE_SORT:
		if (ch == KEY_UP || ch == 'k')
			s->sort_sel = s->sort_sel ? s->sort_sel - 1 : COL__COUNT - 1;
		else if (ch == KEY_DOWN || ch == 'j')
			s->sort_sel = (s->sort_sel + 1) % COL__COUNT;
		else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
			s->ro.sort = (enum col_id)s->sort_sel;
			s->mode = MODE_TABLE;
			rebuild(s);
		} else if (ch == KEY_ESC || ch == 'q' || ch == 's' || ch == KEY_F(6))
			s->mode = MODE_TABLE;
		return 0;
	case MODE_DETAIL:
		switch (ch) {
		case KEY_ESC: case 'q': case KEY_LEFT: case '\n': case '\r': case KEY_ENTER:
			s->mode = MODE_TABLE;
			rebuild(s);
			return 0;
		case KEY_UP: case 'k': if (s->detail_scroll) s->detail_scroll--; return 0;
		case KEY_DOWN: case 'j': s->detail_scroll++; return 0;
		case KEY_PPAGE: s->detail_scroll -= LINES / 2;
			if (s->detail_scroll < 0) s->detail_scroll = 0;
			return 0;
		case KEY_NPAGE: s->detail_scroll += LINES / 2; return 0;
		case KEY_HOME: s->detail_scroll = 0; return 0;
		}
		break;
	default:
		break;
	}
	if (s->replay && replay_key(s, ch))
		return 0;

	/* The table (and the keys the detail view shares with it). */
	switch (ch) {
	case 'q': case KEY_F(10):
		return SCREEN_QUIT;
	case KEY_UP: case 'k': select_row(s, (long)s->sel - 1); break;
	case KEY_DOWN: case 'j': select_row(s, (long)s->sel + 1); break;
	case KEY_PPAGE: select_row(s, (long)s->sel - page); break;
	case KEY_NPAGE: select_row(s, (long)s->sel + page); break;
	case KEY_HOME: case 'g': select_row(s, 0); break;
	case KEY_END: case 'G': select_row(s, (long)s->rows.n - 1); break;
	case '\n': case '\r': case KEY_ENTER:
		if (ui_selected(s)) {
			/* The detail view stays on this cgroup whatever the sort does. */
			s->sel_id = ui_selected(s)->id;
			s->sel_moved = true;
			s->mode = MODE_DETAIL;
			s->detail_scroll = 0;
		}
		break;
	case 't': case KEY_F(5):
		s->ro.view = s->ro.view == VIEW_TREE ? VIEW_WORKLOADS : VIEW_TREE;
		rebuild(s);
		break;
	case KEY_RIGHT: case '=': tree_key(s, true); break;
	case KEY_LEFT: tree_key(s, false); break;
	case 's': case KEY_F(6):
		s->sort_sel = s->ro.sort;
		s->mode = MODE_SORT;
		break;
	case '<': set_sort(s, (enum col_id)((s->ro.sort + COL__COUNT - 1) % COL__COUNT)); break;
	case '>': set_sort(s, (enum col_id)((s->ro.sort + 1) % COL__COUNT)); break;
	case 'r': case 'I': s->ro.reverse = !s->ro.reverse; rebuild(s); break;
	case 'P': set_sort(s, COL_CPU); break;
	case 'M': set_sort(s, COL_MEM); break;
	case 'T': set_sort(s, COL_THR); break;
	case 'N': set_sort(s, COL_NAME); break;
	case '/':
		snprintf(s->edit, sizeof(s->edit), "%s", s->filter);
		s->edit_len = strlen(s->edit);
		s->mode = MODE_FILTER;
		break;
	case KEY_ESC:
		s->filter[0] = '\0';
		rebuild(s);
		break;
	case '?': case 'h': case KEY_F(1):
		s->mode = MODE_HELP;
		s->help_top = 0;
		break;
	case ' ':
		s->paused = !s->paused;
		status(s, s->paused ? "paused (space resumes)" : "resumed");
		return SCREEN_PAUSE;
	case '+': return change_interval(s, 1);
	case '-': return change_interval(s, -1);
	case 'c': start_action(s, UI_CHANGE_CPU_MAX); break;
	case 'm': start_action(s, UI_CHANGE_MEMORY_MAX); break;
	case 'f': {
		const struct cg_sample *x = s->mode == MODE_DETAIL ?
					    snapshot_find_id(s->snap, s->sel_id) : ui_selected(s);

		start_action(s, x && (x->have & CG_HAVE_EVENTS) && x->frozen ? UI_CHANGE_THAW : UI_CHANGE_FREEZE);
		break;
	}
	case 'K': start_action(s, UI_CHANGE_KILL); break;
	case KEY_CTRL('l'): clearok(curscr, TRUE); break;
	}
	return 0;
}

int screen_input(struct screen *s)
{
	int ch, r = 0;

	while ((ch = getch()) != ERR) {
		/* A message stays until the next key (or mouse action). */
		if (s->mode != MODE_CONFIRM)
			s->status[0] = '\0';
		r |= key(s, ch);
		if (r & SCREEN_QUIT)
			break;
	}
	return r;
}
