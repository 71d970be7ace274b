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
