#!/usr/bin/env bash
# cgwarden daemon, adaptive memory.high (cgwarden-policy(5), ADAPTIVE
# MEMORY): a rule with {"memory.high": "adaptive"} and "adaptive":
# {"pressure": 0.5, "interval": "1s", "step": 0.05}, brought in by a SIGHUP
# reload once the jobs' unsqueezed rates are measured, so the daemon's own
# ticks weigh on both figures alike. Each job measures its own MiB each
# second (its own clock); a rate is the mean of such seconds.
# Phase 1, two page-cache jobs side by side, each reading the guest's
# virtio disk through the block device's page cache (charged to the
# reader's cgroup as a file's pages are; caches dropped first; the guest
# kernel has ext4 only as a module, and no filesystem is needed for a page
# cache), each in its own 192 MiB of it:
#  - cold: reads its 192 MiB once, then rereads 24 MiB of it in a loop.
#    Squeezed for a minute, its memory.current ends at no more than 2x
#    the hot set (48 MiB), and its rereads over the last 15 s keep at least
#    80 % of their rate over the 8 s before the squeeze.
#  - needy: rereads all of its 192 MiB in a loop. The controller backs off:
#    memory.high is below the working set (192 MiB) for at most 5 seconds
#    in a row, no OOM kill, and its rate over the minute is at least 80 %
#    of the unsqueezed one.
#  - spare: 48 MiB read once by a process gone since. Nothing stalls there,
#    so its limit stays down for the restore below, when the others' may
#    be lifted just then.
#  Then a SIGHUP reload without the rule, during the squeeze: every
#  memory.high is back to max within one interval and a tick. Records: one
#  start per cgroup, adjustments unrecorded, an end each at the restore.
# Phase 2, alone: its swap traffic costs host CPU under TCG (the virtio
# disk is emulated) that the page-cache jobs would lose. Side by side the
# cold job kept 87 % once, too close to the mark; alone each keeps 90-115 %.
#  - anon: a 192 MiB heap touched once, then 24 MiB of it written again and
#    again, with swap (the guest's second disk, /dev/vdb, mkswap'd; swapoff
#    after). Squeezed for a minute, the cold heap goes to swap:
#    memory.current at most 2x the hot set, at least 100 MiB in
#    memory.swap.current, and the hot writes over the last 15 s keep at
#    least 80 % of their unsqueezed rate. Without a swap disk: SKIP, why.
set -euo pipefail
. tests/vm/lib.sh
T=vm.adaptive-memory
log=$CASE_TMP/actions.ndjson
policy=$CASE_TMP/policy.json
ws=$((192 << 20)) hot=$((24 << 20))
cold=$CGROOT/vmtest-adapt1-cold needy=$CGROOT/vmtest-adapt1-needy anon=$CGROOT/vmtest-adapt2-anon
spare=$CGROOT/vmtest-adapt1-spare

if ! cgw_ready "$T"; then
	finish
fi
if [[ ! -b /dev/vda ]] || (($(</sys/block/vda/size) < 496 * 2048)); then
	skip "$T" "no virtio disk of 496 MiB in the guest for three page caches to squeeze"
	finish
fi
if [[ ! -e $CGROOT/memory.pressure ]]; then
	skip "$T" "no PSI in this kernel (memory.pressure): the controller cannot measure"
	finish
fi

# squeeze GLOB: the rule for the cgroups GLOB names, in by a reload (no
# GLOB: no rule); its time in SQUEEZE_T0.
squeeze() {
	if [[ -n ${1:-} ]]; then
		cat >"$policy" <<JSON
{"rules": [{"name": "squeeze", "match": {"path": "$1"},
  "when": {"metric": "memory.current_bytes", "op": ">", "value": "1M"},
  "then": [{"memory.high": "adaptive"}],
  "adaptive": {"pressure": 0.5, "interval": "1s", "step": 0.05}}]}
JSON
	else
		echo '{"rules": []}' >"$policy"
	fi
	SQUEEZE_T0=$(now_usec)
	kill -HUP "$DAEMON"
}
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
# lines FILE: how many seconds it has measured (0 before its first, or
# before the file is there: grep -c says 0 then, or nothing).
lines() {
	local n
	n=$(grep -c '^[0-9]' "$1" 2>/dev/null) || true
	echo "${n:-0}"
}
# seconds FILE FROM: its MiB of each second from FROM on, on one line (a
# failure's first clue: one slow second, or all of them).
seconds() { awk -v a="$2" '/^[0-9]/ && $1 >= a { printf " %d", $2 }' "$1"; }
# in_loops FILE...: wait until every job is in its loop, then 9 s more, so
# that the unsqueezed rates (last_rate FILE 8) are all over the same
# seconds: jobs share two CPUs, and one measured while another still
# reads its cold part would seem faster than it is.
in_loops() {
	local i r ready
	for ((i = 0; i < 1800; i++)); do
		ready=1
		for r in "$@"; do
			(($(lines "$r") >= 2)) || ready=0
		done
		((ready)) && break
		nap 0.1
	done
	nap 9
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", 100 * a / b }'; }
# kept FIGURE BASE: FIGURE is at least 80 % of BASE.
kept() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(b > 0 && a >= 0.8 * b) }'; }

echo 3 >/proc/sys/vm/drop_caches
echo '{"rules": []}' >"$policy"
if ! cgw_daemon "$log" "$CASE_TMP/state.json" "$policy"; then
	fail "$T" "the daemon did not start: $(head -c 300 "$log.err")"
	finish
fi

# ---- phase 1: cold and needy page caches ----
vm_cg vmtest-adapt1-cold
vm_cg vmtest-adapt1-needy
vm_cg vmtest-adapt1-spare
for cg in "$cold" "$needy" "$spare"; do
	[[ -f $cg/memory.swap.max ]] && echo 0 >"$cg/memory.swap.max"
done
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
# spare: 48 MiB read once by a process gone since; nothing stalls there,
# so the controller keeps its limit down for the restore below (the cold
# job's may be lifted and held at max just then).
vm_run "$spare" python3 -S -E -c '
import os
fd = os.open("/dev/vda", os.O_RDONLY)
for o in range(448 << 20, 496 << 20, 1 << 20):
    os.pread(fd, 1 << 20, o)'
in_loops "$CASE_TMP/cold.rates" "$CASE_TMP/needy.rates"
cold0=$(last_rate "$CASE_TMP/cold.rates" 8) needy0=$(last_rate "$CASE_TMP/needy.rates" 8)
cur0=$(<"$cold/memory.current") ncur0=$(<"$needy/memory.current")
cold_from=$(lines "$CASE_TMP/cold.rates") needy_from=$(lines "$CASE_TMP/needy.rates")
echo "# unsqueezed: cold $((cur0 >> 20)) MiB, rereads ${cold0:-?} MiB/s; needy $((ncur0 >> 20)) MiB, rereads ${needy0:-?} MiB/s"
if [[ -z $cold0 || -z $needy0 ]] || ((cur0 < 150 << 20 || ncur0 < 150 << 20)); then
	fail "$T" "the jobs did not get going: memory.current $cur0 / $ncur0, rates: $(head -c 200 "$CASE_TMP/cold.rates") / $(head -c 200 "$CASE_TMP/needy.rates")"
	finish
fi

squeeze 'vmtest-adapt1-*'
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
	echo "# $i s: cold $(($(<"$cold/memory.current") >> 20)) MiB high $(<"$cold/memory.high"); needy $(($(<"$needy/memory.current") >> 20)) MiB high $h; needy memory.pressure $(head -n 1 "$needy/memory.pressure")"
done
cur=$(<"$cold/memory.current")
echo "# each second from 8 before the squeeze, cold:$(seconds "$CASE_TMP/cold.rates" $((cold_from - 8)))"
echo "# needy:$(seconds "$CASE_TMP/needy.rates" $((needy_from - 8)))"
cold1=$(last_rate "$CASE_TMP/cold.rates" 15 "$cold_from")
needy1=$(rate "$CASE_TMP/needy.rates" "$needy_from" 999999)
echo "# squeezed: cold $((cur >> 20)) MiB (hot set 24, at most 48), rereads ${cold1:-?} MiB/s ($(pct "${cold1:-0}" "$cold0") % of $cold0)"
echo "# needy: memory.high below its 192 MiB for $below of 60 s (longest $longest s in a row), rereads ${needy1:-?} MiB/s over the minute ($(pct "${needy1:-0}" "$needy0") % of $needy0), oom_kill $(key "$needy/memory.events" oom_kill)"
if ((cur <= 2 * hot)) && kept "${cold1:-0}" "$cold0"; then
	pass "$T.cold.squeezed ($((cur >> 20)) MiB from $((cur0 >> 20)), rereads at $(pct "${cold1:-0}" "$cold0") % of their rate)"
else
	fail "$T.cold.squeezed" "memory.current $((cur >> 20)) MiB after a minute (want <= 48), memory.high $(<"$cold/memory.high"); rereads ${cold1:-?} MiB/s, $(pct "${cold1:-0}" "$cold0") % of $cold0 (want >= 80)"
fi
if ((longest <= 5)) && kept "${needy1:-0}" "$needy0"; then
	pass "$T.needy.backs-off (below its working set $below s of 60, at most $longest s in a row; rereads at $(pct "${needy1:-0}" "$needy0") % of their rate)"
else
	fail "$T.needy.backs-off" "memory.high below 192 MiB for $longest s in a row (want <= 5), $below s of 60; rereads ${needy1:-?} MiB/s, $(pct "${needy1:-0}" "$needy0") % of $needy0 (want >= 80)"
fi
if [[ $(key "$needy/memory.events" oom_kill) == 0 && $(key "$cold/memory.events" oom_kill) == 0 ]]; then
	pass "$T.no-oom"
else
	fail "$T.no-oom" "oom_kill: cold $(key "$cold/memory.events" oom_kill), needy $(key "$needy/memory.events" oom_kill)"
fi
starts=$(grep -c '"phase":"start"' "$log" || true)
adjusts=$(grep -c '"phase":"adjust"' "$log" || true)
# Nor audited one by one: the cold job's memory.high writes on record are
# its start (the end comes later); a minute of adjustments adds none.
audits=$(grep -c '"type":"audit".*"target":"vmtest-adapt1-cold".*"file":"memory.high"' "$log" || true)
if ((starts == 3 && adjusts == 0 && audits == 1)); then
	pass "$T.records (a start per cgroup; adjustments neither recorded nor audited)"
else
	fail "$T.records" "$starts start records (want 3: cold, needy, spare), $adjusts adjustment records (want 0), $audits memory.high audit lines for the cold job (want 1: its start)"
fi

# Restore: the rule gone by a reload, every memory.high of phase 1 is max
# again within one interval (1 s) and a tick (0.5 s); give TCG 3 s. The
# spare cgroup's limit is down then (nothing there stalls, so nothing
# lifts it), where the others' may be lifted already.
squeezing=$(<"$spare/memory.high")
squeeze
for ((i = 0; i < 30; i++)); do
	[[ $(<"$spare/memory.high") == max && $(<"$cold/memory.high") == max &&
		$(<"$needy/memory.high") == max ]] && break
	nap 0.1
done
ms=$((($(now_usec) - SQUEEZE_T0) / 1000))
high="$(<"$spare/memory.high") $(<"$cold/memory.high") $(<"$needy/memory.high")"
ends=$(grep -c '"phase":"end"' "$log" || true)
if [[ $squeezing != max && $high == "max max max" ]] && ((ends == 3)); then
	pass "$T.restore (the spare's memory.high $((squeezing >> 20)) MiB -> max, and the others', $ms ms after SIGHUP; an end record each)"
else
	fail "$T.restore" "the spare's memory.high $squeezing before the reload (want a limit); spare, cold, needy $high 3 s after (want max); $ends end records (want 3)"
fi
# Phase 1's jobs give the CPUs to phase 2, and their caches the memory.
for cg in "$cold" "$needy"; do
	echo 1 >"$cg/cgroup.kill"
done
echo 3 >/proc/sys/vm/drop_caches

# ---- phase 2: anon memory and swap ----
swap=
if [[ -b /dev/vdb ]] && mkswap /dev/vdb >/dev/null 2>"$CASE_TMP/swap.err" &&
	swapon /dev/vdb 2>>"$CASE_TMP/swap.err"; then
	swap=/dev/vdb
	# After the cgroups are gone: their swapped pages are freed, not read back.
	trap '_vm_cleanup; swapoff /dev/vdb 2>/dev/null || true' EXIT
fi
if [[ -z $swap ]]; then
	skip "$T.anon" "no swap in the guest: $(head -c 200 "$CASE_TMP/swap.err" 2>/dev/null) (no /dev/vdb?)"
else
	vm_cg vmtest-adapt2-anon
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
	in_loops "$CASE_TMP/anon.rates"
	anon0=$(last_rate "$CASE_TMP/anon.rates" 8) acur0=$(<"$anon/memory.current")
	anon_from=$(lines "$CASE_TMP/anon.rates")
	echo "# unsqueezed: anon $((acur0 >> 20)) MiB, hot writes ${anon0:-?} MiB/s"
	squeeze 'vmtest-adapt2-*'
	for ((i = 1; i <= 60; i++)); do
		nap 1
		((i % 10)) && continue
		echo "# $i s: anon $(($(<"$anon/memory.current") >> 20)) MiB high $(<"$anon/memory.high") swap $(($(<"$anon/memory.swap.current") >> 20)) MiB; memory.pressure $(head -n 1 "$anon/memory.pressure")"
	done
	acur=$(<"$anon/memory.current") aswap=$(<"$anon/memory.swap.current")
	echo "# each second from 8 before the squeeze, anon:$(seconds "$CASE_TMP/anon.rates" $((anon_from - 8)))"
	anon1=$(last_rate "$CASE_TMP/anon.rates" 15 "$anon_from")
	echo "# anon: $((acur >> 20)) MiB in memory, $((aswap >> 20)) MiB in swap, hot writes ${anon1:-?} MiB/s ($(pct "${anon1:-0}" "${anon0:-1}") % of ${anon0:-?})"
	if ((acur <= 2 * hot && aswap >= 100 << 20)) && kept "${anon1:-0}" "${anon0:-0}"; then
		pass "$T.anon ($((acur >> 20)) MiB from $((acur0 >> 20)), $((aswap >> 20)) MiB swapped; hot writes at $(pct "${anon1:-0}" "${anon0:-1}") % of their rate)"
	else
		fail "$T.anon" "memory.current $((acur >> 20)) MiB (want <= 48), swap $((aswap >> 20)) MiB (want >= 100); hot writes ${anon1:-?} MiB/s, $(pct "${anon1:-0}" "${anon0:-1}") % of ${anon0:-?} (want >= 80)"
	fi
fi
cgw_daemon_stop
# The stream: an adaptive line a tick while control runs, and every line
# valid: the adaptive lines and the policy actions (with their adaptive
# objects) each, and 20 of the ~300 ticks (all of them took jsonschema
# about 20 s under TCG, and their shape is the collector's, not this
# case's).
lines_adaptive=$(grep -c '"type":"adaptive".*"target":"vmtest-adapt1-cold"' "$log.out" || true)
if ((lines_adaptive >= 30)) && python3 tests/schema_validate.py --ndjson --ticks 20 "$log.out" "$log" >"$CASE_TMP/schema.out" 2>&1; then
	pass "$T.stream ($lines_adaptive adaptive lines naming the cold job; stream and log valid)"
else
	fail "$T.stream" "$lines_adaptive adaptive lines naming the cold job (want >= 30); schema: $(head -c 300 "$CASE_TMP/schema.out")"
fi
if ((RC == 0)); then
	pass "$T.exit"
else
	fail "$T.exit" "daemon exit status $RC; stderr: $(head -c 300 "$log.err")"
fi
finish
