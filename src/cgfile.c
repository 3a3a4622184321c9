// SPDX-License-Identifier: GPL-2.0-only
#include "cgfile.h"

/*
 * The caps in cgfile.h: the most read of each file (cgwarden(8), LIMITS); the rest of a longer one
 * is ignored, said once per file name. Generous for what a kernel writes:
 * one value is < 30 bytes, the keyed files and PSI well under 1 KiB
 * (memory.stat 6.x: about 1.6 KiB), io.stat about 250 bytes a device, the
 * process lists 8 bytes a task. Only a fixture tree (--root) or a broken
 * file system comes near them, and then a tick must not read 300 MB.
 */
const struct cg_file_def cg_files[CGF__COUNT] = {
#define F(id, s, m) [id] = { s, sizeof(s) - 1, m }
	F(CGF_CPU_STAT, "cpu.stat", CGF_CAP_KEYED), F(CGF_CPU_MAX, "cpu.max", CGF_CAP_VALUE),
	F(CGF_CPU_WEIGHT, "cpu.weight", CGF_CAP_VALUE),
	F(CGF_MEM_CURRENT, "memory.current", CGF_CAP_VALUE),
	F(CGF_MEM_PEAK, "memory.peak", CGF_CAP_VALUE), F(CGF_MEM_MAX, "memory.max", CGF_CAP_VALUE),
	F(CGF_MEM_HIGH, "memory.high", CGF_CAP_VALUE), F(CGF_MEM_LOW, "memory.low", CGF_CAP_VALUE),
	F(CGF_MEM_MIN, "memory.min", CGF_CAP_VALUE), F(CGF_MEM_STAT, "memory.stat", CGF_CAP_MEMSTAT),
	F(CGF_MEM_EVENTS, "memory.events", CGF_CAP_KEYED),
	F(CGF_SWAP_CURRENT, "memory.swap.current", CGF_CAP_VALUE),
	F(CGF_SWAP_MAX, "memory.swap.max", CGF_CAP_VALUE), F(CGF_IO_STAT, "io.stat", CGF_CAP_IOSTAT),
	F(CGF_PIDS_CURRENT, "pids.current", CGF_CAP_VALUE),
	F(CGF_PIDS_MAX, "pids.max", CGF_CAP_VALUE),
	F(CGF_CPU_PRESSURE, "cpu.pressure", CGF_CAP_KEYED),
	F(CGF_MEM_PRESSURE, "memory.pressure", CGF_CAP_KEYED),
	F(CGF_IO_PRESSURE, "io.pressure", CGF_CAP_KEYED), F(CGF_PROCS, "cgroup.procs", CGF_CAP_TASKS),
	F(CGF_THREADS, "cgroup.threads", CGF_CAP_TASKS),
	F(CGF_EVENTS, "cgroup.events", CGF_CAP_KEYED),
#undef F
};
