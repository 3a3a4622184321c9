/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading container runtimes' JSON state files (docker config.v2.json, OCI
 * bundle config.json, containers/storage containers.json). These files belong
 * to other programs and may be half-written, hostile or huge: every reader
 * checks types, caps sizes, and reports -EINVAL instead of guessing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "json_read.h"

/* One container's config is a few KiB; 4 MiB is far beyond any real one. */
#define JSON_CONFIG_MAX		(4u << 20)
/* containers.json grows ~1 KiB per container, and a node may keep thousands
 * of stopped ones. */
#define JSON_STORAGE_MAX	(64u << 20)

/*
 * Reads the whole file and parses it. O_NONBLOCK because opening a FIFO
 * planted under a state directory would otherwise block the collector; the
 * S_ISREG check then refuses it.
 */
static int read_json_file(const char *path, size_t max, json_type type,
			  struct json_object **out)
{
	struct json_tokener *tok = NULL;
	struct json_object *obj;
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, ret;

	/* EACCES, ENOTDIR, ELOOP...: for the caller it is all "no state here". */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return errno == ENOMEM ? -ENOMEM : -ENOENT;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		goto out;
	}
	/* st_size is only a hint: the runtime may be rewriting the file. */
	for (;;) {
		ssize_t n;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : (size_t)st.st_size + 4096;
			char *nbuf;

			if (cap >= max + 1) {
				ret = -EINVAL;
				goto out;
			}
			if (ncap > max + 1)
				ncap = max + 1;
			nbuf = realloc(buf, ncap + 1);
			if (!nbuf) {
				ret = -ENOMEM;
				goto out;
			}
			buf = nbuf;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -EINVAL;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max || len == 0) {
		ret = -EINVAL;
		goto out;
	}
	buf[len] = '\0';

	tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	if (!tok) {
		ret = -ENOMEM;
		goto out;
	}
	/* Passing the NUL too ends a document that is a bare number. */
	obj = json_tokener_parse_ex(tok, buf, (int)len + 1);
	/* A file of the wrong shape is as useless as a broken one. */
	if (json_tokener_get_error(tok) != json_tokener_success || !obj ||
	    !json_object_is_type(obj, type)) {
		json_object_put(obj);
		ret = -EINVAL;
		goto out;
	}
	*out = obj;
	ret = 0;
out:
	if (tok)
		json_tokener_free(tok);
	free(buf);
	close(fd);
	return ret;
}

/* obj[key] if obj is an object holding a value of that type, else NULL. */
static struct json_object *get_typed(struct json_object *obj, const char *key,
				     enum json_type type)
{
	struct json_object *v;

	if (!obj || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

/* The non-empty string obj[key], or NULL. */
static const char *get_str(struct json_object *obj, const char *key)
{
	struct json_object *v = get_typed(obj, key, json_type_string);
	const char *s = v ? json_object_get_string(v) : NULL;

	return s && *s ? s : NULL;
}

/* *dst = strdup(s) unless *dst is already set or s is NULL/"". */
static int take(char **dst, const char *s)
{
	if (*dst || !s || !*s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

void json_ctr_info_clear(struct json_ctr_info *ci)
{
	free(ci->name);
	free(ci->image);
	free(ci->k8s_namespace);
	free(ci->k8s_pod);
	free(ci->k8s_container);
	memset(ci, 0, sizeof(*ci));
}

int json_read_docker_info(const char *config_path, struct json_ctr_info *out)
{
	struct json_ctr_info ci = { 0 };
	struct json_object *root = NULL, *config, *labels;
	const char *name, *type;
	int ret;

	ret = read_json_file(config_path, JSON_CONFIG_MAX, json_type_object, &root);
	if (ret)
		return ret;
	/* Docker keeps names rooted in its old link namespace: "/web". */
	name = get_str(root, "Name");
	if (name && *name == '/')
		name++;
	config = get_typed(root, "Config", json_type_object);
	labels = get_typed(config, "Labels", json_type_object);
	type = get_str(labels, "io.kubernetes.docker.type");

	if ((ret = take(&ci.name, name)) ||
	    (ret = take(&ci.image, get_str(config, "Image"))) ||
	    (ret = take(&ci.k8s_namespace, get_str(labels, "io.kubernetes.pod.namespace"))) ||
	    (ret = take(&ci.k8s_pod, get_str(labels, "io.kubernetes.pod.name"))))
		goto out;
	ci.k8s_sandbox = type && strcmp(type, "podsandbox") == 0;
	if (!ci.k8s_sandbox &&
	    (ret = take(&ci.k8s_container, get_str(labels, "io.kubernetes.container.name"))))
		goto out;
	*out = ci;
	memset(&ci, 0, sizeof(ci));
out:
	json_ctr_info_clear(&ci);
	json_object_put(root);
	return ret;
}

int json_read_oci_info(const char *config_path, struct json_ctr_info *out)
{
	struct json_ctr_info ci = { 0 };
	struct json_object *root = NULL, *ann;
	const char *type;
	int ret;

	ret = read_json_file(config_path, JSON_CONFIG_MAX, json_type_object, &root);
	if (ret)
		return ret;
	ann = get_typed(root, "annotations", json_type_object);

	/* containerd's CRI plugin first, then cri-o (which uses the kubelet's
	 * io.kubernetes.* keys); a bundle carries one set or the other. */
	type = get_str(ann, "io.kubernetes.cri.container-type");
	if (!type)
		type = get_str(ann, "io.kubernetes.cri-o.ContainerType");
	ci.k8s_sandbox = type && strcmp(type, "sandbox") == 0;

	if ((ret = take(&ci.k8s_namespace, get_str(ann, "io.kubernetes.cri.sandbox-namespace"))) ||
	    (ret = take(&ci.k8s_namespace, get_str(ann, "io.kubernetes.pod.namespace"))) ||
	    (ret = take(&ci.k8s_pod, get_str(ann, "io.kubernetes.cri.sandbox-name"))) ||
	    (ret = take(&ci.k8s_pod, get_str(ann, "io.kubernetes.pod.name"))) ||
	    (ret = take(&ci.image, get_str(ann, "io.kubernetes.cri.image-name"))) ||
	    (ret = take(&ci.image, get_str(ann, "io.kubernetes.cri-o.ImageName"))))
		goto out;
	/* cri-o names a sandbox's container "POD"; it is not a container the
	 * pod spec declares, so it gets no k8s_container. */
	if (!ci.k8s_sandbox &&
	    ((ret = take(&ci.k8s_container, get_str(ann, "io.kubernetes.cri.container-name"))) ||
	     (ret = take(&ci.k8s_container, get_str(ann, "io.kubernetes.container.name")))))
		goto out;
	*out = ci;
	memset(&ci, 0, sizeof(ci));
out:
	json_ctr_info_clear(&ci);
	json_object_put(root);
	return ret;
}

/*
 * containers/storage keeps the creator's metadata as a JSON document inside a
 * JSON string; podman and cri-o both put the image reference in "image-name".
 * Returns a malloc'd copy, or NULL with *err set on allocation failure only.
 */
static char *storage_image(struct json_object *entry, int *err)
{
	const char *meta = get_str(entry, "metadata");
	struct json_object *m;
	const char *img;
	char *ret = NULL;

	*err = 0;
	if (!meta)
		return NULL;
	m = json_tokener_parse(meta);
	img = get_str(m, "image-name");
	if (img) {
		ret = strdup(img);
		if (!ret)
			*err = -ENOMEM;
	}
	json_object_put(m);
	return ret;
}

int json_read_storage_containers(const char *path, json_storage_fn fn, void *arg)
{
	struct json_object *root = NULL;
	size_t i, n;
	int ret;

	ret = read_json_file(path, JSON_STORAGE_MAX, json_type_array, &root);
	if (ret)
		return ret;
	n = json_object_array_length(root);
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(root, i);
		struct json_object *names = get_typed(e, "names", json_type_array);
		struct json_object *first = NULL;
		const char *id = get_str(e, "id");
		const char *name = NULL;
		char *image;

		if (!id)
			continue;
		if (names && json_object_array_length(names) > 0)
			first = json_object_array_get_idx(names, 0);
		if (first && json_object_is_type(first, json_type_string) &&
		    *json_object_get_string(first))
			name = json_object_get_string(first);
		image = storage_image(e, &ret);
		if (ret)
			goto out;
		ret = fn(id, name, image, arg);
		free(image);
		if (ret)
			goto out;
	}
out:
	json_object_put(root);
	return ret;
}
