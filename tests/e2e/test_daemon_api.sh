#!/usr/bin/env bash
# kubeletd's status API over the static pod file source: /healthz, /pods,
# /pods/<ns>/<name>, v1 Status errors, 405; files added, edited, broken and
# removed (seen through inotify: the relist is set to an hour); dotfiles and
# subfolders ignored; the directory locks; a clean SIGTERM; a bad flag.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || { echo "jq is needed" >&2; exit 77; }
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 77; }

kd_setup
M=$KD_TMP/manifests

pod_yaml() { # NAME IMAGE
  cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
  labels:
    app: $1
spec:
  containers:
  - name: main
    image: $2
    command: ["sleep", "3600"]
EOF
}

# HTTP status of a request; the body goes to $KD_TMP/body.
http_code() { # METHOD PATH
  curl -sS --max-time 10 --unix-socket "$KD_SOCK" -X "$1" -o "$KD_TMP/body" -w '%{http_code}' \
    "http://localhost$2"
}
pod_names() { kd_curl /pods | jq -r '[.items[].metadata.name] | join(" ")'; }
names_are() { [ "$(pod_names)" = "$1" ]; }
uid_of() { kd_curl "/pods/default/$1" | jq -r .metadata.uid; }
uid_is_not() { local u; u=$(uid_of "$1") && [ -n "$u" ] && [ "$u" != null ] && [ "$u" != "$2" ]; }

pod_yaml web 127.0.0.1:9/kd-none/busybox:1.36 >"$M/web.yaml"
pod_yaml hidden 127.0.0.1:9/kd-none/busybox >"$M/.hidden.yaml"
mkdir "$M/sub"
pod_yaml nested 127.0.0.1:9/kd-none/busybox >"$M/sub/nested.yaml"

kd_start --file-check-frequency 1h

# --- the API ----------------------------------------------------------------
kd_assert_eq ok "$(kd_curl /healthz)" "/healthz"

list=$(kd_curl /pods)
kd_assert_eq PodList "$(jq -r .kind <<<"$list")" "PodList kind"
kd_assert_eq v1 "$(jq -r .apiVersion <<<"$list")" "PodList apiVersion"
kd_assert_eq "{}" "$(jq -c .metadata <<<"$list")" "PodList metadata"
kd_assert_eq 1 "$(jq '.items | length' <<<"$list")" "pods in the list"
pod=$(jq '.items[0]' <<<"$list")
kd_assert_eq web-node1 "$(jq -r .metadata.name <<<"$pod")" "static pod name"
kd_assert_eq default "$(jq -r .metadata.namespace <<<"$pod")" "namespace"
uid=$(jq -r .metadata.uid <<<"$pod")
[[ $uid =~ ^[0-9a-f]{32}$ ]] || kd_fail "uid is not 32 hex digits: $uid"
kd_assert_eq file "$(jq -r '.metadata.annotations["kubernetes.io/config.source"]' <<<"$pod")" \
  "config.source"
kd_assert_eq "$uid" "$(jq -r '.metadata.annotations["kubernetes.io/config.hash"]' <<<"$pod")" \
  "config.hash"
jq -e '.metadata.annotations["kubernetes.io/config.seen"] | test("^[0-9]{4}-")' <<<"$pod" \
  >/dev/null || kd_fail "config.seen missing"
kd_assert_eq web "$(jq -r .metadata.labels.app <<<"$pod")" "labels kept"
kd_assert_eq node1 "$(jq -r .spec.nodeName <<<"$pod")" "spec.nodeName"
kd_assert_eq Always "$(jq -r .spec.restartPolicy <<<"$pod")" "default restartPolicy"
kd_assert_eq ClusterFirst "$(jq -r .spec.dnsPolicy <<<"$pod")" "default dnsPolicy"
kd_assert_eq 30 "$(jq -r .spec.terminationGracePeriodSeconds <<<"$pod")" "default grace period"
kd_assert_eq default-scheduler "$(jq -r .spec.schedulerName <<<"$pod")" "default schedulerName"
kd_assert_eq IfNotPresent "$(jq -r '.spec.containers[0].imagePullPolicy' <<<"$pod")" \
  "default imagePullPolicy"
kd_assert_eq /dev/termination-log "$(jq -r '.spec.containers[0].terminationMessagePath' <<<"$pod")" \
  "default terminationMessagePath"
kd_assert_eq Pending "$(jq -r .status.phase <<<"$pod")" "phase"
kd_assert_eq BestEffort "$(jq -r .status.qosClass <<<"$pod")" "qosClass"

one=$(kd_curl /pods/default/web-node1)
# The status moves on while the pod is set up; metadata and spec must match.
kd_assert_eq "$(jq -cS "del(.status)" <<<"$pod")" "$(jq -cS "del(.status)" <<<"$one")" \
  "/pods/default/web-node1 = the list item"

kd_assert_eq 404 "$(http_code GET /pods/default/nope)" "unknown pod status"
kd_assert_eq Status "$(jq -r .kind "$KD_TMP/body")" "404 body kind"
kd_assert_eq v1 "$(jq -r .apiVersion "$KD_TMP/body")" "404 body apiVersion"
kd_assert_eq Failure "$(jq -r .status "$KD_TMP/body")" "404 body status"
kd_assert_eq NotFound "$(jq -r .reason "$KD_TMP/body")" "404 body reason"
kd_assert_eq 'pods "nope" not found' "$(jq -r .message "$KD_TMP/body")" "404 body message"
kd_assert_eq 404 "$(jq -r .code "$KD_TMP/body")" "404 body code"
kd_assert_eq 404 "$(http_code GET /pods/other/web-node1)" "pod in another namespace"

for path in /nope /pods/default /pods/default/web-node1/extra /pods//web-node1; do
  kd_assert_eq 404 "$(http_code GET "$path")" "status of $path"
  kd_assert_eq Status "$(jq -r .kind "$KD_TMP/body")" "body kind of $path"
done
kd_assert_eq 405 "$(http_code POST /pods)" "POST /pods"

version=$(kd_curl /version)
kd_assert_eq 1 "$(jq -r .major <<<"$version")" "version major"
kd_assert_eq 32 "$(jq -r .minor <<<"$version")" "version minor"
jq -e '.gitVersion | startswith("v1.32.0-kubeletd-")' <<<"$version" >/dev/null ||
  kd_fail "gitVersion: $version"
jq -e '.platform | startswith("linux/")' <<<"$version" >/dev/null || kd_fail "platform: $version"

# --- the file source (inotify) ---------------------------------------------
pod_yaml db 127.0.0.1:9/kd-none/busybox:1.36 >"$M/db.yaml"
kd_wait_for 5 names_are "db-node1 web-node1" || kd_fail "db-node1 did not appear: $(pod_names)"

# An edit through a temp file and a rename, as editors do: a new uid.
pod_yaml web 127.0.0.1:9/kd-none/busybox:1.37 >"$M/.web.yaml.tmp"
mv "$M/.web.yaml.tmp" "$M/web.yaml"
kd_wait_for 5 uid_is_not web-node1 "$uid" || kd_fail "the edit did not give a new uid"
uid2=$(uid_of web-node1)
kd_assert_eq 127.0.0.1:9/kd-none/busybox:1.37 "$(kd_curl /pods/default/web-node1 | jq -r '.spec.containers[0].image')" \
  "edited image"

# A broken file keeps the pod it defined (and says why in the log).
printf 'apiVersion: v1\nkind: Pod\nmetadata: [name: web\n' >"$M/web.yaml"
kd_wait_for 5 grep -q "web.yaml. is invalid; keeping the 1 pod" "$KD_TMP/kubeletd.log" ||
  kd_fail "no warning for the broken file"
kd_assert_eq "$uid2" "$(uid_of web-node1)" "the broken file's pod is kept"

# A file that fails validation, too.
pod_yaml web "" >"$M/web.yaml"
kd_wait_for 5 grep -q "spec.containers\[0\].image: Required value" "$KD_TMP/kubeletd.log" ||
  kd_fail "no validation message in the log"
kd_assert_eq "$uid2" "$(uid_of web-node1)" "the invalid file's pod is kept"

rm "$M/web.yaml"
kd_wait_for 5 names_are "db-node1" || kd_fail "web-node1 was not removed: $(pod_names)"

# Ignored all along: the dotfile and the subfolder.
kd_assert_eq "db-node1" "$(pod_names)" "dotfile and subfolder ignored"

# --- one daemon per directory ------------------------------------------------
mkdir -p "$KD_TMP/run2" "$KD_TMP/root2"
rc=0
"$KUBELETD" --pod-manifest-path "$M" --root-dir "$KD_TMP/root" --run-dir "$KD_TMP/run2" \
  --hostname-override node1 2>"$KD_TMP/second.err" || rc=$?
kd_assert_eq 1 "$rc" "second daemon on the same root"
grep -q "another kubeletd holds \`$KD_TMP/root/kubeletd.lock\`" "$KD_TMP/second.err" ||
  kd_fail "second daemon message: $(cat "$KD_TMP/second.err")"
rc=0
"$KUBELETD" --pod-manifest-path "$M" --root-dir "$KD_TMP/root2" --run-dir "$KD_TMP/run" \
  --hostname-override node1 2>"$KD_TMP/second.err" || rc=$?
kd_assert_eq 1 "$rc" "second daemon on the same run dir"
grep -q "another kubeletd holds \`$KD_TMP/run/kubeletd.lock\`" "$KD_TMP/second.err" ||
  kd_fail "second daemon message: $(cat "$KD_TMP/second.err")"
kd_assert_eq ok "$(kd_curl /healthz)" "the first daemon still answers"

# --- a clean stop -------------------------------------------------------------
rc=0
kd_stop || rc=$?
kd_assert_eq 0 "$rc" "exit status after SIGTERM"
[ ! -e "$KD_SOCK" ] || kd_fail "the socket is still there after SIGTERM"
grep -q "shutting down" "$KD_TMP/kubeletd.log" || kd_fail "no shutdown message"

# --- bad flags ----------------------------------------------------------------
rc=0
"$KUBELETD" --max-pods lots 2>"$KD_TMP/flag.err" || rc=$?
kd_assert_eq 1 "$rc" "exit status for a bad flag"
kd_assert_eq 'kubeletd: invalid argument "lots" for "--max-pods" flag: strconv.ParseInt: parsing "lots": invalid syntax' \
  "$(cat "$KD_TMP/flag.err")" "bad flag message"
rc=0
"$KUBELETD" --no-such-flag 2>"$KD_TMP/flag.err" || rc=$?
kd_assert_eq 1 "$rc" "exit status for an unknown flag"
kd_assert_eq 'kubeletd: unknown flag: --no-such-flag' "$(cat "$KD_TMP/flag.err")" \
  "unknown flag message"

echo "PASS: test_daemon_api"
