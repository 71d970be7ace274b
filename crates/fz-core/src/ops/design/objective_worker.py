# fz: evaluates fzd objective expressions on result rows.
#
# Run as `python3 -c <this file> <marker>`. Each request is one line of JSON
# on stdin: {"exprs": ["<expression>", ...], "rows": [{column: value}, ...]}.
# Each reply is one line on the original stdout: the marker, then JSON
# {"r": [...]} with, per row, either {"v": [number, ...]} (one per
# expression) or {"e": "<message>"}. Anything printed goes to stderr.
#
# A request {"check": ["<expression>", ...]} is answered before anything
# runs: {"c": [...]} with, per expression, {"syntax": "<message>"} or
# {"names": [...]}: the names it looks up that are not functions of the
# namespace below nor bound inside it (comprehension variables).
#
# Values use the tags of fz's formula worker: {"$f": "nan"} for a float JSON
# cannot hold, {"$t": [...]} for a tuple, {"$m": {...}} for a map.
#
# The expression sees only the functions below and the row's columns, as
# globals (so names resolve inside generator expressions too).

import ast
import json
import math
import os
import statistics
import sys

MARKER = sys.argv[1]
_reply_fd = os.dup(1)
os.dup2(2, 1)
REPLIES = os.fdopen(_reply_fd, "w", encoding="utf-8")

FUNCTIONS = {
    "abs": abs, "min": min, "max": max, "pow": pow, "round": round,
    "sqrt": math.sqrt, "exp": math.exp, "log": math.log, "log10": math.log10,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin,
    "acos": math.acos, "atan": math.atan, "atan2": math.atan2,
    "pi": math.pi, "e": math.e,
    "sum": sum, "len": len, "sorted": sorted, "zip": zip, "range": range,
    "float": float, "int": int, "list": list, "any": any, "all": all,
    "mean": statistics.mean, "median": statistics.median,
    "stdev": statistics.stdev, "variance": statistics.variance,
    "True": True, "False": False, "None": None,
}
_compiled = {}


def decode(j):
    if isinstance(j, list):
        return [decode(x) for x in j]
    if isinstance(j, dict):
        if "$f" in j:
            return float(j["$f"])
        if "$t" in j:
            return tuple(decode(x) for x in j["$t"])
        if "$m" in j:
            return {k: decode(v) for k, v in j["$m"].items()}
        return {k: decode(v) for k, v in j.items()}
    return j


def is_listy(v):
    return isinstance(v, (list, tuple))


def hint(row):
    listy = sorted(k for k, v in row.items() if is_listy(v))
    if not listy:
        return ""
    name = listy[0]
    return (f" Output(s) {', '.join(repr(k) for k in listy)} hold lists: reduce them to one "
            f"number, e.g. mean({name}), sum({name}) / len({name}), max({name}) or {name}[-1].")


def one(expr, row):
    code = _compiled.get(expr)
    if code is None:
        code = compile(expr, "<objective>", "eval")
        _compiled[expr] = code
    scope = dict(FUNCTIONS)
    scope.update(row)
    scope["__builtins__"] = {}
    value = eval(code, scope)
    if isinstance(value, bool) or value is None or is_listy(value) or isinstance(value, (dict, str)):
        raise TypeError(f"Output expression '{expr}' evaluated to {value!r}, which is not a "
                        f"single number.{hint(row)}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"Output expression '{expr}' evaluated to {value!r}, which is not a "
                        f"single number.{hint(row)}") from None


def names_of(expr):
    try:
        tree = ast.parse(expr, "<objective>", "eval")
    except SyntaxError as e:
        where = f" (column {e.offset})" if e.offset else ""
        return {"syntax": f"{e.msg}{where}"}
    nodes = list(ast.walk(tree))
    bound = {n.id for n in nodes if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    bound |= {a.arg for n in nodes if isinstance(n, ast.arguments)
              for a in n.posonlyargs + n.args + n.kwonlyargs}
    used = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return {"names": sorted(used - bound - set(FUNCTIONS))}


def shown(row):
    return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in row.items()) + "}"


def evaluate(exprs, row):
    values = []
    for expr in exprs:
        try:
            values.append(one(expr, row))
        except TypeError as e:
            if str(e).startswith("Output expression"):
                return {"e": str(e)}
            return {"e": f"Failed to evaluate output expression '{expr}' with data {shown(row)}: {e}"}
        except Exception as e:  # noqa: BLE001 - reported, never fatal
            return {"e": f"Failed to evaluate output expression '{expr}' with data {shown(row)}: "
                         f"{type(e).__name__}: {e}"}
    return {"v": [v if math.isfinite(v) else {"$f": repr(v)} for v in values]}


for line in sys.stdin:
    try:
        request = json.loads(line)
        if "check" in request:
            reply = {"c": [names_of(e) for e in request["check"]]}
        else:
            rows = [decode(r) for r in request["rows"]]
            reply = {"r": [evaluate(request["exprs"], r) for r in rows]}
    except Exception as e:  # noqa: BLE001 - a bad request must not kill the worker
        reply = {"error": f"{type(e).__name__}: {e}"}
    REPLIES.write(MARKER + json.dumps(reply) + "\n")
    REPLIES.flush()
