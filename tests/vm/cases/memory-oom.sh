#!/usr/bin/env bash
# memory.max 64M and a 200 MiB allocation: the memcg OOM killer kills the
# allocator and memory.events oom_kill grows. Exact check: oom_kill goes up
# by >= 1 and the allocator dies. The allocator is dd with a 200 MiB buffer
# (filled by read(), so every page is touched), not stress-ng, which restarts
# killed workers and exits 0. cgwarden must show the same oom_kill and limit.
set -euo pipefail
. tests/vm/lib.sh
T=vm.memory-oom
name=vmtest-oom
cg=$CGROOT/$name
limit=$((64 << 20))

vm_cg "$name"
echo 64M >"$cg/memory.max"
# No swap in the guest, but a future one must not turn the OOM into swapping.
[[ -f $cg/memory.swap.max ]] && echo 0 >"$cg/memory.swap.max"
before=$(key "$cg/memory.events" oom_kill)
rc=0
vm_run "$cg" dd if=/dev/zero of=/dev/null bs=200M count=1 status=none 2>/dev/null || rc=$?
after=$(key "$cg/memory.events" oom_kill)
echo "# kernel: allocator status $rc, oom_kill $before -> $after; memory.events: $(tr '\n' ' ' <"$cg/memory.events")"
if ((after > before && rc != 0)); then
	pass "$T.kernel"
else
	fail "$T.kernel" "oom_kill $before -> $after (want growth), allocator status $rc (want killed)"
fi

if cgw_ready "$T.cgwarden"; then
	out=$CASE_TMP/snapshot.json
	if cgw "$T.cgwarden" "$out" snapshot &&
		cgw_get "$T.cgwarden" "$out" "$name" .memory.events.oom_kill .memory.max_bytes; then
		echo "# cgwarden: memory.events.oom_kill ${CGW[0]}, max_bytes ${CGW[1]}"
		if [[ ${CGW[0]} == "$after" && ${CGW[1]} == "$limit" ]]; then
			pass "$T.cgwarden"
		else
			fail "$T.cgwarden" "oom_kill ${CGW[0]} (want $after), max_bytes ${CGW[1]} (want $limit)"
		fi
	fi
fi
finish
