#!/usr/bin/env bash
# An OOM kill seen by cgwarden's eBPF programs: memory.max 64M and a 200 MiB
# allocation (dd's buffer, as in memory-oom) while `cgwarden stream` runs,
# started before the allocation. Exact checks: memory.events oom_kill grows
# (kernel); the stream has an "oom_kill" event whose cgroup_id is the
# cgroup's inode, whose path is the cgroup's path, whose pid is dd's and
# whose comm is "dd" and whose time_usec (wall clock) falls between dd's
# start and its end; the last tick's oom.kills of that cgroup is >= 1.
# The stream is stopped with SIGTERM one tick after dd is gone rather than
# after a fixed --count: under TCG loading the programs takes seconds and
# dd's death a variable time, and a count could end it before the kill.
set -euo pipefail
. tests/vm/lib.sh
T=vm.bpf-oom
name=vmtest-bpfoom
cg=$CGROOT/$name

vm_cg "$name"
echo 64M >"$cg/memory.max"
# No swap in the guest, but a future one must not turn the OOM into swapping.
[[ -f $cg/memory.swap.max ]] && echo 0 >"$cg/memory.swap.max"
ino=$(stat -c %i "$cg")
before=$(key "$cg/memory.events" oom_kill)

# ticks FILE: the tick lines in FILE so far (bash only: no fork per poll).
ticks() {
	local l n=0
	while IFS= read -r l; do
		[[ $l == *'"type":"tick"'* ]] && n=$((n + 1))
	done <"$1"
	echo "$n"
}

out=$CASE_TMP/stream.ndjson
spid=
if cgw_ready "$T.cgwarden"; then
	launched=$(now_usec)
	"$CGWARDEN" stream --interval 0.5 --root "$CGROOT" >"$out" 2>"$out.err" &
	spid=$!
	# The first tick is written once the programs are attached.
	for ((i = 0; i < 600; i++)); do
		[[ -s $out ]] && break
		kill -0 "$spid" 2>/dev/null || break
		nap 0.1
	done
	echo "# cgwarden: first tick after $((($(now_usec) - launched) / 1000)) ms; stderr: $(tr '\n' ' ' <"$out.err")"
fi

start=$(now_usec)
vm_spawn "$cg" dd if=/dev/zero of=/dev/null bs=200M count=1 status=none
dd_pid=$!
# dd is in the cgroup once populated is 1 (it moves itself in first), and
# gone once it is back to 0 (killed, or done if the limit failed).
for ((i = 0; i < 100; i++)); do
	[[ $(key "$cg/cgroup.events" populated) == 1 ]] && break
	kill -0 "$dd_pid" 2>/dev/null || break
	nap 0.05
done
for ((i = 0; i < 600; i++)); do
	[[ $(key "$cg/cgroup.events" populated) == 0 ]] && break
	nap 0.1
done
gone=$(now_usec)
after=$(key "$cg/memory.events" oom_kill)
echo "# kernel: dd (pid $dd_pid) gone after $(((gone - start) / 1000)) ms; oom_kill $before -> $after"
if ((after > before)); then
	pass "$T.kernel"
else
	fail "$T.kernel" "oom_kill $before -> $after (want growth)"
fi

if [[ -n $spid ]]; then
	# One whole tick after dd's exit, so its event and counter are out.
	n=$(ticks "$out")
	for ((i = 0; i < 100; i++)); do
		(($(ticks "$out") >= n + 2)) && break
		kill -0 "$spid" 2>/dev/null || break
		nap 0.1
	done
	kill -TERM "$spid" 2>/dev/null || true
	rc=0
	wait "$spid" || rc=$?
	if grep -q 'eBPF counters off' "$out.err"; then
		# The VM's 6.1 kernel has everything the programs need.
		fail "$T.cgwarden" "$(head -n 1 "$out.err")"
	elif ((rc != 0)); then
		fail "$T.cgwarden" "stream exited with status $rc: $(head -c 200 "$out.err" | tr '\n' ' ')"
	else
		# One jq: every oom_kill event, then the cgroup's path and
		# oom.kills in the last tick (looked up by id).
		mapfile -t R < <(jq -s -r --argjson id "$ino" '
			([.[] | select(.type == "tick")] | last | .cgroups[] | select(.id == $id)) as $c
			| ([.[] | select(.type == "event" and .event == "oom_kill")]
			   | map("\(.cgroup_id)\t\(.path)\t\(.pid)\t\(.comm)\t\(.time_usec)") | join(" | ")),
			  ($c.path // "none"), ($c.oom.kills // "null" | tostring)' "$out" 2>"$out.jqerr")
		if ((${#R[@]} != 3)); then
			fail "$T.cgwarden" "cannot read the stream: $(head -c 200 "$out.jqerr")"
		else
			echo "# cgwarden: oom_kill events (id path pid comm time): ${R[0]:-none}; tick path ${R[1]}, oom.kills ${R[2]}"
			want=$ino$'\t'$name$'\t'$dd_pid$'\tdd\t'
			# time_usec is wall-clock: between dd's start and its end.
			ev=" | ${R[0]} | "
			ev=${ev#*" | $want"}
			t=${ev%%" | "*}
			if [[ $ev == " | ${R[0]} | " ]]; then
				fail "$T.cgwarden.event" "no event '${want//$'\t'/ }' (id path pid comm) among: ${R[0]:-none}"
			elif [[ ! $t =~ ^[0-9]+$ ]] || ((t < start || t > gone)); then
				fail "$T.cgwarden.event" "time_usec '$t' is not between dd's start $start and end $gone"
			else
				pass "$T.cgwarden.event"
			fi
			if [[ ${R[1]} == "$name" && ${R[2]} =~ ^[0-9]+$ ]] && ((R[2] >= 1)); then
				pass "$T.cgwarden.kills"
			else
				fail "$T.cgwarden.kills" "last tick: path '${R[1]}', oom.kills '${R[2]}' (want >= 1)"
			fi
		fi
	fi
fi
finish
