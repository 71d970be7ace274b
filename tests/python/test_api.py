"""The module's API: inputs accepted (dicts, numpy, pandas), errors raised."""

import numpy as np
import pandas as pd
import pytest

import fz
from conftest import MODEL, runs


def test_fzi_and_fzc(project):
    assert fz.fzi("input.txt", MODEL) == {"pressure": 1, "temp": None}
    fz.fzc("input.txt", {"temp": [1, 2]}, MODEL, "compiled")
    assert (project / "compiled" / "temp=1" / "input.txt").read_text() == "temp=1\npressure=1\n"


def test_numpy_pandas_and_dataframe_designs(project):
    r = fz.fzr("input.txt", {"temp": np.array([1, 2]), "pressure": pd.Series([3])}, MODEL,
               calculators="sh://bash calc.sh")
    assert list(r["result"]) == [3, 6]
    table = pd.DataFrame({"temp": [1, 2], "pressure": [0.5, 1.5]})
    r = fz.fzr("input.txt", table, MODEL, calculators="sh://bash calc.sh", results_dir="t")
    assert list(r["temp"]) == [1, 2], "integer columns are not upcast"
    with pytest.raises(ValueError, match="duplicate rows"):
        fz.fzr("input.txt", pd.DataFrame({"temp": [1, 1]}), MODEL, calculators="sh://bash calc.sh")


def test_errors_are_python_exceptions(project):
    with pytest.raises(TypeError, match="input_path must be a string or Path, got int"):
        fz.fzr(1, {"temp": [1]}, MODEL)
    with pytest.raises(TypeError, match="input_variables must be a dictionary or DataFrame, got str"):
        fz.fzr("input.txt", "temp=1", MODEL)
    with pytest.raises(TypeError, match="Model cannot be None"):
        fz.fzi("input.txt", None)
    with pytest.raises(FileNotFoundError, match="Input path"):
        fz.fzi("missing.txt", MODEL)
    with pytest.raises(ValueError, match="model 'nosuch' not found"):
        fz.fzi("input.txt", "nosuch")
    with pytest.raises(ValueError, match="Unsupported calculator scheme"):
        fz.fzr("input.txt", {"temp": [1]}, MODEL, calculators="docker://x")
    with pytest.raises(ValueError, match="Invalid interpreter"):
        fz.set_interpreter("cobol")
    assert runs(project) == 0


def test_console_scripts_are_installed(project):
    import subprocess

    out = subprocess.run(["fzi", "input.txt", "-f", "json"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert '"temp": null' in out.stdout
    out = subprocess.run(["fz", "--version"], capture_output=True, text=True)
    assert out.stdout.strip() == f"fz {fz.__version__}"


def test_cli_and_module_give_the_same_table(project):
    import json
    import subprocess

    args = ["fzr", "input.txt", "-v", '{"temp": [1, 2], "pressure": 3}', "-c", "sh://bash calc.sh",
            "-r", "cli", "-f", "json", "-m", json.dumps(MODEL)]
    out = subprocess.run(args, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    cli = json.loads(out.stdout)
    df = fz.fzr("input.txt", {"temp": [1, 2], "pressure": 3}, MODEL, calculators="sh://bash calc.sh", results_dir="lib")
    lib = json.loads(df.to_json(orient="records"))
    for row in cli:
        row["path"] = row["path"].replace("cli/", "RES/")
    for row in lib:
        row["path"] = row["path"].replace("lib/", "RES/")
    assert cli == lib
    assert [r["result"] for r in lib] == [3, 6]
