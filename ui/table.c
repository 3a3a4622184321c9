// SPDX-License-Identifier: GPL-2.0-only
/* The table: column header and the rows on screen (only those are
 * formatted), columns fitted to the terminal's width. */
#include <curses.h>
#include <stdio.h>
#include <string.h>
#include "crt.h"
#include "format.h"
#include "ui.h"

/* The name column never grows past this: numbers stay near the names. */
#define NAME_MAX_FLAT 48
#define NAME_MAX_TREE 72

static void layout(struct screen *s)
{
	struct fmt_col cols[COL__COUNT];
	int x = 0, namew;

	for (int c = 0; c < COL__COUNT; c++)
		cols[c] = (struct fmt_col){ .width = col_defs[c].width, .prio = col_defs[c].prio };
	cols[COL_NAME].flex = true;
	cols[COL_NAME].min = col_defs[COL_NAME].width;
	namew = fmt_fit_columns(cols, COL__COUNT, COLS, s->col_shown);
	if (namew > (s->ro.view == VIEW_TREE ? NAME_MAX_TREE : NAME_MAX_FLAT))
		namew = s->ro.view == VIEW_TREE ? NAME_MAX_TREE : NAME_MAX_FLAT;
	for (int c = 0; c < COL__COUNT; c++) {
		s->col_w[c] = c == COL_NAME ? namew : col_defs[c].width;
		s->col_x[c] = x;
		if (s->col_shown[c])
			x += s->col_w[c] + 1;
	}
}

static void draw_name(struct screen *s, int y, const struct row *r, const struct cg_sample *x,
		      int attr)
{
	char pre[160], raw[1024], out[1024];
	int w = s->col_w[COL_NAME];
	bool tree = s->ro.view == VIEW_TREE;

	pre[0] = '\0';
	if (tree) {
		int indent = r->depth * 2 > 40 ? 40 : r->depth * 2;
		const char *mark = !r->has_children ? " " :
				   r->collapsed ? (s->utf8 ? "\xe2\x96\xb8" : "+") :
				   (s->utf8 ? "\xe2\x96\xbe" : "-");

		snprintf(pre, sizeof(pre), "%*s%s ", indent, "", mark);
	}
	fmt_sanitize(row_name(x, tree), !s->utf8, raw, sizeof(raw));
	if (x->have & CG_HAVE_EVENTS && x->frozen)
		strncat(raw, " (frozen)", sizeof(raw) - strlen(raw) - 1);
	snprintf(out, sizeof(out), "%s%s", pre, raw);
	/* A path is cut at its start: its end says which cgroup it is. */
	if (!tree && x->path[0] && x->ident.kind == CG_KIND_OTHER)
		fmt_fit_tail(out, w, s->utf8, raw, sizeof(raw));
	else
		fmt_fit(out, w, true, s->utf8, raw, sizeof(raw));
	ui_put(y, s->col_x[COL_NAME], attr, raw, w);
}

static void draw_row(struct screen *s, int y, const struct row *r, bool selected)
{
	const struct cg_sample *x = &s->snap->samples[r->idx];
	int sel = crt_attr(STYLE_SELECTED);
	char cell[FMT_CELL_MAX], fit[FMT_CELL_MAX * 4];

	if (selected) {
		attrset(sel);
		mvhline(y, 0, ' ', COLS);
		attrset(A_NORMAL);
	}
	draw_name(s, y, r, x, selected ? sel : crt_attr(x->frozen ? STYLE_DIM : STYLE_NORMAL));
	for (int c = COL_NAME + 1; c < COL__COUNT; c++) {
		int attr;

		if (!s->col_shown[c])
			continue;
		col_format(x, (enum col_id)c, cell, sizeof(cell));
		attr = selected ? sel : ui_level_attr(col_level(x, (enum col_id)c));
		fmt_fit(cell, s->col_w[c], false, s->utf8, fit, sizeof(fit));
		ui_put(y, s->col_x[c], attr, fit, s->col_w[c]);
	}
}

void table_draw(struct screen *s)
{
	char fit[256];
	int y0 = UI_HEADER_LINES, head = crt_attr(STYLE_COLHEAD);

	layout(s);
	attrset(head);
	mvhline(y0, 0, ' ', COLS);
	attrset(A_NORMAL);
	for (int c = 0; c < COL__COUNT; c++) {
		int attr = (enum col_id)c == s->ro.sort ? crt_attr(STYLE_SORTED) : head;

		if (!s->col_shown[c])
			continue;
		fmt_fit(col_defs[c].title, s->col_w[c], c == COL_NAME, s->utf8, fit, sizeof(fit));
		ui_put(y0, s->col_x[c], attr, fit, s->col_w[c]);
	}
	s->table_y = y0 + 1;
	s->table_h = LINES - 1 - s->table_y;
	if (s->table_h < 0)
		s->table_h = 0;
	/* Keep the selection in view. */
	if (s->sel < s->top)
		s->top = s->sel;
	if (s->table_h && s->sel >= s->top + (size_t)s->table_h)
		s->top = s->sel - (size_t)s->table_h + 1;
	if (s->top + (size_t)s->table_h > s->rows.n)
		s->top = s->rows.n > (size_t)s->table_h ? s->rows.n - (size_t)s->table_h : 0;
	for (int i = 0; i < s->table_h; i++) {
		size_t k = s->top + (size_t)i;

		if (k >= s->rows.n)
			break;
		draw_row(s, s->table_y + i, &s->rows.v[k], k == s->sel);
	}
	if (!s->rows.n && s->table_h > 1) {
		const char *why = s->filter[0] ? "no cgroup matches the filter (Esc clears it)" :
				  s->ro.view == VIEW_WORKLOADS ?
				  "no workload, and no other cgroup holds processes: t shows the "
				  "whole tree" :
				  "no cgroups";

		ui_put(s->table_y + 1, 2, crt_attr(STYLE_DIM), why, COLS - 2);
	}
}
