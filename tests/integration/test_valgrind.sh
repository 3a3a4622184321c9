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

if out=$(vg "$CGWARDEN" stream --interval 0.2 -n 4 --root tests/fixtures/v2-pure-6.1 \
	--fd-budget 5 --quiet 2>&1 >/dev/null); then
	pass valgrind_clean_fixture_tree_with_fd_fallback
else
	fail valgrind_clean_fixture_tree_with_fd_fallback "$(tail -20 <<<"$out")"
fi
if cg_setup; then
	mkdir "$CG_TEST/a"
	( sleep 0.6; mkdir "$CG_TEST/b" "$CG_TEST/b/c"; sleep 0.6; rmdir "$CG_TEST/b/c" "$CG_TEST/b" "$CG_TEST/a" ) &
	if out=$(vg "$CGWARDEN" stream --interval 0.3 -n 6 2>&1 >/dev/null); then
		pass valgrind_clean_host_tree_with_churn
	else
		fail valgrind_clean_host_tree_with_churn "$(tail -20 <<<"$out")"
	fi
	wait
	rec=$(mktemp -d)
	mkdir "$CG_TEST/a"
	( sleep 0.6; mkdir "$CG_TEST/b" "$CG_TEST/b/c"; sleep 0.6; rmdir "$CG_TEST/b/c" "$CG_TEST/b" "$CG_TEST/a" ) &
	if out=$(vg "$CGWARDEN" record -o "$rec/s" --root "$CG_TEST" --interval 0.2 --flush 0.3 \
		-n 10 --quiet 2>&1 >/dev/null) &&
		out=$(vg "$CGWARDEN" stream --replay "$rec/s" 2>&1 >/dev/null) &&
		out=$(vg "$CGWARDEN" snapshot --replay "$rec/s" --at -1s 2>&1 >/dev/null); then
		pass valgrind_clean_record_and_replay
	else
		fail valgrind_clean_record_and_replay "$(tail -20 <<<"$out")"
	fi
	wait
	rm -rf "$rec"
else
	skip valgrind_clean_host_tree_with_churn "$SKIP_WHY"
fi
finish
