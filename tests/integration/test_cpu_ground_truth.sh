#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Ground truth for CPU: a process spinning on one CPU must read as a usage
# ratio of 0.9-1.1 (or, on a busy machine, the share /proc says it got),
# an idle one as < 0.02; procs counts what we moved in;
# the id is the directory's inode. Real cgroups under the host's cgroup2.
. "$(dirname "$0")/../lib.sh"
if ! cg_setup; then skip cpu_ground_truth "$SKIP_WHY"; finish; fi

mkdir "$CG_TEST/busy" "$CG_TEST/idle"
loop_pid=$(cg_spawn "$CG_TEST/busy" sh -c 'while :; do :; done')
cg_spawn "$CG_TEST/idle" sleep 300 >/dev/null
cg_spawn "$CG_TEST/idle" sleep 300 >/dev/null
sleep 0.5
# The loop's own CPU time (utime + stime, /proc/PID/stat fields 14-15, in
# clock ticks), read as soon as each tick line lands: on a busy machine the
# loop gets less than a whole CPU, and then this is the share to match.
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$loop_pid/stat"; }
now_s() { awk '{ print $1 }' /proc/uptime; }
out=$(mktemp)
"$CGWARDEN" stream --interval 1 --count 3 >"$out" 2>/dev/null &
spid=$!
samples=()
for want in 2 3; do
	for _ in $(seq 1000); do
		[ "$(grep -c '"type":"tick"' "$out")" -ge "$want" ] && break
		sleep 0.01
	done
	samples+=("$(cpu_ticks) $(now_s)")
done
wait "$spid"
share=$(awk -v a="${samples[0]}" -v b="${samples[1]}" -v hz="$hz" 'BEGIN {
	split(a, x, " "); split(b, y, " "); print (y[1] - x[1]) / hz / (y[2] - x[2]) }')
tick=$(last_tick "$out")
busy=$(jq -r --arg p "$CG_REL/busy" '.cgroups[] | select(.path==$p) | .cpu.usage_ratio' <<<"$tick")
idle=$(jq -r --arg p "$CG_REL/idle" '.cgroups[] | select(.path==$p) | .cpu.usage_ratio' <<<"$tick")
# A whole CPU (0.9-1.1) on a quiet machine; else within 0.05 of the share
# the loop itself was given over the same second.
if awk -v r="$busy" -v g="$share" 'BEGIN { d = r - g; if (d < 0) d = -d
	exit !((r >= 0.9 && r <= 1.1) || (r > 0 && d <= 0.05)) }'; then
	pass "busy_loop_reads_one_cpu (ratio $busy; the loop's own share $share)"
else
	fail busy_loop_reads_one_cpu "usage_ratio '$busy', expected 0.9-1.1 or the loop's own share $share +- 0.05"
fi
if awk -v r="$idle" 'BEGIN { exit !(r >= 0 && r < 0.02) }'; then
	pass "idle_reads_near_zero (ratio $idle)"
else
	fail idle_reads_near_zero "usage_ratio '$idle', expected < 0.02"
fi
# usage_usec must agree with the kernel's own cpu.stat read right after.
ours=$(jq -r --arg p "$CG_REL/busy" '.cgroups[] | select(.path==$p) | .cpu.usage_usec' <<<"$tick")
kernel=$(awk '$1 == "usage_usec" { print $2 }' "$CG_TEST/busy/cpu.stat")
if [ -n "$ours" ] && [ "$ours" -le "$kernel" ] && [ $((kernel - ours)) -lt 3000000 ]; then
	pass "usage_usec_matches_cpu_stat ($ours <= $kernel)"
else
	fail usage_usec_matches_cpu_stat "ours '$ours', kernel $kernel"
fi
procs=$(jq -r --arg p "$CG_REL/idle" '.cgroups[] | select(.path==$p) | .procs' <<<"$tick")
[ "$procs" = 2 ] && pass idle_procs_count_is_2 || fail idle_procs_count_is_2 "procs '$procs'"
id=$(jq -r --arg p "$CG_REL/busy" '.cgroups[] | select(.path==$p) | .id' <<<"$tick")
ino=$(stat -c %i "$CG_TEST/busy")
[ "$id" = "$ino" ] && pass "id_is_directory_inode ($id)" || fail id_is_directory_inode "id '$id', inode $ino"
populated=$(jq -r --arg p "$CG_REL/busy" '.cgroups[] | select(.path==$p) | .populated' <<<"$tick")
[ "$populated" = true ] && pass populated_from_cgroup_events || fail populated_from_cgroup_events "'$populated'"
rm -f "$out"
finish
