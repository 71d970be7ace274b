//! From what the user wrote as `calculators` to calculator URIs: URIs as
//! they are, inline JSON definitions, `.json` files, alias names and name
//! globs (`.fz/calculators/<name>.json`, project then home, see
//! [`super::alias`]) and, when nothing is given, every alias that supports
//! the model (else `sh://`).
//!
//! This module also owns the model compatibility rule: an alias named
//! explicitly (or a `.json` file, or inline JSON) whose `models` do not
//! include the model in use is an error naming the file and the models it
//! supports, instead of upstream's silent fallback to the bare URI; a glob
//! or auto-discovery keeps the supporting aliases and fails only when
//! aliases exist but none supports the model. Regular-expression patterns
//! are not supported. This module must not run anything.

use super::alias::{self, declared_models, supports, uri_of};
use crate::error::{Error, Result};
use crate::model::{read_json_file, Lookup};
use serde_json::{Map, Value as Json};

/// URI schemes fz knows.
pub const SCHEMES: &[&str] = &["sh", "ssh", "cache", "slurm", "funz"];

/// The error for a definition that does not support the model `id`.
fn unsupported(origin: &str, def: &Map<String, Json>, id: &str) -> Error {
    let models = declared_models(def).unwrap_or_default();
    let listed = if models.is_empty() {
        "no model".to_string()
    } else {
        models.join(", ")
    };
    Error::Value(format!(
        "{origin} does not support model '{id}' (its \"models\" list: {listed})"
    ))
}

/// URIs of an explicitly given definition (object, or array of objects and
/// URI strings); every object must support the model.
fn from_json(json: &Json, id: Option<&str>, origin: &str, out: &mut Vec<String>) -> Result<()> {
    match json {
        Json::Object(def) => {
            if let Some(id) = id.filter(|id| !supports(def, Some(id))) {
                return Err(unsupported(origin, def, id));
            }
            match uri_of(def, id) {
                Some(u) => out.push(u),
                None => {
                    return Err(Error::Value(format!(
                        "{origin}: calculator definition has neither 'uri' nor 'command'"
                    )))
                }
            }
        }
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

/// URIs of the aliases whose names match `pattern` and that support the
/// model. `Ok(None)` when no alias file matches the name at all; an error
/// when some match but none supports the model.
fn from_glob(pattern: &str, id: Option<&str>, lookup: &Lookup) -> Result<Option<Vec<String>>> {
    let files = alias::discover(lookup, "calculators", pattern);
    if files.is_empty() {
        return Ok(None);
    }
    let mut uris = Vec::new();
    let mut refused = Vec::new();
    for file in &files {
        match file.read() {
            Ok(Json::Object(def)) => {
                if supports(&def, id) {
                    uris.extend(uri_of(&def, id));
                } else {
                    let models = declared_models(&def).unwrap_or_default();
                    refused.push(format!(
                        "{} supports {}",
                        file.path.display(),
                        if models.is_empty() {
                            "no model".to_string()
                        } else {
                            models.join(", ")
                        }
                    ));
                }
            }
            // A broken alias must not stop the others; fzl --check names it.
            Ok(_) => crate::log::warn(&format!(
                "{}: a calculator alias must be a JSON object, skipped",
                file.path.display()
            )),
            Err(e) => crate::log::warn(&format!("{e}, skipped")),
        }
    }
    match (uris.is_empty(), id) {
        (true, Some(id)) if !refused.is_empty() => Err(Error::Value(format!(
            "no calculator alias matching '{pattern}' supports model '{id}': {}; name a calculator with -c/calculators= or add '{id}' to an alias's \"models\"",
            refused.join("; ")
        ))),
        _ => Ok(Some(uris)),
    }
}

/// Resolves the calculators the user gave (none: auto-discovery) into
/// URIs, checking every scheme.
pub fn resolve(specs: &[String], model_id: Option<&str>, lookup: &Lookup) -> Result<Vec<String>> {
    let mut uris = Vec::new();
    if specs.iter().any(|s| s.trim().is_empty()) {
        // Upstream took an empty calculator for "none given" and ran the
        // input file itself as a command.
        return Err(Error::Value(
            "calculator '' is empty: give a URI (sh://bash calc.sh), an alias name of \
             .fz/calculators/ or a .json file; leave calculators out to use the aliases \
             found (or run the input file itself)"
                .into(),
        ));
    }
    if specs.is_empty() {
        // Auto-discovery: nothing found at all is the local shell.
        uris = from_glob("*", model_id, lookup)?.unwrap_or_default();
        if uris.is_empty() {
            uris.push("sh://".to_string());
        }
    }
    for spec in specs {
        let t = spec.trim();
        if t.starts_with('{') || t.starts_with('[') {
            // The text is not echoed: it may hold a password.
            let json: Json = serde_json::from_str(t).map_err(|e| {
                Error::Value(format!("inline calculator definition: invalid JSON: {e}"))
            })?;
            from_json(&json, model_id, "inline calculator definition", &mut uris)?;
        } else if t.contains("://") {
            uris.push(t.to_string());
        } else if t.ends_with(".json") {
            let path = lookup.cwd.join(t);
            let json = read_json_file(&path)?;
            from_json(&json, model_id, &path.display().to_string(), &mut uris)?;
        } else if alias::is_glob(t) {
            match from_glob(t, model_id, lookup)? {
                Some(found) if t == "*" && found.is_empty() => uris.push("sh://".to_string()),
                Some(found) => uris.extend(found),
                None if t == "*" => uris.push("sh://".to_string()),
                None => {
                    return Err(Error::Value(format!(
                        "no calculator alias matches '{t}' in .fz/calculators/ (project or home)"
                    )))
                }
            }
        } else {
            // The first existing file wins: a broken project alias is an
            // error, not a silent fall-back to the home one.
            let Some(path) = lookup
                .alias_candidates("calculators", t)
                .into_iter()
                .find(|p| p.is_file())
            else {
                return Err(Error::Value(format!(
                    "Calculator alias '{t}' not found in .fz/calculators/. If this is a URI, it must include a scheme (e.g., 'sh://', 'ssh://', 'cache://')"
                )));
            };
            let json = read_json_file(&path)?;
            let origin = format!("calculator alias '{t}' ({})", path.display());
            from_json(&json, model_id, &origin, &mut uris)?;
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

    /// The aliases of calculators.md §2.3, in a project without home.
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

    fn strings(specs: &[&str]) -> Vec<String> {
        specs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn examples_of_the_spec() {
        let (_d, l) = lookup_with_aliases();
        let r = |specs: &[&str]| resolve(&strings(specs), Some("mymodel"), &l);
        assert_eq!(r(&[]).unwrap(), ["sh://bash generic.sh", "sh://bash ok.sh"]);
        assert_eq!(
            r(&["*"]).unwrap(),
            ["sh://bash generic.sh", "sh://bash ok.sh"]
        );
        assert_eq!(r(&["local"]).unwrap(), ["sh://bash ok.sh"]);
        assert_eq!(r(&["loc*"]).unwrap(), ["sh://bash ok.sh"]);
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
        let err = r(&["zz*"]).unwrap_err().to_string();
        assert_eq!(
            err,
            "no calculator alias matches 'zz*' in .fz/calculators/ (project or home)"
        );
        let err = r(&["docker://x"]).unwrap_err().to_string();
        assert!(
            err.contains("Unsupported calculator scheme: 'docker'"),
            "{err}"
        );
        // Without a model id nothing is filtered and no command appended.
        assert_eq!(
            resolve(&[], None, &l).unwrap(),
            ["sh://bash generic.sh", "sh://", "ssh://user@host"]
        );
        let empty = Lookup {
            cwd: std::env::temp_dir().join("fz-no-such-dir"),
            home: None,
        };
        assert_eq!(resolve(&[], Some("mymodel"), &empty).unwrap(), ["sh://"]);
        for blank in ["", "  "] {
            let err = resolve(&strings(&["sh://x", blank]), None, &empty).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("calculator '' is empty: give a URI"),
                "{err}"
            );
        }
        assert_eq!(
            resolve(&strings(&["*"]), Some("mymodel"), &empty).unwrap(),
            ["sh://"]
        );
    }

    #[test]
    fn an_explicit_alias_must_support_the_model() {
        let (d, l) = lookup_with_aliases();
        let err = resolve(&strings(&["remote"]), Some("mymodel"), &l)
            .unwrap_err()
            .to_string();
        let path = d.path().join(".fz/calculators/remote.json");
        assert_eq!(
            err,
            format!(
                "calculator alias 'remote' ({}) does not support model 'mymodel' (its \"models\" list: other)",
                path.display()
            )
        );
        // The same definition as a .json file and inline.
        let err = resolve(
            &strings(&[".fz/calculators/remote.json"]),
            Some("mymodel"),
            &l,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with(&format!(
                "{} does not support model 'mymodel'",
                path.display()
            )),
            "{err}"
        );
        let err = resolve(
            &strings(&[r#"{"uri": "ssh://u:secret@h", "models": []}"#]),
            Some("m"),
            &l,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "inline calculator definition does not support model 'm' (its \"models\" list: no model)"
        );
        // A model without id is not checked.
        assert_eq!(
            resolve(&strings(&["remote"]), None, &l).unwrap(),
            ["ssh://user@host"]
        );
    }

    #[test]
    fn discovery_fails_when_aliases_exist_but_none_supports_the_model() {
        let (d, l) = lookup_with_aliases();
        std::fs::remove_file(d.path().join(".fz/calculators/generic.json")).unwrap();
        let err = resolve(&[], Some("third"), &l).unwrap_err().to_string();
        assert!(
            err.starts_with("no calculator alias matching '*' supports model 'third': "),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "{} supports mymodel, other",
                d.path().join(".fz/calculators/local.json").display()
            )),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn project_aliases_shadow_home_ones_and_broken_ones_are_errors() {
        let (d, mut l) = lookup_with_aliases();
        let home = tempfile::tempdir().unwrap();
        let hc = home.path().join(".fz/calculators");
        std::fs::create_dir_all(&hc).unwrap();
        std::fs::write(hc.join("local.json"), r#"{"uri": "sh://bash home.sh"}"#).unwrap();
        std::fs::write(hc.join("cluster.json"), r#"{"uri": "ssh://hpc"}"#).unwrap();
        l.home = Some(home.path().to_path_buf());
        assert_eq!(
            resolve(&[], Some("mymodel"), &l).unwrap(),
            ["sh://bash generic.sh", "sh://bash ok.sh", "ssh://hpc"]
        );
        assert_eq!(
            resolve(&strings(&["cluster"]), Some("mymodel"), &l).unwrap(),
            ["ssh://hpc"]
        );
        let bad = d.path().join(".fz/calculators/cluster.json");
        std::fs::write(&bad, "{oops").unwrap();
        let err = resolve(&strings(&["cluster"]), Some("mymodel"), &l)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("{}: invalid JSON", bad.display())),
            "{err}"
        );
        // Discovery skips the broken file (with a warning).
        assert_eq!(
            resolve(&[], Some("mymodel"), &l).unwrap(),
            ["sh://bash generic.sh", "sh://bash ok.sh"]
        );
    }
}
