/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cgfs.h"
#include "host.h"
#include "parse.h"

struct dev_name {
	uint32_t major, minor;
	char *name;			/* NULL: looked up, unknown */
};

struct host {
	int proc_fd, sys_fd;
	int meminfo_fd, statm_fd;
	int psi_fd[CG_PSI__COUNT];
	struct cgfs_buf buf;
	struct dev_name *devs;
	size_t nr_devs;
	long page_size;
};

static const char *const psi_files[CG_PSI__COUNT] = {
	"pressure/cpu", "pressure/memory", "pressure/io",
};

int host_open(const char *proc_root, const char *sys_root, struct host **out)
{
	struct host *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->proc_fd = open(proc_root ? proc_root : "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	h->sys_fd = open(sys_root ? sys_root : "/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* Missing pieces just leave fields absent: a host without PSI
	 * (psi=0 on the command line) is still a host. */
	h->meminfo_fd = h->proc_fd >= 0 ? cgfs_openat(h->proc_fd, "meminfo", O_RDONLY) : -1;
	h->statm_fd = h->proc_fd >= 0 ? cgfs_openat(h->proc_fd, "self/statm", O_RDONLY) : -1;
	for (int i = 0; i < CG_PSI__COUNT; i++)
		h->psi_fd[i] = h->proc_fd >= 0 ? cgfs_openat(h->proc_fd, psi_files[i], O_RDONLY) : -1;
	h->page_size = sysconf(_SC_PAGESIZE);
	*out = h;
	return 0;
}

static void close_if(int fd)
{
	if (fd >= 0)
		close(fd);
}

void host_close(struct host *h)
{
	if (!h)
		return;
	close_if(h->proc_fd);
	close_if(h->sys_fd);
	close_if(h->meminfo_fd);
	close_if(h->statm_fd);
	for (int i = 0; i < CG_PSI__COUNT; i++)
		close_if(h->psi_fd[i]);
	for (size_t i = 0; i < h->nr_devs; i++)
		free(h->devs[i].name);
	free(h->devs);
	cgfs_buf_free(&h->buf);
	free(h);
}

int host_read(struct host *h, struct cg_host *out)
{
	struct cg_host hs = { 0 };
	int files = 0;
	ssize_t n;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	hs.cpus = cpus > 0 ? (uint32_t)cpus : 1;
	if (h->meminfo_fd >= 0 && (n = cgfs_pread_all(h->meminfo_fd, &h->buf)) >= 0) {
		struct meminfo mi;

		files++;
		if (parse_meminfo(h->buf.data, (size_t)n, &mi) == 0) {
			hs.have |= CG_HOST_MEMINFO;
			hs.mem_total_bytes = mi.mem_total;
			hs.mem_available_bytes = mi.mem_available;
			hs.swap_total_bytes = mi.swap_total;
			hs.swap_free_bytes = mi.swap_free;
		}
	}
	for (int i = 0; i < CG_PSI__COUNT; i++) {
		if (h->psi_fd[i] < 0 || (n = cgfs_pread_all(h->psi_fd[i], &h->buf)) < 0)
			continue;
		files++;
		if (parse_psi(h->buf.data, (size_t)n, &hs.psi[i]) == 0)
			hs.have |= CG_HOST_PSI_CPU << i;
	}
	*out = hs;
	return files;
}

uint64_t host_self_rss(struct host *h)
{
	ssize_t n;
	unsigned long long size, resident;

	if (h->statm_fd < 0 || (n = cgfs_pread_all(h->statm_fd, &h->buf)) <= 0)
		return 0;
	if (sscanf(h->buf.data, "%llu %llu", &size, &resident) != 2)
		return 0;
	return (uint64_t)resident * (uint64_t)h->page_size;
}

/* DEVNAME=vda out of a uevent file. */
static char *uevent_devname(const char *buf)
{
	const char *p = strstr(buf, "DEVNAME=");
	size_t len;

	if (!p || (p != buf && p[-1] != '\n'))
		return NULL;
	p += 8;
	len = strcspn(p, "\n");
	return len ? strndup(p, len) : NULL;
}

const char *host_block_dev_name(struct host *h, uint32_t major, uint32_t minor)
{
	char rel[64];
	struct dev_name *d;
	char *name = NULL;
	int fd;

	for (size_t i = 0; i < h->nr_devs; i++)
		if (h->devs[i].major == major && h->devs[i].minor == minor)
			return h->devs[i].name;
	if (h->sys_fd >= 0) {
		snprintf(rel, sizeof(rel), "dev/block/%u:%u/uevent", major, minor);
		/* dev/block/M:m is a symlink into the device tree; follow it. */
		fd = openat(h->sys_fd, rel, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (cgfs_pread_all(fd, &h->buf) > 0)
				name = uevent_devname(h->buf.data);
			close(fd);
		}
	}
	d = realloc(h->devs, (h->nr_devs + 1) * sizeof(*d));
	if (!d) {
		free(name);
		return NULL;
	}
	h->devs = d;
	h->devs[h->nr_devs++] = (struct dev_name){ major, minor, name };
	return name;
}
