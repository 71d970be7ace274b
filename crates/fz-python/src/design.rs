//! `fz._fz.fzd`: the design loop for the Python API, in both modes. The
//! file model runs like `fzr`; the function model evaluates each batch
//! by calling back into Python (`evaluate_batch(points_json) ->
//! rows_json`, from the loop's thread, taking the GIL for the call). An
//! exception that escapes the callback stops the loop and is raised.

use crate::{absolute, lookup, model, py_err, supervise};
use fz_core::algorithms::{ObjectiveSpec, Point};
use fz_core::ops::design::entry::{fzd_files, fzd_with, parse_options, FileDesign};
use fz_core::ops::design::objective::Row;
use fz_core::ops::design::{DesignReport, Evaluator};
use fz_core::{Error, Value};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Evaluates batches with a Python callable.
struct PyBatch {
    callback: Py<PyAny>,
    /// The exception that stopped the loop, raised after it ends.
    raised: Arc<Mutex<Option<PyErr>>>,
    cancel: fz_core::calculators::Cancel,
}

impl Evaluator for PyBatch {
    fn evaluate(&mut self, _dir: &Path, points: &[Point]) -> fz_core::Result<Vec<Row>> {
        let request = serde_json::to_string(points).map_err(|e| Error::Value(e.to_string()))?;
        let reply = Python::attach(|py| {
            self.callback
                .call1(py, (request,))
                .and_then(|r| r.extract::<String>(py))
        });
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                let shown = e.to_string();
                self.raised
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_or_insert(e);
                self.cancel.stop_new();
                return Err(Error::Value(shown));
            }
        };
        let rows: Vec<serde_json::Map<String, serde_json::Value>> =
            serde_json::from_str(&reply).map_err(|e| Error::Value(e.to_string()))?;
        Ok(rows
            .iter()
            .map(|r| r.iter().map(|(k, v)| (k.clone(), Value::from(v))).collect())
            .collect())
    }

    fn writes_cases(&self) -> bool {
        false
    }
}

/// `fzd`: JSON text of the report (`xy` as columns/rows, `analysis`,
/// `algorithm`, `iterations`, `total_evaluations`, `summary`,
/// `interrupted`). `evaluate_batch` set: function model (`input_path`,
/// `model_spec` and `calculators` unused).
#[pyfunction]
#[pyo3(signature = (input_path, variables_json, model_spec, model_is_json, expressions, multi, algorithm, calculators, options_text, analysis_dir, evaluate_batch=None, report=None))]
#[allow(clippy::too_many_arguments)]
pub fn fzd(
    py: Python<'_>,
    input_path: Option<String>,
    variables_json: String,
    model_spec: Option<String>,
    model_is_json: bool,
    expressions: Option<Vec<String>>,
    multi: bool,
    algorithm: String,
    calculators: Vec<String>,
    options_text: Option<String>,
    analysis_dir: String,
    evaluate_batch: Option<Py<PyAny>>,
    report: Option<String>,
) -> PyResult<String> {
    let lookup = lookup()?;
    let variables = match serde_json::from_str(&variables_json) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => return Err(PyValueError::new_err("input_variables must be a dict")),
    };
    let cancel = fz_core::calculators::Cancel::new();
    let design = FileDesign {
        input_path: absolute(input_path.as_deref().unwrap_or("."), &lookup.cwd),
        variables,
        algorithm,
        algorithm_options: match options_text {
            Some(t) => parse_options(&t, &lookup.cwd).map_err(py_err)?,
            None => serde_json::Map::new(),
        },
        objectives: expressions.map(|expressions| ObjectiveSpec { expressions, multi }),
        calculators,
        analysis_dir: absolute(&analysis_dir, &lookup.cwd),
        cancel: Some(cancel.clone()),
        no_progress: false,
        report: report.map(|page| absolute(&page, &lookup.cwd)),
    };
    let raised = Arc::new(Mutex::new(None));
    let worker = match evaluate_batch {
        Some(callback) => {
            let mut evaluator = PyBatch {
                callback,
                raised: raised.clone(),
                cancel: cancel.clone(),
            };
            std::thread::spawn(move || fzd_with(&design, &mut evaluator, &lookup))
        }
        None => {
            let spec = model_spec.ok_or_else(|| PyValueError::new_err("model is required"))?;
            let model = model(&spec, model_is_json, &lookup)?;
            std::thread::spawn(move || fzd_files(&design, &model, &lookup))
        }
    };
    // No events in a design: the channel is closed from the start.
    let (tx, rx) = std::sync::mpsc::channel();
    drop(tx);
    let (report, interrupt) = supervise(py, worker, rx, None, &cancel)?;
    if let Some(error) = raised.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(error);
    }
    if let Some(error) = interrupt {
        return Err(error);
    }
    report_json(&report.map_err(py_err)?)
}

fn report_json(r: &DesignReport) -> PyResult<String> {
    let rows: Vec<serde_json::Value> =
        r.xy.rows
            .iter()
            .map(|row| serde_json::Value::Array(row.iter().map(Value::to_json).collect()))
            .collect();
    Ok(serde_json::json!({
        "xy": {"columns": r.xy.columns, "rows": rows},
        "analysis": r.analysis,
        "algorithm": r.algorithm,
        "iterations": r.iterations,
        "total_evaluations": r.total_evaluations,
        "summary": r.summary,
        "interrupted": r.interrupted,
    })
    .to_string())
}
