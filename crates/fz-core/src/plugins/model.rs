//! Installing a model repository (plugins.md §3, fixed): every
//! `.fz/models/*.json` of the repository (a top-level `model.json` only
//! when there is none, never one from `examples/`), each named after its
//! required `id`, plus every file of the other `.fz/` sub-directories
//! (calculator aliases, wrapper scripts, algorithms…), scripts made
//! executable.
//!
//! Choosing the files only; writing them is [`super::stage`]'s.

use super::fetch::{self, Provenance};
use super::manifest::Kind;
use super::stage::{self, Plan, Planned};
use super::{base_dir, extract::Limits, rel_string, tree};
use crate::model::Lookup;
use crate::{Error, Result};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

/// What a model install did.
#[derive(Debug, Clone)]
pub struct ModelInstall {
    /// The model ids installed (the first is upstream's `model_name`).
    pub models: Vec<String>,
    /// The installed model files (`<base>/models/<id>.json`).
    pub model_paths: Vec<PathBuf>,
    /// The other files, relative to the base directory (upstream's
    /// `installed_files`).
    pub installed_files: Vec<String>,
    /// `./.fz` or `~/.fz`.
    pub base: PathBuf,
    /// Where it came from (SHA-256 of the archive included).
    pub provenance: Provenance,
}

/// Installs the model repository `source` into `./.fz` (or `~/.fz` when
/// `global`).
pub fn install_model(source: &str, global: bool, lookup: &Lookup) -> Result<ModelInstall> {
    let base = base_dir(lookup, global)?;
    let fetched = fetch::fetch(source, &lookup.cwd, Limits::default())?;
    let plan = plan(&fetched.root, source)?;
    stage::apply(&plan, &base, &fetched.provenance)?;
    let (models, others): (Vec<&Planned>, Vec<&Planned>) = plan
        .files
        .iter()
        .partition(|f| f.rel.starts_with("models/"));
    Ok(ModelInstall {
        model_paths: models
            .iter()
            .map(|f| super::manifest::path_of(&base, &f.rel))
            .collect(),
        models: plan.names.clone(),
        installed_files: others.iter().map(|f| f.rel.clone()).collect(),
        base,
        provenance: fetched.provenance,
    })
}

/// The first model of an archive, extracted (safely) into `dest`: what
/// upstream's `extract_model_files` returns.
#[derive(Debug, Clone)]
pub struct ExtractedModel {
    /// The model definition file (in `dest`).
    pub model_json: PathBuf,
    /// Its `id`.
    pub model_name: String,
    /// The repository's `.fz` directory, when it has one.
    pub fz_dir: Option<PathBuf>,
}

/// Extracts `archive` into `dest` and finds its first model definition
/// (`.fz/models/*.json`, else a top-level `model.json`).
pub fn extract_model(archive: &Path, dest: &Path) -> Result<ExtractedModel> {
    super::extract::extract(archive, dest, Limits::default())?;
    let root = tree::repository_root(dest)?;
    let source = archive.display().to_string();
    let plan = plan(&root, &source)?;
    let (Some(first), Some(name)) = (plan.files.first(), plan.names.first()) else {
        return Err(Error::Value(format!(
            "No model definition found in '{source}'"
        )));
    };
    let fz = root.join(".fz");
    Ok(ExtractedModel {
        model_json: first.src.clone(),
        model_name: name.clone(),
        fz_dir: fz.is_dir().then_some(fz),
    })
}

/// The files a model install of the repository at `root` writes.
pub fn plan(root: &Path, source: &str) -> Result<Plan> {
    let defs = definitions(root, source)?;
    let mut names: Vec<String> = Vec::new();
    let mut files = Vec::new();
    for def in defs {
        let origin = rel_string(&def, root);
        let id = model_id(&def, &origin)?;
        if let Some(i) = names.iter().position(|n| *n == id) {
            return Err(Error::Value(format!(
                "'{}' and '{origin}' both define model '{id}'; refused",
                files_origin(&files, i)
            )));
        }
        files.push(Planned {
            src: def,
            rel: format!("models/{id}.json"),
            origin,
            executable: false,
        });
        names.push(id);
    }
    let fz = root.join(".fz");
    for sub in subdirectories(&fz)? {
        let name = sub.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "models" {
            continue;
        }
        for file in tree::files_under(&sub, root)? {
            files.push(Planned {
                rel: rel_string(&file, &fz),
                origin: rel_string(&file, root),
                executable: tree::executable(&file),
                src: file,
            });
        }
    }
    Ok(Plan {
        kind: Kind::Model,
        names,
        files,
    })
}

fn files_origin(files: &[Planned], i: usize) -> &str {
    files.get(i).map(|f| f.origin.as_str()).unwrap_or("")
}

/// `.fz/models/*.json`, else a top-level `model.json`.
fn definitions(root: &Path, source: &str) -> Result<Vec<PathBuf>> {
    let defs: Vec<PathBuf> = tree::files_in(&root.join(".fz").join("models"), root)?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    if !defs.is_empty() {
        return Ok(defs);
    }
    let flat = root.join("model.json");
    if flat.is_file() {
        return Ok(vec![flat]);
    }
    Err(Error::Value(format!(
        "No model definition found in '{source}' (expected .fz/models/*.json, or model.json at the top of the repository)"
    )))
}

/// The `id` of a model file; it names the installed file, so it must be
/// a plain file name.
fn model_id(def: &Path, origin: &str) -> Result<String> {
    let text = std::fs::read_to_string(def).map_err(|e| Error::io(def, e))?;
    let json: Json = serde_json::from_str(&text)
        .map_err(|e| Error::Value(format!("{origin}: invalid JSON ({e})")))?;
    let id = json
        .get("id")
        .and_then(Json::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Error::Value(format!(
                "{origin}: Model definition must have an 'id' field"
            ))
        })?;
    if !super::safe_name(id) {
        return Err(Error::Value(format!(
            "{origin}: model id '{id}' cannot be a file name"
        )));
    }
    Ok(id.to_string())
}

/// The sub-directories of `dir`, sorted (none when it does not exist).
fn subdirectories(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir()))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io(dir, e)),
    };
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::write;

    #[test]
    fn every_model_and_the_other_fz_directories() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        write(r, ".fz/models/A.json", r#"{"id": "Alpha"}"#);
        write(r, ".fz/models/B.json", r#"{"id": "Beta"}"#);
        write(r, ".fz/models/notes.txt", "not a model");
        write(r, ".fz/calculators/localhost_Alpha.json", "{}");
        write(r, ".fz/calculators/scripts/run.sh", "echo");
        write(r, "examples/model.json", r#"{"id": "Example"}"#);
        let p = plan(r, "src").unwrap();
        assert_eq!(p.names, ["Alpha", "Beta"]);
        let rels: Vec<&str> = p.files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(
            rels,
            [
                "models/Alpha.json",
                "models/Beta.json",
                "calculators/localhost_Alpha.json",
                "calculators/scripts/run.sh"
            ]
        );
        assert!(p.files[3].executable && !p.files[2].executable);
        assert_eq!(p.files[0].origin, ".fz/models/A.json");
    }

    #[test]
    fn flat_model_json_and_errors() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        let e = plan(r, "src").unwrap_err().to_string();
        assert!(e.starts_with("No model definition found in 'src'"), "{e}");
        write(r, "model.json", r#"{"id": "Flat"}"#);
        assert_eq!(plan(r, "src").unwrap().names, ["Flat"]);
        write(r, ".fz/models/x.json", r#"{"varprefix": "$"}"#);
        let e = plan(r, "src").unwrap_err().to_string();
        assert_eq!(
            e,
            ".fz/models/x.json: Model definition must have an 'id' field"
        );
        write(r, ".fz/models/x.json", r#"{"id": "../x"}"#);
        let e = plan(r, "src").unwrap_err().to_string();
        assert!(e.contains("model id '../x' cannot be a file name"), "{e}");
        write(r, ".fz/models/x.json", r#"{"id": "Same"}"#);
        write(r, ".fz/models/y.json", r#"{"id": "Same"}"#);
        let e = plan(r, "src").unwrap_err().to_string();
        assert_eq!(
            e,
            "'.fz/models/x.json' and '.fz/models/y.json' both define model 'Same'; refused"
        );
        write(r, ".fz/models/y.json", "{ nope");
        let e = plan(r, "src").unwrap_err().to_string();
        assert!(e.starts_with(".fz/models/y.json: invalid JSON"), "{e}");
    }
}
