#!/usr/bin/env bash
# cgwarden set --pids 5, then a fork loop in the cgroup: exit 0, pids.max
# reads 5, pids.current never exceeds 5 (sampled every ~20 ms while the loop
# runs), forks beyond the limit fail and pids.events max grows.
# Exact checks: the limit is a hard one.
set -euo pipefail
. tests/vm/lib.sh
T=vm.set-pids
name=vmtest-setpids
cg=$CGROOT/$name
limit=5

if ! cgw_ready "$T"; then
	finish
fi
vm_cg "$name"

out=$CASE_TMP/set
rc=0
"$CGWARDEN" set "$name" --pids "$limit" --root "$CGROOT" >"$out" 2>"$out.err" || rc=$?
now=$(<"$cg/pids.max")
line=$(<"$out")
echo "# set --pids $limit: status $rc, pids.max now $now; output: $line"
want_line="$name: pids.max: max -> $limit (read back: $limit)"
if ((rc == 0)) && [[ $now == "$limit" && $line == "$want_line" ]]; then
	pass "$T.limit"
else
	fail "$T.limit" "status $rc (want 0), pids.max '$now' (want $limit), output '$line' (want '$want_line'), stderr: $(head -c 200 "$out.err")"
fi

# Sampler: the highest pids.current seen until told to stop (no forks).
stop=$CASE_TMP/stop
peakf=$CASE_TMP/peak
(
	peak=0 n=0
	while [[ ! -e $stop ]]; do
		read -r v <"$cg/pids.current"
		((v > peak)) && peak=$v
		n=$((n + 1))
		nap 0.02
	done
	echo "$peak $n" >"$peakf"
) &
sampler=$!

ready=$CASE_TMP/ready
vm_spawn "$cg" python3 -S -E - "$ready" <<'PY'
import os, sys, time
ok = failed = 0
for _ in range(15):
    try:
        pid = os.fork()
    except OSError:  # EAGAIN from the pids controller
        failed += 1
        time.sleep(0.02)
        continue
    if pid == 0:
        time.sleep(600)
        os._exit(0)
    ok += 1
    time.sleep(0.02)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(f"{ok} {failed}\n")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)
PY
if ! wait_file "$ready" 900; then
	touch "$stop"
	fail "$T.kernel" "fork loop did not finish within 90 s"
	finish
fi
touch "$stop"
wait "$sampler"
read -r peak samples <"$peakf"
read -r ok failed <"$ready"
cur=$(<"$cg/pids.current")
ev=$(key "$cg/pids.events" max)
echo "# kernel: pids.current $cur, peak $peak in $samples samples, pids.events max $ev; forks ok $ok, failed $failed"
if ((peak <= limit && cur == ok + 1 && cur <= limit && failed > 0 && ev > 0)); then
	pass "$T.kernel"
else
	fail "$T.kernel" "peak $peak, current $cur (want <= $limit and = forks + 1 = $((ok + 1))), failed forks $failed, pids.events max $ev (want > 0)"
fi
finish
