"""Seed document, section "Performance Optimization": each snippet run as
written through the Python module (the bash block "Clean Old Caches" through
bash and the `fz` command). Run counts come from the scripts' own log
(calls.log, see conftest.Calc). ssh:// and SLURM snippets run against the
test services (FZ_TEST_SSH_PORT, FZ_TEST_SLURM; they fail under CI without
them), with scripts given by absolute path (the "remote" host is this
machine)."""

import os
import subprocess
import sys
import time

import pandas as pd

import fz
from conftest import MODEL, Calc, calls, max_concurrency, require_service, ssh_uri

model = MODEL


def test_profile_to_find_bottlenecks(seed, capfd):
    variables = {"temp": [1, 2, 3]}
    calculators = ["sh://bash calc.sh"] * 2

    import os
    import time

    os.environ['FZ_LOG_LEVEL'] = 'DEBUG'

    start = time.time()
    results = fz.fzr("input.txt", variables, model, calculators)
    elapsed = time.time() - start

    print(f"Total time: {elapsed:.2f}s")
    print(f"Time per case: {elapsed/len(results):.2f}s")

    out, err = capfd.readouterr()
    assert "Total time: " in out and "Time per case: " in out
    assert len(calls(seed)) == 3
    # DEBUG shows, for every attempt, where it ran, the command and how long it took.
    for t in (1, 2, 3):
        assert f"in {seed}/.results.fz-work/temp={t} (time limit 3600 s)" in err, err
    assert err.count(f"Running command: bash {seed}/calc.sh input.txt") == 3
    assert err.count("attempt 1 done (exit code 0) in ") == 3
    assert "Running 3 cases on 2 calculator(s)" in err


def test_optimize_calculator_count(seed, capsys):
    Calc(seed, "calc.sh", sleep=0.03)
    import time

    def benchmark_workers(n_workers):
        start = time.time()
        fz.fzr(
            "input.txt",
            {"param": list(range(100))},
            model,
            ["sh://bash calc.sh"] * n_workers,
            f"benchmark_{n_workers}_workers"
        )
        return time.time() - start

    # Find optimal number of workers
    timings = {}
    peaks = {}
    for n in [1, 2, 4, 8, 16]:
        elapsed = benchmark_workers(n)
        print(f"{n} workers: {elapsed:.2f}s")
        timings[n] = elapsed
        assert len(pd.read_csv(f"benchmark_{n}_workers/summary.csv")) == 100
        assert len(calls(seed)) == len(calls(seed, "end")) == 100
        peaks[n] = max_concurrency(seed)
        (seed / "calls.log").unlink()

    assert "16 workers: " in capsys.readouterr().out
    # What makes more workers pay off (the scripts sleep, so more workers
    # than cores still help) is that the cases really overlap: assert that,
    # not a wall-time ratio, which a busy machine can upset.
    assert peaks[1] == 1, peaks
    assert all(2 <= peaks[n] <= n for n in (2, 4, 8, 16)), peaks
    assert peaks[16] > 2, peaks


def test_use_fast_calculators_first(seed):
    slow = ssh_uri(f"bash {seed}/slow.sh")
    for script in ("fast.sh", "medium.sh", "slow.sh"):
        Calc(seed, script)
    fz.fzr("input.txt", {"temp": [1]}, model, calculators="sh://bash fast.sh", results_dir="previous")
    (seed / "calls.log").unlink()
    variables = {"temp": [1, 2]}

    # Good: fast methods first
    calculators = [
        "cache://previous",              # Instant if cache hit
        "sh://bash fast.sh",             # Fast method
        "sh://bash medium.sh",           # Medium speed
        slow                             # Slow but robust
    ]
    good = fz.fzr("input.txt", variables, model, calculators, "good")
    assert list(good["calculator"]) == ["cache://previous", "sh://bash fast.sh"]
    assert calls(seed) == [("fast.sh", "temp=2")]

    # Bad: slow methods first
    calculators = [
        slow,                            # Tries slow method first
        "sh://bash fast.sh"
    ]
    bad = fz.fzr("input.txt", variables, model, calculators, "bad")
    assert list(bad["result"]) == [1, 2]
    # Both cases start at once: the first takes the first slot (the slow one).
    assert sorted(bad["calculator"]) == sorted([slow, "sh://bash fast.sh"])
    assert len(calls(seed, "end", "slow.sh")) == 1


def test_batch_similar_cases(seed):
    require_service("FZ_TEST_SLURM", "the test SLURM cluster")
    # `sbatch --wait` so the ssh command ends when the job has run (plain
    # `sbatch` returns at submission, before any output exists).
    heavy = ssh_uri(f"sbatch --wait --partition=debug {seed}/heavy.sh")
    Calc(seed, "calc.sh")
    Calc(seed, "heavy.sh")
    # Group cases by computational cost
    light_cases = {"mesh": [10, 20, 30]}
    heavy_cases = {"mesh": [1000, 2000, 3000]}

    # Run light cases locally
    results_light = fz.fzr(
        "input.txt",
        light_cases,
        model,
        ["sh://bash calc.sh"] * 8,  # Many local workers
        "results_light"
    )

    # Run heavy cases on HPC
    results_heavy = fz.fzr(
        "input.txt",
        heavy_cases,
        model,
        heavy,
        "results_heavy"
    )

    # Combine results
    import pandas as pd
    results = pd.concat([results_light, results_heavy])

    assert list(results["mesh"]) == [10, 20, 30, 1000, 2000, 3000]
    assert list(results["result"]) == [10, 20, 30, 1000, 2000, 3000]
    assert len(calls(seed, "end", "calc.sh")) == 3
    assert len(calls(seed, "end", "heavy.sh")) == 3


CLEAN_OLD_CACHES = r"""
# Remove old result directories to save disk space
find results/ -type d -mtime +30 -exec rm -rf {} \;

# Keep only .fz_hash files for cache matching
find results/ -type f ! -name '.fz_hash' -delete
"""


def test_clean_old_caches(seed):
    fz.fzr("input.txt", {"temp": [1, 2, 3]}, model, calculators="sh://bash calc.sh", results_dir="results")
    old = time.time() - 40 * 86400
    os.utime(seed / "results/temp=1", (old, old))
    subprocess.run(["bash", "-c", CLEAN_OLD_CACHES], cwd=seed, capture_output=True)
    assert sorted(os.listdir("results")) == ["temp=2", "temp=3"]
    assert sorted(os.listdir("results/temp=2")) == [".fz_hash"]

    # What is left cannot be a cache: `fz cache verify` says so, exit 1 ...
    fz_cmd = os.path.join(os.path.dirname(sys.executable), "fz")
    verify = subprocess.run([fz_cmd, "cache", "verify", "results", "-f", "json"], capture_output=True, text=True)
    assert verify.returncode == 1, verify
    import json
    entries = json.loads(verify.stdout)
    assert [(e["path"], e["usable"]) for e in entries] == [("results/temp=2", False), ("results/temp=3", False)]
    assert all("only .fz_hash kept" in e["problem"] for e in entries)
    # ... and a run with it computes every case again.
    (seed / "calls.log").unlink()
    again = fz.fzr("input.txt", {"temp": [1, 2, 3]}, model, ["cache://results", "sh://bash calc.sh"], "again")
    assert list(again["calculator"]) == ["sh://bash calc.sh"] * 3
    assert len(calls(seed)) == 3
