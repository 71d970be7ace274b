#!/usr/bin/env bash
# Benchmark: formula evaluation in the persistent python3 / Rscript workers,
# one round trip per case vs batches of 64, 256 and 1000 cases (the batch
# size fzc uses is 128 for Python, 64 for R; see docs/performance.md).
#
# Usage: bash bench/formulas.sh
#
# Environment:
#   FZ_BENCH_CASES  number of cases (default 10000)
# The scenario lives next to the worker code it measures (an ignored test in
# crates/fz-core/src/template/interp/mod.rs: it needs the crate's internals);
# it also checks that every batch size gives the same values.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo test --release -q -p fz-core --lib bench_case_throughput -- --ignored --nocapture
