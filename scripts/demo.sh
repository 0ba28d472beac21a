#!/usr/bin/env bash
# Runs kubeletd on the bundled manifests/ folder, from a fresh Debian 12
# machine (root): installs the packages, builds, makes the demo image from
# busybox-static (no network), prepares the demo's host folder, and runs
# kubeletd in the foreground (Ctrl-C stops it; pods keep their files).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"

demo=/var/lib/kubeletd-demo
mkdir -p "$demo" /srv/kubeletd-demo/www/status
[ -f /srv/kubeletd-demo/www/index.html ] ||
  echo '<html><body><h1>Hello from kubeletd</h1></body></html>' >/srv/kubeletd-demo/www/index.html
if [ ! -f "$demo/busybox-oci/index.json" ]; then
  rm -rf "$demo/busybox-oci"
  tests/images/make-busybox-oci.sh "$demo/busybox-oci" kubeletd.local/busybox:1.35
fi

echo "kubeletd: watching $(pwd)/manifests; in another shell: build/kubeletctl get pods"
exec build/kubeletd --pod-manifest-path "$(pwd)/manifests" -v 2 "$@"
