// SPDX-License-Identifier: GPL-2.0-only
/* The reader of /proc/<pid>/cgroup (selfcg_parse_proc_cgroup): the one
 * place the "0::" line is understood, for the actuator's self guard and
 * through it the daemon's. selfcg_locate itself is tested in
 * test_actuator.c on fake proc files. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "selfcg.h"

/* The path parsed from text (a C string), or NULL; *err the return. */
static char *parse(const char *text, int *err)
{
	char *path = NULL;

	*err = selfcg_parse_proc_cgroup(text, strlen(text), &path);
	return path;
}

static void check_path(const char *text, const char *want)
{
	int err;
	char *path = parse(text, &err);

	CHECK_INT(err, 0);
	CHECK_STR(path, want);
	free(path);
}

static void check_err(const char *text, int want)
{
	int err;
	char *path = parse(text, &err);

	CHECK_INT(err, want);
	CHECK(path == NULL);		/* out is written only on success */
}

static void test_pure_v2(void)
{
	check_path("0::/user.slice/user-1000.slice/session-2.scope\n",
		   "/user.slice/user-1000.slice/session-2.scope");
	/* The last line may come without its newline. */
	check_path("0::/system.slice/cgwarden.service", "/system.slice/cgwarden.service");
}

/* A hybrid host: one line per v1 hierarchy first, the unified one last. */
static void test_hybrid_v1_lines_passed_over(void)
{
	check_path("12:pids:/user.slice/user-1000.slice\n"
		   "4:memory:/user.slice\n"
		   "3:cpu,cpuacct:/\n"
		   "1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n"
		   "0::/user.slice/user-1000.slice/session-2.scope\n",
		   "/user.slice/user-1000.slice/session-2.scope");
	/* Hierarchy 10 with no controllers listed is not hierarchy 0. */
	check_path("10::/not-this\n0::/this\n", "/this");
}

/* Our cgroup is the namespace's root: after unshare -C, or in a container. */
static void test_root(void)
{
	check_path("0::/\n", "/");
	/* Moved out of our namespace's root: the path climbs, and is still a
	 * path (selfcg_locate says it cannot tell). */
	check_path("0::/../../elsewhere\n", "/../../elsewhere");
}

static void test_no_absolute_path(void)
{
	check_err("0::\n", -EINVAL);
	check_err("0::", -EINVAL);
	check_err("0::user.slice\n", -EINVAL);
	check_err("1:name=systemd:/\n0::\n", -EINVAL);
}

/* The kernel writes the path's bytes as they are (no octal escapes, unlike
 * mountinfo): nothing is decoded, nothing cut at ':' or a space. */
static void test_odd_bytes_kept(void)
{
	check_path("0::/a b/c\\040d/e:f\n", "/a b/c\\040d/e:f");
	check_path("0::/\xff\xfe\x01/x\n", "/\xff\xfe\x01/x");
	check_path("0::/trailing/\t\r\n", "/trailing/\t\r");
}

static void test_missing_line(void)
{
	check_err("", -ENOENT);
	check_err("\n\n", -ENOENT);
	/* A v1-only host. */
	check_err("12:pids:/\n4:memory:/x\n1:name=systemd:/x\n", -ENOENT);
	/* "0::" only counts at the start of a line. */
	check_err("1:name=systemd:/0::/x\n", -ENOENT);
	check_err(" 0::/x\n", -ENOENT);
}

/* A NUL in the text is no path the kernel wrote. */
static void test_nul_refused(void)
{
	static const char text[] = "0::/a\0b\n";
	char *path = NULL;

	CHECK_INT(selfcg_parse_proc_cgroup(text, sizeof(text) - 1, &path), -EINVAL);
	CHECK(path == NULL);
	/* len bounds the text: the line ends where len does. */
	CHECK_INT(selfcg_parse_proc_cgroup("0::/abc\n", 5, &path), 0);
	CHECK_STR(path, "/a");
	free(path);
}

int main(void)
{
	RUN(test_pure_v2);
	RUN(test_hybrid_v1_lines_passed_over);
	RUN(test_root);
	RUN(test_no_absolute_path);
	RUN(test_odd_bytes_kept);
	RUN(test_missing_line);
	RUN(test_nul_refused);
	TEST_EXIT();
}
