#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The stream as a feed for pipelines: with cgroups created and removed
# during a fast run, every line (ticks and events) validates against the
# schema; --fields keeps what it names and the identity; --output FILE is
# reopened on SIGHUP after `mv` (log rotation) and loses no tick; --output
# unix:PATH writes to a socket, neither blocks on a reader whose backlog is
# full nor stops when its reader restarts (it reconnects); a reader that
# stops reading makes the stream drop whole lines (counted in a later
# tick's self.dropped_lines), never write half of one, and never slows the
# ticks. (Overload, a tick longer than the interval: test_stream_overload.sh.)
# The churn and --fields runs walk the whole host, others' cgroups included;
# the runs about outputs walk only the test's subtree (--root): a hostile
# neighbour's 200-level tree there made each of their lines tens of KB and
# the test more than twice as long, for nothing those runs check.
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
"$CGWARDEN" stream --root "$CG_TEST" --interval 0.2 --output "$log" 2>"$tmp/hup.err" &
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
"$CGWARDEN" stream --root "$CG_TEST" --interval 0.2 --count 3 --output "unix:$sock" 2>"$tmp/sock.err"
rc=$?
wait "$lpid"
n=$(grep -c '"type":"tick"' "$tmp/sock.ndjson")
if [ "$rc" = 0 ] && [ "$n" = 3 ] && validate "$tmp/sock.ndjson" >/dev/null; then
	pass unix_socket_output
else
	fail unix_socket_output "rc $rc, $n ticks: $(cat "$tmp/sock.err")"
fi

# ---- a unix: reader that cannot accept, then can -------------------------
# Its backlog is full (listen(0) and a connection it does not accept): the
# connect must not hold the loop. The lines meanwhile are dropped and
# counted; once it accepts, the stream connects on a later tick.
sock=$tmp/full.sock
timeout 20 python3 - "$sock" 1.5 >"$tmp/full.ndjson" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(0)
filler = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
filler.connect(sys.argv[1])		# takes the one slot listen(0) gives
open(sys.argv[1] + ".ready", "w").close()
time.sleep(float(sys.argv[2]))
c, _ = s.accept()			# the filler: the backlog has room again
c.close()
filler.close()
c, _ = s.accept()
while True:
    d = c.recv(65536)
    if not d:
        break
    sys.stdout.buffer.write(d)
EOF
lpid=$!
pids+=("$lpid")
for _ in $(seq 50); do [ -e "$sock.ready" ] && break; sleep 0.1; done
start=$(date +%s.%N)
timeout 20 "$CGWARDEN" stream --root "$CG_TEST" --interval 0.2 --count 15 --output "unix:$sock" 2>"$tmp/full.err"
rc=$?
took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
wait "$lpid"
n=$(grep -c '"type":"tick"' "$tmp/full.ndjson")
d=$(jq -r 'select(.type == "tick") | .self.dropped_lines' "$tmp/full.ndjson" | head -n 1)
if [ "$rc" = 0 ] && awk -v t="$took" 'BEGIN { exit !(t < 8) }'; then
	pass "unix_full_backlog_does_not_block (${took}s for 15 ticks)"
else
	fail unix_full_backlog_does_not_block "rc $rc after ${took}s: $(cat "$tmp/full.err")"
fi
if [ "$n" -ge 3 ] && [ "${d:-0}" -gt 0 ] && validate "$tmp/full.ndjson" >/dev/null; then
	pass "unix_connects_when_accepted ($n ticks, the first says $d dropped)"
else
	fail unix_connects_when_accepted "$n ticks, dropped '$d': $(cat "$tmp/full.err")"
fi

# ---- a unix: reader that restarts -----------------------------------------
# The first reader takes a few ticks and goes; another binds the same path.
# The stream goes on (it is not the "| head" end of stdout), says so once,
# and the second reader gets the rest with the gap counted.
sock=$tmp/restart.sock
reader() {	# reader PATH SECONDS: read for that long (0: to the end)
	timeout 20 python3 - "$@" <<'EOF'
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(1)
c, _ = s.accept()
secs = float(sys.argv[2])
end = time.monotonic() + secs
while True:
    if secs:
        left = end - time.monotonic()
        if left <= 0:
            break
        c.settimeout(left)
    try:
        d = c.recv(65536)
    except socket.timeout:
        break
    if not d:
        break
    sys.stdout.buffer.write(d)
os.unlink(sys.argv[1])
EOF
}
reader "$sock" 1 >"$tmp/r1.ndjson" &
lpid=$!
pids+=("$lpid")
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
timeout 30 "$CGWARDEN" stream --root "$CG_TEST" --interval 0.2 --count 25 --output "unix:$sock" 2>"$tmp/restart.err" &
spid=$!
pids+=("$spid")
wait "$lpid"
sleep 0.5	# a gap: the stream has nobody to write to
reader "$sock" 0 >"$tmp/r2.ndjson" &
lpid=$!
pids+=("$lpid")
wait "$spid"
rc=$?
wait "$lpid"
n1=$(grep -c '"type":"tick"' "$tmp/r1.ndjson")
n2=$(grep -c '"type":"tick"' "$tmp/r2.ndjson")
said=$(grep -c 'lines are dropped' "$tmp/restart.err")
d=$(jq -r 'select(.type == "tick") | .self.dropped_lines' "$tmp/r2.ndjson" | head -n 1)
if [ "$rc" = 0 ] && [ "$n1" -ge 2 ] && [ "$n2" -ge 3 ] && [ "${d:-0}" -gt 0 ]; then
	pass "unix_reader_restart_reconnects ($n1 + $n2 of 25 ticks, $d dropped between)"
else
	fail unix_reader_restart_reconnects "rc $rc, $n1 + $n2 ticks, dropped '$d': $(cat "$tmp/restart.err")"
fi
[ "$said" = 1 ] && pass unix_reader_gone_said_once ||
	fail unix_reader_gone_said_once "said $said times: $(cat "$tmp/restart.err")"
if validate "$tmp/r1.ndjson" "$tmp/r2.ndjson" >/dev/null; then
	pass unix_reader_restart_lines_validate
else
	fail unix_reader_restart_lines_validate "$(validate "$tmp/r1.ndjson" "$tmp/r2.ndjson" | head -c 300)"
fi

# ---- a reader that stops reading ----------------------------------------
# Bigger lines fill the pipe sooner: 200 empty cgroups.
mkdir "$CG_TEST/many"
(cd "$CG_TEST/many" && mkdir $(seq -f m%g 1 200))
start=$(date +%s.%N)
"$CGWARDEN" stream --root "$CG_TEST" --interval 0.1 --count 60 2>"$tmp/slow.err" |
	{ sleep 3; cat >"$tmp/slow.ndjson"; }
took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
maxd=$(jq -r 'select(.type == "tick") | .self.dropped_lines' "$tmp/slow.ndjson" | sort -n | tail -n 1)
ticks=$(grep -c '"type":"tick"' "$tmp/slow.ndjson")
if [ "${maxd:-0}" -gt 0 ]; then
	pass "slow_reader_drops_counted (dropped_lines $maxd, $ticks of 60 ticks delivered)"
else
	fail slow_reader_drops_counted "max dropped_lines '${maxd}', $ticks ticks"
fi
# Every line is read as JSON (a partial one is not); the schema on 3 of
# the ticks is enough: the same tree's ticks, and the churn above checks
# every line of a stream against it.
if out=$(validate --ticks 3 "$tmp/slow.ndjson"); then
	pass slow_reader_never_gets_a_partial_line
else
	fail slow_reader_never_gets_a_partial_line "$out"
fi
# 60 ticks at 0.1 s: ~6 s whether or not anyone reads.
awk -v t="$took" 'BEGIN { exit !(t < 9) }' && pass "slow_reader_does_not_slow_ticks (${took}s for 60 ticks)" ||
	fail slow_reader_does_not_slow_ticks "${took}s for 60 ticks at 0.1s"
finish
