//! `randomsampling`: `nvalues` points uniform over the ranges, one batch,
//! and a summary of the best, worst and mean output. Owns only this
//! design; shared helpers live in `common`.

use super::one_shot::{Draws, OneShot, Sampler};
use crate::algorithms::{Options, Point, Ranges};
use crate::error::Result;

/// Option names and defaults.
pub(crate) const OPTIONS: &[(&str, &str, &str)] = &[
    ("nvalues", "10", "number of points"),
    ("seed", "42", "seed of the random stream"),
];

/// Uniform random sampling.
pub(crate) struct RandomSampling(Draws);

impl RandomSampling {
    /// From the user's options.
    pub(crate) fn new(options: &Options) -> Result<OneShot<Self>> {
        Ok(OneShot(RandomSampling(Draws::new(options)?)))
    }
}

impl Sampler for RandomSampling {
    const NAME: &'static str = "randomsampling";
    const TITLE: &'static str = "Random Sampling Results:";

    fn points(&mut self, ranges: &Ranges) -> Result<Vec<Point>> {
        let d = &mut self.0;
        Ok((0..d.nvalues).map(|_| d.rng.point_in(ranges)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{drive, opts, ranges, within};
    use super::*;
    use crate::algorithms::{Algorithm, Objective};

    fn alg(json: serde_json::Value) -> OneShot<RandomSampling> {
        RandomSampling::new(&opts("randomsampling", json)).expect("valid options")
    }

    fn sum(p: &Point) -> Objective {
        Objective::Single(p.values().sum())
    }

    #[test]
    fn one_batch_of_nvalues_points_within_bounds() {
        let r = ranges(&[("x", -1.0, 1.0), ("y", 10.0, 20.0)]);
        let run = drive(&mut alg(serde_json::json!({"nvalues": 25})), &r, &sum, 5);
        assert_eq!((run.batches, run.x.len()), (1, 25));
        assert!(within(&run.x, &r));
    }

    #[test]
    fn same_seed_same_points_other_seed_other_points() {
        let r = ranges(&[("x", 0.0, 1.0)]);
        let a = drive(&mut alg(serde_json::json!({"seed": 3})), &r, &sum, 2).x;
        let b = drive(&mut alg(serde_json::json!({"seed": "3"})), &r, &sum, 2).x;
        let c = drive(&mut alg(serde_json::json!({"seed": 4})), &r, &sum, 2).x;
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn analysis_reports_best_worst_mean() {
        let x: Vec<Point> = [0.5, 0.25, 1.0]
            .iter()
            .map(|v| [("x".to_string(), *v)].into_iter().collect())
            .collect();
        let y = vec![
            Objective::Single(2.0),
            Objective::Single(1.0),
            Objective::Missing,
        ];
        let a = alg(serde_json::json!({}))
            .analysis(&x, &y)
            .expect("ok")
            .expect("some");
        let text = a.text.expect("text");
        assert!(text.starts_with("Random Sampling Results:\n  Total samples: 3\n"));
        assert!(text.contains("  Best output: 1\n  Best input: {'x': 0.25}\n"));
        assert!(text.contains("  Worst output: 2\n  Mean output: 1.5\n"));
        assert_eq!(a.data["valid_samples"], 2);
        assert_eq!(a.data["best_input"]["x"], 0.25);
        assert_eq!(a.data["mean_output"], 1.5);
    }

    #[test]
    fn no_valid_result_says_so() {
        let x: Vec<Point> = vec![[("x".to_string(), 0.5)].into_iter().collect()];
        let a = alg(serde_json::json!({}))
            .analysis(&x, &[Objective::Missing])
            .expect("ok")
            .expect("some");
        assert_eq!(a.text.as_deref(), Some("No valid results"));
        assert_eq!(a.data["samples"], 1);
        assert_eq!(a.data["valid_samples"], 0);
    }

    #[test]
    fn bad_nvalues_names_option_and_algorithm() {
        let e = RandomSampling::new(&opts("randomsampling", serde_json::json!({"nvalues": 0})))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("'nvalues'") && e.contains("'randomsampling'"),
            "{e}"
        );
    }
}
