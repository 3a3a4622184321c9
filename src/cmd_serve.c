/* SPDX-License-Identifier: GPL-2.0-only */
/* cgwarden serve: /metrics, /snapshot and /healthz over HTTP (src/httpd). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "cli.h"
#include "commands.h"
#include "recorder.h"
#include "runner.h"
#include "serve_http.h"

static const char serve_help[] =
	"Usage: cgwarden serve [OPTIONS]\n\n"
	"Serve the cgroup tree over HTTP, read-only (GET and HEAD):\n"
	"  /metrics    Prometheus text format 0.0.4, or OpenMetrics 1.0 when the\n"
	"              Accept header asks for application/openmetrics-text\n"
	"  /snapshot   the JSON document of `cgwarden snapshot` (cgwarden-json(7))\n"
	"  /healthz    200 while snapshots are fresh, else 503\n"
	"A collection runs every interval; requests are answered from the last one\n"
	"and never trigger one. memory.stat, io.stat and the process lists are read\n"
	"every Nth interval (N by their cost, self.slow_every) and carried between,\n"
	"marked so with their age in /snapshot (\"carried\").\n\n"
	"Options:\n"
	"  -l, --listen ADDR     where to listen: 127.0.0.1:9333 (default),\n"
	"                        [::1]:9333, :9333 (all IPv4), [::]:9333 (all),\n"
	"                        unix:/PATH\n"
	"      --max-connections N  open connections at most (64); 16 per client\n"
	"                        address. When full, a newcomer takes the slot of\n"
	"                        the connection that has waited longest without\n"
	"                        sending a complete request\n"
	"      --http-timeout SEC  close a connection idle this long (10)\n"
	"      --http-request-timeout SEC  close a connection that has not sent a\n"
	"                        complete request line and headers within SEC of\n"
	"                        connecting or of its previous response (5)\n"
	RECORDER_OPTS_HELP
	CLI_COMMON_HELP
	"\nThe default interval is 2 s. SIGINT and SIGTERM stop the server.\n";

enum { OPT_MAX_CONN = OPT__COMMON_END, OPT_HTTP_TIMEOUT, OPT_REQUEST_TIMEOUT, OPT_RECORD,
       OPT_RETAIN };

static int parse_uint(const char *opt, const char *arg, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || *end || end == arg || arg[0] == '-' || v == 0 || v > max) {
		fprintf(stderr, "cgwarden serve: %s: '%s' is not a number from 1 to %u\n", opt, arg,
			max);
		return -EINVAL;
	}
	*out = (unsigned)v;
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "listen", required_argument, NULL, 'l' },
		{ "max-connections", required_argument, NULL, OPT_MAX_CONN },
		{ "http-timeout", required_argument, NULL, OPT_HTTP_TIMEOUT },
		{ "http-request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "retain", required_argument, NULL, OPT_RETAIN },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common cc = { .interval_usec = 2000000 };
	struct recorder_opts rec_o = { .who = "cgwarden serve", .slow_ok = true };
	struct recorder *rec = NULL;
	struct httpd_opts ho = { 0 };
	struct runner_opts ro = { .who = "cgwarden serve" };
	struct runner *r = NULL;
	struct serve_http *sh = NULL;
	int opt, err, status;

	while ((opt = getopt_long(argc, argv, "hl:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(serve_help, stdout);
			return 0;
		case 'l':
			ho.listen = optarg;
			break;
		case OPT_MAX_CONN:
			if (parse_uint("--max-connections", optarg, 100000, &ho.max_connections))
				return EXIT_USAGE;
			break;
		case OPT_HTTP_TIMEOUT:
			if (parse_uint("--http-timeout", optarg, 3600, &ho.timeout_sec))
				return EXIT_USAGE;
			break;
		case OPT_REQUEST_TIMEOUT:
			if (parse_uint("--http-request-timeout", optarg, 3600,
				       &ho.request_timeout_sec))
				return EXIT_USAGE;
			break;
		case OPT_RECORD:
			rec_o.dir = optarg;
			break;
		case OPT_RETAIN:
			if (recorder_retain_opt("cgwarden serve", optarg, &rec_o))
				return EXIT_USAGE;
			break;
		default:
			if (cli_other_opt(&cc, opt, optarg, serve_help))
				return EXIT_USAGE;
		}
	}
	if (cli_no_operands("serve", argc, argv))
		return EXIT_USAGE;
	if ((rec_o.retain_bytes || rec_o.retain_usec) && !rec_o.dir) {
		fprintf(stderr, "cgwarden serve: --retain needs --record DIR\n");
		return EXIT_USAGE;
	}
	if (ho.max_connections && ho.max_connections < 16)
		ho.max_per_client = ho.max_connections;
	ho.quiet = cc.copts.quiet;
	ro.interval_usec = cc.interval_usec;
	if (runner_new(&ro, &r))
		return EXIT_RUNTIME;
	/* Listen before the first (slow on big hosts) collection, so a bad
	 * --listen fails at once; /healthz says 503 until it is done. */
	err = serve_http_start(r, "cgwarden", &ho, NULL, NULL, &sh);
	if (err) {
		runner_free(r);
		return err == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
	}
	status = runner_open_collector(r, &cc);
	rec_o.quiet = cc.copts.quiet;
	if (!status && rec_o.dir && recorder_open(r, &rec_o, &rec))
		status = EXIT_RUNTIME;
	if (rec)
		serve_http_record(sh, recorder_prom(rec));
	if (!status)
		status = runner_run(r);
	serve_http_record(sh, NULL);
	recorder_close(rec);
	serve_http_stop(sh);
	runner_free(r);
	return status;
}
