#!/usr/bin/env bash
# The flight recorder's bytes on disk where the issue's target is defined:
# a 1,000-cgroup tree with every controller (vmtest-rec: 10 pods x 100
# containers, +cpu +memory +io +pids in subtree_control down to the
# leaves), a busy loop held at 10% of a CPU by cpu.max in 3 leaves (CPU,
# throttling and PSI move), recorded by `cgwarden record --root` the tree
# for 12 ticks at 1 s with --flush 2s (two ticks a chunk, as the defaults:
# 10 s at 5 s) and eBPF as it comes. The figure: the store's files
# (segments, indexes, lock) over the cgroup-samples `stream --replay`
# gives back. PASS at most 6 bytes per cgroup-sample (the target; printed
# either way), and `snapshot --replay --at -5s` holds as many cgroups as a
# live snapshot of the tree (exact: the tree does not change).
set -euo pipefail
. tests/vm/lib.sh
T=vm.record-size
ticks=12
cg=$CGROOT/vmtest-rec

# The tree. vm_cg's cleanup kills and removes vmtest-rec alone: its
# descendants go first, emptied by one cgroup.kill of the whole tree.
vm_cg vmtest-rec
# shellcheck disable=SC2317 # called by the EXIT trap
rec_cleanup() {
	local i
	echo 1 >"$cg/cgroup.kill" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		[[ $(<"$cg/cgroup.events") == *"populated 0"* ]] && break
		nap 0.05
	done
	find "$cg" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
	_vm_cleanup
}
trap rec_cleanup EXIT
echo "+cpu +memory +io +pids" >"$cg/cgroup.subtree_control"
for ((p = 0; p < 10; p++)); do
	mkdir "$cg/pod$p"
	echo "+cpu +memory +io +pids" >"$cg/pod$p/cgroup.subtree_control"
	# shellcheck disable=SC2046 # the names, one word each
	(cd "$cg/pod$p" && mkdir $(seq -f c%g 1 100))
done
busy=(pod0/c1 pod4/c50 pod9/c100)
for l in "${busy[@]}"; do
	echo "10000 100000" >"$cg/$l/cpu.max"
	vm_spawn "$cg/$l" bash -c 'while :; do :; done'
done
n=0
for d in "$cg" "$cg"/pod*/ "$cg"/pod*/c*/; do
	n=$((n + 1))
done
read -r ctl <"$cg/pod9/c100/cgroup.controllers"
echo "# kernel: $n cgroups under vmtest-rec; a leaf's controllers: $ctl"
if ((n == 1011)) && [[ " $ctl " == *" cpu "* && " $ctl " == *" memory "* &&
	" $ctl " == *" io "* && " $ctl " == *" pids "* ]]; then
	pass "$T.kernel"
else
	fail "$T.kernel" "$n cgroups (want 1011), leaf controllers '$ctl' (want cpu memory io pids)"
fi

cgw_ready "$T" || finish
if ! "$CGWARDEN" record --help >/dev/null 2>&1; then
	skip "$T" "$CGWARDEN has no record command"
	finish
fi
store=$CASE_TMP/store
t0=$(now_usec)
rc=0
"$CGWARDEN" record --root "$cg" --interval 1 --flush 2s -n "$ticks" --quiet --output "$store" \
	>"$CASE_TMP/record.out" 2>"$CASE_TMP/record.err" || rc=$?
secs=$((($(now_usec) - t0) / 1000000))
if ((rc != 0)); then
	fail "$T.record" "cgwarden record exited with status $rc: $(head -c 200 "$CASE_TMP/record.err" | tr '\n' ' ')"
	finish
fi
bytes=0 files=0
for f in "$store"/*; do
	[[ -f $f ]] || continue
	bytes=$((bytes + $(stat -c %s "$f"))) files=$((files + 1))
done
# One small line per tick (identity members and one field), one jq.
got='' samples=''
read -r got samples < <("$CGWARDEN" stream --replay "$store" --fields cpu.usage_ratio 2>"$CASE_TMP/replay.err" |
	jq -rs '[.[] | select(.type == "tick") | .cgroups | length] | "\(length) \(add // 0)"') || true
samples=${samples:-0}
echo "# record: $ticks ticks in $secs s; $bytes bytes in $files files; stream --replay: $got ticks, $samples cgroup-samples"
if [[ $got != "$ticks" ]] || ((samples == 0)); then
	fail "$T.size" "stream --replay gave $got ticks (want $ticks), $samples cgroup-samples: $(head -c 200 "$CASE_TMP/replay.err" | tr '\n' ' ')"
else
	# Hundredths of a byte, with bash arithmetic alone.
	h=$(((bytes * 100 + samples / 2) / samples))
	bps=$((h / 100)).$(printf %02d $((h % 100)))
	mb=$(((bytes * 1000 * 17280 / samples + 500000) / 1000000))
	mb1=$(((bytes * 1000 * 86400 / samples + 500000) / 1000000))
	echo "# $bps bytes per cgroup-sample: $mb MB/day per 1000 cgroups at 5 s, $mb1 MB at 1 s"
	if ((h <= 600)); then
		pass "$T.size"
	else
		fail "$T.size" "$bps bytes per cgroup-sample (target: at most 6)"
	fi
fi

live='' rep='' at=''
"$CGWARDEN" snapshot --root "$cg" --no-bpf --compact >"$CASE_TMP/live.json" 2>"$CASE_TMP/live.err" || true
"$CGWARDEN" snapshot --replay "$store" --at -5s --compact >"$CASE_TMP/replay.json" 2>"$CASE_TMP/at.err" || true
read -r live rep at < <(jq -rs '"\(.[0].cgroups | length) \(.[1].cgroups | length) \(.[1].time_usec)"' \
	"$CASE_TMP/live.json" "$CASE_TMP/replay.json" 2>/dev/null) || true
echo "# live snapshot: ${live:-?} cgroups; snapshot --replay --at -5s: ${rep:-?} cgroups at time_usec ${at:-?}"
if [[ $live =~ ^[0-9]+$ && $live == "$rep" ]] && ((live > 0)); then
	pass "$T.replay"
else
	fail "$T.replay" "live ${live:-?} cgroups, replayed ${rep:-?}: $(head -c 200 "$CASE_TMP/live.err" "$CASE_TMP/at.err" | tr '\n' ' ')"
fi
finish
