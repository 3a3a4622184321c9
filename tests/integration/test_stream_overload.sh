#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The stream under overload: 5,000 cgroups (hard links to one real cgroup's
# files, in a --root tree made here: no root, no cgroups needed) make a tick
# line of about 12 MB, and reading them takes longer than --interval 0.2,
# so the timer is due again as soon as a tick ends. The line in flight must
# still reach a reader that reads as fast as it can, whole, and most ticks
# must get through (before the fix: 2 whole lines in 30 s, each line in
# flight starved by the ticks after it).
. "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null || { skip stream_overload "python3 not installed"; finish; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - tests/fixtures/v2-pure-6.1/system.slice/docker-*.scope "$tmp/big" 5000 <<'EOF'
import os, shutil, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
tpl = dst + ".tpl"	# a copy on the tree's filesystem, to link to
shutil.copytree(src, tpl)
os.makedirs(dst)
files = [f for f in os.listdir(tpl) if os.path.isfile(os.path.join(tpl, f))]
def fill(d):
    for f in files:
        os.link(os.path.join(tpl, f), os.path.join(d, f))
fill(dst)
for i in range(n // 100):
    os.mkdir(os.path.join(dst, "s%d" % i))
    for j in range(100):
        c = os.path.join(dst, "s%d" % i, "c%d" % j)
        os.mkdir(c)
        fill(c)
EOF
# Reads until 5 tick lines are in (or 60 s); prints lines, unparsable
# lines, ticks, the seq span they cover and MiB read.
over_reader='
import json, os, sys, time
limit, want = float(sys.argv[1]), int(sys.argv[2])
end = time.monotonic() + limit
buf, lines, bad, seqs, nbytes = bytearray(), 0, 0, [], 0
while time.monotonic() < end and len(seqs) < want:
    d = os.read(0, 1 << 20)
    if not d:
        break
    nbytes += len(d)
    buf += d
    while True:
        i = buf.find(b"\n")
        if i < 0:
            break
        line = bytes(buf[:i])
        del buf[:i + 1]
        lines += 1
        try:
            o = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if o.get("type") == "tick":
            seqs.append(o["seq"])
print(lines, bad, len(seqs), (seqs[-1] - seqs[0] + 1) if seqs else 0, nbytes >> 20)
'
start=$(date +%s.%N)
timeout 90 "$CGWARDEN" stream --root "$tmp/big" --no-bpf --quiet --interval 0.2 2>"$tmp/over.err" |
	python3 -c "$over_reader" 60 5 >"$tmp/over.res"
rc=${PIPESTATUS[0]}
took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
read -r lines bad ticks span mib <"$tmp/over.res"
# The reader's exit ends the stream (EPIPE): status 0. Half the ticks taken
# is the bar, with room for a busy host; a starved line gets a few percent.
if [ "$rc" = 0 ] && [ "${ticks:-0}" = 5 ] && [ "$bad" = 0 ] && [ "$((2 * ticks))" -ge "$span" ]; then
	pass "overload_reader_gets_whole_lines ($ticks ticks over seq span $span, $lines lines, ${mib} MiB, all JSON, ${took}s)"
else
	fail overload_reader_gets_whole_lines "rc $rc after ${took}s: $lines lines, $bad unparsable, $ticks ticks over seq span $span, ${mib} MiB: $(head -c 300 "$tmp/over.err")"
fi
finish
