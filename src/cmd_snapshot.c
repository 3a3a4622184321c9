/* SPDX-License-Identifier: GPL-2.0-only */
/* cgwarden snapshot: one JSON document of the whole tree, then exit. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "commands.h"
#include "json.h"

static const char snapshot_help[] =
	"Usage: cgwarden snapshot [OPTIONS]\n\n"
	"Print one JSON document describing every cgroup under the cgroup2 root\n"
	"(schema: cgwarden-json(7)). Without --interval the counters are read once\n"
	"and rates (cpu.usage_ratio, io ..._per_sec) are null; with --interval the\n"
	"tree is read twice that far apart and rates are filled in.\n\n"
	"Options:\n"
	"      --compact         one line instead of indented JSON\n"
	CLI_COMMON_HELP;

static void sleep_usec(uint64_t usec)
{
	struct timespec ts = { (time_t)(usec / 1000000u), (long)(usec % 1000000u) * 1000 };

	while (nanosleep(&ts, &ts))
		;
}

int cmd_snapshot(int argc, char **argv)
{
	enum { OPT_COMPACT = OPT__COMMON_END };
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "compact", no_argument, NULL, OPT_COMPACT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common cc = { 0 };
	const struct cg_snapshot *snap;
	struct collector *c;
	bool pretty = true;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(snapshot_help, stdout);
			return 0;
		}
		if (opt == OPT_COMPACT) {
			pretty = false;
			continue;
		}
		if (cli_other_opt(&cc, opt, optarg, snapshot_help))
			return EXIT_USAGE;
	}
	if (cli_no_operands("snapshot", argc, argv))
		return EXIT_USAGE;
	err = cli_open_collector(&cc, &c);
	if (err)
		return err;
	err = collector_tick(c, &snap);
	if (!err && cc.interval_set) {
		sleep_usec(cc.interval_usec);
		err = collector_tick(c, &snap);
	}
	if (err) {
		fprintf(stderr, "cgwarden: reading %s: %s\n", collector_root(c), strerror(-err));
		collector_free(c);
		return EXIT_RUNTIME;
	}
	err = json_write_snapshot(stdout, snap, pretty);
	if (!err && fflush(stdout))
		err = -1;
	collector_free(c);
	if (err) {
		fprintf(stderr, "cgwarden: writing the snapshot failed\n");
		return EXIT_RUNTIME;
	}
	return 0;
}
