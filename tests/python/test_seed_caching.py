"""Seed document, section "Caching Strategies": each snippet run as written
through the Python module. How often each calculator really ran comes from
the scripts' own log (calls.log, see conftest.Calc)."""

import json
import os
import re
import signal

import pandas as pd

import fz
from conftest import MODEL, Calc, calls, start_child, wait_for_starts

model = MODEL

# The first run of Strategy 1, as written, in a child process that gets a
# real SIGINT (Ctrl+C) while it runs.
STRATEGY_1_FIRST_RUN = '''
import json, sys
import fz
model = json.loads(sys.argv[1])
# First run (interrupted with Ctrl+C after 50/100 cases)
results = fz.fzr(
    "input.txt",
    {"param": list(range(100))},
    model,
    calculators="sh://bash slow_calc.sh",
    results_dir="run1"
)
print(f"Completed {len(results)} cases")  # e.g., 50
print(json.dumps(results["status"].tolist()))
'''


def test_strategy_1_resume_interrupted_runs(seed):
    # slow_calc.sh sleeps as long as the file `delay` says (0 without it).
    Calc(seed, "slow_calc.sh", sleep=f"$(cat {seed}/delay 2>/dev/null || echo 0)")
    (seed / "delay").write_text("0.1")
    child = start_child(seed, STRATEGY_1_FIRST_RUN)
    wait_for_starts(seed, 10, child)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    lines = out.strip().splitlines()
    # Deliberate difference (docs/compatibility.md): the partial table has a
    # row per case, not-started ones `interrupted`; "completed" is `done`.
    assert lines[-2] == "Completed 100 cases"
    statuses = json.loads(lines[-1])
    completed = statuses.count("done")
    assert 10 <= completed < 100 and statuses.count("interrupted") == 100 - completed
    first = calls(seed, "end")
    assert len(first) == completed == len(calls(seed, "start")), "running cases finished, no new one started"
    assert re.search(r"cache://\S*/run1\b", err), err
    (seed / "delay").unlink()

    # Resume from cache
    results = fz.fzr(
        "input.txt",
        {"param": list(range(100))},
        model,
        calculators=[
            "cache://run1",              # Check cache first
            "sh://bash slow_calc.sh"     # Run remaining 50 cases
        ],
        results_dir="run1_resumed"
    )
    print(f"Total: {len(results)} cases")  # 100
    assert len(results) == 100
    assert (results["status"] == "done").all()
    assert list(results["result"]) == list(range(100))
    assert (results["calculator"] == "cache://run1").sum() == completed
    # Every case ran exactly once over both runs.
    assert sorted(c for _, c in calls(seed)) == sorted(f"param={i}" for i in range(100))


def test_strategy_2_expand_parameter_space(seed):
    # Initial study: 3×3 = 9 cases
    results1 = fz.fzr(
        "input.txt",
        {"temp": [100, 200, 300], "pressure": [1, 10, 100]},
        model,
        calculators="sh://bash calc.sh",
        results_dir="study1"
    )
    assert len(calls(seed)) == 9
    assert (results1["result"] == results1["temp"] * results1["pressure"]).all()
    # Cache file: one "<md5>  <file>" line per input file.
    assert re.fullmatch(r"[0-9a-f]{32}  input\.txt\n", (seed / "study1/temp=100,pressure=1/.fz_hash").read_text())

    # Expanded study: 5×5 = 25 cases (reuses 9, runs 16 new)
    results2 = fz.fzr(
        "input.txt",
        {
            "temp": [100, 200, 300, 400, 500],
            "pressure": [1, 10, 100, 1000, 10000]
        },
        model,
        calculators=[
            "cache://study1",
            "sh://bash calc.sh"
        ],
        results_dir="study2"
    )
    assert len(results2) == 25
    assert (results2["status"] == "done").all()
    assert (results2["result"] == results2["temp"] * results2["pressure"]).all()
    assert (results2["calculator"] == "cache://study1").sum() == 9
    ran = [c for _, c in calls(seed)][9:]
    assert len(ran) == 16 and len(set(ran)) == 16
    assert not any(c.startswith(("temp=100,", "temp=200,", "temp=300,"))
                   and c.endswith(("pressure=1", "pressure=10", "pressure=100")) for c in ran)


def test_strategy_3_compare_multiple_methods(seed):
    variables = {"temp": [100, 200], "pressure": [1, 10]}
    Calc(seed, "fast.sh")  # result = temp*pressure
    Calc(seed, "accurate.sh", offset=1)  # result = temp*pressure + 1

    # Method 1: Fast but approximate
    fz.fzr("input.txt", variables, model, "sh://fast.sh", "results_fast/")

    # Method 2: Slow but accurate (reuses same inputs)
    fz.fzr(
        "input.txt",
        variables,
        model,
        "sh://accurate.sh",  # Different calculator, same inputs
        "results_accurate/"
    )

    # Compare results
    import pandas as pd
    df_fast = pd.read_csv("results_fast/summary.csv")
    df_accurate = pd.read_csv("results_accurate/summary.csv")
    comparison = pd.merge(df_fast, df_accurate, on=['temp', 'pressure'])

    assert len(calls(seed, script="fast.sh")) == 4
    assert len(calls(seed, script="accurate.sh")) == 4
    assert len(comparison) == 4
    assert list(comparison["result_x"]) == [100, 1000, 200, 2000]
    assert list(comparison["result_y"]) == [101, 1001, 201, 2001]
    assert (comparison["calculator_x"] == "sh://fast.sh").all()
    assert (comparison["calculator_y"] == "sh://accurate.sh").all()


def _study(results_dir, temps):
    fz.fzr("input.txt", {"temp": temps}, model, calculators="sh://bash calc.sh", results_dir=results_dir)


def test_strategy_4_multi_tier_caching(seed):
    variables = {"temp": [1, 2, 3, 4, 5]}
    _study("latest_run", [1, 2])
    _study("archive/2024-03", [3])
    _study("archive/2019/study", [4])  # only `archive/*/*` reaches it
    (seed / "calls.log").unlink()

    calculators = [
        "cache://latest_run",           # Check most recent
        "cache://archive/2024-*",       # Check this year's archive
        "cache://archive/*/*",          # Check all archives
        "sh://bash calc.sh"             # Last resort: compute
    ]

    results = fz.fzr("input.txt", variables, model, calculators)
    assert list(results["result"]) == [1, 2, 3, 4, 5]
    assert list(results["calculator"]) == [
        "cache://latest_run", "cache://latest_run", "cache://archive/2024-*",
        "cache://archive/*/*", "sh://bash calc.sh"]
    assert calls(seed) == [("calc.sh", "temp=5")]


def test_strategy_5_selective_recalculation(seed):
    variables = {"temp": [1, 2, 3]}
    Calc(seed, "calc_v2.sh", offset=1000)
    # Run full study
    fz.fzr("input.txt", variables, model, "sh://bash calc.sh", "run1/")

    # Modify only the calculation script (not inputs)
    # edit calc.sh...

    # Re-run with different script but same inputs won't use cache
    # because cache matches input files, not calculator
    fz.fzr("input.txt", variables, model, "sh://bash calc_v2.sh", "run2/")

    # To force re-calculation even with same inputs:
    # Don't use cache calculator
    fz.fzr("input.txt", variables, model, "sh://bash calc.sh", "run3/")

    assert [c for _, c in calls(seed, script="calc.sh")] == ["temp=1", "temp=2", "temp=3"] * 2
    assert len(calls(seed, script="calc_v2.sh")) == 3
    assert list(pd.read_csv("run1/summary.csv")["result"]) == [1, 2, 3]
    assert list(pd.read_csv("run2/summary.csv")["result"]) == [1001, 1002, 1003]
    assert list(pd.read_csv("run3/summary.csv")["result"]) == [1, 2, 3]
    # Same inputs, same hashes: run2 could have been a cache hit for run1.
    assert (seed / "run1/temp=1/.fz_hash").read_text() == (seed / "run2/temp=1/.fz_hash").read_text()
    assert os.path.isdir("run3/temp=3")
