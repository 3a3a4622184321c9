/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/epoll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "cgfs.h"
#include "enforcer.h"
#include "json_records.h"
#include "loop.h"

/*
 * A decision still being carried out: a hook running, or a freeze, thaw or
 * kill the kernel has not confirmed yet. The loop goes on meanwhile; its
 * result is recorded when it ends (the hook exits or is killed at its
 * deadline, cgroup.events follows or the actuator's timeout passes).
 */
struct job {
	struct pol_decision d;		/* a copy: path owned, hook/message pointers cleared */
	char *hook;			/* the hook's path, owned (the policy may be reloaded) */
	uint64_t trigger_usec;		/* for the latency, as enforcer_run got it */
	uint64_t deadline;		/* CLOCK_MONOTONIC */
	int watch_fd;			/* pidfd or cgroup.events in the loop, or -1 */
	/* a hook */
	pid_t pid;
	bool killed;			/* past its deadline: SIGKILL sent, awaiting exit */
	/* a verification */
	struct act_verify *v;
};

/* Re-check what the loop cannot be woken for (no pidfd, a cgroup.events
 * that cannot be polled) this often, and the rest at least this often. */
#define JOB_POLL_USEC 20000
/* Each job holds two fds at most (pidfd, or the cgroup and its
 * cgroup.events), out of the headroom the daemon leaves beside the fd
 * budget. Past this many, a verification is waited for on the spot (as
 * before jobs existed) and a hook is not started. */
#define MAX_JOBS 128
#define JOB_BACKSTOP_USEC 250000

struct enforcer {
	struct actuator *act;
	struct loop *loop;
	int alarm_fd;			/* the loop's */
	struct job **jobs;
	size_t nr_jobs, cap_jobs;
	int root_fd;			/* for reading memory.oom.group */
	enforcer_record_fn record;
	void *ctx;
	struct enforcer_counter *counters;
	size_t nr_counters, cap_counters;
	char **names;			/* rule names seen, interned for the counters */
	size_t nr_names;
};

static int on_alarm(struct loop *l, int fd, uint32_t events, void *ctx);

int enforcer_new(struct actuator *a, struct loop *l, enforcer_record_fn record, void *ctx,
		 struct enforcer **out)
{
	struct enforcer *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->act = a;
	e->loop = l;
	e->alarm_fd = loop_add_alarm(l, on_alarm, e);
	if (e->alarm_fd < 0) {
		int err = e->alarm_fd;

		free(e);
		return err;
	}
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

static void job_free(struct job *j)
{
	if (j->v)
		actuator_verify_abandon(j->v);
	free(j->d.path);
	free(j->hook);
	free(j);
}

void enforcer_free(struct enforcer *e)
{
	if (!e)
		return;
	/* enforcer_drain() ended them; after a failed start there are none.
	 * The loop (and so its watches) may be gone already. */
	for (size_t i = 0; i < e->nr_jobs; i++) {
		if (e->jobs[i]->pid > 0 && e->jobs[i]->watch_fd >= 0)
			close(e->jobs[i]->watch_fd);
		job_free(e->jobs[i]);
	}
	free(e->jobs);
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

/* Starts the hook with the decision as JSON on stdin. Returns its pid (and
 * a pidfd in *pidfd, -1 without one: kernel < 5.3, seccomp) or -errno. */
static pid_t spawn_hook(struct pol_decision *d, int *pidfd)
{
	char *json = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&json, &len);
	int pipefd[2], err = 0;
	pid_t pid;

	*pidfd = -1;
	if (!mem)
		return -ENOMEM;
	snprintf(d->result, sizeof(d->result), "running");
	json_write_policy_action(mem, d, wall_usec(), 0);
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
	/* A decision is a few hundred bytes: far below the pipe's buffer, so
	 * this never blocks, whatever the hook does with its stdin. */
	if (write(pipefd[1], json, len) < 0 && errno != EPIPE)
		err = -errno;
	close(pipefd[1]);
	free(json);
	(void)err;	/* a hook that does not read its stdin is its own business */
	*pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (*pidfd < 0)
		*pidfd = -1;
	return pid;
}

/* The result of a hook that has exited with status. */
static const char *hook_result(struct pol_decision *d, const char *hook, int status, bool killed,
			       uint64_t timeout_usec)
{
	if (killed) {
		snprintf(d->why, sizeof(d->why), "hook %s did not finish within %" PRIu64
			 " ms: killed", hook, timeout_usec / 1000);
		return RES_FAILED;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return RES_OK;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		snprintf(d->why, sizeof(d->why), "hook %s could not be run", hook);
	else
		snprintf(d->why, sizeof(d->why), "hook %s exited with status %d", hook,
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return RES_FAILED;
}

#define ADAPT_WRITE_TIMEOUT_USEC 100000u

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
	/* The controller writes every few seconds from the loop: a reclaim
	 * that blocks is cut short well before the next tick (the limit is
	 * in place; the kernel goes on reclaiming as the cgroup allocates). */
	if (d->adapt != POL_ADAPT_NONE)
		c->timeout_usec = ADAPT_WRITE_TIMEOUT_USEC;
	c->quiet = d->adapt == POL_ADAPT_ADJUST;
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

static int on_job_fd(struct loop *l, int fd, uint32_t events, void *ctx);

/* Keeps d going as a job. Returns 0, or -errno (nothing kept: the caller
 * ends it now). watch_fd is a pidfd (the job owns it) or the verification's
 * cgroup.events (the actuator's). */
static int job_add(struct enforcer *e, const struct pol_decision *d, uint64_t trigger_usec,
		   pid_t pid, int watch_fd, struct act_verify *v, uint64_t deadline)
{
	struct job *j;

	if (e->nr_jobs == e->cap_jobs) {
		size_t cap = e->cap_jobs ? e->cap_jobs * 2 : 8;
		struct job **n = realloc(e->jobs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		e->jobs = n;
		e->cap_jobs = cap;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->d = *d;
	j->d.path = strdup(d->path ? d->path : "");
	j->hook = d->hook_path ? strdup(d->hook_path) : NULL;
	if (!j->d.path || (d->hook_path && !j->hook)) {
		free(j->d.path);
		free(j->hook);
		free(j);
		return -ENOMEM;
	}
	/* They point into the policy, which a reload may free. */
	j->d.hook_path = j->hook;
	j->d.message = NULL;
	j->trigger_usec = trigger_usec;
	j->deadline = deadline;
	j->pid = pid;
	j->v = v;
	j->watch_fd = -1;
	/* A cgroup.events that is a fixture's plain file cannot be polled
	 * (EPERM): it is re-checked by time instead. */
	if (watch_fd >= 0 && loop_add_fd(e->loop, watch_fd, pid > 0 ? EPOLLIN : EPOLLPRI,
					 on_job_fd, e) == 0)
		j->watch_fd = watch_fd;
	else if (pid > 0 && watch_fd >= 0)
		close(watch_fd);
	e->jobs[e->nr_jobs++] = j;
	return 0;
}

static void finish(struct enforcer *e, struct pol_decision *d, const char *res,
		   uint64_t trigger_usec)
{
	uint64_t latency = 0;

	snprintf(d->result, sizeof(d->result), "%s", res);
	if (trigger_usec) {
		uint64_t now = mono_usec();

		latency = now > trigger_usec ? now - trigger_usec : 1;
	}
	count(e, d->rule, policy_action_name(d->action), res);
	if (e->record)
		e->record(e->ctx, d, wall_usec(), latency);
}

static const char *outcome_result(struct pol_decision *d, const struct act_outcome *o)
{
	if (o->why[0])
		snprintf(d->why, sizeof(d->why), "%s", o->why);
	if (o->err)
		return o->refused ? RES_REFUSED : RES_FAILED;
	return RES_OK;
}

/* Carries d out, or starts it (NULL: a job goes on with it). */
static const char *execute(struct enforcer *e, struct pol_decision *d, uint64_t trigger_usec)
{
	struct act_verify *v = NULL;
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
		int pidfd;
		pid_t pid;

		if (d->dry_run)
			return RES_DRY;
		if (e->nr_jobs >= MAX_JOBS) {
			snprintf(d->why, sizeof(d->why), "hook %s not started: %d hooks and "
				 "verifications are going on already", d->hook_path, MAX_JOBS);
			return RES_FAILED;
		}
		pid = spawn_hook(d, &pidfd);
		if (pid < 0) {
			snprintf(d->why, sizeof(d->why), "hook %s could not be started: %s",
				 d->hook_path, strerror((int)-pid));
			return RES_FAILED;
		}
		err = job_add(e, d, trigger_usec, pid, pidfd, NULL,
			      mono_usec() + d->hook_timeout_usec);
		if (err) {
			/* Not kept, so not waited for in the loop: end it here. */
			int status = 0;

			if (pidfd >= 0)
				close(pidfd);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			snprintf(d->why, sizeof(d->why), "hook %s: %s", d->hook_path,
				 strerror(-err));
			return RES_FAILED;
		}
		return NULL;
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
	if (e->nr_jobs >= MAX_JOBS) {
		actuator_apply(e->act, d->path, &c, &o);
		return outcome_result(d, &o);
	}
	actuator_apply_start(e->act, d->path, &c, &o, &v);
	if (!v)
		return outcome_result(d, &o);
	/* Written; cgroup.events will say when the kernel has followed. */
	err = actuator_verify_check(e->act, v, mono_usec(), &o);
	if (err != -EINPROGRESS)
		return outcome_result(d, &o);
	if (job_add(e, d, trigger_usec, 0, actuator_verify_fd(v), v, actuator_verify_deadline(v))) {
		/* No room to wait in the loop: wait here, as a one-shot would. */
		while ((err = actuator_verify_check(e->act, v, mono_usec(), &o)) ==
		       -EINPROGRESS)
			nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
		return outcome_result(d, &o);
	}
	return NULL;
}

/* Re-arms the alarm for the next thing that must be looked at. */
static void rearm(struct enforcer *e)
{
	uint64_t now = mono_usec(), at = 0;

	for (size_t i = 0; i < e->nr_jobs; i++) {
		const struct job *j = e->jobs[i];
		uint64_t t = j->deadline;

		/* Without a wake-up from the kernel: polled. */
		if (j->watch_fd < 0 && t > now + JOB_POLL_USEC)
			t = now + JOB_POLL_USEC;
		else if (j->v && t > now + JOB_BACKSTOP_USEC)
			t = now + JOB_BACKSTOP_USEC;
		/* A killed hook is waited for through its pidfd. */
		if (j->killed && j->watch_fd >= 0)
			continue;
		if (j->killed)
			t = now + JOB_POLL_USEC;
		if (!at || t < at)
			at = t;
	}
	loop_alarm_set(e->alarm_fd, at);
}

/* Looks at job i: 0 if it goes on, 1 if it ended (recorded, removed). */
static int job_step(struct enforcer *e, size_t i, uint64_t now)
{
	struct job *j = e->jobs[i];
	const char *res;

	if (j->v) {
		struct act_outcome o;
		int fd = actuator_verify_fd(j->v);
		int err = actuator_verify_check(e->act, j->v, now, &o);

		if (err == -EINPROGRESS)
			return 0;
		/* The verification freed v and closed its fd: out of the loop first. */
		if (j->watch_fd >= 0)
			loop_del_fd(e->loop, fd);
		j->v = NULL;
		res = outcome_result(&j->d, &o);
	} else {
		int status = 0;
		pid_t r = waitpid(j->pid, &status, WNOHANG);
		int werr = errno;

		if (r == 0 || (r < 0 && werr == EINTR)) {
			if (!j->killed && now >= j->deadline) {
				kill(j->pid, SIGKILL);
				j->killed = true;
			}
			return 0;
		}
		if (j->watch_fd >= 0) {
			loop_del_fd(e->loop, j->watch_fd);
			close(j->watch_fd);
		}
		/* r < 0: not our child any more (ECHILD); count it as failed. */
		res = r < 0 ? RES_FAILED : hook_result(&j->d, j->hook, status, j->killed,
						      j->d.hook_timeout_usec);
		if (r < 0)
			snprintf(j->d.why, sizeof(j->d.why), "hook %s: %s", j->hook,
				 strerror(werr));
	}
	e->jobs[i] = e->jobs[--e->nr_jobs];
	finish(e, &j->d, res, j->trigger_usec);
	job_free(j);
	return 1;
}

static void progress(struct enforcer *e)
{
	uint64_t now = mono_usec();

	for (size_t i = 0; i < e->nr_jobs;)
		if (!job_step(e, i, now))
			i++;
	rearm(e);
}

static int on_alarm(struct loop *l, int fd, uint32_t events, void *ctx)
{
	(void)l;
	(void)events;
	loop_timer_expirations(fd);
	progress(ctx);
	return 0;
}

/* A hook exited (pidfd), or a verified cgroup's cgroup.events changed. */
static int on_job_fd(struct loop *l, int fd, uint32_t events, void *ctx)
{
	(void)l;
	(void)fd;
	(void)events;
	progress(ctx);
	return 0;
}

int enforcer_run(struct enforcer *e, struct pol_decisions *ds, uint64_t trigger_mono_usec)
{
	int applied = 0;
	size_t before = e->nr_jobs;

	for (size_t i = 0; i < ds->nr; i++) {
		struct pol_decision *d = &ds->d[i];
		const char *res;

		/* Adaptive control is recorded when it starts and ends, and
		 * summed up once a minute; the adjustments between are counted
		 * but recorded only when one does not take. */
		if (d->adapt == POL_ADAPT_SUMMARY) {
			snprintf(d->result, sizeof(d->result), "summary");
			if (e->record)
				e->record(e->ctx, d, wall_usec(), 0);
			continue;
		}
		res = execute(e, d, trigger_mono_usec);
		if (d->adapt == POL_ADAPT_ADJUST && (res == RES_OK || res == RES_DRY)) {
			snprintf(d->result, sizeof(d->result), "%s", res);
			count(e, d->rule, policy_action_name(d->action), res);
			applied += res == RES_OK;
			continue;
		}
		if (!res) {
			snprintf(d->result, sizeof(d->result), "running");
			continue;
		}
		applied += res == RES_OK;
		finish(e, d, res, trigger_mono_usec);
	}
	if (e->nr_jobs != before)
		rearm(e);
	return applied;
}

void enforcer_drain(struct enforcer *e)
{
	progress(e);
	/* Verifications end by their deadline (the actuator's timeout, 5 s).
	 * Hooks are not waited for up to theirs: the daemon is going away,
	 * and a hook nobody watches could outlive it unnoticed. */
	for (size_t i = 0; i < e->nr_jobs; i++) {
		struct job *j = e->jobs[i];

		if (j->pid > 0 && !j->killed) {
			kill(j->pid, SIGKILL);
			j->killed = true;
		}
	}
	while (e->nr_jobs) {
		uint64_t now = mono_usec();

		for (size_t i = 0; i < e->nr_jobs;) {
			struct job *j = e->jobs[i];
			int status;

			if (j->pid > 0) {
				/* SIGKILLed above: this wait is short. */
				waitpid(j->pid, &status, 0);
				if (j->watch_fd >= 0) {
					loop_del_fd(e->loop, j->watch_fd);
					close(j->watch_fd);
				}
				e->jobs[i] = e->jobs[--e->nr_jobs];
				snprintf(j->d.why, sizeof(j->d.why), "hook %s killed: cgwarden "
					 "is exiting", j->hook);
				finish(e, &j->d, RES_FAILED, j->trigger_usec);
				job_free(j);
				continue;
			}
			if (!job_step(e, i, now))
				i++;
		}
		if (e->nr_jobs)
			nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	loop_alarm_set(e->alarm_fd, 0);
}
