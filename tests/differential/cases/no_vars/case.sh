# shellcheck shell=bash disable=SC2034  # sourced by tests/differential/run.sh
# Single file without variables nor formulas and -v '{}': the single case is
# written directly into the output directory (no sub-directory).
input=input.txt
args=(-v '{}')
