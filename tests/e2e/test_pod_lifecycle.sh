#!/usr/bin/env bash
# Pod lifecycle end to end (root): restart policies, CrashLoopBackOff, init
# containers and sidecars, edits and removals, grace periods,
# activeDeadlineSeconds, kubeletd restarts with pods running, and 20 pods
# at once. Everything runs under private directories, a private cgroup root,
# bridge and CIDR, and is torn down at the end (kubeletd --stop-pods-on-exit),
# with the trap cleaning whatever a failure left.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -x /usr/lib/cni/bridge ] || [ -x /opt/cni/bin/bridge ] || { echo "SKIP: no CNI plugins"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }

IMG=kubeletd.local/payload:1.0


kd_setup
CG_ROOT=$KD_CG_ROOT BRIDGE=$KD_BRIDGE CIDR=$KD_CIDR

start() {
  kd_start --cgroup-root "$CG_ROOT" --network-bridge "$BRIDGE" --pod-cidr "$CIDR" \
    --crashloop-backoff-initial 1s --crashloop-backoff-max 4s --stop-pods-on-exit "$@"
}

# pod NAME RESTART-POLICY [extra spec lines] -- writes manifests/NAME.yaml
# with one container "c" running the rest of the arguments.
pod() {
  local name=$1 policy=$2 extra=$3
  shift 3
  local cmd
  cmd=$(printf '"%s",' "$@")
  cat >"$KD_TMP/manifests/$name.yaml.tmp" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $name
spec:
  restartPolicy: $policy
  terminationGracePeriodSeconds: 2
$extra
  containers:
  - name: c
    image: $IMG
    command: [${cmd%,}]
EOF
  mv "$KD_TMP/manifests/$name.yaml.tmp" "$KD_TMP/manifests/$name.yaml"
}

uid_of() { kd_pod_json "$1" | jq -r .metadata.uid; }

start
kd_import_test_image "$IMG"

# ---- drop the independent cases at once ------------------------------------
pod run Always "" /bin/kd-payload sleep 1000
pod always Always "" /bin/kd-payload exit 1
pod onfailure OnFailure "" /bin/kd-payload exit 0
pod never Never "" /bin/kd-payload exit 1
pod crash Always "" /bin/kd-payload exit 1
pod deadline Always "  activeDeadlineSeconds: 2" /bin/kd-payload sleep 1000
cat >"$KD_TMP/manifests/init.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: init}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 2
  volumes: [{name: data, emptyDir: {}}]
  initContainers:
  - {name: one, image: $IMG, command: [sh, -c, "echo one >> /data/order"], volumeMounts: [{name: data, mountPath: /data}]}
  - {name: two, image: $IMG, command: [sh, -c, "echo two >> /data/order"], volumeMounts: [{name: data, mountPath: /data}]}
  containers:
  - {name: app, image: $IMG, command: [sh, -c, "cat /data/order"], volumeMounts: [{name: data, mountPath: /data}]}
EOF
cat >"$KD_TMP/manifests/initfail.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: initfail}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 2
  initContainers:
  - {name: bad, image: $IMG, command: [/bin/kd-payload, exit, "3"]}
  containers:
  - {name: app, image: $IMG, command: [/bin/kd-payload, sleep, "1000"]}
EOF
cat >"$KD_TMP/manifests/sidecar.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: sidecar}
spec:
  terminationGracePeriodSeconds: 2
  initContainers:
  - {name: side, image: $IMG, restartPolicy: Always, command: [/bin/kd-payload, sleep, "1000"]}
  containers:
  - {name: app, image: $IMG, command: [/bin/kd-payload, sleep, "1000"]}
EOF

# ---- a running pod -------------------------------------------------------------
kd_wait_phase run Running 20 || kd_fail "pod run not Running"
cs=$(kd_pod_json run | jq -c '.status.containerStatuses[0]')
echo "$cs" | jq -e '.containerID | test("^kubeletd://[0-9a-f]{64}$")' >/dev/null || kd_fail "containerID: $cs"
echo "$cs" | jq -e '.state.running.startedAt | test("^[0-9-]+T[0-9:]+Z$")' >/dev/null || kd_fail "startedAt: $cs"
echo "$cs" | jq -e '.imageID | test("^kubeletd.local/payload@sha256:[0-9a-f]{64}$")' >/dev/null || kd_fail "imageID: $cs"
echo "$cs" | jq -e '.ready == true and .started == true and .restartCount == 0' >/dev/null || kd_fail "ready: $cs"
kd_pod_json run | jq -e '.status.podIP | test("^10\\.")' >/dev/null || kd_fail "podIP"
echo "ok - a pod runs"

# ---- restart policies ---------------------------------------------------------------
kd_wait_jq 30 always '.status.containerStatuses[0].restartCount >= 2' || kd_fail "Always: no restarts"
kd_wait_phase onfailure Succeeded 20 || kd_fail "OnFailure exit 0 not Succeeded"
kd_wait_phase never Failed 20 || kd_fail "Never exit 1 not Failed"
kd_pod_json never | jq -e '.status.containerStatuses[0].state.terminated | .reason == "Error" and .exitCode == 1' \
  >/dev/null || kd_fail "Never: terminated state: $(kd_pod_json never | jq -c .status.containerStatuses)"
echo "ok - restart policies"

# ---- CrashLoopBackOff ---------------------------------------------------------------
uid=$(uid_of crash)
want="back-off 2s restarting failed container=c pod=crash-node1_default($uid)"
kd_wait_jq 30 crash ".status.containerStatuses[0].state.waiting.message == \"$want\"" \
  || kd_fail "no CrashLoopBackOff message [$want]"
kd_pod_json crash | jq -e '.status.containerStatuses[0] | .state.waiting.reason == "CrashLoopBackOff"
  and .lastState.terminated.exitCode == 1' >/dev/null || kd_fail "crash: $(kd_pod_json crash | jq -c .status)"
kd_curl /events | jq -e '[.items[] | select(.reason == "BackOff" and .involvedObject.name == "crash-node1")] | length > 0' \
  >/dev/null || kd_fail "no BackOff event"
echo "ok - CrashLoopBackOff"

# ---- init containers and sidecars ----------------------------------------------------
kd_wait_phase init Succeeded 30 || kd_fail "init pod not Succeeded"
uid=$(uid_of init)
grep -q 'stdout F one' "$KD_TMP/logs/default_init-node1_$uid/app/0.log" \
  && grep -A1 'stdout F one' "$KD_TMP/logs/default_init-node1_$uid/app/0.log" | grep -q 'stdout F two' \
  || kd_fail "init containers did not run in order: $(cat "$KD_TMP/logs/default_init-node1_$uid/app/0.log")"
kd_wait_phase initfail Failed 20 || kd_fail "failing init under Never not Failed"
kd_pod_json initfail | jq -e '.status.initContainerStatuses[0].state.terminated.exitCode == 3' >/dev/null \
  || kd_fail "initfail: $(kd_pod_json initfail | jq -c .status)"
kd_wait_phase sidecar Running 20 || kd_fail "sidecar pod not Running"
kd_wait_jq 10 sidecar '.status.initContainerStatuses[0].state.running != null and .status.containerStatuses[0].state.running != null' \
  || kd_fail "sidecar not running beside the app"
echo "ok - init containers and sidecars"

# ---- activeDeadlineSeconds ---------------------------------------------------------------
kd_wait_jq 20 deadline '.status.phase == "Failed" and .status.reason == "DeadlineExceeded"' \
  || kd_fail "activeDeadlineSeconds did not fail the pod"
echo "ok - activeDeadlineSeconds"

# ---- editing replaces the pod, the old one stopped first ------------------------------------
old=$(uid_of run)
sed -i 's/^  name: run$/  name: run\n  labels: {edited: "yes"}/' "$KD_TMP/manifests/run.yaml"
kd_wait_jq 20 run ".metadata.uid != \"$old\" and .status.phase == \"Running\"" || kd_fail "edit did not replace the pod"
[ ! -e "$KD_TMP/run/pods/$old" ] || kd_fail "old pod's sandbox still there"
grep -q "waits for uid $old to stop" "$KD_TMP/kubeletd.log" || kd_fail "the new pod did not wait for the old one"
echo "ok - editing a file replaces the pod"

# ---- removing a file frees everything --------------------------------------------------------
uid=$(uid_of run)
rm "$KD_TMP/manifests/run.yaml"
kd_wait_for 20 test ! -e "$KD_TMP/run/pods/$uid" || kd_fail "removed pod's run dir still there"
kd_curl /pods/default/run-node1 | jq -e '.code == 404' >/dev/null || kd_fail "removed pod still listed"
! grep -q "$uid" /proc/self/mountinfo || kd_fail "mounts of the removed pod remain"
[ -z "$(find /sys/fs/cgroup/*/"$CG_ROOT" -type d -name "pod$uid" 2>/dev/null)" ] || kd_fail "cgroup of the removed pod remains"
echo "ok - removing a file stops the pod and frees everything"

# ---- the grace period is honoured ------------------------------------------------------------
cat >"$KD_TMP/manifests/grace.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: grace}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - {name: c, image: $IMG, command: [/bin/kd-payload, ignore-term]}
EOF
kd_wait_phase grace Running 20 || kd_fail "grace pod not Running"
uid=$(uid_of grace)
t0=$(date +%s.%N)
rm "$KD_TMP/manifests/grace.yaml"
kd_wait_for 20 test ! -e "$KD_TMP/run/pods/$uid" || kd_fail "grace pod not stopped"
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 2.5) }' || kd_fail "stopped after $(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}') s, before the grace period"
echo "ok - graceful stop honours the grace period"

# ---- kubeletd killed while a pod runs; an exit while it is down --------------------------------
pod survive OnFailure "" /bin/sh -c 'echo before; sleep 2; echo during; exit 7'
kd_wait_phase survive Running 20 || kd_fail "survive not Running"
uid=$(uid_of survive)
kill -KILL "$KD_PID"
wait "$KD_PID" 2>/dev/null || true
KD_PID=""
sleep 4
start
kd_wait_jq 20 survive '.status.containerStatuses[0] | .lastState.terminated.exitCode == 7 and .restartCount >= 1' \
  || kd_fail "exit during downtime not reported: $(kd_pod_json survive | jq -c .status.containerStatuses)"
grep -q 'stdout F during' "$KD_TMP/logs/default_survive-node1_$uid/c/0.log" \
  || kd_fail "log lines written while kubeletd was down are missing"
echo "ok - kubeletd restart adopts pods and reports exits from the downtime"

# ---- 20 pods at once ---------------------------------------------------------------------------
for i in $(seq 20); do
  cat >"$KD_TMP/manifests/.many-$i.tmp" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: many-$i}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - {name: c, image: $IMG, command: [/bin/kd-payload, sleep, "1000"]}
EOF
done
for i in $(seq 20); do mv "$KD_TMP/manifests/.many-$i.tmp" "$KD_TMP/manifests/many-$i.yaml"; done
for i in $(seq 20); do
  kd_wait_phase "many-$i" Running 60 || kd_fail "many-$i not Running"
done
echo "ok - 20 pods at once"

# ---- stop with --stop-pods-on-exit: nothing left -----------------------------------------------
kill -TERM "$KD_PID"
for _ in $(seq 600); do kill -0 "$KD_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$KD_PID" 2>/dev/null && kd_fail "kubeletd did not stop within 60 s"
wait "$KD_PID" || kd_fail "kubeletd exited with an error"
KD_PID=""
[ -z "$(ls -A "$KD_TMP/run/pods" 2>/dev/null)" ] || kd_fail "pod run dirs left: $(ls "$KD_TMP/run/pods")"
! grep -q " $KD_TMP" /proc/self/mountinfo || kd_fail "mounts left: $(grep " $KD_TMP" /proc/self/mountinfo)"
[ -z "$(find /sys/fs/cgroup/*/"$CG_ROOT" -type d -name 'pod*' 2>/dev/null)" ] || kd_fail "pod cgroups left"
[ -z "$(ip -o link show master "$BRIDGE" 2>/dev/null)" ] || kd_fail "veths left on $BRIDGE"
! grep -qi 'LeakSanitizer\|AddressSanitizer' "$KD_TMP/kubeletd.log" || kd_fail "sanitizer report in the log"
echo "ok - --stop-pods-on-exit leaves nothing behind"
