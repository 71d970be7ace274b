"""fz: parametric studies for simulation codes.

The same functions as funz-fz (fzi, fzc, fzo, fzr), implemented in Rust.
Values cross into Rust as JSON: pandas and numpy inputs are turned into
plain Python values here, and tables come back as pandas DataFrames.
Environment variables (FZ_MAX_WORKERS, FZ_MAX_RETRIES, FZ_RUN_TIMEOUT,
FZ_LOG_LEVEL, ...) are read when each call starts, so setting
os.environ after `import fz` takes effect.
"""

import json
import os
from typing import Any, Dict, List, Optional, Union

from . import _fz

__version__ = _fz.version()
__all__ = ["fzi", "fzc", "fzo", "fzr", "get_config", "set_interpreter", "__version__"]


def _plain(value: Any) -> Any:
    """numpy/pandas values as plain Python values (lists, numbers, None)."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()  # numpy arrays, pandas Series, numpy scalars
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _model_args(model: Any):
    if model is None:
        raise TypeError("Model cannot be None. Please provide a model definition dictionary or alias string.")
    if isinstance(model, dict):
        return json.dumps(_plain(model)), True
    if isinstance(model, str):
        return model, False
    raise TypeError(f"Model must be a dict or string, got {type(model).__name__}")


def _path(name: str, value: Any) -> str:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string or Path, got {type(value).__name__}")
    return value


def _variables_json(input_variables: Any) -> Optional[str]:
    if input_variables is None:
        return None
    if isinstance(input_variables, dict):
        return json.dumps({str(k): _plain(v) for k, v in input_variables.items()})
    if hasattr(input_variables, "to_dict") and hasattr(input_variables, "columns"):
        rows = input_variables.to_dict("records")
        return json.dumps([{str(k): _plain(v) for k, v in row.items()} for row in rows])
    raise TypeError(f"input_variables must be a dictionary or DataFrame, got {type(input_variables).__name__}")


def _static(input_static: Optional[List[str]]) -> List[str]:
    if input_static is None:
        return []
    if not isinstance(input_static, list):
        raise TypeError(f"input_static must be a list, got {type(input_static).__name__}")
    for entry in input_static:
        if not isinstance(entry, str):
            raise TypeError(f"input_static entries must be strings, got {type(entry).__name__}")
    return input_static


def _dataframe(table_json: str):
    import pandas as pd

    table = json.loads(table_json)
    return pd.DataFrame(table["rows"], columns=table["columns"])


def fzi(input_path: Union[str, os.PathLike], model: Union[str, Dict], input_static: Optional[List[str]] = None) -> Dict[str, Any]:
    """Variables (with defaults), formulas and static objects of an input."""
    spec, is_json = _model_args(model)
    return json.loads(_fz.fzi(_path("input_path", input_path), spec, is_json, _static(input_static)))


def fzc(
    input_path: Union[str, os.PathLike],
    input_variables: Any = None,
    model: Union[str, Dict, None] = None,
    output_dir: Union[str, os.PathLike] = "output",
    input_static: Optional[List[str]] = None,
    case_naming: Optional[str] = None,
) -> None:
    """Compile an input into one directory per case of input_variables."""
    spec, is_json = _model_args(model)
    _fz.fzc(
        _path("input_path", input_path),
        _variables_json(input_variables),
        spec,
        is_json,
        _path("output_dir", output_dir),
        _static(input_static),
        case_naming,
    )


def fzo(output_path: Union[str, os.PathLike], model: Union[str, Dict]):
    """Outputs of the case directories an output path names, as a DataFrame."""
    spec, is_json = _model_args(model)
    return _dataframe(_fz.fzo(_path("output_path", output_path), spec, is_json))


def _alias_exists(name: str) -> bool:
    for base in (os.getcwd(), os.path.expanduser("~")):
        if os.path.isfile(os.path.join(base, ".fz", "calculators", name + ".json")):
            return True
    return False


def _looks_like_calculators(value: Any) -> bool:
    if isinstance(value, (list, tuple, dict)):
        return True
    return isinstance(value, str) and ("://" in value or _alias_exists(value))


def _calculators(value: Any) -> List[str]:
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else [value]
    out = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            out.append(json.dumps(item))
        elif isinstance(item, str):
            out.append(item)
        else:
            raise TypeError(f"calculators[{i}] must be a string or dict, got {type(item).__name__}")
    return out


def fzr(
    input_path: Union[str, os.PathLike],
    input_variables: Any = None,
    model: Union[str, Dict, None] = None,
    results_dir: Any = "results",
    calculators: Any = None,
    callbacks: Any = None,
    timeout: Optional[int] = None,
    case_naming: Optional[str] = None,
    input_static: Optional[List[str]] = None,
    resume: bool = False,
):
    """Run a parametric study; one DataFrame row per case.

    resume=True reuses an existing results_dir in place: its finished cases
    are kept, the others run again (instead of renaming it aside).

    Positional order: upstream's is (input_path, input_variables, model,
    results_dir, calculators); the seed's documents write
    (..., model, calculators, results_dir). Rule: when the 4th argument
    looks like calculators (a list or dict, a string with "://", or the
    name of an alias in .fz/calculators/) and the 5th does not, they are
    swapped. Keywords always work.
    """
    if _looks_like_calculators(results_dir) and not _looks_like_calculators(calculators):
        results_dir, calculators = ("results" if calculators is None else calculators), results_dir
    elif _looks_like_calculators(results_dir) and _looks_like_calculators(calculators):
        raise TypeError(
            "fzr(): both results_dir and calculators look like calculators; "
            "pass them as keywords (results_dir=..., calculators=...)"
        )
    dispatch, on_complete = _callbacks(callbacks)
    if timeout is not None and not isinstance(timeout, int):
        raise TypeError(f"timeout must be an integer number of seconds, got {type(timeout).__name__}")
    spec, is_json = _model_args(model)
    table = _fz.fzr(
        _path("input_path", input_path),
        _variables_json(input_variables),
        spec,
        is_json,
        _path("results_dir", results_dir),
        _calculators(calculators),
        timeout,
        case_naming,
        _static(input_static),
        bool(resume),
        dispatch,
    )
    df = _dataframe(table)
    if on_complete is not None:
        _safely("on_complete", on_complete, len(df), len(df), df)
    return df


_CALLBACK_NAMES = ("on_start", "on_case_start", "on_case_complete", "on_progress", "on_complete")


def _safely(name: str, fn: Any, *args: Any) -> None:
    """Call a user callback; an exception is reported, never fatal."""
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001 - a callback must not kill the run
        import sys

        print(f"  ⚠️  Error in {name} callback: {e}", file=sys.stderr)


def _callbacks(callbacks: Any):
    """(event dispatcher for the native run, on_complete) from the dict form
    ({"on_start": fn, ...}) or the list form ([fn(event_type, case_info)])."""
    if callbacks is None:
        return None, None
    if isinstance(callbacks, dict):
        for name, fn in callbacks.items():
            if name not in _CALLBACK_NAMES:
                raise ValueError(
                    f"Invalid callback name '{name}'. Valid callbacks are: {', '.join(_CALLBACK_NAMES)}"
                )
            if not callable(fn):
                raise TypeError(f"Callback '{name}' must be callable, got {type(fn).__name__}")

        def dispatch(kind: str, payload: str) -> None:
            p = json.loads(payload)
            if kind == "start" and "on_start" in callbacks:
                _safely("on_start", callbacks["on_start"], p["total"], p["calculators"])
            elif kind == "case_start" and "on_case_start" in callbacks:
                _safely("on_case_start", callbacks["on_case_start"], p["index"], p["total"], p["values"])
            elif kind == "case_complete" and "on_case_complete" in callbacks:
                _safely("on_case_complete", callbacks["on_case_complete"],
                        p["index"], p["total"], p["values"], p["status"], p["row"])
            elif kind == "progress" and "on_progress" in callbacks:
                _safely("on_progress", callbacks["on_progress"], p["completed"], p["total"], p["eta"])

        return dispatch, callbacks.get("on_complete")
    if isinstance(callbacks, (list, tuple)):
        for fn in callbacks:
            if not callable(fn):
                raise TypeError(f"callbacks must be callables, got {type(fn).__name__}")

        def dispatch_list(kind: str, payload: str) -> None:
            p = json.loads(payload)
            if kind == "case_start":
                event, info = "case_start", {"index": p["index"], **p["values"]}
            elif kind == "case_complete":
                event = "case_complete" if p["status"] == "done" else "case_failed"
                info = {"index": p["index"], **p["row"]}
            else:
                return
            for fn in callbacks:
                _safely(getattr(fn, "__name__", "callback"), fn, event, info)

        return dispatch_list, None
    raise TypeError(f"callbacks must be a dictionary or a list of callables, got {type(callbacks).__name__}")


_ENV = {
    "log_level": ("FZ_LOG_LEVEL", "ERROR"),
    "max_retries": ("FZ_MAX_RETRIES", 5),
    "max_workers": ("FZ_MAX_WORKERS", None),
    "run_timeout": ("FZ_RUN_TIMEOUT", 3600),
    "interpreter": ("FZ_INTERPRETER", "python"),
    "case_naming": ("FZ_CASE_NAMING", "path"),
}


class Config:
    """Live configuration: reading an attribute reads the environment now,
    setting one sets the environment variable fz reads at each call."""

    def __getattr__(self, name: str) -> Any:
        if name not in _ENV:
            raise AttributeError(name)
        var, default = _ENV[name]
        raw = os.environ.get(var)
        if raw is None:
            return default
        if isinstance(default, int) or name == "max_workers":
            try:
                return int(raw)
            except ValueError:
                return default
        return raw

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in _ENV:
            raise AttributeError(f"unknown configuration setting '{name}'")
        var, _ = _ENV[name]
        if value is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = str(value)


_CONFIG = Config()


def get_config() -> Config:
    """The live configuration object (get_config().max_workers = 8)."""
    return _CONFIG


def set_interpreter(name: str) -> None:
    """Set the default formula interpreter: python or R."""
    if not isinstance(name, str) or name.lower() not in ("python", "r", "javascript", "auto"):
        raise ValueError(f"Invalid interpreter '{name}'. Must be one of: ['python', 'r', 'javascript', 'auto']")
    os.environ["FZ_INTERPRETER"] = name.lower()
