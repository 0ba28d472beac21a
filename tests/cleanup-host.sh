#!/usr/bin/env bash
# Removes what interrupted test runs may have left on this machine (a test
# killed by a timeout cannot run its own clean-up): shims and containers of
# test pods, mounts under /tmp/kd-*, the tests' cgroup roots (kd-e2e-*,
# kd-test-*, kd-bench-*), their bridges (kde2e*, kdt*), network namespaces
# (kdt-*), the NAT chains of the tests' bridges, and the masquerade rules
# an older bridge plugin setup left for the test networks (10.200.0.0/13).
# It never touches kubeletd's defaults (kubepods, kubeletd0, 10.88.0.0/16).
set -u
[ "$(id -u)" -eq 0 ] || { echo "cleanup-host: needs root" >&2; exit 1; }

roots=$(ls -d /sys/fs/cgroup/*/kd-e2e-* /sys/fs/cgroup/*/kd-test-* /sys/fs/cgroup/*/kd-bench-* 2>/dev/null)
for pass in 1 2 3; do
  for d in $roots; do
    find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null
  done
  sleep 0.2
done
grep -E ' /tmp/kd-[^ ]*' -o /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
for d in $roots; do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
for l in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E '^(kde2e|kdt)[0-9]+$'); do
  ip link del "$l" 2>/dev/null
done
for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^kdt-'); do ip netns del "$n"; done

# kubeletd's NAT chains of the tests' bridges (tests/lib/nat.sh).
. "$(dirname "$0")/lib/nat.sh"
kd_nat_sweep '(kde2e|kdt)[0-9]+'

# Masquerade rules of the test networks and the chains they jump to.
iptables-save -t nat | grep -E '^-A POSTROUTING -s 10\.(20[0-7]|2[0-4][0-9]|25[0-5])\.[0-9.]+/32 .*name: \\"kubeletd\\"' |
  while read -r rule; do
    chain=$(sed -n 's/.* -j \(CNI-[0-9a-f]*\)$/\1/p' <<<"$rule")
    eval "iptables -w -t nat ${rule/-A/-D}" 2>/dev/null
    if [ -n "$chain" ]; then
      iptables -w -t nat -F "$chain" 2>/dev/null
      iptables -w -t nat -X "$chain" 2>/dev/null
    fi
  done
rm -rf /tmp/kd-e2e.* /tmp/kd-it-* 2>/dev/null
echo "cleanup-host: done"
