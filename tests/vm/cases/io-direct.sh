#!/usr/bin/env bash
# A 64 MiB O_DIRECT write to the guest's virtio disk from a cgroup: io.stat
# wbytes for that device is exactly 67108864. O_DIRECT bypasses the page
# cache, so every byte is submitted by this cgroup and no writeback from
# elsewhere can be charged to it: no tolerance.
set -euo pipefail
. tests/vm/lib.sh
T=vm.io-direct
name=vmtest-io
cg=$CGROOT/$name
want=$((64 << 20))

if [[ ! -b /dev/vda ]]; then
	fail "$T.kernel" "no /dev/vda in the guest"
	fail "$T.cgwarden" "no /dev/vda in the guest"
	finish
fi
dev=$(</sys/block/vda/dev)
vm_cg "$name"
rc=0
vm_run "$cg" dd if=/dev/zero of=/dev/vda bs=1M count=64 oflag=direct status=none || rc=$?
w=$(field "$cg/io.stat" "$dev" wbytes)
echo "# kernel: dd status $rc; io.stat: $(tr '\n' ' ' <"$cg/io.stat")"
if [[ $rc == 0 && $w == "$want" ]]; then
	pass "$T.kernel"
else
	fail "$T.kernel" "wbytes '$w' for $dev (want $want), dd status $rc"
fi

if cgw_ready "$T.cgwarden"; then
	out=$CASE_TMP/snapshot.json
	# The device key is the uevent DEVNAME ("vda"), or "MAJ:MIN" without one.
	if cgw "$T.cgwarden" "$out" snapshot &&
		cgw_get "$T.cgwarden" "$out" "$name" "(.io.devices.vda // .io.devices[\"$dev\"]).wbytes" \
			'(.io.devices.vda // {}) | "\(.major):\(.minor)"'; then
		echo "# cgwarden: io.devices.vda.wbytes ${CGW[0]}, major:minor ${CGW[1]}"
		if [[ ${CGW[0]} == "$want" && (${CGW[1]} == "$dev" || ${CGW[1]} == null:null) ]]; then
			pass "$T.cgwarden"
		else
			fail "$T.cgwarden" "wbytes ${CGW[0]} (want $want), vda is ${CGW[1]} (want $dev)"
		fi
	fi
fi
finish
