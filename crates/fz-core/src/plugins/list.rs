//! What is installed: model files and algorithm files of `./.fz` and
//! `~/.fz` (project entries shadow home ones of the same name), or of
//! `~/.fz` only. Algorithms are listed by name, file, language and scope
//! only: reading their headers belongs to `crate::algorithms`.
//!
//! Reading only.

use crate::calculators::alias::{self, Scope};
use crate::format::Format;
use crate::model::Lookup;
use crate::{Error, Result};
use serde_json::{json, Map, Value as Json};
use std::fmt::Write as _;
use std::path::PathBuf;

/// One installed model file.
#[derive(Debug, Clone)]
pub struct InstalledModel {
    /// Alias name (file name without `.json`).
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Project or home.
    pub scope: Scope,
    /// Its JSON.
    pub json: Json,
}

/// One installed algorithm file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledAlgorithm {
    /// Name (file name without extension).
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Project or home.
    pub scope: Scope,
    /// `Python` or `R`.
    pub language: &'static str,
}

/// The lookup that sees `~/.fz` only, as a single directory (`None`
/// without a home directory).
pub fn home_only(lookup: &Lookup) -> Option<Lookup> {
    lookup.home.as_ref().map(|home| Lookup {
        cwd: home.clone(),
        home: None,
    })
}

/// The installed models, project first (shadowing home files of the same
/// name), or the home ones only when `global_only`. Unreadable files are
/// skipped with a warning.
pub fn installed_models(lookup: &Lookup, global_only: bool) -> Vec<InstalledModel> {
    let (scoped, forced) = scoped(lookup, global_only);
    let Some(scoped) = scoped else {
        return Vec::new();
    };
    alias::discover(&scoped, "models", "*")
        .into_iter()
        .filter_map(|file| match file.read() {
            Ok(json) => Some(InstalledModel {
                name: file.name,
                path: file.path,
                scope: forced.unwrap_or(file.scope),
                json,
            }),
            Err(e) => {
                crate::log::warn(&format!("{e}, skipped"));
                None
            }
        })
        .collect()
}

/// The installed algorithm files (`*.py`, `*.R`), project first
/// (shadowing home files of the same name), each directory sorted, or the
/// home ones only when `global_only`.
pub fn installed_algorithms(lookup: &Lookup, global_only: bool) -> Vec<InstalledAlgorithm> {
    let (scoped, forced) = scoped(lookup, global_only);
    let Some(scoped) = scoped else {
        return Vec::new();
    };
    let mut out: Vec<InstalledAlgorithm> = Vec::new();
    for (dir, scope) in alias::dirs(&scoped, "algorithms") {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        for path in paths {
            let language = match path.extension().and_then(|e| e.to_str()) {
                Some("py") => "Python",
                Some("R") => "R",
                _ => continue,
            };
            let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if out.iter().any(|a| a.name == name) {
                continue;
            }
            out.push(InstalledAlgorithm {
                name: name.to_string(),
                scope: forced.unwrap_or(scope),
                language,
                path,
            });
        }
    }
    out
}

/// The lookup to list with, and the scope to report when it is forced.
fn scoped(lookup: &Lookup, global_only: bool) -> (Option<Lookup>, Option<Scope>) {
    if global_only {
        (home_only(lookup), Some(Scope::Home))
    } else {
        (Some(lookup.clone()), None)
    }
}

/// The algorithms in `format` (`json`, `markdown` or `table`), like `fzl`.
pub fn render_algorithms(list: &[InstalledAlgorithm], format: Format) -> Result<String> {
    match format {
        Format::Json => {
            let map: Map<String, Json> = list
                .iter()
                .map(|a| {
                    let v = json!({
                        "path": a.path.display().to_string(),
                        "type": a.language,
                        "scope": a.scope.as_str(),
                    });
                    (a.name.clone(), v)
                })
                .collect();
            serde_json::to_string_pretty(&json!({ "algorithms": map }))
                .map_err(|e| Error::Value(format!("fz list: cannot write JSON: {e}")))
        }
        Format::Markdown => {
            let mut s = String::from("# Algorithms\n\n");
            if list.is_empty() {
                s.push_str("No algorithms installed.\n");
            }
            for a in list {
                let _ = writeln!(s, "### {}", a.name);
                let _ = writeln!(s, "- **Path**: `{}`", a.path.display());
                let _ = writeln!(s, "- **Type**: {}", a.language);
                let _ = writeln!(s, "- **Scope**: {}\n", a.scope.as_str());
            }
            Ok(s.trim_end().to_string())
        }
        Format::Table => {
            let mut s = String::from("\n=== ALGORITHMS ===\n\n");
            if list.is_empty() {
                s.push_str("No algorithms installed.\n");
            }
            for a in list {
                let _ = writeln!(s, "Algorithm: {}", a.name);
                let _ = writeln!(s, "  Path: {}", a.path.display());
                let _ = writeln!(s, "  Type: {}", a.language);
                let _ = writeln!(s, "  Scope: {}\n", a.scope.as_str());
            }
            Ok(s.trim_end().to_string())
        }
        other => Err(Error::Value(format!(
            "fz list: invalid format '{other}' (choose from 'json', 'markdown', 'table')"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::write;

    #[test]
    fn project_shadows_home_and_global_lists_home_only() {
        let p = tempfile::tempdir().unwrap();
        let h = tempfile::tempdir().unwrap();
        write(p.path(), ".fz/algorithms/mc.py", "");
        write(h.path(), ".fz/algorithms/mc.R", "");
        write(h.path(), ".fz/algorithms/brent.R", "");
        write(h.path(), ".fz/algorithms/notes.txt", "");
        write(p.path(), ".fz/models/A.json", r#"{"id": "A"}"#);
        write(h.path(), ".fz/models/A.json", r#"{"id": "HomeA"}"#);
        write(h.path(), ".fz/models/bad.json", "{");
        let lookup = Lookup {
            cwd: p.path().to_path_buf(),
            home: Some(h.path().to_path_buf()),
        };
        let all = installed_algorithms(&lookup, false);
        let shown: Vec<(&str, &str, Scope)> = all
            .iter()
            .map(|a| (a.name.as_str(), a.language, a.scope))
            .collect();
        assert_eq!(
            shown,
            [
                ("mc", "Python", Scope::Project),
                ("brent", "R", Scope::Home)
            ]
        );
        let home = installed_algorithms(&lookup, true);
        let names: Vec<&str> = home.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["brent", "mc"]);
        assert!(home.iter().all(|a| a.scope == Scope::Home));
        let models = installed_models(&lookup, false);
        assert_eq!(models.len(), 1);
        assert_eq!(models[0].json["id"], "A");
        assert_eq!(installed_models(&lookup, true)[0].json["id"], "HomeA");

        let md = render_algorithms(&all[1..], Format::Markdown).unwrap();
        assert_eq!(
            md,
            format!(
                "# Algorithms\n\n### brent\n- **Path**: `{}`\n- **Type**: R\n- **Scope**: home",
                h.path().join(".fz/algorithms/brent.R").display()
            )
        );
        let table = render_algorithms(&[], Format::Table).unwrap();
        assert_eq!(table, "\n=== ALGORITHMS ===\n\nNo algorithms installed.");
        let j: Json =
            serde_json::from_str(&render_algorithms(&all, Format::Json).unwrap()).unwrap();
        assert_eq!(j["algorithms"]["mc"]["scope"], "project");
    }
}
