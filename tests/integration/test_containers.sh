#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Real containers, not fixtures: for each runtime that can start one here
# (podman; containerd with a daemon of the test's own; docker: the engine
# that answers, else a dockerd of the test's own),
# a named container burning CPU and an idle one, then
#  - snapshot: both cgroups carry the container's name, image, runtime and
#    kind; the burner's CPU agrees with its cpu.stat (exact bounds below);
#  - serve: /metrics has the series with the same name/image/runtime labels;
#  - top: the burner's name on the first screen, image and runtime in its
#    detail view;
#  - names: what each runtime lets through is shown escaped where it must be
#    (podman refuses odd bytes in a name; a containerd CRI name is free text);
#  - removal: after the runtime removes the burner it leaves serve's /metrics,
#    top and a new snapshot, and nothing is said about it on stderr.
# A runtime that cannot run here prints "SKIP <runtime>: <why>".
#
# CPU ground truth, exact on any load: the burner is one thread, so it uses
# at most 1 CPU-second per second. cpu.stat read before (K1, at t1) and after
# (K2, at t2) "snapshot --interval I": cgwarden's usage_usec (its second read)
# lies in [K1, K2]; its ratio covers dt between its two reads of the cgroup,
# dt <= t2 - t1 and dt >= I (it sleeps I after its first walk has ended), so
# ratio <= (K2 - K1) / I and ratio >= 1 - ((t2 - t1) - (K2 - K1)) / I; 0.01
# either side for rounding.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../podman.sh"
[ -x "$CGWARDEN" ] || { fail containers "$CGWARDEN not built"; finish; }
for t in jq curl python3 tmux; do
	if ! command -v "$t" >/dev/null; then
		skip containers "$t not installed (scripts/deps.sh --test)"
		finish
	fi
done
if [ "$(id -u)" -ne 0 ]; then skip containers "needs root (rootful runtimes)"; finish; fi
CG_MNT=$(cg2_mount)
[ -n "$CG_MNT" ] || { skip containers "no cgroup2 mount"; finish; }

SOCK=cgwarden-ctr-$$
WAIT=${TOP_WAIT:-15}
. "$(dirname "$0")/../tmux.sh"
INTERVAL=2
url=
tmp=$(mktemp -d /tmp/cgwarden-ctr.XXXXXX)
srv_pid=
ctrd_pid=
ctrd_dir=
CTRD_PARENT=cgwarden-test-$$-ctrd

stop_serve() {
	[ -n "$srv_pid" ] || return 0
	kill -TERM "$srv_pid" 2>/dev/null
	wait "$srv_pid" 2>/dev/null
	srv_pid=
}
cleanup() {
	stop_serve
	kill_server
	podman_cleanup
	docker_cleanup
	containerd_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT

# ---- shared checks ------------------------------------------------------------
# Set by each runtime's section before ctr_checks:
#   RT        runtime as cgwarden names it (podman, containerd, docker)
#   BURN IDLE container names (as the runtime's state has them)
#   BURN_CG IDLE_CG  their cgroups, relative to the v2 mount
#   BURN_ID   the burner's 64-hex id; IMAGE its image
#   BURN_PROM the name as a /metrics label value is written
#   BURN_TOP  an ERE for the name as top draws it
#   FILTER    plain text of the name to type into top's filter
#   PROM_MORE labels after container_id (k8s ones), "" for none
#   CGW       extra cgwarden options (--state-root)
usage_usec() { awk '$1 == "usage_usec" { print $2 }' "$CG_MNT/$1/cpu.stat"; }
now_usec() { echo "${EPOCHREALTIME/./}"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# ere TEXT: TEXT quoted for grep -E.
ere() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'; }

ctr_checks() {
	local p=$RT k1 k2 t1 t2 got ratio c cgid labels line val w

	# ---- snapshot: names and CPU ----
	k1=$(usage_usec "$BURN_CG") t1=$(now_usec)
	"$CGWARDEN" snapshot --interval "$INTERVAL" --compact "${CGW[@]}" >"$tmp/snap.json" 2>"$tmp/snap.err"
	k2=$(usage_usec "$BURN_CG") t2=$(now_usec)
	for w in burn idle; do
		local n=$BURN cg=$BURN_CG
		[ "$w" = idle ] && n=$IDLE cg=$IDLE_CG
		if jq -e --arg p "$cg" --arg n "$n" --arg i "$IMAGE" --arg r "$RT" \
			'[.cgroups[] | select(.path == $p and .name == $n and .image == $i and
			  .runtime == $r and .kind == "container")] | length == 1' "$tmp/snap.json" >/dev/null; then
			pass "${p}_snapshot_names_$w"
		else
			fail "${p}_snapshot_names_$w" "want name $(printf %q "$n"), image $IMAGE, runtime $RT, kind container at $cg; got $(jq -c --arg p "$cg" \
				'.cgroups[] | select(.path == $p) | {name, image, runtime, kind}' "$tmp/snap.json")"
		fi
	done
	jq -e --arg p "$BURN_CG" --arg id "$BURN_ID" \
		'.cgroups[] | select(.path == $p) | .container_id == $id and .short_id == $id[:12]' \
		"$tmp/snap.json" >/dev/null && pass "${p}_snapshot_container_id" ||
		fail "${p}_snapshot_container_id" "want $BURN_ID"
	got=$(jq -r --arg p "$BURN_CG" '.cgroups[] | select(.path == $p) | "\(.cpu.usage_usec) \(.cpu.usage_ratio)"' "$tmp/snap.json")
	c=${got% *} ratio=${got#* }
	if awk -v rt="$RT" -v k1="$k1" -v k2="$k2" -v t="$((t2 - t1))" -v c="$c" -v r="$ratio" -v i="$((INTERVAL * 1000000))" '
		BEGIN {
			hi = (k2 - k1) / i + 0.01
			lo = 1 - (t - (k2 - k1)) / i - 0.01
			printf "# %s: kernel %.3f CPU over %.2f s; cgwarden %.3f CPU (bounds %.3f..%.3f), usage_usec %s in [%s, %s]\n",
				rt, (k2 - k1) / t, t / 1e6, r, lo, hi, c, k1, k2
			exit !(c ~ /^[0-9]+$/ && r ~ /^[0-9.e+-]+$/ && c >= k1 && c <= k2 && r <= hi && r >= lo)
		}'; then
		pass "${p}_snapshot_cpu_matches_cpu_stat"
	else
		fail "${p}_snapshot_cpu_matches_cpu_stat" "usage_usec/ratio '$got' out of bounds"
	fi
	# Busy and idle tell apart: 5% of a CPU is far below what a busy loop
	# gets even on a loaded 2-CPU host, far above what sleep uses.
	awk -v d="$((k2 - k1))" -v t="$((t2 - t1))" 'BEGIN { exit !(d / t >= 0.05) }' &&
		pass "${p}_burner_busy" || fail "${p}_burner_busy" "$((k2 - k1)) us of CPU in $((t2 - t1)) us"
	got=$(jq -r --arg p "$IDLE_CG" '.cgroups[] | select(.path == $p) | .cpu.usage_ratio' "$tmp/snap.json")
	awk -v r="$got" 'BEGIN { exit !(r ~ /^[0-9.e+-]+$/ && r < 0.05) }' && pass "${p}_idle_idle" ||
		fail "${p}_idle_idle" "usage_ratio $got"
	got=$(unexpected_stderr "$tmp/snap.err")
	[ -z "$got" ] && pass "${p}_snapshot_quiet" || fail "${p}_snapshot_quiet" "$got"

	# ---- serve: /metrics labels (serve runs on for ctr_gone) ----
	url=http://127.0.0.1:$(free_port)
	"$CGWARDEN" serve --listen "${url#http://}" --interval 0.5 "${CGW[@]}" \
		>"$tmp/serve.out" 2>"$tmp/serve.err" &
	srv_pid=$!
	cgid=$(stat -c %i "$CG_MNT/$BURN_CG")
	labels="id=\"/$BURN_CG\",name=\"$BURN_PROM\",cgroup_id=\"$cgid\",kind=\"container\",runtime=\"$RT\",image=\"$IMAGE\",container_id=\"$BURN_ID\"$PROM_MORE"
	line=
	for _ in $(seq $((WAIT * 5))); do
		curl -s "$url/metrics" >"$tmp/metrics" 2>/dev/null
		line=$(grep -F "container_cpu_usage_seconds_total{$labels} " "$tmp/metrics") && break
		sleep 0.2
	done
	val=${line##* }
	k2=$(usage_usec "$BURN_CG")
	if [ -n "$line" ] && awk -v v="$val" -v k="$k2" 'BEGIN { exit !(v > 0 && v * 1e6 <= k + 1) }'; then
		pass "${p}_metrics_labels"
	else
		fail "${p}_metrics_labels" "no container_cpu_usage_seconds_total{$labels} <0..$k2 us> in /metrics; lines with $BURN_CG: $(grep -F -m 2 "$BURN_CG" "$tmp/metrics")"
	fi
	grep -q "^container_cpu_usage_seconds_total{id=\"/$(ere "$IDLE_CG")\",.*,kind=\"container\",runtime=\"$RT\",image=\"$(ere "$IMAGE")\"" \
		"$tmp/metrics" && pass "${p}_metrics_idle" || fail "${p}_metrics_idle" "no series for $IDLE_CG"

	# ---- top: first screen, detail ----
	start --interval 0.5 --no-bpf --quiet "${CGW[@]}"
	top_seen=
	if wait_for "^$BURN_TOP +ctr +[0-9]"; then
		top_seen=1
		pass "${p}_top_first_screen"
	else
		fail "${p}_top_first_screen" "no row for $BURN_TOP; screen was:"
		screen | sed 's/^/    | /'
	fi
	keys /
	tm send-keys -t top -l "$FILTER"
	keys Enter Enter
	if wait_for "^ $BURN_TOP  \\(container, $RT\\)  cgroup id $cgid\$" &&
		wait_for "^ image +$(ere "$IMAGE")\$" && wait_for "^ container +$BURN_ID\$"; then
		pass "${p}_top_detail"
	else
		fail "${p}_top_detail" "want name, (container, $RT), image $IMAGE; screen was:"
		screen | sed 's/^/    | /'
	fi
	keys Escape Escape
	wait_for 'WORKLOADS [0-9]+ \+ [0-9]+ other cgroups? with processes  ' >/dev/null
}

# ctr_gone: after the runtime removed the burner (IDLE stays): serve's
# /metrics and top drop it, a new snapshot has neither its cgroup nor its
# name, and nobody says anything about it on stderr.
ctr_gone() {
	local p=$RT gone got
	for _ in $(seq $((WAIT * 5))); do
		curl -s "$url/metrics" >"$tmp/metrics" 2>/dev/null
		if grep -q "^container_cpu_usage_seconds_total{id=\"/$(ere "$IDLE_CG")\"" "$tmp/metrics" &&
			! grep -qF "id=\"/$BURN_CG\"" "$tmp/metrics"; then
			gone=1
			break
		fi
		sleep 0.2
	done
	[ -n "$gone" ] && pass "${p}_gone_from_metrics" || fail "${p}_gone_from_metrics" "still there after ${WAIT} s"
	gone=
	if [ -n "$top_seen" ]; then
		for _ in $(seq $((WAIT * 10))); do
			# (the list is drawn, and the row is not on it)
			screen >"$tmp/screen"
			grep -Eq 'WORKLOADS [0-9]+ \+ [0-9]+ other cgroups? with processes' "$tmp/screen" &&
				! grep -Eq -- "^$BURN_TOP +ctr" "$tmp/screen" && gone=1 && break
			sleep 0.1
		done
	fi
	if [ -n "$gone" ]; then
		pass "${p}_gone_from_top"
	else
		fail "${p}_gone_from_top" "$([ -n "$top_seen" ] && echo "still shown after $WAIT s" || echo "top never showed it"); screen was:"
		screen | sed 's/^/    | /'
	fi
	"$CGWARDEN" snapshot --compact "${CGW[@]}" >"$tmp/snap2.json" 2>"$tmp/snap2.err"
	if jq -e --arg p "$BURN_CG" --arg n "$BURN" --arg q "$IDLE_CG" \
		'([.cgroups[] | select(.path == $p or .name == $n)] | length == 0) and
		 ([.cgroups[] | select(.path == $q)] | length == 1)' "$tmp/snap2.json" >/dev/null; then
		pass "${p}_gone_from_snapshot"
	else
		fail "${p}_gone_from_snapshot" "$(jq -c --arg p "$BURN_CG" '.cgroups[] | select(.path == $p) | {path, name}' "$tmp/snap2.json")"
	fi
	stop_serve
	kill_server
	got=$(unexpected_stderr "$tmp/snap2.err"; grep -v '^cgwarden: serving on ' "$tmp/serve.err" | unexpected_stderr /dev/stdin)
	[ -z "$got" ] && pass "${p}_gone_quietly" || fail "${p}_gone_quietly" "stderr: $got"
}

# ---- podman -----------------------------------------------------------------
# cli_case CLI REFUSAL: the checks for a runtime driven by a podman-style
# CLI (podman, docker: the same run/inspect/create/kill): a busy and an idle
# container through every face, an odd name refused with REFUSAL, then the
# burner removed. IMAGE, RT, CGW and PROM_MORE are set by the caller.
cli_run() {
	local cli=$1 name=$2
	shift 2
	"$cli" run -d --network none --name "$name" "$IMAGE" "$@" >/dev/null 2>"$tmp/$cli.err" &&
		container_wait_running "$cli" "$name"
}
cli_case() {
	local cli=$1 refusal=$2
	# What both allow in a name: letters, digits, '_', '.', '-'.
	BURN=${PODMAN_PREFIX}Web_1.x-y IDLE=${PODMAN_PREFIX}idle
	if ! cli_run "$cli" "$BURN" sh -c 'while :; do :; done' || ! cli_run "$cli" "$IDLE" sleep 3600; then
		fail "${cli}_run" "$(cat "$tmp/$cli.err")"
		return
	fi
	BURN_CG=$(container_cgroup "$cli" "$BURN") IDLE_CG=$(container_cgroup "$cli" "$IDLE")
	BURN_ID=$("$cli" inspect -f '{{.Id}}' "$BURN")
	BURN_PROM=$BURN BURN_TOP=$(ere "$BURN") FILTER=Web_1.x
	ctr_checks
	# Nothing odd gets in: the runtime refuses it at the door.
	if ! "$cli" create --name "${PODMAN_PREFIX}a\"b\$(x)"$'\n' "$IMAGE" true >/dev/null 2>"$tmp/odd.err" &&
		grep -q "$refusal" "$tmp/odd.err"; then
		pass "${cli}_refuses_odd_names"
	else
		fail "${cli}_refuses_odd_names" "$cli took it: $(cat "$tmp/odd.err")"
	fi
	# SIGKILL first: podman's rm -f would wait its stop timeout.
	"$cli" kill "$BURN" >/dev/null 2>&1
	"$cli" rm -f "$BURN" >/dev/null 2>&1
	ctr_gone
}

if ! podman_setup; then
	skip podman "$SKIP_WHY"
else
	# podman_setup installed its own EXIT trap; ours removes more.
	trap cleanup EXIT
	RT=podman CGW=() PROM_MORE=
	if ! IMAGE=$(podman_busybox_image); then
		fail podman_image "could not build $PODMAN_TEST_IMAGE"
	else
		cli_case podman 'names must match'
	fi
fi

# ---- containerd -------------------------------------------------------------
# daemon_leftovers DIR PARENT: what a daemon of ours (root and state in DIR,
# containers under cgroup PARENT) can leave once it is stopped: runc made
# PARENT in every hierarchy (the v1 ones too on a hybrid host), and a layer
# may still be mounted under DIR if a container was not removed.
daemon_leftovers() {
	local m
	for m in $(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) ~ /^cgroup2?$/) print $5; break } }' /proc/self/mountinfo); do
		[ -d "$m/$2" ] || continue
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			rmdir "$m/$2" 2>/dev/null && break
			sleep 0.2
		done
	done
	awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | xargs -r -n1 umount 2>/dev/null
}
# daemon_stop PID DIR PARENT: a daemon of ours stopped (PID may be empty:
# it did not start), then what it leaves removed, DIR included.
daemon_stop() {
	if [ -n "$1" ]; then
		kill -TERM "$1" 2>/dev/null
		wait "$1" 2>/dev/null
	fi
	daemon_leftovers "$2" "$3"
	rm -rf "$2"
}
containerd_cleanup() {
	[ -n "$ctrd_dir" ] || return 0
	if [ -n "$ctrd_pid" ]; then
		for c in $(ctrd tasks ls -q 2>/dev/null); do ctrd tasks kill -s KILL "$c" >/dev/null 2>&1; done
		for c in $(ctrd containers ls -q 2>/dev/null); do
			for _ in 1 2 3 4 5 6 7 8 9 10; do
				ctrd tasks delete -f "$c" >/dev/null 2>&1
				ctrd containers delete "$c" >/dev/null 2>&1 && break
				sleep 0.2
			done
		done
	fi
	daemon_stop "$ctrd_pid" "$ctrd_dir" "$CTRD_PARENT"
	ctrd_pid= ctrd_dir=
}
ctrd() { ctr -a "$ctrd_dir/c.sock" -n k8s.io "$@"; }

# A containerd of our own: root and state under /tmp, so nothing of the
# host's is touched. Its state is laid out as <dir>/sr/run/containerd, which
# cgwarden reads with --state-root <dir>/sr.
containerd_start() {
	SKIP_WHY=
	for t in containerd ctr containerd-shim-runc-v2 runc buildah; do
		if ! command -v "$t" >/dev/null; then
			SKIP_WHY="$t not installed (scripts/deps.sh --test installs containerd)"
			return 1
		fi
	done
	ctrd_dir=$(mktemp -d /tmp/cgwarden-ctrd.XXXXXX)
	mkdir -p "$ctrd_dir/sr/run"
	cat >"$ctrd_dir/config.toml" <<-EOF
		version = 2
		root = "$ctrd_dir/root"
		state = "$ctrd_dir/sr/run/containerd"
		# No CRI: the test plays its part (the annotations below).
		disabled_plugins = ["io.containerd.grpc.v1.cri"]
		[grpc]
		  address = "$ctrd_dir/c.sock"
		[ttrpc]
		  address = "$ctrd_dir/c.sock.ttrpc"
	EOF
	containerd --config "$ctrd_dir/config.toml" >"$ctrd_dir/log" 2>&1 &
	ctrd_pid=$!
	for _ in $(seq 50); do
		ctrd version >/dev/null 2>&1 && break
		kill -0 "$ctrd_pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! ctrd version >/dev/null 2>"$ctrd_dir/version.err"; then
		SKIP_WHY="containerd did not start: $(tail -n 1 "$ctrd_dir/log")"
		return 1
	fi
	if [ -z "$IMAGE" ] || ! buildah push -q "$IMAGE" "oci-archive:$ctrd_dir/img.tar:$IMAGE" >/dev/null 2>"$ctrd_dir/push.err"; then
		SKIP_WHY="no image to import: buildah push: $(tail -n 1 "$ctrd_dir/push.err" 2>/dev/null)"
		return 1
	fi
	if ! ctrd images import "$ctrd_dir/img.tar" >/dev/null 2>"$ctrd_dir/import.err"; then
		SKIP_WHY="ctr images import: $(tail -n 1 "$ctrd_dir/import.err")"
		return 1
	fi
	return 0
}

# ctrd_run ID NAME CMD...: a task with the annotations containerd's CRI
# plugin writes into the bundle (what cgwarden reads), in a bare-id cgroup
# under our parent, as the cgroupfs driver makes them.
ctrd_run() {
	local id=$1 name=$2
	shift 2
	ctrd run -d --cgroup "/$CTRD_PARENT/$id" \
		--annotation io.kubernetes.cri.container-type=container \
		--annotation "io.kubernetes.cri.container-name=$name" \
		--annotation "io.kubernetes.cri.image-name=$IMAGE" \
		--annotation io.kubernetes.cri.sandbox-name=cgwarden-test-pod \
		--annotation io.kubernetes.cri.sandbox-namespace=cgwarden-test \
		"$IMAGE" "$id" "$@" >/dev/null 2>"$ctrd_dir/run.err" || return 1
	for _ in $(seq 50); do
		[ -d "$CG_MNT/$CTRD_PARENT/$id" ] && return 0
		sleep 0.1
	done
	echo "no cgroup $CTRD_PARENT/$id" >>"$ctrd_dir/run.err"
	return 1
}
hexid() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# The same image, from buildah's store (built there if podman's part did not).
IMAGE=
command -v buildah >/dev/null && IMAGE=$(podman_busybox_image 2>/dev/null)
if ! containerd_start; then
	skip containerd "$SKIP_WHY"
else
	RT=containerd CGW=(--state-root "$ctrd_dir/sr")
	# A CRI name is free text: a quote, a backslash, a newline, a tab, an
	# escape sequence that would set the terminal's title, and UTF-8.
	BURN=$'web "q" \\ x\ny\tz\e]0;pwned\a-\xc3\xa9'
	BURN_PROM='web \"q\" \\ x\ny'$'\tz\e]0;pwned\a-\xc3\xa9'
	# top escapes what could steer the terminal; a backslash is not one.
	BURN_TOP='web "q" \\ x\\ny\\tz\\e\]0;pwned\\x07-é'
	FILTER='web "q"'
	IDLE=idle
	BURN_ID=$(hexid) idle_id=$(hexid)
	BURN_CG=$CTRD_PARENT/$BURN_ID IDLE_CG=$CTRD_PARENT/$idle_id
	PROM_MORE=',namespace="cgwarden-test",pod="cgwarden-test-pod",container="'$BURN_PROM'"'
	if ! ctrd_run "$BURN_ID" "$BURN" sh -c 'while :; do :; done' || ! ctrd_run "$idle_id" "$IDLE" sleep 3600; then
		fail containerd_run "$(cat "$ctrd_dir/run.err")"
	else
		ctr_checks
		[ "$(tm display -p -t top '#{pane_title}' 2>/dev/null)" != pwned ] &&
			pass containerd_title_untouched || fail containerd_title_untouched "the name set the pane's title"
		ctrd tasks kill -s KILL "$BURN_ID" >/dev/null 2>&1
		for _ in $(seq 50); do
			ctrd tasks delete "$BURN_ID" >/dev/null 2>&1 && break
			sleep 0.1
		done
		ctrd containers delete "$BURN_ID" >/dev/null 2>&1
		ctr_gone
	fi
fi

# ---- docker -----------------------------------------------------------------
# An engine that answers is used as it is; without one, a dockerd of our own
# (Debian's docker.io) with its data under /tmp, like containerd's above.
DOCKER_PARENT=cgwarden-test-$$-docker
dockerd_pid=
dockerd_dir=
docker_cleanup() {
	local names
	names=$(docker ps -a --format '{{.Names}}' 2>/dev/null | grep "^$PODMAN_PREFIX")
	[ -n "$names" ] && docker rm -f $names >/dev/null 2>&1
	[ -n "$dockerd_dir" ] || return 0
	daemon_stop "$dockerd_pid" "$dockerd_dir" "$DOCKER_PARENT"
	dockerd_pid= dockerd_dir=
}
docker_start() {
	SKIP_WHY=
	if ! command -v docker >/dev/null; then
		SKIP_WHY="no docker client (docker.io)"
		return 1
	fi
	if docker info >/dev/null 2>"$tmp/docker.err"; then
		CGW=()
	elif ! command -v dockerd >/dev/null || ! command -v containerd >/dev/null; then
		SKIP_WHY="no Docker engine: docker info: $(grep -v '^$' "$tmp/docker.err" | tail -n 1); no dockerd to start one (scripts/deps.sh --test installs docker.io)"
		return 1
	else
		dockerd_dir=$(mktemp -d /tmp/cgwarden-docker.XXXXXX)
		mkdir -p "$dockerd_dir/sr/var/lib/docker"
		# No bridge, no iptables: the containers run with --network none.
		dockerd --data-root "$dockerd_dir/sr/var/lib/docker" --exec-root "$dockerd_dir/x" \
			--pidfile "$dockerd_dir/docker.pid" -H "unix://$dockerd_dir/docker.sock" \
			--iptables=false --ip-masq=false --bridge=none --cgroup-parent "$DOCKER_PARENT" \
			>"$dockerd_dir/log" 2>&1 &
		dockerd_pid=$!
		export DOCKER_HOST=unix://$dockerd_dir/docker.sock
		for _ in $(seq 150); do
			docker info >/dev/null 2>&1 && break
			kill -0 "$dockerd_pid" 2>/dev/null || break
			sleep 0.2
		done
		if ! docker info >/dev/null 2>"$tmp/docker.err"; then
			SKIP_WHY="our dockerd did not answer: $(grep -v '^$' "$tmp/docker.err" | tail -n 1); its log: $(tail -n 1 "$dockerd_dir/log")"
			return 1
		fi
		CGW=(--state-root "$dockerd_dir/sr")
	fi
	if [ -z "$IMAGE" ] || ! buildah push -q "$IMAGE" "docker-archive:$tmp/docker-img.tar:$IMAGE" >/dev/null 2>"$tmp/push.err"; then
		SKIP_WHY="no image to load: buildah push: $(tail -n 1 "$tmp/push.err" 2>/dev/null)"
		return 1
	fi
	if ! docker load -q -i "$tmp/docker-img.tar" >/dev/null 2>"$tmp/load.err"; then
		SKIP_WHY="docker load: $(tail -n 1 "$tmp/load.err")"
		return 1
	fi
	return 0
}
if ! docker_start; then
	skip docker "$SKIP_WHY"
else
	RT=docker PROM_MORE=
	cli_case docker 'Invalid container name'
fi
finish
