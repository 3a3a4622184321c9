#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs the Debian 12 packages cgwarden needs that are missing. Idempotent:
# asks apt only when something is missing, and runs "apt-get update" once then.
#   scripts/deps.sh          what building and running needs
#   scripts/deps.sh --test   also what `make check` and `make bench` need
set -euo pipefail

# ncurses-base: the terminfo entries the dashboard and its benchmark draw
# with (xterm-256color, tmux-256color); nearly always there, but say so.
# git: the revision --version, /metrics and the package name.
build_pkgs=(make gcc libc6-dev pkg-config clang llvm bpftool git
	libbpf-dev libjson-c-dev libncurses-dev libmicrohttpd-dev zlib1g-dev libzstd-dev
	ncurses-base)
# Test layers: fuzzing (clang's libFuzzer runtime), schema checks, ground-truth
# workloads, leak checks, locales (charmaps for the decimal-comma JSON
# test), the VM suite (qemu, busybox, a Debian kernel fetched
# with apt-get download), the dashboard driver, real containers (podman
# with runc, containerd, docker.io; images built from scratch, no
# registry), the zsh and fish completions.
test_pkgs=(libclang-rt-14-dev python3 python3-jsonschema jq valgrind stress-ng locales
	busybox-static qemu-system-x86 procps util-linux coreutils tmux curl
	ca-certificates prometheus python3-yaml podman buildah runc containerd docker.io
	zsh fish)

# The Debian package: make deb, lintian, a Debian 12 chroot to install it in.
test_pkgs+=(build-essential debhelper dpkg-dev lintian debootstrap)

want=("${build_pkgs[@]}")
[ "${1:-}" = --test ] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#want[@]} packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}; run this script as root to install them" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
