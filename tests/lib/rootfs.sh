#!/usr/bin/env bash
# A plain root file system directory for runtime-level tests: the busybox
# OCI image of tests/images/make-busybox-oci.sh, its single layer extracted,
# and the test payload copied in as /bin/kd-payload.
#
# Sourced:   . tests/lib/rootfs.sh; kd_make_rootfs DIR
# Command:   tests/lib/rootfs.sh DIR        (for test programs in C)
#
# DIR is created (it may exist and be empty). The payload is $KD_PAYLOAD
# (set by ctest), else $KD_BUILD_DIR/kd-payload.

_kd_rootfs_src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

kd_make_rootfs() {
  local dir=${1:?usage: kd_make_rootfs DIR}
  local payload=${KD_PAYLOAD:-${KD_BUILD_DIR:-}/kd-payload}
  local layout manifest layer

  if [ ! -x "$payload" ]; then
    echo "kd_make_rootfs: payload \`$payload\` not found (set KD_PAYLOAD)" >&2
    return 1
  fi
  layout=$(mktemp -d) || return 1
  if ! "$_kd_rootfs_src/tests/images/make-busybox-oci.sh" "$layout/oci" >/dev/null; then
    rm -rf "$layout"
    return 1
  fi
  # index.json -> manifest -> its (single) layer blob.
  manifest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"].split(":")[1])' "$layout/oci/index.json") &&
    layer=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"].split(":")[1])' "$layout/oci/blobs/sha256/$manifest") &&
    mkdir -p "$dir" &&
    tar -xzf "$layout/oci/blobs/sha256/$layer" -C "$dir" &&
    install -m 0755 "$payload" "$dir/bin/kd-payload"
  local rc=$?
  rm -rf "$layout"
  return $rc
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  kd_make_rootfs "${1:?usage: rootfs.sh DIR}"
fi
