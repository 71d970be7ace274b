"""fz.fzd: the file model through sh:// calculators and the function model
(a Python callable), against closed-form functions, with scipy as an
oracle where it is installed."""

import math
import threading

import pytest

import fz


def brent_objective(x):
    return (x - 0.3) ** 2 + 1


def test_function_model_brent_converges_and_returns_upstreams_dict(project):
    calls = []

    def f(x, z):
        calls.append((x, z))
        return brent_objective(x)

    res = fz.fzd(None, {"x": "[0;1]", "z": "5"}, f, None, "brent", algorithm_options={"tol": 1e-8},
                 analysis_dir="ana")
    assert set(res) == {"XY", "analysis", "algorithm", "iterations", "total_evaluations", "summary"}
    xy = res["XY"]
    assert list(xy.columns) == ["x", "z", "output"]
    best = xy.loc[xy["output"].idxmin()]
    assert abs(best["x"] - 0.3) < 1e-5
    assert all(z == 5.0 for _, z in calls)
    assert len(calls) == len(set(calls)), "a point was evaluated twice"
    assert res["total_evaluations"] == len(xy)
    assert res["summary"].startswith(f"brent completed: {res['iterations']} iterations")
    assert (project / "ana" / "iter001" / "values.csv").is_file()
    assert (project / "ana" / f"results_{res['iterations']}.html").is_file()


def test_function_model_bfgs_matches_scipy_on_rosenbrock(project):
    def rosen(x, y):
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2

    res = fz.fzd(None, {"x": "[-2;2]", "y": "[-2;2]"}, rosen, "output", "bfgs", analysis_dir="ana")
    xy = res["XY"]
    best = xy.loc[xy["output"].idxmin()]
    assert abs(best["x"] - 1) < 1e-3 and abs(best["y"] - 1) < 1e-3, best
    scipy_optimize = pytest.importorskip("scipy.optimize")
    oracle = scipy_optimize.minimize(lambda v: rosen(*v), [0, 0], method="L-BFGS-B", bounds=[(-2, 2)] * 2)
    assert abs(best["x"] - oracle.x[0]) < 1e-3 and abs(best["y"] - oracle.x[1]) < 1e-3


def test_multi_objective_and_return_normalisation(project):
    def zdt(x, y):
        return {"f1": x, "f2": 1 + y}

    res = fz.fzd(None, {"x": "[0;1]", "y": "[0;1]"}, zdt, ["f1", "f2 * 2"], "randomsampling",
                 algorithm_options={"nvalues": 5}, analysis_dir="ana")
    assert list(res["XY"].columns) == ["x", "y", "f1", "f2 * 2"]
    assert (res["XY"]["f2 * 2"] == 2 * (1 + res["XY"]["y"])).all()
    assert (project / "ana" / "Y_1.csv").read_text().splitlines()[0] == "f1,f2 * 2"

    # A tuple return is output1, output2…; the first is the objective when
    # no expression is given.
    res = fz.fzd(None, {"x": "[0;1]"}, lambda x: (x * 2, -1), None, "randomsampling",
                 algorithm_options={"nvalues": 3}, analysis_dir="ana2")
    assert list(res["XY"].columns) == ["x", "output"]
    assert (res["XY"]["output"] == 2 * res["XY"]["x"]).all()


def test_failures_are_missing_objectives_and_bad_arguments_raise(project, capsys):
    def f(x):
        if x > 0.5:
            raise RuntimeError("diverged")
        return x

    res = fz.fzd(None, {"x": "[0;1]"}, f, "output", "lhs", algorithm_options={"nvalues": 10},
                 analysis_dir="ana")
    xy = res["XY"]
    assert xy["output"].isna().sum() == (xy["x"] > 0.5).sum() > 0
    assert "diverged" in capsys.readouterr().err
    with pytest.raises(ValueError, match="input_path must be None"):
        fz.fzd("input.txt", {"x": "[0;1]"}, f, "output", "brent")
    with pytest.raises(ValueError, match=r"not arguments of target function 'f'"):
        fz.fzd(None, {"w": "[0;1]"}, f, "output", "brent")
    with pytest.raises(TypeError, match="calculators"):
        fz.fzd(None, {"x": "[0;1]"}, f, "output", "brent", calculators="sh://x")
    with pytest.raises(ValueError, match="Invalid range for variable 'x'"):
        fz.fzd(None, {"x": "[1;0]"}, f, "output", "brent")
    with pytest.raises(ValueError, match="option 'tol'"):
        fz.fzd(None, {"x": "[0;1]"}, f, "output", "brent", algorithm_options={"tol": "small"})


def test_parallel_function_model_uses_threads_and_raises_on_errors(project):
    threads = set()

    def f(x):
        threads.add(threading.get_ident())
        return math.sin(x)

    res = fz.fzd(None, {"x": "[0;3]"}, f, "output", "randomsampling", calculators=4,
                 algorithm_options={"nvalues": 16}, analysis_dir="ana")
    assert len(res["XY"]) == 16
    assert len(threads) >= 1

    def broken(x):
        raise ValueError("not thread safe")

    with pytest.raises(fz.FunctionModelParallelError, match="calculators=1"):
        fz.fzd(None, {"x": "[0;1]"}, broken, "output", "randomsampling", calculators=2,
               algorithm_options={"nvalues": 4}, analysis_dir="ana3")


def test_file_model_runs_through_calculators_and_reuses_earlier_points(project):
    (project / "in.txt").write_text("x=${x}\n")
    (project / "f.sh").write_text(
        "#!/bin/bash\n"
        "x=$(grep x= in.txt | cut -d= -f2)\n"
        f'echo "$x" >> {project}/f.log\n'
        "awk -v x=$x 'BEGIN { printf \"f = %.17g\\n\", (x - 0.3) ^ 2 + 1 }' > output.txt\n"
    )
    model = {"varprefix": "$", "delim": "{}", "output": {"f": "grep 'f =' output.txt | awk '{print $3}'"}}
    res = fz.fzd("in.txt", {"x": "[0;1]"}, model, "f", "brent", calculators="sh://bash f.sh",
                 analysis_dir="ana")
    best = res["XY"].loc[res["XY"]["f"].idxmin()]
    assert abs(best["x"] - 0.3) < 1e-4
    runs = (project / "f.log").read_text().splitlines()
    assert len(runs) == res["total_evaluations"]
    fz.fzd("in.txt", {"x": "[0;1]"}, model, "f", "brent", calculators="sh://bash f.sh",
           analysis_dir="ana")
    assert len((project / "f.log").read_text().splitlines()) == len(runs), "all points came from the cache"


def test_nsga2_front_on_zdt1_and_sobol_bounds(project):
    def zdt1(x1, x2, x3):
        g = 1 + 9 * (x2 + x3) / 2
        return {"f1": x1, "f2": g * (1 - math.sqrt(x1 / g))}

    res = fz.fzd(None, {"x1": "[0;1]", "x2": "[0;1]", "x3": "[0;1]"}, zdt1, ["f1", "f2"], "nsga2",
                 algorithm_options={"pop_size": 40, "generations": 40, "seed": 1}, analysis_dir="ana")
    front = res["analysis"]["data"]["pareto_F"]
    assert len(front) >= 10
    # The true front is f2 = 1 - sqrt(f1); the found one lies close above it.
    gaps = [f2 - (1 - math.sqrt(f1)) for f1, f2 in front]
    assert min(gaps) > -1e-9 and sum(gaps) / len(gaps) < 0.1, gaps

    res = fz.fzd(None, {"a": "[-1;3]", "b": "[10;20]"}, lambda a, b: a + b, None, "sobol",
                 algorithm_options={"nvalues": 16}, analysis_dir="ana2")
    xy = res["XY"]
    assert len(xy) == 16 and res["iterations"] == 1
    assert xy["a"].between(-1, 3).all() and xy["b"].between(10, 20).all()
    assert len(set(xy["a"])) == 16


def test_objective_mistakes_are_told_before_anything_runs(project, capsys):
    (project / "in.txt").write_text("x=${x}\n")
    (project / "f.sh").write_text(
        "#!/bin/bash\n"
        f'echo run >> {project}/f.log\n'
        "echo 'f = 1' > output.txt\n"
    )
    model = {"varprefix": "$", "delim": "{}", "output": {"f": "grep 'f =' output.txt | awk '{print $3}'"}}
    (project / "ana").mkdir()
    (project / "ana" / "kept.txt").write_text("earlier")
    args = dict(calculators="sh://bash f.sh", analysis_dir="ana", algorithm_options={"nvalues": 2})
    with pytest.raises(ValueError, match=r"output_expression 'f \* \(2' is not a Python expression"):
        fz.fzd("in.txt", {"x": "[0;1]"}, model, "f * (2", "lhs", **args)
    assert not (project / "f.log").exists()
    assert (project / "ana" / "kept.txt").read_text() == "earlier"
    # The syntax is checked with a function model too.
    with pytest.raises(ValueError, match="is not a Python expression"):
        fz.fzd(None, {"x": "[0;1]"}, lambda x: x, "output +", "lhs", analysis_dir="fm",
               algorithm_options={"nvalues": 2})

    capsys.readouterr()
    res = fz.fzd("in.txt", {"x": "[0;1]"}, model, "F * 2", "lhs", **args)
    err = capsys.readouterr().err
    assert "output_expression 'F * 2' uses 'F', which is not a column of the results" in err
    assert "did you mean 'f'?" in err
    assert "2 of 2 evaluated point(s) got no objective" in err
    assert res["XY"]["F * 2"].isna().all()

    # A set-up error (a missing script) is said once; no case runs.
    capsys.readouterr()
    res = fz.fzd("in.txt", {"x": "[0;1]"}, model, "f", "brent", calculators="sh://bash missing.sh",
                 analysis_dir="ana2")
    err = capsys.readouterr().err
    assert err.count("Error evaluating batch") == 1, err
    assert "script 'missing.sh' not found" in err
    assert res["XY"]["f"].isna().all() and len(res["XY"]) == res["total_evaluations"] > 1
    assert len((project / "f.log").read_text().splitlines()) == 2, "only the lhs points ran"
