#!/usr/bin/env bash
# cgwarden daemon, self-inflicted CPU pressure (issue 12 item 9): a ladder
# on psi.cpu.some.avg10 > 15 (1 s trigger) of cpu.max 0.2 CPUs, then
# freeze 4 s later. Two loops pinned to CPU 0 make real pressure: the
# cpu.max step comes. Then one loop goes, and the other merely uses its
# quota: cpu.max keeps it runnable-but-throttled 80 % of the time, which
# the kernel counts as CPU pressure (avg10 stays far above 15), yet every
# interval's stall is explained by cpu.stat throttled_usec. Pass: no freeze
# for 15 s after the step (the ladder holds at cpu.max, and does not
# restore either), cpu.max reads "20000 100000", cgroup.freeze 0. Printed:
# avg10, and the stall and throttled time over the hold (kernel's files).
set -euo pipefail
. tests/vm/lib.sh
policy_case vm.policy-cpu-self vmtest-polself
cat >"$policy" <<'JSON'
{"rules": [{"name": "cpu-ladder", "match": {"path": "vmtest-polself"},
  "when": {"metric": "psi.cpu.some.avg10", "op": ">", "value": 15, "window": "1s"},
  "then": [{"cpu.max": 0.2, "wait": "4s"}, {"freeze": true}],
  "restore_after": "2s"}]}
JSON
if ! cgw_daemon "$log" "$CASE_TMP/state.json" "$policy"; then
	fail "$T" "the daemon did not start: $(head -c 300 "$log.err")"
	finish
fi
nap 1
vm_spawn "$cg" taskset -c 0 bash -c 'while :; do :; done'
vm_spawn "$cg" taskset -c 0 bash -c 'while :; do :; done'
p2=$!
if wait_record "$log" '"action":"cpu.max","restore":false.*"result":"ok"' 300; then
	tstep=$(json_num "$REC" time_usec)
else
	fail "$T.hold" "no cpu.max step within 30 s; cpu.pressure: $(head -1 "$cg/cpu.pressure"); stderr: $(head -c 300 "$log.err")"
	cgw_daemon_stop
	finish
fi
# One loop left: it uses its 0.2 CPUs and waits out the rest, throttled.
kill -9 "$p2" 2>/dev/null || true
t0=$(now_usec)
nap 1
s1=$(field "$cg/cpu.pressure" some total)
th1=$(key "$cg/cpu.stat" throttled_usec)
w1=$(now_usec)
nap 14
s2=$(field "$cg/cpu.pressure" some total)
th2=$(key "$cg/cpu.stat" throttled_usec)
w2=$(now_usec)
avg=$(field "$cg/cpu.pressure" some avg10)
vm_cpu_usage "$cg" 1
echo "# after the cpu.max step, over $(((w2 - w1) / 1000)) ms: CPU stall $(((s2 - s1) / 1000)) ms, throttled $(((th2 - th1) / 1000)) ms; some avg10 $avg; usage ratio $ratio"
echo "# cpu.max $(<"$cg/cpu.max"), cgroup.freeze $(<"$cg/cgroup.freeze")"
# The kernel's side: pressure that alone would have escalated, explained by
# the throttling (the stall no more than throttled time, give or take the
# rule's 15 % of the interval).
if gt "$avg" 15 && (((s2 - s1) - (th2 - th1) <= (w2 - w1) * 15 / 100)); then
	pass "$T.kernel"
else
	fail "$T.kernel" "avg10 $avg (want > 15: pressure from the throttle), stall $(((s2 - s1) / 1000)) ms vs throttled $(((th2 - th1) / 1000)) ms"
fi
froze=$(grep -c '"action":"freeze"' "$log" || true)
restored=$(grep -c '"restore":true' "$log" || true)
if ((froze == 0 && restored == 0)) && [[ $(<"$cg/cpu.max") == "20000 100000" && $(<"$cg/cgroup.freeze") == 0 ]]; then
	pass "$T.hold (held at cpu.max $((($(now_usec) - t0) / 1000000)) s)"
else
	rec=$(grep -m1 -E '"action":"freeze"|"restore":true' "$log" || true)
	[[ -n $rec ]] && echo "# $((($(json_num "$rec" time_usec) - tstep) / 1000)) ms after the cpu.max step: ${rec:0:600}"
	fail "$T.hold" "$froze freeze and $restored restore records, cpu.max '$(<"$cg/cpu.max")', cgroup.freeze $(<"$cg/cgroup.freeze"): $(grep -m1 -E '"action":"freeze"|"restore":true' "$log" | head -c 300)"
fi
cgw_daemon_stop
finish
