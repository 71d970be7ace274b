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
