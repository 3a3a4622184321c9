/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "cgfs.h"
#include "enforcer.h"
#include "json.h"

struct enforcer {
	struct actuator *act;
	int root_fd;			/* for reading memory.oom.group */
	enforcer_record_fn record;
	void *ctx;
	struct enforcer_counter *counters;
	size_t nr_counters, cap_counters;
	char **names;			/* rule names seen, interned for the counters */
	size_t nr_names;
};

static uint64_t clock_usec(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int enforcer_new(struct actuator *a, enforcer_record_fn record, void *ctx, struct enforcer **out)
{
	struct enforcer *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->act = a;
	e->record = record;
	e->ctx = ctx;
	e->root_fd = cgfs_open_root(actuator_root(a), false);
	if (e->root_fd < 0) {
		int err = e->root_fd;

		free(e);
		return err;
	}
	*out = e;
	return 0;
}

void enforcer_free(struct enforcer *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nr_names; i++)
		free(e->names[i]);
	free(e->names);
	free(e->counters);
	close(e->root_fd);
	free(e);
}

const struct enforcer_counter *enforcer_counters(const struct enforcer *e, size_t *nr)
{
	*nr = e->nr_counters;
	return e->counters;
}

static const char *intern(struct enforcer *e, const char *name)
{
	char **n;

	for (size_t i = 0; i < e->nr_names; i++)
		if (strcmp(e->names[i], name) == 0)
			return e->names[i];
	n = realloc(e->names, (e->nr_names + 1) * sizeof(*n));
	if (!n)
		return NULL;
	e->names = n;
	if (!(e->names[e->nr_names] = strdup(name)))
		return NULL;
	return e->names[e->nr_names++];
}

/* result is one of the static strings below, so pointers compare. */
static void count(struct enforcer *e, const char *rule, const char *action, const char *result)
{
	const char *r = intern(e, rule);

	if (!r)
		return;
	for (size_t i = 0; i < e->nr_counters; i++) {
		struct enforcer_counter *c = &e->counters[i];

		if (c->rule == r && c->action == action && strcmp(c->result, result) == 0) {
			c->count++;
			return;
		}
	}
	if (e->nr_counters == e->cap_counters) {
		size_t cap = e->cap_counters ? e->cap_counters * 2 : 16;
		struct enforcer_counter *n = realloc(e->counters, cap * sizeof(*n));

		if (!n)
			return;
		e->counters = n;
		e->cap_counters = cap;
	}
	e->counters[e->nr_counters++] = (struct enforcer_counter){ r, action, result, 1 };
}

static const char RES_OK[] = "ok", RES_FAILED[] = "failed", RES_REFUSED[] = "refused",
		  RES_DRY[] = "dry-run", RES_BLOCKED[] = "blocked";

/* memory.oom.group of a non-leaf target: 1 means the kernel itself treats
 * the subtree as one unit, so killing all of it is what it asks for. */
static int oom_group(struct enforcer *e, const char *path)
{
	char rel[4096];
	struct cgfs_buf b = { 0 };
	ssize_t n;
	int fd, v = -1;

	if (snprintf(rel, sizeof(rel), "%s/memory.oom.group", path) >= (int)sizeof(rel))
		return -ENAMETOOLONG;
	fd = cgfs_openat(e->root_fd, rel, O_RDONLY);
	if (fd < 0)
		return fd;
	n = cgfs_pread_all(fd, &b);
	if (n > 0)
		v = b.data[0] == '1';
	close(fd);
	cgfs_buf_free(&b);
	return v;
}

/* Without a pidfd (kernel < 5.3, seccomp): poll waitpid until the deadline.
 * Returns 0 with *status filled, or -ETIMEDOUT. */
static int wait_deadline(pid_t pid, uint64_t timeout_usec, int *status)
{
	uint64_t deadline = clock_usec(CLOCK_MONOTONIC) + timeout_usec;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			return 0;
		if (clock_usec(CLOCK_MONOTONIC) >= deadline)
			return -ETIMEDOUT;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
}

/* Runs the hook with the decision as JSON on stdin; waits up to its timeout.
 * Synchronous: the loop (ticks, triggers, /metrics) waits for it, so
 * hook_timeout bounds the stall. Running hooks in the background (a child
 * table reaped from the loop) is future work. */
static int run_hook(struct pol_decision *d)
{
	char *json = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&json, &len);
	int pipefd[2], pidfd, status = 0, err = 0;
	bool reaped = false;
	pid_t pid;

	if (!mem)
		return -ENOMEM;
	snprintf(d->result, sizeof(d->result), "running");
	json_write_policy_action(mem, d, clock_usec(CLOCK_REALTIME), 0);
	fclose(mem);
	if (pipe2(pipefd, O_CLOEXEC)) {
		free(json);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		free(json);
		return err;
	}
	if (pid == 0) {
		sigset_t none;
		char *const argv[] = { (char *)d->hook_path, NULL };

		/* The loop blocks SIGTERM/SIGINT/SIGHUP for its signalfd; the
		 * hook must get them normally. */
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(pipefd[0], STDIN_FILENO);
		/* Our stdout is the JSON stream, and O_NONBLOCK (lineout): the
		 * hook's output would land in it, or fail with EAGAIN. Its stderr
		 * stays ours (the journal). */
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		else
			dup2(STDERR_FILENO, STDOUT_FILENO);
		setenv("CGWARDEN_RULE", d->rule, 1);
		setenv("CGWARDEN_TARGET", d->path, 1);
		execv(d->hook_path, argv);
		_exit(127);
	}
	close(pipefd[0]);
	/* A decision is a few hundred bytes: far below the pipe's buffer. */
	if (write(pipefd[1], json, len) < 0 && errno != EPIPE)
		err = -errno;
	close(pipefd[1]);
	free(json);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd >= 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };
		int ms = (int)(d->hook_timeout_usec / 1000);

		if (poll(&p, 1, ms) == 0)
			err = -ETIMEDOUT;
		close(pidfd);
	} else {
		int werr = wait_deadline(pid, d->hook_timeout_usec, &status);

		reaped = !werr;
		if (werr)
			err = werr;
	}
	if (err == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		snprintf(d->why, sizeof(d->why), "hook %s did not finish within %" PRIu64
			 " ms: killed", d->hook_path, d->hook_timeout_usec / 1000);
	}
	if (!reaped)
		waitpid(pid, &status, 0);
	if (!err && WIFEXITED(status) && WEXITSTATUS(status) == 127)
		snprintf(d->why, sizeof(d->why), "hook %s could not be run", d->hook_path);
	if (!err && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		if (!d->why[0])
			snprintf(d->why, sizeof(d->why), "hook %s exited with status %d",
				 d->hook_path, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		err = -ECHILD;
	}
	return err;
}

static bool change_of(const struct pol_decision *d, struct act_change *c)
{
	memset(c, 0, sizeof(*c));
	/* The policy means it: memory.high under the usage is how a hog is held. */
	c->force = true;
	c->value = d->value;
	c->period = d->period;
	/* The decision is about this cgroup: a path now naming another (a state
	 * file's, or one removed and made again) is refused. */
	c->expect_id = d->cgroup_id;
	switch (d->action) {
	case POL_MEMORY_HIGH: c->kind = ACT_MEMORY_HIGH; return true;
	case POL_MEMORY_MAX: c->kind = ACT_MEMORY_MAX; return true;
	case POL_CPU_MAX: c->kind = ACT_CPU_MAX; return true;
	case POL_CPU_WEIGHT: c->kind = ACT_CPU_WEIGHT; return true;
	case POL_FREEZE: c->kind = ACT_FREEZE; return true;
	case POL_THAW: c->kind = ACT_THAW; return true;
	case POL_KILL: c->kind = ACT_KILL; return true;
	default: return false;
	}
}

static const char *execute(struct enforcer *e, struct pol_decision *d)
{
	struct act_change c;
	struct act_outcome o;
	int err;

	if (d->blocked) {
		char g[96];

		policy_guard_names(d->guards & POL_G_BLOCKING, g, sizeof(g));
		if (!g[0] && (d->guards & POL_G_FLOOR))
			snprintf(g, sizeof(g), "floor (memory.min is max)");
		snprintf(d->why, sizeof(d->why), "stopped by a guard: %s", g);
		return RES_BLOCKED;
	}
	if (d->action == POL_KILL && (d->guards & POL_G_NOT_LEAF)) {
		int g = oom_group(e, d->path);

		if (g != 1) {
			snprintf(d->why, sizeof(d->why), "'%.200s' has child cgroups and "
				 "memory.oom.group is %s: only a leaf, or a group the kernel "
				 "kills as one, is killed", d->path, g == 0 ? "0" : "unreadable");
			return RES_REFUSED;
		}
	}
	if (d->action == POL_LOG) {
		syslog(LOG_NOTICE, "policy rule=%s target=%s: %s", d->rule, d->path,
		       d->message ? d->message : "");
		return d->dry_run ? RES_DRY : RES_OK;
	}
	if (d->action == POL_HOOK) {
		if (d->dry_run)
			return RES_DRY;
		return run_hook(d) ? RES_FAILED : RES_OK;
	}
	if (!change_of(d, &c)) {
		snprintf(d->why, sizeof(d->why), "no such action");
		return RES_FAILED;
	}
	if (d->dry_run) {
		err = actuator_validate(e->act, d->path, &c, &o);
		if (err) {
			snprintf(d->why, sizeof(d->why), "%s", o.why);
			return RES_REFUSED;
		}
		return RES_DRY;
	}
	err = actuator_apply(e->act, d->path, &c, &o);
	if (o.why[0])
		snprintf(d->why, sizeof(d->why), "%s", o.why);
	if (err)
		return o.refused ? RES_REFUSED : RES_FAILED;
	return RES_OK;
}

int enforcer_run(struct enforcer *e, struct pol_decisions *ds, uint64_t trigger_mono_usec)
{
	int applied = 0;

	for (size_t i = 0; i < ds->nr; i++) {
		struct pol_decision *d = &ds->d[i];
		const char *res = execute(e, d);
		uint64_t latency = 0;

		snprintf(d->result, sizeof(d->result), "%s", res);
		applied += res == RES_OK;
		if (trigger_mono_usec) {
			uint64_t now = clock_usec(CLOCK_MONOTONIC);

			latency = now > trigger_mono_usec ? now - trigger_mono_usec : 1;
		}
		count(e, d->rule, policy_action_name(d->action), res);
		if (e->record)
			e->record(e->ctx, d, clock_usec(CLOCK_REALTIME), latency);
	}
	return applied;
}
