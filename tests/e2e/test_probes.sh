#!/usr/bin/env bash
# Probes, hooks, termination messages, --manifest-url, --max-pods and 50
# pods at once, end to end (root). gRPC liveness runs in
# test_probe_grpc.sh (a health server on the node, a hostNetwork pod): the
# static payload has no HTTP/2 server.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -x /usr/lib/cni/bridge ] || [ -x /opt/cni/bin/bridge ] || { echo "SKIP: no CNI plugins"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

IMG=kubeletd.local/payload:1.0
HTTP_PID=""
kd_setup
kd_on_cleanup '[ -n "$HTTP_PID" ] && kill "$HTTP_PID"'

# A manifest server on a free local port.
mkdir -p "$KD_TMP/www"
HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$KD_TMP/www" && exec python3 -m http.server --bind 127.0.0.1 "$HTTP_PORT") >"$KD_TMP/http.log" 2>&1 &
HTTP_PID=$!
kd_wait_for 10 curl -fsS -o /dev/null "http://127.0.0.1:$HTTP_PORT/" || kd_fail "manifest server did not start"

kd_start --crashloop-backoff-initial 1s --crashloop-backoff-max 2s \
  --manifest-url "http://127.0.0.1:$HTTP_PORT/pods.yaml" --http-check-frequency 1s
kd_import_test_image "$IMG"

put() { cat >"$KD_TMP/manifests/$1.yaml.tmp"; mv "$KD_TMP/manifests/$1.yaml.tmp" "$KD_TMP/manifests/$1.yaml"; }
uid_of() { kd_pod_json "$1" | jq -r .metadata.uid; }
emptydir() { echo "$KD_TMP/root/pods/$(uid_of "$1")/volumes/kubernetes.io~empty-dir/$2"; }
events_for() { kd_curl /events | jq -c "[.items[] | select(.involvedObject.name == \"$1-$KD_NODE\")]"; }

# ---- liveness: exec, HTTP, TCP that fail, and healthy ones ------------------------
for kind in exec http tcp; do
  case $kind in
    exec) probe='exec: {command: [/bin/kd-payload, exit, "1"]}' ;;
    http) probe='httpGet: {port: 8080, path: /}' ;;
    tcp) probe='tcpSocket: {port: 8081}' ;;
  esac
  # the failing one: the container serves nothing on the probed port
  put "live-$kind" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: live-$kind}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: $IMG
    command: [/bin/kd-payload, sleep, "1000"]
    livenessProbe: {$probe, periodSeconds: 1, failureThreshold: 1}
EOF
done
# the healthy ones: failureThreshold 3 lets a server bind its port first
put healthy <<EOF
apiVersion: v1
kind: Pod
metadata: {name: healthy}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    image: $IMG
    command: [/bin/kd-payload, serve-http, "8080"]
    livenessProbe: {httpGet: {port: 8080, path: /}, periodSeconds: 1, failureThreshold: 3}
  - name: tcp
    image: $IMG
    command: [/bin/kd-payload, serve-tcp, "8081"]
    livenessProbe: {tcpSocket: {port: 8081}, periodSeconds: 1, failureThreshold: 3}
  - name: exec
    image: $IMG
    command: [/bin/kd-payload, sleep, "1000"]
    livenessProbe: {exec: {command: [/bin/kd-payload, exit, "0"]}, periodSeconds: 1, failureThreshold: 3}
EOF
for kind in exec http tcp; do
  kd_wait_jq 40 "live-$kind" '.status.containerStatuses[0].restartCount >= 1' || kd_fail "$kind liveness did not restart"
done
ev=$(events_for live-http)
echo "$ev" | jq -e 'any(.[]; .reason == "Unhealthy" and (.message | startswith("Liveness probe failed: ")))' >/dev/null \
  || kd_fail "no Unhealthy event: $ev"
echo "$ev" | jq -e 'any(.[]; .reason == "Killing" and .message == "Container c failed liveness probe, will be restarted")' >/dev/null \
  || kd_fail "no Killing event: $ev"
kd_wait_phase healthy Running 20 || kd_fail "healthy pod not Running"
sleep 4
kd_pod_json healthy | jq -e '[.status.containerStatuses[].restartCount] | all(. == 0)' >/dev/null \
  || kd_fail "a healthy container was restarted: $(kd_pod_json healthy | jq -c .status.containerStatuses)"
kd_curl /metrics | grep -q '^prober_probe_total{.*probe_type="Liveness".*result="successful"' \
  || kd_fail "no prober_probe_total"
echo "ok - liveness probes restart failing containers and leave healthy ones"

# ---- readiness flips both ways --------------------------------------------------------
put ready <<EOF
apiVersion: v1
kind: Pod
metadata: {name: ready}
spec:
  terminationGracePeriodSeconds: 2
  volumes: [{name: flag, emptyDir: {}}]
  containers:
  - name: c
    image: $IMG
    command: [/bin/kd-payload, sleep, "1000"]
    volumeMounts: [{name: flag, mountPath: /flag}]
    readinessProbe: {exec: {command: [test, -f, /flag/ready]}, periodSeconds: 1, failureThreshold: 1}
EOF
kd_wait_phase ready Running 20 || kd_fail "ready pod not Running"
kd_pod_json ready | jq -e '.status.containerStatuses[0].ready == false' >/dev/null || kd_fail "ready before the probe passed"
touch "$(emptydir ready flag)/ready"
kd_wait_jq 10 ready '.status.containerStatuses[0].ready and any(.status.conditions[]; .type == "Ready" and .status == "True")' \
  || kd_fail "readiness did not turn Ready"
rm "$(emptydir ready flag)/ready"
kd_wait_jq 10 ready '(.status.containerStatuses[0].ready | not) and any(.status.conditions[]; .type == "ContainersReady" and .status == "False")' \
  || kd_fail "readiness did not turn unready"
echo "ok - readiness flips Ready both ways"

# ---- a startup probe holds liveness back --------------------------------------------
put startup <<EOF
apiVersion: v1
kind: Pod
metadata: {name: startup}
spec:
  terminationGracePeriodSeconds: 2
  volumes: [{name: flag, emptyDir: {}}]
  containers:
  - name: c
    image: $IMG
    command: [/bin/kd-payload, sleep, "1000"]
    volumeMounts: [{name: flag, mountPath: /flag}]
    startupProbe: {exec: {command: [test, -f, /flag/started]}, periodSeconds: 1, failureThreshold: 60}
    livenessProbe: {exec: {command: [test, -f, /flag/alive]}, periodSeconds: 1, failureThreshold: 1}
EOF
kd_wait_phase startup Running 20 || kd_fail "startup pod not Running"
sleep 4
kd_pod_json startup | jq -e '.status.containerStatuses[0] | .restartCount == 0 and .started == false' >/dev/null \
  || kd_fail "liveness ran during startup: $(kd_pod_json startup | jq -c .status.containerStatuses)"
touch "$(emptydir startup flag)/started"
kd_wait_jq 20 startup '.status.containerStatuses[0].restartCount >= 1' || kd_fail "liveness did not run after startup"
echo "ok - a startup probe holds liveness back"

# ---- hooks -----------------------------------------------------------------------------
put hooks <<EOF
apiVersion: v1
kind: Pod
metadata: {name: hooks}
spec:
  terminationGracePeriodSeconds: 5
  volumes: [{name: out, hostPath: {path: $KD_TMP/hookout, type: DirectoryOrCreate}}]
  containers:
  - name: c
    image: $IMG
    command: [/bin/kd-payload, sleep, "1000"]
    volumeMounts: [{name: out, mountPath: /out}]
    lifecycle:
      postStart: {exec: {command: [sh, -c, "echo started > /out/poststart"]}}
      preStop: {exec: {command: [sh, -c, "echo stopping > /out/prestop"]}}
EOF
put badhook <<EOF
apiVersion: v1
kind: Pod
metadata: {name: badhook}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: $IMG
    command: [/bin/kd-payload, sleep, "1000"]
    lifecycle:
      postStart: {exec: {command: [/bin/kd-payload, exit, "7"]}}
EOF
kd_wait_phase hooks Running 20 || kd_fail "hooks pod not Running"
hdir=$KD_TMP/hookout
kd_wait_for 10 grep -q started "$hdir/poststart" || kd_fail "postStart did not run"
kd_wait_jq 30 badhook '.status.containerStatuses[0].restartCount >= 1' || kd_fail "a failing postStart did not kill the container"
events_for badhook | jq -e 'any(.[]; .reason == "FailedPostStartHook")' >/dev/null || kd_fail "no FailedPostStartHook event"
# preStop writes to a hostPath directory, which outlives the pod
[ ! -e "$hdir/prestop" ] || kd_fail "preStop ran early"
rm "$KD_TMP/manifests/hooks.yaml"
kd_wait_for 20 grep -q stopping "$hdir/prestop" || kd_fail "preStop did not run"
echo "ok - postStart and preStop hooks"

# ---- termination messages ------------------------------------------------------------------
put tmfile <<EOF
apiVersion: v1
kind: Pod
metadata: {name: tmfile}
spec:
  restartPolicy: Never
  containers:
  - {name: c, image: $IMG, command: [sh, -c, "echo -n from-file > /dev/termination-log; exit 0"]}
EOF
put tmlogs <<EOF
apiVersion: v1
kind: Pod
metadata: {name: tmlogs}
spec:
  restartPolicy: Never
  containers:
  - {name: c, image: $IMG, terminationMessagePolicy: FallbackToLogsOnError, command: [sh, -c, "echo line1; echo from-logs; exit 3"]}
EOF
kd_wait_phase tmfile Succeeded 20 || kd_fail "tmfile not Succeeded"
kd_pod_json tmfile | jq -e '.status.containerStatuses[0].state.terminated.message == "from-file"' >/dev/null \
  || kd_fail "termination message from file: $(kd_pod_json tmfile | jq -c .status.containerStatuses)"
kd_wait_phase tmlogs Failed 20 || kd_fail "tmlogs not Failed"
kd_pod_json tmlogs | jq -e '.status.containerStatuses[0].state.terminated.message == "line1\nfrom-logs\n"' >/dev/null \
  || kd_fail "termination message from logs: $(kd_pod_json tmlogs | jq -c .status.containerStatuses)"
echo "ok - termination messages from file and from logs"

# ---- --manifest-url --------------------------------------------------------------------------
cat >"$KD_TMP/www/pods.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: fromurl}
spec:
  terminationGracePeriodSeconds: 2
  containers: [{name: c, image: $IMG, command: [/bin/kd-payload, sleep, "1000"]}]
EOF
kd_wait_phase fromurl Running 20 || kd_fail "pod from the URL not Running"
kd_pod_json fromurl | jq -e '.metadata.annotations["kubernetes.io/config.source"] == "http"' >/dev/null \
  || kd_fail "config.source of the URL's pod"
old=$(uid_of fromurl)
echo "invalid: [" >"$KD_TMP/www/pods.yaml"
sleep 3
[ "$(uid_of fromurl)" = "$old" ] || kd_fail "a broken body changed the pod"
sed 's/^metadata: {name: fromurl}$/metadata: {name: fromurl, labels: {v: "2"}}/' >"$KD_TMP/www/pods.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: fromurl}
spec:
  terminationGracePeriodSeconds: 2
  containers: [{name: c, image: $IMG, command: [/bin/kd-payload, sleep, "1000"]}]
EOF
kd_wait_jq 30 fromurl ".metadata.uid != \"$old\" and .status.phase == \"Running\"" || kd_fail "a changed URL body did not replace the pod"
: >"$KD_TMP/www/pods.yaml"
gone() { kd_curl "/pods/default/$1-$KD_NODE" | jq -e '.code == 404' >/dev/null; }
kd_wait_for 20 gone fromurl \
  || kd_fail "an emptied URL did not remove the pod"
echo "ok - --manifest-url adds, keeps on errors, changes and removes"

kd_stop || kd_fail "kubeletd did not stop cleanly"
rm -f "$KD_TMP"/manifests/*.yaml

# ---- --max-pods ------------------------------------------------------------------------------
kd_start --max-pods 2
for i in 1 2 3; do
  put "mp$i" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: mp$i}
spec:
  terminationGracePeriodSeconds: 2
  containers: [{name: c, image: $IMG, command: [/bin/kd-payload, sleep, "1000"]}]
EOF
  sleep 0.3
done
kd_wait_phase mp1 Running 20 && kd_wait_phase mp2 Running 20 || kd_fail "first two pods not Running"
kd_wait_jq 10 mp3 '.status.phase == "Failed" and .status.reason == "OutOfpods"
  and .status.message == "Pod was rejected: Node didn'"'"'t have enough resource: pods, requested: 1, used: 2, capacity: 2"' \
  || kd_fail "third pod not rejected"
echo "ok - --max-pods rejects the pod over the limit"
kd_stop || kd_fail "kubeletd did not stop cleanly"
rm -f "$KD_TMP"/manifests/*.yaml

# ---- 50 pods at once ----------------------------------------------------------------------------
kd_start
for i in $(seq 50); do
  cat >"$KD_TMP/p$i.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: many$i}
spec:
  terminationGracePeriodSeconds: 2
  containers: [{name: c, image: $IMG, command: [/bin/kd-payload, sleep, "1000"]}]
EOF
done
mv "$KD_TMP"/p*.yaml "$KD_TMP/manifests/"
deadline=$((SECONDS + 120))
while :; do
  n=$(kd_curl /pods | jq '[.items[] | select(.status.phase == "Running")] | length')
  [ "$n" -eq 50 ] && break
  [ "$SECONDS" -lt "$deadline" ] || kd_fail "only $n of 50 pods Running"
  sleep 0.5
done
echo "ok - 50 pods dropped at once all Running"
kd_stop || kd_fail "kubeletd did not stop cleanly"
[ -z "$(ls "$KD_TMP/run/pods" 2>/dev/null)" ] || kd_fail "pods left in the run dir"
echo "PASS"
