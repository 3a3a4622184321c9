#!/usr/bin/env bash
# cgwarden set --kill on a cgroup with three sleeping processes: without
# --yes and with no terminal on stdin it refuses (exit 2) and all three live;
# with --yes it exits 0, cgroup.procs is empty, cgroup.events says
# populated 0 and every process is gone (kill -0 fails; they are this
# shell's children, so up to 2 s are allowed for bash to reap them).
# Exact checks.
set -euo pipefail
. tests/vm/lib.sh
T=vm.set-kill
name=vmtest-setkill
cg=$CGROOT/$name

# The pids in a cgroup.procs file, space-separated.
procs() {
	local p s=
	while read -r p; do s+="${s:+ }$p"; done <"$1"
	echo "$s"
}
alive() {
	local p n=0
	for p in "${pids[@]}"; do
		kill -0 "$p" 2>/dev/null && n=$((n + 1))
	done
	echo "$n"
}

if ! cgw_ready "$T"; then
	finish
fi
vm_cg "$name"
pids=()
for _ in 1 2 3; do
	vm_spawn "$cg" sleep 600
	pids+=("$!")
done
for ((i = 0; i < 100; i++)); do
	n=$(procs "$cg/cgroup.procs")
	[[ $n == *" "*" "* ]] && break
	nap 0.1
done
echo "# sleepers ${pids[*]}; cgroup.procs: $n"

# ---- no --yes, no terminal: refused
out=$CASE_TMP/nokill
cgw_set "$out" "$name" --kill
a=$(alive)
pop=$(key "$cg/cgroup.events" populated)
err=$(<"$out.err")
echo "# --kill without --yes: status $RC, $a of 3 alive, populated $pop; stderr: ${err//$'\n'/ }"
if ((RC == 2 && a == 3 && pop == 1)); then
	pass "$T.no-yes"
else
	fail "$T.no-yes" "status $RC (want 2), $a of 3 alive (want 3), populated $pop (want 1)"
fi

# ---- --kill --yes
out=$CASE_TMP/kill
cgw_set "$out" "$name" --kill --yes
pop=$(key "$cg/cgroup.events" populated)
left=$(procs "$cg/cgroup.procs")
line=$(<"$out")
for ((i = 0; i < 20; i++)); do
	a=$(alive)
	((a == 0)) && break
	nap 0.1
done
echo "# --kill --yes: status $RC, populated $pop, cgroup.procs '$left', $a of 3 alive after $((i * 100)) ms; output: $line"
want_line="$name: every process killed (populated 1 -> populated 0)"
if ((RC == 0 && pop == 0 && a == 0)) && [[ -z $left && $line == "$want_line" ]]; then
	pass "$T.kill"
else
	fail "$T.kill" "status $RC (want 0), populated $pop (want 0), cgroup.procs '$left' (want empty), $a of 3 alive (want 0), output '$line' (want '$want_line'), stderr: $(head -c 200 "$out.err")"
fi
finish
