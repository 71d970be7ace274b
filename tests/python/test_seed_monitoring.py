"""Seed document, section "Monitoring Progress": the snippets that look at a
results directory while a run is going on. The run is the seed's "one
terminal" (a child Python process); the snippet under test runs here, in
"another terminal", while cases are still running. Finished cases are
known from the calculator's own log (calls.log, see conftest.Calc)."""

import os

import fz
from conftest import MODEL, Calc, calls, start_child, wait_for_starts

model = MODEL

ONE_TERMINAL = '''
import json, sys
import fz
model = json.loads(sys.argv[1])
variables = {"temp": list(range(1, 13))}
calculators = ["sh://bash calc.sh"] * 2
# In one terminal: run calculations
results = fz.fzr("input.txt", variables, model, calculators, "results/")
print(json.dumps(results["status"].tolist()))
'''


def _cases_listed():
    """Case directories `ls results` shows (hidden .fz excluded)."""
    return {d for d in os.listdir("results") if os.path.isdir(f"results/{d}") and not d.startswith(".")}


def _wait_for_cases(n, child):
    import time

    deadline = time.time() + 60
    while not os.path.isdir("results") or len(_cases_listed()) < n:
        assert child.poll() is None, child.communicate()
        assert time.time() < deadline, "cases did not finish"
        time.sleep(0.02)


def _finish(child):
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    return out


def test_monitoring_progress_check_results_during_execution(seed):
    Calc(seed, "calc.sh", sleep=0.4)
    child = start_child(seed, ONE_TERMINAL)
    _wait_for_cases(3, child)
    before = _cases_listed()

    # In another terminal: monitor progress
    import os
    completed = len([d for d in os.listdir("results/") if os.path.isdir(f"results/{d}")])
    print(f"Completed: {completed} cases")

    after = _cases_listed()
    running = os.path.isdir(".results.fz-work")
    ended = {c for _, c in calls(seed, "end")}
    assert child.poll() is None and running, "the run was still going on"
    # Only finished cases are listed: running ones are in the hidden sibling
    # .results.fz-work, so the snippet's count is exactly the finished cases.
    assert before <= after <= ended
    assert len(before) <= completed <= len(after)
    assert 3 <= len(after) < 12
    assert all(os.path.exists(f"results/{c}/output.txt") for c in after)
    assert _finish(child).strip().endswith(str(["done"] * 12).replace("'", '"'))


def test_monitoring_progress_analyze_partial_results(seed):
    Calc(seed, "calc.sh", sleep=0.4)
    child = start_child(seed, ONE_TERMINAL)
    _wait_for_cases(3, child)
    before = _cases_listed()

    # While calculations are running, parse completed cases
    partial_results = fz.fzo("results/*", model)
    print(f"Completed so far: {len(partial_results)} cases")
    print(partial_results.head())

    ended = {c for _, c in calls(seed, "end")}
    assert child.poll() is None, "the run was still going on"
    names = {os.path.basename(p) for p in partial_results["path"]}
    assert before <= names <= ended
    assert 3 <= len(partial_results) < 12
    assert (partial_results["result"] == partial_results["temp"]).all()
    _finish(child)
