//! `lhs`: a Latin hypercube of `nvalues` points, one batch. Each range is
//! cut into `nvalues` equal strata and every stratum of every variable
//! holds exactly one point (random permutation per variable, uniform
//! position within the stratum). Owns only this design.

use super::common::{need_ranges, usize_at_least, SeededRng};
use crate::algorithms::{Algorithm, Analysis, Objective, ObjectiveSpec, Options, Point, Ranges};
use crate::error::Result;

/// Option names and defaults.
pub(crate) const OPTIONS: &[(&str, &str, &str)] = &[
    ("nvalues", "10", "number of points (= strata per variable)"),
    ("seed", "42", "seed of the permutations and positions"),
];

/// Latin hypercube sampling.
pub(crate) struct Lhs {
    nvalues: usize,
    rng: SeededRng,
}

impl Lhs {
    /// From the user's options.
    pub(crate) fn new(options: &Options) -> Result<Self> {
        Ok(Lhs {
            nvalues: usize_at_least(options, "nvalues", 10, 1)?,
            rng: SeededRng::new(options.u64("seed", 42)?),
        })
    }
}

impl Algorithm for Lhs {
    fn initial_design(&mut self, ranges: &Ranges, _: &ObjectiveSpec) -> Result<Vec<Point>> {
        need_ranges("lhs", ranges)?;
        let n = self.nvalues;
        let mut points = vec![Point::new(); n];
        for (name, &(lo, hi)) in ranges {
            let strata = self.rng.permutation(n);
            for (p, s) in points.iter_mut().zip(strata) {
                let u = (s as f64 + self.rng.uniform()) / n as f64;
                // Rounding must not push the top stratum past the bound.
                p.insert(name.clone(), (lo + u * (hi - lo)).min(hi));
            }
        }
        Ok(points)
    }

    fn next_design(&mut self, _: &[Point], _: &[Objective]) -> Result<Vec<Point>> {
        Ok(Vec::new())
    }

    fn analysis(&mut self, x: &[Point], y: &[Objective]) -> Result<Option<Analysis>> {
        Ok(Some(super::common::sampling_summary(
            "Latin Hypercube Sampling Results:",
            x,
            y,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::super::common::testing::{drive, opts, ranges, within};
    use super::*;

    fn run(json: serde_json::Value, r: &Ranges) -> Vec<Point> {
        let mut a = Lhs::new(&opts("lhs", json)).expect("valid options");
        let f = |p: &Point| Objective::Single(p.values().sum());
        let run = drive(&mut a, r, &f, 2);
        assert_eq!(run.batches, 1);
        run.x
    }

    #[test]
    fn every_stratum_of_every_variable_is_hit_once() {
        let r = ranges(&[("a", 0.0, 1.0), ("b", -5.0, 5.0), ("c", 100.0, 101.0)]);
        let n = 37;
        let x = run(serde_json::json!({"nvalues": n}), &r);
        assert_eq!(x.len(), n);
        assert!(within(&x, &r));
        for (name, (lo, hi)) in &r {
            let mut hits = vec![0; n];
            for p in &x {
                let s = ((p[name] - lo) / (hi - lo) * n as f64).floor() as usize;
                hits[s.min(n - 1)] += 1;
            }
            assert!(hits.iter().all(|h| *h == 1), "{name}: {hits:?}");
        }
    }

    #[test]
    fn same_seed_same_design() {
        let r = ranges(&[("a", 0.0, 1.0), ("b", 0.0, 2.0)]);
        let a = run(serde_json::json!({"seed": 5}), &r);
        assert_eq!(a, run(serde_json::json!({"seed": 5}), &r));
        assert_ne!(a, run(serde_json::json!({"seed": 6}), &r));
    }
}
