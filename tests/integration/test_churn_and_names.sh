#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Cgroups created and removed while a stream runs appear (cgroup_added) and
# vanish (cgroup_removed, carrying their final counters); names with a space,
# a quote, a tab and an invalid UTF-8 byte round-trip through JSON and every
# line validates against the published schema. The kernel refuses '\n' in a
# cgroup name (mkdir gives EINVAL), so the newline case reads a copy of a
# real cgroup's files in a plain directory tree through --root.
. "$(dirname "$0")/../lib.sh"
if ! cg_setup; then skip churn_and_names "$SKIP_WHY"; finish; fi

space="with space"
newline=$'new\nline'
tree=$(mktemp -d)
mkdir "$tree/$newline"
cp tests/fixtures/v2-hybrid-6.18/busy/* "$tree/$newline/"
if mkdir "$CG_TEST/$newline" 2>/dev/null; then
	fail kernel_refuses_newline "mkdir with a newline succeeded"
else
	pass kernel_refuses_newline_in_cgroup_names
fi
odd=$'q"uote\ttab'
out=$(mktemp)
"$CGWARDEN" stream --interval 0.3 --count 14 >"$out" 2>"$out.err" &
spid=$!
sleep 0.8
mkdir "$CG_TEST/$space" "$CG_TEST/$odd" "$CG_TEST/short" "$CG_TEST/bad"$'\xff'
cg_spawn "$CG_TEST/short" sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; sleep 300' >/dev/null
sleep 1.5
echo 1 >"$CG_TEST/short/cgroup.kill"
for i in 1 2 3 4 5 6 7 8 9 10; do rmdir "$CG_TEST/short" 2>/dev/null && break; sleep 0.1; done
wait "$spid"
rc=$?
[ "$rc" = 0 ] && pass stream_exits_0_after_count || fail stream_exits_0_after_count "rc $rc: $(cat "$out.err")"

ticks=$(grep -c '"type":"tick"' "$out")
[ "$ticks" = 14 ] && pass stream_count_14_ticks || fail stream_count_14_ticks "$ticks ticks"

if jq -e . "$out" >/dev/null 2>&1; then
	pass every_line_is_json
else
	fail every_line_is_json "jq rejects the stream"
fi

added() { jq -r --arg p "$CG_REL/$1" 'select(.event=="cgroup_added" and .cgroup.path==$p) | .cgroup.path' "$out"; }
for n in "$space" "$odd" short; do
	label=$(printf %q "$n")
	if [ "$(added "$n")" = "$CG_REL/$n" ]; then
		pass "added_event_and_exact_path $label"
	else
		fail "added_event_and_exact_path $label" "no cgroup_added with that exact path"
	fi
done
# The invalid byte must become U+FFFD (valid UTF-8 JSON), not vanish.
if jq -r '.cgroup.path // empty' "$out" | grep -q "bad"$'\xef\xbf\xbd'; then
	pass invalid_utf8_becomes_replacement_char
else
	fail invalid_utf8_becomes_replacement_char "no path with U+FFFD"
fi

rem=$(jq -c --arg p "$CG_REL/short" 'select(.event=="cgroup_removed" and .cgroup.path==$p)' "$out")
n_rem=$(grep -c . <<<"$rem")
[ -n "$rem" ] && [ "$n_rem" = 1 ] && pass removed_event_once || fail removed_event_once "$n_rem events"
usage=$(jq -r '.cgroup.cpu.usage_usec' <<<"$rem" 2>/dev/null)
[ -n "$usage" ] && [ "$usage" != null ] && [ "$usage" -gt 0 ] &&
	pass "removed_event_has_final_counters (usage_usec $usage)" ||
	fail removed_event_has_final_counters "usage_usec '$usage'"
still=$(last_tick "$out" | jq -r --arg p "$CG_REL/short" '[.cgroups[] | select(.path==$p)] | length')
[ "$still" = 0 ] && pass removed_cgroup_gone_from_tick || fail removed_cgroup_gone_from_tick "$still"
# Parent before child, every tick.
order=$(jq -r 'select(.type=="tick") | [.cgroups as $c | range(0; $c|length) | select($c[.].depth > 0) |
	. as $i | ($c[0:$i] | map(.id) | index($c[$i].parent_id)) != null] | all' "$out" | sort -u)
[ "$order" = true ] && pass parent_before_child || fail parent_before_child "$order"

if python3 -c 'import jsonschema' 2>/dev/null && [ -f schema/cgwarden.schema.json ]; then
	# Every event and 4 of the ticks (the same names in each; all of
	# them took jsonschema 13 s beside the hostile neighbour's tree).
	if msg=$(python3 tests/schema_validate.py --ndjson --ticks 4 "$out" 2>&1); then
		pass stream_validates_against_schema
	else
		fail stream_validates_against_schema "$msg"
	fi
	"$CGWARDEN" snapshot >"$out.snap" 2>/dev/null
	if msg=$(python3 tests/schema_validate.py "$out.snap" 2>&1); then
		pass snapshot_validates_against_schema
	else
		fail snapshot_validates_against_schema "$msg"
	fi
else
	skip schema_validation "python3-jsonschema or the schema file is missing"
fi
nl_path=$("$CGWARDEN" snapshot --root "$tree" | jq -r '.cgroups[1].path')
usage=$("$CGWARDEN" snapshot --root "$tree" | jq -r '.cgroups[1].cpu.usage_usec')
if [ "$nl_path" = "$newline" ] && [ "$usage" = 3085525 ]; then
	pass newline_name_round_trips_through_json
else
	fail newline_name_round_trips_through_json "path $(printf %q "$nl_path"), usage $usage"
fi
rm -rf "$tree"
rm -f "$out" "$out.err" "$out.snap"
finish
