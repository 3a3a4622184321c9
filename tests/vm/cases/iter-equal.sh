#!/usr/bin/env bash
# The BPF cgroup-iterator source against the files on Debian's 6.1 with
# every controller: runs the unit layer's test_iter_equal in the guest,
# which makes its own tree (vmtest-iter-equal: a CPU burner under cpu.max,
# 64 MiB held, an idle and a frozen cgroup, a nested one, cpu.weight,
# memory.max/high/low/min, memory.swap.max, pids.max, an OOM kill under a
# 16 MiB memory.max, memory.high breaches from reading /dev/vda through
# the page cache) and compares every metric row of two rounds. Tolerances
# are the test's (test_iter_equal.c, the header): A is read between two
# file reads, so no timing window: exact for gauges, limits, flags,
# memory.events and pids; files-before <= iter <= files-after for
# cpu.stat; PSI totals within one 2 s period; averages within the
# kernel's updates since the last read. Its lines are renamed vm.iter-equal.*.
set -euo pipefail
. tests/vm/lib.sh
T=vm.iter-equal
bin=$BUILD/tests/test_iter_equal

if [[ ! -x $bin ]]; then
	skip "$T" "$bin not built (make unit)"
	finish
fi
# The test removes its tree itself; this is for a test killed on the way.
_vm_cgs+=("$CGROOT/vmtest-iter-equal")
rc=0
CGW_TEST_CGROUP=vmtest-iter-equal CGW_TEST_BLOCKDEV=/dev/vda "$bin" >"$CASE_TMP/out" 2>&1 || rc=$?
while IFS= read -r line; do
	case $line in
	PASS\ * | FAIL\ * | SKIP\ *) echo "${line%% *} $T.${line#* }" ;;
	*) echo "$line" ;;
	esac
done <"$CASE_TMP/out"
exit "$rc"
