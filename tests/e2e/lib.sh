# Shared helpers for the end-to-end tests. Source it from a test script:
#   . "$(dirname "$0")/lib.sh"; kd_setup; kd_start; ...
# Every test gets private directories, its own socket and its own node name,
# and everything it started is stopped on exit, pass or fail.
set -euo pipefail

: "${KD_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${KD_BUILD_DIR:=$KD_SOURCE_DIR/build}"
: "${KUBELETD:=$KD_BUILD_DIR/kubeletd}"
: "${KUBELETCTL:=$KD_BUILD_DIR/kubeletctl}"
KD_PID=""
KD_TMP=""
KD_NODE=node1

kd_cleanup() {
  local rc=$?
  if [ -n "$KD_PID" ] && kill -0 "$KD_PID" 2>/dev/null; then
    kill -TERM "$KD_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$KD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$KD_PID" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -n "$KD_TMP" ] && [ -f "$KD_TMP/kubeletd.log" ]; then
    echo "--- kubeletd log (last 40 lines) ---" >&2
    tail -n 40 "$KD_TMP/kubeletd.log" >&2 || true
  fi
  [ -n "$KD_TMP" ] && rm -rf "$KD_TMP"
  exit "$rc"
}

# kd_setup: makes $KD_TMP with manifests/ root/ run/ logs/ and arms the cleanup.
kd_setup() {
  KD_TMP=$(mktemp -d /tmp/kd-e2e.XXXXXX)
  mkdir -p "$KD_TMP/manifests" "$KD_TMP/root" "$KD_TMP/run" "$KD_TMP/logs"
  KD_SOCK="$KD_TMP/run/kubeletd.sock"
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

# kd_start [FLAGS...]: starts kubeletd on the private directories and waits
# until /healthz answers.
kd_start() {
  "$KUBELETD" --pod-manifest-path "$KD_TMP/manifests" --root-dir "$KD_TMP/root" \
    --run-dir "$KD_TMP/run" --pod-logs-dir "$KD_TMP/logs" --hostname-override "$KD_NODE" \
    --file-check-frequency 1s -v 4 "$@" >>"$KD_TMP/kubeletd.log" 2>&1 &
  KD_PID=$!
  kd_wait_for 10 kd_curl /healthz || kd_fail "kubeletd did not become healthy"
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
