#!/usr/bin/env bash
# cgwarden set --freeze / --thaw on a cgroup running a counter (a bash loop
# that writes i+1 to a file about every 10 ms): --freeze exits 0, cgroup.events
# says frozen 1 and the counter stands still for 1 s; --thaw exits 0, frozen 0
# and the counter moves again (within 2 s). The audit log has one "ok" line
# for each. Exact checks: a frozen task runs no instruction at all.
set -euo pipefail
. tests/vm/lib.sh
T=vm.set-freeze
name=vmtest-setfrz
cg=$CGROOT/$name
count=$CASE_TMP/count
fifo=$CASE_TMP/tick
audit=$CASE_TMP/audit.ndjson

# The counter's value (0 before its first write). It writes with "1<>", no
# truncation, and the number only grows, so the file always holds one whole
# number.
counter() {
	local v=
	read -r v 2>/dev/null <"$count" || true
	echo "${v:-0}"
}

if ! cgw_ready "$T"; then
	finish
fi
vm_cg "$name"
mkfifo "$fifo"
# shellcheck disable=SC2016 # expanded by the counter's bash
vm_spawn "$cg" bash -c 'exec 3<>"$1"; i=0
	while :; do i=$((i + 1)); echo "$i" 1<>"$0"; read -r -t 0.01 -u 3 _ || :; done' "$count" "$fifo"
c0=0
for ((i = 0; i < 100; i++)); do
	c0=$(counter)
	((c0 > 0)) && break
	nap 0.1
done
nap 0.3
c1=$(counter)
if ((c1 <= c0)); then
	fail "$T.freeze" "the counter does not run ($c0 -> $c1 in 0.3 s)"
	fail "$T.thaw" "no workload"
	finish
fi

# ---- freeze
out=$CASE_TMP/freeze
cgw_set "$out" "$name" --freeze --audit-log "$audit"
frozen=$(key "$cg/cgroup.events" frozen)
line=$(<"$out")
c2=$(counter)
nap 1
c3=$(counter)
echo "# --freeze: status $RC, frozen $frozen, counter $c2 -> $c3 over 1 s (it ran $c0 -> $c1 in 0.3 s before); output: $line"
want_line="$name: cgroup.freeze: 0 -> 1 (read back: 1)"
if ((RC == 0 && frozen == 1 && c3 == c2)) && [[ $line == "$want_line" ]]; then
	pass "$T.freeze"
else
	fail "$T.freeze" "status $RC (want 0), frozen $frozen (want 1), counter $c2 -> $c3 (want no change), output '$line' (want '$want_line'), stderr: $(head -c 200 "$out.err")"
fi

# ---- thaw
out=$CASE_TMP/thaw
cgw_set "$out" "$name" --thaw --audit-log "$audit"
frozen=$(key "$cg/cgroup.events" frozen)
line=$(<"$out")
c4=$(counter)
for ((i = 0; i < 20; i++)); do
	nap 0.1
	c5=$(counter)
	((c5 > c4)) && break
done
echo "# --thaw: status $RC, frozen $frozen, counter $c4 -> $c5 within $(((i + 1) * 100)) ms; output: $line"
want_line="$name: cgroup.freeze: 1 -> 0 (read back: 0)"
if ((RC == 0 && frozen == 0 && c5 > c4)) && [[ $line == "$want_line" ]]; then
	pass "$T.thaw"
else
	fail "$T.thaw" "status $RC (want 0), frozen $frozen (want 0), counter $c4 -> $c5 (want growth), output '$line' (want '$want_line'), stderr: $(head -c 200 "$out.err")"
fi

ok=0 n=0
while IFS= read -r l; do
	n=$((n + 1))
	[[ $l == *'"file":"cgroup.freeze"'*'"result":"ok"'* ]] && ok=$((ok + 1))
done <"$audit"
if ((n == 2 && ok == 2)); then
	pass "$T.audit"
else
	fail "$T.audit" "$n audit lines, $ok of them cgroup.freeze ok (want 2 and 2)"
fi
finish
