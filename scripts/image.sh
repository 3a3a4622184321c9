#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make image: the OCI image localhost/cgwarden:$VERSION (and :latest), built
# with buildah from scratch, pulling nothing (no registry is reachable on the
# build hosts). It holds the binary, the shared libraries it loads (its ldd
# closure and the dynamic loader, at the paths ldd names) and the terminfo
# entries the dashboard is likely to meet; deploy/README.md says how to run it.
#
# Dynamic, not static: Debian 12 has no libunistring.a or libp11-kit.a, which
# libmicrohttpd's gnutls pulls in, and a static glibc would still dlopen the
# NSS modules for getaddrinfo. The closure is ~11 MB; the gnutls part of it
# (~7 MB) is what a static link could not drop anyway.
#
#   BIN=build/cgwarden VERSION=0.1.0 REVISION=abc scripts/image.sh
#
# An image whose inputs (binary, libraries, terminfo, this script, version,
# revision) hash to its io.cgwarden.inputs label is kept, so a second run
# costs a few hashes; anything changed rebuilds it.
set -euo pipefail

: "${BIN:=build/cgwarden}" "${VERSION:?}" "${REVISION:?}"
: "${IMAGE:=localhost/cgwarden}"
# The label names where the source lives: the git remote, without any
# credentials in its URL; none when the checkout has no remote.
: "${SOURCE:=$(git remote get-url origin 2>/dev/null | sed 's#://[^/@]*@#://#' || true)}"
TERMS="xterm xterm-256color xterm-color screen screen-256color tmux tmux-256color linux vt100 vt220 dumb ansi"

die() { echo "image: $*" >&2; exit 1; }
command -v buildah >/dev/null || die "buildah not installed (scripts/deps.sh --test installs it)"
[ -x "$BIN" ] || die "no $BIN: run make all first"

# What goes in, host path = image path: the binary apart, every file is
# copied to the path the host has it at (symlinks resolved), so the loader
# finds libraries in its built-in multiarch search path and ncurses finds
# terminfo in its compiled-in /lib/terminfo.
libs=$(LC_ALL=C ldd "$BIN" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
[ -n "$libs" ] || die "ldd $BIN listed no libraries"
terms=
for t in $TERMS; do
	for d in /etc/terminfo /lib/terminfo /usr/share/terminfo; do
		f=$d/${t:0:1}/$t
		if [ -e "$f" ]; then terms="$terms $f"; break; fi
	done
done

inputs=$( {
	echo "$VERSION $REVISION $IMAGE $SOURCE"
	sha256sum "$BIN" "$0" $libs $terms | cut -d' ' -f1
} | sha256sum | cut -c1-64)

# The size `podman images` shows (uncompressed layers).
size() {
	echo "image: $IMAGE:$VERSION $1, $(buildah images --format '{{.Size}}' "$IMAGE:$VERSION" | head -n 1)"
}

have=$(buildah inspect --type image --format '{{index .OCIv1.Config.Labels "io.cgwarden.inputs"}}' \
	"$IMAGE:$VERSION" 2>/dev/null || true)
if [ "$have" = "$inputs" ]; then
	buildah tag "$IMAGE:$VERSION" "$IMAGE:latest"
	size "up to date"
	exit 0
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/cgwarden-image.XXXXXX")
ctr=
cleanup() {
	[ -n "$ctr" ] && buildah rm "$ctr" >/dev/null 2>&1
	rm -rf "$stage"
}
trap cleanup EXIT

# The debug info stays in build/ (1.4 of the binary's 4 MB): the image never
# needs it, and a backtrace can be read with build/ at the same revision.
install -d -m 0755 "$stage/usr/bin" "$stage/tmp" "$stage/var/lib/cgwarden"
chmod 1777 "$stage/tmp"
strip --strip-debug -o "$stage/usr/bin/cgwarden" "$BIN"
for f in $libs $terms; do
	install -D -m 0644 "$(readlink -f "$f")" "$stage$f"
done
chmod 0755 "$stage"/lib*/ld-linux* 2>/dev/null || true

ctr=$(buildah from --pull=never scratch)
buildah copy --quiet "$ctr" "$stage" / >/dev/null
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
buildah config \
	--entrypoint '["/usr/bin/cgwarden"]' \
	--cmd '["serve", "--listen", "0.0.0.0:9333"]' \
	--env TERM=xterm-256color \
	--port 9333/tcp \
	--workingdir / \
	--label org.opencontainers.image.title=cgwarden \
	--label "org.opencontainers.image.description=Per-cgroup resource monitor and limit enforcer for Linux container hosts (cgroup v2)" \
	--label "org.opencontainers.image.version=$VERSION" \
	--label "org.opencontainers.image.revision=$REVISION" \
	--label org.opencontainers.image.licenses=GPL-2.0-only \
	${SOURCE:+--label "org.opencontainers.image.source=$SOURCE"} \
	--label "org.opencontainers.image.created=$created" \
	--label "io.cgwarden.inputs=$inputs" \
	"$ctr"
buildah commit --quiet --rm "$ctr" "$IMAGE:$VERSION" >/dev/null
ctr=
buildah tag "$IMAGE:$VERSION" "$IMAGE:latest"
size built
