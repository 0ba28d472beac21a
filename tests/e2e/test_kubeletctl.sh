#!/bin/bash
# kubeletctl end to end: validate (offline), then get pods / get pod / version
# against a running kubeletd, and the errors a user sees.
. "$(dirname "$0")/lib.sh"
kd_setup

command -v jq >/dev/null || { echo "jq is needed" >&2; exit 77; }

# run_ctl OUT ERR ARGS...: runs kubeletctl, keeps stdout, stderr and the exit code.
CTL_RC=0
run_ctl() {
  local out=$1 err=$2
  shift 2
  CTL_RC=0
  "$KUBELETCTL" "$@" >"$out" 2>"$err" || CTL_RC=$?
}

M=$KD_TMP/m
mkdir -p "$M"
cat >"$M/web.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  containers:
  - name: web
    image: 127.0.0.1:9/kd-none/busybox:1.36
EOF
cat >"$M/dns.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: dns
  namespace: kube-system
spec:
  containers:
  - name: dns
    image: 127.0.0.1:9/kd-none/busybox:1.36
EOF
cat >"$M/bad.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: bad
spec:
  containers:
  - name: web
    image: 127.0.0.1:9/kd-none/busybox:1.36
    ports:
    - containerPort: 70000
EOF
printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: [oops\n' >"$M/syntax.yaml"

# --- validate: offline --------------------------------------------------------
run_ctl "$KD_TMP/out" "$KD_TMP/err" validate --node-name node1 "$M/web.yaml"
kd_assert_eq 0 "$CTL_RC" "validate of a good file"
kd_assert_eq "$M/web.yaml: pod \"web-node1\" is valid" "$(cat "$KD_TMP/out")" "validate output"
kd_assert_eq "" "$(cat "$KD_TMP/err")" "validate of a good file prints no error"

run_ctl "$KD_TMP/out" "$KD_TMP/err" validate --node-name node1 -o json "$M/web.yaml"
kd_assert_eq 0 "$CTL_RC" "validate -o json"
kd_assert_eq "web-node1 default Always file" \
  "$(jq -r '[.metadata.name, .metadata.namespace, .spec.restartPolicy,
             .metadata.annotations["kubernetes.io/config.source"]] | join(" ")' "$KD_TMP/out")" \
  "validate -o json applies defaults and the static identity"
kd_assert_eq 4 "$(sed -n 2p "$KD_TMP/out" | sed 's/[^ ].*//' | tr -d '\n' | wc -c)" \
  "validate -o json indents by 4 spaces"

run_ctl "$KD_TMP/out" "$KD_TMP/err" validate --node-name node1 -o json "$M/web.yaml" "$M/dns.yaml"
kd_assert_eq 0 "$CTL_RC" "validate -o json of two files"
kd_assert_eq "List web-node1 dns-node1" \
  "$(jq -r '[.kind, .items[].metadata.name] | join(" ")' "$KD_TMP/out")" "two pods make a List"

run_ctl "$KD_TMP/out" "$KD_TMP/err" validate --node-name node1 -o yaml "$M/web.yaml"
kd_assert_eq 0 "$CTL_RC" "validate -o yaml"
grep -qx 'kind: Pod' "$KD_TMP/out" || kd_fail "validate -o yaml has no 'kind: Pod' line"
grep -qx '  name: web-node1' "$KD_TMP/out" || kd_fail "validate -o yaml has no pod name"

run_ctl "$KD_TMP/out" "$KD_TMP/err" validate --node-name node1 "$M/bad.yaml"
kd_assert_eq 1 "$CTL_RC" "validate of a bad file"
kd_assert_eq "$M/bad.yaml:10:22: spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive
error: 1 error in 1 file" "$(cat "$KD_TMP/err")" "validate error message with its position"
kd_assert_eq "" "$(cat "$KD_TMP/out")" "validate of a bad file prints no pod"

run_ctl "$KD_TMP/out" "$KD_TMP/err" validate "$M/syntax.yaml" "$M/web.yaml"
kd_assert_eq 1 "$CTL_RC" "validate of a file with a syntax error"
grep -q "^$M/syntax.yaml:[0-9]*:[0-9]*: " "$KD_TMP/err" || kd_fail "syntax error without position: $(cat "$KD_TMP/err")"
kd_assert_eq "error: 1 error in 1 file" "$(tail -n 1 "$KD_TMP/err")" "syntax error summary"
grep -q 'is valid' "$KD_TMP/out" || kd_fail "the good file next to a bad one is still reported valid"

run_ctl "$KD_TMP/out" "$KD_TMP/err" validate "$M/missing.yaml"
kd_assert_eq 1 "$CTL_RC" "validate of a missing file"
grep -q "^error: .*missing.yaml.*No such file or directory" "$KD_TMP/err" ||
  kd_fail "missing file message: $(cat "$KD_TMP/err")"

run_ctl "$KD_TMP/out" "$KD_TMP/err" validate --node-name node1 - <"$M/web.yaml"
kd_assert_eq 0 "$CTL_RC" "validate from standard input"

# --- no daemon yet --------------------------------------------------------------
run_ctl "$KD_TMP/out" "$KD_TMP/err" --socket "$KD_TMP/nope.sock" get pods
kd_assert_eq 1 "$CTL_RC" "get pods without a daemon"
kd_assert_eq "error: cannot connect to kubeletd at $KD_TMP/nope.sock: No such file or directory" \
  "$(cat "$KD_TMP/err")" "connect error"

run_ctl "$KD_TMP/out" "$KD_TMP/err" version --socket "$KD_TMP/nope.sock"
kd_assert_eq 1 "$CTL_RC" "version without a daemon"
grep -Eqx 'Client Version: v[0-9]+\.[0-9]+\.[0-9]+-kubeletd-.*' "$KD_TMP/out" ||
  kd_fail "client version without a daemon: $(cat "$KD_TMP/out")"
kd_assert_eq 1 "$(wc -l <"$KD_TMP/out")" "only the client version without a daemon"
kd_assert_eq "error: cannot connect to kubeletd at $KD_TMP/nope.sock: No such file or directory" \
  "$(cat "$KD_TMP/err")" "version names the unreachable socket"

# --- against kubeletd -------------------------------------------------------------
cp "$M/web.yaml" "$M/dns.yaml" "$KD_TMP/manifests/"
kd_start
kd_wait_for 20 sh -c "\"$KUBELETCTL\" --socket \"$KD_SOCK\" get pods -A -o json | jq -e '.items | length == 2'" ||
  kd_fail "kubeletd did not list both pods: $(kd_curl /pods)"

run_ctl "$KD_TMP/out" "$KD_TMP/err" --socket "$KD_SOCK" get pods
kd_assert_eq 0 "$CTL_RC" "get pods"
kd_assert_eq 2 "$(wc -l <"$KD_TMP/out")" "get pods shows the header and the default namespace's pod"
head -n 1 "$KD_TMP/out" | grep -Eq '^NAME {8}READY   STATUS +RESTARTS   AGE$' ||
  kd_fail "get pods header: $(head -n 1 "$KD_TMP/out")"
sed -n 2p "$KD_TMP/out" | grep -Eq '^web-node1   [01]/1     [A-Za-z:0-9/]+ +[0-9]+ .* +([0-9]+[smhdy]|<unknown>)$' ||
  kd_fail "get pods row: $(sed -n 2p "$KD_TMP/out")"

run_ctl "$KD_TMP/out" "$KD_TMP/err" get pods -o wide --socket "$KD_SOCK"
kd_assert_eq 0 "$CTL_RC" "get pods -o wide (--socket after the command)"
head -n 1 "$KD_TMP/out" | grep -Eq ' AGE +IP +NODE +NOMINATED NODE   READINESS GATES$' ||
  kd_fail "wide header: $(head -n 1 "$KD_TMP/out")"
sed -n 2p "$KD_TMP/out" | grep -Eq ' node1 +<none> +<none>$' || kd_fail "wide row: $(sed -n 2p "$KD_TMP/out")"

run_ctl "$KD_TMP/out" "$KD_TMP/err" --socket "$KD_SOCK" get pods -A
kd_assert_eq 0 "$CTL_RC" "get pods -A"
kd_assert_eq "NAMESPACE default kube-system" "$(awk '{print $1}' "$KD_TMP/out" | tr '\n' ' ' | sed 's/ $//')" \
  "get pods -A lists every namespace, sorted"

run_ctl "$KD_TMP/out" "$KD_TMP/err" --socket "$KD_SOCK" get pods -n kube-system -o json
kd_assert_eq "List dns-node1" "$(jq -r '[.kind, .items[].metadata.name] | join(" ")' "$KD_TMP/out")" "get pods -n -o json"

run_ctl "$KD_TMP/out" "$KD_TMP/err" --socket "$KD_SOCK" get pods -o yaml
kd_assert_eq 0 "$CTL_RC" "get pods -o yaml"
grep -qx 'kind: List' "$KD_TMP/out" || kd_fail "-o yaml has no 'kind: List'"
grep -qx '    name: web-node1' "$KD_TMP/out" || kd_fail "-o yaml has no pod name"

run_ctl "$KD_TMP/out" "$KD_TMP/err" --socket "$KD_SOCK" get pods -l app=web -o json
kd_assert_eq "web-node1" "$(jq -r '.items[].metadata.name' "$KD_TMP/out")" "get pods -l app=web"

run_ctl "$KD_TMP/out" "$KD_TMP/err" --socket "$KD_SOCK" get pods -l app=db
kd_assert_eq 0 "$CTL_RC" "get pods with no match"
kd_assert_eq "" "$(cat "$KD_TMP/out")" "no table when nothing matches"
kd_assert_eq "No resources found in default namespace." "$(cat "$KD_TMP/err")" "empty message"

run_ctl "$KD_TMP/out" "$KD_TMP/err" --socket "$KD_SOCK" get pods -A -l app=db
kd_assert_eq "No resources found" "$(cat "$KD_TMP/err")" "empty message for all namespaces"

run_ctl "$KD_TMP/out" "$KD_TMP/err" --socket "$KD_SOCK" get pod web-node1 -o json
kd_assert_eq 0 "$CTL_RC" "get pod NAME -o json"
kd_assert_eq "Pod web-node1 node1" "$(jq -r '[.kind, .metadata.name, .spec.nodeName] | join(" ")' "$KD_TMP/out")" \
  "get pod NAME prints the Pod itself"

run_ctl "$KD_TMP/out" "$KD_TMP/err" --socket "$KD_SOCK" get pods dns-node1 -n kube-system
kd_assert_eq 0 "$CTL_RC" "get pods NAME -n"
sed -n 2p "$KD_TMP/out" | grep -q '^dns-node1 ' || kd_fail "get pods NAME: $(cat "$KD_TMP/out")"

run_ctl "$KD_TMP/out" "$KD_TMP/err" --socket "$KD_SOCK" get pod x
kd_assert_eq 1 "$CTL_RC" "get pod of an unknown pod"
kd_assert_eq 'error: pods "x" not found' "$(cat "$KD_TMP/err")" "unknown pod message"

CTL_RC=0
KUBELETD_SOCKET=$KD_SOCK "$KUBELETCTL" get pods >"$KD_TMP/out" 2>"$KD_TMP/err" || CTL_RC=$?
kd_assert_eq 0 "$CTL_RC" "KUBELETD_SOCKET selects the socket"

run_ctl "$KD_TMP/out" "$KD_TMP/err" --socket "$KD_SOCK" version
kd_assert_eq 0 "$CTL_RC" "version"
SERVER_VERSION=$(kd_curl /version | jq -r .gitVersion)
kd_assert_eq "Client Version: $SERVER_VERSION
Server Version: $SERVER_VERSION" "$(cat "$KD_TMP/out")" "version lines"
run_ctl "$KD_TMP/out" "$KD_TMP/err" --socket "$KD_SOCK" version -o json
kd_assert_eq "$SERVER_VERSION" "$(jq -r .serverVersion.gitVersion "$KD_TMP/out")" \
  "version -o json carries the server's answer"

kd_stop
echo PASS
