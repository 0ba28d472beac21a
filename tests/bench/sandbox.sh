#!/bin/bash
# Pod sandbox setup and teardown time (p50/p99 over N pods, one at a time)
# on the built-in network, without and with a hostPort, and the CNI plugin
# call durations from /metrics. Not part of ctest.
#   tests/bench/sandbox.sh [N]      (root; KD_BUILD_DIR as for the e2e tests)
# Setup: the first log line naming the pod (the manifest admitted) to
# "sandbox ready" (shim, namespaces, cgroup, CNI ADD, name files).
# Teardown: the last container's exit (after its grace period) to "stopped
# and torn down" (shim gone, CNI DEL, mounts, cgroups, directories). Both from the
# daemon's own log timestamps.
set -euo pipefail

N=${1:-30}
. "$(dirname "$0")/../e2e/lib.sh"
[ "$(id -u)" = 0 ] || { echo "sandbox.sh: run as root" >&2; exit 1; }
for tool in jq python3; do
  command -v "$tool" >/dev/null || { echo "sandbox.sh: $tool is needed" >&2; exit 1; }
done

kd_setup
mkdir -p "$KD_TMP/cni-empty"
kd_start --cni-conf-dir "$KD_TMP/cni-empty" --cni-bin-dir /usr/lib/cni
kd_import_test_image
HP=$((20000 + $$ % 20000))

run_series() { # PREFIX WITH-HOSTPORT
  local prefix=$1 hp=$2 ports=""
  [ "$hp" = yes ] && ports="ports: [{containerPort: 8080, hostPort: $HP}]"
  for i in $(seq "$N"); do
    cat >"$KD_TMP/manifests/.b.tmp" <<Y
apiVersion: v1
kind: Pod
metadata: {name: $prefix$i}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: kubeletd.local/payload:1.0, command: [/bin/kd-payload, sleep, "3600"], $ports}
Y
    mv "$KD_TMP/manifests/.b.tmp" "$KD_TMP/manifests/b.yaml"
    kd_wait_phase "$prefix$i" Running 60 >/dev/null || kd_fail "$prefix$i did not run"
    rm "$KD_TMP/manifests/b.yaml"
    kd_wait_for 60 sh -c "[ -z \"\$(ls '$KD_TMP/run/pods')\" ]" || kd_fail "$prefix$i not gone"
  done
}

run_series net no
run_series hp yes

python3 - "$KD_TMP/kubeletd.log" "$N" <<'PY'
import re, sys
log, n = sys.argv[1], int(sys.argv[2])
ts = re.compile(r'^[IWE]\d{4} (\d\d):(\d\d):(\d\d\.\d+)')
first, ready, stop, down, uid2name, exited = {}, {}, {}, {}, {}, {}
for line in open(log, errors='replace'):
    m = ts.match(line)
    if not m:
        continue
    t = int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3])
    for name in re.findall(r'\b((?:net|hp)\d+)-node1\b', line):
        first.setdefault(name, t)
        if 'sandbox ready' in line:
            ready.setdefault(name, t)
        if 'exited (code' in line:
            exited[name] = t
        u = re.search(r'\(uid ([0-9a-f]+)\)', line)
        if u:
            uid2name[u[1]] = name
            if line.rstrip().endswith('stopping'):
                stop.setdefault(name, t)
            if 'stopped and torn down' in line:
                down.setdefault(name, t)
def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else float('nan')
for prefix, label in (('net', 'built-in network'), ('hp', 'with a hostPort')):
    up = [1000 * (ready[k] - first[k]) for k in ready if k.startswith(prefix) and k in first]
    td = [1000 * (down[k] - exited.get(k, stop.get(k, down[k]))) for k in down if k.startswith(prefix)]
    print(f"sandbox {label:17s} setup    p50 {pct(up,50):7.1f} ms  p99 {pct(up,99):7.1f} ms  (n={len(up)})")
    print(f"sandbox {label:17s} teardown p50 {pct(td,50):7.1f} ms  p99 {pct(td,99):7.1f} ms  (n={len(td)})")
PY

echo "CNI plugin calls (kubelet_network_plugin_operations_duration_seconds):"
kd_curl /metrics | awk '
  /^kubelet_network_plugin_operations_duration_seconds_(sum|count)/ {
    match($0, /operation_type="[^"]*"/); op = substr($0, RSTART + 16, RLENGTH - 17)
    if ($0 ~ /_sum/) sum[op] = $NF; else cnt[op] = $NF
  }
  END { for (op in cnt) if (cnt[op] > 0) printf "  %-24s %5d calls, mean %.1f ms\n", op, cnt[op], 1000 * sum[op] / cnt[op] }'
kd_stop
