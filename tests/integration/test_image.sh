#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The OCI image (make image), run exactly as deploy/README.md documents: the
# marked podman block is taken from the README and run with `snapshot` in
# place of `serve`, so the documentation cannot drift from what works. The
# image must name a podman container started beside it as the host binary
# does (name, image, runtime, kind), load eBPF where the host binary does,
# and carry the same version and revision in its labels, in `--version` and
# in /metrics' cgwarden_build_info. The image stays for later runs; make
# image rebuilds it when the binary (or a library) changed.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../podman.sh"

if ! podman_setup; then
	skip image "$SKIP_WHY"
	finish
fi
if LC_ALL=C ldd "$CGWARDEN" 2>/dev/null | grep -q libasan; then
	skip image "$CGWARDEN is a sanitizer build; the image carries the plain one"
	finish
fi
tmp=$(mktemp -d)
made=()
# Also removes the runtime state directories the documented mkdir created
# here (empty ones only, deepest first): the host keeps its own layout.
image_cleanup() {
	podman_cleanup
	printf '%s\n' "${made[@]}" | sort -ru | while IFS= read -r d; do
		[ -n "$d" ] && rmdir "$d" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap image_cleanup EXIT

version=$(sed -n 's/^VERSION := //p' Makefile)
image=localhost/cgwarden:$version
start=$(date +%s%N)
# Not a sub-make of make check's: its jobserver is not ours to use.
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s image OUTPUT="$BUILD" >"$tmp/make.out" 2>&1; then
	fail make_image "$(tail -n 5 "$tmp/make.out")"
	finish
fi
ms=$((($(date +%s%N) - start) / 1000000))
pass "make_image ($(tail -n 1 "$tmp/make.out" | sed 's/^image: //'), $ms ms)"

# One provenance: the Makefile, the host binary, the image's labels, its
# --version and its /metrics.
"$CGWARDEN" --version >"$tmp/host.version"
host_rev=$(sed -n 's/^revision //p' "$tmp/host.version")
labels=$(podman image inspect --format \
	'{{index .Labels "org.opencontainers.image.version"}} {{index .Labels "org.opencontainers.image.revision"}}' \
	"$image" 2>&1)
podman run --rm --network=none "$image" --version >"$tmp/img.version" 2>&1
if [ "$labels" = "$version $host_rev" ] && cmp -s "$tmp/host.version" "$tmp/img.version" &&
	head -n 1 "$tmp/host.version" | grep -qx "cgwarden $version"; then
	pass "image_provenance ($labels)"
else
	fail image_provenance "labels '$labels', Makefile $version; host: $(cat "$tmp/host.version"); image: $(cat "$tmp/img.version")"
fi
# The documented block, run with our options (a name of ours) and command
# in place of "-d --name cgwarden" and "serve --listen 0.0.0.0:9333".
sed -n '/^<!-- podman-run: begin -->$/,/^<!-- podman-run: end -->$/p' deploy/README.md |
	grep -v -e '^<!--' -e '^```' >"$tmp/doc.sh"
n_run=$(grep -c '^podman run -d --name cgwarden \\$' "$tmp/doc.sh")
n_cmd=$(grep -c "^	$image serve --listen 0.0.0.0:9333\$" "$tmp/doc.sh")
if [ "$n_run" != 1 ] || [ "$n_cmd" != 1 ]; then
	fail documented_run_line "deploy/README.md's podman-run block has no 'podman run -d --name cgwarden' ($n_run) or '$image serve ...' line ($n_cmd)"
	finish
fi
sed -e 's/^podman run -d --name cgwarden /podman run $RUN_OPTS /' \
	-e "s|^	$image serve --listen 0.0.0.0:9333\$|	$image \"\$@\"|" \
	"$tmp/doc.sh" >"$tmp/run.sh"
for d in $(sed -n 's/^	-v "\{0,1\}\([^:"]*\)"\{0,1\}:.*/\1/p' "$tmp/doc.sh" | grep '^/'); do
	while [ ! -e "$d" ]; do made+=("$d"); d=$(dirname "$d"); done
done

ctr=${PODMAN_PREFIX}web
img=$(podman_busybox_image) || { fail busybox_image "could not build it"; finish; }
podman run -d --name "$ctr" "$img" sh -c 'while :; do sleep 1; done' >/dev/null 2>"$tmp/web.err"
if ! podman_wait_running "$ctr"; then
	fail podman_container_runs "$(cat "$tmp/web.err")"
	finish
fi
cg=$(podman_cgroup "$ctr")

"$CGWARDEN" snapshot --compact >"$tmp/host.json" 2>"$tmp/host.err"
RUN_OPTS="--rm --name ${PODMAN_PREFIX}snap" bash -e "$tmp/run.sh" snapshot --compact \
	>"$tmp/img.json" 2>"$tmp/img.err"
rc=$?
# The fields that say who a cgroup is, and whether eBPF and its network
# counters are on, from either snapshot.
who() {
	jq -c --arg p "$cg" '.cgroups[] | select(.path == $p) |
		{name, image, runtime, kind, container_id}' "$1"
}
bpf() {
	echo "bpf=$(jq -c '[.self.bpf, .self.bpf_iter]' "$1")" \
		"net=$(grep -c 'network counters off' "$2")"
}
host_who=$(who "$tmp/host.json")
img_who=$(who "$tmp/img.json")
if [ $rc -ne 0 ] || [ -z "$img_who" ]; then
	fail image_names_podman_container "exit $rc: $(tail -n 5 "$tmp/img.err"); run: $(grep -A1 'podman run' "$tmp/run.sh" | head -n 2)"
elif [ "$img_who" = "$host_who" ] && [ "$(jq -r .name <<<"$img_who")" = "$ctr" ] &&
	[ "$(jq -r .runtime <<<"$img_who")" = podman ] &&
	[ "$(jq -r .image <<<"$img_who")" = "$img" ]; then
	pass "image_names_podman_container ($img_who)"
else
	fail image_names_podman_container "image: '$img_who', host: '$host_who', cgroup $cg"
fi
if [ $rc -eq 0 ]; then
	hb=$(bpf "$tmp/host.json" "$tmp/host.err")
	ib=$(bpf "$tmp/img.json" "$tmp/img.err")
	[ "$hb" = "$ib" ] && pass "image_ebpf_as_host ($ib)" ||
		fail image_ebpf_as_host "image $ib: $(head -c 300 "$tmp/img.err"); host $hb"
fi
# /metrics from the documented run line (on a port of its own).
RUN_OPTS="-d --name ${PODMAN_PREFIX}serve" bash -e "$tmp/run.sh" \
	serve --listen 127.0.0.1:0 --interval 1 >/dev/null 2>"$tmp/serve.err"
addr=
for _ in $(seq 50); do
	addr=$(podman logs "${PODMAN_PREFIX}serve" 2>&1 | sed -n 's/^cgwarden: serving on //p')
	[ -n "$addr" ] && curl -sf "http://$addr/metrics" >"$tmp/metrics" && break
	sleep 0.1
done
info=$(grep '^cgwarden_build_info{' "$tmp/metrics" 2>/dev/null)
if [[ $info == *"version=\"$version\""* && $info == *"revision=\"$host_rev\""* ]]; then
	pass image_build_info_matches
else
	fail image_build_info_matches "'$info' (addr '$addr' $(cat "$tmp/serve.err"))"
fi
podman rm -f -t 0 "${PODMAN_PREFIX}serve" >/dev/null 2>&1
finish
