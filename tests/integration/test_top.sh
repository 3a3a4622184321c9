#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# cgwarden top in a real terminal: tmux runs it, send-keys types, capture-pane
# reads the screen. First on the 6.1 fixture (known names and values: sort,
# filter, tree, help, detail, resize, hostile names, quit), then on real test
# cgroups (a busy loop in a plain cgroup made after top started is on its
# first screen, no key pressed; a busy loop sorts first by CPU; freeze, thaw
# and kill through the actuator with their confirmation). Every check polls
# the screen with a timeout: this box has 2 cores and other builds run
# beside us.
. "$(dirname "$0")/../lib.sh"
[ -x "$CGWARDEN" ] || { fail top "$CGWARDEN not built"; finish; }
command -v tmux >/dev/null || { skip top "no tmux (bash scripts/deps.sh --test)"; finish; }

SOCK=cgwarden-top-$$
WAIT=${TOP_WAIT:-15}	# seconds a screen may take to show what we expect
. "$(dirname "$0")/../tmux.sh"
# Table rows start on line 6 (4 header lines, then the column titles).
row() { screen | sed -n "$((5 + $1))p"; }
tmp=$(mktemp -d)
stop() {
	kill_server
	rm -rf "$tmp"
}
trap 'stop' EXIT

# wait_row N PATTERN: until table row N matches.
wait_row() {
	local end=$((SECONDS + WAIT))
	while [ "$SECONDS" -lt "$end" ]; do
		row "$1" | grep -Eq -- "$2" && return 0
		sleep 0.1
	done
	return 1
}
# What top draws when it is there: the table's header line, the help's
# title or (scrolled) its column list, or the detail view (its title, its gone notice or, scrolled, its
# bottom line). An empty screen or a shell's error is none of them.
DRAWN='^cgwarden top  |^ cgwarden top: one row per cgroup|^   RUNQ99  run-queue latency|^ .*  \([a-z]+(, [a-z]+)?\)  cgroup id [0-9]+$|^This cgroup is gone|^Esc/q back  Up/Down scroll'
# screen_check WHAT PATTERN NAME COMMAND...: the screen must first show
# PATTERN (so that a check for what is not on the screen cannot pass on an
# empty one; WHAT says what is missing), then COMMAND; pass, or fail with
# the screen as it is.
screen_check() {
	local what=$1 pattern=$2 name=$3
	shift 3
	if ! wait_for "$pattern"; then
		fail "$name" "$what; screen was:"
		screen | sed 's/^/    | /'
	elif "$@"; then
		pass "$name"
	else
		fail "$name" "screen was:"
		screen | sed 's/^/    | /'
	fi
}
# check NAME COMMAND...: the dashboard must be drawn first.
check() { screen_check "the dashboard is not drawn" "$DRAWN" "$@"; }
# check_exited NAME COMMAND...: the same once top has ended: its exit line
# must be there first.
check_exited() { screen_check "top has not exited" '^EXITED [0-9]+$' "$@"; }

# ---- the command line -----------------------------------------------------------
if out=$("$CGWARDEN" top --help) && grep -q 'Usage: cgwarden top' <<<"$out"; then
	pass help_top
else
	fail help_top "no usage text"
fi
err=$("$CGWARDEN" top --root tests/fixtures/v2-pure-6.1 </dev/null 2>&1 >/dev/null)
rc=$?
[ "$rc" = 2 ] && grep -q 'needs a terminal' <<<"$err" && pass top_without_tty_exits_2 ||
	fail top_without_tty_exits_2 "exit $rc: $err"
err=$("$CGWARDEN" top --sort bogus 2>&1 >/dev/null)
rc=$?
[ "$rc" = 2 ] && grep -q "'bogus' is not a column" <<<"$err" && pass top_bad_sort_exits_2 ||
	fail top_bad_sort_exits_2 "exit $rc: $err"
"$CGWARDEN" </dev/null 2>&1 | grep -q '^Usage: cgwarden COMMAND' && pass no_command_without_tty_is_usage ||
	fail no_command_without_tty_is_usage

# ---- the fixture ------------------------------------------------------------
FIX=(--root tests/fixtures/v2-pure-6.1 --state-root tests/fixtures/runtime-state
	--proc-root tests/fixtures/v2-pure-6.1/nonexistent --no-bpf --quiet --interval 0.5)
# The first screen: its 4 workloads and the root, which holds 57 processes
# of its own in the capture (the slices hold none).
FIRST='WORKLOADS 4 \+ 1 other cgroup with processes'
start "${FIX[@]}"
check top_starts_on_fixture wait_for "$FIRST"
check root_is_host wait_for '^/ +host +'
check empty_slices_not_listed sh -c "! tmux -L '$SOCK' capture-pane -p -t top | grep -Eq '^system\.slice|^kubepods\.slice'"
check header_counts wait_for 'cgroups 9 +containers 3 +pods 1'
# No meminfo in this --proc-root: the header says so with '-', not 0.
check header_absent_host_is_dash wait_for 'MEM \[ +-\] SWP \[ +-\]'
# Absent values are '-', never 0: the pod has no memory files.
check absent_shows_dash wait_for 'web-7d9f8c6b5-x2x4k +pod +- +- +- +-'

keys M	# memory, biggest first; the root and the pod (no memory.current) last
check sort_mem_desc wait_row 1 '^web-frontend +ctr .* 106M +35\.5'
check sort_mem_absent_last wait_row 4 '^/ +host' && check sort_mem_absent_last_2 wait_row 5 '^web-7d9f8c6b5-x2x4k'
keys M	# again: reversed, absent still last
check sort_mem_reversed wait_row 1 '^app +ctr'
check sort_mem_reversed_absent_last wait_row 5 '^web-7d9f8c6b5-x2x4k'
keys N
check sort_name wait_row 1 '^/ ' && check sort_name_2 wait_row 2 '^app ' &&
	check sort_name_3 wait_row 3 '^db-cache '
# The sort menu (F6): eleven entries down from NAME is PIDS, with the
# arrow keys: the root's 57 processes first, then the docker container's 2.
keys s
check sort_menu_opens wait_for 'Sort by \(Enter picks'
keys Down Down Down Down Down Down Down Down Down Down Down Enter
check sort_menu_picks wait_row 1 '^/ +host .* 57 ' && check sort_menu_picks_2 wait_row 2 '^web-frontend '

# The mouse (xterm X10 reports, what tmux-256color's kmous says): press and
# release on a column title sorts by it, on a row selects it.
click() {	# click X Y (0-based)
	local b
	for b in 0 3; do
		tm send-keys -t top -l "$(printf '\033[M%b%b%b' "\\$(printf %03o $((32 + b)))" \
			"\\$(printf %03o $(($1 + 33)))" "\\$(printf %03o $(($2 + 33)))")"
	done
}
peak=$(screen | sed -n 5p | awk '{ print index($0, " PEAK ") }')
click "$((peak + 1))" 4
check mouse_sorts_by_peak wait_row 2 '^app .* 72M '
click 3 6
keys Enter
check mouse_selects_row wait_for '^ app +\(container'
# The wheel in the detail view scrolls it; it does not pick another cgroup.
wheel() {	# wheel 4|5: up, down (where does not matter)
	tm send-keys -t top -l "$(printf '\033[M%b!!' "\\$(printf %03o $((96 + $1 - 4)))")"
}
wheel 5
check mouse_wheel_scrolls_detail wait_for '^ image +registry\.example\.com/shop/app:'
wheel 4
check mouse_wheel_keeps_detail wait_for '^ app +\(container'
# Its memory.high (64M) is under its peak (72M): the squeeze is said.
check detail_squeeze wait_for '^   squeezed: memory.high is 89\.1% of the peak, 7\.8M held back below it'
keys Escape
keys / d b Enter
check filter_db wait_for "WORKLOADS 1 \\+ 0 other cgroups with processes +filter 'db'"
check filter_db_row wait_row 1 '^db-cache '
keys Escape
check filter_cleared wait_for "$FIRST  \\?:help"

keys +
check interval_longer wait_for '^cgwarden top .* interval 1\.0s'
keys - -
check interval_shorter wait_for '^cgwarden top .* interval 250ms'
keys ' '
check pause wait_for 'interval 250ms .*\[PAUSED\]'
keys ' '
check resume sh -c "sleep 0.3; ! tmux -L '$SOCK' capture-pane -p -t top | grep -q PAUSED"

keys '?'
check help_shows wait_for 'RUNQ99 +run-queue latency'
check help_first_screen wait_for 'First screen: workloads \(containers, pods, services\) and every other cgroup'
keys x
check help_closes wait_for "$FIRST"

keys t N	# the tree, by name: /, kubepods.slice, machine.slice, system.slice
check tree_view wait_for 'TREE 9 rows'
check tree_row_root wait_row 1 '^. /'
check tree_row_kubepods wait_row 2 'kubepods\.slice +slice'
check tree_shows_container_names wait_for '^ +web-frontend +ctr'
keys Home Down Left	# collapse kubepods.slice: its three descendants go
check tree_collapse wait_for 'TREE 6 rows'
keys Right
check tree_expand wait_for 'TREE 9 rows'

keys t / w e b - f Enter Enter
check detail_view wait_for 'image +nginx:1\.25'
check detail_limits wait_for 'limits max 300M'
check detail_cpu_limit wait_for 'limit cpu\.max 0\.50 CPUs'
keys NPage	# memory.stat is below the fold
check detail_memory_stat wait_for 'anon +103M'
keys Escape
check detail_back wait_for "WORKLOADS 1 \\+ 0 other cgroups with processes +filter 'web-f'"
# Actions on a tree that is not cgroup2 say why instead of pretending.
keys K
check action_refused_on_fixture wait_for 'actions are not available: .*not a cgroup2'
keys Escape

# Resize: narrow drops low-priority columns and keeps the name and CPU%.
tm resize-window -t top -x 70 -y 20
check resize_narrow wait_for '^NAME .*CPU% .*MEM '
check resize_narrow_drops_oom sh -c "! tmux -L '$SOCK' capture-pane -p -t top | grep -q 'RUNQ99'"
check resize_fits sh -c "[ \$(tmux -L '$SOCK' capture-pane -p -t top | LC_ALL=C.UTF-8 wc -L) -le 70 ]"
# On 20 lines the help does not fit: it says so and scrolls to the
# column list's last line; a key other than a scroll key closes it.
keys '?'
check help_says_more wait_for '^ -- more: Down/PgDn scrolls'
keys NPage NPage NPage
check help_scrolls_to_end wait_for 'OOM +OOM kills'
check help_end_no_more sh -c "! tmux -L '$SOCK' capture-pane -p -t top | grep -q -- '-- more'"
keys x
check help_closes_after_scroll wait_for '^NAME .*CPU% .*MEM '
tm resize-window -t top -x 160 -y 40
check resize_wide wait_for 'RUNQ99 +OOM'

keys q
check_exited quit_exits_0 wait_for '^EXITED 0'

# Top reads only what it shows: once a tick has read less than the first
# (which reads everything, 118 files of this fixture), the interval goes to
# a minute, and opening the detail view must read what it shows at once,
# not a minute later.
start "${FIX[@]}"
check reads_only_what_it_shows wait_for 'self: tick [^,]*, ([0-9]{1,2}|10[0-9]|11[0-7]) files'
keys + + + + + + + +
check interval_a_minute wait_for 'interval 1m|interval 60s'
keys / w e b - f Enter Enter NPage
check detail_read_at_once wait_for 'anon +103M' 5
keys Escape q
check_exited detail_read_quit wait_for '^EXITED 0'

# No command on a terminal is the dashboard; a C locale (or --ascii) draws
# in ASCII: tree marks and bars without Unicode.
session env LANG=C LC_ALL=C TERM=tmux-256color "$CGWARDEN" --root tests/fixtures/v2-pure-6.1 --no-bpf --quiet
check no_command_on_tty_is_top wait_for "$FIRST"
keys t
check ascii_tree_marks wait_row 1 '^- / '
check ascii_only sh -c "! tmux -L '$SOCK' capture-pane -p -t top | LC_ALL=C grep -q '[^ -~]'"
keys q
check_exited ascii_quit wait_for '^EXITED 0'

# Hostile names: a copy of the fixture with a service whose directory name
# holds an escape sequence (set the title, clear the screen), a newline, a
# tab, a C1 CSI and invalid UTF-8. None of it may reach the terminal raw.
cp -r tests/fixtures/v2-pure-6.1 "$tmp/fix"
bad=$'evil\e]0;pwned\a\e[2J\nx\ty\xc2\x9b1m\xffz.service'
mkdir "$tmp/fix/system.slice/$bad"
cp tests/fixtures/v2-pure-6.1/system.slice/cpu.stat "$tmp/fix/system.slice/$bad/"
start --root "$tmp/fix" --state-root tests/fixtures/runtime-state --no-bpf --quiet --interval 0.5 \
	--tree --filter evil
check hostile_name_escaped wait_for 'evil\\e\]0;pwned\\x07\\e\[2J\\nx\\ty\\u009b1m\\xffz\.service'
check hostile_name_title_untouched sh -c "[ \"\$(tmux -L '$SOCK' display -p -t top '#{pane_title}')\" != pwned ]"
check hostile_header_intact wait_for '^cgwarden top '
keys q
check_exited hostile_quit wait_for '^EXITED 0'
# The actuator's reasons quote paths as given (here --root: it is not a
# cgroup2 filesystem); the bottom line escapes them, bidi overrides too.
evil=$'evil\e]0;pwned\a\xe2\x80\xaerev'
cp -r tests/fixtures/v2-pure-6.1 "$tmp/$evil"
start --root "$tmp/$evil" --state-root tests/fixtures/runtime-state --no-bpf --quiet --interval 0.5
check evil_root_starts wait_for "$FIRST"
keys K
check status_why_escaped wait_for 'not available: .*evil\\e\]0;pwned\\x07\\u202erev'
check status_why_title_untouched sh -c "[ \"\$(tmux -L '$SOCK' display -p -t top '#{pane_title}')\" != pwned ]"
keys q
check_exited evil_root_quit wait_for '^EXITED 0'

# A notice that quotes a path (cgroups too deep to show, the first one
# named) is held while curses owns the screen and printed after: escaped,
# both where the collector words it and where top lets it out.
deep="$tmp/fix/system.slice/$bad"
for _ in $(seq 130); do deep="$deep/d"; done
mkdir -p "$deep"
start --root "$tmp/fix" --state-root tests/fixtures/runtime-state --no-bpf --interval 0.5
check deep_notice_held wait_for 'WORKLOADS '
keys q
check_exited deep_notice_escaped wait_for 'deeper than 128 levels .*evil\\e\]0;pwned\\x07\\e\[2J\\nx'
check_exited deep_notice_title_untouched sh -c "tmux -L '$SOCK' capture-pane -p -t top | grep -q 'deeper than 128 levels' && [ \"\$(tmux -L '$SOCK' display -p -t top '#{pane_title}')\" != pwned ]"
check_exited deep_quit wait_for '^EXITED 0'

# ---- real cgroups -------------------------------------------------------------
if ! cg_setup; then
	skip top_real_cgroups "$SKIP_WHY"
	finish
fi
# cg_setup set its own EXIT trap; ours must run too.
trap 'stop; cg_cleanup' EXIT
# The first screen shows what uses the machine: a busy loop in a plain
# cgroup, made after top started (so read by the per-tick demand, not the
# first tick's read of everything), is listed with its kind without a key,
# a filter or --tree, by its path. Its CPU figure needs two ticks after it
# came: poll for the row, then for a figure, each with the whole timeout.
start --interval 0.5 --no-bpf --quiet
check first_screen_drawn wait_for '^WORKLOADS [0-9]+ \+ [0-9]+ other cgroups? with processes'
mkdir "$CG_TEST/burn"
cg_spawn "$CG_TEST/burn" sh -c 'while :; do :; done' >/dev/null
check first_screen_lists_busy_cgroup wait_for "^$CG_REL/burn +cgrp "
check first_screen_busy_cpu wait_for "^$CG_REL/burn +cgrp +([1-9][0-9]*\\.[0-9]|[1-9][0-9]{2,}) "
check first_screen_counts_it wait_for '^WORKLOADS [0-9]+ \+ [1-9][0-9]* other cgroups? with processes'
# Its parent (the test subtree) holds no process itself: not listed.
check first_screen_no_parent sh -c "! tmux -L '$SOCK' capture-pane -p -t top | grep -Eq '^cgwarden-test-$$ +'"
keys q
check_exited first_screen_quit wait_for '^EXITED 0'
# The tests below count the subtree's cgroups: burn goes.
echo 1 >"$CG_TEST/burn/cgroup.kill" 2>/dev/null ||
	xargs -r kill -9 <"$CG_TEST/burn/cgroup.procs" 2>/dev/null
end=$((SECONDS + WAIT))
until rmdir "$CG_TEST/burn" 2>/dev/null || [ "$SECONDS" -ge "$end" ]; do sleep 0.1; done
mkdir "$CG_TEST/busy" "$CG_TEST/idle"
cg_spawn "$CG_TEST/busy" sh -c 'while :; do :; done' >/dev/null
cg_spawn "$CG_TEST/idle" sleep 600 >/dev/null
# BPF is not what this tests (test_bpf.sh is); without it top starts faster.
start --tree --filter "cgwarden-test-$$" --interval 0.5 --no-bpf --quiet
check real_tree_filtered wait_for 'TREE 3 rows'
# Sorted by CPU: the busy loop first below its parent, with a real figure
# (at least 1%: on a host whose 2 CPUs are busy with other work the loop
# gets far less than a whole one; seen: 31.5%).
check real_busy_sorts_first wait_row 2 '^ +busy +cgrp +[1-9][0-9]*\.[0-9] '
check real_idle_second wait_row 3 '^ +idle +cgrp +[0-9]'
keys Down Enter
check real_detail wait_for 'state +populated +procs 1'
check real_history wait_for 'History \(since'
keys Escape
# Freeze through the actuator: the prompt shows file, old and new value.
keys f
check freeze_prompt wait_for 'cgwarden-test-[0-9]+/busy: cgroup\.freeze: 0 -> 1 +Apply\? \[y/N\]'
keys n
check freeze_declined wait_for 'nothing changed'
# (Only after a decline that was shown: with no dashboard nothing was
# declined, and an untouched file proves nothing.)
screen | grep -q 'nothing changed' && [ "$(cat "$CG_TEST/busy/cgroup.freeze")" = 0 ] &&
	pass freeze_declined_wrote_nothing ||
	fail freeze_declined_wrote_nothing "cgroup.freeze is $(cat "$CG_TEST/busy/cgroup.freeze"), decline shown: $(screen | grep -c 'nothing changed')"
keys f
wait_for 'Apply\? \[y/N\]' >/dev/null
keys y
check freeze_applied wait_for 'cgroup\.freeze: 0 -> 1 \(read back: 1\)'
check freeze_shown wait_for 'busy \(frozen\)'
grep -q 'frozen 1' "$CG_TEST/busy/cgroup.events" && pass freeze_in_kernel ||
	fail freeze_in_kernel "$(cat "$CG_TEST/busy/cgroup.events")"
# Frozen, it uses no CPU: idle and busy both at 0 now.
keys f
wait_for 'cgroup\.freeze: 1 -> 0 +Apply' >/dev/null
keys y
check thaw_applied wait_for 'cgroup\.freeze: 1 -> 0 \(read back: 0\)'
# The change is in the cgroup's recent events.
keys Enter
check event_recorded wait_for 'changed here: cgroup\.freeze: 1 -> 0'
keys Escape
# Limits: this host may lack the cpu and memory controllers; then the
# actuator's refusal is shown, else the exact change is asked about.
keys m 5 1 2 M Enter
check memory_limit_checked wait_for '(refused: .*memory|memory\.max: .* -> 536870912 +Apply)'
keys n
keys c 0 . 5 Enter
check cpu_limit_checked wait_for '(refused: .*cpu|cpu\.max: .* -> 50000 100000 +Apply)'
keys n
keys c b o g u s Enter
check cpu_limit_typo_refused wait_for "bogus"
# Kill the idle one (the busy loop sorts first; idle is the next row).
keys Down K
check kill_prompt wait_for 'KILL every process in cgwarden-test-[0-9]+/idle'
keys y
check kill_applied wait_for 'every process killed'
end=$((SECONDS + WAIT))
# (cgroupfs files have size 0: test -s is always false, read the file.)
while [ -n "$(cat "$CG_TEST/idle/cgroup.procs")" ] && [ "$SECONDS" -lt "$end" ]; do sleep 0.1; done
[ -z "$(cat "$CG_TEST/idle/cgroup.procs")" ] && pass kill_emptied_cgroup ||
	fail kill_emptied_cgroup "still: $(cat "$CG_TEST/idle/cgroup.procs")"
# A cgroup removed while its detail view is open: the view says so and the
# removal is in its recent events.
mkdir "$CG_TEST/gone"
check real_new_cgroup_appears wait_for '^ +gone +cgrp '
keys / / g o n e Enter
check real_filter_gone wait_for 'TREE 1 rows'
keys Enter
check real_detail_gone wait_for '^ cgwarden-test-[0-9]+/gone +\(other\)'
rmdir "$CG_TEST/gone"
check removed_event wait_for 'cgroup removed: cgwarden-test-[0-9]+/gone'
check removed_view wait_for 'This cgroup is gone'
keys Escape
keys q
check_exited real_quit_exits_0 wait_for '^EXITED 0'
finish
