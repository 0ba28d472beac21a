#!/usr/bin/env bash
# The runtime through real pods (root): the pod pids limit (--pod-max-pids)
# against a fork bomb, OOMKilled from the cgroup's OOM counter, a shim that
# is killed with SIGKILL (SandboxChanged, no orphans, no leaks), start
# errors (StartError / exit 128), and the securityContext end to end
# (users and groups, read-only root, capabilities, runAsNonRoot, a Localhost
# seccomp profile, privileged). Private directories, cgroup root, bridge and
# CIDR from lib.sh; its trap removes whatever a failure leaves.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -x /usr/lib/cni/bridge ] || [ -x /opt/cni/bin/bridge ] || { echo "SKIP: no CNI plugins"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }

IMG=kubeletd.local/payload:1.0
MAX_PIDS=64

kd_setup

# pod NAME RESTART-POLICY EXTRA-SPEC EXTRA-CONTAINER CMD...: writes
# manifests/NAME.yaml, one container "c" running CMD. EXTRA-SPEC lines go
# under spec (indented 2), EXTRA-CONTAINER lines under the container
# (indented 4).
pod() {
  local name=$1 policy=$2 extra=$3 cextra=$4
  shift 4
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
$cextra
EOF
  mv "$KD_TMP/manifests/$name.yaml.tmp" "$KD_TMP/manifests/$name.yaml"
}

uid_of() { kd_pod_json "$1" | jq -r .metadata.uid; }
# ctr_log POD CTR: the container's current CRI log file
ctr_log() { cat "$KD_TMP/logs/default_$1-${KD_NODE}_$(uid_of "$1")/$2/"*.log 2>/dev/null; }
pod_cg() { find /sys/fs/cgroup/"$1"/"$KD_CG_ROOT" -type d -name "pod$2" 2>/dev/null | head -n 1; }
cs_of() { kd_pod_json "$1" | jq -c "[.status.containerStatuses[] | select(.name == \"$2\")][0]"; }

mkdir -p "$KD_TMP/root/seccomp"
cat >"$KD_TMP/root/seccomp/no-mkdir.json" <<'EOF'
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"],
  "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]
}
EOF

kd_start --pod-max-pids "$MAX_PIDS" --crashloop-backoff-initial 1s --crashloop-backoff-max 2s
kd_import_test_image "$IMG"

# ---- every pod at once -------------------------------------------------------
pod steady Always "" "" /bin/kd-payload sleep 1000
pod bomb Never "" "" /bin/kd-payload fork-bomb 500
pod oom Never "" "    resources: {limits: {memory: 32Mi}}" /bin/kd-payload alloc 100
pod oomloop Always "" "    resources: {limits: {memory: 32Mi}}" /bin/kd-payload alloc 100
pod sigkill Never "" "" /bin/kd-payload sleep 1000
pod victim Always "" "" /bin/kd-payload sleep 1000
pod nope Never "" "" nope
pod badwd Never "" "    workingDir: /bin/kd-payload/sub" /bin/kd-payload exit 0
pod nonroot Never "  securityContext: {runAsNonRoot: true}" "" /bin/kd-payload getuid
cat >"$KD_TMP/manifests/sec.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: sec}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 2
  securityContext: {runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000}
  containers:
  - {name: ids, image: $IMG, command: [/bin/kd-payload, getuid]}
  - name: rofs
    image: $IMG
    command: [/bin/kd-payload, write, /probe, x]
    securityContext: {runAsUser: 0, readOnlyRootFilesystem: true}
  - name: caps
    image: $IMG
    command: [/bin/kd-payload, status]
    securityContext: {runAsUser: 0, capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}}
  - name: seccomp
    image: $IMG
    command: [mkdir, /tmp/blocked]
    securityContext: {runAsUser: 0, seccompProfile: {type: Localhost, localhostProfile: no-mkdir.json}}
  - name: priv
    image: $IMG
    command: [/bin/kd-payload, status]
    securityContext: {runAsUser: 0, privileged: true}
EOF

# ---- pids limit: a fork bomb stops at --pod-max-pids --------------------------
kd_wait_phase steady Running 30 || kd_fail "pod steady not Running"
cg=$(pod_cg pids "$(uid_of steady)")
[ -n "$cg" ] || kd_fail "no pids cgroup for pod steady"
kd_assert_eq "$MAX_PIDS" "$(cat "$cg/pids.max")" "pids.max of the pod cgroup"
kd_wait_phase bomb Succeeded 60 || kd_fail "fork bomb pod did not finish"
line=$(ctr_log bomb c | grep -o 'forked [0-9]* failed [0-9]*' | head -n 1)
[ -n "$line" ] || kd_fail "fork bomb printed nothing: $(ctr_log bomb c)"
forked=$(echo "$line" | awk '{print $2}')
failed=$(echo "$line" | awk '{print $4}')
if [ "$forked" -ge "$MAX_PIDS" ] || [ "$failed" -eq 0 ]; then
  kd_fail "fork bomb not stopped at the limit: $line"
fi
kd_curl /healthz | grep -q ok || kd_fail "kubeletd does not answer after the fork bomb"
kd_pod_json steady | jq -e '.status.phase == "Running" and .status.containerStatuses[0].restartCount == 0' \
  >/dev/null || kd_fail "pod steady disturbed by the fork bomb"
echo "ok - a fork bomb stops at --pod-max-pids=$MAX_PIDS ($line), the node stays healthy"
uid=$(uid_of bomb)
rm "$KD_TMP/manifests/bomb.yaml"
kd_wait_for 20 test ! -e "$KD_TMP/run/pods/$uid" || kd_fail "bomb pod not torn down"
[ -z "$(find /sys/fs/cgroup/*/"$KD_CG_ROOT" -type d -name "pod$uid" 2>/dev/null)" ] \
  || kd_fail "cgroups of the fork bomb pod remain"
echo "ok - the fork bomb pod's cgroups are removed with it"

# ---- OOMKilled from the cgroup's OOM counter -------------------------------------
kd_wait_phase oom Failed 30 || kd_fail "oom pod not Failed"
t=$(cs_of oom c | jq -c .state.terminated)
echo "$t" | jq -e '.reason == "OOMKilled" and .exitCode == 137' >/dev/null || kd_fail "oom: $t"
kd_wait_jq 30 oomloop '.status.containerStatuses[0].restartCount >= 1
  and .status.containerStatuses[0].lastState.terminated.reason == "OOMKilled"
  and .status.containerStatuses[0].lastState.terminated.exitCode == 137' || kd_fail "OOMKilled not restarted per policy"
# SIGKILL alone (from the node: PID 1 ignores it from inside) is not an OOM
# kill: the reason comes from the counter
kd_wait_phase sigkill Running 30 || kd_fail "sigkill pod not Running"
kill -KILL "$(jq -r .pid "$KD_TMP/run/pods/$(uid_of sigkill)/containers/"*/state.json)"
kd_wait_phase sigkill Failed 30 || kd_fail "sigkill pod not Failed"
t=$(cs_of sigkill c | jq -c .state.terminated)
echo "$t" | jq -e '.reason == "Error" and .exitCode == 137' >/dev/null || kd_fail "SIGKILL reported as: $t"
echo "ok - OOMKilled (exit 137) from the cgroup's oom_kill count, restarted per policy; plain SIGKILL is Error"

# ---- start errors --------------------------------------------------------------
kd_wait_phase nope Failed 30 || kd_fail "nope pod not Failed"
t=$(cs_of nope c | jq -c .state.terminated)
echo "$t" | jq -e '.reason == "StartError" and .exitCode == 128
  and (.message | contains("nope") and contains("No such file or directory"))' >/dev/null \
  || kd_fail "missing binary: $t"
kd_wait_jq 30 badwd '.status.containerStatuses[0].state.terminated.exitCode == 128
  or .status.containerStatuses[0].state.waiting.reason == "CreateContainerError"' || kd_fail "bad workingDir"
st=$(cs_of badwd c | jq -c .state)
echo "$st" | jq -e '(.terminated.reason == "StartError" and (.terminated.message | test("/bin/kd-payload/sub")))
  or .waiting.reason == "CreateContainerError"' >/dev/null || kd_fail "bad workingDir: $st"
echo "ok - StartError exit 128 with the exec error; bad workingDir: $(echo "$st" | jq -r '.terminated.reason // .waiting.reason')"

# ---- securityContext ---------------------------------------------------------------
uid=$(uid_of nonroot)
want="container has runAsNonRoot and image will run as root (pod: \"nonroot-${KD_NODE}_default($uid)\", container: c)"
kd_wait_jq 30 nonroot '.status.containerStatuses[0].state.waiting.reason == "CreateContainerConfigError"' \
  || kd_fail "runAsNonRoot with a root image not refused"
kd_assert_eq "$want" "$(cs_of nonroot c | jq -r .state.waiting.message)" "runAsNonRoot message"
kd_wait_jq 30 sec '[.status.containerStatuses[] | select(.state.terminated != null)] | length == 5' \
  || kd_fail "sec pod containers did not all finish"
ctr_log sec ids | grep -q 'uid=1000 gid=3000 groups=.*2000' || kd_fail "ids: $(ctr_log sec ids)"
ctr_log sec rofs | grep -q 'Read-only file system' || kd_fail "rofs: $(ctr_log sec rofs)"
kd_assert_eq 1 "$(cs_of sec rofs | jq .state.terminated.exitCode)" "rofs exit code"
ctr_log sec caps | grep -q 'CapEff:.*0000000000000400' || kd_fail "caps: $(ctr_log sec caps)"
ctr_log sec seccomp | grep -q 'Operation not permitted' || kd_fail "seccomp: $(ctr_log sec seccomp)"
kd_assert_eq 1 "$(cs_of sec seccomp | jq .state.terminated.exitCode)" "seccomp mkdir exit code"
# every capability the node has (this one may lack CAP_SYS_RESOURCE)
full=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
ctr_log sec priv | grep -q "CapEff:.*$full" || kd_fail "privileged: want $full: $(ctr_log sec priv)"
ctr_log sec priv | grep -q 'Seccomp:.*0' || kd_fail "privileged has seccomp: $(ctr_log sec priv)"
echo "ok - securityContext: ids, read-only root, capabilities, runAsNonRoot, Localhost seccomp, privileged"

# ---- a shim killed with SIGKILL -------------------------------------------------------
kd_wait_phase victim Running 30 || kd_fail "victim not Running"
uid=$(uid_of victim)
shim=$(cat "$KD_TMP/run/pods/$uid/shim.pid")
cpid=$(jq -r .pid "$KD_TMP/run/pods/$uid/containers/"*/state.json)
kill -0 "$cpid" || kd_fail "no container process $cpid"
old_ip=$(kd_pod_json victim | jq -r .status.podIP)
# the host end of a veth goes when the kernel destroys the pod's netns,
# which it does asynchronously after the last handle is gone
veths() { ip -o link show master "$KD_BRIDGE" 2>/dev/null | wc -l; }
veths_before=$(veths)
kill -KILL "$shim"
kd_wait_for 10 sh -c "! kill -0 $cpid 2>/dev/null" || kd_fail "container $cpid survived its shim (orphan)"
kd_wait_for 20 sh -c "kd() { curl -sS --unix-socket '$KD_SOCK' http://localhost/events; }; kd | jq -e '[.items[] |
  select(.reason == \"SandboxChanged\" and .involvedObject.name == \"victim-$KD_NODE\" and
  .message == \"Pod sandbox changed, it will be killed and re-created.\")] | length > 0'" \
  || kd_fail "no SandboxChanged event"
kd_wait_jq 30 victim '.status.phase == "Running" and .status.containerStatuses[0].state.running != null
  and .status.containerStatuses[0].restartCount >= 1 and .status.containerStatuses[0].lastState.terminated.exitCode == 137' \
  || kd_fail "victim not rebuilt"
new_shim=$(cat "$KD_TMP/run/pods/$uid/shim.pid")
[ "$new_shim" != "$shim" ] || kd_fail "no new shim"
kill -0 "$new_shim" || kd_fail "new shim $new_shim not running"
new_ip=$(kd_pod_json victim | jq -r .status.podIP)
# no leaks: three namespace handles, one veth per pod sandbox on the bridge
kd_assert_eq 3 "$(grep -c " $KD_TMP/run/pods/$uid/ns/" /proc/self/mountinfo)" "namespace handles of victim"
kd_wait_for 10 eval '[ "$(veths)" -eq "$veths_before" ]' || kd_assert_eq "$veths_before" "$(veths)" "veths on the bridge"
kd_assert_eq "$(kd_curl /pods | jq '.items | length')" "$veths_before" "one veth per pod"
pids=$(find "$(pod_cg pids "$uid")" -name cgroup.procs -exec cat {} + | wc -l)
kd_assert_eq 2 "$pids" "processes in victim's pod cgroup (shim + container)"
echo "ok - a killed shim: containers killed, SandboxChanged, sandbox rebuilt (IP $old_ip -> $new_ip), no leaks"

# ---- teardown leaves nothing -------------------------------------------------------
rm -f "$KD_TMP/manifests/"*.yaml
kd_wait_for 60 sh -c "[ -z \"\$(ls '$KD_TMP/run/pods' 2>/dev/null)\" ]" || kd_fail "pods not torn down: $(ls "$KD_TMP/run/pods")"
! grep -q " $KD_TMP/run/pods" /proc/self/mountinfo || kd_fail "mounts left: $(grep " $KD_TMP/run/pods" /proc/self/mountinfo)"
kd_wait_for 10 eval '[ "$(veths)" -eq 0 ]' || kd_assert_eq 0 "$(veths)" "veths left"
[ -z "$(find /sys/fs/cgroup/*/"$KD_CG_ROOT" -type d -name 'pod*' 2>/dev/null)" ] || kd_fail "pod cgroups left"
echo "ok - every pod removed: no mount, veth or cgroup left"
kd_stop || kd_fail "kubeletd exit status"
echo "PASS"
