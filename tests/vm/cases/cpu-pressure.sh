#!/usr/bin/env bash
# Two busy loops in one cgroup pinned to the same CPU: one always waits for
# the other, so the cgroup's cpu.pressure "some" is ~100% and avg10 (updated
# every 2 s) is well above 0 after 5 s. A sibling holding only a sleeping
# process never waits for a CPU: its avg10 stays 0.00.
# Tolerance: busy avg10 > 0 (issue 3), idle avg10 == 0.00 exactly.
set -euo pipefail
. tests/vm/lib.sh
T=vm.cpu-pressure
busy=vmtest-psi-busy
idle=vmtest-psi-idle

vm_cg "$busy"
vm_cg "$idle"
# The idle member must be asleep before the load starts: starting it (exec,
# loading over 9p) on a contended CPU would itself be a stall.
vm_spawn "$CGROOT/$idle" sleep 600
pid=$!
asleep=
for ((i = 0; i < 100; i++)); do
	if [[ $(</proc/$pid/comm) == sleep ]] && read -r _ _ state _ <"/proc/$pid/stat" && [[ $state == S ]]; then
		asleep=1
		break
	fi
	nap 0.1
done
[[ -n $asleep ]] || echo "# warning: idle member not asleep after 10 s"
for _ in 1 2; do
	vm_spawn "$CGROOT/$busy" taskset -c 0 bash -c 'while :; do :; done'
done
nap 5

b=$(field "$CGROOT/$busy/cpu.pressure" some avg10)
i=$(field "$CGROOT/$idle/cpu.pressure" some avg10)
echo "# kernel: busy some avg10 $b, idle some avg10 $i (idle some total $(field "$CGROOT/$idle/cpu.pressure" some total) us)"
if gt "$b" 0 && [[ $i == 0.00 ]]; then
	pass "$T.kernel"
else
	fail "$T.kernel" "busy avg10 $b (want > 0), idle avg10 $i (want 0.00)"
fi

if cgw_ready "$T.cgwarden"; then
	bout=$CASE_TMP/snapshot.json
	if cgw "$T.cgwarden" "$bout" snapshot &&
		cgw_get "$T.cgwarden" "$bout" "$busy" .psi.cpu.some.avg10; then
		cb=${CGW[0]}
		if cgw_get "$T.cgwarden" "$bout" "$idle" .psi.cpu.some.avg10; then
			ci=${CGW[0]}
			echo "# cgwarden: busy psi.cpu.some.avg10 $cb, idle $ci"
			if gt "$cb" 0 && [[ $ci =~ ^0(\.0*)?$ ]]; then
				pass "$T.cgwarden"
			else
				fail "$T.cgwarden" "busy avg10 $cb (want > 0), idle avg10 $ci (want 0)"
			fi
		fi
	fi
fi
finish
