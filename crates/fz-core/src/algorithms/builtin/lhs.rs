//! `lhs`: a Latin hypercube of `nvalues` points, one batch. Each range is
//! cut into `nvalues` equal strata and every stratum of every variable
//! holds exactly one point (random permutation per variable, uniform
//! position within the stratum). Owns only this design.

use super::one_shot::{Draws, OneShot, Sampler};
use crate::algorithms::{Options, Point, Ranges};
use crate::error::Result;

/// Option names and defaults.
pub(crate) const OPTIONS: &[(&str, &str, &str)] = &[
    ("nvalues", "10", "number of points (= strata per variable)"),
    ("seed", "42", "seed of the permutations and positions"),
];

/// Latin hypercube sampling.
pub(crate) struct Lhs(Draws);

impl Lhs {
    /// From the user's options.
    pub(crate) fn new(options: &Options) -> Result<OneShot<Self>> {
        Ok(OneShot(Lhs(Draws::new(options)?)))
    }
}

impl Sampler for Lhs {
    const NAME: &'static str = "lhs";
    const TITLE: &'static str = "Latin Hypercube Sampling Results:";

    fn points(&mut self, ranges: &Ranges) -> Result<Vec<Point>> {
        let n = self.0.nvalues;
        let mut points = vec![Point::new(); n];
        for (name, &(lo, hi)) in ranges {
            let strata = self.0.rng.permutation(n);
            for (p, s) in points.iter_mut().zip(strata) {
                let u = (s as f64 + self.0.rng.uniform()) / n as f64;
                // Rounding must not push the top stratum past the bound.
                p.insert(name.clone(), (lo + u * (hi - lo)).min(hi));
            }
        }
        Ok(points)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{one_shot, opts, ranges, within};
    use super::*;

    fn run(json: serde_json::Value, r: &Ranges) -> Vec<Point> {
        one_shot(&mut Lhs::new(&opts("lhs", json)).expect("valid options"), r)
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
