#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The flight recorder end to end, on real cgroups (a test-owned subtree,
# --root: others' cgroups are none of its business):
# - one daemon streams every tick line (--ticks) and records the same ticks
#   (--record) while cgroups are born and die (names with a space, a quote,
#   a tab and a 0xff byte), a busy loop makes a "log" rule fire, and a
#   busy cgroup's counters move. `stream --replay` of the store gives the
#   very lines the live stream gave, policy actions included, byte for byte
#   (nothing masked: times and rates are recorded or derived exactly);
# - `snapshot --replay --at` a middle tick gives that tick's cgroups, rates
#   included, and its TIME forms (RFC 3339, unix, -DURATION) agree;
# - after `kill -9` of a recorder and a torn last chunk, the store opens,
#   says so once, and replays every complete tick;
# - a store of a newer format is refused with its version; a second
#   recorder on one store is refused; bad --retain/--at are usage errors;
# - on a full file system (a 4 MiB tmpfs in a private mount namespace)
#   recording pauses with one notice and resumes when space returns, and
#   the daemon-less recorder keeps running throughout.
. "$(dirname "$0")/../lib.sh"
if ! cg_setup; then skip record "$SKIP_WHY"; finish; fi
if ! command -v jq >/dev/null; then skip record "jq not installed"; finish; fi
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$tmp"; cg_cleanup' EXIT

odd=$'odd name \'q\'\ttab\xff'
mkdir "$CG_TEST/busy" "$CG_TEST/idle"
cg_spawn "$CG_TEST/busy" sh -c 'while :; do :; done' >/dev/null
cat >"$tmp/policy.json" <<JSON
{"rules": [
  {"name": "busy-loop", "match": {"path": "busy"},
   "when": {"metric": "cpu.usage_ratio", "op": ">", "value": 0.05, "for": "0.5s"},
   "then": [{"log": "a test cgroup burns CPU"}]}
]}
JSON

# 1. Live stream and recording of the same ticks, from one process.
"$CGWARDEN" daemon --policy "$tmp/policy.json" --state "$tmp/state.json" --interval 0.3 \
	--root "$CG_TEST" --listen off --output "$tmp/live.ndjson" --ticks \
	--record "$tmp/rec" 2>"$tmp/daemon.err" &
dpid=$!
pids+=("$dpid")
wait_ticks() {
	for _ in $(seq 200); do
		(($(grep -c '"type":"tick"' "$tmp/live.ndjson" 2>/dev/null || echo 0) >= $1)) && return 0
		sleep 0.05
	done
	return 1
}
wait_ticks 4
mkdir "$CG_TEST/$odd" "$CG_TEST/born"
wait_ticks 8
rmdir "$CG_TEST/born"
mkdir "$CG_TEST/idle/child"
wait_ticks 12
rmdir "$CG_TEST/$odd" "$CG_TEST/idle/child"
wait_ticks 16
kill -TERM "$dpid"
wait "$dpid" 2>/dev/null
st=$?
[ "$st" = 0 ] && pass daemon_with_record_exits_0 || fail daemon_with_record_exits_0 "status $st: $(head -c 400 "$tmp/daemon.err")"

"$CGWARDEN" stream --replay "$tmp/rec" >"$tmp/replay.ndjson" 2>"$tmp/replay.err"
st=$?
live_ticks=$(grep -c '"type":"tick"' "$tmp/live.ndjson")
rep_ticks=$(grep -c '"type":"tick"' "$tmp/replay.ndjson")
acts=$(grep -c '"type":"policy_action"' "$tmp/live.ndjson")
adds=$(grep -c '"event":"cgroup_added"' "$tmp/live.ndjson")
rems=$(grep -c '"event":"cgroup_removed"' "$tmp/live.ndjson")
if [ "$st" = 0 ] && cmp -s "$tmp/live.ndjson" "$tmp/replay.ndjson"; then
	pass "replayed_stream_is_the_live_stream ($rep_ticks ticks, $acts actions, $adds added, $rems removed, byte for byte)"
else
	fail replayed_stream_is_the_live_stream "status $st, $live_ticks live / $rep_ticks replayed ticks; first difference: $(diff <(head -c 100000 "$tmp/live.ndjson" | cut -c1-300) <(head -c 100000 "$tmp/replay.ndjson" | cut -c1-300) | head -6); stderr: $(head -c 300 "$tmp/replay.err")"
fi
# The comparison means something only if it held events and rates.
if ((acts >= 1 && adds >= 3 && rems >= 3)) &&
	grep '"type":"tick"' "$tmp/replay.ndjson" | tail -n 1 |
	jq -e '.cgroups[] | select(.path == "busy") | .cpu.usage_ratio > 0.05' >/dev/null; then
	pass "replay_has_events_and_rates ($acts actions, $adds added, $rems removed)"
else
	fail replay_has_events_and_rates "$acts actions, $adds added, $rems removed"
fi

# 2. snapshot --replay --at a middle tick: that tick's cgroups.
mid=$(grep '"type":"tick"' "$tmp/live.ndjson" | sed -n 9p)
mid_usec=$(jq -r .time_usec <<<"$mid")
# RFC 3339 with microseconds, exactly that tick's time.
mid_time=$(date -u -d "@$((mid_usec / 1000000))" +%Y-%m-%dT%H:%M:%S).$(printf '%06d' $((mid_usec % 1000000)))Z
"$CGWARDEN" snapshot --replay "$tmp/rec" --at "$mid_time" --compact >"$tmp/snap.json" 2>"$tmp/snap.err"
if [ "$(jq -cS .cgroups "$tmp/snap.json")" = "$(jq -cS .cgroups <<<"$mid")" ] &&
	jq -e '.cgroups[] | select(.path == "busy") | .cpu.usage_ratio > 0' "$tmp/snap.json" >/dev/null; then
	pass "snapshot_at_a_middle_tick ($mid_time)"
else
	fail snapshot_at_a_middle_tick "at $mid_time: $(head -c 300 "$tmp/snap.err")"
fi
if python3 -c 'import jsonschema' 2>/dev/null; then
	if out=$(python3 tests/schema_validate.py "$tmp/snap.json" 2>&1) &&
		out=$(python3 tests/schema_validate.py --ndjson "$tmp/replay.ndjson" 2>&1); then
		pass replayed_snapshot_and_stream_are_schema_valid
	else
		fail replayed_snapshot_and_stream_are_schema_valid "$(echo "$out" | tail -3)"
	fi
fi
# Unix seconds with a fraction name the same tick.
unix=$(printf '%d.%06d' $((mid_usec / 1000000)) $((mid_usec % 1000000)))
if [ "$("$CGWARDEN" snapshot --replay "$tmp/rec" --at "$unix" --compact | jq -c .seq)" = "$(jq -c .seq <<<"$mid")" ]; then
	pass snapshot_at_unix_seconds
else
	fail snapshot_at_unix_seconds "at $unix"
fi
end_snap=$("$CGWARDEN" snapshot --replay "$tmp/rec" --compact | jq -c .cgroups)
last=$(grep '"type":"tick"' "$tmp/live.ndjson" | tail -n 1 | jq -c .cgroups)
back=$("$CGWARDEN" snapshot --replay "$tmp/rec" --at -0s --compact | jq -c .cgroups)
if [ "$(jq -cS . <<<"$end_snap")" = "$(jq -cS . <<<"$last")" ] && [ "$back" = "$end_snap" ]; then
	pass snapshot_default_and_minus_0s_are_the_last_tick
else
	fail snapshot_default_and_minus_0s_are_the_last_tick "differs"
fi
"$CGWARDEN" snapshot --replay "$tmp/rec" --at yesterday >/dev/null 2>"$tmp/bad.err"
st=$?
[ "$st" = 2 ] && grep -q -- "--at: 'yesterday' is not a time" "$tmp/bad.err" &&
	pass bad_at_is_a_usage_error || fail bad_at_is_a_usage_error "status $st: $(cat "$tmp/bad.err")"

# 2b. serve --record: /metrics says how the recording goes.
sock=$tmp/serve.sock
"$CGWARDEN" serve --root "$CG_TEST" --interval 0.2 --listen "unix:$sock" --record "$tmp/srec" \
	--retain 64M,1h --quiet 2>"$tmp/serve.err" &
spid=$!
pids+=("$spid")
got=
for _ in $(seq 100); do
	curl -sf --unix-socket "$sock" -o "$tmp/metrics" http://localhost/metrics 2>/dev/null &&
		got=$(sed -n 's/^cgwarden_record_ticks_total //p' "$tmp/metrics") &&
		[ -n "$got" ] && ((got >= 3)) && break
	sleep 0.1
done
if [ -n "$got" ] && ((got >= 3)) && grep -qx "cgwarden_record_paused 0" "$tmp/metrics" &&
	grep -q "^cgwarden_record_store_bytes [1-9]" "$tmp/metrics"; then
	pass "serve_record_metrics (cgwarden_record_ticks_total $got)"
else
	fail serve_record_metrics "ticks '$got': $(grep cgwarden_record "$tmp/metrics" | head -6); $(head -c 300 "$tmp/serve.err")"
fi
if command -v promtool >/dev/null; then
	out=$(promtool check metrics <"$tmp/metrics" 2>&1 | grep -v "non-histogram and non-summary metrics should not have \"_bucket\" suffix")
	if grep -qi "cgwarden_record" <<<"$out"; then
		fail record_metrics_pass_promtool "$out"
	else
		pass record_metrics_pass_promtool
	fi
fi
kill -TERM "$spid"
wait "$spid" 2>/dev/null
n=$("$CGWARDEN" stream --replay "$tmp/srec" 2>/dev/null | grep -c '"type":"tick"')
((n >= got)) && pass "serve_recording_replays ($n ticks)" || fail serve_recording_replays "$n < $got"

# 3. A second recorder on the same store is refused; bad --retain is usage.
"$CGWARDEN" record -o "$tmp/rec2" --root "$CG_TEST" --interval 0.2 --flush 0.2 2>"$tmp/r1.err" &
rpid=$!
pids+=("$rpid")
sleep 1.2
"$CGWARDEN" record -o "$tmp/rec2" --root "$CG_TEST" -n 1 2>"$tmp/r2.err"
st=$?
[ "$st" != 0 ] && grep -qi "lock\|busy\|another" "$tmp/r2.err" &&
	pass second_recorder_refused || fail second_recorder_refused "status $st: $(cat "$tmp/r2.err")"
"$CGWARDEN" record -o "$tmp/rec3" --retain 7x >/dev/null 2>"$tmp/r3.err"
[ $? = 2 ] && grep -q -- "--retain: '7x'" "$tmp/r3.err" &&
	pass bad_retain_is_a_usage_error || fail bad_retain_is_a_usage_error "$(cat "$tmp/r3.err")"

# 4. kill -9, and a torn last chunk.
kill -KILL "$rpid"
wait "$rpid" 2>/dev/null
n1=$("$CGWARDEN" stream --replay "$tmp/rec2" 2>"$tmp/k.err" | grep -c '"type":"tick"')
if ((n1 >= 2)); then
	pass "store_replays_after_kill_9 ($n1 ticks)"
else
	fail store_replays_after_kill_9 "$n1 ticks: $(head -c 300 "$tmp/k.err")"
fi
seg=$(ls "$tmp"/rec2/*.cgwr | tail -n 1)
size=$(stat -c %s "$seg")
truncate -s $((size - 7)) "$seg"
n2=$("$CGWARDEN" stream --replay "$tmp/rec2" 2>"$tmp/t.err" | grep -c '"type":"tick"')
notices=$(grep -ci "torn" "$tmp/t.err")
if ((n2 >= 1 && n2 < n1 && notices == 1)); then
	pass "torn_chunk_skipped_with_one_notice ($n2 of $n1 ticks)"
else
	fail torn_chunk_skipped_with_one_notice "$n2 of $n1 ticks, $notices notices: $(head -c 300 "$tmp/t.err")"
fi

# 5. A newer format is refused, with its version.
mkdir "$tmp/future"
cp "$tmp"/rec/*.cgwr "$tmp/future/"
f=$(ls "$tmp"/future/*.cgwr | head -n 1)
# The version is the 32-bit little-endian word after the 8-byte magic.
printf '\x63\x00\x00\x00' | dd of="$f" bs=1 seek=8 conv=notrunc status=none
"$CGWARDEN" snapshot --replay "$tmp/future" >/dev/null 2>"$tmp/f.err"
st=$?
[ "$st" = 2 ] && grep -q "version 99 is newer" "$tmp/f.err" &&
	pass newer_format_refused || fail newer_format_refused "status $st: $(cat "$tmp/f.err")"

# 6. A full disk pauses the recording and it resumes. tmpfs gives whole
# pages, so the recorder notices once the page its file ends in is full:
# 40 more cgroups make that take a second or two, and the notices are
# waited for, not timed.
if unshare -m true 2>/dev/null; then
	mkdir "$CG_TEST/many" && (cd "$CG_TEST/many" && mkdir $(seq -f c%g 1 40))
	cat >"$tmp/full.sh" <<'SH'
set -u
wait_for() { for _ in $(seq 300); do grep -q "$1" "$2" && return 0; sleep 0.1; done; return 1; }
mount --make-rprivate / && mkdir -p "$1/mnt" && mount -t tmpfs -o size=4m tmpfs "$1/mnt" || exit 3
"$2" record -o "$1/mnt/rec" --root "$3" --interval 0.1 --flush 0.1 2>"$1/full.err" &
r=$!
sleep 1
dd if=/dev/zero of="$1/mnt/filler" bs=64k 2>/dev/null
wait_for "disk full" "$1/full.err" || echo "no pause notice in 30 s" >>"$1/full.err"
sleep 0.5
kill -0 $r || echo "recorder died while paused" >>"$1/full.err"
rm -f "$1/mnt/filler"
wait_for "resumed" "$1/full.err" || echo "no resume notice in 30 s" >>"$1/full.err"
sleep 0.5
kill -TERM $r
wait $r
echo "status $?" >>"$1/full.err"
"$2" stream --replay "$1/mnt/rec" 2>>"$1/full.err" | grep -c '"type":"tick"' >"$1/full.ticks"
SH
	unshare -m bash "$tmp/full.sh" "$tmp" "$CGWARDEN" "$CG_TEST"
	paused=$(grep -c "disk full" "$tmp/full.err")
	resumed=$(grep -c "resumed" "$tmp/full.err")
	if ((paused == 1 && resumed == 1)) && grep -q "status 0" "$tmp/full.err" &&
		(($(cat "$tmp/full.ticks") >= 10)); then
		pass "full_disk_pauses_and_resumes ($(cat "$tmp/full.ticks") ticks kept)"
	else
		fail full_disk_pauses_and_resumes "$(head -c 600 "$tmp/full.err")"
	fi
else
	skip full_disk_pauses_and_resumes "no private mount namespace here"
fi
finish
