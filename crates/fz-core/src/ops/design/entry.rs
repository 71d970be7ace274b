//! The file-model `fzd` as the CLI and the Python API call it: arguments
//! checked, the analysis directory prepared, the algorithm loaded, one
//! [`Runner`] for the whole design.

use super::objective::Objectives;
use super::variables::Variables;
use super::{prepare_analysis_dir, run_loop, DesignOptions, DesignReport, Evaluator, FileModel};
use crate::algorithms::{Algorithm, ObjectiveSpec};
use crate::calculators::Cancel;
use crate::config::CaseNaming;
use crate::error::{Error, Result};
use crate::model::{Lookup, Model};
use crate::ops::run::{RunOptions, Runner};
use crate::results::lock::DirLock;
use crate::results::place::check_results_dir;
use crate::results::{display_path, RUN_COLUMNS};
use serde_json::{Map, Value as Json};
use std::path::{Path, PathBuf};

/// A file-model design, as given.
#[derive(Debug, Clone, Default)]
pub struct FileDesign {
    /// The input file or directory (absolute).
    pub input_path: PathBuf,
    /// Variable → `"[min;max]"` or a fixed value.
    pub variables: Map<String, Json>,
    /// The algorithm: built-in name, plugin name or file path.
    pub algorithm: String,
    /// The algorithm's options.
    pub algorithm_options: Map<String, Json>,
    /// The objective expressions (`None`: the model's first output).
    pub objectives: Option<ObjectiveSpec>,
    /// Calculators as given (empty: auto-discovery, as `fzr`).
    pub calculators: Vec<String>,
    /// The analysis directory (absolute).
    pub analysis_dir: PathBuf,
    /// The interrupt flag.
    pub cancel: Option<Cancel>,
    /// No progress display.
    pub no_progress: bool,
    /// Keep the design's HTML page here (`--report`).
    pub report: Option<PathBuf>,
}

/// Runs a file-model design.
pub fn fzd_files(d: &FileDesign, model: &Model, lookup: &Lookup) -> Result<DesignReport> {
    if model.output.is_empty() {
        return Err(Error::Model(
            "Model must specify output variables in 'output' field".into(),
        ));
    }
    let objectives = d.objectives.clone().or_else(|| {
        model.output.keys().next().map(|first| ObjectiveSpec {
            expressions: vec![first.clone()],
            multi: false,
        })
    });
    let mut columns: Vec<String> = model.output.keys().cloned().collect();
    columns.extend(RUN_COLUMNS.iter().map(|c| c.to_string()));
    let opened = Opened::open(d, lookup, Some(&d.input_path), objectives, Some(columns))?;
    // The iterations of the run moved aside answer for the same points.
    let mut calculators: Vec<String> = opened
        .moved_aside
        .iter()
        .map(|m| format!("cache://{}/iter*", m.display()))
        .collect();
    calculators.extend(d.calculators.iter().cloned());
    let cancel = d.cancel.clone().unwrap_or_default();
    let run_options = RunOptions {
        calculators,
        case_naming: Some(CaseNaming::Index),
        cancel: Some(cancel.clone()),
        no_progress: d.no_progress,
        ..RunOptions::default()
    };
    let runner = Runner::new(model, &run_options, lookup)?;
    let mut evaluator = FileModel {
        runner,
        input_path: d.input_path.clone(),
    };
    opened.run(d, &mut evaluator, Some(cancel))
}

/// Runs a design whose points are evaluated by `evaluator` (the Python
/// API's function model): `d.input_path`, `d.calculators` and
/// `d.no_progress` are not used.
pub fn fzd_with(
    d: &FileDesign,
    evaluator: &mut dyn Evaluator,
    lookup: &Lookup,
) -> Result<DesignReport> {
    // The callable's outputs are known from its first answers only: the
    // objectives' syntax is checked, not their names.
    Opened::open(d, lookup, None, d.objectives.clone(), None)?.run(d, evaluator, d.cancel.clone())
}

/// A design ready for its evaluator: what both models do before the loop.
struct Opened {
    variables: Variables,
    algorithm: Box<dyn Algorithm>,
    /// The objectives, checked.
    objectives: Objectives,
    /// Held for the whole design.
    _lock: DirLock,
    /// Where an existing analysis directory was moved.
    moved_aside: Option<PathBuf>,
}

impl Opened {
    /// Parses the variables, loads the algorithm, checks the objectives
    /// given by the user against `columns` (what each row holds besides the
    /// variables, when known), checks the analysis directory against
    /// `input` (file model), locks it and moves an existing one aside:
    /// a mistake is told before anything is moved or run.
    fn open(
        d: &FileDesign,
        lookup: &Lookup,
        input: Option<&Path>,
        spec: Option<ObjectiveSpec>,
        columns: Option<Vec<String>>,
    ) -> Result<Opened> {
        let variables = Variables::parse(&d.variables)?;
        let algorithm = load_algorithm(&d.algorithm, d.algorithm_options.clone(), lookup)?;
        let mut objectives = Objectives::new(spec.unwrap_or_default());
        if d.objectives.is_some() {
            let known = columns.map(|mut c| {
                c.extend(variables.names());
                c
            });
            objectives.check(known.as_deref())?;
        }
        if let Some(input) = input {
            check_results_dir(&d.analysis_dir, &lookup.cwd, input, "-r")?;
        }
        let lock = lock_analysis_dir(&d.analysis_dir, &lookup.cwd)?;
        let moved_aside = prepare_analysis_dir(&d.analysis_dir)?;
        Ok(Opened {
            variables,
            algorithm,
            objectives,
            _lock: lock,
            moved_aside,
        })
    }

    /// Runs the loop with `evaluator`.
    fn run(
        mut self,
        d: &FileDesign,
        evaluator: &mut dyn Evaluator,
        cancel: Option<Cancel>,
    ) -> Result<DesignReport> {
        let options = DesignOptions {
            analysis_dir: d.analysis_dir.clone(),
            algorithm: d.algorithm.clone(),
            objectives: Some(self.objectives.spec().clone()),
            cancel,
            report: d.report.clone(),
        };
        let mut report = run_loop(
            &self.variables,
            self.algorithm.as_mut(),
            evaluator,
            &options,
            self.objectives,
        )?;
        report.moved_aside = self.moved_aside.take();
        Ok(report)
    }
}

/// Locks the analysis directory for the whole design (its `iter<NNN>`
/// results directories are locked by their own batches inside it).
fn lock_analysis_dir(dir: &Path, cwd: &Path) -> Result<DirLock> {
    DirLock::acquire(
        dir,
        &format!("analysis directory '{}'", display_path(dir, cwd)),
        "-r",
    )
}

/// The algorithm `spec` names with `options`: a plugin file (project,
/// then `~/.fz`), a built-in, or a file path (see
/// [`crate::algorithms::plugin::resolve`]).
pub fn load_algorithm(
    spec: &str,
    options: Map<String, Json>,
    lookup: &Lookup,
) -> Result<Box<dyn Algorithm>> {
    crate::algorithms::plugin::load(spec, &options, lookup)
}

/// Algorithm options from text: a JSON object, or a `.json` file holding
/// one (relative to `cwd`).
pub fn parse_options(text: &str, cwd: &Path) -> Result<Map<String, Json>> {
    json_object(text, cwd, "algorithm options")
}

/// A JSON object from text: inline JSON (starting with `{` or `[`), else
/// the file it names (relative to `cwd`), which must hold one. `what`
/// names the argument in errors.
pub fn json_object(text: &str, cwd: &Path, what: &str) -> Result<Map<String, Json>> {
    let trimmed = text.trim();
    let (json, origin) = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        (trimmed.to_string(), what.to_string())
    } else {
        let path = cwd.join(trimmed);
        let read = std::fs::read_to_string(&path)
            .map_err(|e| Error::Value(format!("{what}: cannot read '{trimmed}': {e}")))?;
        (read, format!("{what} ({})", path.display()))
    };
    match serde_json::from_str::<Json>(&json) {
        Ok(Json::Object(m)) => Ok(m),
        Ok(_) => Err(Error::Value(format!("{origin} must be a JSON object"))),
        Err(e) => Err(Error::Value(format!("{origin}: not valid JSON: {e}"))),
    }
}
