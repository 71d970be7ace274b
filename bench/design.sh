#!/usr/bin/env bash
# Benchmark: fzd bookkeeping per iteration (everything but the calculator's
# own time), 100 iterations x 10 points, ours against funz-fz 1.2, and the
# evaluations each needs to reach a tolerance on two test functions.
#
# Usage: bash bench/design.sh
#
# Environment:
#   BENCH_ITER           iterations (default 100; 10 points each)
#   BENCH_ONLY           "ours" or "upstream" to run one side only
#   FZ_BIN_DIR           directory with our fzd (skips the cargo build)
#   FZ_UPSTREAM_BIN_DIR  directory with funz-fz 1.2's fzd (skips pip)
#
# Both tools run montecarlo_uniform (ours: the built-in; upstream: its
# example plugin, which needs scipy, installed into its venv here) with
# batch_sample_size=10, max_iterations=BENCH_ITER and an unreachable
# target, on one sh:// calculator that logs its own start and end times.
# With one calculator, invocations 10k..10k+9 are iteration k+1, so the
# bookkeeping of iteration k+1 is (end of its last invocation - end of the
# previous iteration's last) minus the time spent inside the calculator.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
iters=${BENCH_ITER:-100}
only=${BENCH_ONLY:-}
base=/dev/shm
[[ -d $base && -w $base ]] || base=$root/target
work=$(mktemp -d "$base/fz-bench-design.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

printf 'x = ${x}\ny = ${y}\n' >input.txt
cat >calc.sh <<'SH'
#!/bin/bash
s=$(date +%s.%N)
echo "f = $RANDOM" > output.txt
e=$(date +%s.%N)
echo "$s $e" >> "$CALC_LOG"
SH
model='{"varprefix": "$", "delim": "{}", "output": {"f": "grep f output.txt | cut -d= -f2"}}'
vars='{"x": "[0;1]", "y": "[0;1]"}'
opts="{\"batch_sample_size\": 10, \"max_iterations\": $iters, \"target_confidence_range\": 1e-12}"

# Per-iteration bookkeeping (ms): mean of the first ten iterations, of the
# last ten, and over all. Where the iterations have journals (ours), the
# calculator's time is fz's own measure of each attempt, process start-up
# included; otherwise (upstream) the calculator's log, which leaves the
# start-up of bash in the bookkeeping (a few ms per case).
report() { # $1 label, $2 log, $3 wall seconds, $4 analysis dir
    python3 - "$@" <<'PY'
import glob, os, sys
label, log, wall, ana = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
journals = sorted(glob.glob(os.path.join(ana, "iter*", "fz_journal.tsv")))
if journals:
    batches = []
    for j in journals:
        rows = [l.split("\t") for l in open(j).read().splitlines()[1:]]
        batches.append([(float(r[3]), float(r[4])) for r in rows if r[1] != "0"])
    how = "journal"
else:
    rows = [tuple(map(float, l.split())) for l in open(log)]
    batches = [rows[k:k + 10] for k in range(0, len(rows) - 9, 10)]
    how = "calculator log"
per, prev_end = [], None
for batch in batches:
    inside = sum(e - s for s, e in batch)
    end = max(e for _, e in batch)
    if prev_end is not None:
        per.append((end - prev_end - inside) * 1000)
    prev_end = end
n = sum(len(b) for b in batches)
calc = sum(e - s for b in batches for s, e in b)
first, last = per[:10], per[-10:]
print(f"{label}: {n} evaluations, wall {wall:.2f} s, calculator {calc:.2f} s ({how}); "
      f"bookkeeping per iteration: first 10 {sum(first)/len(first):.1f} ms, last 10 "
      f"{sum(last)/len(last):.1f} ms, mean {sum(per)/len(per):.1f} ms")
PY
}

run() { # $1 label, $2 fzd, $3 algorithm
    export CALC_LOG=$work/$1.log
    rm -f "$CALC_LOG"
    local t0 t1
    t0=$(date +%s.%N)
    FZ_PROGRESS=0 "$2" -i input.txt -m "$model" -v "$vars" -e f -a "$3" -o "$opts" \
        -c "sh://bash $work/calc.sh" -r "ana_$1" >/dev/null 2>"$1.err" || {
        echo "$1 failed:" >&2
        tail -5 "$1.err" >&2
    }
    t1=$(date +%s.%N)
    report "$1" "$CALC_LOG" "$(echo "$t1 - $t0" | bc)" "ana_$1"
}

if [[ $only != upstream ]]; then
    ours=${FZ_BIN_DIR:-$("$root/scripts/fz-bindir.sh" release)}
    run ours "$ours/fzd" montecarlo_uniform
fi
if [[ $only != ours ]]; then
    upstream=${FZ_UPSTREAM_BIN_DIR:-$("$root/scripts/upstream-fz.sh")}
    "$upstream/python" -c 'import scipy' 2>/dev/null ||
        "$upstream/python" -m pip install --quiet --disable-pip-version-check scipy
    tree=$work/upstream-tree
    mkdir -p "$tree"
    tar xzf "$root/../shared/upstream/funz-fz-1.2-tree.tgz" -C "$tree" ./examples/algorithms
    run upstream "$upstream/fzd" "$tree/examples/algorithms/montecarlo_uniform.py"
fi

# Evaluations to reach a tolerance: our built-ins vs upstream's example
# plugins (brent.py is a bisection, bfgs.py a random local search).
venv=$root/.ci/.venv
if [[ $only != upstream ]]; then
    if "$venv/bin/python" -c 'import fz, sys; sys.exit(0 if hasattr(fz, "fzd") else 1)' 2>/dev/null; then
        echo "ours (built-ins):"
        FZ_PROGRESS=0 "$venv/bin/python" "$root/bench/design_evals.py" 2>/dev/null
    else
        echo "ours: no fz module with fzd in $venv (run 'bash .ci/install' and pip install .)" >&2
    fi
fi
if [[ $only != ours ]]; then
    echo "upstream 1.2 (examples/algorithms plugins):"
    FZ_PROGRESS=0 "$upstream/python" "$root/bench/design_evals.py" "$tree/examples/algorithms" 2>/dev/null
fi
