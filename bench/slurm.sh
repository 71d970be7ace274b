#!/usr/bin/env bash
# Benchmark: N trivial cases through the local SLURM cluster of the tests:
# our packed mode (?array=1&pack=auto: K pack tasks running `fz worker`
# over a queue on the shared filesystem), our job-array mode (one array
# task per case, in arrays of at most MaxArraySize tasks), our srun mode
# (one srun per case) and funz-fz 1.2's srun mode, each with K entries of
# the calculator (K concurrent cases / tasks); against sh:// with K slots
# and a hand-written floor (K tasks of one `sbatch --array`, each running
# its share of the case directories in a bash loop, no fz at all).
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
#   BENCH_MODES        the runs, in order (default: packed sh floor array
#                      srun upstream remote-array; remote-array only with
#                      the sshd). Array and srun modes cost a SLURM job per
#                      case (~4 per second on the CI node): measure them
#                      on a few hundred cases, packed/sh/floor on 10,000.
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
# The floor: the cases prepared by hand (input compiled by sed), run by
# K tasks of one array, task i taking cases i, i+K, i+2K… in a loop.
floor() {
    local d=floor t0 t1 got
    rm -rf "$d" && mkdir -p "$d"
    for ((i = 0; i < n; i++)); do
        mkdir "$d/$i" && echo "x=$i" >"$d/$i/input.txt"
    done
    printf '#!/bin/bash\nfor ((i = SLURM_ARRAY_TASK_ID; i < %s; i += %s)); do\n  (cd %s/$i && bash %s/calc.sh input.txt)\ndone\n' \
        "$n" "$k" "$work/$d" "$work" >"$d/floor.sh"
    t0=$(now)
    sbatch --wait -Q -p "$part" --array="0-$((k - 1))" -o /dev/null "$d/floor.sh" >/dev/null
    t1=$(now)
    got=$(cat "$d"/*/output.txt | grep -c result)
    [[ $got -eq $n ]] || { echo "bench: floor ran $got of $n cases" >&2; exit 1; }
    secs "$t0" "$t1"
}

declare -A took
for mode in ${BENCH_MODES:-packed sh floor array srun upstream remote-array}; do
    case $mode in
    packed) t=$(run packed "$ours" "slurm://:$part/bash $work/calc.sh?array=1&pack=auto") ;;
    array) t=$(run array "$ours" "slurm://:$part/bash $work/calc.sh?array=1") ;;
    srun) t=$(run srun "$ours" "slurm://:$part/bash $work/calc.sh") ;;
    upstream) t=$(run upstream "$upstream" "slurm://:$part/bash $work/calc.sh" lenient) ;;
    remote-array)
        [[ -n $login ]] || continue
        t=$(run remote-array "$ours" "slurm://$login:$part/bash $work/calc.sh?array=1")
        ;;
    sh) t=$(run sh "$ours" "sh://bash $work/calc.sh") ;;
    floor) t=$(floor) ;;
    *) echo "bench: unknown mode '$mode'" >&2; exit 2 ;;
    esac
    took[$mode]=$t
    printf 'bench: %-13s %8s s (%s ms/case)\n' "$mode" "$t" "$(ms "$t" "$n")"
done
for pair in "packed sh" "packed floor" "array sh" "srun sh" "srun array" "upstream srun"; do
    set -- $pair
    if [[ -n ${took[$1]:-} && -n ${took[$2]:-} ]]; then
        echo "bench: $1 / $2: $(ratio "${took[$1]}" "${took[$2]}")x"
    fi
done
