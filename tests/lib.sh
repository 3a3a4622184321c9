# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers for shell tests; source it. Report with pass/fail/skip: each
# is one line the runner (tests/run) counts. finish exits with the status.
: "${BUILD:=build}"
: "${CGWARDEN:=$BUILD/cgwarden}"
TEST_FAILED=0

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: ${2:-}"; TEST_FAILED=1; }
skip() { echo "SKIP $1: ${2:-}"; }
finish() { exit "$TEST_FAILED"; }

# The cgroup2 mount point from mountinfo (the field after " - " is the fs type).
cg2_mount() {
	awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i+1) == "cgroup2") { print $5; exit } break } }' \
		/proc/self/mountinfo
}

# Sets CG_MNT and CG_TEST (a fresh test-owned subtree, removed by cg_cleanup,
# which is installed as an EXIT trap). Returns 1 with a reason in SKIP_WHY
# when this host cannot give us one.
cg_setup() {
	SKIP_WHY=
	if [ "$(id -u)" -ne 0 ]; then SKIP_WHY="needs root"; return 1; fi
	CG_MNT=$(cg2_mount)
	if [ -z "$CG_MNT" ]; then SKIP_WHY="no cgroup2 mount"; return 1; fi
	CG_TEST=$CG_MNT/cgwarden-test-$$
	if ! mkdir "$CG_TEST" 2>/dev/null; then
		SKIP_WHY="cannot create $CG_TEST"
		return 1
	fi
	CG_REL=${CG_TEST#"$CG_MNT"/}
	trap cg_cleanup EXIT
}

# Kills every process in the test subtree and removes it, deepest first.
# Only ever touches $CG_TEST, which this test created.
cg_cleanup() {
	local d i
	[ -n "${CG_TEST:-}" ] && [ -d "$CG_TEST" ] || return 0
	# NUL-separated: test cgroups have spaces, quotes and tabs in their names.
	while IFS= read -r -d '' d; do
		if [ -e "$d/cgroup.kill" ]; then
			echo 1 >"$d/cgroup.kill" 2>/dev/null
		else
			xargs -r kill -9 <"$d/cgroup.procs" 2>/dev/null
		fi
	done < <(find "$CG_TEST" -depth -type d -print0 2>/dev/null)
	while IFS= read -r -d '' d; do
		for i in 1 2 3 4 5 6 7 8 9 10; do
			rmdir "$d" 2>/dev/null && break
			sleep 0.2	# EBUSY until the killed tasks are reaped
		done
	done < <(find "$CG_TEST" -depth -type d -print0 2>/dev/null)
	[ -d "$CG_TEST" ] && echo "warning: could not remove $CG_TEST" >&2
	return 0
}

# cg_spawn CGROUP_DIR CMD...: starts CMD inside the cgroup (it moves itself in
# before exec, so not one instruction runs outside); prints the pid.
cg_spawn() {
	local dir=$1
	shift
	sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$dir" "$@" >/dev/null 2>&1 &
	disown $! 2>/dev/null
	echo $!
}

# jq over the last "tick" line of an NDJSON file.
last_tick() { grep '"type":"tick"' "$1" | tail -n 1; }

# unexpected_stderr FILE: the lines of cgwarden's stderr in FILE that are not
# notices about what others made on this host: cgroups too deep to show
# whose first is outside our subtree (a neighbour's 200-level tree), eBPF
# off or partly off (another user's exclusive cgroup_skb program, no BTF),
# the fd budget (thousands of others' cgroups). Tests that want "no error"
# check that this prints nothing, so they hold on a shared host.
unexpected_stderr() {
	local mine=${CG_REL:-cgwarden-test-$$}
	awk -v mine="$mine" '
		/^cgwarden: cgroups deeper than [0-9]+ levels are not shown \(first: / {
			p = $0
			sub(/^[^(]*\(first: /, "", p)
			if (p != mine && index(p, mine "/") != 1)
				next
		}
		/^cgwarden: eBPF( counters off)?: / { next }
		/^cgwarden: BPF cgroup iterator off: / { next }
		/^cgwarden: fd budget of [0-9]+ reached/ { next }
		{ print }' "$1"
}
