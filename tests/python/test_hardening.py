"""Issue 13 through the real module: OS errors as their OSError subclasses,
bad arguments as ValueError, and no password in what a callback receives
or what the run prints."""

import os

import pytest

import fz

from conftest import MODEL


def test_os_errors_keep_their_python_class(project):
    (project / "afile").write_text("not a directory\n")
    with pytest.raises(NotADirectoryError) as info:
        fz.fzc("input.txt", {"temp": 1}, MODEL, output_dir="afile/out")
    assert isinstance(info.value, OSError)
    assert info.value.filename.endswith("afile/out")
    assert "Not a directory" in str(info.value)


def test_a_file_where_the_results_directory_goes_is_named_and_kept(project):
    (project / "results").write_text("my notes\n")
    with pytest.raises(ValueError, match="results' exists and is not a directory: give another name"):
        fz.fzr("input.txt", {"temp": 1}, MODEL, calculators="sh://bash calc.sh", results_dir="results")
    assert (project / "results").read_text() == "my notes\n"


def test_negative_timeout_is_a_value_error(project):
    with pytest.raises(ValueError, match="timeout must be a non-negative number of seconds, got -1"):
        fz.fzr("input.txt", {"temp": 1}, MODEL, calculators="sh://bash calc.sh", timeout=-1)


def test_a_path_with_a_lone_surrogate_is_refused_clearly(project):
    bad = os.fsdecode(b"in\xff.txt")  # 'in\udcff.txt'
    for call in (
        lambda: fz.fzi(bad, MODEL),
        lambda: fz.fzr("input.txt", {"temp": 1}, MODEL, calculators="sh://true", results_dir=bad),
    ):
        with pytest.raises(ValueError, match="is not valid UTF-8"):
            call()


def test_password_never_reaches_callbacks_or_streams(project, capfd):
    secret = "S3cretPw"
    seen = []
    os.environ["FZ_LOG_LEVEL"] = "DEBUG"
    try:
        df = fz.fzr(
            "input.txt",
            {"temp": 1},
            MODEL,
            calculators=f"ssh://fzuser:{secret}@127.0.0.1:1/bash calc.sh",
            callbacks={
                "on_start": lambda total, calcs: seen.append(list(calcs)),
                "on_case_complete": lambda *a: seen.append(repr(a)),
            },
        )
    finally:
        del os.environ["FZ_LOG_LEVEL"]
    assert seen and seen[0] == ["ssh://fzuser:***@127.0.0.1:1/bash calc.sh"]
    assert secret not in repr(seen)
    assert secret not in df.to_csv()
    out, err = capfd.readouterr()
    assert secret not in out + err
    for root, _, files in os.walk(project):
        for name in files:
            data = open(os.path.join(root, name), "rb").read()
            assert secret.encode() not in data, os.path.join(root, name)


def test_a_design_larger_than_fz_max_cases_is_a_value_error(project):
    grid = {f"x{i}": [0, 1] for i in range(64)}
    message = "the design has 18446744073709551616 cases, more than FZ_MAX_CASES=1000000"
    for call in (
        lambda: fz.fzr("input.txt", grid, MODEL, calculators="sh://true", results_dir="out"),
        lambda: fz.fzc("input.txt", grid, MODEL, output_dir="out"),
    ):
        with pytest.raises(ValueError, match=message):
            call()
    assert not (project / "out").exists()
