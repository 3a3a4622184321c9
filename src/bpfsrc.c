/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * User side of bpf/cgwarden.bpf.c: load (tp_btf, else raw_tp), attach
 * (tracepoints, and cgroup_skb links on the cgroup2 root), read the stats map
 * once per tick into arrays indexed by cgroup id, drain OOM events.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <linux/types.h>
#include "bpflog.h"
#include "bpfsrc.h"
#include "cgfs.h"
#include "idmap.h"
/* The types shared with the BPF side; the user-space include path has only
 * src/ and the build folder. */
#include "cgwarden.h"
#include "cgwarden.skel.h"

_Static_assert(CG_RUNQ_BUCKETS == CGW_RUNQ_BUCKETS, "runq buckets differ");
_Static_assert(sizeof(((struct cg_oom_event *)0)->comm) == CGW_COMM_LEN, "comm length");

#define DEFAULT_MAX_CGROUPS 16384
#define KERNEL_BTF "/sys/kernel/btf/vmlinux"

/* Not in the uapi headers: what the kernel returns for an unsupported op. */
#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

struct bpfsrc {
	struct cgwarden_bpf *skel;
	struct ring_buffer *rb;
	int stats_fd;			/* BPF_ENABLE_STATS; -1 when refused */
	int map_fd;
	/* The mmapped slot array (struct cgw_slot in bpf/cgwarden.h). */
	struct cgw_slot *slots;
	size_t slots_len;		/* bytes mapped */
	uint32_t slot_mask;		/* slots - 1 */
	uint32_t slots_used;
	uint32_t have;			/* CG_BPF_* we can fill */
	uint32_t max_entries;
	bool no_batch;			/* batch lookup refused once: don't retry */
	bool sched;			/* the scheduler programs are loaded */

	/* The map as of the last refresh. */
	uint64_t *keys;
	struct cgw_stats *vals;
	size_t n, cap;
	struct idmap index;		/* id -> index in keys/vals */

	/* Set for the duration of bpfsrc_drain. */
	bpfsrc_oom_fn fn;
	void *fn_ctx;
	int64_t rt_minus_mono_ns;
};

/* The libbpf print hook (bpflog.h) from open to close. */
static libbpf_print_fn_t old_print;

static void say(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* Whether the kernel's struct `type` has a member `name` (its BTF). */
static bool btf_has_member(const struct btf *btf, const char *type, const char *name)
{
	int id = btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT);
	const struct btf_type *t;
	const struct btf_member *m;

	if (id < 0)
		return false;
	t = btf__type_by_id(btf, id);
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++)
		if (strcmp(btf__name_by_offset(btf, m->name_off), name) == 0)
			return true;
	return false;
}

/* What runq_from_sched_info reads: task->sched_info (CONFIG_SCHED_INFO)
 * and the rq clock through cfs_rq->rq (CONFIG_FAIR_GROUP_SCHED). */
static bool kernel_has_sched_info(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool ok;

	if (!btf)
		return false;
	ok = btf_has_member(btf, "task_struct", "sched_info") &&
	     btf_has_member(btf, "sched_info", "last_queued") &&
	     btf_has_member(btf, "cfs_rq", "rq");
	btf__free(btf);
	return ok;
}

/* The tp_btf program of each tracepoint and its raw_tp twin. */
#define TRACE_PROGS(X) X(wakeup) X(wakeup_new) X(switch) X(migrate) X(fork) X(exec) X(exit)

static void choose_programs(struct cgwarden_bpf *s, bool raw, bool sched)
{
#define X(name)								\
	bpf_program__set_autoload(s->progs.btf_##name, !raw);		\
	bpf_program__set_autoload(s->progs.raw_##name, raw);
	TRACE_PROGS(X)
#undef X
	/* Wakeup times: task storage for tp_btf, the LRU hash for raw_tp
	 * (no trusted task pointer there). Not creating the other one saves
	 * its memory, and lets raw_tp load where task storage (5.11) is
	 * missing. */
	bpf_map__set_autocreate(s->maps.wakeup_tls, !raw);
	bpf_map__set_autocreate(s->maps.wakeup_ts, raw);
	/* tp_btf on a kernel that keeps sched_info: the switch program reads
	 * the wait the scheduler measured, and the wakeup programs (half the
	 * cost on a switch-heavy host) are not loaded at all. */
	if (!raw && kernel_has_sched_info()) {
		s->rodata->runq_from_sched_info = true;
		bpf_program__set_autoload(s->progs.btf_wakeup, false);
		bpf_program__set_autoload(s->progs.btf_wakeup_new, false);
		bpf_map__set_autocreate(s->maps.wakeup_tls, false);
	}
	/* --no-bpf-sched: nothing on the scheduler's hot path at all. */
	if (!sched) {
#define X(name)								\
		bpf_program__set_autoload(s->progs.btf_##name, false);	\
		bpf_program__set_autoload(s->progs.raw_##name, false);
		X(wakeup) X(wakeup_new) X(switch) X(migrate)
#undef X
		bpf_map__set_autocreate(s->maps.wakeup_tls, false);
		bpf_map__set_autocreate(s->maps.wakeup_ts, false);
	}
}

/* Opens, loads and attaches the tracing programs of one flavour. */
static int load_flavour(struct bpfsrc *b, bool raw)
{
	int err;

	b->skel = cgwarden_bpf__open();
	if (!b->skel)
		return -errno;
	err = bpf_map__set_max_entries(b->skel->maps.stats, b->max_entries);
	if (!err)
		err = bpf_map__set_max_entries(b->skel->maps.slots, b->slot_mask + 1);
	if (err)
		goto fail;
	b->skel->rodata->slot_mask = b->slot_mask;
	choose_programs(b->skel, raw, b->sched);
	err = cgwarden_bpf__load(b->skel);
	if (err)
		goto fail;
	/* Auto-attaches the loaded tp_btf or raw_tp programs; cgroup_skb has
	 * no target in its section name and is skipped here. */
	err = cgwarden_bpf__attach(b->skel);
	if (err)
		goto fail;
	return 0;
fail:
	cgwarden_bpf__destroy(b->skel);
	b->skel = NULL;
	return err < 0 ? err : -EINVAL;
}

/*
 * cgroup_skb on the cgroup2 root. bpf_program__attach_cgroup creates BPF
 * links, which always run alongside whatever else is attached there (they
 * never replace or evict anything) and go away with our process.
 */
/* Whether CAP_NET_ADMIN is in our effective set: a container started with
 * CAP_BPF and CAP_PERFMON alone loads the programs but may not attach
 * cgroup_skb, and that EPERM must not be blamed on another program. */
static bool have_net_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data) != 0)
		return true;	/* cannot tell: keep the other explanation */
	return data[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32));
}

static int attach_net(struct bpfsrc *b, const char *root_opt, char *root, size_t rootlen)
{
	int fd, err = 0;

	if (root_opt && *root_opt) {
		snprintf(root, rootlen, "%s", root_opt);
	} else {
		snprintf(root, rootlen, "%s", "(no cgroup2 mount)");
		err = cgfs_find_cgroup2("/proc/self/mountinfo", root, rootlen);
		if (err)
			return err;
	}
	fd = cgfs_open_root(root, true);
	if (fd < 0)
		return fd;
	b->skel->links.skb_ingress = bpf_program__attach_cgroup(b->skel->progs.skb_ingress, fd);
	if (!b->skel->links.skb_ingress)
		err = -errno;
	if (!err) {
		b->skel->links.skb_egress =
			bpf_program__attach_cgroup(b->skel->progs.skb_egress, fd);
		if (!b->skel->links.skb_egress)
			err = -errno;
	}
	/* The links hold their own reference on the cgroup. */
	close(fd);
	if (err) {
		bpf_link__destroy(b->skel->links.skb_ingress);
		b->skel->links.skb_ingress = NULL;
	}
	return err;
}

static int on_ringbuf(void *ctx, void *data, size_t len)
{
	struct bpfsrc *b = ctx;
	const struct cgw_oom_event *e = data;
	struct cg_oom_event ev;

	if (len < sizeof(*e) || !b->fn)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.time_usec = (uint64_t)((int64_t)e->time_ns + b->rt_minus_mono_ns) / 1000;
	ev.cgroup_id = e->cgroup_id;
	ev.path = NULL;
	ev.pid = e->pid;
	memcpy(ev.comm, e->comm, sizeof(ev.comm));
	ev.comm[sizeof(ev.comm) - 1] = '\0';
	b->fn(b->fn_ctx, &ev);
	return 0;
}

static const char *errname(int err)
{
	return strerror(err < 0 ? -err : err);
}

int bpfsrc_open(const struct bpfsrc_opts *o, struct bpfsrc **out, char *why, size_t whylen)
{
	struct bpfsrc_opts defaults = { 0 };
	char root[4096];
	struct bpfsrc *b;
	int err;

	*out = NULL;
	say(why, whylen, "%s", "");
	if (!o)
		o = &defaults;
	if (access(KERNEL_BTF, R_OK)) {
		say(why, whylen, "no kernel BTF (%s)", KERNEL_BTF);
		return -ENOENT;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		say(why, whylen, "out of memory");
		return -ENOMEM;
	}
	b->stats_fd = -1;
	b->map_fd = -1;
	b->max_entries = o->max_cgroups ? o->max_cgroups : DEFAULT_MAX_CGROUPS;
	b->sched = !o->no_sched;
	/* As many slots as map entries, rounded up to a power of two,
	 * unless the caller sized them to the tree. */
	b->slot_mask = 1;
	while (b->slot_mask < b->max_entries)
		b->slot_mask <<= 1;
	if (o->slots && o->slots < b->slot_mask) {
		b->slot_mask = 1;
		while (b->slot_mask < o->slots)
			b->slot_mask <<= 1;
	}
	b->slot_mask--;

	old_print = libbpf_set_print(bpflog_print);
	bpflog_reset();
	err = load_flavour(b, false);
	if (err) {
		char btf_warn[BPFLOG_LEN];
		int btf_err = err;

		/* tp_btf needs BTF-enabled attach (5.5) and may be refused
		 * where raw_tp is not: try the older attach. */
		snprintf(btf_warn, sizeof(btf_warn), "%s", bpflog_first());
		bpflog_reset();
		err = load_flavour(b, true);
		if (err) {
			if (err == -EPERM || btf_err == -EPERM) {
				if (geteuid() != 0)
					say(why, whylen, "needs root (CAP_BPF and CAP_PERFMON)");
				else
					say(why, whylen, "eBPF refused (EPERM) although root: "
					    "lockdown or seccomp? %s", btf_warn);
			} else {
				say(why, whylen, "cannot load eBPF programs: %s (%s)",
				    errname(err), btf_warn[0] ? btf_warn : bpflog_first());
			}
			goto fail;
		}
		/* Not an error: says which attach is in use if anyone asks. */
		say(why, whylen, "tp_btf refused (%s), using raw_tp", btf_warn);
	}

	b->have = (b->sched ? CG_BPF_SCHED : 0) | CG_BPF_PROC | CG_BPF_NET;
	bpflog_reset();
	err = attach_net(b, o->cgroup_root, root, sizeof(root));
	if (err) {
		if (err == -EPERM && geteuid() != 0) {
			say(why, whylen, "needs root (CAP_BPF and CAP_PERFMON)");
			goto fail;
		}
		/* The scheduler and process counters still work: go on
		 * without the network ones and say why. */
		b->have &= ~(uint32_t)CG_BPF_NET;
		if (err == -EPERM && !have_net_admin())
			say(why, whylen, "network counters off: attaching cgroup_skb "
			    "needs CAP_NET_ADMIN");
		else if (err == -EPERM)	/* links never evict a non-multi program */
			say(why, whylen, "network counters off: %s has an exclusive "
			    "cgroup_skb program (attached without BPF_F_ALLOW_MULTI)", root);
		else
			say(why, whylen, "network counters off: cgroup_skb on %s: %s",
			    root, errname(err));
		err = 0;
	}

	b->map_fd = bpf_map__fd(b->skel->maps.stats);
	b->slots_len = (size_t)(b->slot_mask + 1) * sizeof(struct cgw_slot);
	b->slots = mmap(NULL, b->slots_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			bpf_map__fd(b->skel->maps.slots), 0);
	if (b->slots == MAP_FAILED) {
		err = -errno;
		b->slots = NULL;
		say(why, whylen, "mapping the counter slots: %s", errname(err));
		goto fail;
	}
	b->rb = ring_buffer__new(bpf_map__fd(b->skel->maps.oom_events), on_ringbuf, b, NULL);
	if (!b->rb) {
		err = -errno;
		say(why, whylen, "ring buffer: %s", errname(err));
		goto fail;
	}
	/* Run-time accounting is on while this fd is open. Opt-in: it is a
	 * host-wide static key, every BPF program pays for it. Without it
	 * the run time reads 0 and bpfsrc_run_time_known() says false. */
	if (o->run_time_stats) {
		b->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (b->stats_fd < 0)
			b->stats_fd = -1;
	}
	*out = b;
	return 0;
fail:
	bpfsrc_close(b);
	return err < 0 ? err : -EINVAL;
}

void bpfsrc_close(struct bpfsrc *b)
{
	if (!b)
		return;
	ring_buffer__free(b->rb);
	if (b->slots)
		munmap(b->slots, b->slots_len);
	/* Detaches every link (tracepoints and cgroup_skb), frees the maps. */
	cgwarden_bpf__destroy(b->skel);
	if (b->stats_fd >= 0)
		close(b->stats_fd);
	free(b->keys);
	free(b->vals);
	idmap_free(&b->index);
	free(b);
	libbpf_set_print(old_print);
}

static int grow(struct bpfsrc *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 64;
	uint64_t *k;
	struct cgw_stats *v;

	if (need <= b->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	k = realloc(b->keys, cap * sizeof(*k));
	if (!k)
		return -ENOMEM;
	b->keys = k;
	v = realloc(b->vals, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	b->vals = v;
	/* The kernel fills these through bpf(); zeroing the new room once
	 * keeps valgrind, which cannot see that write, from calling every
	 * counter uninitialised. */
	memset(k + b->cap, 0, (cap - b->cap) * sizeof(*k));
	memset(v + b->cap, 0, (cap - b->cap) * sizeof(*v));
	b->cap = cap;
	return 0;
}

static int read_batch(struct bpfsrc *b)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	/* Hash maps use a bucket index as the batch token; a u64 holds it. */
	uint64_t in_tok = 0, out_tok = 0;
	void *in = NULL;
	size_t n = 0;
	int err;

	for (;;) {
		__u32 cnt;

		/* Room for at least a few buckets' worth per call. */
		err = grow(b, n + 64);
		if (err)
			return err;
		cnt = (__u32)(b->cap - n);
		err = bpf_map_lookup_batch(b->map_fd, in, &out_tok, b->keys + n,
					   b->vals + n, &cnt, &opts);
		if (err && err != -ENOENT && err != -ENOSPC)
			return err;
		n += cnt;
		if (err == -ENOENT)
			break;		/* the last bucket is in */
		if (err == -ENOSPC) {
			/* One bucket holds more than the room left. */
			if (grow(b, b->cap * 2))
				return -ENOMEM;
			continue;
		}
		in_tok = out_tok;
		in = &in_tok;
	}
	b->n = n;
	return 0;
}

/* Before 5.6 (no batch ops for hash maps): one key at a time. */
static int read_iter(struct bpfsrc *b)
{
	uint64_t key, next;
	void *prev = NULL;
	size_t n = 0, steps = 0;
	int err;

	while (bpf_map_get_next_key(b->map_fd, prev, &next) == 0) {
		/* A key deleted under us restarts the walk at the first key:
		 * bound it, and let the index keep the last copy of a dup. */
		if (++steps > 2 * (size_t)b->max_entries + 16)
			break;
		err = grow(b, n + 1);
		if (err)
			return err;
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(b->map_fd, &key, &b->vals[n]))
			continue;	/* deleted meanwhile */
		b->keys[n++] = key;
	}
	b->n = n;
	return 0;
}

static int build_index(struct bpfsrc *b)
{
	idmap_clear(&b->index);
	if (b->n >= IDMAP_NONE || idmap_reserve(&b->index, (uint32_t)b->n)) {
		b->n = 0;
		return -ENOMEM;
	}
	/* A key seen twice (read_iter restarted): the last copy wins. */
	for (size_t i = 0; i < b->n; i++)
		idmap_put(&b->index, b->keys[i], (uint32_t)i);	/* reserved: cannot fail */
	return 0;
}

int bpfsrc_refresh(struct bpfsrc *b)
{
	int err = -EOPNOTSUPP;

	if (!b->no_batch) {
		err = read_batch(b);
		if (err == -EINVAL || err == -ENOTSUPP || err == -EOPNOTSUPP)
			b->no_batch = true;
	}
	if (b->no_batch)
		err = read_iter(b);
	if (err) {
		b->n = 0;
		build_index(b);
		return err;
	}
	return build_index(b);
}

/* Adds one store's counters (the hash copy or the live slot) into out. */
static void add_stats(struct cg_bpf *out, const struct cgw_stats *v, uint32_t have)
{
	out->ctx_switches += v->ctx_switches;
	out->migrations += v->migrations;
	out->runq_count += v->runq_count;
	out->runq_sum_ns += v->runq_sum_ns;
	for (size_t i = 0; i < CG_RUNQ_BUCKETS; i++)
		out->runq_hist[i] += v->runq_hist[i];
	if (have & CG_BPF_NET) {
		out->rx_bytes += v->rx_bytes;
		out->rx_packets += v->rx_packets;
		out->tx_bytes += v->tx_bytes;
		out->tx_packets += v->tx_packets;
	}
	out->forks += v->forks;
	out->execs += v->execs;
	out->exits += v->exits;
	out->oom_kills += v->oom_kills;
}

int bpfsrc_get(struct bpfsrc *b, uint64_t cgroup_id, struct cg_bpf *out)
{
	struct cgw_slot *slot = &b->slots[cgw_slot_index(cgroup_id, b->slot_mask)];
	/* The slot is written by the BPF side on other CPUs: one volatile
	 * read of the owner. */
	uint64_t owner = __atomic_load_n(&slot->cgroup_id, __ATOMIC_ACQUIRE);
	int found = 0;

	memset(out, 0, sizeof(*out));
	uint32_t i = idmap_get(&b->index, cgroup_id);

	if (i != IDMAP_NONE) {
		add_stats(out, &b->vals[i], b->have);
		found = 1;
	}
	if (owner == cgroup_id) {
		/* Aligned 64-bit counters: each read is whole. */
		add_stats(out, &slot->stats, b->have);
		found = 1;
	} else if (owner == 0 && cgroup_id) {
		/* A free slot: from now on the BPF side counts this cgroup
		 * there, without a hash lookup. Counters first, then the id
		 * (x86 and arm64 stores from one thread are seen in order by
		 * the BPF side's load of the id, which it checks first). */
		memset(&slot->stats, 0, sizeof(slot->stats));
		__atomic_store_n(&slot->cgroup_id, cgroup_id, __ATOMIC_RELEASE);
		b->slots_used++;
	}
	if (found)
		out->have = b->have;
	return found;
}

/* The copy from the last refresh stays readable until the next one, so the
 * final values of a removed cgroup can still be reported this tick. */
void bpfsrc_forget(struct bpfsrc *b, uint64_t cgroup_id)
{
	struct cgw_slot *slot = &b->slots[cgw_slot_index(cgroup_id, b->slot_mask)];

	bpf_map_delete_elem(b->map_fd, &cgroup_id);
	if (slot->cgroup_id == cgroup_id) {
		/* Free for the next cgroup that hashes here; a late event of
		 * the dead one goes to the hash, and bpfsrc_prune drops it. */
		__atomic_store_n(&slot->cgroup_id, 0, __ATOMIC_RELEASE);
		b->slots_used--;
	}
}

uint32_t bpfsrc_have(const struct bpfsrc *b)
{
	return b->have;
}

void bpfsrc_prune(struct bpfsrc *b, bool (*alive)(void *ctx, uint64_t id), void *ctx)
{
	/* Entries from the last refresh whose cgroup the caller no longer
	 * knows: a late event (a lingering socket, an exiting task) re-created
	 * them after bpfsrc_forget(). */
	for (size_t i = 0; i < b->n; i++)
		if (!alive(ctx, b->keys[i]))
			bpf_map_delete_elem(b->map_fd, &b->keys[i]);
}

int bpfsrc_drain(struct bpfsrc *b, bpfsrc_oom_fn fn, void *ctx)
{
	struct timespec rt, mono;
	int n;

	/* bpf_ktime_get_ns is CLOCK_MONOTONIC; events are a few ticks old at
	 * most, so today's offset converts them well enough. */
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	b->rt_minus_mono_ns = ((int64_t)rt.tv_sec - mono.tv_sec) * 1000000000LL +
			      (rt.tv_nsec - mono.tv_nsec);
	b->fn = fn;
	b->fn_ctx = ctx;
	n = ring_buffer__consume(b->rb);
	b->fn = NULL;
	b->fn_ctx = NULL;
	return n;
}

int bpfsrc_event_fd(const struct bpfsrc *b)
{
	return ring_buffer__epoll_fd(b->rb);
}

uint64_t bpfsrc_run_time_ns(const struct bpfsrc *b)
{
	struct bpf_program *p;
	uint64_t sum = 0;

	if (b->stats_fd < 0)
		return 0;	/* not asked for: the sums are not ours to report */
	bpf_object__for_each_program(p, b->skel->obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(p);

		if (fd < 0)
			continue;	/* the flavour we did not load */
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
			sum += info.run_time_ns;
	}
	return sum;
}

bool bpfsrc_run_time_known(const struct bpfsrc *b)
{
	return b->stats_fd >= 0;
}

uint64_t bpfsrc_map_entries(const struct bpfsrc *b)
{
	return b->n + b->slots_used;
}

uint64_t bpfsrc_map_max(const struct bpfsrc *b)
{
	return b->max_entries;
}
