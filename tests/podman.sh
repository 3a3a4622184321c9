# SPDX-License-Identifier: GPL-2.0-only
# Real podman containers for the tests; source it after tests/lib.sh.
# No registry is reachable on these hosts, so every image is built here from
# scratch (shared HOST.md, "Real containers here").
#
#   podman_setup || { skip NAME "$SKIP_WHY"; finish; }
#   img=$(podman_busybox_image)            # localhost/cgwarden-test-bbox:1
#   podman run -d --name "cgwarden-test-$$-web" "$img" sh -c '...'
#   podman_cleanup                         # EXIT trap; removes what we started
#
# Containers a test starts are named cgwarden-test-<pid>-*: podman_cleanup
# removes those and nothing else, so a user's own containers are never
# touched.

PODMAN_TEST_IMAGE=localhost/cgwarden-test-bbox:1
PODMAN_PREFIX=cgwarden-test-$$-

# Sets CONTAINERS_CONF for this test and checks podman can start a container.
# Returns 1 with the reason in SKIP_WHY when it cannot.
podman_setup() {
	local mnt err
	SKIP_WHY=
	if [ "$(id -u)" -ne 0 ]; then SKIP_WHY="needs root (rootful podman)"; return 1; fi
	if ! command -v podman >/dev/null || ! command -v buildah >/dev/null; then
		SKIP_WHY="podman or buildah not installed (scripts/deps.sh --test installs them)"
		return 1
	fi
	if [ ! -x /bin/busybox ] || ! LC_ALL=C ldd /bin/busybox 2>&1 | grep -q 'not a dynamic'; then
		SKIP_WHY="no static /bin/busybox (package busybox-static) to build the test image from"
		return 1
	fi
	# Unpacking a layer and starting a container both need a private
	# mount namespace whose / can be remounted: a chroot whose root is
	# not a mount point has none (buildah: "remount /, flags: 0x44000:
	# invalid argument").
	if ! err=$(unshare -m --propagation private true 2>&1); then
		SKIP_WHY="no private mount namespace, which containers need (a chroot whose / is not a mount point?): $err"
		return 1
	fi
	# podman's default ulimits ask for more than this machine lets a process
	# raise (setrlimit EPERM); crun refuses a hybrid cgroup host, runc works.
	PODMAN_CONF_DIR=$(mktemp -d /tmp/cgwarden-podman.XXXXXX)
	export CONTAINERS_CONF=$PODMAN_CONF_DIR/containers.conf
	{
		echo '[containers]'
		echo 'default_ulimits = []'
		echo '[engine]'
		mnt=$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)
		if [ "$mnt" != cgroup2fs ] && command -v runc >/dev/null; then
			echo 'runtime = "runc"'
		fi
	} >"$CONTAINERS_CONF"
	if ! podman info >/dev/null 2>"$PODMAN_CONF_DIR/info.err"; then
		SKIP_WHY="podman info failed: $(tail -n 1 "$PODMAN_CONF_DIR/info.err")"
		return 1
	fi
	trap 'podman_cleanup; declare -F cg_cleanup >/dev/null && cg_cleanup' EXIT
	return 0
}

# Builds (once per host; reused while it exists) the busybox image from
# scratch and prints its name.
podman_busybox_image() {
	local c
	if ! podman image exists "$PODMAN_TEST_IMAGE" 2>/dev/null; then
		c=$(buildah from scratch) || return 1
		# busybox's applets as links, so "sh", "sleep" and "top" work as
		# they would in any image.
		if buildah copy "$c" /bin/busybox /bin/busybox >/dev/null &&
			buildah run "$c" -- /bin/busybox --install -s /bin >/dev/null &&
			buildah config --env PATH=/bin --cmd '["/bin/sh"]' "$c" >/dev/null &&
			buildah commit -q "$c" "$PODMAN_TEST_IMAGE" >/dev/null; then
			buildah rm "$c" >/dev/null 2>&1
		else
			buildah rm "$c" >/dev/null 2>&1
			return 1
		fi
	fi
	echo "$PODMAN_TEST_IMAGE"
}

# container_wait_running CLI NAME: until podman or docker (same inspect
# templates) says it runs (5 s).
container_wait_running() {
	local i
	for i in $(seq 50); do
		[ "$("$1" inspect -f '{{.State.Running}}' "$2" 2>/dev/null)" = true ] && return 0
		sleep 0.1
	done
	return 1
}
podman_wait_running() { container_wait_running podman "$1"; }

# container_cgroup CLI NAME: its cgroup, relative to the v2 mount, from its
# first process.
container_cgroup() {
	local pid
	pid=$("$1" inspect -f '{{.State.Pid}}' "$2") || return 1
	sed -n 's/^0:://p' "/proc/$pid/cgroup" | sed 's,^/,,'
}
podman_cgroup() { container_cgroup podman "$1"; }

# Removes the containers this test started (by their name prefix).
podman_cleanup() {
	local names
	[ -n "${PODMAN_CONF_DIR:-}" ] || return 0
	names=$(podman ps -a --format '{{.Names}}' 2>/dev/null | grep "^$PODMAN_PREFIX")
	[ -n "$names" ] && podman rm -f -t 0 $names >/dev/null 2>&1
	rm -rf "$PODMAN_CONF_DIR"
	PODMAN_CONF_DIR=
	return 0
}
