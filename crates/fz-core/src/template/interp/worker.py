# fz formula worker for Python (embedded in the fz binary, run with `python3 -c`).
#
# Protocol: one request per line on stdin, one reply per line on stdout, both
# JSON. Each reply line starts with the marker found in $FZ_WORKER_MARKER so
# that the parent can tell replies from stray output. User code never sees the
# protocol channels: fd 0 is replaced by /dev/null and fd 1 by stderr before
# any template code runs.
#
# Values are JSON with three tagged forms so that nothing is lost on the way:
#   {"$f": "nan"}     a float JSON cannot hold (nan, inf, -inf)
#   {"$t": [...]}     a tuple
#   {"$m": {...}}     a dict (plain JSON objects never carry values)
# Request: {"cases": [case, ...]}, one case being
#          {"vars": {name: value}, "files": [{"file": str,
#           "context": [[line, code]], "formulas": [[line, expr]],
#           "fallback": bool}]}
# Reply:   {"cases": [{"files": [{"warnings": [str], "results": [
#           {"text": str, "number": value|null, "value": value} | {"err": str}]}]}
#           | {"fatal": str}, ...]}
#          one entry per case ({"fatal": str} when that case could not be
#          handled), or {"fatal": str} when the request itself could not be.
#
# Compiled code objects (context programs, single context lines, formulas)
# are cached by source text, so a context shared by many cases is compiled
# once; the cache is emptied whenever it grows past CACHE_MAX entries. Code
# that does not compile is never cached: its SyntaxError is raised afresh.
import sys

# Keep the caller's directory from shadowing the standard modules the worker
# itself needs; user code gets the normal search path back afterwards.
_saved_path = list(sys.path)
sys.path[:] = [p for p in sys.path if p not in ("", ".")]
import builtins
import json
import math
import os

sys.path[:] = _saved_path

CTX_FILE = "<fz-context>"
MAX_DEPTH = 48
HELPERS = {
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "log": math.log,
    "log10": math.log10,
    "exp": math.exp,
    "sqrt": math.sqrt,
    "floor": math.floor,
    "ceil": math.ceil,
    "abs": abs,
    "pow": pow,
}


class NotJson(Exception):
    pass


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
        raise ValueError("untagged object in request")
    return j


def float_json(f):
    if math.isfinite(f):
        return float(f)
    return {"$f": repr(float(f))}


def key_json(k):
    # The key conversions json.dumps performs.
    if isinstance(k, str):
        return str(k)
    if k is True:
        return "true"
    if k is False:
        return "false"
    if k is None:
        return "null"
    if isinstance(k, int):
        return str(int(k))
    if isinstance(k, float):
        if math.isnan(k):
            return "NaN"
        if math.isinf(k):
            return "Infinity" if k > 0 else "-Infinity"
        return repr(float(k))
    raise NotJson()


def encode(v, depth=0):
    if depth > MAX_DEPTH:
        raise NotJson()
    if v is None or v is True or v is False:
        return v
    if isinstance(v, str):
        return str(v)
    if isinstance(v, int):
        i = int(v)
        if -(2**127) <= i < 2**127:
            return i
        return float_json(float(i))
    if isinstance(v, float):
        return float_json(v)
    if isinstance(v, list):
        return [encode(x, depth + 1) for x in v]
    if isinstance(v, tuple):
        return {"$t": [encode(x, depth + 1) for x in v]}
    if isinstance(v, dict):
        return {"$m": {key_json(k): encode(x, depth + 1) for k, x in v.items()}}
    raise NotJson()


def message(e):
    name = type(e).__name__
    try:
        if isinstance(e, SyntaxError):
            text = e.msg or ""
        else:
            text = str(e)
    except Exception:
        text = ""
    return "%s: %s" % (name, text) if text else name


def error_line(e):
    """Line (1-based, in the context program) where e was raised, or None."""
    line = None
    tb = e.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == CTX_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    if isinstance(e, SyntaxError) and e.filename == CTX_FILE:
        line = e.lineno
    return line


def where(fname, lines, line):
    if line is not None and 1 <= line <= len(lines):
        return " (%s, line %d)" % (fname, lines[line - 1])
    return " (%s)" % fname


# Names every file starts with: the builtins and the helpers; copied for
# each file, then the case variables are bound over it.
BASE = {"__builtins__": builtins}
BASE.update(HELPERS)
# A case value that is a non-finite float is written into the formula text
# as Python's str() gives it (`inf`, `-inf`, `nan`): those names must mean it.
BASE.update({"inf": float("inf"), "nan": float("nan")})
CACHE_MAX = 4096
_exec_cache = {}
_eval_cache = {}
_IMMUTABLE = (int, float, str, bool, type(None))


def _compile(cache, src, filename, mode):
    code = cache.get(src)
    if code is None:
        code = compile(src, filename, mode)
        if len(cache) >= CACHE_MAX:
            cache.clear()
        cache[src] = code
    return code


def decode_vars(vars_json):
    return {str(k): decode(v) for k, v in vars_json.items()}


def shareable(values):
    """Whether decoded variables can be bound in several namespaces: no
    file can change what another sees."""
    return all(type(v) in _IMMUTABLE for v in values.values())


def fresh_namespace(values):
    ns = BASE.copy()
    ns.update(values)
    return ns


def run(code, ns):
    exec(_compile(_exec_cache, code, CTX_FILE, "exec"), ns)


def run_file(vars_json, values, f):
    """values: the decoded variables, not seen by any namespace yet."""
    fname = str(f.get("file", ""))
    ns = fresh_namespace(values)
    warnings = []
    ctx = f.get("context") or []
    if ctx:
        lines = [int(l) for l, _ in ctx]
        codes = [str(c) for _, c in ctx]
        try:
            run("\n".join(codes), ns)
        except (Exception, SystemExit) as e:
            if f.get("fallback", True):
                warnings.append(
                    "Error executing full context: %s%s"
                    % (message(e), where(fname, lines, error_line(e)))
                )
                for line, code in zip(lines, codes):
                    if not code.strip():
                        continue
                    try:
                        run(code, ns)
                    except (Exception, SystemExit) as e2:
                        warnings.append(
                            "Error executing context line '%s': %s (%s, line %d)"
                            % (code, message(e2), fname, line)
                        )
            else:
                warnings.append(
                    "Error executing static objects: %s%s"
                    % (message(e), where(fname, lines, error_line(e)))
                )
                ns = fresh_namespace(decode_vars(vars_json))
    results = []
    for _, expr in f.get("formulas") or []:
        try:
            result = eval(_compile(_eval_cache, str(expr), "<string>", "eval"), ns)
            text = str(result)
        except (Exception, SystemExit) as e:
            results.append({"err": message(e)})
            continue
        try:
            number = float_json(float(result))
        except Exception:
            number = None
        try:
            value = encode(result)
        except Exception:
            value = text
        results.append({"text": text, "number": number, "value": value})
    return {"warnings": warnings, "results": results}


def run_case(case):
    vars_json = case.get("vars") or {}
    files = case.get("files") or []
    values = decode_vars(vars_json)
    share = shareable(values)
    out = []
    for i, f in enumerate(files):
        if i > 0 and not share:
            values = decode_vars(vars_json)
        out.append(run_file(vars_json, values, f))
    return {"files": out}


def handle(line):
    req = json.loads(line)
    replies = []
    for case in req.get("cases") or []:
        try:
            replies.append(run_case(case))
        except BaseException as e:
            # Whatever one case raises (even KeyboardInterrupt from user
            # code), the worker goes on with the next.
            replies.append({"fatal": message(e)})
    return {"cases": replies}


def main():
    marker = os.environ.pop("FZ_WORKER_MARKER", "").encode("ascii", "replace")
    inp = os.fdopen(os.dup(0), "rb")
    out = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    dumps = json.JSONEncoder(
        ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode

    def encode_reply(obj):
        try:
            return dumps(obj)
        except Exception as e:
            cases = obj.get("cases") if isinstance(obj, dict) else None
            if not isinstance(cases, list):
                return dumps({"fatal": "cannot encode reply: " + message(e)})
        # Only the cases that cannot be encoded fail.
        parts = []
        for case in cases:
            try:
                parts.append(dumps(case))
            except Exception as e:
                parts.append(dumps({"fatal": "cannot encode reply: " + message(e)}))
        return '{"cases":[' + ",".join(parts) + "]}"

    def send(obj):
        data = encode_reply(obj)
        out.write(marker + data.encode("utf-8", "replace") + b"\n")
        out.flush()

    send({"ready": "Python " + sys.version.split()[0]})
    while True:
        line = inp.readline()
        if not line:
            break
        try:
            reply = handle(line)
        except (Exception, SystemExit) as e:
            reply = {"fatal": message(e)}
        send(reply)


main()
