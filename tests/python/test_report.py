"""fz.report: the text summary and the self-contained HTML page of a
results directory."""

import pytest

import fz
from conftest import MODEL


def test_report_text_and_html(project):
    fz.fzr("input.txt", {"temp": [1, 2, 3], "pressure": [1, 10]}, MODEL,
           calculators="sh://bash calc.sh", results_dir="results")
    text = fz.report("results")
    assert text.startswith("cases: 6, done: 6\n")
    path = fz.report("results", html=True)
    assert path.endswith("results/report.html")
    page = (project / "results" / "report.html").read_text()
    assert "result vs temp" in page and page.count("<svg") >= 3
    other = fz.report("results", html="out/page.html")
    assert other.endswith("out/page.html") and (project / "out" / "page.html").is_file()


def test_report_of_a_directory_without_results(project):
    (project / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="summary.json"):
        fz.report("empty", html=True)


def test_fzr_report_option_keeps_the_page(project):
    df = fz.fzr("input.txt", {"temp": [1, 2], "pressure": [1]}, MODEL,
                calculators="sh://bash calc.sh", results_dir="results", report=True)
    assert list(df["status"]) == ["done", "done"]
    page = (project / "results" / "report.html").read_text()
    assert "done: 2" in page and 'http-equiv="refresh"' not in page
    fz.fzr("input.txt", {"temp": [3]}, MODEL, calculators="sh://bash calc.sh",
           results_dir="other", report=project / "pages" / "run.html")
    assert "done: 1" in (project / "pages" / "run.html").read_text()
    assert not (project / "other" / "report.html").exists()
    with pytest.raises(TypeError, match="report must be True, False, None or a path"):
        fz.fzr("input.txt", {"temp": [3]}, MODEL, calculators="sh://bash calc.sh",
               results_dir="third", report=3)


def test_fzd_report_option_keeps_the_design_page(project):
    out = fz.fzd(None, {"x": "[0;1]"}, lambda x: (x - 0.3) ** 2, "output", "randomsampling",
                 algorithm_options={"nvalues": 4}, analysis_dir="ana", report=True)
    assert out["total_evaluations"] == 4
    page = (project / "ana" / "report.html").read_text()
    assert "Finished after 1 iteration(s): 4 evaluations, 4 valid." in page
    assert "<svg" in page
