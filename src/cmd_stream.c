/* SPDX-License-Identifier: GPL-2.0-only */
/* cgwarden stream: NDJSON, one line per event and per tick. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "json.h"
#include "replay.h"
#include "runner.h"
#include "streamout.h"

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
	"                        id, path, name, kind, ... are always kept); only\n"
	"                        the files that feed them are read\n"
	"      --replay DIR      the ticks of a recording (cgwarden record), as\n"
	"                        fast as they can be written, then exit: the lines\n"
	"                        the live stream gave, with the policy actions\n"
	"                        a daemon recorded where it wrote them\n"
	"      --since TIME      with --replay: from this moment (default: the\n"
	"                        start); 2026-12-04T03:00:00Z, '2026-12-04 03:00',\n"
	"                        unix seconds, or -2h back from the end\n"
	"      --until TIME      with --replay: up to this moment (default: the end)\n"
	CLI_COMMON_HELP
	"\nThe default interval is 2 s. The output never blocks the collector: a\n"
	"line the reader has no room for is dropped whole and counted in the next\n"
	"tick's self.dropped_lines; so is every line while a --output file or\n"
	"socket is unavailable (said once on stderr). A line the reader has taken\n"
	"part of is finished first: a tick due meanwhile is skipped (counted as\n"
	"one dropped line; its events come with the next tick). On stdout, a\n"
	"reader that goes away ends the stream (status 0). SIGINT and SIGTERM\n"
	"end it.\n";

struct replay_range_opts {
	const char *dir, *since, *until;
};

static int parse_moment(const char *opt, const char *arg, uint64_t end, uint64_t *out)
{
	if (cli_parse_time(arg, end, out) == 0)
		return 0;
	fprintf(stderr, "cgwarden stream: %s: '%s' is not a time: give 2026-12-04T03:00:00Z, "
		"'2026-12-04 03:00[:SS]', unix seconds or -20s, -2h (back from the recording's "
		"end)\n", opt, arg);
	return -EINVAL;
}

/* The recorded actions of this tick that the live stream wrote before
 * (before: true) or after its tick line: those taken between two ticks (a
 * hook that ended, a PSI trigger) came before it, those of this tick's
 * evaluation, which follows the walk, after. */
static int replay_actions_out(FILE *out, const struct replay *r, uint64_t tick_usec, bool before)
{
	const struct rec_action *acts;
	size_t nr;

	acts = replay_actions(r, &nr);
	for (size_t i = 0; i < nr; i++)
		if ((acts[i].time_usec < tick_usec) == before && fprintf(out, "%s\n", acts[i].json) < 0)
			return -EIO;
	return 0;
}

/* One recorded tick as the live stream wrote it: its dropped-lines count
 * is this stream's own (none: it waits for its reader). */
static int replay_line(FILE *out, const struct cg_snapshot *snap, const struct replay *r,
		       const struct json_fields *fields)
{
	struct cg_snapshot s = *snap;

	s.self.dropped_lines_known = true;
	s.self.dropped_lines = 0;
	if (replay_actions_out(out, r, s.wall_usec, true) ||
	    json_write_stream_tick_fields(out, &s, fields) < 0)
		return -EIO;
	return replay_actions_out(out, r, s.wall_usec, false);
}

static int replay_stream(const struct replay_range_opts *ro, uint64_t count, bool quiet,
			 const struct json_fields *fields)
{
	const struct cg_snapshot *snap;
	uint64_t first, last, since, until, n = 0;
	struct replay *r;
	int err;

	if (replay_open(ro->dir, "cgwarden stream", quiet, &r))
		return EXIT_USAGE;
	replay_range(r, &first, &last);
	since = first;
	until = last;
	if ((ro->since && parse_moment("--since", ro->since, last, &since)) ||
	    (ro->until && parse_moment("--until", ro->until, last, &until))) {
		replay_close(r);
		return EXIT_USAGE;
	}
	if (since > until) {
		fprintf(stderr, "cgwarden stream: --since is after --until\n");
		replay_close(r);
		return EXIT_USAGE;
	}
	err = replay_at(r, since, &snap);
	/* replay_at gives the tick at or before since; the stream begins
	 * at the first one from since on. */
	if (!err && snap->wall_usec < since)
		err = replay_next(r, &snap);
	while (!err && snap->wall_usec <= until && (!count || n < count)) {
		err = replay_line(stdout, snap, r, fields);
		n++;
		if (!err)
			err = replay_next(r, &snap);
	}
	replay_close(r);
	if (fflush(stdout) || err == -EIO) {
		fprintf(stderr, "cgwarden stream: writing failed\n");
		return EXIT_RUNTIME;
	}
	if (err && err != -ENOENT) {
		fprintf(stderr, "cgwarden stream: %s: %s\n", ro->dir,
			err == -EBADMSG ? "the recording cannot be decoded" : strerror(-err));
		return EXIT_RUNTIME;
	}
	return 0;
}

int cmd_stream(int argc, char **argv)
{
	enum { OPT_REPLAY = OPT__COMMON_END, OPT_SINCE, OPT_UNTIL };
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "replay", required_argument, NULL, OPT_REPLAY },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "count", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "fields", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common cc = { .interval_usec = 2000000 };
	struct streamout_opts so = { .who = "cgwarden stream", .ticks = true,
				     .skip_when_busy = true, .ends_run = true };
	struct runner_opts ro = { .who = "cgwarden stream" };
	struct runner *r = NULL;
	struct streamout *out = NULL;
	struct json_fields *fields = NULL;
	struct replay_range_opts rr = { 0 };
	char *end;
	int opt, err, status;

	while ((opt = getopt_long(argc, argv, "hn:o:f:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(stream_help, stdout);
			return 0;
		case 'n':
			errno = 0;
			so.count = strtoull(optarg, &end, 10);
			if (errno || *end || end == optarg || so.count == 0 || optarg[0] == '-') {
				fprintf(stderr, "cgwarden stream: --count: '%s' is not a positive number\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'o':
			so.dest = optarg;
			break;
		case OPT_REPLAY:
			rr.dir = optarg;
			break;
		case OPT_SINCE:
			rr.since = optarg;
			break;
		case OPT_UNTIL:
			rr.until = optarg;
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
	so.fields = fields;
	if (cli_no_operands("stream", argc, argv)) {
		json_fields_free(fields);
		return EXIT_USAGE;
	}
	if ((rr.since || rr.until) && !rr.dir) {
		fprintf(stderr, "cgwarden stream: --since and --until need --replay DIR\n");
		json_fields_free(fields);
		return EXIT_USAGE;
	}
	if (rr.dir && so.dest) {
		fprintf(stderr, "cgwarden stream: --replay writes to standard output only\n");
		json_fields_free(fields);
		return EXIT_USAGE;
	}
	if (rr.dir) {
		status = replay_stream(&rr, so.count, cc.copts.quiet, fields);
		json_fields_free(fields);
		return status;
	}
	ro.interval_usec = cc.interval_usec;
	if (runner_new(&ro, &r)) {
		json_fields_free(fields);
		return EXIT_RUNTIME;
	}
	if (streamout_open(r, &so, &out)) {
		runner_free(r);
		json_fields_free(fields);
		return EXIT_USAGE;
	}
	status = runner_open_collector(r, &cc);
	if (!status)
		status = runner_run(r);
	if (!status)
		status = streamout_status(out);
	streamout_close(out);
	runner_free(r);
	json_fields_free(fields);
	return status;
}
