/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgwarden daemon: the policy enforcement loop, on the runner (src/runner)
 * as three parts: the stream's (src/streamout), the policy's (here) and the
 * HTTP endpoint's (src/serve_http). One thread, one epoll loop: the tick
 * timer and signals (the runner's: SIGHUP reopens the stream and reloads,
 * SIGTERM/SIGINT exit), and the daemon's own: the kernel's PSI trigger fds
 * (added and removed as cgroups come and go; not through a nested epoll:
 * the trigger's poll consumes its event, so the outer epoll's readiness
 * check would eat it), inotify on cgroup.events/memory.events of matched
 * cgroups, and the eBPF ring buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "actuator.h"
#include "cgfs.h"
#include "cli.h"
#include "collector.h"
#include "commands.h"
#include "enforcer.h"
#include "json.h"
#include "json_policy.h"
#include "json_records.h"
#include "loop.h"
#include "policy.h"
#include "recorder.h"
#include "runner.h"
#include "serve_http.h"
#include "statefile.h"
#include "streamout.h"

static const char daemon_help[] =
	"Usage: cgwarden daemon --policy FILE [OPTIONS]\n\n"
	"Enforce a policy (cgwarden-policy(5)): on each tick, and at once when a\n"
	"kernel PSI trigger fires or a matched cgroup's cgroup.events or\n"
	"memory.events changes, evaluate every rule and carry out its ladder\n"
	"through the actuator. Every decision, acted on or stopped by a guard, is\n"
	"one JSON line (type \"policy_action\", cgwarden-json(7)) on the stream\n"
	"and in --log FILE; every write is also an audit line. Adaptive\n"
	"memory.high (cgwarden-policy(5)) records its start, a summary a minute\n"
	"and its end, not each adjustment, and puts an \"adaptive\" line a tick on\n"
	"the stream. It also serves /metrics, /snapshot and /healthz (cgwarden\n"
	"serve), with cgwarden_policy_actions_total{rule,action,result} and the\n"
	"cgwarden_adaptive_* families: one process per node.\n\n"
	"Options:\n"
	"  -p, --policy FILE     the policy file (required)\n"
	"      --state FILE      where the ladders' progress is kept across\n"
	"                        restarts (default /var/lib/cgwarden/state.json;\n"
	"                        read strictly, at most 64 MiB: cgwarden(8))\n"
	"      --log FILE        append the records to FILE too\n"
	"      --dry-run         record decisions, change nothing (whatever\n"
	"                        the file says)\n"
	"  -o, --output DEST     the stream: standard output (default), a FILE\n"
	"                        (reopened on SIGHUP) or unix:/PATH; never blocks:\n"
	"                        lines a slow reader has no room for are dropped\n"
	"                        and counted (self.dropped_lines)\n"
	"      --ticks           also write a \"tick\" line per tick to the stream\n"
	"  -l, --listen ADDR     serve HTTP on ADDR (as cgwarden serve; default\n"
	"                        127.0.0.1:9333, where a busy port is only a\n"
	"                        warning); \"off\": no HTTP\n"
	RECORDER_OPTS_HELP
	CLI_COMMON_HELP
	"\nThe default interval is 1 s. --fd-budget defaults to RLIMIT_NOFILE less\n"
	"an eighth; PSI triggers take half of it at most, and past that their\n"
	"conditions are polled at each tick. Hooks and the kernel's confirmation\n"
	"of freezes and kills are waited for beside the loop, which never stops.\n"
	"SIGHUP reloads the policy: a file with errors is refused with the\n"
	"reasons and the old policy stays in force.\n"
	"SIGTERM and SIGINT thaw every cgroup the daemon froze, then exit 0.\n"
	"Exit status: 0 clean exit, 1 bad policy or runtime failure, 2 usage.\n";

#define DEFAULT_STATE "/var/lib/cgwarden/state.json"
/* Events (inotify) tick early, but not more often than this. */
#define EVENT_TICK_MIN_USEC 250000

enum { OPT_POLICY = 0x300, OPT_STATE, OPT_LOG, OPT_DRY_RUN, OPT_TICKS, OPT_RECORD, OPT_RETAIN };

#define LISTEN_OFF "off"

/* One PSI trigger fd in the loop. fd -1: the kernel refused it, or the fd
 * budget had no room (over_budget: asked again at later ticks); either
 * way the condition is polled, from the averages at each tick. */
struct trig {
	uint64_t cgroup_id;
	enum cg_psi_resource res;
	bool full;
	uint64_t stall, window;
	int fd;
	bool seen;
	bool over_budget;
};

struct daemon {
	const char *policy_path, *state_path;
	struct policy *p;
	struct policy_state st;
	struct pol_decisions ds;
	struct runner *r;
	struct collector *c;		/* the runner's */
	struct actuator *act;
	struct enforcer *enf;
	uint64_t last_tick_usec;
	FILE *log;
	struct streamout *out;		/* the stream: the runner's stream part */
	struct serve_http *http;	/* its HTTP part */
	struct recorder *rec;		/* --record: its last part */
	struct prom_policy_count *counts;	/* enforcer counters as /metrics takes them */
	size_t cap_counts;
	struct prom_adaptive *adaptive;		/* cgroups under adaptive control, for /metrics */
	size_t cap_adaptive;
	bool force_dry_run;
	char boot_id[64];
	char self_path[4096];
	struct loop *loop;		/* the runner's */
	int ino_fd;
	struct trig *trigs;
	size_t nr_trigs, cap_trigs;
	bool said_trig_budget, said_trig_failed, said_trig_window;
	uint64_t *watched;		/* cgroup ids with inotify watches */
	size_t nr_watched, cap_watched;
	int status;
};

/* ---- records ------------------------------------------------------------ */

static void state_save(struct daemon *dm);

/* Renders one record in memory and hands it to the stream, where a slow
 * reader can only make it drop (streamout says what went wrong). */
static void to_stream(struct daemon *dm, char *buf, size_t len)
{
	if (dm->out)
		streamout_write(dm->out, buf, len);
	else
		free(buf);
}

static void on_record(void *ctx, const struct pol_decision *d, uint64_t time_usec,
		      uint64_t latency_usec)
{
	struct daemon *dm = ctx;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	if (mem) {
		json_write_policy_action(mem, d, time_usec, latency_usec);
		fclose(mem);
		to_stream(dm, buf, len);
	}
	if (dm->log) {
		json_write_policy_action(dm->log, d, time_usec, latency_usec);
		fflush(dm->log);
	}
	recorder_action(dm->rec, d, time_usec, latency_usec);
	/* A thaw that did not happen goes back into the state (retried at
	 * the next evaluation, or the next start). Its result may come long
	 * after the evaluation that decided it (verified in the loop). */
	if (d->restore && d->action == POL_THAW) {
		struct pol_decisions one = { 1, 1, (struct pol_decision *)d };
		int n = policy_restores_failed(&dm->st, &one);

		if (n < 0)
			fprintf(stderr, "cgwarden daemon: keeping a failed thaw in the state: %s\n",
				strerror(-n));
		if (n > 0)
			state_save(dm);
	}
}

static void on_audit(void *ctx, const struct act_audit *rec)
{
	struct daemon *dm = ctx;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	if (mem) {
		json_write_audit(mem, rec);
		fclose(mem);
		to_stream(dm, buf, len);
	}
	if (dm->log)
		json_write_audit(dm->log, rec);
}

/* The enforcer's counters as /metrics takes them, at each tick (the
 * serve_http part asks). */
static const struct prom_policy_count *policy_counts(void *ctx, size_t *nr_out)
{
	/* Non-NULL even before the first action: prom_render writes the
	 * family's HELP and TYPE only for a non-NULL array (prom.h), and a
	 * scraper should see cgwarden_policy_actions_total from the start. */
	static const struct prom_policy_count none[1];
	struct daemon *dm = ctx;
	size_t nr;
	const struct enforcer_counter *ec = enforcer_counters(dm->enf, &nr);

	if (nr > dm->cap_counts) {
		struct prom_policy_count *p = realloc(dm->counts, nr * sizeof(*p));

		if (!p)
			nr = dm->cap_counts;	/* serve what fits; the next tick retries */
		else {
			dm->counts = p;
			dm->cap_counts = nr;
		}
	}
	for (size_t i = 0; i < nr; i++)
		dm->counts[i] = (struct prom_policy_count){ ec[i].rule, ec[i].action,
							    ec[i].result, ec[i].count };
	*nr_out = nr;
	return dm->counts ? dm->counts : none;
}

/* The cgroups under adaptive memory.high control, for /metrics: copies,
 * since the state moves at the next evaluation and /metrics renders on a
 * scrape. Non-NULL from the start, so the families are there before the
 * first squeeze. */
static const struct prom_adaptive *adaptive_view(void *ctx, size_t *nr_out)
{
	static const struct prom_adaptive none[1];
	struct daemon *dm = ctx;
	size_t n = 0;

	for (size_t i = 0; i < dm->st.nr_targets; i++) {
		const struct pol_target *t = &dm->st.targets[i];
		struct prom_adaptive *a;

		if (!t->adapt_on)
			continue;
		if (n == dm->cap_adaptive) {
			size_t cap = dm->cap_adaptive ? 2 * dm->cap_adaptive : 16;

			a = realloc(dm->adaptive, cap * sizeof(*a));
			if (!a)
				break;	/* serve what fits; the next tick retries */
			dm->adaptive = a;
			dm->cap_adaptive = cap;
		}
		a = &dm->adaptive[n++];
		a->cgroup_id = t->cgroup_id;
		snprintf(a->rule, sizeof(a->rule), "%s", t->rule);
		a->high_bytes = t->adapt_high;
		a->pressure_pct = t->adapt_pressure_pct;
		a->held_back_bytes = t->adapt_held;
	}
	*nr_out = n;
	return dm->adaptive ? dm->adaptive : none;
}

/* ---- the state file ------------------------------------------------------ */

static int mkdir_parents(const char *path)
{
	char dir[4096], *p;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	for (p = dir + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

/* tmp + fsync + rename + fsync of the directory: after a crash the file is
 * the old state or the new one, never half of either. */
static int state_write(struct daemon *dm)
{
	char tmp[4200], dir[4096], *slash;
	FILE *f;
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", dm->state_path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	err = statefile_write(f, &dm->st, dm->boot_id, mono_usec());
	if (!err && (fflush(f) || fsync(fileno(f))))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, dm->state_path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	snprintf(dir, sizeof(dir), "%s", dm->state_path);
	slash = strrchr(dir, '/');
	if (slash) {
		*(slash == dir ? slash + 1 : slash) = '\0';
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	return 0;
}

static void state_save(struct daemon *dm)
{
	int err = state_write(dm);

	if (err)
		fprintf(stderr, "cgwarden daemon: writing the state file %s: %s\n", dm->state_path,
			strerror(-err));
}

static void read_line(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "re");

	out[0] = '\0';
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

/* Our cgroup relative to the cgroup2 root, for the engine's self guard:
 * the actuator's (src/selfcg.c), which refuses every change when it
 * cannot tell. */
static void find_self(struct daemon *dm)
{
	const char *why, *self = actuator_self(dm->act, &why);

	snprintf(dm->self_path, sizeof(dm->self_path), "%s", self ? self : "");
	if (why)
		fprintf(stderr, "cgwarden daemon: %s: every change will be refused\n", why);
}

static int state_cgroup_id(void *ctx, const char *path, uint64_t *id)
{
	return actuator_cgroup_id(ctx, path, id);
}

/* The ladders of the last run, each checked (statefile_read). */
static void load_state(struct daemon *dm)
{
	struct statefile_read r = { .boot_id = dm->boot_id, .cgroup_id = state_cgroup_id,
				     .ctx = dm->act };
	int err = statefile_read(dm->state_path, &dm->st, &r);

	for (size_t i = 0; i < r.notes.nr; i++)
		fprintf(stderr, "cgwarden daemon: state file %s\n", r.notes.msg[i]);
	if (err && err != -ENOENT)
		fprintf(stderr, "cgwarden daemon: %s; starting without it\n",
			err == -ENOMEM ? "out of memory reading the state file" : r.why);
	else if (!err && r.ignored)
		fprintf(stderr, "cgwarden daemon: %s is from another boot: ignored\n", dm->state_path);
	else if (!err)
		fprintf(stderr, "cgwarden daemon: resumed %zu ladder%s from %s%s\n", dm->st.nr_targets,
			dm->st.nr_targets == 1 ? "" : "s", dm->state_path,
			r.notes.nr ? " (entries above skipped)" : "");
	pol_errors_free(&r.notes);
	policy_state_rebind(&dm->st, dm->p);
}

/* ---- evaluation ------------------------------------------------------------ */

static void evaluate(struct daemon *dm, uint64_t now, uint64_t trigger_usec)
{
	struct policy_env env = { .self_path = dm->self_path };
	const struct cg_snapshot *snap = runner_snapshot(dm->r);
	int n;

	if (!snap)
		return;
	n = policy_evaluate(dm->p, &env, snap, now, &dm->st, &dm->ds);
	if (n < 0) {
		/* The state already went on for what was decided before the
		 * failure (steps counted as taken, saved values invalidated by
		 * restores): dropping those decisions would lose them for good. */
		fprintf(stderr, "cgwarden daemon: evaluating the policy: %s%s\n", strerror(-n),
			dm->ds.nr ? "; carrying out what was decided before" : "");
		n = (int)dm->ds.nr;
	}
	if (!n)
		return;
	/* The state first: after a crash in the middle of a step the step
	 * counts as taken (not repeated) and its restore is still known. */
	state_save(dm);
	enforcer_run(dm->enf, &dm->ds, trigger_usec);
}

static int on_trigger(struct loop *l, int fd, uint32_t events, void *ctx);

/* Registers t's trigger on path, within the collector's fd budget. Each
 * kind of trouble is said once per run, not once per cgroup: with
 * thousands of matched cgroups, per-cgroup lines would flood the journal. */
static void trig_open(struct daemon *dm, const struct pol_rule *r, struct trig *t,
		      const char *path)
{
	char why[ACT_WHY_MAX];
	const char *res = cg_psi_resource_name(t->res);
	int fd;

	t->fd = -1;
	t->over_budget = collector_fd_claim(dm->c, 1) != 0;
	if (t->over_budget)
		return;
	fd = actuator_open_psi_trigger(dm->act, path, res, t->full, t->stall, t->window,
				       why, sizeof(why));
	/* Without CAP_SYS_RESOURCE the kernel (6.4+) only takes windows of
	 * whole 2 s: the same share of a 2 s window. */
	if (fd == -EINVAL && t->window % 2000000) {
		uint64_t stall = t->stall * 2000000 / t->window;

		fd = actuator_open_psi_trigger(dm->act, path, res, t->full, stall, 2000000,
					       why, sizeof(why));
		if (fd >= 0 && !dm->said_trig_window)
			fprintf(stderr, "cgwarden daemon: PSI trigger of rule %s on %s: the "
				"kernel refused a %" PRIu64 " ms window (no CAP_SYS_RESOURCE?); "
				"using 2 s (said once)\n", r->name, path, t->window / 1000);
		dm->said_trig_window |= fd >= 0;
	}
	if (fd >= 0 && loop_add_fd(dm->loop, fd, EPOLLPRI, on_trigger, dm)) {
		close(fd);
		fd = -EMFILE;
	}
	if (fd < 0) {
		collector_fd_release(dm->c, 1);
		/* Out of fds despite the budget (something else took them):
		 * as over the budget, asked again later. */
		t->over_budget = fd == -EMFILE || fd == -ENFILE;
		if (!t->over_budget && !dm->said_trig_failed)
			fprintf(stderr, "cgwarden daemon: PSI trigger for rule %s: %s (the "
				"condition is then polled at each tick; further failures are "
				"not reported)\n", r->name, why);
		dm->said_trig_failed |= !t->over_budget;
		return;
	}
	t->fd = fd;
}

static void trig_close(struct daemon *dm, struct trig *t)
{
	if (t->fd < 0)
		return;
	loop_del_fd(dm->loop, t->fd);
	close(t->fd);
	collector_fd_release(dm->c, 1);
	t->fd = -1;
}

/* PSI trigger fds for every matched cgroup of every rule with a PSI
 * condition; triggers of cgroups gone or no longer matched are closed.
 * They count in the collector's fd budget (half of it at most): past that,
 * the rest is polled from the averages at each tick, and said once. */
static void sync_triggers(struct daemon *dm, const struct cg_snapshot *s)
{
	size_t polled = 0;

	for (size_t i = 0; i < dm->nr_trigs; i++)
		dm->trigs[i].seen = false;
	for (size_t ri = 0; ri < dm->p->nr_rules; ri++) {
		const struct pol_rule *r = &dm->p->rules[ri];
		struct pol_trigger want[POL_MAX_CONDS];
		size_t nw = policy_rule_triggers(r, want, POL_MAX_CONDS);

		for (size_t i = 0; nw && i < s->nr_samples; i++) {
			const struct cg_sample *x = &s->samples[i];

			if (!policy_rule_matches(r, x))
				continue;
			for (size_t w = 0; w < nw; w++) {
				struct trig *t = NULL;

				for (size_t k = 0; k < dm->nr_trigs && !t; k++) {
					struct trig *q = &dm->trigs[k];

					if (q->cgroup_id == x->id && q->res == want[w].res &&
					    q->full == want[w].full && q->stall == want[w].stall_usec &&
					    q->window == want[w].window_usec)
						t = q;
				}
				if (t) {
					t->seen = true;
					/* Room may have come back (cgroups gone). */
					if (t->over_budget)
						trig_open(dm, r, t, x->path);
					polled += t->over_budget;
					continue;
				}
				if (dm->nr_trigs == dm->cap_trigs) {
					size_t cap = dm->cap_trigs ? dm->cap_trigs * 2 : 16;
					struct trig *n = realloc(dm->trigs, cap * sizeof(*n));

					if (!n)
						return;
					dm->trigs = n;
					dm->cap_trigs = cap;
				}
				t = &dm->trigs[dm->nr_trigs++];
				/* A trigger that failed stays in the table (fd -1) so it is
				 * not asked for again at every tick. */
				*t = (struct trig){ x->id, want[w].res, want[w].full,
						    want[w].stall_usec, want[w].window_usec, -1, true,
						    false };
				trig_open(dm, r, t, x->path);
				polled += t->over_budget;
			}
		}
	}
	for (size_t i = 0; i < dm->nr_trigs;) {
		if (!dm->trigs[i].seen) {
			trig_close(dm, &dm->trigs[i]);
			dm->trigs[i] = dm->trigs[--dm->nr_trigs];
		} else {
			i++;
		}
	}
	if (polled && !dm->said_trig_budget) {
		fprintf(stderr, "cgwarden daemon: PSI triggers use half the fd budget of %ld "
			"(RLIMIT_NOFILE %ld): %zu more PSI condition%s polled from the averages "
			"at each tick instead (raise RLIMIT_NOFILE to watch them all; said once)\n",
			collector_fd_budget(dm->c), cgfs_fd_limit(), polled,
			polled == 1 ? " is" : "s are");
		dm->said_trig_budget = true;
	}
}

/* inotify on cgroup.events and memory.events of every matched cgroup (a
 * watch goes away by itself with its cgroup). */
static void sync_watches(struct daemon *dm, const struct cg_snapshot *s)
{
	char path[4300];

	if (dm->ino_fd < 0)
		return;
	for (size_t i = 0; i < s->nr_samples; i++) {
		const struct cg_sample *x = &s->samples[i];
		bool matched = false, have = false;

		for (size_t ri = 0; ri < dm->p->nr_rules && !matched; ri++)
			matched = policy_rule_matches(&dm->p->rules[ri], x);
		if (!matched)
			continue;
		for (size_t k = 0; k < dm->nr_watched && !have; k++)
			have = dm->watched[k] == x->id;
		if (have)
			continue;
		if (dm->nr_watched == dm->cap_watched) {
			size_t cap = dm->cap_watched ? dm->cap_watched * 2 : 64;
			uint64_t *n = realloc(dm->watched, cap * sizeof(*n));

			if (!n)
				return;
			dm->watched = n;
			dm->cap_watched = cap;
		}
		dm->watched[dm->nr_watched++] = x->id;
		snprintf(path, sizeof(path), "%s/%s/cgroup.events", s->root, x->path);
		inotify_add_watch(dm->ino_fd, path, IN_MODIFY);
		snprintf(path, sizeof(path), "%s/%s/memory.events", s->root, x->path);
		inotify_add_watch(dm->ino_fd, path, IN_MODIFY);
	}
}

/* The stream's line of the cgroups under adaptive control, once a tick
 * while any is (per-interval figures; the action log has only the start,
 * the minute summaries and the end). */
static void stream_adaptive(struct daemon *dm)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;

	if (!dm->out)
		return;
	mem = open_memstream(&buf, &len);
	if (!mem)
		return;
	json_write_adaptive(mem, &dm->st, wall_usec());
	fclose(mem);
	if (len)
		to_stream(dm, buf, len);
	else
		free(buf);
}

/* The policy's part of each tick (after the stream's tick line, before
 * the HTTP part publishes the counters it moved). */
static int policy_tick(struct runner *r, const struct cg_snapshot *snap, void *ctx)
{
	struct daemon *dm = ctx;

	(void)r;
	dm->last_tick_usec = mono_usec();
	evaluate(dm, dm->last_tick_usec, 0);
	stream_adaptive(dm);
	sync_triggers(dm, snap);
	sync_watches(dm, snap);
	return RUNNER_GO;
}

/* ---- loop callbacks ---------------------------------------------------- */

static int on_trigger(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct daemon *dm = ctx;
	uint64_t now = mono_usec();

	for (size_t k = 0; k < dm->nr_trigs; k++) {
		struct trig *t = &dm->trigs[k];

		if (t->fd != fd)
			continue;
		if (events & EPOLLERR) {
			/* The cgroup is gone. */
			(void)l;
			trig_close(dm, t);
			dm->trigs[k] = dm->trigs[--dm->nr_trigs];
			return 0;
		}
		if (events & EPOLLPRI) {
			policy_note_trigger(&dm->st, t->cgroup_id, t->res, t->full, now);
			/* Acted on now, with the last snapshot: the trigger is the news. */
			evaluate(dm, now, now);
		}
		return 0;
	}
	return 0;
}

static int on_inotify(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct daemon *dm = ctx;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	(void)l;
	(void)events;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (mono_usec() - dm->last_tick_usec >= EVENT_TICK_MIN_USEC)
		runner_tick_now(dm->r);
	return 0;
}

static int on_ringbuf(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct daemon *dm = ctx;

	(void)l;
	(void)fd;
	(void)events;
	/* The tick consumes the ring buffer (an OOM kill): no rate limit, or
	 * the level-triggered fd would spin. */
	runner_tick_now(dm->r);
	return 0;
}

static void reload(struct daemon *dm)
{
	struct pol_errors errs = { 0 };
	struct policy *p = NULL;
	int err = json_policy_load(dm->policy_path, &p, &errs);

	if (err) {
		fprintf(stderr, "cgwarden daemon: reload of %s refused (%zu error%s); the policy "
			"loaded before stays in force:\n", dm->policy_path, errs.nr,
			errs.nr == 1 ? "" : "s");
		for (size_t i = 0; i < errs.nr; i++)
			fprintf(stderr, "  %s\n", errs.msg[i]);
		pol_errors_free(&errs);
		return;
	}
	if (dm->force_dry_run)
		p->dry_run = true;
	policy_state_rebind(&dm->st, p);
	/* Decisions of the last evaluation point into the old policy. */
	policy_decisions_free(&dm->ds);
	policy_free(dm->p);
	dm->p = p;
	fprintf(stderr, "cgwarden daemon: reloaded %s: %zu rule%s\n", dm->policy_path, p->nr_rules,
		p->nr_rules == 1 ? "" : "s");
	runner_tick_now(dm->r);
}

/* SIGHUP: the stream's part reopens its file first (log rotation and a
 * new policy share the signal, as with most daemons), then this. */
static int policy_hangup(struct runner *r, void *ctx)
{
	(void)r;
	reload(ctx);
	return RUNNER_GO;
}

/* ---- setup ---------------------------------------------------------------- */

static void release_on_exit(struct daemon *dm)
{
	int n = policy_release(dm->p, &dm->st, mono_usec(), true, &dm->ds);

	if (n < 0) {
		fprintf(stderr, "cgwarden daemon: releasing freezes and adaptive limits: %s\n",
			strerror(-n));
		n = (int)dm->ds.nr;
	}
	if (n > 0) {
		state_save(dm);
		enforcer_run(dm->enf, &dm->ds, 0);
	}
	/* The thaws, and whatever else is still going on, end here. */
	enforcer_drain(dm->enf);
}

static void daemon_free(struct daemon *dm)
{
	for (size_t i = 0; i < dm->nr_trigs; i++)
		if (dm->trigs[i].fd >= 0)
			close(dm->trigs[i].fd);
	free(dm->trigs);
	free(dm->watched);
	if (dm->ino_fd >= 0)
		close(dm->ino_fd);
	free(dm->counts);
	free(dm->adaptive);
	enforcer_free(dm->enf);
	actuator_close(dm->act);
	policy_decisions_free(&dm->ds);
	policy_state_free(&dm->st);
	policy_free(dm->p);
	if (dm->log)
		fclose(dm->log);
}

/* The policy reads what its rules need (their conditions, and what the
 * engine reads for their steps); the stream and HTTP parts add their own. */
static int policy_prepare(struct runner *r, struct metric_set *want, void *ctx)
{
	struct daemon *dm = ctx;

	(void)r;
	policy_metric_set(dm->p, want);
	return RUNNER_GO;
}

/* The daemon's own fds, and its parts on the runner: the stream's, the
 * policy's, then HTTP (serve_http_start, after). */
static int setup_loop(struct daemon *dm, const char *output, bool ticks)
{
	struct streamout_opts so = { .who = "cgwarden daemon", .dest = output, .ticks = ticks };
	struct runner_part part = { .ctx = dm, .prepare = policy_prepare, .tick = policy_tick,
				    .hangup = policy_hangup };
	int err = 0;

	if (dm->ino_fd >= 0)
		err = loop_add_fd(dm->loop, dm->ino_fd, EPOLLIN, on_inotify, dm);
	if (!err && collector_event_fd(dm->c) >= 0)
		err = loop_add_fd(dm->loop, collector_event_fd(dm->c), EPOLLIN, on_ringbuf, dm);
	if (err) {
		fprintf(stderr, "cgwarden daemon: cannot set up the event loop: %s\n",
			strerror(-err));
		return EXIT_RUNTIME;
	}
	if (streamout_open(dm->r, &so, &dm->out))
		return EXIT_USAGE;
	err = runner_add(dm->r, &part);
	if (err) {
		fprintf(stderr, "cgwarden daemon: out of memory\n");
		return EXIT_RUNTIME;
	}
	return 0;
}

int cmd_daemon(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "policy", required_argument, NULL, 'p' },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "ticks", no_argument, NULL, OPT_TICKS },
		{ "output", required_argument, NULL, 'o' },
		{ "listen", required_argument, NULL, 'l' },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "retain", required_argument, NULL, OPT_RETAIN },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_common cc = { .interval_usec = 1000000 };
	struct daemon dm = { .state_path = DEFAULT_STATE, .ino_fd = -1 };
	struct actuator_opts ao = { 0 };
	struct runner_opts ro = { .who = "cgwarden daemon", .keep_going = true };
	struct recorder_opts rec_o = { .who = "cgwarden daemon", .slow_ok = true };
	struct httpd_opts ho = { 0 };
	struct pol_errors errs = { 0 };
	const char *log_path = NULL, *output = NULL;
	bool ticks = false;
	char who[96], why[ACT_WHY_MAX];
	int opt, err;

	while ((opt = getopt_long(argc, argv, "hp:o:l:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(daemon_help, stdout);
			return 0;
		case 'p': dm.policy_path = optarg; break;
		case OPT_STATE: dm.state_path = optarg; break;
		case OPT_LOG: log_path = optarg; break;
		case OPT_DRY_RUN: dm.force_dry_run = true; break;
		case OPT_TICKS: ticks = true; break;
		case 'o': output = optarg; break;
		case 'l': ho.listen = optarg; break;
		case OPT_RECORD: rec_o.dir = optarg; break;
		case OPT_RETAIN:
			if (recorder_retain_opt("cgwarden daemon", optarg, &rec_o))
				return EXIT_USAGE;
			break;
		default:
			if (cli_other_opt(&cc, opt, optarg, daemon_help))
				return EXIT_USAGE;
		}
	}
	if ((rec_o.retain_bytes || rec_o.retain_usec) && !rec_o.dir) {
		fprintf(stderr, "cgwarden daemon: --retain needs --record DIR\n");
		return EXIT_USAGE;
	}
	if (optind < argc || !dm.policy_path) {
		fprintf(stderr, "cgwarden daemon: %s (see --help)\n",
			dm.policy_path ? "unexpected argument" : "--policy FILE is required");
		return EXIT_USAGE;
	}
	err = json_policy_load(dm.policy_path, &dm.p, &errs);
	if (err) {
		for (size_t i = 0; i < errs.nr; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		fprintf(stderr, "cgwarden daemon: %s has %zu error%s; not started\n", dm.policy_path,
			errs.nr, errs.nr == 1 ? "" : "s");
		pol_errors_free(&errs);
		return EXIT_RUNTIME;
	}
	if (dm.force_dry_run)
		dm.p->dry_run = true;
	if (log_path && !(dm.log = fopen(log_path, "ae"))) {
		fprintf(stderr, "cgwarden daemon: --log %s: %s\n", log_path, strerror(errno));
		policy_free(dm.p);
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	policy_state_init(&dm.st);
	read_line("/proc/sys/kernel/random/boot_id", dm.boot_id, sizeof(dm.boot_id));
	err = mkdir_parents(dm.state_path);
	if (err)
		fprintf(stderr, "cgwarden daemon: --state %s: %s\n", dm.state_path, strerror(-err));
	/* The collector's default budget leaves a few hundred fds for the rest
	 * of a process; the daemon also holds HTTP connections, the fds of
	 * actions, hooks and verifications going on (enforcer.c), and its PSI
	 * triggers count in the budget itself (sync_triggers): an eighth of
	 * the limit stays outside it, at least as much as the default. */
	cc.copts.fd_reserve_div = 8;
	ro.interval_usec = cc.interval_usec;
	if (runner_new(&ro, &dm.r)) {
		dm.status = EXIT_RUNTIME;
		goto out;
	}
	dm.loop = runner_loop(dm.r);
	dm.status = runner_open_collector(dm.r, &cc);
	if (dm.status)
		goto out;
	dm.c = runner_collector(dm.r);
	snprintf(who, sizeof(who), "cgwarden daemon (pid %d)", (int)getpid());
	ao.root = collector_root(dm.c);
	ao.who = who;
	ao.audit = on_audit;
	ao.audit_ctx = &dm;
	err = actuator_open(&ao, &dm.act, why, sizeof(why));
	if (!err)
		err = enforcer_new(dm.act, dm.loop, on_record, &dm, &dm.enf);
	if (err) {
		fprintf(stderr, "cgwarden daemon: %s\n", err == -ENOMEM ? "out of memory" :
			err == -EMFILE ? strerror(-err) : why);
		dm.status = EXIT_RUNTIME;
		goto out;
	}
	find_self(&dm);
	/* After the actuator: each entry's path is checked to be its cgroup. */
	load_state(&dm);
	dm.ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	dm.status = setup_loop(&dm, output, ticks);
	if (dm.status)
		goto out;
	if (!ho.listen || strcmp(ho.listen, LISTEN_OFF) != 0) {
		bool asked = ho.listen != NULL;

		ho.quiet = cc.copts.quiet;
		err = serve_http_start(dm.r, "cgwarden daemon", &ho, policy_counts, &dm, &dm.http);
		if (!err)
			serve_http_adaptive(dm.http, adaptive_view, &dm);
		if (err && asked) {
			dm.status = err == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
			goto out;
		}
		/* The default address busy (a cgwarden serve, another daemon):
		 * enforcing matters more than serving. httpd_start said why. */
		if (err)
			fprintf(stderr, "cgwarden daemon: no HTTP endpoint (--listen to choose "
				"another address)\n");
	}
	rec_o.quiet = cc.copts.quiet;
	if (rec_o.dir && recorder_open(dm.r, &rec_o, &dm.rec)) {
		dm.status = EXIT_RUNTIME;
		goto out;
	}
	if (dm.rec)
		serve_http_record(dm.http, recorder_prom(dm.rec));
	fprintf(stderr, "cgwarden daemon: %s: %zu rule%s%s, interval %" PRIu64 " ms, state %s\n",
		dm.policy_path, dm.p->nr_rules, dm.p->nr_rules == 1 ? "" : "s",
		dm.p->dry_run ? " (dry run)" : "", cc.interval_usec / 1000, dm.state_path);
	dm.status = runner_run(dm.r);
	/* Nothing stays frozen behind us; limits stay (their restore is in
	 * the state file for the next start). */
	release_on_exit(&dm);
	state_save(&dm);
	fprintf(stderr, "cgwarden daemon: exiting\n");
out:
	/* Both are watched by the loop: gone before it is. */
	serve_http_record(dm.http, NULL);
	recorder_close(dm.rec);
	serve_http_stop(dm.http);
	streamout_close(dm.out);
	runner_free(dm.r);
	daemon_free(&dm);
	return dm.status;
}
