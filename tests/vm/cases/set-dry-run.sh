#!/usr/bin/env bash
# cgwarden set --dry-run --memory 32M --cpu 0.5 --pids 7 --freeze on a cgroup
# with one sleeping process: exit 0, one "(dry run: nothing written)" line per
# file with the value that would be written, memory.max, cpu.max, pids.max and
# cgroup.freeze read exactly as before (text compared), the process is not
# frozen, and the audit log has one line per file with result "dry-run".
# Exact checks.
set -euo pipefail
. tests/vm/lib.sh
T=vm.set-dry-run
name=vmtest-setdry
cg=$CGROOT/$name
audit=$CASE_TMP/audit.ndjson
files=(memory.max cpu.max pids.max cgroup.freeze)

if ! cgw_ready "$T"; then
	finish
fi
vm_cg "$name"
vm_spawn "$cg" sleep 600
declare -A before after
for f in "${files[@]}"; do before[$f]=$(<"$cg/$f"); done

out=$CASE_TMP/dry
rc=0
"$CGWARDEN" set "$name" --dry-run --memory 32M --cpu 0.5 --pids 7 --freeze \
	--audit-log "$audit" --root "$CGROOT" >"$out" 2>"$out.err" || rc=$?
for f in "${files[@]}"; do after[$f]=$(<"$cg/$f"); done
frozen=$(key "$cg/cgroup.events" frozen)
echo "# dry run: status $rc; output:"
sed 's/^/#   /' "$out"

changed=
for f in "${files[@]}"; do
	[[ ${before[$f]} == "${after[$f]}" ]] || changed+=" $f: '${before[$f]}' -> '${after[$f]}'"
done
echo "# before/after: memory.max '${before[memory.max]}', cpu.max '${before[cpu.max]}', pids.max '${before[pids.max]}', cgroup.freeze '${before[cgroup.freeze]}'; changed:${changed:- none}; frozen $frozen"
if ((rc == 0 && frozen == 0)) && [[ -z $changed ]]; then
	pass "$T.unchanged"
else
	fail "$T.unchanged" "status $rc (want 0), changed:${changed:- none}, frozen $frozen (want 0); stderr: $(head -c 200 "$out.err")"
fi

# The lines name what would be written.
want=(
	"$name: cpu.max: ${before[cpu.max]} -> 50000 100000 (dry run: nothing written)"
	"$name: memory.max: ${before[memory.max]} -> $((32 << 20)) (dry run: nothing written)"
	"$name: pids.max: ${before[pids.max]} -> 7 (dry run: nothing written)"
	"$name: cgroup.freeze: ${before[cgroup.freeze]} -> 1 (dry run: nothing written)"
)
missing=
for w in "${want[@]}"; do
	found=0
	while IFS= read -r l; do [[ $l == "$w" ]] && found=1; done <"$out"
	((found)) || missing+=" '$w'"
done
n=0
while IFS= read -r _; do n=$((n + 1)); done <"$out"
if [[ -z $missing ]] && ((n == ${#want[@]})); then
	pass "$T.output"
else
	fail "$T.output" "$n lines (want ${#want[@]}), missing:${missing:- none}"
fi

n=0 dry=0 seen=
while IFS= read -r l; do
	n=$((n + 1))
	[[ $l == *'"result":"dry-run"'* && $l == *'"dry_run":true'* ]] && dry=$((dry + 1))
	[[ $l =~ \"file\":\"([^\"]*)\" ]] && seen+=" ${BASH_REMATCH[1]}"
done <"$audit"
echo "# audit: $n lines, $dry dry-run, files:$seen"
if ((n == ${#files[@]} && dry == n)) && [[ $seen == *" memory.max"* && $seen == *" cpu.max"* &&
	$seen == *" pids.max"* && $seen == *" cgroup.freeze"* ]]; then
	pass "$T.audit"
else
	fail "$T.audit" "$n lines, $dry with result dry-run (want ${#files[@]} and ${#files[@]}), files:$seen"
fi
finish
