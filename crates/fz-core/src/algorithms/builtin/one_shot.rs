//! What the one-shot designs (`randomsampling`, `lhs`, `sobol`) share: one
//! batch of points, no next batch, and the best/worst/mean summary. Each
//! design only says how it draws its points ([`Sampler`]).

use super::common::{best, finite_value, fmt_g, need_ranges, point_json, py_dict};
use super::common::{usize_at_least, SeededRng};
use crate::algorithms::{Algorithm, Analysis, Objective, ObjectiveSpec, Options, Point, Ranges};
use crate::error::Result;

/// How a one-shot design draws its points.
pub(crate) trait Sampler: Send {
    /// The algorithm's name, for error messages.
    const NAME: &'static str;
    /// The first line of its analysis text.
    const TITLE: &'static str;
    /// All the points over `ranges` (never empty).
    fn points(&mut self, ranges: &Ranges) -> Result<Vec<Point>>;
}

/// A one-shot design around a sampler.
pub(crate) struct OneShot<S>(pub(crate) S);

impl<S: Sampler> Algorithm for OneShot<S> {
    fn initial_design(&mut self, ranges: &Ranges, _: &ObjectiveSpec) -> Result<Vec<Point>> {
        need_ranges(S::NAME, ranges)?;
        self.0.points(ranges)
    }

    fn next_design(&mut self, _: &[Point], _: &[Objective]) -> Result<Vec<Point>> {
        Ok(Vec::new())
    }

    fn analysis(&mut self, x: &[Point], y: &[Objective]) -> Result<Option<Analysis>> {
        Ok(Some(sampling_summary(S::TITLE, x, y)))
    }
}

/// The `nvalues` and `seed` options of a random one-shot design.
pub(crate) struct Draws {
    /// Number of points (at least 1).
    pub(crate) nvalues: usize,
    /// The stream seeded by `seed`.
    pub(crate) rng: SeededRng,
}

impl Draws {
    /// From the user's options (defaults 10 and 42).
    pub(crate) fn new(options: &Options) -> Result<Self> {
        Ok(Draws {
            nvalues: usize_at_least(options, "nvalues", 10, 1)?,
            rng: SeededRng::new(options.u64("seed", 42)?),
        })
    }
}

/// Best, worst and mean of the valid outputs of a one-shot design, shaped
/// like upstream's random sampling summary under `title`.
fn sampling_summary(title: &str, x: &[Point], y: &[Objective]) -> Analysis {
    let mut data = serde_json::Map::new();
    data.insert("samples".into(), x.len().into());
    let valid: Vec<(&Point, f64)> = x
        .iter()
        .zip(y)
        .filter_map(|(p, o)| finite_value(o).map(|v| (p, v)))
        .collect();
    let Some((best_x, best_y)) = best(x, y) else {
        data.insert("valid_samples".into(), 0.into());
        return Analysis {
            text: Some("No valid results".into()),
            html: None,
            data,
        };
    };
    let worst = valid.iter().map(|(_, v)| *v).fold(f64::MIN, f64::max);
    let mean = valid.iter().map(|(_, v)| v).sum::<f64>() / valid.len() as f64;
    let text = format!(
        "{title}\n  Total samples: {}\n  Valid samples: {}\n  \
         Best output: {}\n  Best input: {}\n  Worst output: {}\n  Mean output: {}\n",
        x.len(),
        valid.len(),
        fmt_g(best_y, 6),
        py_dict(best_x),
        fmt_g(worst, 6),
        fmt_g(mean, 6)
    );
    data.insert("valid_samples".into(), valid.len().into());
    data.insert("best_output".into(), best_y.into());
    data.insert("best_input".into(), point_json(best_x));
    data.insert("worst_output".into(), worst.into());
    data.insert("mean_output".into(), mean.into());
    Analysis {
        text: Some(text),
        html: None,
        data,
    }
}
