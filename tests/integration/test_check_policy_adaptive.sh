#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# check-policy on an adaptive rule against real cgroups: a cgroup with
# memory.pressure is listed and no error is made; one whose PSI is turned
# off (0 in its cgroup.pressure, kernel 6.1+: memory.pressure disappears) is
# an error that names the rule's step and the cgroup, exit 1. Where the
# memory controller can be enabled for the subtree (pure v2), a min above
# the cgroup's memory.max is an error too; else that part says it skipped.
# Everything is removed on exit, failed or not.
. "$(dirname "$0")/../lib.sh"
if ! cg_setup; then skip check_policy_adaptive "$SKIP_WHY"; finish; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cg_cleanup' EXIT

mkdir "$CG_TEST/on" "$CG_TEST/off"
cat >"$tmp/p.json" <<'JSON'
{"rules": [{"name": "sq", "match": {"path": "*"},
  "when": {"metric": "memory.current_bytes", "value": "1M"},
  "then": [{"log": "x"}, {"memory.high": "adaptive"}], "adaptive": {"min": "64M"}}]}
JSON

if [ ! -e "$CG_TEST/on/memory.pressure" ]; then
	skip check_policy_adaptive "no memory.pressure here (no PSI)"
	finish
fi
"$CGWARDEN" check-policy "$tmp/p.json" --root "$CG_TEST" >"$tmp/on.out" 2>&1
st=$?
if [ "$st" = 0 ] && grep -q 'adaptive memory.high: every 6s' "$tmp/on.out" &&
	grep -q '^    on (' "$tmp/on.out"; then
	pass check_policy_adaptive_psi_on
else
	fail check_policy_adaptive_psi_on "exit $st: $(head -c 1500 "$tmp/on.out")"
fi

if ! echo 0 >"$CG_TEST/off/cgroup.pressure" 2>/dev/null || [ -e "$CG_TEST/off/memory.pressure" ]; then
	skip check_policy_adaptive_psi_off "cgroup.pressure cannot turn PSI off here (kernel before 6.1)"
else
	"$CGWARDEN" check-policy "$tmp/p.json" --root "$CG_TEST" >"$tmp/off.out" 2>&1
	st=$?
	want="$tmp/p.json: rules[0].then[1].memory.high: off has no memory.pressure (PSI is off"
	if [ "$st" = 1 ] && grep -qF "$want" "$tmp/off.out" &&
		grep -q ': 1 error on this host$' "$tmp/off.out"; then
		pass check_policy_adaptive_psi_off
	else
		fail check_policy_adaptive_psi_off "exit $st: $(head -c 1500 "$tmp/off.out")"
	fi
	rmdir "$CG_TEST/off"
fi

if grep -qw memory "$CG_TEST/cgroup.controllers" 2>/dev/null &&
	echo +memory >"$CG_TEST/cgroup.subtree_control" 2>/dev/null &&
	echo 32M >"$CG_TEST/on/memory.max" 2>/dev/null; then
	"$CGWARDEN" check-policy "$tmp/p.json" --root "$CG_TEST" >"$tmp/max.out" 2>&1
	st=$?
	want="$tmp/p.json: rules[0].adaptive.min: 64M is above the memory.max of on (32M)"
	if [ "$st" = 1 ] && grep -qF "$want" "$tmp/max.out"; then
		pass check_policy_adaptive_min_above_max
	else
		fail check_policy_adaptive_min_above_max "exit $st: $(head -c 1500 "$tmp/max.out")"
	fi
else
	skip check_policy_adaptive_min_above_max "no memory controller for the test subtree here"
fi
finish
