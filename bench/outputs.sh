#!/usr/bin/env bash
# Benchmark: read N case directories with one output of each kind alone
# (shell command, python://, jq://, xpath://), with our fzo and with
# funz-fz 1.2's fzo.
#
# Usage: bash bench/outputs.sh
#
# Environment:
#   BENCH_N              case directories (default 1000)
#   FZ_BIN_DIR           directory with our fzo (skips the cargo build)
#   FZ_UPSTREAM_BIN_DIR  directory with funz-fz 1.2's fzo (skips pip)
# python:// runs in the upstream venv's Python for both tools (the same
# interpreter and packages). The scratch directory is in /dev/shm when
# possible, as in bench/compile.sh.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
n=${BENCH_N:-1000}
ours=${FZ_BIN_DIR:-$("$root/scripts/fz-bindir.sh" release)}
upstream=${FZ_UPSTREAM_BIN_DIR:-$("$root/scripts/upstream-fz.sh")}
base=/dev/shm
[[ -d $base && -w $base ]] || base=$root/target
work=$(mktemp -d "$base/fz-bench-outputs.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
for ((i = 0; i < n; i++)); do
    d=res/i=$i
    mkdir -p "$d"
    printf 'step 1\nresult = %s.5\n' "$i" >"$d/out.txt"
    printf '{"result": %s.5, "series": [1, 2, 3]}\n' "$i" >"$d/out.json"
    printf '<run><result>%s.5</result></run>\n' "$i" >"$d/out.xml"
done
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
per() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.3f", t / n * 1000 }'; }

time_fzo() { # bin model-json -> seconds; every cell must be filled
    local t0 t1
    t0=$(now)
    FZ_PYTHON=$upstream/python3 "$1/fzo" 'res/*' -m "$2" -f csv >out.csv 2>err.txt
    t1=$(now)
    if [[ $(grep -c ',,' out.csv || true) -ne 0 || $(wc -l <out.csv) -lt $((n + 1)) ]]; then
        echo "bench: empty cells with $1/fzo and $2:" >&2
        head -3 out.csv err.txt >&2
        exit 1
    fi
    secs "$t0" "$t1"
}

echo "bench: $n case directories, one output each"
printf '%-8s %22s %22s %8s\n' kind 'funz-fz 1.2 (s, ms/dir)' 'ours (s, ms/dir)' ratio
for kind in shell python jq xpath; do
    case $kind in
    shell) spec="grep 'result = ' out.txt | awk '{print \$3}'" ;;
    python) spec="python://grep(r'result = (\\\\S+)', 'out.txt')" ;;
    jq) spec="jq://.result out.json" ;;
    xpath) spec="xpath://'//result/text()' out.xml" ;;
    esac
    printf '{"output": {"r": "%s"}}\n' "$spec" >"m_$kind.json"
    tu=$(time_fzo "$upstream" "m_$kind.json")
    to=$(time_fzo "$ours" "m_$kind.json")
    printf '%-8s %11s %10s %11s %10s %7sx\n' "$kind" "$tu" "$(per "$tu" "$n")" "$to" "$(per "$to" "$n")" \
        "$(awk -v a="$tu" -v b="$to" 'BEGIN { printf "%.1f", a / b }')"
done
