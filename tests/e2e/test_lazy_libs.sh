#!/usr/bin/env bash
# The heavy libraries are opened at first use (pkg/lazy): an idle kubeletd
# maps neither libcurl nor libarchive (nor OpenSSL: digests are nettle's);
# an image import maps libarchive (and still not libcurl nor libcrypto); an
# httpGet probe maps libcurl. The daemon works the same before and after.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }

mapped() { # mapped LIB: is a shared object named LIB* in kubeletd's maps?
  grep -q "/$1[.-]" "/proc/$KD_PID/maps"
}

kd_setup
kd_start
for lib in libcurl libarchive libcrypto libgnutls libxml2; do
  ! mapped "$lib" || kd_fail "idle kubeletd already maps $lib"
done
kd_curl /pods | jq -e '.items == []' >/dev/null || kd_fail "no empty PodList"

kd_import_test_image
mapped libarchive || kd_fail "an import did not map libarchive"
! mapped libcurl || kd_fail "an import mapped libcurl"
! mapped libcrypto || kd_fail "an import mapped libcrypto"

cat >"$KD_TMP/manifests/web.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: kubeletd.local/payload:1.0
    imagePullPolicy: Never
    command: [/bin/kd-payload, serve-http, "8080"]
    readinessProbe:
      httpGet: {path: /, port: 8080}
      periodSeconds: 1
Y
kd_wait_jq 30 web '.status.containerStatuses[0].ready == true' || kd_fail "web never became ready"
mapped libcurl || kd_fail "an httpGet probe did not map libcurl"
rm "$KD_TMP/manifests/web.yaml"
kd_wait_for 30 eval '[ "$(kd_curl /pods | jq ".items | length")" = 0 ]' || kd_fail "web was not removed"
kd_stop || kd_fail "kubeletd exited non-zero"
echo PASS
