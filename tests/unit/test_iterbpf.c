// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF cgroup iterator (src/iterbpf.c, bpf/cgw_iter.bpf.c) against real
 * cgroups: a tree of 40 made in a subtree of our own under the cgroup2
 * mount (CGW_TEST_CGROUP names another path, as the VM case does), walked
 * from an array of 8 so that it grows. Every field the walk fills is
 * checked against the file that prints it; every group the kernel or the
 * cgroup cannot give must be invalid and zero, not a valid zero.
 *
 * Needs root and a kernel with the iterator (6.1+); SKIPs with the reason
 * otherwise. CGW_TEST_EXPECT_FLUSH=<kfunc> and CGW_TEST_REQUIRE_CONTROLLERS=1
 * make the VM case fail rather than pass where its kernel (6.1, every
 * controller) should have given more.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "test.h"
#include "cgfs.h"
#include "iterbpf.h"

#define FANOUT 3
#define DEPTH 3
#define NR_NODES (1 + FANOUT + FANOUT * FANOUT + FANOUT * FANOUT * FANOUT)

struct node {
	char path[512];
	uint64_t ino;
	int parent;		/* index in nodes[], -1 for the top */
	int depth;		/* 0 for the top */
	int nr_desc;
};

static struct node nodes[NR_NODES];
static int nr_nodes;
static char top[200];
static bool tree_made;
static char not_ready[256];	/* why the tests cannot run here */
static uint32_t top_level;	/* the top's cgroup level */
static long page_size;

/* The leaves the tests use; set up by make_tree. */
static int busy_leaf, limit_leaf, freeze_leaf;

/* dir/file opened with flags: an fd, or -errno. */
static int open_in(const char *dir, const char *file, int flags)
{
	char p[700];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int read_text(const char *dir, const char *file, char *buf, size_t len)
{
	int fd = open_in(dir, file, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	return (int)n;
}

static int write_text(const char *dir, const char *file, const char *text)
{
	int fd = open_in(dir, file, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = write(fd, text, strlen(text));
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

static bool has_file(const char *dir, const char *file)
{
	int fd = open_in(dir, file, O_PATH);

	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

/* The value after "key " (a line start) in a flat keyed file; -1 if none. */
static int64_t keyed(const char *dir, const char *file, const char *key)
{
	char buf[4096];
	size_t kl = strlen(key);

	if (read_text(dir, file, buf, sizeof(buf)) < 0)
		return -1;
	for (char *l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (strncmp(l, key, kl) == 0 && l[kl] == ' ')
			return strtoll(l + kl + 1, NULL, 10);
	return -1;
}

/* A single-number file; "max" gives max_value. -1 if unreadable. */
static int64_t number(const char *dir, const char *file, int64_t max_value)
{
	char buf[128];

	if (read_text(dir, file, buf, sizeof(buf)) < 0)
		return -1;
	if (strncmp(buf, "max", 3) == 0)
		return max_value;
	return strtoll(buf, NULL, 10);
}

static int find_node(uint64_t ino)
{
	for (int i = 0; i < nr_nodes; i++)
		if (nodes[i].ino == ino)
			return i;
	return -1;
}

static int add_node(const char *path, int parent, int depth)
{
	struct stat st;
	struct node *n = &nodes[nr_nodes];

	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	if (stat(path, &st))
		return -errno;
	snprintf(n->path, sizeof(n->path), "%s", path);
	n->ino = st.st_ino;
	n->parent = parent;
	n->depth = depth;
	for (int p = parent; p >= 0; p = nodes[p].parent)
		nodes[p].nr_desc++;
	return nr_nodes++;
}

/* Hands every controller the top has down to the children of dir. */
static void enable_controllers(const char *dir)
{
	static const char *const want[] = { "+cpu", "+memory", "+pids" };

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		write_text(dir, "cgroup.subtree_control", want[i]);	/* absent: fine */
}

static int make_children(int parent, int depth)
{
	for (int i = 0; i < FANOUT; i++) {
		char p[512];
		int n;

		snprintf(p, sizeof(p), "%s/%c%d", nodes[parent].path, 'a' + depth - 1, i);
		n = add_node(p, parent, depth);
		if (n < 0)
			return n;
		if (depth < DEPTH) {
			enable_controllers(p);
			n = make_children(n, depth + 1);
			if (n < 0)
				return n;
		}
	}
	return 0;
}

static void remove_tree(void)
{
	if (!tree_made)
		return;
	/* Children first: nodes[] is in creation order, parents first. */
	for (int i = nr_nodes - 1; i >= 0; i--) {
		write_text(nodes[i].path, "cgroup.kill", "1");
		for (int tries = 0; tries < 100; tries++) {
			if (rmdir(nodes[i].path) == 0 || errno == ENOENT)
				break;
			if (errno != EBUSY)
				break;
			usleep(10000);
		}
	}
	tree_made = false;
}

static int make_tree(void)
{
	char mnt[128], buf[64];
	const char *env = getenv("CGW_TEST_CGROUP");
	int n;

	if (geteuid() != 0) {
		snprintf(not_ready, sizeof(not_ready), "needs root");
		return -EPERM;
	}
	if (cgfs_find_cgroup2("/proc/self/mountinfo", mnt, sizeof(mnt))) {
		snprintf(not_ready, sizeof(not_ready), "no cgroup2 mount");
		return -ENOENT;
	}
	if (env && *env)
		snprintf(top, sizeof(top), "%s", env);
	else
		snprintf(top, sizeof(top), "%s/cgw-iterbpf-test-%d", mnt, (int)getpid());
	if (strncmp(top, mnt, strlen(mnt)) || top[strlen(mnt)] != '/') {
		snprintf(not_ready, sizeof(not_ready), "CGW_TEST_CGROUP is not below %s", mnt);
		return -EINVAL;
	}
	tree_made = true;
	n = add_node(top, -1, 0);
	if (n < 0) {
		snprintf(not_ready, sizeof(not_ready), "mkdir %s: %s", top, strerror(-n));
		tree_made = false;
		return n;
	}
	enable_controllers(top);
	n = make_children(0, 1);
	if (n < 0) {
		snprintf(not_ready, sizeof(not_ready), "making the tree: %s", strerror(-n));
		return n;
	}
	if (read_text(top, "cgroup.stat", buf, sizeof(buf)) < 0)
		return -EIO;
	/* Our level: one more than the slashes below the mount. */
	top_level = 0;
	for (const char *p = top + strlen(mnt); *p; p++)
		top_level += *p == '/';
	busy_leaf = nr_nodes - 1;
	limit_leaf = nr_nodes - 2;
	freeze_leaf = nr_nodes - 3;
	return 0;
}

/* An iterator on the top, starting from 8 records so that the walk grows. */
static struct iterbpf *open_iter(void)
{
	struct iterbpf *it = NULL;
	char why[256];
	int fd, err;

	if (not_ready[0])
		return NULL;
	fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	err = iterbpf_open(fd, 8, &it, why, sizeof(why));
	close(fd);
	if (err) {
		snprintf(not_ready, sizeof(not_ready), "%s", why);
		return NULL;
	}
	return it;
}

static int walk(struct iterbpf *it, const struct cgw_iter_rec **recs, uint32_t *n)
{
	char why[256];
	int err = iterbpf_walk(it, recs, n, why, sizeof(why));

	if (err)
		printf("  walk: %s\n", why);
	return err;
}

static const struct cgw_iter_rec *rec_of(const struct cgw_iter_rec *recs, uint32_t n, int node)
{
	for (uint32_t i = 0; i < n; i++)
		if (recs[i].id == nodes[node].ino)
			return &recs[i];
	return NULL;
}

/* Whether every byte of [p, p + len) is zero. */
static bool zero(const void *p, size_t len)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < len; i++)
		if (c[i])
			return false;
	return true;
}

#define GROUP_ZERO(r, first, last)						\
	zero(&(r)->first, offsetof(struct cgw_iter_rec, last) + sizeof((r)->last) - \
	     offsetof(struct cgw_iter_rec, first))

static const char *expect_flush(void)
{
	const char *e = getenv("CGW_TEST_EXPECT_FLUSH");

	return e && *e ? e : NULL;
}

/* The tree's shape: every directory once, parents first, the right
 * parent, level and descendant count; 8 records grew to hold 40. */
static void test_walk_tree(void)
{
	const struct cgw_iter_rec *recs;
	struct iterbpf *it = open_iter();
	int seen[NR_NODES] = { 0 }, pos[NR_NODES];
	uint32_t n;

	if (!it)
		TEST_SKIP("%s", not_ready);
	if (expect_flush())
		CHECK_STR(iterbpf_flush_name(it), expect_flush());
	printf("  # flush %s\n", iterbpf_flush_name(it));
	CHECK_INT(iterbpf_capacity(it), 8);
	CHECK_INT(walk(it, &recs, &n), 0);
	CHECK_INT(n, nr_nodes);
	CHECK(iterbpf_capacity(it) >= 2 * (uint32_t)nr_nodes);
	CHECK(iterbpf_last_walk_ns(it) > 0);
	for (uint32_t i = 0; i < n; i++) {
		const struct cgw_iter_rec *r = &recs[i];
		int k = find_node(r->id);

		CHECK(k >= 0);
		if (k < 0)
			continue;
		seen[k]++;
		pos[k] = (int)i;
		CHECK(r->valid & CGW_IV_CGROUP);
		CHECK_U64(r->level, top_level + (uint32_t)nodes[k].depth);
		CHECK_U64(r->nr_descendants, nodes[k].nr_desc);
		CHECK_U64(r->nr_descendants, keyed(nodes[k].path, "cgroup.stat", "nr_descendants"));
		if (nodes[k].parent < 0) {
			CHECK_INT(i, 0);
			CHECK_U64(r->parent_id, 0);
		} else {
			CHECK_U64(r->parent_id, nodes[nodes[k].parent].ino);
			CHECK(seen[nodes[k].parent] == 1 && pos[nodes[k].parent] < (int)i);
		}
	}
	for (int k = 0; k < nr_nodes; k++)
		CHECK_INT(seen[k], 1);
	/* Again at the grown size: the same walk, no second grow. */
	{
		uint32_t cap = iterbpf_capacity(it), n2;

		CHECK_INT(walk(it, &recs, &n2), 0);
		CHECK_INT(n2, n);
		CHECK_INT(iterbpf_capacity(it), cap);
	}
	iterbpf_close(it);
}

/* memory: page counters in pages, "max" as PAGE_COUNTER_MAX. */
static void check_mem(const struct cgw_iter_rec *r, const char *dir)
{
	const int64_t pc_max = LONG_MAX / page_size;
	static const char *const ev[CGW_MEM_EVENTS] = {
		"low", "high", "max", "oom", "oom_kill", "oom_group_kill",
	};

	CHECK_U64(r->mem_max, number(dir, "memory.max", pc_max * page_size) / page_size);
	CHECK_U64(r->mem_high, number(dir, "memory.high", pc_max * page_size) / page_size);
	CHECK_U64(r->mem_low, number(dir, "memory.low", pc_max * page_size) / page_size);
	CHECK_U64(r->mem_min, number(dir, "memory.min", pc_max * page_size) / page_size);
	CHECK_U64(r->mem_usage * page_size, number(dir, "memory.current", -1));
	if (has_file(dir, "memory.peak"))
		CHECK_U64(r->mem_watermark * page_size, number(dir, "memory.peak", -1));
	if (has_file(dir, "memory.swap.max")) {
		CHECK_U64(r->swap_max, number(dir, "memory.swap.max", pc_max * page_size) /
				       page_size);
		CHECK_U64(r->swap_usage * page_size, number(dir, "memory.swap.current", -1));
	}
	for (int i = 0; i < CGW_MEM_EVENTS; i++) {
		int64_t v = keyed(dir, "memory.events", ev[i]);

		if (v >= 0)
			CHECK_U64(r->mem_events[i], v);
	}
}

/* cpu.max, cpu.weight and the throttling lines of cpu.stat. */
static void check_cfs(const struct cgw_iter_rec *r, const char *dir)
{
	char buf[128];
	uint64_t weight;
	int64_t periods;

	CHECK(read_text(dir, "cpu.max", buf, sizeof(buf)) > 0);
	if (strncmp(buf, "max ", 4) == 0)
		CHECK_U64(r->cfs_quota_ns, ~0ull);
	else
		CHECK_U64(r->cfs_quota_ns / 1000, strtoull(buf, NULL, 10));
	CHECK_U64(r->cfs_period_ns / 1000, strtoull(strchr(buf, ' ') + 1, NULL, 10));
	/* shares are scale_load()ed (<< 10 on 64-bit); cpu.weight maps
	 * 1024 to 100. */
	weight = ((r->shares >> 10) * 100 + 512) / 1024;
	CHECK_U64(weight ? weight : 1, number(dir, "cpu.weight", -1));
	/* The period timer runs on for a period or two after cpu.max is
	 * written, even with nothing to throttle: the file may be ahead. */
	periods = keyed(dir, "cpu.stat", "nr_periods");
	CHECK(r->nr_periods <= (uint64_t)periods && r->nr_periods + 3 >= (uint64_t)periods);
	CHECK_U64(r->nr_throttled, keyed(dir, "cpu.stat", "nr_throttled"));
	CHECK_U64(r->throttled_ns / 1000, keyed(dir, "cpu.stat", "throttled_usec"));
	if (keyed(dir, "cpu.stat", "nr_bursts") >= 0) {
		CHECK_U64(r->nr_bursts, keyed(dir, "cpu.stat", "nr_bursts"));
		CHECK_U64(r->burst_ns / 1000, keyed(dir, "cpu.stat", "burst_usec"));
	}
}

/* The totals of the three pressure files: a read of a file may aggregate
 * once more than the walk saw, never less. */
static void check_psi(const struct cgw_iter_rec *r, const char *dir)
{
	static const char *const file[3] = { "io.pressure", "memory.pressure", "cpu.pressure" };

	for (int f = 0; f < 3; f++) {
		char buf[512], *full;
		unsigned long long some_us = 0, full_us = 0;

		CHECK(read_text(dir, file[f], buf, sizeof(buf)) > 0);
		full = strstr(buf, "full ");
		if (strstr(buf, "total="))
			some_us = strtoull(strstr(buf, "total=") + 6, NULL, 10);
		if (full && strstr(full, "total="))
			full_us = strtoull(strstr(full, "total=") + 6, NULL, 10);
		CHECK(r->psi_total[f * 2] / 1000 <= some_us);
		CHECK(r->psi_total[f * 2 + 1] / 1000 <= full_us);
	}
}

/*
 * Each controller group is valid exactly where the cgroup has the
 * controller's files, and then equals them; elsewhere zero. On this host
 * (hybrid, no v2 controllers) that is all invalid; in the 6.1 VM the
 * leaves with limits set check the conversions.
 */
static void test_fields_match_files(void)
{
	const struct cgw_iter_rec *recs;
	struct iterbpf *it = open_iter();
	const char *lim = nodes[limit_leaf].path;
	int nr_mem = 0, nr_cfs = 0, nr_pids = 0, nr_psi = 0;
	bool require = getenv("CGW_TEST_REQUIRE_CONTROLLERS") != NULL;
	uint32_t n;

	if (!it)
		TEST_SKIP("%s", not_ready);
	/* Limits that differ from the defaults, where the files exist. */
	write_text(lim, "memory.max", "67108864");
	write_text(lim, "memory.high", "50331648");
	write_text(lim, "memory.low", "4194304");
	write_text(lim, "pids.max", "10");
	write_text(lim, "cpu.max", "50000 100000");
	write_text(lim, "cpu.weight", "250");
	CHECK_INT(walk(it, &recs, &n), 0);
	for (uint32_t i = 0; i < n; i++) {
		const struct cgw_iter_rec *r = &recs[i];
		int k = find_node(r->id);
		const char *dir;

		if (k < 0)
			continue;
		dir = nodes[k].path;
		CHECK(r->valid & CGW_IV_RSTAT);
		CHECK_INT(!!(r->valid & CGW_IV_MEM), has_file(dir, "memory.current"));
		CHECK_INT(!!(r->valid & CGW_IV_CFS), has_file(dir, "cpu.max"));
		CHECK_INT(!!(r->valid & CGW_IV_PIDS), has_file(dir, "pids.current"));
		CHECK_INT(!!(r->valid & CGW_IV_PSI), has_file(dir, "cpu.pressure"));
		CHECK(!(r->flags & CGW_IF_POPULATED));
		CHECK(!(r->flags & CGW_IF_FROZEN));
		if (r->valid & CGW_IV_MEM) {
			nr_mem++;
			check_mem(r, dir);
		} else {
			CHECK(GROUP_ZERO(r, mem_usage, mem_events));
			CHECK(!(r->valid & CGW_IV_MEM_LOCAL_EVENTS));
		}
		if (r->valid & CGW_IV_CFS) {
			nr_cfs++;
			check_cfs(r, dir);
		} else {
			CHECK(GROUP_ZERO(r, cfs_quota_ns, burst_ns));
		}
		if (r->valid & CGW_IV_PIDS) {
			nr_pids++;
			CHECK_U64(r->pids_current, number(dir, "pids.current", -1));
			CHECK_U64(r->pids_limit, number(dir, "pids.max", 4194304 + 1));
		} else {
			CHECK(GROUP_ZERO(r, pids_current, pids_limit));
		}
		if (r->valid & CGW_IV_PSI) {
			nr_psi++;
			check_psi(r, dir);
		} else {
			CHECK(GROUP_ZERO(r, psi_total, psi_avg));
		}
	}
	printf("  # valid in %d records: memory %d, cpu %d, pids %d, psi %d\n", (int)n, nr_mem,
	       nr_cfs, nr_pids, nr_psi);
	if (has_file(lim, "memory.max")) {
		const struct cgw_iter_rec *r = rec_of(recs, n, limit_leaf);

		CHECK(r && r->mem_max * (uint64_t)page_size == 67108864);
		CHECK(r && r->mem_high * (uint64_t)page_size == 50331648);
		CHECK(r && r->mem_low * (uint64_t)page_size == 4194304);
	}
	if (has_file(lim, "pids.max")) {
		const struct cgw_iter_rec *r = rec_of(recs, n, limit_leaf);

		CHECK(r && r->pids_limit == 10);
	}
	if (has_file(lim, "cpu.max")) {
		const struct cgw_iter_rec *r = rec_of(recs, n, limit_leaf);

		CHECK(r && r->cfs_quota_ns == 50000000 && r->cfs_period_ns == 100000000);
	}
	if (require) {
		CHECK_INT(nr_mem, nr_nodes);
		CHECK_INT(nr_cfs, nr_nodes);
		CHECK_INT(nr_pids, nr_nodes);
	}
	iterbpf_close(it);
}

/* Frozen as cgroup.events says it; PSI off as cgroup.pressure 0 says it. */
static void test_frozen_and_psi_off(void)
{
	const struct cgw_iter_rec *recs, *r;
	struct iterbpf *it = open_iter();
	const char *dir = nodes[freeze_leaf].path;
	bool psi_switch = has_file(dir, "cgroup.pressure");
	uint32_t n;

	if (!it)
		TEST_SKIP("%s", not_ready);
	/* An empty cgroup is frozen as soon as it is asked to be. */
	CHECK_INT(write_text(dir, "cgroup.freeze", "1"), 0);
	CHECK_INT(keyed(dir, "cgroup.events", "frozen"), 1);
	if (psi_switch)
		CHECK_INT(write_text(dir, "cgroup.pressure", "0"), 0);
	CHECK_INT(walk(it, &recs, &n), 0);
	r = rec_of(recs, n, freeze_leaf);
	CHECK(r && (r->flags & CGW_IF_FROZEN));
	if (psi_switch) {
		CHECK(r && (r->flags & CGW_IF_PSI_OFF) && !(r->valid & CGW_IV_PSI));
		CHECK(r && GROUP_ZERO(r, psi_total, psi_avg));
	}
	r = rec_of(recs, n, nodes[freeze_leaf].parent);
	CHECK(r && !(r->flags & (CGW_IF_FROZEN | CGW_IF_PSI_OFF)));

	CHECK_INT(write_text(dir, "cgroup.freeze", "0"), 0);
	if (psi_switch)
		CHECK_INT(write_text(dir, "cgroup.pressure", "1"), 0);
	CHECK_INT(walk(it, &recs, &n), 0);
	r = rec_of(recs, n, freeze_leaf);
	CHECK(r && !(r->flags & (CGW_IF_FROZEN | CGW_IF_PSI_OFF)));
	CHECK(r && (r->valid & CGW_IV_PSI) == (has_file(dir, "cpu.pressure") ? CGW_IV_PSI : 0));
	iterbpf_close(it);
	if (!psi_switch)
		TEST_SKIP("no cgroup.pressure here (before 6.1?): froze only");
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * A child joins a leaf, burns 200 ms of CPU and waits; populated is set
 * on the leaf and its ancestors and nowhere else. After it exits, the
 * leaf's CPU time from the walk equals cpu.stat's usage_usec read right
 * after, within 1% + 1 ms: the walk's one flush brought every CPU's part.
 */
static void test_populated_and_flushed_cpu(void)
{
	const struct cgw_iter_rec *recs, *r;
	struct iterbpf *it;
	const char *dir = nodes[busy_leaf].path;
	int ready[2], go[2], status;
	int64_t usage;
	uint32_t n;
	pid_t pid;
	char c;

	if (not_ready[0])
		TEST_SKIP("%s", not_ready);
	if (pipe(ready) || pipe(go)) {
		CHECK(0);
		return;
	}
	/* The child gets no copy of the iterator: opened after the fork. */
	pid = fork();
	if (pid == 0) {
		char me[32];
		uint64_t t0;

		close(ready[0]);
		close(go[1]);
		snprintf(me, sizeof(me), "%d", (int)getpid());
		if (write_text(dir, "cgroup.procs", me))
			_exit(1);
		t0 = cpu_ns();
		while (cpu_ns() - t0 < 200000000u)
			;
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	CHECK(pid > 0);
	it = open_iter();
	CHECK_INT(read(ready[0], &c, 1), 1);
	if (!it) {
		CHECK_INT(write(go[1], "g", 1), 1);
		waitpid(pid, &status, 0);
		close(ready[0]);
		close(go[1]);
		TEST_SKIP("%s", not_ready);
	}

	CHECK_INT(walk(it, &recs, &n), 0);
	for (int k = 0; k < nr_nodes; k++) {
		bool on_path = false;

		for (int p = busy_leaf; p >= 0; p = nodes[p].parent)
			on_path |= p == k;
		r = rec_of(recs, n, k);
		CHECK(r != NULL);
		if (r)
			CHECK_INT(!!(r->flags & CGW_IF_POPULATED), on_path);
	}

	CHECK_INT(write(go[1], "g", 1), 1);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(ready[0]);
	close(go[1]);

	CHECK_INT(walk(it, &recs, &n), 0);
	usage = keyed(dir, "cpu.stat", "usage_usec");
	r = rec_of(recs, n, busy_leaf);
	CHECK(r && !(r->flags & CGW_IF_POPULATED));
	CHECK(r && (r->valid & CGW_IV_RSTAT));
	if (r) {
		printf("  # busy leaf: walk %.3f ms of CPU, cpu.stat %.3f ms\n",
		       r->cpu_sum_ns / 1e6, usage / 1e3);
		CHECK(usage >= 200000);
		CHECK_NEAR(r->cpu_sum_ns / 1000.0, (double)usage, usage * 0.01 + 1000);
		CHECK(r->cpu_utime_ns + r->cpu_stime_ns > 0);
	}
	r = rec_of(recs, n, 0);
	CHECK(r && r->cpu_sum_ns >= (uint64_t)usage * 990);	/* the top holds the leaf */
	iterbpf_close(it);
}

/* A bad root (not a cgroup2 directory) is refused with a reason. */
static void test_bad_root(void)
{
	struct iterbpf *it = NULL;
	char why[256] = "";
	int fd, err;

	if (not_ready[0] && geteuid() != 0)
		TEST_SKIP("%s", not_ready);
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(fd >= 0);
	err = iterbpf_open(fd, 0, &it, why, sizeof(why));
	close(fd);
	CHECK(err < 0 && it == NULL);
	CHECK(strstr(why, "not a cgroup2 directory") != NULL);
	printf("  # %s\n", why);
}

/*
 * Cgroups made and removed while walks run (the kernel walks under
 * cgroup_mutex, so each is in a walk or not): every walk is whole, each
 * id once, every parent earlier in the same walk, no hole left by a
 * dying cgroup; the tree we made is always all there.
 */
static void test_churn(void)
{
	struct iterbpf *it;
	int walks = 0, bad = 0, go[2], status;
	pid_t pid;
	char c;

	if (not_ready[0])
		TEST_SKIP("%s", not_ready);
	if (pipe(go)) {
		CHECK(0);
		return;
	}
	/* Forked before the iterator is opened, so the child has no copy;
	 * it starts when told, so the walks overlap the churn. */
	pid = fork();
	if (pid == 0) {
		struct timespec t0, t;
		char d[300];

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(0);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0;; i++) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > 500)
				break;
			snprintf(d, sizeof(d), "%s/churn%d", nodes[1 + i % FANOUT].path, i % 7);
			if (mkdir(d, 0755) == 0)
				rmdir(d);
		}
		_exit(0);
	}
	close(go[0]);
	CHECK(pid > 0);
	it = open_iter();
	if (it) {
		const struct cgw_iter_rec *recs;
		uint32_t n;

		/* Grown before the churn: a reload is slow under valgrind. */
		CHECK_INT(walk(it, &recs, &n), 0);
		CHECK_INT(write(go[1], "g", 1), 1);
	}
	close(go[1]);
	for (; it && pid > 0 && waitpid(pid, &status, WNOHANG) == 0; walks++) {
		const struct cgw_iter_rec *recs;
		uint32_t n;
		int found = 0;

		if (walk(it, &recs, &n)) {
			bad++;
			break;
		}
		for (uint32_t i = 0; i < n; i++) {
			bool parent_seen = i == 0;

			for (uint32_t j = 0; j < i && !parent_seen; j++)
				parent_seen = recs[j].id == recs[i].parent_id;
			for (uint32_t j = 0; j < i; j++)
				bad += recs[j].id == recs[i].id;
			bad += !parent_seen || recs[i].id == 0;
			found += find_node(recs[i].id) >= 0;
		}
		bad += found != nr_nodes;
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	if (!it)
		TEST_SKIP("%s", not_ready);
	printf("  # %d walks during churn\n", walks);
	CHECK_INT(bad, 0);
	CHECK(walks > 1);
	iterbpf_close(it);
}

/* A root removed under an attached iterator: the walk says so. */
static void test_removed_root(void)
{
	const struct cgw_iter_rec *recs;
	struct iterbpf *it = NULL;
	char dir[300], why[256] = "";
	uint32_t n = 1;
	int fd, err;

	if (not_ready[0])
		TEST_SKIP("%s", not_ready);
	snprintf(dir, sizeof(dir), "%s-gone", top);
	CHECK_INT(mkdir(dir, 0755), 0);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(fd >= 0);
	err = iterbpf_open(fd, 0, &it, why, sizeof(why));
	close(fd);
	CHECK_INT(err, 0);
	if (it) {
		CHECK_INT(iterbpf_walk(it, &recs, &n, why, sizeof(why)), 0);
		CHECK_INT(n, 1);
	}
	CHECK_INT(rmdir(dir), 0);
	if (it) {
		CHECK_INT(iterbpf_walk(it, &recs, &n, why, sizeof(why)), -ENOENT);
		CHECK_INT(n, 0);
		CHECK(strstr(why, "gone") != NULL);
	}
	iterbpf_close(it);
}

static void on_signal(int sig)
{
	remove_tree();
	signal(sig, SIG_DFL);
	raise(sig);
}

int main(void)
{
	page_size = sysconf(_SC_PAGESIZE);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (make_tree() < 0 && !not_ready[0])
		snprintf(not_ready, sizeof(not_ready), "cannot make the test tree");
	RUN(test_walk_tree);
	RUN(test_fields_match_files);
	RUN(test_frozen_and_psi_off);
	RUN(test_populated_and_flushed_cpu);
	RUN(test_bad_root);
	RUN(test_removed_root);
	RUN(test_churn);
	remove_tree();
	TEST_EXIT();
}
