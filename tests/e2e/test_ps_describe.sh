#!/usr/bin/env bash
# kubeletctl ps and describe end to end, through the socket.
# With root and the CNI plugins: a running pod (with an init container and a
# published port) and a crash-looping one; ps with every filter, alone and
# combined, against those known containers; describe of both. Without them:
# a daemon whose pods stay Pending (their image is absent), where ps lists
# nothing and describe shows the pod, its waiting containers and events.
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }

FULL=1
[ "$(id -u)" -eq 0 ] || FULL=0
[ -x /usr/lib/cni/bridge ] || [ -x /opt/cni/bin/bridge ] || FULL=0
[ -x "${KD_PAYLOAD:-$KD_BUILD_DIR/kd-payload}" ] || FULL=0
[ "${KD_PS_E2E_PENDING:-0}" = 1 ] && FULL=0 # the fallback mode, on demand

IMG=kubeletd.local/payload:1.0


kd_setup
CG_ROOT=$KD_CG_ROOT BRIDGE=$KD_BRIDGE CIDR=$KD_CIDR

# ids FILTER...: `ps -a -q` with the filters, one line, sorted.
ids() { kd_ctl ps -a -q "$@" | sort | tr '\n' ' '; }
# short ID of container C of pod P (app or init).
cid() {
  kd_pod_json "$1" | jq -r --arg c "$2" \
    '[.status.containerStatuses[]?, .status.initContainerStatuses[]?] | .[] | select(.name == $c)
     | .containerID | sub("^[a-z]+://"; "") | .[0:12]'
}

# ---- errors first: they need no pods -------------------------------------------
# As root the pod workers run even in the fallback mode: keep them on a
# private cgroup root, bridge and CIDR.
if [ "$(id -u)" -eq 0 ]; then
  kd_start --cgroup-root "$CG_ROOT" --network-bridge "$BRIDGE" --pod-cidr "$CIDR" \
    --crashloop-backoff-initial 1s --crashloop-backoff-max 4s --stop-pods-on-exit
else
  kd_start
fi
rc=0
err=$(kd_ctl ps -f foo=bar 2>&1 >/dev/null) || rc=$?
kd_assert_eq 1 "$rc" "unknown filter key exit status"
kd_assert_eq "error: invalid filter 'foo'" "$err" "unknown filter key"
rc=0
err=$(kd_ctl ps -f status=sleeping 2>&1 >/dev/null) || rc=$?
kd_assert_eq "error: invalid filter 'status=sleeping'" "$err" "bad status value"
header=$(kd_ctl ps | head -1)
kd_assert_eq "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAME      POD" \
  "$header" "empty ps header"
rc=0
err=$(kd_ctl describe pod nothing 2>&1 >/dev/null) || rc=$?
kd_assert_eq 1 "$rc" "describe of a missing pod"
kd_assert_eq 'error: pods "nothing" not found' "$err" "describe of a missing pod"

if [ "$FULL" = 0 ]; then
  # ---- pending pods: their image is not in the store ----------------------------
  cat >"$KD_TMP/manifests/wait.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: wait, labels: {app: wait}}
spec:
  containers:
  - {name: c, image: "kubeletd.local/absent:1.0", imagePullPolicy: Never,
     ports: [{containerPort: 8080, hostPort: 18080}]}
YAML
  kd_wait_jq 15 wait '.metadata.name' || kd_fail "pod wait-$KD_NODE never appeared"
  kd_assert_eq "" "$(kd_ctl ps -a -q)" "no container exists for a pending pod"
  out=$(kd_ctl describe pod wait)
  echo "$out" | grep -qx "Name:         wait-$KD_NODE" || kd_fail "describe Name line: $out"
  echo "$out" | grep -qx "Namespace:    default" || kd_fail "describe Namespace line: $out"
  echo "$out" | grep -qx "Status:       Pending" || kd_fail "describe Status line: $out"
  echo "$out" | grep -qE "^    Host Port: +18080/TCP$" || kd_fail "describe Host Port line: $out"
  echo "$out" | grep -qE "^    State: +Waiting$" || kd_fail "describe State line: $out"
  echo "$out" | grep -qx "Labels:       app=wait" || kd_fail "describe Labels line: $out"
  echo "$out" | grep -q "^Events:" || kd_fail "describe without an Events section: $out"
  # the same pod by its manifest name (prefix) and by pod/NAME
  kd_assert_eq "$out" "$(kd_ctl describe pod/wait-$KD_NODE)" "describe pod/NAME"
  echo "PASS (pending mode: no root or no CNI plugins)"
  exit 0
fi

# ---- running and crash-looping pods ----------------------------------------------
kd_import_test_image "$IMG"
cat >"$KD_TMP/manifests/web.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web, tier: front}}
spec:
  terminationGracePeriodSeconds: 2
  initContainers:
  - {name: setup, image: $IMG, command: [/bin/kd-payload, exit, "0"]}
  containers:
  - name: server
    image: $IMG
    command: [/bin/kd-payload, serve-http, "8080"]
    ports: [{containerPort: 8080, hostPort: 18081}]
    readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
  - {name: logger, image: $IMG, command: [sh, -c, "while true; do date; sleep 1; done"]}
YAML
cat >"$KD_TMP/manifests/crash.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: crash, labels: {app: crash}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - {name: crash, image: $IMG, command: [/bin/kd-payload, exit, "3"]}
YAML
kd_wait_jq 60 web '[.status.containerStatuses[]? | select(.ready)] | length == 2' ||
  kd_fail "web never became ready"
kd_wait_jq 60 crash '.status.containerStatuses[0].restartCount >= 2' ||
  kd_fail "crash never restarted twice"

SERVER=$(cid web server)
LOGGER=$(cid web logger)
SETUP=$(cid web setup)
CRASH=$(cid crash crash)
[ ${#SERVER} -eq 12 ] && [ ${#SETUP} -eq 12 ] && [ ${#CRASH} -eq 12 ] || kd_fail "container IDs"
sorted() { printf '%s\n' "$@" | sort | tr '\n' ' '; }

# plain ps: running (and restarting) containers, docker's words
out=$(kd_ctl ps)
echo "$out" | grep -E "^$SERVER +kubeletd.local/payload:1.0 +\"/bin/kd-payload ser…\" .* Up [^ ].* \(healthy\) +0\.0\.0\.0:18081->8080/tcp +server +web-$KD_NODE$" >/dev/null ||
  kd_fail "server row: $out"
echo "$out" | grep -q "^$SETUP" && kd_fail "an exited init container is listed without -a: $out"
kd_ctl ps -a | grep -E "^$SETUP .* Exited \(0\) .* setup +web-$KD_NODE$" >/dev/null ||
  kd_fail "setup row with -a"

# filters one by one, against the known containers
kd_assert_eq "$(sorted "$SERVER")" "$(ids -f id="${SERVER:0:6}")" "id prefix"
kd_assert_eq "$(sorted "$LOGGER")" "$(ids -f name=^log)" "name regexp"
kd_assert_eq "$(sorted "$SERVER" "$LOGGER" "$SETUP")" "$(ids -f pod=web-$KD_NODE)" "pod"
kd_assert_eq "" "$(ids -f pod=web)" "pod is exact"
kd_assert_eq "$(sorted "$SERVER" "$LOGGER" "$SETUP")" "$(ids -f label=tier)" "label key"
kd_assert_eq "$(sorted "$CRASH")" "$(ids -f label=app=crash)" "label key=value"
kd_assert_eq "$(sorted "$SERVER" "$LOGGER")" \
  "$(kd_ctl ps -q -f status=running -f label=app=web | sort | tr '\n' ' ')" "status=running"
kd_assert_eq "$(sorted "$SETUP")" "$(kd_ctl ps -q -f exited=0 -a | sort | tr '\n' ' ')" "exited=0"
kd_assert_eq "$(sorted "$SERVER" "$LOGGER" "$SETUP" "$CRASH")" \
  "$(ids -f ancestor=kubeletd.local/payload)" "ancestor by name"
kd_assert_eq "$(sorted "$SERVER" "$LOGGER" "$SETUP" "$CRASH")" \
  "$(ids -f ancestor=kubeletd.local/payload:1.0)" "ancestor by name:tag"
kd_assert_eq "" "$(ids -f ancestor=kubeletd.local/payload:2.0)" "ancestor, other tag"
# combined: name=server OR name=logger, AND status=running; then OR setup
kd_assert_eq "$(sorted "$SERVER" "$LOGGER")" \
  "$(ids -f name=server -f name=logger -f status=running)" "name OR name AND status"
kd_assert_eq "$(sorted "$SERVER")" "$(ids -f name=server -f name=setup -f status=running)" \
  "name OR name AND status (one stopped)"
kd_assert_eq "$(sorted "$SERVER" "$CRASH")" "$(ids -f name=server --filter=name=crash)" "name OR name"
# -q --no-trunc prints the full IDs
full=$(kd_ctl ps -q --no-trunc -f id="$SERVER")
[ ${#full} -eq 64 ] || kd_fail "--no-trunc ID: $full"

# the crash-looping container: restarting (docker's word for the back-off) or
# just exited, between two runs
kd_ctl ps -a -f pod=crash-$KD_NODE |
  grep -E "^$CRASH .* (Restarting|Exited) \(3\) .* crash +crash-$KD_NODE$" >/dev/null ||
  kd_fail "crash row: $(kd_ctl ps -a)"

# ---- describe ----------------------------------------------------------------------
out=$(kd_ctl describe pod crash)
for line in "Name:         crash-$KD_NODE" "Namespace:    default" "Status:       Running" \
  "Containers:" "  crash:" "    Image:         $IMG" "      Exit Code:    3" "    Last State:     Terminated" \
  ; do
  echo "$out" | grep -qxF "$line" || kd_fail "describe crash: no line [$line] in:
$out"
done
echo "$out" | grep -qE "^      Reason:       (CrashLoopBackOff|Error)$" || kd_fail "describe crash reason: $out"
echo "$out" | grep -qE "^QoS Class: +BestEffort$" || kd_fail "describe crash QoS: $out"
echo "$out" | grep -qE "^  Warning  BackOff  .*kubelet  Back-off restarting failed container crash in pod crash-$KD_NODE" ||
  echo "$out" | grep -qE "^  Normal +(Started|Created|Pulled) " || kd_fail "describe crash events: $out"
out=$(kd_ctl describe pod web)
for line in "Init Containers:" "  setup:" "    Host Port:     18081/TCP" \
  "    Readiness:      http-get http://:8080/ delay=0s timeout=1s period=1s #success=1 #failure=3"; do
  echo "$out" | grep -qxF "$line" || kd_fail "describe web: no line [$line] in:
$out"
done
echo "PASS"
