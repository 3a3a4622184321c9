/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The actuator, the only writer of cgroupfs, on fixture trees: a temp copy of
 * a captured cgroupfs where regular files stand in for the kernel's (opened
 * with .fixture_root). What must hold:
 *  - confinement: nothing outside the root is ever written, whatever the
 *    target text or the symbolic links and mounts inside the tree;
 *  - protection: the root, init.scope, our own cgroup (and, for freeze and
 *    kill, its ancestors) are refused;
 *  - a write is validated first, read back after, and audited once;
 *  - validate and dry runs write nothing and refuse what apply refuses.
 *
 * Each test makes its own tree under /tmp/cgw-act-XXXXXX:
 *   root/     the fixture copy (the actuator's root)
 *   outside/  cgroup-looking files that must never change
 * and removes it at the end. Whether something was written is checked on
 * the files, and on the whole tree with a digest (contents and mtimes).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include "test.h"
#include "actuator.h"
#include "selfcg.h"
#include "snapshot.h"

#define PURE "tests/fixtures/v2-pure-6.1"
#define HYBRID "tests/fixtures/v2-hybrid-6.18"
#define DOCKER_NAME "docker-3f4e8a9c1b2d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9d0e1f2a3b.scope"
#define DOCKER "system.slice/" DOCKER_NAME
#define KUBEPODS "kubepods.slice"

#define MiB (1024ull * 1024)

/* ---- temp trees --------------------------------------------------------- */

struct tree {
	char base[64];		/* /tmp/cgw-act-XXXXXX */
	char root[96];		/* base/root: the fixture copy */
	char out[96];		/* base/outside: must never change */
};

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* The file as it is on disk, less trailing newlines (the kernel shows one,
 * a rewritten plain file may not keep it); any other stray byte shows. */
static const char *get_file(const char *path)
{
	static char buf[4][512];
	static int next;
	char *b = buf[next++ % 4];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(b, 1, sizeof(buf[0]) - 1, f);
		fclose(f);
	} else {
		snprintf(b, sizeof(buf[0]), "(cannot open: %s)", strerror(errno));
		return b;
	}
	while (n > 0 && b[n - 1] == '\n')
		n--;
	b[n] = '\0';
	return b;
}

/* dir/rel in one of a few rotating buffers, so several fit in one call. */
static const char *at(const char *dir, const char *rel)
{
	static char buf[8][PATH_MAX];
	static int next;
	char *b = buf[next++ % 8];

	snprintf(b, PATH_MAX, "%s/%s", dir, rel);
	return b;
}

/* dir/mid/leaf, the same way. */
static const char *at3(const char *dir, const char *mid, const char *leaf)
{
	static char buf[4][PATH_MAX];
	static int next;
	char *b = buf[next++ % 4];

	snprintf(b, PATH_MAX, "%s/%s/%s", dir, mid, leaf);
	return b;
}

static bool tree_make(struct tree *t, const char *fixture)
{
	char cmd[512];

	snprintf(t->base, sizeof(t->base), "/tmp/cgw-act-XXXXXX");
	if (!mkdtemp(t->base)) {
		CHECK(!"mkdtemp");
		return false;
	}
	snprintf(t->root, sizeof(t->root), "%s/root", t->base);
	snprintf(t->out, sizeof(t->out), "%s/outside", t->base);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s %s/sub && cp -a %s/. %s/", t->root, t->out,
		 fixture, t->root);
	if (system(cmd) != 0) {
		CHECK(!"copying the fixture");
		return false;
	}
	/* A "cgroup" outside the root, with every file a change could touch,
	 * each holding a value no test writes. memory.current is small so a
	 * write there would not even need --force. */
	static const char *const files[][2] = {
		{ "memory.max", "314572800\n" }, { "memory.high", "max\n" },
		{ "memory.current", "4096\n" }, { "cpu.max", "max 100000\n" },
		{ "cpu.weight", "100\n" }, { "pids.max", "max\n" },
		{ "cgroup.freeze", "0\n" }, { "cgroup.kill", "" },
		{ "cgroup.events", "populated 0\nfrozen 1\n" },
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		put_file(at(t->out, files[i][0]), files[i][1]);
		put_file(at3(t->out, "sub", files[i][0]), files[i][1]);
	}
	return true;
}

static void tree_free(struct tree *t)
{
	char cmd[128];

	if (!t->base[0] || strncmp(t->base, "/tmp/cgw-act-", 13) != 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->base);
	CHECK_INT(system(cmd), 0);
	t->base[0] = '\0';
}

/* A digest of every file's content, mode, mtime and link target under dir:
 * equal digests mean nothing was written. */
static void tree_digest(const char *dir, char *out, size_t len)
{
	char cmd[256];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "tar -C '%s' --sort=name --full-time -cf - . | md5sum", dir);
	out[0] = '\0';
	p = popen(cmd, "r");
	CHECK(p != NULL);
	if (!p)
		return;
	if (!fgets(out, (int)len, p))
		out[0] = '\0';
	CHECK_INT(pclose(p), 0);
	CHECK(strlen(out) >= 32);
}

/* ---- the actuator with a recorded audit -------------------------------- */

struct audit_rec {
	char who[64];
	char target[256];
	char file[32];
	char old[ACT_TEXT_MAX], wrote[ACT_TEXT_MAX], now[ACT_TEXT_MAX];
	char why[ACT_WHY_MAX];
	uint64_t id, time_usec;
	int err;
	bool dry_run, refused;
	const char *result;
};

struct audit_log {
	size_t n;
	struct audit_rec r[8];
};

static void record_audit(void *ctx, const struct act_audit *a)
{
	struct audit_log *al = ctx;
	const struct act_outcome *o = a->o;
	struct audit_rec *r;

	if (al->n >= sizeof(al->r) / sizeof(al->r[0])) {
		al->n++;
		return;
	}
	r = &al->r[al->n++];
	snprintf(r->who, sizeof(r->who), "%s", a->who);
	snprintf(r->target, sizeof(r->target), "%s", a->target);
	snprintf(r->file, sizeof(r->file), "%s", o->file ? o->file : "(null)");
	snprintf(r->old, sizeof(r->old), "%s", o->old);
	snprintf(r->wrote, sizeof(r->wrote), "%s", o->wrote);
	snprintf(r->now, sizeof(r->now), "%s", o->now);
	snprintf(r->why, sizeof(r->why), "%s", o->why);
	r->id = a->target_id;
	r->time_usec = a->time_usec;
	r->err = o->err;
	r->dry_run = o->dry_run;
	r->refused = o->refused;
	/* The same rule as the result= field of the syslog line. */
	r->result = o->dry_run && !o->err ? "dry-run" : o->refused ? "refused"
		    : o->err ? "failed" : "ok";
}

/*
 * self is our cgroup relative to the root. Tests that do not care pass ""
 * (the root, refused anyway): with NULL the actuator would take the host's
 * real cgroup, whose inode numbers are on another filesystem and could match
 * a fixture directory's by chance.
 */
static struct actuator *act_open(const char *root, const char *self, bool dry_run,
				 struct audit_log *al, uint64_t timeout_usec)
{
	struct actuator_opts o = {
		.root = root, .fixture_root = true, .dry_run = dry_run,
		.who = "unit test", .audit = record_audit, .audit_ctx = al,
		.timeout_usec = timeout_usec, .self_cgroup = self,
	};
	struct actuator *a = NULL;
	char why[256] = "";
	int err = actuator_open(&o, &a, why, sizeof(why));

	CHECK_INT(err, 0);
	if (err)
		printf("  actuator_open(%s): %s\n", root, why);
	return a;
}

static struct act_change mem_max(uint64_t v, bool force)
{
	return (struct act_change){ .kind = ACT_MEMORY_MAX, .value = v, .force = force };
}

static uint64_t ino_of(const char *path)
{
	struct stat st;

	CHECK_INT(stat(path, &st), 0);
	return (uint64_t)st.st_ino;
}

/* needle NULL: any why will do. */
static bool why_has(const char *why, const char *needle)
{
	return !needle || strstr(why, needle) != NULL;
}

/* A refusal as apply must report it: the error, refused, a why naming
 * needle (when given), and exactly one audit record saying "refused". */
#define CHECK_APPLY_REFUSED(a, al, target, change, want, needle)                \
	do {                                                                    \
		struct act_outcome o_;                                          \
		struct act_change c_ = (change);                                \
		size_t n0_ = (al)->n;                                           \
		CHECK_INT(actuator_apply(a, target, &c_, &o_), want);           \
		CHECK_INT(o_.err, want);                                        \
		CHECK(o_.refused);                                              \
		CHECK(o_.why[0] != '\0');                                       \
		const char *nd_ = (needle);                                     \
		if (!why_has(o_.why, nd_)) {                                    \
			printf("  why '%s' lacks '%s'\n", o_.why, nd_);         \
			CHECK(!"why names the reason");                         \
		}                                                               \
		CHECK_U64((al)->n, n0_ + 1);                                    \
		if ((al)->n == n0_ + 1 && n0_ < 8) {                            \
			CHECK_STR((al)->r[n0_].result, "refused");              \
			CHECK_INT((al)->r[n0_].err, want);                      \
		}                                                               \
	} while (0)

/* ---- opening ----------------------------------------------------------- */

/* Without .fixture_root, a directory that is not on cgroup2 is refused:
 * the actuator never writes outside cgroupfs. */
static void test_open_refuses_root_not_on_cgroup2(void)
{
	struct tree t = { 0 };
	struct actuator_opts o = { .who = "unit test", .self_cgroup = "" };
	struct actuator *a = NULL;
	char why[256] = "";

	if (!tree_make(&t, PURE))
		goto out;
	o.root = t.root;
	CHECK_INT(actuator_open(&o, &a, why, sizeof(why)), -EMEDIUMTYPE);
	CHECK(a == NULL);
	CHECK(strstr(why, t.root) != NULL);
	CHECK(strstr(why, "cgroup2") != NULL);

	/* /tmp itself, and / : the same. */
	o.root = "/tmp";
	why[0] = '\0';
	CHECK_INT(actuator_open(&o, &a, why, sizeof(why)), -EMEDIUMTYPE);
	CHECK(a == NULL && why[0]);

	/* A root that does not exist: -ENOENT, naming it. */
	o.root = "/nonexistent/cgroup";
	why[0] = '\0';
	CHECK_INT(actuator_open(&o, &a, why, sizeof(why)), -ENOENT);
	CHECK(a == NULL && strstr(why, "/nonexistent/cgroup"));

	/* No root given and no cgroup2 in mountinfo: -ENOENT and a hint. */
	put_file(at(t.base, "mountinfo"), "22 27 0:21 / /proc rw,relatime - proc proc rw\n");
	o.root = NULL;
	o.mountinfo = at(t.base, "mountinfo");
	why[0] = '\0';
	CHECK_INT(actuator_open(&o, &a, why, sizeof(why)), -ENOENT);
	CHECK(a == NULL && strstr(why, "cgroup2"));
out:
	tree_free(&t);
}

/* ---- confinement --------------------------------------------------------- */

/*
 * Target texts that are refused before any lookup: absolute, ".", "..",
 * empty components, control characters. Each through apply, validate and
 * check_target, with a change that would do harm if it got through
 * (memory.max 4096 with --force). Nothing anywhere changes.
 */
static void test_path_text_refused_before_lookup(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator *a = NULL;
	char before[64], after[64], abs_out[128], abs_docker[192];

	if (!tree_make(&t, PURE))
		goto out;
	a = act_open(t.root, "", false, &al, 0);
	if (!a)
		goto out;
	snprintf(abs_out, sizeof(abs_out), "%s", t.out);
	snprintf(abs_docker, sizeof(abs_docker), "%s/%s", t.root, DOCKER);

	static const char *const dots[] = {
		"..", "../..", "../outside", "../outside/sub", "system.slice/../../outside",
		"system.slice/../../etc", "system.slice/..", "system.slice/../..", ".", "./x",
		"./system.slice", "system.slice/./" DOCKER_NAME, "a//b", "system.slice//" DOCKER_NAME,
		"//etc", "/etc", "/", "/tmp",
		/* (and, appended below: the absolute paths of outside/ and of the
		 * docker scope inside the root: absolute is refused either way) */
	};
	static const char *const ctrl[] = {
		"system.slice\n", "system\n.slice", "sys\ttem.slice", "system.slice\x7f",
		"system.slice/\x1b[2J", "\r",
	};
	const struct act_change harm = mem_max(4096, true);

	tree_digest(t.base, before, sizeof(before));
	for (size_t i = 0; i < sizeof(dots) / sizeof(dots[0]) + 2; i++) {
		const char *tg = i < sizeof(dots) / sizeof(dots[0]) ? dots[i]
				 : i == sizeof(dots) / sizeof(dots[0]) ? abs_out : abs_docker;
		struct act_outcome o;
		char why[ACT_WHY_MAX] = "";

		CHECK_APPLY_REFUSED(a, &al, tg, harm, -EINVAL, tg);
		CHECK_U64(al.r[0].id, 0);	/* nothing was opened */
		CHECK_STR(al.r[0].target, tg);
		CHECK_INT(actuator_validate(a, tg, &harm, &o), -EINVAL);
		CHECK(o.refused && strstr(o.why, tg));
		CHECK_U64(al.n, 2);		/* validate's refusal is on record too */
		CHECK_INT(actuator_check_target(a, tg, ACT_KILL, why, sizeof(why)), -EINVAL);
		CHECK(strstr(why, tg) != NULL);
		al.n = 0;
	}
	for (size_t i = 0; i < sizeof(ctrl) / sizeof(ctrl[0]); i++) {
		struct act_outcome o;
		char why[ACT_WHY_MAX] = "", code[8];

		/* The why names the byte, never echoes it raw into a terminal. */
		snprintf(code, sizeof(code), "0x%02x",
			 (unsigned char)ctrl[i][strcspn(ctrl[i], "\n\t\x7f\x1b\r")]);
		CHECK_APPLY_REFUSED(a, &al, ctrl[i], harm, -EINVAL, code);
		CHECK(strstr(al.r[0].why, "control character") != NULL);
		CHECK_INT(actuator_validate(a, ctrl[i], &harm, &o), -EINVAL);
		CHECK(o.refused && strstr(o.why, code));
		CHECK_INT(actuator_check_target(a, ctrl[i], ACT_FREEZE, why, sizeof(why)), -EINVAL);
		CHECK(why[0] != '\0');
		al.n = 0;
	}

	/* The root itself: -EPERM, not a path error. */
	CHECK_APPLY_REFUSED(a, &al, "", harm, -EPERM, "root");
	al.n = 0;

	/* Longer than PATH_MAX. */
	{
		static char longp[PATH_MAX + 16];

		memset(longp, 'a', sizeof(longp) - 1);
		longp[sizeof(longp) - 1] = '\0';
		CHECK_APPLY_REFUSED(a, &al, longp, harm, -ENAMETOOLONG, "PATH_MAX");
		al.n = 0;
	}

	tree_digest(t.base, after, sizeof(after));
	CHECK_STR(after, before);
	CHECK_STR(get_file(at(t.out, "memory.max")), "314572800");
	CHECK_STR(get_file(at(t.root, DOCKER "/memory.max")), "314572800");
out:
	actuator_close(a);
	tree_free(&t);
}

/*
 * A directory symlink inside the tree, pointing out of it (absolute or
 * relative) or even within it: never followed, for any kind of change.
 * As the cgroup itself (the last component) the link is not followed
 * (O_NOFOLLOW makes openat2 answer -ENOTDIR) and the actuator reports it as
 * the symlink it is, -ELOOP; in the middle of the path it is -ELOOP too.
 */
static void test_symlinked_dir_is_not_followed(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator *a = NULL;
	char before[64], after[64];

	if (!tree_make(&t, PURE))
		goto out;
	CHECK_INT(symlink(t.out, at(t.root, "system.slice/evil")), 0);
	CHECK_INT(symlink("../../outside", at(t.root, "system.slice/evil-rel")), 0);
	CHECK_INT(symlink(t.out, at(t.root, "evil-top")), 0);
	/* Even a link to a real cgroup of the tree: "no symlinks" is the rule. */
	CHECK_INT(symlink(DOCKER_NAME, at(t.root, "system.slice/alias")), 0);
	a = act_open(t.root, "", false, &al, 50000);
	if (!a)
		goto out;

	/* The link as the last component, then in the middle of the path. */
	static const struct {
		const char *target;
	} targets[] = {
		{ "system.slice/evil" }, { "system.slice/evil-rel" },
		{ "evil-top" }, { "system.slice/alias" },
		{ "system.slice/evil/sub" }, { "evil-top/sub" },
		{ "system.slice/evil-rel/sub" },
	};
	const struct act_change changes[] = {
		mem_max(4096, true),
		{ .kind = ACT_CPU_MAX, .value = 1000, .period = 100000 },
		{ .kind = ACT_CPU_WEIGHT, .value = 1 },
		{ .kind = ACT_PIDS_MAX, .value = 1 },
		{ .kind = ACT_FREEZE },
		{ .kind = ACT_KILL },
	};

	tree_digest(t.base, before, sizeof(before));
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		const char *tg = targets[i].target;

		for (size_t k = 0; k < sizeof(changes) / sizeof(changes[0]); k++) {
			char why[ACT_WHY_MAX] = "";
			struct act_outcome o;
			int err = actuator_apply(a, tg, &changes[k], &o);

			CHECK_INT(err, -ELOOP);
			CHECK(strstr(o.why, "symbolic link") != NULL);
			CHECK(o.refused);
			CHECK(strstr(o.why, tg) != NULL);
			CHECK_U64(al.n, 1);
			CHECK_STR(al.r[0].result, "refused");
			CHECK_U64(al.r[0].id, 0);
			al.n = 0;
			CHECK_INT(actuator_check_target(a, tg, changes[k].kind, why, sizeof(why)),
				  err);
			CHECK_U64(al.n, 0);	/* check_target keeps no record */
			/* validate: the same refusal, on record too. */
			CHECK_INT(actuator_validate(a, tg, &changes[k], &o), err);
			CHECK_U64(al.n, 1);
			CHECK_STR(al.r[0].result, "refused");
			al.n = 0;
		}
	}
	tree_digest(t.base, after, sizeof(after));
	CHECK_STR(after, before);
	CHECK_STR(get_file(at(t.out, "memory.max")), "314572800");
	CHECK_STR(get_file(at(t.out, "cgroup.freeze")), "0");
	CHECK_STR(get_file(at(t.out, "sub/memory.max")), "314572800");
out:
	actuator_close(a);
	tree_free(&t);
}

/* The cgroup is real but its control file is a symlink out of the tree:
 * neither read nor written through. */
static void test_symlinked_file_is_not_written_through(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator *a = NULL;
	char before[64], after[64];
	static const char *const files[] = {
		"memory.max", "cpu.max", "pids.max", "cgroup.freeze", "cgroup.kill",
	};
	const struct act_change changes[] = {
		mem_max(128 * MiB, false),
		{ .kind = ACT_CPU_MAX, .value = 20000, .period = 100000 },
		{ .kind = ACT_PIDS_MAX, .value = 5 },
		{ .kind = ACT_FREEZE },
		{ .kind = ACT_KILL },
	};

	if (!tree_make(&t, PURE))
		goto out;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *in = at3(t.root, DOCKER, files[i]);

		unlink(in);
		CHECK_INT(symlink(at(t.out, files[i]), in), 0);
	}
	a = act_open(t.root, "", false, &al, 50000);
	if (!a)
		goto out;
	tree_digest(t.base, before, sizeof(before));
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		CHECK_APPLY_REFUSED(a, &al, DOCKER, changes[i], -ELOOP, NULL);
		/* The old value was not read through the link either. */
		CHECK_STR(al.r[0].old, "");
		CHECK_STR(al.r[0].now, "");
		al.n = 0;
	}
	tree_digest(t.base, after, sizeof(after));
	CHECK_STR(after, before);
	CHECK_STR(get_file(at(t.out, "memory.max")), "314572800");
	CHECK_STR(get_file(at(t.out, "cpu.max")), "max 100000");
	CHECK_STR(get_file(at(t.out, "pids.max")), "max");
	CHECK_STR(get_file(at(t.out, "cgroup.freeze")), "0");
	CHECK_STR(get_file(at(t.out, "cgroup.kill")), "");
out:
	actuator_close(a);
	tree_free(&t);
}

/*
 * Where openat2 is missing (before 5.6) or refused by a seccomp filter, the
 * actuator walks the path one component at a time. The same confinement
 * must hold. A child process installs a filter that fails openat2 with
 * `err` and runs the symlink cases and one legitimate write; it exits with
 * its number of failed checks (77: the filter could not be installed).
 */
#if defined(__x86_64__)
#define TEST_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TEST_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

static int deny_openat2(int err)
{
#if defined(TEST_AUDIT_ARCH) && defined(SYS_openat2)
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TEST_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		return -errno;
	/* Make sure it bites. */
	if (syscall(SYS_openat2, AT_FDCWD, ".", NULL, 0) != -1 || errno != err)
		return -EPROTO;
	return 0;
#else
	(void)err;
	return -ENOSYS;
#endif
}

static void walk_cases(const struct tree *t)
{
	struct audit_log al = { 0 };
	struct actuator *a = act_open(t->root, "", false, &al, 50000);
	struct act_outcome o;
	struct act_change c;

	if (!a)
		return;
	/* A symlink as the cgroup: O_NOFOLLOW on the last step. The walk may
	 * see it as a link (ELOOP) or as not a directory (ENOTDIR). */
	static const char *const links[] = {
		"system.slice/evil", "system.slice/evil-rel", "evil-top",
		"system.slice/evil/sub", "evil-top/sub",
	};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		c = mem_max(4096, true);
		int err = actuator_apply(a, links[i], &c, &o);

		CHECK(err == -ELOOP || err == -ENOTDIR);
		CHECK(o.refused && o.why[0]);
		c = (struct act_change){ .kind = ACT_FREEZE };
		err = actuator_apply(a, links[i], &c, &o);
		CHECK(err == -ELOOP || err == -ENOTDIR);
	}
	/* A symlinked control file in a real cgroup. */
	c = (struct act_change){ .kind = ACT_PIDS_MAX, .value = 5 };
	CHECK_INT(actuator_apply(a, DOCKER, &c, &o), -ELOOP);
	CHECK(o.refused);
	/* The "..", absolute and empty-component texts never reach the walk. */
	c = mem_max(4096, true);
	CHECK_INT(actuator_apply(a, "../outside", &c, &o), -EINVAL);
	CHECK_INT(actuator_apply(a, "system.slice//x", &c, &o), -EINVAL);
	/* And the walk does reach a real cgroup two levels down. */
	c = mem_max(128 * MiB, false);
	CHECK_INT(actuator_apply(a, DOCKER, &c, &o), 0);
	CHECK_STR(o.now, "134217728");
	actuator_close(a);
}

static void test_walk_fallback_confines_too(void)
{
	static const int errs[] = { ENOSYS, EPERM };

	for (size_t e = 0; e < sizeof(errs) / sizeof(errs[0]); e++) {
		struct tree t = { 0 };
		char before[64], after[64];
		int status = 0;
		pid_t pid;

		if (!tree_make(&t, PURE))
			goto next;
		CHECK_INT(symlink(t.out, at(t.root, "system.slice/evil")), 0);
		CHECK_INT(symlink("../../outside", at(t.root, "system.slice/evil-rel")), 0);
		CHECK_INT(symlink(t.out, at(t.root, "evil-top")), 0);
		unlink(at(t.root, DOCKER "/pids.max"));
		CHECK_INT(symlink(at(t.out, "pids.max"), at(t.root, DOCKER "/pids.max")), 0);
		tree_digest(t.out, before, sizeof(before));
		fflush(stdout);
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			int err = deny_openat2(errs[e]);

			if (err) {
				printf("  seccomp filter: %s\n", strerror(-err));
				fflush(stdout);
				_exit(77);
			}
			test_cur_failed = 0;
			walk_cases(&t);
			fflush(stdout);
			_exit(test_cur_failed > 76 ? 76 : test_cur_failed);
		}
		if (pid > 0) {
			CHECK_INT(waitpid(pid, &status, 0), pid);
			CHECK(WIFEXITED(status));
			if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
				tree_free(&t);
				TEST_SKIP("cannot install a seccomp filter to hide openat2");
			}
			if (WIFEXITED(status))
				test_cur_failed += WEXITSTATUS(status);
		}
		tree_digest(t.out, after, sizeof(after));
		CHECK_STR(after, before);
		CHECK_STR(get_file(at(t.out, "memory.max")), "314572800");
		/* The legitimate write did happen, through the walk. */
		CHECK_STR(get_file(at(t.root, DOCKER "/memory.max")), "134217728");
next:
		tree_free(&t);
	}
}

/*
 * A mount inside the tree (here a tmpfs where a cgroup would be) is another
 * filesystem: refused with -EXDEV, with openat2 (RESOLVE_NO_XDEV) and with
 * the walk (st_dev check). Done in a child in its own mount namespace, so
 * the mount vanishes with it.
 */
static void test_mount_inside_tree_is_not_crossed(void)
{
	struct tree t = { 0 };
	int status = 0;
	pid_t pid;

	if (!tree_make(&t, PURE))
		goto out;
	CHECK_INT(mkdir(at(t.root, "system.slice/mnt"), 0755), 0);
	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct audit_log al = { 0 };
		struct actuator *a;
		struct act_outcome o;
		struct act_change c = mem_max(4096, true);

		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("tmpfs", at(t.root, "system.slice/mnt"), "tmpfs", 0, "size=64k")) {
			printf("  mount: %s\n", strerror(errno));
			fflush(stdout);
			_exit(77);
		}
		put_file(at(t.root, "system.slice/mnt/memory.max"), "max\n");
		put_file(at(t.root, "system.slice/mnt/memory.current"), "0\n");
		test_cur_failed = 0;
		a = act_open(t.root, "", false, &al, 0);
		if (a) {
			CHECK_INT(actuator_apply(a, "system.slice/mnt", &c, &o), -EXDEV);
			CHECK(o.refused && strstr(o.why, "leaves the cgroup2 filesystem"));
			actuator_close(a);
		}
		if (deny_openat2(ENOSYS) == 0) {
			a = act_open(t.root, "", false, &al, 0);
			if (a) {
				CHECK_INT(actuator_apply(a, "system.slice/mnt", &c, &o), -EXDEV);
				actuator_close(a);
			}
		}
		CHECK_STR(get_file(at(t.root, "system.slice/mnt/memory.max")), "max");
		fflush(stdout);
		_exit(test_cur_failed > 76 ? 76 : test_cur_failed);
	}
	if (pid > 0) {
		CHECK_INT(waitpid(pid, &status, 0), pid);
		CHECK(WIFEXITED(status));
		if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
			tree_free(&t);
			TEST_SKIP("cannot mount a tmpfs in a private mount namespace here");
		}
		if (WIFEXITED(status))
			test_cur_failed += WEXITSTATUS(status);
	}
out:
	tree_free(&t);
}

/* Targets that are fine as text but not a cgroup of the tree. */
static void test_missing_or_non_cgroup_target(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator *a = NULL;

	if (!tree_make(&t, PURE))
		goto out;
	a = act_open(t.root, "", false, &al, 0);
	if (!a)
		goto out;
	CHECK_APPLY_REFUSED(a, &al, "system.slice/nope.service", mem_max(128 * MiB, false),
			    -ENOENT, "does not exist");
	CHECK(strstr(al.r[0].why, "system.slice/nope.service") != NULL);
	al.n = 0;
	/* A control file named as if it were a cgroup. */
	CHECK_APPLY_REFUSED(a, &al, "system.slice/memory.max", mem_max(128 * MiB, false),
			    -ENOTDIR, "not a cgroup directory");
	al.n = 0;
	/* An unknown kind: refused, nothing opened. */
	{
		struct act_change c = { .kind = ACT__COUNT, .value = 1 };
		struct act_outcome o;

		CHECK_INT(actuator_apply(a, DOCKER, &c, &o), -EINVAL);
		CHECK(o.refused);
		CHECK_U64(al.n, 1);
		CHECK_STR(al.r[0].result, "refused");
		CHECK_U64(al.r[0].id, 0);
		al.n = 0;
		CHECK_INT(actuator_validate(a, DOCKER, &c, &o), -EINVAL);
		CHECK(o.refused);
		al.n = 0;
		CHECK_STR(actuator_file(ACT__COUNT), "?");
	}
	CHECK_STR(get_file(at(t.root, "system.slice/memory.max")), "max");
out:
	actuator_close(a);
	tree_free(&t);
}

/* ---- protection ---------------------------------------------------------- */

static void test_root_and_init_scope_are_protected(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator *a = NULL;
	char before[64], after[64];
	const struct act_change changes[] = {
		{ .kind = ACT_FREEZE }, { .kind = ACT_KILL },
		{ .kind = ACT_CPU_WEIGHT, .value = 1 }, mem_max(4096, true),
	};

	if (!tree_make(&t, PURE))
		goto out;
	CHECK_INT(mkdir(at(t.root, "init.scope"), 0755), 0);
	put_file(at(t.root, "init.scope/cgroup.freeze"), "0\n");
	put_file(at(t.root, "init.scope/cgroup.kill"), "");
	put_file(at(t.root, "init.scope/cgroup.events"), "populated 1\nfrozen 0\n");
	put_file(at(t.root, "init.scope/cpu.weight"), "100\n");
	put_file(at(t.root, "init.scope/memory.max"), "max\n");
	CHECK_INT(mkdir(at(t.root, "init.scope/child"), 0755), 0);
	put_file(at(t.root, "init.scope/child/cgroup.freeze"), "0\n");
	/* Only the top-level init.scope is PID 1's. */
	CHECK_INT(mkdir(at(t.root, "system.slice/init.scope"), 0755), 0);
	put_file(at(t.root, "system.slice/init.scope/cgroup.freeze"), "0\n");
	put_file(at(t.root, "system.slice/init.scope/cgroup.events"), "populated 0\nfrozen 0\n");
	a = act_open(t.root, "", false, &al, 50000);
	if (!a)
		goto out;
	tree_digest(t.base, before, sizeof(before));
	for (size_t k = 0; k < sizeof(changes) / sizeof(changes[0]); k++) {
		char why[ACT_WHY_MAX] = "";

		CHECK_APPLY_REFUSED(a, &al, "", changes[k], -EPERM, "root");
		al.n = 0;
		CHECK_APPLY_REFUSED(a, &al, "init.scope", changes[k], -EPERM, "init.scope");
		CHECK(al.r[0].id != 0);	/* opened, then refused */
		al.n = 0;
		CHECK_APPLY_REFUSED(a, &al, "init.scope/child", changes[k], -EPERM, "init.scope");
		al.n = 0;
		CHECK_INT(actuator_check_target(a, "init.scope", changes[k].kind, why,
						sizeof(why)), -EPERM);
		CHECK(why[0] != '\0');
	}
	tree_digest(t.base, after, sizeof(after));
	CHECK_STR(after, before);
	{
		struct act_change c = { .kind = ACT_THAW };
		struct act_outcome o;

		CHECK_INT(actuator_validate(a, "system.slice/init.scope", &c, &o), 0);
	}
out:
	actuator_close(a);
	tree_free(&t);
}

/* Our own cgroup is refused for every kind; found by inode, so it holds
 * whichever path names it. */
static void test_own_cgroup_is_protected_for_every_kind(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator *a = NULL;
	char before[64], after[64];

	if (!tree_make(&t, PURE))
		goto out;
	/* Make every kind reach the protection check (cgroup.kill is not in
	 * the 6.1 capture). */
	put_file(at(t.root, DOCKER "/cgroup.kill"), "");
	a = act_open(t.root, DOCKER, false, &al, 50000);
	if (!a)
		goto out;
	tree_digest(t.base, before, sizeof(before));
	for (int k = 0; k < ACT__COUNT; k++) {
		struct act_change c = { .kind = (enum act_kind)k, .value = 4096,
					.period = 100000, .force = true };
		struct act_outcome o;
		char why[ACT_WHY_MAX] = "";

		if (k == ACT_CPU_WEIGHT || k == ACT_PIDS_MAX)
			c.value = 1;
		CHECK_APPLY_REFUSED(a, &al, DOCKER, c, -EPERM, "own cgroup");
		CHECK_U64(al.r[0].id, ino_of(at(t.root, DOCKER)));
		al.n = 0;
		CHECK_INT(actuator_validate(a, DOCKER, &c, &o), -EPERM);
		CHECK(o.refused && strstr(o.why, "own cgroup"));
		CHECK_U64(al.n, 1);	/* the refusal is on record */
		al.n = 0;
		CHECK_INT(actuator_check_target(a, DOCKER, c.kind, why, sizeof(why)), -EPERM);
		CHECK(strstr(why, "own cgroup") != NULL);
	}
	/* A path with a trailing slash names the same directory. */
	CHECK_APPLY_REFUSED(a, &al, DOCKER "/", mem_max(4096, true), -EPERM, "own cgroup");
	al.n = 0;
	tree_digest(t.base, after, sizeof(after));
	CHECK_STR(after, before);
out:
	actuator_close(a);
	tree_free(&t);
}

/* Freezing or killing an ancestor of ours would freeze or kill us; its
 * limits are another matter. A sibling is fair game. */
static void test_own_ancestors_refuse_freeze_and_kill_only(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator *a = NULL;
	struct act_outcome o;
	struct act_change c;

	if (!tree_make(&t, PURE))
		goto out;
	put_file(at(t.root, "system.slice/cgroup.kill"), "");
	a = act_open(t.root, DOCKER, false, &al, 50000);
	if (!a)
		goto out;
	CHECK_APPLY_REFUSED(a, &al, "system.slice", (struct act_change){ .kind = ACT_FREEZE },
			    -EPERM, "contains cgwarden");
	al.n = 0;
	CHECK_APPLY_REFUSED(a, &al, "system.slice", (struct act_change){ .kind = ACT_KILL },
			    -EPERM, "contains cgwarden");
	al.n = 0;
	CHECK_STR(get_file(at(t.root, "system.slice/cgroup.freeze")), "0");
	CHECK_STR(get_file(at(t.root, "system.slice/cgroup.kill")), "");

	/* Thaw is harmless to us: allowed (validated only: nothing to verify). */
	c = (struct act_change){ .kind = ACT_THAW };
	CHECK_INT(actuator_validate(a, "system.slice", &c, &o), 0);

	c = (struct act_change){ .kind = ACT_CPU_WEIGHT, .value = 200 };
	CHECK_INT(actuator_apply(a, "system.slice", &c, &o), 0);
	CHECK_STR(o.old, "100");
	CHECK_STR(o.now, "200");
	CHECK_STR(get_file(at(t.root, "system.slice/cpu.weight")), "200");
	CHECK_U64(al.n, 1);
	CHECK_STR(al.r[0].result, "ok");
	al.n = 0;

	/* A sibling tree may be frozen. */
	c = (struct act_change){ .kind = ACT_FREEZE };
	CHECK_INT(actuator_validate(a, KUBEPODS, &c, &o), 0);
	CHECK_STR(o.wrote, "1");
	CHECK_STR(o.old, "0");
out:
	actuator_close(a);
	tree_free(&t);
}

/* ---- our own cgroup, in a cgroup namespace (src/selfcg.c) --------------- */

#define FAKE_PID 4242424

/* The real mount id of path, for a mountinfo line that names its mount. */
static int mount_id(const char *path)
{
	char fdinfo[64], line[128];
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC), id = -1;
	FILE *f;

	if (fd < 0)
		return -1;
	snprintf(fdinfo, sizeof(fdinfo), "/proc/self/fdinfo/%d", fd);
	f = fopen(fdinfo, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "mnt_id: %d", &id) == 1)
			break;
	if (f)
		fclose(f);
	close(fd);
	return id;
}

/* Fake /proc/self/cgroup and mountinfo in base: the tree's root shown as a
 * mount with mount-root mroot (fstype fs), and our path nspath. */
static void fake_proc(const struct tree *t, const char *mroot, const char *fs, const char *nspath)
{
	char text[PATH_MAX + 256];

	snprintf(text, sizeof(text), "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
		 "%d 1 0:99 %s %s rw,relatime - %s %s rw\n", mount_id(t->root), mroot, t->root,
		 fs, fs);
	put_file(at(t->base, "mountinfo"), text);
	snprintf(text, sizeof(text), "1:name=systemd:/\n0::%s\n", nspath);
	put_file(at(t->base, "cgroup"), text);
}

static void locate(const struct tree *t, const char *root_rel, struct selfcg *s)
{
	struct selfcg_opts o = { .proc_cgroup = at(t->base, "cgroup"),
				 .mountinfo = at(t->base, "mountinfo"), .pid = FAKE_PID };
	int fd = open(*root_rel ? at(t->root, root_rel) : t->root, O_PATH | O_DIRECTORY);

	CHECK(fd >= 0);
	CHECK_INT(selfcg_locate(fd, &o, s), 0);
	close(fd);
}

/*
 * Review finding 4: after `unshare -C` in X/inner, /proc/self/cgroup says
 * "0::/" and the host's mount reads "/../.."; joining the two named the
 * mount's root, and cgwarden froze itself. Our cgroup is the one whose
 * cgroup.procs lists us: found behind the names the namespace hides, and
 * not a decoy with the same relative path elsewhere.
 */
static void test_self_found_behind_namespace_root(void)
{
	struct tree t = { 0 };
	struct selfcg s = { 0 };

	if (!tree_make(&t, PURE))
		goto out;
	put_file(at(t.root, DOCKER "/cgroup.procs"), "1\n4242424\n");
	/* A decoy: the same name one branch over, without us in it. */
	CHECK_INT(mkdir(at(t.root, KUBEPODS "/" DOCKER_NAME), 0755), 0);
	put_file(at(t.root, KUBEPODS "/" DOCKER_NAME "/cgroup.procs"), "42424240\n7\n");

	/* The namespace root is system.slice: one level under the mount's. */
	fake_proc(&t, "/..", "cgroup2", "/" DOCKER_NAME);
	locate(&t, "", &s);
	CHECK_INT(s.where, SELFCG_INSIDE);
	CHECK_STR(s.path ? s.path : "(null)", DOCKER);
	CHECK_U64(s.nr_ids, 2);
	if (s.nr_ids == 2) {
		CHECK_U64(s.ids[0], ino_of(at(t.root, DOCKER)));
		CHECK_U64(s.ids[1], ino_of(at(t.root, "system.slice")));
	}
	selfcg_free(&s);

	/* The namespace root is our cgroup itself, two levels down. */
	fake_proc(&t, "/../..", "cgroup2", "/");
	locate(&t, "", &s);
	CHECK_INT(s.where, SELFCG_INSIDE);
	CHECK_STR(s.path ? s.path : "(null)", DOCKER);
	selfcg_free(&s);

	/* The plain case, mount root = namespace root; and a root below the
	 * mount's: the path and the ids stop at it. */
	fake_proc(&t, "/", "cgroup2", "/" DOCKER);
	locate(&t, "system.slice", &s);
	CHECK_INT(s.where, SELFCG_INSIDE);
	CHECK_STR(s.path ? s.path : "(null)", DOCKER_NAME);
	CHECK_U64(s.nr_ids, 1);
	selfcg_free(&s);

	/* Acting on a sibling subtree: nothing there holds us. */
	locate(&t, KUBEPODS, &s);
	CHECK_INT(s.where, SELFCG_OUTSIDE);
	selfcg_free(&s);

	/* The mount shows a part of the namespace we are not in. */
	fake_proc(&t, "/" KUBEPODS, "cgroup2", "/" DOCKER);
	locate(&t, "", &s);
	CHECK_INT(s.where, SELFCG_OUTSIDE);
	selfcg_free(&s);
	/* Up to a common ancestor, then down another branch. */
	fake_proc(&t, "/../" KUBEPODS, "cgroup2", "/" DOCKER_NAME);
	locate(&t, "", &s);
	CHECK_INT(s.where, SELFCG_OUTSIDE);
	selfcg_free(&s);
	/* Not a cgroup2 mount (a fixture tree): no process lives there. */
	fake_proc(&t, "/", "tmpfs", "/" DOCKER);
	locate(&t, "", &s);
	CHECK_INT(s.where, SELFCG_OUTSIDE);
	selfcg_free(&s);
out:
	selfcg_free(&s);
	tree_free(&t);
}

/* When nothing adds up, we do not know where we are: said, and the
 * actuator refuses every change (any cgroup might hold us). */
static void test_self_unknown_refuses_everything(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator_opts o = { .fixture_root = true, .who = "unit test", .audit = record_audit,
				   .audit_ctx = &al };
	struct actuator *a = NULL;
	struct selfcg s = { 0 };
	struct act_change c;
	char why[256] = "";

	if (!tree_make(&t, PURE))
		goto out;
	/* Our pid is listed nowhere: the lead leads nowhere. */
	fake_proc(&t, "/", "cgroup2", "/" DOCKER);
	locate(&t, "", &s);
	CHECK_INT(s.where, SELFCG_UNKNOWN);
	CHECK(strstr(s.why, "cgroup.procs") != NULL);
	selfcg_free(&s);
	/* We sit outside our own namespace's root: the path says nothing. */
	fake_proc(&t, "/", "cgroup2", "/../x");
	locate(&t, "", &s);
	CHECK_INT(s.where, SELFCG_UNKNOWN);
	selfcg_free(&s);
	/* No 0:: line at all. */
	put_file(at(t.base, "cgroup"), "1:name=systemd:/\n");
	locate(&t, "", &s);
	CHECK_INT(s.where, SELFCG_UNKNOWN);
	selfcg_free(&s);

	/* The real /proc/self/cgroup, and a mountinfo calling the fixture a
	 * cgroup2 mount: no cgroup.procs there lists us. */
	fake_proc(&t, "/", "cgroup2", "/");
	o.root = t.root;
	o.mountinfo = at(t.base, "mountinfo");
	CHECK_INT(actuator_open(&o, &a, why, sizeof(why)), 0);
	if (!a)
		goto out;
	CHECK_APPLY_REFUSED(a, &al, KUBEPODS, (struct act_change){ .kind = ACT_FREEZE }, -EPERM,
			    "cannot tell which cgroup");
	al.n = 0;
	c = (struct act_change){ .kind = ACT_CPU_WEIGHT, .value = 50 };
	CHECK_APPLY_REFUSED(a, &al, KUBEPODS, c, -EPERM, "might contain it");
	al.n = 0;
	CHECK(actuator_self(a, &(const char *){ NULL }) == NULL);
out:
	actuator_close(a);
	selfcg_free(&s);
	tree_free(&t);
}

/* The daemon decides on a cgroup by id and acts by path: a path that now
 * names another cgroup (a state file's, a cgroup made again) is refused. */
static void test_expected_id_must_match(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator *a = NULL;
	struct act_outcome o;
	struct act_change c = { .kind = ACT_CPU_WEIGHT, .value = 300 };

	if (!tree_make(&t, PURE))
		goto out;
	a = act_open(t.root, "", false, &al, 50000);
	if (!a)
		goto out;
	c.expect_id = ino_of(at(t.root, DOCKER)) + 1;
	CHECK_APPLY_REFUSED(a, &al, DOCKER, c, -ESTALE, "not");
	al.n = 0;
	CHECK_STR(get_file(at(t.root, DOCKER "/cpu.weight")), "100");
	c.expect_id = ino_of(at(t.root, DOCKER));
	CHECK_INT(actuator_apply(a, DOCKER, &c, &o), 0);
	CHECK_STR(get_file(at(t.root, DOCKER "/cpu.weight")), "300");
out:
	actuator_close(a);
	tree_free(&t);
}

/* ---- writes ------------------------------------------------------------- */

static void test_memory_max_write_reads_back_and_audits(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator *a = NULL;
	struct act_outcome o;
	struct act_change c = mem_max(128 * MiB, false);
	uint64_t t0;

	if (!tree_make(&t, PURE))
		goto out;
	/* 128M is above what the scope uses now, so no --force is needed. */
	CHECK_STR(get_file(at(t.root, DOCKER "/memory.current")), "111542272");
	a = act_open(t.root, "", false, &al, 0);
	if (!a)
		goto out;
	t0 = (uint64_t)time(NULL) * 1000000u;
	CHECK_INT(actuator_apply(a, DOCKER, &c, &o), 0);
	CHECK_INT(o.err, 0);
	CHECK(!o.refused && !o.dry_run && !o.cut_short);
	CHECK_STR(o.file, "memory.max");
	CHECK_STR(o.old, "314572800");
	CHECK_STR(o.wrote, "134217728");
	CHECK_STR(o.now, "134217728");
	CHECK_STR(get_file(at(t.root, DOCKER "/memory.max")), "134217728");

	CHECK_U64(al.n, 1);
	CHECK_STR(al.r[0].result, "ok");
	CHECK_STR(al.r[0].who, "unit test");
	CHECK_STR(al.r[0].target, DOCKER);
	CHECK_STR(al.r[0].file, "memory.max");
	CHECK_STR(al.r[0].old, "314572800");
	CHECK_STR(al.r[0].wrote, "134217728");
	CHECK_STR(al.r[0].now, "134217728");
	CHECK_U64(al.r[0].id, ino_of(at(t.root, DOCKER)));
	CHECK(al.r[0].time_usec + 2000000u >= t0 && al.r[0].time_usec <= t0 + 60000000u);

	/* Other siblings and the parent are untouched. */
	CHECK_STR(get_file(at(t.root, "system.slice/memory.max")), "max");
out:
	actuator_close(a);
	tree_free(&t);
}

/* A limit under current usage makes the kernel reclaim at once (and for
 * memory.max OOM-kill): refused unless forced. */
static void test_memory_below_usage_needs_force(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator *a = NULL;
	struct act_outcome o;
	struct act_change c;

	if (!tree_make(&t, PURE))
		goto out;
	a = act_open(t.root, "", false, &al, 0);
	if (!a)
		goto out;
	CHECK_APPLY_REFUSED(a, &al, DOCKER, mem_max(64 * MiB, false), -ERANGE, "--force");
	CHECK(strstr(al.r[0].why, "64M") != NULL);
	CHECK(strstr(al.r[0].why, "111542272") != NULL);	/* the usage, exact */
	CHECK(strstr(al.r[0].why, "OOM") != NULL);
	CHECK_STR(al.r[0].old, "314572800");
	CHECK_STR(al.r[0].now, "");
	al.n = 0;
	CHECK_STR(get_file(at(t.root, DOCKER "/memory.max")), "314572800");

	/* memory.high: the same check, a throttling warning. */
	c = (struct act_change){ .kind = ACT_MEMORY_HIGH, .value = 64 * MiB };
	CHECK_APPLY_REFUSED(a, &al, DOCKER, c, -ERANGE, "--force");
	CHECK(strstr(al.r[0].why, "throttle") != NULL);
	al.n = 0;
	CHECK_STR(get_file(at(t.root, DOCKER "/memory.high")), "max");

	/* Limits that do not cap usage are not checked against it. */
	c = (struct act_change){ .kind = ACT_MEMORY_LOW, .value = 64 * MiB };
	CHECK_INT(actuator_validate(a, DOCKER, &c, &o), 0);
	c = (struct act_change){ .kind = ACT_MEMORY_MIN, .value = 64 * MiB };
	CHECK_INT(actuator_validate(a, DOCKER, &c, &o), 0);

	/* Exactly the usage (page aligned here) is not below it. */
	c = mem_max(111542272, false);
	CHECK_INT(actuator_validate(a, DOCKER, &c, &o), 0);

	/* With --force: written. 100M rather than 64M: its text is as long as
	 * the old one, so this does not depend on how a plain file is
	 * rewritten (test_shorter_value_replaces_the_whole_file is about that). */
	c = mem_max(100 * MiB, true);
	CHECK_INT(actuator_apply(a, DOCKER, &c, &o), 0);
	CHECK_STR(o.wrote, "104857600");
	CHECK_STR(o.now, "104857600");
	CHECK_STR(get_file(at(t.root, DOCKER "/memory.max")), "104857600");
	CHECK_U64(al.n, 1);
	CHECK_STR(al.r[0].result, "ok");
out:
	actuator_close(a);
	tree_free(&t);
}

static void test_cpu_max_and_pids_max_writes(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator *a = NULL;
	struct act_outcome o;
	struct act_change c;

	if (!tree_make(&t, PURE))
		goto out;
	a = act_open(t.root, "", false, &al, 0);
	if (!a)
		goto out;
	c = (struct act_change){ .kind = ACT_CPU_MAX, .value = 20000, .period = 100000 };
	CHECK_INT(actuator_apply(a, DOCKER, &c, &o), 0);
	CHECK_STR(o.file, "cpu.max");
	CHECK_STR(o.old, "50000 100000");
	CHECK_STR(o.wrote, "20000 100000");
	CHECK_STR(o.now, "20000 100000");
	CHECK_STR(get_file(at(t.root, DOCKER "/cpu.max")), "20000 100000");

	c = (struct act_change){ .kind = ACT_PIDS_MAX, .value = CG_UNLIMITED };
	CHECK_INT(actuator_apply(a, DOCKER, &c, &o), 0);
	CHECK_STR(o.file, "pids.max");
	CHECK_STR(o.old, "100");
	CHECK_STR(o.wrote, "max");
	CHECK_STR(o.now, "max");
	CHECK_STR(get_file(at(t.root, DOCKER "/pids.max")), "max");

	CHECK_U64(al.n, 2);
	CHECK_STR(al.r[0].result, "ok");
	CHECK_STR(al.r[1].result, "ok");
	CHECK_STR(al.r[1].file, "pids.max");
out:
	actuator_close(a);
	tree_free(&t);
}

/*
 * The kernel keeps memory limits in pages, so after writing 1000000 it shows
 * 999424 (4 KiB pages), and the actuator expects that. A plain file keeps
 * what was written, so the read-back differs and apply reports -EIO: right
 * for a fixture (on cgroupfs the same write succeeds). The value is written.
 * memory.max starts as "max" so the new text is longer than the old one.
 */
static void test_unaligned_memory_limit_expects_kernel_rounding(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator *a = NULL;
	struct act_outcome o;
	struct act_change c = mem_max(1000000, true);
	long ps = sysconf(_SC_PAGESIZE);
	uint64_t aligned = 1000000ull - 1000000ull % (uint64_t)(ps > 0 ? ps : 4096);
	char floored[32];

	if (!tree_make(&t, PURE))
		goto out;
	snprintf(floored, sizeof(floored), "%" PRIu64, aligned);
	put_file(at(t.root, DOCKER "/memory.max"), "max\n");
	a = act_open(t.root, "", false, &al, 0);
	if (!a)
		goto out;
	CHECK_INT(actuator_apply(a, DOCKER, &c, &o), -EIO);
	CHECK(!o.refused);		/* it was written; the check after failed */
	CHECK_STR(o.old, "max");
	CHECK_STR(o.wrote, "1000000");
	CHECK_STR(o.now, "1000000");	/* a plain file does not round */
	CHECK(strcmp(o.now, floored) != 0);
	CHECK(strstr(o.why, "1000000") != NULL);
	CHECK_STR(get_file(at(t.root, DOCKER "/memory.max")), "1000000");
	CHECK_U64(al.n, 1);
	CHECK_STR(al.r[0].result, "failed");
	CHECK_INT(al.r[0].err, -EIO);
	al.n = 0;

	/* A page-aligned value reads back as written: ok. */
	put_file(at(t.root, DOCKER "/memory.max"), "max\n");
	c = mem_max(aligned, true);
	CHECK_INT(actuator_apply(a, DOCKER, &c, &o), 0);
	CHECK_STR(o.wrote, floored);
	CHECK_STR(o.now, floored);
out:
	actuator_close(a);
	tree_free(&t);
}

/*
 * cgroupfs takes each write whole. A plain file standing in for it must then
 * hold just the new text too, or a shorter value leaves the old one's tail
 * ("max" over "134217728\n" reads back "max217728") and a correct write to a
 * fixture fails its read-back with -EIO. (The actuator opens with O_TRUNC.)
 */
static void test_shorter_value_replaces_the_whole_file(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator *a = NULL;
	struct act_outcome o;
	struct act_change c = mem_max(128 * MiB, false);
	int err1, err2;
	char now1[ACT_TEXT_MAX], now2[ACT_TEXT_MAX], file1[64], file2[64];

	if (!tree_make(&t, PURE))
		goto out;
	a = act_open(t.root, "", false, &al, 0);
	if (!a)
		goto out;
	CHECK_INT(actuator_apply(a, DOCKER, &c, &o), 0);
	/* "max" after "134217728". */
	c = mem_max(CG_UNLIMITED, false);
	err1 = actuator_apply(a, DOCKER, &c, &o);
	snprintf(now1, sizeof(now1), "%s", o.now);
	snprintf(file1, sizeof(file1), "%s", get_file(at(t.root, DOCKER "/memory.max")));
	/* 64M ("67108864") with --force after "max" then "314572800". */
	put_file(at(t.root, DOCKER "/memory.max"), "314572800\n");
	c = mem_max(64 * MiB, true);
	err2 = actuator_apply(a, DOCKER, &c, &o);
	snprintf(now2, sizeof(now2), "%s", o.now);
	snprintf(file2, sizeof(file2), "%s", get_file(at(t.root, DOCKER "/memory.max")));

	CHECK_INT(err1, 0);
	CHECK_STR(now1, "max");
	CHECK_STR(file1, "max");
	CHECK_INT(err2, 0);
	CHECK_STR(now2, "67108864");
	CHECK_STR(file2, "67108864");
out:
	actuator_close(a);
	tree_free(&t);
}

/* Freeze and kill are verified through cgroup.events, up to the timeout. */
static void test_freeze_thaw_kill_verify_through_events(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator *a = NULL;
	struct act_outcome o;
	struct act_change c;
	const char *ev = NULL;

	if (!tree_make(&t, PURE))
		goto out;
	ev = at(t.root, KUBEPODS "/cgroup.events");
	a = act_open(t.root, "", false, &al, 50000);
	if (!a)
		goto out;
	/* A plain file never turns frozen: -ETIMEDOUT, with the freeze written. */
	c = (struct act_change){ .kind = ACT_FREEZE };
	CHECK_INT(actuator_apply(a, KUBEPODS, &c, &o), -ETIMEDOUT);
	CHECK(!o.refused);
	CHECK(strstr(o.why, "in time") != NULL);
	CHECK_STR(o.now, "1, frozen 0");	/* the file, and the state that did not follow */
	CHECK_STR(get_file(at(t.root, KUBEPODS "/cgroup.freeze")), "1");
	CHECK_STR(al.r[0].result, "failed");

	/* As the kernel would show it once frozen: ok. */
	put_file(ev, "populated 0\nfrozen 1\n");
	CHECK_INT(actuator_apply(a, KUBEPODS, &c, &o), 0);
	CHECK_STR(o.now, "1");
	c = (struct act_change){ .kind = ACT_THAW };
	put_file(ev, "populated 0\nfrozen 0\n");
	CHECK_INT(actuator_apply(a, KUBEPODS, &c, &o), 0);
	CHECK_STR(o.old, "1");
	CHECK_STR(o.now, "0");
	CHECK_STR(get_file(at(t.root, KUBEPODS "/cgroup.freeze")), "0");

	/* Kill: no cgroup.kill in the 6.1 capture -> refused, naming 5.14. */
	c = (struct act_change){ .kind = ACT_KILL };
	al.n = 0;
	CHECK_APPLY_REFUSED(a, &al, KUBEPODS, c, -ENOENT, "5.14");
	al.n = 0;
	put_file(at(t.root, KUBEPODS "/cgroup.kill"), "");
	put_file(ev, "populated 1\nfrozen 0\n");
	/* Still populated after the timeout: -ETIMEDOUT. */
	CHECK_INT(actuator_apply(a, KUBEPODS, &c, &o), -ETIMEDOUT);
	CHECK_STR(o.old, "populated 1");
	CHECK_STR(o.now, "populated 1");
	CHECK_STR(get_file(at(t.root, KUBEPODS "/cgroup.kill")), "1");
	put_file(ev, "populated 0\nfrozen 0\n");
	CHECK_INT(actuator_apply(a, KUBEPODS, &c, &o), 0);
	CHECK_STR(o.now, "populated 0");
out:
	actuator_close(a);
	tree_free(&t);
}

/* The kernel counts memory in whole pages: a limit under one page would be
 * 0 bytes. Refused unless 0 itself is asked for. */
static void test_sub_page_memory_limit_refused(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator *a = NULL;
	struct act_outcome o;
	struct act_change c;
	long ps = sysconf(_SC_PAGESIZE);

	if (!tree_make(&t, PURE))
		goto out;
	a = act_open(t.root, "", false, &al, 0);
	if (!a)
		goto out;
	/* Even with --force: this is about the value, not the usage. */
	CHECK_APPLY_REFUSED(a, &al, DOCKER, mem_max(100, true), -ERANGE, "page");
	CHECK(strstr(al.r[0].why, "100") != NULL);
	al.n = 0;
	CHECK_APPLY_REFUSED(a, &al, DOCKER, mem_max((uint64_t)ps - 1, true), -ERANGE, "page");
	al.n = 0;
	c = (struct act_change){ .kind = ACT_SWAP_MAX, .value = 1 };
	CHECK_APPLY_REFUSED(a, &al, DOCKER, c, -ERANGE, "page");
	al.n = 0;
	c = (struct act_change){ .kind = ACT_MEMORY_LOW, .value = 1 };
	CHECK_APPLY_REFUSED(a, &al, DOCKER, c, -ERANGE, "page");
	al.n = 0;
	CHECK_STR(get_file(at(t.root, DOCKER "/memory.max")), "314572800");
	/* 0 is a real request (swap off, no protection). */
	c = (struct act_change){ .kind = ACT_SWAP_MAX, .value = 0 };
	CHECK_INT(actuator_validate(a, DOCKER, &c, &o), 0);
	CHECK_STR(o.wrote, "0");
	c = (struct act_change){ .kind = ACT_MEMORY_MIN, .value = 0 };
	CHECK_INT(actuator_validate(a, DOCKER, &c, &o), 0);
	/* One page exactly is a limit. */
	c = (struct act_change){ .kind = ACT_MEMORY_LOW, .value = (uint64_t)ps };
	CHECK_INT(actuator_validate(a, DOCKER, &c, &o), 0);
	/* Counts (pids.max) are not bytes: 1 is fine. */
	c = (struct act_change){ .kind = ACT_PIDS_MAX, .value = 1 };
	CHECK_INT(actuator_validate(a, DOCKER, &c, &o), 0);
	CHECK_U64(al.n, 0);
out:
	actuator_close(a);
	tree_free(&t);
}

/* A cgroup under a frozen ancestor stays frozen whatever its own
 * cgroup.freeze says: its thaw is refused up front, naming the ancestor. */
static void test_thaw_under_frozen_ancestor_refused(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator *a = NULL;
	struct act_outcome o;
	struct act_change c = { .kind = ACT_THAW };

	if (!tree_make(&t, PURE))
		goto out;
	put_file(at(t.root, "system.slice/cgroup.freeze"), "1\n");
	put_file(at(t.root, DOCKER "/cgroup.freeze"), "1\n");
	a = act_open(t.root, "", false, &al, 50000);
	if (!a)
		goto out;
	CHECK_APPLY_REFUSED(a, &al, DOCKER, c, -EBUSY, "'system.slice'");
	al.n = 0;
	CHECK_INT(actuator_validate(a, DOCKER, &c, &o), -EBUSY);
	CHECK(o.refused);
	al.n = 0;
	CHECK_STR(get_file(at(t.root, DOCKER "/cgroup.freeze")), "1");
	/* The frozen ancestor itself may be thawed. */
	put_file(at(t.root, "system.slice/cgroup.events"), "populated 1\nfrozen 0\n");
	CHECK_INT(actuator_apply(a, "system.slice", &c, &o), 0);
	CHECK_STR(get_file(at(t.root, "system.slice/cgroup.freeze")), "0");
	/* And then the child's thaw goes through. */
	CHECK_INT(actuator_validate(a, DOCKER, &c, &o), 0);
out:
	actuator_close(a);
	tree_free(&t);
}

/* ---- controllers --------------------------------------------------------- */

/* The hybrid host's cgroup2 has no memory or cpu files: refused, and the why
 * says which file or hierarchy lacks the controller. */
static void test_controller_missing_on_hybrid(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator *a = NULL;
	char before[64], after[64], where[160];

	if (!tree_make(&t, HYBRID))
		goto out;
	a = act_open(t.root, "", false, &al, 0);
	if (!a)
		goto out;
	tree_digest(t.base, before, sizeof(before));
	/* The capture has no root files at all, so the first ancestor that
	 * does not pass memory down is the root's (absent) subtree_control. */
	snprintf(where, sizeof(where), "%s/cgroup.subtree_control", t.root);
	CHECK_APPLY_REFUSED(a, &al, "busy", mem_max(128 * MiB, true), -ENOENT, where);
	CHECK(strstr(al.r[0].why, "memory") != NULL);
	CHECK_STR(al.r[0].old, "");
	al.n = 0;
	CHECK_APPLY_REFUSED(a, &al, "busy",
			    ((struct act_change){ .kind = ACT_CPU_MAX, .value = 50000,
						  .period = 100000 }),
			    -ENOENT, where);
	CHECK(strstr(al.r[0].why, "cpu") != NULL);
	al.n = 0;
	tree_digest(t.base, after, sizeof(after));
	CHECK_STR(after, before);

	/* With the root's cgroup.controllers as that host has it (cgroup v1
	 * holds memory), the why says the hierarchy has no such controller. */
	put_file(at(t.root, "cgroup.controllers"), "cpu io pids\n");
	CHECK_APPLY_REFUSED(a, &al, "busy", mem_max(128 * MiB, true), -ENOENT,
			    "has no memory controller");
	al.n = 0;
	/* cpu is offered but not enabled in the root's subtree_control. */
	CHECK_APPLY_REFUSED(a, &al, "busy",
			    ((struct act_change){ .kind = ACT_PIDS_MAX, .value = 5 }),
			    -ENOENT, where);
	al.n = 0;
	/* Core files are always there: a freeze is possible. */
	{
		struct act_change c = { .kind = ACT_FREEZE };
		struct act_outcome o;

		CHECK_INT(actuator_validate(a, "busy", &c, &o), 0);
	}
out:
	actuator_close(a);
	tree_free(&t);
}

/* A pure v2 host where system.slice does not pass memory down: the why
 * names system.slice's cgroup.subtree_control, not the root's. */
static void test_controller_not_enabled_by_parent(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator *a = NULL;
	char where[192];
	struct act_outcome o;
	struct act_change c = mem_max(128 * MiB, false);

	if (!tree_make(&t, PURE))
		goto out;
	CHECK_INT(unlink(at(t.root, DOCKER "/memory.max")), 0);
	put_file(at(t.root, "system.slice/cgroup.subtree_control"), "cpu io pids\n");
	a = act_open(t.root, "", false, &al, 0);
	if (!a)
		goto out;
	snprintf(where, sizeof(where), "%s/system.slice/cgroup.subtree_control", t.root);
	CHECK_APPLY_REFUSED(a, &al, DOCKER, c, -ENOENT, where);
	CHECK(strstr(al.r[0].why, "+memory") != NULL);
	al.n = 0;
	CHECK_INT(actuator_validate(a, DOCKER, &c, &o), -ENOENT);
	CHECK(strstr(o.why, where) != NULL);
	al.n = 0;
	CHECK(access(at(t.root, DOCKER "/memory.max"), F_OK) != 0);	/* not created */

	/* Enabled all the way down but the file still missing: the why asks
	 * whether the controller is there at all. */
	put_file(at(t.root, "system.slice/cgroup.subtree_control"), "cpu io memory pids\n");
	CHECK_APPLY_REFUSED(a, &al, DOCKER, c, -ENOENT, "controller");
	CHECK(strstr(al.r[0].why, "subtree_control") == NULL);
	al.n = 0;
	CHECK(access(at(t.root, DOCKER "/memory.max"), F_OK) != 0);
out:
	actuator_close(a);
	tree_free(&t);
}

/* ---- dry run and validate ------------------------------------------------- */

static void test_dry_run_writes_nothing(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator *a = NULL;
	struct act_outcome o;
	struct act_change c = mem_max(128 * MiB, false);
	char before[64], after[64];

	if (!tree_make(&t, PURE))
		goto out;
	a = act_open(t.root, "", true, &al, 50000);
	if (!a)
		goto out;
	tree_digest(t.base, before, sizeof(before));
	CHECK_INT(actuator_apply(a, DOCKER, &c, &o), 0);
	CHECK(o.dry_run && !o.refused);
	CHECK_STR(o.old, "314572800");
	CHECK_STR(o.wrote, "134217728");	/* what would be written */
	CHECK_STR(o.now, "314572800");		/* unchanged */
	CHECK_U64(al.n, 1);
	CHECK_STR(al.r[0].result, "dry-run");
	CHECK(al.r[0].dry_run);
	CHECK_U64(al.r[0].id, ino_of(at(t.root, DOCKER)));
	al.n = 0;

	/* Every kind, dry: nothing changes (freeze and kill would time out
	 * on a plain file if they were really done). */
	put_file(at(t.root, DOCKER "/cgroup.kill"), "");
	tree_digest(t.base, before, sizeof(before));
	for (int k = 0; k < ACT__COUNT; k++) {
		struct act_change d = { .kind = (enum act_kind)k, .value = 200 * MiB,
					.period = 100000 };

		if (k == ACT_CPU_WEIGHT || k == ACT_PIDS_MAX)
			d.value = 7;
		if (k == ACT_CPU_MAX)
			d.value = 30000;
		CHECK_INT(actuator_apply(a, DOCKER, &d, &o), 0);
		CHECK(o.dry_run);
		CHECK_STR(al.r[0].result, "dry-run");
		al.n = 0;
	}
	/* A dry run still refuses what a real run would: result "refused". */
	CHECK_APPLY_REFUSED(a, &al, DOCKER, mem_max(64 * MiB, false), -ERANGE, "--force");
	CHECK(al.r[0].dry_run && al.r[0].refused);
	al.n = 0;
	CHECK_APPLY_REFUSED(a, &al, "system.slice/evil/../x", mem_max(64 * MiB, true),
			    -EINVAL, NULL);
	al.n = 0;
	tree_digest(t.base, after, sizeof(after));
	CHECK_STR(after, before);
	CHECK_STR(get_file(at(t.root, DOCKER "/memory.max")), "314572800");
out:
	actuator_close(a);
	tree_free(&t);
}

/*
 * actuator_validate: the same answers as apply (error, why, old, what would
 * be written) and no write; an audit record only for a refusal.
 */
static void test_validate_matches_apply_and_writes_nothing(void)
{
	struct tree t = { 0 };
	struct audit_log al = { 0 };
	struct actuator *a = NULL, *dry = NULL;
	char before[64], after[64];

	if (!tree_make(&t, PURE))
		goto out;
	CHECK_INT(symlink(t.out, at(t.root, "system.slice/evil")), 0);
	CHECK_INT(mkdir(at(t.root, "init.scope"), 0755), 0);
	put_file(at(t.root, "init.scope/cgroup.freeze"), "0\n");
	/* Validate on the writing actuator; apply on a dry one to compare. */
	a = act_open(t.root, DOCKER, false, &al, 50000);
	dry = act_open(t.root, DOCKER, true, &al, 50000);
	if (!a || !dry)
		goto out;

	static const struct {
		const char *target;
		struct act_change c;
		int err;
	} cases[] = {
		{ KUBEPODS, { .kind = ACT_MEMORY_MAX, .value = 1ull << 30 }, 0 },
		{ KUBEPODS, { .kind = ACT_CPU_MAX, .value = 20000, .period = 100000 }, 0 },
		{ "system.slice/evil/sub", { .kind = ACT_MEMORY_MAX, .value = 4096, .force = true }, -ELOOP },
		{ "../outside", { .kind = ACT_MEMORY_MAX, .value = 4096, .force = true }, -EINVAL },
		{ "/etc", { .kind = ACT_PIDS_MAX, .value = 1 }, -EINVAL },
		{ "a\nb", { .kind = ACT_PIDS_MAX, .value = 1 }, -EINVAL },
		{ "", { .kind = ACT_CPU_WEIGHT, .value = 1 }, -EPERM },
		{ "init.scope", { .kind = ACT_FREEZE }, -EPERM },
		{ DOCKER, { .kind = ACT_CPU_WEIGHT, .value = 1 }, -EPERM },
		{ "system.slice", { .kind = ACT_FREEZE }, -EPERM },
		{ "system.slice", { .kind = ACT_CPU_WEIGHT, .value = 50 }, 0 },
		{ "system.slice/nope", { .kind = ACT_CPU_WEIGHT, .value = 50 }, -ENOENT },
		{ KUBEPODS, { .kind = ACT_KILL }, -ENOENT },
	};

	tree_digest(t.base, before, sizeof(before));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct act_outcome v, d;
		char why[ACT_WHY_MAX] = "";

		memset(&v, 0x5a, sizeof(v));
		CHECK_INT(actuator_validate(a, cases[i].target, &cases[i].c, &v), cases[i].err);
		CHECK_INT(v.err, cases[i].err);
		CHECK(v.refused == (cases[i].err != 0));
		CHECK(!v.dry_run);
		CHECK_STR(v.now, "");
		CHECK(cases[i].err == 0 || v.why[0] != '\0');
		/* A refusal at validation is on record; a pass is recorded when
		 * it is applied. */
		CHECK_U64(al.n, cases[i].err ? 1 : 0);
		if (cases[i].err && al.n == 1) {
			CHECK_STR(al.r[0].result, "refused");
			CHECK_STR(al.r[0].why, v.why);
		}
		al.n = 0;

		CHECK_INT(actuator_apply(dry, cases[i].target, &cases[i].c, &d), cases[i].err);
		CHECK_STR(v.why, d.why);
		CHECK_STR(v.old, d.old);
		CHECK_STR(v.wrote, d.wrote);
		CHECK_STR(v.file, d.file);
		CHECK_U64(al.n, 1);
		al.n = 0;

		/* check_target agrees on the target-only refusals. */
		if (cases[i].err == -EINVAL || cases[i].err == -EPERM || cases[i].err == -ELOOP) {
			CHECK_INT(actuator_check_target(a, cases[i].target, cases[i].c.kind, why,
							sizeof(why)), cases[i].err);
			CHECK_STR(why, v.why);
		}
		if (v.err != cases[i].err)
			printf("  case %zu (%s): why '%s'\n", i, cases[i].target, v.why);
	}
	tree_digest(t.base, after, sizeof(after));
	CHECK_STR(after, before);
out:
	actuator_close(a);
	actuator_close(dry);
	tree_free(&t);
}

int main(void)
{
	RUN(test_open_refuses_root_not_on_cgroup2);
	RUN(test_path_text_refused_before_lookup);
	RUN(test_symlinked_dir_is_not_followed);
	RUN(test_symlinked_file_is_not_written_through);
	RUN(test_walk_fallback_confines_too);
	RUN(test_mount_inside_tree_is_not_crossed);
	RUN(test_missing_or_non_cgroup_target);
	RUN(test_root_and_init_scope_are_protected);
	RUN(test_own_cgroup_is_protected_for_every_kind);
	RUN(test_own_ancestors_refuse_freeze_and_kill_only);
	RUN(test_self_found_behind_namespace_root);
	RUN(test_self_unknown_refuses_everything);
	RUN(test_expected_id_must_match);
	RUN(test_memory_max_write_reads_back_and_audits);
	RUN(test_memory_below_usage_needs_force);
	RUN(test_cpu_max_and_pids_max_writes);
	RUN(test_unaligned_memory_limit_expects_kernel_rounding);
	RUN(test_shorter_value_replaces_the_whole_file);
	RUN(test_freeze_thaw_kill_verify_through_events);
	RUN(test_sub_page_memory_limit_refused);
	RUN(test_thaw_under_frozen_ancestor_refused);
	RUN(test_controller_missing_on_hybrid);
	RUN(test_controller_not_enabled_by_parent);
	RUN(test_dry_run_writes_nothing);
	RUN(test_validate_matches_apply_and_writes_nothing);
	TEST_EXIT();
}
