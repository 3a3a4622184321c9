#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The BPF cgroup iterator falls back to files, saying so in one line:
# without the privilege to load it, when asked (--no-bpf-iter), and when a
# walk fails at run time (here: the walk's root cgroup is removed under a
# running stream), which goes on from files without an error.
. "$(dirname "$0")/../lib.sh"
if ! cg_setup; then skip iter_fallback "$SKIP_WHY"; finish; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; cg_cleanup' EXIT
mkdir "$CG_TEST/a" "$CG_TEST/walkroot"

# Here, as root: the iterator loads and fills a child's cgroup.events.
CGWARDEN_DEBUG_SOURCES=1 "$CGWARDEN" snapshot --root "$CG_TEST" >"$tmp/snap" 2>"$tmp/snap.err"
if grep -q '^cgwarden: BPF cgroup iterator off: ' "$tmp/snap.err"; then
	skip iter_fallback "$(grep -m1 'iterator off' "$tmp/snap.err")"
	finish
fi
[ "$(jq -r .self.bpf_iter "$tmp/snap")" = true ] &&
	grep -q '^cgwarden: sources: a: bpf-iter .*cgroup\.events' "$tmp/snap.err" &&
	pass iter_loads_and_fills || fail iter_loads_and_fills "$(jq -c .self "$tmp/snap"; head -3 "$tmp/snap.err")"

# Asked not to: files, and not a word about it.
"$CGWARDEN" snapshot --root "$CG_TEST" --no-bpf-iter >"$tmp/files" 2>"$tmp/files.err"
[ "$(jq -r .self.bpf_iter "$tmp/files")" = false ] && ! grep -q 'iterator' "$tmp/files.err" &&
	pass no_bpf_iter_reads_files || fail no_bpf_iter_reads_files "$(cat "$tmp/files.err")"

# Without the privilege: one line, then the same tree from files.
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$CGWARDEN" snapshot --root "$CG_TEST" >"$tmp/user" 2>"$tmp/user.err"
	n=$(grep -c '^cgwarden: BPF cgroup iterator off: ' "$tmp/user.err")
	[ "$n" = 1 ] && [ "$(jq -r .self.bpf_iter "$tmp/user")" = false ] &&
		[ "$(jq '.cgroups | length' "$tmp/user")" = "$(jq '.cgroups | length' "$tmp/snap")" ] &&
		pass unprivileged_says_once_and_reads_files ||
		fail unprivileged_says_once_and_reads_files "$n notices: $(cat "$tmp/user.err")"
else
	skip unprivileged_says_once_and_reads_files "no setpriv"
fi

# A walk that fails at run time: the stream's root goes away after its
# first ticks. The next walk fails, the iterator is turned off with one
# line, and the stream goes on from files to its last tick.
"$CGWARDEN" stream --root "$CG_TEST/walkroot" --interval 0.2 --count 12 \
	>"$tmp/stream" 2>"$tmp/stream.err" &
spid=$!
for ((i = 0; i < 300; i++)); do
	[ "$(grep -c '"type":"tick"' "$tmp/stream" 2>/dev/null)" -ge 2 ] && break
	sleep 0.1
done
rmdir "$CG_TEST/walkroot"
wait "$spid"
rc=$?
n=$(grep -c "^cgwarden: BPF cgroup iterator off: .*gone; reading files instead" "$tmp/stream.err")
states=$(jq -r 'select(.type == "tick") | .self.bpf_iter' "$tmp/stream" | uniq | tr '\n' ' ')
ticks=$(grep -c '"type":"tick"' "$tmp/stream")
[ "$rc" = 0 ] && [ "$n" = 1 ] && [ "$states" = "true false " ] && [ "$ticks" = 12 ] &&
	jq -e . "$tmp/stream" >/dev/null &&
	pass runtime_failure_falls_back_to_files ||
	fail runtime_failure_falls_back_to_files "rc $rc, $n notices, bpf_iter by tick: $states, $ticks ticks; $(head -3 "$tmp/stream.err")"
finish
