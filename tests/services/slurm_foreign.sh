#!/usr/bin/env bash
# tests/services/slurm_foreign.sh -- .ci/services/slurm.sh on a machine that
# already runs a SLURM cluster it did not start: `start` must use it as it
# is and `stop` must leave it running.
#
# Needs the cluster of `.ci/services/slurm.sh start` running. Makes it look
# foreign by hiding the script's record of what it started (restored on
# exit), runs start and stop, and checks the daemons are the same processes.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
record=/run/slurm/started-by-fz-ci
fail() { echo "slurm_foreign: FAIL: $*" >&2; exit 1; }
[[ "$(id -u)" == 0 ]] || fail "needs root (as .ci/services/slurm.sh)"
[[ -s "$record" ]] || fail "no cluster started by .ci/services/slurm.sh ($record empty)"
saved=$(mktemp)
cp "$record" "$saved"
trap 'cp "$saved" "$record"; rm -f "$saved"' EXIT
pids() { awk '$1 == "slurmctld" || $1 == "slurmd" {print $2}' "$saved" | sort; }
before=$(pids)
: >"$record"

out=$(bash "$root/.ci/services/slurm.sh" start 2>&1) || fail "start on a foreign cluster failed: $out"
grep -q "did not start answers: using it as it is" <<<"$out" || fail "start did not say it reuses the cluster: $out"
grep -q "^export FZ_TEST_SLURM=1" <<<"$out" || fail "start printed no env: $out"
out=$(bash "$root/.ci/services/slurm.sh" stop 2>&1) || fail "stop failed: $out"
for pid in $before; do
    kill -0 "$pid" 2>/dev/null || fail "stop killed daemon pid $pid it did not start"
done
timeout 10 scontrol ping | grep -q 'is UP' || fail "the controller no longer answers"
echo "slurm_foreign: ok (a cluster not started here is reused and left running)"
