#!/usr/bin/env bash
# kubeletctl exec and inspect end to end, and the socket's permissions.
# Needs root and the CNI plugins (pods run): exec output, stderr apart,
# exit codes (0, 3, 127), -i, -c and the defaulting message, a second
# container, a client that goes away mid-exec; inspect of a running and a
# crash-looping container; a non-root peer refused exec and image changes
# but allowed to read.
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -x /usr/lib/cni/bridge ] || [ -x /opt/cni/bin/bridge ] || { echo "SKIP: no CNI plugins"; exit 77; }
[ -x "${KD_PAYLOAD:-$KD_BUILD_DIR/kd-payload}" ] || { echo "SKIP: no test payload"; exit 77; }
command -v setpriv >/dev/null || { echo "SKIP: no setpriv"; exit 77; }

IMG=kubeletd.local/payload:1.0
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

kd_setup
kd_start --crashloop-backoff-initial 1s --crashloop-backoff-max 4s

# ---- the socket: 0660 in a 0700 run directory (no --socket-group) -----------------
kd_assert_eq 660 "$(stat -c %a "$KD_SOCK")" "socket mode"
kd_assert_eq 700 "$(stat -c %a "$KD_TMP/run")" "run directory mode"

kd_import_test_image "$IMG"
cat >"$KD_TMP/manifests/one.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: one}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: $IMG, command: [/bin/kd-payload, sleep, "3600"]}
YAML
cat >"$KD_TMP/manifests/two.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: two}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: a, image: $IMG, command: [/bin/kd-payload, sleep, "3600"], env: [{name: WHO, value: a}]}
  - {name: b, image: $IMG, command: [/bin/kd-payload, sleep, "3600"], env: [{name: WHO, value: b}]}
YAML
cat >"$KD_TMP/manifests/annotated.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: annotated, annotations: {kubectl.kubernetes.io/default-container: second}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: first, image: $IMG, command: [/bin/kd-payload, sleep, "3600"], env: [{name: WHO, value: first}]}
  - {name: second, image: $IMG, command: [/bin/kd-payload, sleep, "3600"], env: [{name: WHO, value: second}]}
YAML
cat >"$KD_TMP/manifests/crash.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: crash, image: $IMG, command: [/bin/kd-payload, exit, "3"]}
YAML
running() { kd_wait_jq 60 "$1" '[.status.containerStatuses[]? | select(.state.running)] | length == '"$2"; }
running one 1 || kd_fail "one never ran"
running two 2 || kd_fail "two never ran"
running annotated 2 || kd_fail "annotated never ran"
kd_wait_jq 60 crash '.status.containerStatuses[0].restartCount >= 1' || kd_fail "crash never restarted"

ONE=one-$KD_NODE
TWO=two-$KD_NODE

# ---- output and exit codes -----------------------------------------------------------
out=$(kd_ctl exec "$ONE" -- /bin/kd-payload echo hello world)
kd_assert_eq "hello world" "$out" "exec stdout"
rc=0
kd_ctl exec "$ONE" -- sh -c 'echo to-out; echo to-err >&2; exit 3' >"$KD_TMP/o" 2>"$KD_TMP/e" || rc=$?
kd_assert_eq 3 "$rc" "exit code 3 passes through"
kd_assert_eq "to-out" "$(cat "$KD_TMP/o")" "stdout alone on stdout"
kd_assert_eq "to-err
command terminated with exit code 3" "$(cat "$KD_TMP/e")" "stderr alone on stderr, then kubectl's line"
rc=0
kd_ctl exec "$ONE" -- /no/such/command >"$KD_TMP/o" 2>"$KD_TMP/e" || rc=$?
kd_assert_eq 127 "$rc" "a missing command is 127"
grep -q "command terminated with exit code 127" "$KD_TMP/e" || kd_fail "127 message: $(cat "$KD_TMP/e")"
# flags after -- belong to the command
kd_assert_eq "-n x" "$(kd_ctl exec "$ONE" -- /bin/kd-payload echo -n x)" "command flags are not ours"
# inside the container: its hostname is the pod's name
kd_assert_eq "$ONE" "$(kd_ctl exec "$ONE" -- /bin/kd-payload hostname)" "exec runs inside the pod"

# ---- -i pipes stdin ------------------------------------------------------------------
kd_assert_eq "piped input" "$(echo "piped input" | kd_ctl exec -i "$ONE" -- cat)" "-i"
kd_assert_eq "3" "$(printf 'a\nb\nc\n' | kd_ctl exec -i "$ONE" -- wc -l | tr -d ' ')" "-i line count"
# without -i the command reads nothing
kd_assert_eq "0" "$(echo ignored | kd_ctl exec "$ONE" -- wc -c | tr -d ' ')" "no -i: empty stdin"

# ---- choosing the container ------------------------------------------------------------
kd_assert_eq "b" "$(kd_ctl exec "$TWO" -c b -- sh -c 'echo $WHO' 2>"$KD_TMP/e")" "-c b (second container)"
kd_assert_eq "" "$(cat "$KD_TMP/e")" "no defaulting message with -c"
kd_assert_eq "a" "$(kd_ctl exec "$TWO" -- sh -c 'echo $WHO' 2>"$KD_TMP/e")" "default: the first container"
kd_assert_eq 'Defaulted container "a" out of: a, b' "$(cat "$KD_TMP/e")" "kubectl's defaulting line"
kd_assert_eq "second" "$(kd_ctl exec "annotated-$KD_NODE" -- sh -c 'echo $WHO' 2>"$KD_TMP/e")" \
  "the default-container annotation"
kd_assert_eq "" "$(cat "$KD_TMP/e")" "no defaulting message with the annotation"
rc=0
err=$(kd_ctl exec "$TWO" -c zz -- true 2>&1) || rc=$?
kd_assert_eq 1 "$rc" "unknown container"
kd_assert_eq "error: container zz not found in pod $TWO" "$err" "unknown container message"
rc=0
err=$(kd_ctl exec nothing -- true 2>&1) || rc=$?
kd_assert_eq 'error: pods "nothing" not found' "$err" "unknown pod"

# ---- the API's own refusals --------------------------------------------------------------
code() { curl -s -o "$KD_TMP/body" -w '%{http_code}' --unix-socket "$KD_SOCK" -X POST "http://localhost$1"; }
kd_assert_eq 404 "$(code "/exec/default/nothing/c?command=true")" "exec: unknown pod"
kd_assert_eq "pod does not exist" "$(jq -r .message "$KD_TMP/body")" "exec: unknown pod message"
kd_assert_eq 404 "$(code "/exec/default/$ONE/zz?command=true")" "exec: unknown container"
kd_assert_eq 'container not found ("zz")' "$(jq -r .message "$KD_TMP/body")" "exec: container message"
kd_assert_eq 400 "$(code "/exec/default/$ONE/main")" "exec: no command"
# the crash-looping container has no running instance most of the time: its
# answer is 400 when it is between runs, 200 if it happens to be running
c=$(code "/exec/default/crash-$KD_NODE/crash?command=true")
[ "$c" = 400 ] || [ "$c" = 200 ] || kd_fail "exec into a crash-looping container: $c"

# ---- a client that goes away kills the command ---------------------------------------------
# (kubeletctl itself, not a subshell, so that $! is the client's pid; the
# command is matched whole, so that neither the client nor the shim count)
"$KUBELETCTL" --socket "$KD_SOCK" exec "$ONE" -- /bin/kd-payload sleep 4242 >/dev/null 2>&1 &
CLIENT=$!
kd_wait_for 10 pgrep -fx "/bin/kd-payload sleep 4242" || kd_fail "the exec'd command never ran"
kill -TERM "$CLIENT"
wait "$CLIENT" 2>/dev/null || true
gone() { ! pgrep -f "kd-payload sleep 4242" >/dev/null; } # the shim's exec too
kd_wait_for 10 gone || kd_fail "the exec'd command outlived its client: $(pgrep -af 'kd-payload sleep 4242')"
# the same with timeout(1), as a user would
rc=0
timeout 1 "$KUBELETCTL" --socket "$KD_SOCK" exec "$ONE" -- /bin/kd-payload sleep 4343 || rc=$?
kd_assert_eq 124 "$rc" "timeout ended the client"
gone2() { ! pgrep -f "kd-payload sleep 4343" >/dev/null; }
kd_wait_for 10 gone2 || kd_fail "exec left behind after timeout(1)"
# the pod's main process is untouched
kd_assert_eq "hello" "$(kd_ctl exec "$ONE" -- /bin/kd-payload echo hello)" "exec still works after"

# ---- inspect ----------------------------------------------------------------------------
ID=$(kd_pod_json one | jq -r '.status.containerStatuses[0].containerID | sub("^[a-z]+://"; "")')
[ ${#ID} -eq 64 ] || kd_fail "container id: $ID"
j=$(kd_ctl inspect "${ID:0:12}")
kd_assert_eq "$ID" "$(echo "$j" | jq -r '.[0].id')" "inspect by id prefix"
kd_assert_eq "main" "$(echo "$j" | jq -r '.[0].name')" "inspect name"
kd_assert_eq "$ONE" "$(echo "$j" | jq -r '.[0].pod.name')" "inspect pod"
kd_assert_eq "default" "$(echo "$j" | jq -r '.[0].pod.namespace')" "inspect namespace"
kd_assert_eq "$(kd_pod_json one | jq -r .metadata.uid)" "$(echo "$j" | jq -r '.[0].pod.uid')" "inspect uid"
kd_assert_eq true "$(echo "$j" | jq -r '.[0].status.state.running != null')" "inspect status running"
pid=$(echo "$j" | jq -r '.[0].pid')
[ "$pid" -gt 1 ] && [ -d "/proc/$pid" ] || kd_fail "inspect pid: $pid"
grep -q "kd-payload" "/proc/$pid/cmdline" || kd_fail "inspect pid is not the container's"
shim=$(echo "$j" | jq -r '.[0].shimPid')
kd_assert_eq "$(cat "$KD_TMP/run/pods/$(echo "$j" | jq -r '.[0].pod.uid')/shim.pid")" "$shim" "inspect shimPid"
echo "$j" | jq -e '.[0].cgroupDirs | length >= 1' >/dev/null || kd_fail "inspect cgroupDirs: $j"
grep -qx "$pid" "$(echo "$j" | jq -r '.[0].cgroupDirs[0]')/cgroup.procs" ||
  kd_fail "the container's pid is not in its cgroup"
echo "$j" | jq -e '.[0].rootfs.upperdir and .[0].rootfs.workdir and (.[0].rootfs.lowerdirs | length >= 1)' \
  >/dev/null || kd_fail "inspect rootfs: $j"
echo "$j" | jq -e '[.[0].mounts[].destination] | index("/etc/hosts") != null' >/dev/null ||
  kd_fail "inspect mounts: $j"
log=$(echo "$j" | jq -r '.[0].logPath')
case "$log" in "$KD_TMP/logs/default_${ONE}_"*/main/0.log) ;; *) kd_fail "inspect logPath: $log" ;; esac
kd_assert_eq 0 "$(echo "$j" | jq -r '.[0].restartCount')" "inspect restartCount"
# POD/CONTAINER and NAMESPACE/POD/CONTAINER give the same container
kd_assert_eq "$ID" "$(kd_ctl inspect "$ONE/main" | jq -r '.[0].id')" "inspect POD/CONTAINER"
kd_assert_eq "$ID" "$(kd_ctl inspect "default/$ONE/main" | jq -r '.[0].id')" "inspect NS/POD/CONTAINER"
# a crash-looping container: its last run is over
kd_wait_jq 30 crash '.status.containerStatuses[0].state.running == null' || kd_fail "crash kept running"
j=$(kd_ctl inspect --type container "crash-$KD_NODE/crash")
echo "$j" | jq -e '.[0].status.state.terminated != null or .[0].status.state.waiting.reason == "CrashLoopBackOff"' \
  >/dev/null || kd_fail "inspect crash status: $j"
echo "$j" | jq -e '.[0].status.lastState.terminated.exitCode == 3 or .[0].status.state.terminated.exitCode == 3' \
  >/dev/null || kd_fail "inspect crash exit code: $j"
echo "$j" | jq -e '.[0].restartCount >= 1 and .[0].running == false' >/dev/null || kd_fail "inspect crash: $j"
kd_assert_eq 0 "$(echo "$j" | jq -r '.[0].pid')" "no pid for an exited run"
clog=$(echo "$j" | jq -r '.[0].logPath')
[ -f "$clog" ] && case "$clog" in */crash/[0-9]*.log) true ;; *) false ;; esac ||
  kd_fail "inspect crash logPath: $clog"
# unknown: 404 words, and an image still inspects as an image
rc=0
err=$(kd_ctl inspect --type container ffff0000 2>&1 >/dev/null) || rc=$?
kd_assert_eq "error: No such container: ffff0000" "$err" "inspect unknown container"
kd_ctl inspect "$IMG" | jq -e '.[0].id | startswith("sha256:")' >/dev/null || kd_fail "inspect of an image"
# GET /containers lists them for completion
kd_curl /containers | jq -e --arg id "$ID" '[.[] | select(.id == $id and .name == "main" and .state == "running")] | length == 1' \
  >/dev/null || kd_fail "GET /containers: $(kd_curl /containers)"

# ---- a non-root peer ---------------------------------------------------------------------
chmod 0666 "$KD_SOCK"
chmod o+x "$KD_TMP" "$KD_TMP/run"
nobody_ctl() { "${NOBODY[@]}" "$KUBELETCTL" --socket "$KD_SOCK" "$@"; }
nobody_ctl get pods >/dev/null || kd_fail "a non-root peer may read"
rc=0
err=$(nobody_ctl exec "$ONE" -- true 2>&1) || rc=$?
kd_assert_eq 1 "$rc" "non-root exec exit status"
kd_assert_eq "error: unable to upgrade connection: exec requires root" "$err" "non-root exec refused"
c=$("${NOBODY[@]}" curl -s -o /dev/null -w '%{http_code}' --unix-socket "$KD_SOCK" -X POST \
  "http://localhost/images/pull?ref=kubeletd.local/x:1")
kd_assert_eq 403 "$c" "non-root pull refused"
c=$("${NOBODY[@]}" curl -s -o /dev/null -w '%{http_code}' --unix-socket "$KD_SOCK" -X DELETE \
  "http://localhost/images/kubeletd.local%2Fpayload:1.0")
kd_assert_eq 403 "$c" "non-root rmi refused"
grep -q "refused POST /exec/default/$ONE/main to peer uid 65534" "$KD_TMP/kubeletd.log" ||
  kd_fail "the refusal is not logged with the peer's uid"

# a clean stop (under the sanitizers: no leak from the exec runs)
kd_stop || kd_fail "kubeletd exited with $?"
echo PASS
