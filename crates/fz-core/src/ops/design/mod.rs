//! `fzd`: iterative design of experiments. An [`Algorithm`] proposes
//! points, an [`Evaluator`] evaluates them (the file model through the
//! same [`Runner`] as `fzr`, one batch per iteration; or a function given
//! by the Python API), the objectives are computed from each result row,
//! and the algorithm proposes again until it returns no point or the user
//! presses Ctrl+C.
//!
//! This module owns the loop (spec design-of-experiments §4), batch
//! deduplication, the cumulative X/Y lists and the files of the analysis
//! directory ([`files`]). It does not know how an algorithm works
//! ([`crate::algorithms`]) nor how a case runs ([`crate::ops::run`]).

pub mod entry;
pub mod files;
pub mod objective;
pub mod report;
pub mod variables;
mod writer;

use crate::algorithms::{Algorithm, Objective, ObjectiveSpec, Point};
use crate::calculators::Cancel;
use crate::design::Design;
use crate::error::Result;
use crate::format::Table;
use crate::log;
use crate::ops::compile::fresh_output_dir;
use crate::ops::run::Runner;
use crate::Value;
use objective::{Objectives, Row};
use serde_json::{Map, Value as Json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use variables::Variables;

/// How the points of a batch are evaluated.
pub trait Evaluator {
    /// Evaluates `points` (unique, fixed values merged) into the
    /// iteration's directory `dir` (which does not exist yet): one row per
    /// point, in order, holding the variables, the outputs, `status`
    /// (`done` when the point was evaluated) and `error`.
    fn evaluate(&mut self, dir: &Path, points: &[Point]) -> Result<Vec<Row>>;

    /// Whether the evaluator writes case directories into `dir` itself
    /// (file model); otherwise the loop writes `dir/values.csv`.
    fn writes_cases(&self) -> bool;
}

/// The file model: each batch is an `fzr` batch of the runner over the
/// input, one case directory per point.
pub struct FileModel<'a> {
    /// The runner (calculators, cache) shared by every iteration.
    pub runner: Runner<'a>,
    /// The input file or directory (absolute).
    pub input_path: PathBuf,
}

impl Evaluator for FileModel<'_> {
    fn evaluate(&mut self, dir: &Path, points: &[Point]) -> Result<Vec<Row>> {
        let rows: Vec<crate::design::Case> = points
            .iter()
            .map(|p| {
                p.iter()
                    .map(|(k, v)| (k.clone(), Value::Float(*v)))
                    .collect()
            })
            .collect();
        let report = self
            .runner
            .run(&self.input_path, Some(&Design::Table(rows)), dir, false)?;
        let table = report.table;
        Ok(table
            .rows
            .into_iter()
            .map(|cells| table.columns.iter().cloned().zip(cells).collect())
            .collect())
    }

    fn writes_cases(&self) -> bool {
        true
    }
}

/// Options of a design beyond the variables, algorithm and evaluator.
#[derive(Debug, Clone, Default)]
pub struct DesignOptions {
    /// The analysis directory (absolute); an existing one is moved aside.
    pub analysis_dir: PathBuf,
    /// The algorithm as the user gave it (name or path), for the summary.
    pub algorithm: String,
    /// The objective expressions.
    pub objectives: Option<ObjectiveSpec>,
    /// The interrupt flag (shared with the runner of a file model).
    pub cancel: Option<Cancel>,
    /// Keep the design's HTML page here (`fzd --report`), rewritten as
    /// iterations go.
    pub report: Option<PathBuf>,
}

/// What a design produced (upstream's return dict).
#[derive(Debug, Clone)]
pub struct DesignReport {
    /// One row per evaluated point (duplicates included), variables then
    /// objective columns.
    pub xy: Table,
    /// The processed final analysis (`{}` when none).
    pub analysis: Map<String, Json>,
    /// The algorithm as given.
    pub algorithm: String,
    /// Iterations run.
    pub iterations: usize,
    /// Points evaluated (duplicates included).
    pub total_evaluations: usize,
    /// `<algorithm> completed: <k> iterations, <n> evaluations (<v> valid)`.
    pub summary: String,
    /// Whether Ctrl+C stopped the loop.
    pub interrupted: bool,
    /// Where an existing analysis directory was moved, if it was.
    pub moved_aside: Option<PathBuf>,
    /// The design's HTML page, when one was asked for and written.
    pub report_page: Option<PathBuf>,
}

/// Moves an existing analysis directory aside and creates it afresh;
/// returns where the old one went (its iterations are a cache for this
/// run: `cache://<old>/iter*`).
pub fn prepare_analysis_dir(dir: &Path) -> Result<Option<PathBuf>> {
    fresh_output_dir(dir)
}

/// Runs the loop. `analysis_dir` must exist (see [`prepare_analysis_dir`]).
pub fn fzd(
    variables: &Variables,
    algorithm: &mut dyn Algorithm,
    evaluator: &mut dyn Evaluator,
    options: &DesignOptions,
) -> Result<DesignReport> {
    let spec = options.objectives.clone().unwrap_or_default();
    run_loop(
        variables,
        algorithm,
        evaluator,
        options,
        Objectives::new(spec),
    )
}

/// The loop of [`fzd`], with objectives made (and checked) beforehand.
pub(crate) fn run_loop(
    variables: &Variables,
    algorithm: &mut dyn Algorithm,
    evaluator: &mut dyn Evaluator,
    options: &DesignOptions,
    objectives: Objectives,
) -> Result<DesignReport> {
    let spec = objectives.spec().clone();
    let mut state = Loop {
        variables,
        dir: &options.analysis_dir,
        objectives,
        cancel: options.cancel.clone().unwrap_or_default(),
        x: Vec::new(),
        y: Vec::new(),
        iteration: 0,
        page: options
            .report
            .clone()
            .map(|out| report::DesignPage::new(out, &options.algorithm)),
        writer: writer::Writer::start(),
        missing: Missing::default(),
    };
    log::info(&format!(
        "fzd: ranges {:?}, fixed {:?}",
        variables.ranges, variables.fixed
    ));
    let mut design = algorithm.initial_design(&variables.ranges, &spec)?;
    if !design.is_empty() {
        // Python starts while the first batch runs, not after it.
        state.objectives.warm_up();
    }
    while !design.is_empty() && state.cancel.may_start() {
        state.iteration += 1;
        let batch: Vec<Point> = design.iter().map(|p| variables.complete(p)).collect();
        state.run_iteration(&batch, evaluator, algorithm);
        if !state.cancel.may_start() {
            break;
        }
        design = algorithm.next_design(&state.x, &state.y)?;
    }
    state.missing.tell();
    let analysis = state.final_analysis(algorithm);
    state.writer.finish();
    let mut out = state.report(options, analysis);
    if let Some(page) = state.page.take() {
        let status = report::end_status(out.iterations, &state.y, out.interrupted);
        out.report_page = page.finish(&status);
    }
    Ok(out)
}

/// The state of a running design.
struct Loop<'a> {
    variables: &'a Variables,
    dir: &'a Path,
    objectives: Objectives,
    cancel: Cancel,
    x: Vec<Point>,
    y: Vec<Objective>,
    iteration: usize,
    /// The `--report` page, when asked for.
    page: Option<report::DesignPage>,
    /// Writes each iteration's files while the next batch runs.
    writer: writer::Writer,
    /// Unique points left without an objective, and the first reason.
    missing: Missing,
}

/// The unique points that got no objective, told once at the end (the
/// per-point warnings are hidden at the default level).
#[derive(Debug, Default)]
struct Missing {
    /// Unique points evaluated (per batch).
    seen: usize,
    /// Cases that were not done.
    failed: usize,
    /// Done cases whose objective could not be evaluated (or was NaN).
    unevaluated: usize,
    /// The first reason seen.
    first: Option<String>,
    /// The error of the last batch that could not be evaluated.
    last_batch_error: Option<String>,
}

impl Missing {
    fn add(&mut self, failed: bool, why: &str) {
        if failed {
            self.failed += 1;
        } else {
            self.unevaluated += 1;
        }
        self.first.get_or_insert_with(|| why.to_string());
    }

    /// One line at the default level, when any point is concerned.
    fn tell(&self) {
        let Some(first) = &self.first else { return };
        log::notice(&format!(
            "{} of {} evaluated point(s) got no objective ({} case(s) not done, {} objective(s) \
             not computable); the first: {}",
            self.failed + self.unevaluated,
            self.seen,
            self.failed,
            self.unevaluated,
            crate::template::interp::truncate(first, 300)
        ));
    }
}

impl Loop<'_> {
    /// Evaluates one batch, records its points and objectives, and writes
    /// the iteration's files. A batch that cannot be evaluated gives its
    /// points no objective and the loop goes on, as upstream.
    fn run_iteration(
        &mut self,
        batch: &[Point],
        evaluator: &mut dyn Evaluator,
        algorithm: &mut dyn Algorithm,
    ) {
        let i = self.iteration;
        let iter_dir = self.dir.join(format!("iter{i:03}"));
        if let Some(page) = &mut self.page {
            page.iteration_started(i, &iter_dir, evaluator.writes_cases());
        }
        let (unique, of) = dedupe(batch);
        if unique.len() < batch.len() {
            log::info(&format!(
                "({} duplicate point(s) removed from batch; results will be reused)",
                batch.len() - unique.len()
            ));
        }
        let objectives = match evaluator.evaluate(&iter_dir, &unique) {
            Ok(rows) => {
                if !evaluator.writes_cases() {
                    write_values(&iter_dir, &rows);
                }
                self.objectives_of(&rows, &unique)
            }
            Err(e) => {
                self.batch_failed(&iter_dir, &e.to_string(), unique.len());
                vec![Objective::Missing; unique.len()]
            }
        };
        for (point, u) in batch.iter().zip(&of) {
            self.x.push(point.clone());
            self.y
                .push(objectives.get(*u).cloned().unwrap_or(Objective::Missing));
        }
        let tmp = self.analysis_with(algorithm, true);
        let current = self.analysis_with(algorithm, false);
        self.write_files(tmp.clone(), current.clone());
        let evals = files::Evaluations {
            x: &self.x,
            y: &self.y,
            names: &self.objectives.spec().expressions,
        };
        if let Some(page) = &mut self.page {
            page.iteration_finished(i, evals, tmp.as_ref(), current.as_ref());
        }
    }

    /// Queues `X_<i>.csv`, `Y_<i>.csv` and `results_<i>.html` of the
    /// points so far for the writer thread.
    fn write_files(&self, tmp: Option<Map<String, Json>>, current: Option<Map<String, Json>>) {
        let (dir, i) = (self.dir.to_path_buf(), self.iteration);
        let (x, y, spec) = (
            self.x.clone(),
            self.y.clone(),
            self.objectives.spec().clone(),
        );
        self.writer.submit(move || {
            files::write_xy(&dir, i, &x, &y, &spec);
            let evals = files::Evaluations {
                x: &x,
                y: &y,
                names: &spec.expressions,
            };
            files::write_results_page(&dir, i, evals, tmp.as_ref(), current.as_ref());
        });
    }

    /// A batch that could not be evaluated: its error is said once at the
    /// default level (a set-up error, such as a missing script, repeats in
    /// every iteration; later repeats are at INFO), its points counted as
    /// missing, and its directory not left empty.
    fn batch_failed(&mut self, iter_dir: &Path, error: &str, points: usize) {
        if self.missing.last_batch_error.as_deref() == Some(error) {
            log::info(&format!("Error evaluating batch (again): {error}"));
        } else {
            log::notice(&format!("Error evaluating batch: {error}"));
            self.missing.last_batch_error = Some(error.to_string());
        }
        self.missing.seen += points;
        for _ in 0..points {
            self.missing.add(true, error);
        }
        remove_if_empty(iter_dir);
    }

    /// The objective of each unique point from its row (a row that is not
    /// `done` is missing, with a warning naming the point).
    fn objectives_of(&mut self, rows: &[Row], points: &[Point]) -> Vec<Objective> {
        let mut out = vec![Objective::Missing; points.len()];
        let mut evaluable: Vec<usize> = Vec::new();
        self.missing.seen += points.len();
        for (k, row) in rows.iter().enumerate().take(points.len()) {
            let status = row.get("status").map(Value::py_str);
            if status.as_deref().is_some_and(|s| s != "done") {
                let error = row.get("error").map(Value::py_str).unwrap_or_default();
                log::warn(&format!(
                    "Point {k}: {} → FAILED: {error}",
                    show_point(&points[k])
                ));
                self.missing
                    .add(true, &format!("{} → {error}", show_point(&points[k])));
            } else {
                evaluable.push(k);
            }
        }
        let refs: Vec<&Row> = evaluable.iter().map(|k| &rows[*k]).collect();
        match self.objectives.evaluate(&refs) {
            Ok(values) => {
                for (k, (objective, why)) in evaluable.iter().zip(values) {
                    if let Some(why) = why {
                        log::warn(&format!("Point {k}: {why}"));
                        self.missing.add(false, &why);
                    }
                    out[*k] = objective;
                }
            }
            Err(e) => {
                log::notice(&format!("objectives not evaluated: {e}"));
                for _ in &evaluable {
                    self.missing.add(false, &e.to_string());
                }
            }
        }
        out
    }

    /// The processed (intermediate or final) analysis of the points so
    /// far; an error is warned and counts as no analysis.
    fn analysis_with(&self, algorithm: &mut dyn Algorithm, tmp: bool) -> Option<Map<String, Json>> {
        let got = if tmp {
            algorithm.analysis_tmp(&self.x, &self.y)
        } else {
            algorithm.analysis(&self.x, &self.y)
        };
        match got {
            Ok(Some(a)) => Some(files::process(self.dir, self.iteration, &a)),
            Ok(None) => None,
            Err(e) => {
                log::warn(&format!("analysis failed: {e}"));
                None
            }
        }
    }

    fn final_analysis(&self, algorithm: &mut dyn Algorithm) -> Map<String, Json> {
        let analysis = self.analysis_with(algorithm, false).unwrap_or_default();
        if let Some(text) = analysis.get("text").and_then(Json::as_str) {
            log::info(text);
        }
        analysis
    }

    fn report(&self, options: &DesignOptions, analysis: Map<String, Json>) -> DesignReport {
        let valid = self.y.iter().filter(|o| o.is_valid()).count();
        let interrupted = !self.cancel.may_start();
        if interrupted {
            log::warn(&format!(
                "fzd interrupted after {} iteration(s): the files of the last one are in {}",
                self.iteration,
                self.dir.display()
            ));
        }
        DesignReport {
            xy: self.xy_table(),
            analysis,
            algorithm: options.algorithm.clone(),
            iterations: self.iteration,
            total_evaluations: self.x.len(),
            summary: format!(
                "{} completed: {} iterations, {} evaluations ({valid} valid)",
                options.algorithm,
                self.iteration,
                self.x.len()
            ),
            interrupted,
            moved_aside: None,
            report_page: None,
        }
    }

    /// The XY table: point columns (range then fixed variables) and one
    /// column per objective, named by its expression (`output` when none
    /// was given).
    fn xy_table(&self) -> Table {
        let spec = self.objectives.spec();
        let mut columns: Vec<String> = self.variables.ranges.keys().cloned().collect();
        columns.extend(self.variables.fixed.keys().cloned());
        for p in &self.x {
            for k in p.keys() {
                if !columns.contains(k) {
                    columns.push(k.clone());
                }
            }
        }
        let n_vars = columns.len();
        columns.extend(spec.expressions.iter().cloned());
        let rows = self
            .x
            .iter()
            .zip(&self.y)
            .map(|(p, o)| {
                let mut row: Vec<Value> = columns[..n_vars]
                    .iter()
                    .map(|k| p.get(k).map_or(Value::Null, |v| Value::Float(*v)))
                    .collect();
                match o.values() {
                    Some(v) => row.extend(v.into_iter().map(Value::Float)),
                    None => row.extend(spec.expressions.iter().map(|_| Value::Null)),
                }
                row
            })
            .collect();
        Table { columns, rows }
    }
}

/// Removes `dir` when it exists and holds nothing (an iteration that
/// stopped before writing anything leaves no empty directory).
fn remove_if_empty(dir: &Path) {
    let _ = std::fs::remove_dir(dir);
}

/// The unique points of a batch (first occurrence kept; exact equality
/// of the (name, value) pairs) and, for every point, the index of its
/// representative.
pub fn dedupe(batch: &[Point]) -> (Vec<Point>, Vec<usize>) {
    let mut seen: HashMap<Vec<(String, u64)>, usize> = HashMap::new();
    let mut unique: Vec<Point> = Vec::new();
    let mut of = Vec::with_capacity(batch.len());
    for p in batch {
        let mut key: Vec<(String, u64)> = p
            .iter()
            .map(|(k, v)| (k.clone(), normalised_bits(*v)))
            .collect();
        key.sort();
        let at = *seen.entry(key).or_insert_with(|| {
            unique.push(p.clone());
            unique.len() - 1
        });
        of.push(at);
    }
    (unique, of)
}

/// Bits of a float for equality (0.0 and -0.0 are the same point).
fn normalised_bits(v: f64) -> u64 {
    if v == 0.0 {
        0
    } else {
        v.to_bits()
    }
}

fn show_point(p: &Point) -> String {
    let parts: Vec<String> = p
        .iter()
        .map(|(k, v)| format!("'{k}': {}", Value::Float(*v).py_repr()))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// Writes `values.csv` of a function-model iteration: the row's columns
/// (variables, outputs, status, error), CSV-quoted.
fn write_values(dir: &Path, rows: &[Row]) {
    if let Err(e) = std::fs::create_dir_all(dir) {
        log::warn(&format!("could not create {}: {e}", dir.display()));
        return;
    }
    let mut header: Vec<String> = Vec::new();
    for row in rows {
        for k in row.keys() {
            if !header.contains(k) {
                header.push(k.clone());
            }
        }
    }
    let lines = rows.iter().map(|row| {
        header
            .iter()
            .map(|k| match row.get(k) {
                None | Some(Value::Null) => String::new(),
                Some(v) => v.py_str(),
            })
            .collect()
    });
    files::write_csv(&dir.join("values.csv"), &header, lines);
}

#[cfg(test)]
mod tests;
