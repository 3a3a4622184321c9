/* SPDX-License-Identifier: GPL-2.0-only */
/* cgwarden record: the flight recorder alone (src/recorder, src/store). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "cli.h"
#include "commands.h"
#include "limitval.h"
#include "recorder.h"
#include "runner.h"

static const char record_help[] =
	"Usage: cgwarden record --output DIR [OPTIONS]\n\n"
	"Record every tick of the whole cgroup tree into an append-only store in\n"
	"DIR: every metric of every cgroup, births and deaths, identity changes,\n"
	"OOM kills, compressed as deltas (zstd). Replay it with\n"
	"'cgwarden snapshot|stream|top --replay DIR' and try a policy on it with\n"
	"'cgwarden check-policy FILE --replay DIR'. serve and daemon record too,\n"
	"with --record DIR (the daemon adds its policy actions).\n\n"
	"Options:\n"
	"  -o, --output DIR      the store (created if missing; one recorder at a\n"
	"                        time: it is locked)\n"
	"      --retain SPEC     delete the oldest files beyond a size or an age:\n"
	"                        512M, 7d, or both: 2G,30d (default 1G,7d, and at\n"
	"                        most a twentieth of the file system). Ages end\n"
	"                        in s, m (minutes), h or d; sizes in K, M, G, T\n"
	"      --flush DUR       ticks reach the disk within DUR (default 10s): a\n"
	"                        crash loses at most that much\n"
	"  -n, --count N         stop after N ticks (default: until interrupted)\n"
	CLI_COMMON_HELP
	"\nThe default interval is 5 s. A full disk pauses the recording (said\n"
	"once) until there is room again. SIGINT and SIGTERM write what is\n"
	"buffered and exit 0. See cgwarden-record(8) and cgwarden-store(5).\n";


int cmd_record(int argc, char **argv)
{
	enum { OPT_RETAIN = 0x300, OPT_FLUSH };
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "output", required_argument, NULL, 'o' },
		{ "retain", required_argument, NULL, OPT_RETAIN },
		{ "flush", required_argument, NULL, OPT_FLUSH },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common cc = { .interval_usec = 5000000 };
	struct recorder_opts ro = { .who = "cgwarden record" };
	struct runner_opts rno = { .who = "cgwarden record" };
	struct recorder *rec = NULL;
	struct runner *r = NULL;
	char *end;
	int opt, status;

	while ((opt = getopt_long(argc, argv, "ho:n:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(record_help, stdout);
			return 0;
		case 'o':
			ro.dir = optarg;
			break;
		case OPT_RETAIN:
			if (recorder_retain_opt("cgwarden record", optarg, &ro))
				return EXIT_USAGE;
			break;
		case OPT_FLUSH:
			if (cli_parse_duration(optarg, &ro.flush_usec)) {
				fprintf(stderr, "cgwarden record: --flush: '%s' is not a duration "
					"(10s, 500ms, 1m)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			errno = 0;
			ro.count = strtoull(optarg, &end, 10);
			if (errno || *end || end == optarg || ro.count == 0 || optarg[0] == '-') {
				fprintf(stderr, "cgwarden record: --count: '%s' is not a positive "
					"number\n", optarg);
				return EXIT_USAGE;
			}
			break;
		default:
			if (cli_other_opt(&cc, opt, optarg, record_help))
				return EXIT_USAGE;
		}
	}
	if (cli_no_operands("record", argc, argv))
		return EXIT_USAGE;
	if (!ro.dir) {
		fprintf(stderr, "cgwarden record: --output DIR is required (see --help)\n");
		return EXIT_USAGE;
	}
	ro.quiet = cc.copts.quiet;
	rno.interval_usec = cc.interval_usec;
	if (runner_new(&rno, &r))
		return EXIT_RUNTIME;
	status = runner_open_collector(r, &cc);
	if (!status && recorder_open(r, &ro, &rec))
		status = EXIT_RUNTIME;
	if (!status) {
		char size[32];
		uint64_t hours = (ro.retain_usec ? ro.retain_usec : RECORDER_RETAIN_USEC) / 3600000000u;

		limitval_format_bytes_human(ro.retain_bytes ? ro.retain_bytes :
					    recorder_default_retain_bytes(ro.dir), size, sizeof(size));
		if (!ro.quiet)
			fprintf(stderr, "cgwarden record: recording %s every %" PRIu64 " ms to %s "
				"(keeping at most %s and %" PRIu64 " h)\n", collector_root(runner_collector(r)),
				cc.interval_usec / 1000, ro.dir, size, hours);
		status = runner_run(r);
	}
	recorder_close(rec);
	runner_free(r);
	return status;
}
