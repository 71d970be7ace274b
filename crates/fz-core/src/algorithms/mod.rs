//! Algorithms of `fzd`: what proposes the points of an iterative design.
//!
//! This module owns the algorithm interface ([`Algorithm`]), the values it
//! exchanges with the design loop ([`Point`], [`Ranges`], [`Objective`],
//! [`Analysis`]), option parsing, the native built-ins ([`builtin`]) and the
//! hosting of plugin files in Python or R ([`plugin`]). It must not know how
//! points are evaluated (the loop in `ops::design` does) nor write
//! any file.
//!
//! Every algorithm minimises. Interface, as upstream's plugins know it:
//! `get_initial_design(input_vars, output_vars)`, `get_next_design(X, Y)`
//! (cumulative lists; an empty answer ends the loop), `get_analysis(X, Y)`
//! and the optional `get_analysis_tmp(X, Y)`.

pub mod builtin;
pub mod options;
pub mod plugin;

pub use options::Options;

use crate::error::Result;
use indexmap::IndexMap;

/// One design point: variable name → value, in the order the algorithm
/// gave them (range variables, then fixed variables once merged).
pub type Point = IndexMap<String, f64>;

/// The range variables handed to an algorithm: name → (min, max), in the
/// order the user gave them; `min < max` always.
pub type Ranges = IndexMap<String, (f64, f64)>;

/// The objective of one evaluated point.
#[derive(Debug, Clone, PartialEq)]
pub enum Objective {
    /// The evaluation failed or gave no number (NaN counts as missing).
    Missing,
    /// One objective.
    Single(f64),
    /// Several objectives (multi-objective studies), in expression order.
    Multi(Vec<f64>),
}

impl Objective {
    /// The objective values as a vector (`None` when missing); a single
    /// objective is a vector of one.
    pub fn values(&self) -> Option<Vec<f64>> {
        match self {
            Objective::Missing => None,
            Objective::Single(v) => Some(vec![*v]),
            Objective::Multi(v) => Some(v.clone()),
        }
    }

    /// The single objective value, if present (the first one of several).
    pub fn first(&self) -> Option<f64> {
        match self {
            Objective::Missing => None,
            Objective::Single(v) => Some(*v),
            Objective::Multi(v) => v.first().copied(),
        }
    }

    /// Whether a value is present.
    pub fn is_valid(&self) -> bool {
        !matches!(self, Objective::Missing)
    }

    /// As JSON, the way plugins receive it: a number, a list of numbers or
    /// `null`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Objective::Missing => serde_json::Value::Null,
            Objective::Single(v) => json_number(*v),
            Objective::Multi(v) => {
                serde_json::Value::Array(v.iter().map(|x| json_number(*x)).collect())
            }
        }
    }
}

/// A float as JSON (non-finite values become `null`, which JSON lacks).
pub fn json_number(v: f64) -> serde_json::Value {
    serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// What the design loop tells an algorithm about its objectives: the
/// expression texts, and whether the user gave a list (multi-objective,
/// even of one expression) or a single expression.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectiveSpec {
    /// The expressions, in order (`["output"]` when none was given).
    pub expressions: Vec<String>,
    /// Whether they were given as a list.
    pub multi: bool,
}

/// The objective when none was given: the column `output` (a function
/// model's first return value).
impl Default for ObjectiveSpec {
    fn default() -> Self {
        ObjectiveSpec {
            expressions: vec!["output".to_string()],
            multi: false,
        }
    }
}

impl ObjectiveSpec {
    /// As upstream passes `output_vars` to a plugin: the expression string,
    /// or the list of expressions.
    pub fn to_json(&self) -> serde_json::Value {
        if self.multi {
            serde_json::Value::Array(
                self.expressions
                    .iter()
                    .map(|e| serde_json::Value::String(e.clone()))
                    .collect(),
            )
        } else {
            serde_json::Value::String(self.expressions.first().cloned().unwrap_or_default())
        }
    }
}

/// What an algorithm says about the points so far (`get_analysis`): each
/// part optional; other keys a plugin returns are dropped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Analysis {
    /// Text for the user (plain, HTML, JSON, Markdown or key=value lines:
    /// the loop detects which and writes the matching file).
    pub text: Option<String>,
    /// An HTML fragment or page.
    pub html: Option<String>,
    /// Structured results (a JSON object).
    pub data: serde_json::Map<String, serde_json::Value>,
}

/// An algorithm of `fzd`. The loop calls `initial_design` once, then
/// alternately evaluates the proposed points and calls `next_design` with
/// all points and objectives so far, until it returns no point.
///
/// Implementations are driven from one thread at a time, but may be moved
/// between threads.
pub trait Algorithm: Send {
    /// The first batch of points over `ranges` (range variables only).
    fn initial_design(&mut self, ranges: &Ranges, objectives: &ObjectiveSpec)
        -> Result<Vec<Point>>;

    /// The next batch, given every point evaluated so far (`x`, fixed
    /// variables included) and its objective (`y`, same length). An empty
    /// batch ends the design.
    fn next_design(&mut self, x: &[Point], y: &[Objective]) -> Result<Vec<Point>>;

    /// The analysis of the points so far (called after every iteration and
    /// once at the end). `None`: nothing to say.
    fn analysis(&mut self, x: &[Point], y: &[Objective]) -> Result<Option<Analysis>>;

    /// An intermediate analysis after each iteration, for algorithms that
    /// have one (upstream's optional `get_analysis_tmp`).
    fn analysis_tmp(&mut self, _x: &[Point], _y: &[Objective]) -> Result<Option<Analysis>> {
        Ok(None)
    }
}
