#!/usr/bin/env bash
# cgwarden daemon, SIGHUP: a rule sets cpu.weight 50 on vmtest-polrel-*
# cgroups that have processes. A reload with a broken file is refused (the
# reason on stderr names the file and line) and the daemon goes on with the
# old rule: a cgroup created after it gets cpu.weight 50. A reload with the
# rule changed (weight 60) undoes the old rule's change (restore to 100) and
# applies the new one. Exact checks on cpu.weight.
set -euo pipefail
. tests/vm/lib.sh
T=vm.policy-reload
a=$CGROOT/vmtest-polrel-a
b=$CGROOT/vmtest-polrel-b
log=$CASE_TMP/actions.ndjson
policy=$CASE_TMP/policy.json

rule() {
	cat >"$policy" <<JSON
{"rules": [{"name": "weight", "match": {"path": "vmtest-polrel-*"},
  "when": {"metric": "procs", "op": ">", "value": 0},
  "then": [{"cpu.weight": $1}]}]}
JSON
}

if ! cgw_ready "$T"; then
	finish
fi
vm_cg vmtest-polrel-a
vm_spawn "$a" sleep 600
rule 50
if ! cgw_daemon "$log" "$CASE_TMP/state.json" "$policy"; then
	fail "$T" "the daemon did not start: $(head -c 300 "$log.err")"
	finish
fi
if ! wait_record "$log" '"target":"vmtest-polrel-a".*"action":"cpu.weight".*"result":"ok"' 100; then
	fail "$T" "the first rule did not act: $(head -c 300 "$log.err")"
	finish
fi
# ---- a broken file
printf '{"rules": [\n  {"name": "weight",, }\n]}\n' >"$policy"
kill -HUP "$DAEMON"
wait_record "$log.err" 'reload of .* refused' 50 || true
err=$(<"$log.err")
vm_cg vmtest-polrel-b
vm_spawn "$b" sleep 600
wait_record "$log" '"target":"vmtest-polrel-b".*"action":"cpu.weight".*"result":"ok"' 100 || true
wb=$(<"$b/cpu.weight")
echo "# after the bad reload: vmtest-polrel-b cpu.weight $wb; stderr: $(grep -A1 refused "$log.err" | tr '\n' ' ')"
if kill -0 "$DAEMON" 2>/dev/null && [[ $err == *"reload of $policy refused"* && $err == *"$policy:2:"* && $wb == 50 ]]; then
	pass "$T.bad-kept"
else
	fail "$T.bad-kept" "alive: $(kill -0 "$DAEMON" 2>/dev/null && echo yes || echo no), new cgroup's cpu.weight $wb (want 50), stderr: $(head -c 400 "$log.err")"
fi
# ---- a good, changed file
rule 60
kill -HUP "$DAEMON"
wait_record "$log" '"target":"vmtest-polrel-a".*"action":"cpu.weight","restore":false,"value":"60".*"result":"ok"' 100 || true
wa=$(<"$a/cpu.weight")
restores=$(grep -c '"action":"cpu.weight","restore":true,"value":"100".*"result":"ok"' "$log" || true)
echo "# after the good reload: cpu.weight a $wa, b $(<"$b/cpu.weight"); restores of the old rule $restores"
if [[ $wa == 60 && $(<"$b/cpu.weight") == 60 ]] && ((restores == 2)); then
	pass "$T.good"
else
	fail "$T.good" "cpu.weight a $wa b $(<"$b/cpu.weight") (want 60), restores $restores (want 2); stderr: $(tail -c 300 "$log.err")"
fi
cgw_daemon_stop
finish
