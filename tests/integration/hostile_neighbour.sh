#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A hostile neighbour: what another user of the host may have made beside
# our tests, outside every test's own subtree. Host-level tests must pass
# with it present (issue 12, "Tests that survive a real host").
#
#   tests/integration/hostile_neighbour.sh run CMD...   up, CMD, down; CMD's status
#   tests/integration/hostile_neighbour.sh up           prints the state dir for down
#   tests/integration/hostile_neighbour.sh down DIR
#
# It makes, under its own top-level cgroup <cgroup2 mount>/neighbour-PID:
#  - a chain 200 levels deep whose names are 200 bytes long (the whole path
#    is ~40 KB, ten times PATH_MAX: it is made and removed with mkdirat and
#    unlinkat through directory fds), with a sleeping process at the bottom,
#    so /proc/PID/cgroup holds a path longer than PATH_MAX;
#  - siblings with 255-byte names (NAME_MAX), one of them with a space,
#    quotes, a tab, an escape sequence and an invalid UTF-8 byte in it;
#  - when clang, bpftool and a bpffs mount work here: an allow-all
#    cgroup_skb program attached exclusively (without BPF_F_ALLOW_MULTI) to
#    ingress and egress of neighbour-PID. Not on the cgroup2 root: on a
#    shared host that would take the network counters away from every other
#    cgwarden running (and an exclusive attach fails while anyone has a
#    multi program there). test_bpf.sh attaches one to the root itself.
# Nothing it makes is committed: the BPF object is compiled into the state
# dir. NEIGHBOUR_DEPTH (200) and NEIGHBOUR_BPF=0 (no program) change it.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# tree_up TOP DEPTH: the deep chain, the long siblings and the sleeper;
# prints the sleeper's pid.
tree_up() {
	"$PY" - "$1" "$2" <<'EOF'
import os, subprocess, sys
top, depth = sys.argv[1], int(sys.argv[2])
fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
for name in ("L" * 255, "sp ace \"q'uote\"\ttab\x1b]0;pwned\x07" + "\udcff" + "x" * 200):
    os.mkdir(name.encode("utf-8", "surrogateescape"), dir_fd=fd)
for i in range(depth):
    name = "%03d-" % i + "n" * 196
    os.mkdir(name, dir_fd=fd)
    nfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = nfd
# The sleeper moves itself in through the fd, then execs.
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    procs = os.open("cgroup.procs", os.O_WRONLY, dir_fd=fd)
    os.write(procs, b"0")
    os.close(procs)
    os.close(w)
    os.setsid()
    null = os.open("/dev/null", os.O_RDWR)
    for i in (0, 1, 2):
        os.dup2(null, i)
    os.execvp("sleep", ["sleep", "3600"])
os.close(w)
os.read(r, 1)	# EOF once it has moved in (closed w) or died
print(pid)
EOF
}

# tree_down TOP: kill everything under TOP, remove it deepest first.
tree_down() {
	[ -e "$1/cgroup.kill" ] && echo 1 >"$1/cgroup.kill" 2>/dev/null
	"$PY" - "$1" <<'EOF'
import os, sys, time
def rm(fd):
    for name in os.listdir(fd):
        try:
            sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        except NotADirectoryError:
            continue
        rm(sub)
        os.close(sub)
        for _ in range(50):
            try:
                os.rmdir(name, dir_fd=fd)
                break
            except OSError:
                time.sleep(0.1)	# EBUSY until the killed sleeper is reaped
rm(os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY))
os.rmdir(sys.argv[1])
EOF
}

# bpf_up TOP STATE: the exclusive program on TOP, pinned in a private bpffs.
bpf_up() {
	local top=$1 st=$2 dir
	printf '%s\n' 'struct __sk_buff;' \
		'__attribute__((section("cgroup_skb/ingress"), used)) int neighbour(struct __sk_buff *s) { return 1; }' \
		'__attribute__((section("license"), used)) char _license[] = "GPL";' >"$st/prog.c"
	mkdir "$st/bpffs"
	clang -O2 -target bpf -c "$st/prog.c" -o "$st/prog.o" 2>>"$st/bpf.err" &&
		mount -t bpf bpf "$st/bpffs" 2>>"$st/bpf.err" && touch "$st/mounted" &&
		bpftool prog load "$st/prog.o" "$st/bpffs/prog" type cgroup/skb 2>>"$st/bpf.err" || return 1
	for dir in ingress egress; do
		bpftool cgroup attach "$top" "$dir" pinned "$st/bpffs/prog" 2>>"$st/bpf.err" || return 1
		echo "$dir" >>"$st/attached"
	done
}

bpf_down() {
	local top=$1 st=$2 dir
	if [ -f "$st/attached" ]; then
		while read -r dir; do
			bpftool cgroup detach "$top" "$dir" pinned "$st/bpffs/prog" 2>/dev/null
		done <"$st/attached"
	fi
	[ -f "$st/mounted" ] && umount "$st/bpffs" 2>/dev/null
}

up() {
	local mnt top st pid
	[ "$(id -u)" = 0 ] || { echo "hostile_neighbour: needs root" >&2; return 1; }
	mnt=$(cg2_mount)
	[ -n "$mnt" ] || { echo "hostile_neighbour: no cgroup2 mount" >&2; return 1; }
	st=$(mktemp -d /tmp/cgwarden-neighbour.XXXXXX) || return 1
	top=$mnt/neighbour-$$
	echo "$top" >"$st/top"
	mkdir "$top" || return 1
	if ! pid=$(tree_up "$top" "${NEIGHBOUR_DEPTH:-200}"); then
		echo "hostile_neighbour: could not build the tree under $top" >&2
		down "$st"
		return 1
	fi
	echo "$pid" >"$st/sleeper"
	if [ "${NEIGHBOUR_BPF:-1}" = 0 ]; then
		echo "# hostile neighbour: no BPF program (NEIGHBOUR_BPF=0)" >&2
	elif ! command -v bpftool >/dev/null || ! command -v clang >/dev/null; then
		echo "# hostile neighbour: no BPF program (no bpftool or clang)" >&2
	elif ! bpf_up "$top" "$st"; then
		echo "# hostile neighbour: no BPF program: $(head -c 200 "$st/bpf.err")" >&2
		bpf_down "$top" "$st"
	else
		echo "# hostile neighbour: exclusive cgroup_skb program on $top" \
			"(ingress, egress: $(bpftool cgroup show "$top" -j | jq -c '[.[].id]'))" >&2
	fi
	echo "# hostile neighbour: $top, ${NEIGHBOUR_DEPTH:-200} levels of 200-byte names," \
		"sleeper pid $pid" >&2
	echo "$st"
}

down() {
	local st=$1 top
	[ -f "$st/top" ] || { echo "hostile_neighbour: $st is not a neighbour's state dir" >&2; return 1; }
	top=$(cat "$st/top")
	bpf_down "$top" "$st"
	[ -d "$top" ] && tree_down "$top"
	if [ -d "$top" ]; then
		echo "hostile_neighbour: could not remove $top" >&2
		return 1
	fi
	rm -rf "$st"
}

case "${1:-}" in
up)
	up
	;;
down)
	down "${2:?down needs the state dir up printed}"
	;;
run)
	shift
	[ $# -gt 0 ] || { echo "usage: $0 run CMD..." >&2; exit 2; }
	st=$(up) || exit 2
	trap 'down "$st"' EXIT
	trap 'exit 130' INT TERM
	"$@"
	;;
*)
	echo "usage: $0 up | down STATE_DIR | run CMD..." >&2
	exit 2
	;;
esac
