#!/usr/bin/env bash
# cgwarden daemon, a loop that never stalls (issue 12 item 8): PSI trigger
# to action latency while hooks sleep and freezes wait for the kernel.
#  - Three hook rules run "sleep 22" (timeout 60 s), 12 s apart: one is
#    always running over the first 46 s, the triggers take about 20.
#  - Twenty cgroups each hold a dd whose 64 KiB O_DIRECT read io.max (1 KiB/s)
#    keeps in D state for 64 s, which no freeze can stop: the rules
#    freezing them, 4 s apart, each leave a freeze unconfirmed for the
#    actuator's 5 s.
#  - Meanwhile 20 cgroups get three busy loops pinned to CPU 0, one after
#    the other, under a rule psi.cpu.some.avg10 > 10 with a 500 ms trigger
#    (cpu.weight 10). The case holds its own trigger on each of those
#    cgroups (same stall and window), in a real-time process, so the
#    kernel's event time is seen outside the daemon: latency = the action's
#    record time - that (it may come out a little negative: the watcher
#    has its own wake-up to do).
# Printed: p50, p99 (of 20: the largest) and each latency, the daemon's own
# latency_usec, and at how many triggers a hook ran and a freeze was
# unconfirmed. Pass: three in four triggers under both at least; p50 <= 100 ms (the target)
# and each < 1 s (a stall would cost the 5 s of a verification or the 22 s
# of a hook); the freezes recorded as failed after 5 s (verified in the
# loop), the first hook as ok after ~22 s.
set -euo pipefail
. tests/vm/lib.sh
T=vm.policy-stall
N=20 NS=20 NH=3
cgw_ready "$T" || finish
dev=$(</sys/block/vda/dev)
log=$CASE_TMP/actions.ndjson
policy=$CASE_TMP/policy.json
hook=$CASE_TMP/hook.sh
printf '#!/bin/sh\necho $$ >>%s/hooks.pid\nexec sleep 22\n' "$CASE_TMP" >"$hook"
chmod +x "$hook"

# The dd tasks must be able to finish for the cgroups to go: io.max is
# lifted before the cleanup kills them.
# shellcheck disable=SC2317 # the EXIT trap calls it
unstick() {
	local i
	for ((i = 1; i <= NS; i++)); do
		[[ -e $CGROOT/vmtest-stall-s$i/io.max ]] &&
			echo "$dev rbps=max" >"$CGROOT/vmtest-stall-s$i/io.max" 2>/dev/null
	done
	_vm_cleanup
}
trap unstick EXIT

rules=
for ((i = 1; i <= NH; i++)); do
	vm_cg "vmtest-stall-h$i"
	vm_spawn "$CGROOT/vmtest-stall-h$i" sleep 600
	rules+="{\"name\": \"hook-$i\", \"match\": {\"path\": \"vmtest-stall-h$i\"},
  \"when\": {\"metric\": \"procs\", \"op\": \">\", \"value\": 0, \"for\": \"$((12 * (i - 1)))s\"},
  \"then\": [{\"hook\": {\"path\": \"$hook\", \"timeout\": \"60s\"}}]},"
done
for ((i = 1; i <= NS; i++)); do
	vm_cg "vmtest-stall-s$i"
	echo "$dev rbps=1024" >"$CGROOT/vmtest-stall-s$i/io.max"
	vm_spawn "$CGROOT/vmtest-stall-s$i" dd if=/dev/vda of=/dev/null bs=64k count=4 iflag=direct status=none
	rules+="{\"name\": \"stuck-$i\", \"match\": {\"path\": \"vmtest-stall-s$i\"},
  \"when\": {\"metric\": \"procs\", \"op\": \">\", \"value\": 0, \"for\": \"$((4 * (i - 1)))s\"},
  \"then\": [{\"freeze\": true}]},"
done
names=()
for ((i = 1; i <= N; i++)); do
	names+=("vmtest-stall-p$(printf %02d "$i")")
	vm_cg "${names[-1]}"
done
cat >"$policy" <<JSON
{"rules": [$rules
  {"name": "psi", "match": {"path": "vmtest-stall-p*"},
   "when": {"metric": "psi.cpu.some.avg10", "op": ">", "value": 10, "window": "500ms"},
   "then": [{"cpu.weight": 10}]}]}
JSON

# Every dd in its first read (state D, for 64 s) before any freeze: a dd
# frozen before it reads would be frozen at once.
for ((k = 0; k < 100; k++)); do
	nd=0
	for ((i = 1; i <= NS; i++)); do
		pid=$(head -1 "$CGROOT/vmtest-stall-s$i/cgroup.procs")
		read -r _ _ st _ <"/proc/$pid/stat" && [[ $st == D ]] && nd=$((nd + 1))
	done
	((nd == NS)) && break
	nap 0.1
done
echo "# $nd of $NS dd in state D"

# The case itself (its greps and spawns: forks cost 0.1-0.3 s each under
# TCG) stays on CPU 0 with the loops; the daemon gets CPU 1 below. What is
# measured is the daemon's loop, not the case's competition for a CPU.
taskset -p -c 0 $$ >/dev/null
# The case's own triggers at real-time priority: woken as soon as the
# kernel signals, ahead of the loops.
fires=$CASE_TMP/fires
chrt -f 50 taskset -c 0 python3 -S -E - "$fires" "${names[@]}" <<'PY' &
import os, select, sys, time
out, names = sys.argv[1], sys.argv[2:]
p, fds = select.poll(), {}
for n in names:
    fd = os.open("/sys/fs/cgroup/%s/cpu.pressure" % n, os.O_RDWR | os.O_NONBLOCK)
    os.write(fd, b"some 50000 500000\0")
    p.register(fd, select.POLLPRI)
    fds[fd] = n
open(out + ".ready", "w").close()
seen = set()
with open(out, "a", buffering=1) as f:
    while len(seen) < len(names):
        for fd, ev in p.poll(120000):
            if fds[fd] not in seen:
                seen.add(fds[fd])
                f.write("%s %d\n" % (fds[fd], time.time_ns() // 1000))
            if ev & select.POLLERR:
                p.unregister(fd)
PY
watcher=$!
disown "$watcher"

if ! wait_file "$fires.ready" 100 || ! cgw_daemon "$log" "$CASE_TMP/state.json" "$policy" --interval 1; then
	fail "$T" "the watcher or the daemon did not start: $(head -c 300 "$log.err" 2>/dev/null)"
	finish
fi
taskset -p -c 1 "$DAEMON" >/dev/null
# Under way: the first hook runs, the first freeze waits for the kernel.
if ! wait_file "$CASE_TMP/hooks.pid" 100 || [[ $(<"$CGROOT/vmtest-stall-s1/cgroup.freeze") != 1 ]]; then
	fail "$T" "no hook, or no freeze of vmtest-stall-s1, within 10 s: $(head -c 300 "$log.err")"
	finish
fi
# State D: the dd of s1 cannot be frozen.
read -r _ _ st _ </proc/"$(head -1 "$CGROOT/vmtest-stall-s1/cgroup.procs")"/stat || st='?'
echo "# dd in vmtest-stall-s1: state $st; cgroup.events: $(tr '\n' ' ' <"$CGROOT/vmtest-stall-s1/cgroup.events")"

lat=() own=() missing=() loaded=0
tphase=$(now_usec)
for n in "${names[@]}"; do
	for k in 1 2 3; do
		vm_spawn "$CGROOT/$n" taskset -c 0 bash -c 'while :; do :; done'
	done
	if ! wait_record "$log" "\"target\":\"$n\".*\"action\":\"cpu.weight\".*\"result\":\"ok\"" 100; then
		fail "$T.latency" "no action on $n within 10 s; stderr: $(head -c 300 "$log.err")"
		break
	fi
	ta=$(json_num "$REC" time_usec)
	own+=("$(json_num "$REC" latency_usec || echo '?')")
	# At this trigger: a hook sleeping, a freeze not confirmed yet.
	hooks=0
	while read -r pid; do
		kill -0 "$pid" 2>/dev/null && hooks=$((hooks + 1))
	done <"$CASE_TMP/hooks.pid"
	frozen_w=0
	for ((i = 1; i <= NS; i++)); do
		[[ $(<"$CGROOT/vmtest-stall-s$i/cgroup.freeze") == 1 ]] && frozen_w=$((frozen_w + 1))
	done
	recorded=$(grep -c '"action":"freeze"' "$log" || true)
	((hooks > 0 && frozen_w > recorded)) && loaded=$((loaded + 1))
	echo 1 >"$CGROOT/$n/cgroup.kill"
	for ((k = 0; k < 20; k++)); do
		tf=$(grep -m1 "^$n " "$fires" 2>/dev/null) && break
		nap 0.05
	done
	if [[ -z ${tf:-} ]]; then
		missing+=("$n")
	else
		lat+=($((ta - ${tf#* })))
	fi
	tf=
	nap 0.1
done
echo "# $N triggers in $((($(now_usec) - tphase) / 1000)) ms"
sorted=$(printf '%s\n' "${lat[@]}" | sort -n | tr '\n' ' ')
read -r -a s <<<"$sorted"
n=${#s[@]}
if ((${#missing[@]})); then
	fail "$T.latency" "the case's own trigger did not fire on ${missing[*]}"
elif ((n == N)); then
	p50=${s[$(((N + 1) / 2 - 1))]} p99=${s[$(((99 * N + 99) / 100 - 1))]}
	echo "# trigger -> action over $N triggers: p50 $((p50 / 1000)) ms, p99 $((p99 / 1000)) ms (usec, sorted: $sorted)"
	echo "# the daemon's own latency_usec: ${own[*]}"
	echo "# triggers with a hook running and a freeze unconfirmed: $loaded of $N"
	# A trigger may fall between two freezes (a tick late): most must not.
	if ((loaded * 4 >= N * 3)); then
		pass "$T.under-load ($loaded of $N)"
	else
		fail "$T.under-load" "only $loaded of $N triggers came with a hook running and a freeze unconfirmed"
	fi
	if ((p50 <= 100000 && s[N - 1] < 1000000)); then
		pass "$T.latency (p50 $((p50 / 1000)) ms, p99 $((p99 / 1000)) ms)"
	else
		fail "$T.latency" "p50 $p50 usec (want <= 100000), largest ${s[N - 1]} (want < 1000000)"
	fi
fi
# Each freeze: recorded when the verification ended, as failed (the dd
# stays in D), after the actuator's 5 s.
if wait_record "$log" '"rule":"stuck-1".*"action":"freeze"' 100 && [[ $REC == *'"result":"failed"'* && $REC == *'in time'* ]]; then
	pass "$T.freeze-verified-in-loop"
else
	fail "$T.freeze-verified-in-loop" "stuck-1: ${REC:0:400}"
fi
if wait_record "$log" '"rule":"hook-1".*"action":"hook"' 400 && [[ $REC == *'"result":"ok"'* ]]; then
	pass "$T.hook"
else
	fail "$T.hook" "hook-1: ${REC:0:400}"
fi
cgw_daemon_stop
kill "$watcher" 2>/dev/null || true
finish
