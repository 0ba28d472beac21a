#!/bin/bash
# Images end to end, against Debian's docker-registry on 127.0.0.1: pull,
# images, one shared pull for two concurrent requests, history, inspect,
# rmi, import of an OCI layout and of a docker save tar, the error of an
# unknown tag, and a non-root client refused.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (the image API changes need a root peer)" >&2; exit 77; }
for tool in jq skopeo setpriv busybox; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is needed" >&2; exit 77; }
done
[ -x /usr/bin/docker-registry ] || { echo "SKIP: docker-registry is needed" >&2; exit 77; }

kd_setup
# Our EXIT trap is set: registry.sh keeps it, its watchdog stops the registry.
. "$KD_SOURCE_DIR/tests/lib/registry.sh"
start_registry

CTL_RC=0
OUT=$KD_TMP/out
ERR=$KD_TMP/err
# run_ctl ARGS...: kubeletctl with stdout in $OUT, stderr in $ERR, status in $CTL_RC.
run_ctl() {
  CTL_RC=0
  "$KUBELETCTL" --socket "$KD_SOCK" "$@" >"$OUT" 2>"$ERR" || CTL_RC=$?
}
expect_ok() {
  run_ctl "$@"
  [ "$CTL_RC" = 0 ] || kd_fail "kubeletctl $*: exit $CTL_RC: $(cat "$ERR")"
}
expect_fail() { # MESSAGE_PART ARGS...
  local want=$1
  shift
  run_ctl "$@"
  [ "$CTL_RC" = 1 ] || kd_fail "kubeletctl $*: expected exit 1, got $CTL_RC"
  grep -q '^error: ' "$ERR" || kd_fail "kubeletctl $*: no 'error:' line: $(cat "$ERR")"
  grep -qF -- "$want" "$ERR" || kd_fail "kubeletctl $*: expected [$want] in: $(cat "$ERR")"
}

# ---- images in the registry ------------------------------------------------------
BB=$KD_TMP/busybox-oci
"$KD_SOURCE_DIR/tests/images/make-busybox-oci.sh" "$BB" kubeletd.local/busybox:1.35 >/dev/null
push_layout "$BB" kubeletd.local/busybox:1.35 "$KD_REGISTRY/test/busybox:1.35"
BB_MANIFEST=$(jq -r '.manifests[0].digest' "$BB/index.json")
BB_CONFIG=$(jq -r '.config.digest' "$BB/blobs/sha256/${BB_MANIFEST#sha256:}")
# Big enough that a second request arrives while the first pull runs.
BIG=$KD_TMP/big-oci
"$KD_SOURCE_DIR/tests/images/make-random-oci.sh" "$BIG" 48 big >/dev/null
push_layout "$BIG" big "$KD_REGISTRY/test/big:1"
BB_DIFF=$(jq -r '.rootfs.diff_ids[0]' "$BB/blobs/sha256/${BB_CONFIG#sha256:}")
BIG_MANIFEST=$(jq -r '.manifests[0].digest' "$BIG/index.json")
BIG_CONFIG=$(jq -r '.config.digest' "$BIG/blobs/sha256/${BIG_MANIFEST#sha256:}")
BIG_DIFF=$(jq -r '.rootfs.diff_ids[0]' "$BIG/blobs/sha256/${BIG_CONFIG#sha256:}")

kd_start --insecure-registry "$KD_REGISTRY"

# ---- pull, images ---------------------------------------------------------------
REF=$KD_REGISTRY/test/busybox:1.35
expect_ok pull "$REF"
grep -qx "Digest: $BB_MANIFEST" "$OUT" || kd_fail "pull: no digest line: $(cat "$OUT")"
kd_assert_eq "$REF" "$(tail -n1 "$OUT")" "pull: last line"

expect_ok images
head -n1 "$OUT" | grep -qE '^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$' || kd_fail "images header: $(head -n1 "$OUT")"
grep -qE "^$KD_REGISTRY/test/busybox +1\.35 +${BB_CONFIG:7:12} +N/A +[0-9.]+[kM]B$" "$OUT" ||
  kd_fail "images: no busybox row: $(cat "$OUT")"
expect_ok images -q
kd_assert_eq "${BB_CONFIG:7:12}" "$(cat "$OUT")" "images -q"
expect_ok images --digests --no-trunc
grep -qF "$BB_MANIFEST   $BB_CONFIG" "$OUT" || kd_fail "images --digests --no-trunc: $(cat "$OUT")"
kd_assert_eq "$BB_CONFIG" "$(kd_curl /images | jq -r '.[0].id')" "GET /images id"

# ---- two concurrent pulls of one reference make one pull ---------------------------
BIGREF=$KD_REGISTRY/test/big:1
"$KUBELETCTL" --socket "$KD_SOCK" pull -q "$BIGREF" >"$KD_TMP/p1" 2>&1 &
P1=$!
kd_wait_for 10 sh -c "curl -sS --unix-socket '$KD_SOCK' http://localhost/images/pulls | grep -q '\"$BIGREF\"'" ||
  kd_fail "GET /images/pulls never showed the pull"
kd_curl /images/pulls | jq -e --arg r "$BIGREF" '.[] | select(.ref == $r and .kind == "pull" and .bytesTotal > 0)' >/dev/null ||
  kd_fail "GET /images/pulls: no progress: $(kd_curl /images/pulls)"
"$KUBELETCTL" --socket "$KD_SOCK" pull -q "$BIGREF" >"$KD_TMP/p2" 2>&1 &
P2=$!
wait "$P1" || kd_fail "first concurrent pull failed: $(cat "$KD_TMP/p1")"
wait "$P2" || kd_fail "second concurrent pull failed: $(cat "$KD_TMP/p2")"
kd_assert_eq "$BIGREF" "$(cat "$KD_TMP/p1")" "first concurrent pull"
kd_assert_eq "$BIGREF" "$(cat "$KD_TMP/p2")" "second concurrent pull"
n=$(grep -c "pulling image $BIGREF\$" "$KD_TMP/kubeletd.log" || true)
kd_assert_eq 1 "$n" "pulls started for $BIGREF"
grep -q "pull of $BIGREF in flight: waiting for it" "$KD_TMP/kubeletd.log" || kd_fail "the second request did not join the pull"
kd_assert_eq "[]" "$(kd_curl /images/pulls | jq -c .)" "no pull in flight afterwards"

# ---- history, inspect --------------------------------------------------------------
expect_ok history "$REF"
head -n1 "$OUT" | grep -qE '^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$' || kd_fail "history header: $(cat "$OUT")"
grep -qE "^${BB_CONFIG:7:12} +N/A +make-busybox-oci.sh: busybox-static rootfs +[0-9.]+[kM]B" "$OUT" ||
  kd_fail "history row: $(cat "$OUT")"
expect_ok inspect "$REF"
kd_assert_eq "$BB_CONFIG" "$(jq -r '.[0].id' "$OUT")" "inspect id"
kd_assert_eq "$BB_MANIFEST" "$(jq -r '.[0].manifestDigest' "$OUT")" "inspect manifest digest"
kd_assert_eq '["sh"]' "$(jq -c '.[0].config.config.Cmd' "$OUT")" "inspect Cmd"
expect_fail "No such image: nosuch:1" inspect nosuch:1

# ---- a pull that fails names the cause and stores nothing ----------------------------
expect_fail "manifest unknown" pull "$KD_REGISTRY/test/busybox:nope"
expect_fail "invalid reference format" pull "Not/A/Valid:Ref:x"
expect_ok images -q
kd_assert_eq 2 "$(wc -l <"$OUT")" "images after the failed pulls"

# ---- rmi ---------------------------------------------------------------------------
[ -d "$KD_TMP/root/images/layers/${BIG_DIFF#sha256:}" ] || kd_fail "the layer of $BIGREF is not unpacked"
expect_ok rmi "$BIGREF"
grep -qx "Untagged: $BIGREF" "$OUT" || kd_fail "rmi: $(cat "$OUT")"
grep -q '^Deleted: sha256:' "$OUT" || kd_fail "rmi: nothing deleted: $(cat "$OUT")"
expect_fail "No such image: $BIGREF" rmi "$BIGREF"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE --unix-socket "$KD_SOCK" "http://localhost/images/nosuch%3A1")
kd_assert_eq 404 "$code" "DELETE of an unknown image"
[ ! -e "$KD_TMP/root/images/layers/${BIG_DIFF#sha256:}" ] || kd_fail "rmi left the layer of $BIGREF behind"
[ -d "$KD_TMP/root/images/layers/${BB_DIFF#sha256:}" ] || kd_fail "rmi of $BIGREF removed another image's layer"

# ---- import: an OCI layout directory and a docker save tar -----------------------------
expect_ok rmi "$REF"
expect_ok image import "$BB"
kd_assert_eq "Loaded image: kubeletd.local/busybox:1.35" "$(cat "$OUT")" "import of the OCI layout"
expect_ok images
grep -qE "^kubeletd\.local/busybox +1\.35 +${BB_CONFIG:7:12} " "$OUT" || kd_fail "imported layout not listed: $(cat "$OUT")"
"$KD_SOURCE_DIR/tests/images/make-docker-save.sh" "$BB" "$KD_TMP/saved.tar" busybox:saved
expect_ok image import "$KD_TMP/saved.tar"
kd_assert_eq "Loaded image: docker.io/library/busybox:saved" "$(cat "$OUT")" "import of the docker save tar"
expect_ok images
grep -qE "^busybox +saved +${BB_CONFIG:7:12} " "$OUT" || kd_fail "imported docker save not listed: $(cat "$OUT")"
expect_ok image import "$KD_TMP/saved.tar" --tag "$KD_REGISTRY/retagged:v1"
kd_assert_eq "Loaded image: $KD_REGISTRY/retagged:v1" "$(cat "$OUT")" "import --tag"
expect_fail "No such file or directory" image import "$KD_TMP/missing.tar"

# ---- non-root clients read but do not change ----------------------------------------
chmod 0711 "$KD_TMP" "$KD_TMP/run"
chmod 0666 "$KD_SOCK"
as_nobody() {
  CTL_RC=0
  setpriv --reuid=65534 --regid=65534 --clear-groups "$KUBELETCTL" --socket "$KD_SOCK" "$@" >"$OUT" 2>"$ERR" || CTL_RC=$?
}
as_nobody images -q
kd_assert_eq 0 "$CTL_RC" "images as nobody"
for cmd in "pull $REF" "rmi busybox:saved" "image import $BB"; do
  # shellcheck disable=SC2086
  as_nobody $cmd
  kd_assert_eq 1 "$CTL_RC" "$cmd as nobody"
  grep -q '^error: images is forbidden: uid 65534 may not .* images (root only)$' "$ERR" ||
    kd_fail "$cmd as nobody: $(cat "$ERR")"
done
code=$(setpriv --reuid=65534 --regid=65534 --clear-groups curl -s -o /dev/null -w '%{http_code}' -X POST \
  --unix-socket "$KD_SOCK" "http://localhost/images/pull?ref=busybox")
kd_assert_eq 403 "$code" "POST /images/pull as nobody"

kd_stop || kd_fail "kubeletd did not stop cleanly"
echo "PASS"
