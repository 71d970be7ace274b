"""Fixtures for the Python module tests: a scratch project directory with an
input template and a calculator script that logs every run."""

import os

import pytest

import fz


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var in ("FZ_MAX_WORKERS", "FZ_MAX_RETRIES", "FZ_RUN_TIMEOUT", "FZ_LOG_LEVEL", "FZ_CASE_NAMING"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FZ_PROGRESS", "0")
    fz.reload_config()  # settings made on get_config() by an earlier test
    (tmp_path / "input.txt").write_text("temp=${temp}\npressure=${pressure~1}\n")
    (tmp_path / "calc.sh").write_text(
        "#!/bin/bash\n"
        "t=$(grep temp= input.txt | cut -d= -f2)\n"
        "p=$(grep pressure= input.txt | cut -d= -f2)\n"
        f'echo "$PWD" >> {tmp_path}/runs.log\n'
        'echo "result = $((t * p))" > output.txt\n'
    )
    return tmp_path


MODEL = {
    "varprefix": "$",
    "formulaprefix": "@",
    "delim": "{}",
    "commentline": "#",
    "output": {"result": "grep result output.txt | awk '{print $3}'"},
}


def runs(path):
    log = path / "runs.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


# --- Helpers for the seed document's snippets (tests/python/test_seed_*.py) --

# Every variable the seed's snippets use, with defaults, so one template
# serves them all (a case's directory name lists only the variables given).
SEED_INPUT = "temp=${temp~0}\npressure=${pressure~1}\nparam=${param~0}\nmesh=${mesh~0}\n"


class Calc:
    """A calculator script written into the project that keeps its own log.

    Each run appends `start <script> <case> <time>` to calls.log when it
    starts and `end …` (or `fail …`) when it stops, where <case> is the
    basename of the directory it runs in (the case's name locally). It reads
    the case's values from its first argument (else input.txt) and writes
    `result = temp*pressure + param + mesh + offset` to output.txt, after
    sleeping `sleep` seconds; it exits 3 without output when the case's
    name is in `fail_for`. Counting runs from this log never relies on
    fz's own report.
    """

    def __init__(self, project, name, sleep=0.0, offset=0, fail_for=(), fail_always=False):
        self.project = project
        self.name = name
        log = project / "calls.log"
        fails = "true" if fail_always else " || ".join(f'[ "$case" = "{c}" ]' for c in fail_for) or "false"
        body = (
            "#!/bin/bash\n"
            'case=$(basename "$PWD")\n'
            f'echo "start {name} $case $(date +%s.%N)" >> {log}\n'
            'f="${1:-input.txt}"\n'
            'v() { grep "^$1=" "$f" | cut -d= -f2; }\n'
            f"sleep {sleep}\n"
            f'if {fails}; then echo "fail {name} $case $(date +%s.%N)" >> {log}; exit 3; fi\n'
            f'echo "result = $(( $(v temp) * $(v pressure) + $(v param) + $(v mesh) + {offset} ))" > output.txt\n'
            f'echo "end {name} $case $(date +%s.%N)" >> {log}\n'
        )
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
        path.chmod(0o755)


def calls(project, kind="start", script=None):
    """(script, case) of every logged run event of `kind`, in log order."""
    log = project / "calls.log"
    out = []
    for line in (log.read_text().splitlines() if log.exists() else []):
        k, name, case, _ = line.split(" ")
        if k == kind and (script is None or name == script):
            out.append((name, case))
    return out


def max_concurrency(project):
    """Most runs that were in progress at the same time, from calls.log."""
    log = project / "calls.log"
    events = []
    for line in log.read_text().splitlines():
        k, _, _, t = line.split(" ")
        events.append((float(t), 0 if k != "start" else 1))
    running = best = 0
    for _, starting in sorted(events):  # ends before starts at equal times
        running += 1 if starting else -1
        best = max(best, running)
    return best


@pytest.fixture
def seed(project):
    """The project with the seed template and calc.sh as a logging Calc."""
    (project / "input.txt").write_text(SEED_INPUT)
    Calc(project, "calc.sh")
    return project


def start_child(project, code, *args):
    """Run `code` (a Python script; sys.argv[1] is MODEL as JSON) in a child
    process in the project directory, stdout/stderr piped."""
    import json
    import subprocess
    import sys

    (project / "child.py").write_text(code)
    env = dict(os.environ, FZ_PROGRESS="0")
    return subprocess.Popen(
        [sys.executable, "child.py", json.dumps(MODEL), *args],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=default_sigint,
    )


def default_sigint():
    """In a child about to exec: SIGINT back to its default action. A test
    run started in the background by a non-interactive shell (`cmd &`)
    inherits SIGINT ignored, and Python then installs no KeyboardInterrupt
    handler: Ctrl+C tests would wait for a signal nobody hears."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for_starts(project, n, child, timeout=60):
    """Wait until the calculators logged at least n starts (child still alive)."""
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        if len(calls(project)) >= n:
            return
        assert child.poll() is None, child.communicate()
        time.sleep(0.02)
    raise AssertionError(f"fewer than {n} runs started in {timeout} s")


def require_service(var, what):
    """The value of the service variable `var` (FZ_TEST_SSH_PORT,
    FZ_TEST_SLURM); without it the test is skipped, or fails under CI,
    where the service must be running."""
    value = os.environ.get(var)
    if not value:
        if os.environ.get("CI"):
            pytest.fail(f"{var} is not set but CI is: {what} must be running for this test")
        pytest.skip(f"{var} not set: {what} is not available")
    return value


def ssh_uri(command):
    """An ssh:// URI for `command` on the test sshd (127.0.0.1:$FZ_TEST_SSH_PORT)
    as the current user; skipped/failed as require_service says."""
    import getpass

    port = require_service("FZ_TEST_SSH_PORT", "the test sshd")
    return f"ssh://{getpass.getuser()}@127.0.0.1:{port}/{command}"
