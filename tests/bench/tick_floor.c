/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The floor of a command's tick: keep every one of the files the command
 * reads open and pread each once per tick, single-threaded, at the
 * command's interval (so caches are as cold between ticks as they are
 * for the command), and report the process CPU per tick. run.sh divides
 * a real command's CPU per tick by this. Never pass/fail.
 *   tick_floor [-n TICKS] [-w WARM] [-i MS] [-p] [-H] DIR NAME...
 * NAME is a file read in every cgroup under DIR (itself included) that has
 * it; @collector stands for every name of collector_file_names(). -p adds
 * cgroup.stat of each cgroup with COLLECTOR_STAT_MIN_CHILDREN children or
 * more (the walk reads it every tick), -H the host files the collector reads (/proc/meminfo, PSI).
 * Prints one line of key=value pairs: the files, and the CPU per tick as
 * the mean and the median of the ticks after WARM.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "cgfs.h"
#include "collector.h"

struct file {
	char *dir;	/* shared by the files of one directory; NULL: name is absolute */
	const char *name;
	int fd;		/* kept, or -1: opened on each tick (fd limit short) */
};

static struct file *files;
static size_t nr_files, cap_files;
static char *cur_dir;	/* the directory add_file is adding to */
static const char **want;
static size_t nr_want;
static bool parents_stat;
static size_t nr_cgroups, nr_parents, nr_stats;

static int add_file(const char *name)
{
	if (nr_files == cap_files) {
		size_t cap = cap_files ? cap_files * 2 : 4096;
		struct file *p = realloc(files, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		files = p;
		cap_files = cap;
	}
	files[nr_files].dir = cur_dir;
	files[nr_files].name = name;
	files[nr_files].fd = -1;
	nr_files++;
	return 0;
}

static int add_if_there(const char *name)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/%s", cur_dir, name);
	return access(p, R_OK) ? 0 : add_file(name);
}

/* Every directory under DIR is a cgroup; on cgroupfs its nlink is 2 plus
 * its number of child cgroups, as the collector relies on. */
static int add_dir(const char *dir, const struct stat *st, int type, struct FTW *ftw)
{
	size_t had = nr_files;

	(void)ftw;
	if (type != FTW_D)
		return 0;
	nr_cgroups++;
	cur_dir = strdup(dir);
	if (!cur_dir)
		return -1;
	for (size_t i = 0; i < nr_want; i++)
		if (add_if_there(want[i]))
			return -1;
	if (st->st_nlink > 2) {
		nr_parents++;
		if (parents_stat && st->st_nlink - 2 >= COLLECTOR_STAT_MIN_CHILDREN) {
			if (add_if_there("cgroup.stat"))
				return -1;
			nr_stats++;
		}
	}
	if (nr_files == had)
		free(cur_dir);
	return 0;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int open_file(const struct file *f, int dfd)
{
	char p[4096];

	if (!f->dir)
		return open(f->name, O_RDONLY | O_CLOEXEC);
	if (dfd >= 0)
		return openat(dfd, f->name, O_RDONLY | O_CLOEXEC);
	snprintf(p, sizeof(p), "%s/%s", f->dir, f->name);
	return open(p, O_RDONLY | O_CLOEXEC);
}

/* Files past the fd limit are opened through their directory, opened
 * once per tick: what the collector does for a cgroup over its budget. */
static void tick(struct cgfs_buf *b, uint64_t *reads)
{
	const char *dir = NULL;
	int dfd = -1;

	for (size_t i = 0; i < nr_files; i++) {
		int fd = files[i].fd;

		if (fd < 0) {
			if (files[i].dir != dir) {
				if (dfd >= 0)
					close(dfd);
				dir = files[i].dir;
				dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
			}
			fd = open_file(&files[i], dfd);
		}
		if (fd >= 0 && cgfs_pread_all(fd, b) >= 0)
			(*reads)++;
		if (fd >= 0 && fd != files[i].fd)
			close(fd);
	}
	if (dfd >= 0)
		close(dfd);
}

static int usage(void)
{
	fprintf(stderr, "usage: tick_floor [-n TICKS] [-w WARM] [-i MS] [-p] [-H] DIR NAME...\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const char *const host_files[] = {
		"/proc/meminfo", "/proc/pressure/cpu", "/proc/pressure/memory", "/proc/pressure/io",
	};
	int ticks = 25, warm = 3, interval_ms = 200, opt;
	bool host = false;
	struct cgfs_buf b = { 0 };
	uint64_t reads = 0, next, *at;
	size_t kept = 0;
	struct rlimit rl;

	while ((opt = getopt(argc, argv, "n:w:i:pH")) != -1) {
		switch (opt) {
		case 'n': ticks = atoi(optarg); break;
		case 'w': warm = atoi(optarg); break;
		case 'i': interval_ms = atoi(optarg); break;
		case 'p': parents_stat = true; break;
		case 'H': host = true; break;
		default: return usage();
		}
	}
	if (argc - optind < 2 || ticks < 1 || warm < 0 || interval_ms < 0)
		return usage();
	for (int i = optind + 1; i < argc; i++) {
		const char *const *names;
		size_t n = 1;

		if (strcmp(argv[i], "@collector") == 0) {
			n = collector_file_names(&names);
		} else {
			names = (const char *const *)&argv[i];
		}
		want = realloc(want, (nr_want + n) * sizeof(*want));
		if (!want)
			return 1;
		memcpy(want + nr_want, names, n * sizeof(*want));
		nr_want += n;
	}
	if (nftw(argv[optind], add_dir, 64, FTW_PHYS)) {
		fprintf(stderr, "tick_floor: cannot list %s\n", argv[optind]);
		return 1;
	}
	cur_dir = NULL;
	for (size_t i = 0; host && i < sizeof(host_files) / sizeof(host_files[0]); i++)
		if (!access(host_files[i], R_OK) && add_file(host_files[i]))
			return 1;
	/* Keep what the fd limit allows (all of a 1,000-cgroup tree); the
	 * rest are opened on each tick, as the command's are past its budget,
	 * and the line says how many were kept. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (size_t i = 0; i < nr_files; i++) {
		if ((long)kept + 64 >= cgfs_fd_limit())
			break;
		files[i].fd = open_file(&files[i], -1);
		if (files[i].fd >= 0)
			kept++;
	}
	/* Each tick's CPU runs from its start to the next one's, sleep and
	 * wakeup included, as the command's does between two instants of
	 * run.sh. The median is printed beside the mean because a busy host
	 * disturbs some ticks; run.sh takes the command's median too. */
	at = calloc((size_t)ticks + 1, sizeof(*at));
	if (!at)
		return 1;
	next = clock_ns(CLOCK_MONOTONIC);
	for (int t = 0; t < warm + ticks; t++) {
		struct timespec ts;

		if (t >= warm)
			at[t - warm] = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
		if (t == warm)
			reads = 0;
		tick(&b, &reads);
		next += (uint64_t)interval_ms * 1000000u;
		ts.tv_sec = (time_t)(next / 1000000000u);
		ts.tv_nsec = (long)(next % 1000000000u);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
	at[ticks] = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	double cpu_ms = (double)(at[ticks] - at[0]) / 1e6 / ticks;

	for (int t = 0; t < ticks; t++)
		at[t] = at[t + 1] - at[t];
	qsort(at, (size_t)ticks, sizeof(*at), cmp_u64);
	printf("cgroups=%zu parents=%zu stats=%zu files=%zu kept=%zu ticks=%d interval_ms=%d "
	       "cpu_ms_per_tick=%.3f cpu_ms_median=%.3f files_per_cgroup=%.2f\n",
	       nr_cgroups, nr_parents, nr_stats, nr_files, kept, ticks, interval_ms, cpu_ms,
	       (double)at[ticks / 2] / 1e6, (double)reads / ticks / (double)nr_cgroups);
	free(at);
	for (size_t i = 0; i < nr_files; i++) {
		if (files[i].fd >= 0)
			close(files[i].fd);
		if (files[i].dir != (i ? files[i - 1].dir : NULL))
			free(files[i].dir);
	}
	free(files);
	free(want);
	cgfs_buf_free(&b);
	return 0;
}
