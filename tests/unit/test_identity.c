/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Identity rules (src/identity.c) and the runtime-state readers behind them
 * (src/json_read.c). Paths are the ones real hosts show, including the
 * captured tree in tests/fixtures/v2-pure-6.1; runtime state comes from
 * tests/fixtures/runtime-state (see its README). Run from the repo root.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "identity.h"
#include "json_read.h"

#define STATE		"tests/fixtures/runtime-state"
#define TREE		"tests/fixtures/v2-pure-6.1"

#define DOCKER_ID	"3f4e8a9c1b2d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9d0e1f2a3b"
#define CTRD_ID		"9a8b7c6d5e4f30211f0e9d8c7b6a59483726150f1e2d3c4b5a69788796a5b4c3"
#define PAUSE_ID	"6f7ce9e7a35f3759080852227b1dad63aa2b9b1631ac6d2bda8652cb591e8d41"
#define PODMAN_ID	"0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"
#define PODMAN_NONAME	"eb1506b1a72149905e7b52ab656c0c8ae1208614c244bac1a86b73fd089c4fb7"
#define CRIO_ID		"610713dca419d7deb83a1246d0c1ee0ac2e23b81cbb29bba37147e88e1848cda"
#define CRIO_SB_ID	"a18bfabd3cf1d74d0267b59ef276e9c1c94d4e31a9fb482340d884a4c4275b94"
#define SHIM_ID		"81d61693e35c77b1b8c28a0989b453d6485f6a1a29528c2e937aaadd7df21272"
#define MALFORMED_ID	"60ec9bb7299d85e0cdd35d4058fabd7cb6bdc9b788c6efde44427e9bb9234e13"
#define NONAME_ID	"014b5f09a295b8c2500a4c872d91fbf07ca10c41abb67caa5c65a8514e8493d3"
#define ODD_ID		"990cb8ebd0afb7150da453a213036a92f2c05e091df0d803e62d257ea7796c27"
#define MISSING_ID	"ffa63583dfa6706b87d284b86b0d693a161e4840aad2c5cf6b5d27c3b9621f7d"

#define UID1		"1b2c3d4e-5f60-7182-93a4-b5c6d7e8f90a"	/* shop/web-7d9f8c6b5-x2x4k */
#define UID1_US		"1b2c3d4e_5f60_7182_93a4_b5c6d7e8f90a"
#define UID2		"7e6f5a4b-3c2d-4e1f-8a9b-0c1d2e3f4a5b"	/* no log folder */
#define UID3		"c0ffee00-1234-4abc-8def-0123456789ab"	/* jobs/batch-job-x7k2p */
#define UID3_US		"c0ffee00_1234_4abc_8def_0123456789ab"

#define POD1_SLICE	"kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID1_US ".slice"
#define POD3_SLICE	"kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID3_US ".slice"

static struct identity_ctx *ctx;	/* state_root = STATE */

/* Resolves path with c and checks it succeeded; the caller clears id. */
static void resolve_with(struct identity_ctx *c, const char *path, struct cg_identity *id)
{
	int ret;

	memset(id, 0, sizeof(*id));
	ret = identity_resolve(c, path, id);
	CHECK_INT(ret, 0);
}

static void resolve(const char *path, struct cg_identity *id)
{
	resolve_with(ctx, path, id);
}

/* Everything Kubernetes-specific is absent. */
static void check_no_k8s(const struct cg_identity *id)
{
	CHECK_INT(id->qos, CG_QOS_NONE);
	CHECK_STR(id->pod_uid, NULL);
	CHECK_STR(id->k8s_namespace, NULL);
	CHECK_STR(id->k8s_pod, NULL);
	CHECK_STR(id->k8s_container, NULL);
}

static void check_no_container(const struct cg_identity *id)
{
	CHECK_STR(id->container_id, NULL);
	CHECK_STR(id->short_id, NULL);
	CHECK_STR(id->image, NULL);
}

/* path names a directory of the captured tree (so the test uses real names). */
static bool in_tree(const char *path)
{
	char buf[4096];
	struct stat st;

	snprintf(buf, sizeof(buf), TREE "/%s", path);
	return stat(buf, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_root(void)
{
	struct cg_identity id;

	resolve("", &id);
	CHECK_INT(id.kind, CG_KIND_OTHER);
	CHECK_INT(id.runtime, CG_RT_NONE);
	CHECK_STR(id.name, "/");
	check_no_container(&id);
	check_no_k8s(&id);
	identity_clear(&id);

	/* A stray leading slash means the same root. */
	resolve("/", &id);
	CHECK_STR(id.name, "/");
	identity_clear(&id);
}

static void test_docker_systemd_fixture(void)
{
	const char *path = "system.slice/docker-" DOCKER_ID ".scope";
	struct cg_identity id;

	CHECK(in_tree(path));
	resolve(path, &id);
	CHECK_INT(id.kind, CG_KIND_CONTAINER);
	CHECK_INT(id.runtime, CG_RT_DOCKER);
	CHECK_STR(id.container_id, DOCKER_ID);
	CHECK_STR(id.short_id, "3f4e8a9c1b2d");
	CHECK_STR(id.name, "web-frontend");
	CHECK_STR(id.image, "nginx:1.25");
	check_no_k8s(&id);
	identity_clear(&id);

	/* Its parent is a plain systemd slice. */
	resolve("system.slice", &id);
	CHECK_INT(id.kind, CG_KIND_SLICE);
	CHECK_INT(id.runtime, CG_RT_SYSTEMD);
	CHECK_STR(id.name, "system.slice");
	check_no_container(&id);
	identity_clear(&id);
}

static void test_docker_cgroupfs_driver(void)
{
	struct cg_identity id;

	resolve("docker/" DOCKER_ID, &id);
	CHECK_INT(id.kind, CG_KIND_CONTAINER);
	CHECK_INT(id.runtime, CG_RT_DOCKER);
	CHECK_STR(id.container_id, DOCKER_ID);
	CHECK_STR(id.short_id, "3f4e8a9c1b2d");
	CHECK_STR(id.name, "web-frontend");
	CHECK_STR(id.image, "nginx:1.25");
	identity_clear(&id);

	/* No config: still docker, because the parent says so. */
	resolve("docker/" MISSING_ID, &id);
	CHECK_INT(id.kind, CG_KIND_CONTAINER);
	CHECK_INT(id.runtime, CG_RT_DOCKER);
	CHECK_STR(id.name, "ffa63583dfa6");
	identity_clear(&id);

	resolve("docker", &id);
	CHECK_INT(id.kind, CG_KIND_OTHER);
	CHECK_INT(id.runtime, CG_RT_NONE);
	CHECK_STR(id.name, "docker");
	identity_clear(&id);
}

static void test_docker_missing_config(void)
{
	struct cg_identity id;

	resolve("system.slice/docker-" MISSING_ID ".scope", &id);
	CHECK_INT(id.kind, CG_KIND_CONTAINER);
	CHECK_INT(id.runtime, CG_RT_DOCKER);
	CHECK_STR(id.container_id, MISSING_ID);
	CHECK_STR(id.short_id, "ffa63583dfa6");
	CHECK_STR(id.name, "ffa63583dfa6");
	CHECK_STR(id.image, NULL);
	identity_clear(&id);

	/* Without a context nothing is read at all. */
	resolve_with(NULL, "system.slice/docker-" DOCKER_ID ".scope", &id);
	CHECK_INT(id.kind, CG_KIND_CONTAINER);
	CHECK_STR(id.name, "3f4e8a9c1b2d");
	identity_clear(&id);
}

static void test_docker_malformed_config(void)
{
	struct cg_identity id;

	/* Half a file: must fall back, not fail. */
	resolve("system.slice/docker-" MALFORMED_ID ".scope", &id);
	CHECK_INT(id.kind, CG_KIND_CONTAINER);
	CHECK_INT(id.runtime, CG_RT_DOCKER);
	CHECK_STR(id.name, "60ec9bb7299d");
	CHECK_STR(id.image, NULL);
	identity_clear(&id);

	/* Valid JSON with "Name": 42: name falls back, the image still counts. */
	resolve("system.slice/docker-" NONAME_ID ".scope", &id);
	CHECK_STR(id.name, "014b5f09a295");
	CHECK_STR(id.image, "alpine:3.19");
	identity_clear(&id);
}

static void test_not_a_container_id(void)
{
	static const char *const scopes[] = {
		"system.slice/docker-foo.scope",
		/* uppercase, 63 and 65 digits: not what runtimes write */
		"system.slice/docker-3F4E8A9C1B2D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F6A7B8C9D0E1F2A3B.scope",
		"system.slice/docker-3f4e8a9c1b2d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9d0e1f2a3.scope",
		"system.slice/docker-3f4e8a9c1b2d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9d0e1f2a3bb.scope",
		"machine.slice/libpod-xyz.scope",
		"system.slice/cri-containerd-.scope",
	};
	struct cg_identity id;
	size_t i;

	for (i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		resolve(scopes[i], &id);
		CHECK_INT(id.kind, CG_KIND_SCOPE);
		CHECK_INT(id.runtime, CG_RT_SYSTEMD);
		CHECK_STR(id.name, strrchr(scopes[i], '/') + 1);
		check_no_container(&id);
		identity_clear(&id);
	}

	/* The docker daemon's own unit is a service, not a container. */
	resolve("system.slice/docker.service", &id);
	CHECK_INT(id.kind, CG_KIND_SERVICE);
	CHECK_STR(id.name, "docker.service");
	identity_clear(&id);

	/* An id with the wrong suffix is not a scope either. */
	resolve("system.slice/docker-" DOCKER_ID ".scopex", &id);
	CHECK_INT(id.kind, CG_KIND_OTHER);
	CHECK_STR(id.container_id, NULL);
	identity_clear(&id);
}

static void test_json_read_docker_info(void)
{
	const char *dir = STATE "/var/lib/docker/containers/";
	struct json_ctr_info ci = { .name = NULL };
	char path[512];

	snprintf(path, sizeof(path), "%s%s/config.v2.json", dir, DOCKER_ID);
	CHECK_INT(json_read_docker_info(path, &ci), 0);
	CHECK_STR(ci.name, "web-frontend");	/* "/web-frontend" in the file */
	json_ctr_info_clear(&ci);

	snprintf(path, sizeof(path), "%s%s/config.v2.json", dir, MISSING_ID);
	CHECK_INT(json_read_docker_info(path, &ci), -ENOENT);
	snprintf(path, sizeof(path), "%s%s/config.v2.json", dir, MALFORMED_ID);
	CHECK_INT(json_read_docker_info(path, &ci), -EINVAL);
	snprintf(path, sizeof(path), "%s%s/config.v2.json", dir, NONAME_ID);
	CHECK_INT(json_read_docker_info(path, &ci), 0);
	CHECK_STR(ci.name, NULL);
	json_ctr_info_clear(&ci);
	/* A directory is not a config. */
	CHECK_INT(json_read_docker_info(STATE, &ci), -EINVAL);
	/* An array is JSON but not a config. */
	CHECK_INT(json_read_docker_info(STATE "/var/lib/containers/storage/overlay-containers/"
					"containers.json", &ci), -EINVAL);
}

struct storage_find {
	const char *id;
	bool seen;
	char name[64];		/* "" when the entry has no name */
};

static int storage_find_fn(const char *id, const char *name, const char *image, void *arg)
{
	struct storage_find *f = arg;

	(void)image;
	if (strcmp(id, f->id) != 0)
		return 0;
	f->seen = true;
	snprintf(f->name, sizeof(f->name), "%s", name ? name : "");
	return 1;
}

/* The name containers.json gives id: 0 (f->name, "" for none), -ENOENT
 * (no such entry) or the reader's error. */
static int storage_find(const char *file, const char *id, struct storage_find *f)
{
	int ret;

	memset(f, 0, sizeof(*f));
	f->id = id;
	ret = json_read_storage_containers(file, storage_find_fn, f);
	if (ret < 0)
		return ret;
	return f->seen ? 0 : -ENOENT;
}

static void test_json_read_storage_containers(void)
{
	const char *store = STATE "/var/lib/containers/storage/overlay-containers/containers.json";
	const char *broken = STATE "/broken/var/lib/containers/storage/overlay-containers/containers.json";
	struct storage_find f;

	CHECK_INT(storage_find(store, PODMAN_ID, &f), 0);
	CHECK_STR(f.name, "db-cache");
	CHECK_INT(storage_find(store, PODMAN_NONAME, &f), 0);
	CHECK_STR(f.name, "");
	CHECK_INT(storage_find(store, MISSING_ID, &f), -ENOENT);
	CHECK_INT(storage_find(broken, PODMAN_ID, &f), -EINVAL);
	CHECK_INT(storage_find(STATE "/nope.json", PODMAN_ID, &f), -ENOENT);
	/* An object is JSON but not a container list. */
	CHECK_INT(storage_find(STATE "/var/lib/docker/containers/" DOCKER_ID "/config.v2.json",
			       PODMAN_ID, &f), -EINVAL);
}

static void test_kubepods_slices(void)
{
	struct cg_identity id;

	CHECK(in_tree("kubepods.slice/kubepods-burstable.slice"));
	resolve("kubepods.slice", &id);
	CHECK_INT(id.kind, CG_KIND_SLICE);
	CHECK_INT(id.runtime, CG_RT_KUBERNETES);
	CHECK_INT(id.qos, CG_QOS_NONE);
	CHECK_STR(id.name, "kubepods.slice");
	CHECK_STR(id.pod_uid, NULL);
	identity_clear(&id);

	resolve("kubepods.slice/kubepods-burstable.slice", &id);
	CHECK_INT(id.kind, CG_KIND_SLICE);
	CHECK_INT(id.runtime, CG_RT_KUBERNETES);
	CHECK_INT(id.qos, CG_QOS_BURSTABLE);
	CHECK_STR(id.name, "kubepods-burstable.slice");
	CHECK_STR(id.pod_uid, NULL);
	identity_clear(&id);

	resolve("kubepods.slice/kubepods-besteffort.slice", &id);
	CHECK_INT(id.kind, CG_KIND_SLICE);
	CHECK_INT(id.runtime, CG_RT_KUBERNETES);
	CHECK_INT(id.qos, CG_QOS_BESTEFFORT);
	identity_clear(&id);
}

static void test_pod_burstable_fixture(void)
{
	struct cg_identity id;

	CHECK(in_tree(POD1_SLICE));
	resolve(POD1_SLICE, &id);
	CHECK_INT(id.kind, CG_KIND_POD);
	CHECK_INT(id.runtime, CG_RT_KUBERNETES);
	CHECK_INT(id.qos, CG_QOS_BURSTABLE);
	CHECK_STR(id.pod_uid, UID1);
	/* Named by the kubelet's var/log/pods/shop_web-..._<uid> folder. */
	CHECK_STR(id.name, "web-7d9f8c6b5-x2x4k");
	CHECK_STR(id.k8s_namespace, "shop");
	CHECK_STR(id.k8s_pod, "web-7d9f8c6b5-x2x4k");
	CHECK_STR(id.k8s_container, NULL);
	check_no_container(&id);
	identity_clear(&id);

	/* Without runtime state: "pod <uid>". */
	resolve_with(NULL, POD1_SLICE, &id);
	CHECK_INT(id.kind, CG_KIND_POD);
	CHECK_STR(id.name, "pod " UID1);
	CHECK_STR(id.k8s_pod, NULL);
	identity_clear(&id);
}

static void test_pod_guaranteed_and_besteffort(void)
{
	struct cg_identity id;

	/* Guaranteed pods have no QoS slice and sit right under kubepods. */
	resolve("kubepods.slice/kubepods-pod7e6f5a4b_3c2d_4e1f_8a9b_0c1d2e3f4a5b.slice", &id);
	CHECK_INT(id.kind, CG_KIND_POD);
	CHECK_INT(id.runtime, CG_RT_KUBERNETES);
	CHECK_INT(id.qos, CG_QOS_GUARANTEED);
	CHECK_STR(id.pod_uid, UID2);
	CHECK_STR(id.name, "pod " UID2);
	CHECK_STR(id.k8s_namespace, NULL);
	identity_clear(&id);

	resolve(POD3_SLICE, &id);
	CHECK_INT(id.kind, CG_KIND_POD);
	CHECK_INT(id.qos, CG_QOS_BESTEFFORT);
	CHECK_STR(id.pod_uid, UID3);
	CHECK_STR(id.name, "batch-job-x7k2p");
	CHECK_STR(id.k8s_namespace, "jobs");
	identity_clear(&id);

	/* Static pods use a 32-hex config hash as uid. */
	resolve("kubepods.slice/kubepods-burstable.slice/"
		"kubepods-burstable-pod0f8e7d6c5b4a39281706f5e4d3c2b1a0.slice", &id);
	CHECK_INT(id.kind, CG_KIND_POD);
	CHECK_STR(id.pod_uid, "0f8e7d6c5b4a39281706f5e4d3c2b1a0");
	identity_clear(&id);

	/* An empty or odd uid is no pod. */
	resolve("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod.slice", &id);
	CHECK_INT(id.kind, CG_KIND_SLICE);
	CHECK_INT(id.runtime, CG_RT_SYSTEMD);
	CHECK_STR(id.pod_uid, NULL);
	identity_clear(&id);
	resolve("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c!3d.slice", &id);
	CHECK_INT(id.kind, CG_KIND_OTHER);
	CHECK_STR(id.pod_uid, NULL);
	identity_clear(&id);
}

static void test_containerd_fixture(void)
{
	const char *path = POD1_SLICE "/cri-containerd-" CTRD_ID ".scope";
	struct cg_identity id;

	CHECK(in_tree(path));
	resolve(path, &id);
	CHECK_INT(id.kind, CG_KIND_CONTAINER);
	CHECK_INT(id.runtime, CG_RT_CONTAINERD);	/* not kubernetes */
	CHECK_INT(id.qos, CG_QOS_BURSTABLE);		/* inherited from the pod */
	CHECK_STR(id.pod_uid, UID1);
	CHECK_STR(id.container_id, CTRD_ID);
	CHECK_STR(id.short_id, "9a8b7c6d5e4f");
	CHECK_STR(id.name, "app");
	CHECK_STR(id.image, "registry.example.com/shop/app:2.4.1");
	CHECK_STR(id.k8s_namespace, "shop");
	CHECK_STR(id.k8s_pod, "web-7d9f8c6b5-x2x4k");
	CHECK_STR(id.k8s_container, "app");
	identity_clear(&id);

	/* The pod's sandbox: the kubelet's "POD", no spec container. */
	resolve(POD1_SLICE "/cri-containerd-" PAUSE_ID ".scope", &id);
	CHECK_INT(id.kind, CG_KIND_CONTAINER);
	CHECK_INT(id.runtime, CG_RT_CONTAINERD);
	CHECK_STR(id.name, "POD");
	CHECK_STR(id.k8s_container, NULL);
	CHECK_STR(id.k8s_pod, "web-7d9f8c6b5-x2x4k");
	CHECK_STR(id.pod_uid, UID1);
	identity_clear(&id);

	/* No bundle: short id, but the pod still names namespace and pod. */
	resolve(POD1_SLICE "/cri-containerd-" MISSING_ID ".scope", &id);
	CHECK_INT(id.runtime, CG_RT_CONTAINERD);
	CHECK_STR(id.name, "ffa63583dfa6");
	CHECK_STR(id.image, NULL);
	CHECK_STR(id.k8s_namespace, "shop");
	CHECK_STR(id.k8s_pod, "web-7d9f8c6b5-x2x4k");
	CHECK_STR(id.k8s_container, NULL);
	CHECK_INT(id.qos, CG_QOS_BURSTABLE);
	identity_clear(&id);
}

static void test_crio(void)
{
	struct cg_identity id;

	resolve(POD3_SLICE "/crio-" CRIO_ID ".scope", &id);
	CHECK_INT(id.kind, CG_KIND_CONTAINER);
	CHECK_INT(id.runtime, CG_RT_CRIO);
	CHECK_INT(id.qos, CG_QOS_BESTEFFORT);
	CHECK_STR(id.pod_uid, UID3);
	CHECK_STR(id.container_id, CRIO_ID);
	CHECK_STR(id.short_id, "610713dca419");
	CHECK_STR(id.name, "worker");
	CHECK_STR(id.image, "quay.io/example/worker:v3");
	CHECK_STR(id.k8s_namespace, "jobs");
	CHECK_STR(id.k8s_pod, "batch-job-x7k2p");
	CHECK_STR(id.k8s_container, "worker");
	identity_clear(&id);

	/* Known only from containers.json by its k8s_POD_... name. */
	resolve(POD3_SLICE "/crio-" CRIO_SB_ID ".scope", &id);
	CHECK_INT(id.runtime, CG_RT_CRIO);
	CHECK_STR(id.name, "POD");
	CHECK_STR(id.image, "registry.k8s.io/pause:3.9");
	CHECK_STR(id.k8s_namespace, "jobs");
	CHECK_STR(id.k8s_pod, "batch-job-x7k2p");
	CHECK_STR(id.k8s_container, NULL);
	identity_clear(&id);

	/* The same name outside its pod is not trusted as Kubernetes. */
	resolve("system.slice/crio-" CRIO_SB_ID ".scope", &id);
	CHECK_STR(id.name, "k8s_POD_batch-job-x7k2p_jobs_" UID3 "_0");
	check_no_k8s(&id);
	identity_clear(&id);

	/* cri-o under the cgroupfs driver has no ".scope". */
	resolve("kubepods/besteffort/pod" UID3 "/crio-" CRIO_ID, &id);
	CHECK_INT(id.kind, CG_KIND_CONTAINER);
	CHECK_INT(id.runtime, CG_RT_CRIO);
	CHECK_STR(id.name, "worker");
	CHECK_INT(id.qos, CG_QOS_BESTEFFORT);
	identity_clear(&id);
}

static void test_conmon(void)
{
	struct cg_identity id;

	resolve(POD3_SLICE "/crio-conmon-" CRIO_ID ".scope", &id);
	CHECK_INT(id.kind, CG_KIND_SCOPE);
	CHECK_INT(id.runtime, CG_RT_CRIO);
	CHECK_STR(id.name, "conmon 610713dca419");
	CHECK_STR(id.container_id, NULL);
	CHECK_STR(id.short_id, NULL);
	/* Still inside the pod. */
	CHECK_STR(id.pod_uid, UID3);
	CHECK_INT(id.qos, CG_QOS_BESTEFFORT);
	identity_clear(&id);

	/* cri-o's default conmon_cgroup puts it in system.slice. */
	resolve("system.slice/crio-conmon-" CRIO_ID ".scope", &id);
	CHECK_INT(id.kind, CG_KIND_SCOPE);
	CHECK_INT(id.runtime, CG_RT_CRIO);
	check_no_k8s(&id);
	identity_clear(&id);

	resolve("machine.slice/libpod-conmon-" PODMAN_ID ".scope", &id);
	CHECK_INT(id.kind, CG_KIND_SCOPE);
	CHECK_INT(id.runtime, CG_RT_PODMAN);
	CHECK_STR(id.name, "conmon 0a1b2c3d4e5f");
	CHECK_STR(id.container_id, NULL);
	identity_clear(&id);
}

static void test_podman_fixture(void)
{
	const char *path = "machine.slice/libpod-" PODMAN_ID ".scope";
	struct identity_ctx *broken;
	struct cg_identity id;

	CHECK(in_tree(path));
	resolve(path, &id);
	CHECK_INT(id.kind, CG_KIND_CONTAINER);
	CHECK_INT(id.runtime, CG_RT_PODMAN);
	CHECK_STR(id.container_id, PODMAN_ID);
	CHECK_STR(id.short_id, "0a1b2c3d4e5f");
	CHECK_STR(id.name, "db-cache");
	CHECK_STR(id.image, "docker.io/library/redis:7.2");
	check_no_k8s(&id);
	identity_clear(&id);

	/* In containers.json without a name (and with junk metadata). */
	resolve("machine.slice/libpod-" PODMAN_NONAME ".scope", &id);
	CHECK_STR(id.name, "eb1506b1a721");
	CHECK_STR(id.image, NULL);
	identity_clear(&id);

	/* Not in containers.json. */
	resolve("machine.slice/libpod-" MISSING_ID ".scope", &id);
	CHECK_INT(id.runtime, CG_RT_PODMAN);
	CHECK_STR(id.name, "ffa63583dfa6");
	identity_clear(&id);

	/* containers.json cut off: falls back, does not fail. */
	CHECK_INT(identity_ctx_new(STATE "/broken", &broken), 0);
	resolve_with(broken, path, &id);
	CHECK_INT(id.kind, CG_KIND_CONTAINER);
	CHECK_INT(id.runtime, CG_RT_PODMAN);
	CHECK_STR(id.name, "0a1b2c3d4e5f");
	identity_clear(&id);
	/* Twice: the broken version is remembered, the answer stays the same. */
	resolve_with(broken, path, &id);
	CHECK_STR(id.name, "0a1b2c3d4e5f");
	identity_clear(&id);
	identity_ctx_free(broken);

	/* The machine.slice parent. */
	resolve("machine.slice", &id);
	CHECK_INT(id.kind, CG_KIND_SLICE);
	CHECK_INT(id.runtime, CG_RT_SYSTEMD);
	identity_clear(&id);
}

static void test_kubepods_cgroupfs_driver(void)
{
	struct cg_identity id;

	resolve("kubepods", &id);
	CHECK_INT(id.kind, CG_KIND_SLICE);
	CHECK_INT(id.runtime, CG_RT_KUBERNETES);
	CHECK_STR(id.name, "kubepods");
	identity_clear(&id);

	resolve("kubepods/burstable", &id);
	CHECK_INT(id.kind, CG_KIND_SLICE);
	CHECK_INT(id.qos, CG_QOS_BURSTABLE);
	CHECK_STR(id.name, "burstable");
	identity_clear(&id);

	resolve("kubepods/burstable/pod" UID2, &id);
	CHECK_INT(id.kind, CG_KIND_POD);
	CHECK_INT(id.runtime, CG_RT_KUBERNETES);
	CHECK_INT(id.qos, CG_QOS_BURSTABLE);
	CHECK_STR(id.pod_uid, UID2);
	CHECK_STR(id.name, "pod " UID2);
	identity_clear(&id);

	/* A bare id: docker's config (cri-dockerd) is what says it is docker. */
	resolve("kubepods/burstable/pod" UID2 "/" SHIM_ID, &id);
	CHECK_INT(id.kind, CG_KIND_CONTAINER);
	CHECK_INT(id.runtime, CG_RT_DOCKER);
	CHECK_INT(id.qos, CG_QOS_BURSTABLE);
	CHECK_STR(id.pod_uid, UID2);
	CHECK_STR(id.container_id, SHIM_ID);
	CHECK_STR(id.name, "api");
	CHECK_STR(id.k8s_container, "api");
	CHECK_STR(id.k8s_pod, "shop-api-5c9d7b8f6-qm2zx");
	CHECK_STR(id.k8s_namespace, "shop");
	CHECK_STR(id.image, "registry.example.com/shop/api@sha256:"
			    "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");
	identity_clear(&id);

	/* ... and containerd's bundle, for a guaranteed pod. */
	resolve("kubepods/pod" UID1 "/" CTRD_ID, &id);
	CHECK_INT(id.kind, CG_KIND_CONTAINER);
	CHECK_INT(id.runtime, CG_RT_CONTAINERD);
	CHECK_INT(id.qos, CG_QOS_GUARANTEED);
	CHECK_STR(id.name, "app");
	identity_clear(&id);

	/* No runtime has state for it: the kubelet made it, so "kubernetes". */
	resolve("kubepods/besteffort/pod" UID3 "/" MISSING_ID, &id);
	CHECK_INT(id.kind, CG_KIND_CONTAINER);
	CHECK_INT(id.runtime, CG_RT_KUBERNETES);
	CHECK_INT(id.qos, CG_QOS_BESTEFFORT);
	CHECK_STR(id.name, "ffa63583dfa6");
	CHECK_STR(id.k8s_pod, "batch-job-x7k2p");
	identity_clear(&id);

	/* Outside kubepods those names mean nothing. */
	resolve("burstable", &id);
	CHECK_INT(id.kind, CG_KIND_OTHER);
	CHECK_INT(id.qos, CG_QOS_NONE);
	identity_clear(&id);
	resolve("foo/pod" UID2, &id);
	CHECK_INT(id.kind, CG_KIND_OTHER);
	CHECK_STR(id.pod_uid, NULL);
	identity_clear(&id);
	resolve("kubepods/burstable/burstable", &id);
	CHECK_INT(id.kind, CG_KIND_OTHER);
	CHECK_INT(id.qos, CG_QOS_NONE);
	identity_clear(&id);
}

static void test_bare_id_outside_kubernetes(void)
{
	struct cg_identity id;

	/* docker --cgroup-parent=/ci: found by its config. */
	resolve("ci/" DOCKER_ID, &id);
	CHECK_INT(id.kind, CG_KIND_CONTAINER);
	CHECK_INT(id.runtime, CG_RT_DOCKER);
	CHECK_STR(id.name, "web-frontend");
	identity_clear(&id);

	/* Nobody's: a container all the same, runtime unknown. */
	resolve("default/" MISSING_ID, &id);
	CHECK_INT(id.kind, CG_KIND_CONTAINER);
	CHECK_INT(id.runtime, CG_RT_NONE);
	CHECK_STR(id.container_id, MISSING_ID);
	CHECK_STR(id.name, "ffa63583dfa6");
	identity_clear(&id);
}

static void test_docker_in_pod_systemd(void)
{
	struct cg_identity id;

	/* cri-dockerd with the systemd driver: labels name it. */
	resolve("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
		"7e6f5a4b_3c2d_4e1f_8a9b_0c1d2e3f4a5b.slice/docker-" SHIM_ID ".scope", &id);
	CHECK_INT(id.runtime, CG_RT_DOCKER);
	CHECK_STR(id.name, "api");
	CHECK_STR(id.pod_uid, UID2);
	CHECK_STR(id.k8s_namespace, "shop");
	identity_clear(&id);
}

static void test_children_of_containers(void)
{
	struct cg_identity id;

	/* systemd inside a container: its units are units, not the container. */
	resolve("system.slice/docker-" DOCKER_ID ".scope/init.scope", &id);
	CHECK_INT(id.kind, CG_KIND_SCOPE);
	CHECK_INT(id.runtime, CG_RT_SYSTEMD);
	CHECK_STR(id.name, "init.scope");
	CHECK_STR(id.container_id, NULL);
	identity_clear(&id);

	/* Below a pod's container: still in the pod. */
	resolve(POD1_SLICE "/cri-containerd-" CTRD_ID ".scope/worker", &id);
	CHECK_INT(id.kind, CG_KIND_OTHER);
	CHECK_STR(id.name, "worker");
	CHECK_STR(id.container_id, NULL);
	CHECK_STR(id.pod_uid, UID1);
	CHECK_INT(id.qos, CG_QOS_BURSTABLE);
	CHECK_STR(id.k8s_pod, "web-7d9f8c6b5-x2x4k");
	identity_clear(&id);
}

static void test_systemd_units(void)
{
	static const struct {
		const char *path, *name;
		enum cg_kind kind;
	} cases[] = {
		{ "system.slice/nginx.service", "nginx.service", CG_KIND_SERVICE },
		{ "system.slice", "system.slice", CG_KIND_SLICE },
		{ "init.scope", "init.scope", CG_KIND_SCOPE },
		{ "user.slice", "user.slice", CG_KIND_SLICE },
		{ "user.slice/user-1000.slice", "user-1000.slice", CG_KIND_SLICE },
		{ "user.slice/user-1000.slice/user@1000.service", "user@1000.service", CG_KIND_SERVICE },
		{ "user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-firefox-4242.scope",
		  "app-gnome-firefox-4242.scope", CG_KIND_SCOPE },
		{ "user.slice/user-1000.slice/session-3.scope", "session-3.scope", CG_KIND_SESSION },
		/* logind's non-audit sessions are "c<n>" */
		{ "user.slice/user-42.slice/session-c1.scope", "session-c1.scope", CG_KIND_SESSION },
		{ "system.slice/system-getty.slice/getty@tty1.service", "getty@tty1.service", CG_KIND_SERVICE },
		{ "system.slice/systemd-journald.socket", "systemd-journald.socket", CG_KIND_OTHER },
		{ "system.slice/-.mount", "-.mount", CG_KIND_OTHER },
		{ "system.slice/session-.scope", "session-.scope", CG_KIND_SCOPE },
	};
	struct cg_identity id;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		resolve(cases[i].path, &id);
		CHECK_INT(id.kind, cases[i].kind);
		CHECK_INT(id.runtime, CG_RT_SYSTEMD);
		CHECK_STR(id.name, cases[i].name);
		check_no_container(&id);
		check_no_k8s(&id);
		identity_clear(&id);
	}

	/* A suffix alone is not a unit. */
	resolve("system.slice/.service", &id);
	CHECK_INT(id.kind, CG_KIND_OTHER);
	CHECK_INT(id.runtime, CG_RT_NONE);
	identity_clear(&id);
}

static void test_escaped_unit_names(void)
{
	static const struct {
		const char *path, *name;
	} cases[] = {
		{ "system.slice/system-systemd\\x2dfsck.slice", "system-systemd-fsck.slice" },
		{ "system.slice/system-systemd\\x2dfsck.slice/systemd-fsck@dev-disk-by\\x2duuid-4A2B\\x2d9C1D.service",
		  "systemd-fsck@dev-disk-by-uuid-4A2B-9C1D.service" },
		{ "system.slice/dev-disk-by\\x2dlabel-swap.swap", "dev-disk-by-label-swap.swap" },
		/* uppercase hex digits are accepted too */
		{ "system.slice/a\\x2Db.service", "a-b.service" },
		/* a NUL would cut the name: kept as written */
		{ "system.slice/a\\x00b.service", "a\\x00b.service" },
		/* incomplete or not hex: kept as written */
		{ "system.slice/a\\x2.service", "a\\x2.service" },
		{ "system.slice/a\\xzzb.service", "a\\xzzb.service" },
		{ "system.slice/tail\\x.service", "tail\\x.service" },
		/* unescapes to a non-UTF-8 byte: stored as is */
		{ "system.slice/b\\xffc.service", "b\xff" "c.service" },
	};
	struct cg_identity id;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		resolve(cases[i].path, &id);
		CHECK_INT(id.runtime, CG_RT_SYSTEMD);
		CHECK_STR(id.name, cases[i].name);
		identity_clear(&id);
	}
}

/* A string of n bytes: lead, then "é" (2 bytes) repeated, so a cut at a
 * fixed byte count can land inside a character. malloc'd. */
static char *long_utf8(const char *lead, size_t n)
{
	char *p = malloc(n + 1);
	size_t l = strlen(lead), i;

	if (!p)
		return NULL;
	memcpy(p, lead, l);
	for (i = l; i + 2 <= n; i += 2)
		memcpy(p + i, "\xc3\xa9", 2);
	p[i] = '\0';
	return p;
}

/* s was capped: at most 1 KiB, ends with the marker, starts with want's
 * start and what it kept is whole UTF-8 characters. */
static void check_capped(const char *s, const char *want)
{
	static const char mark[] = "...[truncated]";
	size_t n = s ? strlen(s) : 0, keep = n - (sizeof(mark) - 1);

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(n <= 1024 && n >= 1024 - 3);
	CHECK(n > sizeof(mark) && strcmp(s + keep, mark) == 0);
	CHECK(strncmp(s, want, keep) == 0);
	/* No character cut in two: the byte before the mark ends one. */
	CHECK(((unsigned char)s[keep - 1] & 0xc0) != 0xc0);
	CHECK(((unsigned char)s[keep - 1] & 0xc0) != 0x80 ||
	      ((unsigned char)s[keep - 2] & 0xe0) == 0xc0);
}

static void test_odd_bytes(void)
{
	char long_path[8192];
	struct cg_identity id;

	/* Anyone may mkdir any bytes in cgroupfs. */
	resolve("system.slice/my weird\n\xff dir", &id);
	CHECK_INT(id.kind, CG_KIND_OTHER);
	CHECK_INT(id.runtime, CG_RT_NONE);
	CHECK_STR(id.name, "my weird\n\xff dir");
	identity_clear(&id);

	/* Outside systemd's alphabet: not a unit, whatever the suffix. */
	resolve("system.slice/foo bar.service", &id);
	CHECK_INT(id.kind, CG_KIND_OTHER);
	CHECK_STR(id.name, "foo bar.service");
	identity_clear(&id);
	resolve("caf\xc3\xa9.slice", &id);
	CHECK_INT(id.kind, CG_KIND_OTHER);
	identity_clear(&id);

	/* A docker name with a space, newline, tab and a raw 0xff byte. */
	resolve("system.slice/docker-" ODD_ID ".scope", &id);
	CHECK_STR(id.name, "odd name\nline2\xff\tX");
	identity_clear(&id);

	/* Very long components (only a --root tree has them: the kernel
	 * stops at 255 bytes) and doubled or trailing slashes. The name, like
	 * every identity string, is capped at 1 KiB with a marker. */
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	memcpy(long_path + sizeof(long_path) - 9, ".service", 8);
	resolve(long_path, &id);
	CHECK_INT(id.kind, CG_KIND_OTHER);
	check_capped(id.name, long_path);
	identity_clear(&id);

	resolve("system.slice//docker-" DOCKER_ID ".scope/", &id);
	CHECK_INT(id.kind, CG_KIND_CONTAINER);
	CHECK_STR(id.name, "web-frontend");
	identity_clear(&id);
}

static void test_clear(void)
{
	struct cg_identity id, zero;

	memset(&zero, 0, sizeof(zero));
	resolve(POD1_SLICE "/cri-containerd-" CTRD_ID ".scope", &id);
	identity_clear(&id);
	CHECK(memcmp(&id, &zero, sizeof(id)) == 0);
	identity_clear(&id);	/* twice is fine */
	identity_clear(NULL);
}

static void test_ctx_state_roots(void)
{
	const char *path = "system.slice/docker-" DOCKER_ID ".scope";
	struct identity_ctx *c;
	struct cg_identity id;

	/* A trailing slash on the root is the same root. */
	CHECK_INT(identity_ctx_new(STATE "//", &c), 0);
	resolve_with(c, path, &id);
	CHECK_STR(id.name, "web-frontend");
	identity_clear(&id);
	identity_ctx_free(c);

	/* The real host: whatever it holds, the rules still apply. */
	CHECK_INT(identity_ctx_new(NULL, &c), 0);
	resolve_with(c, "system.slice/nginx.service", &id);
	CHECK_STR(id.name, "nginx.service");
	identity_clear(&id);
	identity_ctx_free(c);
	CHECK_INT(identity_ctx_new("/", &c), 0);
	identity_ctx_free(c);

	identity_ctx_free(NULL);
	CHECK_INT(identity_ctx_new(STATE, NULL), -EINVAL);
}

/* ---- tests on a state root built in /tmp -------------------------------- */

static char tmp_root[64];

static int rm_fn(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

static void tmp_cleanup(void)
{
	if (tmp_root[0])
		nftw(tmp_root, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
	tmp_root[0] = '\0';
}

static int mkdir_p(const char *path)
{
	char buf[4096], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* Writes via rename, as containers/storage does, so the inode changes. */
static int write_file(const char *rel, const char *text)
{
	char path[4096], tmp[4200], dir[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp_root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	if (mkdir_p(dir))
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fputs(text, f);
	if (fclose(f))
		return -1;
	return rename(tmp, path);
}

static bool tmp_setup(void)
{
	snprintf(tmp_root, sizeof(tmp_root), "/tmp/cgwarden-identity-XXXXXX");
	if (!mkdtemp(tmp_root)) {
		tmp_root[0] = '\0';
		return false;
	}
	return true;
}

#define STORE_REL	"var/lib/containers/storage/overlay-containers/containers.json"

static void test_cache_follows_changes(void)
{
	const char *path = "machine.slice/libpod-" PODMAN_ID ".scope";
	struct identity_ctx *c;
	struct cg_identity id;
	char dir[256];

	if (!tmp_setup())
		TEST_SKIP("mkdtemp: %s", strerror(errno));
	CHECK_INT(identity_ctx_new(tmp_root, &c), 0);

	resolve_with(c, path, &id);
	CHECK_STR(id.name, "0a1b2c3d4e5f");
	identity_clear(&id);

	CHECK_INT(write_file(STORE_REL, "[{\"id\":\"" PODMAN_ID "\",\"names\":[\"one\"]}]"), 0);
	resolve_with(c, path, &id);
	CHECK_STR(id.name, "one");
	identity_clear(&id);

	/* Renamed, as `podman rename` does. */
	CHECK_INT(write_file(STORE_REL, "[{\"id\":\"" PODMAN_ID "\",\"names\":[\"two\"]}]"), 0);
	resolve_with(c, path, &id);
	CHECK_STR(id.name, "two");
	identity_clear(&id);

	/* Pod folder appears after the pod was first seen. */
	resolve_with(c, "kubepods/pod" UID2, &id);
	CHECK_STR(id.name, "pod " UID2);
	identity_clear(&id);
	snprintf(dir, sizeof(dir), "%s/var/log/pods/team-a_late-pod_" UID2, tmp_root);
	CHECK_INT(mkdir_p(dir), 0);
	resolve_with(c, "kubepods/pod" UID2, &id);
	CHECK_STR(id.name, "late-pod");
	CHECK_STR(id.k8s_namespace, "team-a");
	identity_clear(&id);

	identity_ctx_free(c);
	tmp_cleanup();
}

static void test_many_podman_containers(void)
{
	enum { N = 3000 };
	struct identity_ctx *c;
	struct cg_identity id;
	char cid[65], path[128], want[32];
	size_t cap = (size_t)N * 100 + 16, len = 0;
	char *json = malloc(cap);
	int i, bad = 0;

	if (!json)
		TEST_SKIP("out of memory");
	if (!tmp_setup()) {
		free(json);
		TEST_SKIP("mkdtemp: %s", strerror(errno));
	}
	/* Descending ids, so the cache must sort to find them. */
	len += (size_t)snprintf(json + len, cap - len, "[");
	for (i = N - 1; i >= 0; i--)
		len += (size_t)snprintf(json + len, cap - len,
					"%s{\"id\":\"%064x\",\"names\":[\"c%d\"]}",
					i == N - 1 ? "" : ",", i, i);
	snprintf(json + len, cap - len, "]");
	CHECK_INT(write_file(STORE_REL, json), 0);
	free(json);

	CHECK_INT(identity_ctx_new(tmp_root, &c), 0);
	for (i = 0; i < N; i++) {
		snprintf(cid, sizeof(cid), "%064x", i);
		snprintf(path, sizeof(path), "machine.slice/libpod-%s.scope", cid);
		snprintf(want, sizeof(want), "c%d", i);
		if (identity_resolve(c, path, &id) || !id.name || strcmp(id.name, want))
			bad++;
		identity_clear(&id);
	}
	CHECK_INT(bad, 0);
	identity_ctx_free(c);
	tmp_cleanup();
}

/* Hostile runtime state: names, images and labels of megabytes, in each
 * kind of file we read (docker's config, a CRI bundle's annotations,
 * containers.json). Every identity string comes out at most 1 KiB, with a
 * marker, cut between characters; short ones are untouched. */
static void test_runtime_strings_are_capped(void)
{
	char *big = long_utf8("x", 3u << 20), *odd = long_utf8("yy", 200000);
	char *json = NULL;
	struct identity_ctx *c = NULL;
	struct cg_identity id;
	size_t cap;

	if (!big || !odd || !tmp_setup()) {
		free(big);
		free(odd);
		TEST_SKIP("out of memory or mkdtemp");
	}
	cap = strlen(big) + 2 * strlen(odd) + 4096;
	json = malloc(cap);
	CHECK(json != NULL);
	if (!json)
		goto out;
	snprintf(json, cap, "{\"Name\":\"/%s\",\"Config\":{\"Image\":\"%s\",\"Labels\":{}}}", odd, big);
	CHECK_INT(write_file("var/lib/docker/containers/" DOCKER_ID "/config.v2.json", json), 0);
	snprintf(json, cap, "{\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
		 "\"io.kubernetes.cri.container-name\":\"%s\",\"io.kubernetes.cri.sandbox-name\":"
		 "\"%s\",\"io.kubernetes.cri.sandbox-namespace\":\"ns\","
		 "\"io.kubernetes.cri.image-name\":\"%s\"}}", odd, odd, big);
	CHECK_INT(write_file("run/containerd/io.containerd.runtime.v2.task/k8s.io/" CTRD_ID
			     "/config.json", json), 0);
	snprintf(json, cap, "[{\"id\":\"" PODMAN_ID "\",\"names\":[\"%s\"]}]", big);
	CHECK_INT(write_file(STORE_REL, json), 0);
	CHECK_INT(identity_ctx_new(tmp_root, &c), 0);
	if (!c)
		goto out;

	resolve_with(c, "system.slice/docker-" DOCKER_ID ".scope", &id);
	check_capped(id.name, odd);
	check_capped(id.image, big);
	CHECK_STR(id.short_id, "3f4e8a9c1b2d");
	identity_clear(&id);

	resolve_with(c, POD1_SLICE "/cri-containerd-" CTRD_ID ".scope", &id);
	check_capped(id.name, odd);
	check_capped(id.k8s_container, odd);
	check_capped(id.k8s_pod, odd);
	check_capped(id.image, big);
	CHECK_STR(id.k8s_namespace, "ns");	/* short: as it was */
	identity_clear(&id);

	resolve_with(c, "machine.slice/libpod-" PODMAN_ID ".scope", &id);
	check_capped(id.name, big);
	identity_clear(&id);
	identity_ctx_free(c);
out:
	free(json);
	free(big);
	free(odd);
	tmp_cleanup();
}

static void on_alarm(int sig)
{
	(void)sig;
	/* A blocked open() on a FIFO never returns: say so and stop. */
	static const char msg[] = "FAIL test_fifo_does_not_block: blocked\n";
	ssize_t r = write(1, msg, sizeof(msg) - 1);

	(void)r;
	_exit(1);
}

static void test_fifo_does_not_block(void)
{
	char path[512];
	struct identity_ctx *c;
	struct cg_identity id;

	if (!tmp_setup())
		TEST_SKIP("mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/var/lib/docker/containers/%s", tmp_root, DOCKER_ID);
	CHECK_INT(mkdir_p(path), 0);
	strcat(path, "/config.v2.json");
	if (mkfifo(path, 0600) < 0) {
		tmp_cleanup();
		TEST_SKIP("mkfifo: %s", strerror(errno));
	}
	CHECK_INT(identity_ctx_new(tmp_root, &c), 0);
	signal(SIGALRM, on_alarm);
	alarm(10);
	resolve_with(c, "system.slice/docker-" DOCKER_ID ".scope", &id);
	alarm(0);
	CHECK_INT(id.kind, CG_KIND_CONTAINER);
	CHECK_STR(id.name, "3f4e8a9c1b2d");
	identity_clear(&id);
	identity_ctx_free(c);
	tmp_cleanup();
}

/* ---- every directory of the captured tree ------------------------------- */

static int tree_bad;

static int tree_fn(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	const char *rel = p + strlen(TREE);
	struct cg_identity id;

	(void)sb;
	(void)ftw;
	if (flag != FTW_D)
		return 0;
	if (*rel == '/')
		rel++;
	memset(&id, 0, sizeof(id));
	if (identity_resolve(ctx, rel, &id) || !id.name) {
		printf("  %s: no identity\n", rel);
		tree_bad++;
	} else if (id.kind == CG_KIND_OTHER && *rel) {
		/* Every cgroup of the captured host is something we know. */
		printf("  %s: kind other\n", rel);
		tree_bad++;
	}
	identity_clear(&id);
	return 0;
}

static void test_whole_fixture_tree(void)
{
	tree_bad = 0;
	CHECK_INT(nftw(TREE, tree_fn, 16, FTW_PHYS), 0);
	CHECK_INT(tree_bad, 0);
}

int main(void)
{
	if (identity_ctx_new(STATE, &ctx)) {
		printf("FAIL identity_ctx_new\n");
		return 1;
	}
	RUN(test_root);
	RUN(test_docker_systemd_fixture);
	RUN(test_docker_cgroupfs_driver);
	RUN(test_docker_missing_config);
	RUN(test_docker_malformed_config);
	RUN(test_not_a_container_id);
	RUN(test_json_read_docker_info);
	RUN(test_json_read_storage_containers);
	RUN(test_kubepods_slices);
	RUN(test_pod_burstable_fixture);
	RUN(test_pod_guaranteed_and_besteffort);
	RUN(test_containerd_fixture);
	RUN(test_crio);
	RUN(test_conmon);
	RUN(test_podman_fixture);
	RUN(test_kubepods_cgroupfs_driver);
	RUN(test_bare_id_outside_kubernetes);
	RUN(test_docker_in_pod_systemd);
	RUN(test_children_of_containers);
	RUN(test_systemd_units);
	RUN(test_escaped_unit_names);
	RUN(test_odd_bytes);
	RUN(test_clear);
	RUN(test_ctx_state_roots);
	RUN(test_cache_follows_changes);
	RUN(test_many_podman_containers);
	RUN(test_runtime_strings_are_capped);
	RUN(test_fifo_does_not_block);
	RUN(test_whole_fixture_tree);
	identity_ctx_free(ctx);
	TEST_EXIT();
}
