//! Alias files: `.fz/<kind>/<name>.json` (kind `calculators` or `models`)
//! in the project directory, then in the home directory.
//!
//! This module owns *finding* alias files (with project files shadowing
//! home files of the same name), name globs, and what a calculator
//! definition says: which models it supports and the URI it gives for a
//! model. It reads files but never runs anything, and it does not decide
//! what to do with an incompatible alias (see [`super::resolve`]) nor
//! validate definitions deeply (see `ops::list`).

use crate::model::{read_json_file, Lookup};
use crate::Result;
use serde_json::{Map, Value as Json};
use std::path::PathBuf;

/// Where an alias file was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `<project>/.fz/…` (the current directory).
    Project,
    /// `~/.fz/…`.
    Home,
}

impl Scope {
    /// `project` or `home`, as listings show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Project => "project",
            Scope::Home => "home",
        }
    }
}

/// One alias file found on disk (not parsed yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasFile {
    /// The alias name: the file name without `.json`.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Project or home.
    pub scope: Scope,
}

impl AliasFile {
    /// The parsed JSON of the file; the error names the file.
    pub fn read(&self) -> Result<Json> {
        read_json_file(&self.path)
    }
}

/// The directories holding aliases of `kind`, project first.
pub fn dirs(lookup: &Lookup, kind: &str) -> Vec<(PathBuf, Scope)> {
    let mut out = vec![(lookup.cwd.join(".fz").join(kind), Scope::Project)];
    if let Some(home) = &lookup.home {
        let home_dir = home.join(".fz").join(kind);
        // A project that is the home directory has one set of aliases.
        if home_dir != out[0].0 {
            out.push((home_dir, Scope::Home));
        }
    }
    out
}

/// Every alias file of `kind` whose name matches the glob `pattern`
/// (`*`, `?`, `[…]`; a plain name matches itself only): project files
/// first, then home files, each directory sorted by name. A home file with
/// the name of a project file is left out (the project one shadows it).
/// Missing directories are simply empty.
pub fn discover(lookup: &Lookup, kind: &str, pattern: &str) -> Vec<AliasFile> {
    let matcher = glob::Pattern::new(pattern).ok();
    let matches = |name: &str| match &matcher {
        Some(p) => p.matches(name),
        // An invalid glob (`[` unclosed) can still name an alias literally.
        None => name == pattern,
    };
    let mut out: Vec<AliasFile> = Vec::new();
    for (dir, scope) in dirs(lookup, kind) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<AliasFile> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json") && !p.is_dir())
            .filter_map(|path| {
                let name = path.file_stem()?.to_str()?.to_string();
                Some(AliasFile { name, path, scope })
            })
            .filter(|a| matches(&a.name))
            .collect();
        files.sort_by(|a, b| a.name.cmp(&b.name));
        for f in files {
            if !out.iter().any(|o| o.name == f.name) {
                out.push(f);
            }
        }
    }
    out
}

/// Whether `text` is a glob over alias names rather than one name.
pub fn is_glob(text: &str) -> bool {
    text.contains(['*', '?', '[', ']'])
}

/// The models a calculator definition declares: `None` when it supports
/// every model (no `models` key, or one of an unexpected type, as
/// upstream), else the model ids (keys of a map, or items of a list).
pub fn declared_models(def: &Map<String, Json>) -> Option<Vec<String>> {
    match def.get("models") {
        Some(Json::Object(m)) => Some(m.keys().cloned().collect()),
        Some(Json::Array(list)) => Some(
            list.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
        ),
        _ => None,
    }
}

/// Whether a calculator definition supports the model `id` (a model
/// without id is supported by every calculator, as upstream).
pub fn supports(def: &Map<String, Json>, id: Option<&str>) -> bool {
    match (declared_models(def), id) {
        (None, _) | (_, None) => true,
        (Some(models), Some(id)) => models.iter().any(|m| m == id),
    }
}

/// The URI of a definition `{"uri": …, "models": {id: command}}` (or the
/// legacy `{"command": uri}`), with the model's command appended: directly
/// after `scheme://`, else after one `/` (a base ending in `/` does not
/// give a double slash; a command starting with `/` keeps it, so
/// `ssh://h` + `/opt/run.sh` is `ssh://h//opt/run.sh`, whose command is
/// the absolute path).
pub fn uri_of(def: &Map<String, Json>, id: Option<&str>) -> Option<String> {
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
                format!("{}/{cmd}", base.trim_end_matches('/'))
            }
        }
        _ => base.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(json: &str) -> Map<String, Json> {
        match serde_json::from_str(json).unwrap() {
            Json::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn project_shadows_home_and_globs_filter_names() {
        let project = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        for (root, name) in [
            (project.path(), "local"),
            (project.path(), "perfect_a"),
            (home.path(), "local"),
            (home.path(), "cluster"),
            (home.path(), "perfect_b"),
        ] {
            let dir = root.join(".fz/calculators");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("{name}.json")), "{}").unwrap();
        }
        std::fs::write(project.path().join(".fz/calculators/notes.txt"), "x").unwrap();
        let lookup = Lookup {
            cwd: project.path().to_path_buf(),
            home: Some(home.path().to_path_buf()),
        };
        let found = discover(&lookup, "calculators", "*");
        let names: Vec<(&str, Scope)> = found.iter().map(|a| (a.name.as_str(), a.scope)).collect();
        assert_eq!(
            names,
            [
                ("local", Scope::Project),
                ("perfect_a", Scope::Project),
                ("cluster", Scope::Home),
                ("perfect_b", Scope::Home),
            ]
        );
        assert_eq!(
            found[0].path,
            project.path().join(".fz/calculators/local.json")
        );
        let names: Vec<String> = discover(&lookup, "calculators", "perfect*")
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(names, ["perfect_a", "perfect_b"]);
        assert_eq!(discover(&lookup, "calculators", "cluster").len(), 1);
        assert!(discover(&lookup, "calculators", "clust").is_empty());
        assert!(discover(&lookup, "models", "*").is_empty());
    }

    #[test]
    fn model_support_and_uris() {
        let map = def(r#"{"uri": "sh://", "models": {"m": "bash run.sh"}}"#);
        assert!(supports(&map, Some("m")));
        assert!(!supports(&map, Some("other")));
        assert!(supports(&map, None));
        assert_eq!(uri_of(&map, Some("m")).unwrap(), "sh://bash run.sh");
        assert_eq!(uri_of(&map, Some("other")).unwrap(), "sh://");
        let list = def(r#"{"uri": "ssh://h", "models": ["a", "b"]}"#);
        assert_eq!(declared_models(&list).unwrap(), ["a", "b"]);
        assert!(supports(&list, Some("b")) && !supports(&list, Some("c")));
        let any = def(r#"{"uri": "sh://bash g.sh", "models": 3}"#);
        assert_eq!(declared_models(&any), None);
        assert!(supports(&any, Some("zz")));
        let slash = def(r#"{"uri": "ssh://u@h/", "models": {"m": "/opt/run.sh"}}"#);
        assert_eq!(uri_of(&slash, Some("m")).unwrap(), "ssh://u@h//opt/run.sh");
        let trailing = def(r#"{"uri": "ssh://u@h/", "models": {"m": "bash run.sh"}}"#);
        assert_eq!(
            uri_of(&trailing, Some("m")).unwrap(),
            "ssh://u@h/bash run.sh"
        );
        let funz = def(r#"{"uri": "funz://:5555", "models": {"R": "R"}}"#);
        assert_eq!(uri_of(&funz, Some("R")).unwrap(), "funz://:5555/R");
        let legacy = def(r#"{"command": "sh://bash old.sh"}"#);
        assert_eq!(uri_of(&legacy, Some("m")).unwrap(), "sh://bash old.sh");
        assert_eq!(uri_of(&def(r#"{"models": {}}"#), None), None);
    }
}
