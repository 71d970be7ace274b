"""Type stubs of the native module `fz._fz` (Rust, PyO3).

Everything crosses the boundary as JSON text; `fz/__init__.py` wraps these
functions with upstream's signatures and pandas conversions. Not a public
API: call the functions of `fz` instead.
"""

from typing import Callable, List, Optional

def cli_main(argv: List[str]) -> int:
    """Run the fz command line with `argv` (argv[0] is the program name);
    returns the exit status."""

def fzi(input_path: str, model_spec: str, model_is_json: bool, input_static: List[str]) -> str:
    """Variables, formulas and static objects of an input, as JSON text."""

def fzc(
    input_path: str,
    variables_json: Optional[str],
    model_spec: str,
    model_is_json: bool,
    output_dir: str,
    input_static: List[str],
    case_naming: Optional[str],
) -> None:
    """Compile one directory per case into `output_dir`."""

def fzo(output_path: str, model_spec: str, model_is_json: bool) -> str:
    """Outputs of case directories: JSON text {"columns": [...], "rows": [[...]]}."""

def fzr(
    input_path: str,
    variables_json: Optional[str],
    model_spec: str,
    model_is_json: bool,
    results_dir: str,
    calculators: List[str],
    timeout: Optional[int],
    case_naming: Optional[str],
    input_static: List[str],
    resume: bool,
    on_event: Optional[Callable[[str, str], None]] = None,
) -> str:
    """Run a study: JSON text {"columns", "rows", "interrupted"}. Events
    (kind, JSON payload) go to `on_event` on the calling thread; the first
    Ctrl+C stops new cases, the second kills running ones and raises
    KeyboardInterrupt."""

def fzd(
    input_path: Optional[str],
    variables_json: str,
    model_spec: Optional[str],
    model_is_json: bool,
    expressions: Optional[List[str]],
    multi: bool,
    algorithm: str,
    calculators: List[str],
    options_text: Optional[str],
    analysis_dir: str,
    evaluate_batch: Optional[Callable[[str], str]] = None,
) -> str:
    """JSON text of the design's report (xy, analysis, iterations, ...);
    evaluate_batch set: function model (points JSON in, rows JSON out)."""

def report_html(results_dir: str, output: Optional[str] = None) -> str:
    """Writes the HTML page of a results directory; returns its path."""

def report_text(results_dir: str) -> str:
    """The text report of a results directory's journal."""

def fzl(models: str, calculators: str, algorithms: str, check: bool) -> str:
    """Models and calculators of ./.fz and ~/.fz: JSON text
    {"models": {...}, "calculators": {...}}."""

def set_setting(var: str, value: Optional[str] = None) -> None:
    """Set a configuration variable for this process over the environment
    (None removes the setting)."""

def setting(var: str) -> Optional[str]:
    """A configuration variable now: the program's setting, else the environment."""

def set_default(var: str, value: Optional[str] = None) -> None:
    """Set the default of a configuration variable, below the environment
    and the settings (None removes it)."""

def clear_settings() -> None:
    """Remove every setting made with set_setting."""

def version() -> str:
    """The fz version."""

def funz_fz_version() -> str:
    """The funz-fz release whose commands, files and Python API fz matches."""

def flush_output() -> None:
    """Write out what the Rust stdout buffer still holds."""

def install_model(source: str, global_install: bool, home: Optional[str] = None) -> str:
    """Install a model repository into ./.fz (or ~/.fz): JSON text
    {"model_name", "install_path", "installed_files", "models", "provenance"}."""

def install_algorithm(source: str, global_install: bool, home: Optional[str] = None) -> str:
    """Install an algorithm repository: JSON text {"algorithm_name",
    "install_path", "all_files", "algorithms", "provenance"}."""

def uninstall(kind: str, name: str, global_uninstall: bool, home: Optional[str] = None) -> bool:
    """Uninstall a model or algorithm ("model"|"algorithm"); False when not installed."""

def list_installed_models(global_list: bool, home: Optional[str] = None) -> str:
    """JSON text {name: model definition + "global"}."""

def list_installed_algorithms(global_list: bool, home: Optional[str] = None) -> str:
    """JSON text {name: {"name", "file", "type", "global"}}."""

def source_url(source: str) -> Optional[str]:
    """The first URL a remote plugin source is downloaded from (None: local or invalid)."""

def extract_model(archive: str, dest: str) -> str:
    """Extract a model archive safely into dest: JSON text {"model_json",
    "model_name", "extract_dir", "fz_dir"}."""
