/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include "clock.h"
#include "actuator.h"
#include "cgfs.h"
#include "limitval.h"
#include "parse.h"
#include "selfcg.h"
#include "snapshot.h"

struct actuator {
	int root_fd;			/* O_PATH dirfd of the root */
	dev_t root_dev;
	char *root_path;
	bool fixture;
	bool dry_run;
	char *who;
	act_audit_fn audit;
	void *audit_ctx;
	uint64_t timeout_usec;
	/* Our own cgroup's id, then its ancestors' (root excluded); or
	 * SELFCG_UNKNOWN, and then every change is refused. */
	struct selfcg self;
	bool no_openat2;		/* the kernel (or seccomp) refused openat2 */
};

static const struct {
	const char *file;
	const char *controller;		/* NULL: core file, always there */
} kinds[ACT__COUNT] = {
	[ACT_CPU_MAX] = { "cpu.max", "cpu" },
	[ACT_CPU_WEIGHT] = { "cpu.weight", "cpu" },
	[ACT_MEMORY_MIN] = { "memory.min", "memory" },
	[ACT_MEMORY_LOW] = { "memory.low", "memory" },
	[ACT_MEMORY_HIGH] = { "memory.high", "memory" },
	[ACT_MEMORY_MAX] = { "memory.max", "memory" },
	[ACT_SWAP_MAX] = { "memory.swap.max", "memory" },
	[ACT_PIDS_MAX] = { "pids.max", "pids" },
	[ACT_FREEZE] = { "cgroup.freeze", NULL },
	[ACT_THAW] = { "cgroup.freeze", NULL },
	[ACT_KILL] = { "cgroup.kill", NULL },
};

const char *actuator_file(enum act_kind kind)
{
	return (unsigned)kind < ACT__COUNT ? kinds[kind].file : "?";
}

const char *actuator_root(const struct actuator *a)
{
	return a->root_path;
}

/* A sentence for people; cut at whylen if it must be. */
__attribute__((format(printf, 3, 4)))
static void say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* ---- confinement ------------------------------------------------------ */

/*
 * The text of a target path, before any lookup: relative, no "." or ".."
 * component, no empty component, no control character (cgroupfs refuses
 * '\n' in names anyway; a control character here is an injection attempt
 * or a copy-paste accident, either way not a cgroup).
 */
static int check_path_text(const char *t, char *why, size_t whylen)
{
	const char *p = t;

	if (strlen(t) >= PATH_MAX) {
		snprintf(why, whylen, "the path is longer than PATH_MAX");
		return -ENAMETOOLONG;
	}
	if (t[0] == '/') {
		snprintf(why, whylen, "'%.200s' is absolute: give the path relative to the "
			 "cgroup2 root (e.g. system.slice/nginx.service)", t);
		return -EINVAL;
	}
	for (const unsigned char *c = (const unsigned char *)t; *c; c++) {
		if (*c < 0x20 || *c == 0x7f) {
			snprintf(why, whylen, "the path holds a control character (0x%02x): "
				 "refused", *c);
			return -EINVAL;
		}
	}
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
			snprintf(why, whylen, "'%.200s' has an empty, '.' or '..' component: "
				 "refused (paths stay below the root)", t);
			return -EINVAL;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

static bool on_cgroup2(int fd)
{
	struct statfs st;

	return fstatfs(fd, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

/*
 * Walks rel one component at a time from dirfd without following symlinks,
 * checking that every step stays on the root's filesystem (and is cgroup2
 * unless this is a fixture tree): what openat2's RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV do, for kernels before 5.6 or a
 * seccomp filter that refuses openat2. ".." was refused by check_path_text.
 */
static int open_walk(struct actuator *a, int dirfd, const char *rel, int flags)
{
	char comp[NAME_MAX + 1];
	const char *p = rel;
	int cur = dirfd, fd = -1;

	if (!*rel)
		return -EINVAL;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		bool last = !e || !e[1];
		struct stat st = { 0 };

		if (n > NAME_MAX) {
			fd = -ENAMETOOLONG;
			break;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		fd = openat(cur, comp, (last ? flags : O_PATH | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			fd = -errno;
			break;
		}
		if (fstat(fd, &st) || st.st_dev != a->root_dev ||
		    (!a->fixture && !on_cgroup2(fd)) || S_ISLNK(st.st_mode)) {
			close(fd);
			fd = S_ISLNK(st.st_mode) ? -ELOOP : -EXDEV;
			break;
		}
		if (cur != dirfd)
			close(cur);
		cur = fd;
		p += n;
		if (*p == '/')
			p++;
		if (last)
			return fd;
	}
	if (cur != dirfd && cur != fd)
		close(cur);
	return fd;
}

/* openat2 confined below dirfd, or the walk above where there is none. */
static int open_beneath(struct actuator *a, int dirfd, const char *rel, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV |
			   RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (!a->no_openat2) {
		fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if (errno != ENOSYS && errno != EPERM)
			return -errno;
		/* EPERM can be a seccomp filter; the walk says it for real. */
		a->no_openat2 = true;
	}
	return open_walk(a, dirfd, rel, flags);
}

static const char *lookup_error(int err)
{
	switch (err) {
	case -ELOOP: return "goes through a symbolic link: refused";
	case -EXDEV: return "leaves the cgroup2 filesystem: refused";
	case -ENOENT: return "does not exist";
	case -ENOTDIR: return "is not a cgroup directory";
	case -EACCES:
	case -EPERM: return "cannot be opened (permission denied)";
	default: return NULL;
	}
}

/* Opens the target cgroup's directory (O_PATH). Returns fd or -errno. */
static int open_cgroup(struct actuator *a, const char *target, uint64_t *ino,
		       char *why, size_t whylen)
{
	struct stat st;
	int err = check_path_text(target, why, whylen), fd;

	if (err)
		return err;
	if (!*target) {
		snprintf(why, whylen, "the root cgroup is never changed");
		return -EPERM;
	}
	fd = open_beneath(a, a->root_fd, target, O_PATH | O_DIRECTORY);
	/* O_NOFOLLOW on the last step makes a symlinked target "not a
	 * directory"; say what it is. (For the message only: nothing is
	 * opened through it.) */
	if (fd == -ENOTDIR && fstatat(a->root_fd, target, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		fd = -ELOOP;
	if (fd < 0) {
		const char *msg = lookup_error(fd);

		if (msg)
			snprintf(why, whylen, "cgroup '%.200s' under %s %s", target, a->root_path, msg);
		else
			snprintf(why, whylen, "cgroup '%.200s': %s", target, strerror(-fd));
		return fd;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	*ino = (uint64_t)st.st_ino;
	return fd;
}

static int protected_target(const struct actuator *a, const char *target, uint64_t ino,
			    enum act_kind kind, char *why, size_t whylen)
{
	size_t first = strcspn(target, "/");

	if (first == strlen("init.scope") && strncmp(target, "init.scope", first) == 0) {
		snprintf(why, whylen, "init.scope (PID 1) is never changed");
		return -EPERM;
	}
	/* Not knowing where we are, any cgroup might hold us. */
	if (a->self.where == SELFCG_UNKNOWN) {
		snprintf(why, whylen, "cgwarden cannot tell which cgroup it runs in (%.160s): "
			 "refused, as '%.100s' might contain it", a->self.why, target);
		return -EPERM;
	}
	if (a->self.nr_ids && ino == a->self.ids[0]) {
		snprintf(why, whylen, "'%.200s' is cgwarden's own cgroup: refused", target);
		return -EPERM;
	}
	/* Freezing or killing an ancestor would freeze or kill us too. */
	if (kind == ACT_FREEZE || kind == ACT_KILL) {
		for (size_t i = 1; i < a->self.nr_ids; i++) {
			if (ino == a->self.ids[i]) {
				snprintf(why, whylen, "'%.200s' contains cgwarden itself: "
					 "refused", target);
				return -EPERM;
			}
		}
	}
	return 0;
}

int actuator_check_target(struct actuator *a, const char *target, enum act_kind kind,
			  char *why, size_t whylen)
{
	uint64_t ino = 0;
	int fd = open_cgroup(a, target, &ino, why, whylen), err;

	if (fd < 0)
		return fd;
	err = protected_target(a, target, ino, kind, why, whylen);
	close(fd);
	return err;
}

int actuator_cgroup_id(struct actuator *a, const char *target, uint64_t *id)
{
	char why[ACT_WHY_MAX];
	int fd = open_cgroup(a, target, id, why, sizeof(why));

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* ---- reading and writing one file ------------------------------------- */

/* The file's text with trailing whitespace removed. 0 or -errno. */
static int read_text(struct actuator *a, int cgfd, const char *file, char *out, size_t outlen)
{
	char buf[512];
	int fd = open_beneath(a, cgfd, file, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	snprintf(out, outlen, "%s", buf);
	return 0;
}

static int read_key(struct actuator *a, int cgfd, const char *file, const char *key,
		    uint64_t *val)
{
	char buf[2048];
	const char *keys[1] = { key };
	uint64_t have = 0;
	int err = read_text(a, cgfd, file, buf, sizeof(buf));

	if (err)
		return err;
	/* read_text trimmed the last '\n'; parse_keyed wants whole lines. */
	strncat(buf, "\n", sizeof(buf) - strlen(buf) - 1);
	if (parse_keyed(buf, strlen(buf), keys, 1, val, &have) != 1)
		return -EINVAL;
	return 0;
}

static volatile sig_atomic_t write_timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	write_timed_out = 1;
}

/*
 * A write that may block: memory.high and memory.max reclaim before they
 * return. The kernel checks for a pending signal in its reclaim loop, and by
 * then the new limit is already in place, so a SIGALRM without SA_RESTART
 * cuts the wait short without losing the write.
 */
static int write_text(uint64_t timeout_usec, int fd, const char *text, bool *cut_short)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct itimerval it = { 0 }, off = { 0 };
	size_t len = strlen(text);
	ssize_t n;
	int err = 0;

	sigemptyset(&sa.sa_mask);
	it.it_value.tv_sec = (time_t)(timeout_usec / 1000000u);
	it.it_value.tv_usec = (suseconds_t)(timeout_usec % 1000000u);
	write_timed_out = 0;
	sigaction(SIGALRM, &sa, &old);
	setitimer(ITIMER_REAL, &it, NULL);
	n = write(fd, text, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	*cut_short = write_timed_out;
	if (err == -EINTR && write_timed_out)
		err = -ETIMEDOUT;
	return err;
}

/* ---- validation ------------------------------------------------------- */

/* For a file that is not there: which ancestor does not pass the controller
 * down? The first one from the top whose cgroup.subtree_control lacks it. */
static void explain_missing(struct actuator *a, const char *target, const char *controller,
			    const char *file, char *why, size_t whylen)
{
	char path[PATH_MAX], text[512];
	size_t len = 0;
	bool offered = false;

	/* Not offered by the hierarchy at all: on a hybrid host cgroup v1 holds
	 * it, and no subtree_control can pass it down. */
	if (read_text(a, a->root_fd, "cgroup.controllers", text, sizeof(text)) == 0) {
		for (char *tok = strtok(text, " "); tok; tok = strtok(NULL, " "))
			offered |= strcmp(tok, controller) == 0;
		if (!offered) {
			say(why, whylen, "this cgroup2 hierarchy (%.120s) has no %.8s controller "
			    "(cgroup.controllers lacks it; on a hybrid host cgroup v1 holds it)",
			    a->root_path, controller);
			return;
		}
	}
	for (;;) {
		int dfd = len ? open_beneath(a, a->root_fd, path, O_PATH | O_DIRECTORY)
			      : dup(a->root_fd);
		bool has = false;

		if (dfd < 0)
			break;
		if (read_text(a, dfd, "cgroup.subtree_control", text, sizeof(text)) == 0) {
			for (char *tok = strtok(text, " "); tok; tok = strtok(NULL, " "))
				has |= strcmp(tok, controller) == 0;
		}
		close(dfd);
		if (!has) {
			char where[PATH_MAX + 64];

			if (snprintf(where, sizeof(where), "%s%s%s/cgroup.subtree_control",
				     a->root_path, len ? "/" : "", len ? path : "") >= (int)sizeof(where))
				snprintf(where, sizeof(where), "an ancestor's cgroup.subtree_control");
			say(why, whylen, "the %.8s controller is not enabled for '%.100s': "
			    "%.120s lacks '%.8s' (echo +%.8s > it to enable)", controller, target,
			    where, controller, controller);
			return;
		}
		/* Next ancestor: one more component of target. */
		const char *next = strchr(target + len + (len ? 1 : 0), '/');

		if (!next)
			break;
		len = (size_t)(next - target);
		memcpy(path, target, len);
		path[len] = '\0';
	}
	say(why, whylen, "'%.120s' has no %s although the %s controller reaches it",
	    target, file, controller);
}

static uint64_t page_floor(uint64_t v)
{
	long ps = sysconf(_SC_PAGESIZE);

	if (v == CG_UNLIMITED || ps <= 0)
		return v;
	return v - v % (uint64_t)ps;
}

/* The text to write for c, and the text the kernel shows back for it. */
static void change_texts(const struct act_change *c, char *wrote, char *expect, size_t len)
{
	char q[32];

	switch (c->kind) {
	case ACT_CPU_MAX:
		limitval_format(c->value, q, sizeof(q));
		snprintf(wrote, len, "%s %" PRIu64, q, c->period);
		snprintf(expect, len, "%s", wrote);
		return;
	case ACT_FREEZE:
		snprintf(wrote, len, "1");
		snprintf(expect, len, "1");
		return;
	case ACT_THAW:
		snprintf(wrote, len, "0");
		snprintf(expect, len, "0");
		return;
	case ACT_KILL:
		snprintf(wrote, len, "1");
		expect[0] = '\0';
		return;
	case ACT_MEMORY_MIN:
	case ACT_MEMORY_LOW:
	case ACT_MEMORY_HIGH:
	case ACT_MEMORY_MAX:
	case ACT_SWAP_MAX:
		limitval_format(c->value, wrote, len);
		/* The kernel keeps memory limits in pages. */
		limitval_format(page_floor(c->value), expect, len);
		return;
	default:
		limitval_format(c->value, wrote, len);
		snprintf(expect, len, "%s", wrote);
	}
}

/* A cgroup under a frozen ancestor stays frozen whatever its own
 * cgroup.freeze says: thawing it alone would wait in vain. */
static int frozen_ancestor(struct actuator *a, const char *target, char *why, size_t whylen)
{
	char path[PATH_MAX], text[16];
	const char *slash = target;

	while ((slash = strchr(slash, '/'))) {
		size_t len = (size_t)(slash - target);
		int dfd;

		memcpy(path, target, len);
		path[len] = '\0';
		slash++;
		dfd = open_beneath(a, a->root_fd, path, O_PATH | O_DIRECTORY);
		if (dfd < 0)
			continue;
		if (read_text(a, dfd, "cgroup.freeze", text, sizeof(text)) == 0 &&
		    strcmp(text, "1") == 0) {
			close(dfd);
			say(why, whylen, "'%.120s' stays frozen while its ancestor '%.120s' is "
			    "frozen: thaw that one", target, path);
			return -EBUSY;
		}
		close(dfd);
	}
	return 0;
}

static int refuse(struct act_outcome *o, int err)
{
	o->err = err;
	o->refused = true;
	return err;
}

/* Validation with the cgroup already open. */
static int validate_open(struct actuator *a, int cgfd, const char *target,
			 const struct act_change *c, struct act_outcome *o, char *expect)
{
	uint64_t cur;
	int err;

	change_texts(c, o->wrote, expect, ACT_TEXT_MAX);
	if (c->kind == ACT_KILL) {
		/* cgroup.kill cannot be read; "old" is whether anything runs. */
		int fd = open_beneath(a, cgfd, "cgroup.kill", O_WRONLY);

		if (fd < 0) {
			if (fd == -ENOENT)
				say(o->why, sizeof(o->why), "'%.200s' has no cgroup.kill "
				    "(needs Linux 5.14)", target);
			else
				say(o->why, sizeof(o->why), "cgroup.kill of '%.200s' %s", target,
				    lookup_error(fd) ? lookup_error(fd) : strerror(-fd));
			return refuse(o, fd);
		}
		close(fd);
		if (read_key(a, cgfd, "cgroup.events", "populated", &cur) == 0)
			snprintf(o->old, sizeof(o->old), "populated %" PRIu64, cur);
		return 0;
	}
	err = read_text(a, cgfd, o->file, o->old, sizeof(o->old));
	if (!err && c->kind == ACT_THAW) {
		err = frozen_ancestor(a, target, o->why, sizeof(o->why));
		if (err)
			return refuse(o, err);
	}
	if (err == -ENOENT && kinds[c->kind].controller) {
		explain_missing(a, target, kinds[c->kind].controller, o->file, o->why,
				sizeof(o->why));
		return refuse(o, -ENOENT);
	}
	if (err) {
		snprintf(o->why, sizeof(o->why), "reading %s of '%.200s': %s", o->file, target,
			 strerror(-err));
		return refuse(o, err);
	}
	/* The kernel counts whole pages: 100 bytes would be a limit of 0. */
	if (kinds[c->kind].controller && strcmp(kinds[c->kind].controller, "memory") == 0 &&
	    c->value && c->value != CG_UNLIMITED && page_floor(c->value) == 0) {
		say(o->why, sizeof(o->why), "%s %" PRIu64 " is less than one page and would "
		    "round down to 0 bytes; give 0 if you mean it", o->file, c->value);
		return refuse(o, -ERANGE);
	}
	/* A hard or high limit under what the cgroup uses now makes the kernel
	 * reclaim at once, and OOM-kill (max) what it cannot reclaim. */
	if ((c->kind == ACT_MEMORY_MAX || c->kind == ACT_MEMORY_HIGH) && !c->force &&
	    c->value != CG_UNLIMITED) {
		char text[64], h1[32], h2[32];

		if (read_text(a, cgfd, "memory.current", text, sizeof(text)) == 0 &&
		    parse_u64_or_max(text, strlen(text), &cur) == 0 && page_floor(c->value) < cur) {
			limitval_format_bytes_human(c->value, h1, sizeof(h1));
			snprintf(h2, sizeof(h2), "%.1fM", (double)cur / 1048576.0);
			snprintf(o->why, sizeof(o->why),
				 "%s %s is below the current usage of %s (%" PRIu64 " bytes): the "
				 "kernel would reclaim at once%s; use --force to do it anyway",
				 o->file, h1, h2, cur,
				 c->kind == ACT_MEMORY_MAX ? " and OOM-kill what it cannot reclaim"
							   : " and throttle the cgroup");
			return refuse(o, -ERANGE);
		}
	}
	return 0;
}

static void audit(struct actuator *a, const char *target, uint64_t ino,
		  const struct act_outcome *o, bool quiet);

/*
 * Everything before a write: the target opened (once: the write goes
 * through this very fd, so a cgroup replaced after the checks cannot receive
 * it), its protection, the change's validity. On success *cgfd is open; on
 * refusal o says why and *cgfd is -1.
 */
static int prepare(struct actuator *a, const char *target, const struct act_change *c,
		   struct act_outcome *o, char *expect, int *cgfd, uint64_t *ino)
{
	int err;

	memset(o, 0, sizeof(*o));
	*cgfd = -1;
	*ino = 0;
	if ((unsigned)c->kind >= ACT__COUNT) {
		o->file = "?";
		say(o->why, sizeof(o->why), "unknown change kind %d", (int)c->kind);
		return refuse(o, -EINVAL);
	}
	o->file = kinds[c->kind].file;
	o->dry_run = a->dry_run;
	err = open_cgroup(a, target, ino, o->why, sizeof(o->why));
	if (err < 0)
		return refuse(o, err);
	*cgfd = err;
	if (c->expect_id && *ino != c->expect_id) {
		say(o->why, sizeof(o->why), "'%.200s' is cgroup %" PRIu64 ", not %" PRIu64
		    " which the decision was about: refused", target, *ino, c->expect_id);
		close(*cgfd);
		*cgfd = -1;
		return refuse(o, -ESTALE);
	}
	err = protected_target(a, target, *ino, c->kind, o->why, sizeof(o->why));
	if (!err)
		err = validate_open(a, *cgfd, target, c, o, expect);
	if (err) {
		close(*cgfd);
		*cgfd = -1;
		return refuse(o, err);
	}
	return 0;
}

int actuator_validate(struct actuator *a, const char *target, const struct act_change *c,
		      struct act_outcome *o)
{
	char expect[ACT_TEXT_MAX];
	uint64_t ino;
	int cgfd, err = prepare(a, target, c, o, expect, &cgfd, &ino);

	if (cgfd >= 0)
		close(cgfd);
	/* A refused request is on record too; one that passes is recorded
	 * when it is applied. */
	if (err)
		audit(a, target, ino, o, c->quiet);
	return err;
}

/* ---- audit ------------------------------------------------------------ */

/* syslog gets one line; odd bytes in the path are escaped, never raw. */
static void log_escape(const char *s, char *out, size_t outlen)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && o + 5 < outlen; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", *p);
		else
			out[o++] = (char)*p;
	}
	out[o] = '\0';
}

static void audit(struct actuator *a, const char *target, uint64_t ino,
		  const struct act_outcome *o, bool quiet)
{
	struct act_audit rec = {
		.time_usec = wall_usec(),
		.who = a->who,
		.target = target,
		.target_id = ino,
		.o = o,
	};
	char t[512], why[ACT_WHY_MAX * 4];
	const char *result = o->dry_run && !o->err ? "dry-run" : o->refused ? "refused"
			     : o->err ? "failed" : "ok";

	if (quiet && !o->err)
		return;
	log_escape(target, t, sizeof(t));
	log_escape(o->why, why, sizeof(why));
	syslog(LOG_NOTICE, "audit who=\"%s\" target=\"%s\" id=%" PRIu64 " file=%s old=\"%s\" "
	       "new=\"%s\" now=\"%s\" result=%s%s%s%s", a->who, t, ino, o->file, o->old,
	       o->wrote, o->now, result, why[0] ? " why=\"" : "", why, why[0] ? "\"" : "");
	if (a->audit)
		a->audit(a->audit_ctx, &rec);
}

/* ---- apply ------------------------------------------------------------ */

/*
 * A write the kernel confirms only later, in cgroup.events: a freeze is
 * done when "frozen" follows (every task has stopped), a kill when
 * "populated" is 0 (every task has exited). Until then the outcome waits
 * here, with the cgroup open, so a caller's loop can go on meanwhile.
 */
struct act_verify {
	char *target;
	uint64_t ino;
	int cgfd;
	int evfd;			/* cgroup.events, for poll; -1 if it cannot be opened */
	const char *key;		/* "frozen" or "populated" */
	uint64_t want;
	enum act_kind kind;
	uint64_t deadline;		/* CLOCK_MONOTONIC */
	struct act_outcome o;
};

/* The key's value in cgroup.events, through the open evfd when there is
 * one: reading it also tells kernfs the change was seen, so its poll
 * signals the next change and not this one again. */
static int verify_read(struct actuator *a, struct act_verify *v, uint64_t *val)
{
	char buf[512];
	const char *keys[1] = { v->key };
	uint64_t have = 0;
	ssize_t n;

	if (v->evfd < 0)
		return read_key(a, v->cgfd, "cgroup.events", v->key, val);
	n = pread(v->evfd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (parse_keyed(buf, (size_t)n, keys, 1, val, &have) != 1)
		return -EINVAL;
	return 0;
}

static void verify_free(struct act_verify *v)
{
	if (!v)
		return;
	if (v->evfd >= 0)
		close(v->evfd);
	if (v->cgfd >= 0)
		close(v->cgfd);
	free(v->target);
	free(v);
}

/* The read back, the error sentence, the audit record: the end of every
 * apply, whether it waited here or in a caller's loop. */
static int apply_finish(struct actuator *a, const char *target, uint64_t ino, int cgfd,
			const struct act_change *c, const char *expect, int err,
			struct act_outcome *o)
{
	switch (c->kind) {
	case ACT_KILL:
		snprintf(o->now, sizeof(o->now), err ? "populated 1" : "populated 0");
		break;
	case ACT_FREEZE:
	case ACT_THAW:
		/* Show what the file says even when the state never followed. */
		if (read_text(a, cgfd, o->file, o->now, sizeof(o->now)) && !err)
			err = -EIO;
		if (err == -ETIMEDOUT)
			snprintf(o->now + strlen(o->now), sizeof(o->now) - strlen(o->now),
				 ", frozen %d", c->kind != ACT_FREEZE);
		break;
	default:
		err = read_text(a, cgfd, o->file, o->now, sizeof(o->now));
		if (!err && strcmp(o->now, expect) != 0)
			err = -EIO;
	}
	if (err) {
		o->err = err;
		snprintf(o->why, sizeof(o->why), "%s of '%.120s' reads '%.40s' after writing '%.40s'%s",
			 o->file, target, o->now, o->wrote,
			 err == -ETIMEDOUT ? " (the kernel did not finish in time)" : "");
	} else if (o->cut_short) {
		snprintf(o->why, sizeof(o->why), "the limit is set; reclaim was cut short after "
			 "%" PRIu64 " ms", (c->timeout_usec ? c->timeout_usec : a->timeout_usec) / 1000);
	}
	audit(a, target, ino, o, c->quiet);
	return o->err;
}

int actuator_apply_start(struct actuator *a, const char *target, const struct act_change *c,
			 struct act_outcome *o, struct act_verify **vp)
{
	char expect[ACT_TEXT_MAX];
	bool later = c->kind == ACT_FREEZE || c->kind == ACT_THAW || c->kind == ACT_KILL;
	struct act_verify *v;
	uint64_t ino;
	int cgfd, fd, err, evfd = -1;

	*vp = NULL;
	if (prepare(a, target, c, o, expect, &cgfd, &ino)) {
		audit(a, target, ino, o, c->quiet);
		return o->err;
	}
	if (a->dry_run) {
		snprintf(o->now, sizeof(o->now), "%s", o->old);
		goto done;
	}
	/* Before the write: a change of cgroup.events after it is then seen
	 * by poll, however soon it comes. */
	if (later)
		evfd = open_beneath(a, cgfd, "cgroup.events", O_RDONLY);
	/* O_TRUNC as a shell's '>' does: cgroupfs takes each write whole, and a
	 * plain file standing in for it (fixtures) must not keep an old tail. */
	fd = open_beneath(a, cgfd, o->file, O_WRONLY | O_TRUNC);
	if (fd < 0) {
		o->err = fd;
		snprintf(o->why, sizeof(o->why), "opening %s of '%.200s': %s", o->file, target,
			 strerror(-fd));
		goto done;
	}
	err = write_text(c->timeout_usec ? c->timeout_usec : a->timeout_usec, fd, o->wrote,
			 &o->cut_short);
	close(fd);
	if (err) {
		o->err = err;
		snprintf(o->why, sizeof(o->why), "writing '%s' to %s of '%.200s': %s%s", o->wrote,
			 o->file, target, strerror(-err),
			 err == -EINVAL ? " (the kernel refused the value)" :
			 err == -EBUSY ? " (the cgroup is busy; not retried)" : "");
		goto done;
	}
	if (!later) {
		/* Read back: the write counts only if the kernel shows it. */
		apply_finish(a, target, ino, cgfd, c, expect, 0, o);
		close(cgfd);
		return o->err;
	}
	v = calloc(1, sizeof(*v));
	if (!v || !(v->target = strdup(target))) {
		free(v);
		o->err = -ENOMEM;
		snprintf(o->why, sizeof(o->why), "out of memory verifying %s of '%.200s'",
			 o->file, target);
		goto done;
	}
	v->ino = ino;
	v->cgfd = cgfd;
	v->evfd = evfd >= 0 ? evfd : -1;
	v->kind = c->kind;
	v->key = c->kind == ACT_KILL ? "populated" : "frozen";
	v->want = c->kind == ACT_FREEZE;
	v->deadline = mono_usec() + a->timeout_usec;
	v->o = *o;
	*vp = v;
	return 0;
done:
	if (evfd >= 0)
		close(evfd);
	close(cgfd);
	audit(a, target, ino, o, c->quiet);
	return o->err;
}

int actuator_verify_fd(const struct act_verify *v)
{
	return v->evfd;
}

uint64_t actuator_verify_deadline(const struct act_verify *v)
{
	return v->deadline;
}

int actuator_verify_check(struct actuator *a, struct act_verify *v, uint64_t now_mono,
			  struct act_outcome *o)
{
	struct act_change c = { .kind = v->kind };
	uint64_t val;
	int err = verify_read(a, v, &val);

	if (!err && val != v->want)
		err = now_mono >= v->deadline ? -ETIMEDOUT : -EINPROGRESS;
	if (err == -EINPROGRESS)
		return err;
	*o = v->o;
	apply_finish(a, v->target, v->ino, v->cgfd, &c, "", err, o);
	verify_free(v);
	return o->err;
}

void actuator_verify_abandon(struct act_verify *v)
{
	verify_free(v);
}

int actuator_apply(struct actuator *a, const char *target, const struct act_change *c,
		   struct act_outcome *o)
{
	struct act_verify *v;
	int err = actuator_apply_start(a, target, c, o, &v);

	/* A one-shot caller (cgwarden set, the dashboard) may wait: the same
	 * check as a loop's, woken by cgroup.events or every 10 ms. */
	while (v) {
		struct pollfd p = { .fd = v->evfd, .events = POLLPRI };

		err = actuator_verify_check(a, v, mono_usec(), o);
		if (err != -EINPROGRESS)
			break;
		poll(&p, 1, 10);
	}
	return err;
}

/* ---- PSI triggers ----------------------------------------------------- */

int actuator_open_psi_trigger(struct actuator *a, const char *target, const char *resource,
			      bool full, uint64_t stall_usec, uint64_t window_usec,
			      char *why, size_t whylen)
{
	char file[32], text[64];
	uint64_t ino;
	int cgfd, fd;
	ssize_t n;

	if (strcmp(resource, "cpu") && strcmp(resource, "memory") && strcmp(resource, "io")) {
		say(why, whylen, "no pressure file for '%.20s'", resource);
		return -EINVAL;
	}
	cgfd = open_cgroup(a, target, &ino, why, whylen);
	if (cgfd < 0)
		return cgfd;
	snprintf(file, sizeof(file), "%s.pressure", resource);
	fd = open_beneath(a, cgfd, file, O_RDWR | O_NONBLOCK);
	close(cgfd);
	if (fd < 0) {
		say(why, whylen, "%s of '%.200s': %s", file, target, strerror(-fd));
		return fd;
	}
	snprintf(text, sizeof(text), "%s %" PRIu64 " %" PRIu64, full ? "full" : "some",
		 stall_usec, window_usec);
	/* The kernel takes the trigger with its terminating NUL. */
	n = write(fd, text, strlen(text) + 1);
	if (n < 0) {
		int err = -errno;

		say(why, whylen, "registering '%s' on %s of '%.200s': %s", text, file, target,
		    strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}

/* ---- setup ------------------------------------------------------------ */

/*
 * Our own cgroup and its ancestors, by inode (src/selfcg.c: found the same
 * way in any cgroup namespace), so the check holds whatever root the
 * actuator was given. The test hook names it below the root instead.
 */
static int find_self(struct actuator *a, const struct actuator_opts *o)
{
	struct selfcg_opts so = { .mountinfo = o->mountinfo };

	if (o->self_cgroup)
		return selfcg_at(a->root_fd, o->self_cgroup, &a->self);
	return selfcg_locate(a->root_fd, &so, &a->self);
}

const char *actuator_self(const struct actuator *a, const char **why)
{
	*why = a->self.where == SELFCG_UNKNOWN ? a->self.why : NULL;
	return a->self.where == SELFCG_INSIDE ? a->self.path : NULL;
}

int actuator_open(const struct actuator_opts *o, struct actuator **out, char *why, size_t whylen)
{
	struct actuator *a = calloc(1, sizeof(*a));
	char mnt[PATH_MAX];
	const char *root = o->root;
	struct stat st;
	int err;

	if (!a)
		return -ENOMEM;
	a->root_fd = -1;
	if (!root) {
		err = cgfs_find_cgroup2(o->mountinfo ? o->mountinfo : "/proc/self/mountinfo",
					mnt, sizeof(mnt));
		if (err) {
			snprintf(why, whylen, "no cgroup2 filesystem is mounted; pass --root DIR");
			goto fail;
		}
		root = mnt;
	}
	a->root_path = strdup(root);
	a->who = strdup(o->who ? o->who : "cgwarden");
	if (!a->root_path || !a->who) {
		err = -ENOMEM;
		goto fail;
	}
	a->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (a->root_fd < 0 || fstat(a->root_fd, &st)) {
		err = -errno;
		snprintf(why, whylen, "%s: %s", root, strerror(errno));
		goto fail;
	}
	a->root_dev = st.st_dev;
	a->fixture = o->fixture_root;
	if (!a->fixture && !on_cgroup2(a->root_fd)) {
		err = -EMEDIUMTYPE;
		snprintf(why, whylen, "%s is not a cgroup2 filesystem: refused (nothing is "
			 "written outside cgroupfs)", root);
		goto fail;
	}
	a->dry_run = o->dry_run;
	a->audit = o->audit;
	a->audit_ctx = o->audit_ctx;
	a->timeout_usec = o->timeout_usec ? o->timeout_usec : 5000000;
	err = find_self(a, o);
	if (err) {
		snprintf(why, whylen, "finding cgwarden's own cgroup: %s", strerror(-err));
		goto fail;
	}
	openlog("cgwarden", LOG_PID, LOG_DAEMON);
	*out = a;
	return 0;
fail:
	actuator_close(a);
	return err;
}

void actuator_close(struct actuator *a)
{
	if (!a)
		return;
	if (a->root_fd >= 0)
		close(a->root_fd);
	selfcg_free(&a->self);
	free(a->root_path);
	free(a->who);
	free(a);
}

const char *actuator_describe(const struct act_outcome *o, char *buf, size_t len)
{
	bool kill = o->file == actuator_file(ACT_KILL);

	if (o->err)
		snprintf(buf, len, "%s: %s -> %s FAILED: %s", o->file, o->old, o->wrote, o->why);
	else if (o->dry_run && kill)
		snprintf(buf, len, "would kill every process (%s; dry run: nothing written)",
			 o->old);
	else if (o->dry_run)
		snprintf(buf, len, "%s: %s -> %s (dry run: nothing written)", o->file, o->old,
			 o->wrote);
	else if (kill)
		snprintf(buf, len, "every process killed (%s -> %s)", o->old, o->now);
	else
		snprintf(buf, len, "%s: %s -> %s (read back: %s)%s%s", o->file, o->old, o->wrote,
			 o->now, o->cut_short ? "; " : "", o->cut_short ? o->why : "");
	return buf;
}
