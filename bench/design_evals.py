"""Evaluations an fzd algorithm needs to reach a tolerance, through the
function model (the same script runs under our module and under
funz-fz 1.2's: `python bench/design_evals.py [PLUGIN_DIR]`; with a plugin
directory, its brent.py and bfgs.py are used instead of the built-ins).

Prints one line per problem: evaluations in total, and the first
evaluation within the tolerance of the minimum (None: never reached).
"""

import os
import sys
import tempfile

import fz

plugins = sys.argv[1] if len(sys.argv) > 1 else None


def algorithm(name):
    return os.path.join(plugins, f"{name}.py") if plugins else name


def count(label, algo, func, variables, fmin, tol, options):
    values = []

    def f(**point):
        v = func(**point)
        values.append(v)
        return v

    with tempfile.TemporaryDirectory() as d:
        fz.fzd(None, variables, f, None, algorithm(algo), algorithm_options=options,
               analysis_dir=os.path.join(d, "ana"))
    reached = next((i + 1 for i, v in enumerate(values) if v - fmin < tol), None)
    best = min(values) if values else None
    print(f"{label}: {len(values)} evaluations, best {best:.10g}, within {tol:g} at evaluation {reached}")


count("brent (x-0.3)^2+1 on [0;1], tol 1e-6", "brent", lambda x: (x - 0.3) ** 2 + 1,
      {"x": "[0;1]"}, 1.0, 1e-6, {"tol": 1e-6} if not plugins else {"tol": "1e-6"})
count("bfgs Rosenbrock on [-2;2]^2, tol 1e-4", "bfgs",
      lambda x, y: (1 - x) ** 2 + 100 * (y - x * x) ** 2,
      {"x": "[-2;2]", "y": "[-2;2]"}, 0.0, 1e-4, {} if not plugins else {"max_iter": "1000"})
