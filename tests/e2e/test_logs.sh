#!/bin/bash
# Container logs end to end: GET /containerLogs and `kubeletctl logs` with
# every parameter, following across a rotation, a client that goes away, the
# end of a follow at the next restart, and the errors as kubectl words them.
#
# The CRI files are written here, under --pod-logs-dir, for pods the daemon
# knows (their images cannot be pulled, so no container writes in between):
# the route reads files, whoever wrote them.
#
# The pods get sandboxes (their images never come): everything runs under a
# private cgroup root, bridge and CIDR, kubeletd stops the pods on exit, and
# the trap removes whatever a failure left.
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }



kd_setup
kd_on_cleanup '[ -n "$FOLLOW" ] && kill "$FOLLOW"'
CG_ROOT=$KD_CG_ROOT BRIDGE=$KD_BRIDGE CIDR=$KD_CIDR
FOLLOW=""

CTL_RC=0
run_ctl() {
  local out=$1 err=$2
  shift 2
  CTL_RC=0
  "$KUBELETCTL" --socket "$KD_SOCK" "$@" >"$out" 2>"$err" || CTL_RC=$?
}

cat >"$KD_TMP/manifests/pods.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: solo
spec:
  containers:
  - name: app
    image: 127.0.0.1:9/kd-none/app:1
---
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: httpd
    image: 127.0.0.1:9/kd-none/httpd:1
  - name: clock
    image: 127.0.0.1:9/kd-none/clock:1
EOF
kd_start --cgroup-root "$CG_ROOT" --network-bridge "$BRIDGE" --pod-cidr "$CIDR" --stop-pods-on-exit
kd_wait_for 10 sh -c "'$KUBELETCTL' --socket '$KD_SOCK' get pod solo-node1 && '$KUBELETCTL' --socket '$KD_SOCK' get pod web-node1" ||
  kd_fail "the pods did not appear"
UID_SOLO=$(kd_ctl get pod solo-node1 -o json | jq -r .metadata.uid)
D="$KD_TMP/logs/default_solo-node1_${UID_SOLO}/app"
mkdir -p "$D"

# cri FILE TIME STREAM TAG CONTENT: appends one CRI line.
cri() { printf '%s %s %s %s\n' "$2" "$3" "$4" "$5" >>"$D/$1"; }
now() { date -u +%Y-%m-%dT%H:%M:%S.%NZ; }

# Instance 0 (the previous one), instance 1 in a rotated file and the live one.
cri 0.log 2020-01-01T00:00:00.000000001Z stdout F "prev 1"
cri 0.log 2020-01-01T00:00:00.000000002Z stderr F "prev 2"
cri 1.log.20200101-000003 2020-01-01T00:00:01.000000000Z stdout F "line 1"
cri 1.log.20200101-000003 2020-01-01T00:00:02.000000000Z stdout P "li"
cri 1.log.20200101-000003 2020-01-01T00:00:02.500000000Z stderr F "line 2"
cri 1.log 2020-01-01T00:00:03.000000000Z stdout F "ne 3"
T4=$(now)
cri 1.log "$T4" stdout F "line 4"
cri 1.log "$(now)" stderr F "line 5"

expect_logs() {
  local want=$1 msg=$2
  shift 2
  run_ctl "$KD_TMP/out" "$KD_TMP/err" logs "$@"
  kd_assert_eq 0 "$CTL_RC" "$msg: exit status ($(cat "$KD_TMP/err"))"
  kd_assert_eq "$want" "$(cat "$KD_TMP/out"; echo .)" "$msg"
}
expect_error() {
  local want=$1 msg=$2
  shift 2
  run_ctl "$KD_TMP/out" "$KD_TMP/err" logs "$@"
  kd_assert_eq 1 "$CTL_RC" "$msg: exit status"
  kd_assert_eq "error: $want" "$(cat "$KD_TMP/err")" "$msg"
}
ALL=$'line 1\nline 2\nline 3\nline 4\nline 5\n.'

# --- reading --------------------------------------------------------------------
expect_logs "$ALL" "the rotated file, then the live one, P pieces joined" solo-node1
expect_logs "$ALL" "-c names the container" solo-node1 -c app
expect_logs "$ALL" "an inline container and pod/NAME" pod/solo-node1 app
expect_logs $'line 4\nline 5\n.' "--tail 2" solo-node1 --tail 2
expect_logs "." "--tail 0" solo-node1 --tail 0
expect_logs "$ALL" "--tail -1 is everything" solo-node1 --tail=-1
expect_logs "$T4 line 4"$'\n.' "--timestamps: the line's RFC3339Nano time" solo-node1 --timestamps --tail 2 --limit-bytes 38
expect_logs $'2020-01-01T00:00:02.500000000Z line 2\n2020-01-01T00:00:02.000000000Z line 3\n.' \
  "--timestamps of a joined line: its first piece's time" \
  solo-node1 --timestamps --since-time 2020-01-01T00:00:01.5Z --limit-bytes 76
expect_logs $'line 4\nline 5\n.' "--since 1h leaves out the 2020 lines" solo-node1 --since 1h
# (line 3 began at 00:00:02, before the time: a line goes by its first piece)
expect_logs $'line 2\nline 4\nline 5\n.' "--since-time keeps lines at or after it" \
  solo-node1 --since-time 2020-01-01T00:00:02.5Z
expect_logs $'line 1\nli.' "--limit-bytes cuts mid-line" solo-node1 --limit-bytes 9
expect_logs $'prev 1\nprev 2\n.' "-p reads the previous restart" solo-node1 -p
expect_logs $'prev 2\n.' "-p with --tail" solo-node1 --previous --tail 1

# The route itself: plain text, chunked, the kubelet's parameter names.
kd_assert_eq "$ALL" "$(kd_curl "/containerLogs/default/solo-node1/app"; echo .)" "GET /containerLogs"
kd_assert_eq "line 5" "$(kd_curl "/containerLogs/default/solo-node1/app?tail=1")" "the old tail= spelling"
kd_assert_eq "$ALL" "$(kd_curl "/containerLogs/default/solo-node1/app?tail=all"; echo .)" "tail=all"
HDRS=$(curl -sS -D - -o /dev/null --unix-socket "$KD_SOCK" "http://localhost/containerLogs/default/solo-node1/app")
grep -qi '^content-type: text/plain' <<<"$HDRS" || kd_fail "logs are text/plain: $HDRS"
grep -qi '^transfer-encoding: chunked' <<<"$HDRS" || kd_fail "logs are chunked: $HDRS"

# --- errors ---------------------------------------------------------------------
status_of() { curl -sS -o "$KD_TMP/body" -w '%{http_code}' --unix-socket "$KD_SOCK" "http://localhost$1"; }
kd_assert_eq 404 "$(status_of /containerLogs/default/nope/app)" "unknown pod"
kd_assert_eq 'pod "nope" does not exist' "$(jq -r .message "$KD_TMP/body")" "unknown pod message"
kd_assert_eq 404 "$(status_of /containerLogs/default/solo-node1/nope)" "unknown container"
kd_assert_eq 'container "nope" not found in pod "solo-node1"' "$(jq -r .message "$KD_TMP/body")" \
  "unknown container message"
kd_assert_eq 404 "$(status_of /containerLogs/kube-system/solo-node1/app)" "another namespace"
kd_assert_eq 404 "$(status_of /containerLogs/default/solo-node1)" "a path without a container"
kd_assert_eq 422 "$(status_of '/containerLogs/default/solo-node1/app?tailLines=-1')" "negative tailLines"
kd_assert_eq 'Invalid request.' "$(jq -r .message "$KD_TMP/body")" "the kubelet's 422 message"
kd_assert_eq 422 "$(status_of '/containerLogs/default/solo-node1/app?limitBytes=0')" "limitBytes 0"
kd_assert_eq 422 "$(status_of '/containerLogs/default/solo-node1/app?sinceSeconds=5&sinceTime=2020-01-01T00:00:00Z')" \
  "sinceSeconds with sinceTime"
kd_assert_eq 400 "$(status_of '/containerLogs/default/solo-node1/app?follow=maybe')" "a bad boolean"
kd_assert_eq 'Unable to decode query.' "$(jq -r .message "$KD_TMP/body")" "the kubelet's 400 message"
kd_assert_eq 400 "$(status_of '/containerLogs/default/solo-node1/app?sinceTime=yesterday')" "a bad time"

expect_error 'pods "nope-node1" not found' "kubeletctl: unknown pod" nope-node1
expect_error 'container nope is not valid for pod solo-node1' "kubeletctl: unknown container" solo-node1 -c nope
expect_error 'a container name must be specified for pod web-node1, choose one of: [httpd clock]' \
  "kubeletctl: a pod of two containers needs -c" web-node1
expect_error 'previous terminated container "clock" in pod "web-node1" not found' \
  "kubeletctl: -p without a previous instance" web-node1 -c clock -p
run_ctl "$KD_TMP/out" "$KD_TMP/err" logs web-node1 -c clock
kd_assert_eq 1 "$CTL_RC" "no logs yet: exit status"
grep -q '^error: container "clock" in pod "web-node1" is ' "$KD_TMP/err" ||
  kd_fail "no logs yet: $(cat "$KD_TMP/err")"
expect_error 'at most one of `sinceTime` or `sinceSeconds` may be specified' "--since with --since-time" \
  solo-node1 --since 5m --since-time 2020-01-01T00:00:00Z
expect_error '--tail must be greater than or equal to -1' "--tail -2" solo-node1 --tail -2
expect_error '--limit-bytes must be greater than 0' "--limit-bytes -1" solo-node1 --limit-bytes -1
expect_error 'only one of -c or an inline [CONTAINER] arg is allowed' "-c and an inline container" \
  solo-node1 app -c app

# --- following ------------------------------------------------------------------
# inotify watches of the daemon (the manifest source has its own).
watches() {
  local n=0 fd
  for fd in /proc/"$KD_PID"/fd/*; do
    [ "$(readlink "$fd")" = "anon_inode:inotify" ] || continue
    n=$((n + $(grep -c '^inotify wd:' /proc/"$KD_PID"/fdinfo/"${fd##*/}")))
  done
  echo "$n"
}
has_line() { grep -qx "$2" "$1"; }
watches_are() { [ "$(watches)" "$1" "$2" ]; }

W0=$(watches)
"$KUBELETCTL" --socket "$KD_SOCK" logs -f --tail 1 solo-node1 >"$KD_TMP/follow" 2>"$KD_TMP/follow.err" &
FOLLOW=$!
kd_wait_for 10 has_line "$KD_TMP/follow" "line 5" || kd_fail "logs -f did not print the tail"
kd_wait_for 5 watches_are -gt "$W0" || kd_fail "logs -f holds no watch"
cri 1.log "$(now)" stdout F "line 6"
kd_wait_for 5 has_line "$KD_TMP/follow" "line 6" || kd_fail "logs -f did not stream an appended line"
# A rotation as the shim does it: the file renamed, a new one created.
cri 1.log "$(now)" stdout P "line "
mv "$D/1.log" "$D/1.log.$(date -u +%Y%m%d-%H%M%S)"
cri 1.log "$(now)" stdout F "7"
cri 1.log "$(now)" stderr F "line 8"
kd_wait_for 5 has_line "$KD_TMP/follow" "line 8" || kd_fail "logs -f did not follow the rotation"
kd_assert_eq $'line 5\nline 6\nline 7\nline 8' "$(cat "$KD_TMP/follow")" "logs -f output across the rotation"
# The client goes away: its watch is released at once.
kill "$FOLLOW"
wait "$FOLLOW" 2>/dev/null || true
kd_wait_for 5 watches_are -eq "$W0" || kd_fail "the watch of a gone client was not released"
kd_curl /healthz >/dev/null || kd_fail "kubeletd is not healthy after a client went away"

# --limit-bytes ends a follow.
run_ctl "$KD_TMP/out" "$KD_TMP/err" logs -f solo-node1 --tail 1 --limit-bytes 4
kd_assert_eq "0 line" "$CTL_RC $(cat "$KD_TMP/out")" "logs -f --limit-bytes ends at the limit"

# The next restart's file ends a follow of this instance (the container exited).
W0=$(watches)
"$KUBELETCTL" --socket "$KD_SOCK" logs -f solo-node1 --tail 0 >"$KD_TMP/follow" 2>&1 &
FOLLOW=$!
kd_wait_for 5 watches_are -gt "$W0" || kd_fail "the second logs -f holds no watch"
cri 1.log "$(now)" stdout F "last words"
kd_wait_for 5 has_line "$KD_TMP/follow" "last words" || kd_fail "logs -f missed the last line"
cri 2.log "$(now)" stdout F "restarted"
RC=0
for _ in $(seq 100); do kill -0 "$FOLLOW" 2>/dev/null || break; sleep 0.05; done
kill -0 "$FOLLOW" 2>/dev/null && kd_fail "logs -f did not end when the container restarted"
wait "$FOLLOW" || RC=$?
kd_assert_eq "0 last words" "$RC $(cat "$KD_TMP/follow")" "logs -f ends cleanly at the next restart"
# ... and now the current instance is 2, the previous one 1.
expect_logs $'restarted\n.' "the latest restart is the current instance" solo-node1
expect_logs $'last words\n.' "-p is the one before" solo-node1 -p --tail 1

kd_stop || kd_fail "kubeletd did not stop cleanly"
echo "PASS test_logs"
