#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# valgrind finds no leaks and no invalid accesses in the collector loop, on
# the host's own tree (with cgroups coming and going) and on a fixture tree
# with the fd budget forcing the reopen path; nor in the flight recorder's
# loop (record with cgroups coming and going, its groups and chunks small so
# several begin and end) and its replay (stream --replay of that store,
# snapshot --replay --at a middle tick).
. "$(dirname "$0")/../lib.sh"
if ! command -v valgrind >/dev/null; then skip valgrind "valgrind is not installed"; finish; fi
if ldd "$CGWARDEN" 2>/dev/null | grep -q libasan; then
	skip valgrind "$CGWARDEN is an ASan build (SANITIZE=1); valgrind runs on the plain build"
	finish
fi
vg() { valgrind -q --suppressions=tests/valgrind.supp --leak-check=full --show-leak-kinds=definite,indirect,possible \
	--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 "$@"; }

# The runs are independent and each is one CPU-bound process (loading the
# eBPF programs alone takes valgrind about 25 s): side by side, two at a
# time, they take half as long.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# verdict NAME STATUS LOG: PASS, or FAIL with valgrind's last words.
verdict() {
	if [ "$2" = 0 ]; then
		pass "$1"
	else
		fail "$1" "status $2: $(tail -20 "$3")"
	fi
}
# churn DIR PID: a cgroup DIR/b/c made and removed again and again while
# PID runs, so that its ticks see cgroups come and go (after valgrind's
# long start, not before it).
churn() {
	while kill -0 "$2" 2>/dev/null; do
		mkdir -p "$1/b/c"
		sleep 0.3
		rmdir "$1/b/c" "$1/b"
		sleep 0.3
	done
}

vg "$CGWARDEN" stream --interval 0.2 -n 4 --root tests/fixtures/v2-pure-6.1 \
	--fd-budget 5 --quiet >/dev/null 2>"$tmp/fixture.vg" &
fixture=$!
if cg_setup; then
	trap 'cg_cleanup; rm -rf "$tmp"' EXIT
	mkdir "$CG_TEST/host" "$CG_TEST/rec"
	vg "$CGWARDEN" stream --interval 0.3 -n 6 >/dev/null 2>"$tmp/host.vg" &
	host=$!
	churn "$CG_TEST/host" "$host" &
	wait "$fixture"
	verdict valgrind_clean_fixture_tree_with_fd_fallback $? "$tmp/fixture.vg"
	rec=$tmp/store
	vg "$CGWARDEN" record -o "$rec" --root "$CG_TEST/rec" --interval 0.2 --flush 0.3 \
		-n 10 --quiet >/dev/null 2>"$tmp/rec.vg" &
	recpid=$!
	churn "$CG_TEST/rec" "$recpid" &
	wait "$host"
	verdict valgrind_clean_host_tree_with_churn $? "$tmp/host.vg"
	wait "$recpid"
	rc=$?
	if [ "$rc" = 0 ]; then
		vg "$CGWARDEN" stream --replay "$rec" >/dev/null 2>"$tmp/rec.vg" &
		replay=$!
		vg "$CGWARDEN" snapshot --replay "$rec" --at -1s >/dev/null 2>"$tmp/at.vg"
		rc=$?
		wait "$replay" || rc=$?
		cat "$tmp/at.vg" >>"$tmp/rec.vg"
	fi
	verdict valgrind_clean_record_and_replay "$rc" "$tmp/rec.vg"
	wait	# the churns, done with their runs
else
	wait "$fixture"
	verdict valgrind_clean_fixture_tree_with_fd_fallback $? "$tmp/fixture.vg"
	skip valgrind_clean_host_tree_with_churn "$SKIP_WHY"
fi
finish
