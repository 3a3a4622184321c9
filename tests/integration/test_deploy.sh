#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# deploy/: the DaemonSet YAML and the Grafana dashboard JSON parse; the
# DaemonSet has what cgwarden needs (hostPID, the cgroup and BTF mounts,
# scrape annotations, a /healthz liveness probe) and runs the image make image
# builds (the Makefile's version) as deploy/README.md's podman line runs it:
# the same host paths at the same places, read-only alike, the same
# capabilities and seccomp profile; every
# dashboard query is valid PromQL (promtool check rules, Grafana variables
# filled in) and names only metrics `cgwarden serve` declares.
. "$(dirname "$0")/../lib.sh"
if ! python3 -c 'import yaml' 2>/dev/null; then
	skip deploy "python3-yaml not installed (scripts/deps.sh --test)"
	finish
fi
tmp=$(mktemp -d)
srv_pid=
trap '[ -n "$srv_pid" ] && kill -TERM "$srv_pid" 2>/dev/null; rm -rf "$tmp"' EXIT

version=$(sed -n 's/^VERSION := //p' Makefile)
out=$(python3 - deploy/cgwarden-daemonset.yaml deploy/README.md "$version" <<'EOF' 2>&1
import re, shlex, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
ds = [d for d in docs if d.get("kind") == "DaemonSet"]
assert len(ds) == 1, "one DaemonSet"
spec = ds[0]["spec"]["template"]
pod, ann = spec["spec"], spec["metadata"]["annotations"]
c = pod["containers"][0]
assert pod.get("hostPID") is True, "hostPID"
assert ann.get("prometheus.io/scrape") == "true", "scrape annotation"
assert ann.get("prometheus.io/port") == "9333", "port annotation"
assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", "liveness on /healthz"
paths = {v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v}
for p in ("/sys/fs/cgroup", "/sys/kernel/btf"):
    assert p in paths, "hostPath " + p
assert c["image"] == "localhost/cgwarden:" + sys.argv[3], \
    "image %s, the Makefile builds localhost/cgwarden:%s" % (c["image"], sys.argv[3])
assert c.get("imagePullPolicy") in ("Never", "IfNotPresent"), "no registry holds the image"
assert c["args"][0] == "serve", "runs serve"
assert any(a.startswith("--listen=") for a in c["args"]), "listens beyond loopback"
# The flight recorder writes to a volume of its own, not read-only.
rec = [a.split("=", 1)[1] for a in c["args"] if a.startswith("--record=")]
assert len(rec) == 1, "one --record=DIR"
assert any(a.startswith("--retain=") for a in c["args"]), "a size cap for the recording"
mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
assert rec[0] in mounts and not mounts[rec[0]].get("readOnly"), "recording dir mounted writable"

# The documented podman run line (the block test_image.sh runs).
md = open(sys.argv[2]).read()
block = re.search(r"<!-- podman-run: begin -->\n(.*?)<!-- podman-run: end -->", md, re.S)
assert block, "deploy/README.md has a podman-run block"
run = re.search(r"^podman run .*?^\t\S+ serve [^\n]*$", block.group(1), re.S | re.M)
assert run, "a podman run line in the block"
w = shlex.split(run.group(0).replace("\\\n", " ").replace('"$CG2"', "/sys/fs/cgroup"))
img = w[w.index("serve") - 1]
assert img == c["image"], "the README runs %s, the DaemonSet %s" % (img, c["image"])
doc = set()
for i, a in enumerate(w):
    if a == "-v":
        src, dst, opts = w[i + 1].split(":")
        doc.add((src, dst, "ro" in opts.split(",")))
vols = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v}
ds = {(vols[m["name"]], m["mountPath"], bool(m.get("readOnly")))
      for m in c["volumeMounts"] if m["name"] in vols and m["mountPath"] != rec[0]}
assert ds == doc, "mounts differ: only in the DaemonSet %s, only in the README %s" % (
    sorted(ds - doc), sorted(doc - ds))
caps = set()
for a in w:
    if a.startswith("--cap-add="):
        caps |= set(a.split("=", 1)[1].split(","))
sc = c["securityContext"]
assert set(sc["capabilities"]["add"]) == caps, "capabilities %s, README %s" % (
    sc["capabilities"]["add"], sorted(caps))
assert ("--cap-drop=all" in w) == (sc["capabilities"].get("drop") == ["ALL"]), "drop ALL"
assert ("seccomp=unconfined" in w) == (sc.get("seccompProfile", {}).get("type") == "Unconfined"), \
    "seccomp"
assert "--pid=host" in w, "README: --pid=host"
print("ok")
EOF
)
[ "$out" = ok ] && pass daemonset_parses_and_runs_the_image_as_documented || fail daemonset "$out"

# The recording options of both deployments are ones cgwarden accepts
# (getopt takes them in order: a bad value fails before --help prints).
ds_retain=$(grep -o -- '--retain=[^ ]*' deploy/cgwarden-daemonset.yaml)
unit_rec=$(sed -n 's/^Environment="CGWARDEN_RECORD=\(.*\)"$/\1/p' deploy/cgwarden.service)
if [ -n "$ds_retain" ] && [ -n "$unit_rec" ] &&
	"$CGWARDEN" serve "$ds_retain" --help >/dev/null 2>"$tmp/opt.err" &&
	"$CGWARDEN" daemon $unit_rec --help >/dev/null 2>>"$tmp/opt.err" &&
	grep -q '\$CGWARDEN_RECORD' deploy/cgwarden.service; then
	pass "recording_options_are_accepted ($ds_retain; $unit_rec)"
else
	fail recording_options_are_accepted "daemonset '$ds_retain', unit '$unit_rec': $(cat "$tmp/opt.err")"
fi

# The dashboard's queries, Grafana variables filled in, one per line.
if ! python3 - deploy/grafana-dashboard.json >"$tmp/exprs" 2>"$tmp/json.err" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["panels"], "panels"
subst = {"$__rate_interval": "1m", "$__range": "1h", "$topk": "10", "$instance": ".*",
         "$kind": ".*", "$job": ".*"}
for p in d["panels"]:
    for t in p["targets"]:
        e = t["expr"]
        for k, v in subst.items():
            e = e.replace(k, v)
        assert "$" not in e, "unfilled variable in " + e
        print(e)
EOF
then
	fail dashboard_json_parses "$(cat "$tmp/json.err")"
	finish
fi
pass "dashboard_json_parses ($(wc -l <"$tmp/exprs") queries)"

if command -v promtool >/dev/null; then
	python3 - "$tmp/exprs" >"$tmp/rules.yml" <<'EOF'
import sys, yaml
rules = [{"record": "cgwarden:dashboard_%d" % i, "expr": e.strip()}
         for i, e in enumerate(open(sys.argv[1])) if e.strip()]
print(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
EOF
	if r=$(promtool check rules "$tmp/rules.yml" 2>&1); then
		pass dashboard_queries_are_valid_promql
	else
		fail dashboard_queries_are_valid_promql "$(echo "$r" | tail -5)"
	fi
else
	skip dashboard_queries_are_valid_promql "promtool not installed"
fi

# Every metric name in a query is a family cgwarden serve declares
# (families are declared even with no samples, so --no-bpf is enough).
"$CGWARDEN" serve --listen 127.0.0.1:0 --no-bpf --interval 1 2>"$tmp/serve.err" &
srv_pid=$!
addr=
for _ in $(seq 50); do
	addr=$(sed -n 's/^cgwarden: serving on //p' "$tmp/serve.err")
	[ -n "$addr" ] && curl -sf "http://$addr/metrics" >"$tmp/metrics" && break
	sleep 0.1
done
if [ ! -s "$tmp/metrics" ]; then
	fail dashboard_names_exist "no /metrics: $(cat "$tmp/serve.err")"
	finish
fi
grep '^# TYPE ' "$tmp/metrics" | awk '{ print $3 }' | sort -u >"$tmp/declared"
# Histogram series are named after their family.
sed -n 's/^\(.*\) histogram$/\1/p' <(grep '^# TYPE ' "$tmp/metrics" | cut -d' ' -f3-) |
	sed 's/$/_bucket/' >>"$tmp/declared"
grep -oE '\b(container|cgwarden|machine|process)_[a-z_]+' "$tmp/exprs" | sort -u >"$tmp/used"
missing=$(comm -23 "$tmp/used" <(sort -u "$tmp/declared") | grep -v '^cgwarden_dashboard')
[ -z "$missing" ] && pass "dashboard_names_exist ($(wc -l <"$tmp/used") metrics)" ||
	fail dashboard_names_exist "not served: $(echo $missing)"
finish
