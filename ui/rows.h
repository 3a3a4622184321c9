/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The table's model, without curses: its columns (what each shows, how it is
 * sorted, when it is coloured) and which snapshot rows are listed in what
 * order for a view, filter and sort. Sorting works on indices and numeric
 * keys, never on formatted text, so only the rows on screen are formatted.
 */
#ifndef CGWARDEN_UI_ROWS_H
#define CGWARDEN_UI_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "snapshot.h"

enum col_id {
	COL_NAME, COL_KIND, COL_CPU, COL_THR, COL_MEM, COL_MEMPCT, COL_PEAK,
	COL_IOR, COL_IOW, COL_NETRX, COL_NETTX, COL_PIDS, COL_PSI_CPU, COL_PSI_MEM,
	COL_PSI_IO, COL_RUNQ, COL_OOM,
	COL__COUNT
};

enum col_fmt { CF_NONE, CF_PCT, CF_BYTES, CF_COUNT, CF_PSI, CF_USEC };

/* A column is a row of the metric table shown with a scale and a format.
 * fallback is read when metric is absent (PIDS: threads without the pids
 * controller; OOM: eBPF without memory.events); per divides the value by
 * a limit row and makes it absent when that is "max" or 0 (MEM%). */
struct col_def {
	const char *title;	/* header text, right-aligned like the values */
	int width;		/* NAME: the least it gets */
	int prio;		/* dropped first when narrow: higher */
	const char *what;	/* one line for the help and sort menu */
	int16_t metric;		/* enum metric_id, -1: none (NAME, KIND) */
	int16_t fallback;	/* enum metric_id, -1: none */
	int16_t per;		/* enum metric_id, -1: none */
	float scale;
	enum col_fmt fmt;
};
extern const struct col_def col_defs[COL__COUNT];

/* How a cell should look: nothing special, throttled/stalled (yellow),
 * at or over a limit (red). */
enum cell_level { LEVEL_NORMAL, LEVEL_WARN, LEVEL_CRIT };

/* The column's number for sorting; false when absent (shown as "-"). */
bool col_value(const struct cg_sample *s, enum col_id c, double *v);
/* The cell's text ("-" when absent). NAME is not formatted here. */
void col_format(const struct cg_sample *s, enum col_id c, char *out, size_t outlen);
enum cell_level col_level(const struct cg_sample *s, enum col_id c);
struct metric_set;
/* Adds what column c shows and colours by to set (demand-driven
 * collection: top collects its visible columns). */
void col_metrics(enum col_id c, struct metric_set *set);

/* The name a row shows: container/pod/unit name, else (a plain cgroup) the
 * path ("/" for the root). In the tree, the last path component. Raw
 * kernel bytes: sanitise before display. */
const char *row_name(const struct cg_sample *s, bool tree);

enum view { VIEW_WORKLOADS, VIEW_TREE };

/* A sorted set of cgroup ids (the tree's collapsed nodes). */
struct idset {
	uint64_t *ids;
	size_t n, cap;
};
bool idset_has(const struct idset *s, uint64_t id);
int idset_add(struct idset *s, uint64_t id);	/* 0 or -ENOMEM */
void idset_del(struct idset *s, uint64_t id);
void idset_free(struct idset *s);

struct rows_opts {
	enum view view;
	enum col_id sort;
	bool reverse;
	const char *filter;		/* substring of name or path, any case; NULL: all */
	const struct idset *collapsed;	/* tree view */
};

struct row {
	uint32_t idx;			/* into snapshot samples[] */
	uint16_t depth;			/* tree indent */
	bool has_children, collapsed;
};

struct rows {
	struct row *v;
	size_t n, cap;
	/* The workloads view: of n, how many are workloads and how many
	 * other cgroups with processes of their own (0 in the tree). */
	size_t nr_workloads, nr_other;
	/* scratch, kept across builds */
	double *key;
	uint32_t *tmp, *child_start, *child;
	size_t scratch_cap;
};

/* Lists the rows of s for o. 0 or -ENOMEM (r keeps its old content).
 * The workloads view sees who holds processes by cgroup.procs (M_PROCS)
 * or cgroup.threads (M_THREADS); without either, only populated cgroups
 * with no populated child. */
int rows_build(struct rows *r, const struct cg_snapshot *s, const struct rows_opts *o);
void rows_free(struct rows *r);

/*
 * A workload: a container, pod or service. The workloads view (the first
 * screen) lists every workload, and every other cgroup that holds
 * processes itself (its own cgroup.procs or cgroup.threads, not only its
 * subtree's) and is not inside a workload: a session, a scope, a plain
 * cgroup, the root. So whatever uses the machine has a row there without
 * the tree; a workload's processes show in its own row, not again in
 * their cgroup's.
 */
bool rows_is_workload(const struct cg_sample *s);

#endif
