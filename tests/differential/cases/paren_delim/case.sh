# shellcheck shell=bash disable=SC2034  # sourced by tests/differential/run.sh
# Single file, Java-Funz style model given inline: var_delim "()",
# formula_delim "{}". Covers $(x), $(x~default), ${x} left alone, @{...}
# formulas using both forms, and --varprefix/--formulaprefix not needed.
input=input.txt
args=(-m '{"var_prefix": "$", "var_delim": "()", "formula_prefix": "@", "formula_delim": "{}", "commentline": "#"}'
      -v '{"a": [1, 2], "b": 0.25}')
