/* SPDX-License-Identifier: GPL-2.0-only */
/* cgwarden stream: NDJSON, one line per event and per tick. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "json.h"
#include "loop.h"

static const char stream_help[] =
	"Usage: cgwarden stream [OPTIONS]\n\n"
	"Print the cgroup tree as newline-delimited JSON: on each tick, one line\n"
	"per event (cgroup_added, cgroup_removed with its final counters), then one\n"
	"\"tick\" line with every cgroup (schema: cgwarden-json(7)). The first tick\n"
	"is written at once; rates appear from the second.\n\n"
	"Options:\n"
	"  -n, --count N         stop after N ticks (default: until interrupted)\n"
	"  -o, --output FILE     append to FILE instead of standard output\n"
	CLI_COMMON_HELP
	"\nThe default interval is 2 s. SIGINT and SIGTERM end the stream after the\n"
	"line being written.\n";

struct stream {
	struct collector *c;
	FILE *out;
	uint64_t count, done;
	int status;
};

/* One tick: collect and write. Returns non-zero to stop the loop. */
static int stream_tick(struct stream *st)
{
	const struct cg_snapshot *snap;
	int err = collector_tick(st->c, &snap);

	if (err) {
		fprintf(stderr, "cgwarden: reading %s: %s\n", collector_root(st->c), strerror(-err));
		st->status = EXIT_RUNTIME;
		return 1;
	}
	err = json_write_stream_tick(st->out, snap);
	if (err < 0) {
		/* A reader that went away (| head) is a normal end. */
		if (err != -EPIPE) {
			fprintf(stderr, "cgwarden: writing the stream: %s\n", strerror(-err));
			st->status = EXIT_RUNTIME;
		}
		return 1;
	}
	st->done++;
	return st->count && st->done >= st->count;
}

static int on_timer(struct loop *l, int fd, uint32_t events, void *ctx)
{
	(void)l;
	(void)events;
	/* Missed expirations (a slow tick) are not made up: one tick now. */
	loop_timer_expirations(fd);
	return stream_tick(ctx);
}

static int on_signal(struct loop *l, int fd, uint32_t events, void *ctx)
{
	(void)l;
	(void)events;
	(void)ctx;
	int sig = loop_signal_read(fd);

	/* SIGHUP will reopen the output file (log rotation); until then it
	 * is ignored rather than fatal. */
	return sig == SIGINT || sig == SIGTERM;
}

int cmd_stream(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "count", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common cc = { .interval_usec = 2000000 };
	struct stream st = { .out = stdout };
	const char *output = NULL;
	struct loop *l = NULL;
	char *end;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "hn:o:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(stream_help, stdout);
			return 0;
		case 'n':
			errno = 0;
			st.count = strtoull(optarg, &end, 10);
			if (errno || *end || end == optarg || st.count == 0 || optarg[0] == '-') {
				fprintf(stderr, "cgwarden stream: --count: '%s' is not a positive number\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'o':
			output = optarg;
			break;
		default:
			err = cli_common_opt(&cc, opt, optarg);
			if (err) {
				if (err > 0)
					fputs(stream_help, stderr);
				return EXIT_USAGE;
			}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "cgwarden stream: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (output) {
		st.out = fopen(output, "ae");
		if (!st.out) {
			fprintf(stderr, "cgwarden stream: --output %s: %s\n", output, strerror(errno));
			return EXIT_USAGE;
		}
	}
	/* EPIPE from write() instead of death by SIGPIPE: we end cleanly. */
	signal(SIGPIPE, SIG_IGN);
	err = cli_open_collector(&cc, &st.c);
	if (err)
		goto out_file;
	if (stream_tick(&st))
		goto out;
	err = loop_new(&l);
	if (!err)
		err = loop_add_signals(l, on_signal, &st);
	if (!err)
		err = loop_add_timer(l, cc.interval_usec, on_timer, &st);
	if (err) {
		fprintf(stderr, "cgwarden stream: cannot set up the event loop: %s\n", strerror(-err));
		st.status = EXIT_RUNTIME;
		goto out;
	}
	err = loop_run(l);
	if (err < 0) {
		fprintf(stderr, "cgwarden stream: event loop: %s\n", strerror(-err));
		st.status = EXIT_RUNTIME;
	}
out:
	loop_free(l);
	collector_free(st.c);
	err = st.status;
out_file:
	if (st.out != stdout)
		fclose(st.out);
	return err;
}
