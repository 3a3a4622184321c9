#!/usr/bin/env bash
# cgwarden daemon, adaptive memory.high (cgwarden-policy(5)), "cold cache":
# a job reads 192 MiB of the guest's virtio disk once (buffered, through
# the block device's page cache, which is charged to the reader's cgroup as
# a file's would be; caches dropped first; the guest kernel has ext4 only
# as a module, and no filesystem is needed for a page cache), then rereads
# a 24 MiB part of it in a loop. Unsqueezed, its page cache stays at ~216 MiB
# (the whole file plus what it had). A rule with {"memory.high":
# "adaptive"} and "adaptive": {"pressure": 0.5, "interval": "1s", "step":
# 0.05} squeezes it: memory.current ends at no more than 2x the hot set
# (48 MiB) within a minute, and the rereads keep at least 80 % of the rate
# they had before the squeeze (the job measures its own MiB/s every
# second). Then a SIGHUP reload without the rule: memory.high is back to
# max within one interval (+ one tick). The records: one start, one end,
# adjustments unrecorded.
set -euo pipefail
. tests/vm/lib.sh
T=vm.adaptive-cold-cache
name=vmtest-adapt-cold
cg=$CGROOT/$name
log=$CASE_TMP/actions.ndjson
policy=$CASE_TMP/policy.json
rates=$CASE_TMP/rates
hot=$((24 << 20))

if ! cgw_ready "$T"; then
	finish
fi
if [[ ! -b /dev/vda ]] || (($(</sys/block/vda/size) < 192 * 2048)); then
	skip "$T" "no virtio disk of 192 MiB in the guest for a page cache to squeeze"
	finish
fi
if [[ ! -e $CGROOT/memory.pressure ]]; then
	skip "$T" "no PSI in this kernel (memory.pressure): the controller cannot measure"
	finish
fi
echo 3 >/proc/sys/vm/drop_caches
vm_cg "$name"
[[ -f $cg/memory.swap.max ]] && echo 0 >"$cg/memory.swap.max"

# The job: the whole file once, then the first 24 MiB again and again;
# each second a line "SECONDS MIB_READ_IN_IT" (its own clock, so the rate
# does not depend on anyone else's timing).
vm_spawn "$cg" python3 -S -E -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
out = open(sys.argv[2], "w", buffering=1)
chunk = 1 << 20
off = 0
while off < (192 << 20) and os.pread(fd, chunk, off):
    off += chunk
out.write("cold %d\n" % off)
t0 = time.monotonic()
sec, got = 0, 0
while True:
    for o in range(0, 24 << 20, chunk):
        got += len(os.pread(fd, chunk, o))
        now = int(time.monotonic() - t0)
        if now > sec:
            out.write("%d %.1f\n" % (sec, got / 1048576.0))
            sec, got = now, 0' /dev/vda "$rates"
# The unsqueezed rate: rereads' seconds 2-9 (the first may still fault).
for ((i = 0; i < 1200; i++)); do
	[[ $(grep -c '^[0-9]' "$rates" 2>/dev/null) -ge 10 ]] && break
	nap 0.1
done
before=$(awk '/^[0-9]/ && $1 >= 2 && $1 <= 9 { s += $2; n++ } END { if (n) printf "%.1f", s / n }' "$rates")
cur0=$(<"$cg/memory.current")
last_sec=$(awk '/^[0-9]/ { s = $1 } END { print s }' "$rates")
echo "# unsqueezed: memory.current $((cur0 >> 20)) MiB, rereads ${before:-?} MiB/s"
if [[ -z $before ]] || ((cur0 < 150 << 20)); then
	fail "$T" "the job did not get going: memory.current $cur0, rates: $(head -c 300 "$rates")"
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
# A minute of squeezing; its figures each 10 s for the log.
for ((i = 0; i < 6; i++)); do
	nap 10
	echo "# $(((i + 1) * 10)) s: memory.current $(($(<"$cg/memory.current") >> 20)) MiB, memory.high $(<"$cg/memory.high"), memory.pressure $(head -n 1 "$cg/memory.pressure")"
done
cur=$(<"$cg/memory.current")
high=$(<"$cg/memory.high")
# The squeezed rate: the rereads' last 15 seconds.
after=$(awk -v from="$last_sec" '/^[0-9]/ && $1 > from { a[n++] = $2 }
	END { s = 0; k = 0; for (i = n - 15; i < n; i++) if (i >= 0) { s += a[i]; k++ }
	      if (k) printf "%.1f", s / k }' "$rates")
echo "# squeezed: memory.current $((cur >> 20)) MiB (hot set 24 MiB, at most 48), memory.high $high; rereads ${after:-?} MiB/s against ${before} unsqueezed"
if ((cur <= 2 * hot)); then
	pass "$T.squeezed ($((cur >> 20)) MiB, from $((cur0 >> 20)) MiB)"
else
	fail "$T.squeezed" "memory.current $((cur >> 20)) MiB after a minute (want <= 48), memory.high $high; records: $(tail -c 400 "$log")"
fi
if [[ -n $after ]] && awk -v a="$after" -v b="$before" 'BEGIN { exit !(a >= 0.8 * b) }'; then
	pass "$T.rate (${after} MiB/s, $(awk -v a="$after" -v b="$before" 'BEGIN { printf "%.0f", 100 * a / b }') % of ${before})"
else
	fail "$T.rate" "rereads ${after:-none} MiB/s squeezed against ${before} unsqueezed (want >= 80 %)"
fi
starts=$(grep -c '"phase":"start"' "$log" || true)
adjusts=$(grep -c '"phase":"adjust"' "$log" || true)
if ((starts == 1 && adjusts == 0)); then
	pass "$T.records (1 start, adjustments not recorded)"
else
	fail "$T.records" "$starts start records (want 1), $adjusts adjustment records (want 0)"
fi

# Restore: the rule gone by a reload, memory.high is max again within one
# interval (1 s) and a tick (0.5 s); give TCG 3 s. Only meaningful while
# it squeezes: if the controller has just lifted the limit (the rereads
# stalled above 4x the target), wait for it to come down again.
for ((i = 0; i < 100; i++)); do
	[[ $(<"$cg/memory.high") != max ]] && break
	nap 0.1
done
squeezing=$(<"$cg/memory.high")
echo '{"rules": []}' >"$policy"
t0=$(now_usec)
kill -HUP "$DAEMON"
for ((i = 0; i < 30; i++)); do
	[[ $(<"$cg/memory.high") == max ]] && break
	nap 0.1
done
high=$(<"$cg/memory.high")
if [[ $squeezing != max && $high == max ]] && wait_record "$log" '"phase":"end"' 20; then
	pass "$T.restore (memory.high $((squeezing >> 20)) MiB -> max $((($(now_usec) - t0) / 1000)) ms after SIGHUP)"
else
	fail "$T.restore" "memory.high $squeezing before the reload (want a limit), $high 3 s after (want max); end record: ${REC:-none}"
fi
cgw_daemon_stop
((RC == 0)) && pass "$T.exit" || fail "$T.exit" "daemon exit status $RC; stderr: $(head -c 300 "$log.err")"
finish
