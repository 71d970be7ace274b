"""Installing model and algorithm plugins (upstream's fz.installer).

Sources: a local .zip or directory, an http(s) URL serving a zip, a GitHub
repository (https://github.com/owner/repo[.git], owner/repo[@ref]) or a
plugin name ("moret" -> github.com/Funz/fz-moret, branch main then
master). Files go to ./.fz (the current directory) or, with
global_install=True, to ~/.fz; every install is recorded in
.fz/installed.json (source, ref, SHA-256 of the archive, files, date) so
that uninstalling removes exactly what it wrote. Archives are extracted
safely (no file outside the target, size and entry limits) and nothing
they contain is run.
"""

import json
from pathlib import Path
from typing import Any, Dict, Optional

from . import _fz

__all__ = [
    "install_model", "uninstall_model", "list_installed_models",
    "install_algorithm", "uninstall_algorithm", "list_installed_algorithms",
    "normalize_github_url", "extract_model_files",
]


def _home() -> str:
    # Path.home() (not $HOME in Rust): a program or test that replaces it is obeyed.
    return str(Path.home())


def install_model(source: str, global_install: bool = False) -> Dict[str, Any]:
    """Install a model repository: every .fz/models/*.json (named after its
    "id"), else a top-level model.json, and the files of its other .fz/
    directories (calculator aliases, scripts made executable).

    Returns {"model_name": first id, "install_path": its installed JSON,
    "installed_files": the other files relative to .fz/, "models": every
    id, "provenance": {"source", "url", "ref", "sha256"}}. Raises
    ValueError, FileNotFoundError or RuntimeError with a one-line message.
    """
    return json.loads(_fz.install_model(str(source), bool(global_install), _home()))


def install_algorithm(source: str, global_install: bool = False) -> Dict[str, Any]:
    """Install an algorithm repository: its .fz/algorithms/*.py|*.R, else
    its top-level .py/.R files (never setup.py, tests, helpers in
    sub-directories).

    Returns {"algorithm_name": first name, "install_path": its file,
    "all_files": every installed file, "algorithms": every name,
    "provenance": {...}}.
    """
    return json.loads(_fz.install_algorithm(str(source), bool(global_install), _home()))


def uninstall_model(model_name: str, global_uninstall: bool = False) -> bool:
    """Remove .fz/models/<model_name>.json and, with the last model of its
    install, every other file that install wrote. False (and a warning)
    when it is not installed."""
    return _fz.uninstall("model", str(model_name), bool(global_uninstall), _home())


def uninstall_algorithm(algorithm_name: str, global_uninstall: bool = False) -> bool:
    """Remove .fz/algorithms/<algorithm_name>.py and .R (and what their
    install wrote). False (and a warning) when not installed."""
    return _fz.uninstall("algorithm", str(algorithm_name), bool(global_uninstall), _home())


def list_installed_models(global_list: bool = False) -> Dict[str, Dict[str, Any]]:
    """{name: model definition + {"global": bool}}: ./.fz/models then
    ~/.fz/models (a project model hides a home one of the same name), or
    ~/.fz/models only with global_list=True."""
    return json.loads(_fz.list_installed_models(bool(global_list), _home()))


def list_installed_algorithms(global_list: bool = False) -> Dict[str, Dict[str, Any]]:
    """{name: {"name", "file", "type": "Python"|"R", "global"}}, project
    first, or ~/.fz/algorithms only with global_list=True."""
    return json.loads(_fz.list_installed_algorithms(bool(global_list), _home()))


def normalize_github_url(source: str) -> Optional[str]:
    """The first URL a source is downloaded from (a GitHub repository:
    its main branch archive); None for a local file or directory, or a
    source that is not valid."""
    return _fz.source_url(str(source))


def extract_model_files(zip_path, extract_dir) -> Dict[str, Any]:
    """Extract a model archive safely into extract_dir and find its first
    model: {"model_json": Path, "model_name": id, "extract_dir": Path,
    "fz_dir": Path or None}."""
    found = json.loads(_fz.extract_model(str(zip_path), str(extract_dir)))
    return {
        "model_json": Path(found["model_json"]),
        "model_name": found["model_name"],
        "extract_dir": Path(found["extract_dir"]) if found["extract_dir"] else None,
        "fz_dir": Path(found["fz_dir"]) if found["fz_dir"] else None,
    }
