# shellcheck shell=bash disable=SC2034  # sourced by tests/differential/run.sh
# Directory input: files at several depths, a dot-file, a CRLF text file,
# an empty file, a per-file context (a '#@' def in one file is not visible
# in another), and a binary (non-UTF-8) file that contains '${x}' but must
# be copied byte for byte. .fz_hash line order may differ (walk order), so
# its lines are compared as a set.
input=input
args=(-m model.json -v '{"x": [1, 2.5], "y": ["a", "b"]}')
# A formula fails in every case (on purpose): ours exits 1 after writing
# the same files (docs/compatibility.md, "Compile (fzc)": formula failures).
expect_rc=1
