#!/usr/bin/env bash
# Upstream funz-fz 1.2's own test suite against our installed `fz` module.
#
#   bash tests/upstream/run.sh            # public-API tests only (what CI runs)
#   bash tests/upstream/run.sh --all      # every test file (private ones for information)
#
# Unpacks $root/../shared/upstream/funz-fz-1.2-tree.tgz (upstream's tests and
# fixtures, without its fz/ package) into a temporary directory, classifies
# each test as public or private (tests/upstream/classify.py, rule in
# docs/compatibility.md), runs the test files one by one with a timeout, and
# tallies the JUnit results (tests/upstream/report.py) against
# docs/upstream-expected.tsv. Fails on a public test that fails without being
# listed there. Python: FZ_UPSTREAM_PYTHON, default .ci/.venv/bin/python,
# which must have our module, pytest and pytest-timeout installed.
# FZ_UPSTREAM_KEEP=<dir>: keep the classification, JUnit files and logs there.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tgz=$root/../shared/upstream/funz-fz-1.2-tree.tgz
python=${FZ_UPSTREAM_PYTHON:-$root/.ci/.venv/bin/python}
file_timeout=${FZ_UPSTREAM_FILE_TIMEOUT:-300}
test_timeout=${FZ_UPSTREAM_TEST_TIMEOUT:-60}
all=0
if [[ ${1:-} == --all ]]; then all=1; fi

if [[ ! -f $tgz ]]; then
    echo "upstream test suite: $tgz not found, step skipped"
    exit 0
fi
if ! "$python" -c 'import fz, pytest, pytest_timeout' 2>/dev/null; then
    echo "upstream test suite: $python lacks fz, pytest or pytest-timeout (run .ci/install, then pip install .)" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tree" "$work/junit"
tar -xzf "$tgz" -C "$work/tree"
"$python" "$root/tests/upstream/classify.py" "$work/tree/tests" > "$work/classes.tsv"

# Our venv's bin first: tests run `fz`, `fzr`, `python -m fz` as subprocesses.
export PATH="$(dirname "$python"):$PATH"
unfinished=()
start=$SECONDS
cd "$work/tree"
for file in tests/test_*.py; do
    name=$(basename "$file")
    if [[ $all -eq 1 ]]; then
        targets=("$file")
    else
        mapfile -t targets < <(awk -F'\t' -v f="$name" '$2 == "public" && index($1, f "::") == 1 { print "tests/" $1 }' "$work/classes.tsv")
        [[ ${#targets[@]} -gt 0 ]] || continue
    fi
    rc=0
    timeout "$file_timeout" "$python" -m pytest -q -p no:cacheprovider --timeout="$test_timeout" \
        --junitxml="$work/junit/${name%.py}.xml" "${targets[@]}" > "$work/${name%.py}.log" 2>&1 || rc=$?
    if [[ $rc -eq 124 ]]; then
        echo "  $name: did not finish in ${file_timeout}s"
        unfinished+=("$name")
    fi
done
echo "upstream test files ran in $((SECONDS - start)) s"
if [[ -n ${FZ_UPSTREAM_KEEP:-} ]]; then
    mkdir -p "$FZ_UPSTREAM_KEEP"
    cp -r "$work/classes.tsv" "$work/junit" "$work"/*.log "$FZ_UPSTREAM_KEEP"/
fi
"$python" "$root/tests/upstream/report.py" "$work/classes.tsv" "$work/junit" \
    "$root/docs/upstream-expected.tsv" "${unfinished[@]}"
