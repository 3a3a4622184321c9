/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who a cgroup is: container, pod, systemd unit, from its path and, where
 * present, the container runtime's state on disk (docker's config.v2.json).
 * Resolved once when a cgroup is first seen; strings are heap-owned by the
 * identity and freed with identity_clear().
 */
#ifndef CGWARDEN_IDENTITY_H
#define CGWARDEN_IDENTITY_H

#include "snapshot.h"

struct identity_ctx;

/* state_root prefixes the runtimes' state directories (/var/lib/docker ...);
 * NULL or "/" means the real host. Tests point it at a fixture tree. */
int identity_ctx_new(const char *state_root, struct identity_ctx **out);
void identity_ctx_free(struct identity_ctx *ctx);

/* path is relative to the cgroup2 root, no leading '/', root = "".
 * Never fails for lack of runtime state: it falls back to what the path says.
 * Returns 0 or -ENOMEM. */
int identity_resolve(struct identity_ctx *ctx, const char *path, struct cg_identity *out);
void identity_clear(struct cg_identity *id);

/* True when a container or pod got only a fallback name (its short id, or
 * "pod <uid>"): its runtime state may not be written yet (the kubelet makes
 * the pod cgroup before its log folder), so the caller may resolve again. */
bool identity_is_provisional(const struct cg_identity *id);

#endif
