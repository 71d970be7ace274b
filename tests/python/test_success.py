"""The model's ``success`` key through the real module: with ``"outputs"``,
a case whose command exits non-zero but whose outputs all have a value is
``done``, and one that exits 0 with an output missing is ``failed`` (retried,
the output named); ``fz.cli.fzr_main`` returns 0 only when every case is done."""

import json

import pytest

import fz
import fz.cli

from conftest import MODEL

OUTPUTS_DECIDE = dict(MODEL, success="outputs")


@pytest.fixture
def scripts(project):
    # Writes the result like calc.sh, then exits 1 (as `ngspice -b` does).
    (project / "one.sh").write_text(f"#!/bin/bash\nbash {project}/calc.sh\nexit 1\n")
    (project / "lazy.sh").write_text("#!/bin/bash\necho nothing\n")
    return project


def test_outputs_present_make_a_non_zero_exit_done(scripts):
    df = fz.fzr("input.txt", {"temp": [2, 3]}, OUTPUTS_DECIDE, calculators="sh://bash one.sh")
    assert list(df["status"]) == ["done", "done"]
    assert list(df["result"]) == [2, 3]
    assert list(df["exit_code"]) == [1, 1]
    assert list(df["attempts"]) == [1, 1]
    history = (scripts / "results" / "temp=2" / "history.txt").read_text()
    assert 'Note: exit code 1 ignored: every output has a value (model "success": "outputs")' in history
    # The default rule: exit 1 fails.
    df = fz.fzr("input.txt", {"temp": 2}, MODEL, calculators="sh://bash one.sh", results_dir="r2")
    assert df.iloc[0]["status"] == "failed"


def test_a_missing_output_fails_a_zero_exit_and_is_retried(scripts, monkeypatch):
    monkeypatch.setenv("FZ_MAX_RETRIES", "2")
    fz.reload_config()
    df = fz.fzr("input.txt", {"temp": 2}, OUTPUTS_DECIDE, calculators="sh://bash lazy.sh")
    row = df.iloc[0]
    assert row["status"] == "failed"
    assert row["attempts"] == 2
    assert row["error"].startswith("Missing output: Output 'result'")
    # Retried on the next calculator, where the output appears.
    df = fz.fzr(
        "input.txt",
        {"temp": 2},
        OUTPUTS_DECIDE,
        calculators=["sh://bash lazy.sh", "sh://bash calc.sh"],
        results_dir="r2",
    )
    row = df.iloc[0]
    assert (row["status"], row["calculator"], row["attempts"], row["result"]) == (
        "done",
        "sh://bash calc.sh",
        2,
        2,
    )


def test_fzr_exit_status_follows_the_rule(scripts, monkeypatch):
    def fzr(*args):
        monkeypatch.setattr("sys.argv", ["fzr", "input.txt", "--no-progress", *args])
        return fz.cli.fzr_main()

    model = json.dumps(OUTPUTS_DECIDE)
    design = '{"temp": [1, 2]}'
    assert fzr("-v", design, "-m", model, "-c", "sh://bash one.sh", "-r", "a") == 0
    assert fzr("-v", design, "-m", model, "-c", "sh://bash lazy.sh", "-r", "b") == 1
    plain = json.dumps(MODEL)
    assert fzr("-v", design, "-m", plain, "-c", "sh://bash one.sh", "-r", "c") == 1


def test_a_bad_success_value_is_an_error(scripts):
    with pytest.raises(Exception, match=r"Model 'success' must be \"exit\" .* got \"output\""):
        fz.fzr("input.txt", {"temp": 2}, dict(MODEL, success="output"), calculators="sh://bash calc.sh")
    with pytest.raises(Exception, match=r"Model 'success' is \"outputs\" but the model has no 'output'"):
        fz.fzr("input.txt", {"temp": 2}, {"success": "outputs"}, calculators="sh://bash calc.sh")
    # Callables are read after the run, in Python: they cannot decide.
    callable_model = dict(MODEL, success="outputs", output={"result": lambda d: 1})
    with pytest.raises(ValueError, match=r"output\(s\) 'result' are Python callables"):
        fz.fzr("input.txt", {"temp": 2}, callable_model, calculators="sh://bash calc.sh")
