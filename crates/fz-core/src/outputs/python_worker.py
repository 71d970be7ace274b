# fz: evaluates `python://` output expressions, one per request.
#
# Run as `python3 -c <this file> <marker>`. Each request is one line of JSON
# on stdin: {"expr": "<expression>", "dir": "<case directory>"}. Each reply is
# one line on the original stdout: the marker, then JSON, either
# {"v": <value>} or {"e": "<error text>"}. Anything the expression prints goes
# to stderr (fd 1 is pointed there), so it can never be taken for a reply.
#
# Values are JSON with tags for what JSON cannot hold: {"$f": "nan"} for a
# non-finite float, {"$t": [...]} for a tuple, {"$m": {...}} for a map.
# numpy scalars and arrays, pandas Series and DataFrames are turned into
# plain numbers, lists and maps of columns; any other object into its str().

import json
import math
import os
import re
import statistics
import sys
from pathlib import Path

MARKER = sys.argv[1]
_reply_fd = os.dup(1)
os.dup2(2, 1)
REPLIES = os.fdopen(_reply_fd, "w", encoding="utf-8")

MAX_CACHED = 1024
_compiled = {}
OPTIONAL = (("np", "numpy"), ("pd", "pandas"))


def names_in(code):
    """Every global name `code` and the code nested in it may look up."""
    found = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            found |= names_in(const)
    return found


def optional_modules(code):
    """numpy as np and pandas as pd, when the expression names them and they
    are installed (importing pandas takes a noticeable time: only then)."""
    wanted = names_in(code)
    modules = {}
    for name, module in OPTIONAL:
        if name in wanted:
            try:
                modules[name] = __import__(module)
            except ImportError:
                pass
    return modules


def as_text(data):
    """File bytes as text: UTF-8, else the detected encoding, else Latin-1."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is not None:
            return str(best)
    except ImportError:
        pass
    return data.decode("latin-1")


def as_number(text):
    """int(text), else float(text), else the text itself."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def helpers(case_dir, modules):
    """The names an expression sees, paths relative to `case_dir`."""
    base = Path(case_dir)

    def where(path):
        p = Path(path)
        return p if p.is_absolute() else base / p

    def read(path):
        return as_text(where(path).read_bytes())

    def lines(path):
        return read(path).splitlines()

    def line(path, n):
        return lines(path)[n]

    def grep(pattern, path, group=None, all=False, cast=True):
        regex = re.compile(pattern, re.MULTILINE)
        text = read(path)
        g = group if group is not None else (1 if regex.groups else 0)

        def typed(s):
            return as_number(s) if cast else s

        if all:
            return [typed(m.group(g)) for m in regex.finditer(text)]
        found = regex.search(text)
        return typed(found.group(g)) if found else None

    def json_file(path):
        return json.loads(read(path))

    def csv_file(path, column=None):
        import pandas

        frame = pandas.read_csv(where(path))
        return frame[column].tolist() if column is not None else frame

    def hdf5_file(path, dataset=None):
        try:
            import h5py
        except ImportError:
            raise ImportError(
                "hdf5_file() needs the h5py package (pip install h5py)"
            ) from None
        with h5py.File(where(path), "r") as f:
            if dataset is None:
                return list(f.keys())
            data = f[dataset][()]
        return plain(data)

    names = {
        "__builtins__": __builtins__,
        "read": read,
        "lines": lines,
        "line": line,
        "grep": grep,
        "json_file": json_file,
        "csv_file": csv_file,
        "hdf5_file": hdf5_file,
        "re": re,
        "json": json,
        "math": math,
        "statistics": statistics,
        "Path": Path,
        "base_dir": base,
    }
    names.update(modules)
    return names


def plain(v):
    """numpy/pandas objects and bytes as plain Python values."""
    # Values of numpy or pandas can only exist once they were imported.
    np = sys.modules.get("numpy")
    pd = sys.modules.get("pandas")
    if np is not None:
        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, np.ndarray):
            return v.tolist()
    if pd is not None:
        if isinstance(v, pd.Series):
            return v.tolist()
        if isinstance(v, pd.DataFrame):
            return {str(c): v[c].tolist() for c in v.columns}
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return v


def encode(v, depth=0):
    v = plain(v)
    if depth > 100:
        return str(v)
    if v is None or v is True or v is False or isinstance(v, str):
        return v
    if isinstance(v, int):
        return v if -(2**63) <= v < 2**63 else float(v)
    if isinstance(v, float):
        return v if math.isfinite(v) else {"$f": repr(v)}
    if isinstance(v, list):
        return [encode(x, depth + 1) for x in v]
    if isinstance(v, (tuple, set, frozenset)):
        items = sorted(v, key=repr) if isinstance(v, (set, frozenset)) else v
        return {"$t": [encode(x, depth + 1) for x in items]}
    if isinstance(v, dict):
        return {"$m": {str(k): encode(x, depth + 1) for k, x in v.items()}}
    return str(v)


def evaluate(expr, case_dir):
    # Compiled once per expression, with the optional modules it names.
    cached = _compiled.get(expr)
    if cached is None:
        code = compile(expr, "<python:// output>", "eval")
        cached = (code, optional_modules(code))
        if len(_compiled) >= MAX_CACHED:
            _compiled.clear()
        _compiled[expr] = cached
    code, modules = cached
    # The helpers are the globals: comprehensions and generator expressions
    # inside the expression see them too.
    return eval(code, helpers(case_dir, modules))


def describe(e):
    text = str(e)
    return text if text else type(e).__name__


for request_line in sys.stdin:
    try:
        request = json.loads(request_line)
        reply = {"v": encode(evaluate(request["expr"], request["dir"]))}
    except Exception as e:  # the expression's own failure, reported
        reply = {"e": describe(e)}
    REPLIES.write(MARKER + json.dumps(reply, allow_nan=False) + "\n")
    REPLIES.flush()
