//! `fz.install_model`, `fz.install_algorithm`, `fz.uninstall_*`,
//! `fz.list_installed_*` and upstream's `fz.installer` helpers: thin
//! calls into `fz_core::plugins`, results as JSON text in upstream's
//! shapes (the Python side turns them into dicts and Paths).

use super::{lookup, py_err};
use fz_core::model::Lookup;
use fz_core::plugins::{self, Kind};
use pyo3::prelude::*;
use serde_json::{json, Map, Value as Json};
use std::path::{Path, PathBuf};

/// The lookup of the current directory, with the home directory the
/// Python side gives (`Path.home()`), else `$HOME`.
fn lookup_with(home: Option<String>) -> PyResult<Lookup> {
    let mut l = lookup()?;
    if let Some(h) = home {
        l.home = Some(PathBuf::from(h));
    }
    Ok(l)
}

fn provenance(p: &plugins::fetch::Provenance) -> Json {
    json!({"source": p.source, "url": p.url, "ref": p.reference, "sha256": p.sha256})
}

/// `{model_name, install_path, installed_files, models, provenance}`.
#[pyfunction]
#[pyo3(signature = (source, global_install, home=None))]
fn install_model(
    py: Python<'_>,
    source: String,
    global_install: bool,
    home: Option<String>,
) -> PyResult<String> {
    let lookup = lookup_with(home)?;
    let done = py
        .detach(|| plugins::install_model(&source, global_install, &lookup))
        .map_err(py_err)?;
    let first = done.model_paths.first().map(|p| p.display().to_string());
    Ok(json!({
        "model_name": done.models.first(),
        "install_path": first,
        "installed_files": done.installed_files,
        "models": done.models,
        "provenance": provenance(&done.provenance),
    })
    .to_string())
}

/// `{algorithm_name, install_path, all_files, algorithms, provenance}`.
#[pyfunction]
#[pyo3(signature = (source, global_install, home=None))]
fn install_algorithm(
    py: Python<'_>,
    source: String,
    global_install: bool,
    home: Option<String>,
) -> PyResult<String> {
    let lookup = lookup_with(home)?;
    let done = py
        .detach(|| plugins::install_algorithm(&source, global_install, &lookup))
        .map_err(py_err)?;
    let files: Vec<String> = done.files.iter().map(|p| p.display().to_string()).collect();
    Ok(json!({
        "algorithm_name": done.names.first(),
        "install_path": files.first(),
        "all_files": files,
        "algorithms": done.names,
        "provenance": provenance(&done.provenance),
    })
    .to_string())
}

/// `True` when something was uninstalled; `False` with a warning on
/// stderr when it is not installed or cannot be removed (as upstream).
#[pyfunction]
#[pyo3(signature = (kind, name, global_uninstall, home=None))]
fn uninstall(
    kind: &str,
    name: &str,
    global_uninstall: bool,
    home: Option<String>,
) -> PyResult<bool> {
    let kind = match kind {
        "model" => Kind::Model,
        "algorithm" => Kind::Algorithm,
        other => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "uninstall: kind must be 'model' or 'algorithm', got '{other}'"
            )))
        }
    };
    let lookup = lookup_with(home)?;
    match plugins::uninstall(kind, name, global_uninstall, &lookup) {
        Ok(Some(_)) => Ok(true),
        Ok(None) => {
            let dir = plugins::base_dir(&lookup, global_uninstall)
                .map(|b| {
                    b.join(plugins::uninstall::kind_dir(kind))
                        .display()
                        .to_string()
                })
                .unwrap_or_default();
            fz_core::log::warn(&format!("{} '{name}' not found in {dir}", kind.as_str()));
            Ok(false)
        }
        Err(e) => {
            fz_core::log::warn(&format!("cannot uninstall {} '{name}': {e}", kind.as_str()));
            Ok(false)
        }
    }
}

/// `{name: model JSON + {"global": bool}}` (models that are not JSON
/// objects are skipped with a warning).
#[pyfunction]
#[pyo3(signature = (global_list, home=None))]
fn list_installed_models(global_list: bool, home: Option<String>) -> PyResult<String> {
    let lookup = lookup_with(home)?;
    let mut out = Map::new();
    for m in plugins::list::installed_models(&lookup, global_list) {
        let Json::Object(mut def) = m.json else {
            fz_core::log::warn(&format!("{}: not a JSON object, skipped", m.path.display()));
            continue;
        };
        def.insert(
            "global".into(),
            json!(m.scope == fz_core::calculators::alias::Scope::Home),
        );
        out.insert(m.name, Json::Object(def));
    }
    Ok(Json::Object(out).to_string())
}

/// `{name: {name, file, type, global}}`.
#[pyfunction]
#[pyo3(signature = (global_list, home=None))]
fn list_installed_algorithms(global_list: bool, home: Option<String>) -> PyResult<String> {
    let lookup = lookup_with(home)?;
    let out: Map<String, Json> = plugins::list::installed_algorithms(&lookup, global_list)
        .into_iter()
        .map(|a| {
            let v = json!({
                "name": a.name,
                "file": a.path.display().to_string(),
                "type": a.language,
                "global": a.scope == fz_core::calculators::alias::Scope::Home,
            });
            (a.name, v)
        })
        .collect();
    Ok(Json::Object(out).to_string())
}

/// The first URL a remote source is downloaded from; `None` for a local
/// path or a source that is not valid.
#[pyfunction]
fn source_url(source: &str) -> PyResult<Option<String>> {
    let cwd = lookup()?.cwd;
    Ok(plugins::source::Source::parse(source, &cwd)
        .ok()
        .and_then(|s| s.urls().into_iter().next()))
}

/// Upstream's `extract_model_files`: `{model_json, model_name,
/// extract_dir, fz_dir}` (paths as text).
#[pyfunction]
fn extract_model(py: Python<'_>, archive: String, dest: String) -> PyResult<String> {
    let found = py
        .detach(|| plugins::model::extract_model(Path::new(&archive), Path::new(&dest)))
        .map_err(py_err)?;
    Ok(json!({
        "model_json": found.model_json.display().to_string(),
        "model_name": found.model_name,
        "extract_dir": found.model_json.parent().map(|p| p.display().to_string()),
        "fz_dir": found.fz_dir.map(|p| p.display().to_string()),
    })
    .to_string())
}

/// Adds these functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(install_model, m)?)?;
    m.add_function(wrap_pyfunction!(install_algorithm, m)?)?;
    m.add_function(wrap_pyfunction!(uninstall, m)?)?;
    m.add_function(wrap_pyfunction!(list_installed_models, m)?)?;
    m.add_function(wrap_pyfunction!(list_installed_algorithms, m)?)?;
    m.add_function(wrap_pyfunction!(source_url, m)?)?;
    m.add_function(wrap_pyfunction!(extract_model, m)?)?;
    Ok(())
}
