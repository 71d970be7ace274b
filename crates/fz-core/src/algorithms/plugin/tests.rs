//! Plugins through the real hosts: Python (`python3` or `FZ_PYTHON`) and
//! `Rscript`, with plugin files written here, and upstream's example
//! plugins unpacked from `../shared/upstream/funz-fz-1.2-tree.tgz`.

use super::*;
use crate::algorithms::{Objective, ObjectiveSpec, Point, Ranges};
use crate::calculators::alias::Scope;
use serde_json::json;
use std::path::{Path, PathBuf};

struct Project {
    dir: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        Project {
            dir: tempfile::tempdir().unwrap(),
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn lookup(&self) -> Lookup {
        Lookup {
            cwd: self.dir.path().to_path_buf(),
            home: Some(self.home.path().to_path_buf()),
        }
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }
}

fn ranges(items: &[(&str, f64, f64)]) -> Ranges {
    items
        .iter()
        .map(|(k, lo, hi)| (k.to_string(), (*lo, *hi)))
        .collect()
}

fn point(items: &[(&str, f64)]) -> Point {
    items.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

fn single() -> ObjectiveSpec {
    ObjectiveSpec {
        expressions: vec!["out".into()],
        multi: false,
    }
}

fn options(v: serde_json::Value) -> Map<String, Json> {
    match v {
        Json::Object(m) => m,
        _ => panic!("options must be an object"),
    }
}

fn err_text<T>(r: Result<T>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

fn python_has(modules: &str) -> bool {
    std::process::Command::new(default_executable(Language::Python))
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

const FIXED_PY: &str = r#"#title: Fixed points
#options: scale=2;label=none
#require: json;no_such_package_fz
"""A plugin proposing fixed points, printing on stdout everywhere."""
import os
print("loading")


class Helper:
    pass


class Fixed:
    def __init__(self, **options):
        print("init", options)
        os.system("echo from a child process")
        self.scale = float(options["scale"])
        self.label = options["label"]
        self.calls = 0

    def get_initial_design(self, input_vars, output_vars):
        print("initial", input_vars, output_vars)
        assert isinstance(input_vars["x"], tuple)
        lo, hi = input_vars["x"]
        return [{"x": lo + (hi - lo) * f} for f in (0.0, 0.25, 1.0)]

    def get_next_design(self, X, Y):
        self.calls += 1
        if self.calls > 1:
            return []
        best = min((i for i, y in enumerate(Y) if y is not None), key=lambda i: Y[i])
        return [{k: v / self.scale for k, v in X[best].items()}]

    def get_analysis(self, X, Y):
        valid = [y for y in Y if y is not None]
        return {"text": "%s: %d points, best %s" % (self.label, len(X), min(valid)),
                "data": {"n": len(X), "missing": Y.count(None)}, "ignored": 1}
"#;

/// What both "fixed" plugins (Python and R) do with the user's scale=4:
/// three points over [0;4], then the best point handed back (fixed
/// variable included) divided by the scale, then the end. Returns the X
/// and Y handed back, for the analysis.
fn walk_fixed(alg: &mut dyn Algorithm) -> (Vec<Point>, Vec<Objective>) {
    let x0 = alg
        .initial_design(&ranges(&[("x", 0.0, 4.0)]), &single())
        .unwrap();
    let expected = [0.0, 1.0, 4.0].map(|v| point(&[("x", v)]));
    assert_eq!(x0, expected);
    // The loop hands back every point with its fixed variables.
    let x: Vec<Point> = x0
        .iter()
        .map(|p| point(&[("x", p["x"]), ("z", 5.0)]))
        .collect();
    let y = vec![
        Objective::Single(5.0),
        Objective::Single(1.0),
        Objective::Missing,
    ];
    assert_eq!(
        alg.next_design(&x, &y).unwrap(),
        [point(&[("x", 0.25), ("z", 1.25)])],
        "user scale=4 over the header's 2"
    );
    assert_eq!(alg.next_design(&x, &y).unwrap(), Vec::<Point>::new());
    (x, y)
}

#[test]
fn a_python_plugin_proposes_and_analyses_through_the_host() {
    let p = Project::new();
    let path = p.write(".fz/algorithms/fixed.py", FIXED_PY);
    let mut alg = load("fixed", &options(json!({"scale": 4})), &p.lookup()).unwrap();
    let (x, y) = walk_fixed(alg.as_mut());
    let a = alg.analysis(&x, &y).unwrap().unwrap();
    assert_eq!(a.text.as_deref(), Some("none: 3 points, best 1.0"));
    assert_eq!(json!(a.data), json!({"n": 3, "missing": 1}));
    assert_eq!(a.html, None);
    assert_eq!(
        alg.analysis_tmp(&x, &y).unwrap(),
        None,
        "no get_analysis_tmp"
    );

    // By path too, with the header default.
    let by_path = PluginAlgorithm::start(
        &PluginFile {
            name: "fixed".into(),
            path: path.clone(),
            scope: None,
            language: Language::Python,
        },
        &Map::new(),
        &default_executable(Language::Python),
        p.dir.path(),
    )
    .unwrap();
    assert_eq!(by_path.class_name(), "Fixed");
    let mut by_path: Box<dyn Algorithm> = Box::new(by_path);
    by_path
        .initial_design(&ranges(&[("x", 0.0, 4.0)]), &single())
        .unwrap();
    assert_eq!(by_path.next_design(&x, &y).unwrap()[0]["x"], 0.5);

    // #require is checked, never installed: the check names the package.
    let file = match resolve("fixed", &p.lookup()).unwrap() {
        Resolution::Plugin(f) => f,
        other => panic!("{other:?}"),
    };
    assert_eq!(file.scope, Some(Scope::Project));
    assert_eq!(
        check(&file, &default_executable(Language::Python), p.dir.path()),
        ["required python package 'no_such_package_fz' is not installed"]
    );
}

#[test]
fn class_discovery_follows_upstream_rules() {
    let p = Project::new();
    p.write(
        "algos/several.py",
        r#"
class BaseAlgorithm:
    def get_initial_design(self, i, o): raise NotImplementedError
    def get_next_design(self, X, Y): raise NotImplementedError
    def get_analysis(self, X, Y): raise NotImplementedError

class Zeta(BaseAlgorithm):
    def get_initial_design(self, i, o): return [{"x": 9}]

class Alpha(BaseAlgorithm):
    def __init__(self, **options): self.o = options
    def get_initial_design(self, i, o): return [{"x": float(len(self.o))}]
"#,
    );
    let file = match resolve("algos/several.py", &p.lookup()).unwrap() {
        Resolution::Plugin(f) => f,
        other => panic!("{other:?}"),
    };
    let exe = default_executable(Language::Python);
    let mut alg = PluginAlgorithm::start(
        &file,
        &options(json!({"a": 1, "b": "2"})),
        &exe,
        p.dir.path(),
    )
    .unwrap();
    assert_eq!(
        alg.class_name(),
        "Alpha",
        "first in name order, BaseAlgorithm dropped"
    );
    let d = alg
        .initial_design(&ranges(&[("x", 0.0, 1.0)]), &single())
        .unwrap();
    assert_eq!(d, [point(&[("x", 2.0)])]);
    assert!(check(&file, &exe, p.dir.path()).is_empty());
}

#[test]
fn a_broken_python_plugin_is_one_line_naming_file_and_missing_method() {
    let p = Project::new();
    let path = p.write(
        ".fz/algorithms/broken.py",
        "class Broken:\n    def get_initial_design(self, i, o):\n        return []\n    def get_next_design(self, X, Y):\n        return []\n",
    );
    let e = err_text(load("broken", &Map::new(), &p.lookup()));
    assert_eq!(
        e,
        format!(
            "algorithm {}: No valid algorithm class found (class Broken lacks get_analysis). \
             Algorithm class must have methods: get_initial_design, get_next_design, get_analysis",
            path.display()
        )
    );
    let file = match resolve("broken", &p.lookup()).unwrap() {
        Resolution::Plugin(f) => f,
        other => panic!("{other:?}"),
    };
    let problems = check(&file, &default_executable(Language::Python), p.dir.path());
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].contains("class Broken lacks get_analysis"),
        "{problems:?}"
    );

    let path = p.write(
        ".fz/algorithms/syntax.py",
        "x = 1\ndef broken(:\n    pass\n",
    );
    let e = err_text(load("syntax", &Map::new(), &p.lookup()));
    assert!(
        e.starts_with(&format!(
            "algorithm {}: could not be loaded: SyntaxError: ",
            path.display()
        )),
        "{e}"
    );
    assert!(e.ends_with("(line 2)"), "{e}");
}

#[test]
fn a_plugin_exception_names_file_method_and_line() {
    let p = Project::new();
    let path = p.write(
        ".fz/algorithms/raising.py",
        "class Raising:\n    def get_initial_design(self, i, o):\n        return [{'x': 'abc'}]\n    def get_next_design(self, X, Y):\n        raise ValueError('boom\\nsecond line')\n    def get_analysis(self, X, Y):\n        return ['not', 'a', 'dict']\n",
    );
    let mut alg = load("raising", &Map::new(), &p.lookup()).unwrap();
    let file = path.display();
    assert_eq!(
        err_text(alg.initial_design(&ranges(&[("x", 0.0, 1.0)]), &single())),
        format!("algorithm {file}: get_initial_design() returned \"abc\" for 'x' in point 1, not a number")
    );
    assert_eq!(
        err_text(alg.next_design(&[], &[])),
        format!(
            "algorithm {file}: get_next_design() failed: ValueError: boom second line (line 5)"
        )
    );
    assert_eq!(
        err_text(alg.analysis(&[], &[])),
        format!("algorithm {file}: get_analysis() returned a list, not a dict")
    );
    // Still usable after errors.
    assert!(alg.next_design(&[], &[]).is_err());
}

#[test]
fn numpy_and_other_python_values_become_plain_json() {
    let p = Project::new();
    p.write(
        ".fz/algorithms/values.py",
        r#"
import decimal
try:
    import numpy as np
except ImportError:
    np = None

class Values:
    def get_initial_design(self, i, o):
        if np is not None:
            return [{"x": np.float64(0.5)}, {"x": np.array([0.25, 1.0])[0], "k": np.int64(2)}]
        return [{"x": decimal.Decimal("0.5")}, {"x": 0.25, "k": True + 1}]
    def get_next_design(self, X, Y):
        return None
    def get_analysis(self, X, Y):
        v = np.array([1.0, 2.0]) if np is not None else (1.0, 2.0)
        return {"text": "ok", "data": {"v": v, "nan": float("nan"), "t": (1, 2), "s": {5}, 3: "key"}}
"#,
    );
    if !python_has("numpy") {
        println!("numpy is not installed in the plugin interpreter: numpy values not exercised, plain Python values are");
    }
    let mut alg = load("values", &Map::new(), &p.lookup()).unwrap();
    let d = alg
        .initial_design(&ranges(&[("x", 0.0, 1.0)]), &single())
        .unwrap();
    assert_eq!(d, [point(&[("x", 0.5)]), point(&[("x", 0.25), ("k", 2.0)])]);
    assert_eq!(
        alg.next_design(&d, &[]).unwrap(),
        Vec::<Point>::new(),
        "None ends the design"
    );
    let a = alg.analysis(&d, &[]).unwrap().unwrap();
    assert_eq!(
        json!(a.data),
        json!({"v": [1.0, 2.0], "nan": null, "t": [1, 2], "s": [5], "3": "key"})
    );
}

const FIXED_R: &str = r#"#title: Fixed points in R
#options: scale=2
#require: stats;noSuchPackageFz
Fixed_R <- function(...) {
  opts <- list(...)
  state <- new.env()
  state$calls <- 0
  obj <- list(scale = as.numeric(opts$scale), state = state)
  class(obj) <- "FixedR"
  obj
}
get_initial_design <- function(obj, ...) UseMethod("get_initial_design")
get_next_design <- function(obj, ...) UseMethod("get_next_design")
get_analysis <- function(obj, ...) UseMethod("get_analysis")

get_initial_design.FixedR <- function(obj, input_vars, output_vars) {
  print("noise on stdout")
  system("echo stray output")
  stopifnot(is.numeric(input_vars$x), length(input_vars$x) == 2, output_vars == "out")
  b <- input_vars$x
  lapply(c(0, 0.25, 1), function(f) list(x = b[1] + (b[2] - b[1]) * f))
}
get_next_design.FixedR <- function(obj, X, Y) {
  obj$state$calls <- obj$state$calls + 1
  if (obj$state$calls > 1) return(list())
  ok <- !vapply(Y, is.null, TRUE)
  best <- X[ok][[which.min(unlist(Y[ok]))]]
  list(lapply(best, function(v) v / obj$scale))
}
get_analysis.FixedR <- function(obj, X, Y) {
  list(text = sprintf("%d points, %d missing", length(X), sum(vapply(Y, is.null, TRUE))),
       data = list(n = length(X), range = c(1, 2), nested = list(a = 1L, b = "\u00e9")))
}
"#;

#[test]
fn an_r_plugin_proposes_and_analyses_through_rscript() {
    let p = Project::new();
    p.write(".fz/algorithms/fixed_r.R", FIXED_R);
    let mut alg = load("fixed_r", &options(json!({"scale": 4})), &p.lookup()).unwrap();
    let (x, y) = walk_fixed(alg.as_mut());
    let a = alg.analysis(&x, &y).unwrap().unwrap();
    assert_eq!(a.text.as_deref(), Some("3 points, 1 missing"));
    assert_eq!(
        json!(a.data),
        json!({"n": 3, "range": [1.0, 2.0], "nested": {"a": 1, "b": "é"}})
    );
    assert_eq!(alg.analysis_tmp(&x, &y).unwrap(), None);

    // By path, header default scale=2; and the check names the package.
    let file = match resolve(".fz/algorithms/fixed_r.R", &p.lookup()).unwrap() {
        Resolution::Plugin(f) => f,
        other => panic!("{other:?}"),
    };
    let exe = default_executable(Language::R);
    let mut by_path = PluginAlgorithm::start(&file, &Map::new(), &exe, p.dir.path()).unwrap();
    assert_eq!(by_path.class_name(), "FixedR");
    by_path
        .initial_design(&ranges(&[("x", 0.0, 4.0)]), &single())
        .unwrap();
    assert_eq!(by_path.next_design(&x, &y).unwrap()[0]["x"], 0.5);
    assert_eq!(
        check(&file, &exe, p.dir.path()),
        ["required R package 'noSuchPackageFz' is not installed"]
    );
}

#[test]
fn a_broken_r_plugin_names_file_and_missing_method() {
    let p = Project::new();
    let path = p.write(
        ".fz/algorithms/half.R",
        "Half <- function(...) structure(list(), class = \"Half\")\nget_initial_design.Half <- function(obj, i, o) list()\nget_next_design.Half <- function(obj, X, Y) list()\n",
    );
    assert_eq!(
        err_text(load("half", &Map::new(), &p.lookup())),
        format!(
            "algorithm {}: Error: No valid algorithm: class Half lacks get_analysis. \
             Algorithm must have methods: get_initial_design, get_next_design, get_analysis",
            path.display()
        )
    );
    let path = p.write(".fz/algorithms/bad.R", "f <- function( {\n");
    let e = err_text(load("bad", &Map::new(), &p.lookup()));
    assert!(
        e.starts_with(&format!(
            "algorithm {}: Error: could not be parsed: ",
            path.display()
        )),
        "{e}"
    );
    assert!(!e.contains('\n'), "{e}");
    let file = match resolve("bad", &p.lookup()).unwrap() {
        Resolution::Plugin(f) => f,
        other => panic!("{other:?}"),
    };
    let problems = check(&file, &default_executable(Language::R), p.dir.path());
    assert!(
        problems.len() == 1 && problems[0].contains("could not be parsed"),
        "{problems:?}"
    );
}

#[test]
fn a_missing_interpreter_names_the_file_and_the_variable() {
    let p = Project::new();
    let path = p.write(".fz/algorithms/fixed.py", FIXED_PY);
    let file = match resolve("fixed", &p.lookup()).unwrap() {
        Resolution::Plugin(f) => f,
        other => panic!("{other:?}"),
    };
    let e = err_text(PluginAlgorithm::start(
        &file,
        &Map::new(),
        "/nonexistent/python3",
        p.dir.path(),
    ));
    assert!(
        e.starts_with(&format!(
            "algorithm {}: algorithm plugins in python need '/nonexistent/python3', which could not be started (set FZ_PYTHON",
            path.display()
        )),
        "{e}"
    );
    assert!(!e.contains('\n'));
}

#[test]
fn unknown_names_are_one_line_errors() {
    let p = Project::new();
    let e = err_text(load("nothing_here", &Map::new(), &p.lookup()));
    assert!(e.starts_with("Algorithm file not found: "), "{e}");
    assert!(!e.contains('\n'));
}

/// Where upstream's tree is, beside the repository (`../shared`).
fn upstream_tgz() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tgz = manifest.join("../../../shared/upstream/funz-fz-1.2-tree.tgz");
    tgz.is_file().then_some(tgz)
}

/// Runs `alg` like the design loop would, for at most `max_batches`
/// batches, evaluating `f`; returns every point and objective.
fn drive(
    alg: &mut dyn Algorithm,
    r: &Ranges,
    spec: &ObjectiveSpec,
    f: &dyn Fn(&Point) -> Objective,
    max_batches: usize,
) -> (Vec<Point>, Vec<Objective>) {
    let mut x: Vec<Point> = Vec::new();
    let mut y: Vec<Objective> = Vec::new();
    let mut batch = alg.initial_design(r, spec).unwrap();
    for _ in 0..max_batches {
        if batch.is_empty() {
            break;
        }
        for p in &batch {
            y.push(f(p));
        }
        x.extend(batch);
        batch = alg.next_design(&x, &y).unwrap();
    }
    (x, y)
}

fn within(x: &[Point], r: &Ranges) -> bool {
    x.iter().all(|p| {
        r.iter()
            .all(|(k, (lo, hi))| p.get(k).is_some_and(|v| *v >= *lo && *v <= *hi))
    })
}

#[test]
fn upstream_example_plugins_run_through_the_hosts() {
    let Some(tgz) = upstream_tgz() else {
        println!("../shared/upstream is absent: upstream example plugins not run");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("tar")
        .arg("xzf")
        .arg(&tgz)
        .arg("-C")
        .arg(tmp.path())
        .arg("--wildcards")
        .arg("*examples/algorithms/*")
        .status()
        .unwrap();
    assert!(status.success(), "tar failed on {}", tgz.display());
    let dir = find_dir(tmp.path(), "algorithms").expect("examples/algorithms in the tree");
    let lookup = Lookup {
        cwd: tmp.path().to_path_buf(),
        home: None,
    };
    let load_file = |name: &str, opts: serde_json::Value| {
        load(
            &dir.join(name).display().to_string(),
            &options(opts),
            &lookup,
        )
        .unwrap()
    };
    let one = ranges(&[("x", 0.0, 1.0)]);
    let two = ranges(&[("x", -2.0, 2.0), ("y", -1.0, 3.0)]);
    let parabola = |p: &Point| Objective::Single((p["x"] - 0.3).powi(2) + 1.0);
    let bowl = |p: &Point| Objective::Single((p["x"] - 1.0).powi(2) + (p["y"] - 1.0).powi(2));

    let mut rs = load_file("randomsampling.py", json!({"nvalues": 7}));
    let (x, y) = drive(rs.as_mut(), &two, &single(), &bowl, 5);
    assert_eq!(x.len(), 7, "nvalues from the user over the header's 10");
    assert!(within(&x, &two));
    assert!(rs
        .analysis(&x, &y)
        .unwrap()
        .is_some_and(|a| a.text.is_some()));

    let mut brent = load_file("brent.py", json!({}));
    let (x, y) = drive(brent.as_mut(), &one, &single(), &parabola, 60);
    assert!(within(&x, &one), "brent.py out of [0;1]: {x:?}");
    let best = y
        .iter()
        .filter_map(Objective::first)
        .fold(f64::INFINITY, f64::min);
    assert!(best < 1.0 + 1e-3, "brent.py best {best}");
    assert!(brent.analysis(&x, &y).unwrap().is_some());

    let mut bfgs = load_file("bfgs.py", json!({}));
    let (x, y) = drive(bfgs.as_mut(), &two, &single(), &bowl, 40);
    assert!(within(&x, &two), "bfgs.py out of bounds: {x:?}");
    assert!(bfgs.analysis(&x, &y).unwrap().is_some());

    let multi = ObjectiveSpec {
        expressions: vec!["f1".into(), "f2".into()],
        multi: true,
    };
    let zdt = |p: &Point| {
        Objective::Multi(vec![
            p["x"].powi(2),
            (p["x"] - 1.0).powi(2) + p["y"].powi(2),
        ])
    };
    let mut nsga2 = load_file("nsga2.py", json!({"pop_size": 8, "generations": 3}));
    let (x, y) = drive(nsga2.as_mut(), &two, &multi, &zdt, 10);
    assert!(
        x.len() >= 8 && within(&x, &two),
        "nsga2.py: {} points",
        x.len()
    );
    assert!(nsga2.analysis(&x, &y).unwrap().is_some());

    let mut mc_r = load_file(
        "montecarlo_uniform.R",
        json!({"batch_sample_size": 5, "max_iterations": 3}),
    );
    let (x, y) = drive(mc_r.as_mut(), &two, &single(), &bowl, 10);
    assert!(
        x.len() >= 5 && x.len() <= 15 && within(&x, &two),
        "montecarlo_uniform.R: {x:?}"
    );
    let a = mc_r.analysis(&x, &y).unwrap().unwrap();
    assert!(a.text.is_some_and(|t| t.contains("Monte Carlo")) && a.data.contains_key("mean"));
    assert!(
        mc_r.analysis_tmp(&x, &y).unwrap().is_some(),
        "the R example has get_analysis_tmp"
    );

    if python_has("numpy, scipy") {
        let mut mc = load_file(
            "montecarlo_uniform.py",
            json!({"batch_sample_size": 5, "max_iterations": 3}),
        );
        let (x, y) = drive(mc.as_mut(), &two, &single(), &bowl, 10);
        assert!(
            x.len() >= 5 && within(&x, &two),
            "montecarlo_uniform.py: {x:?}"
        );
        assert!(mc.analysis(&x, &y).unwrap().is_some());
    } else {
        println!(
            "numpy/scipy not installed in the plugin interpreter: montecarlo_uniform.py not run"
        );
    }
}

fn find_dir(root: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(root).ok()?.flatten() {
        let p = entry.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == name)
                && p.parent().is_some_and(|d| d.ends_with("examples"))
            {
                return Some(p);
            }
            if let Some(found) = find_dir(&p, name) {
                return Some(found);
            }
        }
    }
    None
}

/// Doubles of every magnitude, from a fixed xorshift stream.
fn awkward_doubles(n: usize) -> Vec<f64> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = vec![0.1 + 0.2, 5e-324, f64::MAX, -1.0 / 3.0];
    while out.len() < n {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mantissa = (state >> 11) as f64 / (1u64 << 53) as f64;
        let exponent = (state % 601) as i32 - 300;
        out.push(mantissa * 10f64.powi(exponent));
    }
    out
}

#[test]
fn points_travel_bit_for_bit_both_ways_in_both_languages() {
    let p = Project::new();
    p.write(
        ".fz/algorithms/echo.py",
        "class Echo:\n    def get_initial_design(self, i, o):\n        return []\n    def get_next_design(self, X, Y):\n        return X\n    def get_analysis(self, X, Y):\n        return {}\n",
    );
    p.write(
        ".fz/algorithms/echo_r.R",
        "Echo_R <- function(...) structure(list(), class = \"EchoR\")\nget_initial_design.EchoR <- function(obj, i, o) list()\nget_next_design.EchoR <- function(obj, X, Y) X\nget_analysis.EchoR <- function(obj, X, Y) list()\n",
    );
    let values = awkward_doubles(3000);
    let x: Vec<Point> = values
        .chunks(3)
        .map(|c| point(&[("a", c[0]), ("b", c[1]), ("c", c[2])]))
        .collect();
    let y = vec![Objective::Missing; x.len()];
    for name in ["echo", "echo_r"] {
        let mut alg = load(name, &Map::new(), &p.lookup()).unwrap();
        let back = alg.next_design(&x, &y).unwrap();
        assert_eq!(back.len(), x.len(), "{name}");
        for (sent, got) in x.iter().zip(&back) {
            for (k, v) in sent {
                assert_eq!(
                    v.to_bits(),
                    got[k].to_bits(),
                    "{name}: {k} = {v:e} came back as {:e}",
                    got[k]
                );
            }
        }
    }
}

/// Whether process `pid` is alive (not gone, not a zombie).
#[cfg(target_os = "linux")]
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit(')').next().map(|r| r.trim_start().to_string()))
        .is_some_and(|r| !r.starts_with('Z') && !r.starts_with('X'))
}

#[cfg(target_os = "linux")]
#[test]
fn what_a_plugin_started_dies_with_its_host() {
    let p = Project::new();
    p.write(
        ".fz/algorithms/spawner.py",
        "import subprocess\nclass Spawner:\n    def get_initial_design(self, i, o):\n        child = subprocess.Popen(['sleep', '300'])\n        return [{'pid': child.pid}]\n    def get_next_design(self, X, Y):\n        return []\n    def get_analysis(self, X, Y):\n        return {}\n",
    );
    let mut alg = load("spawner", &Map::new(), &p.lookup()).unwrap();
    let d = alg
        .initial_design(&ranges(&[("x", 0.0, 1.0)]), &single())
        .unwrap();
    let pid = d[0]["pid"] as u32;
    assert!(
        alive(pid),
        "the plugin's child runs while the algorithm is in use"
    );
    drop(alg);
    let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while alive(pid) && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!alive(pid), "sleep {pid} outlived the plugin host");
}
