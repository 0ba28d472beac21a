# shellcheck shell=bash
# Helpers of the benchmark suite (tests/bench/run): a private podman and the
# small conversions the suite needs. Sourced after tests/e2e/lib.sh.

PM_DIR=""
PODMAN=""
PM_HOST_DIRS=""

# pm_setup DIR: a podman that only uses DIR: its containers.conf (runc, the
# cgroupfs manager, a file events logger, ulimits within the hard limits,
# networks and temp files under DIR), --root and --runroot under DIR. The
# host's own configuration and storage are never read nor written.
pm_setup() {
  PM_DIR=$1
  # netavark keeps its state in /run/containers/networks and podman runs runc
  # with /run/runc whatever the configuration says: remember which of them
  # this run creates, so that pm_cleanup removes them again.
  local d
  PM_HOST_DIRS=""
  for d in /run/containers /run/runc; do
    [ -e "$d" ] || PM_HOST_DIRS="$PM_HOST_DIRS $d"
  done
  mkdir -p "$PM_DIR/root" "$PM_DIR/runroot" "$PM_DIR/tmp" "$PM_DIR/networks" "$PM_DIR/work"
  cat >"$PM_DIR/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
events_logger = "file"
events_logfile_path = "$PM_DIR/events.log"
cgroup_manager = "cgroupfs"
tmp_dir = "$PM_DIR/tmp"
[network]
network_config_dir = "$PM_DIR/networks"
CONF
  export CONTAINERS_CONF=$PM_DIR/containers.conf
  PODMAN="podman --root $PM_DIR/root --runroot $PM_DIR/runroot --storage-driver overlay"
  export PODMAN PODMAN_MARKER=$PM_DIR
}

# pm_load LAYOUT REF: the image of an OCI layout, tagged REF.
# podman names an image pulled from oci:DIR after DIR, which must then be
# lowercase: the layout is copied to such a path first.
pm_load() {
  local id dir=/tmp/kdbench-oci-$$
  rm -rf "$dir"
  cp -r "$1" "$dir"
  id=$($PODMAN pull -q "oci:$dir:$2" | tail -n 1)
  rm -rf "$dir"
  $PODMAN tag "$id" "$2"
}

# pm_cleanup: removes every pod and container of the private podman, its
# mounts and its directory (bounded: podman calls time out).
pm_cleanup() {
  [ -n "$PM_DIR" ] && [ -d "$PM_DIR" ] || return 0
  local p d
  set +e
  timeout 300 $PODMAN pod rm -af -t 0 >/dev/null 2>&1
  timeout 120 $PODMAN rm -af -t 0 >/dev/null 2>&1
  for p in $(pgrep -x conmon); do
    tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | grep -q -- "$PM_DIR" && kill -KILL "$p" 2>/dev/null
  done
  grep " $PM_DIR" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null
  done
  rm -rf "$PM_DIR"
  PM_DIR=""
  for d in $PM_HOST_DIRS; do
    case $d in
      /run/runc) rmdir "$d" 2>/dev/null ;; # only if no container is left in it
      *) rm -rf "$d" ;;
    esac
  done
  PM_HOST_DIRS=""
}

# bench_sweep_cni CIDR: removes the NAT chains the CNI bridge plugin made for
# pods of CIDR (the suite's own /20) that a failed teardown left behind.
bench_sweep_cni() {
  local cidr=$1 c line
  [ -n "$cidr" ] || return 0
  for c in $(iptables-save -t nat 2>/dev/null | awk -v d="$cidr" '$1 == "-A" && $2 ~ /^CNI-/ && $3 == "-d" && $4 == d {print $2}' | sort -u); do
    iptables-save -t nat | grep -E -- "^-A POSTROUTING .*-j $c\$" | while read -r line; do
      eval "iptables -t nat -D POSTROUTING ${line#-A POSTROUTING }"
    done
    iptables -t nat -F "$c" && iptables -t nat -X "$c"
  done 2>/dev/null
}

# bench_json FILE: fails unless FILE holds one JSON value.
bench_json() {
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null
}

bench_log() {
  printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}
