#!/usr/bin/env bash
# GET /metrics and GET /stats/summary end to end: the exposition parses
# strictly (promtool when installed, else the strict parser of
# tests/unit/test_metrics.c via `test_metrics --check`), the socket's request
# counters move with the requests made, and the Summary has the kubelet's
# shape. As root (with CNI plugins), pods run: a container burning CPU has a
# moving usageCoreNanoSeconds and a usageNanoCores near a core, one that
# allocates memory has a working set that grows, rootfs/logs are reported,
# the pod and container gauges count them, and `kubeletctl top` prints them.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: no curl"; exit 77; }
CHECKER=$KD_BUILD_DIR/test_metrics
[ -x "$CHECKER" ] || command -v promtool >/dev/null || { echo "SKIP: no checker"; exit 77; }

check_exposition() { # FILE
  if command -v promtool >/dev/null; then
    promtool check metrics <"$1" || kd_fail "promtool refused $1"
  fi
  if [ -x "$CHECKER" ]; then
    "$CHECKER" --check "$1" >/dev/null || kd_fail "the strict parser refused $1"
  fi
}

# The value of one sample line (exact name and labels as rendered), or 0.
sample() { # FILE 'name{labels}'
  awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }' "$1"
}

metrics_to() { # FILE
  curl -sS --max-time 10 --unix-socket "$KD_SOCK" -D "$1.headers" -o "$1" \
    "http://localhost/metrics" || kd_fail "GET /metrics failed"
}

ROOT_PODS=0
if [ "$(id -u)" -eq 0 ] && { [ -x /usr/lib/cni/bridge ] || [ -x /opt/cni/bin/bridge ]; }; then
  ROOT_PODS=1
fi
IMG=kubeletd.local/payload:1.0


kd_setup
CG_ROOT=$KD_CG_ROOT BRIDGE=$KD_BRIDGE CIDR=$KD_CIDR
if [ "$ROOT_PODS" = 1 ]; then
  kd_start --cgroup-root "$CG_ROOT" --network-bridge "$BRIDGE" --pod-cidr "$CIDR" \
    --stop-pods-on-exit
else
  kd_start
fi

# ---- /metrics: strict, typed, moving ------------------------------------------
M1=$KD_TMP/m1
metrics_to "$M1"
grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' "$M1.headers" ||
  kd_fail "Content-Type of /metrics: $(grep -i content-type "$M1.headers")"
check_exposition "$M1"
grep -qx '# TYPE kubelet_running_pods gauge' "$M1" || kd_fail "no kubelet_running_pods"
grep -qx '# TYPE kubelet_running_containers gauge' "$M1" || kd_fail "no kubelet_running_containers"
grep -qx '# TYPE kubelet_pod_start_duration_seconds histogram' "$M1" ||
  kd_fail "no pod start histogram"
grep -qx "kubelet_node_name{node=\"$KD_NODE\"} 1" "$M1" || kd_fail "no kubelet_node_name"
grep -q '^kubelet_pod_start_duration_seconds_bucket{le="0.5"} ' "$M1" ||
  kd_fail "the pod start histogram lacks the kubelet's buckets"

pods_key='kubeletd_http_requests_total{code="200",method="GET",path="/pods"}'
pod_key='kubeletd_http_requests_total{code="404",method="GET",path="/pods/"}'
none_key='kubeletd_http_requests_total{code="404",method="GET",path="other"}'
before_pods=$(sample "$M1" "$pods_key")
before_pod=$(sample "$M1" "$pod_key")
before_none=$(sample "$M1" "$none_key")
for _ in 1 2 3; do kd_curl /pods >/dev/null; done
kd_curl /pods/default/no-such-pod >/dev/null || true
kd_curl /no/such/route/$RANDOM >/dev/null || true
M2=$KD_TMP/m2
metrics_to "$M2"
check_exposition "$M2"
kd_assert_eq $((before_pods + 3)) "$(sample "$M2" "$pods_key")" "GET /pods counted"
kd_assert_eq $((before_pod + 1)) "$(sample "$M2" "$pod_key")" "404 on the /pods/ route counted"
kd_assert_eq $((before_none + 1)) "$(sample "$M2" "$none_key")" "unrouted request counted"
# the previous scrape itself was counted, with its duration
[ "$(sample "$M2" 'kubeletd_http_requests_total{code="200",method="GET",path="/metrics"}')" -ge 1 ] ||
  kd_fail "GET /metrics not counted"
[ "$(sample "$M2" 'kubeletd_http_request_duration_seconds_count{method="GET",path="/pods"}')" -ge 3 ] ||
  kd_fail "request durations not observed"
# raw URLs never become label values
! grep -q 'no-such-pod\|/no/such/route' "$M2" || kd_fail "a raw URL leaked into a label"

# ---- /stats/summary: the node part -------------------------------------------
S=$(kd_curl /stats/summary)
jq -e --arg n "$KD_NODE" '
  (.node.nodeName == $n)
  and (.node.cpu.usageCoreNanoSeconds | type == "number" and . > 0)
  and (.node.cpu.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$"))
  and (.node.memory.workingSetBytes > 0) and (.node.memory.usageBytes >= .node.memory.workingSetBytes)
  and (.node.memory.availableBytes > 0) and (.node.memory | has("rssBytes"))
  and (.node.fs.capacityBytes > 0) and (.node.fs.availableBytes <= .node.fs.capacityBytes)
  and (.node.fs.usedBytes > 0) and (.node.fs.inodes > 0)
  and (.node.runtime.imageFs.capacityBytes > 0) and (.node.runtime.imageFs | has("usedBytes"))
  and (.pods | type == "array")' <<<"$S" >/dev/null || kd_fail "node summary shape: $S"
sleep 1.1
S2=$(kd_curl /stats/summary)
jq -e '.node.cpu.usageNanoCores | type == "number"' <<<"$S2" >/dev/null ||
  kd_fail "no node usageNanoCores after two readings: $(jq -c .node.cpu <<<"$S2")"

if [ "$ROOT_PODS" = 0 ]; then
  echo "PASS (pod stats skipped: they need root and the CNI plugins)"
  exit 0
fi

# ---- pods: CPU and memory that move --------------------------------------------
kd_import_test_image "$IMG"
cat >"$KD_TMP/manifests/stats.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: stats}
spec:
  terminationGracePeriodSeconds: 2
  volumes: [{name: scratch, emptyDir: {}}]
  containers:
  - name: burn
    image: $IMG
    command: [sh, -c, "echo burning; while :; do :; done"]
  - name: mem
    image: $IMG
    command: [sh, -c, "dd if=/dev/zero of=/scratch/f bs=1024 count=512 2>/dev/null; sleep 4; exec /bin/kd-payload alloc 20"]
    volumeMounts: [{name: scratch, mountPath: /scratch}]
EOF
kd_wait_jq 60 stats '[.status.containerStatuses[]? | select(.state.running)] | length == 2' ||
  kd_fail "the stats pod did not run"

pod_stats() { kd_curl /stats/summary | jq -c '.pods[] | select(.podRef.name == "stats-'"$KD_NODE"'")'; }
ctr() { jq -c --arg c "$1" '.containers[] | select(.name == $c)'; }

P1=$(pod_stats)
[ -n "$P1" ] || kd_fail "no stats for the pod: $(kd_curl /stats/summary)"
jq -e '(.podRef.namespace == "default") and (.podRef.uid | test("^[0-9a-f]{32}$"))
  and (.containers | length == 2) and (.cpu.usageCoreNanoSeconds > 0)
  and (.memory.workingSetBytes > 0) and (.process_stats.process_count >= 2)
  and has("ephemeral-storage") and (.volume[0].name == "scratch")' <<<"$P1" >/dev/null ||
  kd_fail "pod summary shape: $P1"
burn1=$(ctr burn <<<"$P1" | jq '.cpu.usageCoreNanoSeconds')
mem1=$(ctr mem <<<"$P1" | jq '.memory.workingSetBytes')
[ "$mem1" -lt $((12 * 1024 * 1024)) ] || kd_fail "mem already uses $mem1 bytes before its allocation"
jq -e '(.logs.usedBytes > 0) and (.rootfs | has("usedBytes")) and (.startTime | length > 0)' \
  <<<"$(ctr burn <<<"$P1")" >/dev/null || kd_fail "container summary shape: $(ctr burn <<<"$P1")"

# the allocation happens 4 s after start; CPU keeps burning
grow() {
  local p
  p=$(pod_stats)
  [ "$(ctr mem <<<"$p" | jq '.memory.workingSetBytes')" -ge $((mem1 + 15 * 1024 * 1024)) ]
}
kd_wait_for 30 grow || kd_fail "the working set of mem did not grow by 20 MiB: $(pod_stats)"
P2=$(pod_stats)
burn2=$(ctr burn <<<"$P2" | jq '.cpu.usageCoreNanoSeconds')
[ "$burn2" -gt "$burn1" ] || kd_fail "usageCoreNanoSeconds did not move: $burn1 -> $burn2"
sleep 1.2
P3=$(pod_stats)
nc=$(ctr burn <<<"$P3" | jq '.cpu.usageNanoCores // 0')
# a busy loop is about one core; parallel tests on 2 cores can take most of it
[ "$nc" -gt 50000000 ] || kd_fail "usageNanoCores of a busy loop is $nc"
jq -e '.["ephemeral-storage"].usedBytes >= 512 * 1024' <<<"$P3" >/dev/null ||
  kd_fail "ephemeral-storage misses the emptyDir: $(jq -c '.["ephemeral-storage"]' <<<"$P3")"

# ---- the gauges and kubeletctl top --------------------------------------------------
M3=$KD_TMP/m3
metrics_to "$M3"
check_exposition "$M3"
[ "$(sample "$M3" kubelet_running_pods)" -ge 1 ] || kd_fail "kubelet_running_pods"
[ "$(sample "$M3" 'kubelet_running_containers{container_state="running"}')" -ge 2 ] ||
  kd_fail "kubelet_running_containers{running}"

out=$(kd_ctl top)
head -n1 <<<"$out" | grep -Eq '^NAME +CPU\(cores\) +MEMORY\(bytes\)$' || kd_fail "top header: $out"
grep -Eq "^stats-$KD_NODE +[0-9]+m +[0-9]+Mi$" <<<"$out" || kd_fail "top row: $out"
cpu_m=$(awk -v p="stats-$KD_NODE" '$1 == p { sub("m", "", $2); print $2 }' <<<"$out")
[ "$cpu_m" -gt 50 ] || kd_fail "top shows ${cpu_m}m for a busy loop"
out=$(kd_ctl top pods --containers)
head -n1 <<<"$out" | grep -Eq '^POD +NAME +CPU\(cores\) +MEMORY\(bytes\)$' ||
  kd_fail "top --containers header: $out"
grep -Eq "^stats-$KD_NODE +mem +[0-9]+m +(1[89]|2[0-9])Mi$" <<<"$out" ||
  kd_fail "top --containers: mem should show ~20Mi: $out"
echo PASS
