#!/bin/bash
# Pull + unpack throughput of kubeletd next to `skopeo copy` + `umoci unpack`
# for the same ~50 MB image from a local docker-registry (not part of ctest).
#   tests/bench/pull.sh [SIZE_MB]        (root; KD_BUILD_DIR as for the e2e tests)
# Each side: the median of 3 runs; kubeletd's runs are `kubeletctl pull` with
# an rmi between them, so every run downloads and unpacks everything.
set -euo pipefail

SIZE_MB=${1:-50}
RUNS=3
. "$(dirname "$0")/../e2e/lib.sh"

[ "$(id -u)" = 0 ] || { echo "pull.sh: run as root (kubeletd unpacks as root)" >&2; exit 1; }
for tool in skopeo jq python3; do
  command -v "$tool" >/dev/null || { echo "pull.sh: $tool is needed" >&2; exit 1; }
done
if ! command -v umoci >/dev/null; then
  echo "pull.sh: installing umoci" >&2
  apt-get install -y umoci >/dev/null
fi

kd_setup
. "$KD_SOURCE_DIR/tests/lib/registry.sh"
start_registry

IMG=$KD_TMP/bench-oci
"$KD_SOURCE_DIR/tests/images/make-random-oci.sh" "$IMG" "$SIZE_MB" bench >/dev/null
REF=$KD_REGISTRY/bench/random:1
push_layout "$IMG" bench "$REF"
BYTES=$(du -sb "$IMG/blobs" | cut -f1)
MB=$(python3 -c "print($BYTES / 1e6)")

kd_start --insecure-registry "$KD_REGISTRY"

now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | sed -n "$(((${#} + 1) / 2))p"; }

kd_times=()
for i in $(seq "$RUNS"); do
  t0=$(now)
  kd_ctl pull -q "$REF" >/dev/null
  t1=$(now)
  kd_times+=("$(python3 -c "print($t1 - $t0)")")
  kd_ctl rmi "$REF" >/dev/null
done

sk_times=()
for i in $(seq "$RUNS"); do
  rm -rf "$KD_TMP/sk-oci" "$KD_TMP/sk-bundle"
  t0=$(now)
  skopeo copy -q --src-tls-verify=false "docker://$REF" "oci:$KD_TMP/sk-oci:bench"
  umoci unpack --image "$KD_TMP/sk-oci:bench" "$KD_TMP/sk-bundle" >/dev/null
  t1=$(now)
  sk_times+=("$(python3 -c "print($t1 - $t0)")")
done
rm -rf "$KD_TMP/sk-oci" "$KD_TMP/sk-bundle"

kd_med=$(median "${kd_times[@]}")
sk_med=$(median "${sk_times[@]}")
python3 - "$MB" "$kd_med" "$sk_med" <<'EOF'
import sys
mb, kd, sk = map(float, sys.argv[1:])
print(f"image: {mb:.1f} MB (blobs), median of 3 runs each")
print(f"kubeletd pull+unpack:        {kd:7.3f} s  {mb / kd:8.1f} MB/s")
print(f"skopeo copy + umoci unpack:  {sk:7.3f} s  {mb / sk:8.1f} MB/s")
print(f"ratio (kubeletd / skopeo+umoci throughput): {sk / kd:.2f}x")
EOF
kd_stop
