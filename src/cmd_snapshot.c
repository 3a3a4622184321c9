/* SPDX-License-Identifier: GPL-2.0-only */
/* cgwarden snapshot: one JSON document of the whole tree, then exit. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "commands.h"
#include "json.h"
#include "replay.h"

static const char snapshot_help[] =
	"Usage: cgwarden snapshot [OPTIONS]\n\n"
	"Print one JSON document describing every cgroup under the cgroup2 root\n"
	"(schema: cgwarden-json(7)). Without --interval the counters are read once\n"
	"and rates (cpu.usage_ratio, io ..._per_sec) are null; with --interval the\n"
	"tree is read twice that far apart and rates are filled in.\n\n"
	"Options:\n"
	"      --compact         one line instead of indented JSON\n"
	"      --replay DIR      from a recording (cgwarden record) instead of the\n"
	"                        live tree: the same document, rates included\n"
	"      --at TIME         the moment to show (default: the recording's last\n"
	"                        tick): 2026-12-04T03:00:00Z, '2026-12-04 03:00',\n"
	"                        unix seconds, or -20s, -2h back from its end\n"
	CLI_COMMON_HELP;

static void sleep_usec(uint64_t usec)
{
	struct timespec ts = { (time_t)(usec / 1000000u), (long)(usec % 1000000u) * 1000 };

	while (nanosleep(&ts, &ts))
		;
}

/* --replay: the recorded tick at (or last before) --at. */
static int replay_snapshot(const char *dir, const char *at, bool quiet, bool pretty)
{
	const struct cg_snapshot *snap;
	uint64_t first, last, when;
	struct replay *r;
	int err;

	if (replay_open(dir, "cgwarden snapshot", quiet, &r))
		return EXIT_USAGE;
	replay_range(r, &first, &last);
	when = last;
	if (at && cli_parse_time(at, last, &when)) {
		fprintf(stderr, "cgwarden snapshot: --at: '%s' is not a time: give "
			"2026-12-04T03:00:00Z, '2026-12-04 03:00[:SS]', unix seconds or -20s, -2h "
			"(back from the recording's end)\n", at);
		replay_close(r);
		return EXIT_USAGE;
	}
	if (when < first && !quiet) {
		char a[32], b[32];

		cli_format_time(when, a, sizeof(a));
		cli_format_time(first, b, sizeof(b));
		fprintf(stderr, "cgwarden snapshot: %s is before the recording, which begins at "
			"%s: showing its first tick\n", a, b);
	}
	err = replay_at(r, when, &snap);
	if (err) {
		fprintf(stderr, "cgwarden snapshot: %s: %s\n", dir,
			err == -EBADMSG ? "the recording cannot be decoded there" : strerror(-err));
		replay_close(r);
		return EXIT_RUNTIME;
	}
	err = json_write_snapshot(stdout, snap, pretty);
	if (!err && fflush(stdout))
		err = -1;
	replay_close(r);
	if (err) {
		fprintf(stderr, "cgwarden: writing the snapshot failed\n");
		return EXIT_RUNTIME;
	}
	return 0;
}

int cmd_snapshot(int argc, char **argv)
{
	enum { OPT_COMPACT = OPT__COMMON_END, OPT_REPLAY, OPT_AT };
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "compact", no_argument, NULL, OPT_COMPACT },
		{ "replay", required_argument, NULL, OPT_REPLAY },
		{ "at", required_argument, NULL, OPT_AT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common cc = { 0 };
	const struct cg_snapshot *snap;
	struct collector *c;
	const char *replay_dir = NULL, *at = NULL;
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
		if (opt == OPT_REPLAY || opt == OPT_AT) {
			*(opt == OPT_REPLAY ? &replay_dir : &at) = optarg;
			continue;
		}
		if (cli_other_opt(&cc, opt, optarg, snapshot_help))
			return EXIT_USAGE;
	}
	if (cli_no_operands("snapshot", argc, argv))
		return EXIT_USAGE;
	if (at && !replay_dir) {
		fprintf(stderr, "cgwarden snapshot: --at needs --replay DIR\n");
		return EXIT_USAGE;
	}
	if (replay_dir)
		return replay_snapshot(replay_dir, at, cc.copts.quiet, pretty);
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
