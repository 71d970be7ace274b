"""fz.install_model / install_algorithm / uninstall_* / list_installed_* and
the install / uninstall / list_models wrappers, against a local HTTP server
(127.0.0.1, port chosen by the OS) serving zips built here; then a study
run with the installed model and its calculator."""

import functools
import hashlib
import http.server
import json
import os
import stat
import threading
import zipfile
from pathlib import Path

import pytest

import fz

MODEL = {
    "id": "PerfectGas", "varprefix": "$", "formulaprefix": "@", "delim": "{}", "commentline": "#",
    "output": {"pressure": "grep 'pressure = ' output.txt | awk '{print $3}'"},
}
ALIAS = {"uri": "sh://", "models": {"PerfectGas": "bash .fz/calculators/PerfectGas.sh"}}
SCRIPT = "#!/bin/bash\nx=$(grep -o 'x=[0-9.]*' \"$1\" | cut -d= -f2)\necho \"pressure = $((x * 3))\" > output.txt\n"


def write_zip(path: Path, entries: dict) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in entries.items():
            z.writestr(name, text)
    return path.read_bytes()


def model_repo(path: Path, top: str = "fz-pgas-main") -> bytes:
    return write_zip(path, {
        f"{top}/.fz/models/PerfectGas.json": json.dumps(MODEL),
        f"{top}/.fz/calculators/localhost_PerfectGas.json": json.dumps(ALIAS),
        f"{top}/.fz/calculators/PerfectGas.sh": SCRIPT,
        f"{top}/examples/model.json": json.dumps({"id": "Example"}),
    })


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A file server of tmp_path/www on 127.0.0.1; GitHub archives come
    from its /gh/ folder; HOME is private."""
    www = tmp_path / "www"
    www.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FZ_GITHUB_ARCHIVE_BASE", base + "/gh")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    yield {"www": www, "base": base, "home": home, "project": project}
    httpd.shutdown()
    httpd.server_close()


def files_under(d: Path):
    return sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file())


def test_install_model_by_name_returns_upstreams_shape_and_records_it(server):
    data = model_repo(server["www"] / "gh/Funz/fz-pgas/archive/refs/heads/main.zip")
    r = fz.install_model("pgas")
    fzdir = server["project"] / ".fz"
    assert r["model_name"] == "PerfectGas"
    assert r["install_path"] == str(fzdir / "models/PerfectGas.json")
    assert r["installed_files"] == ["calculators/PerfectGas.sh", "calculators/localhost_PerfectGas.json"]
    assert r["provenance"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert r["provenance"]["ref"] == "main"
    assert json.loads((fzdir / "models/PerfectGas.json").read_text()) == MODEL
    assert os.stat(fzdir / "calculators/PerfectGas.sh").st_mode & stat.S_IXUSR
    assert not (fzdir / "models/Example.json").exists()
    manifest = json.loads((fzdir / "installed.json").read_text())
    assert manifest["installs"][0]["source"] == "pgas"
    assert manifest["installs"][0]["url"] == server["base"] + "/gh/Funz/fz-pgas/archive/refs/heads/main.zip"

    models = fz.list_installed_models()
    assert models == {"PerfectGas": dict(MODEL, **{"global": False})}
    assert fz.list_models() == models
    assert fz.list_models(global_list=True) == {}


def test_global_install_uses_path_home_and_project_shadows_it(server, monkeypatch):
    model_repo(server["www"] / "pgas.zip")
    url = server["base"] + "/pgas.zip"
    other_home = server["project"].parent / "other_home"
    # Path.home() is what counts (upstream's tests replace it).
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: other_home))
    r = fz.install(url, global_install=True)
    assert r["install_path"] == str(other_home / ".fz/models/PerfectGas.json")
    assert not (server["project"] / ".fz").exists()
    assert fz.list_installed_models()["PerfectGas"]["global"] is True
    fz.install_model(url)
    assert fz.list_installed_models()["PerfectGas"]["global"] is False
    assert fz.list_installed_models(global_list=True)["PerfectGas"]["global"] is True
    assert fz.uninstall("PerfectGas", global_uninstall=True) is True
    assert files_under(other_home / ".fz") == ["installed.json"]
    assert (server["project"] / ".fz/models/PerfectGas.json").exists()


def test_reinstall_then_uninstall_removes_exactly_the_recorded_files(server):
    model_repo(server["www"] / "v1.zip")
    write_zip(server["www"] / "v2.zip", {
        "fz-pgas-main/.fz/models/PerfectGas.json": json.dumps(MODEL),
        "fz-pgas-main/.fz/calculators/PerfectGas.sh": SCRIPT,
    })
    fzdir = server["project"] / ".fz"
    (fzdir / "calculators").mkdir(parents=True)
    (fzdir / "calculators/mine.json").write_text("{}")
    fz.install_model(server["base"] + "/v1.zip")
    r = fz.install_model(server["base"] + "/v2.zip")
    assert r["installed_files"] == ["calculators/PerfectGas.sh"]
    assert not (fzdir / "calculators/localhost_PerfectGas.json").exists(), "dropped by v2"
    assert fz.uninstall_model("PerfectGas") is True
    assert files_under(fzdir) == ["calculators/mine.json", "installed.json"]
    assert fz.uninstall_model("PerfectGas") is False


def test_algorithms_install_list_and_uninstall(server):
    write_zip(server["www"] / "gh/Funz/fz-brent/archive/refs/heads/main.zip", {
        "fz-brent-main/brent.py": "class Brent:\n    pass\n",
        "fz-brent-main/setup.py": "",
        "fz-brent-main/test_brent.py": "",
        "fz-brent-main/docs/conf.py": "",
    })
    write_zip(server["www"] / "mc.zip", {"fz-mc-main/.fz/algorithms/mc.R": "# R\n", "fz-mc-main/helper.py": ""})
    r = fz.install_algorithm("brent")
    algos = server["project"] / ".fz/algorithms"
    assert r["algorithm_name"] == "brent"
    assert r["install_path"] == str(algos / "brent.py")
    assert r["all_files"] == [str(algos / "brent.py")]
    assert files_under(algos) == ["brent.py"]
    fz.install_algorithm(server["base"] + "/mc.zip", global_install=True)
    listed = fz.list_installed_algorithms()
    assert listed == {
        "brent": {"name": "brent", "file": str(algos / "brent.py"), "type": "Python", "global": False},
        "mc": {"name": "mc", "file": str(server["home"] / ".fz/algorithms/mc.R"), "type": "R", "global": True},
    }
    assert list(fz.list_installed_algorithms(global_list=True)) == ["mc"]
    assert fz.uninstall_algorithm("brent") is True
    assert fz.uninstall_algorithm("mc", global_uninstall=True) is True
    assert fz.list_installed_algorithms() == {}
    assert fz.uninstall_algorithm("brent") is False


def test_errors_are_one_line_and_write_nothing(server):
    missing = server["base"] + "/nothere.zip"
    with pytest.raises(FileNotFoundError, match=f"^cannot download {missing}: HTTP 404 Not Found$"):
        fz.install_model(missing)
    write_zip(server["www"] / "slip.zip", {
        "fz-x-main/.fz/models/X.json": json.dumps({"id": "X"}),
        "fz-x-main/../../../evil.sh": "echo pwned\n",
    })
    with pytest.raises(ValueError, match="entry 'fz-x-main/../../../evil.sh' would be written outside"):
        fz.install_model(server["base"] + "/slip.zip")
    write_zip(server["www"] / "docs.zip", {"fz-d-main/docs/conf.py": ""})
    with pytest.raises(ValueError, match="^No algorithm files"):
        fz.install_algorithm(server["base"] + "/docs.zip")
    write_zip(server["www"] / "noid.zip", {"fz-n-main/.fz/models/n.json": json.dumps({"output": {}})})
    with pytest.raises(ValueError, match="Model definition must have an 'id' field"):
        fz.install_model(server["base"] + "/noid.zip")
    assert not (server["project"] / ".fz").exists()
    assert not (server["project"].parent / "evil.sh").exists()


def test_upstream_helpers(server, tmp_path):
    assert fz.installer.normalize_github_url("moret") == server["base"] + "/gh/Funz/fz-moret/archive/refs/heads/main.zip"
    model_repo(server["project"] / "local.zip")
    assert fz.installer.normalize_github_url("local.zip") is None
    out = tmp_path / "extract"
    out.mkdir()
    found = fz.installer.extract_model_files(server["project"] / "local.zip", out)
    assert found["model_name"] == "PerfectGas"
    assert found["model_json"] == out / "fz-pgas-main/.fz/models/PerfectGas.json"
    assert found["fz_dir"] == out / "fz-pgas-main/.fz"


def test_an_installed_model_runs_a_study_with_its_calculator(server):
    model_repo(server["www"] / "gh/Funz/fz-pgas/archive/refs/heads/main.zip")
    fz.install("pgas")
    Path("input.txt").write_text("x=${x}\n")
    df = fz.fzr("input.txt", {"x": [1, 2]}, "PerfectGas", results_dir="results")
    assert list(df["status"]) == ["done", "done"]
    assert [float(p) for p in df["pressure"]] == [3.0, 6.0]
    assert set(df["calculator"]) == {"sh://bash .fz/calculators/PerfectGas.sh"}
