#!/usr/bin/env bash
# systemd readiness: with NOTIFY_SOCKET set, kubeletd sends READY=1 once its
# socket serves and STOPPING=1 when told to stop.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
kd_setup

# A datagram socket standing in for systemd's; it records what it receives.
python3 - "$KD_TMP/notify" "$KD_TMP/notified" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
with open(sys.argv[2], "w") as out:
    for _ in range(2):
        out.write(s.recv(256).decode() + "\n")
        out.flush()
PY
listener=$!
kd_wait_for 5 test -S "$KD_TMP/notify" || kd_fail "notify socket not created"

NOTIFY_SOCKET="$KD_TMP/notify" kd_start
kd_wait_for 5 grep -qx "READY=1" "$KD_TMP/notified" || kd_fail "no READY=1 after start"
kd_stop || kd_fail "kubeletd exited non-zero"
wait "$listener" || kd_fail "listener failed"
kd_assert_eq "READY=1 STOPPING=1" "$(tr '\n' ' ' <"$KD_TMP/notified" | sed 's/ $//')" "notifications"
echo "ok: READY=1 then STOPPING=1"
