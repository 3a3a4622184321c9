#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# cgwarden daemon on the host: one process enforces, streams and serves.
# A rule that only logs (this host's cgroup2 has no controllers to limit)
# fires on a busy loop in a test cgroup and not on its idle sibling; the
# decision is a policy_action line on the stream (schema-valid, with the
# value that fired: over the rule's 0.05 CPU, ~1.0 on a quiet machine,
# less on a busy one), /metrics counts it in
# cgwarden_policy_actions_total{rule,action,result} and passes promtool,
# SIGHUP reopens a rotated stream file, a bad reload keeps the old policy,
# and SIGTERM exits 0. The limit ladders themselves run in the VM suite
# (tests/vm/cases/policy-*.sh). The daemons walk only the test's subtree
# (--root): other users' cgroups on the host are none of their business,
# and a tree of thousands would make every tick line (and its schema check)
# slow.
. "$(dirname "$0")/../lib.sh"
if ! cg_setup; then skip daemon "$SKIP_WHY"; finish; fi
tmp=$(mktemp -d)
dpid=
trap '[ -n "$dpid" ] && kill -KILL "$dpid" 2>/dev/null; rm -rf "$tmp"; cg_cleanup' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

mkdir "$CG_TEST/busy" "$CG_TEST/idle"
cg_spawn "$CG_TEST/busy" sh -c 'while :; do :; done' >/dev/null
cg_spawn "$CG_TEST/idle" sleep 300 >/dev/null
cat >"$tmp/policy.json" <<JSON
{"rules": [
  {"name": "busy-loop", "match": {"path": "*"},
   "when": {"metric": "cpu.usage_ratio", "op": ">", "value": 0.05, "for": "1s"},
   "then": [{"log": "a test cgroup burns CPU"}]}
]}
JSON
port=$(free_port)
"$CGWARDEN" daemon --policy "$tmp/policy.json" --state "$tmp/state.json" --interval 0.5 \
	--root "$CG_TEST" --listen "127.0.0.1:$port" --output "$tmp/stream.ndjson" --ticks --quiet \
	2>"$tmp/err" &
dpid=$!

# The rule holds from the second tick (rates) for 1 s: a record within ~3 s.
for _ in $(seq 100); do
	grep -q '"type":"policy_action"' "$tmp/stream.ndjson" 2>/dev/null && break
	sleep 0.1
done
rec=$(grep '"type":"policy_action"' "$tmp/stream.ndjson" | head -n 1)
read -r target action result value <<<"$(jq -r '"\(.target) \(.action) \(.result) \(.values[0].value)"' <<<"$rec" 2>/dev/null)"
if [ "$target" = busy ] && [ "$action" = log ] && [ "$result" = ok ] &&
	awk -v v="$value" 'BEGIN { exit !(v > 0.05 && v < 1.2) }'; then
	pass "record_for_the_busy_cgroup (cpu.usage_ratio $value)"
else
	fail record_for_the_busy_cgroup "first record: ${rec:0:300}; stderr: $(head -c 300 "$tmp/err")"
fi
if grep '"type":"policy_action"' "$tmp/stream.ndjson" | grep -q '"target":"idle"'; then
	fail idle_sibling_untouched "a record names idle"
else
	pass idle_sibling_untouched
fi

sleep 1	# the next tick publishes the counter
curl -s --max-time 5 "http://127.0.0.1:$port/metrics" >"$tmp/metrics"
line=$(grep '^cgwarden_policy_actions_total{' "$tmp/metrics")
if grep -q 'rule="busy-loop",action="log",result="ok"} [1-9]' <<<"$line"; then
	pass "metrics_count_the_action ($line)"
else
	fail metrics_count_the_action "'$line'"
fi
if grep -q '^container_cpu_usage_seconds_total{id="/busy"' "$tmp/metrics"; then
	pass metrics_served_by_the_daemon
else
	fail metrics_served_by_the_daemon "no container_cpu_usage_seconds_total for /busy"
fi
if command -v promtool >/dev/null; then
	if out=$(promtool check metrics <"$tmp/metrics" 2>&1) && [ -z "$out" ]; then
		pass promtool_check_metrics
	else
		fail promtool_check_metrics "$(head -c 300 <<<"$out")"
	fi
else
	skip promtool_check_metrics "no promtool (scripts/deps.sh --test installs prometheus)"
fi

# Rotation: move the file away, SIGHUP, the stream goes on in a new file.
mv "$tmp/stream.ndjson" "$tmp/stream.1"
kill -HUP "$dpid"
for _ in $(seq 50); do [ -s "$tmp/stream.ndjson" ] && break; sleep 0.1; done
if grep -q '"type":"tick"' "$tmp/stream.ndjson" 2>/dev/null; then
	pass sighup_reopens_the_stream
else
	fail sighup_reopens_the_stream "no tick in the new file; stderr: $(tail -c 300 "$tmp/err")"
fi

# A bad reload: refused with the reason, the old rule keeps firing.
cp "$tmp/policy.json" "$tmp/good.json"
echo '{"rules": [{"name": "x", "then": [{"memory.high": "lots"}]}]}' >"$tmp/policy.json"
kill -HUP "$dpid"
sleep 1.5
if kill -0 "$dpid" 2>/dev/null && grep -q 'memory.high' "$tmp/err"; then
	pass bad_reload_refused_daemon_runs
else
	fail bad_reload_refused_daemon_runs "alive: $(kill -0 "$dpid" 2>/dev/null && echo yes || echo no); stderr: $(tail -c 300 "$tmp/err")"
fi

kill -TERM "$dpid"
wait "$dpid"
rc=$?
dpid=
[ "$rc" = 0 ] && pass sigterm_exits_0 || fail sigterm_exits_0 "exit $rc"
if python3 tests/schema_validate.py --ndjson "$tmp/stream.1" "$tmp/stream.ndjson" >"$tmp/val" 2>&1; then
	pass "stream_lines_validate ($(cat "$tmp/stream.1" "$tmp/stream.ndjson" | wc -l) lines)"
else
	fail stream_lines_validate "$(head -c 300 "$tmp/val")"
fi

# The daemons below read only this test's subtree (--root): paths are
# relative to it, and others' cgroups on the host cannot slow their ticks.
#
# Review finding 5: a state file (this boot) whose entry has one cgroup's id
# and another's path, with saved kill and hook, made a daemon with 0 rules
# kill the processes at the path and fork a hook with a NULL path. The
# entry is skipped with a notice; nothing is killed, no hook runs; an
# entry on the right cgroup still loses its kill, hook and "zzzz" value.
boot=$(cat /proc/sys/kernel/random/boot_id)
ino() { stat -c %i "$1"; }
mkdir "$CG_TEST/victim" "$CG_TEST/decoy"
victims=$(cg_spawn "$CG_TEST/victim" sleep 300; cg_spawn "$CG_TEST/victim" sleep 300)
sleep 0.3
echo '{"rules": []}' >"$tmp/none.json"
cat >"$tmp/hostile.json" <<JSON
{"boot_id": "$boot", "targets": [
 {"rule": "gone", "cgroup_id": $(ino "$CG_TEST/decoy"), "path": "victim",
  "saved": [{"step": 0, "action": "kill"}, {"step": 1, "action": "hook"},
            {"step": 2, "action": "freeze"}]},
 {"rule": "gone", "cgroup_id": $(ino "$CG_TEST/victim"), "path": "victim",
  "saved": [{"step": 0, "action": "kill"}, {"step": 1, "action": "hook"},
            {"step": 2, "action": "memory.max", "value": "zzzz"}]}]}
JSON
"$CGWARDEN" daemon --root "$CG_TEST" --policy "$tmp/none.json" --state "$tmp/hostile.json" --interval 0.2 \
	--listen off --output "$tmp/hostile.ndjson" --quiet 2>"$tmp/hostile.err" &
dpid=$!
sleep 2
kill -TERM "$dpid"
wait "$dpid"
dpid=
alive=0
for p in $victims; do
	st=$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && alive=$((alive + 1))
done
if [ "$alive" = 2 ] && ! grep -q '"action":"\(kill\|hook\)"' "$tmp/hostile.ndjson" &&
	grep -q "'victim' is cgroup $(ino "$CG_TEST/victim"), not the recorded $(ino "$CG_TEST/decoy")" "$tmp/hostile.err" &&
	grep -q "action 'kill' has no restore" "$tmp/hostile.err" &&
	grep -q 'not "zzzz"' "$tmp/hostile.err"; then
	pass hostile_state_acts_on_nothing
else
	fail hostile_state_acts_on_nothing "$alive of 2 alive; records: $(head -c 300 "$tmp/hostile.ndjson"); stderr: $(head -c 600 "$tmp/hostile.err")"
fi

# Review finding 4, for the daemon: run in a cgroup namespace (unshare -C
# in ns/inner), a rule that would freeze ns (our ancestor) is blocked as
# protected, while the same rule on the sibling ns/other acts.
if command -v unshare >/dev/null && unshare -C true 2>/dev/null; then
	mkdir -p "$CG_TEST/ns/inner" "$CG_TEST/ns/other"
	cat >"$tmp/ns.json" <<JSON
{"rules": [
 {"name": "up", "match": {"path": "ns"},
  "when": {"metric": "cpu.usage_ratio", "op": ">=", "value": 0}, "then": [{"freeze": true}]},
 {"name": "side", "match": {"path": "ns/other"},
  "when": {"metric": "cpu.usage_ratio", "op": ">=", "value": 0}, "then": [{"freeze": true}]}]}
JSON
	timeout -k 2 60 sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec unshare -C "$@"' \
		sh "$CG_TEST/ns/inner" "$CGWARDEN" daemon --root "$CG_TEST" --policy "$tmp/ns.json" \
		--state "$tmp/ns-state.json" --interval 0.2 --listen off --output "$tmp/ns.ndjson" \
		--quiet 2>"$tmp/ns.err" &
	nspid=$!
	for _ in $(seq 300); do
		# Through cat: before the daemon makes the file, 0 rather than nothing.
		[ "$(cat "$tmp/ns.ndjson" 2>/dev/null | grep -c '"type":"policy_action"')" -ge 2 ] && break
		sleep 0.1
	done
	up=$(grep '"rule":"up"' "$tmp/ns.ndjson" | head -n 1 | jq -r '"\(.result) \(.guards | join(","))"')
	side=$(grep '"rule":"side"' "$tmp/ns.ndjson" | head -n 1 | jq -r .result)
	nsfrozen=$(cat "$CG_TEST/ns/cgroup.freeze")
	kill -TERM "$nspid" 2>/dev/null
	wait "$nspid"
	echo 0 >"$CG_TEST/ns/cgroup.freeze"
	if [ "$up" = "blocked protected" ] && [ "$side" = ok ] && [ "$nsfrozen" = 0 ]; then
		pass daemon_in_namespace_spares_its_ancestor
	else
		fail daemon_in_namespace_spares_its_ancestor "ancestor: '$up' (cgroup.freeze $nsfrozen), sibling: '$side'; stderr: $(head -c 300 "$tmp/ns.err")"
	fi
else
	skip daemon_in_namespace_spares_its_ancestor "unshare -C is not available here"
fi

# A thaw the kernel refuses (the parent is frozen too) is retried with a
# backoff (1 s, 2 s, 4 s...) and recorded once per try, not on every tick;
# once the parent thaws, the next try succeeds.
mkdir -p "$CG_TEST/pfrozen/child"
cg_spawn "$CG_TEST/pfrozen/child" sleep 300 >/dev/null
echo 1 >"$CG_TEST/pfrozen/child/cgroup.freeze"
echo 1 >"$CG_TEST/pfrozen/cgroup.freeze"
cat >"$tmp/owed.json" <<JSON
{"boot_id": "$boot", "targets": [
 {"rule": "gone", "cgroup_id": $(ino "$CG_TEST/pfrozen/child"), "path": "pfrozen/child",
  "frozen": true, "saved": [{"step": 0, "action": "freeze"}]}]}
JSON
"$CGWARDEN" daemon --root "$CG_TEST" --policy "$tmp/none.json" --state "$tmp/owed.json" --interval 0.2 \
	--listen off --output "$tmp/owed.ndjson" --quiet 2>"$tmp/owed.err" &
dpid=$!
sleep 5
tries=$(grep -c '"action":"thaw".*"result":"refused"' "$tmp/owed.ndjson")
# 25 ticks: at most 4 tries (at 0, 1, 3 s, perhaps 7 s on a slow host).
if [ "$tries" -ge 2 ] && [ "$tries" -le 4 ]; then
	pass "refused_thaw_backs_off ($tries tries in 5 s at 0.2 s ticks)"
else
	fail refused_thaw_backs_off "$tries refused thaws in 5 s; stderr: $(head -c 300 "$tmp/owed.err")"
fi
echo 0 >"$CG_TEST/pfrozen/cgroup.freeze"
for _ in $(seq 150); do
	grep -q '"action":"thaw".*"result":"ok"' "$tmp/owed.ndjson" && break
	sleep 0.1
done
if grep -q '"action":"thaw".*"result":"ok"' "$tmp/owed.ndjson" &&
	[ "$(cat "$CG_TEST/pfrozen/child/cgroup.freeze")" = 0 ]; then
	pass owed_thaw_done_once_parent_thaws
else
	fail owed_thaw_done_once_parent_thaws "child cgroup.freeze $(cat "$CG_TEST/pfrozen/child/cgroup.freeze"); $(grep -c thaw "$tmp/owed.ndjson") thaw records"
fi
kill -TERM "$dpid"
wait "$dpid"
dpid=

# PSI triggers count in the fd budget (issue 12 item 6). RLIMIT_NOFILE 1024
# (soft; made cheap with ulimit) and a PSI rule with a 1 s window on 600
# cgroups: the daemon's budget is 768 (an eighth of the limit, at least a
# quarter under 4096, stays outside), triggers take half of it at most
# (384) and the rest is polled, said once. Fds stay bounded (under the
# limit less the headroom), /healthz and /metrics answer, and a freeze by a
# second rule still gets the fds it needs and is confirmed.
mkdir "$CG_TEST/psi" "$CG_TEST/psi-busy"
mkdir $(seq -f "$CG_TEST/psi/c%g" 600)
cg_spawn "$CG_TEST/psi-busy" sh -c 'while :; do :; done' >/dev/null
cat >"$tmp/psi.json" <<JSON
{"rules": [
  {"name": "psi-all", "match": {"path": "psi/*"},
   "when": {"metric": "psi.cpu.some.avg10", "op": ">", "value": 90, "window": "1s"},
   "then": [{"log": "not expected: the cgroups are idle"}]},
  {"name": "freeze-busy", "match": {"path": "psi-busy"},
   "when": {"metric": "cpu.usage_ratio", "op": ">", "value": 0.05},
   "then": [{"freeze": true}]},
  {"name": "slow-hook", "match": {"path": "psi-hook"},
   "when": {"metric": "procs", "op": ">", "value": 0},
   "then": [{"hook": {"path": "$tmp/hook.sh", "timeout": "8s"}}]}
]}
JSON
# A hook that outlives its timeout: the daemon goes on meanwhile (item 8)
# and kills it at the deadline.
printf '#!/bin/sh\necho $$ >%s/hook.pid\nexec sleep 30\n' "$tmp" >"$tmp/hook.sh"
chmod +x "$tmp/hook.sh"
mkdir "$CG_TEST/psi-hook"
cg_spawn "$CG_TEST/psi-hook" sleep 300 >/dev/null
port=$(free_port)
(ulimit -n 1024 && exec "$CGWARDEN" daemon --policy "$tmp/psi.json" --state "$tmp/psi-state.json" \
	--interval 0.5 --no-bpf --root "$CG_TEST" --listen "127.0.0.1:$port" --output "$tmp/psi.ndjson" \
	2>"$tmp/psi.err") &
dpid=$!
# While the hook sleeps: HTTP answers at once, and its record is not there.
for _ in $(seq 100); do [ -s "$tmp/hook.pid" ] && break; sleep 0.1; done
t0=$(date +%s%N)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/healthz")
ms=$((($(date +%s%N) - t0) / 1000000))
if [ -s "$tmp/hook.pid" ] && kill -0 "$(cat "$tmp/hook.pid")" 2>/dev/null && [ "$code" = 200 ] &&
	! grep -q '"action":"hook"' "$tmp/psi.ndjson"; then
	pass "hook_runs_beside_the_loop (/healthz in $ms ms while it sleeps)"
else
	fail hook_runs_beside_the_loop "hook pid '$(cat "$tmp/hook.pid" 2>/dev/null)', /healthz $code in $ms ms, $(grep -c '"action":"hook"' "$tmp/psi.ndjson") hook records"
fi
for _ in $(seq 100); do
	grep -q '"action":"freeze"' "$tmp/psi.ndjson" 2>/dev/null && break
	sleep 0.1
done
sleep 2	# a few more ticks: the notice must not repeat, fds must not grow
fds=$(ls "/proc/$dpid/fd" 2>/dev/null | wc -l)
# Triggers are the cpu.pressure fds open for writing (the walk reads them too).
trigs=0
for f in /proc/$dpid/fd/*; do
	[[ $(readlink "$f" 2>/dev/null) == */cpu.pressure ]] || continue
	fl=$(awk '$1 == "flags:" { print $2 }' "/proc/$dpid/fdinfo/${f##*/}" 2>/dev/null)
	[[ $fl == *2 ]] && trigs=$((trigs + 1))
done
notices=$(grep -c 'PSI triggers use half the fd budget' "$tmp/psi.err")
failures=$(grep -c 'PSI trigger for rule' "$tmp/psi.err")
echo "# fds $fds (limit 1024), PSI triggers $trigs, budget notices $notices; $(grep 'fd budget' "$tmp/psi.err" | head -n 1)"
if ((fds > 0 && fds <= 1024 - 128 && trigs > 0 && trigs <= 384)); then
	pass "psi_triggers_within_the_fd_budget ($fds fds, $trigs triggers)"
else
	fail psi_triggers_within_the_fd_budget "$fds fds (want <= 896), $trigs triggers (want 1-384)"
fi
if ((notices == 1 && failures == 0)) && grep -q '216 more PSI conditions are polled' "$tmp/psi.err"; then
	pass psi_budget_said_once
else
	fail psi_budget_said_once "$notices budget notices, $failures failure lines: $(grep PSI "$tmp/psi.err" | head -c 300)"
fi
if code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/healthz") &&
	[ "$code" = 200 ] && curl -s --max-time 10 "http://127.0.0.1:$port/metrics" | grep -q '^cgwarden_fd_budget 768'; then
	pass psi_budget_http_answers
else
	fail psi_budget_http_answers "/healthz: ${code:-no answer}"
fi
for _ in $(seq 150); do grep -q '"action":"hook"' "$tmp/psi.ndjson" && break; sleep 0.1; done
rec=$(grep '"action":"hook"' "$tmp/psi.ndjson" | head -n 1)
if [[ $rec == *'"result":"failed"'*'within 8000 ms: killed'* ]] && ! kill -0 "$(cat "$tmp/hook.pid")" 2>/dev/null; then
	pass hook_killed_at_its_deadline
else
	fail hook_killed_at_its_deadline "record: ${rec:0:300}"
fi
rec=$(grep '"action":"freeze"' "$tmp/psi.ndjson" | head -n 1)
if [[ $rec == *'"result":"ok"'* ]] && grep -q '^frozen 1' "$CG_TEST/psi-busy/cgroup.events"; then
	pass psi_budget_freeze_ok
else
	fail psi_budget_freeze_ok "record: ${rec:0:300}; $(tr '\n' ' ' <"$CG_TEST/psi-busy/cgroup.events")"
fi
kill -TERM "$dpid"
wait "$dpid"
rc=$?
dpid=
# Exit 0: the thaw at exit confirmed, nothing leaked (an ASan build says so).
[ "$rc" = 0 ] && pass psi_budget_daemon_exits_0 || fail psi_budget_daemon_exits_0 "exit $rc: $(tail -c 300 "$tmp/psi.err")"
# Empty and unwatched now: one rmdir for all (cg_cleanup forks per cgroup).
rmdir "$CG_TEST"/psi/c* 2>/dev/null
finish
