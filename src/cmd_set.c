/* SPDX-License-Identifier: GPL-2.0-only */
/* cgwarden set: change one cgroup's limits now, through the actuator. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "actuator.h"
#include "cli.h"
#include "collector.h"
#include "commands.h"
#include "json_records.h"
#include "limitval.h"

static const char set_help[] =
	"Usage: cgwarden set TARGET [OPTIONS]\n\n"
	"Change the limits of one cgroup now. TARGET is a path relative to the\n"
	"cgroup2 root (system.slice/nginx.service), a container, pod or unit name,\n"
	"or a container id (12 characters or more). An ambiguous name is refused\n"
	"and the candidates are listed. Everything is checked before anything is\n"
	"written; each file's old and new value is printed, and the exit status is\n"
	"0 only if every write took effect (read back).\n\n"
	"Limits (give 'max' to lift one):\n"
	"      --cpu N             CPUs, e.g. 1.5 (cpu.max QUOTA 100000)\n"
	"      --cpu-max 'Q P'     cpu.max as quota and period in usec\n"
	"      --cpu-weight N      cpu.weight, 1..10000 (100 is the default)\n"
	"      --memory SIZE       memory.max, e.g. 512M, 2G\n"
	"      --memory-high SIZE  memory.high (throttle and reclaim above it)\n"
	"      --memory-low SIZE   memory.low (best-effort protection)\n"
	"      --memory-min SIZE   memory.min (hard protection)\n"
	"      --swap SIZE         memory.swap.max\n"
	"      --pids N            pids.max\n"
	"Actions:\n"
	"      --freeze, --thaw    stop or resume every process\n"
	"      --kill              kill every process; asks on a\n"
	"                          terminal, needs --yes otherwise\n"
	"Checks:\n"
	"      --dry-run           print what would be written, write nothing\n"
	"      --force             allow memory.max/high below current usage\n"
	"  -y, --yes               do not ask before --kill\n"
	"      --timeout DUR       wait for reclaim, freeze, kill (default 5s)\n"
	"      --audit-log FILE    append one JSON audit line per change\n"
	"      --root DIR          cgroup2 root (default: from mountinfo)\n"
	"  -h, --help              this text\n\n"
	"Never touched: the root cgroup, init.scope, cgwarden's own cgroup (and, for\n"
	"--freeze and --kill, the cgroups that contain it). Exit status: 0 all\n"
	"written and verified, 1 a write failed, 2 refused before writing.\n";

enum {
	OPT_CPU = 0x200, OPT_CPU_MAX, OPT_CPU_WEIGHT, OPT_MEMORY, OPT_MEMORY_HIGH,
	OPT_MEMORY_LOW, OPT_MEMORY_MIN, OPT_SWAP, OPT_PIDS, OPT_FREEZE, OPT_THAW,
	OPT_KILL, OPT_DRY_RUN, OPT_FORCE, OPT_TIMEOUT, OPT_AUDIT_LOG, OPT_FIXTURE_ROOT,
	OPT_SELF_CGROUP,
};

struct set_req {
	const char *target;
	bool want[ACT__COUNT];
	struct act_change change[ACT__COUNT];
	bool dry_run, force, yes, fixture_root;
	const char *audit_log, *self_cgroup;
	uint64_t timeout_usec;
};

static int bad(const char *opt, const char *why)
{
	fprintf(stderr, "cgwarden set: %s: %s\n", opt, why);
	return EXIT_USAGE;
}

/* Parses one limit option's value into req. 0 or an exit code. */
static int take_limit(struct set_req *r, int opt, const char *arg)
{
	char why[LIMITVAL_WHY_MAX];
	static const struct {
		int opt;
		enum act_kind kind;
		const char *name;
	} memopts[] = {
		{ OPT_MEMORY, ACT_MEMORY_MAX, "--memory" },
		{ OPT_MEMORY_HIGH, ACT_MEMORY_HIGH, "--memory-high" },
		{ OPT_MEMORY_LOW, ACT_MEMORY_LOW, "--memory-low" },
		{ OPT_MEMORY_MIN, ACT_MEMORY_MIN, "--memory-min" },
		{ OPT_SWAP, ACT_SWAP_MAX, "--swap" },
	};
	struct act_change *c;

	for (size_t i = 0; i < sizeof(memopts) / sizeof(memopts[0]); i++) {
		if (memopts[i].opt != opt)
			continue;
		c = &r->change[memopts[i].kind];
		if (limitval_parse_bytes(arg, &c->value, why, sizeof(why)))
			return bad(memopts[i].name, why);
		r->want[memopts[i].kind] = true;
		return 0;
	}
	switch (opt) {
	case OPT_CPU:
		c = &r->change[ACT_CPU_MAX];
		if (r->want[ACT_CPU_MAX])
			return bad("--cpu", "give --cpu or --cpu-max, not both");
		c->period = LIMITVAL_CPU_PERIOD_DEFAULT;
		if (limitval_parse_cpus(arg, c->period, &c->value, why, sizeof(why)))
			return bad("--cpu", why);
		r->want[ACT_CPU_MAX] = true;
		return 0;
	case OPT_CPU_MAX:
		c = &r->change[ACT_CPU_MAX];
		if (r->want[ACT_CPU_MAX])
			return bad("--cpu-max", "give --cpu or --cpu-max, not both");
		if (limitval_parse_cpu_max(arg, &c->value, &c->period, why, sizeof(why)))
			return bad("--cpu-max", why);
		r->want[ACT_CPU_MAX] = true;
		return 0;
	case OPT_CPU_WEIGHT:
		if (limitval_parse_weight(arg, &r->change[ACT_CPU_WEIGHT].value, why, sizeof(why)))
			return bad("--cpu-weight", why);
		r->want[ACT_CPU_WEIGHT] = true;
		return 0;
	case OPT_PIDS:
		if (limitval_parse_count(arg, &r->change[ACT_PIDS_MAX].value, why, sizeof(why)))
			return bad("--pids", why);
		r->want[ACT_PIDS_MAX] = true;
		return 0;
	}
	return -1;
}

/* Names a cgroup by path, or by container/pod/unit name or id through one
 * collector tick. Prints why and returns an exit code when it cannot. */
static int resolve_target(struct actuator *a, const struct set_req *r, const char *root,
			  char *path, size_t pathlen)
{
	struct collector_opts co = { .root = root, .quiet = true };
	const struct cg_snapshot *s;
	struct collector *c;
	char why[ACT_WHY_MAX];
	const struct cg_sample *hit[16];
	size_t nr = 0, tlen = strlen(r->target);
	int err = actuator_check_target(a, r->target, ACT_CPU_MAX, why, sizeof(why));

	/* A path that exists (or one refused for what it is) is taken as a path. */
	if (err != -ENOENT || strchr(r->target, '/')) {
		if (err && err != -EPERM) {
			fprintf(stderr, "cgwarden set: %s\n", why);
			return EXIT_USAGE;
		}
		snprintf(path, pathlen, "%s", r->target);
		return 0;
	}
	if (collector_new(&co, &c)) {
		fprintf(stderr, "cgwarden set: %s\n", why);
		return EXIT_USAGE;
	}
	if (collector_tick(c, &s)) {
		fprintf(stderr, "cgwarden set: %s\n", why);
		collector_free(c);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < s->nr_samples; i++) {
		const struct cg_sample *x = &s->samples[i];
		const struct cg_identity *id = &x->ident;
		const char *last = strrchr(x->path, '/');

		last = last ? last + 1 : x->path;
		if ((id->name && strcmp(id->name, r->target) == 0) ||
		    (id->short_id && strcmp(id->short_id, r->target) == 0) ||
		    (id->container_id && tlen >= 12 && strncmp(id->container_id, r->target, tlen) == 0) ||
		    (id->k8s_pod && strcmp(id->k8s_pod, r->target) == 0 && id->kind == CG_KIND_POD) ||
		    strcmp(last, r->target) == 0) {
			if (nr < sizeof(hit) / sizeof(hit[0]))
				hit[nr] = x;
			nr++;
		}
	}
	if (nr == 1) {
		snprintf(path, pathlen, "%s", hit[0]->path);
		collector_free(c);
		return 0;
	}
	if (nr == 0)
		fprintf(stderr, "cgwarden set: no cgroup matches '%s': not a path under %s, "
			"nor a container, pod or unit name or id\n", r->target, root);
	else {
		fprintf(stderr, "cgwarden set: '%s' is ambiguous: %zu cgroups match; give one "
			"of these paths:\n", r->target, nr);
		for (size_t i = 0; i < nr && i < sizeof(hit) / sizeof(hit[0]); i++)
			fprintf(stderr, "  %s  (%s %s)\n", hit[i]->path,
				cg_kind_name(hit[i]->ident.kind),
				hit[i]->ident.name ? hit[i]->ident.name : "");
	}
	collector_free(c);
	return EXIT_USAGE;
}

static void audit_to_file(void *ctx, const struct act_audit *rec)
{
	if (json_write_audit(ctx, rec))
		fprintf(stderr, "cgwarden set: writing the audit log failed\n");
}

static bool confirm_kill(const char *path)
{
	char line[16];

	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "cgwarden set: --kill needs --yes when standard input is not "
			"a terminal\n");
		return false;
	}
	fprintf(stderr, "Kill every process in %s? [y/N] ", path);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	return line[0] == 'y' || line[0] == 'Y';
}

static void print_outcome(const char *path, const struct act_outcome *o)
{
	char text[3 * ACT_TEXT_MAX + ACT_WHY_MAX + 64];

	printf("%s: %s\n", path, actuator_describe(o, text, sizeof(text)));
}

int cmd_set(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cpu", required_argument, NULL, OPT_CPU },
		{ "cpu-max", required_argument, NULL, OPT_CPU_MAX },
		{ "cpu-weight", required_argument, NULL, OPT_CPU_WEIGHT },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "memory-high", required_argument, NULL, OPT_MEMORY_HIGH },
		{ "memory-low", required_argument, NULL, OPT_MEMORY_LOW },
		{ "memory-min", required_argument, NULL, OPT_MEMORY_MIN },
		{ "swap", required_argument, NULL, OPT_SWAP },
		{ "pids", required_argument, NULL, OPT_PIDS },
		{ "freeze", no_argument, NULL, OPT_FREEZE },
		{ "thaw", no_argument, NULL, OPT_THAW },
		{ "kill", no_argument, NULL, OPT_KILL },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "yes", no_argument, NULL, 'y' },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "audit-log", required_argument, NULL, OPT_AUDIT_LOG },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "mountinfo", required_argument, NULL, OPT_MOUNTINFO },
		{ "fixture-root", no_argument, NULL, OPT_FIXTURE_ROOT },
		{ "self-cgroup", required_argument, NULL, OPT_SELF_CGROUP },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct set_req r = { 0 };
	struct actuator_opts ao = { 0 };
	struct actuator *a = NULL;
	struct act_outcome o;
	char who[128], why[ACT_WHY_MAX], path[4096];
	FILE *audit_log = NULL;
	int opt, err, status = 0, nr = 0;

	while ((opt = getopt_long(argc, argv, "hy", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(set_help, stdout);
			return 0;
		case 'y': r.yes = true; break;
		case OPT_FREEZE: r.want[ACT_FREEZE] = true; break;
		case OPT_THAW: r.want[ACT_THAW] = true; break;
		case OPT_KILL: r.want[ACT_KILL] = true; break;
		case OPT_DRY_RUN: r.dry_run = true; break;
		case OPT_FORCE: r.force = true; break;
		case OPT_AUDIT_LOG: r.audit_log = optarg; break;
		case OPT_ROOT: ao.root = optarg; break;
		case OPT_MOUNTINFO: ao.mountinfo = optarg; break;
		case OPT_FIXTURE_ROOT: r.fixture_root = true; break;
		case OPT_SELF_CGROUP: r.self_cgroup = optarg; break;
		case OPT_TIMEOUT:
			if (cli_parse_duration(optarg, &r.timeout_usec))
				return bad("--timeout", "not a duration (e.g. 5s, 500ms)");
			break;
		default:
			if (opt == '?')
				return EXIT_USAGE;
			err = take_limit(&r, opt, optarg);
			if (err)
				return err > 0 ? err : EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "cgwarden set: give one TARGET (see cgwarden set --help)\n");
		return EXIT_USAGE;
	}
	r.target = argv[optind];
	/* "system.slice/x/" is "system.slice/x": one spelling in output and audit. */
	for (size_t n = strlen(r.target); n > 1 && r.target[n - 1] == '/'; n--)
		argv[optind][n - 1] = '\0';
	if (r.want[ACT_FREEZE] && r.want[ACT_THAW])
		return bad("--freeze", "give --freeze or --thaw, not both");
	for (int k = 0; k < ACT__COUNT; k++) {
		r.change[k].kind = (enum act_kind)k;
		r.change[k].force = r.force;
		nr += r.want[k];
	}
	if (!nr) {
		fprintf(stderr, "cgwarden set: nothing to change (see cgwarden set --help)\n");
		return EXIT_USAGE;
	}
	snprintf(who, sizeof(who), "cgwarden set (uid %u, pid %d%s%s)", (unsigned)getuid(),
		 (int)getpid(), getenv("SUDO_USER") ? ", sudo from " : "",
		 getenv("SUDO_USER") ? getenv("SUDO_USER") : "");
	if (r.audit_log) {
		audit_log = fopen(r.audit_log, "ae");
		if (!audit_log)
			return bad("--audit-log", strerror(errno));
	}
	ao.fixture_root = r.fixture_root;
	ao.dry_run = r.dry_run;
	ao.who = who;
	ao.audit = audit_log ? audit_to_file : NULL;
	ao.audit_ctx = audit_log;
	ao.timeout_usec = r.timeout_usec;
	ao.self_cgroup = r.self_cgroup;
	err = actuator_open(&ao, &a, why, sizeof(why));
	if (err) {
		fprintf(stderr, "cgwarden set: %s\n", why);
		status = EXIT_USAGE;
		goto out;
	}
	status = resolve_target(a, &r, actuator_root(a), path, sizeof(path));
	if (status)
		goto out;
	/* Everything is checked before the first write. */
	for (int k = 0; k < ACT__COUNT; k++) {
		if (!r.want[k])
			continue;
		if (actuator_validate(a, path, &r.change[k], &o)) {
			fprintf(stderr, "cgwarden set: %s\n", o.why);
			status = EXIT_USAGE;
		}
	}
	if (status)
		goto out;
	if (r.want[ACT_KILL] && !r.yes && !r.dry_run && !confirm_kill(path)) {
		fprintf(stderr, "cgwarden set: nothing changed\n");
		status = EXIT_USAGE;
		goto out;
	}
	for (int k = 0; k < ACT__COUNT; k++) {
		if (!r.want[k])
			continue;
		if (actuator_apply(a, path, &r.change[k], &o))
			status = EXIT_RUNTIME;
		print_outcome(path, &o);
	}
out:
	actuator_close(a);
	if (audit_log)
		fclose(audit_log);
	return status;
}
