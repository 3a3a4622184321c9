# shellcheck shell=bash
# Helpers for the VM cases (tests/vm/cases/*). Source it from the repo root,
# which is where the guest starts every case:   . tests/vm/lib.sh
#
# A case creates its cgroups with vm_cg (they are killed and removed when the
# case exits, however it exits), runs its workload with vm_spawn/vm_run,
# checks the kernel's own files against ground truth ("<T>.kernel") and then
# cgwarden's JSON against the kernel ("<T>.cgwarden"), reporting with
# pass/fail/skip/finish from tests/lib.sh.
#
# Under TCG every exec costs 0.1-0.3 s (jq and python3 about 1 s), so the
# helpers use bash builtins where they can and read all of cgwarden's fields
# with one jq call.

# shellcheck source=tests/lib.sh
. tests/lib.sh

CGROOT=/sys/fs/cgroup
# Scratch files of this case (tmpfs in the guest).
CASE_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmcase.XXXXXX")

_vm_cgs=()

# vm_cg NAME: create $CGROOT/NAME, removed again when the case exits.
vm_cg() {
	mkdir "$CGROOT/$1"
	_vm_cgs+=("$CGROOT/$1")
}

# Kill everything in a cgroup, wait for it to empty, remove it. rmdir can see
# EBUSY for a moment after the last task exits, hence the retries.
_vm_cg_remove() {
	local cg=$1 i k v
	[[ -d $cg ]] || return 0
	echo 1 >"$cg/cgroup.kill" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		while read -r k v; do
			[[ $k == populated ]] && break
		done <"$cg/cgroup.events"
		[[ $v == 0 ]] && break
		nap 0.05
	done
	for ((i = 0; i < 100; i++)); do
		rmdir "$cg" 2>/dev/null && return 0
		nap 0.05
	done
	echo "warning: could not remove $cg" >&2
	return 1
}

_vm_cleanup() {
	local i
	# A daemon of the case (cgw_daemon) must not outlive it.
	[[ -n ${DAEMON:-} ]] && kill -9 "$DAEMON" 2>/dev/null
	for ((i = ${#_vm_cgs[@]} - 1; i >= 0; i--)); do
		_vm_cg_remove "${_vm_cgs[i]}" || true
	done
	rm -rf "$CASE_TMP"
}
trap _vm_cleanup EXIT

# nap SECONDS: sleep without a fork (forks disturb what is measured and are
# slow under TCG): a timed read on a fifo that never gets data.
mkfifo "$CASE_TMP/nap"
exec {_nap_fd}<>"$CASE_TMP/nap"
nap() { read -r -t "$1" -u "$_nap_fd" _ || true; }

# vm_spawn CG CMD...: start CMD inside CG in the background; it moves itself
# in before exec, so everything it allocates is charged there. $! is its pid.
# Its stdin is passed on (so a heredoc works) and the job is disowned: the
# case's cleanup kills it, and bash should not report that.
vm_spawn() {
	local cg=$1
	shift
	bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg" "$@" 0<&0 &
	disown $!
}

# vm_run CG CMD...: the same in the foreground; returns CMD's status.
vm_run() {
	local cg=$1
	shift
	bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg" "$@"
}

# key FILE KEY: the value of KEY in a flat keyed file (cpu.stat,
# memory.events, memory.stat); empty when absent.
key() {
	local k v
	while read -r k v; do
		[[ $k == "$2" ]] && { echo "$v"; return 0; }
	done <"$1"
	echo ""
}

# field FILE FIRST NAME: NAME=value on the line whose first word is FIRST,
# as in io.stat ("254:0 rbytes=0 wbytes=...") and PSI files ("some avg10=...").
field() {
	local first rest kv
	while read -r first rest; do
		[[ $first == "$2" ]] || continue
		for kv in $rest; do
			[[ ${kv%%=*} == "$3" ]] && { echo "${kv#*=}"; return 0; }
		done
	done <"$1"
	echo ""
}

# dec X: the decimal X times 10000 as an integer ("0.2013" -> 2013,
# "35.86" -> 358600); fails on anything that is not a plain decimal
# (empty, null, exponent notation).
dec() {
	local x=$1 int frac
	[[ $x =~ ^([0-9]+)(\.([0-9]*))?$ ]] || return 1
	int=${BASH_REMATCH[1]} frac=${BASH_REMATCH[3]}0000
	echo $((10#$int * 10000 + 10#${frac:0:4}))
}

# between X LO HI / gt X Y: decimal comparisons, false for non-numbers.
between() {
	local x lo hi
	x=$(dec "$1") && lo=$(dec "$2") && hi=$(dec "$3") && ((x >= lo && x <= hi))
}
gt() {
	local x y
	x=$(dec "$1") && y=$(dec "$2") && ((x > y))
}

# within_pct A B PCT: integers, |A - B| <= PCT% of B.
within_pct() {
	[[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]] || return 1
	local d=$(($1 - $2))
	((d < 0)) && d=$((-d))
	((d * 100 <= $2 * $3))
}

now_usec() { echo "${EPOCHREALTIME/./}"; }

# wait_file PATH TENTHS: wait up to TENTHS/10 s until PATH exists.
wait_file() {
	local i
	for ((i = 0; i < $2; i++)); do
		[[ -e $1 ]] && return 0
		nap 0.1
	done
	return 1
}

# cgw_ready NAME: true when cgwarden can be run; otherwise reports NAME as
# skipped (make builds it; the VM suite may run before it exists).
cgw_ready() {
	[[ -x $CGWARDEN ]] && return 0
	skip "$1" "cgwarden not built"
	return 1
}

# cgw NAME OUT ARGS...: run "cgwarden ARGS --root $CGROOT" with stdout in
# OUT; on failure reports NAME as failed and returns 1.
cgw() {
	local name=$1 out=$2 rc=0
	shift 2
	"$CGWARDEN" "$@" --root "$CGROOT" >"$out" 2>"$out.err" || rc=$?
	((rc == 0)) && return 0
	fail "$name" "cgwarden $1 exited with status $rc: $(head -c 200 "$out.err" | tr '\n' ' ')"
	return 1
}

# cgw_get NAME FILE CGPATH EXPR...: evaluate each jq EXPR on cgroup CGPATH
# in the last snapshot/tick document of FILE (\$first is the same cgroup in
# the first one) into the array CGW, one string per EXPR ("null" when
# missing). One jq process for all of them. On unreadable JSON reports NAME
# as failed and returns 1.
cgw_get() {
	local name=$1 file=$2 path=$3 prog e sep=
	shift 3
	# shellcheck disable=SC2016 # $p, $docs, $first are jq's variables
	prog='[.[] | select(.type == "tick" or .type == "snapshot")
		| first((.cgroups // [])[] | select(.path == $p)) // {}] as $docs
		| ($docs[0] // {}) as $first | ($docs[-1] // {}) | '
	for e in "$@"; do
		prog+="$sep((($e) // null) | tostring)"
		sep=', '
	done
	CGW=()
	mapfile -t CGW < <(jq -s -r --arg p "$path" "$prog" "$file" 2>"$file.jqerr")
	((${#CGW[@]} == $#)) && return 0
	fail "$name" "cannot read cgwarden's JSON: $(head -c 200 "$file.jqerr" | tr '\n' ' ')"
	return 1
}

# vm_peak_sampler FILE: samples FILE (a number, e.g. pids.current) every 20 ms
# in the background until $CASE_TMP/stop exists, then writes "PEAK SAMPLES"
# to $CASE_TMP/peak. Sets sampler (its pid), stop and peakf.
vm_peak_sampler() {
	local file=$1
	# shellcheck disable=SC2034 # stop, peakf and sampler are the cases'
	stop=$CASE_TMP/stop
	peakf=$CASE_TMP/peak
	(
		peak=0 n=0
		while [[ ! -e $stop ]]; do
			read -r v <"$file"
			((v > peak)) && peak=$v
			n=$((n + 1))
			nap 0.02
		done
		echo "$peak $n" >"$peakf"
	) &
	# shellcheck disable=SC2034 # the case waits for it
	sampler=$!
}

# vm_fork_loop CGROUP TRIES READY: a python process in CGROUP tries TRIES
# forks 20 ms apart (children sleep), writes "OK FAILED" to READY and waits.
# EAGAIN from the pids controller counts as a failed fork.
vm_fork_loop() {
	vm_spawn "$1" python3 -S -E - "$3" "$2" <<'PY'
import os, sys, time
ok = failed = 0
for _ in range(int(sys.argv[2])):
    try:
        pid = os.fork()
    except OSError:  # EAGAIN from the pids controller
        failed += 1
        time.sleep(0.02)
        continue
    if pid == 0:
        time.sleep(600)
        os._exit(0)
    ok += 1
    time.sleep(0.02)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(f"{ok} {failed}\n")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)
PY
}

# vm_cpu_usage CGROUP SECONDS: waits 1 s (past the first, partly filled
# periods), then measures the cgroup's CPU use over SECONDS from cpu.stat.
# Sets r (usage ratio x 10000, integer), ratio ("0.2017"), ms (the wall
# time measured), n1 and n2 (nr_throttled before and after).
# shellcheck disable=SC2034 # those globals are the cases'
vm_cpu_usage() {
	local cg=$1 u1 u2 t1 t2
	nap 1
	u1=$(key "$cg/cpu.stat" usage_usec)
	n1=$(key "$cg/cpu.stat" nr_throttled)
	t1=$(now_usec)
	nap "$2"
	u2=$(key "$cg/cpu.stat" usage_usec)
	n2=$(key "$cg/cpu.stat" nr_throttled)
	t2=$(now_usec)
	r=$(((u2 - u1) * 10000 / (t2 - t1)))
	ratio=$((r / 10000)).$(printf %04d $((r % 10000)))
	ms=$(((t2 - t1) / 1000))
}

# cgw_set OUT ARGS...: "cgwarden set ARGS --root $CGROOT" with stdin from
# /dev/null (not a terminal: --kill then needs --yes), stdout in OUT, stderr
# in OUT.err, exit status in RC.
# shellcheck disable=SC2034 # RC is the cases'
cgw_set() {
	local out=$1
	shift
	RC=0
	"$CGWARDEN" set "$@" --root "$CGROOT" </dev/null >"$out" 2>"$out.err" || RC=$?
}

# vm_fork_limit_verdict NAME CG LIMIT READY: after vm_peak_sampler and
# vm_fork_loop, stops the sampler and reports NAME: the peak of
# pids.current stayed <= LIMIT, the cgroup holds the loop and its
# successful forks, some forks failed and pids.events counted it.
vm_fork_limit_verdict() {
	local t=$1 cg=$2 limit=$3 ready=$4 peak samples ok failed cur ev
	touch "$stop"
	wait "$sampler"
	read -r peak samples <"$peakf"
	read -r ok failed <"$ready"
	cur=$(<"$cg/pids.current")
	ev=$(key "$cg/pids.events" max)
	echo "# kernel: pids.current $cur, peak $peak in $samples samples, pids.max $(<"$cg/pids.max"), pids.events max $ev; forks ok $ok, failed $failed"
	if ((peak <= limit && cur == ok + 1 && cur <= limit && failed > 0 && ev > 0)); then
		pass "$t"
	else
		fail "$t" "peak $peak, current $cur (want <= $limit and = forks + 1 = $((ok + 1))), failed forks $failed, pids.events max $ev (want > 0)"
	fi
}

# cgw_daemon LOG STATE POLICY [ARGS...]: starts "cgwarden daemon" in the
# background on $CGROOT (0.5 s ticks, no eBPF: the cases watch cgroupfs
# limits), records in LOG (and LOG.out), stderr in LOG.err. Sets DAEMON (its
# pid; killed when the case exits) and waits up to 10 s for its start line.
# policy_case TEST NAME: the start every policy-* case shares: sets T, name,
# cg (the case's cgroup, created and removed with the case), log (the
# daemon's records) and policy (the file to write); a guest where cgwarden
# cannot run ends the case here with its SKIP.
policy_case() {
	T=$1 name=$2
	cg=$CGROOT/$name
	log=$CASE_TMP/actions.ndjson
	policy=$CASE_TMP/policy.json
	cgw_ready "$T" || finish
	vm_cg "$name"
}

cgw_daemon() {
	local log=$1 state=$2 policy=$3 i
	shift 3
	"$CGWARDEN" daemon --policy "$policy" --state "$state" --log "$log" --root "$CGROOT" \
		--no-bpf --interval 0.5 "$@" >"$log.out" 2>"$log.err" </dev/null &
	DAEMON=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s $log.err ]] && return 0
		nap 0.1
	done
	return 1
}

# cgw_daemon_stop: SIGTERM to the daemon, wait for it; its status in RC.
# shellcheck disable=SC2034 # RC is the cases'
cgw_daemon_stop() {
	RC=0
	kill -TERM "$DAEMON" 2>/dev/null || true
	wait "$DAEMON" || RC=$?
	DAEMON=
}

# wait_record FILE REGEX TENTHS: wait up to TENTHS/10 s for a line of FILE
# matching REGEX (grep -E); the line in REC.
wait_record() {
	local i
	REC=
	for ((i = 0; i < $3; i++)); do
		REC=$(grep -E -m1 "$2" "$1" 2>/dev/null) && return 0
		nap 0.1
	done
	return 1
}

# json_num LINE KEY: the number after "KEY": in a one-line JSON record.
json_num() {
	[[ $1 =~ \"$2\":([0-9]+) ]] && echo "${BASH_REMATCH[1]}"
}
