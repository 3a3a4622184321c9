#!/usr/bin/env bash
# cgwarden daemon, CPU: two busy loops pinned to CPU 0 in one cgroup make
# cpu.pressure "some" (one waits while the other runs). A rule on
# psi.cpu.some.avg10 > 15 (kernel trigger, 1 s window) sets cpu.max to
# 0.2 CPUs; the kernel's cpu.max reads "20000 100000". When the loops stop
# (the cgroup stays), avg10 decays, and 2 s after the condition is gone the
# ladder is undone: cpu.max reads "max 100000" again, recorded as a restore.
# Exact checks on cpu.max; the restore must come within 40 s (avg10 is a
# 10 s average, so it takes ~10-20 s to fall under 15).
set -euo pipefail
. tests/vm/lib.sh
policy_case vm.policy-cpu vmtest-polcpu
cat >"$policy" <<'JSON'
{"rules": [{"name": "cpu-hog", "match": {"path": "vmtest-polcpu"},
  "when": {"metric": "psi.cpu.some.avg10", "op": ">", "value": 15, "window": "1s"},
  "then": [{"cpu.max": 0.2}],
  "restore_after": "2s"}]}
JSON
if ! cgw_daemon "$log" "$CASE_TMP/state.json" "$policy"; then
	fail "$T" "the daemon did not start: $(head -c 300 "$log.err")"
	finish
fi
nap 1
vm_spawn "$cg" taskset -c 0 bash -c 'while :; do :; done'
p1=$!
vm_spawn "$cg" taskset -c 0 bash -c 'while :; do :; done'
p2=$!
if wait_record "$log" '"action":"cpu.max","restore":false.*"result":"ok"' 300; then
	max=$(<"$cg/cpu.max")
	echo "# cpu.max after the step: $max; cpu.pressure: $(head -1 "$cg/cpu.pressure")"
	echo "# record: ${REC:0:400}"
	if [[ $max == "20000 100000" ]]; then pass "$T.throttle"; else fail "$T.throttle" "cpu.max '$max' (want '20000 100000')"; fi
else
	fail "$T.throttle" "no cpu.max step within 30 s; cpu.pressure: $(head -1 "$cg/cpu.pressure"); stderr: $(head -c 300 "$log.err")"
fi
vm_cpu_usage "$cg" 2
echo "# throttled usage ratio $ratio over $ms ms (nr_throttled $n1 -> $n2)"
# Calm down: the loops end, the cgroup stays.
kill -9 "$p1" "$p2" 2>/dev/null || true
t0=$(now_usec)
if wait_record "$log" '"action":"cpu.max","restore":true.*"result":"ok"' 400; then
	max=$(<"$cg/cpu.max")
	echo "# restored $((($(now_usec) - t0) / 1000)) ms after the loops ended: cpu.max $max"
	if [[ $max == "max 100000" ]]; then pass "$T.restore"; else fail "$T.restore" "cpu.max '$max' (want 'max 100000')"; fi
else
	fail "$T.restore" "no restore within 40 s; cpu.pressure: $(head -1 "$cg/cpu.pressure"); cpu.max $(<"$cg/cpu.max")"
fi
cgw_daemon_stop
finish
