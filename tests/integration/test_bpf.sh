#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Ground truth for the eBPF counters (issue 5) on real cgroups under the
# host's cgroup2. The counters start when cgwarden loads its programs, so a
# one-shot snapshot sees only its own lifetime: every delta below is taken
# between two ticks of one stream, one written before the workload starts and
# one after it has finished (null, i.e. no entry yet, counts as 0).
#  - net: a client downloads exactly N = 20,000,000 bytes over loopback from a
#    server in a sibling cgroup. Client rx and server tx must be N to N + 2%
#    (TCP/IP headers: ~52 bytes per segment of up to 64 KiB on lo, ~0.1%);
#    no other cgroup of ours may gain more than 1% of N in rx meanwhile, and
#    none outside our subtree (the root, where others' processes run on a
#    shared host and move their own bytes) as much as N / 2.
#  - run queue: two busy loops pinned to one CPU wait for each other's slice
#    (milliseconds), so the last interval's p50 is > 1000 us; a cgroup whose
#    only process sleeps throughout records no delay (runq_count unchanged
#    from the first tick to the last) and its p50 is null.
#  - proc: a shell started before the stream runs /bin/true 25 times: forks,
#    execs and exits grow by exactly 25.
#  - --no-bpf: sched/net/proc/oom are null, self.bpf false, no "off" line.
#  - coexistence: while cgwarden runs, its cgroup_skb programs are attached
#    to the cgroup2 root beside another user's program (the test attaches an
#    allow-all one with BPF_F_ALLOW_MULTI); after it exits, by --count or by
#    SIGTERM, none of its programs and maps is loaded (2 s grace: the kernel
#    frees them from a workqueue), every other attachment is still there and
#    kernel.bpf_stats_enabled is not left on. With an exclusive program on
#    the root, cgwarden leaves it, says so in one line, net is null and the
#    rest is on.
#  - another user's exclusive cgroup_skb program on the root (cgwarden says
#    "network counters off" from the start): the net checks and ours beside
#    others skip with that line; the rest runs.
#  - schema: every stream line and snapshot validates (of the cgroups, the
#    root and ours; the first snapshot whole).
# Skips when not root or when cgwarden prints "eBPF counters off".
. "$(dirname "$0")/../lib.sh"
if ! cg_setup; then skip bpf "$SKIP_WHY"; finish; fi

tmp=$(mktemp -d)
foreign_pin=
bpf_cleanup() {
	local p
	# Our background streams, by pid (TERM first: that is their clean exit).
	for p in ${STREAM_PIDS:-}; do kill -TERM "$p" 2>/dev/null; done
	for p in ${STREAM_PIDS:-}; do wait "$p" 2>/dev/null; done
	if [ -n "$foreign_pin" ]; then
		bpftool cgroup detach "$CG_MNT" ingress pinned "$foreign_pin" 2>/dev/null
		umount "$tmp/bpffs" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap 'bpf_cleanup; cg_cleanup' EXIT
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3	# not a pyenv shim: fewer execs
STREAM_PIDS=
validate_nd=()	# stream files to validate against the schema at the end

# Is eBPF usable here at all? The same snapshot is validated at the end.
"$CGWARDEN" snapshot >"$tmp/probe.json" 2>"$tmp/probe.err"
if grep -q 'eBPF counters off' "$tmp/probe.err"; then
	skip bpf "$(grep 'eBPF counters off' "$tmp/probe.err" | head -n 1)"
	finish
fi
if [ "$(jq -r .self.bpf "$tmp/probe.json" 2>/dev/null)" != true ]; then
	fail snapshot_self_bpf_true "self.bpf is '$(jq -c .self.bpf "$tmp/probe.json" 2>&1)'; stderr: $(head -c 300 "$tmp/probe.err")"
	finish
fi
pass snapshot_self_bpf_true
# Someone else's exclusive cgroup_skb program on the root leaves no room for
# ours (and none for the foreign ones this test attaches): that is theirs to
# decide, so what needs the network counters skips, with cgwarden's words.
net_off=$(grep -m1 'network counters off' "$tmp/probe.err")

# ticks FILE: how many tick lines FILE has so far.
ticks() {
	local n
	n=$(grep -c '"type":"tick"' "$1" 2>/dev/null)
	echo "${n:-0}"
}
# wait_ticks FILE N SECONDS: until FILE has N tick lines; false on timeout.
wait_ticks() {
	local end=$((SECONDS + $3))
	while [ "$(ticks "$1")" -lt "$2" ]; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}
# tick FILE I: the I-th tick line (1-based); I = '$' for the last.
tick() { grep '"type":"tick"' "$1" | sed -n "${2}p"; }
# stream_bg FILE ARGS...: cgwarden stream in the background; pid in SPID.
stream_bg() {
	local f=$1
	shift
	"$CGWARDEN" stream "$@" >"$f" 2>"$f.err" &
	SPID=$!
	STREAM_PIDS="$STREAM_PIDS $SPID"
	validate_nd+=("$f")
}
# stream_stop: SIGTERM the stream in SPID; its exit status in SRC.
stream_stop() {
	kill -TERM "$SPID" 2>/dev/null
	wait "$SPID"
	SRC=$?
	STREAM_PIDS=${STREAM_PIDS/ $SPID/}
}
# wait_empty DIR SECONDS: until no process is left in the cgroup.
wait_empty() {
	local end=$((SECONDS + $2))
	# (cgroupfs files have size 0: read cgroup.events, not test -s)
	while grep -q '^populated 1' "$1/cgroup.events"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}
# delta BEFORE AFTER PATH EXPR: EXPR (null = 0) of cgroup PATH, after - before.
delta() {
	jq -n --slurpfile b "$1" --slurpfile a "$2" --arg p "$3" "
		def v(\$d): first(\$d[0].cgroups[] | select(.path == \$p) | $4) // 0;
		v(\$a) - v(\$b)"
}

# ---------------------------------------------------------------- network
N=20000000
mkdir "$CG_TEST/client" "$CG_TEST/server"
cat >"$tmp/server.py" <<'EOF'
# Sends exactly N bytes to the first client, then waits for its close (so the
# data was all received), writes the bytes TCP sent again (tcp_info's
# tcpi_bytes_retrans, u64 at offset 208, Linux 4.19+; 0 where the kernel's
# tcp_info is shorter) to PORTFILE.retrans, and exits.
import os, socket, struct, sys
n, portfile = int(sys.argv[1]), sys.argv[2]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
with open(portfile + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
c, _ = s.accept()
buf = b"x" * 65536
left = n
while left:
    left -= c.send(buf[:min(left, len(buf))])
c.shutdown(socket.SHUT_WR)
c.recv(1)
info = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
retrans = struct.unpack_from("=Q", info, 208)[0] if len(info) >= 216 else 0
with open(portfile + ".retrans", "w") as f:
    f.write(str(retrans))
c.close()
EOF
cat >"$tmp/client.py" <<'EOF'
# Reads until EOF and writes the byte count it got.
import os, socket, sys
port, out = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
total = 0
while True:
    b = s.recv(1 << 20)
    if not b:
        break
    total += len(b)
s.close()
with open(out + ".tmp", "w") as f:
    f.write(str(total))
os.rename(out + ".tmp", out)
EOF
net=$tmp/net.ndjson
if [ -n "$net_off" ]; then
	skip net "another user's program: $net_off"
else
	stream_bg "$net" --interval 0.5
fi
if [ -n "$net_off" ]; then
	:
elif ! wait_ticks "$net" 1 20; then
	fail net_stream_starts "no tick in 20 s: $(head -c 300 "$net.err")"
else
	k0=$(ticks "$net")	# this tick was collected before the workload began
	cg_spawn "$CG_TEST/server" timeout 60 "$PY" "$tmp/server.py" "$N" "$tmp/port" >/dev/null
	for i in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
	cg_spawn "$CG_TEST/client" timeout 60 "$PY" "$tmp/client.py" "$(cat "$tmp/port" 2>/dev/null)" "$tmp/got" >/dev/null
	wait_empty "$CG_TEST/client" 60
	wait_empty "$CG_TEST/server" 10
	k1=$(ticks "$net")
	wait_ticks "$net" $((k1 + 2)) 10	# one whole tick after the end
	stream_stop
	tick "$net" "$k0" >"$tmp/net.before"
	tick "$net" '$' >"$tmp/net.after"
	got=$(cat "$tmp/got" 2>/dev/null)
	if [ "$got" = "$N" ]; then
		pass "net_transfer_done ($N bytes)"
	else
		fail net_transfer_done "client got '$got' bytes, want $N"
	fi
	crx=$(delta "$tmp/net.before" "$tmp/net.after" "$CG_REL/client" .net.rx_bytes)
	stx=$(delta "$tmp/net.before" "$tmp/net.after" "$CG_REL/server" .net.tx_bytes)
	ctx=$(delta "$tmp/net.before" "$tmp/net.after" "$CG_REL/client" .net.tx_bytes)
	srx=$(delta "$tmp/net.before" "$tmp/net.after" "$CG_REL/server" .net.rx_bytes)
	crp=$(delta "$tmp/net.before" "$tmp/net.after" "$CG_REL/client" .net.rx_packets)
	stp=$(delta "$tmp/net.before" "$tmp/net.after" "$CG_REL/server" .net.tx_packets)
	echo "# net: N $N; client rx $crx ($crp packets) tx $ctx; server tx $stx ($stp packets) rx $srx"
	# A busy host can make loopback TCP send some segments twice: those
	# bytes really crossed the wire (both directions' programs see them), so
	# the bound adds what the server's TCP says it sent again.
	retrans=$(cat "$tmp/port.retrans" 2>/dev/null)
	[[ $retrans =~ ^[0-9]+$ ]] || retrans=0
	echo "# net: the server's TCP sent $retrans bytes again"
	for what in client_rx_bytes server_tx_bytes; do
		v=$crx
		[ "$what" = server_tx_bytes ] && v=$stx
		if [[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge "$N" ] && [ "$v" -le $((N + N / 50 + retrans)) ]; then
			pass "net_${what}_is_payload_plus_headers ($v = N + $(awk -v a="$v" -v n="$N" 'BEGIN { printf "%.3f", (a - n) * 100 / n }')%, $retrans sent again)"
		else
			fail "net_${what}_is_payload_plus_headers" "'$v', want $N..$((N + N / 50 + retrans)) ($retrans bytes sent again)"
		fi
	done
	# Every other cgroup's rx delta (ids new since "before" start from 0):
	# the server (where loopback's receive softirq runs: a count by current
	# task would land there) and our subtree's root at most 1% of N; the
	# root (ksoftirqd's cgroup) and everything else not ours less than N / 2:
	# others' processes there move their own bytes meanwhile (seen: 988 KB
	# in the root while other tests served HTTP on loopback), but a transfer
	# charged to the wrong cgroup would be all of N. A parallel run of this
	# test (another cgwarden-test-PID tree) moves its own 20 MB.
	others=$(jq -r -n --slurpfile b "$tmp/net.before" --slurpfile a "$tmp/net.after" \
		--arg p "$CG_REL/client" --arg me "$CG_REL" --argjson lim $((N / 100)) \
		--argjson far $((N / 2)) '
		($b[0].cgroups | map({key: (.id | tostring), value: (.net.rx_bytes // 0)}) | from_entries) as $prev
		| [$a[0].cgroups[] | select(.path != $p)
		   | select(((.path | test("^cgwarden-test-[0-9]+(/|$)")) | not)
			or .path == $me or (.path | startswith($me + "/")))
		   | {path, d: ((.net.rx_bytes // 0) - ($prev[.id | tostring] // 0)),
		      lim: (if .path == $me or (.path | startswith($me + "/")) then $lim else $far end)}]
		| (max_by(.d) | "largest \(.path | if . == "" then "(root)" else .[0:80] end) \(.d) bytes"),
		  (.[] | select(.d > .lim) | "over: \(.path | if . == "" then "(root)" else .[0:80] end) \(.d) (limit \(.lim))")')
	if [ -n "$others" ] && ! grep -q '^over: ' <<<"$others"; then
		pass "net_no_other_cgroup_charged ($others)"
	else
		fail net_no_other_cgroup_charged "rx over the limit in: $(echo "$others" | tr '\n' ' ')"
	fi
fi

# -------------------------------------------------------------- run queue
mkdir "$CG_TEST/busy" "$CG_TEST/idle"
cg_spawn "$CG_TEST/busy" taskset -c 0 sh -c 'while :; do :; done' >/dev/null
cg_spawn "$CG_TEST/busy" taskset -c 0 sh -c 'while :; do :; done' >/dev/null
cg_spawn "$CG_TEST/idle" sleep 300 >/dev/null
sleep 0.5
# Another process busy on CPU 0 (a TCG VM of a parallel run, a build) keeps
# preempting the loops for short bursts, and each burst is a short wait that
# pulls the median down; so a p50 <= 1000 us is measured once more, and the
# load average is shown, before it counts as a failure.
# The kernel's own figure for the same time: run_delay (ns) and timeslices
# of both loops (/proc/PID/schedstat), so a short median on a shared CPU can
# be told from a wrong one.
loop_sched() {
	local p
	for p in $(cat "$CG_TEST/busy/cgroup.procs"); do cat "/proc/$p/schedstat" 2>/dev/null; done |
		awk '{ d += $2; n += $3 } END { print d + 0, n + 0 }'
}
for attempt in 1 2; do
	rq=$tmp/runq$attempt.ndjson
	validate_nd+=("$rq")
	read -r kd0 kn0 <<<"$(loop_sched)"
	"$CGWARDEN" stream --interval 1 --count 3 --bpf-stats >"$rq" 2>"$rq.err"
	read -r kd1 kn1 <<<"$(loop_sched)"
	kmean=$(awk -v a="$kd0" -v b="$kd1" -v m="$kn0" -v n="$kn1" 'BEGIN { if (n > m) printf "%.0f", (b - a) / 1000 / (n - m); else print 0 }')
	rc=$?
	[ "$rc" = 0 ] || fail runq_stream "exit $rc: $(head -c 300 "$rq.err")"
	tick "$rq" 1 >"$tmp/rq.first"
	tick "$rq" '$' >"$tmp/rq.last"
	read -r p50 p99 cnt cs <<<"$(jq -r --arg p "$CG_REL/busy" '.cgroups[] | select(.path == $p)
		| "\(.sched.runq_p50_usec) \(.sched.runq_p99_usec) \(.sched.runq_count) \(.sched.ctx_switches_per_sec)"' "$tmp/rq.last")"
	echo "# runq busy (last tick, attempt $attempt): p50 $p50 us, p99 $p99 us, count $cnt, ctx switches/s $cs"
	awk -v x="$p50" 'BEGIN { exit !(x ~ /^[0-9.]+$/ && x + 0 > 1000) }' && break
	[ "$attempt" = 1 ] && first_p50=$p50
done
if awk -v x="$p50" 'BEGIN { exit !(x ~ /^[0-9.]+$/ && x + 0 > 1000) }'; then
	pass "runq_two_loops_one_cpu_p50_over_1ms ($p50 us${first_p50:+; first attempt $first_p50 us})"
elif awk -v x="$p50" -v k="$kmean" 'BEGIN { exit !(x ~ /^[0-9.]+$/ && x + 0 > 0 && k < 1000 && x <= 2 * k) }'; then
	# Others shared CPU 0: the kernel itself saw the loops wait less than
	# 1 ms a timeslice on average; the median may not exceed twice that.
	pass "runq_two_loops_one_cpu_p50_over_1ms (CPU 0 shared: p50 $p50 us, the kernel's mean wait $kmean us a timeslice)"
else
	fail runq_two_loops_one_cpu_p50_over_1ms "p50 '$first_p50' then '$p50', want > 1000 (or, with CPU 0 shared, at most twice the kernel's mean wait, $kmean us); load average $(cut -d' ' -f1-3 /proc/loadavg)"
fi
# Ground truth for the wait itself: the kernel's run_delay
# (/proc/PID/schedstat, 2nd field, ns). Two loops pinned to CPU 0 are
# started in a fresh cgroup once cgwarden is attached, run ~3 s, and are
# stopped (a stopped task waits for nothing); their run_delay then is all
# the waiting they did, and cgwarden's cumulative runq_sum_usec for the
# cgroup, a tick later, must be the same within 2%. Each loop's shell
# notes its run_delay right after it moved itself into the cgroup, and that
# is subtracted: on a busy host a new task can wait hundreds of ms before
# it first runs (seen: 435 ms, 7%), and none of that was in the cgroup.
gt=$tmp/runq-gt.ndjson
validate_nd+=("$gt")
"$CGWARDEN" stream --interval 0.5 --count 14 >"$gt" 2>"$gt.err" &
gt_pid=$!
for _ in $(seq 500); do grep -q '"type":"tick"' "$gt" && break; sleep 0.02; done
mkdir "$CG_TEST/rqgt"
gt_pids=$(for i in 1 2; do
	sh -c 'echo $$ >"$1/cgroup.procs" && read -r _ d _ </proc/self/schedstat && echo "$d" >"$2.tmp" &&
		mv "$2.tmp" "$2" && exec taskset -c 0 sh -c "while :; do :; done"' \
		sh "$CG_TEST/rqgt" "$tmp/rd0.$i" >/dev/null 2>&1 &
	disown $! 2>/dev/null
	echo $!
done)
for _ in $(seq 100); do [ -s "$tmp/rd0.1" ] && [ -s "$tmp/rd0.2" ] && break; sleep 0.05; done
sleep 3
kill -STOP $gt_pids
kern=0
for p in $gt_pids; do kern=$((kern + $(cut -d' ' -f2 "/proc/$p/schedstat"))); done
before=$(($(cat "$tmp/rd0.1" 2>/dev/null || echo 0) + $(cat "$tmp/rd0.2" 2>/dev/null || echo 0)))
kern=$(((kern - before) / 1000))
wait "$gt_pid"
kill -KILL $gt_pids 2>/dev/null
ours=$(tick "$gt" '$' | jq -r --arg p "$CG_REL/rqgt" '.cgroups[] | select(.path == $p) | .sched.runq_sum_usec')
echo "# runq ground truth: cgwarden runq_sum_usec $ours, kernel run_delay $kern us (less $((before / 1000)) us waited before the move)"
if awk -v a="$ours" -v k="$kern" 'BEGIN { exit !(k > 1000000 && a > 0.98 * k && a < 1.02 * k) }'; then
	pass "runq_sum_matches_kernel_run_delay ($ours us vs $kern us)"
else
	fail runq_sum_matches_kernel_run_delay "cgwarden '$ours' us, kernel $kern us (want within 2%, kernel > 1 s)"
fi
idle_d=$(delta "$tmp/rq.first" "$tmp/rq.last" "$CG_REL/idle" .sched.runq_count)
read -r ip50 isched <<<"$(jq -r --arg p "$CG_REL/idle" '.cgroups[] | select(.path == $p)
	| "\(.sched.runq_p50_usec) \(.sched | tojson)"' "$tmp/rq.last")"
echo "# runq idle (last tick): runq_count delta $idle_d, sched $isched"
if [ "$idle_d" = 0 ] && [ "$ip50" = null ]; then
	pass runq_idle_no_samples_p50_null
else
	fail runq_idle_no_samples_p50_null "runq_count delta '$idle_d' (want 0), p50 '$ip50' (want null)"
fi
rt=$(jq -r .self.bpf_run_time_ns "$tmp/rq.last")
if [[ $rt =~ ^[0-9]+$ ]] && [ "$rt" -gt 0 ]; then
	pass "self_bpf_run_time_ns_counts_with_bpf_stats ($rt ns)"
else
	fail self_bpf_run_time_ns_counts_with_bpf_stats "'$rt'"
fi
# Without --bpf-stats the kernel's global stats stay off: run time unknown.
rt=$("$CGWARDEN" snapshot --compact 2>/dev/null | jq -r .self.bpf_run_time_ns)
[ "$rt" = null ] && pass bpf_run_time_null_without_bpf_stats ||
	fail bpf_run_time_null_without_bpf_stats "'$rt'"
echo 1 >"$CG_TEST/busy/cgroup.kill"	# two spinning CPUs would disturb the rest

# ------------------------------------------------------------------- exec
mkdir "$CG_TEST/execs"
mkfifo "$tmp/go"
# Only builtins besides the 25 /bin/true: no fork or exec of its own.
cg_spawn "$CG_TEST/execs" bash -c 'read -r _ <"$1"
	for ((i = 0; i < 25; i++)); do /bin/true; done
	echo done >"$1.done"
	read -r _ <"$1"' bash "$tmp/go" >/dev/null
sleep 0.3
ex=$tmp/exec.ndjson
stream_bg "$ex" --interval 0.5
if ! wait_ticks "$ex" 1 20; then
	fail exec_stream_starts "no tick in 20 s: $(head -c 300 "$ex.err")"
else
	k0=$(ticks "$ex")
	echo go >"$tmp/go"
	for i in $(seq 100); do [ -e "$tmp/go.done" ] && break; sleep 0.1; done
	k1=$(ticks "$ex")
	wait_ticks "$ex" $((k1 + 2)) 10
	stream_stop
	tick "$ex" "$k0" >"$tmp/ex.before"
	tick "$ex" '$' >"$tmp/ex.after"
	for f in execs forks exits; do
		d=$(delta "$tmp/ex.before" "$tmp/ex.after" "$CG_REL/execs" ".proc.$f")
		[ "$d" = 25 ] && pass "proc_${f}_exactly_25" || fail "proc_${f}_exactly_25" "delta '$d'"
	done
fi

# ----------------------------------------------------------------- no-bpf
"$CGWARDEN" snapshot --no-bpf >"$tmp/nobpf.json" 2>"$tmp/nobpf.err"
rc=$?
bad=$(jq -r '[.cgroups[] | select(.sched != null or .net != null or .proc != null or .oom != null
	or (has("sched") and has("net") and has("proc") and has("oom") | not)) | .path] | length' "$tmp/nobpf.json")
if [ "$rc" = 0 ] && [ "$bad" = 0 ] && [ "$(jq -r '.cgroups | length' "$tmp/nobpf.json")" -gt 0 ]; then
	pass no_bpf_fields_null
else
	fail no_bpf_fields_null "exit $rc, $bad cgroups with a non-null or missing sched/net/proc/oom"
fi
[ "$(jq -r .self.bpf "$tmp/nobpf.json")" = false ] && pass no_bpf_self_bpf_false ||
	fail no_bpf_self_bpf_false "self.bpf $(jq -c .self.bpf "$tmp/nobpf.json")"
# --no-bpf-sched: the scheduler's fields absent, the rest counted.
"$CGWARDEN" snapshot --no-bpf-sched --compact >"$tmp/nosched.json" 2>"$tmp/nosched.err"
rc=$?
# (net stays null where another user's exclusive program keeps ours out)
bad=$(jq --argjson netoff "$([ -n "$net_off" ] && echo true || echo false)" \
	'[.cgroups[] | select(.sched != null or .proc == null or (.net == null and ($netoff | not))) | .path] | length' \
	"$tmp/nosched.json" 2>/dev/null)
if [ "$rc" = 0 ] && [ "$bad" = 0 ] && [ "$(jq -r .self.bpf "$tmp/nosched.json")" = true ]; then
	pass no_bpf_sched_only_sched_absent
else
	fail no_bpf_sched_only_sched_absent "exit $rc, $bad cgroups with sched set or proc/net null; stderr: $(head -c 300 "$tmp/nosched.err")"
fi
if grep -q 'eBPF counters off' "$tmp/nobpf.err"; then
	fail no_bpf_says_nothing "$(cat "$tmp/nobpf.err")"
else
	pass no_bpf_says_nothing
fi

# ----------------------------------------------------------- coexistence
# cgwarden's own programs and maps are known by id from its fdinfo, so other
# BPF users coming and going meanwhile (another cgwarden of a parallel run)
# do not count as ours.
# root_ids: JSON array of the program ids attached to the cgroup2 root.
root_ids() { bpftool cgroup show "$CG_MNT" -j 2>/dev/null | jq -c '[.[]?.id] | sort'; }
loaded() { bpftool "$1" show -j 2>/dev/null | jq -c '[.[].id] | sort'; }
# our_ids PID: the prog and map ids PID holds, into OURP and OURM.
our_ids() {
	OURP=$(cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '$1 == "prog_id:" { print $2 }' | sort -un | jq -sc .)
	OURM=$(cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '$1 == "map_id:" { print $2 }' | sort -un | jq -sc .)
}
# attached_ours PID: two of PID's programs are attached to the root.
attached_ours() {
	our_ids "$1"
	jq -e -n --argjson r "$(root_ids)" --argjson o "$OURP" '[$r[] | select(. as $i | $o | index([$i]))] | length == 2' >/dev/null
}
# after_gone NAME: (2 s grace: the kernel frees programs from a workqueue)
# none of OURP/OURM is loaded any more, and every program attached to the
# root before is still attached unless its owner has unloaded it.
after_gone() {
	local i left removed
	for i in $(seq 20); do
		left=$(jq -c -n --argjson p "$(loaded prog)" --argjson m "$(loaded map)" \
			--argjson op "$OURP" --argjson om "$OURM" \
			'[($op[] | select(. as $i | $p | index([$i]))), ($om[] | select(. as $i | $m | index([$i])) | "map \(.)")]')
		removed=$(jq -c -n --argjson r "$(root_ids)" --argjson r0 "$attach0" --argjson p "$(loaded prog)" \
			'[$r0[] | select(. as $i | ($r | index([$i]) | not) and ($p | index([$i])))]')
		[ "$left" = "[]" ] && [ "$removed" = "[]" ] && break
		sleep 0.1
	done
	if [ "$left" = "[]" ] && [ "$removed" = "[]" ]; then
		pass "$1 (ours gone after $(((i - 1) * 100)) ms, root attachments $(root_ids))"
	else
		fail "$1" "still loaded of ours: $left; detached from the root but still loaded: $removed"
	fi
	# The stats switch is global: only "we left it on" can be seen.
	if [ "$stats0" = 0 ] && [ "$(sysctl -n kernel.bpf_stats_enabled)" != 0 ]; then
		fail "$1.bpf_stats_off" "kernel.bpf_stats_enabled is $(sysctl -n kernel.bpf_stats_enabled), was 0"
	else
		pass "$1.bpf_stats_off"
	fi
}

if ! command -v bpftool >/dev/null; then
	skip coexistence "no bpftool"
elif [ -n "$net_off" ]; then
	skip coexistence "another user's program: $net_off"
else
	# Another BPF user: an allow-all cgroup_skb program on the root (multi),
	# pinned in a private bpffs; the trap detaches it and unmounts.
	printf '%s\n' 'struct __sk_buff;' \
		'__attribute__((section("cgroup_skb/ingress"), used)) int foreign_in(struct __sk_buff *s) { return 1; }' \
		'__attribute__((section("license"), used)) char _license[] = "GPL";' >"$tmp/foreign.c"
	mkdir "$tmp/bpffs"
	if clang -O2 -target bpf -c "$tmp/foreign.c" -o "$tmp/foreign.o" 2>"$tmp/foreign.err" &&
		mount -t bpf bpf "$tmp/bpffs" 2>>"$tmp/foreign.err" &&
		bpftool prog load "$tmp/foreign.o" "$tmp/bpffs/foreign" type cgroup/skb 2>>"$tmp/foreign.err" &&
		foreign_pin=$tmp/bpffs/foreign &&
		bpftool cgroup attach "$CG_MNT" ingress pinned "$foreign_pin" multi 2>>"$tmp/foreign.err"; then
		foreign_id=$(bpftool prog show pinned "$foreign_pin" -j | jq .id)
		echo "# a foreign allow-all cgroup_skb program (id $foreign_id) is attached to $CG_MNT (multi)"
	else
		foreign_id=
		echo "# no foreign program (so only our own cleanup is checked): $(head -c 200 "$tmp/foreign.err")"
	fi
	attach0=$(root_ids)
	stats0=$(sysctl -n kernel.bpf_stats_enabled)
	echo "# before: root attachments $attach0"

	co=$tmp/coexist.ndjson
	stream_bg "$co" --interval 0.2 --count 5
	seen=no
	for i in $(seq 200); do
		attached_ours "$SPID" && { seen=yes; during=$(root_ids); break; }
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.05
	done
	wait "$SPID"
	rc=$?
	STREAM_PIDS=${STREAM_PIDS/ $SPID/}
	[ "$rc" = 0 ] || fail coexist_stream "exit $rc: $(head -c 300 "$co.err")"
	if [ "$seen" = yes ] && { [ -z "$foreign_id" ] || jq -e --argjson f "$foreign_id" 'index([$f])' <<<"$during" >/dev/null; }; then
		pass "coexist_ours_attached_beside_others (root $during, ours among $OURP)"
	else
		fail coexist_ours_attached_beside_others "seen '$seen'; root during: ${during:-?}, ours $OURP"
	fi
	after_gone coexist_count_exit_cleans_up

	tt=$tmp/sigterm.ndjson
	stream_bg "$tt" --interval 0.2
	seen=no
	for i in $(seq 200); do
		attached_ours "$SPID" && { seen=yes; break; }
		sleep 0.05
	done
	wait_ticks "$tt" 2 10
	stream_stop
	[ "$seen" = yes ] || fail coexist_sigterm_attached "our programs never showed up"
	[ "$SRC" = 0 ] && pass sigterm_exits_0 || fail sigterm_exits_0 "exit $SRC: $(head -c 300 "$tt.err")"
	after_gone coexist_sigterm_cleans_up

	# An exclusive program (no BPF_F_ALLOW_MULTI) on the root leaves no
	# room for ours: cgwarden must leave it alone, say so and go on with
	# net null and everything else on.
	# (Fails while another BPF user, e.g. a parallel cgwarden, has a multi
	# program there: then it is not tested.)
	if [ -z "$foreign_id" ]; then
		:
	elif ! { bpftool cgroup detach "$CG_MNT" ingress pinned "$foreign_pin" &&
		bpftool cgroup attach "$CG_MNT" ingress pinned "$foreign_pin" 2>/dev/null; }; then
		skip exclusive_foreign_program_net_off_rest_on "cannot attach an exclusive program to $CG_MNT: $(root_ids) attached"
	else
		"$CGWARDEN" snapshot >"$tmp/excl.json" 2>"$tmp/excl.err"
		rc=$?
		bpftool cgroup detach "$CG_MNT" ingress pinned "$foreign_pin"	# at once: the root is shared
		read -r nonnull sched bpf <<<"$(jq -r '[([.cgroups[] | select(.net != null)] | length),
			([.cgroups[] | select(.sched != null)] | length), .self.bpf] | @tsv' "$tmp/excl.json")"
		# One line says why net is off; others' cgroups (a neighbour's
		# deep tree) may earn their own notices, nothing else may appear.
		said=$(grep -c "^cgwarden: eBPF: network counters off: $CG_MNT has an exclusive cgroup_skb program" "$tmp/excl.err")
		errs=$(unexpected_stderr "$tmp/excl.err")
		echo "# exclusive foreign program: stderr: $(cut -c1-200 "$tmp/excl.err" | tr '\n' ' ')"
		if [ "$rc" = 0 ] && [ "$nonnull" = 0 ] && [ "$sched" -gt 0 ] && [ "$bpf" = true ] &&
			[ "$said" = 1 ] && [ "$(grep -c 'eBPF' "$tmp/excl.err")" = 1 ] && [ -z "$errs" ]; then
			pass exclusive_foreign_program_net_off_rest_on
		else
			fail exclusive_foreign_program_net_off_rest_on "exit $rc, $nonnull cgroups with net, $sched with sched, self.bpf $bpf, $said lines saying why, stderr: $(head -c 300 "$tmp/excl.err")"
		fi
	fi
fi

# ----------------------------------------------------------------- schema
# Every line, but of the cgroups only the root and ours: on a shared host
# each tick also carries thousands of others' cgroups (other tests' 5,000-
# cgroup trees), and validating those in Python ran this test past its 600 s.
# The first snapshot is validated whole: others' names pass the schema once.
mine() {
	jq -c --arg me "$CG_REL" 'if has("cgroups") then .cgroups |= map(select(.path == ""
		or .path == $me or (.path | startswith($me + "/")))) else . end' "$1" >"$1.mine"
}
mine_nd=()
for f in "${validate_nd[@]}"; do
	mine "$f" && mine_nd+=("$f.mine")
done
if out=$("$PY" tests/schema_validate.py --ndjson "${mine_nd[@]}" 2>&1); then
	pass "schema_every_stream_line (${#mine_nd[@]} streams, $(cat "${mine_nd[@]}" | wc -l) lines)"
else
	fail schema_every_stream_line "$out"
fi
snaps=("$tmp/probe.json")
mine "$tmp/nobpf.json" && snaps+=("$tmp/nobpf.json.mine")
[ -s "$tmp/excl.json" ] && mine "$tmp/excl.json" && snaps+=("$tmp/excl.json.mine")
if out=$("$PY" tests/schema_validate.py "${snaps[@]}" 2>&1); then
	pass "schema_snapshots (${#snaps[@]})"
else
	fail schema_snapshots "$out"
fi
finish
