//! `fzo`: the model's outputs read from one or more result directories,
//! as a table (compile-and-output.md §5).

use crate::error::Result;
use crate::format::Table;
use crate::model::Model;
use crate::outputs::{build_table, extract_all, resolve_output_paths, shell};
use std::path::Path;

/// Reads the outputs of `model` from the directories `output_path` names
/// (a directory, a glob or a regular expression, relative to `cwd`): one
/// row per directory with `path`, one column per output (model order),
/// `_output_error` when an extractor failed, the variables encoded in the
/// directory names, and map values flattened into columns.
///
/// Shell extractors run in the directory, several directories at a time,
/// each bounded by `FZ_OUTPUT_TIMEOUT` (default 60 s). `NotFound` when
/// the path matches nothing.
pub fn fzo(output_path: &str, model: &Model, cwd: &Path) -> Result<Table> {
    super::input::report_model_warnings(model)?;
    let dirs = resolve_output_paths(output_path, cwd)?;
    let results = extract_all(&dirs, &model.output, shell::timeout_from_env());
    let names: Vec<String> = model.output.keys().cloned().collect();
    Ok(build_table(&names, &dirs, &results))
}
