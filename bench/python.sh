#!/usr/bin/env bash
# Benchmark: what the Python layer costs.
#   1. The same 1,000-case study (bench/run.sh's trivial calculator, one
#      output) run with the `fzr` command and with `fz.fzr(...)` from Python;
#      both use the same release build (the wheel built from this tree).
#   2. Converting a 100,000-row result to a pandas DataFrame: `fz.fzo` over
#      100,000 synthetic case directories, split into the Rust part (the
#      table as JSON text) and the conversion (JSON → DataFrame).
#   3. One case: the whole `fzr` process against one `fz.fzr(...)` call in
#      a Python process that has already imported fz and pandas (median of
#      BENCH_REPEAT runs each; the first call of a process apart).
#
# Usage: bash bench/python.sh
# Environment: BENCH_N (default 1000), BENCH_ROWS (default 100000),
#   BENCH_ONLY (run one part: "study", "table" or "one"), BENCH_REPEAT
#   (default 20),
#   BENCH_VENV (default target/bench-venv: a venv with the wheel, pandas),
#   BENCH_DIR (scratch dir; default under /dev/shm when it is tmpfs).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
n=${BENCH_N:-1000}
rows=${BENCH_ROWS:-100000}
venv=${BENCH_VENV:-${CARGO_TARGET_DIR:-$root/target}/bench-venv}
if [[ -n ${BENCH_DIR:-} ]]; then
    work=$BENCH_DIR
elif [[ -d /dev/shm && -w /dev/shm ]] && [[ $(stat -f -c %T /dev/shm) == tmpfs ]]; then
    work=/dev/shm/fz-bench-python.$$
    trap 'rm -rf "$work"' EXIT
else
    work=${CARGO_TARGET_DIR:-$root/target}/bench-python
fi

if [[ ! -x $venv/bin/python ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check pandas
fi
echo "building and installing the wheel into $venv ..." >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps "$root" >&2
py=$venv/bin/python

rm -rf "$work"
mkdir -p "$work"
cd "$work"
printf 'x=${x}\n' >input.txt
printf '#!/bin/bash\necho "result = $(cut -d= -f2 "$1")" > output.txt\n' >calc.sh
model='{"varprefix":"$","formulaprefix":"@","delim":"{}","commentline":"#","output":{"r":"grep result output.txt | cut -d= -f2"}}'
vars=$(printf '{"x": [%s]}' "$(seq -s, 0 $((n - 1)))")
export FZ_PROGRESS=0
only=${BENCH_ONLY:-}

study() {
best_cli=999999
for _ in 1 2 3; do
    t=$("$py" - "$model" "$vars" "$venv/bin/fzr" <<'PY'
import subprocess, sys, time
model, variables, fzr = sys.argv[1:4]
t0 = time.perf_counter()
subprocess.run([fzr, "input.txt", "-m", model, "-v", variables, "-c", "sh://bash calc.sh",
                "-c", "sh://bash calc.sh", "-r", "cli", "-f", "csv"], check=True, stdout=subprocess.DEVNULL)
print(f"{time.perf_counter() - t0:.3f}")
PY
)
    best_cli=$(awk -v a="$best_cli" -v b="$t" 'BEGIN { print (b < a) ? b : a }')
done
best_py=999999
best_call=999999
for _ in 1 2 3; do
    read -r t c < <("$py" - "$model" "$vars" <<'PY'
import json, sys, time
t0 = time.perf_counter()
import fz, pandas
t1 = time.perf_counter()
model, variables = json.loads(sys.argv[1]), json.loads(sys.argv[2])
df = fz.fzr("input.txt", variables, model, ["sh://bash calc.sh"] * 2, "py")
assert len(df) == len(variables["x"]) and (df["status"] == "done").all()
print(f"{time.perf_counter() - t0:.3f} {time.perf_counter() - t1:.3f}")
PY
)
    best_py=$(awk -v a="$best_py" -v b="$t" 'BEGIN { print (b < a) ? b : a }')
    best_call=$(awk -v a="$best_call" -v b="$c" 'BEGIN { print (b < a) ? b : a }')
done
pct() { awk -v a="$best_cli" -v b="$1" 'BEGIN { printf "%+.1f", (b - a) * 100 / a }'; }
echo "fzr, $n cases, 2 calculators (best of 3): CLI process ${best_cli} s;" \
    "Python process ${best_py} s ($(pct "$best_py") %, import of fz and pandas included);" \
    "the fz.fzr call alone ${best_call} s ($(pct "$best_call") %)"
}

table() {
"$py" - "$rows" <<'PY'
import json, os, sys, time
rows = int(sys.argv[1])
os.makedirs("big", exist_ok=True)
for i in range(rows):
    d = f"big/x={i}"
    os.mkdir(d)
    with open(f"{d}/output.txt", "w") as f:
        f.write(f"result = {i}\n")
import fz, pandas
from fz import _fz
model = {"output": {"r": "grep result output.txt | cut -d= -f2"}}
spec, is_json = fz._model_args(model)
t0 = time.perf_counter()
text = _fz.fzo("big/*", spec, is_json)
t1 = time.perf_counter()
df = fz._dataframe(text)
t2 = time.perf_counter()
assert len(df) == rows and df["r"].sum() == rows * (rows - 1) // 2, df
print(f"fzo over {rows} case directories: {t1 - t0:.2f} s in Rust (table as JSON text), "
      f"{t2 - t1:.2f} s to turn it into a DataFrame ({len(df.columns)} columns)")
# An fzr-shaped table: 2 variables, 2 outputs, path, calculator, status,
# error, command, exit_code, attempts.
columns = ["T", "V", "pressure", "label", "path", "calculator", "status", "error", "command",
           "exit_code", "attempts"]
table = {"columns": columns, "rows": [
    [i, i * 0.5, i * 8.314, f"c{i}", f"results/T={i},V={i * 0.5}", "sh://bash calc.sh", "done",
     None, "bash calc.sh input.txt", 0, 1] for i in range(rows)]}
text = json.dumps(table)
t0 = time.perf_counter()
df = fz._dataframe(text)
t1 = time.perf_counter()
assert len(df) == rows and df["pressure"].dtype.kind == "f" and df["T"].dtype.kind == "i"
print(f"an fzr table of {rows} rows x {len(columns)} columns ({len(text) // 1_000_000} MB of JSON) "
      f"to a DataFrame: {t1 - t0:.2f} s")
PY
}

one() {
local bin
bin=${FZ_BIN_DIR:-$("$root/scripts/fz-bindir.sh" release)}
"$py" - "$model" "$bin/fzr" "$venv/bin/fzr" "${BENCH_REPEAT:-20}" <<'PY'
import json, statistics, subprocess, sys, time
model, binary, script, repeat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])


def cli(fzr, label):
    took = []
    for k in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([fzr, "input.txt", "-m", model, "-v", '{"x": [1]}', "-c", "sh://bash calc.sh",
                        "-r", f"one_{label}{k}", "-f", "csv"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        took.append(time.perf_counter() - t0)
    return statistics.median(took)


binary_ms, script_ms = cli(binary, "bin"), cli(script, "script")
import fz, pandas  # noqa: E401 - imported before the clock starts, as in a notebook
calls = []
for k in range(repeat + 1):
    t0 = time.perf_counter()
    df = fz.fzr("input.txt", {"x": [1]}, json.loads(model), "sh://bash calc.sh", f"one_py{k}")
    sys.stderr.flush()
    calls.append(time.perf_counter() - t0)
    assert list(df["status"]) == ["done"], df
first, rest = calls[0], calls[1:]
ms = lambda v: f"{v * 1000:.1f} ms"
call = statistics.median(rest)
print(f"one case (median of {repeat}): fzr binary process {ms(binary_ms)}; fzr console "
      f"script (pip install) {ms(script_ms)}; fz.fzr call {ms(call)} (first call of the "
      f"process {ms(first)}); call minus binary process {ms(call - binary_ms)}")
PY
}

case $only in
    study) study ;;
    table) table ;;
    one) one ;;
    "") study; table; one ;;
    *) echo "BENCH_ONLY must be study, table or one" >&2; exit 2 ;;
esac
