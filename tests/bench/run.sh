#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench: the collector against its floor on 1,000 and 10,000 empty
# cgroups (100 per parent, like pods with containers) in a test-owned
# subtree. Prints figures and ratios; never fails on time.
. "$(dirname "$0")/../lib.sh"
if ! cg_setup; then echo "bench: skipped: $SKIP_WHY"; exit 0; fi
ticks=${BENCH_TICKS:-10}
for total in 1000 10000; do
	dir=$CG_TEST/b$total
	mkdir "$dir"
	for ((p = 0; p < total / 100; p++)); do
		mkdir "$dir/pod$p"
		(cd "$dir/pod$p" && mkdir $(seq -f c%g 1 100))
	done
	echo "== $total empty cgroups ($((total / 100)) parents x 100), $ticks ticks"
	"$BUILD/bench/floor" "$dir" "$ticks"
done
echo "== JSON output"
"$BUILD/bench/json_tick" 10000 5
