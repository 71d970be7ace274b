//! Turning command-line text into library values: the input path, the
//! model with its inline overrides, `--input_static` lists.

use crate::args::{InputPathArgs, ModelArgs};
use crate::Failure;
use fz_core::model::{model_from_json, resolve_model_str, Lookup, Model, Overrides};
use std::path::{Path, PathBuf};

/// The model the CLI uses when `--model` is not given.
const DEFAULT_MODEL: &str =
    r##"{"varprefix":"$","formulaprefix":"@","delim":"{}","commentline":"#"}"##;

/// The input path from the positional argument or `--input_path`.
pub fn input_path(a: &InputPathArgs) -> Result<String, Failure> {
    one_path("input_path", &a.input_path_pos, &a.input_path)
}

/// A path given positionally or by its `--<name>` flag: once, and the same
/// if given both ways.
pub fn one_path(
    name: &str,
    positional: &Option<String>,
    flag: &Option<String>,
) -> Result<String, Failure> {
    match (positional, flag) {
        (Some(p), Some(o)) if p != o => Err(Failure::Usage(format!(
            "{name} given twice: positional '{p}' and --{name} '{o}'"
        ))),
        (Some(p), _) => Ok(p.clone()),
        (None, Some(o)) => Ok(o.clone()),
        (None, None) => Err(Failure::Usage(format!(
            "{name} is required (positional or --{name})"
        ))),
    }
}

/// The model from `--model` (or the CLI default) with inline flags applied.
pub fn model(a: &ModelArgs, lookup: &Lookup) -> Result<Model, Failure> {
    let base = match &a.model {
        Some(text) => resolve_model_str(text, lookup)?,
        None => {
            let json = serde_json::from_str(DEFAULT_MODEL)
                .map_err(|e| Failure::Error(format!("internal: default model: {e}")))?;
            model_from_json(json, "default model")?
        }
    };
    let mut outputs = Vec::new();
    for spec in &a.output_cmd {
        match spec.split_once('=') {
            Some((name, cmd)) if !name.trim().is_empty() => {
                outputs.push((name.trim().to_string(), cmd.to_string()))
            }
            _ => {
                return Err(Failure::Usage(format!(
                    "--output-cmd expects NAME=COMMAND, got '{spec}'"
                )))
            }
        }
    }
    let overrides = Overrides {
        var_prefix: a.varprefix.clone(),
        formula_prefix: a.formulaprefix.clone(),
        delim: a.delim.clone(),
        comment: a.commentline.clone(),
        interpreter: a.interpreter.clone(),
        outputs,
    };
    Ok(base.with_overrides(&overrides)?)
}

/// `--input_static` values: each a path or a JSON list of paths.
pub fn input_static(values: &[String]) -> Result<Vec<String>, Failure> {
    let mut out = Vec::new();
    for v in values {
        let t = v.trim();
        if t.starts_with('[') {
            let list: Vec<String> = serde_json::from_str(t).map_err(|e| {
                Failure::Usage(format!("--input_static: invalid JSON list '{t}': {e}"))
            })?;
            out.extend(list);
        } else {
            out.push(v.clone());
        }
    }
    Ok(out)
}

/// `path` made absolute against `cwd`.
pub fn absolute(path: &str, cwd: &Path) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

/// The `--format` value (already one of the choices clap allows).
pub fn format(text: &str) -> Result<fz_core::format::Format, Failure> {
    text.parse()
        .map_err(|e: fz_core::format::ParseFormatError| Failure::Usage(e.to_string()))
}

/// The `--case_naming` value, if given.
pub fn case_naming(text: Option<&str>) -> Result<Option<fz_core::config::CaseNaming>, Failure> {
    text.map(str::parse).transpose().map_err(Failure::Usage)
}

/// The design from `--input_variables`, if given.
pub fn design(text: Option<&str>, cwd: &Path) -> Result<Option<fz_core::design::Design>, Failure> {
    Ok(match text {
        Some(t) => Some(fz_core::design::from_text(t, cwd)?),
        None => None,
    })
}

/// A library error, where "input_variables is required" is a command-line
/// mistake (`--input_variables` missing): exit 2; so is a design with more
/// cases than `FZ_MAX_CASES`.
pub fn library_failure(e: fz_core::Error) -> Failure {
    match e {
        fz_core::Error::Value(m) if m.starts_with("input_variables is required") => {
            Failure::Usage(format!("--{m}"))
        }
        fz_core::Error::TooManyCases(m) => Failure::Usage(m),
        e => e.into(),
    }
}
