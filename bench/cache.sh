#!/usr/bin/env bash
# Benchmark: resume a study entirely from a cache of N cases, for N = 1,000,
# 10,000 and 100,000 (synthetic case directories written by a Python script:
# compiled input, .fz_hash, info.txt state=done, output.txt), with our fzr,
# twice (without, then with the cache's index); and funz-fz 1.2's fzr on the
# 1,000-case cache (without our index: it ignores .fz/).
#
# Usage: bash bench/cache.sh
# Environment: BENCH_SIZES (default "1000 10000 100000"), BENCH_UPSTREAM_N
# (default 1000; 0 skips upstream), FZ_BIN_DIR, FZ_UPSTREAM_BIN_DIR,
# BENCH_DIR (default: a directory in /dev/shm when it is a tmpfs).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -n ${BENCH_DIR:-} ]]; then
    work=$BENCH_DIR
elif [[ -d /dev/shm && -w /dev/shm ]] && [[ $(stat -f -c %T /dev/shm) == tmpfs ]]; then
    work=/dev/shm/fz-bench-cache.$$
    trap 'rm -rf "$work"' EXIT
else
    work=${CARGO_TARGET_DIR:-$root/target}/bench-cache
fi
sizes=${BENCH_SIZES:-1000 10000 100000}
un=${BENCH_UPSTREAM_N:-1000}
ours=${FZ_BIN_DIR:-$("$root/scripts/fz-bindir.sh" release)}

rm -rf "$work"
mkdir -p "$work"
cd "$work"
printf 'x=${x}\n' >input.txt
printf '#!/bin/bash\necho "result = computed" > output.txt\n' >calc.sh
model='{"varprefix":"$","formulaprefix":"@","delim":"{}","commentline":"#","output":{"r":"grep result output.txt | cut -d= -f2"}}'
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

make_cache() { # N DIR
    python3 - "$1" "$2" <<'PY'
import hashlib, json, os, sys
n, d = int(sys.argv[1]), sys.argv[2]
os.makedirs(d)
for i in range(n):
    c = f"{d}/x={i}"
    os.mkdir(c)
    text = f"x={i}\n"
    with open(f"{c}/input.txt", "w") as f: f.write(text)
    with open(f"{c}/.fz_hash", "w") as f: f.write(hashlib.md5(text.encode()).hexdigest() + "  input.txt\n")
    with open(f"{c}/info.txt", "w") as f: f.write("state=done\n")
    with open(f"{c}/output.txt", "w") as f: f.write(f"result = {i}\n")
with open(f"vars_{n}.json", "w") as f: json.dump({"x": list(range(n))}, f)
PY
}

resume() { # N LABEL: one fzr resuming the N-case study from cache_N
    local n=$1 t0 t1 t hits
    rm -rf "res_$n"
    t0=$(now)
    "$ours/fzr" input.txt -m "$model" -v "vars_$n.json" -c "cache://cache_$n" -c "sh://bash calc.sh" -r "res_$n" -f csv >"ours_$n.csv" 2>"ours_$n.err"
    t1=$(now)
    t=$(secs "$t0" "$t1")
    hits=$(grep -c "cache://cache_$n" "ours_$n.csv" || true)
    [[ $hits -eq $n ]] || { echo "bench: only $hits of $n cases were cache hits" >&2; exit 1; }
    echo "bench: ours, $n cached cases, study of $n, $2: $t s, $(awk -v t="$t" -v n="$n" 'BEGIN { printf "%.1f", t / n * 1e6 }') µs per hit"
    rm -rf "res_$n"
}

for n in $sizes; do
    make_cache "$n" "cache_$n"
    # The synthetic cache has no index (as one written by funz-fz): the
    # first run scans every .fz_hash and writes cache_N/.fz/cache-index.tsv,
    # the second reads the index.
    resume "$n" "no index (scan)"
    [[ -f cache_$n/.fz/cache-index.tsv ]] || { echo "bench: no index written in cache_$n" >&2; exit 1; }
    resume "$n" "with index"
done

if [[ $un -gt 0 ]]; then
    upstream=${FZ_UPSTREAM_BIN_DIR:-$("$root/scripts/upstream-fz.sh")}
    rm -rf "cache_$un"
    make_cache "$un" "cache_$un"
    t0=$(now)
    "$upstream/fzr" input.txt -m "$model" -v "vars_$un.json" -c "cache://cache_$un" -c "sh://bash calc.sh" -r "up_$un" -f csv >"upstream_$un.csv" 2>/dev/null
    t1=$(now)
    tu=$(secs "$t0" "$t1")
    echo "bench: funz-fz 1.2, $un cached cases, study of $un: $tu s, $(awk -v t="$tu" -v n="$un" 'BEGIN { printf "%.1f", t / n * 1e6 }') µs per hit"
fi
