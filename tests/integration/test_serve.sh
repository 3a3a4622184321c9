#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# cgwarden serve under a real Prometheus (Debian's package, started here on
# loopback with a generated config): it scrapes /metrics, and its HTTP API
# must return container_cpu_usage_seconds_total for a busy test cgroup with
# cAdvisor's labels and a rising value. promtool's linter finds nothing.
# Hostile clients (one that sends nothing, one that sends 1 MB of headers)
# are cut off while /metrics keeps answering. /healthz, /snapshot (valid
# against the schema), 405 for anything but GET/HEAD, and a unix socket.
. "$(dirname "$0")/../lib.sh"
if ! cg_setup; then skip serve "$SKIP_WHY"; finish; fi
for t in curl jq python3 prometheus promtool; do
	if ! command -v "$t" >/dev/null; then
		skip serve "$t not installed (scripts/deps.sh --test)"
		finish
	fi
done

tmp=$(mktemp -d)
srv_pid= prom_pid= usrv_pid=
cleanup() {
	for p in $srv_pid $prom_pid $usrv_pid; do kill -TERM "$p" 2>/dev/null; done
	for p in $srv_pid $prom_pid $usrv_pid; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
	cg_cleanup
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
url=http://127.0.0.1:$port

mkdir "$CG_TEST/busy"
cg_spawn "$CG_TEST/busy" sh -c 'while :; do :; done' >/dev/null

"$CGWARDEN" serve --listen "127.0.0.1:$port" --interval 0.5 --http-timeout 2 \
	>"$tmp/serve.out" 2>"$tmp/serve.err" &
srv_pid=$!
for _ in $(seq 50); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200 ] && break
	sleep 0.1
done
if [ "$(curl -s "$url/healthz")" = "" ]; then
	fail serve_starts "no /healthz answer: $(cat "$tmp/serve.err")"
	finish
fi
pass serve_starts_and_healthz_200

# ---- promtool on the 0.0.4 text ----------------------------------------
curl -s "$url/metrics" >"$tmp/metrics.txt"
lint=$(promtool check metrics <"$tmp/metrics.txt" 2>&1)
if [ $? -eq 0 ] && [ -z "$lint" ]; then
	pass "promtool_check_metrics_silent ($(wc -l <"$tmp/metrics.txt") lines)"
else
	fail promtool_check_metrics_silent "$(echo "$lint" | head -5)"
fi
# cgwarden_build_info says what --version says, label for label.
ver=$("$CGWARDEN" --version)
bi=$(grep '^cgwarden_build_info{' "$tmp/metrics.txt")
want_bi="cgwarden_build_info{version=\"$(sed -n 's/^cgwarden //p' <<<"$ver")\",revision=\"$(sed -n 's/^revision //p' <<<"$ver")\""
want_bi+=$(sed -n 's/^built with //p' <<<"$ver" | tr -d ',' | tr - _ |
	awk '{ for (i = 1; i < NF; i += 2) printf ",%s=\"%s\"", $i, $(i + 1) }')"} 1"
[ "$bi" = "$want_bi" ] && pass build_info_matches_version || fail build_info_matches_version "$bi vs $want_bi"
ct=$(curl -s -o /dev/null -w '%{content_type}' "$url/metrics")
[ "$ct" = "text/plain; version=0.0.4; charset=utf-8" ] && pass text_content_type ||
	fail text_content_type "$ct"
om_accept='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
curl -s -H "Accept: $om_accept" -D "$tmp/om.hdr" "$url/metrics" >"$tmp/metrics.om"
if grep -qi '^content-type: application/openmetrics-text; version=1.0.0' "$tmp/om.hdr" &&
	[ "$(tail -n 1 "$tmp/metrics.om")" = "# EOF" ]; then
	pass openmetrics_when_asked
else
	fail openmetrics_when_asked "$(grep -i content-type "$tmp/om.hdr"), last line $(tail -n 1 "$tmp/metrics.om")"
fi

# ---- gzip, as Prometheus asks on every scrape ------------------------------
# Compressed once per snapshot; a client that does not ask gets it plain.
curl -s -H 'Accept-Encoding: gzip' -D "$tmp/gz.hdr" "$url/metrics" >"$tmp/metrics.gz"
curl -s -D "$tmp/plain.hdr" "$url/metrics" >"$tmp/metrics.plain"
if grep -qi '^content-encoding: gzip' "$tmp/gz.hdr" && grep -qi '^vary: accept-encoding' "$tmp/gz.hdr" &&
	! grep -qi '^content-encoding' "$tmp/plain.hdr" && gzip -t "$tmp/metrics.gz" 2>/dev/null &&
	lint=$(zcat "$tmp/metrics.gz" | promtool check metrics 2>&1) && [ -z "$lint" ] &&
	[ "$(zcat "$tmp/metrics.gz" | grep '^# HELP')" = "$(grep '^# HELP' "$tmp/metrics.plain")" ]; then
	pass "metrics_gzip_when_asked ($(wc -c <"$tmp/metrics.plain") bytes plain, $(wc -c <"$tmp/metrics.gz") gzipped)"
else
	fail metrics_gzip_when_asked "headers: $(tr -d '\r' <"$tmp/gz.hdr" | grep -i 'content-encoding\|vary' | tr '\n' ' ') lint: ${lint:-}"
fi

# ---- a real Prometheus scrapes it --------------------------------------
pport=$(free_port)
purl=http://127.0.0.1:$pport
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: cgwarden
    static_configs:
      - targets: ['127.0.0.1:$port']
EOF
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
	--web.listen-address="127.0.0.1:$pport" >"$tmp/prom.log" 2>&1 &
prom_pid=$!
q='container_cpu_usage_seconds_total{id="/'$CG_REL'/busy"}'
query() { curl -s --get "$purl/api/v1/query" --data-urlencode "query=$1"; }
# The first value of an instant query, retried for up to 10 s: on a host
# busy with other work a scrape can miss its 1 s timeout, and the series is
# then briefly without a fresh sample (null), which is not cgwarden's fault.
query_value() {
	local v
	for _ in $(seq 20); do
		v=$(query "$1" | jq -r '.data.result[0].value[1]' 2>/dev/null)
		[[ -n $v && $v != null ]] && break
		sleep 0.5
	done
	echo "$v"
}
found=
for _ in $(seq 60); do
	r=$(query "$q")
	if [ "$(echo "$r" | jq -r '.data.result | length' 2>/dev/null)" = 1 ]; then
		found=$r
		break
	fi
	sleep 0.5
done
if [ -z "$found" ]; then
	fail prometheus_has_cpu_series "no result for $q; targets: $(curl -s "$purl/api/v1/targets" | jq -c '.data.activeTargets[] | {health, lastError}' 2>/dev/null)"
else
	pass prometheus_has_cpu_series
	m=$(echo "$found" | jq -c '.data.result[0].metric')
	want_id=$(stat -c %i "$CG_TEST/busy")
	if [ "$(echo "$m" | jq -r .name)" = busy ] && [ "$(echo "$m" | jq -r .kind)" = other ] &&
		[ "$(echo "$m" | jq -r .cgroup_id)" = "$want_id" ] &&
		[ "$(echo "$m" | jq -r .job)" = cgwarden ]; then
		pass "labels_name_kind_cgroup_id $m"
	else
		fail labels_name_kind_cgroup_id "$m (cgroup id $want_id)"
	fi
	# Ground truth beside Prometheus: the busy cgroup's own usage_usec over
	# the same 2.5 s. On a quiet host the loop gets a whole CPU; on a busy
	# one (a second copy of the suite, a neighbour's 17 MB /metrics to
	# scrape) less, and then that share is what the series must show.
	usage() { awk '$1 == "usage_usec" { print $2 }' "$CG_TEST/busy/cpu.stat"; }
	v1=$(echo "$found" | jq -r '.data.result[0].value[1]')
	u1=$(usage) t1=$(date +%s%N)
	sleep 2.5
	v2=$(query_value "$q")
	u2=$(usage) t2=$(date +%s%N)
	share=$(awk -v a="$u1" -v b="$u2" -v t="$t1" -v u="$t2" 'BEGIN { printf "%.3f", (b - a) * 1000 / (u - t) }')
	if awk -v a="$v1" -v b="$v2" -v g="$share" 'BEGIN { exit !(b - a > 0.5 * g * 2.5) }'; then
		pass "cpu_usage_rising $v1 -> $v2 s (the kernel counted $share CPU)"
	else
		fail cpu_usage_rising "$v1 -> $v2 (the kernel counted $share CPU over 2.5 s)"
	fi
	# rate() over 10 s, beside the kernel's count over the same 10 s: over
	# a short window a tick or a scrape delayed by a busy host (samples
	# carry the scrape's time, not the tick's) weighs too much.
	sleep 8
	u3=$(usage) t3=$(date +%s%N)
	rate=$(query_value "rate(${q}[10s])")
	share=$(awk -v a="$u1" -v b="$u3" -v t="$t1" -v u="$t3" 'BEGIN { printf "%.3f", (b - a) * 1000 / (u - t) }')
	if awk -v r="$rate" -v g="$share" 'BEGIN { d = r - g; if (d < 0) d = -d
		tol = 0.3 * g; if (tol < 0.15) tol = 0.15
		exit !(g > 0 && d <= tol) }'; then
		pass "rate_is_one_busy_cpu $rate (the kernel counted $share)"
	else
		fail rate_is_one_busy_cpu "rate $rate over 10 s, the kernel counted $share CPU (want that share +-30%)"
	fi
fi
t=$(curl -s "$purl/api/v1/targets" | jq -r '.data.activeTargets[0] | "\(.health) \(.lastError)"')
[ "$t" = "up " ] && pass prometheus_target_up_no_error || fail prometheus_target_up_no_error "$t"
# The scrape format Prometheus negotiated parsed: the histogram is there.
h=$(query 'count(cgwarden_runq_latency_seconds_bucket)' | jq -r '.data.result[0].value[1] // "none"')
if grep -q '^cgwarden_bpf_enabled 1' "$tmp/metrics.txt"; then
	[ "$h" != none ] && pass "runq_histogram_ingested ($h buckets)" || fail runq_histogram_ingested "none"
else
	skip runq_histogram_ingested "eBPF is off here"
fi

# ---- hostile clients ----------------------------------------------------
cat >"$tmp/client.py" <<'EOF'
import socket, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
t0 = time.time()
sent = 0
if mode == "big":
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        line = b"X-Pad: " + b"a" * 1015 + b"\r\n"
        for _ in range(1024):
            s.sendall(line)
            sent += len(line)
    except OSError:
        pass
s.settimeout(30)
data = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
except OSError:
    pass
status = data.split(b"\r\n", 1)[0].decode() if data else "-"
print("%.2f %d %s" % (time.time() - t0, sent, status))
EOF
python3 "$tmp/client.py" "$port" idle >"$tmp/idle.out" &
idle_pid=$!
python3 "$tmp/client.py" "$port" big >"$tmp/big.out"
sleep 0.3
during=$(curl -s -m 2 -o /dev/null -w '%{http_code} %{time_total}' "$url/metrics")
wait "$idle_pid"
read -r big_t big_sent big_status <"$tmp/big.out"
read -r idle_t _ _ <"$tmp/idle.out"
if awk -v t="$idle_t" 'BEGIN { exit !(t >= 1.5 && t < 5) }'; then
	pass "silent_client_cut_off_after ${idle_t}s (--http-timeout 2)"
else
	fail silent_client_cut_off "closed after ${idle_t}s"
fi
if awk -v t="$big_t" 'BEGIN { exit !(t < 3) }' &&
	{ [ "$big_sent" -lt 1048576 ] || [[ "$big_status" == *431* ]]; }; then
	pass "1MB_headers_cut_off after ${big_t}s, $big_sent bytes accepted, '${big_status}'"
else
	fail 1MB_headers_cut_off "after ${big_t}s, sent $big_sent, '$big_status'"
fi
[ "${during%% *}" = 200 ] && pass "metrics_answers_during_attack (${during#* }s)" ||
	fail metrics_answers_during_attack "$during"

# ---- endpoints ----------------------------------------------------------
curl -s "$url/snapshot" >"$tmp/snap.json"
if python3 tests/schema_validate.py "$tmp/snap.json" >"$tmp/val.out" 2>&1; then
	pass "snapshot_valid_json_schema ($(jq '.cgroups | length' "$tmp/snap.json") cgroups)"
else
	fail snapshot_valid_json_schema "$(head -c 300 "$tmp/val.out")"
fi
for m in POST PUT DELETE PATCH; do
	c=$(curl -s -o /dev/null -w '%{http_code}' -X "$m" -d 'memory.max=1' "$url/metrics")
	[ "$c" = 405 ] || { fail "method_${m}_is_405" "$c"; continue; }
done
c=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/snapshot")
allow=$(curl -s -D - -o /dev/null -X POST "$url/healthz" | tr -d '\r' | awk -F': ' 'tolower($1)=="allow" { print $2 }')
[ "$c" = 405 ] && [ "$allow" = "GET, HEAD" ] && pass "non_GET_is_405_with_Allow" ||
	fail non_GET_is_405 "$c allow '$allow'"
hb=$(curl -s -I "$url/metrics" | tr -d '\r' | grep -ci '^content-length: [1-9]')
hbody=$(curl -s -X HEAD -m 2 "$url/metrics" 2>/dev/null | wc -c)
[ "$hb" = 1 ] && [ "$hbody" = 0 ] && pass head_has_length_no_body || fail head_has_length_no_body "$hb $hbody"
c=$(curl -s -o /dev/null -w '%{http_code}' "$url/nope")
[ "$c" = 404 ] && pass unknown_path_404 || fail unknown_path_404 "$c"

# ---- a unix socket ------------------------------------------------------
sock=$tmp/cgwarden.sock
"$CGWARDEN" serve --listen "unix:$sock" --interval 0.5 >/dev/null 2>"$tmp/userve.err" &
usrv_pid=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
for _ in $(seq 30); do
	c=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$sock" http://localhost/healthz)
	[ "$c" = 200 ] && break
	sleep 0.1
done
n=$(curl -s --unix-socket "$sock" http://localhost/metrics | grep -c '^container_cpu_usage_seconds_total{')
[ "$c" = 200 ] && [ "$n" -gt 0 ] && pass "unix_socket_serves ($n cpu series)" ||
	fail unix_socket_serves "healthz $c, $n series: $(cat "$tmp/userve.err")"
# A second instance on the same path must not take the live socket over
# (one that did would serve on: the timeout ends it, and the check fails).
timeout 5 "$CGWARDEN" serve --listen "unix:$sock" --interval 0.5 >/dev/null 2>"$tmp/userve2.err"
rc=$?
c=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$sock" http://localhost/healthz)
[ "$rc" != 0 ] && grep -q 'in use' "$tmp/userve2.err" && [ "$c" = 200 ] &&
	pass unix_socket_live_not_hijacked ||
	fail unix_socket_live_not_hijacked "rc $rc, healthz $c: $(cat "$tmp/userve2.err")"
kill -TERM "$usrv_pid"
wait "$usrv_pid"
rc=$?
usrv_pid=
[ "$rc" = 0 ] && [ ! -e "$sock" ] && pass unix_socket_removed_on_exit || fail unix_socket_removed_on_exit "rc $rc"
# A stale socket file (its server died without removing it) is replaced.
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$sock"
"$CGWARDEN" serve --listen "unix:$sock" --interval 0.5 >/dev/null 2>"$tmp/userve3.err" &
usrv_pid=$!
for _ in $(seq 30); do
	c=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$sock" http://localhost/healthz)
	[ "$c" = 200 ] && break
	sleep 0.1
done
[ "$c" = 200 ] && pass unix_socket_stale_replaced ||
	fail unix_socket_stale_replaced "healthz $c: $(cat "$tmp/userve3.err")"
# Its path taken over meanwhile (another socket moved there; made while
# ours still exists, so it cannot reuse its inode): at exit it leaves the
# new file alone.
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$sock.new"
mv -f "$sock.new" "$sock"
ino=$(stat -c %i "$sock")
kill -TERM "$usrv_pid"
wait "$usrv_pid"
rc=$?
usrv_pid=
[ "$rc" = 0 ] && [ -S "$sock" ] && [ "$(stat -c %i "$sock")" = "$ino" ] &&
	pass unix_socket_not_ours_kept_on_exit || fail unix_socket_not_ours_kept_on_exit "rc $rc"
rm -f "$sock"

kill -TERM "$srv_pid"
wait "$srv_pid"
rc=$?
srv_pid=
[ "$rc" = 0 ] && pass serve_exits_0_on_sigterm || fail serve_exits_0_on_sigterm "rc $rc: $(cat "$tmp/serve.err")"
finish
