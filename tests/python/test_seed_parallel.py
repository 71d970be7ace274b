"""Seed document, section "Parallel Execution": each snippet run as written
through the Python module. Run counts and concurrency come from the
calculator scripts' own log (calls.log, see conftest.Calc), never from fz's
table."""

import os

import pandas as pd

import fz
from conftest import MODEL, Calc, calls, max_concurrency

model = MODEL


def test_basic_parallel_execution_sequential(seed):
    Calc(seed, "calc.sh", sleep=0.2)
    results = fz.fzr(
        "input.txt",
        {"temp": [100, 200, 300, 400, 500]},  # 5 cases
        model,
        calculators="sh://bash calc.sh",  # 1 worker → sequential
        results_dir="results"
    )
    # Runs one case at a time
    assert isinstance(results, pd.DataFrame)
    assert list(results["temp"]) == [100, 200, 300, 400, 500]
    assert list(results["result"]) == [100, 200, 300, 400, 500]
    assert results["result"].dtype.kind == "i"
    assert list(results.columns[:3]) == ["temp", "result", "path"]
    assert sorted(c for _, c in calls(seed)) == [f"temp={t}" for t in (100, 200, 300, 400, 500)]
    assert max_concurrency(seed) == 1
    assert sorted(os.listdir("results")) == sorted(
        [f"temp={t}" for t in (100, 200, 300, 400, 500)] + [".fz_cache_index.tsv", "fz_journal.tsv", "summary.csv", "summary.json"])


def test_basic_parallel_execution_parallel(seed):
    Calc(seed, "calc.sh", sleep=1)
    results = fz.fzr(
        "input.txt",
        {"temp": [100, 200, 300, 400, 500]},  # 5 cases
        model,
        calculators=[
            "sh://bash calc.sh",
            "sh://bash calc.sh",
            "sh://bash calc.sh"
        ],  # 3 workers → parallel
        results_dir="results"
    )
    # Runs 3 cases concurrently
    assert (results["status"] == "done").all()
    assert list(results["result"]) == [100, 200, 300, 400, 500]
    assert len(calls(seed)) == 5
    assert max_concurrency(seed) == 3


def test_basic_parallel_execution_concise_notation(seed):
    Calc(seed, "calc.sh", sleep=1)
    variables = {"temp": [1, 2, 3, 4, 5, 6]}
    # Create N parallel workers
    N = 4
    calculators = ["sh://bash calc.sh"] * N

    results = fz.fzr("input.txt", variables, model, calculators)
    assert list(results["result"]) == [1, 2, 3, 4, 5, 6]
    assert os.path.isdir("results/temp=1")  # the default results_dir
    assert len(calls(seed)) == 6
    assert max_concurrency(seed) == 4


def test_load_balancing(seed):
    # 10 cases, 3 calculators
    calculators = ["sh://calc.sh"] * 3

    # Distribution:
    # Calculator 0: cases 0, 3, 6, 9
    # Calculator 1: cases 1, 4, 7
    # Calculator 2: cases 2, 5, 8
    #
    # What the comment describes: all 10 cases run, spread over the 3
    # slots, 3 at a time (a free slot takes the next case, so which slot
    # runs which case depends on timing, as upstream's "preference"). The
    # URI runs the script itself (no `bash`): it is executable.
    Calc(seed, "calc.sh", sleep=0.5)
    results = fz.fzr("input.txt", {"temp": list(range(10))}, model, calculators)
    assert list(results["status"]) == ["done"] * 10
    assert list(results["result"]) == list(range(10))
    assert sorted(c for _, c in calls(seed)) == sorted(f"temp={i}" for i in range(10))
    # A slot runs one case at a time: 3 runs at once means every slot was used.
    assert max_concurrency(seed) == 3


def test_controlling_parallelism_method_1_number_of_calculators(seed):
    # 8 parallel workers
    calculators = ["sh://bash calc.sh"] * 8

    Calc(seed, "calc.sh", sleep=1)
    results = fz.fzr("input.txt", {"temp": list(range(8))}, model, calculators)
    assert list(results["result"]) == list(range(8))
    assert len(calls(seed)) == 8
    assert max_concurrency(seed) == 8


def test_controlling_parallelism_method_2_environment_variable(seed):
    import os
    os.environ['FZ_MAX_WORKERS'] = '8'

    # Or from shell:
    # export FZ_MAX_WORKERS=8

    # Set after `import fz`, it is read by the next call: 10 slots, 8 at once.
    Calc(seed, "calc.sh", sleep=1)
    results = fz.fzr("input.txt", {"temp": list(range(10))}, model, ["sh://bash calc.sh"] * 10)
    assert list(results["result"]) == list(range(10))
    assert len(calls(seed)) == 10
    assert max_concurrency(seed) == 8


def test_controlling_parallelism_method_3_configuration(seed):
    from fz import get_config

    config = get_config()
    config.max_workers = 8

    Calc(seed, "calc.sh", sleep=1)
    os.environ["FZ_MAX_WORKERS"] = "2"  # the attribute wins over the environment
    results = fz.fzr("input.txt", {"temp": list(range(10))}, model, ["sh://bash calc.sh"] * 10)
    assert list(results["result"]) == list(range(10))
    assert len(calls(seed)) == 10
    assert max_concurrency(seed) == 8


def test_optimal_number_of_workers_cpu_bound(seed):
    import os

    # Use number of CPU cores
    num_cores = os.cpu_count()
    calculators = ["sh://bash cpu_intensive.sh"] * num_cores

    Calc(seed, "cpu_intensive.sh", sleep=0.5)
    results = fz.fzr("input.txt", {"temp": list(range(2 * num_cores))}, model, calculators)
    assert list(results["result"]) == list(range(2 * num_cores))
    assert len(calls(seed, script="cpu_intensive.sh")) == 2 * num_cores
    assert max_concurrency(seed) == num_cores


def test_optimal_number_of_workers_io_bound(seed):
    num_cores = os.cpu_count()
    # Can use more workers than cores
    calculators = ["sh://bash io_intensive.sh"] * (num_cores * 2)

    Calc(seed, "io_intensive.sh", sleep=1)
    results = fz.fzr("input.txt", {"temp": list(range(num_cores * 2))}, model, calculators)
    assert list(results["result"]) == list(range(num_cores * 2))
    assert len(calls(seed, script="io_intensive.sh")) == num_cores * 2
    assert max_concurrency(seed) == num_cores * 2


def test_optimal_number_of_workers_memory_considerations(seed):
    # Limit workers based on available memory
    import psutil

    available_memory_gb = psutil.virtual_memory().available / (1024**3)
    memory_per_case_gb = 4  # Estimate memory per case
    max_workers = int(available_memory_gb / memory_per_case_gb)

    calculators = ["sh://bash calc.sh"] * max_workers

    results = fz.fzr("input.txt", {"temp": [1, 2, 3]}, model, calculators)
    if max_workers >= 1:
        assert list(results["result"]) == [1, 2, 3]
        assert len(calls(seed)) == 3
        assert max_concurrency(seed) <= max_workers
    else:
        # Less than 4 GB free: an empty list is "no calculator given", so
        # fz falls back to `sh://` (runs the input file itself), as upstream.
        assert calls(seed) == []
        assert (results["status"] == "failed").all()
