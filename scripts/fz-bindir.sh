#!/usr/bin/env bash
# Build the fz binary and print a directory that holds it under all of its
# names (fz fzi fzc fzo fzr fzd fzl), ready to be put on PATH.
#
# Usage: scripts/fz-bindir.sh [release|debug]     (default: release)
#
# If FZ_BIN_DIR is set, nothing is built: that directory is printed as is
# (handy to try the example or the benchmark with another fz build).
# Build output goes to stderr; stdout carries only the directory.
set -euo pipefail

if [[ -n ${FZ_BIN_DIR:-} ]]; then
    if [[ ! -x $FZ_BIN_DIR/fzc ]]; then
        echo "fz-bindir.sh: FZ_BIN_DIR=$FZ_BIN_DIR has no executable fzc" >&2
        exit 1
    fi
    (cd "$FZ_BIN_DIR" && pwd)
    exit 0
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
profile=${1:-release}
case $profile in
    release) cargo_flags=(--release) ;;
    debug) cargo_flags=() ;;
    *)
        echo "fz-bindir.sh: unknown profile '$profile' (release or debug)" >&2
        exit 2
        ;;
esac

target_dir=${CARGO_TARGET_DIR:-$root/target}
# cargo only rebuilds what changed, so this is cheap when up to date.
(cd "$root" && cargo build "${cargo_flags[@]}" -p fz-cli >&2)

bin_dir=$target_dir/$profile/fz-bin
mkdir -p "$bin_dir"
for name in fz fzi fzc fzo fzr fzd fzl; do
    ln -sfn ../fz "$bin_dir/$name"
done
echo "$bin_dir"
