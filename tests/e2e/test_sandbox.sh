#!/usr/bin/env bash
# The pod sandbox end to end (root, real CNI plugins): localhost, /dev/shm
# and emptyDir shared by a pod's containers, pod IPs reachable from the node
# and from another pod, hostPorts (and a refused duplicate), hostNetwork and
# hostIPC, hostPath persistence across pod re-creation, subPath escapes,
# the name files, fsGroup ownership, a failing and a hanging CNI plugin,
# and the garbage collection of a sandbox whose pod vanished while kubeletd
# was down. The built-in network runs on the test's own bridge and CIDR
# (an empty --cni-conf-dir: the node's own CNI configs are never used).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -x /usr/lib/cni/bridge ] || { echo "SKIP: no CNI plugins in /usr/lib/cni"; exit 77; }
command -v jq >/dev/null && command -v curl >/dev/null || { echo "SKIP: no jq/curl"; exit 77; }
command -v iptables >/dev/null || { echo "SKIP: no iptables"; exit 77; }

IMG=kubeletd.local/payload:1.0
HP=$((20000 + $$ % 20000))

kd_setup
IPT_BASE=$(iptables-save | grep -F "${KD_CIDR%0/24}" | sort || true)
mkdir -p "$KD_TMP/cni-empty" "$KD_TMP/www" "$KD_TMP/evil"
NET_ARGS=(--cni-conf-dir "$KD_TMP/cni-empty" --cni-bin-dir /usr/lib/cni)

start() { kd_start --crashloop-backoff-initial 1s --crashloop-backoff-max 2s "$@"; }

manifest() { # NAME, then the pod YAML on stdin (written atomically)
  cat >"$KD_TMP/manifests/.$1.tmp"
  mv "$KD_TMP/manifests/.$1.tmp" "$KD_TMP/manifests/$1.yaml"
}

uid_of() { kd_pod_json "$1" | jq -r .metadata.uid; }
ip_of() { kd_pod_json "$1" | jq -r .status.podIP; }
emptydir() { echo "$KD_TMP/root/pods/$(uid_of "$1")/volumes/kubernetes.io~empty-dir/$2"; }
events_of() { # POD REASON: the messages of its events with that reason
  kd_curl /events | jq -r --arg n "$1-$KD_NODE" --arg r "$2" \
    '.items[] | select(.involvedObject.name == $n and .reason == $r) | .message'
}
gone() { ! kd_pod_json "$1" >/dev/null 2>&1 && [ -z "$(ls "$KD_TMP/run/pods" 2>/dev/null)" ]; }
file_has() { grep -q -- "$2" "$1" 2>/dev/null; }

start "${NET_ARGS[@]}"
kd_import_test_image

# ---- one pod, two containers: localhost, /dev/shm, emptyDir, names --------
manifest duo <<EOF
apiVersion: v1
kind: Pod
metadata: {name: duo}
spec:
  terminationGracePeriodSeconds: 1
  securityContext: {fsGroup: 2345}
  hostAliases: [{ip: 192.0.2.10, hostnames: [foo.test, bar.test]}]
  dnsPolicy: None
  dnsConfig: {nameservers: [192.0.2.53], searches: [a.example], options: [{name: ndots, value: "2"}]}
  volumes: [{name: shared, emptyDir: {}}]
  containers:
  - name: srv
    image: $IMG
    command: [sh, -c, 'echo from-srv > /dev/shm/f; exec /bin/kd-payload serve-http 8080 hello-duo']
    ports: [{containerPort: 8080, hostPort: $HP}]
    volumeMounts: [{name: shared, mountPath: /data}]
  - name: cli
    image: $IMG
    command: [sh, -c, 'until [ -f /dev/shm/f ]; do sleep 0.1; done; cp /dev/shm/f /data/shm-copy;
      until wget -q -O /data/from-localhost http://127.0.0.1:8080/; do sleep 0.2; done;
      cat /etc/hosts > /data/hosts; cat /etc/hostname > /data/hostname;
      cat /etc/resolv.conf > /data/resolv; touch /data/by-cli; sleep 3600']
    volumeMounts: [{name: shared, mountPath: /data}]
  - name: restarter
    image: $IMG
    command: [sh, -c, 'if [ -f /data/r ]; then echo second >> /data/r; exec sleep 3600; fi; echo first > /data/r; exit 3']
    volumeMounts: [{name: shared, mountPath: /data}]
EOF
kd_wait_jq 60 duo '.status.phase == "Running" and ([.status.containerStatuses[] | select(.name == "restarter") | .restartCount] | .[0] >= 1)' \
  || kd_fail "duo did not run with one restart"
DUO_IP=$(ip_of duo)
ED=$(emptydir duo shared)
kd_wait_for 20 file_has "$ED/from-localhost" hello-duo || kd_fail "localhost between containers"
kd_assert_eq from-srv "$(cat "$ED/shm-copy")" "/dev/shm shared between containers"
kd_wait_for 20 file_has "$ED/r" second || kd_fail "the restarted container did not see the emptyDir"
kd_assert_eq "first second" "$(tr '\n' ' ' <"$ED/r" | sed 's/ $//')" "emptyDir survives a restart"
# fsGroup: the volume's group, setgid, and what a container made there
kd_assert_eq 2345 "$(stat -c %g "$ED")" "emptyDir group = fsGroup"
[ -g "$ED" ] || kd_fail "emptyDir has no setgid bit"
kd_assert_eq 2345 "$(stat -c %g "$ED/by-cli")" "a new file's group = fsGroup"
# the name files
grep -q "^$DUO_IP[[:space:]]duo-$KD_NODE\$" "$ED/hosts" || kd_fail "/etc/hosts lacks the pod IP: $(cat "$ED/hosts")"
grep -q "^192.0.2.10[[:space:]]foo.test[[:space:]]bar.test\$" "$ED/hosts" || kd_fail "/etc/hosts lacks hostAliases"
grep -q "^127.0.0.1[[:space:]]localhost" "$ED/hosts" || kd_fail "/etc/hosts lacks localhost"
kd_assert_eq "duo-$KD_NODE" "$(cat "$ED/hostname")" "/etc/hostname"
kd_assert_eq "search a.example|nameserver 192.0.2.53|options ndots:2" "$(paste -sd'|' "$ED/resolv")" \
  "resolv.conf for dnsPolicy None"
# the pod IP from the node, the hostPort on the node's loopback
kd_assert_eq hello-duo "$(curl -sS --max-time 5 "http://$DUO_IP:8080/")" "pod IP from the node"
kd_assert_eq hello-duo "$(curl -sS --max-time 5 "http://127.0.0.1:$HP/")" "hostPort on 127.0.0.1"

# ---- another pod: a different IP, and it reaches the first pod -----------
manifest peer <<EOF
apiVersion: v1
kind: Pod
metadata: {name: peer}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: out, emptyDir: {}}]
  containers:
  - name: c
    image: $IMG
    command: [sh, -c, 'until wget -q -O /out/got http://$DUO_IP:8080/; do sleep 0.2; done; sleep 3600']
    volumeMounts: [{name: out, mountPath: /out}]
EOF
kd_wait_phase peer Running 30 || kd_fail "peer did not run"
PEER_IP=$(ip_of peer)
[ -n "$PEER_IP" ] && [ "$PEER_IP" != null ] && [ "$PEER_IP" != "$DUO_IP" ] \
  || kd_fail "two pods share an IP ($DUO_IP, $PEER_IP)"
kd_wait_for 20 file_has "$(emptydir peer out)/got" hello-duo || kd_fail "pod to pod traffic"

# ---- the same hostPort again: refused with the reason --------------------
manifest clash <<EOF
apiVersion: v1
kind: Pod
metadata: {name: clash}
spec:
  containers:
  - name: c
    image: $IMG
    command: [/bin/kd-payload, sleep, "3600"]
    ports: [{containerPort: 80, hostPort: $HP}]
EOF
kd_wait_for 20 eval '[ -n "$(events_of clash FailedCreatePodSandBox)" ]' || kd_fail "no event for the hostPort clash"
events_of clash FailedCreatePodSandBox | grep -q "port $HP/TCP on 0.0.0.0 is already used by pod default/duo-$KD_NODE" \
  || kd_fail "unclear hostPort refusal: $(events_of clash FailedCreatePodSandBox | head -1)"
kd_assert_eq Pending "$(kd_pod_json clash | jq -r .status.phase)" "the refused pod stays Pending"
rm "$KD_TMP/manifests/clash.yaml"

# ---- hostNetwork and hostIPC ----------------------------------------------
manifest hnet <<EOF
apiVersion: v1
kind: Pod
metadata: {name: hnet}
spec:
  hostNetwork: true
  hostIPC: true
  terminationGracePeriodSeconds: 1
  volumes: [{name: out, emptyDir: {}}]
  containers:
  - name: c
    image: $IMG
    command: [sh, -c, 'cat /proc/net/dev > /out/dev; readlink /proc/self/ns/net > /out/net; readlink /proc/self/ns/ipc > /out/ipc; sleep 3600']
    volumeMounts: [{name: out, mountPath: /out}]
EOF
kd_wait_phase hnet Running 30 || kd_fail "hostNetwork pod did not run"
HO=$(emptydir hnet out)
kd_wait_for 10 test -s "$HO/ipc" || kd_fail "hostNetwork pod wrote nothing"
grep -q "$KD_BRIDGE:" "$HO/dev" || kd_fail "hostNetwork pod does not see the node's interfaces"
kd_assert_eq "$(readlink /proc/self/ns/net)" "$(cat "$HO/net")" "hostNetwork shares the node's netns"
kd_assert_eq "$(readlink /proc/self/ns/ipc)" "$(cat "$HO/ipc")" "hostIPC shares the node's IPC"
kd_assert_eq "$(kd_pod_json hnet | jq -r .status.hostIP)" "$(ip_of hnet)" "hostNetwork podIP = hostIP"

# ---- hostPath persistence across pod re-creation --------------------------
web() { # COMMAND
  manifest web <<EOF
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {rev: "$2"}}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: www, hostPath: {path: $KD_TMP/www, type: DirectoryOrCreate}}]
  containers:
  - name: c
    image: $IMG
    command: [sh, -c, '$1']
    volumeMounts: [{name: www, mountPath: /www}]
EOF
}
web 'echo persisted > /www/page; sleep 3600' 1
kd_wait_phase web Running 30 || kd_fail "web did not run"
kd_wait_for 10 file_has "$KD_TMP/www/page" persisted || kd_fail "hostPath write"
UID1=$(uid_of web)
web 'cat /www/page > /www/seen; sleep 3600' 2
kd_wait_jq 30 web ".metadata.uid != \"$UID1\" and .status.phase == \"Running\"" || kd_fail "web not re-created"
kd_wait_for 10 file_has "$KD_TMP/www/seen" persisted || kd_fail "hostPath content lost across re-creation"

# ---- subPath escapes -------------------------------------------------------
ln -s /etc "$KD_TMP/evil/abs"
ln -s ../../../../../../etc "$KD_TMP/evil/rel"
for sp in abs rel ../www; do
  n=esc$(echo "$sp" | tr -dc a-z)
  manifest "$n" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $n}
spec:
  volumes: [{name: v, hostPath: {path: $KD_TMP/evil, type: Directory}}]
  containers:
  - name: c
    image: $IMG
    command: [/bin/kd-payload, sleep, "3600"]
    volumeMounts: [{name: v, mountPath: /x, subPath: "$sp"}]
EOF
done
# "../www" is refused by validation; the symlinks when the container is made
kd_wait_jq 30 escabs '.status.containerStatuses[0].state.waiting.reason == "CreateContainerConfigError"' \
  || kd_fail "absolute symlink subPath not refused"
kd_wait_jq 30 escrel '.status.containerStatuses[0].state.waiting.reason == "CreateContainerConfigError"' \
  || kd_fail "relative symlink subPath not refused"
kd_pod_json escrel | jq -r '.status.containerStatuses[0].state.waiting.message' | grep -q "not within volume path" \
  || kd_fail "unclear subPath refusal: $(kd_pod_json escrel | jq -c '.status.containerStatuses[0].state')"
kd_pod_json escwww | jq -e '.kind == "Pod"' >/dev/null 2>&1 && kd_fail "a pod with a .. subPath was admitted"
grep -q "subPath.*must not contain '..'" "$KD_TMP/kubeletd.log" || kd_fail "no clear refusal of the .. subPath"
rm -f "$KD_TMP"/manifests/esc*.yaml

# ---- leftovers after every pod is gone ------------------------------------
leftovers() { # the state a removed pod might leave; empty when clean
  ls "$KD_TMP/run/pods" 2>/dev/null
  ls "$KD_TMP/root/cni/results" 2>/dev/null
  find "$KD_TMP/root/cni/networks" -type f ! -name lock ! -name 'last_reserved_ip*' 2>/dev/null
  grep " $KD_TMP" /proc/self/mountinfo | awk '{print $5}'
  ip -o link show master "$KD_BRIDGE" 2>/dev/null
  # (the network's shared masquerade chain stays while kubeletd runs)
  iptables-save | grep -F "${KD_CIDR%0/24}" | grep -v -- "^-A KDMASQ-$KD_BRIDGE " | sort \
    | comm -13 <(echo "$IPT_BASE") -
  iptables-save -t nat | grep -F "dport $HP "
  find /sys/fs/cgroup/*/"$KD_CG_ROOT" -mindepth 1 -type d 2>/dev/null | grep -v -e '/kubepods$' -e '/burstable$' -e '/besteffort$' || true
}
rm -f "$KD_TMP"/manifests/*.yaml
kd_wait_for 60 eval '[ -z "$(leftovers)" ]' || kd_fail "leftovers after removing the pods: $(leftovers)"

# ---- garbage collection of a pod that vanished while kubeletd was down ----
manifest lost <<EOF
apiVersion: v1
kind: Pod
metadata: {name: lost}
spec:
  volumes: [{name: d, emptyDir: {}}]
  containers:
  - name: c
    image: $IMG
    command: [/bin/kd-payload, sleep, "3600"]
    volumeMounts: [{name: d, mountPath: /d}]
    ports: [{containerPort: 80, hostPort: $HP}]
EOF
kd_wait_phase lost Running 30 || kd_fail "lost did not run"
LUID=$(uid_of lost)
kill -KILL "$KD_PID"; wait "$KD_PID" 2>/dev/null || true; KD_PID=""
# as after a reboot: no shim, no containers, /run wiped; the manifest gone too
for d in $(find /sys/fs/cgroup/*/"$KD_CG_ROOT" -depth -type d 2>/dev/null); do
  for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
done
kill -KILL "$(cat "$KD_TMP/run/pods/$LUID/shim.pid")" 2>/dev/null || true
sleep 0.3
grep " $KD_TMP/run" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l
rm -rf "$KD_TMP/run/pods/$LUID" "$KD_TMP/manifests/lost.yaml"
find /sys/fs/cgroup/*/"$KD_CG_ROOT" -depth -mindepth 1 -type d -exec rmdir {} \; 2>/dev/null || true
[ -n "$(ls "$KD_TMP/root/cni/results")" ] || kd_fail "no cached attachment to collect"
CHAIN_COUNT=$(iptables-save -t nat | grep -c "$LUID" || true)
[ "$CHAIN_COUNT" -gt 0 ] || kd_fail "the lost pod had no hostPort rules to collect"
start "${NET_ARGS[@]}"
kd_wait_for 30 eval '[ -z "$(leftovers)" ] && [ ! -e "$KD_TMP/root/pods/$LUID" ] && ! iptables-save -t nat | grep -q "$LUID"' \
  || kd_fail "garbage collection left: $(leftovers) $(ls "$KD_TMP/root/pods") $(iptables-save -t nat | grep "$LUID")"
kd_stop || kd_fail "kubeletd exited non-zero"

# ---- a failing and a hanging CNI plugin ------------------------------------
mkdir -p "$KD_TMP/cni-bad" "$KD_TMP/cni-bin"
cp /usr/lib/cni/loopback "$KD_TMP/cni-bin/"
cat >"$KD_TMP/cni-bin/kdfail" <<'EOF'
#!/bin/sh
cat >/dev/null
[ "$CNI_COMMAND" = VERSION ] && { echo '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}'; exit 0; }
[ "$CNI_COMMAND" = ADD ] || exit 0
echo '{"cniVersion":"1.0.0","code":11,"msg":"no addresses left in kdfail-pool","details":"test plugin"}'
exit 1
EOF
cat >"$KD_TMP/cni-bin/kdhang" <<EOF
#!/bin/sh
cat >/dev/null
[ "\$CNI_COMMAND" = ADD ] || exit 0
exec sleep 600 # kdhang-$$
EOF
chmod +x "$KD_TMP/cni-bin/kdfail" "$KD_TMP/cni-bin/kdhang"
badnet() {
  rm -f "$KD_TMP"/cni-bad/*
  echo "{\"cniVersion\":\"1.0.0\",\"name\":\"bad\",\"plugins\":[{\"type\":\"$1\"}]}" >"$KD_TMP/cni-bad/10-bad.conflist"
}
small() {
  manifest small <<EOF
apiVersion: v1
kind: Pod
metadata: {name: small}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: $IMG, command: [/bin/kd-payload, sleep, "3600"]}]
EOF
}
for plugin in kdfail kdhang; do
  badnet "$plugin"
  KUBELETD_CNI_TIMEOUT=2s start --cni-conf-dir "$KD_TMP/cni-bad" --cni-bin-dir "$KD_TMP/cni-bin"
  small
  if [ "$plugin" = kdfail ]; then
    want="plugin kdfail failed (code 11): no addresses left in kdfail-pool"
  else
    want="plugin kdhang timed out after 2000ms"
  fi
  # the event, and a retry after a back-off (a second attempt)
  kd_wait_for 40 eval '[ "$(events_of small FailedCreatePodSandBox | grep -c "$want")" -ge 1 ]' \
    || kd_fail "$plugin: no clear event: $(events_of small FailedCreatePodSandBox | head -2)"
  kd_wait_for 40 eval "grep -c 'sandbox: .*$want' \"\$KD_TMP/kubeletd.log\" | grep -qv '^[01]\$'" \
    || kd_fail "$plugin: no retry"
  kd_assert_eq Pending "$(kd_pod_json small | jq -r .status.phase)" "$plugin: the pod stays Pending"
  rm "$KD_TMP/manifests/small.yaml"
  kd_wait_for 40 eval '[ -z "$(leftovers)" ]' || kd_fail "$plugin: leftovers: $(leftovers)"
  ! pgrep -f "kdhang-$$" >/dev/null || kd_fail "$plugin: the hanging plugin still runs"
  kd_stop || kd_fail "kubeletd exited non-zero"
done
echo PASS
