#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The Debian package (make deb, debian/): lintian reports no error; apt
# installs it in a fresh Debian 12 minbase chroot, taking its dependencies
# from the archive (${shlibs:Depends}); the files are in place and the unit
# is not enabled; `cgwarden snapshot` there reads the host's cgroup v2 tree
# (/proc and /sys bound in, inside a private mount namespace so nothing
# shows on the host); the .deb's Cgwarden-Revision, `cgwarden --version`
# and /metrics' cgwarden_build_info name the same revision.
# The .deb is rebuilt only when a source is newer. The chroot (debootstrap,
# then apt-get update) is kept as $BUILD/deb-chroot/bookworm-minbase.tar.gz
# and the dependencies apt fetched in $BUILD/deb-chroot/archives, so only
# the first run downloads; each run works on a copy, removed at exit.
. "$(dirname "$0")/../lib.sh"

MIRROR=${DEB_MIRROR:-http://deb.debian.org/debian}

# Run through `unshare -m` by the part below: mounts the host's /proc, /sys
# and /dev, the apt archive cache and resolv.conf into the chroot ROOT, then
# `update` (apt-get update, for the cache) or `test` (install and check).
if [ "${1:-}" = --in-ns ]; then
	mode=$2 root=$3 cache=$4
	mount --bind /proc "$root/proc" && mount --rbind /sys "$root/sys" &&
		mount --rbind /dev "$root/dev" &&
		mount --bind "$cache/archives" "$root/var/cache/apt/archives" &&
		mount --bind /etc/resolv.conf "$root/etc/resolv.conf" || exit 3
	export DEBIAN_FRONTEND=noninteractive LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin
	inroot() { chroot "$root" "$@"; }
	if [ "$mode" = update ]; then
		inroot apt-get -q update
		exit
	fi
	deb=$5 tmp=$6 cg_mnt=$7
	name=$(basename "$deb")
	cp "$deb" "$root/tmp/$name"
	# Lists older than the archive name files it no longer has: update, retry.
	if ! inroot apt-get -q -y --no-install-recommends install "/tmp/$name" >"$tmp/apt.log" 2>&1 &&
		! { inroot apt-get -q update && inroot apt-get -q -y --no-install-recommends \
			install "/tmp/$name"; } >>"$tmp/apt.log" 2>&1; then
		if ! why=$(curl -fsS --max-time 20 -o /dev/null "$MIRROR/dists/bookworm/Release" 2>&1); then
			skip deb-apt "cannot reach $MIRROR for the dependencies: $why"
		else
			fail deb-apt "apt-get install ./$name: $(tail -n 5 "$tmp/apt.log" | tr '\n' ' ')"
		fi
		finish
	fi
	deps=$(inroot dpkg-query -W -f='${Depends}' cgwarden)
	pass "deb-apt: apt-get install ./$name in a Debian 12 minbase chroot ($deps)"

	missing=()
	[ -x "$root/usr/bin/cgwarden" ] || missing+=(/usr/bin/cgwarden)
	for m in man/*.[1-8]; do
		f=/usr/share/man/man${m##*.}/$(basename "$m").gz
		[ -s "$root$f" ] || missing+=("$f")
	done
	for f in /usr/share/cgwarden/cgwarden.schema.json /lib/systemd/system/cgwarden.service \
		/usr/share/doc/cgwarden/examples/policy.example.json; do
		[ -s "$root$f" ] || missing+=("$f")
	done
	# The completion comes with the Makefile's install target once it has it.
	comp=/usr/share/bash-completion/completions/cgwarden
	if grep -q 'bash-completion/completions' Makefile; then
		[ -s "$root$comp" ] || missing+=("$comp")
		inroot bash -n "$comp" 2>/dev/null || missing+=("$comp (bash -n)")
	else
		skip deb-completion "the Makefile installs no bash completion yet"
	fi
	if [ ${#missing[@]} -eq 0 ]; then
		pass "deb-files: binary, $(ls man/*.[1-8] | wc -l) man pages, schema, unit, example policy$(
			[ -e "$root$comp" ] && echo ', bash completion')"
	else
		fail deb-files "missing: ${missing[*]}"
	fi

	unit=$root/lib/systemd/system/cgwarden.service
	bad=$(sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\([^ ]*cgwarden\) .*/\1/p' "$unit" |
		grep -vx /usr/bin/cgwarden | sort -u | tr '\n' ' ')
	wants=$(find "$root/etc/systemd" -name 'cgwarden.service' 2>/dev/null)
	if [ -n "$bad" ]; then
		fail deb-unit "the unit runs $bad, the package has /usr/bin/cgwarden"
	elif [ -n "$wants" ]; then
		fail deb-unit "enabled on install: ${wants#"$root"}"
	else
		pass "deb-unit: /lib/systemd/system/cgwarden.service runs /usr/bin/cgwarden, not enabled"
	fi
	if inroot cgwarden check-policy --quiet /usr/share/doc/cgwarden/examples/policy.example.json \
		>"$tmp/policy.out" 2>&1; then
		pass "deb-policy: check-policy accepts the example policy"
	else
		fail deb-policy "$(head -n 3 "$tmp/policy.out" | tr '\n' ' ')"
	fi

	if inroot cgwarden snapshot >"$tmp/snap.json" 2>"$tmp/snap.err" &&
		jq -e --arg root "$cg_mnt" '.type == "snapshot" and .root == $root and
			any(.cgroups[]; .path == "")' "$tmp/snap.json" >/dev/null; then
		n=$(jq '.cgroups | length' "$tmp/snap.json")
		pass "deb-snapshot: in the chroot, the host's cgroup v2 root $cg_mnt and $n cgroups"
	else
		fail deb-snapshot "$(head -c 300 "$tmp/snap.json") $(head -n 3 "$tmp/snap.err")"
	fi
	if [ -n "$(unexpected_stderr "$tmp/snap.err")" ]; then
		fail deb-snapshot-stderr "$(unexpected_stderr "$tmp/snap.err" | head -n 3)"
	fi

	field=$(dpkg-deb -f "$deb" Cgwarden-Revision)
	status=$(inroot dpkg-query -W -f='${Cgwarden-Revision}' cgwarden)
	version=$(inroot cgwarden --version | sed -n 's/^revision //p')
	chroot "$root" cgwarden serve --interval 1 --listen unix:/tmp/cgw.sock >/dev/null 2>&1 &
	srv=$!
	metric=
	for _ in $(seq 50); do
		metric=$(curl -fsS --max-time 2 --unix-socket "$root/tmp/cgw.sock" \
			http://cgwarden/metrics 2>/dev/null | grep '^cgwarden_build_info{')
		[ -n "$metric" ] && break
		sleep 0.1
	done
	kill -TERM "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	metric=$(sed -n 's/.*[{,]revision="\([^"]*\)".*/\1/p' <<<"$metric")
	# The revision the package was built from: this checkout's, or
	# "unknown" where there is no git to tell (a tarball, a machine
	# without git): then all four must say unknown alike.
	want_rev=$(git -C "$(dirname "$0")/../.." describe --always --abbrev=12 --dirty=+dirty \
		--exclude='*' 2>/dev/null || echo unknown)
	if [ -n "$field" ] && [ "${field%+dirty}" = "${want_rev%+dirty}" ] && [ "$status" = "$field" ] &&
		[ "$version" = "$field" ] && [ "$metric" = "$field" ]; then
		pass "deb-revision: control field, dpkg -s, --version and /metrics all say $field"
	else
		fail deb-revision ".deb '$field' (checkout at $want_rev), dpkg -s '$status', --version '$version', /metrics '$metric'"
	fi
	finish
fi

if [ "$(id -u)" -ne 0 ]; then
	skip deb "needs root (debootstrap, chroot, mounts)"
	finish
fi
for t in dpkg-buildpackage dh lintian debootstrap unshare jq curl; do
	if ! command -v "$t" >/dev/null; then
		skip deb "$t not installed (scripts/deps.sh --test)"
		finish
	fi
done
if ! why=$(unshare -m --propagation private true 2>&1); then
	skip deb "no private mount namespace for the chroot's mounts: $why"
	finish
fi
CG_MNT=$(cg2_mount)
if [ -z "$CG_MNT" ]; then
	skip deb "no cgroup2 mount"
	finish
fi

BUILD=$(realpath -m "$BUILD")
version=$(sed -n 's/^VERSION := //p' Makefile)
deb=$BUILD/cgwarden_${version}_$(dpkg --print-architecture).deb
cache=$BUILD/deb-chroot
tarball=$cache/bookworm-minbase.tar.gz
mkdir -p "$cache/archives"
work=$(mktemp -d "$cache/run.XXXXXX")
# Mounts live and die with the namespace; should one show here all the
# same, the copy is left in place rather than removed through it.
cleanup() {
	if grep -qF " $work/" /proc/self/mountinfo; then
		echo "warning: mounts under $work: not removed" >&2
	else
		rm -rf --one-file-system "$work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP	# the runner's timeout: clean up all the same

root=$work/root
# make_root: the chroot at $root, from the kept tarball or made afresh
# (then kept); what went wrong in $work/root.why ("skip: ..." or "fail:
# ..."). Run beside the package's build: debootstrap waits on the archive
# and dpkg, the build on the compiler, and together they take the time of
# the longer one.
make_root() {
	local start=$SECONDS why
	if [ -s "$tarball" ]; then
		mkdir "$root" && tar -C "$root" -xzf "$tarball" ||
			{ echo "fail: cannot unpack $tarball" >"$work/root.why"; return 1; }
		return 0
	fi
	if ! why=$(curl -fsS --max-time 20 -o /dev/null "$MIRROR/dists/bookworm/Release" 2>&1); then
		echo "skip: debootstrap cannot reach $MIRROR: $why" >"$work/root.why"
		return 1
	fi
	if ! timeout 400 debootstrap --variant=minbase bookworm "$root" "$MIRROR" \
		>"$work/debootstrap.log" 2>&1; then
		echo "fail: debootstrap: $(tail -n 5 "$work/debootstrap.log" | tr '\n' ' ')" >"$work/root.why"
		return 1
	fi
	if ! unshare -m --propagation private bash "$0" --in-ns update "$root" "$cache" \
		>"$work/update.log" 2>&1; then
		echo "fail: apt-get update: $(tail -n 5 "$work/update.log" | tr '\n' ' ')" >"$work/root.why"
		return 1
	fi
	tar -C "$root" -czf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
	echo "# chroot made in $((SECONDS - start)) s, kept as $tarball" >"$work/root.why"
}
make_root &
rootpid=$!
trap 'kill "$rootpid" 2>/dev/null; exit 1' INT TERM HUP

# Sources: everything but what dpkg-buildpackage leaves in debian/.
newer=
[ -e "$deb" ] && newer=$(find Makefile README.md src bpf ui man schema deploy completion debian \
	\( -path debian/build -o -path debian/cgwarden -o -path debian/.debhelper \
	-o -name files -o -name '*.substvars' -o -name '*.log' -o -name '*.debhelper' \
	-o -name debhelper-build-stamp \) -prune -o -type f -newer "$deb" -print -quit 2>/dev/null)
if [ ! -e "$deb" ] || [ -n "$newer" ]; then
	start=$SECONDS
	if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make deb OUTPUT="$BUILD" >"$work/deb.log" 2>&1; then
		fail deb-build "make deb: $(tail -n 8 "$work/deb.log" | tr '\n' ' ')"
		wait "$rootpid"
		finish
	fi
	pass "deb-build: make deb in $((SECONDS - start)) s, $(stat -c %s "$deb") bytes"
fi
if lintian --fail-on error "$deb" >"$work/lintian.log" 2>&1; then
	pass "deb-lintian: no errors ($(grep -c '^W: ' "$work/lintian.log") warnings)"
else
	fail deb-lintian "$(grep '^[EW]: ' "$work/lintian.log" | head -n 5 | tr '\n' ' ')"
fi

if ! wait "$rootpid"; then
	why=$(cat "$work/root.why" 2>/dev/null)
	case $why in
	skip:*) skip deb-chroot "${why#skip: }" ;;
	*) fail deb-chroot "${why#fail: }" ;;
	esac
	finish
fi
cat "$work/root.why" 2>/dev/null
unshare -m --propagation private bash "$0" --in-ns test "$root" "$cache" "$deb" "$work" "$CG_MNT"
rc=$?
if [ "$rc" -eq 3 ]; then
	fail deb-chroot "cannot mount /proc, /sys, /dev or the apt cache into the chroot"
elif [ "$rc" -ne 0 ]; then
	TEST_FAILED=1
fi
finish
