#!/usr/bin/env bash
# Benchmark: size and generation time of `fz report --html` on a results
# directory of N cases (default 100,000), and optionally the time headless
# Chromium takes to load and screenshot the page.
#
# Usage: bash bench/report.sh
#
# Environment:
#   BENCH_N     cases (default 100000)
#   FZ_BIN_DIR  directory with our fz (skips the cargo build)
# The results directory is synthetic (summary.json and fz_journal.tsv as
# fzr writes them, 1 % failed cases, 8 calculator slots): what is measured
# is the report, not a run. Variables: x (200 values), y (20), z (25);
# outputs p (spans 6 decades: log axis) and q. Chromium gets a proxy that
# refuses connections (port 9) so that its own background traffic cannot
# wait on the network.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
n=${BENCH_N:-100000}
bin=${FZ_BIN_DIR:-$("$root/scripts/fz-bindir.sh" release)}
base=/dev/shm
[[ -d $base && -w $base ]] || base=$root/target
work=$(mktemp -d "$base/fz-bench-report.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir results
python3 - "$n" <<'PY'
import json, sys
n = int(sys.argv[1])
rows, journal = [], ["case\tattempt\tcalculator\tstart\tend\tduration_s\texit_code\tstatus\thost\terror"]
t0 = 1_700_000_000.0
for i in range(n):
    x, y, z = i // 500 % 200, i // 25 % 20, i % 25
    name = f"x={x},y={y},z={z}" if n <= 100_000 else f"i={i}"
    failed = i % 100 == 99
    p = None if failed else 10 ** (x / 40) * (1 + y / 10)
    rows.append({"x": x, "y": y, "z": z, "p": p, "q": None if failed else y * z - x,
                 "path": f"results/{name}", "calculator": f"sh://bash calc.sh",
                 "status": "failed" if failed else "done",
                 "error": "Command failed with exit code 1" if failed else None,
                 "command": "bash calc.sh", "exit_code": 1 if failed else 0, "attempts": 1})
    start = t0 + (i // 8) * 0.5 + (i % 8) * 0.01
    journal.append(f"{name}\t1\tsh://bash calc.sh\t{start:.3f}\t{start + 0.45:.3f}\t0.450\t"
                   f"{1 if failed else 0}\t{'failed' if failed else 'done'}\thost\t")
json.dump(rows, open("results/summary.json", "w"))
open("results/fz_journal.tsv", "w").write("\n".join(journal) + "\n")
PY
now() { date +%s.%N; }
t0=$(now)
"$bin/fz" report --html results -o report.html >/dev/null
t1=$(now)
size=$(stat -c %s report.html)
gen=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
echo "cases: $n"
echo "report.html: $size bytes ($(awk -v s="$size" 'BEGIN { printf "%.2f", s / 1048576 }') MiB)"
echo "generation: $gen s"
if command -v chromium >/dev/null 2>&1; then
    t0=$(now)
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --proxy-server=http://127.0.0.1:9 --proxy-bypass-list="<-loopback>" \
        --user-data-dir="$work/chromium" --screenshot="$work/shot.png" \
        --window-size=1200,2000 "file://$work/report.html" >/dev/null 2>&1
    t1=$(now)
    echo "chromium load + screenshot (includes browser start): $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
fi
