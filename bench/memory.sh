#!/usr/bin/env bash
# Benchmark: peak memory (RSS) and disk used per case of large fzr runs.
# A trivial calculator (`cat` of the compiled `x=<x>` input, which fz
# captures in out.txt), the model's one output read back from it, N cases on two calculator
# slots; the peak RSS is /usr/bin/time's "Maximum resident set size" of the
# whole fzr process, the disk use `du` of the results directory divided by
# N. Every run is checked: N rows, all done, each with r == x.
#
# Usage: bash bench/memory.sh [N ...]        (default: 20000 100000)
#
# Environment:
#   FZ_BIN_DIR   directory holding the fzr to measure (default: this
#                checkout's release build, built if missing). To compare
#                with an older commit, build it elsewhere and point here.
#   BENCH_DIR    scratch directory (default: /dev/shm when it is tmpfs,
#                else target/bench-memory); removed at the end.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(20000 100000)
if [[ -n ${BENCH_DIR:-} ]]; then
    work=$BENCH_DIR
elif [[ -d /dev/shm && -w /dev/shm ]] && [[ $(stat -f -c %T /dev/shm) == tmpfs ]]; then
    work=/dev/shm/fz-bench-memory.$$
else
    work=${CARGO_TARGET_DIR:-$root/target}/bench-memory
fi
trap 'rm -rf "$work"' EXIT
bin=${FZ_BIN_DIR:-$("$root/scripts/fz-bindir.sh" release)}
[[ -x /usr/bin/time ]] || { echo "bench/memory.sh needs /usr/bin/time (GNU time)" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"
cd "$work"
printf 'x=${x}\n' >input.txt
model='{"varprefix":"$","formulaprefix":"@","delim":"{}","commentline":"#","output":{"r":"grep x= out.txt | cut -d= -f2"}}'

printf '%-8s %12s %14s %14s %10s %9s\n' cases "peak RSS MB" "RSS KB/case" "disk KB/case" "files/case" "time s"
for n in "${sizes[@]}"; do
    rm -rf results .results.fz-work
    /usr/bin/time -v -o time.txt "$bin/fzr" input.txt -v "x=0:$((n - 1))" -m "$model" \
        -c "sh://cat" -c "sh://cat" \
        -r results --no-progress -f json >out.json 2>err.txt || {
        echo "fzr failed on $n cases:" >&2
        tail -5 err.txt >&2
        exit 1
    }
    # Every case done, with its own value (a fast wrong run proves nothing).
    python3 - "$n" <<'EOF'
import json, sys
n = int(sys.argv[1])
rows = json.load(open("out.json"))
bad = [r for r in rows if r["status"] != "done" or r["r"] != r["x"]]
assert len(rows) == n and not bad, f"{len(rows)} rows, {len(bad)} wrong: {bad[:3]}"
EOF
    rss_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' time.txt)
    wall=$(awk '/Elapsed \(wall clock\)/ {print $NF}' time.txt)
    disk_kb=$(du -sk results | cut -f1)
    files=$(find results -type f | wc -l)
    awk -v n="$n" -v rss="$rss_kb" -v disk="$disk_kb" -v files="$files" -v wall="$wall" 'BEGIN {
        printf "%-8d %12.1f %14.2f %14.2f %10.2f %9s\n", n, rss / 1024, rss / n, disk / n, files / n, wall }'
done
