"""Configuration precedence and Ctrl+C in the Python module: real runs, real
signals sent to a real child Python process."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import fz
from conftest import default_sigint, MODEL


def test_precedence_argument_then_attribute_then_environment(project):
    (project / "fail.sh").write_text(f"#!/bin/bash\necho run >> {project}/fails.log\nexit 3\n")
    config = fz.get_config()
    os.environ["FZ_MAX_RETRIES"] = "1"
    config.max_retries = 3
    os.environ["FZ_MAX_RETRIES"] = "2"  # set after the attribute: the attribute still wins
    r = fz.fzr("input.txt", {"temp": [1]}, MODEL, calculators="sh://bash fail.sh", results_dir="a")
    assert list(r["attempts"]) == [3]
    assert len((project / "fails.log").read_text().splitlines()) == 3
    del config.max_retries  # back to the environment
    assert config.max_retries == 2
    r = fz.fzr("input.txt", {"temp": [1]}, MODEL, calculators="sh://bash fail.sh", results_dir="b")
    assert list(r["attempts"]) == [2]
    # An explicit argument wins over the attribute.
    (project / "slow.sh").write_text("#!/bin/bash\nsleep 3\necho 'result = 1' > output.txt\n")
    config.run_timeout = 1
    r = fz.fzr("input.txt", {"temp": [1]}, MODEL, calculators="sh://bash slow.sh", results_dir="c")
    assert list(r["status"]) == ["timeout"]
    r = fz.fzr("input.txt", {"temp": [1]}, MODEL, calculators="sh://bash slow.sh", results_dir="d", timeout=10)
    assert list(r["status"]) == ["done"]
    fz.reload_config()
    assert config.run_timeout == 3600 and config.max_retries == 2


def test_config_attributes_are_checked_and_summarised(project):
    config = fz.get_config()
    with pytest.raises(ValueError, match="Invalid log level: LOUD"):
        config.log_level = "LOUD"
    with pytest.raises(TypeError, match="max_workers must be an integer"):
        config.max_workers = "many"
    with pytest.raises(AttributeError, match="unknown configuration setting 'nope'"):
        config.nope = 1
    with pytest.raises(ValueError, match="Invalid interpreter 'perl'"):
        fz.set_interpreter("perl")
    fz.set_interpreter("R")
    assert fz.get_interpreter() == "r"
    fz.set_log_level("info")
    assert fz.get_log_level() == "INFO"
    os.environ["FZ_MAX_WORKERS"] = "4"
    assert config.max_workers == 4
    config.max_workers = None  # auto, whatever the environment says
    assert config.max_workers is None
    summary = config.get_summary()
    assert summary["version"] == fz.__version__
    assert summary["interpreter"] == "r" and summary["max_workers"] is None
    assert summary["ssh_keepalive"] == 300 and summary["ssh_auto_accept_hostkeys"] is False


SCRIPT = """
import json, sys
import fz
model = json.loads(sys.argv[1])
df = fz.fzr("input.txt", {"temp": list(range(40))}, model,
            calculators=["sh://bash slow.sh"] * 2, results_dir="results")
print(json.dumps(df["status"].tolist()))
"""


def _start_study(project, work):
    (project / "slow.sh").write_text(
        "#!/bin/bash\n"
        f"echo \"start $PWD\" >> {project}/events.log\n"
        f"{work}\n"
        "t=$(grep temp= input.txt | cut -d= -f2)\n"
        'echo "result = $t" > output.txt\n'
        f"echo \"end $PWD\" >> {project}/events.log\n"
    )
    (project / "study.py").write_text(SCRIPT)
    env = dict(os.environ, FZ_PROGRESS="0")
    child = subprocess.Popen(
        [sys.executable, "study.py", json.dumps(MODEL)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=default_sigint,
    )
    return child


def _wait_for_starts(project, n, child):
    log = project / "events.log"
    deadline = time.time() + 30
    while time.time() < deadline:
        if log.exists() and sum(1 for l in log.read_text().splitlines() if l.startswith("start")) >= n:
            return
        assert child.poll() is None, child.communicate()
        time.sleep(0.05)
    raise AssertionError("the study did not start")


def test_first_sigint_returns_partial_results_and_resume_completes(project):
    child = _start_study(project, "sleep 0.2")
    _wait_for_starts(project, 4, child)
    sent = time.time()
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=20)
    assert time.time() - sent < 5, "running cases finish, nothing new starts"
    assert child.returncode == 0, err
    statuses = json.loads(out.strip().splitlines()[-1])
    assert len(statuses) == 40
    done = statuses.count("done")
    assert done >= 4 and statuses.count("interrupted") == 40 - done, statuses
    assert "Resume with" in err and "cache://" in err
    lines = (project / "events.log").read_text().splitlines()
    starts = sorted(l.split(" ", 1)[1] for l in lines if l.startswith("start"))
    ends = sorted(l.split(" ", 1)[1] for l in lines if l.startswith("end"))
    assert starts == ends, "every started case finished"
    assert len(starts) == done
    # Resume runs exactly the missing cases.
    df = fz.fzr("input.txt", {"temp": list(range(40))}, MODEL,
                calculators=["sh://bash slow.sh"] * 2, results_dir="results", resume=True)
    assert (df["status"] == "done").all()
    assert list(df["result"]) == list(range(40))
    lines = (project / "events.log").read_text().splitlines()
    assert sum(1 for l in lines if l.startswith("start")) == 40


def test_second_sigint_kills_running_cases_and_raises(project):
    marker = f"fz-kill-test-{os.getpid()}-{time.time_ns()}"
    child = _start_study(project, f"bash -c 'sleep 300; : {marker}'")
    _wait_for_starts(project, 2, child)
    child.send_signal(signal.SIGINT)
    time.sleep(0.5)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=20)
    assert child.returncode != 0
    assert "KeyboardInterrupt" in err
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
    assert left.stdout == "", "the running cases' processes were killed"
    results = project / "results"
    finished = [d for d in results.iterdir() if d.is_dir() and d.name != ".fz_replaced"]
    for d in finished:
        assert (d / "info.txt").exists(), f"no half case directory: {d}"
        assert "state=done" not in (d / "info.txt").read_text()
