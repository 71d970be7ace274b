# fz algorithm plugin host for Python (embedded in fz; standard library only).
#
# Run as `python3 -c <this file>`. One request per line on stdin (JSON), one
# reply per line on stdout: $FZ_PLUGIN_MARKER followed by {"ok": value} or
# {"error": "one-line message"}. Requests ({"op": ...}):
#   require {packages}       -> names of the packages that cannot be imported
#   check {file}             -> {"class"}: the file loads and has a class
#   init {file, options}     -> {"class", "has_tmp"}: Class(**options)
#   get_initial_design {input_vars, output_vars}, get_next_design {X, Y},
#   get_analysis {X, Y}, get_analysis_tmp {X, Y} -> what the method returns
# Replies hold plain JSON: numpy scalars and arrays become numbers and lists,
# non-finite floats null. The plugin's own output (print, child processes)
# goes to stderr: the protocol uses private copies of fd 0 and 1.
import importlib.util
import inspect
import json
import math
import numbers
import os
import sys
import traceback

METHODS = ("get_initial_design", "get_next_design", "get_analysis")


class PluginError(Exception):
    """An error whose message is complete as it is."""


def one_line(text):
    return " ".join(str(text).split())


def describe(e, file):
    """`Type: message (line N)`, N being the plugin file's innermost line."""
    if isinstance(e, PluginError):
        return one_line(e)
    text = type(e).__name__
    msg = one_line(e)
    if isinstance(e, SyntaxError):
        msg = one_line(e.msg or "")
        line = e.lineno if e.filename == file else None
    else:
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == file]
        line = frames[-1].lineno if frames else None
    if msg:
        text += ": " + msg
    if line is not None:
        text += " (line %d)" % line
    return text


def plain(o, depth=0):
    """o as plain JSON values (numpy, tuples, sets, Decimal… converted)."""
    if depth > 200:
        raise PluginError("value nested too deeply")
    if o is None or isinstance(o, (bool, str)):
        return o
    if isinstance(o, int):
        return int(o)
    if isinstance(o, float):
        return float(o) if math.isfinite(o) else None
    if isinstance(o, dict):
        return {(k if isinstance(k, str) else str(plain(k, depth + 1))): plain(v, depth + 1)
                for k, v in o.items()}
    if isinstance(o, (list, tuple, set, frozenset)):
        return [plain(v, depth + 1) for v in o]
    tolist = getattr(o, "tolist", None)  # numpy arrays and scalars, pandas series
    if callable(tolist):
        return plain(tolist(), depth + 1)
    if isinstance(o, numbers.Integral):
        return int(o)
    if isinstance(o, numbers.Real):
        return plain(float(o), depth + 1)
    return str(o)


def missing_packages(packages):
    out = []
    for name in packages:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            out.append(name)
    return out


def load_module(file):
    """Executes file as a module named after its stem (as upstream)."""
    stem = os.path.splitext(os.path.basename(file))[0]
    spec = importlib.util.spec_from_file_location(stem, file)
    if spec is None or spec.loader is None:
        raise PluginError("cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[stem] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as e:
        raise PluginError("could not be loaded: " + describe(e, file))
    return module


def find_class(module):
    """The first class in name order having the three methods, BaseAlgorithm
    dropped when there are several."""
    classes = inspect.getmembers(module, inspect.isclass)
    found = [(n, c) for n, c in classes if all(hasattr(c, m) for m in METHODS)]
    if len(found) > 1:
        found = [(n, c) for n, c in found if n != "BaseAlgorithm"]
    if found:
        return found[0][1]
    lacking = ["class %s lacks %s" % (n, ", ".join(m for m in METHODS if not hasattr(c, m)))
               for n, c in classes if getattr(c, "__module__", None) == module.__name__]
    detail = (" (" + "; ".join(lacking) + ")") if lacking else ""
    raise PluginError("No valid algorithm class found%s. Algorithm class must have methods: %s"
                      % (detail, ", ".join(METHODS)))


class Host:
    def __init__(self):
        self.algo = None
        self.file = None

    def handle(self, req):
        op = req.get("op")
        if op == "require":
            return missing_packages(req["packages"])
        if op == "check":
            self.file = req["file"]
            return {"class": find_class(load_module(self.file)).__name__}
        if op == "init":
            return self.init(req["file"], req["options"])
        if self.algo is None:
            raise PluginError("no algorithm loaded")
        if op == "get_initial_design":
            ranges = {k: tuple(v) for k, v in req["input_vars"].items()}
            return self.algo.get_initial_design(ranges, req["output_vars"])
        if op in ("get_next_design", "get_analysis", "get_analysis_tmp"):
            return getattr(self.algo, op)(req["X"], req["Y"])
        raise PluginError("unknown request %r" % (op,))

    def init(self, file, options):
        self.file = file
        cls = find_class(load_module(file))
        try:
            self.algo = cls(**options)
        except BaseException as e:
            raise PluginError("%s(**options) failed: %s" % (cls.__name__, describe(e, file)))
        tmp = getattr(self.algo, "get_analysis_tmp", None)
        return {"class": cls.__name__, "has_tmp": callable(tmp)}


def main():
    marker = os.environ.pop("FZ_PLUGIN_MARKER", "")
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.stdout = sys.stderr
    sys.stdin = open(os.devnull)
    host = Host()
    for line in requests:
        if not line.strip():
            continue
        try:
            reply = json.dumps({"ok": plain(host.handle(json.loads(line)))}, allow_nan=False)
        except BaseException as e:
            reply = json.dumps({"error": describe(e, host.file)})
        replies.write(marker + reply + "\n")
        replies.flush()


main()
