#!/usr/bin/env python3
"""Measurements of the benchmark suite (driven by tests/bench/run).

Each subcommand measures one figure and prints one JSON object on stdout;
`run` collects them into results.json and `report` prints the table and
checks the budget. Every loop is bounded in count and in time.
Environment: KD_SOCK, KD_MANIFESTS, KD_RUN, KD_LOGS, KD_PID, KD_NODE, IMG.
"""
import glob
import json
import os
import re
import shlex
import socket
import statistics
import subprocess
import sys
import time

IMG = os.environ.get("IMG", "kubeletd.local/payload:1.0")
NODE = os.environ.get("KD_NODE", "node1")
TICK = os.sysconf("SC_CLK_TCK")


def pct(xs, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def summary(xs_ms):
    if not xs_ms:
        return None
    return {"n": len(xs_ms), "p50": round(statistics.median(xs_ms), 2),
            "p99": round(pct(xs_ms, 99), 2), "min": round(min(xs_ms), 2),
            "max": round(max(xs_ms), 2)}


# ---- the status API, HTTP/1.1 keep-alive over the Unix socket ---------------

class Api:
    def __init__(self, path):
        self.path = path
        self.timeout = 30
        self.sock = None
        self.buf = b""

    def _connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)
        self.buf = b""

    def _read_until(self, sep):
        while sep not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise ConnectionError("closed")
            self.buf += d
        i = self.buf.index(sep)
        head, self.buf = self.buf[:i], self.buf[i + len(sep):]
        return head

    def _read_n(self, n):
        while len(self.buf) < n:
            d = self.sock.recv(max(65536, n - len(self.buf)))
            if not d:
                raise ConnectionError("closed")
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def get(self, path):
        for attempt in range(2):
            try:
                if self.sock is None:
                    self._connect()
                self.sock.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path).encode())
                head = self._read_until(b"\r\n\r\n").decode("latin-1")
                status = int(head.split(" ", 2)[1])
                hdrs = {}
                for line in head.split("\r\n")[1:]:
                    k, _, v = line.partition(":")
                    hdrs[k.strip().lower()] = v.strip()
                if "content-length" in hdrs:
                    body = self._read_n(int(hdrs["content-length"]))
                elif hdrs.get("transfer-encoding", "").lower() == "chunked":
                    parts = []
                    while True:
                        n = int(self._read_until(b"\r\n").split(b";")[0], 16)
                        if n == 0:
                            self._read_until(b"\r\n")
                            break
                        parts.append(self._read_n(n))
                        self._read_n(2)
                    body = b"".join(parts)
                else:
                    body = self.buf
                    while True:
                        d = self.sock.recv(65536)
                        if not d:
                            break
                        body += d
                    self.close()
                if hdrs.get("connection", "").lower() == "close":
                    self.close()
                return status, body
            except (OSError, ConnectionError, ValueError, IndexError):
                self.close()
                if attempt:
                    raise
        raise AssertionError

    def pod(self, name):
        st, body = self.get("/pods/default/%s-%s" % (name, NODE))
        return json.loads(body) if st == 200 else None

    def close(self):
        if self.sock:
            self.sock.close()
        self.sock = None


def all_running(pod, n):
    if not pod:
        return False
    cs = pod.get("status", {}).get("containerStatuses") or []
    return len(cs) == n and all("running" in c.get("state", {}) for c in cs)


# ---- manifests ---------------------------------------------------------------

def pod_yaml(name, ncont, host_port=None, cmd=None, extra="", ctr_extra=""):
    out = ["apiVersion: v1", "kind: Pod", "metadata:", "  name: %s" % name,
           "  labels:", "    bench: kubeletd", "spec:",
           "  terminationGracePeriodSeconds: 1"]
    if extra:
        out.append(extra.rstrip("\n"))
    out.append("  containers:")
    for i in range(ncont):
        c = cmd or ["/bin/kd-payload", "serve-http", str(8080 + i)]
        out += ["  - name: c%d" % i, "    image: %s" % IMG,
                "    imagePullPolicy: IfNotPresent",
                "    command: %s" % json.dumps(c)]
        if i == 0 and host_port:
            out += ["    ports:", "    - containerPort: 8080",
                    "      hostPort: %d" % host_port]
        if ctr_extra:
            out.append(ctr_extra.rstrip("\n"))
    return "\n".join(out) + "\n"


def drop(mdir, name, text):
    """Writes a dot file (ignored by the source) and renames it into place;
    returns the monotonic time of the rename."""
    tmp = os.path.join(mdir, ".%s.tmp" % name)
    with open(tmp, "w") as f:
        f.write(text)
    t = time.monotonic()
    os.rename(tmp, os.path.join(mdir, "%s.yaml" % name))
    return t


def wait(pred, secs, interval):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        r = pred()
        if r:
            return r
        time.sleep(interval)
    return None


def remove_and_wait(api, mdir, names, secs=60):
    for n in names:
        try:
            os.unlink(os.path.join(mdir, "%s.yaml" % n))
        except FileNotFoundError:
            pass

    def gone():
        st, body = api.get("/pods")
        items = json.loads(body).get("items") or []
        mine = {p["metadata"]["name"] for p in items}
        return not any("%s-%s" % (n, NODE) in mine for n in names)

    def shims_gone():
        return not [p for p in shim_pids(os.environ["KD_RUN"]) if os.path.exists("/proc/%d" % p)]
    return wait(gone, secs, 0.05) is not None and wait(shims_gone, secs, 0.05) is not None


# ---- process figures -----------------------------------------------------------

def status_kib(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def smaps_kib(pid):
    """Pss and the private (unshared) part of the RSS: the RSS counts every
    resident page of the shared libraries, which other processes share."""
    out = {"pss_kib": 0, "uss_kib": 0}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k == "Pss":
                    out["pss_kib"] = int(v.split()[0])
                elif k in ("Private_Clean", "Private_Dirty"):
                    out["uss_kib"] += int(v.split()[0])
    except OSError:
        pass
    return out


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def idle_figures(pid, secs):
    t0, c0 = time.monotonic(), cpu_ticks(pid)
    time.sleep(secs)
    t1, c1 = time.monotonic(), cpu_ticks(pid)
    out = {"rss_kib": rss_kib(pid), "cpu_pct": round(100.0 * (c1 - c0) / TICK / (t1 - t0), 3),
           "rss_anon_kib": status_kib(pid, "RssAnon"), "rss_file_kib": status_kib(pid, "RssFile")}
    out.update(smaps_kib(pid))
    return out


def shim_pids(run_dir):
    pids = []
    for f in glob.glob(os.path.join(run_dir, "pods", "*", "shim.pid")):
        try:
            pids.append(int(open(f).read().strip()))
        except (OSError, ValueError):
            pass
    return pids


# ---- log timestamps --------------------------------------------------------------

TS_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z (\S+) \S+ (.*)$")


def parse_ts(line):
    m = TS_RE.match(line)
    if not m:
        return None, None
    import calendar
    secs = calendar.timegm(tuple(int(m.group(i)) for i in range(1, 7)))
    frac = m.group(7) or "0"
    return secs + int(frac) / 10 ** len(frac), m.group(9)


def log_lines(log_dir, name, ctr, attempt):
    pats = glob.glob(os.path.join(log_dir, "default_%s-%s_*" % (name, NODE), ctr, "%d.log" % attempt))
    out = []
    for p in pats:
        with open(p) as f:
            for line in f:
                ts, text = parse_ts(line.rstrip("\n"))
                if ts is not None:
                    out.append((ts, text))
    return out


# ---- figure 1: pod start ------------------------------------------------------------

def cmd_podstart(args):
    runs, ncont, port = int(args[0]), int(args[1]), int(args[2])
    api = Api(os.environ["KD_SOCK"])
    mdir = os.environ["KD_MANIFESTS"]
    lat = []
    for i in range(runs):
        name = "start%d-%d" % (ncont, i)
        t0 = drop(mdir, name, pod_yaml(name, ncont, port))
        ok = wait(lambda: all_running(api.pod(name), ncont), 30, 0.002)
        t1 = time.monotonic()
        if ok:
            lat.append((t1 - t0) * 1000)
        else:
            print("pod %s not running within 30 s" % name, file=sys.stderr)
        remove_and_wait(api, mdir, [name])
        # the hostPort is free again once the sandbox is torn down
        wait(lambda: not glob.glob(os.path.join(os.environ["KD_RUN"], "pods", "*")), 30, 0.05)
        time.sleep(0.2)
    print(json.dumps({"containers": ncont, "runs": runs, "ms": summary(lat), "samples": lat}))


def podman_running(pm, pod, ncont):
    r = subprocess.run(pm + ["pod", "inspect", pod], capture_output=True, text=True, timeout=30)
    try:
        info = json.loads(r.stdout)
    except ValueError:
        return False
    if isinstance(info, list):
        info = info[0] if info else {}
    apps = [c for c in info.get("Containers") or [] if c.get("Id") != info.get("InfraContainerID")]
    return len(apps) == ncont and all(c.get("State") == "running" for c in apps)


def cmd_podman_podstart(args):
    runs, ncont, port, workdir = int(args[0]), int(args[1]), int(args[2]), args[3]
    pm = shlex.split(os.environ["PODMAN"])
    lat = []
    for i in range(runs):
        name = "pstart%d-%d" % (ncont, i)
        path = os.path.join(workdir, name + ".yaml")
        with open(path, "w") as f:
            f.write(pod_yaml(name, ncont, port))
        t0 = time.monotonic()
        r = subprocess.run(pm + ["kube", "play", path], capture_output=True, text=True, timeout=120)
        ok = r.returncode == 0 and wait(lambda: podman_running(pm, name, ncont), 30, 0.01)
        t1 = time.monotonic()
        if ok:
            lat.append((t1 - t0) * 1000)
        else:
            print("podman pod %s failed: %s" % (name, r.stderr.strip()[-400:]), file=sys.stderr)
        subprocess.run(pm + ["pod", "rm", "-f", "-t", "0", name], capture_output=True, timeout=120)
    print(json.dumps({"containers": ncont, "runs": runs, "ms": summary(lat), "samples": lat}))


# ---- figure 2: container start --------------------------------------------------------

KLOG_RE = re.compile(r"^[IWEF]\d{4} (\d\d):(\d\d):(\d\d\.\d+)\s+\d+ \S+\] (.*)$")


def klog_events(path, pod):
    """(seconds of day, message) of kubeletd's log lines about POD."""
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            m = KLOG_RE.match(line)
            if m and ("pod default/%s-%s:" % (pod, NODE)) in m.group(4):
                out.append((int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3)),
                            m.group(4)))
    return out


def cmd_ctrstart(args):
    """An init container that prints and exits, then the main container:
    init exit (its last log line) -> main running (its first log line), and
    kubeletd's own create -> start (its Created / Started events)."""
    runs = int(args[0])
    api = Api(os.environ["KD_SOCK"])
    mdir, logs, klog = os.environ["KD_MANIFESTS"], os.environ["KD_LOGS"], os.environ["KD_LOG"]
    handoff, create_start = [], []
    for i in range(runs):
        name = "cstart-%d" % i
        extra = ("  restartPolicy: Never\n  initContainers:\n  - name: init\n    image: %s\n"
                 "    command: [\"/bin/kd-payload\", \"echo\", \"init\"]" % IMG)
        drop(mdir, name, pod_yaml(name, 1, None, ["/bin/kd-payload", "echo", "main"], extra))
        wait(lambda: (api.pod(name) or {}).get("status", {}).get("phase") in ("Succeeded", "Failed"), 30, 0.05)
        time.sleep(0.2)
        a = log_lines(logs, name, "init", 0)
        b = log_lines(logs, name, "c0", 0)
        if a and b:
            handoff.append((b[0][0] - a[-1][0]) * 1000)
        ev = klog_events(klog, name)
        created = [t for t, m in ev if "Created container: c0" in m or "Created container c0" in m]
        exited = [t for t, m in ev if "container init exited" in m]
        started = [t for t, m in ev if "Started container c0" in m]
        if exited and started:
            create_start.append((started[0] - exited[0]) * 1000)
        elif created and started:
            create_start.append((started[0] - created[0]) * 1000)
        remove_and_wait(api, mdir, [name])
    print(json.dumps({"handoff_ms": summary(handoff), "create_to_running_ms": summary(create_start)}))


def cmd_runtime_start(args):
    """`RUNTIME run` of kd-payload echo in an unpacked bundle of the same
    image: invocation -> first output line (create -> running) and total."""
    runtime, bundle, runs = shlex.split(args[0]), args[1], int(args[2])
    first, total = [], []
    for i in range(runs):
        cid = "kdbench-%d-%d" % (os.getpid(), i)
        t0 = time.monotonic()
        p = subprocess.Popen(runtime + ["run", "--bundle", bundle, cid], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        line = p.stdout.readline()
        t1 = time.monotonic()
        _, errtext = p.communicate(timeout=30)
        t2 = time.monotonic()
        subprocess.run(runtime + ["delete", "-f", cid], capture_output=True)
        if p.returncode == 0 and line:
            first.append((t1 - t0) * 1000)
            total.append((t2 - t0) * 1000)
        elif i == 0:
            print(json.dumps({"error": errtext.decode(errors="replace").strip()[-300:] or "failed"}))
            return
    print(json.dumps({"create_to_running_ms": summary(first), "run_total_ms": summary(total)}))


# ---- figure 3: many pods ----------------------------------------------------------------

def count_running(api):
    st, body = api.get("/pods")
    items = json.loads(body).get("items") or []
    return sum(1 for p in items if p["metadata"].get("labels", {}).get("bench") == "scale"
               and all_running(p, 1))


def cmd_scale(args):
    """Drops N pods at once; waits until all run; idle RSS/CPU; shims' RSS.
    Leaves the pods running (scale-down is a separate step)."""
    n, stage = int(args[0]), args[1]
    api = Api(os.environ["KD_SOCK"])
    mdir, pid, run_dir = os.environ["KD_MANIFESTS"], int(os.environ["KD_PID"]), os.environ["KD_RUN"]
    os.makedirs(stage, exist_ok=True)
    names = ["scale-%d" % i for i in range(n)]
    for name in names:
        with open(os.path.join(stage, name + ".yaml"), "w") as f:
            f.write(pod_yaml(name, 1, None, ["/bin/kd-payload", "sleep", "3600"]).replace(
                "bench: kubeletd", "bench: scale"))
    t0 = time.monotonic()
    for name in names:
        os.rename(os.path.join(stage, name + ".yaml"), os.path.join(mdir, name + ".yaml"))
    bound = 60 + n * 0.5
    seen = 0
    peak_rss = 0
    slowest_get = 0.0
    at_60 = None
    api.timeout = 5
    while time.monotonic() - t0 < bound:
        a = time.monotonic()
        try:
            seen = count_running(api)
        except (OSError, ConnectionError):
            pass  # a GET that took over 5 s: the slowest_get below shows it
        slowest_get = max(slowest_get, time.monotonic() - a)
        peak_rss = max(peak_rss, rss_kib(pid))
        if at_60 is None and time.monotonic() - t0 >= 60:
            at_60 = seen
        if seen >= n:
            break
        time.sleep(0.1)
    t_all = time.monotonic() - t0 if seen >= n else None
    time.sleep(5)
    idle = idle_figures(pid, 10)
    shims = [rss_kib(p) for p in shim_pids(run_dir)]
    shim_sm = [smaps_kib(p) for p in shim_pids(run_dir)]
    print(json.dumps({"pods": n, "running": seen, "all_running_s": round(t_all, 3) if t_all else None,
                      "kubeletd_idle_rss_kib": idle["rss_kib"], "kubeletd_idle_cpu_pct": idle["cpu_pct"],
                      "kubeletd_idle_pss_kib": idle["pss_kib"], "kubeletd_idle_uss_kib": idle["uss_kib"],
                      "kubeletd_idle_rss_anon_kib": idle["rss_anon_kib"],
                      "kubeletd_idle_rss_file_kib": idle["rss_file_kib"],
                      "shims_total_pss_kib": sum(x["pss_kib"] for x in shim_sm),
                      "shims_total_uss_kib": sum(x["uss_kib"] for x in shim_sm),
                      "kubeletd_peak_rss_kib": peak_rss, "shims": len(shims),
                      "slowest_get_pods_during_start_s": round(slowest_get, 3),
                      "running_at_60s": at_60 if at_60 is not None else seen,
                      "shims_total_rss_kib": sum(shims),
                      "shim_rss_kib_p50": statistics.median(shims) if shims else None,
                      "shim_rss_kib_max": max(shims) if shims else None}))


def cmd_scale_down(args):
    n = int(args[0])
    api = Api(os.environ["KD_SOCK"])
    mdir = os.environ["KD_MANIFESTS"]
    t0 = time.monotonic()
    api.timeout = 60
    ok = remove_and_wait(api, mdir, ["scale-%d" % i for i in range(n)], 120 + n * 2)
    print(json.dumps({"pods": n, "all_removed_s": round(time.monotonic() - t0, 3) if ok else None}))


def cmd_idle(args):
    print(json.dumps(idle_figures(int(os.environ["KD_PID"]), float(args[0]))))


def conmon_rss(marker):
    tot, cnt = 0, 0
    for d in glob.glob("/proc/[0-9]*"):
        try:
            with open(d + "/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == b"conmon" and marker.encode() in b" ".join(argv):
            tot += rss_kib(int(d.split("/")[-1]))
            cnt += 1
    return tot, cnt


def cmd_podman_scale(args):
    n, workdir = int(args[0]), args[1]
    pm = shlex.split(os.environ["PODMAN"])
    marker = os.environ["PODMAN_MARKER"]
    path = os.path.join(workdir, "scale-%d.yaml" % n)
    with open(path, "w") as f:
        f.write("---\n".join(pod_yaml("pscale-%d" % i, 1, None, ["/bin/kd-payload", "sleep", "3600"])
                             for i in range(n)))
    t0 = time.monotonic()
    r = subprocess.run(pm + ["kube", "play", path], capture_output=True, text=True, timeout=60 + n * 5)

    def running():
        q = subprocess.run(pm + ["pod", "ps", "--format", "{{.Status}}"], capture_output=True, text=True)
        return q.stdout.split().count("Running")
    seen = 0
    while time.monotonic() - t0 < 60 + n * 5:
        seen = running()
        if seen >= n:
            break
        time.sleep(0.2)
    t_all = time.monotonic() - t0 if seen >= n else None
    time.sleep(3)
    tot, cnt = conmon_rss(marker)
    print(json.dumps({"pods": n, "running": seen, "all_running_s": round(t_all, 3) if t_all else None,
                      "kube_play_rc": r.returncode, "conmon": cnt, "conmon_total_rss_kib": tot,
                      "conmon_rss_kib_per_pod": round(tot / n, 1) if n else None}))


# ---- figure 4: reaction ---------------------------------------------------------------------

def exited_visible(pod):
    if not pod:
        return False
    for c in pod.get("status", {}).get("containerStatuses") or []:
        if c.get("restartCount", 0) >= 1 or "terminated" in c.get("state", {}) \
                or "terminated" in c.get("lastState", {}):
            return True
    return False


def cmd_reaction(args):
    runs = int(args[0])
    api = Api(os.environ["KD_SOCK"])
    mdir, logs = os.environ["KD_MANIFESTS"], os.environ["KD_LOGS"]
    restart, visible = [], []
    for i in range(runs):
        name = "react-%d" % i
        drop(mdir, name, pod_yaml(name, 1, None, ["sh", "-c", "echo start; sleep 1; echo bye; exit 1"]))
        wait(lambda: all_running(api.pod(name), 1), 30, 0.02)
        seen = wait(lambda: exited_visible(api.pod(name)) and time.time(), 10, 0.001)
        time.sleep(0.5)
        a = log_lines(logs, name, "c0", 0)
        b = log_lines(logs, name, "c0", 1)
        byes = [t for t, x in a if x == "bye"]
        if byes and b:
            restart.append((b[0][0] - byes[-1]) * 1000)
        if byes and seen:
            visible.append((seen - byes[-1]) * 1000)
        remove_and_wait(api, mdir, [name])
    print(json.dumps({"first_restart_ms": summary(restart), "status_visible_ms": summary(visible)}))


def cmd_liveness(args):
    runs = int(args[0])
    api = Api(os.environ["KD_SOCK"])
    mdir, logs, klog = os.environ["KD_MANIFESTS"], os.environ["KD_LOGS"], os.environ["KD_LOG"]
    from_unhealthy, from_probe = [], []
    probe = ("    livenessProbe:\n      exec:\n        command: [\"cat\", \"/tmp/healthy\"]\n"
             "      periodSeconds: 1\n      failureThreshold: 1\n      terminationGracePeriodSeconds: 1")
    script = ("trap 'exit 0' TERM; touch /tmp/healthy; echo start; sleep 1; rm /tmp/healthy; "
              "echo unhealthy; sleep 600 & wait")
    for i in range(runs):
        name = "live-%d" % i
        drop(mdir, name, pod_yaml(name, 1, None, ["sh", "-c", script], "", probe))
        wait(lambda: any(c.get("restartCount", 0) >= 1 and "running" in c.get("state", {})
                         for c in ((api.pod(name) or {}).get("status", {}).get("containerStatuses") or [])),
             20, 0.02)
        time.sleep(0.3)
        a = log_lines(logs, name, "c0", 0)
        b = log_lines(logs, name, "c0", 1)
        bad = [t for t, x in a if x == "unhealthy"]
        if bad and b:
            from_unhealthy.append((b[0][0] - bad[-1]) * 1000)
        ev = klog_events(klog, name)
        fail = [t for t, m in ev if "Unhealthy" in m and "iveness" in m]
        start = [t for t, m in ev if "Started container c0" in m]
        if fail and len(start) >= 2:
            later = [t for t in start if t > fail[0]]
            if later:
                from_probe.append((later[0] - fail[0]) * 1000)
        remove_and_wait(api, mdir, [name])
    print(json.dumps({"unhealthy_to_restart_ms": summary(from_unhealthy),
                      "probe_failure_to_restart_ms": summary(from_probe)}))


# ---- report ---------------------------------------------------------------------------------------

def g(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or d.get(k) is None:
            return None
        d = d[k]
    return d


def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        v = ("%.2f" % v) if abs(v) < 100 else ("%.0f" % v)
    return "%s%s" % (v, unit)


def ratio(a, b):
    return round(a / b, 2) if a and b else None


def cmd_report(args):
    res = json.load(open(args[0]))
    rows = []

    def row(fig, what, kd, other="", r=""):
        rows.append((fig, what, kd, other, r))

    for n in (1, 3):
        k = g(res, "podstart", "kubeletd_%d" % n, "ms")
        p = g(res, "podstart", "podman_%d" % n, "ms")
        row("1", "pod start, %d container%s + hostPort (p50 / p99)" % (n, "s" if n > 1 else ""),
            "%s / %s ms" % (fmt(g(k, "p50")), fmt(g(k, "p99"))),
            "podman kube play %s / %s ms" % (fmt(g(p, "p50")), fmt(g(p, "p99"))),
            "%sx" % fmt(ratio(g(p, "p50"), g(k, "p50"))))
    cs = res.get("ctrstart", {})
    rc = g(cs, "runc", "create_to_running_ms", "p50")
    kc = g(cs, "kubeletd", "create_to_running_ms", "p50")
    row("2", "container create -> running in a pod (p50 / p99)",
        "%s / %s ms" % (fmt(kc), fmt(g(cs, "kubeletd", "create_to_running_ms", "p99"))),
        "runc run, to first output %s ms; crun %s" % (fmt(rc), "n/a (%s)" % (
            "hybrid cgroups" if "hybrid" in cs["crun_error"] else cs["crun_error"][:40]) if cs.get("crun_error")
                                      else fmt(g(cs, "crun", "create_to_running_ms", "p50")) + " ms"),
        "%sx" % fmt(ratio(rc, kc)))
    row("2", "previous container exit -> next one's first output (p50)",
        "%s ms" % fmt(g(cs, "kubeletd", "handoff_ms", "p50")), "", "")
    sd = cs.get("shim_direct") or {}
    if sd.get("create_to_running_ms"):
        row("2", "kubeletd-shim alone: create -> running (p50 / p99)",
            "%s / %s ms" % (fmt(g(sd, "create_to_running_ms", "p50")), fmt(g(sd, "create_to_running_ms", "p99"))),
            "%s run of /bin/true %s ms (shim: %s ms)" % (sd.get("runtime", "runtime"),
                                                        fmt(g(sd, "runtime_run_true_ms", "p50")),
                                                        fmt(g(sd, "create_to_exited_true_ms", "p50"))),
            "%sx" % fmt(ratio(g(sd, "runtime_run_true_ms", "p50"), g(sd, "create_to_exited_true_ms", "p50"))))
    for s in res.get("scale", []):
        n = s["pods"]
        pm = next((x for x in res.get("podman_scale", []) if x["pods"] == n), None)
        row("3", "%d pods dropped at once -> all Running" % n, "%s s" % fmt(s.get("all_running_s")),
            "podman %s s" % fmt(g(pm, "all_running_s")) if pm else "podman not run",
            "%sx" % fmt(ratio(g(pm, "all_running_s"), s.get("all_running_s"))) if pm else "")
        row("3", "  kubeletd idle RSS (PSS, private) / CPU with %d pods" % n,
            "%.1f MiB (%.1f, %.1f) / %s%%" % (s["kubeletd_idle_rss_kib"] / 1024, s.get("kubeletd_idle_pss_kib", 0) / 1024,
                                           s.get("kubeletd_idle_uss_kib", 0) / 1024, fmt(s["kubeletd_idle_cpu_pct"])),
            "", "")
        shim_mib = s["shims_total_rss_kib"] / 1024
        row("3", "  shims: total RSS (per pod p50 / max)",
            "%.1f MiB (%s / %s KiB)" % (shim_mib, fmt(s.get("shim_rss_kib_p50")), fmt(s.get("shim_rss_kib_max"))),
            "conmon %.1f MiB (%s KiB/pod)" % (pm["conmon_total_rss_kib"] / 1024, fmt(pm["conmon_rss_kib_per_pod"]))
            if pm else "",
            "%sx" % fmt(ratio(pm["conmon_rss_kib_per_pod"], s["shims_total_rss_kib"] / n)) if pm else "")
    idle0 = res.get("idle_no_pods")
    if idle0:
        row("3", "kubeletd idle RSS (PSS, private) / CPU, no pods",
            "%.1f MiB (%.1f, %.1f) / %s%%" % (idle0["rss_kib"] / 1024, idle0.get("pss_kib", 0) / 1024,
                                           idle0.get("uss_kib", 0) / 1024, fmt(idle0["cpu_pct"])), "", "")
    re_ = res.get("reaction", {})
    row("4", "container exit -> restarted (first restart, p50 / p99)",
        "%s / %s ms" % (fmt(g(re_, "first_restart_ms", "p50")), fmt(g(re_, "first_restart_ms", "p99"))), "", "")
    row("4", "container exit -> visible on the socket (p50 / p99)",
        "%s / %s ms" % (fmt(g(re_, "status_visible_ms", "p50")), fmt(g(re_, "status_visible_ms", "p99"))), "", "")
    lv = res.get("liveness", {})
    row("4", "liveness failure -> restarted (p50)",
        "%s ms (unhealthy -> restart %s ms)" % (fmt(g(lv, "probe_failure_to_restart_ms", "p50")),
                                               fmt(g(lv, "unhealthy_to_restart_ms", "p50"))),
        "podman: no probes without systemd", "")
    api = res.get("api", {})
    if api:
        row("5", "GET /pods with %s pods, %s clients x %s (p50 / p99)" % (api.get("pods"), api.get("clients"),
                                                                        api.get("requests")),
            "%s / %s ms" % (fmt(api.get("p50_ms")), fmt(api.get("p99_ms"))),
            "%s req/s, %s errors" % (fmt(api.get("rps")), api.get("errors")), "")
    pull = res.get("pull", {})
    if pull:
        row("6", "image pull + unpack (%s MB)" % fmt(pull.get("mb")), "%s MB/s" % fmt(pull.get("kubeletd_mbps")),
            "skopeo+umoci %s MB/s" % fmt(pull.get("skopeo_umoci_mbps")), "%sx" % fmt(pull.get("ratio")))

    w = [max(len(str(r[i])) for r in rows + [("fig", "figure", "kubeletd", "comparison", "ratio")])
         for i in range(5)]
    line = "  ".join("%-*s" % (w[i], h) for i, h in enumerate(("fig", "figure", "kubeletd", "comparison", "ratio")))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join("%-*s" % (w[i], r[i]) for i in range(5)))

    # the budget
    print()
    budget = []

    def check(what, value, limit, ok):
        budget.append({"check": what, "value": value, "limit": limit,
                       "pass": bool(ok) if value is not None else False})
        print("%-4s %-52s %s (budget %s)" % ("PASS" if (value is not None and ok) else "FAIL", what,
                                             fmt(value), limit))
    v = g(res, "idle_no_pods", "rss_kib")
    check("kubeletd idle RSS, no pods (MiB)", round(v / 1024, 2) if v else None, "< 8", v and v < 8 * 1024)
    s500 = next((x for x in res.get("scale", []) if x["pods"] == 500), None)
    v = g(s500, "kubeletd_idle_rss_kib")
    check("kubeletd idle RSS, 500 pods (MiB)", round(v / 1024, 2) if v else None, "< 32", v and v < 32 * 1024)
    shim_max = [x["shim_rss_kib_max"] for x in res.get("scale", []) if x.get("shim_rss_kib_max")]
    v = max(shim_max) if shim_max else None
    check("shim RSS, largest (KiB)", v, "< 1024", v and v < 1024)
    k, p = g(res, "podstart", "kubeletd_1", "ms", "p50"), g(res, "podstart", "podman_1", "ms", "p50")
    check("pod start p50, podman / kubeletd (1 container)", ratio(p, k), ">= 3x", ratio(p, k) and ratio(p, k) >= 3)
    k, p = g(res, "podstart", "kubeletd_3", "ms", "p50"), g(res, "podstart", "podman_3", "ms", "p50")
    check("pod start p50, podman / kubeletd (3 containers)", ratio(p, k), ">= 3x", ratio(p, k) and ratio(p, k) >= 3)
    v = g(re_, "first_restart_ms", "p50")
    check("first restart after exit, p50 (ms)", v, "<= 50", v is not None and v <= 50)
    v = g(re_, "status_visible_ms", "p50")
    check("exit visible on the socket, p50 (ms)", v, "<= 10", v is not None and v <= 10)
    v = g(s500, "all_running_s")
    check("500 pods all Running (s)", v, "<= 60", v is not None and v <= 60)
    v = api.get("p99_ms") if api and api.get("pods") == 500 else None
    check("GET /pods p99 with 500 pods (ms)", v, "< 50", v is not None and v < 50)
    res["budget"] = budget
    with open(args[0], "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")


def cmd_merge(args):
    """merge RESULTS KEY.PATH FILE: sets RESULTS[KEY...] to FILE's JSON
    (KEY ending in [] appends)."""
    path, key, src = args
    res = json.load(open(path)) if os.path.exists(path) else {}
    val = json.load(open(src))
    d = res
    keys = key.split(".")
    for k in keys[:-1]:
        d = d.setdefault(k, {})
    if keys[-1].endswith("[]"):
        d.setdefault(keys[-1][:-2], []).append(val)
    else:
        d[keys[-1]] = val
    with open(path, "w") as f:
        json.dump(res, f, indent=2)


def cmd_chart_data(args):
    """Data for the chart: pods, kubeletd s, podman s, kubeletd MiB, podman MiB."""
    res = json.load(open(args[0]))
    k1 = g(res, "podstart", "kubeletd_1", "ms", "p50")
    p1 = g(res, "podstart", "podman_1", "ms", "p50")
    idle0 = g(res, "idle_no_pods", "rss_kib") or 0
    print("# pods kd_start_s podman_start_s kd_mem_mib podman_mem_mib")
    print("1 %s %s %s ?" % (k1 / 1000 if k1 else "?", p1 / 1000 if p1 else "?", "?"))
    for s in res.get("scale", []):
        n = s["pods"]
        pm = next((x for x in res.get("podman_scale", []) if x["pods"] == n), None)
        kd_mem = (s["kubeletd_idle_rss_kib"] + s["shims_total_rss_kib"]) / 1024
        print("%d %s %s %.2f %s" % (n, s.get("all_running_s") or "?", g(pm, "all_running_s") or "?", kd_mem,
                                    "%.2f" % (pm["conmon_total_rss_kib"] / 1024) if pm else "?"))
    _ = idle0


def cmd_parse_cstart(args):
    """The table of tests/bench/container_start.sh as JSON (only the lines
    it recognises)."""
    t = open(args[0]).read()
    out = {}
    num = r"\s+([\d.]+)\s+([\d.]+)"
    for key, pat in (("create_to_running_ms", r"kubeletd-shim create -> running" + num),
                     ("create_to_exited_true_ms", r"kubeletd-shim create -> exited \(true\)" + num),
                     ("host_true_ms", r"/bin/true \(fork\+exec\+wait\)" + num),
                     ("runtime_run_true_ms", r"(?:crun|runc) run /bin/true \(create -> exited\)" + num)):
        m = re.search(pat, t)
        if m:
            out[key] = {"p50": float(m.group(1)), "p99": float(m.group(2))}
    m = re.search(r"(crun|runc) run /bin/true", t)
    if m:
        out["runtime"] = m.group(1)
    m = re.search(r"shim RSS over (\d+) pods.*median (\d+) KiB, max (\d+) KiB", t)
    if m:
        out["shim_rss_kib"] = {"pods": int(m.group(1)), "p50": int(m.group(2)), "max": int(m.group(3))}
    print(json.dumps(out))


CMDS = {"parse-cstart": cmd_parse_cstart, "podstart": cmd_podstart, "podman-podstart": cmd_podman_podstart, "ctrstart": cmd_ctrstart,
        "runtime-start": cmd_runtime_start, "scale": cmd_scale, "scale-down": cmd_scale_down,
        "idle": cmd_idle, "podman-scale": cmd_podman_scale, "reaction": cmd_reaction,
        "liveness": cmd_liveness, "report": cmd_report, "merge": cmd_merge, "chart-data": cmd_chart_data}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in CMDS:
        print("usage: bench.py {%s} ARGS..." % "|".join(CMDS), file=sys.stderr)
        sys.exit(2)
    CMDS[sys.argv[1]](sys.argv[2:])
