/* SPDX-License-Identifier: GPL-2.0-only */
/* cgwarden stream: NDJSON, one line per event and per tick. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "json.h"
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
	CLI_COMMON_HELP
	"\nThe default interval is 2 s. The output never blocks the collector: a\n"
	"line the reader has no room for is dropped whole and counted in the next\n"
	"tick's self.dropped_lines; so is every line while a --output file or\n"
	"socket is unavailable (said once on stderr). A line the reader has taken\n"
	"part of is finished first: a tick due meanwhile is skipped (counted as\n"
	"one dropped line; its events come with the next tick). On stdout, a\n"
	"reader that goes away ends the stream (status 0). SIGINT and SIGTERM\n"
	"end it.\n";

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
	struct streamout_opts so = { .who = "cgwarden stream", .ticks = true,
				     .skip_when_busy = true, .ends_run = true };
	struct runner_opts ro = { .who = "cgwarden stream" };
	struct runner *r = NULL;
	struct streamout *out = NULL;
	struct json_fields *fields = NULL;
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
