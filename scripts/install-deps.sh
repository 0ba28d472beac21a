#!/usr/bin/env bash
# Installs every Debian 12 package kubeletd needs to build, test and run.
# Idempotent: when everything is present it changes nothing and asks no mirror.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
  libuv1-dev libyaml-dev libjansson-dev libseccomp-dev libcurl4-openssl-dev
  libarchive-dev libssl-dev libhttp-parser-dev libcap-dev libcmocka-dev libnghttp2-dev nettle-dev
  # run
  containernetworking-plugins iptables iproute2
  # tests and the demo image
  busybox-static docker-registry skopeo curl jq python3
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
