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
