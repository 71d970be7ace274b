#!/usr/bin/env bash
# Benchmark: per-case cost of funz:// (real Java Funz daemons on this
# machine) against sh:// on the same trivial N-case study, with 1 and 2
# calculator entries (one daemon each at a time), the daemon's own latency
# floor (a bare client doing the §7.4 sequence, nothing else), and
# funz-fz 1.2's funz:// client on the same daemons.
#
# Usage: eval "$(bash .ci/services/funz.sh start)"; bash bench/funz.sh
#
# Environment:
#   FZ_TEST_FUNZ_UDP_PORT   UDP port of two daemons offering `bash`
#                           (required; set by funz.sh)
#   BENCH_N                 cases for our runs (default 50)
#   BENCH_UPSTREAM_N        cases for funz-fz's run (default 10)
#   FZ_BIN_DIR, FZ_UPSTREAM_BIN_DIR   as in bench/run.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
port=${FZ_TEST_FUNZ_UDP_PORT:?start the daemons first: eval \"\$(bash .ci/services/funz.sh start)\"}
n=${BENCH_N:-50}
un=${BENCH_UPSTREAM_N:-10}
ours=${FZ_BIN_DIR:-$("$root/scripts/fz-bindir.sh" release)}

work=$(mktemp -d /tmp/fz-bench-funz.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
# The daemons' bash code runs `bash input.txt`: the input is the script.
printf 'x=${x}\necho "result = $x" > output.txt\n' >input.txt
model='{"varprefix":"$","formulaprefix":"@","delim":"{}","commentline":"#","output":{"r":"grep result output.txt | cut -d= -f2"}}'
vars() { printf '{"x": [%s]}' "$(seq -s, 0 $(($1 - 1)))"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
ms() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.1f", t / n * 1000 }'; }

run() { # label bin cases ncalcs uri -> seconds
    local label=$1 bin=$2 cases=$3 k=$4 uri=$5 c=() t0 t1 got
    for ((j = 0; j < k; j++)); do c+=(-c "$uri"); done
    rm -rf "res_$label"
    t0=$(now)
    "$bin/fzr" input.txt -m "$model" -v "$(vars "$cases")" "${c[@]}" \
        -r "res_$label" -f csv >"$label.csv" 2>"$label.err" || true
    t1=$(now)
    got=$(grep -c ',done,' "$label.csv" || true)
    if [[ $got -ne $cases ]]; then
        echo "bench: $label finished $got of $cases cases; stderr:" >&2
        tail -n 5 "$label.err" >&2
        return 1
    fi
    secs "$t0" "$t1"
}

# The floor: one bare session per case (RESERVE … UNRESERVE, one file),
# in Python, after the TCP port is learnt from one datagram.
floor() {
    python3 - "$port" 20 <<'EOF'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", port)); u.settimeout(15)
while True:
    d, a = u.recvfrom(4096)
    lines = d.decode().split("\n")
    if len(lines) > 6 and lines[4].startswith("idle"):
        tcp = int(lines[1]); break
u.close()
def session(x):
    s = socket.create_connection((a[0], tcp)); f = s.makefile("rb")
    def resp():
        out = []
        while True:
            l = f.readline().decode().rstrip("\n")
            if l == "/": return out
            if not out and l == "H": continue
            out.append(l)
    def req(*ls): s.sendall(("\n".join(ls) + "\n").encode())
    req("RESERVE", "/"); resp(); req("bash", "1", "USERNAME", "bench"); resp()
    req("NEWCASE", "/", "1", "USERNAME", "bench"); resp()
    body = ("x=%d\necho \"result = $x\" > output.txt\n" % x).encode()
    req("PUTFILE", "input.txt", str(len(body)), "/"); resp(); s.sendall(body); resp()
    req("EXECUTE", "bash", "/"); resp(); resp()
    req("ARCHIVE", "/"); resp(); req("GETFILE", "/"); resp()
    size = int(f.readline()); req("S"); f.read(size)
    req("UNRESERVE", "/"); resp(); s.close()
t0 = time.time()
for i in range(n): session(i)
print("%.1f" % ((time.time() - t0) / n * 1000))
EOF
}

uri="funz://:$port/bash"
echo "bench: $n trivial cases, $uri (Funz 1.16 daemons, $(java -version 2>&1 | head -n 1))"
echo "bench: daemon floor (bare Python client, one session per case, 20 cases): $(floor) ms/case"
for k in 1 2; do
    ts=$(run "sh$k" "$ours" "$n" "$k" "sh://bash input.txt")
    tf=$(run "funz$k" "$ours" "$n" "$k" "$uri")
    echo "bench: $k calculator(s): ours sh:// $ts s ($(ms "$ts" "$n") ms/case), funz:// $tf s ($(ms "$tf" "$n") ms/case): funz:// overhead $(awk -v a="$tf" -v b="$ts" -v n="$n" 'BEGIN { printf "%.1f", (a - b) / n * 1000 }') ms/case"
done
if upstream=${FZ_UPSTREAM_BIN_DIR:-$("$root/scripts/upstream-fz.sh")}; then
    if tu=$(run "up_funz" "$upstream" "$un" 1 "$uri"); then
        echo "bench: funz-fz 1.2, 1 calculator: funz:// $tu s for $un cases ($(ms "$tu" "$un") ms/case)"
    else
        echo "bench: funz-fz 1.2's funz:// run failed (see above)"
    fi
else
    echo "bench: funz-fz 1.2 unavailable: upstream comparison skipped"
fi
