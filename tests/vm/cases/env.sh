#!/usr/bin/env bash
# The guest is what the other cases assume: cgroup v2 alone on /sys/fs/cgroup
# with cpu, memory, io and pids enabled in the root, a virtio disk, tracefs,
# and /dev/fd for bash process substitution.
set -euo pipefail
. tests/vm/lib.sh
T=vm.env

fstype=$(awk '$2 == "/sys/fs/cgroup" { print $3 }' /proc/mounts)
v1=$(awk '$3 == "cgroup" { n++ } END { print n + 0 }' /proc/mounts)
if [[ $fstype == cgroup2 && $v1 == 0 ]]; then
	pass "$T.cgroup2"
else
	fail "$T.cgroup2" "/sys/fs/cgroup is '$fstype', $v1 cgroup v1 mounts"
fi

ctl=$(cat "$CGROOT/cgroup.subtree_control")
missing=
for c in cpu memory io pids; do
	[[ " $ctl " == *" $c "* ]] || missing+=" $c"
done
if [[ -z $missing ]]; then
	pass "$T.controllers"
else
	fail "$T.controllers" "root subtree_control '$ctl' lacks$missing"
fi

if [[ -b /dev/vda && -r /sys/block/vda/dev ]]; then
	pass "$T.disk"
else
	fail "$T.disk" "no /dev/vda block device"
fi

if awk '$2 == "/sys/kernel/tracing" && $3 == "tracefs" { f = 1 } END { exit !f }' /proc/mounts; then
	pass "$T.tracefs"
else
	fail "$T.tracefs" "tracefs not mounted on /sys/kernel/tracing"
fi

if [[ $(cat <(echo fd-ok)) == fd-ok ]]; then
	pass "$T.dev-fd"
else
	fail "$T.dev-fd" "process substitution does not work"
fi
finish
