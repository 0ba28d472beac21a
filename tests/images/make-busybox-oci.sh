#!/usr/bin/env bash
# Builds a small, deterministic OCI image layout from Debian's busybox-static,
# without any network or container engine:
#   tests/images/make-busybox-oci.sh OUT_DIR [NAME:TAG]
# PAYLOAD=path (environment) adds that file as /bin/kd-payload (the static
# test payload, tests/payload/payload.c).
# ARCH=arm64 (environment) writes another architecture into the config (the
# binary stays the host's: enough for platform selection tests).
# The same inputs always give the same digests (sorted tar, fixed owners and
# mtimes, gzip -n, no timestamps in the config).
set -euo pipefail

out=${1:?usage: make-busybox-oci.sh OUT_DIR [NAME:TAG]}
ref=${2:-kubeletd.local/busybox:1.35}
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "make-busybox-oci: $busybox not found (apt-get install busybox-static)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{bin,sbin,etc,tmp,proc,sys,dev,root,var/www,usr/bin,usr/sbin}
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
if [ -n "${PAYLOAD:-}" ]; then
  cp "$PAYLOAD" "$root/bin/kd-payload"
  chmod 0755 "$root/bin/kd-payload"
fi
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
echo '<html><body>kubeletd demo</body></html>' >"$root/var/www/index.html"

mkdir -p "$out/blobs/sha256"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$root" -cf "$work/layer.tar" .
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -n -9 -c "$work/layer.tar" >"$work/layer.tar.gz"
layer=$(sha256sum "$work/layer.tar.gz" | cut -d' ' -f1)
layer_size=$(stat -c %s "$work/layer.tar.gz")
mv "$work/layer.tar.gz" "$out/blobs/sha256/$layer"

arch=${ARCH:-$(dpkg --print-architecture 2>/dev/null || echo amd64)}
put() { # put FILE -> prints "digest size"
  local d s
  d=$(sha256sum "$1" | cut -d' ' -f1)
  s=$(stat -c %s "$1")
  mv "$1" "$out/blobs/sha256/$d"
  echo "$d $s"
}
printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"make-busybox-oci.sh: busybox-static rootfs"}]}' \
  "$arch" "$diff_id" >"$work/config.json"
read -r config config_size < <(put "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" >"$work/manifest.json"
read -r manifest manifest_size < <(put "$work/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
  "$manifest" "$manifest_size" "$ref" >"$out/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
echo "$ref sha256:$manifest"
