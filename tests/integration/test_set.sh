#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# cgwarden set on real cgroups of this host (cgroup2 here has no controllers,
# so freeze, thaw and kill; limits are covered in the VM suite): a frozen
# counter stops and resumes, --kill empties the cgroup, names resolve,
# escapes and protected targets are refused before anything is written, and
# every change leaves one audit line that validates against the schema.
. "$(dirname "$0")/../lib.sh"
if ! cg_setup; then skip set "$SKIP_WHY"; finish; fi

audit=$(mktemp)
cnt=$(mktemp)
mkdir "$CG_TEST/counter" "$CG_TEST/victims"
# The counter rewrites its file (truncate, then write): a read can land in
# between and see it empty, so read until there is a number.
count() {
	local v i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		v=$(cat "$cnt")
		[ -n "$v" ] && break
		sleep 0.02
	done
	echo "${v:-0}"
}
cg_spawn "$CG_TEST/counter" sh -c 'i=0; while :; do i=$((i+1)); echo $i > "$0"; sleep 0.01; done' "$cnt" >/dev/null
sleep 0.5

if "$CGWARDEN" set "$CG_REL/counter" --freeze --audit-log "$audit" >/dev/null &&
	grep -q '^frozen 1' "$CG_TEST/counter/cgroup.events"; then
	a=$(count); sleep 0.6; b=$(count)
	[ "$a" = "$b" ] && pass "freeze_stops_counter (stays at $a)" ||
		fail freeze_stops_counter "counter moved $a -> $b while frozen"
else
	fail freeze_stops_counter "set --freeze failed or frozen != 1"
fi
if "$CGWARDEN" set "$CG_REL/counter" --thaw --audit-log "$audit" >/dev/null &&
	grep -q '^frozen 0' "$CG_TEST/counter/cgroup.events"; then
	a=$(count); sleep 0.5; b=$(count)
	[ "$b" -gt "$a" ] && pass "thaw_resumes_counter ($a -> $b)" ||
		fail thaw_resumes_counter "counter stuck at $a after thaw"
else
	fail thaw_resumes_counter "set --thaw failed or frozen != 0"
fi

pids=""
for _ in 1 2 3; do pids="$pids $(cg_spawn "$CG_TEST/victims" sleep 300)"; done
sleep 0.3
# Not a terminal and no --yes: refused, nothing killed.
"$CGWARDEN" set "$CG_REL/victims" --kill </dev/null >/dev/null 2>&1
rc=$?
n=$(wc -l <"$CG_TEST/victims/cgroup.procs")
[ "$rc" = 2 ] && [ "$n" = 3 ] && pass kill_without_yes_refused_off_tty ||
	fail kill_without_yes_refused_off_tty "rc $rc, $n procs left"
# By its last path component, the way people name a unit or container.
out=$("$CGWARDEN" set victims --kill --yes --audit-log "$audit" 2>&1)
rc=$?
alive=0
# A killed child of this shell stays a zombie until reaped: dead is dead.
for p in $pids; do
	st=$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && alive=$((alive + 1))
done
if [ "$rc" = 0 ] && [ ! -s "$CG_TEST/victims/cgroup.procs" ] && [ "$alive" = 0 ] &&
	grep -q '^populated 0' "$CG_TEST/victims/cgroup.events"; then
	pass "kill_empties_cgroup_by_name ($out)"
else
	fail kill_empties_cgroup_by_name "rc $rc, alive $alive: $out"
fi

# expect_refused NAME TARGET PATTERN: exit 2, the reason on stderr, nothing written.
expect_refused() {
	local err rc
	err=$("$CGWARDEN" set "$2" --freeze --audit-log "$audit" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = 2 ] && grep -q -- "$3" <<<"$err"; then
		pass "$1"
	else
		fail "$1" "rc $rc: $err"
	fi
}
expect_refused refuses_dotdot "$CG_REL/../.." "'..' component"
expect_refused refuses_absolute "/etc" "is absolute"
expect_refused refuses_root "" "root cgroup is never changed"
expect_refused refuses_newline "$CG_REL"$'\n'"x" "control character"
expect_refused refuses_missing "$CG_REL/nope" "does not exist"
# (kernfs refuses to create symlinks, so the symlink escape is covered by
# the fixture-tree unit tests in tests/unit/test_actuator.c.)
mkdir "$CG_TEST/dup" "$CG_TEST/counter/dup"
expect_refused ambiguous_name_lists_candidates dup "ambiguous"
# Our own cgroup: run cgwarden inside the counter cgroup and aim at it.
err=$(sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$CG_TEST/dup" \
	"$CGWARDEN" set "$CG_REL/dup" --freeze 2>&1 >/dev/null)
rc=$?
[ "$rc" = 2 ] && grep -q "own cgroup" <<<"$err" && pass refuses_own_cgroup ||
	fail refuses_own_cgroup "rc $rc: $err"
err=$(sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$CG_TEST/counter/dup" \
	"$CGWARDEN" set "$CG_REL/counter" --kill --yes 2>&1 >/dev/null)
rc=$?
[ "$rc" = 2 ] && grep -q "contains cgwarden" <<<"$err" && pass refuses_ancestor_kill ||
	fail refuses_ancestor_kill "rc $rc: $err"

# Review finding 4: in a cgroup namespace (unshare -C in ns/inner) the mount
# reads /../.. and our path /: cgwarden took the mount's root for its own
# cgroup and froze itself. Under a timeout (a hang is the failure), from
# outside the frozen cgroup, so the timeout itself is not frozen.
mkdir -p "$CG_TEST/ns/inner" "$CG_TEST/ns/other"
# in_ns ARGS...: cgwarden set ARGS run by a shell in ns/inner after unshare -C.
in_ns() {
	timeout -k 2 15 sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec unshare -C "$@"' \
		sh "$CG_TEST/ns/inner" "$CGWARDEN" set "$@" 2>&1 >/dev/null
}
if ! command -v unshare >/dev/null || ! unshare -C true 2>/dev/null; then
	skip ns_refuses_own_cgroup "unshare -C is not available here"
else
	err=$(in_ns "$CG_REL/ns/inner" --freeze)
	rc=$?
	frozen=$(cat "$CG_TEST/ns/inner/cgroup.freeze")
	echo 0 >"$CG_TEST/ns/inner/cgroup.freeze"
	if [ "$rc" = 2 ] && [ "$frozen" = 0 ] && grep -q "own cgroup" <<<"$err"; then
		pass ns_refuses_own_cgroup
	elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		fail ns_refuses_own_cgroup "hung: cgwarden froze itself (cgroup.freeze $frozen)"
	else
		fail ns_refuses_own_cgroup "rc $rc, cgroup.freeze $frozen: $err"
	fi
	# An ancestor: refused for freeze and kill, in dry run too.
	for a in "--freeze --dry-run" "--kill --yes --dry-run" "--freeze"; do
		# shellcheck disable=SC2086
		err=$(in_ns "$CG_REL/ns" $a)
		rc=$?
		frozen=$(cat "$CG_TEST/ns/cgroup.freeze")
		echo 0 >"$CG_TEST/ns/cgroup.freeze"
		name=ns_refuses_ancestor_$(tr -d -- - <<<"$a" | tr " " _)
		[ "$rc" = 2 ] && [ "$frozen" = 0 ] && grep -q "contains cgwarden" <<<"$err" &&
			pass "$name" || fail "$name" "rc $rc, cgroup.freeze $frozen: $err"
	done
	# A sibling is fair game from inside the namespace as from outside.
	err=$(in_ns "$CG_REL/ns/other" --freeze)
	rc=$?
	[ "$rc" = 0 ] && [ "$(cat "$CG_TEST/ns/other/cgroup.freeze")" = 1 ] &&
		pass ns_sibling_freezes || fail ns_sibling_freezes "rc $rc: $err"
	echo 0 >"$CG_TEST/ns/other/cgroup.freeze"
fi

lines=$(wc -l <"$audit")
if [ "$lines" -ge 3 ] && python3 tests/schema_validate.py --ndjson "$audit" >/dev/null 2>&1; then
	pass "audit_lines_validate ($lines records)"
else
	fail audit_lines_validate "$lines lines: $(python3 tests/schema_validate.py --ndjson "$audit" 2>&1 | head -3)"
fi
ok=$(jq -r 'select(.file=="cgroup.kill") | .result' "$audit")
[ "$ok" = ok ] && pass audit_records_kill_ok || fail audit_records_kill_ok "'$ok'"
rm -f "$audit" "$cnt"
finish
