#!/usr/bin/env bash
# tests/services/sshd_port_taken.sh -- .ci/services/sshd.sh on a machine
# whose port 2222 belongs to someone else: it must take the next free port,
# serve key logins there, say so in its `env`, and stop only its own sshd.
#
# Holds 2222 with a plain TCP listener when 2222 is free (when it is not,
# someone already holds it, which is the case under test too), starts a
# second instance of sshd.sh with a private state directory, checks, stops.
# Exit 0 when every check passes; one line per failure otherwise.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state=$(mktemp -d)
holder_pid=""
cleanup() {
    FZ_CI_SSHD_DIR="$state" bash "$root/.ci/services/sshd.sh" stop >/dev/null 2>&1 || true
    [[ -n "$holder_pid" ]] && kill "$holder_pid" 2>/dev/null || true
    rm -rf "$state"
}
trap cleanup EXIT
fail() { echo "sshd_port_taken: FAIL: $*" >&2; exit 1; }

if ! (exec 3<>/dev/tcp/127.0.0.1/2222) 2>/dev/null; then
    python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 2222)); s.listen(1); print("held", flush=True); time.sleep(600)' >"$state/holder.out" &
    holder_pid=$!
    for _ in $(seq 50); do grep -q held "$state/holder.out" 2>/dev/null && break; sleep 0.1; done
    grep -q held "$state/holder.out" || fail "could not hold port 2222 for the test"
fi

unset FZ_CI_SSHD_PORT
# A password user of its own: the main instance's (fzpass) keeps its password.
export FZ_CI_SSHD_PASSWORD_USER=fzpasst
out=$(FZ_CI_SSHD_DIR="$state" bash "$root/.ci/services/sshd.sh" start 2>"$state/start.err") ||
    fail "sshd.sh start failed with 2222 taken: $(tail -n 3 "$state/start.err")"
port=$(sed -n 's/^export FZ_TEST_SSH_PORT=//p' <<<"$out")
[[ -n "$port" && "$port" != 2222 ]] || fail "expected a port other than 2222, got '$port'"
ssh -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=5 127.0.0.1 true ||
    fail "key login on the chosen port $port failed"
env_port=$(FZ_CI_SSHD_DIR="$state" bash "$root/.ci/services/sshd.sh" env | sed -n 's/^export FZ_TEST_SSH_PORT=//p')
[[ "$env_port" == "$port" ]] || fail "sshd.sh env says port '$env_port', start said $port"
FZ_CI_SSHD_DIR="$state" bash "$root/.ci/services/sshd.sh" stop 2>/dev/null
! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || fail "port $port still served after stop"
if [[ -n "$holder_pid" ]]; then
    kill -0 "$holder_pid" 2>/dev/null || fail "the foreign listener on 2222 was stopped"
fi
echo "sshd_port_taken: ok (2222 taken, sshd.sh served port $port and stopped only its own)"
