//! `montecarlo_uniform`: batches of uniform points until the Student-t
//! confidence interval of the mean output is narrow enough (or the cap of
//! `max_iterations` batches is reached). Owns the stop rule, the progress
//! and final summaries, and a small inline SVG histogram; no file.

use super::common::{finite_value, need_ranges, positive_f64, usize_at_least, SeededRng};
use super::student_t::t_quantile;
use crate::algorithms::{Algorithm, Analysis, Objective, ObjectiveSpec, Options, Point, Ranges};
use crate::error::Result;

/// Option names and defaults.
pub(crate) const OPTIONS: &[(&str, &str, &str)] = &[
    ("batch_sample_size", "10", "points per iteration"),
    ("max_iterations", "100", "cap on the number of batches"),
    (
        "confidence",
        "0.9",
        "level of the confidence interval of the mean, in (0, 1)",
    ),
    (
        "target_confidence_range",
        "1.0",
        "stop once the interval is at most this wide",
    ),
    ("seed", "42", "seed of the random stream"),
];

/// Monte Carlo sampling with a confidence-interval stop rule.
pub(crate) struct MonteCarloUniform {
    batch: usize,
    max_iterations: usize,
    confidence: f64,
    target: f64,
    rng: SeededRng,
    ranges: Ranges,
    generated: usize,
}

impl MonteCarloUniform {
    /// From the user's options.
    pub(crate) fn new(options: &Options) -> Result<Self> {
        let confidence = options.f64("confidence", 0.9)?;
        if !(confidence > 0.0 && confidence < 1.0) {
            return Err(super::common::bad_option(
                options,
                "confidence",
                "between 0 and 1 (exclusive)",
                &confidence.to_string(),
            ));
        }
        Ok(MonteCarloUniform {
            batch: usize_at_least(options, "batch_sample_size", 10, 1)?,
            max_iterations: usize_at_least(options, "max_iterations", 100, 1)?,
            confidence,
            target: positive_f64(options, "target_confidence_range", 1.0)?,
            rng: SeededRng::new(options.u64("seed", 42)?),
            ranges: Ranges::new(),
            generated: 0,
        })
    }

    fn next_batch(&mut self) -> Vec<Point> {
        self.generated += self.batch;
        (0..self.batch)
            .map(|_| self.rng.point_in(&self.ranges))
            .collect()
    }

    /// "90" for 0.9, as the texts print the level.
    fn percent(&self) -> String {
        format!("{:.0}", self.confidence * 100.0)
    }
}

/// Statistics of the valid outputs (n ≥ 2).
struct Stats {
    n: usize,
    mean: f64,
    /// Population standard deviation (n denominator), as upstream reports.
    std: f64,
    lo: f64,
    hi: f64,
    min: f64,
    max: f64,
}

impl Stats {
    /// `None` with fewer than 2 valid outputs.
    fn of(values: &[f64], confidence: f64) -> Option<Stats> {
        let n = values.len();
        if n < 2 {
            return None;
        }
        let nf = n as f64;
        let mean = values.iter().sum::<f64>() / nf;
        let ss: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
        // Standard error with the n−1 (sample) variance, df = n−1.
        let sem = (ss / (nf - 1.0)).sqrt() / nf.sqrt();
        let half = t_quantile(0.5 + confidence / 2.0, nf - 1.0) * sem;
        Some(Stats {
            n,
            mean,
            std: (ss / nf).sqrt(),
            lo: mean - half,
            hi: mean + half,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }

    fn width(&self) -> f64 {
        self.hi - self.lo
    }
}

fn valid_values(y: &[Objective]) -> Vec<f64> {
    y.iter().filter_map(finite_value).collect()
}

impl Algorithm for MonteCarloUniform {
    fn initial_design(&mut self, ranges: &Ranges, _: &ObjectiveSpec) -> Result<Vec<Point>> {
        need_ranges("montecarlo_uniform", ranges)?;
        self.ranges = ranges.clone();
        self.generated = 0;
        Ok(self.next_batch())
    }

    fn next_design(&mut self, _: &[Point], y: &[Objective]) -> Result<Vec<Point>> {
        if self.generated >= self.batch * self.max_iterations {
            return Ok(Vec::new());
        }
        match Stats::of(&valid_values(y), self.confidence) {
            Some(s) if s.width() <= self.target => Ok(Vec::new()),
            _ => Ok(self.next_batch()),
        }
    }

    fn analysis_tmp(&mut self, _: &[Point], y: &[Objective]) -> Result<Option<Analysis>> {
        let values = valid_values(y);
        let mut data = serde_json::Map::new();
        let Some(s) = Stats::of(&values, self.confidence) else {
            data.insert("valid_samples".into(), values.len().into());
            let text = format!("  Progress: {} valid sample(s) collected", values.len());
            return Ok(Some(Analysis {
                text: Some(text),
                html: None,
                data,
            }));
        };
        data.insert("n_samples".into(), s.n.into());
        data.insert("mean".into(), s.mean.into());
        data.insert("std".into(), s.std.into());
        data.insert("confidence_range".into(), s.width().into());
        let text = format!(
            "  Progress: {} samples, mean={:.6}, {}% CI range={:.6}",
            s.n,
            s.mean,
            self.percent(),
            s.width()
        );
        Ok(Some(Analysis {
            text: Some(text),
            html: None,
            data,
        }))
    }

    fn analysis(&mut self, _: &[Point], y: &[Objective]) -> Result<Option<Analysis>> {
        let values = valid_values(y);
        let mut data = serde_json::Map::new();
        let Some(s) = Stats::of(&values, self.confidence) else {
            data.insert("valid_samples".into(), values.len().into());
            return Ok(Some(Analysis {
                text: Some("Not enough valid results to analysis statistics".into()),
                html: None,
                data,
            }));
        };
        data.insert("mean".into(), s.mean.into());
        data.insert("std".into(), s.std.into());
        data.insert("confidence_interval".into(), vec![s.lo, s.hi].into());
        data.insert("n_samples".into(), s.n.into());
        data.insert("min".into(), s.min.into());
        data.insert("max".into(), s.max.into());
        let pct = self.percent();
        let text = format!(
            "Monte Carlo Sampling Results:\n  Valid samples: {}\n  Mean: {:.6}\n  Std: {:.6}\n  \
             {pct}% confidence interval: [{:.6}, {:.6}]\n  Range: [{:.6}, {:.6}]\n",
            s.n, s.mean, s.std, s.lo, s.hi, s.min, s.max
        );
        let html = format!(
            "<div>\n  <p><strong>Estimated mean:</strong> {:.6}</p>\n  \
             <p><strong>{pct}% confidence interval:</strong> [{:.6}, {:.6}]</p>\n  {}\n</div>",
            s.mean,
            s.lo,
            s.hi,
            histogram_svg(&values, &s)
        );
        Ok(Some(Analysis {
            text: Some(text),
            html: Some(html),
            data,
        }))
    }
}

/// A 20-bin histogram of `values` with a dashed line at the mean, as an
/// inline SVG (no script, no network).
fn histogram_svg(values: &[f64], s: &Stats) -> String {
    const BINS: usize = 20;
    const W: f64 = 400.0;
    const H: f64 = 200.0;
    let span = if s.max > s.min { s.max - s.min } else { 1.0 };
    let mut counts = [0usize; BINS];
    for v in values {
        let i = (((v - s.min) / span) * BINS as f64) as usize;
        counts[i.min(BINS - 1)] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let bar_w = W / BINS as f64;
    let bars: String = counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let h = H * *c as f64 / top;
            format!(
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"#6a6\" stroke=\"#000\"/>",
                i as f64 * bar_w,
                H - h,
                bar_w
            )
        })
        .collect();
    let mean_x = W * (s.mean - s.min) / span;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" \
         viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"Output distribution\">{bars}\
         <line x1=\"{mean_x:.1}\" y1=\"0\" x2=\"{mean_x:.1}\" y2=\"{H}\" stroke=\"red\" \
         stroke-dasharray=\"6 4\" stroke-width=\"2\"/></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::super::testing::{drive, opts, ranges, within};
    use super::*;

    fn alg(json: serde_json::Value) -> MonteCarloUniform {
        MonteCarloUniform::new(&opts("montecarlo_uniform", json)).expect("valid options")
    }

    /// Mean of x over [0;1] is 0.5; the output is x scaled by 10 (sd ≈ 2.89).
    fn scaled(p: &Point) -> Objective {
        Objective::Single(10.0 * p["x"])
    }

    #[test]
    fn stops_at_the_first_batch_whose_interval_is_narrow_enough() {
        let r = ranges(&[("x", 0.0, 1.0)]);
        let mut mc = alg(serde_json::json!({"target_confidence_range": 1.0}));
        let run = drive(&mut mc, &r, &scaled, 200);
        assert!(within(&run.x, &r));
        assert_eq!(run.x.len(), 10 * run.batches);
        let width_after = |n: usize| {
            let v = valid_values(&run.y[..n]);
            Stats::of(&v, 0.9).map(|s| s.width()).expect("n ≥ 2")
        };
        // The rule held at the end and not one batch earlier.
        assert!(width_after(run.x.len()) <= 1.0);
        assert!(width_after(run.x.len() - 10) > 1.0);
        // sd ≈ 2.89 and t ≈ 1.645 ⇒ n ≈ (2·1.645·2.89)² ≈ 90.
        eprintln!("montecarlo_uniform: stopped after {} points", run.x.len());
        assert!((50..=150).contains(&run.x.len()), "{}", run.x.len());
    }

    #[test]
    fn cap_of_max_iterations_batches() {
        let r = ranges(&[("x", 0.0, 1.0)]);
        let o = serde_json::json!({"batch_sample_size": 5, "max_iterations": 3,
                                   "target_confidence_range": 1e-9});
        let run = drive(&mut alg(o), &r, &scaled, 10);
        assert_eq!((run.batches, run.x.len()), (3, 15));
    }

    #[test]
    fn missing_outputs_mean_more_batches() {
        let r = ranges(&[("x", 0.0, 1.0)]);
        let none = |_: &Point| Objective::Missing;
        let run = drive(
            &mut alg(serde_json::json!({"max_iterations": 4})),
            &r,
            &none,
            10,
        );
        assert_eq!(run.batches, 4);
    }

    #[test]
    fn interval_matches_student_t() {
        // 1..=10: mean 5.5, sample sd 3.02765, sem 0.957427, t(0.95, 9) 1.833113.
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        let s = Stats::of(&v, 0.9).expect("n ≥ 2");
        assert!((s.hi - (5.5 + 1.833_113 * 0.957_427)).abs() < 1e-5);
        assert!((s.std - 8.25f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn texts_and_data_have_upstreams_shape() {
        let mut mc = alg(serde_json::json!({}));
        let x: Vec<Point> = Vec::new();
        let y: Vec<Objective> = (1..=4).map(|i| Objective::Single(f64::from(i))).collect();
        let tmp = mc.analysis_tmp(&x, &y[..1]).expect("ok").expect("some");
        assert_eq!(
            tmp.text.as_deref(),
            Some("  Progress: 1 valid sample(s) collected")
        );
        let tmp = mc.analysis_tmp(&x, &y).expect("ok").expect("some");
        let text = tmp.text.expect("text");
        assert!(text.starts_with("  Progress: 4 samples, mean=2.500000, 90% CI range="));
        let a = mc.analysis(&x, &y).expect("ok").expect("some");
        let text = a.text.expect("text");
        assert!(text.starts_with("Monte Carlo Sampling Results:\n  Valid samples: 4\n"));
        assert!(text.contains("  Range: [1.000000, 4.000000]\n"));
        assert_eq!(a.data["n_samples"], 4);
        assert!(a.html.expect("html").contains("<svg"));
        let few = mc.analysis(&x, &y[..1]).expect("ok").expect("some");
        assert_eq!(few.data["valid_samples"], 1);
    }

    #[test]
    fn bad_confidence_is_a_value_error() {
        let o = opts("montecarlo_uniform", serde_json::json!({"confidence": 1.5}));
        let e = MonteCarloUniform::new(&o).err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("'confidence'") && e.contains("1.5")));
    }
}
