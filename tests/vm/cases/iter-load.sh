#!/usr/bin/env bash
# The BPF cgroup iterator on Debian's 6.1 with every controller: it loads
# the cgroup_rstat_flush object (not css_rstat_flush, which 6.1 lacks), and
# build/tests/test_iterbpf passes with its tree under vmtest-iterbpf, where
# every record must have memory, cpu and pids valid and equal to the files
# (memory.max 64M = mem_max x 4096, pids.max 10, cpu.max 50000 100000,
# the weight, memory.events, cgroup.stat...), and the walk's CPU time after
# its flush equals cpu.stat within 1% + 1 ms. A SKIP of the test counts as a
# failure here: this kernel must load it. Then iterwalk walks the whole
# tree once (its time under TCG says nothing about real hardware).
set -euo pipefail
. tests/vm/lib.sh
T=vm.iter-load

if [[ ! -x $BUILD/tests/test_iterbpf || ! -x $BUILD/bench/iterwalk ]]; then
	fail "$T" "$BUILD/tests/test_iterbpf or $BUILD/bench/iterwalk not built (make unit bench)"
	finish
fi

# The test makes and removes vmtest-iterbpf itself; vm_cg's cleanup only
# catches what it leaves behind.
_vm_cgs+=("$CGROOT/vmtest-iterbpf")
out=$CASE_TMP/test.out
rc=0
CGW_TEST_CGROUP=$CGROOT/vmtest-iterbpf CGW_TEST_EXPECT_FLUSH=cgroup_rstat_flush \
	CGW_TEST_REQUIRE_CONTROLLERS=1 "$BUILD/tests/test_iterbpf" >"$out" 2>&1 || rc=$?
results=0
while IFS= read -r line; do
	case $line in
	"PASS "*) pass "$T.${line#PASS }"; results=$((results + 1)) ;;
	"FAIL "*) echo "FAIL $T.${line#FAIL }"; TEST_FAILED=1; results=$((results + 1)) ;;
	"SKIP "*) echo "FAIL $T.${line#SKIP } (a SKIP, on 6.1)"; TEST_FAILED=1; results=$((results + 1)) ;;
	*) echo "# $line" ;;
	esac
done <"$out"
if ((rc != 0 || results == 0)); then
	fail "$T.test_iterbpf" "exited with status $rc after $results results"
fi

if line=$("$BUILD/bench/iterwalk" -n 3 -w 1 "$CGROOT" 2>&1); then
	echo "# iterwalk $CGROOT: $line"
	if [[ $line == *" flush=cgroup_rstat_flush "* ]]; then
		pass "$T.iterwalk"
	else
		fail "$T.iterwalk" "$line"
	fi
else
	fail "$T.iterwalk" "$line"
fi
finish
