#!/usr/bin/env bash
# logs -f delivery delay (root): a container prints a line every 50 ms; a
# client follows /containerLogs with timestamps=true, and for every line the
# delay is its arrival time minus the time stamp the shim gave it when it
# read the line from the container. That covers shim -> log file -> inotify
# -> kubeletd -> socket. Prints p50/p99/max over LINES lines (default 200).
#   sudo tests/bench/logs_follow.sh [LINES]
set -euo pipefail
. "$(dirname "$0")/../e2e/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "logs_follow: needs root" >&2; exit 1; }
LINES=${1:-200}
: "${KD_BUILD_DIR:=/tmp/build-bench}"
KUBELETD=$KD_BUILD_DIR/kubeletd KUBELETCTL=$KD_BUILD_DIR/kubeletctl KD_PAYLOAD=$KD_BUILD_DIR/kd-payload
export KUBELETD_SHIM=$KD_BUILD_DIR/kubeletd-shim
[ -x "$KUBELETD" ] || { echo "logs_follow: build first (cmake -B $KD_BUILD_DIR && cmake --build $KD_BUILD_DIR)" >&2; exit 1; }

kd_setup
kd_start
kd_import_test_image
cat >"$KD_TMP/manifests/chatty.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: chatty}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: c
      image: kubeletd.local/payload:1.0
      imagePullPolicy: Never
      command: ["sh", "-c", "sleep 1; i=0; while [ \$i -lt $LINES ]; do echo line \$i; i=\$((i+1)); sleep 0.05; done; sleep 3600"]
YAML
kd_wait_phase chatty Running 60 || kd_fail "pod did not start"

python3 - "$KD_SOCK" "/containerLogs/default/chatty-$KD_NODE/c?follow=true&timestamps=true" "$LINES" <<'PY'
import socket, sys, time, datetime
sock_path, path, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_UNIX)
s.connect(sock_path)
s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path).encode())
buf, delays, header_done = b"", [], False
start = time.time()
deadline = start + 60 + want * 0.1
while len(delays) < want and time.time() < deadline:
    data = s.recv(65536)
    if not data:
        break
    now = time.time()
    buf += data
    if not header_done:
        if b"\r\n\r\n" not in buf:
            continue
        buf = buf.split(b"\r\n\r\n", 1)[1]
        header_done = True
    # chunked framing: take whole lines from the payload, ignoring chunk sizes
    for line in buf.split(b"\n")[:-1]:
        line = line.strip().decode(errors="replace")
        if " line " not in line:  # chunk sizes and other output
            continue
        ts = line.split(" ", 1)[0]
        try:
            sec, frac = ts.rstrip("Z").split(".")
            t = datetime.datetime.strptime(sec, "%Y-%m-%dT%H:%M:%S").replace(
                tzinfo=datetime.timezone.utc).timestamp() + float("0." + frac)
        except ValueError:
            continue
        if t >= start:  # written while we follow (the backlog comes first)
            delays.append((now - t) * 1000)
    buf = buf.split(b"\n")[-1]
delays.sort()
if not delays:
    print("logs -f: no lines received"); sys.exit(1)
p = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]
print("logs -f delivery delay over %d lines: p50 %.2f ms, p99 %.2f ms, max %.2f ms"
      % (len(delays), p(0.5), p(0.99), delays[-1]))
PY
kd_stop
