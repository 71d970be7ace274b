//! `fzd` / `fz design`: resolves the arguments, runs the design with
//! Ctrl+C handled like `fzr`, prints upstream's summary block.

use crate::args::DesignArgs;
use crate::{commands::print_out, resolve, Failure};
use fz_core::algorithms::ObjectiveSpec;
use fz_core::model::Lookup;
use fz_core::ops::design::entry::{fzd_files, json_object, parse_options, FileDesign};
use serde_json::{Map, Value as Json};
use std::path::Path;

/// Runs the design; exit 0 when some evaluation is valid, 1 when none,
/// 130 when interrupted.
pub fn design(a: &DesignArgs) -> Result<u8, Failure> {
    a.log.apply();
    let path = match (&a.input_dir, &a.input.input_path_pos, &a.input.input_path) {
        (Some(dir), None, None) => dir.clone(),
        _ => resolve::input_path(&a.input)?,
    };
    let variables = a
        .input_variables
        .as_deref()
        .ok_or_else(|| Failure::Usage("--input_variables (-v) is required".into()))?;
    let algorithm = a
        .algorithm
        .clone()
        .ok_or_else(|| Failure::Usage("--algorithm (-a) is required".into()))?;
    let lookup = Lookup::from_env()?;
    let model = resolve::model(&a.model, &lookup)?;
    let cancel = fz_core::calculators::Cancel::new();
    let design = FileDesign {
        input_path: resolve::absolute(&path, &lookup.cwd),
        variables: variables_map(variables, &lookup.cwd)?,
        algorithm,
        algorithm_options: match &a.options {
            Some(text) => parse_options(text, &lookup.cwd)?,
            None => Map::new(),
        },
        objectives: objectives(&a.output_expression),
        calculators: a.calculators.clone(),
        analysis_dir: resolve::absolute(&a.results_dir, &lookup.cwd),
        cancel: Some(cancel.clone()),
        no_progress: a.no_progress,
        report: crate::commands::report_page(a.report.as_deref(), &a.results_dir, &lookup.cwd),
    };
    let guard = crate::interrupt::install(cancel);
    let report = fzd_files(&design, &model, &lookup).map_err(resolve::library_failure);
    drop(guard);
    let report = report?;
    if let Some(page) = &report.report_page {
        eprintln!("report: {}", page.display());
    }
    let line = "=".repeat(60);
    let mut out = format!("{line}\n{}\n{line}\n", report.summary);
    if let Some(text) = report.analysis.get("text").and_then(Json::as_str) {
        out.push_str(text);
        out.push('\n');
    }
    out.push_str(&format!("Analysis directory: {}", a.results_dir));
    print_out(&out)?;
    if report.interrupted {
        eprintln!(
            "⚠️  fzd interrupted after {} iteration(s). Run the same command again: the points already evaluated come from {}'s cache.",
            report.iterations, a.results_dir
        );
        return Ok(130);
    }
    let valid = report
        .xy
        .rows
        .iter()
        .any(|r| r.last().is_some_and(|v| *v != fz_core::Value::Null));
    Ok(if valid || report.total_evaluations == 0 {
        0
    } else {
        1
    })
}

/// `-e` given once is one objective; several make a multi-objective list.
fn objectives(given: &[String]) -> Option<ObjectiveSpec> {
    match given.len() {
        0 => None,
        n => Some(ObjectiveSpec {
            expressions: given.to_vec(),
            multi: n > 1,
        }),
    }
}

/// The variables from JSON text or a JSON file.
fn variables_map(text: &str, cwd: &Path) -> Result<Map<String, Json>, Failure> {
    json_object(text, cwd, "--input_variables").map_err(|e| {
        Failure::Error(format!(
            "{e} (variables are a JSON object such as {{\"x\": \"[0;1]\", \"z\": \"5\"}})"
        ))
    })
}
