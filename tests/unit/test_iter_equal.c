/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The BPF cgroup iterator against the files (issue 14, "Equality with the
 * files"): on real cgroups this test makes, every metric of the table as
 * the iterator source gives it (collector A, .iter) is compared with the
 * files' value read in the same tick.
 *
 * Each round reads the files just before A (collector B, every file but
 * the *.pressure ones) and just after it (collector C, every file): A
 * lies between two file reads, so no timing window is needed and a slow
 * VM cannot make it flaky:
 * - gauges, limits, flags, memory.events, pids: exact (= C) when the
 *   files did not move across A, else between B and C;
 * - rstat and task_group counters (cpu.stat): B <= A <= C, the flush
 *   semantics (a flushed read lies between two flushed reads); user and
 *   system only as their sum, since cputime_adjust() may split a reading
 *   differently once someone else has read cpu.stat;
 * - PSI: B leaves the pressure files alone, since reading one aggregates
 *   the per-CPU times for whoever reads next; then A <= C for totals and
 *   C - A at most one sampling period (2 s) plus the time between the
 *   reads; averages within what the kernel's updates since the last read
 *   can move them (k periods of 2 s: 1 - e^(-2k/window));
 * - rates from the second round: within what the counters' windows allow.
 * memory.stat (never from the iterator) is compared and shown, not held.
 * Present in A if and only if present in C, for every row and cgroup.
 * Then one round on the whole cgroup2 mount: the real root (whose files
 * the kernel fills unlike any other cgroup's) by the same rules, its
 * gauges only shown; every other cgroup of the host for presence.
 *
 * Needs root and a cgroup2 mount; SKIPs otherwise. The tree is made under
 * the mount (CGW_TEST_CGROUP names it; the VM case passes vmtest-*) and
 * removed, members killed, however the test ends. With cpu, memory, io
 * and pids controllers (the VM) it also sets limits, makes an OOM kill and
 * (with CGW_TEST_BLOCKDEV) memory.high breaches. Prints the table of what
 * was compared as "# " lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "test.h"
#include "cgfs.h"
#include "collector.h"
#include "metrics.h"

/* The iterator source is built in: A must load it where it can. */
#if __has_include("src_iter.h")
#define ITER_BUILT 1
#else
#define ITER_BUILT 0
#endif

#define ROUNDS 2
#define ROUND_GAP_MS 2500		/* past a PSI update: averages move between */
#define PSI_PERIOD_USEC 2000000ull	/* PSI_FREQ */
#define PSI_SLACK_USEC 50000ull		/* the worker: a jiffy late, then the workqueue's own delay */
#define MAX_CG 16
#define MAX_KIDS 16
#define MIB (1ull << 20)

/* ---- the test-owned tree ------------------------------------------------ */

static char base[4096];			/* the walk's root: mount/name */
static char kill_path[4200];		/* its cgroup.kill (for the signal handler) */
static char dirs[MAX_CG][4096];		/* made, in order (removed in reverse) */
static int nr_dirs;
static pid_t kids[MAX_KIDS];
static int nr_kids;
static char setup_skip[256];		/* why nothing can run here */
static char notes[2048];		/* what the setup did not get */
static bool ctl_cpu, ctl_memory, ctl_io, ctl_pids;
static uint64_t setup_usec;		/* CLOCK_MONOTONIC when the tree was made */

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double dmax(double a, double b)
{
	return a > b ? a : b;
}

static double dabs(double a)
{
	return a < 0 ? -a : a;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void note(const char *fmt, const char *what)
{
	size_t n = strlen(notes);

	snprintf(notes + n, sizeof(notes) - n, fmt, what);
}

static const char *at(const char *rel, const char *file)
{
	static char p[4][4096];
	static int i;

	i = (i + 1) % 4;
	if (snprintf(p[i], sizeof(p[i]), "%s%s%s%s%s", base, *rel ? "/" : "", rel,
		     file ? "/" : "", file ? file : "") >= (int)sizeof(p[i]))
		p[i][0] = '\0';	/* never: our names are short */
	return p[i];
}

/* Async-signal-safe: write(2) of text to path. 0 or -errno. */
static int put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		err = -errno;
	close(fd);
	return err;
}

static int get(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* The value of key in a flat keyed file, or -1. */
static long long key_of(const char *path, const char *key)
{
	char buf[4096], *p;
	size_t kl = strlen(key);

	if (get(path, buf, sizeof(buf)))
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
			return atoll(p + kl + 1);
	return -1;
}

static bool mk(const char *rel)
{
	if (nr_dirs >= MAX_CG || mkdir(at(rel, NULL), 0755)) {
		note("mkdir %s failed; ", rel);
		return false;
	}
	snprintf(dirs[nr_dirs++], sizeof(dirs[0]), "%s", at(rel, NULL));
	return true;
}

/* Gives a cgroup's children the controllers this tree has. */
static void delegate(const char *rel)
{
	static const char *const names[4] = { "+cpu", "+memory", "+io", "+pids" };
	const bool on[4] = { ctl_cpu, ctl_memory, ctl_io, ctl_pids };

	for (int i = 0; i < 4; i++)
		if (on[i] && put(at(rel, "cgroup.subtree_control"), names[i]))
			note("cannot enable %s; ", names[i]);
}

static void set(const char *rel, const char *file, const char *val)
{
	if (put(at(rel, file), val))
		note("cannot write %s; ", file);
}

/* Kills every member and removes the tree, deepest first. Async-signal-
 * safe (the signal handler calls it), so no stdio. */
static void teardown(void)
{
	if (!nr_dirs)
		return;
	put(kill_path, "1");
	for (int i = 0; i < nr_kids; i++)
		kill(kids[i], SIGKILL);
	for (int i = 0; i < nr_kids; i++)
		waitpid(kids[i], NULL, 0);
	nr_kids = 0;
	for (int i = nr_dirs - 1; i >= 0; i--)
		for (int t = 0; t < 100 && rmdir(dirs[i]) && errno == EBUSY; t++)
			nap_ms(50);
	nr_dirs = 0;
}

static void on_signal(int sig)
{
	teardown();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ---- workloads ---------------------------------------------------------- */

enum work { W_SLEEP, W_BURN, W_HOLD, W_OOM, W_READ };

/* The burners share one CPU: each waits while the other runs, so the
 * cgroup has CPU pressure and its PSI averages are not all 0. */
static int burn_cpu = -1;

static void touch(size_t bytes)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(3);
	memset(p, 0x5a, bytes);
}

/* Buffered reads: the block device's page cache is charged to the reader. */
static void read_dev(const char *dev, size_t bytes)
{
	static char buf[1 << 20];
	int fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		_exit(4);
	for (size_t done = 0; done < bytes;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0)
			_exit(5);
		done += (size_t)n;
	}
	close(fd);
}

/*
 * Starts a child that moves itself into rel before doing anything else
 * (so all it charges is charged there), does w, then says so on a pipe
 * and stays (spinning for W_BURN). Returns 1 when it said so, 0 when it
 * died first (*status: how), -1 on a timeout or error.
 */
static int spawn(const char *rel, enum work w, size_t bytes, const char *dev, int *status)
{
	int p[2];
	pid_t pid;
	char c = 0;
	struct pollfd pfd;

	if (nr_kids >= MAX_KIDS || pipe2(p, O_CLOEXEC))
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		volatile unsigned long spin = 0;

		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (put(at(rel, "cgroup.procs"), "0"))
			_exit(2);
		if (w == W_BURN && burn_cpu >= 0) {
			cpu_set_t one;

			CPU_ZERO(&one);
			CPU_SET(burn_cpu, &one);
			sched_setaffinity(0, sizeof(one), &one);
		}
		if (w == W_HOLD || w == W_OOM)
			touch(bytes);
		else if (w == W_READ)
			read_dev(dev, bytes);
		if (write(p[1], "r", 1) != 1)
			_exit(6);
		for (;;) {
			if (w == W_BURN)
				spin++;
			else
				pause();
		}
	}
	kids[nr_kids++] = pid;
	close(p[1]);
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	/* Generous: under TCG touching 64 MiB or an OOM kill takes seconds. */
	if (poll(&pfd, 1, 120000) != 1) {
		close(p[0]);
		return -1;
	}
	if (read(p[0], &c, 1) == 1) {
		close(p[0]);
		return 1;
	}
	close(p[0]);
	if (waitpid(pid, status, 0) == pid)
		kids[--nr_kids] = 0;
	return 0;
}

static bool events_say(const char *rel, const char *key, long long want)
{
	for (int i = 0; i < 200; i++) {
		if (key_of(at(rel, "cgroup.events"), key) == want)
			return true;
		nap_ms(50);
	}
	return false;
}

static bool mount_has(const char *file, const char *ctl)
{
	char buf[512], *p;
	size_t n = strlen(ctl);

	if (get(file, buf, sizeof(buf)))
		return false;
	for (p = buf; (p = strstr(p, ctl)); p += n)
		if ((p == buf || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || !p[n]))
			return true;
	return false;
}

/* What the setup got, for test_workloads. */
static struct {
	bool burn, hold, frozen, oom_killed, read_done;
	long long oom_kills, high_events;
} got;

static void setup(void)
{
	char mnt[4096];
	const char *name = getenv("CGW_TEST_CGROUP");
	const char *dev = getenv("CGW_TEST_BLOCKDEV");
	bool has_limits = false;
	cpu_set_t mask;
	int st = 0;

	if (geteuid() != 0) {
		snprintf(setup_skip, sizeof(setup_skip), "needs root (makes real cgroups)");
		return;
	}
	if (cgfs_find_cgroup2("/proc/self/mountinfo", mnt, sizeof(mnt))) {
		snprintf(setup_skip, sizeof(setup_skip), "no cgroup2 mount");
		return;
	}
	if ((name ? snprintf(base, sizeof(base), "%s/%s", mnt, name)
		  : snprintf(base, sizeof(base), "%s/cgwarden-test-iter-%d", mnt, (int)getpid())) >=
	    (int)sizeof(base) - 64) {
		snprintf(setup_skip, sizeof(setup_skip), "the cgroup2 mount's path is too long");
		return;
	}
	if (mkdir(base, 0755)) {
		snprintf(setup_skip, sizeof(setup_skip), "cannot create %.200s: %s", base,
			 strerror(errno));
		return;
	}
	snprintf(dirs[nr_dirs++], sizeof(dirs[0]), "%s", base);
	snprintf(kill_path, sizeof(kill_path), "%s/cgroup.kill", base);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, on_signal);
	setup_usec = now_usec();

	/* The controllers the mount's root gives its children are ours. */
	snprintf(mnt + strlen(mnt), sizeof(mnt) - strlen(mnt), "/cgroup.subtree_control");
	ctl_cpu = mount_has(mnt, "cpu");
	ctl_memory = mount_has(mnt, "memory");
	ctl_io = mount_has(mnt, "io");
	ctl_pids = mount_has(mnt, "pids");
	delegate("");

	mk("busy");
	mk("mem");
	mk("idle");
	if (mk("frozen")) {
		delegate("frozen");
		mk("frozen/inner");
	}
	if (mk("nest")) {
		delegate("nest");
		if (mk("nest/a")) {
			delegate("nest/a");
			mk("nest/a/b");
		}
	}
	if (ctl_cpu)
		set("busy", "cpu.max", "50000 100000");	/* throttling counters move */
	if (ctl_cpu || ctl_memory || ctl_pids) {
		has_limits = mk("limits");
		if (ctl_cpu)
			set("limits", "cpu.weight", "50");
		if (ctl_memory) {
			set("limits", "memory.max", "268435456");
			set("limits", "memory.high", "134217728");
			set("limits", "memory.low", "16777216");
			set("limits", "memory.min", "8388608");
			if (access(at("limits", "memory.swap.max"), F_OK) == 0)
				set("limits", "memory.swap.max", "0");
		}
		if (ctl_pids)
			set("limits", "pids.max", "64");
	}

	if (sched_getaffinity(0, sizeof(mask), &mask) == 0)
		for (int i = 0; i < CPU_SETSIZE && burn_cpu < 0; i++)
			if (CPU_ISSET(i, &mask))
				burn_cpu = i;
	got.burn = spawn("busy", W_BURN, 0, NULL, &st) == 1 &&
		   spawn("busy", W_BURN, 0, NULL, &st) == 1;
	got.hold = spawn("mem", W_HOLD, 64 * MIB, NULL, &st) == 1;
	if (spawn("frozen/inner", W_SLEEP, 0, NULL, &st) == 1 &&
	    put(at("frozen", "cgroup.freeze"), "1") == 0)
		got.frozen = events_say("frozen", "frozen", 1) &&
			     events_say("frozen/inner", "frozen", 1);
	if (spawn("nest/a/b", W_SLEEP, 0, NULL, &st) != 1)
		note("no sleeper in %s; ", "nest/a/b");
	if (has_limits && spawn("limits", W_SLEEP, 0, NULL, &st) != 1)
		note("no sleeper in %s; ", "limits");

	/* memory.events: an OOM kill under a small memory.max. */
	if (ctl_memory && mk("oom")) {
		set("oom", "memory.max", "16777216");
		if (access(at("oom", "memory.swap.max"), F_OK) == 0)
			set("oom", "memory.swap.max", "0");
		got.oom_killed = spawn("oom", W_OOM, 64 * MIB, NULL, &st) == 0 &&
				 WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
		got.oom_kills = key_of(at("oom", "memory.events"), "oom_kill");
	}
	/* memory.events high: page cache over memory.high is reclaimed (no
	 * swap needed, so no throttling of the reader to speak of). */
	if (ctl_memory && dev && *dev && mk("high")) {
		set("high", "memory.high", "8388608");
		got.read_done = spawn("high", W_READ, 64 * MIB, dev, &st) == 1;
		got.high_events = key_of(at("high", "memory.events"), "high");
	}
	/* Let the forks' first faults and the per-CPU charge caches settle,
	 * and the burners' cgroup see a PSI update (every 2 s) or two, so its
	 * averages are not 0 when compared. */
	nap_ms(2500);
}

/* ---- the comparison ----------------------------------------------------- */

enum rule {
	R_PRESENCE,	/* objects, device maps, histograms, eBPF rows */
	R_EXACT,	/* = C when the files did not move across A, else in [B, C] */
	R_SANDWICH,	/* B <= A <= C */
	R_SPLIT,	/* cpu.stat user/system: their sum is held, each is shown */
	R_PSI_TOTAL,	/* A <= C <= A + one period + the time between */
	R_PSI_AVG,	/* |C - A| <= what the updates since the last read can move */
	R_RATE,		/* within what the counters' windows allow */
	R_REPORT,	/* shown, not held (memory.stat: files both, moves by itself) */
};

static const char *const rule_names[] = {
	[R_PRESENCE] = "presence", [R_EXACT] = "exact", [R_SANDWICH] = "B<=A<=C",
	[R_SPLIT] = "sum held", [R_PSI_TOTAL] = "C-A<=2s+dt", [R_PSI_AVG] = "1-e^(-2k/w)",
	[R_RATE] = "windows", [R_REPORT] = "shown",
};

enum group { G_TREE, G_CPU, G_MEMORY, G_IO, G_PIDS, G_PSI, G_STATE, G_RATES, G_ROOT, G__COUNT };

struct group_stat {
	unsigned compared, bad;
	char msgs[6][200];
};

static struct group_stat groups[G__COUNT];

struct row_stat {
	unsigned both, from_iter, moved, bad;
	double max_ab, max_ca, max_tol;
	double max_c;			/* the largest value the files gave */
	bool finite, unlimited;		/* max_c is known; some value was "max" */
	bool ab_known;
};

static struct row_stat tree_rows[M__COUNT], root_rows[M__COUNT];
static struct row_stat *rows = tree_rows;	/* root_rows in run_root_round */
static bool root_mode;			/* comparing the real root (run_root_round) */
static bool root_seen;
static unsigned host_cgroups;		/* other host cgroups, presence only */
static uint64_t root_usec;
static struct row_stat split_sum, root_split;	/* cpu user_usec + system_usec */
static bool ran;			/* the rounds ran: the tests have results */
static bool iter_loaded;
static char iter_why[512];		/* what A said on stderr */
static uint32_t iter_missing, iter_files_only, iter_extra;
static unsigned iter_samples;

static void complain(enum group g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void complain(enum group g, const char *fmt, ...)
{
	va_list ap;

	if (groups[g].bad < 6) {
		va_start(ap, fmt);
		vsnprintf(groups[g].msgs[groups[g].bad], sizeof(groups[g].msgs[0]), fmt, ap);
		va_end(ap);
	}
	groups[g].bad++;
}

static enum group group_of(enum metric_id id)
{
	if (root_mode)
		return G_ROOT;
	if (metric_defs[id].kind == MK_RATE)
		return G_RATES;
	if (metric_under(id, M_CPU))
		return G_CPU;
	if (metric_under(id, M_MEMORY))
		return G_MEMORY;
	if (metric_under(id, M_IO))
		return G_IO;
	if (metric_under(id, M_PIDS))
		return G_PIDS;
	if (metric_under(id, M_PSI))
		return G_PSI;
	if (id >= M_PROCS && id <= M_FROZEN)
		return G_STATE;
	return G_TREE;
}

static enum rule rule_of(enum metric_id id)
{
	const struct metric_def *m = &metric_defs[id];

	if (m->bpf || m->kind == MK_OBJECT || m->kind == MK_DEVICES || m->kind == MK_HIST)
		return R_PRESENCE;
	if (metric_under(id, M_MEMSTAT) || id == M_MEM_WORKING_SET)
		return R_REPORT;
	if (id == M_CPU_USER_USEC || id == M_CPU_SYSTEM_USEC)
		return R_SPLIT;
	if (m->kind == MK_PSI_AVG)
		return R_PSI_AVG;
	if (metric_under(id, M_PSI) && m->kind == MK_COUNTER)
		return R_PSI_TOTAL;
	if (m->kind == MK_RATE)
		return R_RATE;
	if (metric_under(id, M_CPU) && m->kind == MK_COUNTER)
		return R_SANDWICH;
	if (root_mode && m->kind != MK_BOOL)
		return R_REPORT;
	return R_EXACT;
}

/* The rate rows held, and the counter each is the rate of. */
static int rate_counter(enum metric_id id)
{
	switch (id) {
	case M_CPU_USAGE_RATIO: return M_CPU_USAGE_USEC;
	case M_MEM_OOM_KILL_RATE: return M_MEMEVENT_OOM_KILL;
	case M_MEM_HIGH_RATE: return M_MEMEVENT_HIGH;
	case M_MEM_MAX_RATE: return M_MEMEVENT_MAX;
	default: return -1;
	}
}

/* C - B of a counter in the previous round, per cgroup: the window a
 * rate's older end may lie in. */
static struct {
	uint64_t id;
	double slack[M__COUNT];
	bool known[M__COUNT];
} prevw[MAX_CG + 1];
static int nr_prevw;

static int prevw_slot(uint64_t id, bool make)
{
	for (int i = 0; i < nr_prevw; i++)
		if (prevw[i].id == id)
			return i;
	if (!make || nr_prevw > MAX_CG)
		return -1;
	memset(&prevw[nr_prevw], 0, sizeof(prevw[0]));
	prevw[nr_prevw].id = id;
	return nr_prevw++;
}

static void seen(struct row_stat *r, double c, double ab, bool ab_known, double ca, double tol)
{
	/* CG_UNLIMITED ("max") is not a largest value worth showing. */
	if (c >= 18446744073709551615.0)
		r->unlimited = true;
	else if (c > r->max_c || !r->finite) {
		r->max_c = c;
		r->finite = true;
	}
	if (ab_known) {
		r->ab_known = true;
		if (dabs(ab) > r->max_ab)
			r->max_ab = dabs(ab);
	}
	if (dabs(ca) > r->max_ca)
		r->max_ca = dabs(ca);
	if (tol > r->max_tol)
		r->max_tol = tol;
}

/* What k PSI updates can move an average, in hundredths of a percent
 * (the kernel's two decimals): one update keeps e of it and takes 1 - e
 * of the new sample, e the kernel's EXP_10s/60s/300s over FIXED_1 (2048);
 * plus 2 for the fixed point's rounding. No libm: the tests link without. */
static double psi_move(uint64_t k, unsigned e2048)
{
	double keep = 1.0;

	for (uint64_t i = 0; i < k && keep > 1e-9; i++)
		keep *= e2048 / 2048.0;
	return (double)(uint64_t)(10000.0 * (1.0 - keep)) + 2.0;
}


struct round_ctx {
	const struct cg_snapshot *a, *b, *c;
	uint64_t a_start, c_end;	/* CLOCK_MONOTONIC around A and C */
	uint64_t span, prev_span;	/* c_end - a_start, this round and the last */
	uint64_t last_psi_read;		/* the previous read of the pressure files */
	int round;
};

static void compare_value(const struct round_ctx *x, const struct cg_sample *sa,
			  const struct cg_sample *sb, const struct cg_sample *sc,
			  enum metric_id id)
{
	const struct metric_def *m = &metric_defs[id];
	struct row_stat *r = &rows[id];
	enum group g = group_of(id);
	enum rule rl = rule_of(id);
	struct metric_val va, vb = { 0 }, vc;
	bool hb = sb && metric_get(sb, id, &vb);
	double ca, ab, tol = 0;
	int slot;

	if (!metric_get(sa, id, &va) || !metric_get(sc, id, &vc))
		return;
	ca = m->kind == MK_RATE ? vc.d - va.d : (double)vc.u - (double)va.u;
	ab = m->kind == MK_RATE ? va.d - vb.d : (double)va.u - (double)vb.u;
	if (hb && vb.u != vc.u)
		r->moved++;
	groups[g].compared++;

	switch (rl) {
	case R_EXACT:
		if (hb && vb.u != vc.u ? !((va.u >= vb.u && va.u <= vc.u) ||
					   (va.u <= vb.u && va.u >= vc.u))
				       : va.u != vc.u) {
			r->bad++;
			complain(g, "%s %s: iter %" PRIu64 ", files %" PRIu64 " then %" PRIu64,
				 sc->path[0] ? sc->path : "(root)", m->id, va.u,
				 hb ? vb.u : vc.u, vc.u);
		}
		break;
	case R_SANDWICH:
		if ((hb && va.u < vb.u) || va.u > vc.u) {
			r->bad++;
			complain(g, "%s %s: iter %" PRIu64 " not within files %" PRIu64 "..%" PRIu64,
				 sc->path[0] ? sc->path : "(root)", m->id, va.u, vb.u, vc.u);
		}
		break;
	case R_PSI_TOTAL:
		/* The avgs worker aggregates once a period (2 s), a jiffy late
		 * and then as late as its workqueue runs it. */
		tol = (double)(PSI_PERIOD_USEC + PSI_SLACK_USEC) + (double)(x->c_end - x->a_start);
		if (va.u > vc.u || (double)(vc.u - va.u) > tol) {
			r->bad++;
			complain(g, "%s %s: iter %" PRIu64 ", files %" PRIu64 " (tolerance %.0f)",
				 sc->path[0] ? sc->path : "(root)", m->id, va.u, vc.u, tol);
		}
		break;
	case R_PSI_AVG: {
		const char *leaf = metric_leaf(m);
		unsigned e = strcmp(leaf, "avg10") == 0 ? 1677 : strcmp(leaf, "avg60") == 0 ? 1981 : 2034;
		uint64_t k = (x->c_end - x->last_psi_read) / PSI_PERIOD_USEC + 2;

		tol = psi_move(k, e);
		if (dabs(ca) > tol) {
			r->bad++;
			complain(g, "%s %s: iter %" PRIu64 ", files %" PRIu64 " (tolerance %.0f)",
				 sc->path[0] ? sc->path : "(root)", m->id, va.u, vc.u, tol);
		}
		break;
	}
	case R_RATE: {
		int cnt = rate_counter(id);
		uint64_t ia = x->a->interval_usec, ic = x->c->interval_usec;
		struct metric_val nb, nc;
		double win, dt;

		if (cnt < 0 || !ia || !ic)
			break;
		slot = prevw_slot(sc->id, false);
		if (slot < 0 || !prevw[slot].known[cnt] || !sb || !metric_get(sb, cnt, &nb) ||
		    !metric_get(sc, cnt, &nc))
			break;
		/* A's ends lie in [B, C] of each round: its delta differs from
		 * C's by at most the wider window. Each cgroup's rate is over
		 * the time between its own two reads, and A read each cgroup
		 * at most one round's span (a_start to c_end) before C. */
		win = dmax((double)x->span, (double)x->prev_span);
		dt = (double)(ia < ic ? ia : ic) - win;
		if (dt <= 0)
			break;
		tol = dmax(prevw[slot].slack[cnt], (double)(nc.u - nb.u)) / dt *
			      (cnt == M_CPU_USAGE_USEC ? 1.0 : 1e6) +
		      dabs(vc.d) * win / dt + 1e-9;
		if (dabs(ca) > tol) {
			r->bad++;
			complain(g, "%s %s: iter %g, files %g (tolerance %g)",
				 sc->path[0] ? sc->path : "(root)", m->id, va.d, vc.d, tol);
		}
		break;
	}
	default:
		break;
	}
	seen(r, m->kind == MK_RATE ? vc.d : (double)vc.u, ab, hb, ca, tol);
}

/* io.devices: the same devices, each key as R_EXACT. */
static void compare_devices(const struct cg_sample *sa, const struct cg_sample *sb,
			    const struct cg_sample *sc)
{
	if (sa->nr_io != sc->nr_io) {
		complain(G_IO, "%s: iter %u devices, files %u", sc->path, sa->nr_io, sc->nr_io);
		return;
	}
	for (uint32_t i = 0; i < sc->nr_io; i++) {
		const struct cg_io_dev *dc = &sc->io[i], *da = NULL, *db = NULL;

		for (uint32_t j = 0; j < sa->nr_io; j++)
			if (sa->io[j].major == dc->major && sa->io[j].minor == dc->minor)
				da = &sa->io[j];
		for (uint32_t j = 0; sb && j < sb->nr_io; j++)
			if (sb->io[j].major == dc->major && sb->io[j].minor == dc->minor)
				db = &sb->io[j];
		if (!da) {
			complain(G_IO, "%s: device %u:%u only in the files", sc->path, dc->major,
				 dc->minor);
			continue;
		}
		for (int id = M_IO_DEV_MAJOR; id < M_IO_READ_BYTES_RATE; id++) {
			struct metric_val va, vb, vc;
			bool pa = metric_read_dev(da, id, &va), pc = metric_read_dev(dc, id, &vc);
			bool pb = db && metric_read_dev(db, id, &vb);

			if (pa != pc) {
				rows[id].bad++;
				complain(G_IO, "%s %u:%u %s present in %s only", sc->path, dc->major,
					 dc->minor, metric_defs[id].id, pa ? "iter" : "files");
				continue;
			}
			if (!pa)
				continue;
			rows[id].both++;
			groups[G_IO].compared++;
			if (pb && vb.u != vc.u)
				rows[id].moved++;
			if (pb && vb.u != vc.u ? !(va.u >= vb.u && va.u <= vc.u) : va.u != vc.u) {
				rows[id].bad++;
				complain(G_IO, "%s %u:%u %s: iter %" PRIu64 ", files %" PRIu64,
					 sc->path, dc->major, dc->minor, metric_defs[id].id, va.u, vc.u);
			}
			seen(&rows[id], (double)vc.u, (double)va.u - (double)(pb ? vb.u : 0), pb,
			     (double)vc.u - (double)va.u, 0);
		}
	}
}

static void compare_split(const struct cg_sample *sa, const struct cg_sample *sb,
			  const struct cg_sample *sc)
{
	const uint32_t both = (1u << CG_CPU_USER_USEC) | (1u << CG_CPU_SYSTEM_USEC);
	struct row_stat *ss = root_mode ? &root_split : &split_sum;
	enum group g = root_mode ? G_ROOT : G_CPU;
	uint64_t a, b, c;

	if ((sa->cpu_have & both) != both || (sc->cpu_have & both) != both ||
	    !(sa->have & sc->have & CG_HAVE_CPU_STAT))
		return;
	a = sa->cpu[CG_CPU_USER_USEC] + sa->cpu[CG_CPU_SYSTEM_USEC];
	c = sc->cpu[CG_CPU_USER_USEC] + sc->cpu[CG_CPU_SYSTEM_USEC];
	b = sb && (sb->cpu_have & both) == both ?
		sb->cpu[CG_CPU_USER_USEC] + sb->cpu[CG_CPU_SYSTEM_USEC] : a;
	ss->both++;
	groups[g].compared++;
	/* Each half is truncated to usec on its own: the sum may lose 1. */
	if (a + 1 < b || a > c + 1) {
		ss->bad++;
		complain(g, "%s user+system: iter %" PRIu64 " not within files %" PRIu64
			 "..%" PRIu64, sc->path[0] ? sc->path : "(root)", a, b, c);
	}
	seen(ss, (double)c, (double)a - (double)b, sb != NULL, (double)c - (double)a, 1);
}

/* The files the iterator must fill where it loaded and the cgroup has
 * them: all it reads (bpf/cgw_iter.h) but swap, which it may leave. */
#define ITER_MUST (CG_HAVE_CPU_STAT | CG_HAVE_CPU_MAX | CG_HAVE_CPU_WEIGHT | \
	CG_HAVE_MEM_CURRENT | CG_HAVE_MEM_PEAK | CG_HAVE_MEM_MAX | CG_HAVE_MEM_HIGH | \
	CG_HAVE_MEM_LOW | CG_HAVE_MEM_MIN | CG_HAVE_MEM_EVENTS | CG_HAVE_PIDS_CURRENT | \
	CG_HAVE_PIDS_MAX | CG_HAVE_PSI_CPU | CG_HAVE_PSI_MEMORY | CG_HAVE_PSI_IO | CG_HAVE_EVENTS)

/* Every row of one cgroup: presence both ways, then (values) its rule. */
static void compare_sample(const struct round_ctx *x, const struct cg_sample *sa,
			   const struct cg_sample *sb, const struct cg_sample *sc, bool values)
{
	enum group gp = root_mode ? G_ROOT : G_TREE;

	for (int id = 0; id < M__COUNT; id++) {
		bool pa, pc;

		if (metric_defs[id].kind == MK_DEV_KEY)
			continue;
		pa = metric_present(sa, id);
		pc = metric_present(sc, id);
		if (pa != pc) {
			rows[id].bad++;
			complain(gp, "%s %s present in %s only", sc->path[0] ? sc->path : "(root)",
				 metric_defs[id].id, pa ? "iter" : "files");
			continue;
		}
		if (!pa || !values)
			continue;
		rows[id].both++;
		if (metric_defs[id].files && !(metric_defs[id].files & ~sa->iter_have))
			rows[id].from_iter++;
		if (metric_defs[id].kind == MK_DEVICES)
			compare_devices(sa, sb, sc);
		else if (rule_of(id) != R_PRESENCE)
			compare_value(x, sa, sb, sc, id);
	}
	if (values)
		compare_split(sa, sb, sc);
}

static void compare_round(struct round_ctx *x)
{
	const struct cg_snapshot *a = x->a, *b = x->b, *c = x->c;

	if (a->nr_samples != c->nr_samples)
		complain(G_TREE, "round %d: iter %zu cgroups, files %zu", x->round,
			 a->nr_samples, c->nr_samples);
	groups[G_TREE].compared++;
	for (size_t i = 0; i < a->nr_samples; i++)
		if (!snapshot_find_id(c, a->samples[i].id))
			complain(G_TREE, "%s only in the iterator's snapshot", a->samples[i].path);
	for (size_t i = 0; i < c->nr_samples; i++) {
		const struct cg_sample *sc = &c->samples[i];
		const struct cg_sample *sa = snapshot_find_id(a, sc->id);
		const struct cg_sample *sb = snapshot_find_id(b, sc->id);
		int slot;

		if (!sa) {
			complain(G_TREE, "%s only in the files' snapshot", sc->path);
			continue;
		}
		if (strcmp(sa->path, sc->path) || sa->parent_id != sc->parent_id ||
		    sa->depth != sc->depth)
			complain(G_TREE, "%s: iter says %s, depth %u", sc->path, sa->path, sa->depth);
		if (sa->iter_have) {
			iter_loaded = true;
			iter_samples++;
			iter_missing |= sa->have & ITER_MUST & ~sa->iter_have;
			iter_files_only |= sa->have & ~sa->iter_have;
			iter_extra |= sa->iter_have & ~sa->have;
		}
		compare_sample(x, sa, sb, sc, true);

		slot = prevw_slot(sc->id, true);
		for (int id = 0; slot >= 0 && id < M__COUNT; id++) {
			struct metric_val nb, nc;

			prevw[slot].known[id] = sb && metric_get(sb, id, &nb) && metric_get(sc, id, &nc) &&
						metric_defs[id].vtype == MV_U64;
			if (prevw[slot].known[id])
				prevw[slot].slack[id] = (double)(nc.u - nb.u);
		}
	}
}

/*
 * The real root and the whole host tree, one round: the root's files are
 * not a cgroup's like the others (cpu.stat from every CPU's kcpustat, the
 * system's PSI, no cgroup.events or limits), so a source that reads the
 * root like any cgroup shows it here. Counters, PSI and presence are held;
 * the root's gauges move with the whole host and are only shown. Every
 * other cgroup of the host: presence both ways (those in both walks).
 */
static void run_root_round(void)
{
	char mnt[4096];
	/* Three collectors in one process: each would size its budget of
	 * kept fds from RLIMIT_NOFILE alone, and on a host of 10,000 cgroups
	 * the first would take what the others need. */
	struct collector_opts oa = { .root = mnt, .iter = true, .quiet = true, .fd_budget = 256 };
	struct collector_opts ob = { .root = mnt, .quiet = true, .fd_budget = 256 };
	struct collector *ca = NULL, *cb = NULL, *cc = NULL;
	struct cg_want no_psi = CG_WANT_ALL;
	struct round_ctx x = { .round = 1 };
	uint64_t t0 = now_usec();

	no_psi.files &= ~(CGF_BIT(CGF_CPU_PRESSURE) | CGF_BIT(CGF_MEM_PRESSURE) |
			  CGF_BIT(CGF_IO_PRESSURE));
	no_psi.bpf = 0;
	if (cgfs_find_cgroup2("/proc/self/mountinfo", mnt, sizeof(mnt)) ||
	    collector_new(&oa, &ca) || collector_new(&ob, &cb) || collector_new(&ob, &cc)) {
		complain(G_ROOT, "cannot open collectors on the cgroup2 mount");
		goto out;
	}
	collector_want(cb, &no_psi);
	if (collector_tick(cb, &x.b))
		goto fail;
	x.a_start = x.last_psi_read = now_usec();
	if (collector_tick(ca, &x.a) || collector_tick(cc, &x.c))
		goto fail;
	x.c_end = now_usec();
	x.span = x.c_end - x.a_start;
	root_mode = true;
	rows = root_rows;
	for (size_t i = 0; i < x.c->nr_samples; i++) {
		const struct cg_sample *sc = &x.c->samples[i];
		const struct cg_sample *sa = snapshot_find_id(x.a, sc->id);

		if (!sa)
			continue;	/* made or removed by others between the walks */
		if (sc->parent < 0) {
			root_seen = true;
			compare_sample(&x, sa, snapshot_find_id(x.b, sc->id), sc, true);
		} else {
			host_cgroups++;
			compare_sample(&x, sa, NULL, sc, false);
		}
	}
	root_mode = false;
	rows = tree_rows;
	groups[G_ROOT].compared++;
	root_usec = now_usec() - t0;
	goto out;
fail:
	complain(G_ROOT, "collector_tick on %s failed", mnt);
out:
	collector_free(ca);
	collector_free(cb);
	collector_free(cc);
}

/* A's notices (why the iterator did not load) go to a file, not the log. */
static FILE *cap;
static int saved_err = -1;

static void capture(bool on)
{
	fflush(stderr);
	if (on) {
		cap = cap ? cap : tmpfile();
		saved_err = cap ? dup(STDERR_FILENO) : -1;
		if (saved_err >= 0)
			dup2(fileno(cap), STDERR_FILENO);
	} else if (saved_err >= 0) {
		dup2(saved_err, STDERR_FILENO);
		close(saved_err);
		saved_err = -1;
	}
}

static void run_rounds(void)
{
	struct collector_opts oa = { .root = base, .iter = true };
	struct collector_opts ob = { .root = base, .quiet = true };
	struct collector *ca = NULL, *cb = NULL, *cc = NULL;
	struct cg_want no_psi = CG_WANT_ALL;
	struct round_ctx x = { .last_psi_read = setup_usec };
	int err = 0;

	no_psi.files &= ~(CGF_BIT(CGF_CPU_PRESSURE) | CGF_BIT(CGF_MEM_PRESSURE) |
			  CGF_BIT(CGF_IO_PRESSURE));
	no_psi.bpf = 0;
	capture(true);
	err = collector_new(&oa, &ca);
	capture(false);
	if (err || collector_new(&ob, &cb) || collector_new(&ob, &cc)) {
		snprintf(setup_skip, sizeof(setup_skip), "collector_new on %.200s: %s", base,
			 strerror(-err));
		goto out;
	}
	collector_want(cb, &no_psi);
	for (x.round = 1; x.round <= ROUNDS; x.round++) {
		if (x.round > 1)
			nap_ms(ROUND_GAP_MS);
		if (collector_tick(cb, &x.b))
			goto fail;
		x.a_start = now_usec();
		capture(true);
		err = collector_tick(ca, &x.a);
		capture(false);
		if (err || collector_tick(cc, &x.c))
			goto fail;
		x.c_end = now_usec();
		x.prev_span = x.span;
		x.span = x.c_end - x.a_start;
		compare_round(&x);
		x.last_psi_read = x.c_end;
	}
	ran = true;
	goto out;
fail:
	snprintf(setup_skip, sizeof(setup_skip), "collector_tick failed");
out:
	if (cap) {
		size_t n;

		rewind(cap);
		n = fread(iter_why, 1, sizeof(iter_why) - 1, cap);
		iter_why[n] = '\0';
		while (n && iter_why[n - 1] == '\n')
			iter_why[--n] = '\0';
		fclose(cap);
	}
	collector_free(ca);
	collector_free(cb);
	collector_free(cc);
}

/* ---- the table ---------------------------------------------------------- */

static void fmt_num(char *out, size_t len, const struct metric_def *m, double v, bool known)
{
	if (!known)
		snprintf(out, len, "-");
	else if (m && m->kind == MK_RATE)
		snprintf(out, len, "%.4g", v);
	else
		snprintf(out, len, "%.0f", v);
}

static void print_row(const char *name, const struct metric_def *m, const struct row_stat *r,
		      const char *rule)
{
	char ab[32], ca[32], tol[32], c[32];

	if (r->finite)
		fmt_num(c, sizeof(c), m, r->max_c, true);
	else
		snprintf(c, sizeof(c), r->unlimited ? "max" : "-");
	fmt_num(ab, sizeof(ab), m, r->max_ab, r->ab_known);
	fmt_num(ca, sizeof(ca), m, r->max_ca, true);
	fmt_num(tol, sizeof(tol), m, r->max_tol, r->max_tol > 0);
	printf("# %-34s %4u %4u %3u %12s %10s %10s %10s  %s%s\n", name, r->both, r->from_iter,
	       r->moved, c, ab, ca, tol, rule, r->bad ? "  BAD" : "");
}

static void print_table(const struct row_stat *rows_, const struct row_stat *split)
{
	struct row_stat ms = { 0 };
	unsigned absent = 0, nms = 0;

	printf("# %-34s %4s %4s %3s %12s %10s %10s %10s  %s\n", "metric (unit as JSON)", "n",
	       "iter", "mov", "max value", "max|A-B|", "max|C-A|", "tolerance", "rule");
	for (int id = 0; id < M__COUNT; id++) {
		const struct metric_def *m = &metric_defs[id];
		const struct row_stat *r = &rows_[id];

		if (m->kind == MK_OBJECT || m->kind == MK_DEVICES)
			continue;
		if (!r->both && !r->bad) {
			absent++;
			continue;
		}
		if (metric_under(id, M_MEMSTAT)) {
			ms.both += r->both;
			ms.from_iter += r->from_iter;
			ms.moved += r->moved;
			ms.bad += r->bad;
			ms.ab_known |= r->ab_known;
			ms.max_ab = dmax(ms.max_ab, r->max_ab);
			ms.max_ca = dmax(ms.max_ca, r->max_ca);
			ms.max_c = dmax(ms.max_c, r->max_c);
			ms.finite |= r->finite;
			nms++;
			continue;
		}
		print_row(m->id, m, r, rule_names[rule_of(id)]);
		if (id == M_CPU_SYSTEM_USEC)
			print_row("cpu.user_usec+system_usec", NULL, split, "B-1<=A<=C+1");
	}
	if (nms) {
		char name[64];

		snprintf(name, sizeof(name), "memory.stat.* (%u keys)", nms);
		print_row(name, NULL, &ms, rule_names[R_REPORT]);
	}
	printf("# n: cgroup-rounds present in both; iter: of them from the iterator; mov: the\n"
	       "# files moved between B and C; max value: the files' (C); A iterator, B files\n"
	       "# before A (no *.pressure), C files after; %u value rows absent everywhere\n", absent);
}

/* ---- tests -------------------------------------------------------------- */

#define NEED_RUN()                                                              \
	do {                                                                    \
		if (setup_skip[0])                                              \
			TEST_SKIP("%s", setup_skip);                            \
		if (!ran)                                                       \
			TEST_SKIP("the rounds did not run");                    \
	} while (0)

static void report_group(enum group g, const char *none)
{
	NEED_RUN();
	for (unsigned i = 0; i < groups[g].bad && i < 6; i++)
		printf("  %s\n", groups[g].msgs[i]);
	if (groups[g].bad > 6)
		printf("  ... and %u more\n", groups[g].bad - 6);
	test_cur_failed += (int)groups[g].bad;
	if (!groups[g].bad && !groups[g].compared)
		TEST_SKIP("%s", none);
}

static void test_workloads(void)
{
	if (setup_skip[0])
		TEST_SKIP("%s", setup_skip);
	if (notes[0])
		printf("  # setup: %s\n", notes);
	printf("  # controllers:%s%s%s%s; oom_kill %lld, high %lld\n", ctl_cpu ? " cpu" : "",
	       ctl_memory ? " memory" : "", ctl_io ? " io" : "", ctl_pids ? " pids" : "",
	       got.oom_kills, got.high_events);
	CHECK(got.burn);
	CHECK(got.frozen);
	if (ctl_memory) {
		CHECK(got.hold);
		CHECK(got.oom_killed);
		CHECK(got.oom_kills >= 1);
		if (getenv("CGW_TEST_BLOCKDEV")) {
			CHECK(got.read_done);
			CHECK(got.high_events >= 1);
		}
	}
}

static void test_same_tree_and_presence(void)
{
	report_group(G_TREE, "nothing compared");
}

static void test_equal_cpu(void)
{
	report_group(G_CPU, "no cpu.stat here");
}

static void test_equal_memory(void)
{
	report_group(G_MEMORY, "no memory controller in this tree");
}

static void test_equal_io(void)
{
	report_group(G_IO, "no io controller in this tree");
}

static void test_equal_pids(void)
{
	report_group(G_PIDS, "no pids controller in this tree");
}

static void test_equal_psi(void)
{
	report_group(G_PSI, "no pressure files here");
}

static void test_equal_state(void)
{
	report_group(G_STATE, "no cgroup.events here");
}

static void test_equal_rates(void)
{
	report_group(G_RATES, "no rates");
}

static void test_real_root(void)
{
	report_group(G_ROOT, "nothing compared");
	if (!test_skip_reason[0] && !test_cur_failed)
		CHECK(root_seen);
}

static bool kernel_has_iter(void)
{
	struct utsname u;
	int maj = 0, min = 0;

	return uname(&u) == 0 && sscanf(u.release, "%d.%d", &maj, &min) == 2 &&
	       (maj > 6 || (maj == 6 && min >= 1));
}

static void print_bits(const char *what, uint32_t bits)
{
	printf("  # %s:", what);
	for (int f = 0; f < CGF__COUNT; f++)
		if (bits & (1u << f))
			printf(" %s", cg_files[f].name);
	printf("%s\n", bits ? "" : " none");
}

/* Where the iterator can load (root, BTF, 6.1+), it did, and filled what
 * it must: at least cpu.stat, the pressure files and cgroup.events on a
 * hybrid host, and memory, pids, cpu.max and cpu.weight with controllers. */
static void test_iter_filled(void)
{
	NEED_RUN();
	if (iter_why[0])
		printf("  # A said: %s\n", iter_why);
	/* A notice from A is the iterator source saying it fell back. */
	if (!iter_loaded && !ITER_BUILT && !strstr(iter_why, "iterator"))
		TEST_SKIP("this build has no iterator source (src/src_iter.h): A read the files");
	if (!iter_loaded) {
		if (access("/sys/kernel/btf/vmlinux", R_OK) == 0 && kernel_has_iter()) {
			printf("  the iterator did not load as root on a 6.1+ kernel with BTF\n");
			CHECK(iter_loaded);
			return;
		}
		TEST_SKIP("the iterator did not load here (no BTF or a kernel before 6.1): %.150s",
			  iter_why[0] ? iter_why : "no reason given");
	}
	print_bits("from the files in some cgroup", iter_files_only);
	if (iter_missing)
		print_bits("MISSING from the iterator", iter_missing);
	if (iter_extra)
		print_bits("iter_have bits without their have bit", iter_extra);
	CHECK_U64(iter_missing, 0);
	CHECK_U64(iter_extra, 0);
	CHECK(iter_samples > 0);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	setup();
	if (!setup_skip[0])
		run_rounds();
	if (!setup_skip[0])
		run_root_round();
	RUN(test_workloads);
	RUN(test_same_tree_and_presence);
	RUN(test_equal_cpu);
	RUN(test_equal_memory);
	RUN(test_equal_io);
	RUN(test_equal_pids);
	RUN(test_equal_psi);
	RUN(test_equal_state);
	RUN(test_equal_rates);
	RUN(test_real_root);
	RUN(test_iter_filled);
	if (ran) {
		printf("# iterator %s; %d rounds; tree %s\n",
		       !ITER_BUILT ? "not built (A read files)" :
		       iter_loaded ? "loaded" : "did not load (A read files)", ROUNDS, base);
		print_table(tree_rows, &split_sum);
	}
	if (root_seen) {
		printf("# the real root, one round (%u other host cgroups: presence; %.1f s)\n",
		       host_cgroups, (double)root_usec / 1e6);
		root_mode = true;	/* its rules */
		print_table(root_rows, &root_split);
		root_mode = false;
	}
	teardown();
	TEST_EXIT();
}
