#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Cgroups created and removed as fast as the kernel allows while a 50 ms
# stream runs: every cgroup that vanishes mid-walk or mid-read must be
# dropped quietly (no error, no partial line), every removal reported once,
# and only for a cgroup that was reported before.
. "$(dirname "$0")/../lib.sh"
if ! cg_setup; then skip churn_storm "$SKIP_WHY"; finish; fi

storm() {
	local end=$((SECONDS + 3)) i=0
	while [ $SECONDS -lt $end ]; do
		mkdir -p "$CG_TEST/s$i/a/b" "$CG_TEST/s$i/c" 2>/dev/null
		rmdir "$CG_TEST/s$((i - 3))/a/b" "$CG_TEST/s$((i - 3))/a" "$CG_TEST/s$((i - 3))/c" \
			"$CG_TEST/s$((i - 3))" 2>/dev/null
		i=$((i + 1))
	done
	echo "$i"
}
out=$(mktemp)
"$CGWARDEN" stream --interval 0.05 -n 60 >"$out" 2>"$out.err" &
spid=$!
rounds=$(storm)
wait "$spid"
rc=$?
# Others' cgroups (a neighbour's 200-level tree, an exclusive BPF program)
# may earn a notice; nothing about ours may appear.
errs=$(unexpected_stderr "$out.err")
[ "$rc" = 0 ] && [ -z "$errs" ] && pass "storm_no_error ($rounds create/remove rounds)" ||
	fail storm_no_error "rc $rc, stderr: $(head -3 <<<"$errs")"
jq -e . "$out" >/dev/null 2>&1 && pass storm_every_line_is_json || fail storm_every_line_is_json
# Every removed id was seen (in a tick or an added event) before its removal,
# and is removed at most once.
verdict=$(jq -s -r '
	reduce .[] as $l ({seen: {}, removed: {}, bad: 0};
		if $l.type == "tick" then
			reduce $l.cgroups[] as $c (.; .seen[($c.id|tostring)] = true)
		elif $l.event == "cgroup_added" then .seen[($l.cgroup.id|tostring)] = true
		else
			($l.cgroup.id|tostring) as $id |
			(if (.seen[$id] | not) or .removed[$id] then .bad += 1 else . end) |
			.removed[$id] = true
		end) | "\(.bad) \(.removed | length)"' "$out")
bad=${verdict% *}
n_removed=${verdict#* }
if [ "$bad" = 0 ] && [ "$n_removed" -gt 0 ]; then
	pass "storm_removals_consistent ($n_removed removals)"
else
	fail storm_removals_consistent "$bad inconsistent of $n_removed"
fi
# Each tick lists a cgroup once, under its real parent: the walk's tree
# hints keep a parent's list of children across ticks, and a child's slot
# reused by another cgroup must never be visited under the old parent.
dups=$(jq -r 'select(.type == "tick") |
	(.cgroups | map({(.id|tostring): .path}) | add) as $byid |
	(.cgroups | length) - (.cgroups | map(.id) | unique | length) +
	([.cgroups[] | select(.parent_id != null) |
	  select(($byid[(.parent_id|tostring)] // "") as $pp |
		 (if $pp == "" then .path | test("/") else .path | startswith($pp + "/") | not end))] |
	 length)' "$out" | awk '{ s += $1 } END { print s + 0 }')
[ "$dups" = 0 ] && pass storm_each_cgroup_once_under_its_parent ||
	fail storm_each_cgroup_once_under_its_parent "$dups duplicate or misplaced samples"
rm -f "$out" "$out.err"
finish
