"""Seed document, section "Combining Parallel and Cache": each snippet run as
written through the Python module. Run counts come from the scripts' own log
(calls.log, see conftest.Calc). The ssh:// pattern runs against the test
sshd (FZ_TEST_SSH_PORT) with the scripts given by absolute path (the
"remote" host is this machine)."""

import os

import fz
from conftest import MODEL, Calc, calls, max_concurrency, ssh_uri

model = MODEL


def _study(results_dir, temps, script="calc.sh"):
    fz.fzr("input.txt", {"temp": temps}, model, calculators=f"sh://bash {script}", results_dir=results_dir)


def test_pattern_1_parallel_with_cache_fallback(seed):
    _study("previous_run", [1, 2, 3])
    (seed / "calls.log").unlink()
    Calc(seed, "calc.sh", sleep=1)
    variables = {"temp": list(range(1, 11))}

    calculators = [
        "cache://previous_run",
        "sh://bash calc.sh",
        "sh://bash calc.sh",
        "sh://bash calc.sh",
        "sh://bash calc.sh"
    ]
    # First tries cache
    # If cache miss, distributes across 4 parallel workers

    results = fz.fzr("input.txt", variables, model, calculators)
    assert list(results["result"]) == list(range(1, 11))
    calcs = list(results["calculator"])
    assert calcs[:3] == ["cache://previous_run"] * 3
    # The four identical entries are four slots, told apart as #1..#4.
    assert set(calcs[3:]) <= {f"sh://bash calc.sh#{k}" for k in (1, 2, 3, 4)}, calcs
    assert sorted(c for _, c in calls(seed)) == sorted(f"temp={t}" for t in range(4, 11))
    assert max_concurrency(seed) == 4


def test_pattern_2_mixed_remote_and_local_with_cache(seed):
    fast = ssh_uri(f"bash {seed}/fast.sh")
    robust = ssh_uri(f"bash {seed}/robust.sh")
    for script in ("fast.sh", "local.sh", "robust.sh"):
        Calc(seed, script, sleep=1)
    _study("archive/old", [1])
    (seed / "calls.log").unlink()
    variables = {"temp": list(range(1, 9))}

    calculators = [
        "cache://archive/*",                      # Try cache
        fast,                                     # Fast remote
        fast,                                     # Fast remote (parallel)
        "sh://bash local.sh",                     # Local fallback
        robust                                    # Robust remote
    ]

    results = fz.fzr("input.txt", variables, model, calculators)
    assert (results["status"] == "done").all(), results[["status", "error"]]
    assert list(results["result"]) == list(range(1, 9))
    assert results["calculator"][0] == "cache://archive/*"
    # The two identical fast entries are two slots, told apart as #1, #2.
    assert set(results["calculator"][1:]) == {f"{fast}#1", f"{fast}#2", "sh://bash local.sh", robust}
    assert len(calls(seed)) == 7
    assert len(calls(seed, script="fast.sh")) >= 2
    assert max_concurrency(seed) == 4


def test_pattern_3_staged_execution(seed):
    import os
    (seed / "input_detailed.txt").write_text("detailed=1\n" + (seed / "input.txt").read_text())
    Calc(seed, "quick.sh")  # result = param
    Calc(seed, "detailed.sh", offset=10000)  # result = param + 10000
    threshold = 990
    # Earlier detailed runs of two of the interesting cases.
    fz.fzr("input_detailed.txt", {"param": [991, 992]}, model, calculators="sh://bash detailed.sh",
           results_dir="stage2_previous")
    (seed / "calls.log").unlink()

    # Stage 1: Quick screening (parallel)
    results_quick = fz.fzr(
        "input.txt",
        {"param": list(range(1000))},  # 1000 cases
        model,
        calculators=["sh://bash quick.sh"] * os.cpu_count(),
        results_dir="stage1_quick"
    )

    # Stage 2: Detailed analysis of interesting cases (with cache)
    interesting_params = results_quick[results_quick['result'] > threshold]['param']
    results_detailed = fz.fzr(
        "input_detailed.txt",
        {"param": interesting_params.tolist()},
        model,
        calculators=[
            "cache://stage2_previous",  # Check previous detailed runs
            "sh://bash detailed.sh",
            "sh://bash detailed.sh"
        ],
        results_dir="stage2_detailed"
    )

    assert len(results_quick) == 1000 and list(results_quick["result"]) == list(range(1000))
    assert len(calls(seed, script="quick.sh")) == 1000
    assert list(results_detailed["param"]) == list(range(991, 1000))
    assert list(results_detailed["result"]) == [p + 10000 for p in range(991, 1000)]
    assert list(results_detailed["calculator"][:2]) == ["cache://stage2_previous"] * 2
    assert sorted(c for _, c in calls(seed, script="detailed.sh")) == sorted(
        f"param={p}" for p in range(993, 1000))
    assert os.path.exists("stage2_detailed/param=999/input_detailed.txt")
