#!/usr/bin/env bash
# Benchmark: N trivial cases through the local SLURM cluster of the tests,
# in our job-array mode (one sbatch --array for all cases), in our srun
# mode (one srun per case) and in funz-fz 1.2's srun mode, each with K
# entries of the calculator (K concurrent cases / array tasks).
#
# Usage: eval "$(bash .ci/services/slurm.sh start)"; bash bench/slurm.sh
# With the test sshd started too (eval "$(bash .ci/services/sshd.sh start)")
# it also runs the array mode through ssh (slurm://user@127.0.0.1:port:…).
#
# Environment:
#   BENCH_N            cases (default 200)
#   BENCH_K            calculator entries, i.e. concurrent jobs (default 4,
#                      the CPUs the test node declares)
#   BENCH_PARTITION    partition (default debug)
#   FZ_BIN_DIR, FZ_UPSTREAM_BIN_DIR   as in bench/run.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ ${FZ_TEST_SLURM:-} == 1 ]] || {
    echo "bench: start the cluster first: eval \"\$(bash .ci/services/slurm.sh start)\"" >&2
    exit 1
}
n=${BENCH_N:-200}
k=${BENCH_K:-4}
part=${BENCH_PARTITION:-debug}
ours=${FZ_BIN_DIR:-$("$root/scripts/fz-bindir.sh" release)}
upstream=${FZ_UPSTREAM_BIN_DIR:-$("$root/scripts/upstream-fz.sh")}

# Scratch in memory; the SLURM node is this machine, so it sees it.
work=$(mktemp -d /dev/shm/fz-bench-slurm.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
printf 'x=${x}\n' >input.txt
printf '#!/bin/bash\necho "result = $(cut -d= -f2 "$1")" > output.txt\n' >calc.sh
chmod 755 calc.sh
model='{"varprefix":"$","formulaprefix":"@","delim":"{}","commentline":"#","output":{"r":"grep result output.txt | cut -d= -f2"}}'
vars="$(printf '{"x": [%s]}' "$(seq -s, 0 $((n - 1)))")"
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
ms() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.1f", t / n * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

run() { # label bin uri [lenient] -> seconds (every case must be done,
    # unless lenient: then the failures are reported on stderr)
    local label=$1 bin=$2 uri=$3 lenient=${4:-} c=() t0 t1 got
    for ((j = 0; j < k; j++)); do c+=(-c "$uri"); done
    rm -rf "res_$label"
    t0=$(now)
    "$bin/fzr" input.txt -m "$model" -v "$vars" "${c[@]}" -r "res_$label" -f csv \
        >"$label.csv" 2>"$label.err" || true
    t1=$(now)
    got=$(grep -c ',done,' "$label.csv" || true)
    if [[ $got -ne $n && -n $lenient ]]; then
        echo "bench: $label: $got of $n cases done; the others:" >&2
        grep -v ',done,' "$label.csv" | tail -n +2 | cut -c1-300 >&2
    elif [[ $got -ne $n ]]; then
        echo "bench: $label finished $got of $n cases; stderr:" >&2
        tail -n 5 "$label.err" >&2
        exit 1
    fi
    if [[ -n "$(squeue -h -o %i)" ]]; then
        echo "bench: jobs left in the queue after $label" >&2
        exit 1
    fi
    secs "$t0" "$t1"
}

echo "bench: $n trivial cases, $k calculator entries, partition '$part' ($(sinfo -V))"
t0=$(now)
for ((i = 0; i < 20; i++)); do srun -p "$part" true; done
t1=$(now)
echo "bench: one bare 'srun -p $part true': $(ms "$(secs "$t0" "$t1")" 20) ms"
# Array mode on a "login node": the test sshd on this machine, so the
# case directories make the round trip through ~/.fz/tmp over ssh.
login=
if [[ -n ${FZ_TEST_SSH_PORT:-} ]]; then
    login="${FZ_TEST_SSH_USER:-root}@127.0.0.1:$FZ_TEST_SSH_PORT"
fi
if [[ -n ${BENCH_ONLY:-} ]]; then # upstream | array | srun | remote-array: one run only
    case $BENCH_ONLY in
    remote-array) uri="slurm://$login:$part/bash $work/calc.sh?array=1" ;;
    array) uri="slurm://:$part/bash $work/calc.sh?array=1" ;;
    *) uri="slurm://:$part/bash $work/calc.sh" ;;
    esac
    t=$(run "$BENCH_ONLY" "$([[ $BENCH_ONLY == upstream ]] && echo "$upstream" || echo "$ours")" \
        "$uri" lenient)
    echo "bench: $BENCH_ONLY: $t s ($(ms "$t" "$n") ms/case)"
    exit 0
fi
ta=$(run array "$ours" "slurm://:$part/bash $work/calc.sh?array=1")
echo "bench: ours, array mode (?array=1): $ta s ($(ms "$ta" "$n") ms/case)"
ts=$(run srun "$ours" "slurm://:$part/bash $work/calc.sh")
echo "bench: ours, srun mode:             $ts s ($(ms "$ts" "$n") ms/case)"
tu=$(run upstream "$upstream" "slurm://:$part/bash $work/calc.sh" lenient)
echo "bench: funz-fz 1.2, srun mode:      $tu s ($(ms "$tu" "$n") ms/case)"
if [[ -n $login ]]; then
    tr=$(run remote-array "$ours" "slurm://$login:$part/bash $work/calc.sh?array=1")
    echo "bench: ours, array mode via ssh:  $tr s ($(ms "$tr" "$n") ms/case)"
fi
th=$(run sh "$ours" "sh://bash $work/calc.sh")
echo "bench: ours, sh:// (no SLURM):      $th s ($(ms "$th" "$n") ms/case)"
echo "bench: srun mode / array mode: $(ratio "$ts" "$ta")x; funz-fz srun / our array mode: $(ratio "$tu" "$ta")x; funz-fz srun / our srun: $(ratio "$tu" "$ts")x"
