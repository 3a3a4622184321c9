#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The HTTP endpoint under the attacks of issue 12, on loopback, against a
# fixture tree (--root: no cgroups of this host are read or made):
#  - the connection limit reached and released: service resumes at once
#    (it used to stay dead for good), with --max-connections 4 and with the
#    defaults (16 idle connections from each of 127.0.0.1..4);
#  - slowloris (64 connections from 4 addresses, a byte every 4 s, and 16
#    from the good client's own address): a good client still gets /metrics,
#    and no incomplete request outlives the request deadline;
#  - four slow readers of a 5,000-cgroup /metrics: everyone else gets 200
#    (it used to be 503), the slow ones are cut once their body is more
#    than two snapshots old, and the server's memory stays bounded; a
#    client that keeps up is not cut when overrunning ticks slow the server.
# Each line reports the figures it measured.
. "$(dirname "$0")/../lib.sh"
if ! command -v python3 >/dev/null; then
	skip http_abuse "python3 not installed (scripts/deps.sh --test)"
	finish
fi
cli=$(dirname "$0")/http_abuse.py
tmp=$(mktemp -d)
srv_pid=
# stop_server [NAME]: with a NAME, also checks that the server survived
# and exits 0 on SIGTERM with nothing but its own notices on stderr (under
# SANITIZE=1: no sanitizer report), and at most a few libmicrohttpd
# messages: those the clients cause (a slowloris client that gives up
# makes one) are limited to 5 a minute, and none come from our own cuts.
stop_server() {
	local rc
	[ -n "$srv_pid" ] || return 0
	kill -TERM "$srv_pid" 2>/dev/null
	wait "$srv_pid" 2>/dev/null
	rc=$?
	srv_pid=
	[ -n "${1:-}" ] || return 0
	if [ "$rc" = 0 ] && ! grep -Ev '^cgwarden: (serving on|fd budget|http: )' "$tmp/serve.err" |
		grep -q . && [ "$(grep -c '^cgwarden: http: ' "$tmp/serve.err")" -le 12 ]; then
		pass "$1_server_exits_0_quietly"
	else
		fail "$1_server_exits_0_quietly" "rc $rc: $(head -c 2000 "$tmp/serve.err")"
	fi
}
trap 'stop_server; rm -rf "$tmp"' EXIT

# start_server ROOT ARGS...: serve on a free port; sets port and srv_pid.
start_server() {
	local root=$1 c
	shift
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"$CGWARDEN" serve --no-bpf --root "$root" --listen "127.0.0.1:$port" "$@" \
		>/dev/null 2>"$tmp/serve.err" &
	srv_pid=$!
	for _ in $(seq 100); do
		c=$(python3 "$cli" get "$port" 127.0.0.1 /healthz 2 | cut -d' ' -f1)
		[ "$c" = 200 ] && return 0
		sleep 0.1
	done
	echo "no /healthz answer: $(cat "$tmp/serve.err")"
	return 1
}

lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# ---- 1. the connection limit, reached and released ----------------------
if start_server tests/fixtures/v2-pure-6.1 --max-connections 4; then
	read -r st1 t1 st2 t2 < <(python3 "$cli" hold "$port" 127.0.0.1 4 1 10)
	[ "$st1" = 200 ] && lt "$t1" 3 &&
		pass "limit4_serves_once_released (${t1}s after the 4 closed)" ||
		fail limit4_serves_once_released "after: $st1 after ${t1}s"
	[ "$st2" = 200 ] && lt "$t2" 3 &&
		pass "limit4_idle_make_room_for_a_request (${t2}s)" ||
		fail limit4_idle_make_room_for_a_request "during: $st2 after ${t2}s"
	read -r st _ t < <(python3 "$cli" get "$port" 127.0.0.1 /metrics 10)
	[ "$st" = 200 ] && pass "limit4_still_serving (${t}s)" || fail limit4_still_serving "$st ${t}s"
else
	fail limit4_server_starts "$(cat "$tmp/serve.err")"
fi
stop_server limit4

if start_server tests/fixtures/v2-pure-6.1; then
	read -r st1 t1 st2 t2 < <(python3 "$cli" hold "$port" \
		127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4 16 1 10)
	[ "$st1" = 200 ] && lt "$t1" 3 &&
		pass "default_limits_serve_once_released (${t1}s after the 64 closed)" ||
		fail default_limits_serve_once_released "after: $st1 after ${t1}s"
	[ "$st2" = 200 ] && lt "$t2" 3 &&
		pass "default_limits_64_idle_make_room (${t2}s)" ||
		fail default_limits_64_idle_make_room "during: $st2 after ${t2}s"
fi
stop_server default_limits

# ---- 2. slowloris -------------------------------------------------------
# Deadline 3 s: every incomplete request is cut within about that (more
# slack for a busy host); the attackers reconnect at once. A good client
# from 127.0.0.1 and one from 127.0.0.5 (an address no attacker uses) each
# ask for /metrics every 2 s.
if start_server tests/fixtures/v2-pure-6.1 --http-request-timeout 3; then
	read -r opened cut maxlife rest < <(python3 "$cli" slowloris "$port" \
		127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4 16 12 127.0.0.1,127.0.0.5 2)
	read -r -a goods <<<"$rest"
	for k in 0 1; do
		good=127.0.0.$((k * 4 + 1))
		ok=${goods[k * 4]:-0} n=${goods[k * 4 + 1]:-0} gmax=${goods[k * 4 + 2]:-99} all=${goods[k * 4 + 3]:-}
		if [ "$n" -ge 3 ] && [ "$ok" = "$n" ] && lt "$gmax" 10; then
			pass "slowloris_64_good_client_${good}_served $ok/$n, slowest ${gmax}s ($all)"
		else
			fail "slowloris_64_good_client_${good}_served" "$ok/$n ok, slowest ${gmax}s ($all)"
		fi
	done
	if [ "$cut" -ge 64 ] && lt "$maxlife" 8; then
		pass "slowloris_64_cut_by_deadline_or_newcomers ($cut of $opened, longest ${maxlife}s)"
	else
		fail slowloris_64_cut_by_deadline_or_newcomers "$cut of $opened cut, longest ${maxlife}s"
	fi
	# All 16 of one address's slots held: that address's good client
	# still gets in.
	read -r opened cut maxlife ok n gmax all < <(python3 "$cli" slowloris "$port" \
		127.0.0.1 16 8 127.0.0.1 2)
	if [ "$n" -ge 2 ] && [ "$ok" = "$n" ] && lt "$gmax" 10; then
		pass "slowloris_16_same_address_good_client_served $ok/$n, slowest ${gmax}s ($all)"
	else
		fail slowloris_16_same_address_good_client_served "$ok/$n ok, slowest ${gmax}s ($all)"
	fi
else
	fail slowloris_server_starts "$(cat "$tmp/serve.err")"
fi
stop_server slowloris

# ---- 3. slow readers of a big body --------------------------------------
# 5,000 cgroups, each a copy (hard links) of the 6.1 fixture's docker scope:
# /metrics is about 18 MB, 45 s at 400 KB/s. Interval 2 s (a tick takes
# about 1 s here): a body is cut when it is more than two snapshots old, 4
# to 6 s after it was rendered.
python3 - "$tmp/tree" 5000 <<'EOF'
import glob, os, sys
src = glob.glob("tests/fixtures/v2-pure-6.1/system.slice/docker-*.scope")[0]
dst, n = sys.argv[1], int(sys.argv[2])
files = [f for f in os.listdir(src) if os.path.isfile(os.path.join(src, f))]
for d in [dst] + [os.path.join(dst, "c%d" % i) for i in range(n)]:
	os.mkdir(d)
	for f in files:
		os.link(os.path.join(src, f), os.path.join(d, f))
EOF
if start_server "$tmp/tree" --interval 2; then
	sleep 3
	python3 "$cli" get "$port" 127.0.0.1 /metrics 30 >/dev/null
	rss0=$(awk '/^VmRSS/ { print $2 }' "/proc/$srv_pid/status")
	# Four readers at 400 KB/s, started 2.2 s apart so each holds a
	# different snapshot's body, reconnecting whenever they are cut, all
	# until 22 s from now.
	pids=
	for i in 0 1 2 3; do
		python3 "$cli" slowread "$port" 127.0.0.$((i + 1)) 400000 \
			$(awk -v i="$i" 'BEGIN { print i * 2.2, 22 - i * 2.2 }') \
			>"$tmp/slow$i.out" &
		pids="$pids $!"
	done
	rss_max=$rss0
	sample() {
		local r
		r=$(awk '/^VmRSS/ { print $2 }' "/proc/$srv_pid/status")
		[ "$r" -gt "$rss_max" ] && rss_max=$r
	}
	for _ in $(seq 16); do
		sleep 0.5
		sample
	done
	# All four are reading now: others must still be served in full.
	good= good_ok=0
	for _ in 1 2 3; do
		read -r st n t < <(python3 "$cli" get "$port" 127.0.0.5 /metrics 30)
		good="$good $st/${n}B/${t}s"
		[ "$st" = 200 ] && [ "$n" -gt 0 ] && good_ok=$((good_ok + 1))
		sample
		sleep 1
	done
	for p in $pids; do
		while kill -0 "$p" 2>/dev/null; do
			sleep 0.5
			sample
		done
	done
	wait $pids
	[ "$good_ok" = 3 ] && pass "slow_readers_others_get_200_in_full:$good" ||
		fail slow_readers_others_get_200_in_full "$good"
	len=0 allcut=1 worst=0
	for i in 0 1 2 3; do
		read -r reqs cut maxs len <"$tmp/slow$i.out"
		[ "$reqs" -ge 1 ] && [ "$cut" -ge 1 ] && [ "$cut" -ge $((reqs - 1)) ] || allcut=0
		lt "$worst" "$maxs" && worst=$maxs
	done
	if [ "$allcut" = 1 ] && lt "$worst" 15; then
		pass "slow_readers_cut (body $len B; longest response before its cut ${worst}s)"
	else
		fail slow_readers_cut "$(cat "$tmp"/slow?.out | tr '\n' ';')"
	fi
	# What they may pin: three snapshots' /metrics, plus one being
	# rendered. 4 slow readers used to pin five.
	held=$(( (rss_max - rss0) * 1024 ))
	if grep -qa __asan_init "$CGWARDEN"; then
		skip slow_readers_memory_bounded "ASan keeps freed memory in quarantine"
	elif [ "$len" -gt 0 ] && [ "$held" -le $((4 * len)) ]; then
		pass "slow_readers_memory_bounded (RSS ${rss0} kB idle, ${rss_max} kB peak: $((held / len)).$((held * 10 / len % 10)) bodies of $len B)"
	else
		fail slow_readers_memory_bounded "RSS ${rss0} kB idle, ${rss_max} kB peak, body $len B"
	fi
else
	fail slow_readers_server_starts "$(cat "$tmp/serve.err")"
fi
stop_server slow_readers

# Ticks that overrun the interval (5,000 cgroups every 0.1 s) leave the
# loop little time to send: a client that reads as fast as it is fed is
# still not cut, however old its body grows meanwhile.
if start_server "$tmp/tree" --interval 0.1; then
	sleep 2
	good= good_ok=0
	for path in /metrics /snapshot /metrics; do
		read -r st n t < <(python3 "$cli" get "$port" 127.0.0.1 "$path" 60)
		good="$good $path:$st/${n}B/${t}s"
		[ "$st" = 200 ] && [ "$n" -gt 0 ] && good_ok=$((good_ok + 1))
	done
	[ "$good_ok" = 3 ] && pass "busy_server_client_that_keeps_up_gets_it_all:$good" ||
		fail busy_server_client_that_keeps_up_gets_it_all "$good"
else
	fail busy_server_starts "$(cat "$tmp/serve.err")"
fi
stop_server busy_server
finish
