/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading container runtimes' JSON state for src/identity.c: each reader
 * returns everything identity wants from one parse, so a file is read once
 * per container (json-c stays in json*.c).
 */
#ifndef CGWARDEN_JSON_READ_H
#define CGWARDEN_JSON_READ_H

#include <stdbool.h>

/* What a runtime's state says about one container. Each string is malloc'd,
 * or NULL when the file does not say (or says ""). */
struct json_ctr_info {
	char *name;		/* the runtime's own name ("web-frontend") */
	char *image;		/* "nginx:1.25" */
	char *k8s_namespace;
	char *k8s_pod;
	char *k8s_container;
	bool k8s_sandbox;	/* the pod's infra ("pause") container */
};

void json_ctr_info_clear(struct json_ctr_info *ci);

/* Docker's containers/<id>/config.v2.json: "Name" without its leading '/',
 * Config.Image, and the io.kubernetes.* labels cri-dockerd sets.
 * Returns 0 (out filled), -ENOENT, -EINVAL (not JSON, not an object, too big)
 * or -ENOMEM; out is written only on success. */
int json_read_docker_info(const char *config_path, struct json_ctr_info *out);

/* An OCI runtime spec (bundle config.json) written by containerd's CRI plugin
 * or by cri-o: the Kubernetes names and image from its annotations.
 * Same returns as json_read_docker_info. */
int json_read_oci_info(const char *config_path, struct json_ctr_info *out);

/* containers/storage's containers.json (podman, cri-o): an array of
 * {"id", "names": [...], "metadata": "<JSON string>"}. Calls fn for every
 * entry with a string id: its first name (or NULL) and the "image-name" from
 * its metadata (or NULL). fn returns 0 to go on; anything else stops the walk
 * and is returned. Returns 0, -ENOENT, -EINVAL, -ENOMEM or fn's value. */
typedef int (*json_storage_fn)(const char *id, const char *name,
			       const char *image, void *arg);
int json_read_storage_containers(const char *path, json_storage_fn fn, void *arg);

#endif
