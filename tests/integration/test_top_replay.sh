#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# cgwarden top --replay in a real terminal (tmux, as test_top.sh): a
# recording of our own subtree (a busy loop, and a cgroup removed midway)
# made by cgwarden record, then the dashboard on it: the header shows the
# recorded time and tick, , and . step one tick, n and p jump to the
# removal and say so, the action keys are refused, --at shows the tick it
# names, the first tick has no rates, space plays to the end, and a bad
# --at is a usage error.
. "$(dirname "$0")/../lib.sh"
[ -x "$CGWARDEN" ] || { fail top_replay "$CGWARDEN not built"; finish; }
command -v tmux >/dev/null || { skip top_replay "no tmux (bash scripts/deps.sh --test)"; finish; }

SOCK=cgwarden-top-replay-$$
WAIT=${TOP_WAIT:-15}	# seconds a screen may take to show what we expect
. "$(dirname "$0")/../tmux.sh"
tmp=$(mktemp -d)
rec_pid=

stop_recorder() {
	[ -n "$rec_pid" ] || return 0
	kill -INT "$rec_pid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$rec_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$rec_pid" 2>/dev/null
	wait "$rec_pid" 2>/dev/null
	rec_pid=
}
stop() {
	kill_server
	stop_recorder
	rm -rf "$tmp"
}
trap 'stop' EXIT

# check NAME COMMAND...: pass, or fail with the screen as it is.
check() {
	local name=$1
	shift
	if "$@"; then
		pass "$name"
	else
		fail "$name" "screen was:"
		screen | sed 's/^/    | /'
	fi
}
# The header's replay words: "REPLAY <time> (tick <n>, ...)".
HDR='^cgwarden top  REPLAY ([0-9-]+T[0-9:.]+Z) \(tick ([0-9]+), '
header() { screen | sed -En "1s/$HDR.*/\\1 \\2/p"; }
tick() { header | cut -d' ' -f2; }
when() { header | cut -d' ' -f1; }
# wait_tick N: until the header shows tick N.
wait_tick() { wait_for "$HDR" && wait_for "^cgwarden top  REPLAY [^ ]+ \\(tick $1, "; }

# ---- the command line (no recording needed) ---------------------------------
err=$("$CGWARDEN" top --replay "$tmp/none" --at bogus </dev/null 2>&1 >/dev/null)
rc=$?
[ "$rc" = 2 ] && grep -q -- "--at: 'bogus' is not a time: use .*RFC 3339.*unix seconds.*-DURATION" \
	<<<"$err" && pass bad_at_is_usage || fail bad_at_is_usage "exit $rc: $err"
err=$("$CGWARDEN" top --at -5m </dev/null 2>&1 >/dev/null)
rc=$?
[ "$rc" = 2 ] && grep -q -- "--at needs --replay" <<<"$err" && pass at_needs_replay ||
	fail at_needs_replay "exit $rc: $err"
"$CGWARDEN" top --help | grep -q -- '--replay DIR' && pass help_replay || fail help_replay

# ---- a recording of our own subtree -----------------------------------------
if ! cg_setup; then
	skip top_replay_real "$SKIP_WHY"
	finish
fi
# cg_setup set its own EXIT trap; ours must run too.
trap 'stop; cg_cleanup' EXIT
mkdir "$CG_TEST/busy" "$CG_TEST/gone"
cg_spawn "$CG_TEST/busy" sh -c 'while :; do :; done' >/dev/null
t0=$(date +%s)
"$CGWARDEN" record --output "$tmp/rec" --interval 0.5 --root "$CG_TEST" --no-bpf --quiet \
	>"$tmp/rec.out" 2>"$tmp/rec.err" &
rec_pid=$!
sleep 3
rmdir "$CG_TEST/gone"
sleep 3
stop_recorder
t1=$(date +%s)
if [ -s "$tmp/rec.err" ] || ! [ -d "$tmp/rec" ]; then
	fail record_ran "$(head -5 "$tmp/rec.err")"
	finish
fi
pass record_ran

# At the end of the recording by default: the recorded time, marked.
start --replay "$tmp/rec" --tree
check header_replay_end wait_for "${HDR}the end\\)"
end_tick=$(tick)
end_when=$(when)
[ -n "$end_tick" ] && [ "$end_tick" -ge 8 ] && pass recorded_ticks ||
	fail recorded_ticks "end tick '$end_tick' (0.5 s over 6 s: about 12)"
# The recorded time is the recording's (not now's clock, not garbage).
rec_end=$(date -u -d "$end_when" +%s 2>/dev/null)
[ -n "$rec_end" ] && [ "$rec_end" -ge "$t0" ] && [ "$rec_end" -le "$t1" ] &&
	pass header_time_is_recorded || fail header_time_is_recorded "'$end_when' not in [$t0, $t1]"
check busy_row wait_for '^ +busy +cgrp +[0-9]'

# One tick back, one forward.
keys ,
check step_back wait_tick $((end_tick - 1))
check step_back_from_end wait_for "${HDR}-[0-9.]+s from end\\)"
keys ,
check step_back_twice wait_tick $((end_tick - 2))
mid_when=$(when)
mid_tick=$(tick)
keys .
check step_forward wait_tick $((end_tick - 1))
keys .
check step_forward_to_end wait_for "${HDR}the end\\)"
keys .
check end_says_so wait_for 'the end of the recording'

# The previous event from the end is the removal.
keys p
check event_prev_removal wait_for '^removed: gone'
ev_tick=$(tick)
[ -n "$ev_tick" ] && [ "$ev_tick" -lt "$end_tick" ] && [ "$ev_tick" -gt 1 ] &&
	pass event_tick_midway || fail event_tick_midway "tick '$ev_tick' of $end_tick"
# Gone from the table at that tick.
check removal_not_in_table sh -c "! tmux -L '$SOCK' capture-pane -p -t top | grep -Eq '^ +gone +cgrp '"

# The action keys change nothing in a recording.
for k in c m f K; do
	keys "$k"
	check "refused_$k" wait_for '^replay: limits cannot be changed in a recording'
	keys Escape
done
[ "$(cat "$CG_TEST/busy/cgroup.freeze" 2>/dev/null)" != 1 ] && pass nothing_frozen ||
	fail nothing_frozen "cgroup.freeze is 1"

# The help lists the replay keys.
keys '?'
check help_replay_keys wait_for 'p n +previous / next event'
keys Escape
keys q
check quit_exits_0 wait_for '^EXITED 0'

# --at the RFC 3339 time of a middle tick shows that tick.
start --replay "$tmp/rec" --tree --at "$mid_when"
check at_middle_tick wait_for "^cgwarden top  REPLAY $mid_when \\(tick $mid_tick, "
# 'g' takes the same forms: -DURATION from the end.
keys g - 1 s Enter
check goto_minus_1s wait_for "${HDR}-1(\\.[0-9])?s from end\\)"
keys q
check quit_again wait_for '^EXITED 0'

# From the start: no rates at the first tick (as live), then n finds the
# removal.
start --replay "$tmp/rec" --tree --at 0
check first_tick wait_for "$HDR"
check first_tick_no_rates wait_for '^ +busy +cgrp +- '
check first_tick_has_gone wait_for '^ +gone +cgrp '
keys .
check second_tick_has_rates wait_for '^ +busy +cgrp +[0-9]+\.[0-9] '
keys n
check event_next_removal wait_for '^removed: gone'
[ "$(tick)" = "$ev_tick" ] && pass event_next_same_tick ||
	fail event_next_same_tick "tick $(tick), p found $ev_tick"
keys n
check no_later_event wait_for '^no later OOM kill, cgroup removal or policy action'
# Play from there, twice the recorded pace: it runs to the end and pauses.
keys + space
check playing wait_for "${HDR}.*playing 2x"
check played_to_end wait_for '^the end of the recording: paused'
check played_header_end wait_for "${HDR}the end\\)  paused"
keys q
check quit_third wait_for '^EXITED 0'
finish
