#!/usr/bin/env bash
# Runs kubeletd on the bundled manifests/ folder, from a fresh Debian 12
# machine (root): installs the packages, builds, makes the demo image from
# busybox-static (no network), prepares the demo's host folder, starts
# kubeletd, imports the image into its store, and stays in the foreground
# (Ctrl-C stops kubeletd and, with it, the demo pods).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs" --target kubeletd kubeletctl kubeletd-shim

demo=/var/lib/kubeletd-demo
mkdir -p "$demo" /srv/kubeletd-demo/www/status
[ -f /srv/kubeletd-demo/www/index.html ] ||
  echo '<html><body><h1>Hello from kubeletd</h1></body></html>' >/srv/kubeletd-demo/www/index.html
if [ ! -f "$demo/busybox-oci/index.json" ]; then
  rm -rf "$demo/busybox-oci"
  tests/images/make-busybox-oci.sh "$demo/busybox-oci" kubeletd.local/busybox:1.35 >/dev/null
fi

build/kubeletd --pod-manifest-path "$(pwd)/manifests" --stop-pods-on-exit -v 2 "$@" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM
for _ in $(seq 100); do
  build/kubeletctl version >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || exit 1
  sleep 0.1
done
# The demo pods say imagePullPolicy: Never: their image comes from here.
build/kubeletctl image import "$demo/busybox-oci"
cat <<TXT

kubeletd runs the pods of $(pwd)/manifests. In another shell:
  build/kubeletctl get pods -o wide
  curl http://127.0.0.1:8080/             # the page from /srv/kubeletd-demo/www
  build/kubeletctl logs -f web-node... -c httpd
Ctrl-C here stops kubeletd and the demo pods.
TXT
wait "$pid"
