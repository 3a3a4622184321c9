#!/usr/bin/env bash
# A real podman container on a pure v2 host, limited by its name:
# "cgwarden set NAME --cpu 0.5 --memory 64M" on a container burning CPU.
#  - limit: exit 0, the container's cgroup (libpod_parent/libpod-<id>) reads
#    cpu.max "50000 100000" and memory.max 67108864, and set's change lines
#    (which name the cgroup by its path) say so;
#  - usage: the burner, about one CPU before (at least 0.7: it has a vCPU of
#    its own), then 0.40-0.60 of one CPU over ~3 s of cpu.stat usage_usec
#    (0.5 wanted; TCG's timer is coarse, set-cpu sees 0.20 at 0.2);
#  - oom: a 200 MiB allocation inside it (podman exec ... dd bs=200M) is
#    OOM-killed (memory.events oom_kill grows, dd does not exit 0);
#  - snapshot: cgwarden names the cgroup: the name, image
#    localhost/cgwarden-test-bbox:1, runtime podman, kind container.
# podman runs with its storage on tmpfs mounted over its default paths
# (/var/lib/containers, /run/containers: the guest's own mounts, the host's
# are untouched), so cgwarden reads its state where it always does. The
# overlay driver needs the guest kernel's overlay module (from the VM's
# kernel cache). The image is a static busybox imported from a tarball (no
# registry). crun first, runc if crun is missing or fails. No network.
# SKIP with the reason when podman cannot run a container here.
set -uo pipefail
. tests/vm/lib.sh
T=vm.podman-set
name=cgw-burner
image=localhost/cgwarden-test-bbox:1
mounted=()

podman_vm_cleanup() {
	local m
	if ((${#mounted[@]})); then
		podman rm -a -f -t 0 >/dev/null 2>&1
		# conmon and whatever podman left outside our case's cgroup.
		[[ -e $CGROOT/libpod_parent ]] && _vm_cg_tree_remove "$CGROOT/libpod_parent"
		[[ -e $CGROOT/libpod_parent ]] && echo "# warning: could not remove $CGROOT/libpod_parent"
	fi
	for ((m = ${#mounted[@]} - 1; m >= 0; m--)); do
		umount -l "${mounted[m]}" 2>/dev/null
	done
}
# Removes CG and every cgroup below it, deepest first.
_vm_cg_tree_remove() {
	local d
	while IFS= read -r d; do
		_vm_cg_remove "$d" || true
	done < <(find "$1" -depth -type d)
}
trap 'podman_vm_cleanup; _vm_cleanup' EXIT

cgw_ready "$T" || finish
for t in podman conmon; do
	if ! command -v "$t" >/dev/null; then
		skip "$T" "$t not installed (scripts/deps.sh --test)"
		finish
	fi
done

# ---- podman on tmpfs, at its default paths
for d in /var/lib/containers /run/containers; do
	if ! mkdir -p "$d" 2>/dev/null && [[ ! -d $d ]]; then
		skip "$T" "no mount point $d in the host's tree (read-only here)"
		finish
	fi
	if ! mount -t tmpfs -o mode=0700 cgw-podman "$d"; then
		skip "$T" "cannot mount tmpfs on $d"
		finish
	fi
	mounted+=("$d")
done
# (this host has no kmod; the static busybox has insmod)
busybox_insmod() {
	if command -v insmod >/dev/null; then insmod "$1"; else /bin/busybox insmod "$1"; fi
}
if ! grep -qw overlay /proc/filesystems; then
	# run.sh's kernel cache (VM_CACHE at its default, $BUILD/vm-cache).
	mdir=$BUILD/vm-cache/kernel/root/lib/modules/$(uname -r)
	ko=$(sed -n 's#^\([^:]*/overlay\.ko[.a-z]*\):.*#\1#p' "$mdir/modules.dep" 2>/dev/null)
	ko=$mdir/${ko:-kernel/fs/overlayfs/overlay.ko}
	if [[ ! -f $ko ]] || ! busybox_insmod "$ko" 2>"$CASE_TMP/insmod.err"; then
		skip "$T" "no overlay filesystem in the guest kernel ($ko: $(cat "$CASE_TMP/insmod.err" 2>/dev/null))"
		finish
	fi
fi
runtimes=()
for r in crun runc; do command -v "$r" >/dev/null && runtimes+=("$r"); done
if ((${#runtimes[@]} == 0)); then
	skip "$T" "neither crun nor runc is installed"
	finish
fi
export CONTAINERS_CONF=$CASE_TMP/containers.conf
write_conf() {
	cat >"$CONTAINERS_CONF" <<-EOF
		[containers]
		default_ulimits = []
		log_driver = "k8s-file"
		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		runtime = "$1"
	EOF
}
write_conf "${runtimes[0]}"

# ---- the image: static busybox and its applets, from a tarball
t0=$(now_usec)
root=$CASE_TMP/rootfs
mkdir -p "$root/bin" "$root/usr/bin"
# Debian's busybox links its applets to /usr/bin/busybox, wherever it is.
cp /bin/busybox "$root/usr/bin/busybox"
ln "$root/usr/bin/busybox" "$root/bin/busybox"
/bin/busybox --install -s "$root/bin"
if ! tar -C "$root" -cf - . | podman import -q --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' \
	- "$image" >/dev/null 2>"$CASE_TMP/import.err"; then
	skip "$T" "podman import failed: $(tail -n 1 "$CASE_TMP/import.err")"
	finish
fi
echo "# image $image imported in $((($(now_usec) - t0) / 1000)) ms"

# ---- the burner, with the first runtime that starts it
rt=
why=
for r in "${runtimes[@]}"; do
	write_conf "$r"
	t0=$(now_usec)
	if podman run -d --network none --name "$name" "$image" sh -c 'while :; do :; done' \
		>"$CASE_TMP/run.out" 2>"$CASE_TMP/run.err"; then
		rt=$r
		echo "# podman run with $r: $((($(now_usec) - t0) / 1000)) ms"
		break
	fi
	why+="$r: $(tail -n 1 "$CASE_TMP/run.err"); "
	echo "# podman run with $r failed: $(cat "$CASE_TMP/run.err")"
	podman rm -f -t 0 "$name" >/dev/null 2>&1
done
if [[ -z $rt ]]; then
	skip "$T" "podman cannot run a container here: $why"
	finish
fi
pid=$(podman inspect -f '{{.State.Pid}}' "$name")
cid=$(podman inspect -f '{{.Id}}' "$name")
cgp=
while IFS= read -r l; do [[ $l == 0::* ]] && cgp=${l#0::/}; done <"/proc/$pid/cgroup"
cg=$CGROOT/$cgp
echo "# container $name ($rt), pid $pid, cgroup $cgp"
if [[ $cgp != "libpod_parent/libpod-$cid" || ! -f $cg/cpu.max || ! -f $cg/memory.max ]]; then
	fail "$T.cgroup" "cgroup '$cgp' (want libpod_parent/libpod-$cid with cpu.max and memory.max; controllers: $(cat "$cg/cgroup.controllers" 2>/dev/null))"
	finish
fi

# ---- cgwarden names it
out=$CASE_TMP/snap.json
if cgw "$T.snapshot" "$out" snapshot --no-bpf &&
	cgw_get "$T.snapshot" "$out" "$cgp" .name .image .runtime .kind; then
	got="${CGW[*]}"
	want="$name $image podman container"
	if [[ $got == "$want" ]]; then pass "$T.snapshot"; else fail "$T.snapshot" "got '$got', want '$want'"; fi
fi

vm_cpu_usage "$cg" 2
echo "# before: usage ratio $ratio over $ms ms"
before=$r

# ---- set, by the container's name
out=$CASE_TMP/set
cgw_set "$out" "$name" --cpu 0.5 --memory 64M
cmax=$(<"$cg/cpu.max")
mmax=$(<"$cg/memory.max")
echo "# set $name --cpu 0.5 --memory 64M: status $RC, cpu.max '$cmax', memory.max $mmax; output: $(tr '\n' '|' <"$out")"
if ((RC == 0)) && [[ $cmax == "50000 100000" && $mmax == $((64 << 20)) ]] &&
	grep -qxF "$cgp: cpu.max: max 100000 -> 50000 100000 (read back: 50000 100000)" "$out" &&
	grep -qxF "$cgp: memory.max: max -> 67108864 (read back: 67108864)" "$out"; then
	pass "$T.limit"
else
	fail "$T.limit" "status $RC (want 0), cpu.max '$cmax' (want '50000 100000'), memory.max '$mmax' (want 67108864), output '$(tr '\n' '|' <"$out")', stderr: $(head -c 300 "$out.err")"
fi

vm_cpu_usage "$cg" 3
echo "# after: usage ratio $ratio over $ms ms, nr_throttled $n1 -> $n2"
if ((before >= 7000 && r >= 4000 && r <= 6000 && n2 > n1)); then
	pass "$T.usage"
else
	fail "$T.usage" "before $before/10000 of a CPU (want >= 0.7), after $ratio (want 0.40-0.60), nr_throttled $n1 -> $n2 (want growth)"
fi

# ---- 200 MiB inside the container
b=$(key "$cg/memory.events" oom_kill)
rc=0
podman exec "$name" dd if=/dev/zero of=/dev/null bs=200M count=1 >"$CASE_TMP/dd.out" 2>&1 || rc=$?
a=$(key "$cg/memory.events" oom_kill)
echo "# podman exec dd bs=200M: status $rc, oom_kill $b -> $a, memory.peak $(cat "$cg/memory.peak" 2>/dev/null)"
if ((a > b && rc != 0)); then
	pass "$T.oom"
else
	fail "$T.oom" "oom_kill $b -> $a (want growth), dd status $rc (want killed): $(head -c 200 "$CASE_TMP/dd.out")"
fi
finish
