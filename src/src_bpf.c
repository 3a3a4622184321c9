// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "src_bpf.h"

struct src_bpf {
	struct cg_source src;
	struct bpfsrc *b;
	bpfsrc_oom_fn on_oom;
	void *ctx;
	bool refreshed;		/* this tick: the want has eBPF groups */
};

#define SB(s) ((struct src_bpf *)(s))

static int bpf_begin(struct cg_source *src, struct cg_arena *arena, const struct cg_want *want)
{
	struct src_bpf *sb = SB(src);

	(void)arena;
	/* One read of the whole map, then O(1) per cgroup in the walk; not
	 * even that when no consumer wants a counter. OOM kills are events,
	 * not fields: always drained. */
	sb->refreshed = want->bpf != 0;
	if (sb->refreshed)
		bpfsrc_refresh(sb->b);
	bpfsrc_drain(sb->b, sb->on_oom, sb->ctx);
	return 0;
}

static int bpf_fill(struct cg_source *src, const struct cg_where *w, struct cg_sample *s,
		    const struct cg_want *want)
{
	struct src_bpf *sb = SB(src);

	if (!sb->refreshed || !want->bpf)
		return 0;
	/* No entry yet means no event yet: zero counts, not absent. */
	bpfsrc_get(sb->b, w->id, &s->bpf);
	s->bpf.have = bpfsrc_have(sb->b) & want->bpf;
	return 0;
}

static void bpf_forget(struct cg_source *src, uint64_t id)
{
	bpfsrc_forget(SB(src)->b, id);
}

static void bpf_end(struct cg_source *src, bool (*known)(void *ctx, uint64_t id), void *ctx)
{
	bpfsrc_prune(SB(src)->b, known, ctx);
}

static int bpf_event_fd(const struct cg_source *src)
{
	return bpfsrc_event_fd(((const struct src_bpf *)src)->b);
}

static void bpf_self_cost(const struct cg_source *src, struct cg_self *self)
{
	const struct bpfsrc *b = ((const struct src_bpf *)src)->b;

	self->bpf = true;
	self->bpf_run_time_known = bpfsrc_run_time_known(b);
	self->bpf_run_time_ns = bpfsrc_run_time_ns(b);
	self->bpf_map_entries = bpfsrc_map_entries(b);
	self->bpf_map_max = bpfsrc_map_max(b);
}

static void bpf_free(struct cg_source *src)
{
	bpfsrc_close(SB(src)->b);
	free(src);
}

static const struct cg_source_ops bpf_ops = {
	.name = "ebpf",
	.begin = bpf_begin,
	.fill = bpf_fill,
	.forget = bpf_forget,
	.end = bpf_end,
	.event_fd = bpf_event_fd,
	.self_cost = bpf_self_cost,
	.free = bpf_free,
};

int src_bpf_new(const struct bpfsrc_opts *o, bpfsrc_oom_fn on_oom, void *ctx,
		struct cg_source **out, char *why, size_t whylen)
{
	struct src_bpf *sb = calloc(1, sizeof(*sb));
	int err;

	if (!sb) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	err = bpfsrc_open(o, &sb->b, why, whylen);
	if (err) {
		free(sb);
		return err;
	}
	sb->src.ops = &bpf_ops;
	sb->on_oom = on_oom;
	sb->ctx = ctx;
	*out = &sb->src;
	return 0;
}
