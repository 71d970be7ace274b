"""The module's API: inputs accepted (dicts, numpy, pandas), errors raised."""

import os

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
    assert out.stdout.strip() == f"fz {fz.__version__} (funz-fz {fz.__funz_fz_version__} compatible)"


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


def test_callbacks_dict_and_list_forms_on_the_calling_thread(project):
    import threading

    me = threading.get_ident()
    seen = []

    def record(name):
        def fn(*args):
            assert threading.get_ident() == me, "callbacks run on the calling thread"
            seen.append((name,) + args[:2])
        return fn

    def boom(*args):
        raise RuntimeError("callback bug")

    cbs = {name: record(name) for name in ("on_start", "on_case_start", "on_case_complete", "on_progress")}
    cbs["on_complete"] = record("on_complete")
    df = fz.fzr("input.txt", {"temp": [1, 2, 3]}, MODEL, calculators=["sh://bash calc.sh"] * 2, callbacks=cbs)
    names = [s[0] for s in seen]
    assert names[0] == "on_start" and seen[0][1] == 3
    assert names.count("on_case_start") == 3
    assert names.count("on_case_complete") == 3
    assert names.count("on_progress") == 3, "on_progress after every case (no bar involved)"
    assert names[-1] == "on_complete"
    assert len(df) == 3
    events = []
    fz.fzr("input.txt", {"temp": [1, 2]}, MODEL, calculators="sh://bash calc.sh", results_dir="r2",
           callbacks=[lambda ev, info: events.append((ev, info.get("temp"))), boom])
    assert sorted(events) == [("case_complete", 1), ("case_complete", 2), ("case_start", 1), ("case_start", 2)]
    with pytest.raises(ValueError, match="Invalid callback name 'on_foo'"):
        fz.fzr("input.txt", {"temp": [1]}, MODEL, calculators="sh://bash calc.sh", callbacks={"on_foo": print})


def test_calculators_and_results_dir_in_either_order(project):
    fz.fzr("input.txt", {"temp": [1, 2]}, MODEL, "sh://bash calc.sh", "results_fast/")
    df_fast = pd.read_csv("results_fast/summary.csv")
    assert list(df_fast["temp"]) == [1, 2]
    assert list(df_fast["result"]) == [1, 2]
    # Upstream's order works too.
    fz.fzr("input.txt", {"temp": [3]}, MODEL, "results_up", "sh://bash calc.sh")
    assert os.path.isdir("results_up/temp=3")
    with pytest.raises(TypeError):
        fz.fzr("input.txt", {"temp": [3]}, MODEL, "sh://a", "sh://b")


def test_resume_in_place(project):
    (project / "flaky.sh").write_text(
        "#!/bin/bash\n"
        f"echo run >> {project}/runs.log\n"
        "grep -q 'temp=2' input.txt && exit 3\n"
        'echo "result = 1" > output.txt\n'
    )
    os.environ["FZ_MAX_RETRIES"] = "1"
    first = fz.fzr("input.txt", {"temp": [1, 2, 3]}, MODEL, calculators="sh://bash flaky.sh", results_dir="run1")
    assert list(first["status"]) == ["done", "failed", "done"]
    again = fz.fzr("input.txt", {"temp": [1, 2, 3]}, MODEL, calculators="sh://bash calc.sh",
                   results_dir="run1", resume=True)
    assert list(again["status"]) == ["done", "done", "done"]
    assert runs(project) == 3 + 1


def test_jq_outputs_in_a_study(project):
    """A calculator writing JSON, read with jq:// filters (no jq executable
    involved: the filter runs inside fz)."""
    (project / "calcj.sh").write_text(
        '#!/bin/bash\nt=$(grep temp= "$1" | cut -d= -f2)\n'
        'echo "{\\"t\\": $t, \\"series\\": [$t, $((t * 2))]}" > result.json\n'
    )
    model = {"varprefix": "$", "delim": "{}",
             "output": {"t": "jq://.t result.json",
                        "peak": "jq://'.series | max' result.json",
                        "series": "jq://.series result.json"}}
    (project / "inj.txt").write_text("temp=${temp}\n")
    r = fz.fzr("inj.txt", {"temp": [2, 5]}, model, calculators="sh://bash calcj.sh",
               results_dir="jq_results")
    assert list(r["t"]) == [2, 5]
    assert list(r["peak"]) == [4, 10]
    assert [list(s) for s in r["series"]] == [[2, 4], [5, 10]]
    again = fz.fzo("jq_results/*", model)
    assert list(again["peak"]) == [4, 10]


def test_python_outputs_in_a_study(project):
    """python:// expressions run in a real Python with the spec's helpers."""
    (project / "calcp.sh").write_text(
        '#!/bin/bash\nt=$(grep temp= "$1" | cut -d= -f2)\n'
        'printf "step 1 T=%s\\nstep 2 T=%s\\n" "$t" "$((t + 1))" > calc.log\n'
        'printf "a,b\\n1,%s\\n" "$t" > d.csv\n'
    )
    (project / "inp.txt").write_text("temp=${temp}\n")
    model = {"varprefix": "$", "delim": "{}",
             "output": {"last": "python://grep(r'T=(\\d+)', 'calc.log', all=True)[-1]",
                        "total": "python://sum(grep(r'T=(\\d+)', 'calc.log', all=True))",
                        "b": "python://csv_file('d.csv', column='b')",
                        "n": "python://len([l for l in lines('calc.log') if 'step' in l])"}}
    r = fz.fzr("inp.txt", {"temp": [2, 5]}, model, calculators="sh://bash calcp.sh",
               results_dir="py_results")
    assert list(r["status"]) == ["done", "done"]
    assert list(r["last"]) == [3, 6]
    assert list(r["total"]) == [5, 11]
    assert [list(b) for b in r["b"]] == [[2], [5]]
    assert list(r["n"]) == [2, 2]


def test_callable_outputs(project):
    """Model outputs given as Python callables get the case directory Path;
    they take their place in model order, and a raising one is reported."""
    (project / "calcc.sh").write_text(
        '#!/bin/bash\ngrep temp= "$1" | cut -d= -f2 > t.txt\n'
    )
    (project / "inc.txt").write_text("temp=${temp}\n")

    def doubled(case_dir):
        assert case_dir.is_absolute()
        return 2 * int((case_dir / "t.txt").read_text())

    def broken(case_dir):
        raise ValueError("no luck in " + case_dir.name)

    model = {"varprefix": "$", "delim": "{}",
             "output": {"t": "cat t.txt", "twice": doubled, "bad": broken,
                        "again": "python://int(read('t.txt'))"}}
    r = fz.fzr("inc.txt", {"temp": [3, 4]}, model, calculators="sh://bash calcc.sh",
               results_dir="c_results")
    assert list(r.columns[:5]) == ["temp", "t", "twice", "bad", "again"]
    assert list(r["twice"]) == [6, 8]
    assert list(r["again"]) == [3, 4]
    assert list(r["bad"]) == [None, None]
    assert r["error"][0] == "Missing output: Output 'bad': no luck in temp=3"
    o = fz.fzo("c_results/*", model)
    assert list(o.columns[:6]) == ["path", "t", "twice", "bad", "again", "_output_error"]
    assert list(o["twice"]) == [6, 8]
    assert o["_output_error"][1] == "Output 'bad': no luck in temp=4"


def test_python_outputs_run_in_this_interpreter(project, monkeypatch):
    """By default formulas and python:// outputs use the calling Python (its
    venv and packages); FZ_PYTHON still wins."""
    import sys

    (project / "case" / "x=1").mkdir(parents=True)
    model = {"output": {"prefix": "python://__import__('sys').prefix",
                        "pandas": "python://pd.__name__"}}
    monkeypatch.delenv("FZ_PYTHON", raising=False)
    r = fz.fzo("case/*", model)
    assert r["prefix"][0] == sys.prefix
    assert r["pandas"][0] == "pandas"
    monkeypatch.setenv("FZ_PYTHON", "/nonexistent/python3")
    r = fz.fzo("case/*", model)
    assert r["prefix"][0] is None
    assert "could not run '/nonexistent/python3'" in r["_output_error"][0]
