#!/usr/bin/env bash
# Pod lifecycle benchmark (root; not in ctest). Prints a table of:
#  - manifest dropped -> Running latency (p50/p99) for 1, 10 and 100 pods
#    (each pod's time from the rename into the folder to the first GET /pods
#    that shows it Running, polled every 20 ms);
#  - a container's exit -> its first restart (lastState.finishedAt to the
#    next state.running.startedAt) and exit -> visible on the socket (the
#    first poll showing restartCount 1, minus finishedAt);
#  - kubeletd's RSS and CPU time with 0, 10 and 100 idle pods (from /proc,
#    CPU over a 10 s idle window).
# Usage: tests/bench/lifecycle.sh (KD_BUILD_DIR=... for another build).
. "$(dirname "$0")/../e2e/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }
IMG=kubeletd.local/payload:1.0
ROWS=()
now_ms() { date +%s%3N; }
ts_ms() { date -d "$1" +%s%3N; } # RFC 3339 (seconds) to ms
pct() { # pct P < numbers
  sort -n | awk -v p="$1" '{v[NR]=$1} END {i=int((NR*p+99)/100); if (i<1) i=1; print v[i]}'
}
row() { ROWS+=("$(printf '%-44s %12s %12s' "$1" "$2" "$3")"); }

kd_setup
kd_start --crashloop-backoff-initial 1s --file-check-frequency 20s
kd_import_test_image "$IMG"

pod_yaml() {
  cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: $IMG, command: [$2]}]
EOF
}

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$KD_PID/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$KD_PID/stat"; }
idle_row() { # idle_row LABEL
  local t0 t1
  sleep 2
  t0=$(cpu_ticks)
  sleep 10
  t1=$(cpu_ticks)
  row "$1: RSS / CPU over 10 s" "$(($(rss_kb) / 1024)) MiB" \
    "$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f%%", d / hz / 10 * 100}')"
}

clear_pods() {
  rm -f "$KD_TMP"/manifests/*.yaml
  kd_wait_for 120 sh -c "[ -z \"\$(ls '$KD_TMP/run/pods' 2>/dev/null)\" ]" || kd_fail "pods did not stop"
}

idle_row "0 pods"

for n in 1 10 100; do
  mkdir -p "$KD_TMP/stage"
  rm -rf "$KD_TMP/stage"; mkdir -p "$KD_TMP/stage"
  for i in $(seq "$n"); do pod_yaml "b$n-$i" '/bin/kd-payload, sleep, "100000"' >"$KD_TMP/stage/b$i.yaml"; done
  declare -A seen=()
  t0=$(now_ms)
  mv "$KD_TMP"/stage/*.yaml "$KD_TMP/manifests/"
  lat=()
  deadline=$((SECONDS + 300))
  while [ "${#seen[@]}" -lt "$n" ]; do
    [ "$SECONDS" -lt "$deadline" ] || kd_fail "only ${#seen[@]} of $n pods Running"
    t=$(now_ms)
    for name in $(kd_curl /pods | jq -r '.items[] | select(.status.phase == "Running") | .metadata.name'); do
      [ -n "${seen[$name]:-}" ] && continue
      seen[$name]=1
      lat+=($((t - t0)))
    done
    sleep 0.02
  done
  unset seen
  p50=$(printf '%s\n' "${lat[@]}" | pct 50)
  p99=$(printf '%s\n' "${lat[@]}" | pct 99)
  row "$n pod(s): dropped -> Running p50 / p99" "${p50} ms" "${p99} ms"
  [ "$n" -eq 100 ] || continue
  idle_row "100 pods"
done
clear_pods
for i in $(seq 10); do pod_yaml "idle$i" '/bin/kd-payload, sleep, "100000"' >"$KD_TMP/manifests/idle$i.yaml"; done
kd_wait_for 60 sh -c "[ \"\$(curl -s --unix-socket '$KD_SOCK' http://localhost/pods | jq '[.items[] | select(.status.phase == \"Running\")] | length')\" = 10 ]" \
  || kd_fail "10 idle pods not Running"
idle_row "10 pods"
clear_pods

# exit -> restart and exit -> visible
pod_yaml exiter '/bin/kd-payload, exit-after, "2", "1"' >"$KD_TMP/manifests/exiter.yaml"
seen_ms=""
deadline=$((SECONDS + 60))
while [ -z "$seen_ms" ]; do
  [ "$SECONDS" -lt "$deadline" ] || kd_fail "no restart seen"
  j=$(kd_curl "/pods/default/exiter-$KD_NODE" || true)
  if echo "$j" | jq -e '.status.containerStatuses[0].restartCount >= 1' >/dev/null 2>&1; then
    seen_ms=$(now_ms)
  fi
  sleep 0.005
done
kd_wait_jq 10 exiter '.status.containerStatuses[0].state.running != null' || kd_fail "no running state after restart"
j=$(kd_pod_json exiter)
fin=$(echo "$j" | jq -r '.status.containerStatuses[0].lastState.terminated.finishedAt')
start=$(echo "$j" | jq -r '.status.containerStatuses[0].state.running.startedAt')
# RFC 3339 has whole seconds: the restart is shown at that precision.
row "exit -> restarted (startedAt - finishedAt)" "$(($(ts_ms "$start") - $(ts_ms "$fin"))) ms" "(1 s res.)"
row "exit -> visible on /pods" "$((seen_ms - $(ts_ms "$fin"))) ms" "(1 s res.)"

kd_stop || true
printf '%-44s %12s %12s\n' "measure" "value" "value"
printf '%s\n' "${ROWS[@]}"
