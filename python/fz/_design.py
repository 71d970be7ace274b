"""fzd for the Python API: argument checks, and the function model (a
Python callable evaluated on each batch of points, called back from the
Rust loop). The loop, the algorithms and the analysis files are in Rust.
"""

import inspect
import json
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, Callable, Dict, List, Optional

from ._errors import FunctionModelParallelError


def check_function(func: Callable, names: List[str]) -> inspect.Signature:
    """The callable's signature, after checking that it takes every input
    variable (unless it takes **kwargs)."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    params = sig.parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return sig
    missing = [n for n in names if n not in params]
    if missing:
        name = getattr(func, "__name__", repr(func))
        raise ValueError(
            f"Input variable(s) {missing} are not arguments of target function '{name}' "
            f"(arguments: {list(params)})"
        )
    return sig


def call(func: Callable, sig: Optional[inspect.Signature], point: Dict[str, float]) -> Any:
    """Calls func with the point's values by name (positional-only ones by
    position; extra keys only to **kwargs)."""
    if sig is None:
        return func(**point)
    args, kwargs = [], {}
    takes_kwargs = False
    for name, p in sig.parameters.items():
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            takes_kwargs = True
        elif name in point:
            if p.kind is inspect.Parameter.POSITIONAL_ONLY:
                args.append(point[name])
            else:
                kwargs[name] = point[name]
    if takes_kwargs:
        for k, v in point.items():
            if k not in kwargs and k not in sig.parameters:
                kwargs[k] = v
    return func(*args, **kwargs)


def normalise(value: Any) -> Dict[str, Any]:
    """A return value as a map: a dict as is, a named tuple's fields, a
    list/tuple as output1, output2, …, anything else as output."""
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return dict(value._asdict())
    if isinstance(value, (list, tuple)):
        return {f"output{i + 1}": v for i, v in enumerate(value)}
    return {"output": value}


def plain(value: Any) -> Any:
    """numpy values and containers as JSON-ready Python values."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value


def batch_evaluator(func: Callable, names: List[str], workers: int, first_output: bool):
    """The callback the Rust loop calls with a batch of points (JSON) and
    which returns one row per point (JSON): the point, the outputs,
    status and error. first_output: no expression was given, so the
    objective is the first output (copied into column 'output')."""
    sig = check_function(func, names)

    def one(point: Dict[str, float]) -> Dict[str, Any]:
        outputs = normalise(call(func, sig, point))
        if first_output and outputs and "output" not in outputs:
            outputs["output"] = next(iter(outputs.values()))
        return outputs

    def row(point, outputs=None, error=None):
        r = dict(point)
        if outputs is not None:
            r.update({k: plain(v) for k, v in outputs.items() if k not in point})
            r["status"], r["error"] = "done", None
        else:
            r["status"], r["error"] = "failed", error
        return r

    def evaluate(points_json: str) -> str:
        points = json.loads(points_json)
        rows: List[Optional[Dict[str, Any]]] = [None] * len(points)
        if workers <= 1:
            for i, p in enumerate(points):
                try:
                    rows[i] = row(p, one(p))
                except Exception as e:  # noqa: BLE001 - a failed point, not a failed run
                    print(f"  ⚠️  Point {i + 1}: {p} → FAILED: {e}", file=sys.stderr)
                    rows[i] = row(p, error=str(e))
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = {pool.submit(one, p): i for i, p in enumerate(points)}
                for future in as_completed(futures):
                    i = futures[future]
                    try:
                        rows[i] = row(points[i], future.result())
                    except Exception as e:
                        raise FunctionModelParallelError(
                            f"Model function raised an error while evaluating point {points[i]} "
                            f"during parallel execution (calculators={workers}): {e}. If this "
                            "function is not safe to call from several threads at once, retry "
                            "with calculators=1 (strictly sequential evaluation)."
                        ) from e
        return json.dumps(rows)

    return evaluate


def workers_of(calculators: Any) -> int:
    """calculators for a function model: None → 1, else a positive int."""
    if calculators is None:
        return 1
    if isinstance(calculators, bool) or not isinstance(calculators, int):
        raise TypeError(
            "calculators must be None or an integer (number of threads) when model is a "
            f"Python callable, got {type(calculators).__name__}"
        )
    if calculators < 1:
        raise ValueError(f"calculators must be >= 1 when model is a Python callable, got {calculators}")
    return calculators


def options_text(options: Any) -> Optional[str]:
    """algorithm_options as text for fz: a dict as JSON, a string as is
    (JSON text or a .json file), None as None."""
    if options is None:
        return None
    if isinstance(options, dict):
        return json.dumps(plain(options))
    if isinstance(options, str):
        return options
    raise TypeError(f"algorithm_options must be a dict, JSON text or a .json file, got {type(options).__name__}")


def variables_json(input_variables: Any) -> str:
    """The variables as JSON: name → '[min;max]' or a fixed value."""
    if not isinstance(input_variables, dict):
        raise TypeError(f"input_variables must be a dict, got {type(input_variables).__name__}")
    return json.dumps({str(k): plain(v) for k, v in input_variables.items()})
