/* SPDX-License-Identifier: GPL-2.0-only */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* A span for "-2h": a number and one of ms, s, m, h, d (s when none). */
static int parse_span(const char *s, uint64_t *usec)
{
	static const struct { const char *unit; double scale; } units[] = {
		{ "ms", 1e3 }, { "s", 1e6 }, { "", 1e6 }, { "m", 60e6 }, { "h", 3600e6 },
		{ "d", 86400e6 },
	};
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v >= 0) || !isdigit((unsigned char)*s))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			v *= units[i].scale;
			if (v > 1e17)
				return -EINVAL;
			*usec = (uint64_t)v;
			return 0;
		}
	}
	return -EINVAL;
}

/* "[.frac]" after the seconds: microseconds, at most six digits used. */
static const char *parse_frac(const char *p, uint64_t *usec)
{
	uint64_t scale = 100000;

	*usec = 0;
	if (*p != '.')
		return p;
	if (!isdigit((unsigned char)*++p))
		return NULL;
	for (; isdigit((unsigned char)*p); p++, scale /= 10)
		*usec += (uint64_t)(*p - '0') * scale;
	return p;
}

int cli_parse_time(const char *s, uint64_t end_usec, uint64_t *out)
{
	struct tm tm = { 0 };
	uint64_t frac, span;
	const char *p;
	time_t t;

	if (!s || !*s)
		return -EINVAL;
	if (s[0] == '-') {
		if (parse_span(s + 1, &span) || span > end_usec)
			return -EINVAL;
		*out = end_usec - span;
		return 0;
	}
	p = s;
	while (isdigit((unsigned char)*p))
		p++;
	if (p != s && (*p == 0 || *p == '.')) {
		char *end;
		unsigned long long sec;

		errno = 0;
		sec = strtoull(s, &end, 10);
		p = parse_frac(end, &frac);
		if (errno || !p || *p || sec > 1ull << 40)
			return -EINVAL;
		*out = sec * 1000000u + frac;
		return 0;
	}
	tm.tm_isdst = -1;
	p = strptime(s, "%Y-%m-%d", &tm);
	if (!p || (*p != 'T' && *p != 't' && *p != ' '))
		return -EINVAL;
	if (*p == ' ') {
		/* Local time: seconds optional, no zone. */
		const char *q = strptime(p + 1, "%H:%M", &tm);

		if (!q)
			return -EINVAL;
		frac = 0;
		if (*q == ':') {
			q = strptime(q, ":%S", &tm);
			q = q ? parse_frac(q, &frac) : NULL;
		}
		if (!q || *q)
			return -EINVAL;
		t = mktime(&tm);
		if (t == (time_t)-1 || t < 0)
			return -EINVAL;
		*out = (uint64_t)t * 1000000u + frac;
		return 0;
	}
	/* RFC 3339: seconds and a zone are required. */
	p = strptime(p + 1, "%H:%M:%S", &tm);
	p = p ? parse_frac(p, &frac) : NULL;
	if (!p)
		return -EINVAL;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;

		if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) || p[3] != ':' ||
		    !isdigit((unsigned char)p[4]) || !isdigit((unsigned char)p[5]))
			return -EINVAL;
		t -= sign * (((p[1] - '0') * 10 + (p[2] - '0')) * 3600 +
			     ((p[4] - '0') * 10 + (p[5] - '0')) * 60);
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p || t < 0)
		return -EINVAL;
	*out = (uint64_t)t * 1000000u + frac;
	return 0;
}

void cli_format_time(uint64_t wall_usec, char *out, size_t len)
{
	uint64_t ms = (wall_usec + 999) / 1000;
	time_t t = (time_t)(ms / 1000u);
	struct tm tm;
	char day[24];

	if (!gmtime_r(&t, &tm) || !strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(out, len, "?");
		return;
	}
	snprintf(out, len, "%s.%03uZ", day, (unsigned)(ms % 1000u));
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
