#!/usr/bin/env bash
# Benchmark: the same N-case study (a trivial calculator writing one output)
# run with our fzr and with funz-fz 1.2's fzr, against the floor (the
# calculator run N times in a shell loop), for 1 and 2 calculators; then
# fzo over the N result directories with both tools.
#
# Usage: bash bench/run.sh
#
# Environment:
#   BENCH_N            cases for our fzr and fzo (default 1000)
#   BENCH_UPSTREAM_N   cases for funz-fz's fzr (default 100: upstream needs
#                      about 0.5 s per case, so 1000 cases take ~10 min;
#                      per-case figures are compared)
#   FZ_BIN_DIR, FZ_UPSTREAM_BIN_DIR, BENCH_DIR   as in bench/compile.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -n ${BENCH_DIR:-} ]]; then
    work=$BENCH_DIR
elif [[ -d /dev/shm && -w /dev/shm ]] && [[ $(stat -f -c %T /dev/shm) == tmpfs ]]; then
    work=/dev/shm/fz-bench-run.$$
    trap 'rm -rf "$work"' EXIT
else
    work=${CARGO_TARGET_DIR:-$root/target}/bench-run
fi
n=${BENCH_N:-1000}
un=${BENCH_UPSTREAM_N:-100}

ours=${FZ_BIN_DIR:-$("$root/scripts/fz-bindir.sh" release)}
upstream=${FZ_UPSTREAM_BIN_DIR:-$("$root/scripts/upstream-fz.sh")}

rm -rf "$work"
mkdir -p "$work"
cd "$work"
printf 'x=${x}\n' >input.txt
printf '#!/bin/bash\necho "result = $(cut -d= -f2 "$1")" > output.txt\n' >calc.sh
model='{"varprefix":"$","formulaprefix":"@","delim":"{}","commentline":"#","output":{"r":"grep result output.txt | cut -d= -f2"}}'
model_plain='{"varprefix":"$","formulaprefix":"@","delim":"{}","commentline":"#"}'
vars() { printf '{"x": [%s]}' "$(seq -s, 0 $(($1 - 1)))"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# Floors: the calculator alone, N times, each in its own prepared
# directory; then the calculator plus the model's output command (what any
# tool must at least do per case).
mkdir floor
for ((i = 0; i < n; i++)); do mkdir "floor/$i"; printf 'x=%d\n' "$i" >"floor/$i/input.txt"; done
t0=$(now)
for ((i = 0; i < n; i++)); do (cd "floor/$i" && bash ../../calc.sh input.txt); done
t1=$(now)
floor=$(secs "$t0" "$t1")
t0=$(now)
for ((i = 0; i < n; i++)); do (cd "floor/$i" && bash ../../calc.sh input.txt && bash -c 'grep result output.txt | cut -d= -f2' >/dev/null); done
t1=$(now)
floor_out=$(secs "$t0" "$t1")

run_fzr() { # label bin cases ncalcs with_output -> seconds
    local label=$1 bin=$2 cases=$3 k=$4 m=$model_plain c=() t0 t1
    [[ $5 == yes ]] && m=$model
    for ((j = 0; j < k; j++)); do c+=(-c "sh://bash calc.sh"); done
    rm -rf "res_$label"
    t0=$(now)
    "$bin/fzr" input.txt -m "$m" -v "$(vars "$cases")" "${c[@]}" -r "res_$label" -f csv >"$label.csv" 2>"$label.err"
    t1=$(now)
    secs "$t0" "$t1"
}

per_case_ms() { awk -v t="$1" -v f="$2" -v n="$3" -v k="$4" 'BEGIN { printf "%.2f", (t - f * 1.0 / k) / n * 1000 }'; }
check_done() { # label expected
    local got
    got=$(grep -c ',done,' "$1.csv" || true)
    [[ $got -eq $2 ]] || { echo "bench: $1 finished $got of $2 cases" >&2; exit 1; }
}

echo "bench: floor, calc.sh $n times in a shell loop: $floor s; with the output command too: $floor_out s"
for k in 1 2; do
    t=$(run_fzr "plain$k" "$ours" "$n" "$k" no)
    check_done "plain$k" "$n"
    to=$(run_fzr "ours$k" "$ours" "$n" "$k" yes)
    check_done "ours$k" "$n"
    tu=$(run_fzr "upstream$k" "$upstream" "$un" "$k" yes)
    floor_u=$(awk -v f="$floor_out" -v n="$n" -v u="$un" 'BEGIN { printf "%.3f", f * u / n }')
    echo "bench: $k calculator(s): ours, no output: $t s for $n cases, $(per_case_ms "$t" "$floor" "$n" "$k") ms/case above the calculator floor"
    echo "bench: $k calculator(s): ours, one output: $to s for $n cases, $(per_case_ms "$to" "$floor" "$n" "$k") ms/case above the calculator floor, $(per_case_ms "$to" "$floor_out" "$n" "$k") above the calculator+output floor"
    floor_cu=$(awk -v f="$floor" -v n="$n" -v u="$un" 'BEGIN { printf "%.3f", f * u / n }')
    echo "bench: $k calculator(s): funz-fz 1.2, one output: $tu s for $un cases, $(per_case_ms "$tu" "$floor_cu" "$un" "$k") ms/case above the calculator floor, $(per_case_ms "$tu" "$floor_u" "$un" "$k") above the calculator+output floor"
done

# fzo over the result directories of the 1-calculator runs.
t0=$(now); "$ours/fzo" 'res_ours1/*' -m "$model" -f csv >fzo_ours.csv; t1=$(now)
fo=$(secs "$t0" "$t1")
t0=$(now); "$upstream/fzo" 'res_ours1/x=*' -m "$model" -f csv >fzo_upstream.csv 2>/dev/null; t1=$(now)
fu=$(secs "$t0" "$t1")
echo "bench: fzo over $n case directories: ours $fo s, funz-fz 1.2 $fu s, speed-up $(awk -v a="$fu" -v b="$fo" 'BEGIN { printf "%.1f", a / b }')x"
