#!/usr/bin/env bash
# pids.max 10 and a fork loop in the cgroup: pids.current never exceeds 10
# (sampled every ~20 ms while the loop runs), forks beyond the limit fail
# (pids.events max grows), and cgwarden reports the count and the limit.
# Exact checks: the limit is a hard one.
set -euo pipefail
. tests/vm/lib.sh
T=vm.pids-max
name=vmtest-pids
cg=$CGROOT/$name
limit=10

vm_cg "$name"
echo "$limit" >"$cg/pids.max"

# The highest pids.current seen until told to stop (the sampler never forks).
vm_peak_sampler "$cg/pids.current"
ready=$CASE_TMP/ready
vm_fork_loop "$cg" 30 "$ready"
if ! wait_file "$ready" 900; then
	touch "$stop"
	fail "$T.kernel" "fork loop did not finish within 90 s"
	fail "$T.cgwarden" "no workload"
	finish
fi
vm_fork_limit_verdict "$T.kernel" "$cg" "$limit" "$ready"
cur=$(<"$cg/pids.current")

if cgw_ready "$T.cgwarden"; then
	out=$CASE_TMP/snapshot.json
	if cgw "$T.cgwarden" "$out" snapshot &&
		cgw_get "$T.cgwarden" "$out" "$name" .pids.current .pids.max; then
		echo "# cgwarden: pids.current ${CGW[0]}, pids.max ${CGW[1]}"
		if [[ ${CGW[0]} == "$cur" && ${CGW[1]} == "$limit" ]]; then
			pass "$T.cgwarden"
		else
			fail "$T.cgwarden" "pids.current ${CGW[0]} (want $cur), pids.max ${CGW[1]} (want $limit)"
		fi
	fi
fi
finish
