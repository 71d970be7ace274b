"""Mistakes caught early (issue 14), through the module and its console
scripts: misspelled model keys and the strict setting, broken -v lists and
ranges, calculator URIs and inputs that went wrong quietly, -V, -f table
digits, fzo order, the calculator and exit_code columns, completions, and
the end-of-run summary with its exit status."""

import json
import os
import re
import subprocess
import sys

import pytest

import fz

from conftest import MODEL, runs


def cli(name, *args, cwd, env=None):
    """Runs the console script `name` installed with the package."""
    exe = os.path.join(os.path.dirname(sys.executable), name)
    full = dict(os.environ, FZ_PROGRESS="0", **(env or {}))
    return subprocess.run([exe, *args], capture_output=True, text=True, cwd=cwd, env=full)


MISSPELLED = "Model key 'outptu' is not a model key and is ignored: did you mean 'output'?"


# ---- item 1


def test_misspelled_model_key_warns_once_and_strict_refuses_it(project, capfd):
    model = {"outptu": {"r": "echo 1"}}
    fz.fzc("input.txt", {"temp": 1}, model, output_dir="out")
    assert capfd.readouterr().err.count(MISSPELLED) == 1
    fz.get_config().strict = True
    try:
        with pytest.raises(ValueError, match=re.escape(MISSPELLED + " (strict mode: warnings are errors)")):
            fz.fzi("input.txt", model)
        with pytest.raises(ValueError, match="did you mean 'output'"):
            fz.fzc("input.txt", {"temp": 1}, model, output_dir="out2")
    finally:
        del fz.get_config().strict
    assert fz.get_config().strict is False
    r = cli("fzc", "input.txt", "-m", json.dumps(model), "-v", "temp=1", "-o", "out3", "--strict", cwd=project)
    assert r.returncode == 1
    assert r.stderr.strip() == f"fzc: error: inline model: {MISSPELLED} (strict mode: warnings are errors)"


def test_fzl_check_fails_on_a_misspelled_key(project):
    (project / ".fz/models").mkdir(parents=True)
    (project / ".fz/models/m.json").write_text('{"id": "m", "varprefx": "%"}')
    r = fz.fzl(models="m", check=True)
    assert r["models"]["m"]["check_status"] == "failed"
    assert "did you mean 'varprefix'?" in r["models"]["m"]["check_error"]
    assert cli("fzl", "--check", cwd=project).returncode == 1


# ---- item 3


def test_broken_compact_lists_and_ranges(project):
    r = cli("fzc", "input.txt", "-v", "temp=1;2", "-o", "out", cwd=project)
    assert r.returncode == 1
    assert r.stderr.startswith(
        "fzc: error: input_variables: 'temp=1;2' looks like a broken list or range; accepted forms:"
    ), r.stderr
    r = cli("fzc", "input.txt", "-v", "temp=1:3", "-o", "out", cwd=project)
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(project / "out")) == ["temp=1", "temp=2", "temp=3"]


# ---- item 12


def test_inputs_that_went_wrong_quietly(project):
    with pytest.raises(ValueError, match=r"unknown query key 'chunk' in '\?array=1&chunk=auto'; known query keys: timeout"):
        fz.fzr("input.txt", {"temp": 1}, MODEL, calculators="slurm://:debug/bash c.sh?array=1&chunk=auto")
    with pytest.raises(ValueError, match="calculator '' is empty"):
        fz.fzr("input.txt", {"temp": 1}, MODEL, calculators="")
    with pytest.raises(ValueError, match="input_static entry 'input.txt' is the input file itself"):
        fz.fzc("input.txt", {"temp": 1}, MODEL, output_dir="out", input_static=["input.txt"])
    r = cli("fzr", "input.txt", "-v", "null", cwd=project)
    assert r.returncode == 1
    assert "input_variables: 'null' is not a design" in r.stderr


# ---- item 10


def test_details(project):
    for name, args in (("fz", ["-V"]), ("fzr", ["-V"]), ("fz", ["output", "-V"])):
        r = cli(name, *args, cwd=project)
        assert r.returncode == 0 and r.stdout == f"{name} {fz.__version__} (funz-fz 1.2 compatible)\n", r
    (project / "tiny.sh").write_text("#!/bin/bash\necho 'result = 1.03e-05' > output.txt\n")
    r = cli(
        "fzr", "input.txt", "-v", "temp=1", "-m", json.dumps(MODEL), "-c", "sh://bash tiny.sh",
        "-c", "sh://bash tiny.sh", "-f", "table", cwd=project,
    )
    assert r.returncode == 0, r.stderr
    assert " 1.03e-05 " in r.stdout and "exit_code" in r.stdout and "sh://bash tiny.sh#" in r.stdout, r.stdout
    for r_value in (10000, 470, 2200, 1000):
        case = project / "res" / f"R={r_value}"
        case.mkdir(parents=True)
        (case / ".fz_hash").write_text("")
    df = fz.fzo("res", {"output": {}})
    assert list(df["R"]) == [470, 1000, 2200, 10000]
    r = cli("fz", "completions", "bash", cwd=project)
    assert r.returncode == 0 and "_fz()" in r.stdout
    r = cli("fz", "man", cwd=project)
    assert r.returncode == 0 and ".TH fz 1" in r.stdout


# ---- item 5


def test_run_summary_and_exit_status(project):
    (project / "flaky.sh").write_text(
        "#!/bin/bash\nt=$(grep temp= input.txt | cut -d= -f2)\n"
        "if [ \"$t\" = 2 ]; then echo 'solver diverged' >&2; exit 3; fi\n"
        "echo \"result = $t\" > output.txt\n"
    )
    args = ["input.txt", "-m", json.dumps(MODEL), "-c", "sh://bash flaky.sh", "-f", "json"]
    r = cli("fzr", *args, "-v", "temp=[1,2]", env={"FZ_MAX_RETRIES": "1"}, cwd=project)
    assert r.returncode == 1, r.stderr
    assert len(json.loads(r.stdout)) == 2
    last = r.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        r"2 cases: 1 done, 1 failed in \d+\.\d s; not done: temp=2 \(failed, exit 3: solver diverged\); see fz report results",
        last,
    ), r.stderr
    r = cli("fzr", *args, "-v", "temp=[1,3]", "-r", "ok", cwd=project)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^2 cases: 2 done in \d+\.\d s$", r.stderr, re.M), r.stderr


# ---- item 2


def test_undefined_and_unused_variables_are_named(project, capfd):
    # pressure has a default: used without a warning.
    fz.fzc("input.txt", {"temp": 1, "Temp": 2}, MODEL, output_dir="out")
    err = capfd.readouterr().err
    assert err.count(
        "input variable 'Temp' is not used by any input file and is ignored: did you mean 'temp'?"
    ) == 1, err
    assert "pressure" not in err, err
    (project / "input2.txt").write_text("a=${temp}\nb=${w}\n")
    undefined = "input2.txt:2: variable 'w' has no value and no default: '${w}' stays as written"
    fz.fzc("input2.txt", {"temp": 1}, MODEL, output_dir="out2")
    assert undefined in capfd.readouterr().err
    fz.get_config().strict = True
    try:
        with pytest.raises(ValueError, match=re.escape(undefined)):
            fz.fzr("input2.txt", {"temp": 1}, MODEL, calculators="sh://bash calc.sh")
    finally:
        del fz.get_config().strict
    assert not (project / "results").exists()


# ---- item 4


def test_a_case_whose_formula_fails_is_not_run(project):
    (project / "input.txt").write_text("temp=${temp}\npressure=@{10 // (${temp} - 2)}\n")
    df = fz.fzr("input.txt", {"temp": [1, 2]}, MODEL, calculators="sh://bash calc.sh")
    assert list(df["status"]) == ["done", "error"]
    assert df["error"][1].startswith(
        "Formula failed, case not run: input.txt:2: formula '10 // (2 - 2)' failed: ZeroDivisionError"
    ), df["error"][1]
    assert runs(project) == 1
    with pytest.raises(ValueError, match=r"formulas failed in 1 of 2 case\(s\): temp=2"):
        fz.fzc("input.txt", {"temp": [1, 2]}, MODEL, output_dir="out")
    assert "@{10 // (2 - 2)}" in (project / "out/temp=2/input.txt").read_text()


# ---- item 6


def test_a_calculator_that_cannot_start_is_refused_before_compiling(project):
    with pytest.raises(ValueError, match=r"calculator 'sh://bash missing.sh': script 'missing.sh' not found in "):
        fz.fzr("input.txt", {"temp": 1}, MODEL, calculators="sh://bash missing.sh")
    assert not (project / "results").exists() and runs(project) == 0
    r = cli("fzr", "input.txt", "-v", "temp=1", "-m", json.dumps(MODEL), cwd=project)
    assert r.returncode == 1
    assert "has no command, so each case would run its input file 'input.txt' itself" in r.stderr, r.stderr
    (project / "input.txt").write_text("exit 3\ntemp=${temp}\n")
    (project / "input.txt").chmod(0o755)  # it runs, and fails: the error says how it ran
    df = fz.fzr("input.txt", {"temp": 1}, MODEL, results_dir="own")
    assert "the case ran its input file './input.txt' itself" in df["error"][0], df["error"][0]


# ---- item 8


def test_moving_the_results_directory_aside_is_announced(project, capfd):
    fz.fzr("input.txt", {"temp": 1}, MODEL, calculators="sh://bash calc.sh", results_dir="r")
    assert "exists: moved to" not in capfd.readouterr().err
    fz.fzr("input.txt", {"temp": 1}, MODEL, calculators="sh://bash calc.sh", results_dir="r")
    assert re.search(r"^r/ exists: moved to r_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d/$", capfd.readouterr().err, re.M)


# ---- item 9


def test_progress_after_an_interrupt(project):
    import signal
    import time

    (project / "slow.sh").write_text(f"#!/bin/bash\necho go >> {project}/started.log\nsleep 20\n")
    exe = os.path.join(os.path.dirname(sys.executable), "fzr")
    env = dict(os.environ, FZ_PROGRESS="1")
    p = subprocess.Popen(
        [exe, "input.txt", "-v", "temp=[1,2,3]", "-c", "sh://bash slow.sh"],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    for _ in range(500):
        if (project / "started.log").exists():
            break
        time.sleep(0.01)
    for _ in range(2):  # the first lets running cases finish, the second kills them
        p.send_signal(signal.SIGINT)
        time.sleep(0.3)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 130, err
    assert "📊 Progress: 0/3 cases completed (0.0%), interrupted 3" in err, err
    assert "100.0%" not in err and "failed" not in err, err


# ---- item 10


def test_help_examples_and_model_keys(project):
    for name, args in (("fzr", ["--help"]), ("fzc", ["--help"]), ("fz", ["report", "--help"])):
        r = cli(name, *args, cwd=project)
        assert r.returncode == 0 and "Example" in r.stdout, r
    r = cli("fz", "help", "model", cwd=project)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^  timeout +time limit of one attempt in seconds", r.stdout, re.M), r.stdout


# ---- item 12


def test_a_dead_interpreter_names_the_formula(project):
    (project / "input.txt").write_text("temp=${temp}\nr=@{__import__('os')._exit(3)}\n")
    with pytest.raises(RuntimeError, match=re.escape("[while evaluating the formulas input.txt:2 @{__import__('os')._exit(3)}]")):
        fz.fzc("input.txt", {"temp": 1}, MODEL, output_dir="out")


def test_an_axis_without_values_is_named(project, capsys):
    df = fz.fzr("input.txt", {"temp": []}, MODEL, calculators="sh://bash calc.sh")
    assert len(df) == 0
    assert "input_variables: 'temp' has no values (an empty list): the design has no case" in capsys.readouterr().err
