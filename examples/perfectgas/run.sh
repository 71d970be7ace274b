#!/usr/bin/env bash
# Perfect-gas parametric study with fz.
#
# Usage (from anywhere, e.g. the repository root):
#   bash examples/perfectgas/run.sh
#
# 1. builds fz (cargo build --release, a no-op when up to date);
# 2. shows what the template declares (fzi);
# 3. compiles the template for a 5 x 3 grid of temperatures and volumes
#    into examples/perfectgas/compiled/<case>/ (fzc);
# 4. runs the calculator PerfectGazPressure.sh in every case directory and
#    reads the pressure back with the model's output command.
#
# Set FZ_BIN_DIR to a directory holding fzi/fzc to skip the build.
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
echo "== fzc: compiling input.txt for the grid $grid"
rm -rf compiled
fzc input.txt -m perfectgas -v "$grid" -o compiled

echo
echo "== running PerfectGazPressure.sh in every case directory"
shopt -s nullglob
ncases=0
printf '%-34s %14s\n' "case" "pressure (Pa)"
for case_dir in compiled/*/; do
    case_dir=${case_dir%/}
    (cd "$case_dir" && bash "$here/PerfectGazPressure.sh" input.txt >/dev/null)
    # Same extraction as the model's "output" entry for 'pressure'.
    pressure=$(cd "$case_dir" && grep 'pressure = ' output.txt | awk '{print $3}')
    printf '%-34s %14s\n' "${case_dir#compiled/}" "$pressure"
    ncases=$((ncases + 1))
done

if [[ $ncases -ne 15 ]]; then
    echo "expected 15 case directories, found $ncases" >&2
    exit 1
fi
echo
echo "$ncases cases compiled and run under $here/compiled"
echo "(example of a compiled input: compiled/T_celsius=20,V_L=2.5,n_mol=1/input.txt)"
