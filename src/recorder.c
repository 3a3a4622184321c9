/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include "clock.h"
#include "json_records.h"
#include "limitval.h"
#include "prom.h"
#include "reccodec.h"
#include "recorder.h"
#include "store.h"

/* A decision waiting for the next tick's record: its own copies, since the
 * enforcer's decision lives only for the callback. */
struct pending_action {
	char *json;
	char *rule, *action, *result;
	struct rec_action a;
};

struct recorder {
	struct recorder_opts o;
	struct store_writer *w;
	struct rec_encoder *enc;
	struct rec_buf buf;
	struct pending_action *acts;
	size_t nr_acts, cap_acts;
	struct rec_action *view;	/* acts as the codec takes them */
	bool stopped;			/* the store failed for good: said once */
	uint64_t ticks;
	struct prom_record prom;
};

static void update_prom(struct recorder *rec)
{
	struct store_writer_stats st;

	rec->prom.stopped = rec->stopped;
	if (!rec->w)
		return;
	store_writer_stats(rec->w, &st);
	rec->prom.paused = st.paused;
	rec->prom.ticks = st.ticks;
	rec->prom.ticks_dropped = st.ticks_dropped;
	rec->prom.written_bytes = st.disk_bytes;
	rec->prom.store_bytes = st.store_bytes;
}

const struct prom_record *recorder_prom(const struct recorder *rec)
{
	return &rec->prom;
}

/* Decisions the daemon makes faster than ticks come (a storm) are kept up
 * to this many per tick; the rest are counted in the stream and the log,
 * which have them all, and a notice says so. */
#define RECORDER_ACTIONS_MAX 4096

static void pending_free(struct pending_action *p)
{
	free(p->json);
	free(p->rule);
	free(p->action);
	free(p->result);
}

static void actions_clear(struct recorder *rec)
{
	for (size_t i = 0; i < rec->nr_acts; i++)
		pending_free(&rec->acts[i]);
	rec->nr_acts = 0;
}

void recorder_action(struct recorder *rec, const struct pol_decision *d, uint64_t time_usec,
		     uint64_t latency_usec)
{
	struct pending_action *p;
	char *json = NULL;
	size_t len = 0;
	FILE *mem;

	if (!rec || rec->stopped)
		return;
	if (rec->nr_acts == rec->cap_acts) {
		size_t cap = rec->cap_acts ? rec->cap_acts * 2 : 8;
		struct pending_action *n;

		if (rec->nr_acts >= RECORDER_ACTIONS_MAX)
			return;
		n = realloc(rec->acts, cap * sizeof(*n));
		if (!n)
			return;
		rec->acts = n;
		rec->cap_acts = cap;
	}
	mem = open_memstream(&json, &len);
	if (!mem)
		return;
	json_write_policy_action(mem, d, time_usec, latency_usec);
	if (fclose(mem) || !json) {
		free(json);
		return;
	}
	while (len && json[len - 1] == '\n')
		json[--len] = 0;
	p = &rec->acts[rec->nr_acts];
	memset(p, 0, sizeof(*p));
	p->json = json;
	p->rule = strdup(d->rule);
	p->action = strdup(policy_action_name(d->action));
	p->result = strdup(d->result);
	if (!p->rule || !p->action || !p->result) {
		pending_free(p);
		return;
	}
	p->a = (struct rec_action){
		.time_usec = time_usec, .cgroup_id = d->cgroup_id, .rule = p->rule,
		.action = p->action, .result = p->result, .restore = d->restore,
		.dry_run = d->dry_run, .blocked = d->blocked, .json = p->json,
	};
	rec->nr_acts++;
}

static void stop(struct recorder *rec, int err)
{
	if (!rec->o.quiet)
		fprintf(stderr, "%s: recording to %s stopped: %s; monitoring goes on\n", rec->o.who,
			rec->o.dir, strerror(-err));
	rec->stopped = true;
	actions_clear(rec);
}

static int recorder_tick(struct runner *r, const struct cg_snapshot *snap, void *ctx)
{
	struct recorder *rec = ctx;
	bool key;
	int err;

	(void)r;
	if (rec->stopped || !snap)
		return rec->o.count ? RUNNER_STOP : RUNNER_GO;
	if (rec->nr_acts > 0) {
		struct rec_action *v = realloc(rec->view, rec->nr_acts * sizeof(*v));

		if (!v) {
			stop(rec, -ENOMEM);
			return RUNNER_GO;
		}
		rec->view = v;
		for (size_t i = 0; i < rec->nr_acts; i++)
			v[i] = rec->acts[i].a;
	}
	key = store_need_keyframe(rec->w);
	if (key)
		rec_encoder_reset(rec->enc);
	rec->buf.len = 0;
	err = rec_encode_tick(rec->enc, snap, rec->view, rec->nr_acts, key, &rec->buf);
	actions_clear(rec);
	if (!err)
		err = store_append(rec->w, rec->buf.p, rec->buf.len, snap->wall_usec, key);
	if (err) {
		stop(rec, err);
		update_prom(rec);
		return RUNNER_GO;
	}
	update_prom(rec);
	/* A large tree's tick makes a large buffer once; a later small tree
	 * should not keep it. */
	if (rec->buf.cap > (8u << 20) && rec->buf.len < rec->buf.cap / 8)
		rec_buf_free(&rec->buf);
	if (rec->o.count && ++rec->ticks >= rec->o.count)
		return RUNNER_STOP;
	return RUNNER_GO;
}

uint64_t recorder_default_retain_bytes(const char *dir)
{
	char path[4096];
	struct statvfs st;
	uint64_t fs;

	/* The nearest directory that exists: the store may not yet. */
	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return RECORDER_RETAIN_BYTES;
	while (statvfs(path, &st) != 0) {
		char *slash = strrchr(path, '/');

		if (!slash)
			strcpy(path, ".");
		else if (slash == path)
			path[1] = 0;
		else
			*slash = 0;
		if ((!slash || slash == path) && statvfs(path, &st) != 0)
			return RECORDER_RETAIN_BYTES;
		if (!slash || slash == path)
			break;
	}
	fs = (uint64_t)st.f_blocks * st.f_frsize;
	return fs && fs / RECORDER_RETAIN_FS_DIV < RECORDER_RETAIN_BYTES ?
	       fs / RECORDER_RETAIN_FS_DIV : RECORDER_RETAIN_BYTES;
}

int recorder_open(struct runner *r, const struct recorder_opts *o, struct recorder **out)
{
	struct store_writer_opts so = { 0 };
	struct runner_part part = { .tick = recorder_tick, .slow_ok = o->slow_ok };
	struct recorder *rec = calloc(1, sizeof(*rec));
	int err;

	if (!rec) {
		fprintf(stderr, "%s: out of memory\n", o->who);
		return -ENOMEM;
	}
	rec->o = *o;
	so.dir = o->dir;
	so.who = o->who;
	so.quiet = o->quiet;
	so.retain_bytes = o->retain_bytes ? o->retain_bytes : recorder_default_retain_bytes(o->dir);
	so.retain_usec = o->retain_usec ? o->retain_usec : RECORDER_RETAIN_USEC;
	so.flush_usec = o->flush_usec ? o->flush_usec : RECORDER_FLUSH_USEC;
	err = rec_encoder_new(&rec->enc);
	if (err) {
		fprintf(stderr, "%s: out of memory\n", o->who);
		free(rec);
		return err;
	}
	err = store_writer_open(&so, &rec->w);	/* says why */
	if (err) {
		rec_encoder_free(rec->enc);
		free(rec);
		return err;
	}
	part.ctx = rec;
	err = runner_add(r, &part);
	if (err) {
		fprintf(stderr, "%s: out of memory\n", o->who);
		recorder_close(rec);
		return err;
	}
	*out = rec;
	return 0;
}

void recorder_close(struct recorder *rec)
{
	int err;

	if (!rec)
		return;
	err = store_writer_close(rec->w);
	if (err && !rec->stopped && !rec->o.quiet)
		fprintf(stderr, "%s: closing the recording in %s: %s\n", rec->o.who, rec->o.dir,
			strerror(-err));
	rec_encoder_free(rec->enc);
	rec_buf_free(&rec->buf);
	actions_clear(rec);
	free(rec->acts);
	free(rec->view);
	free(rec);
}

int recorder_parse_retain(const char *s, uint64_t *bytes, uint64_t *usec)
{
	char part[64];
	uint64_t b = 0, u = 0;
	size_t len = strlen(s);

	if (len == 0 || s[len - 1] == ',')
		return -EINVAL;
	while (*s) {
		size_t n = strcspn(s, ",");
		size_t l;

		if (n == 0 || n >= sizeof(part))
			return -EINVAL;
		memcpy(part, s, n);
		part[n] = 0;
		s += n + (s[n] == ',');
		l = strlen(part);
		/* An age ends in a lower-case s, m, h or d ("30m" is half an
		 * hour); a size in a digit or an upper-case unit ("512M"). */
		if (strchr("smhd", part[l - 1])) {
			char *end;
			double v;
			double scale;

			errno = 0;
			v = strtod(part, &end);
			scale = *end == 's' ? 1e6 : *end == 'm' ? 60e6 : *end == 'h' ? 3600e6 : 86400e6;
			if (errno || end == part || end[1] || !(v > 0) || v * scale > 1e17 || u)
				return -EINVAL;
			u = (uint64_t)(v * scale);
		} else if (b || limitval_parse_bytes(part, &b, NULL, 0) || b == 0 ||
			   b == CG_UNLIMITED) {
			return -EINVAL;
		}
	}
	if (!b && !u)
		return -EINVAL;
	*bytes = b;
	*usec = u;
	return 0;
}

int recorder_retain_opt(const char *who, const char *arg, struct recorder_opts *o)
{
	if (recorder_parse_retain(arg, &o->retain_bytes, &o->retain_usec) == 0)
		return 0;
	fprintf(stderr, "%s: --retain: '%s' is not a size (512M), an age (7d, 12h, 30m) or "
		"both (2G,30d)\n", who, arg);
	return -EINVAL;
}
