//! `bfgs`: bounded quasi-Newton minimisation (BFGS on the inverse Hessian,
//! with projection onto the box and an active set for the variables held
//! at a bound). Gradients are forward differences proposed as one batch;
//! the line search proposes several step lengths as one batch, so the loop
//! evaluates both in parallel. Owns the optimiser state only.

use super::common::{bad_option, finite_value, usize_at_least, Ending};
use super::common::{need_ranges, optimizer_analysis, positive_f64, require_objective};
use crate::algorithms::{Algorithm, Analysis, Objective, ObjectiveSpec, Options, Point, Ranges};
use crate::error::Result;

/// Option names and defaults.
pub(crate) const OPTIONS: &[(&str, &str, &str)] = &[
    ("max_iter", "100", "cap on quasi-Newton iterations (accepted steps)"),
    (
        "tol",
        "0.000001",
        "stop when the quasi-Newton step, or every projected gradient component, times its range is ≤ tol (gradient: ≤ tol·max(1, |f|))",
    ),
    (
        "fd_step",
        "1e-8",
        "forward-difference step as a fraction of each range, at most 0.5 (raise it when outputs have few digits)",
    ),
    (
        "ls_points",
        "4",
        "step lengths tried per line-search batch (1, 1/2, 1/4, …)",
    ),
];

/// Sufficient-decrease constant of the Armijo condition.
const ARMIJO: f64 = 1e-4;

/// What the pending batch is for.
#[derive(Debug, Clone)]
enum Phase {
    /// The start point and its difference points.
    Start,
    /// The difference points around the current point.
    Gradient,
    /// Candidate points along `dir`, step lengths from `alpha` down.
    LineSearch { dir: Vec<f64>, alpha: f64 },
    /// Finished.
    Done,
}

/// Bounded BFGS with finite-difference gradients.
pub(crate) struct Bfgs {
    max_iter: usize,
    tol: f64,
    fd_step: f64,
    ls_points: usize,
    names: Vec<String>,
    lo: Vec<f64>,
    hi: Vec<f64>,
    x: Vec<f64>,
    fx: f64,
    g: Vec<f64>,
    /// Inverse Hessian approximation (None until the first update).
    h: Option<Vec<Vec<f64>>>,
    /// Step and gradient before the last accepted step, for the update.
    previous: Option<(Vec<f64>, Vec<f64>)>,
    phase: Phase,
    pending: Vec<Vec<f64>>,
    iterations: usize,
    ending: Ending,
}

/// The `fd_step` option: positive, and at most half a range so that a
/// difference point stays in the box from either bound.
fn fd_step(options: &Options) -> Result<f64> {
    let v = positive_f64(options, "fd_step", 1e-8)?;
    if v > 0.5 {
        return Err(bad_option(
            options,
            "fd_step",
            "at most 0.5",
            &v.to_string(),
        ));
    }
    Ok(v)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Bfgs {
    /// From the user's options.
    pub(crate) fn new(options: &Options) -> Result<Self> {
        Ok(Bfgs {
            max_iter: usize_at_least(options, "max_iter", 100, 1)?,
            tol: positive_f64(options, "tol", 1e-6)?,
            fd_step: fd_step(options)?,
            ls_points: usize_at_least(options, "ls_points", 4, 1)?,
            names: Vec::new(),
            lo: Vec::new(),
            hi: Vec::new(),
            x: Vec::new(),
            fx: f64::INFINITY,
            g: Vec::new(),
            h: None,
            previous: None,
            phase: Phase::Done,
            pending: Vec::new(),
            iterations: 0,
            ending: Ending::Running,
        })
    }

    fn point(&self, v: &[f64]) -> Point {
        self.names.iter().cloned().zip(v.iter().copied()).collect()
    }

    /// The pending points' values (+∞ for failures).
    fn pending_values(&self, x: &[Point], y: &[Objective]) -> Result<Vec<f64>> {
        self.pending
            .iter()
            .map(|p| {
                let o = require_objective("bfgs", &self.point(p), x, y)?;
                Ok(finite_value(o).unwrap_or(f64::INFINITY))
            })
            .collect()
    }

    /// The forward-difference points around x: one per variable, stepping
    /// inward when a step would leave the box.
    fn difference_points(&self) -> Vec<Vec<f64>> {
        (0..self.x.len())
            .map(|i| {
                let h = self.fd_step * (self.hi[i] - self.lo[i]);
                let mut p = self.x.clone();
                p[i] = if p[i] + h <= self.hi[i] {
                    p[i] + h
                } else {
                    p[i] - h
                };
                p
            })
            .collect()
    }

    /// The gradient from f at the difference points (None if one failed).
    fn gradient(&self, fd_values: &[f64]) -> Option<Vec<f64>> {
        let points = self.difference_points();
        (0..self.x.len())
            .map(|i| {
                let step = points[i][i] - self.x[i];
                let df = fd_values[i] - self.fx;
                df.is_finite().then_some(df / step)
            })
            .collect()
    }

    /// The gradient with the components that push out of the box at a
    /// bound set to zero.
    fn projected_gradient(&self) -> Vec<f64> {
        (0..self.x.len())
            .map(|i| {
                let g = self.g[i];
                let outward =
                    (self.x[i] <= self.lo[i] && g > 0.0) || (self.x[i] >= self.hi[i] && g < 0.0);
                if outward {
                    0.0
                } else {
                    g
                }
            })
            .collect()
    }

    /// The search direction −H·g over the free variables.
    fn direction(&mut self, pg: &[f64]) -> Vec<f64> {
        let d = self.x.len();
        // Before any curvature is known: a first step of 10% of the
        // narrowest range along the steepest descent.
        let gmax = pg.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let width = (0..d)
            .map(|i| self.hi[i] - self.lo[i])
            .fold(f64::INFINITY, f64::min);
        let h = self
            .h
            .get_or_insert_with(|| identity(d, 0.1 * width / gmax.max(f64::MIN_POSITIVE)));
        let free: Vec<bool> = pg.iter().map(|v| *v != 0.0).collect();
        (0..d)
            .map(|i| {
                if !free[i] {
                    return 0.0;
                }
                -(0..d)
                    .filter(|j| free[*j])
                    .map(|j| h[i][j] * pg[j])
                    .sum::<f64>()
            })
            .collect()
    }

    /// The BFGS update of H with the last step, when the curvature is
    /// positive (skipped otherwise, keeping H positive definite).
    fn update(&mut self, new_g: &[f64]) {
        let Some((x_old, g_old)) = self.previous.take() else {
            return;
        };
        let s: Vec<f64> = self.x.iter().zip(&x_old).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = new_g.iter().zip(&g_old).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        let floor = 1e-12 * dot(&s, &s).sqrt() * dot(&y, &y).sqrt();
        if sy.is_nan() || sy <= floor {
            return;
        }
        let d = s.len();
        let h = self.h.get_or_insert_with(|| identity(d, 1.0));
        if self.iterations == 1 {
            // First update: rescale the guess to the measured curvature.
            *h = identity(d, sy / dot(&y, &y));
        }
        let hy: Vec<f64> = (0..d).map(|i| dot(&h[i], &y)).collect();
        let rho = 1.0 / sy;
        let coef = rho * rho * dot(&y, &hy) + rho;
        for i in 0..d {
            for j in 0..d {
                h[i][j] += coef * s[i] * s[j] - rho * (hy[i] * s[j] + s[i] * hy[j]);
            }
        }
    }

    /// From a point with known f and gradient: stop when converged, else
    /// propose the first line-search batch.
    fn begin_iteration(&mut self) -> Vec<Vec<f64>> {
        let pg = self.projected_gradient();
        let scaled = (0..pg.len())
            .map(|i| pg[i].abs() * (self.hi[i] - self.lo[i]))
            .fold(0.0, f64::max);
        if scaled <= self.tol * self.fx.abs().max(1.0) {
            return self.finish(Ending::Converged);
        }
        let mut dir = self.direction(&pg);
        if dot(&dir, &pg) >= 0.0 {
            // Not a descent direction (H drifted): restart from steepest descent.
            self.h = None;
            dir = self.direction(&pg);
        }
        // The quasi-Newton step estimates the distance to the minimum.
        let step = (0..dir.len())
            .map(|i| dir[i].abs() / (self.hi[i] - self.lo[i]))
            .fold(0.0, f64::max);
        if step <= self.tol {
            return self.finish(Ending::Converged);
        }
        self.line_search(dir, 1.0)
    }

    /// A batch of `ls_points` candidates along `dir`, halving from `alpha`.
    fn line_search(&mut self, dir: Vec<f64>, alpha: f64) -> Vec<Vec<f64>> {
        let mut batch: Vec<Vec<f64>> = Vec::new();
        let mut a = alpha;
        for _ in 0..self.ls_points {
            let c = self.project(&dir, a);
            if c != self.x && !batch.contains(&c) {
                batch.push(c);
            }
            a *= 0.5;
        }
        if batch.is_empty() {
            return self.finish(Ending::Stalled("no decrease along the search direction"));
        }
        self.phase = Phase::LineSearch { dir, alpha: a };
        batch
    }

    /// x + alpha·dir, clipped to the box.
    fn project(&self, dir: &[f64], alpha: f64) -> Vec<f64> {
        (0..self.x.len())
            .map(|i| (self.x[i] + alpha * dir[i]).clamp(self.lo[i], self.hi[i]))
            .collect()
    }

    /// Takes in the line-search values: the best candidate with sufficient
    /// decrease becomes x (then its gradient is proposed), else smaller steps.
    fn after_line_search(&mut self, dir: Vec<f64>, alpha: f64, values: &[f64]) -> Vec<Vec<f64>> {
        let accepted = self
            .pending
            .iter()
            .zip(values)
            .filter(|(c, f)| {
                let moved: Vec<f64> = c.iter().zip(&self.x).map(|(a, b)| a - b).collect();
                **f < self.fx && **f <= self.fx + ARMIJO * dot(&self.g, &moved)
            })
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map(|(c, f)| (c.clone(), *f));
        let Some((c, f)) = accepted else {
            return self.line_search(dir, alpha);
        };
        self.previous = Some((std::mem::replace(&mut self.x, c), self.g.clone()));
        self.fx = f;
        self.iterations += 1;
        if self.iterations >= self.max_iter {
            return self.finish(Ending::MaxIterations);
        }
        self.phase = Phase::Gradient;
        self.difference_points()
    }

    fn finish(&mut self, ending: Ending) -> Vec<Vec<f64>> {
        self.ending = ending;
        self.phase = Phase::Done;
        Vec::new()
    }
}

fn identity(d: usize, scale: f64) -> Vec<Vec<f64>> {
    (0..d)
        .map(|i| (0..d).map(|j| if i == j { scale } else { 0.0 }).collect())
        .collect()
}

impl Algorithm for Bfgs {
    fn initial_design(&mut self, ranges: &Ranges, _: &ObjectiveSpec) -> Result<Vec<Point>> {
        need_ranges("bfgs", ranges)?;
        self.names = ranges.keys().cloned().collect();
        self.lo = ranges.values().map(|r| r.0).collect();
        self.hi = ranges.values().map(|r| r.1).collect();
        self.x = ranges.values().map(|(a, b)| 0.5 * (a + b)).collect();
        (self.h, self.previous, self.iterations) = (None, None, 0);
        self.ending = Ending::Running;
        self.phase = Phase::Start;
        self.pending = std::iter::once(self.x.clone())
            .chain(self.difference_points())
            .collect();
        Ok(self.pending.iter().map(|p| self.point(p)).collect())
    }

    fn next_design(&mut self, x: &[Point], y: &[Objective]) -> Result<Vec<Point>> {
        let values = match self.phase {
            Phase::Done => return Ok(Vec::new()),
            _ => self.pending_values(x, y)?,
        };
        let next = match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Done => Vec::new(),
            Phase::Start => {
                self.fx = values[0];
                self.take_gradient(&values[1..], true)
            }
            Phase::Gradient => self.take_gradient(&values, false),
            Phase::LineSearch { dir, alpha } => self.after_line_search(dir, alpha, &values),
        };
        self.pending = next;
        Ok(self.pending.iter().map(|p| self.point(p)).collect())
    }

    fn analysis(&mut self, x: &[Point], y: &[Objective]) -> Result<Option<Analysis>> {
        Ok(Some(optimizer_analysis(
            "BFGS Optimization Results:",
            self.iterations,
            self.ending,
            x,
            y,
        )))
    }
}

impl Bfgs {
    /// Takes in the difference values at x, updates H, and goes on.
    fn take_gradient(&mut self, fd_values: &[f64], start: bool) -> Vec<Vec<f64>> {
        if start && !self.fx.is_finite() {
            return self.finish(Ending::Stalled("no valid output at the start point"));
        }
        let Some(g) = self.gradient(fd_values) else {
            return self.finish(Ending::Stalled("a gradient evaluation failed"));
        };
        self.update(&g);
        self.g = g;
        self.begin_iteration()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{drive, opts, ranges, within, Run};
    use super::*;

    fn alg(json: serde_json::Value) -> Bfgs {
        Bfgs::new(&opts("bfgs", json)).expect("valid options")
    }

    fn rosenbrock(p: &Point) -> Objective {
        let (x, y) = (p["x"], p["y"]);
        Objective::Single((1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2))
    }

    /// Evaluations until the best point so far is within `eps` of `target`.
    fn evaluations_to(run: &Run, target: &[f64], eps: f64) -> Option<usize> {
        let mut best = f64::INFINITY;
        for (i, (p, o)) in run.x.iter().zip(&run.y).enumerate() {
            let v = o.first().unwrap_or(f64::INFINITY);
            if v < best {
                best = v;
                let dist = p
                    .values()
                    .zip(target)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max);
                if dist < eps {
                    return Some(i + 1);
                }
            }
        }
        None
    }

    #[test]
    fn rosenbrock_converges_to_one_one() {
        let r = ranges(&[("x", -2.0, 2.0), ("y", -2.0, 2.0)]);
        let mut b = alg(serde_json::json!({}));
        let run = drive(&mut b, &r, &rosenbrock, 1000);
        assert!(within(&run.x, &r));
        let (best, _) = super::super::common::best(&run.x, &run.y).expect("valid");
        assert!(
            (best["x"] - 1.0).abs() < 1e-3 && (best["y"] - 1.0).abs() < 1e-3,
            "{best:?}"
        );
        let e4 = evaluations_to(&run, &[1.0, 1.0], 1e-4).expect("reaches 1e-4");
        eprintln!(
            "bfgs rosenbrock: {} evaluations in {} batches, 1e-4 after {e4}, best {best:?}",
            run.x.len(),
            run.batches
        );
        assert!(e4 < 400, "{e4}");
        let a = b.analysis(&run.x, &run.y).expect("ok").expect("some");
        assert!(a
            .text
            .expect("text")
            .starts_with("BFGS Optimization Results:\n"));
        assert_eq!(a.data["converged"], true);
        eprintln!("bfgs rosenbrock: {} iterations", a.data["iterations"]);
    }

    #[test]
    fn gradient_batch_is_the_point_and_d_difference_points() {
        let r = ranges(&[("x", -2.0, 2.0), ("y", -2.0, 2.0), ("z", 0.0, 1.0)]);
        let spec = ObjectiveSpec {
            expressions: vec!["out".into()],
            multi: false,
        };
        let first = alg(serde_json::json!({}))
            .initial_design(&r, &spec)
            .expect("ok");
        assert_eq!(first.len(), 4);
        assert_eq!(
            first[0].values().copied().collect::<Vec<_>>(),
            vec![0.0, 0.0, 0.5]
        );
        for (i, p) in first[1..].iter().enumerate() {
            let moved = p
                .values()
                .zip(first[0].values())
                .filter(|(a, b)| a != b)
                .count();
            assert_eq!(moved, 1, "point {i} moves one variable");
        }
    }

    #[test]
    fn minimum_on_a_bound_is_found_and_bounds_hold() {
        // Unconstrained minimum at (3, -1) lies outside: the answer is (1, 0).
        let r = ranges(&[("x", -1.0, 1.0), ("y", 0.0, 2.0)]);
        let f = |p: &Point| Objective::Single((p["x"] - 3.0).powi(2) + (p["y"] + 1.0).powi(2));
        let mut b = alg(serde_json::json!({}));
        let run = drive(&mut b, &r, &f, 500);
        assert!(within(&run.x, &r));
        let (best, _) = super::super::common::best(&run.x, &run.y).expect("valid");
        assert!(
            (best["x"] - 1.0).abs() < 1e-9 && best["y"].abs() < 1e-9,
            "{best:?}"
        );
        let a = b.analysis(&run.x, &run.y).expect("ok").expect("some");
        assert_eq!(a.data["converged"], true);
    }

    #[test]
    fn max_iter_caps_the_steps() {
        let r = ranges(&[("x", -2.0, 2.0), ("y", -2.0, 2.0)]);
        let mut b = alg(serde_json::json!({"max_iter": 3}));
        let run = drive(&mut b, &r, &rosenbrock, 100);
        let a = b.analysis(&run.x, &run.y).expect("ok").expect("some");
        assert_eq!(a.data["iterations"], 3);
        assert_eq!(a.data["converged"], false);
        assert!(a
            .text
            .expect("text")
            .contains("Convergence: No (max iterations)"));
    }

    #[test]
    fn failed_gradient_point_stops_and_says_why() {
        // Defined only up to the centre: the first difference point fails.
        let r = ranges(&[("x", 0.0, 1.0)]);
        let f = |p: &Point| {
            if p["x"] > 0.5 {
                Objective::Missing
            } else {
                Objective::Single(p["x"])
            }
        };
        let mut b = alg(serde_json::json!({}));
        let run = drive(&mut b, &r, &f, 5);
        assert_eq!(run.batches, 1);
        let a = b.analysis(&run.x, &run.y).expect("ok").expect("some");
        assert!(a
            .text
            .expect("text")
            .contains("Convergence: No (a gradient evaluation failed)"));
        let bad = Bfgs::new(&opts("bfgs", serde_json::json!({"fd_step": 2})));
        assert!(bad.is_err_and(|e| e.to_string().contains("'fd_step'")));
    }

    #[test]
    fn failed_start_stops_with_no_valid_results() {
        let r = ranges(&[("x", 0.0, 1.0)]);
        let mut b = alg(serde_json::json!({}));
        let run = drive(&mut b, &r, &|_| Objective::Missing, 5);
        assert_eq!(run.batches, 1);
        let a = b.analysis(&run.x, &run.y).expect("ok").expect("some");
        assert_eq!(a.text.as_deref(), Some("No valid results"));
    }
}
