/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The eBPF counter source: bpfsrc (load, attach, read) behind the source
 * interface. One batch read of the stats map per tick, then O(1) per
 * cgroup; OOM kills from the ring buffer go to on_oom as the tick begins.
 */
#ifndef CGWARDEN_SRC_BPF_H
#define CGWARDEN_SRC_BPF_H

#include <stddef.h>
#include "bpfsrc.h"
#include "source.h"

/* bpfsrc_open()'s result and why; on_oom(ctx, ev) for each OOM kill. */
int src_bpf_new(const struct bpfsrc_opts *o, bpfsrc_oom_fn on_oom, void *ctx,
		struct cg_source **out, char *why, size_t whylen);

#endif
