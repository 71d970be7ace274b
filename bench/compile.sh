#!/usr/bin/env bash
# Benchmark: compile a ~1 KB template with 3 formulas over a 100 x 100 grid
# (10,000 case directories) with our `fzc` and with funz-fz 1.2's `fzc`.
#
# Usage: bash bench/compile.sh
#
# Environment:
#   BENCH_RUNS           runs of our fzc, best wall-clock time kept (default 3)
#   BENCH_UPSTREAM_RUNS  runs of funz-fz's fzc, best kept (default 3)
#   BENCH_NX, BENCH_NY   grid size (default 100 x 100)
#   FZ_BIN_DIR           directory with our fzc (skips the cargo build)
#   FZ_UPSTREAM_BIN_DIR  directory with funz-fz 1.2's fzc (skips pip)
#   BENCH_DIR            work directory (default: a fresh directory in
#                        /dev/shm if it is a writable tmpfs, else target/bench)
# The case directories are written to BENCH_DIR and removed after each run.
# A RAM-backed directory is the default because on disk the time to create
# 20,000 files varies ten-fold here with the state of the file system (right
# after a large rm -rf it is much slower), which would swamp the tools' own
# cost; both tools always write to the same place.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -n ${BENCH_DIR:-} ]]; then
    work=$BENCH_DIR
elif [[ -d /dev/shm && -w /dev/shm ]] && [[ $(stat -f -c %T /dev/shm) == tmpfs ]]; then
    work=/dev/shm/fz-bench.$$
    trap 'rm -rf "$work"' EXIT
else
    work=${CARGO_TARGET_DIR:-$root/target}/bench
fi
runs=${BENCH_RUNS:-3}
upstream_runs=${BENCH_UPSTREAM_RUNS:-3}
nx=${BENCH_NX:-100}
ny=${BENCH_NY:-100}
ncases=$((nx * ny))

rm -rf "$work"
mkdir -p "$work"
cd "$work"

# ~1 KB template: comments, context lines, plain and delimited variables,
# and 3 formulas (one plain, two with format specs).
cat >input.txt <<'TEMPLATE'
# fz compile benchmark - synthetic solver input deck
# ------------------------------------------------------------------
# Geometry and physical parameters of the run. Lines starting with '#'
# are comments for the solver; '#@' lines are context for fz formulas.
#@ import math
#@ GRAVITY = 9.80665
#@ def radius(a, b):
#@     return math.sqrt(a * a + b * b)
[mesh]
nx = 128
ny = 64
refinement = 2
[physics]
length_x = ${x}
length_y = ${y}
density = 1000.0
viscosity = 1.0e-3
gravity = 9.80665
[derived]
diagonal = @{radius($x, $y) | 0.000000}
area = @{$x * $y}
potential = @{GRAVITY * $y / (1 + $x) | 0.0000E00}
[solver]
scheme = implicit
max_iterations = 500
tolerance = 1.0e-8
output_every = 10
label = case_x$x-y$y
# ------------------------------------------------------------------
# Padding to reach about one kilobyte, as a typical small input deck:
# boundary conditions: inlet=velocity outlet=pressure walls=no-slip
# initial conditions: uniform flow at rest, hydrostatic pressure
# end of input deck
TEMPLATE

# x: integers 1..nx; y: floats 0.25, 0.5, ..., ny/4 (always written with a '.')
xs=$(seq -s, 1 "$nx")
ys=$(awk -v n="$ny" 'BEGIN {
    for (i = 1; i <= n; i++) { v = i / 4; s = (v == int(v)) ? v ".0" : v; printf "%s%s", (i > 1 ? "," : ""), s }
}')
printf '{"x": [%s], "y": [%s]}\n' "$xs" "$ys" >vars.json

echo "bench: template $(wc -c <input.txt) bytes, 3 formulas, grid ${nx} x ${ny} = $ncases cases, in $work"

now() { date +%s.%N; }

# time_fzc LABEL BIN_DIR RUNS -> prints the best wall-clock seconds
time_fzc() {
    local label=$1 bin=$2 n=$3 best="" i t0 t1 t count
    for ((i = 1; i <= n; i++)); do
        rm -rf out
        t0=$(now)
        if ! "$bin/fzc" input.txt -v vars.json -o out >"$label.log" 2>&1; then
            echo "bench: $label fzc failed (run $i); last lines of its output:" >&2
            tail -n 20 "$label.log" >&2
            return 1
        fi
        t1=$(now)
        count=0
        if [[ -d out ]]; then
            count=$(find out -mindepth 1 -maxdepth 1 -type d | wc -l)
        fi
        if [[ $count -ne $ncases ]]; then
            echo "bench: $label fzc produced $count case directories, expected $ncases" >&2
            return 1
        fi
        t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
        echo "bench: $label run $i: ${t} s" >&2
        if [[ -z $best ]] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then
            best=$t
        fi
    done
    rm -rf out
    echo "$best"
}

status=0
ours=""
if ours_bin=$("$root/scripts/fz-bindir.sh" release); then
    ours=$(time_fzc ours "$ours_bin" "$runs") || status=1
else
    echo "bench: could not build our fz" >&2
    status=1
fi

upstream=""
if upstream_bin=$("$root/scripts/upstream-fz.sh"); then
    upstream=$(time_fzc upstream "$upstream_bin" "$upstream_runs") || status=1
else
    echo "bench: funz-fz 1.2 unavailable, no reference time" >&2
    status=1
fi

echo
echo "fzc compile benchmark: $ncases cases, ~1 KB template, 3 formulas"
secs() { if [[ -n $1 ]]; then echo "$1 s"; else echo "n/a"; fi; }
printf '  ours (best of %d):          %s\n' "$runs" "$(secs "$ours")"
printf '  funz-fz 1.2 (best of %d):   %s\n' "$upstream_runs" "$(secs "$upstream")"
if [[ -n $ours && -n $upstream ]]; then
    awk -v o="$ours" -v u="$upstream" 'BEGIN {
        if (o > 0) printf "  speed-up: %.1fx (funz-fz time / our time)\n", u / o
    }'
fi
exit "$status"
