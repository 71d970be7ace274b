# shellcheck shell=bash disable=SC2034  # sourced by tests/differential/run.sh
# Single file with a non-default syntax set by the inline-flag options
# (--varprefix % --formulaprefix % --delim [] --commentline //): variable
# and formula prefixes are equal, so %[x] is a variable and %[x * 2] a
# formula; context lines start with '//%'.
input=input.c
args=(--varprefix % --formulaprefix % --delim '[]' --commentline //
      -v '{"size": [8, 16], "scale": 1.5}')
