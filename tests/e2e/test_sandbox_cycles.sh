#!/usr/bin/env bash
# 200 create/delete cycles of a small pod on the built-in network, in
# batches of KD_CYCLE_BATCH pods at once (default 10; KD_CYCLES total,
# default 200), then nothing may be left: netns handles, veths on the
# test's bridge, host-local reservations, cached attachments, iptables rules
# naming the test's CIDR, mounts under the test's directories, cgroups.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -x /usr/lib/cni/bridge ] || { echo "SKIP: no CNI plugins in /usr/lib/cni"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }

CYCLES=${KD_CYCLES:-200}
BATCH=${KD_CYCLE_BATCH:-10}
IMG=kubeletd.local/payload:1.0

kd_setup
IPT_BASE=$(iptables-save | grep -F "${KD_CIDR%0/24}" | sed "s/^/iptables /" | sort || true)
mkdir -p "$KD_TMP/cni-empty"
kd_start --cni-conf-dir "$KD_TMP/cni-empty" --cni-bin-dir /usr/lib/cni
kd_import_test_image

running_count() {
  kd_curl /pods | jq '[.items[] | select(.status.phase == "Running")] | length'
}
pod_count() { kd_curl /pods | jq '.items | length'; }
no_pods() { [ "$(pod_count)" -eq 0 ] && [ -z "$(ls "$KD_TMP/run/pods" 2>/dev/null)" ]; }

done_cycles=0
start=$SECONDS
while [ "$done_cycles" -lt "$CYCLES" ]; do
  n=$((CYCLES - done_cycles < BATCH ? CYCLES - done_cycles : BATCH))
  for i in $(seq "$n"); do
    cat >"$KD_TMP/manifests/.p$i.tmp" <<Y
apiVersion: v1
kind: Pod
metadata: {name: p$i}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: d, emptyDir: {}}]
  containers:
  - {name: c, image: $IMG, command: [/bin/kd-payload, sleep, "3600"], volumeMounts: [{name: d, mountPath: /d}]}
Y
    mv "$KD_TMP/manifests/.p$i.tmp" "$KD_TMP/manifests/p$i.yaml"
  done
  kd_wait_for 60 eval '[ "$(running_count)" -eq '"$n"' ]' \
    || kd_fail "batch at cycle $done_cycles: $(running_count)/$n pods Running"
  rm -f "$KD_TMP"/manifests/p*.yaml
  kd_wait_for 60 no_pods || kd_fail "batch at cycle $done_cycles: pods not gone"
  done_cycles=$((done_cycles + n))
done
echo "$CYCLES cycles in $((SECONDS - start)) s"

leftovers() {
  grep " $KD_TMP" /proc/self/mountinfo | awk '{print "mount " $5}'
  ls "$KD_TMP/run/pods" 2>/dev/null | sed 's/^/run dir /'
  ls "$KD_TMP/root/pods" 2>/dev/null | sed 's/^/pod dir /'
  ls "$KD_TMP/root/cni/results" 2>/dev/null | sed 's/^/cni cache /'
  find "$KD_TMP/root/cni/networks" -type f ! -name lock ! -name 'last_reserved_ip*' 2>/dev/null | sed 's/^/ipam /'
  ip -o link show master "$KD_BRIDGE" 2>/dev/null | sed 's/^/veth /'
  # (the network's shared masquerade chain stays while kubeletd runs)
  iptables-save | grep -F "${KD_CIDR%0/24}" | grep -v -- "^-A KDMASQ-$KD_BRIDGE " \
    | sed 's/^/iptables /' | sort | comm -13 <(echo "$IPT_BASE") -
  find /sys/fs/cgroup/*/"$KD_CG_ROOT" -mindepth 2 -type d 2>/dev/null | sed 's/^/cgroup /'
}
kd_wait_for 20 eval '[ -z "$(leftovers)" ]' || kd_fail "leftovers after $CYCLES cycles:
$(leftovers | head -40)"
kd_stop || kd_fail "kubeletd exited non-zero"
# stopping its pods on exit, kubeletd removes the network's shared chains
# and its bridge
[ -z "$(kd_nat_rules)" ] || kd_fail "NAT rules left after exit: $(kd_nat_rules)"
! ip link show "$KD_BRIDGE" >/dev/null 2>&1 || kd_fail "the bridge $KD_BRIDGE is left after exit"
echo PASS
