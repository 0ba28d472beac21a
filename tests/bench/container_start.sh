#!/bin/bash
# Container start latency and shim memory (root; not part of ctest).
#   tests/bench/container_start.sh [STARTS] [PODS]     (defaults 100 and 10)
#
# Measured with kubeletd-shim directly, through its socket protocol (the
# most direct path: no kubeletd, no CNI, no image store, no pod worker):
#   - kubeletd-shim: one shim in new net/IPC/UTS namespaces; for each start
#     a containers/<id>/config.json over the same busybox rootfs directory
#     (Docker's default capabilities, no seccomp, no cgroup: crun/runc run
#     with the same), then {"op":"create"} -> the reply, which the shim
#     sends once the child has passed every setup step and execve'd:
#     "create -> running". Also "create -> exited" for /bin/true (the reply
#     plus the exit event), the number comparable with `crun run`.
#   - /bin/true: fork + exec + wait on the host.
#   - crun run (or runc run when crun refuses this host's hybrid cgroups; the
#     host's cgroup layout is never changed) of /bin/true in the same rootfs.
#   - the shim's RSS: VmRSS of PODS idle shims, each holding one sleeping
#     container (median and max).
set -euo pipefail

STARTS=${1:-100}
PODS=${2:-10}
. "$(dirname "$0")/../e2e/lib.sh"
: "${KUBELETD_SHIM:=$KD_BUILD_DIR/kubeletd-shim}"
: "${KD_PAYLOAD:=$KD_BUILD_DIR/kd-payload}"
export KD_PAYLOAD

[ "$(id -u)" = 0 ] || { echo "container_start.sh: run as root" >&2; exit 1; }
[ -x "$KUBELETD_SHIM" ] || { echo "container_start.sh: $KUBELETD_SHIM not built" >&2; exit 1; }
command -v python3 >/dev/null || { echo "container_start.sh: python3 is needed" >&2; exit 1; }

BENCH_CG=kd-bench-$$
bench_cleanup() {
  local rc=$?
  set +e
  if [ -n "$KD_TMP" ]; then
    for f in "$KD_TMP"/shims/*/shim.pid; do
      [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
    done
  fi
  find /sys/fs/cgroup/*/"$BENCH_CG" -depth -type d -exec rmdir {} \; 2>/dev/null
  (exit "$rc")
  kd_cleanup
}
kd_setup
trap bench_cleanup EXIT

. "$KD_SOURCE_DIR/tests/lib/rootfs.sh"
ROOTFS=$KD_TMP/rootfs
kd_make_rootfs "$ROOTFS"

# ---- the shim, over its socket ------------------------------------------------
python3 - "$KUBELETD_SHIM" "$KD_TMP/shims" "$ROOTFS" "$STARTS" "$PODS" <<'EOF'
import json, os, socket, statistics, subprocess, sys, time

shim, base, rootfs, starts, pods = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
# Docker's 14 default capabilities
CAPS = sum(1 << b for b in (0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31))

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]

def start_shim(d):
    os.makedirs(d + "/containers", exist_ok=True)
    r, w = os.pipe()
    subprocess.run([shim, "start", "--pod-dir", d, "--hostname", "bench", "--new-net", "--new-ipc",
                    "--new-uts", "--ready-fd", str(w)], pass_fds=[w], check=True)
    os.close(w)
    msg = os.read(r, 4096).decode()
    os.close(r)
    if not msg.startswith("ok"):
        sys.exit("shim: " + msg)
    s = socket.socket(socket.AF_UNIX)
    s.connect(d + "/shim.sock")
    return s, s.makefile("r")

class Conn:
    def __init__(self, d):
        self.d = d
        self.sock, self.f = start_shim(d)
        self.seq = 0
        self.exits = set()
    def call(self, op, **kw):
        self.seq += 1
        kw.update(seq=self.seq, op=op)
        self.sock.sendall((json.dumps(kw) + "\n").encode())
        while True:
            m = json.loads(self.f.readline())
            if m.get("event") == "exit":
                self.exits.add(m["id"])
                continue
            if m.get("seq") == self.seq:
                if not m.get("ok"):
                    sys.exit("shim %s: %s" % (op, m.get("error")))
                return m
    def wait_exit(self, cid):
        while cid not in self.exits:
            m = json.loads(self.f.readline())
            if m.get("event") == "exit":
                self.exits.add(m["id"])

def spec(d, cid, args):
    b = "%s/containers/%s" % (d, cid)
    os.makedirs(b, exist_ok=True)
    cfg = {"id": cid, "name": "bench", "podUID": "0" * 32, "args": args,
           "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=bench"],
           "cwd": "/", "uid": 0, "gid": 0, "groups": [], "tty": False, "oomScoreAdj": 0,
           "lowerdirs": [], "rootfs": rootfs, "readonlyRootfs": False, "mounts": [], "hostPID": False,
           "capBounding": "0x%016x" % CAPS, "capEffective": "0x%016x" % CAPS,
           "capPermitted": "0x%016x" % CAPS, "capInheritable": "0x0", "capAmbient": "0x0",
           "noNewPrivileges": False, "privileged": False, "seccomp": 0, "sysctls": [],
           "cgroupProcs": [], "logPath": "%s/logs/%s/0.log" % (d, cid), "logMaxSize": 0,
           "logMaxFiles": 1, "stopSignal": 15}
    with open(b + "/config.json", "w") as f:
        json.dump(cfg, f)

# create -> running, and create -> exited, for /bin/true
c = Conn(base + "/lat")
run_ms, exit_ms = [], []
for i in range(starts):
    cid = "%064x" % (i + 1)
    spec(c.d, cid, ["/bin/true"])
    t0 = time.perf_counter_ns()
    c.call("create", id=cid)
    t1 = time.perf_counter_ns()
    c.wait_exit(cid)
    t2 = time.perf_counter_ns()
    run_ms.append((t1 - t0) / 1e6)
    exit_ms.append((t2 - t0) / 1e6)
    c.call("delete", id=cid)
c.call("shutdown")

# /bin/true on the host
true_ms = []
for i in range(starts):
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn("/bin/true", ["/bin/true"], os.environ)
    os.waitpid(pid, 0)
    true_ms.append((time.perf_counter_ns() - t0) / 1e6)

print("container start, %d starts, milliseconds      p50      p99" % starts)
print("  kubeletd-shim create -> running        %8.2f %8.2f" % (pct(run_ms, 50), pct(run_ms, 99)))
print("  kubeletd-shim create -> exited (true)  %8.2f %8.2f" % (pct(exit_ms, 50), pct(exit_ms, 99)))
print("  /bin/true (fork+exec+wait)             %8.2f %8.2f" % (pct(true_ms, 50), pct(true_ms, 99)))
sys.stdout.flush()

# the shim's RSS: PODS shims, each with one sleeping container
conns = []
for p in range(pods):
    k = Conn("%s/rss%d" % (base, p))
    cid = "%064x" % 1
    spec(k.d, cid, ["/bin/kd-payload", "sleep", "1000"])
    k.call("create", id=cid)
    conns.append(k)
time.sleep(0.5)
rss = []
for k in conns:
    pid = int(open(k.d + "/shim.pid").read())
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            rss.append(int(line.split()[1]))
for k in conns:
    k.call("shutdown")
print("shim RSS over %d pods (one sleeping container each): median %d KiB, max %d KiB"
      % (pods, statistics.median(rss), max(rss)))
EOF

# ---- crun run, or runc run ----------------------------------------------------------
# crun refuses hybrid cgroups (v1 controllers plus a cgroup2 mount); the fix
# (moving hugetlb off cgroup2) changes the host, which a benchmark must not.
RT=""
if ! command -v crun >/dev/null; then apt-get install -y crun >/dev/null 2>&1 || true; fi
if command -v crun >/dev/null; then
  mkdir -p "$KD_TMP/probe"
  (cd "$KD_TMP/probe" && crun spec >/dev/null)
  jq --arg r "$ROOTFS" '.root.path = $r | .root.readonly = false | .process.terminal = false
    | .process.args = ["/bin/true"]' "$KD_TMP/probe/config.json" >"$KD_TMP/probe/c.json"
  mv "$KD_TMP/probe/c.json" "$KD_TMP/probe/config.json"
  if crun --root "$KD_TMP/crun-state" run --bundle "$KD_TMP/probe" kd-bench-probe-$$ >/dev/null 2>&1; then
    RT=crun
  else
    crun --root "$KD_TMP/crun-state" delete -f kd-bench-probe-$$ >/dev/null 2>&1 || true
    echo "crun: not runnable on this host (hybrid cgroups)"
  fi
fi
if [ -z "$RT" ]; then
  if ! command -v runc >/dev/null; then apt-get install -y runc >/dev/null 2>&1 || true; fi
  command -v runc >/dev/null && RT=runc
fi
if [ -n "$RT" ]; then
  B=$KD_TMP/bundle
  mkdir -p "$B"
  (cd "$B" && "$RT" spec >/dev/null)
  jq --arg r "$ROOTFS" --arg cg "/$BENCH_CG" '.root.path = $r | .root.readonly = false
    | .process.terminal = false | .process.args = ["/bin/true"] | .linux.cgroupsPath = $cg' \
    "$B/config.json" >"$B/c.json"
  mv "$B/c.json" "$B/config.json"
  python3 - "$RT" "$B" "$KD_TMP/$RT-state" "$STARTS" "$BENCH_CG" <<'EOF'
import json, subprocess, sys, time
rt, bundle, state, starts, cg = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
ms = []
for i in range(starts):
    cid = "kd-bench-%d" % i
    # a cgroup per run, like the shim's per-container cgroup would be
    cfg = json.load(open(bundle + "/config.json"))
    cfg["linux"]["cgroupsPath"] = "/%s/%s" % (cg, cid)
    json.dump(cfg, open(bundle + "/config.json", "w"))
    t0 = time.perf_counter_ns()
    subprocess.run([rt, "--root", state, "run", "--bundle", bundle, cid], check=True,
                   stdout=subprocess.DEVNULL)
    ms.append((time.perf_counter_ns() - t0) / 1e6)
ms.sort()
p = lambda q: ms[min(len(ms) - 1, int(round(q / 100.0 * (len(ms) - 1))))]
print("  %-37s  %8.2f %8.2f" % (rt + " run /bin/true (create -> exited)", p(50), p(99)))
EOF
else
  echo "  neither crun nor runc could run here"
fi
