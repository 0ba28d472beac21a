# kd_nat_sweep BRIDGE_REGEX: removes the NAT rules kubeletd's built-in
# network made for the bridges whose names match BRIDGE_REGEX (an extended
# regex, matched whole): the jumps from PREROUTING, OUTPUT and POSTROUTING,
# the pods' KDHPP- chains, KDHP-<bridge> and KDMASQ-<bridge>. For test
# clean-up after a daemon that could not tear its network down (killed).
# Source this file; needs root and iptables.
kd_nat_sweep() {
  local br=$1 rules line c chains pods
  rules=$(iptables-save -t nat 2>/dev/null) || return 0
  printf '%s\n' "$rules" | grep -E -- "^-A (PREROUTING|OUTPUT|POSTROUTING) .*-j KD(HP|MASQ)-($br)\$" |
    while read -r line; do
      eval "iptables -w -t nat -D ${line#-A }" 2>/dev/null
    done
  chains=$(printf '%s\n' "$rules" | grep -oE "^:KD(HP|MASQ)-($br) " | tr -d ': ')
  pods=$(printf '%s\n' "$rules" | grep -E -- "^-A KDHP-($br) " | grep -oE 'KDHPP-[0-9a-f]+' | sort -u)
  for c in $chains $pods; do iptables -w -t nat -F "$c" 2>/dev/null; done
  for c in $chains $pods; do iptables -w -t nat -X "$c" 2>/dev/null; done
  return 0
}
