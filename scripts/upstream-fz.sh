#!/usr/bin/env bash
# Make the reference implementation (Python funz-fz 1.2 from PyPI) available
# in a throw-away virtual environment under target/, and print the directory
# holding its fzi/fzc/... commands.
#
# Usage: scripts/upstream-fz.sh
#
# If FZ_UPSTREAM_BIN_DIR is set, that directory is used instead (nothing is
# installed). On failure the reason is printed on stderr and the exit status
# is 1, so callers can decide to skip.
set -euo pipefail

version=1.2

check() { # $1 = bin dir
    [[ -x $1/fzc ]] && [[ $("$1/fzc" --version 2>/dev/null) == "fzc $version" ]]
}

if [[ -n ${FZ_UPSTREAM_BIN_DIR:-} ]]; then
    if ! check "$FZ_UPSTREAM_BIN_DIR"; then
        echo "FZ_UPSTREAM_BIN_DIR=$FZ_UPSTREAM_BIN_DIR has no working fzc $version" >&2
        exit 1
    fi
    (cd "$FZ_UPSTREAM_BIN_DIR" && pwd)
    exit 0
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${CARGO_TARGET_DIR:-$root/target}/upstream-venv

if check "$venv/bin"; then
    echo "$venv/bin"
    exit 0
fi

if ! command -v python3 >/dev/null 2>&1; then
    echo "python3 not found" >&2
    exit 1
fi
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
if ! log=$(python3 -m venv "$venv" 2>&1); then
    echo "cannot create a Python venv (python3 -m venv): ${log##*$'\n'}" >&2
    rm -rf "$venv"
    exit 1
fi
if ! log=$("$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --timeout 60 --retries 2 "funz-fz==$version" 2>&1); then
    echo "pip install funz-fz==$version failed: ${log##*$'\n'}" >&2
    rm -rf "$venv"
    exit 1
fi
if ! check "$venv/bin"; then
    echo "funz-fz $version installed but '$venv/bin/fzc --version' does not answer 'fzc $version'" >&2
    exit 1
fi
echo "$venv/bin"
