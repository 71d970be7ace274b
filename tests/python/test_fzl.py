"""fz.fzl(): installed models and calculators (project, then a fake HOME),
the dict it returns, checks, and fzr's compatibility check of aliases."""

import json
import os
import subprocess
import sys

import pytest

import fz
from conftest import MODEL


@pytest.fixture
def installed(project, monkeypatch):
    home = project / "home"
    monkeypatch.setenv("HOME", str(home))
    files = {
        project / ".fz/models/perfectgas.json": {"id": "PerfectGas", "output": {"p": "cat p.txt"}},
        home / ".fz/models/mc.json": {"id": "MC"},
        project / ".fz/calculators/local.json": {"uri": "sh://", "models": {"PerfectGas": "bash calc.sh"}},
        home / ".fz/calculators/cluster.json": {"uri": "ssh://me:s3cret@127.0.0.1:1", "models": ["MC"]},
    }
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content))
    return project


def test_listing_is_a_dict_of_models_and_calculators(installed):
    r = fz.fzl()
    assert list(r) == ["models", "calculators", "algorithms"]
    assert list(r["models"]) == ["perfectgas", "mc"]
    pg = r["models"]["perfectgas"]
    assert pg["path"] == str(installed / ".fz/models/perfectgas.json")
    assert pg["scope"] == "project"
    assert pg["properties"] == {"id": "PerfectGas", "output": {"p": "cat p.txt"}}
    assert pg["supported_calculators"] == ["local"]
    assert pg["check_status"] == "not_checked"
    assert r["models"]["mc"]["scope"] == "home"
    assert r["models"]["mc"]["supported_calculators"] == ["cluster"]
    cluster = r["calculators"]["cluster"]
    assert cluster["uri"] == "ssh://me:***@127.0.0.1:1"
    assert cluster["supports_models"] == ["MC"]
    assert r["calculators"]["local"]["commands"] == {"PerfectGas": "bash calc.sh"}
    assert "s3cret" not in json.dumps(r)

    only = fz.fzl(models="perf*", calculators="loc*")
    assert list(only["models"]) == ["perfectgas"]
    assert list(only["calculators"]) == ["local"]


def test_check_reports_problems_per_entry(installed):
    r = fz.fzl(check=True)
    assert r["models"]["perfectgas"]["check_status"] == "passed"
    assert r["calculators"]["local"]["check_status"] == "passed", r["calculators"]["local"]
    cluster = r["calculators"]["cluster"]
    assert cluster["check_status"] == "failed"
    assert cluster["check_error"].startswith("ssh host me:***@127.0.0.1:1 unreachable")
    (installed / ".fz/calculators/local.json").write_text('{"models": {}}')
    r = fz.fzl(calculators="local", check=True)
    assert r["calculators"]["local"]["check_error"] == "missing key 'uri' (e.g. \"uri\": \"sh://\")"
    with pytest.raises(TypeError, match="models must be a string pattern, got list"):
        fz.fzl(models=["a"])


PLUGIN = """#title: Fixed sampler
#options: n=3
#require: pytest
import pytest  # in the test interpreter, not necessarily in python3


class Sampler:
    def get_initial_design(self, input_vars, output_vars):
        return [{"x": 0.5}]

    def get_next_design(self, X, Y):
        return []

    def get_analysis(self, X, Y):
        return {}
"""


def test_algorithm_plugins_listed_and_checked_with_the_calling_interpreter(installed, monkeypatch):
    # The check runs the plugin in the Python that imported fz (it needs
    # pytest), unless FZ_PYTHON says otherwise.
    monkeypatch.delenv("FZ_PYTHON", raising=False)
    (installed / ".fz/algorithms").mkdir(parents=True)
    (installed / ".fz/algorithms/sampler.py").write_text(PLUGIN)
    (installed / ".fz/algorithms/broken.py").write_text("class Broken:\n    pass\n")
    r = fz.fzl(algorithms="samp*")
    assert list(r["algorithms"]) == ["sampler"]
    s = r["algorithms"]["sampler"]
    assert s["type"] == "plugin" and s["language"] == "python" and s["scope"] == "project"
    assert s["path"] == str(installed / ".fz/algorithms/sampler.py")
    assert s["options"] == {"n": "3"} and s["require"] == ["pytest"]
    assert s["summary"] == "Fixed sampler"
    r = fz.fzl(algorithms="sampler,broken", check=True)
    assert r["algorithms"]["sampler"]["check_status"] == "passed", r["algorithms"]["sampler"]
    broken = r["algorithms"]["broken"]
    assert broken["check_status"] == "failed"
    assert "class Broken lacks get_initial_design, get_next_design, get_analysis" in broken["check_error"]
    with pytest.raises(TypeError, match="algorithms must be a string pattern, got int"):
        fz.fzl(algorithms=1)


def test_module_and_cli_agree(installed):
    # The console script installed with the package, as users call it.
    fzl = os.path.join(os.path.dirname(sys.executable), "fzl")
    cli = subprocess.run([fzl, "-f", "json"], capture_output=True, text=True, cwd=installed)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout) == fz.fzl()


def test_fzr_refuses_an_alias_that_does_not_support_the_model(installed):
    (installed / ".fz/models/mine.json").write_text(json.dumps({**MODEL, "id": "Mine"}))
    alias = installed / ".fz/calculators/local.json"
    with pytest.raises(ValueError) as err:
        fz.fzr("input.txt", {"temp": [1]}, "mine", calculators="local")
    assert str(err.value) == (
        f"calculator alias 'local' ({alias}) does not support model 'Mine' "
        '(its "models" list: PerfectGas)'
    )
    assert not (installed / "results").exists()
    # The alias supporting the model is picked by discovery.
    alias.write_text(json.dumps({"uri": "sh://", "models": {"Mine": "bash calc.sh"}}))
    r = fz.fzr("input.txt", {"temp": [2]}, "mine")
    assert list(r["result"]) == [2]
    assert list(r["calculator"]) == ["sh://bash calc.sh"]
