#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The command line: help for every command, clear errors and exit codes for
# bad input, exit 2 when there is no cgroup2 to read.
. "$(dirname "$0")/../lib.sh"
[ -x "$CGWARDEN" ] || { fail cli "$CGWARDEN not built"; finish; }

for cmd in snapshot stream; do
	if out=$("$CGWARDEN" $cmd --help) && grep -q "Usage: cgwarden $cmd" <<<"$out"; then
		pass "help_$cmd"
	else
		fail "help_$cmd" "no usage text"
	fi
done
"$CGWARDEN" --help | grep -q snapshot && pass help_lists_commands || fail help_lists_commands
# --version names the build: version, the revision of this checkout (when
# it is one), and every library it was compiled against.
ver=$("$CGWARDEN" --version)
want_rev=$(git -C "$(dirname "$0")/../.." describe --always --abbrev=12 --dirty=+dirty \
	--exclude='*' 2>/dev/null || echo unknown)
if grep -q '^cgwarden [0-9][0-9.]*$' <<<"$ver" &&
	grep -q "^built with libbpf [0-9.]*, json-c [0-9.]*, ncurses [0-9.]*, libmicrohttpd [0-9.]*," <<<"$ver"; then
	pass version
else
	fail version "$ver"
fi
# A dirty tree may have been built before its last edit: compare the commit.
if [ "$(sed -n 's/^revision //p' <<<"$ver" | sed 's/+dirty$//')" = "${want_rev%+dirty}" ]; then
	pass version_revision
else
	fail version_revision "$(sed -n 2p <<<"$ver"), checkout at $want_rev"
fi

# expect_exit NAME CODE STDERR_PATTERN CMD...
expect_exit() {
	local name=$1 code=$2 pat=$3 err rc
	shift 3
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = "$code" ] && grep -q -- "$pat" <<<"$err"; then
		pass "$name"
	else
		fail "$name" "exit $rc (want $code), stderr: $err"
	fi
}
printf '22 27 0:21 / /proc rw,relatime - proc proc rw\n' >/tmp/cgw-cli-mountinfo.$$
expect_exit no_cgroup2_mount_exits_2 2 'no cgroup2 filesystem is mounted' \
	"$CGWARDEN" snapshot --mountinfo /tmp/cgw-cli-mountinfo.$$
rm -f /tmp/cgw-cli-mountinfo.$$
expect_exit missing_root_exits_2 2 '--root /nonexistent' "$CGWARDEN" snapshot --root /nonexistent
expect_exit bad_interval_names_option 2 "--interval: 'abc'" "$CGWARDEN" stream --interval abc
expect_exit zero_interval_refused 2 "--interval: '0'" "$CGWARDEN" stream --interval 0
expect_exit bad_count_names_option 2 "--count: '-3'" "$CGWARDEN" stream -n -3
expect_exit unknown_command 2 "'frobnicate' is not a command" "$CGWARDEN" frobnicate
expect_exit output_unwritable 2 "--output /nonexistent/x" \
	"$CGWARDEN" stream -n 1 --root tests/fixtures/v2-pure-6.1 -o /nonexistent/x

# A fixture tree through --root: counts and an exact value.
n=$("$CGWARDEN" snapshot --root tests/fixtures/v2-pure-6.1 | jq '.cgroups | length')
[ "$n" = 9 ] && pass fixture_root_has_9_cgroups || fail fixture_root_has_9_cgroups "$n"
# A reader that goes away ends the stream cleanly (no SIGPIPE death).
"$CGWARDEN" stream --interval 0.1 --root tests/fixtures/v2-pure-6.1 | head -c 10 >/dev/null
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] && pass stream_ends_cleanly_on_closed_pipe || fail stream_ends_cleanly_on_closed_pipe "rc $rc"
# SIGTERM ends a stream with status 0 and whole lines.
out=$(mktemp)
"$CGWARDEN" stream --interval 0.1 --root tests/fixtures/v2-pure-6.1 >"$out" &
pid=$!
sleep 0.5
kill -TERM "$pid"
wait "$pid"
rc=$?
if [ "$rc" = 0 ] && jq -e . "$out" >/dev/null; then
	pass "sigterm_ends_stream_cleanly ($(wc -l <"$out") lines)"
else
	fail sigterm_ends_stream_cleanly "rc $rc"
fi
rm -f "$out"
finish
