#!/usr/bin/env bash
# Stress test: `kill -9` of fzr at random moments, then `--resume`, many
# times; at the end every case must be done exactly once, with the value of
# its own input, and nothing half-written may have been reused.
#
# The calculator writes its output in two steps with a pause between
# (`result =` alone, then `result = <2x>`), so a case killed half-way has a
# wrong output: if a resumed run ever kept or cached such a case, its value
# would be missing or wrong at the end.
#
# Usage: bash tests/stress/kill_resume.sh [ROUNDS [CASES]]
#   ROUNDS  kill -9 + resume cycles (default 20)
#   CASES   cases of the design (default 150; CI uses the defaults, try
#           e.g. 100 2000 by hand)
# Environment: FZ_BIN_DIR (default: this checkout's debug build, built if
# missing), STRESS_DIR (scratch directory, default a fresh mktemp -d, removed
# at the end unless the test fails).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
rounds=${1:-20}
cases=${2:-150}
bin=${FZ_BIN_DIR:-$("$root/scripts/fz-bindir.sh" debug)}
work=${STRESS_DIR:-$(mktemp -d)}
mkdir -p "$work"
cd "$work"
rm -rf results .results.fz-work runs.log

printf 'x=${x}\n' >input.txt
printf '#!/bin/bash\necho "$(cut -d= -f2 input.txt)" >> %q\n' "$work/runs.log" >calc.sh
cat >>calc.sh <<'EOF'
x=$(cut -d= -f2 input.txt)
echo "result =" > output.txt
sleep 0.0$((RANDOM % 5))
echo "result = $((2 * x))" > output.txt
EOF
model='{"varprefix":"$","formulaprefix":"@","delim":"{}","commentline":"#","output":{"r":"grep result output.txt | cut -d= -f2"}}'
# Run directly (not through a shell function) so that $! is fzr itself.
fzr=("$bin/fzr" input.txt -v "x=0:$((cases - 1))" -m "$model"
    -c "sh://bash $work/calc.sh" -c "sh://bash $work/calc.sh"
    -r results --no-progress -f json)

fail() {
    echo "kill_resume: FAILED: $*" >&2
    echo "kill_resume: scratch directory kept: $work" >&2
    exit 1
}

kills=0
for ((round = 1; round <= rounds; round++)); do
    args=(--resume)
    [[ $round -eq 1 ]] && args=()
    "${fzr[@]}" "${args[@]}" >/dev/null 2>"err.$round.txt" &
    pid=$!
    # A random moment between 0.05 and 1.5 s into the run.
    sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.05 + (r % 146) / 100 }')"
    if kill -9 "$pid" 2>/dev/null; then
        kills=$((kills + 1))
    fi
    wait "$pid" 2>/dev/null || true
    # Calculators of the killed run may still be finishing their sleep.
    sleep 0.1
done

# The last resume runs to the end.
"${fzr[@]}" --resume >final.json 2>final.err || fail "the final --resume exited $? ($(tail -1 final.err))"

python3 - "$cases" <<'EOF' || fail "wrong final results"
import json, os, sys
n = int(sys.argv[1])
rows = json.load(open("final.json"))
summary = json.load(open("results/summary.json"))
for name, table in (("stdout", rows), ("summary.json", summary)):
    xs = sorted(r["x"] for r in table)
    assert xs == list(range(n)), f"{name}: {len(xs)} rows, not each case once"
    bad = [r for r in table if r["status"] != "done" or r["r"] != 2 * r["x"]]
    assert not bad, f"{name}: {len(bad)} wrong rows, e.g. {bad[:3]}"
dirs = sorted(d for d in os.listdir("results") if d.startswith("x="))
assert len(dirs) == n, f"{len(dirs)} case directories for {n} cases"
for d in dirs:
    x = int(d.split("=")[1])
    out = open(os.path.join("results", d, "output.txt")).read()
    assert out == f"result = {2 * x}\n", f"{d}/output.txt: {out!r}"
    inp = open(os.path.join("results", d, "input.txt")).read()
    assert inp == f"x={x}\n", f"{d}/input.txt: {inp!r}"
assert not os.path.exists(".results.fz-work"), "the work area was left behind"
EOF

runs=$(wc -l <runs.log)
echo "kill_resume: $rounds rounds ($kills kill -9), $cases cases all done once with the right value; $runs calculator runs in all"
rm -rf "$work"
