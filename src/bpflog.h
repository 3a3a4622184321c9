/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libbpf prints through one process-wide hook. Ours is quiet, and keeps
 * the first warning since the last bpflog_reset(): that is the cause of a
 * failed load ("prog 'x': BPF program load failed: ..."), the later ones
 * only repeat that loading failed. CGWARDEN_BPF_DEBUG in the environment
 * (man cgwarden(8)) prints the whole log, verifier included, to stderr.
 * Used by the eBPF source (src/bpfsrc.c) and the cgroup iterator
 * (src/iterbpf.c).
 */
#ifndef CGWARDEN_BPFLOG_H
#define CGWARDEN_BPFLOG_H

#include <stdarg.h>
#include <bpf/libbpf.h>

/* Room for the first warning, NUL included. */
#define BPFLOG_LEN 160

/* The hook: libbpf_set_print(bpflog_print). */
int bpflog_print(enum libbpf_print_level level, const char *fmt, va_list ap);

/* Forget the last warning: call before each attempt. */
void bpflog_reset(void);

/* The first warning since the last reset, one line; "" if none. */
const char *bpflog_first(void);

#endif
