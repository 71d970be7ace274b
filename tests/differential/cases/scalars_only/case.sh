# shellcheck shell=bash disable=SC2034  # sourced by tests/differential/run.sh
# Single file, only scalar values (no list): still one sub-directory named
# after all variables (a=1,b=2.0,c=hello).
input=input.txt
args=(-v '{"a": 1, "b": 2.0, "c": "hello"}')
