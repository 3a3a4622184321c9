/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

int cli_parse_duration(const char *s, uint64_t *usec)
{
	char *end;
	double v;
	double scale = 1e6;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v != v)
		return -EINVAL;
	if (strcmp(end, "ms") == 0)
		scale = 1e3;
	else if (strcmp(end, "m") == 0)
		scale = 60e6;
	else if (*end && strcmp(end, "s") != 0)
		return -EINVAL;
	v *= scale;
	/* Below 1 ms the tick would be all overhead; above a day, a typo. */
	if (v < 1000 || v > 86400e6)
		return -EINVAL;
	*usec = (uint64_t)v;
	return 0;
}

int cli_common_opt(struct cli_common *cc, int opt, const char *arg)
{
	char *end;

	switch (opt) {
	case OPT_ROOT: cc->copts.root = arg; return 0;
	case OPT_PROC_ROOT: cc->copts.proc_root = arg; return 0;
	case OPT_SYS_ROOT: cc->copts.sys_root = arg; return 0;
	case OPT_STATE_ROOT: cc->copts.state_root = arg; return 0;
	case OPT_MOUNTINFO: cc->copts.mountinfo = arg; return 0;
	case OPT_QUIET: cc->copts.quiet = true; return 0;
	case OPT_NO_BPF: cc->no_bpf = true; return 0;
	case OPT_BPF_STATS: cc->copts.bpf_stats = true; return 0;
	case OPT_NO_BPF_SCHED: cc->copts.bpf_no_sched = true; return 0;
	case OPT_NO_BPF_ITER: cc->no_bpf_iter = true; return 0;
	case OPT_INTERVAL:
		if (cli_parse_duration(arg, &cc->interval_usec)) {
			fprintf(stderr, "cgwarden: --interval: '%s' is not a duration between "
				"1ms and 1 day (e.g. 2, 0.5, 500ms, 1m)\n", arg);
			return -EINVAL;
		}
		cc->interval_set = true;
		return 0;
	case OPT_BPF_MAX_CGROUPS: {
		unsigned long v;

		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || *end || end == arg || v < 64 || v > 1048576) {
			fprintf(stderr, "cgwarden: --bpf-max-cgroups: '%s' is not a number "
				"from 64 to 1048576\n", arg);
			return -EINVAL;
		}
		cc->copts.bpf_max_cgroups = (uint32_t)v;
		return 0;
	}
	case OPT_FD_BUDGET:
		errno = 0;
		cc->copts.fd_budget = strtol(arg, &end, 10);
		if (errno || *end || end == arg || cc->copts.fd_budget < 1) {
			fprintf(stderr, "cgwarden: --fd-budget: '%s' is not a positive number\n", arg);
			return -EINVAL;
		}
		return 0;
	}
	return 1;
}

int cli_open_collector(const struct cli_common *cc, struct collector **out)
{
	struct collector_opts o = cc->copts;
	int err;

	o.bpf = !cc->no_bpf;
	o.iter = !cc->no_bpf && !cc->no_bpf_iter;
	err = collector_new(&o, out);

	if (!err)
		return 0;
	if (err == -ENOENT && !cc->copts.root) {
		fprintf(stderr, "cgwarden: no cgroup2 filesystem is mounted (no \"cgroup2\" "
			"line in %s); mount one, or pass --root DIR\n",
			cc->copts.mountinfo ? cc->copts.mountinfo : "/proc/self/mountinfo");
		return EXIT_USAGE;
	}
	if (cc->copts.root && err != -ENOMEM) {
		fprintf(stderr, "cgwarden: --root %s: %s\n", cc->copts.root, strerror(-err));
		return EXIT_USAGE;
	}
	fprintf(stderr, "cgwarden: cannot start the collector: %s\n", strerror(-err));
	return EXIT_RUNTIME;
}

int cli_other_opt(struct cli_common *cc, int opt, const char *arg, const char *help)
{
	int err = cli_common_opt(cc, opt, arg);

	if (err > 0)
		fputs(help, stderr);
	return err ? EXIT_USAGE : 0;
}

int cli_no_operands(const char *cmd, int argc, char **argv)
{
	if (optind >= argc)
		return 0;
	fprintf(stderr, "cgwarden %s: unexpected argument '%s'\n", cmd, argv[optind]);
	return EXIT_USAGE;
}
