//! From what the user wrote as `calculators` to calculator URIs: URIs as
//! they are, inline JSON definitions, `.json` files, alias names
//! (`.fz/calculators/<name>.json`, project then home) and, when nothing is
//! given, every alias that supports the model (else `sh://`).
//!
//! Alias patterns (globs, regexes) and the model compatibility check of
//! named aliases come with the remote back ends; this module must not run
//! anything.

use crate::error::{Error, Result};
use crate::model::{read_json_file, Lookup};
use serde_json::Value as Json;
use std::path::PathBuf;

/// URI schemes fz knows.
pub const SCHEMES: &[&str] = &["sh", "ssh", "cache", "slurm", "funz"];

/// Whether a calculator definition supports the model `id`.
fn supports(def: &serde_json::Map<String, Json>, id: Option<&str>) -> bool {
    match (def.get("models"), id) {
        (_, None) => true,
        (Some(Json::Object(m)), Some(id)) => m.contains_key(id),
        (Some(Json::Array(list)), Some(id)) => list.iter().any(|v| v.as_str() == Some(id)),
        _ => true,
    }
}

/// The URI of a definition `{"uri": …, "models": {id: command}}` (or the
/// legacy `{"command": uri}`), with the model's command appended.
fn uri_of(def: &serde_json::Map<String, Json>, id: Option<&str>) -> Option<String> {
    let Some(base) = def.get("uri").and_then(Json::as_str) else {
        return def
            .get("command")
            .and_then(Json::as_str)
            .map(str::to_string);
    };
    let command = match (def.get("models"), id) {
        (Some(Json::Object(m)), Some(id)) => m.get(id).and_then(Json::as_str),
        _ => None,
    };
    Some(match command {
        Some(cmd) if !base.ends_with(cmd) => {
            if base.ends_with("://") {
                format!("{base}{cmd}")
            } else {
                format!(
                    "{}/{}",
                    base.trim_end_matches('/'),
                    cmd.trim_start_matches('/')
                )
            }
        }
        _ => base.to_string(),
    })
}

fn from_json(json: &Json, id: Option<&str>, origin: &str, out: &mut Vec<String>) -> Result<()> {
    match json {
        Json::Object(def) => match uri_of(def, id) {
            Some(u) => out.push(u),
            None => {
                return Err(Error::Value(format!(
                    "{origin}: calculator definition has neither 'uri' nor 'command'"
                )))
            }
        },
        Json::Array(items) => {
            for item in items {
                from_json(item, id, origin, out)?;
            }
        }
        Json::String(s) => out.push(s.clone()),
        other => {
            return Err(Error::Type(format!(
                "{origin}: a calculator must be a URI string or an object, got {}",
                crate::model::json_type(other)
            )))
        }
    }
    Ok(())
}

/// Every alias file in `.fz/calculators/` (project, then home), sorted by
/// name within each directory.
fn alias_files(lookup: &Lookup) -> Vec<PathBuf> {
    let mut dirs = vec![lookup.cwd.join(".fz").join("calculators")];
    if let Some(home) = &lookup.home {
        dirs.push(home.join(".fz").join("calculators"));
    }
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

/// Resolves the calculators the user gave (none: auto-discovery) into
/// URIs, checking every scheme.
pub fn resolve(specs: &[String], model_id: Option<&str>, lookup: &Lookup) -> Result<Vec<String>> {
    let mut uris = Vec::new();
    if specs.is_empty() || (specs.len() == 1 && specs[0].trim() == "*") {
        for file in alias_files(lookup) {
            if let Ok(Json::Object(def)) = read_json_file(&file) {
                if supports(&def, model_id) {
                    if let Some(u) = uri_of(&def, model_id) {
                        uris.push(u);
                    }
                }
            }
        }
        if uris.is_empty() {
            uris.push("sh://".to_string());
        }
    }
    for spec in specs.iter().filter(|s| s.trim() != "*" || specs.len() > 1) {
        let t = spec.trim();
        if t.starts_with('{') || t.starts_with('[') {
            let json: Json = serde_json::from_str(t)
                .map_err(|e| Error::Value(format!("calculator '{t}': invalid JSON: {e}")))?;
            from_json(&json, model_id, "calculator", &mut uris)?;
        } else if t.contains("://") {
            uris.push(t.to_string());
        } else if t.ends_with(".json") {
            let path = lookup.cwd.join(t);
            let json = read_json_file(&path)?;
            from_json(&json, model_id, &path.display().to_string(), &mut uris)?;
        } else {
            let found = lookup
                .alias_candidates("calculators", t)
                .into_iter()
                .find_map(|p| read_json_file(&p).ok().map(|j| (p, j)));
            match found {
                Some((p, json)) => from_json(&json, model_id, &p.display().to_string(), &mut uris)?,
                None => {
                    return Err(Error::Value(format!(
                        "Calculator alias '{t}' not found in .fz/calculators/. If this is a URI, it must include a scheme (e.g., 'sh://', 'ssh://', 'cache://')"
                    )))
                }
            }
        }
    }
    for uri in &uris {
        let scheme = uri.split("://").next().unwrap_or("").to_ascii_lowercase();
        if !uri.contains("://") || !SCHEMES.contains(&scheme.as_str()) {
            return Err(Error::Value(format!(
                "Unsupported calculator scheme: '{scheme}' in '{}'. Supported schemes: sh, ssh, cache, slurm, funz",
                super::uri::redact(uri)
            )));
        }
    }
    Ok(uris)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup_with_aliases() -> (tempfile::TempDir, Lookup) {
        let d = tempfile::tempdir().unwrap();
        let c = d.path().join(".fz/calculators");
        std::fs::create_dir_all(&c).unwrap();
        std::fs::write(
            c.join("local.json"),
            r#"{"uri": "sh://", "models": {"mymodel": "bash ok.sh", "other": "bash other.sh"}}"#,
        )
        .unwrap();
        std::fs::write(
            c.join("remote.json"),
            r#"{"uri": "ssh://user@host", "models": {"other": "bash /x/other.sh"}}"#,
        )
        .unwrap();
        std::fs::write(c.join("generic.json"), r#"{"uri": "sh://bash generic.sh"}"#).unwrap();
        let lookup = Lookup {
            cwd: d.path().to_path_buf(),
            home: None,
        };
        (d, lookup)
    }

    #[test]
    fn examples_of_the_spec() {
        let (_d, l) = lookup_with_aliases();
        let id = Some("mymodel");
        let r = |specs: &[&str]| {
            resolve(
                &specs.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                id,
                &l,
            )
        };
        assert_eq!(r(&[]).unwrap(), ["sh://bash generic.sh", "sh://bash ok.sh"]);
        assert_eq!(
            r(&["*"]).unwrap(),
            ["sh://bash generic.sh", "sh://bash ok.sh"]
        );
        assert_eq!(r(&["local"]).unwrap(), ["sh://bash ok.sh"]);
        assert_eq!(
            r(&["local", "generic"]).unwrap(),
            ["sh://bash ok.sh", "sh://bash generic.sh"]
        );
        assert_eq!(
            r(&[r#"{"uri": "sh://", "models": {"mymodel": "bash x.sh"}}"#]).unwrap(),
            ["sh://bash x.sh"]
        );
        assert_eq!(r(&["sh://bash a.sh", "sh://bash a.sh"]).unwrap().len(), 2);
        let err = r(&["nosuch"]).unwrap_err().to_string();
        assert!(
            err.starts_with("Calculator alias 'nosuch' not found"),
            "{err}"
        );
        let err = r(&["docker://x"]).unwrap_err().to_string();
        assert!(
            err.contains("Unsupported calculator scheme: 'docker'"),
            "{err}"
        );
        let empty = Lookup {
            cwd: std::env::temp_dir().join("fz-no-such-dir"),
            home: None,
        };
        assert_eq!(resolve(&[], id, &empty).unwrap(), ["sh://"]);
    }
}
