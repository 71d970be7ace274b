# shellcheck shell=bash disable=SC2034  # sourced by tests/differential/run.sh
# Single file, ${name} and ${name~default} forms (model file, delim {}).
# Covers: delimited and plain forms mixed, defaults used when a variable is
# not in the grid (number, string, list texts), unknown ${...} left as is,
# $(x) not a variable with delim {}, a UTF-8 (non-ASCII) template.
input=input.txt
args=(-m model.json -v vars.json)
