# shellcheck shell=bash disable=SC2034  # sourced by tests/differential/run.sh
# Single file with formulas; the model is an alias (.fz/models/gas.json).
# Covers '#@' context lines (import, constant, multi-line def, indented
# block), '#@:' static objects, a '#@?' test line, variables by bare name
# inside formulas, string/list/bool/None results, a failing formula left in
# place, and DecimalFormat-like format specs (| 0.00, | 0.000, | #.##, | 0,
# | 000000.0, | 0.00E00, | 0.0E0, negative zero).
input=input.txt
args=(-m gas -v '{"T": [20, -40.5], "n": [1, 2.5], "label": "run"}')
# A formula fails in every case (on purpose): ours exits 1 after writing
# the same files (docs/compatibility.md, "Compile (fzc)": formula failures).
expect_rc=1
