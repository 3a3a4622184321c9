/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host-wide figures from procfs and sysfs: CPUs, /proc/meminfo, /proc/pressure,
 * block device names, and the process's own cost. Kept fds, re-read by pread.
 */
#ifndef CGWARDEN_HOST_H
#define CGWARDEN_HOST_H

#include <stdint.h>
#include "snapshot.h"

struct host;

/* proc_root / sys_root: "/proc" and "/sys" normally; tests may point them
 * at fixture trees. Missing files make fields absent, never fail. */
int host_open(const char *proc_root, const char *sys_root, struct host **out);
void host_close(struct host *h);

/* Fills *out (have bits say what was read). Returns the number of files read. */
int host_read(struct host *h, struct cg_host *out);

/* "vda" for 254:0 from <sys>/dev/block/254:0/uevent DEVNAME, cached for the
 * process's life (device numbers are few). NULL when unknown. */
const char *host_block_dev_name(struct host *h, uint32_t major, uint32_t minor);

/* Resident set size of this process in bytes, 0 if unknown. */
uint64_t host_self_rss(struct host *h);

#endif
