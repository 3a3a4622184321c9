/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The dashboard's pure formatting (ui/format.c): units, percentages, bars,
 * graphs, column fitting, truncation, and names that must never reach the
 * terminal raw (newline, tab, escape sequences, C1 controls, bidi overrides,
 * invalid UTF-8). Runs under C.UTF-8 so wide characters have their width.
 */
#include <locale.h>
#include <math.h>
#include <string.h>
#include "test.h"
#include "format.h"
#include "reccodec.h"

static char buf[256];

#define B(v) (fmt_bytes((v), buf, sizeof(buf)), buf)

static void test_bytes_units(void)
{
	CHECK_STR(B(0), "0");
	CHECK_STR(B(999), "999");
	CHECK_STR(B(1000), "1.0K");	/* 4 columns, never "1000" */
	CHECK_STR(B(1536), "1.5K");
	CHECK_STR(B(10 * 1024), "10K");
	CHECK_STR(B(999 * 1024), "999K");
	CHECK_STR(B(1023 * 1024), "1.0M");
	CHECK_STR(B(512ull << 20), "512M");
	CHECK_STR(B(3ull << 30), "3.0G");
	CHECK_STR(B(1ull << 40), "1.0T");
	CHECK_STR(B(UINT64_MAX), "16E");
	/* Never wider than 4 columns. */
	for (uint64_t v = 1; v < (1ull << 62); v = v * 3 + 7)
		CHECK(strlen(B(v)) <= 4);
}

static void test_rates_and_counts(void)
{
	fmt_bytes_rate(-1, buf, sizeof(buf));
	CHECK_STR(buf, "-");
	fmt_bytes_rate(NAN, buf, sizeof(buf));
	CHECK_STR(buf, "-");
	fmt_bytes_rate(0.4, buf, sizeof(buf));
	CHECK_STR(buf, "0");
	fmt_bytes_rate(2.5 * 1048576, buf, sizeof(buf));
	CHECK_STR(buf, "2.5M");
	fmt_count(999, buf, sizeof(buf));
	CHECK_STR(buf, "999");
	fmt_count(1200, buf, sizeof(buf));
	CHECK_STR(buf, "1.2k");
	fmt_count(12345678, buf, sizeof(buf));
	CHECK_STR(buf, "12M");
}

static void test_percentages(void)
{
	fmt_pct(0, buf, sizeof(buf));
	CHECK_STR(buf, "0.0");
	fmt_pct(12.34, buf, sizeof(buf));
	CHECK_STR(buf, "12.3");
	fmt_pct(99.94, buf, sizeof(buf));
	CHECK_STR(buf, "99.9");
	fmt_pct(99.96, buf, sizeof(buf));
	CHECK_STR(buf, "100");
	fmt_pct(199.6, buf, sizeof(buf));
	CHECK_STR(buf, "200");
	fmt_pct(1e9, buf, sizeof(buf));
	CHECK_STR(buf, "99999");
	fmt_pct(NAN, buf, sizeof(buf));
	CHECK_STR(buf, "-");
	fmt_pct(-3, buf, sizeof(buf));
	CHECK_STR(buf, "-");
	/* PSI: the kernel's two decimals, no float round trip. */
	fmt_psi(0, buf, sizeof(buf));
	CHECK_STR(buf, "0.00");
	fmt_psi(7, buf, sizeof(buf));
	CHECK_STR(buf, "0.07");
	fmt_psi(999, buf, sizeof(buf));
	CHECK_STR(buf, "9.99");
	fmt_psi(1234, buf, sizeof(buf));
	CHECK_STR(buf, "12.3");
	fmt_psi(10000, buf, sizeof(buf));
	CHECK_STR(buf, "100");
}

static void test_usec(void)
{
	fmt_usec(12, buf, sizeof(buf));
	CHECK_STR(buf, "12us");
	fmt_usec(1234, buf, sizeof(buf));
	CHECK_STR(buf, "1.2ms");
	fmt_usec(45000, buf, sizeof(buf));
	CHECK_STR(buf, "45ms");
	fmt_usec(1.5e6, buf, sizeof(buf));
	CHECK_STR(buf, "1.5s");
	fmt_usec(90e6, buf, sizeof(buf));
	CHECK_STR(buf, "90s");
	fmt_usec(NAN, buf, sizeof(buf));
	CHECK_STR(buf, "-");
	CHECK_STR(fmt_kind_short(CG_KIND_CONTAINER), "ctr");
	CHECK_STR(fmt_kind_short(CG_KIND_OTHER), "cgrp");
}

#define S(in) (fmt_sanitize((in), false, buf, sizeof(buf)), buf)
#define SA(in) (fmt_sanitize((in), true, buf, sizeof(buf)), buf)

static void test_sanitize_controls(void)
{
	CHECK_STR(S("web-frontend"), "web-frontend");
	CHECK_STR(S("a\nb"), "a\\nb");
	CHECK_STR(S("a\tb"), "a\\tb");
	CHECK_STR(S("a\rb"), "a\\rb");
	/* An escape sequence that would clear the screen or set the title. */
	CHECK_STR(S("x\033[2J\033]0;pwned\007"), "x\\e[2J\\e]0;pwned\\x07");
	CHECK_STR(S("del\x7f"), "del\\x7f");
	CHECK_STR(S("\x01\x1f"), "\\x01\\x1f");
	/* Nothing below 0x20 or DEL survives, whatever the input. */
	for (int c = 1; c < 0x20; c++) {
		char in[4] = { 'a', (char)c, 'b', 0 };

		S(in);
		for (const char *p = buf; *p; p++)
			CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
	}
	CHECK_STR(S(""), "");
	CHECK_STR(S("back\\slash"), "back\\slash");
}

static void test_sanitize_utf8(void)
{
	/* Valid UTF-8 stays (é, CJK, emoji). */
	CHECK_STR(S("caf\xc3\xa9"), "caf\xc3\xa9");
	CHECK_STR(S("\xe4\xb8\xad\xe6\x96\x87"), "\xe4\xb8\xad\xe6\x96\x87");
	CHECK_STR(S("\xf0\x9f\x90\xb3"), "\xf0\x9f\x90\xb3");
	/* Invalid bytes: lone continuation, truncated sequence, overlong '/',
	 * a surrogate, beyond U+10FFFF, 0xff. */
	CHECK_STR(S("a\x80z"), "a\\x80z");
	CHECK_STR(S("a\xe4\xb8z"), "a\\xe4\\xb8z");
	CHECK_STR(S("\xc0\xaf"), "\\xc0\\xaf");
	CHECK_STR(S("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	CHECK_STR(S("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
	CHECK_STR(S("\xff"), "\\xff");
	/* C1 CSI (U+009B) acts like ESC [ on many terminals; bidi overrides
	 * reorder what is shown. */
	CHECK_STR(S("a\xc2\x9b" "2Jb"), "a\\u009b2Jb");
	CHECK_STR(S("x\xe2\x80\xaey"), "x\\u202ey");
	/* ASCII mode: nothing but ASCII. */
	CHECK_STR(SA("caf\xc3\xa9\n"), "caf?\\n");
	CHECK_STR(SA("\xe4\xb8\xad\x80"), "?\\x80");
}

static void test_sanitize_never_splits(void)
{
	char small[6];

	/* "abcd" + "\\n" needs 7 bytes: stops before an escape that does not fit. */
	CHECK_INT(fmt_sanitize("abcd\n", false, small, sizeof(small)), 4);
	CHECK_STR(small, "abcd");
	CHECK_INT(fmt_sanitize("ab\ncd", false, small, sizeof(small)), 5);
	CHECK_STR(small, "ab\\nc");
	CHECK_INT(fmt_sanitize("abcd\xc3\xa9", false, small, sizeof(small)), 4);
	CHECK_STR(small, "abcd");
	CHECK_INT(fmt_sanitize("x", false, small, 1), 0);
	CHECK_STR(small, "");
}

static void test_width(void)
{
	CHECK_INT(fmt_width(""), 0);
	CHECK_INT(fmt_width("abc"), 3);
	CHECK_INT(fmt_width("caf\xc3\xa9"), 4);
	CHECK_INT(fmt_width("\xe4\xb8\xad\xe6\x96\x87"), 4);	/* two wide */
}

#define FIT(s, w, left, utf8) (fmt_fit((s), (w), (left), (utf8), buf, sizeof(buf)), buf)

static void test_fit_pads_and_truncates(void)
{
	CHECK_STR(FIT("12.3", 6, false, false), "  12.3");
	CHECK_STR(FIT("web", 6, true, false), "web   ");
	CHECK_STR(FIT("abcdef", 6, true, false), "abcdef");
	CHECK_STR(FIT("abcdefgh", 6, true, false), "abcde~");
	CHECK_STR(FIT("abcdefgh", 6, true, true), "abcde\xe2\x80\xa6");
	CHECK_INT(fmt_width(FIT("abcdefgh", 6, true, true)), 6);
	CHECK_STR(FIT("abc", 0, true, false), "");
	CHECK_STR(FIT("abc", 1, true, false), "~");
	/* A wide character that would straddle the edge becomes a space. */
	CHECK_STR(FIT("a\xe4\xb8\xad\xe6\x96\x87", 4, true, true), "a\xe4\xb8\xad\xe2\x80\xa6");
	CHECK_STR(FIT("ab\xe4\xb8\xad\xe6\x96\x87", 4, true, true), "ab \xe2\x80\xa6");
	CHECK_INT(fmt_width(FIT("ab\xe4\xb8\xad\xe6\x96\x87", 4, true, true)), 4);
	CHECK_STR(FIT("\xe4\xb8\xad", 3, false, true), " \xe4\xb8\xad");
	/* A long sanitised hostile name still fits its cell exactly. */
	char san[128];

	fmt_sanitize("evil\033[31m\nname\twith\x9b stuff", false, san, sizeof(san));
	FIT(san, 12, true, true);
	CHECK_INT(fmt_width(buf), 12);
	CHECK(strchr(buf, '\033') == NULL && strchr(buf, '\n') == NULL);
}

#define TAIL(s, w, utf8) (fmt_fit_tail((s), (w), (utf8), buf, sizeof(buf)), buf)

/* A path keeps its end: the marker goes first. */
static void test_fit_tail_keeps_the_end(void)
{
	CHECK_STR(TAIL("a/b", 6, false), "a/b   ");
	CHECK_STR(TAIL("cgwarden-test-42/worker", 12, false), "~t-42/worker");
	CHECK_STR(TAIL("cgwarden-test-42/worker", 12, true), "\xe2\x80\xa6t-42/worker");
	CHECK_INT(fmt_width(TAIL("cgwarden-test-42/worker", 12, true)), 12);
	CHECK_STR(TAIL("abcdef", 6, true), "abcdef");
	CHECK_STR(TAIL("abcdefg", 6, false), "~cdefg");
	CHECK_STR(TAIL("abc", 1, false), "~");
	CHECK_STR(TAIL("abc", 0, false), "");
	/* A wide character cut in half goes whole; the cell stays exact. */
	CHECK_STR(TAIL("\xe4\xb8\xad\xe6\x96\x87/x", 5, true), "\xe2\x80\xa6\xe6\x96\x87/x");
	CHECK_STR(TAIL("\xe4\xb8\xad\xe6\x96\x87/x", 4, true), "\xe2\x80\xa6/x ");
	CHECK_INT(fmt_width(TAIL("\xe4\xb8\xad\xe6\x96\x87/x", 4, true)), 4);
}

static void test_fit_columns(void)
{
	/* NAME flex (min 10), then three columns of 5 with rising prio. */
	struct fmt_col cols[] = {
		{ .flex = true, .min = 10, .width = 20 },
		{ .width = 5, .prio = 1 },
		{ .width = 5, .prio = 3 },
		{ .width = 5, .prio = 2 },
	};
	bool shown[4];

	/* Wide: everything, the name takes the rest. */
	CHECK_INT(fmt_fit_columns(cols, 4, 80, shown), 80 - 15 - 3);
	CHECK(shown[0] && shown[1] && shown[2] && shown[3]);
	/* Exactly fits at min. */
	CHECK_INT(fmt_fit_columns(cols, 4, 28, shown), 10);
	CHECK(shown[1] && shown[2] && shown[3]);
	/* One short: the highest prio (col 2) goes first. */
	CHECK_INT(fmt_fit_columns(cols, 4, 27, shown), 15);
	CHECK(shown[1] && !shown[2] && shown[3]);
	/* Narrower: then col 3. */
	CHECK_INT(fmt_fit_columns(cols, 4, 20, shown), 14);
	CHECK(shown[1] && !shown[2] && !shown[3]);
	/* Too narrow for anything but the name. */
	CHECK_INT(fmt_fit_columns(cols, 4, 8, shown), 8);
	CHECK(shown[0] && !shown[1]);
}

static void test_bars_and_graphs(void)
{
	CHECK_STR((fmt_bar(0.5, 4, false, buf, sizeof(buf)), buf), "||  ");
	CHECK_STR((fmt_bar(0, 3, false, buf, sizeof(buf)), buf), "   ");
	CHECK_STR((fmt_bar(2, 3, false, buf, sizeof(buf)), buf), "|||");
	CHECK_STR((fmt_bar(NAN, 2, false, buf, sizeof(buf)), buf), "  ");
	fmt_bar(0.5, 3, true, buf, sizeof(buf));	/* 1.5 cells: full + half */
	CHECK_STR(buf, "\xe2\x96\x88\xe2\x96\x8c ");
	CHECK_INT(fmt_width(buf), 3);

	float v[4] = { 0, 50, 100, NAN };

	fmt_graph_row(v, 4, 100, 0, 2, false, buf, sizeof(buf));	/* top row */
	CHECK_STR(buf, "  # ");
	fmt_graph_row(v, 4, 100, 1, 2, false, buf, sizeof(buf));	/* bottom */
	CHECK_STR(buf, " ## ");
	fmt_graph_row(v, 4, 100, 0, 1, true, buf, sizeof(buf));
	CHECK_STR(buf, " \xe2\x96\x84\xe2\x96\x88 ");
	/* A tiny non-zero value still shows. */
	float tiny[1] = { 0.01f };

	fmt_graph_row(tiny, 1, 100, 0, 1, true, buf, sizeof(buf));
	CHECK_STR(buf, "\xe2\x96\x81");
}

static void test_match(void)
{
	CHECK(fmt_match("system.slice/Nginx.service", "nginx"));
	CHECK(fmt_match("abc", ""));
	CHECK(fmt_match("abc", NULL));
	CHECK(!fmt_match("abc", "abcd"));
	CHECK(!fmt_match(NULL, "x"));
}

static void test_replay_header(void)
{
	/* 2026-12-04T03:00:05.250Z */
	const uint64_t t = 1796353205250000ull;

	fmt_span(0, buf, sizeof(buf));
	CHECK_STR(buf, "0s");
	fmt_span(1500000, buf, sizeof(buf));
	CHECK_STR(buf, "1.5s");
	fmt_span(59999999, buf, sizeof(buf));
	CHECK_STR(buf, "59s");	/* truncated: not a minute yet */
	fmt_span(320000000, buf, sizeof(buf));
	CHECK_STR(buf, "5m20s");
	fmt_span(2 * 3600000000ull + 5 * 60000000ull + 7000000, buf, sizeof(buf));
	CHECK_STR(buf, "2h05m");
	fmt_span(3 * 86400000000ull + 4 * 3600000000ull, buf, sizeof(buf));
	CHECK_STR(buf, "3d04h");
	fmt_replay_where(t, 123, t + 320000000, buf, sizeof(buf));
	CHECK_STR(buf, "REPLAY 2026-12-04T03:00:05.250Z (tick 123, -5m20s from end)");
	fmt_replay_where(t, 124, t, buf, sizeof(buf));
	CHECK_STR(buf, "REPLAY 2026-12-04T03:00:05.250Z (tick 124, the end)");
	/* Rounded up: typed back, the time names this tick, not the one before. */
	fmt_replay_where(t + 1, 124, t + 1, buf, sizeof(buf));
	CHECK_STR(buf, "REPLAY 2026-12-04T03:00:05.251Z (tick 124, the end)");
}

static void test_replay_events(void)
{
	struct cg_sample smp[3] = {
		{ .id = 1, .parent = -1, .path = "" },
		{ .id = 2, .parent = 0, .path = "system.slice" },
		{ .id = 3, .parent = 1, .path = "system.slice/x.service" },
	};
	struct cg_sample gone = { .id = 9, .parent = 1, .path = "system.slice/old" };
	struct cg_oom_event oom = { .cgroup_id = 3, .pid = 123, .comm = "stress" };
	struct rec_action act = { .cgroup_id = 9, .rule = "cap", .action = "memory.high",
				  .result = "ok" };
	struct cg_snapshot snap = { .nr_samples = 3, .samples = smp, .interval_usec = 2000000 };
	uint32_t all = REC_EV_OOM | REC_EV_REMOVED | REC_EV_ACTION;

	CHECK_INT(fmt_rec_events(&snap, 0, NULL, 0, all, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "");
	snap.nr_removed = 1;
	snap.removed = &gone;
	fmt_rec_events(&snap, REC_EV_REMOVED | REC_EV_ADDED, NULL, 0, all, buf, sizeof(buf));
	CHECK_STR(buf, "removed: system.slice/old");
	/* A removed cgroup's action still says where (the path of removed[]). */
	fmt_rec_events(&snap, REC_EV_ACTION | REC_EV_REMOVED, &act, 1, REC_EV_ACTION, buf,
		       sizeof(buf));
	CHECK_STR(buf, "policy_action memory.high on system.slice/old: ok (rule cap)");
	snap.nr_oom = 1;
	snap.oom = &oom;
	fmt_rec_events(&snap, all, &act, 1, all, buf, sizeof(buf));
	CHECK_STR(buf, "oom_kill in system.slice/x.service (pid 123 stress); policy_action "
		  "memory.high on system.slice/old: ok (rule cap); removed: system.slice/old");
	/* What does not fit is counted, never cut. */
	{
		char small[80];

		fmt_rec_events(&snap, all, &act, 1, all, small, sizeof(small));
		CHECK_STR(small, "oom_kill in system.slice/x.service (pid 123 stress) (+2 more)");
	}
	/* Without eBPF: memory.events, at the deepest cgroup that counted. */
	snap.nr_oom = 0;
	for (int i = 0; i < 3; i++) {
		smp[i].rate.have = CG_RATE_MEM_EVENTS;
		smp[i].rate.oom_kill_per_sec = 0.5;	/* one kill in 2 s */
	}
	fmt_rec_events(&snap, REC_EV_OOM, NULL, 0, all, buf, sizeof(buf));
	CHECK_STR(buf, "oom_kill in system.slice/x.service (memory.events)");
}

int main(void)
{
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "C.utf8");
	RUN(test_bytes_units);
	RUN(test_rates_and_counts);
	RUN(test_percentages);
	RUN(test_usec);
	RUN(test_sanitize_controls);
	RUN(test_sanitize_utf8);
	RUN(test_sanitize_never_splits);
	RUN(test_width);
	RUN(test_fit_pads_and_truncates);
	RUN(test_fit_tail_keeps_the_end);
	RUN(test_fit_columns);
	RUN(test_bars_and_graphs);
	RUN(test_match);
	RUN(test_replay_header);
	RUN(test_replay_events);
	TEST_EXIT();
}
