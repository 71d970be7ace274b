#!/usr/bin/env bash
# Perfect-gas "simulator" used by the fz example.
# Usage: PerfectGazPressure.sh [INPUT_FILE]   (default: input.txt)
# Reads n_mol, T_kelvin, V_m3 and R (key=value lines, '#' starts a comment),
# computes the pressure P = n.R.T / V in pascals and writes
# "pressure = <value>" to output.txt in the current directory.
set -euo pipefail

input=${1:-input.txt}
if [[ ! -f $input ]]; then
    echo "PerfectGazPressure.sh: input file '$input' not found" >&2
    exit 1
fi

awk -F'=' '
    /^[[:space:]]*#/ { next }
    NF >= 2 {
        key = $1; val = $2
        gsub(/[[:space:]]/, "", key); gsub(/[[:space:]]/, "", val)
        v[key] = val
    }
    END {
        split("n_mol T_kelvin V_m3 R", need, " ")
        for (i = 1; i <= 4; i++) {
            if (!(need[i] in v) || v[need[i]] !~ /^[-+]?[0-9.]+([eE][-+]?[0-9]+)?$/) {
                printf "PerfectGazPressure.sh: missing or non-numeric %s\n", need[i] > "/dev/stderr"
                exit 1
            }
        }
        if (v["V_m3"] + 0 <= 0) { print "PerfectGazPressure.sh: volume must be > 0" > "/dev/stderr"; exit 1 }
        if (v["T_kelvin"] + 0 < 0) { print "PerfectGazPressure.sh: temperature below absolute zero" > "/dev/stderr"; exit 1 }
        printf "pressure = %.10g\n", v["n_mol"] * v["R"] * v["T_kelvin"] / v["V_m3"]
    }
' "$input" > output.txt.tmp
mv output.txt.tmp output.txt
cat output.txt
