#!/usr/bin/env bash
# cgwarden daemon, dry run: the memory ladder of policy-memory (memory.high
# 32M, wait 1 s, kill) with "dry_run": true on a cgroup holding ~40 MiB:
# both steps are recorded with result "dry-run" (the actuator validated
# them) and nothing changes: memory.high stays max, the holder lives.
# Exact checks.
set -euo pipefail
. tests/vm/lib.sh
policy_case vm.policy-dry-run vmtest-poldry
cat >"$policy" <<'JSON'
{"dry_run": true, "rules": [{"name": "dry", "match": {"path": "vmtest-poldry"},
  "when": {"metric": "memory.current_bytes", "value": "24M"},
  "then": [{"memory.high": "32M", "wait": "1s"}, {"kill": true}]}]}
JSON
vm_spawn "$cg" bash -c 'dd if=/dev/zero bs=40M count=1 status=none | sleep 600'
for ((i = 0; i < 100; i++)); do
	(($(<"$cg/memory.current") > 40 << 20)) && break
	nap 0.1
done
if ! cgw_daemon "$log" "$CASE_TMP/state.json" "$policy"; then
	fail "$T" "the daemon did not start: $(head -c 300 "$log.err")"
	finish
fi
wait_record "$log" '"action":"kill".*"result":"dry-run"' 200 || true
cgw_daemon_stop
nh=$(grep -c '"action":"memory.high","restore":false,"value":"33554432","guards":\["dry_run"\],"dry_run":true,"result":"dry-run"' "$log" || true)
nk=$(grep -c '"action":"kill".*"dry_run":true,"result":"dry-run"' "$log" || true)
writes=$(grep -c '"type":"audit".*"result":"ok"' "$log" || true)
high=$(<"$cg/memory.high")
pop=$(key "$cg/cgroup.events" populated)
echo "# records: memory.high dry-run $nh, kill dry-run $nk, audited writes $writes; memory.high $high, populated $pop"
if ((nh == 1 && nk == 1)); then pass "$T.records"; else fail "$T.records" "memory.high dry-run records $nh, kill $nk (want 1 each): $(head -c 600 "$log")"; fi
if [[ $high == max && $pop == 1 ]] && ((writes == 0)); then pass "$T.unchanged"; else fail "$T.unchanged" "memory.high $high (want max), populated $pop (want 1), ok writes $writes (want 0)"; fi
finish
