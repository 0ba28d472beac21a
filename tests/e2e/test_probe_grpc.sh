#!/usr/bin/env bash
# A gRPC liveness probe end to end (root): the probe always dials the pod IP,
# so a hostNetwork pod (pod IP = the node's IP) is probed against
# kd-grpc-health running on the node. SERVING keeps the container; flipping
# the tool to NOT_SERVING gets it killed and restarted with kubelet's
# Unhealthy and Killing events.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
: "${KD_GRPC_HEALTH:=$KD_BUILD_DIR/kd-grpc-health}"
[ -x "$KD_GRPC_HEALTH" ] || kd_fail "test tool $KD_GRPC_HEALTH not built"

IMG=kubeletd.local/payload:1.0
GRPC_PID=""
kd_setup
kd_on_cleanup '[ -n "$GRPC_PID" ] && kill "$GRPC_PID"'

# free_port: a TCP port nothing listens on right now, on every address
# (the tool binds 0.0.0.0; tests run side by side, so never a fixed port).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("0.0.0.0",0)); print(s.getsockname()[1])'
}

# The port can be taken between free_port and the tool's bind by a test
# running alongside: retry with another one.
STATUS="$KD_TMP/grpc-status"
echo SERVING >"$STATUS"
for _ in 1 2 3 4 5; do
  PORT=$(free_port)
  "$KD_GRPC_HEALTH" "$PORT" "$STATUS" >"$KD_TMP/grpc.log" 2>&1 &
  GRPC_PID=$!
  kd_wait_for 5 grep -q listening "$KD_TMP/grpc.log" && break
  kill "$GRPC_PID" 2>/dev/null || true
  wait "$GRPC_PID" 2>/dev/null || true
  GRPC_PID=""
done
[ -n "$GRPC_PID" ] || kd_fail "kd-grpc-health did not start: $(cat "$KD_TMP/grpc.log")"

kd_start --crashloop-backoff-initial 1s --crashloop-backoff-max 2s
kd_import_test_image "$IMG"

cat >"$KD_TMP/manifests/grpc.yaml.tmp" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: grpc}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $IMG
    command: [/bin/kd-payload, sleep, "3600"]
    livenessProbe: {grpc: {port: $PORT}, periodSeconds: 1, failureThreshold: 2}
EOF
mv "$KD_TMP/manifests/grpc.yaml.tmp" "$KD_TMP/manifests/grpc.yaml"

events() { kd_curl /events | jq -c "[.items[] | select(.involvedObject.name == \"grpc-$KD_NODE\")]"; }
probes_ok() {
  kd_curl /metrics | grep '^prober_probe_total{' | grep "pod=\"grpc-$KD_NODE\"" \
    | grep 'probe_type="Liveness"' | grep 'result="successful"' >/dev/null
}

# ---- SERVING: probed, never restarted ---------------------------------------
kd_wait_jq 30 grpc '.status.phase == "Running" and .status.containerStatuses[0].state.running != null' \
  || kd_fail "grpc pod did not run"
sleep 5
kd_pod_json grpc | jq -e '.status.containerStatuses[0].restartCount == 0' >/dev/null \
  || kd_fail "a SERVING container was restarted: $(kd_pod_json grpc | jq -c .status.containerStatuses)"
probes_ok || kd_fail "no successful gRPC liveness probe: $(kd_curl /metrics | grep '^prober_probe_total' || true)"
events | jq -e 'all(.[]; .reason != "Unhealthy" and .reason != "Killing")' >/dev/null \
  || kd_fail "unexpected probe events: $(events)"
echo "ok - a SERVING gRPC health check keeps the container"

# ---- NOT_SERVING: killed and restarted --------------------------------------
echo NOT_SERVING >"$STATUS"
kd_wait_jq 20 grpc '.status.containerStatuses[0].restartCount >= 1' || kd_fail "NOT_SERVING did not restart the container"
ev=$(events)
echo "$ev" | jq -e 'any(.[]; .reason == "Unhealthy" and .type == "Warning"
    and .message == "Liveness probe failed: service unhealthy (responded with \"NOT_SERVING\")")' >/dev/null \
  || kd_fail "no Unhealthy event: $ev"
echo "$ev" | jq -e 'any(.[]; .reason == "Killing" and .message == "Container c failed liveness probe, will be restarted")' >/dev/null \
  || kd_fail "no Killing event: $ev"
echo "ok - a NOT_SERVING gRPC health check restarts the container"
