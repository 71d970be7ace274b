# shellcheck shell=bash disable=SC2034  # sourced by tests/differential/run.sh
# Single file, plain $name variables, no --model (CLI default model: $ @ {} #).
# Covers greedy names ($xy vs $x), '$$x', unknown variables left as written,
# a variable next to punctuation, and an int x float grid (last key fastest).
input=input.txt
args=(-v '{"x": [1, 2, 3], "xy": [0.5, 2.0]}')
