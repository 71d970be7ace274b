//! `fzl` / `fz list`: the models, calculators and algorithms installed in
//! the project (`./.fz/`) and in the home directory (`~/.fz/`), which
//! calculators support which model, the built-in algorithms, and with
//! `check` whether each one is usable.
//!
//! This module collects and checks (plugins.md §6); the text formats are
//! in [`render`], the algorithms in [`algorithms`]. It reads alias files
//! and, with `check`, may open a TCP connection to `ssh://` hosts (see
//! [`crate::calculators::check`]) and load plugin files in their
//! interpreter; it never runs a case nor writes a file.
//!
//! Differences from upstream (docs/compatibility.md): calculators are
//! listed under their alias names (upstream keys them by bare URI and
//! loses the names), `supports_models` comes from each alias's `models`
//! (upstream always says "all"), a project file shadows a home file of the
//! same name for models too, a pattern matching nothing lists nothing
//! (upstream lists the pattern itself, or `sh://`), and the checks look at
//! scripts, programs and ssh hosts.

pub mod algorithms;
pub mod render;

use crate::calculators::alias::{self, declared_models, supports, AliasFile, Scope};
use crate::calculators::check::{check_definition, check_uri, model_commands, CheckContext};
use crate::calculators::uri::redact;
use crate::model::{model_from_json, Lookup};
use crate::Result;
use algorithms::AlgorithmEntry;
use serde_json::{json, Map, Value as Json};
use std::path::PathBuf;

/// Whether an entry was checked, and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckStatus {
    /// `check` was not asked for.
    NotChecked,
    /// Every check passed.
    Passed,
    /// At least one check failed: one message per problem.
    Failed(Vec<String>),
}

impl CheckStatus {
    fn from_problems(checked: bool, problems: Vec<String>) -> Self {
        match (checked, problems.is_empty()) {
            (false, _) => CheckStatus::NotChecked,
            (true, true) => CheckStatus::Passed,
            (true, false) => CheckStatus::Failed(problems),
        }
    }

    /// `passed`, `failed` or `not_checked`, as upstream's `check_status`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CheckStatus::NotChecked => "not_checked",
            CheckStatus::Passed => "passed",
            CheckStatus::Failed(_) => "failed",
        }
    }

    /// The problems joined with `; ` (upstream's `check_error`), if failed.
    pub fn error(&self) -> Option<String> {
        match self {
            CheckStatus::Failed(p) => Some(p.join("; ")),
            _ => None,
        }
    }
}

/// One model alias file.
#[derive(Debug, Clone)]
pub struct ModelEntry {
    /// Alias name (file name without `.json`).
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Project or home.
    pub scope: Scope,
    /// The model's `id` (what calculators' `models` refer to).
    pub id: Option<String>,
    /// The file's JSON (`None` when it could not be read).
    pub properties: Option<Json>,
    /// Names of the listed calculators that support this model.
    pub supported_calculators: Vec<String>,
    /// Check result.
    pub check: CheckStatus,
}

/// One calculator: an alias file, or a URI given on the command line.
#[derive(Debug, Clone)]
pub struct CalculatorEntry {
    /// Alias name, or the URI (password redacted) when given as a URI.
    pub name: String,
    /// The alias file (`None` for a URI).
    pub path: Option<PathBuf>,
    /// Project or home (`None` for a URI).
    pub scope: Option<Scope>,
    /// The base URI, password redacted (`None` when the file has none).
    pub uri: Option<String>,
    /// Model ids it declares (`None`: every model).
    pub supports: Option<Vec<String>>,
    /// The command for each model of a `models` map.
    pub commands: Vec<(String, String)>,
    /// Check result.
    pub check: CheckStatus,
}

/// What `fzl` found.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Models, project files first (a project file shadows a home one).
    pub models: Vec<ModelEntry>,
    /// Calculators, project files first, then URIs given as patterns.
    pub calculators: Vec<CalculatorEntry>,
    /// Algorithms: plugin files (project first), then built-ins.
    pub algorithms: Vec<AlgorithmEntry>,
}

impl Listing {
    /// One line per failed check: `<file or URI>: <problem>`.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for m in &self.models {
            if let CheckStatus::Failed(ps) = &m.check {
                out.extend(ps.iter().map(|p| format!("{}: {p}", m.path.display())));
            }
        }
        for c in &self.calculators {
            if let CheckStatus::Failed(ps) = &c.check {
                let at = match &c.path {
                    Some(path) => path.display().to_string(),
                    None => format!("calculator '{}'", c.name),
                };
                out.extend(ps.iter().map(|p| format!("{at}: {p}")));
            }
        }
        for a in &self.algorithms {
            if let CheckStatus::Failed(ps) = &a.check {
                let at = match &a.path {
                    Some(path) => path.display().to_string(),
                    None => format!("built-in algorithm '{}'", a.name),
                };
                out.extend(ps.iter().map(|p| format!("{at}: {p}")));
            }
        }
        out
    }

    /// Whether some check failed.
    pub fn failed(&self) -> bool {
        self.models
            .iter()
            .any(|m| matches!(m.check, CheckStatus::Failed(_)))
            || self
                .calculators
                .iter()
                .any(|c| matches!(c.check, CheckStatus::Failed(_)))
            || self
                .algorithms
                .iter()
                .any(|a| matches!(a.check, CheckStatus::Failed(_)))
    }

    /// The upstream result structure (`{"models": {name: …}, "calculators":
    /// {name: …}}`), with `path`, `scope`, `id`, `uri` and `commands` added,
    /// and `"algorithms": {name: …}` (see [`AlgorithmEntry::to_json`]).
    pub fn to_json(&self) -> Json {
        let mut models = Map::new();
        for m in &self.models {
            let mut e = Map::new();
            e.insert("path".into(), json!(m.path.display().to_string()));
            e.insert("scope".into(), json!(m.scope.as_str()));
            e.insert("id".into(), json!(m.id));
            e.insert(
                "properties".into(),
                m.properties.clone().unwrap_or(Json::Null),
            );
            e.insert(
                "supported_calculators".into(),
                json!(m.supported_calculators),
            );
            insert_check(&mut e, &m.check);
            models.insert(m.name.clone(), Json::Object(e));
        }
        let mut calculators = Map::new();
        for c in &self.calculators {
            let mut e = Map::new();
            e.insert(
                "path".into(),
                json!(c.path.as_ref().map(|p| p.display().to_string())),
            );
            e.insert("scope".into(), json!(c.scope.map(Scope::as_str)));
            e.insert("uri".into(), json!(c.uri));
            e.insert(
                "supports_models".into(),
                match &c.supports {
                    None => json!("all"),
                    Some(list) => json!(list),
                },
            );
            let commands: Map<String, Json> = c
                .commands
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            e.insert("commands".into(), Json::Object(commands));
            insert_check(&mut e, &c.check);
            calculators.insert(c.name.clone(), Json::Object(e));
        }
        let algorithms: Map<String, Json> = self
            .algorithms
            .iter()
            .map(|a| (a.name.clone(), a.to_json()))
            .collect();
        json!({ "models": models, "calculators": calculators, "algorithms": algorithms })
    }
}

fn insert_check(e: &mut Map<String, Json>, check: &CheckStatus) {
    e.insert("check_status".into(), json!(check.as_str()));
    if let Some(err) = check.error() {
        e.insert("check_error".into(), json!(err));
    }
}

/// Lists the models whose alias names match the glob `models`, the
/// calculators matching `calculators` (a glob over alias names, or a URI
/// containing `://`) and the algorithms matching `algorithms` (a glob over
/// plugin file and built-in names), checking each one when `check` is set.
/// Files that cannot be read are skipped with a warning, or listed as
/// failed when checking.
pub fn fzl(
    models: &str,
    calculators: &str,
    algorithms: &str,
    check: bool,
    lookup: &Lookup,
) -> Result<Listing> {
    let ctx = CheckContext {
        project: lookup.cwd.clone(),
        home: lookup.home.clone(),
        case_files: Vec::new(),
    };
    let mut listing = Listing::default();
    let mut defs: Vec<Option<Map<String, Json>>> = Vec::new();
    for pattern in patterns(calculators) {
        if pattern.contains("://") {
            listing.calculators.push(uri_entry(pattern, check, &ctx));
            defs.push(None);
            continue;
        }
        for file in alias::discover(lookup, "calculators", pattern) {
            if listing.calculators.iter().any(|c| c.name == file.name) {
                continue;
            }
            if let Some((entry, def)) = calculator_entry(&file, check, &ctx) {
                listing.calculators.push(entry);
                defs.push(def);
            }
        }
    }
    for pattern in patterns(models) {
        for file in alias::discover(lookup, "models", pattern) {
            if listing.models.iter().any(|m| m.name == file.name) {
                continue;
            }
            let Some(mut entry) = model_entry(&file, check) else {
                continue;
            };
            if entry.properties.is_none() {
                // An unreadable model has no id to match.
                listing.models.push(entry);
                continue;
            }
            entry.supported_calculators = listing
                .calculators
                .iter()
                .zip(&defs)
                .filter(|(_, def)| {
                    def.as_ref()
                        .is_none_or(|d| supports(d, entry.id.as_deref()))
                })
                .map(|(c, _)| c.name.clone())
                .collect();
            listing.models.push(entry);
        }
    }
    listing.algorithms = algorithms::collect(&patterns(algorithms), check, lookup);
    Ok(listing)
}

/// The patterns of an argument: comma-separated, blanks ignored (`*` when
/// empty). A URI is one pattern (it may hold commas).
fn patterns(arg: &str) -> Vec<&str> {
    let arg = arg.trim();
    if arg.is_empty() {
        return vec!["*"];
    }
    if arg.contains("://") {
        return vec![arg];
    }
    arg.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

fn uri_entry(uri: &str, check: bool, ctx: &CheckContext) -> CalculatorEntry {
    let shown = redact(uri);
    let problems = if check {
        check_uri(uri, ctx)
    } else {
        Vec::new()
    };
    CalculatorEntry {
        name: shown.clone(),
        path: None,
        scope: None,
        uri: Some(shown),
        supports: None,
        commands: Vec::new(),
        check: CheckStatus::from_problems(check, problems),
    }
}

/// The entry of a calculator alias file and its definition (when it is a
/// JSON object). `None` when the file is unreadable and not checking.
fn calculator_entry(
    file: &AliasFile,
    check: bool,
    ctx: &CheckContext,
) -> Option<(CalculatorEntry, Option<Map<String, Json>>)> {
    let json = match file.read() {
        Ok(json) => json,
        Err(e) if check => {
            let entry = CalculatorEntry {
                name: file.name.clone(),
                path: Some(file.path.clone()),
                scope: Some(file.scope),
                uri: None,
                supports: Some(Vec::new()),
                commands: Vec::new(),
                check: CheckStatus::Failed(vec![strip_path(&e.to_string(), file)]),
            };
            return Some((entry, Some(Map::new())));
        }
        Err(e) => {
            crate::log::warn(&format!("{e}, skipped"));
            return None;
        }
    };
    let problems = if check {
        check_definition(&json, ctx)
    } else {
        Vec::new()
    };
    let def = json.as_object().cloned();
    let entry = CalculatorEntry {
        name: file.name.clone(),
        path: Some(file.path.clone()),
        scope: Some(file.scope),
        uri: def
            .as_ref()
            .and_then(|d| d.get("uri").or_else(|| d.get("command")))
            .and_then(Json::as_str)
            .map(redact),
        supports: def.as_ref().and_then(declared_models),
        commands: def.as_ref().map(model_commands).unwrap_or_default(),
        check: CheckStatus::from_problems(check, problems),
    };
    // A file that is not an object supports nothing.
    Some((entry, Some(def.unwrap_or_default())))
}

/// The entry of a model alias file; `None` when it is unreadable and not
/// checking.
fn model_entry(file: &AliasFile, check: bool) -> Option<ModelEntry> {
    let mut entry = ModelEntry {
        name: file.name.clone(),
        path: file.path.clone(),
        scope: file.scope,
        id: None,
        properties: None,
        supported_calculators: Vec::new(),
        check: CheckStatus::NotChecked,
    };
    let json = match file.read() {
        Ok(json) => json,
        Err(e) if check => {
            entry.check = CheckStatus::Failed(vec![strip_path(&e.to_string(), file)]);
            return Some(entry);
        }
        Err(e) => {
            crate::log::warn(&format!("{e}, skipped"));
            return None;
        }
    };
    entry.id = json.get("id").and_then(Json::as_str).map(str::to_string);
    let validated = model_from_json(json.clone(), "model");
    entry.properties = Some(json);
    if check {
        let problems = match validated {
            Ok(model) => crate::model::misspelled_keys(&model.raw)
                .into_iter()
                .chain(model.success_problem())
                .chain(model.output.iter().filter_map(|(name, spec)| {
                    crate::outputs::check_spec(spec)
                        .err()
                        .map(|e| format!("output '{name}': {e}"))
                }))
                .collect(),
            Err(e) => vec![e.to_string().trim_start_matches("model: ").to_string()],
        };
        entry.check = CheckStatus::from_problems(true, problems);
    }
    Some(entry)
}

/// A file error without the file name in front (problem lines add it).
fn strip_path(message: &str, file: &AliasFile) -> String {
    let prefix = format!("{}: ", file.path.display());
    message.strip_prefix(&prefix).unwrap_or(message).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &std::path::Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn models_and_calculators_with_support_and_checks() {
        let project = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        let p = project.path();
        let h = home.path();
        write(
            p,
            ".fz/models/perfectgas.json",
            r#"{"id": "PerfectGas", "output": {"p": "cat p"}}"#,
        );
        write(h, ".fz/models/perfectgas.json", r#"{"id": "Shadowed"}"#);
        write(
            h,
            ".fz/models/other.json",
            r#"{"id": "Other", "delim": "abc"}"#,
        );
        write(p, ".fz/models/broken.json", "{");
        write(
            p,
            ".fz/calculators/local.json",
            r#"{"uri": "sh://", "models": {"PerfectGas": "bash .fz/calculators/pg.sh"}}"#,
        );
        write(p, ".fz/calculators/pg.sh", "true");
        write(
            h,
            ".fz/calculators/remote.json",
            r#"{"uri": "ssh://u:pw@127.0.0.1:1", "models": ["Other"]}"#,
        );
        write(
            h,
            ".fz/calculators/any.json",
            r#"{"uri": "sh://bash nothere.sh"}"#,
        );
        let lookup = Lookup {
            cwd: p.to_path_buf(),
            home: Some(h.to_path_buf()),
        };

        let l = fzl("*", "*", "", false, &lookup).unwrap();
        let names: Vec<&str> = l.models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["perfectgas", "other"], "broken skipped unchecked");
        assert_eq!(l.models[0].id.as_deref(), Some("PerfectGas"));
        assert_eq!(l.models[0].scope, Scope::Project);
        assert_eq!(l.models[0].supported_calculators, ["local", "any"]);
        assert_eq!(l.models[1].supported_calculators, ["any", "remote"]);
        let calcs: Vec<&str> = l.calculators.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(calcs, ["local", "any", "remote"]);
        assert_eq!(
            l.calculators[2].uri.as_deref(),
            Some("ssh://u:***@127.0.0.1:1")
        );
        assert!(!l.failed());
        let text = l.to_json().to_string();
        assert!(!text.contains("pw@"), "{text}");
        assert_eq!(l.to_json()["calculators"]["any"]["supports_models"], "all");
        assert_eq!(
            l.to_json()["calculators"]["local"]["commands"]["PerfectGas"],
            "bash .fz/calculators/pg.sh"
        );

        let l = fzl("perf*", "loc*,any", "none", true, &lookup).unwrap();
        assert_eq!(l.models.len(), 1);
        assert_eq!(l.models[0].check, CheckStatus::Passed);
        assert_eq!(l.calculators[0].check, CheckStatus::Passed);
        assert_eq!(
            l.problems(),
            [format!(
                "{}: script 'nothere.sh' not found in {}",
                h.join(".fz/calculators/any.json").display(),
                p.display()
            )]
        );

        let l = fzl("*", "remote", "none", true, &lookup).unwrap();
        let problems = l.problems();
        assert!(
            problems[0].starts_with(&format!(
                "{}: invalid JSON",
                p.join(".fz/models/broken.json").display()
            )),
            "{problems:?}"
        );
        assert_eq!(
            problems[1],
            format!(
                "{}: Model 'delim' must be empty or exactly 2 characters, got 3 characters: 'abc'",
                h.join(".fz/models/other.json").display()
            )
        );
        assert!(
            problems[2].contains("ssh host u:***@127.0.0.1:1 unreachable"),
            "{problems:?}"
        );
        // Not just "pw": temporary directory names are random.
        assert!(!problems.iter().any(|p| p.contains("u:pw")));
        assert_eq!(
            l.models[0].supported_calculators,
            Vec::<String>::new(),
            "broken model"
        );

        let l = fzl("nomatch", "sh://bash x.sh", "none", false, &lookup).unwrap();
        assert!(l.models.is_empty());
        assert_eq!(l.calculators[0].name, "sh://bash x.sh");
        assert_eq!(l.calculators[0].check, CheckStatus::NotChecked);
    }
}
