//! `fzi`: what an input declares (static objects, variables with their
//! defaults, formulas with their values under those defaults).
//!
//! [`scan`] reads without evaluating (used by `fzc` to check variables);
//! [`fzi`] adds the evaluation of formulas in an interpreter worker.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::log;
use crate::model::Model;
use crate::template::input::{load, InputSet};
use crate::template::interp::{CaseRequest, FileRequest, FormulaOutcome, InterpreterKind, Worker};
use crate::template::literal::parse_default;
use crate::template::numfmt::format_number;
use crate::template::parse::{Formula, Piece, Template};
use crate::template::static_objects::{reported_expressions, static_block};
use crate::value::Value;
use indexmap::IndexMap;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// What an input declares, before any evaluation.
#[derive(Debug)]
pub struct Scan {
    /// The loaded input files.
    pub input: InputSet,
    /// Variable names, sorted by code point.
    pub variables: BTreeSet<String>,
    /// Defaults (last one in scan order wins), parsed as Python literals.
    pub defaults: IndexMap<String, Value>,
    /// The static-object block (line, code).
    pub static_block: Vec<(usize, String)>,
    /// Expressions reported for static objects.
    pub static_objects: IndexMap<String, String>,
    /// Distinct formulas by key, first appearance order: (key, template
    /// index among the input's templates, formula index in that template).
    pub formulas: Vec<(String, usize, usize)>,
}

impl Scan {
    /// Every key `fzi` returns: static objects, variables, formula keys.
    pub fn keys(&self) -> BTreeSet<String> {
        let mut keys: BTreeSet<String> = self.variables.clone();
        keys.extend(self.static_objects.keys().cloned());
        keys.extend(self.formulas.iter().map(|(k, _, _)| k.clone()));
        keys
    }

    fn templates(&self) -> Vec<&Template> {
        self.input.templates().map(|(_, t)| t).collect()
    }
}

/// Canonical absolute paths of `input_static` entries (relative ones
/// against `cwd`), to leave them out of the scan.
pub fn static_exclusions(input_static: &[String], cwd: &Path) -> HashSet<PathBuf> {
    input_static
        .iter()
        .filter_map(|e| std::fs::canonicalize(cwd.join(e)).ok())
        .collect()
}

/// The key of a formula: its expression with variable references written
/// as bare names, trimmed.
fn formula_key(t: &Template, f: &Formula) -> String {
    let mut key = String::new();
    for p in &f.expr {
        match p {
            Piece::Text(r) => key.push_str(t.text(r)),
            Piece::Var(v) => key.push_str(&v.name),
        }
    }
    key.trim().to_string()
}

/// Scans `input_path` (absolute) without evaluating anything.
pub fn scan(input_path: &Path, model: &Model, input_static: &[String], cwd: &Path) -> Result<Scan> {
    let input = load(
        input_path,
        &model.syntax,
        &static_exclusions(input_static, cwd),
    )?;
    let mut variables = BTreeSet::new();
    let mut defaults = IndexMap::new();
    let mut formulas: Vec<(String, usize, usize)> = Vec::new();
    let mut seen = HashSet::new();
    let templates: Vec<&Template> = input.templates().map(|(_, t)| t).collect();
    for (ti, t) in templates.iter().enumerate() {
        // Context lines are segments too, so this covers them; source order
        // makes the last default win.
        for v in t.var_refs() {
            variables.insert(v.name.clone());
            if let Some(d) = &v.default {
                defaults.insert(v.name.clone(), parse_default(d));
            }
        }
        for (fi, f) in t.formulas().enumerate() {
            let key = formula_key(t, f);
            if seen.insert(key.clone()) {
                formulas.push((key, ti, fi));
            }
        }
    }
    let block = static_block(templates.iter().copied());
    let static_objects = reported_expressions(&block);
    Ok(Scan {
        input,
        variables,
        defaults,
        static_block: block,
        static_objects,
        formulas,
    })
}

/// Shows the remarks found while validating a model (visible by default),
/// or, in strict mode (`FZ_STRICT`), refuses the model with the first one.
pub fn report_model_warnings(model: &Model) -> Result<()> {
    refuse_in_strict_mode(&model.warnings, Error::Model)?;
    for w in &model.warnings {
        log::notice(w);
    }
    Ok(())
}

/// In strict mode (`FZ_STRICT`), the first of `warnings` as an error
/// (made by `error`); otherwise nothing.
pub fn refuse_in_strict_mode(warnings: &[String], error: impl Fn(String) -> Error) -> Result<()> {
    match warnings.first() {
        Some(w) if crate::config::strict() => {
            Err(error(format!("{w} (strict mode: warnings are errors)")))
        }
        _ => Ok(()),
    }
}

/// The interpreter a model asks for (model key, else the configured one);
/// `None` (with a warning) for interpreters fz cannot run.
pub fn interpreter_for(model: &Model, config: &Config) -> Option<InterpreterKind> {
    let name = model
        .interpreter
        .clone()
        .unwrap_or_else(|| config.interpreter.clone());
    let kind = InterpreterKind::from_name(&name);
    if kind.is_none() {
        log::notice(&format!(
            "Interpreter '{name}' not yet implemented, skipping formula evaluation"
        ));
    }
    kind
}

/// `fzi`: static objects (their expression text), variables (sorted, with
/// their default or null) and formulas (evaluated with the defaults and
/// static objects; null when they fail).
pub fn fzi(
    input_path: &Path,
    model: &Model,
    input_static: &[String],
    cwd: &Path,
) -> Result<IndexMap<String, Value>> {
    report_model_warnings(model)?;
    let scan = scan(input_path, model, input_static, cwd)?;
    let mut out: IndexMap<String, Value> = IndexMap::new();
    for (k, v) in &scan.static_objects {
        out.insert(k.clone(), Value::Str(v.clone()));
    }
    for name in &scan.variables {
        out.insert(
            name.clone(),
            scan.defaults.get(name).cloned().unwrap_or(Value::Null),
        );
    }
    if scan.formulas.is_empty() {
        return Ok(out);
    }
    let values = evaluate_formulas(&scan, model, &Config::from_env())?;
    for ((key, _, _), value) in scan.formulas.iter().zip(values) {
        out.insert(key.clone(), value);
    }
    Ok(out)
}

fn evaluate_formulas(scan: &Scan, model: &Model, config: &Config) -> Result<Vec<Value>> {
    let templates = scan.templates();
    let static_names: HashSet<&str> = scan.static_objects.keys().map(String::as_str).collect();
    let mut exprs = Vec::new();
    let mut formats = Vec::new();
    for (_, ti, fi) in &scan.formulas {
        let t = templates[*ti];
        let Some(f) = t.formulas().nth(*fi) else {
            return Err(Error::Value("internal: formula index out of range".into()));
        };
        let mut expr = String::new();
        for p in &f.expr {
            match p {
                Piece::Text(r) => expr.push_str(t.text(r)),
                Piece::Var(v) => match scan.defaults.get(&v.name) {
                    Some(d) => expr.push_str(&d.py_str()),
                    None if static_names.contains(v.name.as_str()) => expr.push_str(&v.name),
                    None => expr.push_str(t.text(&v.raw)),
                },
            }
        }
        exprs.push((f.line, expr.trim().to_string()));
        formats.push(f.format.clone());
    }
    let Some(kind) = interpreter_for(model, config) else {
        return Ok(formats
            .into_iter()
            .map(|f| f.map_or(Value::Null, Value::Str))
            .collect());
    };
    let mut worker = Worker::start(kind)?;
    let files = [FileRequest {
        file: "static objects".into(),
        context: scan.static_block.clone(),
        formulas: exprs,
        fallback_line_by_line: false,
    }];
    let outcomes = worker.evaluate(&CaseRequest {
        vars: &scan.defaults,
        files: &files,
    })?;
    let Some(outcome) = outcomes.into_iter().next() else {
        return Err(Error::Interpreter(
            "formula interpreter returned no result".into(),
        ));
    };
    for w in &outcome.warnings {
        log::warn(w);
    }
    Ok(outcome
        .results
        .into_iter()
        .zip(formats)
        .map(|(r, format)| match (r, format) {
            (
                FormulaOutcome::Ok {
                    number: Some(n), ..
                },
                Some(spec),
            ) => match format_number(&spec, n).and_then(|s| s.parse::<f64>().ok()) {
                Some(x) => Value::Float(x),
                None => Value::Float(n),
            },
            (FormulaOutcome::Ok { value, .. }, _) => value,
            // Upstream reports the format text itself when a formatted
            // formula fails.
            (FormulaOutcome::Err(_), Some(spec)) => Value::Str(spec),
            (FormulaOutcome::Err(_), None) => Value::Null,
        })
        .collect())
}
