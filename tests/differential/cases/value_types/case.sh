# shellcheck shell=bash disable=SC2034  # sourced by tests/differential/run.sh
# Single file, grid values of every JSON type and their Python str()
# rendering in directory names and in the file: ints (incl. negative and
# big), floats (0.1, 1e-7, 2.0, 1e16, 1.5e300, 0.30000000000000004),
# strings (with a space), booleans, null, a nested list as one value.
input=input.txt
args=(-v vars.json)
