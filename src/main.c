/* SPDX-License-Identifier: GPL-2.0-only */
/* cgwarden: command dispatch, git/bpftool style. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "commands.h"
#include "version.h"

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "top", cmd_top, "interactive dashboard (the default on a terminal)" },
	{ "snapshot", cmd_snapshot, "print one JSON document of the whole cgroup tree" },
	{ "stream", cmd_stream, "print one JSON line per tick and per event (NDJSON)" },
	{ "serve", cmd_serve, "serve /metrics (Prometheus, OpenMetrics) and /snapshot over HTTP" },
	{ "set", cmd_set, "change one cgroup's limits now (cpu, memory, pids, freeze, kill)" },
	{ "daemon", cmd_daemon, "enforce a policy file: rules, ladders, restores, audit" },
	{ "record", cmd_record, "record every tick to a compact store, for --replay" },
	{ "check-policy", cmd_check_policy, "validate a policy file and show what it matches now" },
	{ "__complete", cmd_complete, NULL },	/* hidden: for completion/ */
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: cgwarden COMMAND [OPTIONS]\n\n"
		   "Per-cgroup resource monitor for container hosts (cgroup v2).\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].summary)
			fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'cgwarden COMMAND --help' describes a command; man cgwarden(8) has it all.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		/* On a terminal, no command means the dashboard (like htop). */
		if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
			return cmd_top(1, (char *[]){ "top", NULL });
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		version_print(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	/* "cgwarden --tree" on a terminal: options without a command are top's. */
	if (argv[1][0] == '-' && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
		return cmd_top(argc, argv);
	fprintf(stderr, "cgwarden: '%s' is not a command.\n\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
