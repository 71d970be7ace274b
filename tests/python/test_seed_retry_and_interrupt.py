"""Seed document, sections "Retry Mechanism" and "Interrupt Handling": each
snippet run as written through the Python module. Attempts are counted from
the scripts' own log (calls.log, see conftest.Calc). Ctrl+C is a real SIGINT
sent to a child Python process running the snippet, the approach of
test_config_and_interrupt.py (which covers the general first/second SIGINT
behaviour on a small study); here the snippets themselves are run."""

import json
import os
import signal
import time

import fz
from conftest import MODEL, Calc, calls, ssh_uri, start_child, wait_for_starts

model = MODEL


def test_retry_mechanism_basic_retry(seed):
    Calc(seed, "may_fail.sh", fail_for=["temp=1", "temp=2"])
    Calc(seed, "backup.sh", fail_for=["temp=1"])
    variables = {"temp": [1]}  # fails on both calculators

    import os
    os.environ['FZ_MAX_RETRIES'] = '3'

    calculators = [
        "sh://bash may_fail.sh",
        "sh://bash backup.sh"
    ]

    results = fz.fzr("input.txt", variables, model, calculators)

    # may_fail.sh, backup.sh, may_fail.sh, then give up: FZ_MAX_RETRIES counts
    # attempts in total, as upstream (the seed's list shows a 4th attempt).
    assert calls(seed) == [("may_fail.sh", "temp=1"), ("backup.sh", "temp=1"), ("may_fail.sh", "temp=1")]
    assert list(results["status"]) == ["failed"]
    assert list(results["attempts"]) == [3]
    assert results["error"][0] == "Command failed with exit code 3"

    # A case that fails on may_fail.sh and succeeds on backup.sh.
    (seed / "calls.log").unlink()
    variables = {"temp": [2]}
    results = fz.fzr("input.txt", variables, model, calculators)
    assert calls(seed) == [("may_fail.sh", "temp=2"), ("backup.sh", "temp=2")]
    assert list(results["status"]) == ["done"]
    assert list(results["result"]) == [2]
    assert list(results["calculator"]) == ["sh://bash backup.sh"]
    assert list(results["attempts"]) == [2]


def test_retry_mechanism_retry_with_different_methods(seed):
    hpc = ssh_uri(f"bash {seed}/hpc.sh")
    Calc(seed, "fast_method.sh", fail_for=["temp=2", "temp=3"])  # Fast, may fail
    Calc(seed, "robust_method.sh", fail_for=["temp=3"])  # Slower, more reliable
    Calc(seed, "hpc.sh")  # Expensive, very reliable
    variables = {"temp": [1, 2, 3]}

    calculators = [
        "sh://bash fast_method.sh",      # Fast, may fail
        "sh://bash robust_method.sh",    # Slower, more reliable
        hpc                              # Expensive, very reliable
    ]

    os.environ['FZ_MAX_RETRIES'] = '5'

    results = fz.fzr("input.txt", variables, model, calculators)

    # Check retry statistics
    print(results[['status', 'calculator', 'error']].value_counts(dropna=False))
    assert (results["status"] == "done").all(), results[["status", "error"]]
    assert list(results["result"]) == [1, 2, 3]
    # temp=3 fails on both local methods whatever its first slot: only hpc.sh
    # can finish it, and each calculator is tried once before any repeats.
    assert results["calculator"][2] == hpc
    assert len(calls(seed, "fail")) <= 3
    assert len(calls(seed, "end")) == 3
    assert len(calls(seed, "end", "hpc.sh")) >= 1


GRACEFUL_SHUTDOWN = '''
import json, sys
import fz
model = json.loads(sys.argv[1])
results = fz.fzr(
    "input.txt",
    {"param": list(range(1000))},  # Many cases
    model,
    calculators=["sh://bash calc.sh"] * 4,
    results_dir="results"
)
# Press Ctrl+C...
print(json.dumps(results["status"].tolist()))
'''


def test_interrupt_handling_graceful_shutdown(seed):
    Calc(seed, "calc.sh", sleep=0.3)
    child = start_child(seed, GRACEFUL_SHUTDOWN)
    wait_for_starts(seed, 8, child)
    started_before = len(calls(seed))
    sent = time.time()
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    assert time.time() - sent < 5
    assert child.returncode == 0, err
    assert "Interrupt received: running cases finish, no new case starts" in err
    statuses = json.loads(out.strip().splitlines()[-1])
    # 1. Currently running cases finish  2. No new cases start
    starts, ends = calls(seed, "start"), calls(seed, "end")
    assert sorted(starts) == sorted(ends)
    assert len(starts) <= started_before + 4
    # 3. Partial results are saved (every started case, and only those)
    assert len(statuses) == 1000 and statuses.count("done") == len(ends)
    assert statuses.count("interrupted") == 1000 - len(ends)
    saved = sorted(d for d in os.listdir("results") if os.path.isdir(f"results/{d}") and not d.startswith("."))
    assert saved == sorted(c for _, c in ends)
    # 4. Can resume from cache later: see test_interrupt_handling_resume_after_interrupt.


RESUME_AFTER_INTERRUPT = '''
import json, sys
import fz
model = json.loads(sys.argv[1])
variables = {"temp": list(range(20))}
# First run (interrupted)
try:
    results = fz.fzr(
        "input.txt",
        variables,
        model,
        "sh://bash calc.sh",
        "run1"
    )
except KeyboardInterrupt:
    print("Interrupted, partial results saved")

# Resume
results = fz.fzr(
    "input.txt",
    variables,
    model,
    ["cache://run1", "sh://bash calc.sh"],
    "run1_resumed"
)
print(json.dumps({"result": results["result"].tolist(), "calculator": results["calculator"].tolist()}))
'''


def test_interrupt_handling_resume_after_interrupt(seed):
    # calc.sh sleeps as long as the file `delay` says (0 without it).
    Calc(seed, "calc.sh", sleep=f"$(cat {seed}/delay 2>/dev/null || echo 0)")
    (seed / "delay").write_text("0.3")
    child = start_child(seed, RESUME_AFTER_INTERRUPT)
    wait_for_starts(seed, 4, child)
    child.send_signal(signal.SIGINT)  # running case finishes, no new one
    time.sleep(0.1)
    child.send_signal(signal.SIGINT)  # kills it: KeyboardInterrupt
    (seed / "delay").unlink()
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    lines = out.strip().splitlines()
    assert lines[0] == "Interrupted, partial results saved"
    resumed = json.loads(lines[-1])
    assert resumed["result"] == list(range(20))
    hits = resumed["calculator"].count("cache://run1")
    assert hits >= 3
    assert resumed["calculator"].count("sh://bash calc.sh") == 20 - hits
    # Every case ran to its end exactly once over both runs: the finished
    # ones were reused, the killed one and the others ran in the resume.
    ends = [c for _, c in calls(seed, "end")]
    assert sorted(ends) == sorted(f"temp={t}" for t in range(20))
    killed = len(calls(seed, "start")) - len(ends)
    assert killed in (0, 1)
