#!/bin/sh
# /init of the test VM's initramfs (busybox sh; tests/vm/run.sh packs it).
#
# It turns a stock Debian kernel into a pure cgroup v2 host with every
# controller, chroots into the host's own root (shared read-only over 9p, so
# host-built binaries and tools run unchanged), runs the requested cases from
# tests/vm/cases/ and records their output and status on the writable
# "results" share. The host reads results from that share, not from the
# serial console, because the console mangles lines (CRs, escape sequences).
#
# Lines on the console that start with "cgw-vm:" are for the harness and for
# people reading console.log; "cgw-vm: BOOTFAIL <why>" means the guest could
# not get as far as the first case (the harness then reports SKIP).

export PATH=/bin
NEWROOT=/newroot
CG=$NEWROOT/sys/fs/cgroup

msg() { echo "cgw-vm: [$(cut -d' ' -f1 /proc/uptime 2>/dev/null)] $*"; }

# Exit qemu with a status through isa-debug-exit (qemu returns (v<<1)|1);
# fall back to a plain power-off if the device is missing.
power_off() {
	sync
	umount /results 2>/dev/null
	# shellcheck disable=SC2059 # the format is the octal escape of the byte
	printf "\\$(printf %03o "$1")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
	poweroff -f
	echo o > /proc/sysrq-trigger
	sleep 10
}

bootfail() {
	msg "BOOTFAIL $*"
	[ -d /results/. ] && echo "$*" > /results/bootfail 2>/dev/null
	power_off 125
}

/bin/busybox mkdir -p /proc /sys /dev /tmp /host /results "$NEWROOT"
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
# Debian's kernel has CONFIG_DEVTMPFS_MOUNT off: without this init has no
# console and the chroot no /dev.
mount -t devtmpfs devtmpfs /dev
exec 0</dev/console 1>/dev/console 2>&1
# Nothing else creates these; bash process substitution and `cmd > /dev/stderr`
# need them. devtmpfs is one instance, so the chroot's /dev gets them too.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr

msg "kernel $(uname -r) up after $(cut -d' ' -f1 /proc/uptime) s"

# modules.order lists the virtio/9p modules with their dependencies first
# (run.sh resolved them from modules.dep).
while read -r ko; do
	insmod "/lib/modules/$ko" || bootfail "insmod $ko failed"
done < /modules.order

# 9p over virtio: an msize well above the 8 KiB default means fewer round
# trips per read; cache=loose (no revalidation) is safe because the host
# tree does not change under a test run. The results share stays uncached so
# the host sees every line as soon as it is written.
P9='trans=virtio,version=9p2000.L,msize=262144'
mount -t 9p -o "$P9,cache=loose,ro" hostroot /host || bootfail "cannot mount the hostroot 9p share"
mount -t 9p -o "$P9" results /results || bootfail "cannot mount the results 9p share"
[ -f /results/config ] || bootfail "no config on the results share"
# config sets REPO, BUILD, CASES and CASE_TIMEOUT (written by run.sh).
# shellcheck disable=SC1091
. /results/config

# /newroot is a bind of /host taken before anything is mounted over it, so
# /host keeps showing the host's own /tmp and /run (see below).
mount --bind /host "$NEWROOT" || bootfail "cannot bind the host root"
mount -t proc proc "$NEWROOT/proc" || bootfail "proc in chroot"
mount -t sysfs sysfs "$NEWROOT/sys" || bootfail "sysfs in chroot"
mount -t devtmpfs devtmpfs "$NEWROOT/dev" || bootfail "devtmpfs in chroot"
# devtmpfs is one instance: this mkdir shows in the chroot's /dev too.
mkdir -p /dev/shm
mount -t tmpfs -o mode=1777 shm "$NEWROOT/dev/shm"
mount -t tmpfs -o mode=1777 tmp "$NEWROOT/tmp" || bootfail "tmpfs on /tmp"
mount -t tmpfs -o mode=755 run "$NEWROOT/run" || bootfail "tmpfs on /run"
# A checkout or build folder under the host's /tmp or /run would be hidden by
# the tmpfs mounts above: put it back from the untouched /host view.
for p in "$REPO" "$BUILD"; do
	case $p in
	/tmp/*|/run/*)
		[ -d "$NEWROOT$p" ] && continue
		if ! mkdir -p "$NEWROOT$p" || ! mount --bind "/host$p" "$NEWROOT$p"; then
			bootfail "cannot bind $p into the chroot"
		fi
		;;
	esac
done

# Booted with cgroup_no_v1=all, so every controller is free for v2.
mount -t cgroup2 cgroup2 "$CG" || bootfail "cannot mount cgroup2"
echo "+cpu +memory +io +pids" > "$CG/cgroup.subtree_control" ||
	bootfail "cannot enable +cpu +memory +io +pids (controllers: $(cat "$CG/cgroup.controllers"))"
mount -t tracefs tracefs "$NEWROOT/sys/kernel/tracing" || msg "warning: no tracefs"

[ -d "$NEWROOT$REPO/tests/vm/cases" ] || bootfail "repo $REPO not visible in the guest"

# Each case runs in its own leaf cgroup so that whatever it leaves running
# (or everything, when it overruns CASE_TIMEOUT) can be killed in one write.
CASECG=$CG/vmcase
mkdir "$CASECG" || bootfail "cannot create $CASECG"

kill_case_cgroup() {
	echo 1 > "$CASECG/cgroup.kill"
	i=0
	while grep -q 'populated 1' "$CASECG/cgroup.events" && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

exec 3>>/results/log
echo started > /results/started
msg "running cases: $CASES"
# busybox ash has pipefail: the case's status, not tee's.
# shellcheck disable=SC3040
set -o pipefail
for c in $CASES; do
	start=$(cut -d' ' -f1 /proc/uptime)
	msg "case $c"
	# The script below is expanded by the case's bash, not here.
	# shellcheck disable=SC2016
	case $c in
	*.sh) run='cd "$1" && exec /bin/bash "tests/vm/cases/$2"' ;;
	*) run='cd "$1" && exec "./tests/vm/cases/$2"' ;;
	esac
	# Watchdog: a case that overruns is killed with its whole cgroup, which
	# also closes the pipe to tee if an orphan still held it.
	(sleep "$CASE_TIMEOUT"; echo timeout > "/results/$c.timeout"; echo 1 > "$CASECG/cgroup.kill") &
	wd=$!
	# busybox's env and chroot (both in the initramfs, so no exec over 9p)
	# give the case a clean environment in the host's root.
	sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' _ "$CASECG" \
		env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root TERM=dumb LANG=C.UTF-8 TMPDIR=/tmp \
		BUILD="$BUILD" CGWARDEN="$BUILD/cgwarden" CGWARDEN_VM=1 \
		/bin/chroot "$NEWROOT" /bin/bash -c "$run" _ "$REPO" "$c" 2>&1 | tee "/results/$c.out" >&3
	rc=$?
	kill "$wd" 2>/dev/null
	kill_case_cgroup
	# A case must remove the cgroups it made; a leftover would skew the next.
	for d in "$CG"/vmtest-*; do
		[ -d "$d" ] || continue
		echo "FAIL vm.${c%.sh}.cleanup: left ${d#"$CG"/} behind" | tee -a "/results/$c.out" >&3
		[ "$rc" -eq 0 ] && rc=1
		echo 1 > "$d/cgroup.kill" 2>/dev/null
		sleep 0.5
		rmdir "$d" 2>/dev/null
	done
	echo "$rc" > "/results/$c.rc"
	msg "case $c: status $rc in $(awk -v s="$start" '{printf "%.1f", $1 - s}' /proc/uptime) s"
done
exec 3>&-

status=0
for c in $CASES; do
	[ "$(cat "/results/$c.rc")" = 0 ] || status=1
done
echo "$status" > /results/done
msg "done, status $status"
power_off "$status"
