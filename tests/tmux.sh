# SPDX-License-Identifier: GPL-2.0-only
# Driving cgwarden top in a real terminal, for the shell tests that do
# (test_top.sh, test_top_replay.sh); source it after lib.sh, with SOCK (the
# tmux socket's name) and WAIT (seconds a screen may take) set. tmux runs
# top in a session named "top", send-keys types, capture-pane reads.
tm() { tmux -L "$SOCK" "$@"; }
screen() { tm capture-pane -p -t top 2>/dev/null; }
# server_gone PID: no session answers on our socket and the old server
# (PID, if known) has exited (a zombie counts: where nothing reaps the
# daemonized server, it stays one).
server_gone() {
	local st
	tm has-session 2>/dev/null && return 1
	[ -n "$1" ] || return 0
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	st=${st##*) }
	[ "${st%% *}" = Z ]
}
# kill_server: kill-server only asks the server to exit. A new-session in
# the meantime reaches the dying server and fails with "server exited
# unexpectedly" (a quarter of the time here, more in a fresh chroot): wait
# until it is gone. kill-server leaves the socket file behind: remove it.
kill_server() {
	local pid i
	pid=$(tm display -p '#{pid}' 2>/dev/null)
	tm kill-server 2>/dev/null
	for i in $(seq 100); do
		server_gone "$pid" && break
		sleep 0.1
	done
	server_gone "$pid" || echo "# the old tmux server (pid $pid) is still there after 10 s"
	rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK"
}

# session CMD...: a fresh 160x40 session running CMD. Its exit status is
# printed when it ends, and the pane stays to be read.
session() {
	kill_server
	tm new-session -d -s top -x 160 -y 40 "$(printf '%q ' "$@"); echo \"EXITED \$?\"; sleep 600" ||
		echo "# tmux new-session failed"
}
# start ARGS...: such a session running cgwarden top ARGS.
start() {
	session env LANG=C.UTF-8 TERM=tmux-256color NO_COLOR=1 "$CGWARDEN" top "$@"
}

# wait_for PATTERN [SECONDS]: until the screen matches (grep -E).
wait_for() {
	local end=$((SECONDS + ${2:-$WAIT}))
	while [ "$SECONDS" -lt "$end" ]; do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
keys() { tm send-keys -t top "$@"; }
