#!/usr/bin/env bash
# cgwarden daemon, kill -9 mid-ladder: a ladder cpu.weight 50, wait 4 s,
# cpu.max 0.5, restore 2 s after the cgroup has no process. The daemon is
# killed with SIGKILL right after the first step and started again on the
# same state file: the first step is not taken again (no cpu.weight step in
# the second daemon's records), the second follows 4 s after the first
# (from the state file's time: the stamps show at least 4 s less one tick,
# at most 2 ticks + 1 s after the wait or the restart), and when
# the processes end, both are restored (cpu.max max, cpu.weight 100). Exact
# checks on the files.
set -euo pipefail
. tests/vm/lib.sh
policy_case vm.policy-restart vmtest-polrst
log1=$CASE_TMP/first.ndjson
log2=$CASE_TMP/second.ndjson
state=$CASE_TMP/state.json
cat >"$policy" <<'JSON'
{"rules": [{"name": "ladder", "match": {"path": "vmtest-polrst"},
  "when": {"metric": "procs", "op": ">", "value": 0},
  "then": [{"cpu.weight": 50, "wait": "4s"}, {"cpu.max": 0.5}],
  "restore_after": "2s"}]}
JSON
vm_spawn "$cg" sleep 600
p1=$!
if ! cgw_daemon "$log1" "$state" "$policy"; then
	fail "$T" "the daemon did not start: $(head -c 300 "$log1.err")"
	finish
fi
if ! wait_record "$log1" '"action":"cpu.weight".*"result":"ok"' 100; then
	fail "$T" "no first step: $(head -c 300 "$log1.err")"
	finish
fi
t1=$(json_num "$REC" time_usec)
kill -9 "$DAEMON"
wait "$DAEMON" 2>/dev/null || true
echo "# killed the daemon $((($(now_usec) - t1) / 1000)) ms after step 1; cpu.weight $(<"$cg/cpu.weight")"
cgw_daemon "$log2" "$state" "$policy" || true
tup=$(now_usec)
if wait_record "$log2" '"action":"cpu.max","restore":false.*"result":"ok"' 150; then
	t2=$(json_num "$REC" time_usec)
	echo "# second daemon: step 2 $(((t2 - t1) / 1000)) ms after step 1; $(grep -m1 resumed "$log2.err")"
	# The wait runs from step 1's decision (in the state file); its record
	# is stamped after the state save and the write, so the stamps may show
	# 4 s less one tick (0.5 s). Step 2 comes 2 ticks after the wait is over
	# or after the second daemon is up, whichever is later (a restart that
	# takes longer than the wait under TCG), + 1 s for TCG.
	late=$((t1 + 4000000 > tup ? t1 + 4000000 : tup))
	if ((t2 - t1 >= 3500000 && t2 <= late + 2000000)) && [[ $(<"$cg/cpu.max") == "50000 100000" ]]; then
		pass "$T.resume"
	else
		fail "$T.resume" "step 2 $(((t2 - t1) / 1000)) ms after step 1, the second daemon up $(((tup - t1) / 1000)) ms after it (want 3500 ms .. $(((late + 2000000 - t1) / 1000)) ms), cpu.max $(<"$cg/cpu.max")"
	fi
else
	fail "$T.resume" "no step 2 after the restart: $(head -c 300 "$log2.err")"
fi
if grep -q '"action":"cpu.weight","restore":false' "$log2"; then
	fail "$T.no-repeat" "the second daemon took step 1 again: $(grep -m1 '"action":"cpu.weight"' "$log2" | head -c 300)"
else
	pass "$T.no-repeat"
fi
kill -9 "$p1" 2>/dev/null || true
if wait_record "$log2" '"action":"cpu.weight","restore":true.*"result":"ok"' 150; then
	echo "# restored: cpu.max $(<"$cg/cpu.max"), cpu.weight $(<"$cg/cpu.weight")"
	if [[ $(<"$cg/cpu.max") == "max 100000" && $(<"$cg/cpu.weight") == 100 ]]; then
		pass "$T.restore"
	else
		fail "$T.restore" "cpu.max $(<"$cg/cpu.max") (want max 100000), cpu.weight $(<"$cg/cpu.weight") (want 100)"
	fi
else
	fail "$T.restore" "no restore: $(tail -c 400 "$log2")"
fi
cgw_daemon_stop
finish
