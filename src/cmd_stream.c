/* SPDX-License-Identifier: GPL-2.0-only */
/* cgwarden stream: NDJSON, one line per event and per tick. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "json.h"
#include "lineout.h"
#include "loop.h"

static const char stream_help[] =
	"Usage: cgwarden stream [OPTIONS]\n\n"
	"Print the cgroup tree as newline-delimited JSON: on each tick, one line\n"
	"per event (cgroup_added, cgroup_removed with its final counters, oom_kill),\n"
	"then one \"tick\" line with every cgroup (schema: cgwarden-json(7)). The\n"
	"first tick is written at once; rates appear from the second.\n\n"
	"Options:\n"
	"  -n, --count N         stop after N ticks (default: until interrupted)\n"
	"  -o, --output DEST     FILE: append to it, reopened on SIGHUP (log\n"
	"                        rotation); unix:/PATH: connect to that unix stream\n"
	"                        socket (reconnected when its reader is back: on\n"
	"                        the next tick, or SIGHUP). Default: stdout\n"
	"  -f, --fields LIST     keep only these members of each cgroup object, e.g.\n"
	"                        cpu,memory.current_bytes,psi.cpu (identity members\n"
	"                        id, path, name, kind, ... are always kept)\n"
	CLI_COMMON_HELP
	"\nThe default interval is 2 s. The output never blocks the collector: a\n"
	"line the reader has no room for is dropped whole and counted in the next\n"
	"tick's self.dropped_lines; so is every line while a --output file or\n"
	"socket is unavailable (said once on stderr). A line the reader has taken\n"
	"part of is finished first: a tick due meanwhile is skipped (counted as\n"
	"one dropped line; its events come with the next tick). On stdout, a\n"
	"reader that goes away ends the stream (status 0). SIGINT and SIGTERM\n"
	"end it.\n";

struct stream {
	struct collector *c;
	struct loop *loop;
	const char *dest;		/* --output; NULL: stdout */
	struct lineout *out;
	const struct json_fields *fields;
	uint64_t count, done;
	uint64_t skipped;		/* ticks not taken: a line was in flight */
	int status;
};

/* One tick: collect, render the tick's lines, write each whole or drop it.
 * Returns non-zero to stop the loop. */
static int stream_tick(struct stream *st)
{
	const struct cg_snapshot *snap;
	struct cg_snapshot s;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	int err = collector_tick(st->c, &snap);

	if (err) {
		fprintf(stderr, "cgwarden: reading %s: %s\n", collector_root(st->c), strerror(-err));
		st->status = EXIT_RUNTIME;
		return 1;
	}
	/* A shallow copy, to report the drops so far: the arrays stay the
	 * collector's. */
	s = *snap;
	s.self.dropped_lines_known = true;
	s.self.dropped_lines = lineout_dropped(st->out) + st->skipped;
	mem = open_memstream(&buf, &len);
	err = mem ? json_write_stream_tick_fields(mem, &s, st->fields) : -ENOMEM;
	if (mem && fclose(mem) && err >= 0)
		err = -ENOMEM;
	if (err >= 0)
		err = lineout_write(st->out, buf, len);
	free(buf);
	if (err < 0 && st->dest && err != -ENOMEM) {
		/* A file or socket whose reader went (a restart, a full disk):
		 * lineout says so once per outage; the lines are dropped and
		 * counted until it is back. */
		fprintf(stderr, "cgwarden stream: writing to %s: %s; lines are dropped (counted "
			"in self.dropped_lines) until %s\n", st->dest, strerror(-err),
			strncmp(st->dest, "unix:", 5) == 0 ?
				"it accepts again (retried each tick and on SIGHUP)" :
				"SIGHUP reopens it");
	} else if (err < 0) {
		/* On stdout, a reader that went away (| head) is a normal end. */
		if (err != -EPIPE) {
			fprintf(stderr, "cgwarden: writing the stream: %s\n", strerror(-err));
			st->status = EXIT_RUNTIME;
		}
		return 1;
	}
	st->done++;
	return st->count && st->done >= st->count;
}

static int on_timer(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct stream *st = ctx;

	(void)l;
	(void)events;
	/* Missed expirations (a slow tick) are not made up: one tick now. */
	loop_timer_expirations(fd);
	/*
	 * A line the reader has taken only part of goes first. When a tick
	 * takes longer than the interval (thousands of cgroups), the timer is
	 * due again as soon as one ends and the loop is never idle: the line
	 * in flight would get one pipe buffer per tick and never end, while
	 * every new line is rendered only to be dropped. So this tick is not
	 * taken: the loop stays free to feed the reader, the collector reads
	 * nothing it cannot deliver, and the next tick taken reports the
	 * births, deaths and OOM kills since the last one, as a longer
	 * interval would. The tick line it would have written counts as dropped,
	 * and the tick counts for --count: a slow reader never moves the end.
	 */
	if (lineout_busy(st->out)) {
		st->skipped++;
		st->done++;
		return st->count && st->done >= st->count;
	}
	return stream_tick(st);
}

static int on_signal(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct stream *st = ctx;
	int sig = loop_signal_read(fd);

	(void)l;
	(void)events;
	if (sig == SIGHUP) {
		int err = lineout_reopen(st->out);

		/* Not fatal: lines are dropped and counted until it opens. */
		if (err)
			fprintf(stderr, "cgwarden stream: reopening %s: %s; lines are dropped "
				"until it opens\n", st->dest, strerror(-err));
		return 0;
	}
	return sig == SIGINT || sig == SIGTERM;
}

int cmd_stream(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "count", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "fields", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common cc = { .interval_usec = 2000000 };
	struct stream st = { 0 };
	struct json_fields *fields = NULL;
	char *end;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "hn:o:f:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(stream_help, stdout);
			return 0;
		case 'n':
			errno = 0;
			st.count = strtoull(optarg, &end, 10);
			if (errno || *end || end == optarg || st.count == 0 || optarg[0] == '-') {
				fprintf(stderr, "cgwarden stream: --count: '%s' is not a positive number\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'o':
			st.dest = optarg;
			break;
		case 'f':
			json_fields_free(fields);
			fields = NULL;
			err = json_fields_parse(optarg, &fields);
			if (err) {
				fprintf(stderr, "cgwarden stream: --fields '%s': %s\n", optarg,
					err == -ENOENT ? "names a member a cgroup object does not have "
							 "(see cgwarden-json(7))"
					: err == -EINVAL ? "expected ids like cpu,memory.current_bytes,psi.cpu"
							 : strerror(-err));
				return EXIT_USAGE;
			}
			break;
		default:
			if (cli_other_opt(&cc, opt, optarg, stream_help)) {
				json_fields_free(fields);
				return EXIT_USAGE;
			}
		}
	}
	st.fields = fields;
	if (cli_no_operands("stream", argc, argv)) {
		json_fields_free(fields);
		return EXIT_USAGE;
	}
	err = loop_new(&st.loop);
	if (err) {
		fprintf(stderr, "cgwarden stream: cannot set up the event loop: %s\n", strerror(-err));
		json_fields_free(fields);
		return EXIT_RUNTIME;
	}
	err = lineout_open(st.dest, st.loop, &st.out);
	if (err) {
		fprintf(stderr, "cgwarden stream: --output %s: %s\n",
			st.dest ? st.dest : "(stdout)", strerror(-err));
		loop_free(st.loop);
		json_fields_free(fields);
		return EXIT_USAGE;
	}
	/* EPIPE from write() instead of death by SIGPIPE: we end cleanly. */
	signal(SIGPIPE, SIG_IGN);
	err = loop_add_signals(st.loop, on_signal, &st);
	if (err) {
		fprintf(stderr, "cgwarden stream: cannot set up the event loop: %s\n", strerror(-err));
		st.status = EXIT_RUNTIME;
		goto out;
	}
	err = cli_open_collector(&cc, &st.c);
	if (err) {
		st.status = err;
		goto out;
	}
	if (stream_tick(&st))
		goto out;
	err = loop_add_timer(st.loop, cc.interval_usec, on_timer, &st);
	if (err < 0) {
		fprintf(stderr, "cgwarden stream: cannot set up the event loop: %s\n", strerror(-err));
		st.status = EXIT_RUNTIME;
		goto out;
	}
	err = loop_run(st.loop);
	if (err < 0) {
		fprintf(stderr, "cgwarden stream: event loop: %s\n", strerror(-err));
		st.status = EXIT_RUNTIME;
	}
out:
	/* The rest of a line a slow reader left pending: finish it if the
	 * reader makes room within 2 s, so it does not end on half a line. */
	lineout_close(st.out, 2000);
	loop_free(st.loop);
	collector_free(st.c);
	json_fields_free(fields);
	return st.status;
}
