//! The loop with a scripted algorithm and an in-process evaluator.

use super::*;
use crate::algorithms::{Analysis, Ranges};

/// Proposes the given batches in turn and records what it was given.
struct Scripted {
    batches: Vec<Vec<Vec<(&'static str, f64)>>>,
    seen_y: Vec<Vec<Objective>>,
}

fn point(pairs: &[(&str, f64)]) -> Point {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

impl Algorithm for Scripted {
    fn initial_design(&mut self, _r: &Ranges, _o: &ObjectiveSpec) -> Result<Vec<Point>> {
        Ok(self.next())
    }
    fn next_design(&mut self, _x: &[Point], y: &[Objective]) -> Result<Vec<Point>> {
        self.seen_y.push(y.to_vec());
        Ok(self.next())
    }
    fn analysis(&mut self, x: &[Point], _y: &[Objective]) -> Result<Option<Analysis>> {
        Ok(Some(Analysis {
            text: Some(format!("n={}\nlast=ok", x.len())),
            ..Analysis::default()
        }))
    }
}

impl Scripted {
    fn next(&mut self) -> Vec<Point> {
        if self.batches.is_empty() {
            return Vec::new();
        }
        self.batches.remove(0).iter().map(|b| point(b)).collect()
    }
}

/// output = (x - 0.3)², NaN for x = 0.9, an error for x = 1.
struct Function {
    calls: Vec<Point>,
}

impl Evaluator for Function {
    fn evaluate(&mut self, _dir: &Path, points: &[Point]) -> Result<Vec<Row>> {
        Ok(points
            .iter()
            .map(|p| {
                self.calls.push(p.clone());
                let x = p["x"];
                let mut row: Row = p
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::Float(*v)))
                    .collect();
                if x == 1.0 {
                    row.insert("status".into(), Value::Str("failed".into()));
                    row.insert("error".into(), Value::Str("boom".into()));
                } else {
                    let out = if x == 0.9 {
                        f64::NAN
                    } else {
                        (x - 0.3).powi(2)
                    };
                    row.insert("output".into(), Value::Float(out));
                    row.insert("status".into(), Value::Str("done".into()));
                }
                row
            })
            .collect())
    }
    fn writes_cases(&self) -> bool {
        false
    }
}

fn variables() -> Variables {
    let mut v = Variables::default();
    v.ranges.insert("x".into(), (0.0, 1.0));
    v.fixed.insert("z".into(), 5.0);
    v
}

#[test]
fn duplicates_run_once_and_every_point_gets_its_objective() {
    let d = tempfile::tempdir().unwrap();
    let mut algo = Scripted {
        batches: vec![
            vec![vec![("x", 0.5)], vec![("x", 0.5)], vec![("x", 1.0)]],
            vec![vec![("x", 0.9)], vec![("x", 0.3)]],
        ],
        seen_y: Vec::new(),
    };
    let mut f = Function { calls: Vec::new() };
    let options = DesignOptions {
        analysis_dir: d.path().to_path_buf(),
        algorithm: "scripted".into(),
        objectives: None,
        cancel: None,
        report: None,
    };
    let report = fzd(&variables(), &mut algo, &mut f, &options).unwrap();
    assert_eq!(
        f.calls.len(),
        4,
        "the duplicate 0.5 ran once: {:?}",
        f.calls
    );
    assert_eq!(f.calls[0]["z"], 5.0, "fixed values merged");
    assert_eq!(report.iterations, 2);
    assert_eq!(report.total_evaluations, 5);
    let y = &algo.seen_y[0];
    assert!(matches!(y[0], Objective::Single(v) if (v - 0.04).abs() < 1e-12));
    assert_eq!(y[0], y[1]);
    assert_eq!(y[2], Objective::Missing, "failed point");
    assert_eq!(
        report.summary,
        "scripted completed: 2 iterations, 5 evaluations (3 valid)"
    );
    assert_eq!(report.xy.columns, ["x", "z", "output"]);
    assert_eq!(report.xy.rows[3][2], Value::Null, "NaN is missing");
    assert_eq!(report.xy.rows[4][2], Value::Float(0.0));
    for name in [
        "X_1.csv",
        "Y_2.csv",
        "results_2.html",
        "iter001/values.csv",
        "analysis_2.txt",
    ] {
        assert!(d.path().join(name).is_file(), "{name}");
    }
    let y2 = std::fs::read_to_string(d.path().join("Y_2.csv")).unwrap();
    assert_eq!(
        y2,
        "output\n0.04000000000000001\n0.04000000000000001\nNA\nNA\n0.0\n"
    );
    assert_eq!(report.analysis["keyvalue_data"]["n"], "5");
}

#[test]
fn an_interrupt_stops_after_the_iteration_and_writes_its_files() {
    let d = tempfile::tempdir().unwrap();
    let cancel = Cancel::new();
    let mut algo = Scripted {
        batches: vec![vec![vec![("x", 0.1)]], vec![vec![("x", 0.2)]]],
        seen_y: Vec::new(),
    };
    struct Stopping(Cancel);
    impl Evaluator for Stopping {
        fn evaluate(&mut self, _d: &Path, points: &[Point]) -> Result<Vec<Row>> {
            self.0.stop_new();
            Ok(points
                .iter()
                .map(|_| {
                    [("output".to_string(), Value::Float(1.0))]
                        .into_iter()
                        .collect()
                })
                .collect())
        }
        fn writes_cases(&self) -> bool {
            false
        }
    }
    let options = DesignOptions {
        analysis_dir: d.path().to_path_buf(),
        algorithm: "scripted".into(),
        objectives: None,
        cancel: Some(cancel.clone()),
        report: Some(d.path().join("report.html")),
    };
    let report = fzd(&variables(), &mut algo, &mut Stopping(cancel), &options).unwrap();
    assert!(report.interrupted);
    let page = std::fs::read_to_string(d.path().join("report.html")).unwrap();
    assert!(
        page.contains("Interrupted after 1 iteration(s)") && !page.contains("refresh"),
        "the design page says the design was interrupted and stops reloading: {page}"
    );
    assert_eq!(report.iterations, 1);
    assert!(algo.seen_y.is_empty(), "no next design after the interrupt");
    assert!(d.path().join("X_1.csv").is_file());
}

#[test]
fn dedupe_keeps_first_occurrences() {
    let a = point(&[("x", 1.0), ("y", 2.0)]);
    let b = point(&[("y", 2.0), ("x", 1.0)]);
    let c = point(&[("x", -0.0), ("y", 2.0)]);
    let e = point(&[("x", 0.0), ("y", 2.0)]);
    let (unique, of) = dedupe(&[a, b, c, e]);
    assert_eq!(unique.len(), 2);
    assert_eq!(of, [0, 0, 1, 1]);
}
