//! What several built-ins share: the seeded random stream, option checks,
//! Python-style number formatting for analysis texts, finding the
//! objective of a proposed point, the best valid point, and the analysis of
//! the two optimisers (`brent`, `bfgs`). No algorithm logic lives here.

use super::super::{Analysis, Objective, Options, Point, Ranges};
use crate::error::{Error, Result};
use rand_pcg::rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg64;

/// A seeded random stream, identical on every run and platform (PCG64,
/// integer arithmetic only; floats built from the top 53 bits).
pub(crate) struct SeededRng(Pcg64);

impl SeededRng {
    /// The stream of `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        SeededRng(Pcg64::seed_from_u64(seed))
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[lo, hi)`.
    pub(crate) fn uniform_in(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in `0..n` (`n > 0`), without modulo bias.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.0.next_u64();
            if v < zone {
                return (v % n) as usize;
            }
        }
    }

    /// Uniform 32-bit word.
    pub(crate) fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    /// A uniformly random permutation of `0..n` (Fisher–Yates).
    pub(crate) fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            p.swap(i, self.below(i + 1));
        }
        p
    }

    /// One point uniform over `ranges`.
    pub(crate) fn point_in(&mut self, ranges: &Ranges) -> Point {
        ranges
            .iter()
            .map(|(name, &(lo, hi))| (name.clone(), self.uniform_in(lo, hi)))
            .collect()
    }
}

/// A one-line option error naming the option and the algorithm.
pub(crate) fn bad_option(options: &Options, name: &str, expected: &str, got: &str) -> Error {
    Error::Value(format!(
        "option '{name}' of algorithm '{}' must be {expected}, got {got}",
        options.owner
    ))
}

/// An integer option that must be at least `min`.
pub(crate) fn usize_at_least(
    options: &Options,
    name: &str,
    default: usize,
    min: usize,
) -> Result<usize> {
    let v = options.usize(name, default)?;
    if v < min {
        return Err(bad_option(
            options,
            name,
            &format!("at least {min}"),
            &v.to_string(),
        ));
    }
    Ok(v)
}

/// A float option that must be finite and strictly positive.
pub(crate) fn positive_f64(options: &Options, name: &str, default: f64) -> Result<f64> {
    let v = options.f64(name, default)?;
    if !(v.is_finite() && v > 0.0) {
        return Err(bad_option(options, name, "a positive number", &fmt_g(v, 6)));
    }
    Ok(v)
}

/// The error of a design that needs at least one range variable.
pub(crate) fn need_ranges(algorithm: &str, ranges: &Ranges) -> Result<()> {
    if ranges.is_empty() {
        return Err(Error::Value(format!(
            "algorithm '{algorithm}' needs at least one variable given as a range [min;max]"
        )));
    }
    Ok(())
}

/// A first objective that is a finite number, else `None` (missing, NaN).
pub(crate) fn finite_value(y: &Objective) -> Option<f64> {
    y.first().filter(|v| v.is_finite())
}

/// The objective of `point` among the evaluated `x`/`y`, matched on the
/// range variables by exact value (the loop hands points back exactly as
/// proposed); the latest match wins. `None` when it was not evaluated.
pub(crate) fn objective_of<'a>(
    point: &Point,
    x: &[Point],
    y: &'a [Objective],
) -> Option<&'a Objective> {
    x.iter()
        .zip(y)
        .rev()
        .find(|(p, _)| point.iter().all(|(k, v)| p.get(k) == Some(v)))
        .map(|(_, o)| o)
}

/// The objective of a proposed point, or an error naming the algorithm
/// when the loop did not evaluate it.
pub(crate) fn require_objective<'a>(
    algorithm: &str,
    point: &Point,
    x: &[Point],
    y: &'a [Objective],
) -> Result<&'a Objective> {
    objective_of(point, x, y).ok_or_else(|| {
        Error::Value(format!(
            "algorithm '{algorithm}': the point {} it proposed was not evaluated",
            py_dict(point)
        ))
    })
}

/// The point of smallest finite first objective, with its value.
pub(crate) fn best<'a>(x: &'a [Point], y: &[Objective]) -> Option<(&'a Point, f64)> {
    x.iter()
        .zip(y)
        .filter_map(|(p, o)| finite_value(o).map(|v| (p, v)))
        .fold(None, |acc: Option<(&Point, f64)>, (p, v)| match acc {
            Some((_, bv)) if bv <= v => acc,
            _ => Some((p, v)),
        })
}

/// A point as JSON (an object, in the point's order).
pub(crate) fn point_json(point: &Point) -> serde_json::Value {
    serde_json::Value::Object(
        point
            .iter()
            .map(|(k, v)| (k.clone(), super::super::json_number(*v)))
            .collect(),
    )
}

/// A float as Python's `%.{precision}g` writes it (`1.0025`, `1e-05`).
pub(crate) fn fmt_g(v: f64, precision: usize) -> String {
    crate::value::py_format_g(v, precision)
}

/// A point as Python prints a dict of floats: `{'x': 0.25, 'y': 1.0}`.
pub(crate) fn py_dict(point: &Point) -> String {
    let map = point
        .iter()
        .map(|(k, v)| (k.clone(), crate::value::Value::Float(*v)))
        .collect();
    crate::value::Value::Map(map).py_repr()
}

/// How an optimiser's run ended, as its analysis tells it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Ending {
    /// Still running (an analysis between iterations).
    Running,
    /// The tolerance was reached.
    Converged,
    /// The iteration cap was reached first.
    MaxIterations,
    /// The optimiser stopped for another reason (the text says which).
    Stalled(&'static str),
}

impl Ending {
    fn text(self) -> String {
        match self {
            Ending::Running => "No (running)".to_string(),
            Ending::Converged => "Yes".to_string(),
            Ending::MaxIterations => "No (max iterations)".to_string(),
            Ending::Stalled(why) => format!("No ({why})"),
        }
    }
}

/// The analysis of a single-objective optimiser (`brent`, `bfgs`), shaped
/// like upstream's examples: title, iterations, valid evaluations, best
/// output and input, convergence.
pub(crate) fn optimizer_analysis(
    title: &str,
    iterations: usize,
    ending: Ending,
    x: &[Point],
    y: &[Objective],
) -> Analysis {
    let mut data = serde_json::Map::new();
    data.insert("iterations".into(), iterations.into());
    let Some((best_x, best_y)) = best(x, y) else {
        data.insert("evaluations".into(), x.len().into());
        return Analysis {
            text: Some("No valid results".into()),
            html: None,
            data,
        };
    };
    let valid = y.iter().filter(|o| finite_value(o).is_some()).count();
    let text = format!(
        "{title}\n  Iterations: {iterations}\n  Function evaluations: {valid}\n  \
         Optimal output: {}\n  Optimal input: {}\n  Convergence: {}\n",
        fmt_g(best_y, 6),
        py_dict(best_x),
        ending.text()
    );
    data.insert("evaluations".into(), valid.into());
    data.insert("optimal_output".into(), super::super::json_number(best_y));
    data.insert("optimal_input".into(), point_json(best_x));
    data.insert("converged".into(), (ending == Ending::Converged).into());
    Analysis {
        text: Some(text),
        html: None,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_print_as_python_dicts() {
        let p: Point = [("x".to_string(), 0.25), ("it's".to_string(), 1.0)]
            .into_iter()
            .collect();
        assert_eq!(py_dict(&p), r#"{'x': 0.25, "it's": 1.0}"#);
        let q: Point = [("y".to_string(), 1e-5)].into_iter().collect();
        assert_eq!(py_dict(&q), "{'y': 1e-05}");
    }

    #[test]
    fn same_seed_same_stream_and_permutations_are_permutations() {
        let a: Vec<f64> = {
            let mut r = SeededRng::new(7);
            (0..5).map(|_| r.uniform()).collect()
        };
        let mut r = SeededRng::new(7);
        let b: Vec<f64> = (0..5).map(|_| r.uniform()).collect();
        assert_eq!(a, b);
        assert!(a.iter().all(|v| (0.0..1.0).contains(v)));
        let mut p = SeededRng::new(1).permutation(50);
        p.sort_unstable();
        assert_eq!(p, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn best_skips_missing_and_nan() {
        let x: Vec<Point> = (0..3)
            .map(|i| [("x".to_string(), i as f64)].into_iter().collect())
            .collect();
        let y = [
            Objective::Missing,
            Objective::Single(f64::NAN),
            Objective::Single(2.0),
        ];
        let (p, v) = best(&x, &y).expect("one valid");
        assert_eq!((p["x"], v), (2.0, 2.0));
        assert!(objective_of(&x[1], &x, &y).is_some());
    }
}
