#!/usr/bin/env bash
# Perfect-gas parametric study with fz.
#
# Usage (from anywhere, e.g. the repository root):
#   bash examples/perfectgas/run.sh
#
# 1. builds fz (cargo build --release, a no-op when up to date);
# 2. shows what the template declares (fzi);
# 3. runs the study on a 5 x 3 grid of temperatures and volumes (fzr):
#    compiles input.txt for every case, runs PerfectGazPressure.sh (the
#    calculator alias .fz/calculators/local.json) and reads the pressure
#    with the model's output command, into examples/perfectgas/results/.
#
# Set FZ_BIN_DIR to a directory holding fzi/fzr to skip the build.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

bin_dir=$("$root/scripts/fz-bindir.sh" release)
export PATH="$bin_dir:$PATH"

cd "$here" # the model alias 'perfectgas' lives in ./.fz/models/

echo "== fzi: variables and formulas declared by input.txt"
fzi input.txt -m perfectgas -f table

grid='{"T_celsius": [0, 20, 40, 60, 80], "V_L": [1, 2.5, 5], "n_mol": 1}'
echo
echo "== fzr: running the study on the grid $grid"
echo "   (calculator: the alias .fz/calculators/local.json, found automatically)"
rm -rf results
fzr input.txt -m perfectgas -v "$grid" -r results -f table

done_cases=$(grep -c ',done,' results/summary.csv || true)
if [[ $done_cases -ne 15 ]]; then
    echo "expected 15 done cases in results/summary.csv, found $done_cases" >&2
    exit 1
fi
echo
echo "$done_cases cases run; results in $here/results (summary.csv, summary.json, one directory per case)"
