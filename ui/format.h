/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pure formatting for the dashboard: units, percentages, bars, graphs,
 * column fitting, and name sanitising. No curses, no I/O: everything here is
 * unit-tested (tests/unit/test_format.c). Display widths follow wcwidth(), so
 * they are right under a UTF-8 LC_CTYPE; in ASCII mode nothing but ASCII is
 * ever produced.
 */
#ifndef CGWARDEN_UI_FORMAT_H
#define CGWARDEN_UI_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "snapshot.h"

/* Big enough for any single cell this file produces. */
#define FMT_CELL_MAX 32

/* Bytes in powers of 1024, at most 4 columns: "0", "999", "1.0K", "9.9K",
 * "10K", "999K", "1.2M", "3.8G", ... */
void fmt_bytes(uint64_t v, char *out, size_t outlen);
/* The same for a rate (bytes per second); negative or NaN gives "-". */
void fmt_bytes_rate(double v, char *out, size_t outlen);
/* Counts in powers of 1000: "999", "1.2k", "12k", "1.2M". */
void fmt_count(uint64_t v, char *out, size_t outlen);
/* A percentage: "0.0", "12.3", "99.9", "100", "1234"; at most 5 columns
 * ("99999" caps). Negative or NaN gives "-". */
void fmt_pct(double pct, char *out, size_t outlen);
/* A PSI average in hundredths of a percent (as the kernel prints it):
 * "0.00", "9.99", "12.3", "100". */
void fmt_psi(uint32_t hundredths, char *out, size_t outlen);
/* Microseconds: "12us", "1.2ms", "12ms", "1.5s", "90s". */
void fmt_usec(double usec, char *out, size_t outlen);
/* A short kind for the table, at most 5 columns: "ctr", "pod", "svc",
 * "scope", "slice", "sess", and "cgrp" for any other cgroup (a known
 * kind, not an absent value: it is never "-"). */
const char *fmt_kind_short(enum cg_kind k);

/* Copies a name from the kernel (a cgroup directory name: any bytes but
 * '/' and NUL) into something safe to put on a terminal: C0 controls, DEL,
 * C1 controls, bidi overrides and zero-width characters become visible
 * escapes (\n, \t, \e, \x7f, \u009b, \u202e), invalid UTF-8 bytes become
 * \xNN. With ascii, every non-ASCII character becomes '?'. Never splits a
 * sequence; always NUL-terminates (outlen > 0). Returns the length written.
 * This is text_escape() (src/textesc.h), the one escaper of src/ and ui/. */
size_t fmt_sanitize(const char *in, bool ascii, char *out, size_t outlen);

/* Display columns of a sanitised (valid UTF-8) string. */
int fmt_width(const char *s);

/* Fits a sanitised string into exactly width columns: padded with spaces
 * (on the right when left-aligned, else on the left), or cut with a marker
 * in its last column ("~" in ASCII, "…" in UTF-8). A wide character that
 * does not fit whole is replaced by spaces. Returns the bytes written. */
size_t fmt_fit(const char *s, int width, bool left, bool utf8, char *out, size_t outlen);
/* The same, left-aligned, but a cut keeps the end, after the marker: for a
 * path, whose last components say the most ("…test-42/worker"). */
size_t fmt_fit_tail(const char *s, int width, bool utf8, char *out, size_t outlen);

/* Column fitting. Columns are shown in order; when the total does not fit,
 * the ones with the highest prio are dropped first (prio 0 never). One
 * column may be flex: it takes what is left, at least its min. A single
 * space separates shown columns. Returns the flex column's width (0 when
 * there is none). */
struct fmt_col {
	int width;		/* fixed width, or the flex column's preferred width */
	int prio;		/* 0: always shown; higher: dropped earlier */
	int min;		/* flex only */
	bool flex;
};
int fmt_fit_columns(const struct fmt_col *cols, size_t n, int total, bool *shown);

/* A bar exactly width columns wide for frac in [0, 1] (clamped; NaN is
 * empty): UTF-8 block eighths, or '|' in ASCII. */
size_t fmt_bar(double frac, int width, bool utf8, char *out, size_t outlen);

/* One row (0 = top) of a rows-high column graph of n values scaled to max:
 * one column per value; NaN is a blank column. UTF-8 uses the eighth
 * blocks, ASCII '#' (full) and '.' (part). */
size_t fmt_graph_row(const float *v, size_t n, double max, int row, int rows, bool utf8,
		     char *out, size_t outlen);

/* Case-insensitive (ASCII) substring test; an empty needle matches. */
bool fmt_match(const char *hay, const char *needle);

/* ---- top --replay ------------------------------------------------------- */

/* A span of recorded time, as TIME's -DURATION counts it: "0s", "1.5s",
 * "42s", "5m20s", "2h05m", "3d04h" (truncated, never rounded up: a tick
 * 59.9 s from the end is not a minute from it). */
void fmt_span(uint64_t usec, char *out, size_t outlen);

/* The header's first words in a replay: where in the recording the shown
 * tick is. "REPLAY 2026-12-04T03:00:05.250Z (tick 123, -5m20s from end)",
 * "... (tick 124, the end)". The time is rounded up to the millisecond, so
 * that typed back (--at, 'g') it names this very tick. */
void fmt_replay_where(uint64_t wall_usec, uint64_t seq, uint64_t end_usec, char *out,
		      size_t outlen);

/* OOM kills that memory.events says happened in x during the tick of
 * snap (its rate times the interval), when eBPF did not see them one by
 * one; 0 when that is not known. */
double fmt_memevents_ooms(const struct cg_snapshot *snap, const struct cg_sample *x);

struct rec_action;
/*
 * What happened in a replayed tick, of the kinds asked (enum rec_event of
 * src/reccodec.h), for the bottom line after a jump to it: OOM kills first
 * ("oom_kill in a/b (pid 123 stress)", or "(memory.events)" without
 * eBPF), then policy actions ("policy_action memory.high on a/b: ok (rule
 * r)"), then removals ("removed: a/b"), "; " between them and "(+N more)"
 * for what does not fit. Paths are raw: the bottom line escapes. Returns
 * the length written (0: none of those kinds).
 */
size_t fmt_rec_events(const struct cg_snapshot *snap, uint32_t events,
		      const struct rec_action *acts, size_t nr_acts, uint32_t kinds,
		      char *out, size_t outlen);

#endif
