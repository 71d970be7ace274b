"""Classify upstream funz-fz 1.2 tests as public-API or private, by static analysis.

Owns: the rule deciding which upstream tests are a contract for us. It reads
the test files only (never imports them) and prints one line per test function:
``<file>::[<Class>::]<function>\t<public|private>\t<why>``.

The rule (also in docs/compatibility.md, "Upstream's test suite"):

* Upstream's public names are what its ``fz/__init__.py`` binds as functions,
  classes and ``__version__`` (the ``__all__`` list plus
  ``check_bash_availability_on_windows``), the console entry points of
  ``fz.cli`` (``main``, ``fzi_main`` ... ``fzl_main``), the settings of
  ``fz.config`` (``config``, ``Config``, ``get_config``, ``reload_config``,
  ``print_config``, ``set_interpreter``, ``get_interpreter``) and
  ``fz.logging``'s ``LogLevel``, ``set_log_level``, ``get_log_level``.
* A test is *private* when anything it runs reaches another name of upstream's
  package: an import of a private module or name, an attribute such as
  ``fz.core`` or ``fz.cli.format_output``, a string naming a private module
  (``mock.patch("fz.runners.x")``, ``python -c "from fz.helpers import ..."``),
  or a path into upstream's own source (``REPO / "fz" / "cli.py"``).
  "Anything it runs" is the test function, the module-level functions,
  classes and fixtures it names (followed transitively, also into sibling
  test modules it imports from), the non-test methods and fixtures of its
  class, and the module's autouse fixtures.
* A private import at module level makes every test of the file private: the
  file cannot even be collected without upstream's internals.
* Every other test is *public*.

Must not touch: the test tree (read only); the verdicts of run results
(tests/upstream/report.py does that).
"""

import ast
import re
import sys
from pathlib import Path

PUBLIC_FZ = {
    "fzi", "fzc", "fzo", "fzr", "fzl", "fzd", "FunctionModelParallelError",
    "check_bash_availability_on_windows",
    "install", "uninstall", "list_models",
    "install_model", "uninstall_model", "list_installed_models",
    "install_algorithm", "uninstall_algorithm", "list_installed_algorithms",
    "set_log_level", "get_log_level",
    "get_config", "reload_config", "print_config", "set_interpreter", "get_interpreter",
    "discover_funz_servers", "__version__",
}
PUBLIC_SUBMODULES = {
    "cli": {"main", "fzi_main", "fzc_main", "fzo_main", "fzr_main", "fzd_main", "fzl_main"},
    "config": {"config", "Config", "get_config", "reload_config", "print_config",
               "set_interpreter", "get_interpreter"},
    "logging": {"LogLevel", "set_log_level", "get_log_level"},
}
# Upstream's other modules: naming one in a string (patch target, -c code) is private.
PRIVATE_MODULES = ("core", "helpers", "runners", "interpreter", "io", "algorithms",
                   "history", "outparsers", "shell", "spinner", "installer", "_version")
PRIVATE_STRING = re.compile(r"\bfz\.(?:%s)\b" % "|".join(re.escape(m) for m in PRIVATE_MODULES))


def dotted_verdict(path):
    """Why the dotted name `path` (a list, starting with 'fz') is private, or None."""
    if len(path) < 2:
        return None
    head = path[1]
    if head in PUBLIC_FZ:
        return None
    if head in PUBLIC_SUBMODULES:
        if len(path) == 2 or path[2] in PUBLIC_SUBMODULES[head]:
            return None
        return "fz.%s.%s" % (head, path[2])
    return "fz." + head


def import_verdict(node):
    """(private reason or None, {local name: dotted path}) for an import node."""
    bound = {}
    reason = None
    if isinstance(node, ast.Import):
        for alias in node.names:
            parts = alias.name.split(".")
            if parts[0] != "fz":
                continue
            reason = reason or dotted_verdict(parts)
            if alias.asname:
                bound[alias.asname] = parts
            else:
                bound["fz"] = ["fz"]
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        parts = node.module.split(".")
        if parts[0] == "fz":
            reason = dotted_verdict(parts)
            for alias in node.names:
                full = parts + [alias.name]
                reason = reason or dotted_verdict(full)
                bound[alias.asname or alias.name] = full
    return reason, bound


class Unit:
    """What one function, class or fixture body reaches: private uses and names it refers to."""

    def __init__(self):
        self.private = []
        self.names = set()


def scan(node, aliases, sibling_imports):
    """Private uses and referred names inside `node` (nested definitions included)."""
    unit = Unit()
    local_aliases = dict(aliases)
    for sub in ast.walk(node):
        if isinstance(sub, (ast.Import, ast.ImportFrom)):
            reason, bound = import_verdict(sub)
            if reason:
                unit.private.append("imports " + reason)
            local_aliases.update(bound)
            if isinstance(sub, ast.ImportFrom) and sub.module and sub.module.startswith("test"):
                for alias in sub.names:
                    unit.names.add(("sibling", sub.module, alias.name))
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            hit = PRIVATE_STRING.search(sub.value)
            if hit:
                unit.private.append("names %s in a string" % hit.group(0))
        elif isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.Div) \
                and isinstance(sub.right, ast.Constant) and sub.right.value == "fz":
            unit.private.append("reads upstream's fz/ source files")
        elif isinstance(sub, ast.Name):
            unit.names.add(sub.id)
        elif isinstance(sub, ast.arg):
            unit.names.add(sub.arg)
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute):
            chain = []
            cur = sub
            while isinstance(cur, ast.Attribute):
                chain.append(cur.attr)
                cur = cur.value
            if isinstance(cur, ast.Name) and cur.id in local_aliases:
                path = local_aliases[cur.id] + list(reversed(chain))
                reason = dotted_verdict(path)
                if reason:
                    unit.private.append("uses " + reason)
    for name in list(unit.names):
        if isinstance(name, str) and name in sibling_imports:
            unit.names.add(("sibling",) + sibling_imports[name])
    return unit


def is_fixture(fn):
    for dec in fn.decorator_list:
        text = ast.unparse(dec)
        if "fixture" in text:
            return True, "autouse=True" in text.replace(" ", "")
    return False, False


class Module:
    """One test file: its units, its tests and its module-level verdict."""

    def __init__(self, path):
        self.path = path
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"), str(path))
        self.aliases = {}
        self.sibling_imports = {}
        self.module_private = []
        self.units = {}
        self.autouse = []
        self.tests = []  # (test id, unit key list)
        for node in tree.body:
            self._top(node)
        # module-level code other than definitions (constants, helpers' setup)
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                     ast.Import, ast.ImportFrom)):
                unit = scan(node, self.aliases, self.sibling_imports)
                self.module_private += unit.private

    def _top(self, node):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            reason, bound = import_verdict(node)
            if reason:
                self.module_private.append("imports " + reason + " at module level")
            self.aliases.update(bound)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("test"):
                for alias in node.names:
                    self.sibling_imports[alias.asname or alias.name] = (node.module, alias.name)
        elif isinstance(node, ast.Try):
            for sub in node.body + node.finalbody + [h for h in node.handlers]:
                for inner in (sub.body if isinstance(sub, ast.ExceptHandler) else [sub]):
                    self._top(inner)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.units[node.name] = scan(node, self.aliases, self.sibling_imports)
            fixture, autouse = is_fixture(node)
            if autouse:
                self.autouse.append(node.name)
            if node.name.startswith("test") and not fixture:
                self.tests.append((node.name, [node.name]))
        elif isinstance(node, ast.ClassDef):
            self.units[node.name] = Unit()
            self.units[node.name].names.add(("class", node.name))
            helpers = []
            for item in node.body:
                key = "%s.%s" % (node.name, item.name) if hasattr(item, "name") else None
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self.units[key] = scan(item, self.aliases, self.sibling_imports)
                    fixture, _ = is_fixture(item)
                    if not item.name.startswith("test") or fixture:
                        helpers.append(key)
                else:
                    unit = scan(item, self.aliases, self.sibling_imports)
                    self.units.setdefault(node.name + ".<body>", Unit()).private += unit.private
                    helpers.append(node.name + ".<body>")
            for base in node.bases:
                helpers.append(ast.unparse(base))
            self.units[node.name].names.update(helpers)
            if node.name.startswith("Test"):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                            and item.name.startswith("test") and not is_fixture(item)[0]:
                        key = "%s.%s" % (node.name, item.name)
                        self.tests.append(("%s::%s" % (node.name, item.name), [key] + helpers))


class Suite:
    """All test files of a tree, with taint followed across units and sibling modules."""

    def __init__(self, tests_dir):
        self.modules = {p.stem: Module(p) for p in sorted(tests_dir.glob("test_*.py"))}
        conftest = tests_dir / "conftest.py"
        self.conftest = Module(conftest) if conftest.exists() else None

    def reasons(self, module, keys):
        seen = set()
        todo = [(module, k) for k in keys] + [(module, k) for k in module.autouse]
        if self.conftest:
            todo += [(self.conftest, k) for k in self.conftest.autouse]
        found = []
        while todo:
            mod, key = todo.pop()
            if (id(mod), key) in seen:
                continue
            seen.add((id(mod), key))
            unit = mod.units.get(key)
            if unit is None:
                if self.conftest and mod is not self.conftest and key in self.conftest.units:
                    todo.append((self.conftest, key))
                continue
            found += unit.private
            for name in unit.names:
                if isinstance(name, tuple) and name[0] == "sibling" and name[1] in self.modules:
                    sib = self.modules[name[1]]
                    found += ["via %s: %s" % (name[1], r) for r in sib.module_private]
                    todo.append((sib, name[2]))
                elif isinstance(name, tuple) and name[0] == "class":
                    continue
                elif isinstance(name, str):
                    todo.append((mod, name))
        return found

    def classify(self):
        for stem, module in self.modules.items():
            for test_id, keys in module.tests:
                full = "%s.py::%s" % (stem, test_id)
                why = list(module.module_private)
                if not why:
                    why = self.reasons(module, keys)
                if why:
                    yield full, "private", "; ".join(sorted(set(why)))
                else:
                    yield full, "public", "only public names"


def main():
    tests_dir = Path(sys.argv[1])
    for full, kind, why in Suite(tests_dir).classify():
        print("%s\t%s\t%s" % (full, kind, why))


if __name__ == "__main__":
    main()
