# Shared helpers for the end-to-end tests. Source it from a test script:
#   . "$(dirname "$0")/lib.sh"; kd_setup; kd_start; ...
# Every test gets private directories, its own socket and its own node name,
# and everything it started is stopped on exit, pass or fail.
set -euo pipefail

: "${KD_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${KD_BUILD_DIR:=$KD_SOURCE_DIR/build}"
: "${KUBELETD:=$KD_BUILD_DIR/kubeletd}"
: "${KUBELETCTL:=$KD_BUILD_DIR/kubeletctl}"
. "$KD_SOURCE_DIR/tests/lib/nat.sh"
KD_PID=""
KD_TMP=""
KD_CG_ROOT=""
KD_BRIDGE=""
KD_CLEANUP_CMDS=()

# kd_on_cleanup CMD: runs CMD (eval'd) first when the test exits.
kd_on_cleanup() {
  KD_CLEANUP_CMDS+=("$1")
}
KD_NODE=node1

# kd_cleanup: stops kubeletd, then removes whatever a failure may have left:
# shims and containers of this test's pods, mounts under $KD_TMP, the
# test's cgroup tree, its bridge and NAT rules, and $KD_TMP itself.
kd_cleanup() {
  local rc=$? cmd
  set +e +u +o pipefail
  for cmd in "${KD_CLEANUP_CMDS[@]}"; do eval "$cmd" 2>/dev/null; done
  if [ -n "$KD_PID" ] && kill -0 "$KD_PID" 2>/dev/null; then
    kill -TERM "$KD_PID" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$KD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$KD_PID" 2>/dev/null
  fi
  if [ "$rc" -ne 0 ] && [ -n "$KD_TMP" ] && [ -f "$KD_TMP/kubeletd.log" ]; then
    echo "--- kubeletd log (last 60 lines) ---" >&2
    tail -n 60 "$KD_TMP/kubeletd.log" >&2
  fi
  if [ -n "$KD_TMP" ]; then
    for f in "$KD_TMP"/run/pods/*/shim.pid; do
      [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
    done
    if [ -n "$KD_CG_ROOT" ]; then
      for d in $(find /sys/fs/cgroup/*/"$KD_CG_ROOT" -depth -type d 2>/dev/null); do
        for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
      done
    fi
    sleep 0.2
    grep " $KD_TMP" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do
      umount -l "$m" 2>/dev/null
    done
  fi
  [ -n "$KD_CG_ROOT" ] && find /sys/fs/cgroup/*/"$KD_CG_ROOT" -depth -type d -exec rmdir {} \; 2>/dev/null
  [ -n "$KD_BRIDGE" ] && kd_nat_sweep "$KD_BRIDGE"
  [ -n "$KD_BRIDGE" ] && ip link del "$KD_BRIDGE" 2>/dev/null
  [ -n "$KD_TMP" ] && rm -rf "$KD_TMP"
  exit "$rc"
}

# kd_setup: makes $KD_TMP with manifests/ root/ run/ logs/ and arms the cleanup.
kd_setup() {
  KD_TMP=$(mktemp -d /tmp/kd-e2e.XXXXXX)
  mkdir -p "$KD_TMP/manifests" "$KD_TMP/root" "$KD_TMP/run" "$KD_TMP/logs" "$KD_TMP/cni-conf"
  KD_SOCK="$KD_TMP/run/kubeletd.sock"
  # A cgroup root, bridge and pod CIDR of the test's own, so that tests can
  # run side by side and never touch the node's real pods.
  KD_CG_ROOT=kd-e2e-$$
  KD_BRIDGE=kde2e$(($$ % 100000))
  KD_CIDR=10.$((200 + $$ % 50)).$(($$ % 250)).0/24
  trap kd_cleanup EXIT
}

kd_fail() {
  echo "FAIL: $*" >&2
  exit 1
}

kd_assert_eq() {
  local expected=$1 actual=$2 msg=${3:-}
  [ "$expected" = "$actual" ] || kd_fail "$msg: expected [$expected], got [$actual]"
}

# kd_wait_for SECONDS CMD...: retries CMD every 50 ms until it succeeds.
kd_wait_for() {
  local secs=$1
  shift
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

kd_curl() {
  curl -sS --max-time 10 --unix-socket "$KD_SOCK" "http://localhost$1"
}

kd_ctl() {
  "$KUBELETCTL" --socket "$KD_SOCK" "$@"
}

# kd_start [FLAGS...]: starts kubeletd on the private directories, cgroup
# root, bridge and CIDR, and the built-in network (an empty --cni-conf-dir:
# a network config the node may have, such as podman's, is not used; pods
# are torn down when it stops) and waits until
# /healthz answers. Later flags override these.
kd_start() {
  "$KUBELETD" --pod-manifest-path "$KD_TMP/manifests" --root-dir "$KD_TMP/root" \
    --run-dir "$KD_TMP/run" --pod-logs-dir "$KD_TMP/logs" --hostname-override "$KD_NODE" \
    --cgroup-root "$KD_CG_ROOT" --network-bridge "$KD_BRIDGE" --pod-cidr "$KD_CIDR" \
    --cni-conf-dir "$KD_TMP/cni-conf" --stop-pods-on-exit --file-check-frequency 1s -v 4 "$@" >>"$KD_TMP/kubeletd.log" 2>&1 &
  KD_PID=$!
  kd_wait_for 10 kd_curl /healthz || kd_fail "kubeletd did not become healthy"
}

# kd_nat_rules: the nat rules and chains of this test's bridge (kubeletd's
# built-in network: KDMASQ-<bridge>, KDHP-<bridge> and the jumps to them).
kd_nat_rules() {
  iptables-save -t nat 2>/dev/null | grep -E -- "KD(HP|MASQ)-$KD_BRIDGE( |\$)" || true
}

# kd_stop: SIGTERM and wait; returns kubeletd's exit status.
kd_stop() {
  local rc=0
  [ -n "$KD_PID" ] || return 0
  kill -TERM "$KD_PID"
  wait "$KD_PID" || rc=$?
  KD_PID=""
  return "$rc"
}

# ---- pod lifecycle helpers ---------------------------------------------------

# kd_build_test_image DIR [REF]: an OCI layout of busybox plus the test
# payload at /bin/kd-payload; prints nothing.
kd_build_test_image() {
  local dir=$1 ref=${2:-kubeletd.local/payload:1.0}
  : "${KD_PAYLOAD:=$KD_BUILD_DIR/kd-payload}"
  [ -x "$KD_PAYLOAD" ] || kd_fail "test payload $KD_PAYLOAD not built"
  PAYLOAD=$KD_PAYLOAD BUSYBOX=${BUSYBOX:-$(command -v busybox)} \
    "$KD_SOURCE_DIR/tests/images/make-busybox-oci.sh" "$dir" "$ref" >/dev/null
}

# kd_import_test_image [REF]: builds the test image and imports it into the
# running daemon's store.
kd_import_test_image() {
  local ref=${1:-kubeletd.local/payload:1.0}
  kd_build_test_image "$KD_TMP/test-image" "$ref"
  kd_ctl image import "$KD_TMP/test-image" >/dev/null || kd_fail "image import failed"
}

# kd_pod_json NAME: the pod NAME-<node> in namespace default (JSON), or fails.
kd_pod_json() {
  kd_curl "/pods/default/$1-$KD_NODE"
}

# kd_wait_jq SECS NAME JQ-EXPR: waits until JQ-EXPR (jq -e) holds for the pod.
kd_wait_jq() {
  local secs=$1 name=$2 expr=$3
  local deadline=$((SECONDS + secs))
  while :; do
    if kd_pod_json "$name" 2>/dev/null | jq -e "$expr" >/dev/null 2>&1; then
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "timeout waiting for pod $name: $expr; status:" >&2
      kd_pod_json "$name" 2>/dev/null | jq -c .status >&2 || true
      return 1
    fi
    sleep 0.1
  done
}

# kd_wait_phase NAME PHASE SECS
kd_wait_phase() {
  kd_wait_jq "$3" "$1" ".status.phase == \"$2\""
}
