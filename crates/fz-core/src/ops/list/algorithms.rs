//! The algorithms part of `fzl`: plugin files of `./.fz/algorithms` and
//! `~/.fz/algorithms` (a project file hides a home file of the same name)
//! with their header, then the built-ins; with `check`, each plugin file is
//! loaded by its interpreter (no algorithm is run) and each built-in is
//! created with its default options.
//!
//! Collection only; the text forms are in [`super::render`].

use super::CheckStatus;
use crate::algorithms::builtin::{self, BUILTINS};
use crate::algorithms::plugin::{self, default_executable, Header, Language, PluginFile};
use crate::algorithms::Options;
use crate::calculators::alias::Scope;
use crate::model::Lookup;
use indexmap::IndexMap;
use serde_json::{json, Map, Value as Json};
use std::path::PathBuf;

/// One option of an algorithm: its default and, for built-ins, its meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgorithmOption {
    /// Option name.
    pub name: String,
    /// Default value, as text.
    pub default: String,
    /// What it does (documented for built-ins; plugin headers have none).
    pub help: Option<String>,
}

/// One algorithm: a plugin file or a built-in.
#[derive(Debug, Clone)]
pub struct AlgorithmEntry {
    /// What `-a` takes: the file name without extension, or the built-in's name.
    pub name: String,
    /// The plugin file (`None` for a built-in).
    pub path: Option<PathBuf>,
    /// Project or home (`None` for a built-in).
    pub scope: Option<Scope>,
    /// Python or R (`None` for a built-in).
    pub language: Option<Language>,
    /// The built-in's summary, or the plugin header's `title`.
    pub summary: Option<String>,
    /// Options with their defaults (`#options` of a plugin).
    pub options: Vec<AlgorithmOption>,
    /// `#require` packages.
    pub require: Vec<String>,
    /// Other header keys (`author`, `type`, …).
    pub metadata: IndexMap<String, String>,
    /// Whether a built-in of the same name exists (the plugin file wins).
    pub shadows_builtin: bool,
    /// Check result.
    pub check: CheckStatus,
}

impl AlgorithmEntry {
    /// `plugin` or `builtin`.
    pub fn kind(&self) -> &'static str {
        if self.path.is_some() {
            "plugin"
        } else {
            "builtin"
        }
    }

    /// The JSON form listed under `algorithms`.
    pub fn to_json(&self) -> Json {
        let mut e = Map::new();
        e.insert("type".into(), json!(self.kind()));
        e.insert(
            "path".into(),
            json!(self.path.as_ref().map(|p| p.display().to_string())),
        );
        e.insert("scope".into(), json!(self.scope.map(Scope::as_str)));
        e.insert(
            "language".into(),
            json!(self.language.map(Language::as_str)),
        );
        e.insert("summary".into(), json!(self.summary));
        let defaults: Map<String, Json> = self
            .options
            .iter()
            .map(|o| (o.name.clone(), json!(o.default)))
            .collect();
        e.insert("options".into(), Json::Object(defaults));
        let help: Map<String, Json> = self
            .options
            .iter()
            .filter_map(|o| o.help.as_ref().map(|h| (o.name.clone(), json!(h))))
            .collect();
        if !help.is_empty() {
            e.insert("options_help".into(), Json::Object(help));
        }
        e.insert("require".into(), json!(self.require));
        e.insert("metadata".into(), json!(self.metadata));
        if self.shadows_builtin {
            e.insert("shadows_builtin".into(), json!(true));
        }
        super::insert_check(&mut e, &self.check);
        Json::Object(e)
    }
}

/// The algorithms whose names match one of `patterns`: plugin files
/// first (as `-a <name>` resolves them), then the built-ins no file hides.
pub fn collect(patterns: &[&str], check: bool, lookup: &Lookup) -> Vec<AlgorithmEntry> {
    let mut out: Vec<AlgorithmEntry> = Vec::new();
    for pattern in patterns {
        for file in plugin::discover(lookup, pattern) {
            if out.iter().any(|a| a.name == file.name) {
                continue;
            }
            if let Some(entry) = plugin_entry(&file, check, lookup) {
                out.push(entry);
            }
        }
    }
    for info in BUILTINS {
        let selected = patterns
            .iter()
            .any(|p| glob::Pattern::new(p).map_or(*p == info.name, |g| g.matches(info.name)));
        if selected && !out.iter().any(|a| a.name == info.name) {
            out.push(builtin_entry(info, check));
        }
    }
    out
}

/// The entry of a plugin file; `None` when it cannot be read and not
/// checking (a warning says so).
fn plugin_entry(file: &PluginFile, check: bool, lookup: &Lookup) -> Option<AlgorithmEntry> {
    let (header, problems) = match Header::read(&file.path) {
        Ok(h) => {
            let problems = if check {
                let exe = default_executable(file.language);
                plugin::check(file, &exe, &lookup.cwd)
            } else {
                Vec::new()
            };
            (h, problems)
        }
        Err(e) if check => (Header::default(), vec![e.to_string()]),
        Err(e) => {
            crate::log::warn(&format!("{e}, skipped"));
            return None;
        }
    };
    let mut metadata = header.other.clone();
    let summary = metadata.shift_remove("title");
    Some(AlgorithmEntry {
        name: file.name.clone(),
        path: Some(file.path.clone()),
        scope: file.scope,
        language: Some(file.language),
        summary,
        options: header
            .options
            .iter()
            .map(|(k, v)| AlgorithmOption {
                name: k.clone(),
                default: v.clone(),
                help: None,
            })
            .collect(),
        require: header.require,
        metadata,
        shadows_builtin: BUILTINS.iter().any(|b| b.name == file.name),
        check: CheckStatus::from_problems(check, problems),
    })
}

fn builtin_entry(info: &builtin::BuiltinInfo, check: bool) -> AlgorithmEntry {
    let problems = if check {
        match builtin::create(info.name, &Options::new(info.name, Map::new())) {
            Some(Ok(_)) => Vec::new(),
            Some(Err(e)) => vec![e.to_string()],
            None => vec!["listed but not available".to_string()],
        }
    } else {
        Vec::new()
    };
    AlgorithmEntry {
        name: info.name.to_string(),
        path: None,
        scope: None,
        language: None,
        summary: Some(info.summary.to_string()),
        options: info
            .options
            .iter()
            .map(|(name, default, help)| AlgorithmOption {
                name: name.to_string(),
                default: default.to_string(),
                help: Some(help.to_string()),
            })
            .collect(),
        require: Vec::new(),
        metadata: IndexMap::new(),
        shadows_builtin: false,
        check: CheckStatus::from_problems(check, problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &std::path::Path, rel: &str, text: &str) -> PathBuf {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn plugin_files_with_headers_project_first_and_checked() {
        let project = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        let (p, h) = (project.path(), home.path());
        let good = write(
            p,
            ".fz/algorithms/good.py",
            "#title: Good one\n#author: me\n#options: n=3;seed=1\n#require: json\nclass Good:\n    def get_initial_design(self, i, o): return []\n    def get_next_design(self, X, Y): return []\n    def get_analysis(self, X, Y): return {}\n",
        );
        write(h, ".fz/algorithms/good.py", "# shadowed\n");
        let bad = write(h, ".fz/algorithms/bad.py", "class Bad:\n    pass\n");
        let lookup = Lookup {
            cwd: p.to_path_buf(),
            home: Some(h.to_path_buf()),
        };
        let l = collect(&["*"], false, &lookup);
        let plugins: Vec<&AlgorithmEntry> = l.iter().filter(|a| a.path.is_some()).collect();
        assert_eq!(plugins.len(), 2);
        let g = plugins[0];
        assert_eq!((g.name.as_str(), g.path.as_ref()), ("good", Some(&good)));
        assert_eq!(g.scope, Some(Scope::Project));
        assert_eq!(g.summary.as_deref(), Some("Good one"));
        assert_eq!(
            g.options[0],
            AlgorithmOption {
                name: "n".into(),
                default: "3".into(),
                help: None
            }
        );
        assert_eq!(g.require, ["json"]);
        assert_eq!(g.metadata.get("author").map(String::as_str), Some("me"));
        assert_eq!(g.check, CheckStatus::NotChecked);
        let j = g.to_json();
        assert_eq!(j["options"], json!({"n": "3", "seed": "1"}));
        assert_eq!(
            (j["type"].as_str(), j["language"].as_str()),
            (Some("plugin"), Some("python"))
        );
        assert_eq!(plugins[1].path.as_ref(), Some(&bad));
        assert_eq!(l.len() - 2, BUILTINS.len(), "every built-in listed");

        let l = collect(&["good", "bad"], true, &lookup);
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].check, CheckStatus::Passed);
        match &l[1].check {
            CheckStatus::Failed(p) => assert!(
                p.len() == 1
                    && p[0].contains(
                        "class Bad lacks get_initial_design, get_next_design, get_analysis"
                    ),
                "{p:?}"
            ),
            other => panic!("{other:?}"),
        }
        assert!(collect(&["zz*"], false, &lookup).is_empty());
    }
}
