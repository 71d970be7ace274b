"""fz: parametric studies for simulation codes.

The same functions as funz-fz 1.2 (fzi, fzc, fzo, fzr, fzd, fzl), implemented
in Rust: fz.__version__ is ours, fz.__funz_fz_version__ the funz-fz release
matched (docs/compatibility.md lists the differences).
Values cross into Rust as JSON: pandas and numpy inputs are turned into
plain Python values here, and tables come back as pandas DataFrames.
Settings are read when each call starts: an explicit argument, else a
get_config() attribute set by the program, else the environment variable
(FZ_MAX_WORKERS, FZ_MAX_RETRIES, FZ_RUN_TIMEOUT, FZ_LOG_LEVEL, ...; so
setting os.environ after `import fz` takes effect), else the default.
"""

import json as _json
import os as _os
import sys as _sys
from typing import Any as _Any, Dict as _Dict, List as _List, Optional as _Optional, Union as _Union

from . import _fz

__version__ = _fz.version()

# Formulas and python:// outputs run in a python worker process: by default
# this interpreter (its packages, its venv), as upstream evaluates them in
# the calling Python; FZ_PYTHON (environment or setting) still wins.
if _sys.executable:
    _fz.set_default("FZ_PYTHON", _sys.executable)
from ._errors import FunctionModelParallelError
from .config import get_config, reload_config, print_config, set_interpreter, get_interpreter
from .logging import LogLevel, set_log_level, get_log_level
from ._platform import check_bash_availability_on_windows
from ._output import through_python as _through_python

#: The funz-fz release whose commands, files and Python API this fz matches.
__funz_fz_version__ = _fz.funz_fz_version()

__all__ = [
    "fzi", "fzc", "fzo", "fzr", "fzl", "fzd", "report", "FunctionModelParallelError", "get_config", "reload_config", "print_config",
    "set_interpreter", "get_interpreter", "set_log_level", "get_log_level", "LogLevel", "__version__",
    "__funz_fz_version__", "check_bash_availability_on_windows", "discover_funz_servers",
    "install", "uninstall", "list_models",
    "install_model", "uninstall_model", "list_installed_models",
    "install_algorithm", "uninstall_algorithm", "list_installed_algorithms",
]


def _routed(fn: _Any, *args: _Any) -> _Any:
    """Calls `fn` of the Rust module with its stdout/stderr text sent through sys.stdout/sys.stderr."""
    with _through_python():
        return fn(*args)


def _plain(value: _Any) -> _Any:
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


def _model_args(model: _Any):
    if model is None:
        raise TypeError("Model cannot be None. Please provide a model definition dictionary or alias string.")
    if isinstance(model, dict):
        return _json.dumps(_plain(model)), True
    if isinstance(model, str):
        return model, False
    raise TypeError(f"Model must be a dict or string, got {type(model).__name__}")


def _split_model(model: _Any):
    """The model without its callable outputs, the callables (name ->
    function) and the output names in model order."""
    if isinstance(model, dict) and isinstance(model.get("output"), dict):
        outputs = model["output"]
        calls = {str(k): v for k, v in outputs.items() if callable(v)}
        if calls:
            kept = dict(model)
            kept["output"] = {k: v for k, v in outputs.items() if not callable(v)}
            return kept, calls, [str(k) for k in outputs]
    return model, {}, []


def _add_callable_outputs(df, calls: _Dict[str, _Any], order: _List[str], error_column: str, prefix: str):
    """Calls each callable output with the absolute Path of every row's
    case directory and puts the values in model order among the output
    columns; an exception leaves None and is added to `error_column`."""
    if not calls or "path" not in df.columns:
        return df
    from pathlib import Path

    values: _Dict[str, _List[_Any]] = {name: [] for name in calls}
    problems: _List[_List[str]] = [[] for _ in range(len(df))]
    for i, where in enumerate(df["path"]):
        if not isinstance(where, str) or not _os.path.isdir(where):
            for name in calls:  # a case without a directory (not run)
                values[name].append(None)
            continue
        case_dir = Path(_os.path.abspath(where))
        for name, fn in calls.items():
            try:
                value = fn(case_dir)
                if hasattr(value, "item") and type(value).__module__ == "numpy":
                    value = value.item()
            except Exception as e:  # the callable's own failure, reported in the table
                value = None
                problems[i].append(f"Output '{name}': {e}")
            values[name].append(value)
    for name in calls:
        at = order.index(name)
        before = [k for k in order[:at] if k in df.columns]
        after = [k for k in order[at + 1:] if k in df.columns]
        if before:
            loc = df.columns.get_loc(before[-1]) + 1
        elif after:
            loc = df.columns.get_loc(after[0])
        else:
            loc = df.columns.get_loc("path") + (1 if error_column == "_output_error" else 0)
        df.insert(loc, name, values[name])
    if any(problems):
        if error_column not in df.columns:
            last = max(df.columns.get_loc(k) for k in order if k in df.columns)
            df.insert(last + 1, error_column, [None] * len(df))
        merged = []
        for old, new in zip(df[error_column], problems):
            old = None if old is None or (isinstance(old, float) and old != old) else old
            if not new:
                merged.append(old)
            elif old:
                merged.append(old + "; " + "; ".join(new))
            else:
                merged.append(prefix + "; ".join(new))
        df[error_column] = merged
    return df


def _path(name: str, value: _Any) -> str:
    if isinstance(value, _os.PathLike):
        value = _os.fspath(value)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string or Path, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (a non-UTF-8 byte decoded by os.fsdecode): the
        # CLI refuses such an argument too.
        raise ValueError(f"{name} {value!r} is not valid UTF-8") from None
    return value


def _variables_json(input_variables: _Any) -> _Optional[str]:
    if input_variables is None:
        return None
    if isinstance(input_variables, dict):
        return _json.dumps({str(k): _plain(v) for k, v in input_variables.items()})
    if hasattr(input_variables, "to_dict") and hasattr(input_variables, "columns"):
        rows = input_variables.to_dict("records")
        return _json.dumps([{str(k): _plain(v) for k, v in row.items()} for row in rows])
    raise TypeError(f"input_variables must be a dictionary or DataFrame, got {type(input_variables).__name__}")


def _static(input_static: _Optional[_List[str]]) -> _List[str]:
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

    table = _json.loads(table_json)
    return pd.DataFrame(table["rows"], columns=table["columns"])


def fzi(input_path: _Union[str, _os.PathLike], model: _Union[str, _Dict], input_static: _Optional[_List[str]] = None) -> _Dict[str, _Any]:
    """Variables (with defaults), formulas and static objects of an input."""
    spec, is_json = _model_args(model)
    return _json.loads(_routed(_fz.fzi, _path("input_path", input_path), spec, is_json, _static(input_static)))


def fzc(
    input_path: _Union[str, _os.PathLike],
    input_variables: _Any = None,
    model: _Union[str, _Dict, None] = None,
    output_dir: _Union[str, _os.PathLike] = "output",
    input_static: _Optional[_List[str]] = None,
    case_naming: _Optional[str] = None,
) -> None:
    """Compile an input into one directory per case of input_variables."""
    spec, is_json = _model_args(model)
    _routed(_fz.fzc, 
        _path("input_path", input_path),
        _variables_json(input_variables),
        spec,
        is_json,
        _path("output_dir", output_dir),
        _static(input_static),
        case_naming,
    )


def fzo(output_path: _Union[str, _os.PathLike], model: _Union[str, _Dict]):
    """Outputs of the case directories an output path names, as a DataFrame.

    Model outputs may be shell commands, 'python://', 'jq://' or 'xpath://'
    specs, or Python callables taking the case directory (a Path)."""
    model, calls, order = _split_model(model)
    spec, is_json = _model_args(model)
    df = _dataframe(_routed(_fz.fzo, _path("output_path", output_path), spec, is_json))
    return _add_callable_outputs(df, calls, order, "_output_error", "")


def _alias_exists(name: str) -> bool:
    for base in (_os.getcwd(), _os.path.expanduser("~")):
        if _os.path.isfile(_os.path.join(base, ".fz", "calculators", name + ".json")):
            return True
    return False


def _looks_like_calculators(value: _Any) -> bool:
    if isinstance(value, (list, tuple, dict)):
        return True
    return isinstance(value, str) and ("://" in value or _alias_exists(value))


def _calculators(value: _Any) -> _List[str]:
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else [value]
    out = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            out.append(_json.dumps(item))
        elif isinstance(item, str):
            out.append(item)
        else:
            raise TypeError(f"calculators[{i}] must be a string or dict, got {type(item).__name__}")
    return out


def fzr(
    input_path: _Union[str, _os.PathLike],
    input_variables: _Any = None,
    model: _Union[str, _Dict, None] = None,
    results_dir: _Any = "results",
    calculators: _Any = None,
    callbacks: _Any = None,
    timeout: _Optional[int] = None,
    case_naming: _Optional[str] = None,
    input_static: _Optional[_List[str]] = None,
    resume: bool = False,
    report: _Union[bool, str, _os.PathLike, None] = None,
):
    """Run a parametric study; returns a pandas DataFrame, one row per case.

    Args:
        input_path: the input file or directory (the template).
        input_variables: dict of variable -> value or list of values (lists,
            tuples, numpy arrays and pandas Series are axes of a full
            grid), or a DataFrame (one case per row). None: no variables.
        model: model alias name, JSON file, or dict with the template
            syntax (varprefix, formulaprefix, delim, commentline) and
            "output": {name: shell command printing the value, or a
            'python://', 'jq://' or 'xpath://' spec, or a callable taking
            the case directory Path (called here, after the run, in model
            order; an exception is added to the case's error)}.
        results_dir: where case directories and summary.csv/json go; an
            existing one is renamed aside (unless resume=True).
        calculators: URI string or list ("sh://bash calc.sh",
            "cache://old_results", "ssh://...", "slurm://..."), alias names
            or dicts; each entry is one slot (the same URI 4 times runs 4
            cases at once). None: the aliases found in .fz/calculators/.
        callbacks: dict (on_start, on_case_start, on_case_complete,
            on_progress, on_complete) or list of fn(event_type, case_info);
            called on this thread; an exception in one is reported, not
            fatal.
        timeout: seconds per attempt (over the model's and FZ_RUN_TIMEOUT).
        case_naming: "path" (T=20,V=1), "hash" or "index".
        input_static: files identical in every case (linked, not copied).
        resume: reuse an existing results_dir in place: its finished cases
            are kept, the others run again.
        report: True: keep an HTML report at results_dir/report.html; a
            path: there. Rewritten while cases finish (the page reloads
            itself), final when the run ends. None/False: no report.

    Columns: the variables, the outputs, path, calculator, status (done,
    failed, timeout, error, interrupted), error, command, exit_code,
    attempts.

    Ctrl+C: the first one lets running cases finish, starts no new one and
    returns the partial DataFrame (cases not run are "interrupted"; a line
    on stderr says how to resume); the second kills the running cases and
    raises KeyboardInterrupt. The results directory is consistent either
    way.

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
    if timeout is not None and timeout < 0:
        raise ValueError(f"timeout must be a non-negative number of seconds, got {timeout}")
    model, calls, order = _split_model(model)
    if calls and isinstance(model, dict) and model.get("success") == "outputs":
        # Callables run after the run, in Python: they cannot judge an attempt.
        raise ValueError(
            "Model 'success' is \"outputs\" but output(s) "
            + ", ".join(repr(k) for k in calls)
            + " are Python callables, read only after the run: give the outputs that decide "
            "success as strings (shell commands, 'python://' expressions, …)"
        )
    spec, is_json = _model_args(model)
    table = _routed(_fz.fzr, 
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
        _report_path(report, results_dir, "results_dir"),
    )
    df = _add_callable_outputs(_dataframe(table), calls, order, "error", "Missing output: ")
    if on_complete is not None:
        _safely("on_complete", on_complete, len(df), len(df), df)
    return df


def fzd(
    input_path: _Union[str, _os.PathLike, None],
    input_variables: _Dict[str, _Any],
    model: _Any,
    output_expression: _Union[str, _List[str], None],
    algorithm: str,
    calculators: _Any = None,
    algorithm_options: _Any = None,
    analysis_dir: _Union[str, _os.PathLike] = "analysis",
    report: _Union[bool, str, _os.PathLike, None] = None,
) -> _Dict[str, _Any]:
    """Iterative design of experiments: the algorithm proposes points, fz
    evaluates them, until the algorithm stops (or Ctrl+C).

    Args:
        input_path: the input (template) file or directory; None when model
            is a Python callable.
        input_variables: {name: "[min;max]"} for the variables the algorithm
            explores, {name: "5"} (or a number) for fixed values.
        model: a model (alias, JSON file or dict with "output"), or a Python
            callable taking the variables as keyword arguments and returning
            a number, a dict, a named tuple or a list (function model).
        output_expression: the objective, a Python expression over the
            outputs and variables ("pressure / 1000", "mean(series)"); a
            list of expressions for several objectives; None: the first
            output.
        algorithm: a built-in (randomsampling, montecarlo_uniform, brent,
            bfgs, nsga2, lhs, sobol), a plugin name (.fz/algorithms/NAME.py
            or .R, project then ~/.fz) or a file path.
        calculators: as fzr's (file model); the number of threads (function
            model; default 1).
        algorithm_options: dict, JSON text or a .json file.
        analysis_dir: where X_i.csv, Y_i.csv, results_i.html, analysis_i.*
            and the iterations' case directories (iterNNN/) go; an existing
            one is renamed aside and its points reused.
        report: True: keep an HTML page of the design at
            analysis_dir/report.html (objective plots, each iteration's case
            report), rewritten as iterations finish; a path: there.

    Returns:
        {"XY": DataFrame (variables then one column per objective),
        "analysis": the algorithm's final analysis (processed), "algorithm",
        "iterations", "total_evaluations", "summary"}.

    Ctrl+C: the first stops after the running cases finish and returns what
    was evaluated; the second kills them and raises KeyboardInterrupt.
    """
    from . import _design  # here: only fzd needs it (threads, signatures)

    if isinstance(output_expression, str):
        expressions, multi = [output_expression], False
    elif output_expression is None:
        expressions, multi = None, False
    elif isinstance(output_expression, (list, tuple)) and all(isinstance(e, str) for e in output_expression):
        expressions, multi = list(output_expression), True
    else:
        raise TypeError("output_expression must be a string, a list of strings or None")
    if not isinstance(algorithm, (str, _os.PathLike)):
        raise TypeError(f"algorithm must be a name or a path, got {type(algorithm).__name__}")
    variables = _design.variables_json(input_variables)
    options = _design.options_text(algorithm_options)
    if callable(model) and not isinstance(model, (str, dict)):
        if input_path is not None:
            raise ValueError("input_path must be None when model is a Python callable")
        evaluate = _design.batch_evaluator(
            model, list(input_variables), _design.workers_of(calculators), expressions is None
        )
        raw = _routed(_fz.fzd, None, variables, None, False, expressions, multi, _os.fspath(algorithm), [],
                      options, _path("analysis_dir", analysis_dir), evaluate,
                      _report_path(report, analysis_dir, "analysis_dir"))
    else:
        if input_path is None:
            raise ValueError("input_path is required when model is not a Python callable")
        spec, is_json = _model_args(model)
        raw = _routed(_fz.fzd, _path("input_path", input_path), variables, spec, is_json, expressions, multi,
                      _os.fspath(algorithm), _calculators(calculators), options,
                      _path("analysis_dir", analysis_dir), None, _report_path(report, analysis_dir, "analysis_dir"))
    report = _json.loads(raw)
    xy = report["xy"]
    if expressions is None and xy["columns"] and xy["columns"][-1] != "output":
        xy["columns"][-1] = "output"
    import pandas as pd

    return {
        "XY": pd.DataFrame(xy["rows"], columns=xy["columns"]),
        "analysis": report["analysis"],
        "algorithm": _os.fspath(algorithm),
        "iterations": report["iterations"],
        "total_evaluations": report["total_evaluations"],
        "summary": report["summary"],
    }


def fzl(
    models: str = "*", calculators: str = "*", check: bool = False, algorithms: str = "*"
) -> _Dict[str, _Any]:
    """List the installed models, calculators and algorithms (./.fz, then ~/.fz).

    Args:
        models: glob over model alias names (file names in .fz/models/
            without .json), comma-separated globs, or a name. "*": all.
        calculators: glob over calculator alias names (.fz/calculators/),
            comma-separated globs, a name, or a calculator URI
            ("ssh://host") to check. "*": all.
        check: validate each entry: valid JSON, required keys ("uri" for a
            calculator, model keys as fzr validates them), the program and
            scripts an sh:// command names (relative to the current
            directory, where fzr runs them from), ssh:// hosts accepting a
            TCP connection within 2 s; plugin algorithm files load in
            their interpreter (Python: the module runs and holds an
            algorithm class; R: the file sources and defines a
            constructor) and their #require packages are installed;
            built-in algorithms accept their default options.
        algorithms: glob over algorithm names (plugin files in
            .fz/algorithms/ without .py/.R, and built-ins),
            comma-separated globs, or a name. "*": all.

    Returns:
        {"models": {name: {"path", "scope" ("project"|"home"), "id",
        "properties" (the model JSON), "supported_calculators" [names],
        "check_status" ("passed"|"failed"|"not_checked"), "check_error"
        (when failed)}}, "calculators": {name: {"path", "scope", "uri"
        (password hidden), "supports_models" ("all" or [model ids]),
        "commands" {model id: command}, "check_status", "check_error"}},
        "algorithms": {name: {"type" ("plugin"|"builtin"), "path", "scope",
        "language" ("python"|"R"), "summary", "options" {name: default},
        "options_help" (built-ins), "require" [packages], "metadata"
        {other header keys}, "check_status", "check_error"}}}.
        A project file hides a home file of the same name. A calculator
        given as a URI is keyed by that URI (path and scope None).
        Without check, files that are not valid JSON are skipped; with
        check they are listed as failed.
    """
    patterns = (("models", models), ("calculators", calculators), ("algorithms", algorithms))
    for name, value in patterns:
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a string pattern, got {type(value).__name__}")
    return _json.loads(_routed(_fz.fzl, models, calculators, algorithms, bool(check)))


def report(results_dir: _Union[str, _os.PathLike], html: _Union[bool, str, _os.PathLike] = False) -> str:
    """Report on a results directory written by fzr.

    Args:
        results_dir: the results directory.
        html: False: return the text report (counts, calculators, slowest
            attempts, from fz_journal.tsv). True: write the self-contained
            HTML page to results_dir/report.html; a path: write it there.

    Returns:
        The text report, or the path of the HTML page written.
    """
    directory = _path("results_dir", results_dir)
    if html is False:
        return _routed(_fz.report_text, directory)
    output = None if html is True else _path("html", html)
    return _routed(_fz.report_html, directory, output)


_CALLBACK_NAMES = ("on_start", "on_case_start", "on_case_complete", "on_progress", "on_complete")


def discover_funz_servers(
    udp_port: int,
    listen_duration: float = 10.0,
    stop_when: _Optional[_Any] = None,
) -> _List[_Dict[str, _Any]]:
    """List the Funz calculator daemons announcing themselves on a UDP port.

    Listens on udp_port for listen_duration seconds (daemons announce every
    few seconds: cover at least one cycle) and returns one dict per daemon
    heard (its latest announcement): {"host", "tcp_port", "name", "os",
    "activity", "idle", "codes"}. stop_when(server) returning True ends the
    listening at once (e.g. lambda s: s["idle"] and "R" in s["codes"]).
    Raises OSError when the port cannot be bound. The CLI equivalent is
    `fz funz-servers PORT`.
    """
    if isinstance(udp_port, bool) or not isinstance(udp_port, int):
        raise TypeError(f"udp_port must be an integer, got {type(udp_port).__name__}")
    if not 0 < udp_port < 65536:
        raise ValueError(f"udp_port must be between 1 and 65535, got {udp_port}")
    if isinstance(listen_duration, bool) or not isinstance(listen_duration, (int, float)) or not listen_duration >= 0:
        raise ValueError(f"listen_duration must be a number of seconds >= 0, got {listen_duration!r}")
    if stop_when is not None and not callable(stop_when):
        raise TypeError("stop_when must be a callable taking a server dict, or None")
    return _json.loads(_fz.funz_servers(udp_port, float(listen_duration), stop_when))


def _report_path(report, directory, directory_arg):
    """The page of report=: None/False none, True <directory>/report.html, a path.
    directory_arg names the argument that gave the directory, for errors."""
    if report is None or report is False:
        return None
    if report is True:
        return _os.path.join(_path(directory_arg, directory), "report.html")
    if isinstance(report, (str, _os.PathLike)):
        return _path("report", report)
    raise TypeError(f"report must be True, False, None or a path, got {type(report).__name__}")


def _safely(name: str, fn: _Any, *args: _Any) -> None:
    """Call a user callback; an exception is reported, never fatal."""
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001 - a callback must not kill the run
        print(f"  ⚠️  Error in {name} callback: {e}", file=_sys.stderr)


def _callbacks(callbacks: _Any):
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
            p = _json.loads(payload)
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
            p = _json.loads(payload)
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


# Plugins (fz install / uninstall): see fz.installer.
from .installer import (  # noqa: E402
    install_model,
    uninstall_model,
    list_installed_models,
    install_algorithm,
    uninstall_algorithm,
    list_installed_algorithms,
)


def install(model: str, global_install: bool = False) -> _Dict[str, _Any]:
    """Install a model repository (install_model): a plugin name ("moret"),
    owner/repo[@ref], a GitHub or zip URL, a local .zip or directory."""
    return install_model(model, global_install=global_install)


def uninstall(model: str, global_uninstall: bool = False) -> bool:
    """Uninstall a model (uninstall_model); False when not installed."""
    return uninstall_model(model, global_uninstall=global_uninstall)


def list_models(global_list: bool = False) -> _Dict[str, _Dict[str, _Any]]:
    """The installed models (list_installed_models)."""
    return list_installed_models(global_list=global_list)
