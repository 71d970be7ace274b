"""Issues 13 and 14 through the real module: a failure that would repeat is
not retried on the same calculator, ``?ok_exit=`` accepts listed exit
codes, and a detached process of a timed-out case does not survive it."""

import os
import time

import fz

from conftest import MODEL, runs


def test_a_missing_script_is_tried_once(project, monkeypatch):
    # A script named in the command must exist before the run (pre-flight);
    # one missing behind a wrapper is found when the case runs.
    (project / "wrap.sh").write_text("#!/bin/bash\nexec bash missing.sh\n")
    monkeypatch.setenv("FZ_MAX_RETRIES", "5")
    df = fz.fzr("input.txt", {"temp": 1}, MODEL, calculators="sh://bash wrap.sh")
    row = df.iloc[0]
    assert row["status"] == "failed"
    assert row["attempts"] == 1
    assert row["error"].startswith("Script or file not found: 'missing.sh' (exit code 127)")


def test_a_deterministic_failure_goes_to_the_next_calculator(project):
    (project / "wrap.sh").write_text("#!/bin/bash\nexec bash missing.sh\n")
    df = fz.fzr(
        "input.txt",
        {"temp": 2},
        MODEL,
        calculators=["sh://bash wrap.sh", "sh://bash calc.sh"],
    )
    row = df.iloc[0]
    assert row["status"] == "done"
    assert row["attempts"] == 2
    assert row["result"] == 2
    assert runs(project) == 1


def test_ok_exit_makes_a_listed_exit_code_done(project):
    (project / "one.sh").write_text(f"#!/bin/bash\nbash {project}/calc.sh\nexit 1\n")
    df = fz.fzr("input.txt", {"temp": 3}, MODEL, calculators="sh://bash one.sh?ok_exit=0,1")
    row = df.iloc[0]
    assert row["status"] == "done"
    assert row["exit_code"] == 1
    assert row["result"] == 3
    df = fz.fzr(
        "input.txt", {"temp": 3}, MODEL, calculators="sh://bash one.sh?ok_exit=0", results_dir="r2"
    )
    assert df.iloc[0]["status"] == "failed"


def _marked(mark):
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                hit = mark.encode() in f.read()
            with open(f"/proc/{name}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if hit and state not in ("Z", "X"):
            found.append(int(name))
    return found


def test_a_detached_grandchild_dies_at_the_timeout(project):
    mark = f"fzpymark{os.getpid()}"
    (project / "detach.sh").write_text(
        f"#!/bin/bash\nsetsid bash -c 'sleep 300; : {mark}' &\nsleep 300\n"
    )
    df = fz.fzr(
        "input.txt", {"temp": 1}, MODEL, calculators="sh://bash detach.sh?timeout=1"
    )
    assert (df["status"] == "timeout").all()
    until = time.time() + 5
    while _marked(mark) and time.time() < until:
        time.sleep(0.05)
    assert _marked(mark) == []
