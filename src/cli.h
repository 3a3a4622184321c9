/* SPDX-License-Identifier: GPL-2.0-only */
/* Options shared by the commands, and the collector set-up they all need. */
#ifndef CGWARDEN_CLI_H
#define CGWARDEN_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include "collector.h"

/* Exit codes: 0 ok, 1 runtime failure, 2 usage or no cgroup2 to read. */
enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

struct cli_common {
	struct collector_opts copts;
	uint64_t interval_usec;
	bool interval_set;
	bool no_bpf;
	bool no_bpf_iter;
};

/* Long options every command accepts; getopt_long values are >= 0x100. */
enum {
	OPT_ROOT = 0x100, OPT_INTERVAL, OPT_NO_BPF, OPT_PROC_ROOT, OPT_SYS_ROOT,
	OPT_STATE_ROOT, OPT_MOUNTINFO, OPT_FD_BUDGET, OPT_QUIET, OPT_BPF_MAX_CGROUPS,
	OPT_BPF_STATS, OPT_NO_BPF_SCHED, OPT_NO_BPF_ITER,
	OPT__COMMON_END
};

#define CLI_COMMON_LONGOPTS                                                   \
	{ "root", required_argument, NULL, OPT_ROOT },                        \
	{ "interval", required_argument, NULL, OPT_INTERVAL },                \
	{ "no-bpf", no_argument, NULL, OPT_NO_BPF },                          \
	{ "proc-root", required_argument, NULL, OPT_PROC_ROOT },              \
	{ "sys-root", required_argument, NULL, OPT_SYS_ROOT },                \
	{ "state-root", required_argument, NULL, OPT_STATE_ROOT },            \
	{ "mountinfo", required_argument, NULL, OPT_MOUNTINFO },              \
	{ "fd-budget", required_argument, NULL, OPT_FD_BUDGET },              \
	{ "quiet", no_argument, NULL, OPT_QUIET },                            \
	{ "bpf-max-cgroups", required_argument, NULL, OPT_BPF_MAX_CGROUPS },  \
	{ "bpf-stats", no_argument, NULL, OPT_BPF_STATS },                    \
	{ "no-bpf-sched", no_argument, NULL, OPT_NO_BPF_SCHED },              \
	{ "no-bpf-iter", no_argument, NULL, OPT_NO_BPF_ITER }

#define CLI_COMMON_HELP                                                       \
	"      --root DIR        cgroup2 tree to read (default: the cgroup2 mount\n" \
	"                        found in /proc/self/mountinfo)\n"             \
	"      --interval DUR    time between ticks: 2, 0.5, 500ms, 1m\n"      \
	"      --no-bpf          cgroupfs only (no eBPF counters, no iterator)\n" \
	"      --no-bpf-iter     read every field from its cgroupfs file, not\n" \
	"                        from the BPF cgroup iterator's one walk\n"  \
	"      --no-bpf-sched    no eBPF on the scheduler (no run-queue and\n" \
	"                        context-switch counts, no cost per switch)\n" \
	"      --bpf-max-cgroups N  size of the eBPF per-cgroup map (16384)\n" \
	"      --bpf-stats       report our BPF programs' run time (turns on\n" \
	"                        the kernel's BPF stats: every program pays)\n" \
	"      --fd-budget N     files kept open across ticks (default:\n"     \
	"                        RLIMIT_NOFILE less a reserve)\n"              \
	"      --quiet           no notices on stderr\n"                       \
	"  -h, --help            this text\n"

/* Handles one common option; returns 0 if handled, 1 if opt is not common,
 * -EINVAL after printing what is wrong. */
int cli_common_opt(struct cli_common *cc, int opt, const char *arg);

/* The default: branch of a command's getopt loop: handles a common option;
 * for anything else prints help on stderr (what is wrong with a common
 * option's value is printed by cli_common_opt). 0 to go on, else
 * EXIT_USAGE for the command to return. */
int cli_other_opt(struct cli_common *cc, int opt, const char *arg, const char *help);

/* After the getopt loop of a command that takes no operands: 0, or says
 * which argument is unexpected and returns EXIT_USAGE. */
int cli_no_operands(const char *cmd, int argc, char **argv);

/* "2", "0.5", "1.5s", "500ms", "2m" -> usec. -EINVAL on anything else or 0. */
int cli_parse_duration(const char *s, uint64_t *usec);

/*
 * A moment for --at, --since, --until (wall time, CLOCK_REALTIME usec):
 *   2026-12-04T03:00:00Z, 2026-12-04T03:00:00.5+01:00  RFC 3339
 *   "2026-12-04 03:00[:SS]"                           local time
 *   1733281200[.5]                                    unix seconds
 *   -20s, -2h, -1d, -90m, -500ms                      before end_usec
 *                                                     (the recording's end)
 * 0 or -EINVAL.
 */
int cli_parse_time(const char *s, uint64_t end_usec, uint64_t *out);

/* Wall time as "2026-12-04T03:00:00.250Z" (UTC, milliseconds, rounded up:
 * typed back into --at, a printed tick's time names that tick, not the one
 * before): what the replaying commands print. out has room for 32 bytes. */
void cli_format_time(uint64_t wall_usec, char *out, size_t len);

/* Creates the collector, printing a clear reason on failure.
 * Returns 0, or the exit code to use. */
int cli_open_collector(const struct cli_common *cc, struct collector **out);

#endif
