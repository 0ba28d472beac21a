#!/usr/bin/env bash
# A private OCI registry for tests: Debian's docker-registry on 127.0.0.1 with
# a free port, its own config and storage in a temp directory, and skopeo to
# push OCI layouts into it.
#
# Sourced from a test script:
#   . tests/lib/registry.sh
#   start_registry [HTPASSWD_FILE]   # exports KD_REGISTRY=127.0.0.1:PORT,
#                                    # KD_REGISTRY_STORAGE, KD_REGISTRY_PID, KD_REGISTRY_DIR
#   push_layout LAYOUT REF_NAME "$KD_REGISTRY/test/busybox:1.35" [oci|v2s2]
#   stop_registry                    # also done on exit
#
# Run as a command (for test programs in C, which cannot keep exported
# variables): everything lives in DIR, which must not exist yet:
#   registry.sh start DIR [HTPASSWD_FILE]   prints 127.0.0.1:PORT; DIR/addr, DIR/pid,
#                                          DIR/storage; stopped and DIR removed when
#                                          $KD_REGISTRY_OWNER_PID (default: the caller) exits
#   registry.sh stop DIR
#   registry.sh push LAYOUT REF_NAME DEST [oci|v2s2]
#   registry.sh push-index LAYOUT_A LAYOUT_B DEST      a multi-platform index of two layouts
#   registry.sh htpasswd FILE USER PASSWORD            bcrypt (exit 77: no bcrypt tool)
#   registry.sh token-proxy DIR UPSTREAM_ADDR [USER:PASS]
#                                          a Bearer-token front (tests/lib/token-proxy.py)
#                                          for a registry; prints its 127.0.0.1:PORT
#
# Every registry started here dies with its owner: a watchdog process stops it
# and removes its directory when the owner process is gone, even after a crash.

KD_REGISTRY_BIN=${KD_REGISTRY_BIN:-/usr/bin/docker-registry}

_registry_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

_registry_config() { # DIR PORT [HTPASSWD]
  local dir=$1 port=$2 htpasswd=${3:-}
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: kubeletd-test-secret
EOF
  if [ -n "$htpasswd" ]; then
    cat >>"$dir/config.yml" <<EOF
auth:
  htpasswd:
    realm: kubeletd-test
    path: $htpasswd
EOF
  fi
}

# registry_start DIR [HTPASSWD]: see the header.
registry_start() {
  local dir=$1 htpasswd=${2:-} owner=${KD_REGISTRY_OWNER_PID:-$PPID} port pid code attempt
  [ -x "$KD_REGISTRY_BIN" ] || { echo "registry.sh: $KD_REGISTRY_BIN not found" >&2; return 77; }
  mkdir "$dir" || return 1
  mkdir -p "$dir/storage"
  for attempt in 1 2 3 4 5; do
    port=$(_registry_free_port)
    _registry_config "$dir" "$port" "$htpasswd"
    setsid "$KD_REGISTRY_BIN" serve "$dir/config.yml" </dev/null >"$dir/registry.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/pid"
    for _ in $(seq 100); do
      code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" 2>/dev/null || true)
      case $code in 200 | 401) break ;; esac
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    case $code in 200 | 401) break ;; esac
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=""
    # Someone else took the port between our probe and the registry's bind.
    grep -q 'address already in use' "$dir/registry.log" || break
  done
  if [ -z "$pid" ]; then
    echo "registry.sh: docker-registry did not start:" >&2
    cat "$dir/registry.log" >&2
    rm -rf "$dir"
    return 1
  fi
  echo "127.0.0.1:$port" >"$dir/addr"
  # The watchdog: stops the registry and removes DIR once the owner is gone.
  _registry_watchdog "$dir" "$pid" "$owner"
  echo "127.0.0.1:$port"
}

_registry_watchdog() { # DIR PID OWNER
  local dir=$1 pid=$2 owner=$3
  (
    trap '' HUP
    while kill -0 "$owner" 2>/dev/null && [ -f "$dir/pid" ]; do sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null
    rm -rf "$dir"
    # start_registry's private parent folder, once empty
    case $(dirname "$dir") in /tmp/kd-registry.*) rmdir "$(dirname "$dir")" ;; esac
  ) </dev/null >/dev/null 2>&1 &
  echo $! >"$dir/watchdog"
}

# registry_token_proxy DIR UPSTREAM_ADDR [USER:PASS]: see the header.
registry_token_proxy() {
  local dir=$1 upstream=$2 creds=${3:-} owner=${KD_REGISTRY_OWNER_PID:-$PPID} pid port=""
  mkdir "$dir" || return 1
  setsid python3 "$(dirname "${BASH_SOURCE[0]}")/token-proxy.py" "http://$upstream" $creds \
    </dev/null >"$dir/port" 2>"$dir/proxy.log" &
  pid=$!
  echo "$pid" >"$dir/pid"
  for _ in $(seq 100); do
    port=$(head -n1 "$dir/port" 2>/dev/null)
    [ -n "$port" ] && break
    sleep 0.05
  done
  if [ -z "$port" ]; then
    echo "registry.sh: token-proxy did not start:" >&2
    cat "$dir/proxy.log" >&2
    kill -KILL "$pid" 2>/dev/null
    rm -rf "$dir"
    return 1
  fi
  echo "127.0.0.1:$port" >"$dir/addr"
  _registry_watchdog "$dir" "$pid" "$owner"
  echo "127.0.0.1:$port"
}

registry_stop() {
  local dir=$1 pid
  [ -d "$dir" ] || return 0
  if [ -f "$dir/pid" ]; then
    pid=$(cat "$dir/pid")
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null
  fi
  [ -f "$dir/watchdog" ] && kill -KILL "$(cat "$dir/watchdog")" 2>/dev/null
  rm -rf "$dir"
  return 0
}

# push_layout LAYOUT REF_NAME DEST [oci|v2s2]: the image named REF_NAME in the
# layout's index.json, pushed to DEST (host:port/name:tag) as an OCI manifest
# or converted to Docker schema2. KD_PUSH_CREDS=user:pass for a registry
# with auth.
push_layout() {
  local layout=$1 name=$2 dest=$3 format=${4:-oci} args=()
  [ "$format" = v2s2 ] && args=(--format v2s2)
  [ -n "${KD_PUSH_CREDS:-}" ] && args+=(--dest-creds "$KD_PUSH_CREDS")
  skopeo copy -q --dest-tls-verify=false "${args[@]}" "oci:$layout:$name" "docker://$dest" >&2
}

# push_index LAYOUT_A LAYOUT_B DEST: one index (an OCI image index) over the
# single images of two layouts, platforms taken from their configs.
push_index() {
  local a=$1 b=$2 dest=$3 work entries="" l m msize cfg arch variant platform idx isize
  work=$(mktemp -d)
  mkdir -p "$work/blobs/sha256"
  for l in "$a" "$b"; do
    cp -n "$l"/blobs/sha256/* "$work/blobs/sha256/"
    m=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$l/index.json")
    msize=$(stat -c %s "$l/blobs/sha256/${m#sha256:}")
    cfg=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["digest"])' "$l/blobs/sha256/${m#sha256:}")
    arch=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["architecture"])' "$l/blobs/sha256/${cfg#sha256:}")
    variant=""
    [ "$arch" = arm64 ] && variant=',"variant":"v8"'
    platform="{\"architecture\":\"$arch\",\"os\":\"linux\"$variant}"
    entries="$entries${entries:+,}{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"$m\",\"size\":$msize,\"platform\":$platform}"
  done
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}' "$entries" >"$work/idx.json"
  idx=$(sha256sum "$work/idx.json" | cut -d' ' -f1)
  isize=$(stat -c %s "$work/idx.json")
  mv "$work/idx.json" "$work/blobs/sha256/$idx"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"multi"}}]}' \
    "$idx" "$isize" >"$work/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci-layout"
  if ! skopeo copy -q --all --dest-tls-verify=false "oci:$work:multi" "docker://$dest" >&2; then
    # Without skopeo's --all: each image by itself, then the index by hand.
    local repo=${dest%:*} tag=${dest##*:} host=${dest%%/*} name
    name=${repo#*/}
    for l in "$a" "$b"; do
      skopeo copy -q --dest-tls-verify=false "oci:$l:$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"])' "$l/index.json")" "docker://$repo:tmp-$RANDOM" >&2 || { rm -rf "$work"; return 1; }
    done
    curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
      --data-binary "@$work/blobs/sha256/$idx" "http://$host/v2/$name/manifests/$tag" >&2 || { rm -rf "$work"; return 1; }
  fi
  rm -rf "$work"
  echo "sha256:$idx"
}

# make_htpasswd FILE USER PASSWORD: a bcrypt entry (docker-registry accepts
# no other hash). Returns 77 when neither htpasswd nor python3's crypt can.
make_htpasswd() {
  local file=$1 user=$2 pass=$3 hash
  if command -v htpasswd >/dev/null 2>&1; then
    htpasswd -nbB "$user" "$pass" | head -n1 >"$file" && return 0
  fi
  hash=$(python3 -W ignore -c 'import crypt,sys; h=crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)); print(h if h and h.startswith("$2") else "")' "$pass" 2>/dev/null)
  [ -n "$hash" ] || { echo "registry.sh: no bcrypt tool (htpasswd or python3 crypt)" >&2; return 77; }
  echo "$user:$hash" >"$file"
}

# ---- the sourced API ------------------------------------------------------------

start_registry() {
  local base
  base=$(mktemp -d /tmp/kd-registry.XXXXXX)
  KD_REGISTRY_OWNER_PID=$$ KD_REGISTRY=$(registry_start "$base/r" "${1:-}") || { rm -rf "$base"; return 1; }
  KD_REGISTRY_DIR=$base/r
  KD_REGISTRY_STORAGE=$base/r/storage
  KD_REGISTRY_PID=$(cat "$base/r/pid")
  _KD_REGISTRY_BASES="${_KD_REGISTRY_BASES:-} $base"
  export KD_REGISTRY KD_REGISTRY_DIR KD_REGISTRY_STORAGE KD_REGISTRY_PID
  # Keep the caller's own EXIT trap; the watchdog cleans up in any case.
  [ -n "$(trap -p EXIT)" ] || trap stop_registry EXIT
}

stop_registry() {
  local b
  for b in ${_KD_REGISTRY_BASES:-}; do
    registry_stop "$b/r"
    rm -rf "$b"
  done
  _KD_REGISTRY_BASES=""
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  cmd=${1:-}
  shift || true
  case $cmd in
    start) registry_start "$@" ;;
    stop) registry_stop "$@" ;;
    push) push_layout "$@" ;;
    push-index) push_index "$@" ;;
    htpasswd) make_htpasswd "$@" ;;
    token-proxy) registry_token_proxy "$@" ;;
    *) echo "usage: registry.sh start|stop|push|push-index|htpasswd ..." >&2; exit 2 ;;
  esac
fi
