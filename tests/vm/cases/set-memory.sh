#!/usr/bin/env bash
# cgwarden set --memory: "set CG --memory 64M" exits 0, memory.max reads
# 67108864, the change line and the audit line say so, and a 200 MiB
# allocation in the cgroup is then OOM-killed (memory.events oom_kill grows).
# A second cgroup holds ~20 MiB of anonymous memory (dd's 20 MiB buffer, kept
# while dd blocks writing into a pipe nobody reads): "--memory 1M" without
# --force is refused with exit 2 and memory.max stays "max"; with --force the
# limit is written (exit 0, reads 1048576) and the holder is OOM-killed.
# Exact checks: limits are read back as the kernel stores them (pages).
set -euo pipefail
. tests/vm/lib.sh
T=vm.set-memory
name=vmtest-setmem
cg=$CGROOT/$name
busy_name=vmtest-setmem-busy
busy=$CGROOT/$busy_name
limit=$((64 << 20))
audit=$CASE_TMP/audit.ndjson

# The last line of FILE (audit log) in LAST, without a fork.
last_line() {
	local l
	LAST=
	while IFS= read -r l; do LAST=$l; done <"$1"
}

if ! cgw_ready "$T"; then
	finish
fi
vm_cg "$name"
# No swap in the guest, but a future one must not turn the OOM into swapping.
[[ -f $cg/memory.swap.max ]] && echo 0 >"$cg/memory.swap.max"

# ---- set --memory 64M, then 200 MiB
out=$CASE_TMP/set64
cgw_set "$out" "$name" --memory 64M --audit-log "$audit"
now=$(<"$cg/memory.max")
line=$(<"$out")
last_line "$audit"
echo "# set --memory 64M: status $RC, memory.max now $now; output: $line"
want_line="$name: memory.max: max -> $limit (read back: $limit)"
if ((RC == 0)) && [[ $now == "$limit" && $line == "$want_line" &&
	$LAST == *'"file":"memory.max","old":"max","new":"'$limit'","now":"'$limit'","result":"ok"'* ]]; then
	pass "$T.limit"
else
	fail "$T.limit" "status $RC (want 0), memory.max '$now' (want $limit), output '$line' (want '$want_line'), audit '$LAST', stderr: $(head -c 200 "$out.err")"
fi

before=$(key "$cg/memory.events" oom_kill)
rc=0
vm_run "$cg" dd if=/dev/zero of=/dev/null bs=200M count=1 status=none 2>/dev/null || rc=$?
after=$(key "$cg/memory.events" oom_kill)
echo "# 200 MiB under it: allocator status $rc, oom_kill $before -> $after"
if ((after > before && rc != 0)); then
	pass "$T.oom"
else
	fail "$T.oom" "oom_kill $before -> $after (want growth), allocator status $rc (want killed)"
fi

# ---- --memory 1M under the current usage: refused without --force
vm_cg "$busy_name"
[[ -f $busy/memory.swap.max ]] && echo 0 >"$busy/memory.swap.max"
vm_spawn "$busy" bash -c 'dd if=/dev/zero bs=20M count=1 status=none | sleep 600'
cur=0
for ((i = 0; i < 100; i++)); do
	cur=$(<"$busy/memory.current")
	((cur >= 20 << 20)) && break
	nap 0.1
done
if ((cur < 20 << 20)); then
	fail "$T.refused" "the holder did not reach 20 MiB within 10 s (memory.current $cur)"
	fail "$T.force" "no workload"
	finish
fi
lines_before=0
while IFS= read -r _; do lines_before=$((lines_before + 1)); done <"$audit"
out=$CASE_TMP/set1
cgw_set "$out" "$busy_name" --memory 1M --audit-log "$audit"
now=$(<"$busy/memory.max")
err=$(<"$out.err")
lines_after=0
while IFS= read -r _; do lines_after=$((lines_after + 1)); done <"$audit"
echo "# set --memory 1M at memory.current $cur: status $RC, memory.max now $now, audit lines $lines_before -> $lines_after; stderr: $err"
if ((RC == 2)) && [[ $now == max && -z $(<"$out") && $err == *--force* ]]; then
	pass "$T.refused"
else
	fail "$T.refused" "status $RC (want 2), memory.max '$now' (want max), stdout '$(head -c 200 "$out")' (want none), stderr '$err' (want a hint at --force)"
fi

# ---- the same with --force: written, and the holder is OOM-killed
before=$(key "$busy/memory.events" oom_kill)
out=$CASE_TMP/set1f
cgw_set "$out" "$busy_name" --memory 1M --force --audit-log "$audit"
now=$(<"$busy/memory.max")
after=$(key "$busy/memory.events" oom_kill)
cur=$(<"$busy/memory.current")
echo "# set --memory 1M --force: status $RC, memory.max now $now, memory.current $cur, oom_kill $before -> $after; output: $(<"$out")"
if ((RC == 0 && after > before && cur <= 1 << 20)) && [[ $now == $((1 << 20)) ]]; then
	pass "$T.force"
else
	fail "$T.force" "status $RC (want 0), memory.max '$now' (want 1048576), oom_kill $before -> $after (want growth), memory.current $cur; stderr: $(head -c 200 "$out.err")"
fi
finish
