//! What the one-shot designs (`randomsampling`, `lhs`, `sobol`) share: one
//! batch of points, no next batch, and the best/worst/mean summary. Each
//! design only says how it draws its points ([`Sampler`]).

use super::common::{need_ranges, sampling_summary, usize_at_least, SeededRng};
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
