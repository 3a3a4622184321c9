#!/usr/bin/env bash
# cgwarden set --pids 5, then a fork loop in the cgroup: exit 0, pids.max
# reads 5, pids.current never exceeds 5 (sampled every ~20 ms while the loop
# runs), forks beyond the limit fail and pids.events max grows.
# Exact checks: the limit is a hard one.
set -euo pipefail
. tests/vm/lib.sh
T=vm.set-pids
name=vmtest-setpids
cg=$CGROOT/$name
limit=5

if ! cgw_ready "$T"; then
	finish
fi
vm_cg "$name"

out=$CASE_TMP/set
rc=0
"$CGWARDEN" set "$name" --pids "$limit" --root "$CGROOT" >"$out" 2>"$out.err" || rc=$?
now=$(<"$cg/pids.max")
line=$(<"$out")
echo "# set --pids $limit: status $rc, pids.max now $now; output: $line"
want_line="$name: pids.max: max -> $limit (read back: $limit)"
if ((rc == 0)) && [[ $now == "$limit" && $line == "$want_line" ]]; then
	pass "$T.limit"
else
	fail "$T.limit" "status $rc (want 0), pids.max '$now' (want $limit), output '$line' (want '$want_line'), stderr: $(head -c 200 "$out.err")"
fi

# The highest pids.current seen until told to stop (the sampler never forks).
vm_peak_sampler "$cg/pids.current"
ready=$CASE_TMP/ready
vm_fork_loop "$cg" 15 "$ready"
if ! wait_file "$ready" 900; then
	touch "$stop"
	fail "$T.kernel" "fork loop did not finish within 90 s"
	finish
fi
vm_fork_limit_verdict "$T.kernel" "$cg" "$limit" "$ready"
finish
