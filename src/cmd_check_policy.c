/* SPDX-License-Identifier: GPL-2.0-only */
/* cgwarden check-policy: every error of a policy file, or what it would act on now. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "collector.h"
#include "commands.h"
#include "json_policy.h"
#include "limitval.h"
#include "policy.h"

static const char check_help[] =
	"Usage: cgwarden check-policy FILE [OPTIONS]\n\n"
	"Read a policy file (cgwarden-policy(5)) and report every error with the\n"
	"file, line:column or field path (rules[2].then[1].wait) and the reason;\n"
	"exit 1 if there is any. Otherwise read the cgroup tree once and print,\n"
	"for each rule, its conditions and ladder and the cgroups it matches on\n"
	"this host right now, with the values its conditions would see.\n\n"
	"Options:\n"
	"      --root DIR        cgroup2 tree to read (default: from mountinfo)\n"
	"      --quiet           only the errors, or nothing\n"
	"  -h, --help            this text\n\n"
	"Exit status: 0 valid, 1 errors in the file, 2 usage or no cgroup tree.\n";

#define SHOW_MAX 10

static void print_value(const struct pol_cond *c, double v, char *out, size_t len)
{
	if (isnan(v))
		snprintf(out, len, "absent");
	else if (isinf(v))
		snprintf(out, len, "max");
	else if (c->metric.bytes)
		limitval_format_bytes_human((uint64_t)v, out, len);
	else
		snprintf(out, len, "%.6g", v);
}

static void print_rule(const struct pol_rule *r)
{
	static const char *const ops[] = { ">", ">=", "<", "<=" };
	char a[48], b[48];

	printf("rule %s%s:\n  when %s of:\n", r->name, r->dry_run ? " (dry run)" : "",
	       r->any ? "any" : "all");
	for (size_t i = 0; i < r->nr_conds; i++) {
		const struct pol_cond *c = &r->conds[i];

		print_value(c, c->value, a, sizeof(a));
		policy_format_usec(c->for_usec, b, sizeof(b));
		printf("    %s %s %s for %s", c->metric_name, ops[c->op], a, b);
		if (c->clear != c->value) {
			print_value(c, c->clear, a, sizeof(a));
			printf(", clear at %s", a);
		}
		if (c->window_usec) {
			policy_format_usec(c->window_usec, a, sizeof(a));
			printf(" (kernel trigger, window %s)", a);
		}
		printf("\n");
	}
	printf("  then:\n");
	for (size_t k = 0; k < r->nr_steps; k++) {
		const struct pol_step *s = &r->steps[k];

		printf("    %zu. %s", k + 1, policy_action_name(s->action));
		switch (s->action) {
		case POL_MEMORY_HIGH:
		case POL_MEMORY_MAX:
			limitval_format_bytes_human(s->value, a, sizeof(a));
			printf(" %s", a);
			break;
		case POL_CPU_MAX:
			limitval_format(s->value, a, sizeof(a));
			printf(" %s %" PRIu64, a, s->period);
			break;
		case POL_CPU_WEIGHT:
			printf(" %" PRIu64, s->value);
			break;
		case POL_HOOK:
			policy_format_usec(s->hook_timeout_usec, a, sizeof(a));
			printf(" %s (timeout %s)", s->hook_path, a);
			break;
		case POL_LOG:
			printf(" \"%s\"", s->message);
			break;
		default:
			break;
		}
		if (s->wait_usec && k + 1 < r->nr_steps) {
			policy_format_usec(s->wait_usec, a, sizeof(a));
			printf(", then wait %s", a);
		}
		printf("\n");
	}
	if (r->restore_after_usec) {
		policy_format_usec(r->restore_after_usec, a, sizeof(a));
		printf("  restore after %s without the condition\n", a);
	} else {
		printf("  no restore: limits stay until changed by hand\n");
	}
	if (r->cooldown_usec) {
		policy_format_usec(r->cooldown_usec, a, sizeof(a));
		printf("  cooldown %s\n", a);
	}
}

static void print_matches(const struct pol_rule *r, const struct cg_snapshot *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nr_samples; i++)
		n += policy_rule_matches(r, &s->samples[i]);
	printf("  matches %zu cgroup%s now%s\n", n, n == 1 ? "" : "s", n ? ":" : "");
	n = 0;
	for (size_t i = 0; i < s->nr_samples; i++) {
		const struct cg_sample *x = &s->samples[i];
		bool met_all = true, met_any = false;

		if (!policy_rule_matches(r, x))
			continue;
		if (n++ == SHOW_MAX) {
			printf("    ...\n");
			break;
		}
		printf("    %s (", x->path);
		for (size_t k = 0; k < r->nr_conds; k++) {
			const struct pol_cond *c = &r->conds[k];
			double v = NAN;
			char text[48];
			bool met;

			policy_metric_get(x, &c->metric, &v);
			met = !isnan(v) && (c->op == POL_GT ? v > c->value : c->op == POL_GE ? v >= c->value :
					    c->op == POL_LT ? v < c->value : v <= c->value);
			met_all &= met;
			met_any |= met;
			print_value(c, v, text, sizeof(text));
			printf("%s%s %s", k ? ", " : "", c->metric_name, text);
		}
		printf(")%s\n", (r->any ? met_any : met_all) ? " <- conditions met now" : "");
	}
}

int cmd_check_policy(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "mountinfo", required_argument, NULL, OPT_MOUNTINFO },
		/* Undocumented, as for every command: the golden tests' fixture
		 * trees name their own runtime state and /proc. */
		{ "state-root", required_argument, NULL, OPT_STATE_ROOT },
		{ "proc-root", required_argument, NULL, OPT_PROC_ROOT },
		{ "sys-root", required_argument, NULL, OPT_SYS_ROOT },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common cc = { .no_bpf = true };
	const struct cg_snapshot *snap;
	struct pol_errors errs = { 0 };
	struct collector *c = NULL;
	struct policy *p = NULL;
	bool quiet = false;
	int opt, err;

	cc.copts.quiet = true;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(check_help, stdout);
			return 0;
		case OPT_QUIET:
			quiet = true;	/* here: nothing on success */
			break;
		default:
			if (cli_other_opt(&cc, opt, optarg, check_help))
				return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "cgwarden check-policy: give one FILE (see --help)\n");
		return EXIT_USAGE;
	}
	err = json_policy_load(argv[optind], &p, &errs);
	if (err) {
		for (size_t i = 0; i < errs.nr; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		if (errs.oom || err == -ENOMEM)
			fprintf(stderr, "cgwarden check-policy: out of memory\n");
		fprintf(stderr, "cgwarden check-policy: %s: %zu error%s\n", argv[optind], errs.nr,
			errs.nr == 1 ? "" : "s");
		pol_errors_free(&errs);
		return EXIT_RUNTIME;
	}
	if (quiet) {
		policy_free(p);
		return 0;
	}
	printf("%s: valid, %zu rule%s; %s", argv[optind], p->nr_rules, p->nr_rules == 1 ? "" : "s",
	       p->dry_run ? "dry run (nothing is changed)" : "acting");
	if (p->budget_per_minute)
		printf("; at most %u actions a minute", p->budget_per_minute);
	if (p->floor_bytes) {
		char f[32];

		limitval_format_bytes_human(p->floor_bytes, f, sizeof(f));
		printf("; memory floor %s", f);
	}
	printf("\nprotected: the root, init.scope, cgwarden's own cgroup");
	for (size_t i = 0; i < p->nr_protected; i++)
		printf(", %s", p->protected[i]);
	printf("\n");
	err = cli_open_collector(&cc, &c);
	if (err) {
		policy_free(p);
		return err;
	}
	err = collector_tick(c, &snap);
	if (err) {
		fprintf(stderr, "cgwarden check-policy: reading %s: %s\n", collector_root(c),
			strerror(-err));
		snap = NULL;
	}
	for (size_t i = 0; i < p->nr_rules; i++) {
		print_rule(&p->rules[i]);
		if (snap)
			print_matches(&p->rules[i], snap);
	}
	if (snap)
		printf("(rates need two ticks and are absent in this one-tick view)\n");
	collector_free(c);
	policy_free(p);
	/* The file is valid, but what it matches could not be shown: "no
	 * cgroup tree" in --help's words. */
	return snap ? 0 : EXIT_USAGE;
}
