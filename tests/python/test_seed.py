"""The snippets of the seed document (parallel execution and caching), run
through the Python module with a real calculator script."""

import os

import pandas as pd
import pytest

import fz
from conftest import MODEL, runs


def test_sequential_and_parallel_return_typed_dataframes(project):
    results = fz.fzr(
        "input.txt", {"temp": [100, 200, 300, 400, 500]}, MODEL,
        calculators="sh://bash calc.sh", results_dir="results",
    )
    assert isinstance(results, pd.DataFrame)
    assert list(results["temp"]) == [100, 200, 300, 400, 500]
    assert list(results["result"]) == [100, 200, 300, 400, 500]
    assert results["result"].dtype.kind == "i"
    assert list(results.columns[:3]) == ["temp", "result", "path"]
    parallel = fz.fzr(
        "input.txt", {"temp": [100, 200, 300, 400, 500]}, MODEL,
        calculators=["sh://bash calc.sh", "sh://bash calc.sh", "sh://bash calc.sh"], results_dir="results",
    )
    assert (parallel["status"] == "done").all()
    assert runs(project) == 10


def test_concise_notation_positional_calculators(project):
    calculators = ["sh://bash calc.sh"] * 4
    results = fz.fzr("input.txt", {"temp": [1, 2, 3]}, MODEL, calculators)
    assert list(results["result"]) == [1, 2, 3]
    assert os.path.isdir("results/temp=1")


def test_seed_order_calculator_then_results_dir(project):
    fz.fzr("input.txt", {"temp": [1, 2]}, MODEL, "sh://bash calc.sh", "results_fast/")
    df_fast = pd.read_csv("results_fast/summary.csv")
    assert list(df_fast["temp"]) == [1, 2]
    assert list(df_fast["result"]) == [1, 2]
    # Upstream's order works too.
    fz.fzr("input.txt", {"temp": [3]}, MODEL, "results_up", "sh://bash calc.sh")
    assert os.path.isdir("results_up/temp=3")
    with pytest.raises(TypeError):
        fz.fzr("input.txt", {"temp": [3]}, MODEL, "sh://a", "sh://b")


def test_environment_and_config_are_read_at_call_time(project):
    os.environ["FZ_MAX_RETRIES"] = "1"
    (project / "fail.sh").write_text("#!/bin/bash\nexit 3\n")
    r = fz.fzr("input.txt", {"temp": [1]}, MODEL, calculators="sh://bash fail.sh")
    assert list(r["attempts"]) == [1]
    config = fz.get_config()
    config.max_retries = 2
    r = fz.fzr("input.txt", {"temp": [1]}, MODEL, calculators="sh://bash fail.sh")
    assert list(r["attempts"]) == [2]
    assert config.max_retries == 2
    config.max_workers = 8
    assert config.max_workers == 8


def test_resume_and_expand_from_cache(project):
    fz.fzr("input.txt", {"temp": [100, 200, 300], "pressure": [1, 10, 100]}, MODEL,
           calculators="sh://bash calc.sh", results_dir="study1")
    assert runs(project) == 9
    results2 = fz.fzr(
        "input.txt",
        {"temp": [100, 200, 300, 400, 500], "pressure": [1, 10, 100, 1000, 10000]},
        MODEL, calculators=["cache://study1", "sh://bash calc.sh"], results_dir="study2",
    )
    assert runs(project) == 9 + 16
    assert len(results2) == 25
    assert (results2["calculator"] == "cache://study1").sum() == 9
    assert (results2["result"] == results2["temp"] * results2["pressure"]).all()


def test_staged_execution_filters_and_reuses(project):
    results_quick = fz.fzr("input.txt", {"temp": list(range(10))}, MODEL,
                           calculators=["sh://bash calc.sh"] * os.cpu_count(), results_dir="stage1_quick")
    threshold = 6
    interesting = results_quick[results_quick["result"] > threshold]["temp"]
    detailed = fz.fzr("input.txt", {"temp": interesting.tolist()}, MODEL,
                      calculators=["cache://stage2_previous", "sh://bash calc.sh", "sh://bash calc.sh"],
                      results_dir="stage2_detailed")
    assert list(detailed["temp"]) == [7, 8, 9]


def test_partial_results_with_fzo(project):
    fz.fzr("input.txt", {"temp": [1, 2]}, MODEL, calculators="sh://bash calc.sh")
    partial = fz.fzo("results/*", MODEL)
    assert len(partial) == 2
    assert list(partial["result"]) == [1, 2]
    assert list(partial["temp"]) == [1, 2]


def test_resume_in_place(project):
    (project / "flaky.sh").write_text(
        "#!/bin/bash\n"
        f"echo run >> {project}/runs.log\n"
        "grep -q 'temp=2' input.txt && exit 3\n"
        'echo "result = 1" > output.txt\n'
    )
    os.environ["FZ_MAX_RETRIES"] = "1"
    first = fz.fzr("input.txt", {"temp": [1, 2, 3]}, MODEL, calculators="sh://bash flaky.sh", results_dir="run1")
    assert list(first["status"]) == ["done", "failed", "done"]
    again = fz.fzr("input.txt", {"temp": [1, 2, 3]}, MODEL, calculators="sh://bash calc.sh",
                   results_dir="run1", resume=True)
    assert list(again["status"]) == ["done", "done", "done"]
    assert runs(project) == 3 + 1
