#!/usr/bin/env bash
# Builds an OCI image layout with one uncompressed layer holding SIZE_MB of
# random bytes (/big.bin): a blob big enough to interrupt mid-transfer.
#   tests/images/make-random-oci.sh OUT_DIR SIZE_MB [REF_NAME]
set -euo pipefail

out=${1:?usage: make-random-oci.sh OUT_DIR SIZE_MB [REF_NAME]}
size_mb=${2:?usage: make-random-oci.sh OUT_DIR SIZE_MB [REF_NAME]}
ref=${3:-latest}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs" "$out/blobs/sha256"
head -c "$((size_mb * 1024 * 1024))" /dev/urandom >"$work/rootfs/big.bin"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work/rootfs" -cf "$work/layer.tar" .

put() { # put FILE -> prints "digest size"
  local d s
  d=$(sha256sum "$1" | cut -d' ' -f1)
  s=$(stat -c %s "$1")
  mv "$1" "$out/blobs/sha256/$d"
  echo "$d $s"
}
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
read -r layer layer_size < <(put "$work/layer.tar")
arch=${ARCH:-$(dpkg --print-architecture 2>/dev/null || echo amd64)}
printf '{"architecture":"%s","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"make-random-oci.sh %s MiB"}]}' \
  "$arch" "$diff_id" "$size_mb" >"$work/config.json"
read -r config config_size < <(put "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" >"$work/manifest.json"
read -r manifest manifest_size < <(put "$work/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
  "$manifest" "$manifest_size" "$ref" >"$out/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
echo "$ref sha256:$manifest"
