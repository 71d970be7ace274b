#!/usr/bin/env bash
# Differential test of output extraction: our `fzo` against funz-fz 1.2's
# `fzo` on the same case directories, with every output kind both support
# (shell commands, python://, jq://, xpath://).
#
# Usage: bash tests/differential/outputs.sh
#
# Upstream runs the jq and xmllint executables (.ci/install installs them);
# ours runs jq in-process and xmllint as a program. The values of every
# cell must be equal. Two differences of form are not differences of
# value, and are documented in docs/compatibility.md: upstream's JSON comes
# from a pandas DataFrame, so a column holding 1.5 prints an integer 3 as
# 3.0, and an empty cell as NaN (ours: 3 and null). Error texts are not
# compared (they are documented as different); which cells failed is.
# The reference is installed as for tests/differential/run.sh; if that is
# impossible the test prints "SKIPPED: ..." and exits 0.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=${CARGO_TARGET_DIR:-$root/target}/differential-outputs
rm -rf "$work"
mkdir -p "$work"
if ! upstream_bin=$("$root/scripts/upstream-fz.sh" 2>"$work/upstream-install.log"); then
    echo "SKIPPED: output differential test against funz-fz 1.2: $(tr '\n' ' ' <"$work/upstream-install.log")"
    exit 0
fi
ours_bin=$("$root/scripts/fz-bindir.sh" debug)
for tool in jq xmllint; do
    command -v "$tool" >/dev/null || {
        echo "outputs differential: '$tool' is needed by funz-fz 1.2 (bash .ci/install)" >&2
        exit 1
    }
done

cd "$work"
case_dir() { mkdir -p "res/$1"; }
case_dir "x=1"
printf 'T=1.5\nT=2\nT=abc\nname: foo\n' >res/x=1/calc.log
printf '{"e": 1.5, "arr": [1, 2, 3], "one": [7], "o": {"k": "v"}, "s": "a b"}\n' >res/x=1/r.json
printf '<r><p>1.5</p><v>1</v><v>2</v><w>x y</w></r>\n' >res/x=1/o.xml
printf 'a,b\n1,2\n3,4\n' >res/x=1/d.csv
case_dir "x=2"
printf 'T=3\n' >res/x=2/calc.log
printf '{"e": 2, "arr": [], "one": [8], "o": {}, "s": ""}\n' >res/x=2/r.json
printf '<r><p>abc</p><v>3</v><w>z</w></r>\n' >res/x=2/o.xml
printf 'a,b\n5,6\n' >res/x=2/d.csv
case_dir "x=3" # no files at all: every extractor fails
cat >model.json <<'EOF'
{"output": {
  "sh": "grep T= calc.log | head -1 | cut -d= -f2",
  "g": "python://grep(r'T=(\\S+)', 'calc.log')",
  "ga": "python://grep(r'T=(\\S+)', 'calc.log', all=True)",
  "gs": "python://grep(r'T=(\\S+)', 'calc.log', cast=False)",
  "n": "python://len(lines('calc.log'))",
  "last": "python://line('calc.log', -1)",
  "col": "python://csv_file('d.csv', column='b')",
  "js": "python://json_file('r.json')['one']",
  "m": "python://math.sqrt(16)",
  "j": "jq://.e r.json",
  "ja": "jq://.arr r.json",
  "jo": "jq://.one r.json",
  "jk": "jq://'.o.k' r.json",
  "jl": "jq://'.arr | length' r.json",
  "jstr": "jq://.s r.json",
  "xp": "xpath://'//p/text()' o.xml",
  "xv": "xpath://'//v/text()' o.xml",
  "xw": "xpath://'//w/text()' o.xml",
  "xc": "xpath://'count(//v)' o.xml"
}}
EOF

"$upstream_bin/fzo" 'res/*' -m model.json -f json >upstream.json 2>upstream.err || {
    echo "outputs differential: funz-fz 1.2's fzo failed:" >&2
    cat upstream.err >&2
    exit 1
}
# python:// runs in the same Python for both (upstream's venv, with pandas).
FZ_PYTHON=$upstream_bin/python3 "$ours_bin/fzo" 'res/*' -m model.json -f json >ours.json 2>ours.err || {
    echo "outputs differential: our fzo failed:" >&2
    cat ours.err >&2
    exit 1
}

python3 - upstream.json ours.json model.json <<'EOF'
import json, math, sys

def load(path):
    # Upstream's JSON may hold NaN (an empty cell of a float column).
    with open(path) as f:
        return json.load(f)

upstream, ours, model = (load(p) for p in sys.argv[1:4])
names = list(model["output"])

def same(a, b):
    if isinstance(a, float) and math.isnan(a):
        a = None
    if isinstance(b, float) and math.isnan(b):
        b = None
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b

def failed(row):
    text = row.get("_output_error")
    if not isinstance(text, str):
        return set()
    return {n for n in names if f"Output '{n}':" in text}

bad = []
if [r["path"] for r in upstream] != [r["path"] for r in ours]:
    bad.append(f"rows differ: {[r['path'] for r in upstream]} vs {[r['path'] for r in ours]}")
for u, o in zip(upstream, ours):
    for n in names:
        if not same(u.get(n), o.get(n)):
            bad.append(f"{u['path']} {n}: funz-fz {u.get(n)!r}, ours {o.get(n)!r}")
    if failed(u) != failed(o):
        bad.append(f"{u['path']}: failed outputs: funz-fz {sorted(failed(u))}, ours {sorted(failed(o))}")
cells = len(upstream) * len(names)
if bad:
    print("outputs differential: %d of %d cells differ:" % (len(bad), cells))
    for line in bad:
        print("  " + line)
    sys.exit(1)
print("outputs differential: %d rows x %d outputs, every cell equal" % (len(upstream), len(names)))
EOF
