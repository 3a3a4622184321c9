#!/usr/bin/env bash
# VM test bed (issue 3): boot a stock Debian kernel under QEMU as a pure
# cgroup v2 host with cpu, memory, io and pids enabled, run the scenarios in
# tests/vm/cases/ inside it against the host's own tree (shared read-only over
# 9p), print their result lines here and exit with their status.
#
#   tests/vm/run.sh [case ...]    case = name in tests/vm/cases (".sh" optional);
#                                 none = every case
#
# Environment:
#   BUILD            build folder (default: build); the binary is $BUILD/cgwarden
#   VM_CACHE         kernel, initramfs and run folders (default: $BUILD/vm-cache)
#   VM_TIMEOUT       seconds the whole guest may run (default: 2700); a cap, not
#                    the hang check, so a host busy with other work only slows it
#   VM_STALL_TIMEOUT seconds without a new result line before the guest counts as
#                    hung (default: VM_CASE_TIMEOUT + 120)
#   VM_BOOT_TIMEOUT  seconds for the guest to reach its first case (default: 180)
#   VM_CASE_TIMEOUT  seconds one case may take inside the guest (default: 180)
#   VM_ACCEL         tcg (default) or kvm; the KVM on our hosts hangs this kernel
#   VM_KEEP          1 = keep the run folder (logs) even when everything passed
#   VM_CPU           -cpu model under TCG (default: max)
#   QEMU             the qemu binary (default: qemu-system-x86_64 from PATH)
#
# Output: the cases' own lines ("PASS name", "FAIL name: why", "SKIP name: why")
# on stdout, plus lines the harness adds for cases that died without saying
# why. Progress goes to stderr. When no VM can be had (no QEMU, no kernel, the
# guest does not boot) it prints "SKIP vm: <reason>" and exits 0: never PASS.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$here/../.." && pwd -P)
cd "$REPO"

BUILD=${BUILD:-build}
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd -P)
VM_CACHE=${VM_CACHE:-$BUILD/vm-cache}
VM_TIMEOUT=${VM_TIMEOUT:-2700}
VM_BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-180}
VM_CASE_TIMEOUT=${VM_CASE_TIMEOUT:-180}
VM_STALL_TIMEOUT=${VM_STALL_TIMEOUT:-$((VM_CASE_TIMEOUT + 120))}
VM_ACCEL=${VM_ACCEL:-tcg}
VM_KEEP=${VM_KEEP:-0}

# Modules the guest needs for virtio-pci, the 9p shares and the virtio disk.
# Their dependencies are added from modules.dep.
MODULES=(virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio virtio_pci
	9pnet 9pnet_virtio netfs fscache 9p virtio_blk)

log() { echo "vm: $*" >&2; }
skip_vm() {
	echo "SKIP vm: $*"
	exit 0
}

# ---------------------------------------------------------------- cases
cases=()
if (($# == 0)); then
	for f in tests/vm/cases/*; do
		[[ -f $f && ($f == *.sh || -x $f) ]] && cases+=("${f##*/}")
	done
else
	for a in "$@"; do
		a=${a##*/}
		if [[ -f tests/vm/cases/$a ]]; then
			cases+=("$a")
		elif [[ -f tests/vm/cases/$a.sh ]]; then
			cases+=("$a.sh")
		else
			echo "run.sh: no case '$a' in tests/vm/cases" >&2
			exit 2
		fi
	done
fi
((${#cases[@]})) || { echo "run.sh: no cases in tests/vm/cases" >&2; exit 2; }
for c in "${cases[@]}"; do
	[[ $c =~ ^[A-Za-z0-9._-]+$ ]] || { echo "run.sh: case name '$c' must be [A-Za-z0-9._-]" >&2; exit 2; }
done

# ---------------------------------------------------------------- host tools
qemu_name=${QEMU:-qemu-system-x86_64}
QEMU=$(command -v "$qemu_name") || skip_vm "$qemu_name not found (Debian package qemu-system-x86)"
BUSYBOX=
for b in /bin/busybox /usr/bin/busybox; do
	# The initramfs has no libc: only a static busybox runs there.
	if [[ -x $b && $(LC_ALL=C ldd "$b" 2>&1) == *"not a dynamic executable"* ]]; then
		BUSYBOX=$b
		break
	fi
done
[[ -n $BUSYBOX ]] || skip_vm "no static busybox (Debian package busybox-static)"
case $VM_ACCEL in
tcg) accel=(-accel tcg -cpu "${VM_CPU:-max}") ;;
kvm)
	[[ -r /dev/kvm && -w /dev/kvm ]] || skip_vm "VM_ACCEL=kvm but /dev/kvm is not usable"
	accel=(-accel kvm -cpu host)
	;;
*) echo "run.sh: VM_ACCEL must be tcg or kvm" >&2; exit 2 ;;
esac

mkdir -p "$VM_CACHE"
VM_CACHE=$(cd "$VM_CACHE" && pwd -P)
# Both paths are handed to the guest in a shell-quoted config file.
if [[ $REPO$BUILD == *[\'[:space:]]* ]]; then
	echo "run.sh: the checkout and BUILD paths must not contain quotes or spaces" >&2
	exit 2
fi

# ---------------------------------------------------------------- cleanup
qemu_pid=
stream_pid=
run_dir=
keep_run=$VM_KEEP
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local rc=$?
	if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill "$qemu_pid" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$qemu_pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -9 "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	if [[ -n $stream_pid ]]; then
		kill "$stream_pid" 2>/dev/null || true
		wait "$stream_pid" 2>/dev/null || true
	fi
	if [[ -n $run_dir && -d $run_dir ]]; then
		# The disk image is scratch; the logs are worth keeping after a failure.
		rm -f "$run_dir/disk.img" "$run_dir/swap.img"
		if [[ $keep_run == 1 ]]; then
			log "logs kept in $run_dir"
		else
			rm -rf "$run_dir"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- kernel
# Debian's kernel package, unpacked with dpkg -x and never installed. The
# unpacked tree is reused as long as it is complete (kernel/ready).
# The versioned kernel package linux-image-amd64 depends on, or nothing.
kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1 || true
}

fetch_kernel() {
	local kdir=$VM_CACHE/kernel tmp pkg
	if [[ -f $kdir/ready ]]; then
		return 0
	fi
	if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
		skip_vm "no apt-get/dpkg to fetch Debian's kernel"
	fi
	pkg=$(kernel_pkg)
	# A machine whose packages were all present never ran apt-get update,
	# and a fresh image has no package lists: fetch them once, as root.
	if [[ -z $pkg && $(id -u) -eq 0 ]]; then
		log "apt knows no linux-image-amd64; running apt-get update once"
		apt-get update -q >"$VM_CACHE/apt-update.log" 2>&1 || true
		pkg=$(kernel_pkg)
	fi
	[[ -n $pkg ]] || skip_vm "apt-cache knows no linux-image-amd64 dependency (apt-get update failed or not root)"
	log "fetching $pkg from Debian's archive (once; cached in $kdir)"
	rm -rf "$kdir" "$VM_CACHE"/kernel.tmp.*
	tmp=$(mktemp -d "$VM_CACHE/kernel.tmp.XXXXXX")
	# apt-get download as root warns that it cannot drop to _apt here; harmless.
	if ! (cd "$tmp" && apt-get download linux-image-amd64 "$pkg") >"$tmp/download.log" 2>&1; then
		local why
		why=$(grep -m1 -E '^(E|Err):' "$tmp/download.log" || tail -n1 "$tmp/download.log")
		rm -rf "$tmp"
		skip_vm "cannot download $pkg: $why"
	fi
	mkdir "$tmp/root"
	dpkg -x "$tmp/$pkg"_*.deb "$tmp/root" || { rm -rf "$tmp"; skip_vm "dpkg -x $pkg failed"; }
	rm -f "$tmp"/*.deb
	# Newer Debian ships modules under /usr/lib (merged /usr); depmod -b and
	# the code below look in lib/modules.
	if [[ ! -d $tmp/root/lib/modules && -d $tmp/root/usr/lib/modules ]]; then
		ln -s usr/lib "$tmp/root/lib"
	fi
	local kver
	kver=$(find "$tmp/root/lib/modules" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | head -n1)
	# modules.dep is made by the package's postinst, which never ran.
	"$BUSYBOX" depmod -b "$tmp/root" "$kver" || { rm -rf "$tmp"; skip_vm "depmod on $pkg failed"; }
	[[ -f $tmp/root/boot/vmlinuz-$kver ]] || { rm -rf "$tmp"; skip_vm "$pkg has no vmlinuz-$kver"; }
	echo "$kver" > "$tmp/kver"
	echo "$pkg" > "$tmp/package"
	touch "$tmp/ready"
	mv "$tmp" "$kdir"
}

# ---------------------------------------------------------------- initramfs
# Rebuilt only when init.sh, this script, the module list, busybox or the
# kernel change: the file name carries a hash of them.
module_path() { # name -> path relative to lib/modules/KVER (compressed or not)
	sed -n "s#^\([^:]*/$1\.ko\(\.xz\|\.zst\|\.gz\)\?\):.*#\1#p" "$mdir/modules.dep" | head -n1
}
module_deps() {
	local p=$1
	awk -F: -v p="$p" '$1 == p { print $2; exit }' "$mdir/modules.dep"
}
declare -A loaded=()
order=()
add_module() { # path; dependencies first
	local p=$1 d
	[[ -n ${loaded[$p]:-} ]] && return 0
	loaded[$p]=1
	for d in $(module_deps "$p"); do
		add_module "$d"
	done
	order+=("$p")
}

build_initramfs() {
	local kdir=$VM_CACHE/kernel key stage p name out
	kver=$(cat "$kdir/kver")
	mdir=$kdir/root/lib/modules/$kver
	for name in "${MODULES[@]}"; do
		p=$(module_path "$name")
		if [[ -z $p ]]; then
			# Built into this kernel: nothing to load.
			grep -q "/$name\.ko" "$mdir/modules.builtin" 2>/dev/null && continue
			skip_vm "kernel $kver has no module $name"
		fi
		add_module "$p"
	done
	key=$({
		cat "$here/init.sh" "${BASH_SOURCE[0]}"
		printf '%s\n' "$kver" "${order[@]}"
		sha256sum <"$BUSYBOX"
	} | sha256sum | cut -c1-16)
	initramfs=$VM_CACHE/initramfs-$key.cpio.gz
	[[ -f $initramfs ]] && return 0
	log "building initramfs ($kver, ${#order[@]} modules)"
	stage=$(mktemp -d "$VM_CACHE/initramfs.tmp.XXXXXX")
	mkdir -p "$stage/bin" "$stage/lib/modules" "$stage/dev" "$stage/proc" "$stage/sys"
	cp "$BUSYBOX" "$stage/bin/busybox"
	# The kernel runs /init by its #! line; init.sh installs the other applets.
	ln -s busybox "$stage/bin/sh"
	install -m 0755 "$here/init.sh" "$stage/init"
	: >"$stage/modules.order"
	for p in "${order[@]}"; do
		name=${p##*/}
		case $p in
		*.ko.xz) xz -dc "$mdir/$p" >"$stage/lib/modules/${name%.xz}"; name=${name%.xz} ;;
		*.ko.zst) zstd -qdc "$mdir/$p" >"$stage/lib/modules/${name%.zst}"; name=${name%.zst} ;;
		*.ko.gz) gzip -dc "$mdir/$p" >"$stage/lib/modules/${name%.gz}"; name=${name%.gz} ;;
		*) cp "$mdir/$p" "$stage/lib/modules/$name" ;;
		esac
		echo "$name" >>"$stage/modules.order"
	done
	# No cpio binary on these hosts; busybox has one.
	out=$initramfs.tmp
	(cd "$stage" && find . | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null) | gzip -1 >"$out"
	rm -rf "$stage" "$VM_CACHE"/initramfs-*.cpio.gz
	mv "$out" "$initramfs"
}

# Only one run fetches or builds at a time; the boot itself needs no lock
# (each run has its own disk image and results share).
exec 9>"$VM_CACHE/.lock"
flock -w 900 9 || skip_vm "could not lock $VM_CACHE"
fetch_kernel
build_initramfs
flock -u 9
exec 9>&-
kver=$(cat "$VM_CACHE/kernel/kver")
vmlinuz=$VM_CACHE/kernel/root/boot/vmlinuz-$kver

# ---------------------------------------------------------------- boot
# Folders of failed runs are kept for their logs: keep the last five.
find "$VM_CACHE" -mindepth 1 -maxdepth 1 -name 'run.*' -printf '%T@ %p\n' |
	sort -rn | tail -n +5 | cut -d' ' -f2- | xargs -r rm -rf
run_dir=$(mktemp -d "$VM_CACHE/run.XXXXXX")
res=$run_dir/results
mkdir "$res"
: >"$res/log"
cat >"$res/config" <<EOF
REPO='$REPO'
BUILD='$BUILD'
CASES='${cases[*]}'
CASE_TIMEOUT='$VM_CASE_TIMEOUT'
EOF

# A real block device, so io.stat has a line to check (/dev/vda in the guest).
disk=$run_dir/disk.img
truncate -s 512M "$disk"
# A second one for swap (/dev/vdb), which cases may mkswap and swapon (the
# adaptive memory.high case squeezes anon memory into it).
swapdisk=$run_dir/swap.img
truncate -s 256M "$swapdisk"
# cache=none needs O_DIRECT on the host filesystem (not on tmpfs).
disk_cache=none
dd if=/dev/zero of="$disk" bs=4096 count=1 oflag=direct conv=notrunc status=none 2>/dev/null ||
	disk_cache=writeback

cmdline="console=ttyS0 rdinit=/init cgroup_no_v1=all panic=-1 quiet loglevel=4 mitigations=off"
# shellcheck disable=SC2054 # the commas are qemu's
qemu_args=(
	-name cgwarden-vm "${accel[@]}" -smp 2 -m 1024
	-nographic -monitor none -serial "file:$run_dir/console.log"
	-no-reboot -nic none
	-kernel "$vmlinuz" -initrd "$initramfs" -append "$cmdline"
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
	-virtfs "local,path=$res,mount_tag=results,security_model=none"
	-drive "file=$disk,if=virtio,format=raw,cache=$disk_cache"
	-drive "file=$swapdisk,if=virtio,format=raw,cache=$disk_cache"
	-device isa-debug-exit,iobase=0xf4,iosize=0x04
)
log "booting $kver ($VM_ACCEL) for ${#cases[@]} case(s): ${cases[*]}"
t0=$SECONDS
"$QEMU" "${qemu_args[@]}" </dev/null >"$run_dir/qemu.out" 2>&1 &
qemu_pid=$!

# Stream the results log (clean lines written by the guest's cases) while
# the guest runs; tail stops by itself once qemu is gone. The sed strips
# anything terminal-ish a case might have printed.
tail -n +1 -s 0.3 -f --pid="$qemu_pid" "$res/log" |
	sed -u -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\r//g' &
stream_pid=$!

# A guest is hung when no case has written a line for VM_STALL_TIMEOUT (each
# case has its own VM_CASE_TIMEOUT inside): a suite slowed down by a busy host
# still makes progress and is let finish, up to the overall VM_TIMEOUT cap.
timed_out=
last_size=-1
last_progress=$SECONDS
while kill -0 "$qemu_pid" 2>/dev/null; do
	elapsed=$((SECONDS - t0))
	size=$(stat -c %s "$res/log" 2>/dev/null || echo 0)
	if ((size != last_size)); then
		last_size=$size
		last_progress=$SECONDS
	fi
	if [[ -e $res/started ]] && ((SECONDS - last_progress >= VM_STALL_TIMEOUT)); then
		timed_out=stall
		break
	fi
	if [[ ! -e $res/started ]] && ((elapsed >= VM_BOOT_TIMEOUT && VM_BOOT_TIMEOUT < VM_TIMEOUT)); then
		timed_out=boot
		break
	fi
	if ((elapsed >= VM_TIMEOUT)); then
		timed_out=all
		break
	fi
	sleep 0.5
done
if [[ -n $timed_out ]]; then
	kill "$qemu_pid" 2>/dev/null || true
fi
qemu_rc=0
wait "$qemu_pid" || qemu_rc=$?
qemu_pid=
wait "$stream_pid" || true
stream_pid=
wall=$((SECONDS - t0))

console_tail() {
	# Console lines carry CRs and escape sequences: clean them for humans.
	sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\r//g' "$run_dir/console.log" 2>/dev/null |
		grep -v '^$' | tail -n "${1:-15}" | sed 's/^/vm: console: /' >&2 || true
}

if [[ ! -e $res/started ]]; then
	keep_run=1
	console_tail 20
	why=
	[[ -s $res/bootfail ]] && why=$(head -n1 "$res/bootfail")
	if [[ -z $why ]]; then
		why=$(grep -a -o 'BOOTFAIL .*' "$run_dir/console.log" 2>/dev/null |
			head -n1 | sed -e 's/^BOOTFAIL //' -e 's/\r//g') || true
	fi
	if [[ $timed_out == boot ]]; then
		why="guest did not reach its first case within $VM_BOOT_TIMEOUT s${why:+ ($why)}"
	elif [[ $timed_out == all ]]; then
		why="VM timed out after $VM_TIMEOUT s before its first case${why:+ ($why)}"
	elif [[ -z $why ]] && grep -a -q 'Kernel panic' "$run_dir/console.log"; then
		why="kernel panic: $(grep -a -o 'Kernel panic.*' "$run_dir/console.log" | head -n1 | tr -d '\r')"
	elif [[ -z $why ]]; then
		why="qemu exited with status $qemu_rc before the first case"
		last=$(grep -v '^$' "$run_dir/qemu.out" | tail -n1) || true
		[[ -n $last ]] && why+=": $last"
	fi
	skip_vm "$why"
fi

# ---------------------------------------------------------------- verdict
status=0
if [[ $timed_out == all ]]; then
	echo "FAIL vm: VM timed out after $VM_TIMEOUT s"
	status=1
elif [[ $timed_out == stall && -n ${VM_RERUN:-} ]]; then
	echo "FAIL vm: no case finished for $VM_STALL_TIMEOUT s (VM_STALL_TIMEOUT): guest hung"
	status=1
elif [[ $timed_out == stall ]]; then
	# Under TCG on a host loaded with other work, the guest kernel has been
	# seen to lose a vCPU's timer and lock up ("soft lockup", "timer handling
	# issue on cpu=0") in a case that passes everywhere else. The unfinished
	# cases get one new guest; a second hang is a failure.
	keep_run=1
	hung=$(sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\r//g' "$run_dir/console.log" |
		grep -a -E 'soft lockup|stall on CPU' | tail -n 1) || true
	log "the guest hung: no result for $VM_STALL_TIMEOUT s${hung:+; console: $hung}"
fi
unfinished=()
for c in "${cases[@]}"; do
	name=vm.${c%.sh}
	out=$res/$c.out
	if [[ ! -f $res/$c.rc && $timed_out == stall && -z ${VM_RERUN:-} ]]; then
		unfinished+=("$c")
		continue
	elif [[ ! -f $res/$c.rc ]]; then
		status=1
		if [[ -n $timed_out ]]; then
			echo "FAIL $name: did not finish (VM stopped: $timed_out)"
		else
			echo "FAIL $name: did not finish (guest stopped, qemu status $qemu_rc)"
		fi
		continue
	fi
	rc=$(cat "$res/$c.rc")
	if [[ -f $res/$c.timeout ]]; then
		echo "FAIL $name: killed after $VM_CASE_TIMEOUT s (VM_CASE_TIMEOUT)"
		status=1
	elif [[ $rc != 0 ]]; then
		status=1
		grep -q '^FAIL ' "$out" 2>/dev/null || echo "FAIL $name: exited with status $rc"
	elif grep -q '^FAIL ' "$out" 2>/dev/null; then
		status=1
	elif ! grep -qE '^(PASS|SKIP) ' "$out" 2>/dev/null; then
		# A plain script that reports nothing is judged by its exit status.
		echo "PASS $name"
	fi
done
((status == 0)) || keep_run=1
if ((status != 0)); then
	console_tail 10
fi
ran=0
for c in "${cases[@]}"; do
	[[ -f $res/$c.rc ]] && ran=$((ran + 1))
done
log "guest finished $ran of ${#cases[@]} case(s); VM wall time $wall s (qemu status $qemu_rc); status $status"
if ((${#unfinished[@]})); then
	log "running the ${#unfinished[@]} unfinished case(s) in a new guest, once (logs of the hung one: $run_dir)"
	VM_RERUN=1 "$here/run.sh" "${unfinished[@]}" || status=1
fi
exit "$status"
