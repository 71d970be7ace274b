//! `brent`: Brent's method for a 1-D minimum (golden-section steps with
//! parabolic interpolation when it is trustworthy), one point per
//! iteration. Owns the search state between the loop's calls; evaluation
//! and files belong to the loop.

use super::common::{need_ranges, optimizer_analysis, positive_f64, require_objective};
use super::common::{usize_at_least, Ending};
use crate::algorithms::{Algorithm, Analysis, Objective, ObjectiveSpec, Options, Point, Ranges};
use crate::error::{Error, Result};

/// Option names and defaults.
pub(crate) const OPTIONS: &[(&str, &str, &str)] = &[
    (
        "max_iter",
        "50",
        "cap on iterations (one evaluation each; a scan counts as one)",
    ),
    ("tol", "0.00001", "tolerance on x (plus √ε·|x|)"),
    (
        "initial_points",
        "1",
        "1: start at the golden point of the range; n>1: first scan n equally spaced points (bounds included) and search around the best",
    ),
];

/// (3 − √5)/2: the golden-section fraction.
const GOLDEN: f64 = 0.381_966_011_250_105_1;
/// √ε: the relative precision reachable on x.
const SQRT_EPS: f64 = 1.490_116_119_384_765_6e-8;

/// The bracket and the three best points of Brent's method.
#[derive(Debug, Clone)]
struct Search {
    a: f64,
    b: f64,
    x: f64,
    fx: f64,
    w: f64,
    fw: f64,
    v: f64,
    fv: f64,
    d: f64,
    e: f64,
}

/// Brent's 1-D minimiser.
pub(crate) struct Brent {
    max_iter: usize,
    tol: f64,
    initial_points: usize,
    name: String,
    range: (f64, f64),
    search: Option<Search>,
    pending: Vec<f64>,
    iterations: usize,
    ending: Ending,
}

impl Brent {
    /// From the user's options.
    pub(crate) fn new(options: &Options) -> Result<Self> {
        Ok(Brent {
            max_iter: usize_at_least(options, "max_iter", 50, 1)?,
            tol: positive_f64(options, "tol", 1e-5)?,
            initial_points: usize_at_least(options, "initial_points", 1, 1)?,
            name: String::new(),
            range: (0.0, 1.0),
            search: None,
            pending: Vec::new(),
            iterations: 0,
            ending: Ending::Running,
        })
    }

    fn point(&self, v: f64) -> Point {
        [(self.name.clone(), v)].into_iter().collect()
    }

    /// The objective of the proposed `u` (+∞ when missing: a failure is
    /// worse than any value, so the bracket shrinks away from it).
    fn value_of(&self, u: f64, x: &[Point], y: &[Objective]) -> Result<f64> {
        let o = require_objective("brent", &self.point(u), x, y)?;
        Ok(super::common::finite_value(o).unwrap_or(f64::INFINITY))
    }

    /// The search from the first batch: the whole range around its golden
    /// point, or the neighbours of the best scanned point.
    fn start(&self, values: &[f64]) -> Search {
        let (lo, hi) = self.range;
        let pts = &self.pending;
        let i = (0..values.len()).fold(0, |b, i| if values[i] < values[b] { i } else { b });
        let (a, b) = if pts.len() == 1 {
            (lo, hi)
        } else {
            (pts[i.saturating_sub(1)], pts[(i + 1).min(pts.len() - 1)])
        };
        let (x, fx) = (pts[i], values[i]);
        Search {
            a,
            b,
            x,
            fx,
            w: x,
            fw: fx,
            v: x,
            fv: fx,
            d: 0.0,
            e: 0.0,
        }
    }
}

impl Search {
    /// The half-width allowed around x.
    fn tol1(&self, tol: f64) -> f64 {
        SQRT_EPS * self.x.abs() + tol / 3.0
    }

    /// Whether the bracket around x is within 2·tol1 on both sides.
    fn converged(&self, tol: f64) -> bool {
        let m = 0.5 * (self.a + self.b);
        (self.x - m).abs() <= 2.0 * self.tol1(tol) - 0.5 * (self.b - self.a)
    }

    /// The next point: the parabola's minimum when it falls well inside the
    /// bracket and shrinks the step, else a golden-section step.
    fn propose(&mut self, tol: f64) -> f64 {
        let (tol1, m) = (self.tol1(tol), 0.5 * (self.a + self.b));
        let tol2 = 2.0 * tol1;
        let mut parabolic = false;
        if self.e.abs() > tol1 {
            let r = (self.x - self.w) * (self.fx - self.fv);
            let q = (self.x - self.v) * (self.fx - self.fw);
            let mut p = (self.x - self.v) * q - (self.x - self.w) * r;
            let mut q = 2.0 * (q - r);
            if q > 0.0 {
                p = -p;
            } else {
                q = -q;
            }
            let previous = self.e;
            self.e = self.d;
            if p.abs() < (0.5 * q * previous).abs()
                && p > q * (self.a - self.x)
                && p < q * (self.b - self.x)
            {
                self.d = p / q;
                let u = self.x + self.d;
                if u - self.a < tol2 || self.b - u < tol2 {
                    self.d = if self.x < m { tol1 } else { -tol1 };
                }
                parabolic = true;
            }
        }
        if !parabolic {
            self.e = if self.x >= m {
                self.a - self.x
            } else {
                self.b - self.x
            };
            self.d = GOLDEN * self.e;
        }
        if self.d.abs() >= tol1 {
            self.x + self.d
        } else {
            self.x + tol1.copysign(self.d)
        }
    }

    /// Takes in f(u): shrinks the bracket and renews x, w, v.
    fn update(&mut self, u: f64, fu: f64) {
        if fu <= self.fx {
            if u < self.x {
                self.b = self.x;
            } else {
                self.a = self.x;
            }
            (self.v, self.fv, self.w, self.fw) = (self.w, self.fw, self.x, self.fx);
            (self.x, self.fx) = (u, fu);
            return;
        }
        if u < self.x {
            self.a = u;
        } else {
            self.b = u;
        }
        if fu <= self.fw || self.w == self.x {
            (self.v, self.fv, self.w, self.fw) = (self.w, self.fw, u, fu);
        } else if fu <= self.fv || self.v == self.x || self.v == self.w {
            (self.v, self.fv) = (u, fu);
        }
    }
}

impl Algorithm for Brent {
    fn initial_design(&mut self, ranges: &Ranges, _: &ObjectiveSpec) -> Result<Vec<Point>> {
        need_ranges("brent", ranges)?;
        if ranges.len() != 1 {
            let names: Vec<String> = ranges.keys().map(|k| format!("'{k}'")).collect();
            return Err(Error::Value(format!(
                "Brent's method only works for 1D optimization. Got {} variables: [{}]",
                ranges.len(),
                names.join(", ")
            )));
        }
        let (name, &(lo, hi)) = ranges.iter().next().ok_or_else(|| {
            Error::Value("algorithm 'brent' needs one variable given as a range".into())
        })?;
        self.name = name.clone();
        self.range = (lo, hi);
        self.search = None;
        self.iterations = 1;
        self.ending = Ending::Running;
        let n = self.initial_points;
        self.pending = if n == 1 {
            vec![lo + GOLDEN * (hi - lo)]
        } else {
            (0..n)
                .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
                .collect()
        };
        Ok(self.pending.iter().map(|v| self.point(*v)).collect())
    }

    fn next_design(&mut self, x: &[Point], y: &[Objective]) -> Result<Vec<Point>> {
        if self.ending != Ending::Running {
            return Ok(Vec::new());
        }
        let values = self
            .pending
            .iter()
            .map(|u| self.value_of(*u, x, y))
            .collect::<Result<Vec<f64>>>()?;
        let mut search = match self.search.take() {
            None => self.start(&values),
            Some(mut s) => {
                s.update(self.pending[0], values[0]);
                s
            }
        };
        let next = if search.converged(self.tol) {
            self.ending = Ending::Converged;
            None
        } else if self.iterations >= self.max_iter {
            self.ending = Ending::MaxIterations;
            None
        } else {
            Some(search.propose(self.tol))
        };
        self.search = Some(search);
        self.pending = next.into_iter().collect();
        self.iterations += self.pending.len();
        Ok(self.pending.iter().map(|v| self.point(*v)).collect())
    }

    fn analysis(&mut self, x: &[Point], y: &[Objective]) -> Result<Option<Analysis>> {
        Ok(Some(optimizer_analysis(
            "Brent Optimization Results:",
            self.iterations,
            self.ending,
            x,
            y,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{drive, opts, ranges, within};
    use super::*;

    fn alg(json: serde_json::Value) -> Brent {
        Brent::new(&opts("brent", json)).expect("valid options")
    }

    fn parabola(p: &Point) -> Objective {
        Objective::Single((p["x"] - 0.3).powi(2) + 1.0)
    }

    fn argmin(run: &super::super::testing::Run) -> f64 {
        super::super::common::best(&run.x, &run.y).expect("valid").0["x"]
    }

    #[test]
    fn converges_on_the_parabola_in_few_evaluations() {
        let r = ranges(&[("x", 0.0, 1.0)]);
        let mut b = alg(serde_json::json!({}));
        let run = drive(&mut b, &r, &parabola, 60);
        assert!((argmin(&run) - 0.3).abs() < 1e-5, "{}", argmin(&run));
        eprintln!("brent tol=1e-5: {} evaluations", run.x.len());
        assert!(within(&run.x, &r));
        // One point per iteration; upstream's bisection needs ~20 for 1e-5.
        assert_eq!(run.x.len(), run.batches);
        assert!(run.x.len() <= 8, "{} evaluations", run.x.len());
        let a = b.analysis(&run.x, &run.y).expect("ok").expect("some");
        assert_eq!(a.data["converged"], true);
        assert!(a.text.expect("text").contains("  Convergence: Yes\n"));
    }

    #[test]
    fn tighter_tolerance_costs_few_more_evaluations() {
        let r = ranges(&[("x", 0.0, 1.0)]);
        let run = drive(
            &mut alg(serde_json::json!({"tol": 1e-6})),
            &r,
            &parabola,
            60,
        );
        assert!((argmin(&run) - 0.3).abs() < 1e-6);
        eprintln!("brent tol=1e-6: {} evaluations", run.x.len());
        assert!(run.x.len() <= 10, "{} evaluations", run.x.len());
    }

    #[test]
    fn non_quadratic_and_failures_still_converge() {
        // |x−0.7|^1.5 + failures beyond 0.9: golden steps carry the search.
        let f = |p: &Point| {
            let x = p["x"];
            if x > 0.9 {
                Objective::Missing
            } else {
                Objective::Single((x - 0.7).abs().powf(1.5))
            }
        };
        let r = ranges(&[("x", -2.0, 3.0)]);
        let run = drive(&mut alg(serde_json::json!({"max_iter": 200})), &r, &f, 200);
        assert!((argmin(&run) - 0.7).abs() < 1e-5, "{}", argmin(&run));
        assert!(run.x.len() < 60, "{}", run.x.len());
    }

    #[test]
    fn initial_scan_then_brent_inside_the_best_bracket() {
        let r = ranges(&[("x", 0.0, 1.0)]);
        let run = drive(
            &mut alg(serde_json::json!({"initial_points": 5})),
            &r,
            &parabola,
            60,
        );
        let scan: Vec<f64> = run.x[..5].iter().map(|p| p["x"]).collect();
        assert_eq!(scan, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert!((argmin(&run) - 0.3).abs() < 1e-5);
        // After the scan everything stays within [0; 0.5].
        assert!(run.x[5..].iter().all(|p| p["x"] <= 0.5));
    }

    #[test]
    fn max_iter_stops_without_claiming_convergence() {
        let r = ranges(&[("x", 0.0, 1.0)]);
        let mut b = alg(serde_json::json!({"max_iter": 4}));
        let run = drive(&mut b, &r, &parabola, 10);
        assert_eq!((run.batches, run.x.len()), (4, 4));
        let a = b.analysis(&run.x, &run.y).expect("ok").expect("some");
        assert_eq!(a.data["converged"], false);
        assert_eq!(a.data["iterations"], 4);
        let text = a.text.expect("text");
        assert!(text.starts_with("Brent Optimization Results:\n  Iterations: 4\n"));
        assert!(text.contains("  Function evaluations: 4\n"));
        assert!(text.contains("  Convergence: No (max iterations)\n"));
    }

    #[test]
    fn more_than_one_variable_is_refused_with_upstreams_message() {
        let r = ranges(&[("x", 0.0, 1.0), ("y", 0.0, 1.0)]);
        let spec = ObjectiveSpec {
            expressions: vec!["out".into()],
            multi: false,
        };
        let e = alg(serde_json::json!({})).initial_design(&r, &spec).err();
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some("Brent's method only works for 1D optimization. Got 2 variables: ['x', 'y']")
        );
    }
}
