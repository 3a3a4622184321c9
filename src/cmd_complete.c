/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgwarden __complete: what the shell completions (completion/) offer,
 * printed one per line from the program's own help texts and tables, so
 * a new command, option, metric or column is completed without touching
 * the scripts.
 * Hidden: main.c's table gives it no summary.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"
#include "collector.h"
#include "commands.h"
#include "json.h"
#include "metrics.h"
#include "rows.h"

static const char complete_help[] =
	"Usage: cgwarden __complete WHAT [ARGS]\n\n"
	"For the shell completions; one item per line:\n"
	"  commands              NAME<TAB>SUMMARY of each command\n"
	"  options CMD           OPTION<TAB>ARG<TAB>TEXT of each option CMD --help\n"
	"                        lists (ARG empty for a flag)\n"
	"  fields                every id --fields accepts\n"
	"  columns               the column titles top --sort accepts\n"
	"  targets [--root DIR]  cgroup paths and workload names set accepts;\n"
	"                        names with a newline are left out\n";

/*
 * The help text the program prints: `cgwarden --help` (cmd NULL) for the
 * commands, `cgwarden CMD --help` for a command's options. What a user is
 * told is what is completed: a hidden command or a test-only option is
 * not listed there, and an option's placeholder (FILE, DIR, LIST ...)
 * tells the scripts what its value is; test_completion.sh checks that
 * getopt_long knows every option listed. Run as a new process of this
 * very binary, so that no command's state or exit touches this one (and
 * this file links to no command, nor main.c's table).
 */
static char *help_text(const char *cmd)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int pfd[2], status;
	ssize_t n;
	pid_t pid;

	fflush(stdout);
	if (pipe2(pfd, O_CLOEXEC))
		return NULL;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return NULL;
	}
	if (pid == 0) {
		if (dup2(pfd[1], STDOUT_FILENO) < 0)
			_exit(127);
		if (cmd)
			execl("/proc/self/exe", "cgwarden", cmd, "--help", (char *)NULL);
		else
			execl("/proc/self/exe", "cgwarden", "--help", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *p = realloc(buf, cap = cap ? 2 * cap : 16384);

			if (!p)
				break;
			buf = p;
		}
		n = read(pfd[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (buf && (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !len)) {
		free(buf);
		return NULL;
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* The "Commands:" block of the usage: "  name   summary". */
static int list_commands(void)
{
	char *help = help_text(NULL), *rest = help, *line;
	bool in = false;

	if (!help)
		return EXIT_RUNTIME;
	while ((line = strsep(&rest, "\n")) != NULL) {
		size_t name;

		if (!in) {
			in = strcmp(line, "Commands:") == 0;
			continue;
		}
		if (strncmp(line, "  ", 2) != 0)
			break;
		line += 2;
		name = strcspn(line, " ");
		printf("%.*s\t%s\n", (int)name, line, line + name + strspn(line + name, " "));
	}
	free(help);
	return 0;
}

/* One option line of a help text: "  -n, --count N         stop after..."
 * or "      --freeze, --thaw    stop or ...". The spec ends at the first
 * two spaces; continuation lines are indented deeper than an option's. */
static void print_option_line(char *line)
{
	size_t indent = strspn(line, " ");
	char *spec = line + indent, *text, *item, *arg = NULL, *names[4];
	size_t nr = 0;

	if (indent < 2 || indent > 6 || spec[0] != '-')
		return;
	text = strstr(spec, "  ");
	if (text) {
		*text = '\0';
		text += strspn(text + 1, " ") + 1;
	} else {
		text = "";
	}
	while ((item = strsep(&spec, ",")) != NULL && nr < 4) {
		char *sp;

		item += strspn(item, " ");
		sp = strchr(item, ' ');
		if (sp) {
			*sp = '\0';
			arg = sp + 1;
		}
		if (item[0] == '-')
			names[nr++] = item;
	}
	/* "-n, --count N": the short one takes the long one's value. */
	for (size_t i = 0; i < nr; i++)
		printf("%s\t%s\t%s\n", names[i], arg ? arg : "", text);
}

static int list_options(const char *name)
{
	char *help, *line, *rest;

	/* Not "--help" itself, nor this command. */
	if (name[0] == '-' || strcmp(name, "__complete") == 0)
		return EXIT_USAGE;
	help = help_text(name);
	if (!help)
		return EXIT_USAGE;
	rest = help;
	while ((line = strsep(&rest, "\n")) != NULL)
		print_option_line(line);
	free(help);
	return 0;
}

/* What json_fields_parse accepts: the identity members and the metric
 * table's ids, objects included; the per-device rows ("io.devices.*.rbytes")
 * name a device, which no list of ours knows. */
static int list_fields(void)
{
	const char *const *ident;
	size_t n;

	ident = json_identity_members(&n);
	for (size_t i = 0; i < n; i++)
		printf("%s\n", ident[i]);
	for (int i = 0; i < M__COUNT; i++)
		if (!strchr(metric_defs[i].id, '*'))
			printf("%s\n", metric_defs[i].id);
	return 0;
}

static int list_columns(void)
{
	for (int c = 0; c < COL__COUNT; c++) {
		char t[32];
		size_t i;

		for (i = 0; col_defs[c].title[i] && i < sizeof(t) - 1; i++)
			t[i] = (char)tolower((unsigned char)col_defs[c].title[i]);
		t[i] = '\0';
		printf("%s\n", t);
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool printable_target(const char *s)
{
	return s && s[0] && !strchr(s, '\n');
}

/*
 * One collector tick with no metric wanted: the walk and the identities
 * (resolved once per cgroup, from the path and the runtimes' state) and
 * not one counter file. A line is one target, so a path or name holding a
 * newline is left out; any other byte is printed as it is, and the scripts
 * quote what they insert.
 */
static int list_targets(int argc, char **argv)
{
	struct collector_opts co = { .quiet = true };
	const struct cg_snapshot *s;
	struct cg_want want = { 0 };
	struct collector *c;
	const char **names;
	size_t nr = 0;

	if (argc == 2 && strcmp(argv[0], "--root") == 0)
		co.root = argv[1];
	else if (argc)
		return EXIT_USAGE;
	if (collector_new(&co, &c))
		return EXIT_USAGE;
	collector_want(c, &want);
	if (collector_tick(c, &s)) {
		collector_free(c);
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < s->nr_samples; i++)
		if (printable_target(s->samples[i].path))
			printf("%s\n", s->samples[i].path);
	/* The names set resolves beside paths: workloads' (containers, pods,
	 * services); other cgroups are named by their paths. Sorted, to say
	 * each once. */
	names = calloc(s->nr_samples + 1, sizeof(*names));
	for (size_t i = 0; names && i < s->nr_samples; i++) {
		const struct cg_identity *id = &s->samples[i].ident;

		if ((id->kind == CG_KIND_CONTAINER || id->kind == CG_KIND_POD ||
		     id->kind == CG_KIND_SERVICE) &&
		    printable_target(id->name) && strcmp(id->name, s->samples[i].path) != 0)
			names[nr++] = id->name;
	}
	if (names)
		qsort(names, nr, sizeof(*names), cmp_str);
	for (size_t i = 0; i < nr; i++)
		if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
			printf("%s\n", names[i]);
	free(names);
	collector_free(c);
	return 0;
}

int cmd_complete(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";

	if (strcmp(what, "commands") == 0 && argc == 2)
		return list_commands();
	if (strcmp(what, "options") == 0 && argc == 3)
		return list_options(argv[2]);
	if (strcmp(what, "fields") == 0 && argc == 2)
		return list_fields();
	if (strcmp(what, "columns") == 0 && argc == 2)
		return list_columns();
	if (strcmp(what, "targets") == 0)
		return list_targets(argc - 2, argv + 2);
	if (strcmp(what, "-h") == 0 || strcmp(what, "--help") == 0) {
		fputs(complete_help, stdout);
		return 0;
	}
	fputs(complete_help, stderr);
	return EXIT_USAGE;
}
