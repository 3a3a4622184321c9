#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench: the collector against its floor on 1,000 and 10,000 empty
# cgroups (100 per parent, like pods with containers) in a test-owned
# subtree, and the real commands against the floor of the files they read
# on a flat and a nested tree, and the flight recorder's bytes on disk, cost
# and replay seek (part record). Prints figures and ratios; never fails on
# time.
#   tests/bench/run.sh [PART...]
#   PART: commands scale record cgroups json prom pingpong top (default: all
#   but record, which BENCH_BIG=1 adds: it takes 6 minutes)
# Environment (all optional):
#   BENCH_BIG=1          the commands and scale parts on 10,000-cgroup trees
#                        too (flat and nested; minutes), and the record part
#   BENCH_TICKS=N        ticks of the cgroups part's floor (10)
#   BENCH_CMD_TICKS=N    measured ticks per command and floor in the commands
#                        part (16; 8 on the 10,000-cgroup trees) and in the
#                        scale part (8)
#   BENCH_INTERVAL=SEC   the scale part's tick interval (1)
#   BENCH_STARTS=N       scale: serve starts timed to the first complete tick (3)
#   BENCH_RENDERS=N      scale: ticks whose /metrics is scraped gzip first, and
#                        as many plain first (3 each)
#   BENCH_REC_TICKS=N    record: ticks recorded per tree (120)
#   BENCH_REC_INTERVAL=SEC  record: the interval of those (1; --flush is two)
#   BENCH_REC_RUNS=N     record: runs of each replay seek timed (5)
#   PINGPONG_PAIRS=N, PINGPONG_ARGS=...  see the pingpong part
. "$(dirname "$0")/../lib.sh"
parts=" $* "
# Named parts run; with none, all but record, which takes 6 minutes
# (BENCH_BIG=1 adds it).
want() {
	if [ "$parts" = "  " ]; then
		[ "$1" != record ] || [ "${BENCH_BIG:-0}" = 1 ]
	else
		[[ $parts == *" $1 "* ]]
	fi
}
if ! cg_setup; then echo "bench: skipped: $SKIP_WHY"; exit 0; fi
ticks=${BENCH_TICKS:-10}

# The real commands against the floor of the files they read (issue 13):
# serve (idle, and scraped once a tick), stream to /dev/null and stream
# --fields cpu.usage_ratio, each for BENCH_CMD_TICKS ticks (default 16) after 3
# of warm-up, on a flat and a nested tree made for them and removed after.
# The floor (tick_floor) keeps exactly those files open and preads each
# once a tick at the same interval, in the same run: flat and nested trees
# of one size differ by 1.5x, so a ratio means something only next to its
# tree and command, and every line carries both. CPU is the process's run
# time (schedstat, ns) between instants in the middle of intervals, one
# each tick; the phase comes from its tick timer (it_value in the
# timerfd's fdinfo). The median tick is the figure: this host is shared. Files per cgroup per tick are the
# command's own self.files_read / self.cgroups: serve's /snapshot after
# the window, stream's last tick line of a separate --count 3 run with the
# same options (its measured run writes to /dev/null). eBPF is off (it
# would colour the figure), and the fd budget keeps every file open where
# RLIMIT_NOFILE allows (self.reopened_files says when it does not).
now_us() { echo "${EPOCHREALTIME/./}"; }
sleep_until() {
	local d=$(($1 - $(now_us)))
	((d > 0)) && sleep "$(printf '%d.%06d' $((d / 1000000)) $((d % 1000000)))"
	return 0
}
# median NUMBER...: the median of its arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# cpu_ns PID: the run time of all its threads so far.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'; }
# timer_fd PID INTERVAL_US: the fd of its periodic timer of that interval
# (the tick timer); fails while it has none.
timer_fd() {
	local f
	while IFS= read -r f; do
		grep -qx "it_interval: ($(($2 / 1000000)), $(($2 % 1000000 * 1000)))" \
			/proc/"$1"/fdinfo/"${f##*/}" 2>/dev/null && echo "${f##*/}" && return 0
	done < <(find /proc/"$1"/fd -lname 'anon_inode:\[timerfd\]' 2>/dev/null)
	return 1
}
# timer_left_us PID FD: time to the timer's next firing.
timer_left_us() {
	awk '/^it_value:/ { gsub(/[(),]/, " "); print $2 * 1000000 + int($3 / 1000) }' \
		/proc/"$1"/fdinfo/"$2" 2>/dev/null
}
# sample PID FD: sets S_CPU (PID's run time so far, ns), S_NEXT (when its
# tick timer FD fires next, us) and S_NOTE (empty when the instant fell
# well between two ticks, PID sleeping before and after the reading).
sample() {
	local s1 s2 t left
	s1=$(proc_state "$1")
	S_CPU=$(cpu_ns "$1") t=$(now_us)
	left=$(timer_left_us "$1" "$2")
	s2=$(proc_state "$1")
	S_NEXT=$((t + left)) S_NOTE=
	if [ "$s1" != S ] || [ "$s2" != S ] || ((left < iv_us / 10 || left > iv_us * 9 / 10)); then
		S_NOTE="sampled $((left / 1000)) ms before a tick, state $s1 $s2; "
	fi
}
proc_state() { awk '{ sub(/.*\) /, ""); print $1 }' /proc/"$1"/stat 2>/dev/null; }
# window PID [SOCK]: waits for PID's tick timer (it is armed after the
# first tick), lets $cmd_warm ticks pass, then takes a sample in the
# middle of each of the next $cmd_ticks intervals (or $win_phase percent
# of the way through: later, for ticks that take half of one). Sets
# W_TICKS (counted by the timer: exact even when a sleep here runs late),
# W_MEAN_NS and W_MEDIAN_NS (CPU per tick: the mean, and the median of
# the ticks one by one, which a busy host's disturbance of a few ticks does
# not move) and
# W_NOTE (empty, or why the figure is doubtful). With SOCK, /metrics is
# scraped there once after each tick.
window() {
	local pid=$1 sock=${2:-} fd='' a cpu_a cpu_p next_a next_p i k bad=0 note='' ph=${win_phase:-50}
	local -a per=()
	for ((i = 0; i < 600; i++)); do
		fd=$(timer_fd "$pid" "$iv_us") && break
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	[ -n "$fd" ] || return 1
	a=$(($(now_us) + $(timer_left_us "$pid" "$fd") + (cmd_warm - 1) * iv_us + iv_us * ph / 100))
	sleep_until "$a"
	sample "$pid" "$fd"
	cpu_a=$S_CPU next_a=$S_NEXT cpu_p=$S_CPU next_p=$S_NEXT W_TICKS=0
	[ -n "$S_NOTE" ] && bad=1 note=$S_NOTE
	for ((i = 1; i <= cmd_ticks; i++)); do
		if [ -n "$sock" ]; then
			sleep_until $((next_a + (i - 1) * iv_us + iv_us / 4))
			curl -sf --unix-socket "$sock" -o /dev/null http://localhost/metrics ||
				note="a scrape failed; $note"
		fi
		sleep_until $((next_a + (i - 1) * iv_us + iv_us * ph / 100))
		sample "$pid" "$fd"
		[ -n "$S_NOTE" ] && bad=$((bad + 1)) note=${note:-$S_NOTE}
		k=$(((S_NEXT - next_p + iv_us / 2) / iv_us))
		((k > 0)) && per+=($(((S_CPU - cpu_p) / k)))
		W_TICKS=$((W_TICKS + k)) cpu_p=$S_CPU next_p=$S_NEXT
	done
	W_MEAN_NS=$(((S_CPU - cpu_a) / (W_TICKS > 0 ? W_TICKS : 1)))
	W_MEDIAN_NS=$(printf '%s\n' "${per[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int(NR / 2) + 1] + 0 }')
	W_NOTE=
	((bad)) && W_NOTE="$bad of $((cmd_ticks + 1)) samples not clearly between ticks, e.g. $note"
	return 0
}
# mk_tree flat|nested DIR UNITS: flat: UNITS parents x 100 children (pods
# with containers); nested: UNITS slices x 50 scopes, each scope with one
# child (systemd's shape).
mk_tree() {
	local p
	mkdir "$2"
	for ((p = 0; p < $3; p++)); do
		if [ "$1" = flat ]; then
			mkdir "$2/pod$p"
			(cd "$2/pod$p" && mkdir $(seq -f c%g 1 100))
		else
			mkdir "$2/s$p.slice"
			(cd "$2/s$p.slice" && mkdir $(seq -f sc%g.scope 1 50) && mkdir $(seq -f sc%g.scope/main 1 50))
		fi
	done
}
rm_tree() { find "$1" -depth -type d -exec rmdir {} + 2>/dev/null; }
# floor_field LINE KEY: a value out of tick_floor's key=value line.
floor_field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
# The files that carry the metrics the BPF iterator replaces (issue 14).
six_files=(cpu.stat cpu.pressure memory.pressure io.pressure cgroup.events cgroup.procs)
# floor all|cpu|cpu.stat|six: runs a floor on $dir and sets FLOOR (its
# line): all: that of serve and stream; cpu: that of --fields
# cpu.usage_ratio (cpu.stat, and cgroup.stat where the walk reads it);
# cpu.stat: cpu.stat alone; six: the $six_files. With a second argument
# "list", one quick tick: the files, not the time.
floor() {
	local -a run=(-n "$cmd_ticks" -w "$cmd_warm" -i "$iv_ms") what
	[ "${2:-}" = list ] && run=(-n 1 -w 0 -i 0)
	case $1 in
	all) what=(-p -H "$dir" @collector) ;;
	cpu) what=(-p "$dir" cpu.stat) ;;
	cpu.stat) what=("$dir" cpu.stat) ;;
	six) what=("$dir" "${six_files[@]}") ;;
	esac
	FLOOR=$("$BUILD/bench/tick_floor" "${run[@]}" "${what[@]}")
}
# row CMD FLOOR_BEFORE FLOOR_AFTER TICKS MEAN_NS MEDIAN_NS NOTE FILES_READ
# CGROUPS REOPENED: one result line. CPU per tick is the median of the
# ticks (the mean's ratio is beside it); the floor's is the mean of its
# medians before and after the commands (the machine's speed drifts), and
# "drift" is how far those two differ.
row() {
	awk -v tree="$tree" -v f1="$(floor_field "$2" cpu_ms_median)" \
		-v f2="$(floor_field "$3" cpu_ms_median)" -v m1="$(floor_field "$2" cpu_ms_per_tick)" \
		-v m2="$(floor_field "$3" cpu_ms_per_tick)" -v ffc="$(floor_field "$2" files_per_cgroup)" \
		-v t="$4" -v mean="$5" -v med="$6" -v note="$7" -v fr="$8" -v cg="$9" -v re="${10}" \
		-v cmd="$1" 'BEGIN {
		ms = med / 1e6
		fl = (f1 + f2) / 2
		fm = (m1 + m2) / 2
		sub(/; $/, "", note)
		printf "%-26s %5d %8.3f %8.3f %5.1f%% %6.2f %6.2f %8.2f %8.2f %6s  %s%s\n", tree, t, ms, fl,
			(fl > 0) ? 100 * (f1 > f2 ? f1 - f2 : f2 - f1) / fl : 0, (fl > 0) ? ms / fl : 0,
			(fm > 0) ? mean / 1e6 / fm : 0, (cg > 0) ? fr / cg : 0, ffc, re, cmd,
			note != "" ? "  (" note ")" : "" }'
}
# run_cmd serve|stream [scrape|FIELDS]: runs one command on $dir through
# a window and appends its figures to the R_* arrays (R_RSS: its VmRSS in
# kB right after the window). Then, when $cmd_hook is set, calls it as
# "$cmd_hook" serve|stream PID SOCK before the command is stopped.
run_cmd() {
	local pid self='' sock='' cmd rss=''
	local -a extra
	if [ "$1" = serve ]; then
		sock=$(mktemp -u /tmp/cgwarden-bench-XXXXXX.sock)
		extra=(--listen "unix:$sock")
		cmd="cgwarden serve ${common[*]} --listen unix:SOCK${2:+ (GET /metrics once a tick)}"
	else
		extra=(--output /dev/null ${2:+--fields "$2"})
		cmd="cgwarden stream ${common[*]} ${extra[*]}"
	fi
	"$CGWARDEN" "$1" "${common[@]/#TREE/$dir}" "${extra[@]}" &
	pid=$! cmd_pid=$!
	if ! window "$pid" ${2:+${sock:+"$sock"}}; then
		echo "bench: $1 did not start its ticks" >&2
	else
		rss=$(awk '/^VmRSS:/ { print $2 }' /proc/"$pid"/status 2>/dev/null)
		if [ "$1" = serve ]; then
			self=$(curl -sf --unix-socket "$sock" http://localhost/snapshot | jq -r "$self_jq")
		else
			# Its own count of files, from a short run of the same command
			# whose output is kept (the measured one writes to /dev/null).
			"$CGWARDEN" stream "${common[@]/#TREE/$dir}" --count 3 --output "$out" ${2:+--fields "$2"}
			self=$(last_tick "$out" | jq -r "$self_jq")
			: >"$out"
		fi
		[ -n "${cmd_hook:-}" ] && "$cmd_hook" "$1" "$pid" "$sock"
	fi
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	cmd_pid=
	[ -n "$sock" ] && rm -f "$sock"
	[ -n "$self" ] || return 0
	R_CMD+=("$cmd") R_TICKS+=("$W_TICKS") R_MEAN+=("$W_MEAN_NS") R_MEDIAN+=("$W_MEDIAN_NS")
	R_NOTE+=("$W_NOTE") R_SELF+=("$self") R_RSS+=("$rss")
}
rows_reset() { R_CMD=() R_TICKS=() R_MEAN=() R_MEDIAN=() R_NOTE=() R_SELF=() R_RSS=(); }
self_jq='.self | "\(.files_read) \(.cgroups) \(.reopened_files)"'
# print_rows FLOOR_BEFORE FLOOR_AFTER: the R_* rows, emptied.
print_rows() {
	local i
	for i in "${!R_CMD[@]}"; do
		# shellcheck disable=SC2086 # R_SELF: three numbers
		row "${R_CMD[i]}" "$1" "$2" "${R_TICKS[i]}" "${R_MEAN[i]}" "${R_MEDIAN[i]}" \
			"${R_NOTE[i]}" ${R_SELF[i]}
	done
	rows_reset
}
# set_interval SEC: iv_s, iv_us and iv_ms, which window() and floor() use.
set_interval() {
	iv_s=$1
	iv_us=$(awk -v s="$iv_s" 'BEGIN { printf "%d", s * 1000000 }') iv_ms=$((iv_us / 1000))
}
# bench_commands INTERVAL_S: the table for the tree $dir ($tree). The
# floor of serve and stream runs before and after them, then that of
# --fields before and after it.
bench_commands() {
	local iv_s iv_us iv_ms budget out fa fc
	local -a common
	set_interval "$1"
	budget=$(($(ulimit -n) - 512))
	common=(--root TREE --interval "$iv_s" --no-bpf --fd-budget "$budget" --quiet)
	out=$(mktemp)
	echo "== commands against their floors: $tree: $tree_words, CPU per tick: the median of $cmd_ticks ticks after $cmd_warm of warm-up, every $iv_s s (mean-r: the ratio of the means)"
	floor all list
	echo "   floor of serve and stream: every file of collector_file_names() each cgroup has, cgroup.stat of the $(floor_field "$FLOOR" stats) of its $(floor_field "$FLOOR" parents) parents with 4+ children (as the walk), /proc/meminfo and PSI: $(floor_field "$FLOOR" files) files, $(floor_field "$FLOOR" kept) kept open"
	floor cpu list
	echo "   floor of --fields cpu.usage_ratio: cpu.stat of each cgroup, cgroup.stat of the $(floor_field "$FLOOR" stats) of its $(floor_field "$FLOOR" parents) parents with 4+ children: $(floor_field "$FLOOR" files) files, $(floor_field "$FLOOR" kept) kept open"
	printf '%-26s %5s %8s %8s %6s %6s %6s %8s %8s %6s  %s\n' tree ticks ms/tick floor drift ratio \
		mean-r files/cg floor/cg reopen "command (TREE: $dir)"
	floor all
	fa=$FLOOR
	run_cmd serve
	run_cmd serve scrape
	run_cmd stream
	floor all
	print_rows "$fa" "$FLOOR"
	floor cpu
	fc=$FLOOR
	run_cmd stream cpu.usage_ratio
	floor cpu
	print_rows "$fc" "$FLOOR"
	rm -f "$out"
}

# The scale part (issue 14, part 5), on the same trees: idle serve and
# stream CPU per tick against four floors run before and after them on
# the same tree at the same interval: cpu.stat alone, the six files that
# carry what the BPF iterator replaces ($six_files), every file the
# collector reads (the commands part's floor), and the bare iterator walk
# (build/bench/iterwalk, when built: its median walk). Then the idle
# serve's RSS (VmRSS after the window, and its self.rss_bytes); /metrics
# render and gzip, measured from outside as serve's own CPU (schedstat)
# across one scrape right after a tick, when the bodies are not made yet:
# gzip first (render + gzip) on some ticks, plain first (render, then gzip
# alone) on others, with the plain and gzip bytes; and the time from
# spawning serve to its first /healthz 200, whose /snapshot must list every
# cgroup of the tree. The commands run with their default options (eBPF
# on, the default fd budget) but --root, --interval BENCH_INTERVAL, --listen
# on a unix socket and --quiet (notices only). CPU, RSS, time and bytes
# that have no floor are against the issue's targets.
# iterwalk: the bare iterator walk's line on $dir (10 walks one tick
# interval apart after one warm-up: back to back, the kernel's cgroup
# structures stay in the CPU caches and a walk of 10,011 cgroups takes a
# third of what it takes a second apart, as the commands walk), its
# "iterwalk: why" when it cannot walk, or nothing without the tool.
iterwalk() {
	[ -x "$BUILD/bench/iterwalk" ] || return 0
	"$BUILD/bench/iterwalk" -n 10 -w 1 -i "$iv_ms" "$dir" 2>&1 | tail -n 1
}
# scale_floors: SF, the lines of the floors cpu.stat, six, all and iterwalk.
scale_floors() {
	local k
	SF=()
	for k in cpu.stat six all; do
		floor "$k"
		SF+=("$FLOOR")
	done
	SF+=("$(iterwalk)")
}
# scale_row FIGURE VALUE REF_BEFORE REF_AFTER AGAINST [NOTE]: one line: the
# figure, its reference (a floor: the mean of its figures before and after,
# and how far those differ; a target: REF_AFTER "-") and the ratio.
scale_row() {
	awk -v tree="$tree" -v fig="$1" -v v="$2" -v r1="$3" -v r2="$4" -v ag="$5" \
		-v note="${6:-}" 'BEGIN {
		sub(/; $/, "", note)
		note = (note != "") ? "  (" note ")" : ""
		if (v == "" || r1 == "" || r2 == "" || r1 + 0 <= 0) {
			printf "%-26s %-30s %10s %10s %6s %8s  %s%s\n", tree, fig,
				v == "" ? "n/a" : sprintf("%.3f", v), "n/a", "", "n/a", ag, note
			exit
		}
		ref = (r2 == "-") ? r1 : (r1 + r2) / 2
		drift = (r2 == "-") ? "-" : sprintf("%.1f%%", 100 * (r1 > r2 ? r1 - r2 : r2 - r1) / ref)
		printf "%-26s %-30s %10.3f %10.3f %6s %7.3fx  %s%s\n", tree, fig, v, ref, drift,
			v / ref, ag, note }'
}
# cpu_rows WHAT MEDIAN_NS NOTE: WHAT's CPU per tick against each floor.
cpu_rows() {
	local ms i f
	local -a names=("cpu.stat pread floor" "6-file pread floor" "all-files pread floor")
	ms=$(awk -v n="$2" 'BEGIN { printf "%.3f", n / 1e6 }')
	for i in 0 1 2; do
		f=${SF_B[i]}
		scale_row "$1 CPU ms/tick" "$ms" "$(floor_field "$f" cpu_ms_median)" \
			"$(floor_field "${SF_A[i]}" cpu_ms_median)" \
			"${names[i]} ($(floor_field "$f" files) files)" "$3"
	done
	if [[ ${SF_B[3]} == cgroups=* ]]; then
		scale_row "$1 CPU ms/tick" "$ms" "$(floor_field "${SF_B[3]}" walk_ms_median)" \
			"$(floor_field "${SF_A[3]}" walk_ms_median)" \
			"bare iterator walk (iterwalk: cgroups=$(floor_field "${SF_B[3]}" cgroups), median of 10 at the interval)" "$3"
	else
		scale_row "$1 CPU ms/tick" "$ms" "" "" "bare iterator walk: n/a (${SF_B[3]:-no iterwalk})"
	fi
}
# first_ticks: starts serve $starts times, each timed from its spawn to its
# first /healthz 200 (60 s at most); the listening socket is there before
# the first tick, and a request waits for it. Sets FT_MS (the median, ms),
# FT_NOTE (each start, and what the first /snapshot held).
first_ticks() {
	local i k t0 t1 pid sock got
	local -a ms=()
	FT_NOTE=
	for ((i = 0; i < starts; i++)); do
		sock=$(mktemp -u /tmp/cgwarden-bench-XXXXXX.sock)
		t0=$(now_us) t1=
		"$CGWARDEN" serve "${common[@]/#TREE/$dir}" --listen "unix:$sock" &
		pid=$! cmd_pid=$!
		for ((k = 0; k < 3000; k++)); do
			if curl -sf --max-time 60 --unix-socket "$sock" -o /dev/null \
				http://localhost/healthz 2>/dev/null; then
				t1=$(now_us)
				break
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.02
		done
		got=
		[ -n "$t1" ] && got=$(curl -sf --unix-socket "$sock" http://localhost/snapshot |
			jq -r '"\(.seq) \(.self.cgroups) \(.cgroups | length)"')
		kill -TERM "$pid" 2>/dev/null
		wait "$pid"
		cmd_pid=
		rm -f "$sock"
		if [ -z "$t1" ]; then
			FT_NOTE+="start $((i + 1)): no /healthz 200; "
			continue
		fi
		ms+=($(((t1 - t0) / 1000)))
		# shellcheck disable=SC2086 # seq, self.cgroups, samples
		set -- $got
		if [ "${1:-}" != 1 ] || [ "${2:-}" != "$n" ] || [ "${3:-}" != "$n" ]; then
			FT_NOTE+="start $((i + 1)): first /snapshot seq ${1:-?}, self.cgroups ${2:-?}, ${3:-?} samples of $n; "
		fi
	done
	FT_MS=
	((${#ms[@]})) && FT_MS=$(median "${ms[@]}")
	FT_NOTE="starts: ${ms[*]} ms, each /snapshot seq 1 with all $n cgroups unless said; $FT_NOTE"
}
# wait_idle PID: until PID takes no CPU for 10 ms (its tick done, no
# request in hand): a tick of 10,000 cgroups sleeps now and then, so its
# state alone does not tell.
wait_idle() {
	local i c0 c1
	c1=$(cpu_ns "$1")
	for ((i = 0; i < 500; i++)); do
		c0=$c1
		sleep 0.01
		c1=$(cpu_ns "$1")
		((c1 - c0 < 200000)) && return 0
	done
	return 1
}
# scrape SOCK [gzip]: one GET /metrics; prints its bytes and seconds.
scrape() {
	curl -sf --unix-socket "$1" ${2:+-H 'Accept-Encoding: gzip'} -o /dev/null \
		-w '%{size_download} %{time_total}' http://localhost/metrics
}
# health SOCK: serve's /healthz line ("ok seq N"). Serve answers between
# ticks only: when it comes, the tick is done.
health() { curl -sf --unix-socket "$1" http://localhost/healthz; }
# render_costs serve PID SOCK (a $cmd_hook): right after ticks, serve's CPU
# for the scrapes that make the bodies: gzip first on $renders ticks, plain
# then gzip on $renders others (4 x $renders ticks at most: one whose tick
# comes among the scrapes is dropped). Sets RC_*: medians in ms (RG:
# render + gzip, R: render alone, G: gzip alone, W: the wall time of the
# gzip-first scrape), bytes (PLAIN, GZ) and RC_NOTE.
render_costs() {
	local pid=$2 sock=$3 r c0 c1 c2 h0 h1 gz plain wall dropped=0 _
	local -a rg=() ro=() go=() wl=()
	RC_RG='' RC_R='' RC_G='' RC_W='' RC_PLAIN='' RC_GZ='' RC_NOTE=''
	[ "$1" = serve ] || return 0
	h1=$(health "$sock")
	for ((r = 0; r < 4 * renders && (${#rg[@]} < renders || ${#ro[@]} < renders); r++)); do
		# The next tick, then its end.
		while h0=$(health "$sock") && [ "$h0" = "$h1" ]; do
			sleep 0.02
		done
		wait_idle "$pid"
		c0=$(cpu_ns "$pid")
		if ((${#rg[@]} <= ${#ro[@]})); then
			read -r gz wall <<<"$(scrape "$sock" gzip)"
			wait_idle "$pid"
			c1=$(cpu_ns "$pid") c2=''
		else
			read -r plain _ <<<"$(scrape "$sock")"
			wait_idle "$pid"
			c1=$(cpu_ns "$pid")
			read -r gz _ <<<"$(scrape "$sock" gzip)"
			wait_idle "$pid"
			c2=$(cpu_ns "$pid")
		fi
		# A tick among the scrapes would count as rendering.
		h1=$(health "$sock")
		if [ "$h1" != "$h0" ]; then
			dropped=$((dropped + 1))
			continue
		fi
		if [ -z "$c2" ]; then
			rg+=($((c1 - c0))) wl+=("$wall")
		else
			ro+=($((c1 - c0))) go+=($((c2 - c1)))
			RC_PLAIN=$plain RC_GZ=$gz
		fi
	done
	RC_NOTE="ticks: ${#rg[@]} gzip first, ${#ro[@]} plain first, $dropped dropped (a tick among the scrapes)"
	((${#rg[@]})) && RC_RG=$(awk -v n="$(median "${rg[@]}")" 'BEGIN { printf "%.3f", n / 1e6 }')
	((${#ro[@]})) && RC_R=$(awk -v n="$(median "${ro[@]}")" 'BEGIN { printf "%.3f", n / 1e6 }')
	((${#go[@]})) && RC_G=$(awk -v n="$(median "${go[@]}")" 'BEGIN { printf "%.3f", n / 1e6 }')
	((${#wl[@]})) && RC_W=$(awk -v s="$(median "${wl[@]}")" 'BEGIN { printf "%.3f", s * 1e3 }')
	return 0
}
# bench_scale: the scale table for the tree $dir ($tree).
bench_scale() {
	local iv_s iv_us iv_ms out starts=${BENCH_STARTS:-3} renders=${BENCH_RENDERS:-3} i
	# A serve tick of 10,000 cgroups takes over half a second.
	local win_phase=80 cmd_hook self_jq='.self | "\(.files_read) \(.cgroups) \(.reopened_files) \(.rss_bytes)"'
	local -a common SF SF_B SF_A self
	set_interval "${BENCH_INTERVAL:-1}"
	common=(--root TREE --interval "$iv_s" --quiet)
	out=$(mktemp)
	echo "== scale: $tree: $tree_words; idle serve and stream (to /dev/null) every $iv_s s, CPU per tick: the median of $cmd_ticks ticks after $cmd_warm of warm-up; floors: the median tick of $cmd_ticks at the same interval, run before and after the commands"
	echo "   cgwarden serve ${common[*]} --listen unix:SOCK; cgwarden stream ${common[*]} --output /dev/null (TREE: $dir)"
	scale_floors
	SF_B=("${SF[@]}")
	first_ticks
	rows_reset
	cmd_hook=render_costs
	run_cmd serve
	cmd_hook=
	run_cmd stream
	scale_floors
	SF_A=("${SF[@]}")
	printf '%-26s %-30s %10s %10s %6s %8s  %s\n' tree figure value floor drift ratio against
	for i in "${!R_CMD[@]}"; do
		if [[ ${R_CMD[i]} == "cgwarden serve"* ]]; then
			# shellcheck disable=SC2206 # four numbers
			self=(${R_SELF[i]})
			cpu_rows "serve idle" "${R_MEDIAN[i]}" "${R_NOTE[i]}"
			scale_row "serve idle VmRSS MiB" "$(awk -v k="${R_RSS[i]}" 'BEGIN { print k / 1024 }')" \
				16 - "target: at most 16 MiB" "after the window"
			scale_row "serve self.rss_bytes MiB" "$(awk -v b="${self[3]}" 'BEGIN { print b / 1048576 }')" \
				16 - "target: at most 16 MiB" "self: ${self[0]} files read for ${self[1]} cgroups, ${self[2]} reopened"
		else
			cpu_rows "stream" "${R_MEDIAN[i]}" "${R_NOTE[i]}"
			scale_row "stream VmRSS MiB" "$(awk -v k="${R_RSS[i]}" 'BEGIN { print k / 1024 }')" \
				16 - "target (serve's): at most 16 MiB" "after the window"
		fi
	done
	((${#R_CMD[@]})) || echo "bench: scale: no figures for serve or stream"
	scale_row "serve /metrics render+gzip ms" "$RC_RG" 100 - "target: at most 100 ms" \
		"serve's CPU (schedstat) for the first scrape after a tick, gzip; plain first: render $RC_R ms, then gzip $RC_G ms; wall $RC_W ms; medians; $RC_NOTE"
	scale_row "serve /metrics gzip MB" "$(awk -v b="$RC_GZ" 'BEGIN { if (b != "") print b / 1e6 }')" \
		"$(awk -v b="$RC_PLAIN" 'BEGIN { if (b != "") print b / 1e6 }')" - \
		"the plain body (target: at most 0.200, 5:1)" \
		"$(awk -v p="$RC_PLAIN" -v g="$RC_GZ" 'BEGIN { if (g > 0) printf "%.1f:1", p / g }')"
	scale_row "serve first tick ms" "$FT_MS" 1000 - "target: within 1 s of start" \
		"median of $starts, spawn to /healthz 200; $FT_NOTE"
	rows_reset
	rm -f "$out"
}
# bench_tree flat|nested UNITS: makes the tree once, runs the commands and
# scale parts on it (those wanted), and removes it.
bench_tree() {
	local shape=$1 dir=$CG_TEST/$1$2 n tree tree_words cmd_warm cmd_ticks
	mk_tree "$shape" "$dir" "$2"
	n=$(find "$dir" -type d | wc -l)
	if [ "$shape" = flat ]; then
		tree="flat ${2}x100 ($n cg)" tree_words="$n cgroups, $2 parents x 100 children"
	else
		tree="nested ${2}x50x1 ($n cg)"
		tree_words="$n cgroups, $2 slices x 50 scopes, each with one child"
	fi
	if want commands; then
		if (($2 < 100)); then
			cmd_warm=3 cmd_ticks=${BENCH_CMD_TICKS:-16}
			bench_commands 0.2
		else
			# A tick of 10,000 cgroups takes 0.3 s of CPU, more on a
			# busy host, and the window's instants must fall between ticks.
			cmd_warm=2 cmd_ticks=${BENCH_CMD_TICKS:-8}
			bench_commands 2
		fi
	fi
	if want scale; then
		cmd_warm=2 cmd_ticks=${BENCH_CMD_TICKS:-8}
		bench_scale
	fi
	rm_tree "$dir"
}
if want commands || want scale; then
	cmd_pid=
	trap '[ -n "$cmd_pid" ] && kill -TERM "$cmd_pid" 2>/dev/null; cg_cleanup' EXIT
	# Ctrl-C ends the script through its EXIT trap (the commands, run in
	# the background, ignore SIGINT).
	trap 'exit 130' INT TERM
	for units in 10 $([ "${BENCH_BIG:-0}" = 1 ] && echo 100); do
		bench_tree flat "$units"
		bench_tree nested "$units"
	done
fi

# The flight recorder (issue 15): what a recording costs on disk, in CPU
# and in memory, and how fast a moment of a day is found again. All of it
# through the real commands; never a pass or fail on time.
# - Bytes per cgroup-sample: `cgwarden record` for BENCH_REC_TICKS ticks
#   (120: one whole group, a keyframe and 119 deltas, as the default store
#   makes one every 10 min at 5 s) every BENCH_REC_INTERVAL s (1: counters
#   move less in shorter ticks, 0.25 s gave a fifth fewer bytes) with
#   --flush of two intervals (two ticks a chunk, as the defaults: 10 s at
#   5 s). First on this host's own v2 tree (the default root, before any
#   tree of ours is made: it holds our empty subtree and whatever others
#   have there; on a hybrid host it may be a cgroup or two, and then the
#   bytes per tick, not per cgroup, are the figure), then on a flat 10x100
#   and a nested 10x50x1 tree, recorded at once, with a loop in 5 leaves
#   (spins ~10 ms, sleeps 0.1 s: CPU, PSI and process counts move); with
#   record's VmRSS at tick 19 against the highest after it (a bounded
#   buffer: ~1.0x), and its VmHWM. The figure: the store's files
#   (segments, indexes and lock, not the directory's own 4 KiB that du -b
#   adds) over the cgroup-samples `stream --replay` gives back, and the MB
#   a day that makes per 1,000 cgroups at 5 s and at 1 s; target 6 bytes.
# - Recording cost, on the same two trees every 0.25 s, in one run: CPU
#   per tick (window: the median tick) of stream --output /dev/null against
#   record (both read every file every tick), and of serve against serve
#   --record (target at most 1.10x), each pair A B B A, with the all-files
#   pread floor before and after them; serve --record's VmRSS against
#   serve's. Every command with its defaults but --root, --interval,
#   --quiet (eBPF on, as deployed).
# - Replay seek: build/bench/rec_synth writes a synthetic day (1,000
#   cgroups, 17,280 ticks at 5 s; tests/bench/rec_synth.c says what moves)
#   with the codec and the store, as record's defaults would; then
#   `snapshot --replay DIR --at` the middle of the day, -1s and the first
#   tick, each timed as a whole command (the median of BENCH_REC_RUNS, 5;
#   the page cache is warm from the writing), target under 1 s; and its
#   bytes per cgroup-sample, flagged synthetic.
# rec_bytes DIR: the bytes of the files in DIR.
rec_bytes() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
# vm_kb PID FIELD: VmRSS, VmHWM... of PID in kB.
vm_kb() { awk -v k="$2:" '$1 == k { print $2 }' /proc/"$1"/status 2>/dev/null; }
mib() { awk -v k="$1" 'BEGIN { if (k != "") printf "%.2f", k / 1024 }'; }
# mean2 A B: their mean, or empty when either is.
mean2() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "") printf "%.3f", (a + b) / 2 }'; }
# rec_loops DIR LEAF...: a loop in each LEAF of DIR (stopped by
# rec_loops_stop with the same arguments, or cg_cleanup).
rec_loops() {
	local d=$1 l
	shift
	for l in "$@"; do
		cg_spawn "$d/$l" bash -c 'while :; do for ((i = 0; i < 1000; i++)); do :; done; sleep 0.1; done' >/dev/null
	done
}
rec_loops_stop() {
	local d=$1 l i
	shift
	for l in "$@"; do echo 1 >"$d/$l/cgroup.kill" 2>/dev/null; done
	for l in "$@"; do
		for ((i = 0; i < 50; i++)); do
			grep -qx 'populated 0' "$d/$l/cgroup.events" 2>/dev/null && break
			sleep 0.1
		done
	done
}
# rec_size_run ROOT STORE: starts `cgwarden record` of $rec_ticks ticks of
# ROOT ("" = the default root) every $rec_iv s into STORE, in the
# background (RR_PID; RR_CMD: its command line), with a watcher that
# writes "RSS HIGHEST HWM" (kB) to STORE.mem when it ends (rec_watchers:
# its pid): its VmRSS at the tick after the warm-up and window of the cost
# part (19), the highest VmRSS after it (read every 0.1 s, VmRSS and VmHWM
# taken whole) and the last VmHWM.
rec_size_run() {
	local -a opts=(--interval "$rec_iv" --flush "$rec_flush" -n "$rec_ticks" --quiet)
	RR_CMD="cgwarden record ${1:+--root TREE }${opts[*]} --output STORE"
	# shellcheck disable=SC2086 # ${1:+...}: no root, no option
	"$CGWARDEN" record ${1:+--root "$1"} "${opts[@]}" --output "$2" &
	RR_PID=$!
	rec_pids+=("$RR_PID")
	rec_watch "$RR_PID" "$2.mem" &
	rec_watchers+=($!)
}
rec_watch() {
	local i rss hwm r1='' r2=0 h=''
	for ((i = 0; i < 600; i++)); do
		timer_fd "$1" "$rec_iv_us" >/dev/null && break
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	sleep_until $(($(now_us) + (cmd_warm + cmd_ticks - 1) * rec_iv_us))
	r1=$(vm_kb "$1" VmRSS)
	while read -r rss hwm < <(awk '$1 == "VmRSS:" { r = $2 } $1 == "VmHWM:" { h = $2 }
		END { if (r != "" && h != "") print r, h }' /proc/"$1"/status 2>/dev/null); do
		((rss > r2)) && r2=$rss
		h=$hwm
		sleep 0.1
	done
	echo "$r1 $r2 $h" >"$2"
}
# rec_wait PID CMD: waits for a recording to end.
rec_wait() { wait "$1" || echo "bench: $2 exited with status $?" >&2; }
# rec_window ARGS...: cgwarden ARGS in the background through a window,
# then stopped. RW_MS (CPU per tick, the median, ms; empty when it did not
# tick), RW_NOTE, RW_RSS (VmRSS after the window, kB).
rec_window() {
	local pid
	RW_MS='' RW_NOTE='' RW_RSS=''
	"$CGWARDEN" "$@" &
	pid=$! cmd_pid=$!
	if window "$pid"; then
		RW_MS=$(awk -v n="$W_MEDIAN_NS" 'BEGIN { printf "%.3f", n / 1e6 }')
		RW_NOTE=$W_NOTE RW_RSS=$(vm_kb "$pid" VmRSS)
	else
		echo "bench: cgwarden $1 did not start its ticks" >&2
	fi
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	cmd_pid=
}
# rec_size_rows STORE CMD [TICKS CGROUPS]: the size rows of a recording: its
# bytes per cgroup-sample, per tick, and per day and 1,000 cgroups. The
# samples are counted from `stream --replay` (cgroups come and go on a
# host), or given (a synthetic store: flagged so, and its day is too long
# to stream through jq here).
rec_size_rows() {
	local bytes files counts ticks samples lo hi bps src mark=''
	bytes=$(rec_bytes "$1")
	files=$(find "$1" -type f | wc -l)
	if [ -n "${3:-}" ]; then
		ticks=$3 samples=$(($3 * $4)) lo=$4 hi=$4 mark=" (synthetic)" src="as written"
	else
		# One small line per tick: the identity members and one field.
		counts=$("$CGWARDEN" stream --replay "$1" --fields cpu.usage_ratio 2>/dev/null |
			jq -r 'select(.type == "tick") | .cgroups | length' |
			awk 'NR == 1 { lo = hi = $1 } { n++; s += $1; if ($1 < lo) lo = $1; if ($1 > hi) hi = $1 }
				END { print n + 0, s + 0, lo + 0, hi + 0 }')
		read -r ticks samples lo hi <<<"$counts"
		src="stream --replay"
	fi
	if ((samples == 0)); then
		echo "bench: record: stream --replay $1 gave no ticks ($2)"
		return 0
	fi
	bps=$(awk -v b="$bytes" -v s="$samples" 'BEGIN { printf "%.4f", b / s }')
	scale_row "bytes/cgroup-sample$mark" "$bps" 6 - "target: at most 6" \
		"$bytes bytes in $files files / $samples cgroup-samples: $ticks ticks ($src) x $lo-$hi cgroups; $2"
	scale_row "bytes/tick" "$(awk -v b="$bytes" -v t="$ticks" 'BEGIN { print b / t }')" \
		"$(awk -v s="$samples" -v t="$ticks" 'BEGIN { print 6 * s / t }')" - \
		"6 bytes per cgroup of the tick (the target)" "keyframe, chunk headers and index included"
	if ((hi < 100)); then
		# What a tick costs whatever its cgroups (host and self figures,
		# chunk headers, the keyframe) is most of it: per 1,000 cgroups
		# it would mean nothing.
		scale_row "MB/day of this tree at 5 s" "$(awk -v b="$bytes" -v t="$ticks" 'BEGIN { print b / t * 17280 / 1e6 }')" \
			"" "" "n/a: $hi cgroups, the per-tick overhead dominates" \
			"at 1 s: $(awk -v b="$bytes" -v t="$ticks" 'BEGIN { printf "%.1f", b / t * 86400 / 1e6 }') MB/day"
		return 0
	fi
	scale_row "MB/day per 1000 cg at 5 s" "$(awk -v b="$bps" 'BEGIN { print b * 1000 * 17280 / 1e6 }')" \
		103.68 - "6 bytes/cgroup-sample (the target)" \
		"at 1 s: $(awk -v b="$bps" 'BEGIN { printf "%.0f", b * 1000 * 86400 / 1e6 }') MB/day"
}
# rec_label flat|nested DIR: tree, the label of that tree's rows.
rec_label() {
	local n
	n=$(find "$2" -type d | wc -l)
	if [ "$1" = flat ]; then tree="flat 10x100 ($n cg)"; else tree="nested 10x50x1 ($n cg)"; fi
}
# rec_leaves flat|nested: the 5 leaves of that tree with a loop.
rec_leaves() {
	if [ "$1" = flat ]; then
		echo pod0/c1 pod2/c10 pod4/c20 pod6/c30 pod8/c40
	else
		echo s0.slice/sc1.scope/main s2.slice/sc10.scope/main s4.slice/sc20.scope/main \
			s6.slice/sc30.scope/main s8.slice/sc40.scope/main
	fi
}
# rec_mem_row STORE: record's memory row from its watcher.
rec_mem_row() {
	local r1 r2 h
	read -r r1 r2 h <"$1.mem" 2>/dev/null
	scale_row "record VmRSS MiB, ticks $((cmd_warm + cmd_ticks))-$rec_ticks" "$(mib "${r2:-}")" "$(mib "${r1:-}")" - \
		"its VmRSS at tick $((cmd_warm + cmd_ticks)) (bounded: ~1.0x)" \
		"the highest VmRSS after it, read every 0.1 s to its end; VmHWM $(mib "${h:-}") MiB"
}
# rec_cost flat|nested DIR: the cost rows of that tree (its loops running).
rec_cost() {
	local shape=$1 dir=$2 fa floor_files notes sv_notes sv_rss sr_rss k
	local -a common st sv sr
	common=(--root "$dir" --interval "$iv_s" --quiet)
	floor all list
	floor_files=$(floor_field "$FLOOR" files)
	floor all
	fa=$FLOOR
	# Each pair in the order A B B A, so a drift of the machine's speed
	# hits both alike.
	rec_window stream "${common[@]}" --output /dev/null
	st=("$RW_MS") notes=${RW_NOTE:+stream: $RW_NOTE; }
	rec_window record "${common[@]}" --flush "$((iv_ms * 2))ms" --output "$rec_tmp/$shape-cost"
	local rec_ms=$RW_MS
	notes+=${RW_NOTE:+record: $RW_NOTE; }
	rec_window stream "${common[@]}" --output /dev/null
	st+=("$RW_MS") notes+=${RW_NOTE:+stream: $RW_NOTE; }
	rec_window serve "${common[@]}" --listen "unix:$rec_tmp/sock"
	sv=("$RW_MS") sv_rss=$RW_RSS sv_notes=${RW_NOTE:+serve: $RW_NOTE; }
	for k in 1 2; do
		rec_window serve "${common[@]}" --listen "unix:$rec_tmp/sock" --record "$rec_tmp/$shape-serve$k"
		sr+=("$RW_MS") sr_rss=$RW_RSS sv_notes+=${RW_NOTE:+serve --record: $RW_NOTE; }
	done
	rec_window serve "${common[@]}" --listen "unix:$rec_tmp/sock"
	sv+=("$RW_MS") sv_notes+=${RW_NOTE:+serve: $RW_NOTE; }
	floor all
	scale_row "record CPU ms/tick" "$rec_ms" "${st[0]}" "${st[1]}" \
		"stream --output /dev/null, before and after" "$notes"
	scale_row "record CPU ms/tick" "$rec_ms" "$(floor_field "$fa" cpu_ms_median)" \
		"$(floor_field "$FLOOR" cpu_ms_median)" "all-files pread floor ($floor_files files)"
	scale_row "serve --record CPU ms/tick" "$(mean2 "${sr[@]}")" "${sv[0]}" "${sv[1]}" \
		"serve alone, before and after (target: at most 1.10x)" "serve --record: ${sr[*]} ms; $sv_notes"
	scale_row "serve CPU ms/tick" "$(mean2 "${sv[@]}")" "$(floor_field "$fa" cpu_ms_median)" \
		"$(floor_field "$FLOOR" cpu_ms_median)" "all-files pread floor ($floor_files files)"
	scale_row "serve --record VmRSS MiB" "$(mib "$sr_rss")" "$(mib "$sv_rss")" - \
		"serve alone, after the window"
	rm -rf "${rec_tmp:?}/$shape-cost" "${rec_tmp:?}/$shape-serve"[12]
}
# rec_seek: the synthetic day and the replay seek rows.
rec_seek() {
	local gen t0 t1 ms first last at i k doc runs=${BENCH_REC_RUNS:-5} store=$rec_tmp/day
	local -a t labels
	if [ ! -x "$BUILD/bench/rec_synth" ]; then
		echo "bench: record: replay seek skipped: $BUILD/bench/rec_synth is not built (BENCH_BINS)"
		return 0
	fi
	t0=$(now_us)
	if ! gen=$("$BUILD/bench/rec_synth" "$store"); then
		echo "bench: record: rec_synth failed"
		return 0
	fi
	ms=$((($(now_us) - t0) / 1000))
	tree="synthetic 1000 cg, 24 h"
	echo "   rec_synth $store: $gen; $ms ms"
	first=$(floor_field "$gen" first_unix) last=$(floor_field "$gen" last_unix)
	at=("$(((first + last) / 2 + 2))" -1s "$first")
	labels=("middle" "-1s" "first tick")
	for k in 0 1 2; do
		t=()
		for ((i = 0; i < runs; i++)); do
			t0=$(now_us)
			"$CGWARDEN" snapshot --replay "$store" --at "${at[k]}" --compact >"$rec_tmp/doc" 2>"$rec_tmp/err"
			t1=$(now_us)
			t+=("$(awk -v d="$((t1 - t0))" 'BEGIN { printf "%.3f", d / 1e6 }')")
		done
		doc=$(jq -r '"seq \(.seq) at \(.time_usec / 1e6 | floor) with \(.cgroups | length) cgroups"' \
			"$rec_tmp/doc" 2>/dev/null)
		scale_row "replay --at ${labels[k]}, s" "$(median "${t[@]}")" 1 - "target: under 1 s" \
			"snapshot --replay DIR --at ${at[k]} --compact: runs ${t[*]} s; ${doc:-no document: $(head -c 200 "$rec_tmp/err")}"
	done
	rec_size_rows "$store" "rec_synth DIR: 17280 ticks of 1000 cgroups at 5 s, written in $ms ms" \
		"$(floor_field "$gen" ticks)" "$(floor_field "$gen" cgroups)"
	rm -rf "${store:?}"
}
if want record && ! "$CGWARDEN" record --help >/dev/null 2>&1; then
	echo "bench: record skipped: $CGWARDEN has no record command"
elif want record; then
	cmd_pid='' rec_pids=() rec_watchers=()
	rec_tmp=$(mktemp -d /tmp/cgwarden-bench-rec.XXXXXX)
	trap 'kill -TERM $cmd_pid ${rec_pids[*]} ${rec_watchers[*]} 2>/dev/null; rm -rf "$rec_tmp"; cg_cleanup' EXIT
	trap 'exit 130' INT TERM
	rec_iv=${BENCH_REC_INTERVAL:-1}
	rec_iv_us=$(awk -v s="$rec_iv" 'BEGIN { printf "%d", s * 1000000 }')
	rec_ticks=${BENCH_REC_TICKS:-120} rec_flush="$((rec_iv_us / 500))ms"
	cmd_warm=3 cmd_ticks=${BENCH_CMD_TICKS:-16}
	set_interval 0.25
	echo "== record: sizes: $rec_ticks ticks every $rec_iv s, --flush $rec_flush; costs: CPU per tick every $iv_s s, the median of $cmd_ticks ticks after $cmd_warm of warm-up (ratio: against the reference beside it, same run)"
	printf '%-26s %-30s %10s %10s %6s %8s  %s\n' tree figure value ref drift ratio against
	# This host's tree first, while no tree of ours is in it.
	tree="host v2 root ($(find "$(cg2_mount)" -type d | wc -l) cg)"
	rec_size_run "" "$rec_tmp/host"
	rec_wait "$RR_PID" "$RR_CMD"
	rec_size_rows "$rec_tmp/host" "$RR_CMD (the default root: $(cg2_mount), with our empty $CG_TEST)"
	# Both trees recorded at once (a recording takes 5 ms of a 1 s tick):
	# each its own --root.
	declare -A rec_cmd=()
	for shape in flat nested; do
		mk_tree "$shape" "$CG_TEST/rec$shape" 10
		# shellcheck disable=SC2046 # the leaves, one word each
		rec_loops "$CG_TEST/rec$shape" $(rec_leaves "$shape")
	done
	for shape in flat nested; do
		rec_size_run "$CG_TEST/rec$shape" "$rec_tmp/$shape"
		rec_cmd[$shape]="${RR_CMD/TREE/$CG_TEST/rec$shape}"
	done
	for pid in "${rec_pids[@]:1}"; do rec_wait "$pid" "cgwarden record"; done
	wait "${rec_watchers[@]}"
	for shape in flat nested; do
		rec_label "$shape" "$CG_TEST/rec$shape"
		rec_size_rows "$rec_tmp/$shape" "${rec_cmd[$shape]}"
		rec_mem_row "$rec_tmp/$shape"
	done
	rec_pids=()
	for shape in flat nested; do
		rec_label "$shape" "$CG_TEST/rec$shape"
		rec_cost "$shape" "$CG_TEST/rec$shape"
		# shellcheck disable=SC2046
		rec_loops_stop "$CG_TEST/rec$shape" $(rec_leaves "$shape")
		rm_tree "$CG_TEST/rec$shape"
	done
	rec_seek
	rm -rf "$rec_tmp"
fi

want cgroups && for total in 1000 10000; do
	dir=$CG_TEST/b$total
	mkdir "$dir"
	for ((p = 0; p < total / 100; p++)); do
		mkdir "$dir/pod$p"
		(cd "$dir/pod$p" && mkdir $(seq -f c%g 1 100))
	done
	echo "== $total empty cgroups ($((total / 100)) parents x 100), $ticks ticks"
	"$BUILD/bench/floor" "$dir" "$ticks"
done
if want json; then
	echo "== JSON output"
	"$BUILD/bench/json_tick" 10000 5
fi
if want prom; then
	echo "== /metrics output (cgwarden serve), eBPF counters included"
	"$BUILD/bench/prom_render" 10000 5
fi
# The dashboard (issue 6): take a 10,000-cgroup snapshot in and draw one
# frame on a 200x50 curses screen (to /dev/null).
if want top; then
	echo "== dashboard frame"
	"$BUILD/bench/top_frame" 10000 20
fi

# Pipe ping-pong (issue 5): a context-switch-heavy workload with and without
# cgwarden's eBPF programs attached. Both ends are pinned to CPU 0, so every
# round trip is two wakeups and two context switches, each running our
# sched_switch program (and sched_wakeup where the kernel has no sched_info).
# cgwarden itself (a tick per second) is pinned to another CPU when there is
# one, so the figure is the programs' cost on the switching CPU. Runs
# alternate off/on/off/... (PINGPONG_PAIRS on runs, default 8, ~1.5 s each)
# so drift hits both. On a shared VM single runs swing by 15%, more than
# the effect measured: the medians and the fastest runs (interference only
# adds time) are both printed with their ratios, target <= 1.03, and the
# per-call cost of our programs from a separate BPF-stats run. Never fails
# on time. PINGPONG_ARGS adds options to cgwarden (e.g. --no-bpf-sched).
want pingpong && echo "== pipe ping-pong on CPU 0, without and with cgwarden's eBPF programs"
pp=$BUILD/bench/pingpong
# fastest SECONDS...: the smallest: interference only ever adds time.
fastest() { printf '%s\n' "$@" | sort -g | head -n 1; }
# pp_secs N: one pinned run's wall and CPU seconds (6th and 14th fields).
pp_secs() { taskset -c 0 "$pp" "$1" | awk '{ print $6, $14 }'; }
# prog_costs IDS: run time per call of the switch and wakeup programs loaded
# since IDS (a JSON array of program ids) was taken: cgwarden's.
prog_costs() {
	bpftool prog show -j 2>/dev/null | jq -r --argjson old "$1" '.[]
		| select(.id as $i | $old | any(. == $i) | not)
		| select(.name | test("_(switch|wakeup)$")) | select(.run_cnt > 0)
		| "     \(.name): \(.run_cnt) calls, \(.run_time_ns / .run_cnt | floor) ns per call"' 2>/dev/null
}
if ! want pingpong; then
	:
elif [ ! -x "$pp" ]; then
	echo "bench: pingpong skipped: $pp is not built (BENCH_BINS)"
elif ! command -v taskset >/dev/null; then
	echo "bench: pingpong skipped: no taskset"
else
	# The 11,000 cgroups of the benchmarks above go first: cgwarden would
	# read them every tick (most of a CPU) and that, not the programs,
	# would be measured. Then a moment for the kernel to finish freeing.
	cg_cleanup
	sleep 2
	other=
	[ "$(nproc)" -gt 1 ] && other="taskset -c 1"
	# Round trips for ~1.5 s, from a short calibration run.
	cal=$(pp_secs 50000 | cut -d' ' -f1)
	n=$(awk -v s="$cal" 'BEGIN { if (s + 0 > 0) { n = int(50000 * 1.5 / s); print (n < 50000) ? 50000 : n } }')
	[ -n "$n" ] || echo "bench: pingpong skipped: the calibration run failed"
	pp_err=$(mktemp)
	off=() on=() off_cpu=() on_cpu=() cgw_pid=
	trap '[ -n "$cgw_pid" ] && kill -TERM "$cgw_pid" 2>/dev/null; rm -f "$pp_err"; cg_cleanup' EXIT
	runs=off
	for ((i = 0; i < ${PINGPONG_PAIRS:-8}; i++)); do runs+=" on off"; done
	for run in $runs; do
		[ -n "$n" ] || break
		if [ "$run" = on ]; then
			ids0=$(bpftool prog show -j 2>/dev/null | jq -c '[.[].id]' 2>/dev/null)
			# shellcheck disable=SC2086 # PINGPONG_ARGS: extra options, split
			$other "$BUILD/cgwarden" stream --interval 1 --output /dev/null ${PINGPONG_ARGS:-} 2>"$pp_err" &
			cgw_pid=$!
			# Attached once its cgroup_skb programs show on the root (the
			# tracing ones are attached before them); without bpftool, wait.
			for _ in $(seq 100); do
				if ! command -v bpftool >/dev/null; then sleep 2; break; fi
				bpftool cgroup show "$(cg2_mount)" 2>/dev/null | grep -q skb_egress && break
				kill -0 "$cgw_pid" 2>/dev/null || break
				sleep 0.1
			done
			if grep -q 'eBPF counters off' "$pp_err" || ! kill -0 "$cgw_pid" 2>/dev/null; then
				echo "bench: pingpong with cgwarden skipped: $(head -n 1 "$pp_err")"
				kill -TERM "$cgw_pid" 2>/dev/null
				wait "$cgw_pid" 2>/dev/null
				cgw_pid=
				on=()
				break
			fi
		fi
		read -r s cpu <<<"$(pp_secs "$n")"
		printf '%-4s %d round trips in %s s (%.2f us each), cpu %s s\n' "$run" "$n" "$s" \
			"$(awk -v s="$s" -v n="$n" 'BEGIN { print s * 1e6 / n }')" "$cpu"
		if [ "$run" = on ]; then
			on+=("$s") on_cpu+=("$cpu")
			kill -TERM "$cgw_pid"
			wait "$cgw_pid"
			cgw_pid=
		else
			off+=("$s") off_cpu+=("$cpu")
		fi
	done
	# One more run, outside the ratio, with the kernel's BPF run-time stats
	# on (they add two clock reads per call, so they would bias the ratio):
	# what each of our programs costs per call.
	if [ "${#on[@]}" -gt 0 ] && command -v bpftool >/dev/null; then
		ids0=$(bpftool prog show -j 2>/dev/null | jq -c '[.[].id]' 2>/dev/null)
		# shellcheck disable=SC2086
		$other "$BUILD/cgwarden" stream --interval 1 --bpf-stats --output /dev/null ${PINGPONG_ARGS:-} 2>/dev/null &
		cgw_pid=$!
		for _ in $(seq 100); do
			bpftool cgroup show "$(cg2_mount)" 2>/dev/null | grep -q skb_egress && break
			sleep 0.1
		done
		pp_secs "$n" >/dev/null
		echo "per call, from BPF stats (a separate run):"
		prog_costs "$ids0"
		kill -TERM "$cgw_pid"
		wait "$cgw_pid"
		cgw_pid=
	fi
	if [ "${#on[@]}" -gt 0 ]; then
		# CPU time is the figure: our programs add to it, and another
		# process taking CPU 0 does not (it stretches the wall time).
		moff=$(median "${off[@]}") mon=$(median "${on[@]}")
		awk -v a="$moff" -v b="$mon" -v n="$n" 'BEGIN {
			printf "pingpong wall: median without %.3f s (%.2f us/round trip), with %.3f s (%.2f us), ratio %.3f\n",
				a, a * 1e6 / n, b, b * 1e6 / n, b / a }'
		moff=$(median "${off_cpu[@]}") mon=$(median "${on_cpu[@]}")
		awk -v a="$moff" -v b="$mon" -v n="$n" 'BEGIN {
			printf "pingpong cpu:  median without %.3f s (%.2f us/round trip), with %.3f s (%.2f us), ratio %.3f (target <= 1.03)\n",
				a, a * 1e6 / n, b, b * 1e6 / n, b / a }'
		moff=$(fastest "${off_cpu[@]}") mon=$(fastest "${on_cpu[@]}")
		awk -v a="$moff" -v b="$mon" -v n="$n" 'BEGIN {
			printf "pingpong cpu:  fastest without %.3f s (%.2f us/round trip), with %.3f s (%.2f us), ratio %.3f (target <= 1.03)\n",
				a, a * 1e6 / n, b, b * 1e6 / n, b / a }'
	fi
	rm -f "$pp_err"
fi
