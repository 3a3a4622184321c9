#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The stream as a feed for pipelines: with cgroups created and removed
# during a fast run, every line (ticks and events) validates against the
# schema; --fields keeps what it names and the identity; --output FILE is
# reopened on SIGHUP after `mv` (log rotation) and loses no tick; --output
# unix:PATH writes to a socket; a reader that stops reading makes the stream
# drop whole lines (counted in a later tick's self.dropped_lines), never
# write half of one, and never slows the ticks.
. "$(dirname "$0")/../lib.sh"
if ! cg_setup; then skip stream_feed "$SKIP_WHY"; finish; fi
for t in jq python3; do
	command -v "$t" >/dev/null || { skip stream_feed "$t not installed"; finish; }
done
if ! python3 -c 'import jsonschema' 2>/dev/null; then
	skip stream_feed "python3-jsonschema not installed (scripts/deps.sh --test)"
	finish
fi
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	rm -rf "$tmp"
	cg_cleanup
}
trap cleanup EXIT
validate() { python3 tests/schema_validate.py --ndjson "$@"; }

# ---- churn: every line validates ---------------------------------------
"$CGWARDEN" stream --interval 0.2 --count 20 >"$tmp/churn.ndjson" 2>"$tmp/churn.err" &
spid=$!
sleep 1	# past the first tick: the baseline reports no cgroup_added
for round in 1 2 3; do
	for i in 1 2 3 4 5; do
		mkdir "$CG_TEST/c$round-$i"
		cg_spawn "$CG_TEST/c$round-$i" sleep 30 >/dev/null
	done
	sleep 0.5
	for i in 1 2 3 4 5; do
		echo 1 >"$CG_TEST/c$round-$i/cgroup.kill"
		for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$CG_TEST/c$round-$i" 2>/dev/null && break; sleep 0.05; done
	done
	sleep 0.3
done
wait "$spid"
rc=$?
added=$(grep -c '"event":"cgroup_added"' "$tmp/churn.ndjson")
removed=$(grep -c '"event":"cgroup_removed"' "$tmp/churn.ndjson")
if [ "$rc" = 0 ] && [ "$added" -ge 15 ] && [ "$removed" -ge 15 ]; then
	pass "churn_events ($added added, $removed removed)"
else
	fail churn_events "rc $rc, $added added, $removed removed: $(head -c 300 "$tmp/churn.err")"
fi
if out=$(validate "$tmp/churn.ndjson"); then
	pass "churn_every_line_validates ($(wc -l <"$tmp/churn.ndjson") lines)"
else
	fail churn_every_line_validates "$out"
fi
d=$(last_tick "$tmp/churn.ndjson" | jq -r .self.dropped_lines)
[ "$d" = 0 ] && pass dropped_lines_0_for_a_fast_reader || fail dropped_lines_0_for_a_fast_reader "$d"

# ---- --fields -----------------------------------------------------------
"$CGWARDEN" stream --interval 0.2 --count 2 --fields cpu.usage_usec,psi.cpu,procs \
	>"$tmp/fields.ndjson" 2>"$tmp/fields.err"
keys=$(last_tick "$tmp/fields.ndjson" | jq -c '[.cgroups[] | select(.path == "'"$CG_REL"'") | keys, (.cpu | keys), (.psi | keys)]')
want='[["container_id","cpu","depth","id","image","k8s","kind","name","parent_id","path","procs","psi","runtime","short_id"],["usage_usec"],["cpu"]]'
if [ "$keys" = "$want" ]; then
	pass fields_keep_selection_and_identity
else
	fail fields_keep_selection_and_identity "$keys"
fi
if out=$(validate "$tmp/fields.ndjson"); then
	pass fields_lines_validate
else
	fail fields_lines_validate "$out"
fi
"$CGWARDEN" stream --count 1 --fields cpu,nosuch >/dev/null 2>"$tmp/bad.err"
rc=$?
[ "$rc" = 2 ] && grep -q nosuch "$tmp/bad.err" && pass fields_unknown_is_usage_error ||
	fail fields_unknown_is_usage_error "rc $rc: $(cat "$tmp/bad.err")"

# ---- SIGHUP reopens --output after mv -----------------------------------
log=$tmp/cgwarden.ndjson
"$CGWARDEN" stream --interval 0.2 --output "$log" 2>"$tmp/hup.err" &
spid=$!
pids+=("$spid")
sleep 1.2
mv "$log" "$log.1"
kill -HUP "$spid"
sleep 1.2
kill -TERM "$spid"
wait "$spid"
rc=$?
last_old=$(last_tick "$log.1" | jq -r .seq)
first_new=$(grep '"type":"tick"' "$log" 2>/dev/null | head -n 1 | jq -r .seq)
if [ "$rc" = 0 ] && [ -s "$log" ] && [ -n "$last_old" ] && [ "$first_new" = $((last_old + 1)) ]; then
	pass "sighup_reopens_output (old file ends at tick $last_old, new starts at $first_new)"
else
	fail sighup_reopens_output "rc $rc, old last $last_old, new first $first_new: $(cat "$tmp/hup.err")"
fi
if out=$(validate "$log.1" "$log"); then pass rotated_files_validate; else fail rotated_files_validate "$out"; fi

# ---- --output unix:PATH -------------------------------------------------
sock=$tmp/feed.sock
python3 - "$sock" >"$tmp/sock.ndjson" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(1)
c, _ = s.accept()
while True:
    d = c.recv(65536)
    if not d:
        break
    sys.stdout.buffer.write(d)
EOF
lpid=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
"$CGWARDEN" stream --interval 0.2 --count 3 --output "unix:$sock" 2>"$tmp/sock.err"
rc=$?
wait "$lpid"
n=$(grep -c '"type":"tick"' "$tmp/sock.ndjson")
if [ "$rc" = 0 ] && [ "$n" = 3 ] && validate "$tmp/sock.ndjson" >/dev/null; then
	pass unix_socket_output
else
	fail unix_socket_output "rc $rc, $n ticks: $(cat "$tmp/sock.err")"
fi

# ---- a reader that stops reading ----------------------------------------
# Bigger lines fill the pipe sooner: 200 empty cgroups.
mkdir "$CG_TEST/many"
(cd "$CG_TEST/many" && mkdir $(seq -f m%g 1 200))
start=$(date +%s.%N)
"$CGWARDEN" stream --interval 0.1 --count 60 2>"$tmp/slow.err" |
	{ sleep 3; cat >"$tmp/slow.ndjson"; }
took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
maxd=$(jq -r 'select(.type == "tick") | .self.dropped_lines' "$tmp/slow.ndjson" | sort -n | tail -n 1)
ticks=$(grep -c '"type":"tick"' "$tmp/slow.ndjson")
if [ "${maxd:-0}" -gt 0 ]; then
	pass "slow_reader_drops_counted (dropped_lines $maxd, $ticks of 60 ticks delivered)"
else
	fail slow_reader_drops_counted "max dropped_lines '${maxd}', $ticks ticks"
fi
if out=$(validate "$tmp/slow.ndjson"); then
	pass slow_reader_never_gets_a_partial_line
else
	fail slow_reader_never_gets_a_partial_line "$out"
fi
# 60 ticks at 0.1 s: ~6 s whether or not anyone reads.
awk -v t="$took" 'BEGIN { exit !(t < 9) }' && pass "slow_reader_does_not_slow_ticks (${took}s for 60 ticks)" ||
	fail slow_reader_does_not_slow_ticks "${took}s for 60 ticks at 0.1s"
finish
