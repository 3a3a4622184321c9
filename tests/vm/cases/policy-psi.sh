#!/usr/bin/env bash
# cgwarden daemon, PSI trigger latency: a rule on psi.cpu.some.avg10 > 10
# with a 500 ms kernel trigger (stall 50 ms in 500 ms) sets cpu.weight 10.
# Three busy loops pinned to CPU 0 start in the cgroup; the kernel's trigger
# wakes the daemon, which acts at once from the last snapshot (ticks are
# 5 s apart here, so a tick cannot be what acted). Printed: the daemon's
# own trigger-to-action time (latency_usec in the record, the actuator's
# write and read-back included) and the time from the loops' start to the
# action. Pass: latency_usec < 100 ms, and the record says by_trigger. A
# warm-up rule acts on another cgroup first: under TCG the first run of
# the action's code pays its translation (100-250 ms on a busy host).
set -euo pipefail
. tests/vm/lib.sh
policy_case vm.policy-psi vmtest-polpsi
# A first action elsewhere (at the first tick) warms the path up: under TCG
# the first run of code costs its translation, 50-200 ms on a busy host,
# and what is bounded here is the trigger's latency, not that.
vm_cg vmtest-polpsi-warm
vm_spawn "$CGROOT/vmtest-polpsi-warm" sleep 600
cat >"$policy" <<'JSON'
{"rules": [{"name": "psi-spike", "match": {"path": "vmtest-polpsi"},
  "when": {"metric": "psi.cpu.some.avg10", "op": ">", "value": 10, "window": "500ms"},
  "then": [{"cpu.weight": 10}]},
 {"name": "warm-up", "match": {"path": "vmtest-polpsi-warm"},
  "when": {"metric": "procs", "op": ">", "value": 0},
  "then": [{"cpu.weight": 20}]}]}
JSON
if ! cgw_daemon "$log" "$CASE_TMP/state.json" "$policy" --interval 5; then
	fail "$T" "the daemon did not start: $(head -c 300 "$log.err")"
	finish
fi
wait_record "$log" '"rule":"warm-up".*"result":"ok"' 100 || echo "# no warm-up action within 10 s"
nap 1.5
t0=$(now_usec)
for i in 1 2 3; do
	vm_spawn "$cg" taskset -c 0 bash -c 'while :; do :; done'
done
if wait_record "$log" '"rule":"psi-spike".*"action":"cpu.weight".*"result":"ok"' 100; then
	ta=$(json_num "$REC" time_usec)
	lat=$(json_num "$REC" latency_usec || echo "")
	echo "# PSI trigger -> action: ${lat:-?} usec (daemon's clock); loops started -> action: $(((ta - t0) / 1000)) ms; cpu.weight $(<"$cg/cpu.weight")"
	echo "# record: ${REC:0:500}"
	if [[ -n $lat && $REC == *'"by_trigger":true'* ]] && ((lat < 100000)) && [[ $(<"$cg/cpu.weight") == 10 ]]; then
		pass "$T.latency"
	else
		fail "$T.latency" "latency_usec '${lat}' (want < 100000 and by_trigger), cpu.weight $(<"$cg/cpu.weight")"
	fi
else
	fail "$T.latency" "no action within 10 s; stderr: $(head -c 300 "$log.err")"
fi
cgw_daemon_stop
finish
