#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# check-policy --replay on a real recording of this host: a busy loop starts
# in a test cgroup at a known moment while `cgwarden record` records the
# test's subtree; a policy whose condition (cpu.usage_ratio, which this
# hybrid host's v2 tree does give) becomes true with it must have its
# simulated decision within a tick or two of that moment, on that cgroup
# only, and a rule that never matches must give none. Then a real daemon
# (--record) freezes a cgroup (cgroup.freeze works here): a simulated
# decision there after the freeze is marked "after the real freeze", one on
# a sibling the daemon left alone is not. The option errors name the
# option. Everything is removed on exit, failed or not.
. "$(dirname "$0")/../lib.sh"
if ! cg_setup; then skip policy_replay "$SKIP_WHY"; finish; fi
if ! command -v jq >/dev/null; then skip policy_replay "jq not installed"; finish; fi
tmp=$(mktemp -d)
rpid= dpid=
trap '[ -n "$rpid" ] && kill -KILL "$rpid" 2>/dev/null; [ -n "$dpid" ] && kill -KILL "$dpid" 2>/dev/null;
      rm -rf "$tmp"; cg_cleanup' EXIT
now_usec() { date +%s%6N; }

# Waits (up to 10 s) for pid to exit after SIGTERM; SIGKILL after that.
stop() {
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

if ! "$CGWARDEN" record --help >/dev/null 2>&1; then
	skip policy_replay "this build has no 'cgwarden record'"
	finish
fi

# ---- a recording with a workload starting at a known moment ----------------
mkdir "$CG_TEST/work" "$CG_TEST/idle"
cg_spawn "$CG_TEST/idle" sleep 300 >/dev/null
"$CGWARDEN" record --output "$tmp/rec" --interval 0.5 --root "$CG_TEST" --quiet \
	2>"$tmp/rec.err" &
rpid=$!
sleep 2
t0=$(now_usec)
cg_spawn "$CG_TEST/work" sh -c 'while :; do :; done' >/dev/null
sleep 3
echo 1 >"$CG_TEST/work/cgroup.kill"
sleep 2
stop "$rpid"
rpid=

cat >"$tmp/policy.json" <<'JSON'
{"rules": [
  {"name": "busy", "match": {"path": "*"},
   "when": {"metric": "cpu.usage_ratio", "op": ">", "value": 0.2},
   "then": [{"log": "burns CPU"}]},
  {"name": "never", "match": {"path": "nothing-here/*"},
   "when": {"metric": "cpu.usage_ratio", "op": ">=", "value": 0},
   "then": [{"freeze": true}]}
]}
JSON

if "$CGWARDEN" check-policy "$tmp/policy.json" --replay "$tmp/rec" --json \
	>"$tmp/sim.ndjson" 2>"$tmp/sim.err"; then
	pass sim_json_exit_0
else
	fail sim_json_exit_0 "exit $?: $(head -c 300 "$tmp/sim.err")"
fi
first=$(jq -c 'select(.rule == "busy")' "$tmp/sim.ndjson" | head -n 1)
read -r t target action result <<<"$(jq -r '"\(.time_usec) \(.target) \(.action) \(.result)"' \
	<<<"$first" 2>/dev/null)"
# Ticks every 0.5 s; the rate needs the tick after the loop's start: the
# decision comes one or two ticks after t0 (a loaded host adds a little).
if [ "$target" = work ] && [ "$action" = log ] && [ "$result" = simulated ] &&
	[ "$t" -ge "$t0" ] && [ "$t" -le $((t0 + 1600000)) ]; then
	pass "sim_decision_on_time ($(( (t - t0) / 1000 )) ms after the loop started)"
else
	fail sim_decision_on_time "t0 $t0, first: ${first:0:300}; stderr: $(head -c 300 "$tmp/sim.err")"
fi
others=$(jq -c 'select(.target != "work")' "$tmp/sim.ndjson")
if [ -n "$first" ] && [ -z "$others" ]; then
	pass sim_only_the_busy_cgroup
else
	fail sim_only_the_busy_cgroup "${others:0:300}"
fi
if [ -z "$(jq -c 'select(.rule == "never")' "$tmp/sim.ndjson")" ]; then
	pass sim_never_matching_rule_silent
else
	fail sim_never_matching_rule_silent "$(head -c 300 "$tmp/sim.ndjson")"
fi
if [ "$(jq -r .type "$tmp/sim.ndjson" | sort -u)" = policy_action ] &&
	grep -q '^summary: ' "$tmp/sim.err"; then
	pass sim_json_stdout_only_records
else
	fail sim_json_stdout_only_records "$(head -c 300 "$tmp/sim.ndjson")"
fi

"$CGWARDEN" check-policy "$tmp/policy.json" --replay "$tmp/rec" >"$tmp/sim.txt" 2>&1
if grep -q '  busy  work: log "burns CPU" <- cpu.usage_ratio ' "$tmp/sim.txt" &&
	grep -q 'nothing is changed' "$tmp/sim.txt" &&
	grep -q '^  rule never: 0 decisions (it matched no cgroup)$' "$tmp/sim.txt"; then
	pass sim_human_output
else
	fail sim_human_output "$(grep -v '^ ' "$tmp/sim.txt" | head -c 600)"
fi

# --since/--until narrow the range: the last second, a second after the loop
# stopped, has nothing.
"$CGWARDEN" check-policy "$tmp/policy.json" --replay "$tmp/rec" --json --since -1s \
	>"$tmp/late.ndjson" 2>"$tmp/late.err"
if [ $? -eq 0 ] && [ ! -s "$tmp/late.ndjson" ]; then
	pass sim_since_narrows
else
	fail sim_since_narrows "$(head -c 300 "$tmp/late.ndjson") $(head -c 300 "$tmp/late.err")"
fi

# ---- errors name the option --------------------------------------------------
# usage_error NAME PATTERN ARGS...: check-policy ARGS exits 2 saying PATTERN.
usage_error() {
	local name=$1 pattern=$2 rc
	shift 2
	"$CGWARDEN" check-policy "$tmp/policy.json" "$@" >/dev/null 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 2 ] && grep -q -- "$pattern" "$tmp/err"; then
		pass "$name ($(head -n 1 "$tmp/err"))"
	else
		fail "$name" "exit $rc: $(head -c 300 "$tmp/err")"
	fi
}
usage_error sim_bad_since "--since 'yesterday'" --replay "$tmp/rec" --since yesterday
usage_error sim_since_after_until "--since .* is after --until" --replay "$tmp/rec" \
	--since -1s --until -3s
usage_error sim_until_before_recording "--until .* is before the recording" \
	--replay "$tmp/rec" --until 1000000000
usage_error sim_no_store "$tmp/nothing" --replay "$tmp/nothing"
usage_error sim_since_needs_replay "--since needs --replay" --since -1s

# ---- a real daemon's change marks what the simulation says after it --------
if ! "$CGWARDEN" daemon --help 2>&1 | grep -q -- '--record'; then
	skip sim_after_real_action "this build's daemon has no --record"
	finish
fi
mkdir "$CG_TEST/frz" "$CG_TEST/calm"
cat >"$tmp/live.json" <<'JSON'
{"rules": [
  {"name": "live-freeze", "match": {"path": "frz"},
   "when": {"metric": "procs", "op": ">=", "value": 1},
   "then": [{"freeze": true}]}
]}
JSON
"$CGWARDEN" daemon --policy "$tmp/live.json" --state "$tmp/state.json" --interval 0.5 \
	--root "$CG_TEST" --listen off --output "$tmp/daemon.out" --record "$tmp/rec2" \
	2>"$tmp/daemon.err" &
dpid=$!
sleep 1.5
cg_spawn "$CG_TEST/frz" sleep 300 >/dev/null
cg_spawn "$CG_TEST/calm" sleep 300 >/dev/null
for _ in $(seq 50); do
	grep -q '^frozen 1' "$CG_TEST/frz/cgroup.events" 2>/dev/null && break
	sleep 0.1
done
sleep 3
stop "$dpid"	# thaws what it froze
dpid=
cat >"$tmp/try.json" <<'JSON'
{"rules": [
  {"name": "try", "match": {"path": "*"},
   "when": {"metric": "procs", "op": ">=", "value": 1, "for": "2s"},
   "then": [{"log": "has a process"}]}
]}
JSON
"$CGWARDEN" check-policy "$tmp/try.json" --replay "$tmp/rec2" --json >"$tmp/sim2.ndjson" \
	2>"$tmp/sim2.err"
"$CGWARDEN" check-policy "$tmp/try.json" --replay "$tmp/rec2" >"$tmp/sim2.txt" 2>&1
frz=$(jq -r 'select(.target == "frz") | .why // ""' "$tmp/sim2.ndjson" | head -n 1)
calm=$(jq -r 'select(.target == "calm") | .why // ""' "$tmp/sim2.ndjson" | head -n 1)
real=$(grep -c '"action":"freeze".*"result":"ok"' "$tmp/daemon.out")
if [ "$real" -ge 1 ] && [[ "$frz" == "after the real freeze at "*" by rule live-freeze" ]] &&
	[ -z "$calm" ] && [ -n "$(jq -c 'select(.target == "calm")' "$tmp/sim2.ndjson")" ] &&
	grep -q '(after the real freeze at .* by rule live-freeze: the values from then on reflect that action, not this policy)' "$tmp/sim2.txt" &&
	grep -q '1 decision came after a real change by the daemon' "$tmp/sim2.txt"; then
	pass "sim_after_real_action ($frz)"
else
	fail sim_after_real_action "real freezes: $real; frz why '$frz', calm why '$calm'; $(sed -n '/^decisions/,$p' "$tmp/sim2.txt" | head -c 1000); daemon: $(head -c 300 "$tmp/daemon.err")"
fi
finish
