#!/usr/bin/env bash
# Benchmark: per-case cost of ssh:// (one multiplexed connection per run)
# against sh:// on the same trivial N-case study, with 1 and 2 calculators,
# and against funz-fz 1.2's ssh:// (paramiko, a new connection per case).
# The SSH server is the private one of the tests, on 127.0.0.1.
#
# Usage: eval "$(bash .ci/services/sshd.sh start)"; bash bench/ssh.sh
#
# Environment:
#   FZ_TEST_SSH_PORT        the server's port (required; set by sshd.sh)
#   FZ_TEST_SSH_BENCH_USER  login used (set by sshd.sh: a stock account,
#                           so its shell start files cost what a normal
#                           account's do); else FZ_TEST_SSH_USER
#   BENCH_N                 cases for our runs (default 100)
#   BENCH_UPSTREAM_N        cases for funz-fz's runs (default 20: about
#                           1 s per case; per-case figures are compared)
#   FZ_BIN_DIR, FZ_UPSTREAM_BIN_DIR   as in bench/run.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
port=${FZ_TEST_SSH_PORT:?start the server first: eval \"\$(bash .ci/services/sshd.sh start)\"}
user=${FZ_TEST_SSH_BENCH_USER:-${FZ_TEST_SSH_USER:-$(id -un)}}
n=${BENCH_N:-100}
un=${BENCH_UPSTREAM_N:-20}
ours=${FZ_BIN_DIR:-$("$root/scripts/fz-bindir.sh" release)}
upstream=${FZ_UPSTREAM_BIN_DIR:-$("$root/scripts/upstream-fz.sh")}
# funz-fz's ssh:// needs paramiko in its venv.
if ! "$upstream/python" -c 'import paramiko' >/dev/null 2>&1; then
    echo "bench: installing paramiko into $upstream/.." >&2
    "$upstream/python" -m pip install --quiet --disable-pip-version-check paramiko >&2
fi

# A directory the bench user can read (funz-fz runs the script in place).
work=$(mktemp -d /tmp/fz-bench-ssh.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
cd "$work"
printf 'x=${x}\n' >input.txt
printf '#!/bin/bash\necho "result = $(cut -d= -f2 "$1")" > output.txt\n' >calc.sh
chmod 755 calc.sh
model='{"varprefix":"$","formulaprefix":"@","delim":"{}","commentline":"#","output":{"r":"grep result output.txt | cut -d= -f2"}}'
vars() { printf '{"x": [%s]}' "$(seq -s, 0 $(($1 - 1)))"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
ms() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.1f", t / n * 1000 }'; }

run() { # label bin cases ncalcs uri -> seconds
    local label=$1 bin=$2 cases=$3 k=$4 uri=$5 c=() t0 t1 got
    for ((j = 0; j < k; j++)); do c+=(-c "$uri"); done
    rm -rf "res_$label"
    t0=$(now)
    FZ_SSH_AUTO_ACCEPT_HOSTKEYS=1 "$bin/fzr" input.txt -m "$model" -v "$(vars "$cases")" "${c[@]}" \
        -r "res_$label" -f csv >"$label.csv" 2>"$label.err" || true
    t1=$(now)
    got=$(grep -c ',done,' "$label.csv" || true)
    if [[ $got -ne $cases ]]; then
        echo "bench: $label finished $got of $cases cases; stderr:" >&2
        tail -n 5 "$label.err" >&2
        exit 1
    fi
    secs "$t0" "$t1"
}

ssh_uri="ssh://$user@127.0.0.1:$port/bash calc.sh"
echo "bench: $n trivial cases, ssh:// as $user@127.0.0.1:$port ($(ssh -V 2>&1))"
# One channel on an open master: the floor of any per-case remote step.
ctl=$work/ctl
ssh -f -N -M -S "$ctl" -p "$port" -o BatchMode=yes "$user@127.0.0.1"
t0=$(now)
for ((i = 0; i < 20; i++)); do ssh -S "$ctl" -p "$port" "$user@127.0.0.1" true; done
t1=$(now)
ssh -S "$ctl" -O exit -p "$port" "$user@127.0.0.1" 2>/dev/null
echo "bench: one ssh channel (ssh -S ctl host true) on an open master: $(ms "$(secs "$t0" "$t1")" 20) ms"
for k in 1 2; do
    ts=$(run "sh$k" "$ours" "$n" "$k" "sh://bash calc.sh")
    tr=$(run "ssh$k" "$ours" "$n" "$k" "$ssh_uri")
    echo "bench: $k calculator(s): ours sh:// $ts s ($(ms "$ts" "$n") ms/case), ssh:// $tr s ($(ms "$tr" "$n") ms/case): ssh:// overhead $(awk -v a="$tr" -v b="$ts" -v n="$n" 'BEGIN { printf "%.1f", (a - b) / n * 1000 }') ms/case"
done
tus=$(run "up_sh" "$upstream" "$un" 1 "sh://bash $work/calc.sh")
tur=$(run "up_ssh" "$upstream" "$un" 1 "ssh://$user@127.0.0.1:$port/bash $work/calc.sh")
echo "bench: funz-fz 1.2, 1 calculator: sh:// $tus s ($(ms "$tus" "$un") ms/case), ssh:// $tur s ($(ms "$tur" "$un") ms/case): ssh:// overhead $(awk -v a="$tur" -v b="$tus" -v n="$un" 'BEGIN { printf "%.1f", (a - b) / n * 1000 }') ms/case"
